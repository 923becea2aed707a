/*
 * examples/echo/client.ts: an echo client, a task in its own process.
 *
 * It looks "echo" up with the name service, makes a few calls (a null RPC, a string,
 * 64 KiB out of line each way), then gives the server a send right to a port of its own
 * with a buffer, and receives the server's echo_hello on that port.
 *
 *   npx tsx examples/echo/client.ts [NAME]
 */

import { vm_deallocate } from '../../src/gen/mach.user.js';
import { mach_port_allocate, mach_port_mod_refs } from '../../src/gen/mach_port.user.js';
import { netname_look_up } from '../../src/gen/netname.user.js';
import { MACH_RCV_MSG } from '../../src/mach/message.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../src/mach/port.js';
import { connect } from '../../src/transport/websocket.js';
import { vm_ool_address } from '../../src/vm/ool.js';
import { echo_server } from './gen/echo.server.js';
import { echo_call_me, echo_data, echo_ping, echo_text } from './gen/echo.user.js';

const name = process.argv[2] ?? 'echo';
const task = await connect({ name: `${name}-client` });
const { port_id: server } = await netname_look_up(task.bootstrap!, '', name);
const say = (line: string): void => { process.stdout.write(`echo client: ${line}\n`); };

/** Out-of-line data arrives as a region of our map: deallocate it once read. */
async function release(data: Uint8Array): Promise<void> {
  const address = vm_ool_address(data);
  if (address !== undefined) await vm_deallocate(task.self, address, data.length);
}

for (let i = 0; i < 500; i++) await echo_ping(server!); // warm-up (JIT)
let t = performance.now();
const N = 2000;
for (let i = 0; i < N; i++) await echo_ping(server!);
say(`${N} null RPCs, ${((performance.now() - t) / N * 1000).toFixed(0)} µs each`);

say(`text: ${(await echo_text(server!, 'hello, Mach')).echoed}`);

const data = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
t = performance.now();
const { reversed } = await echo_data(server!, data);
const ok = reversed.length === data.length && reversed.every((b, i) => b === data[data.length - 1 - i]);
await release(reversed);
say(`64 KiB out of line and back reversed: ${ok ? 'ok' : 'WRONG'} (${(performance.now() - t).toFixed(1)} ms)`);

// A port of our own; the server gets a send right made from it, and calls us back.
const { name: mine } = await mach_port_allocate(task.self, MACH_PORT_RIGHT_RECEIVE);
await echo_call_me(server!, task.port(mine), new TextEncoder().encode('!kcab em llac'));
const hello = await task.mach_msg(null, MACH_RCV_MSG, mine, 0);
if (typeof hello === 'number') throw new Error(`receive failed: ${hello}`);
let got = '';
await echo_server({ async echo_hello(_cb, d) { got = new TextDecoder().decode(d); await release(d); } })(hello, task);
say(`callback through the port we passed: "${got}"`);

await mach_port_mod_refs(task.self, mine, MACH_PORT_RIGHT_RECEIVE, -1);
task.terminate();
process.exitCode = ok && got === 'call me back!' ? 0 : 1;
