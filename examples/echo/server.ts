/*
 * examples/echo/server.ts: the echo server, a task in its own process.
 *
 * It connects to the running kernel (the connection file `tsmach kernel` wrote, or what
 * `tsmach boot` passes it), makes a port, checks a send right to it in with the name
 * service as "echo", and serves echo.defs on it with the generated demux.
 *
 *   npx tsx examples/echo/server.ts [NAME]
 */

import { vm_deallocate } from '../../src/gen/mach.user.js';
import { mach_port_allocate, mach_port_deallocate, mach_port_insert_right } from '../../src/gen/mach_port.user.js';
import { netname_check_in } from '../../src/gen/netname.user.js';
import { MACH_MSG_TYPE_MAKE_SEND } from '../../src/mach/message.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../src/mach/port.js';
import { mach_msg_server } from '../../src/runtime/server.js';
import { connect } from '../../src/transport/websocket.js';
import { vm_ool_address } from '../../src/vm/ool.js';
import { echo_server } from './gen/echo.server.js';
import { echo_hello } from './gen/echo.user.js';

const name = process.argv[2] ?? 'echo';
const task = await connect({ name: `${name}-server`, onKernelLost: 'exit' });

// A receive right for requests, a send right for clients, checked in under `name`.
const { name: port } = await mach_port_allocate(task.self, MACH_PORT_RIGHT_RECEIVE);
await mach_port_insert_right(task.self, port, task.port(port), MACH_MSG_TYPE_MAKE_SEND);
await netname_check_in(task.bootstrap!, name, task.self, task.port(port));
process.stdout.write(`echo server: serving "${name}" as task ${task.info.id}\n`);

/**
 * The bytes reversed. Out-of-line data arrives as a region of this task's map (its
 * address rides on the bytes): once read, the region is deallocated, as a Mach task must.
 */
async function reversed(data: Uint8Array): Promise<Uint8Array> {
  const out = data.slice().reverse();
  const address = vm_ool_address(data);
  if (address !== undefined) await vm_deallocate(task.self, address, data.length);
  return out;
}

const demux = echo_server({
  echo_ping: () => 0,
  echo_text: (_server, text) => ({ echoed: text }),
  echo_data: async (_server, data) => ({ reversed: await reversed(data) }),
  async echo_call_me(_server, callback, data) {
    const back = await reversed(data);
    // The reply goes first (MIG sends it when this returns); the callback follows.
    setImmediate(async () => {
      await echo_hello(callback!, back);
      await mach_port_deallocate(task.self, callback!.name);
    });
    return 0;
  },
});

const stop = (): void => { task.terminate(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await mach_msg_server(task, [demux], task.port(port));
