/**
 * The name service (defs/netname.defs, kern/netname.ts), reached as every connected task's
 * bootstrap port: check in with a signature, look up, check out, the error codes, and
 * names of ports that died.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelServer } from '../../../src/kern/server.js';
import { connect } from '../../../src/transport/websocket.js';
import type { MachTask } from '../../../src/runtime/task.js';
import { mach_port_allocate, mach_port_deallocate, mach_port_insert_right, mach_port_mod_refs, mach_port_type } from '../../../src/gen/mach_port.user.js';
import { netname_check_in, netname_check_out, netname_look_up, netname_version } from '../../../src/gen/netname.user.js';
import { MACH_MSG_TYPE_MAKE_SEND } from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_RECEIVE, MACH_PORT_TYPE_SEND } from '../../../src/mach/port.js';
import { MachError } from '../../../src/mach/kern_return.js';
import {
  NETNAME_HOST_NOT_FOUND, NETNAME_INVALID_PORT, NETNAME_NOT_CHECKED_IN, NETNAME_NOT_YOUR_HOST, NETNAME_VERSION,
} from '../../../src/kern/netname.js';

let kernel: KernelServer;
let a: MachTask;
let b: MachTask;

beforeEach(async () => {
  kernel = await KernelServer.listen();
  a = await connect({ url: kernel.url, token: kernel.token, name: 'a' });
  b = await connect({ url: kernel.url, token: kernel.token, name: 'b' });
});
afterEach(async () => {
  a.terminate();
  b.terminate();
  await kernel.close();
});

async function port(t: MachTask): Promise<number> {
  const { name } = await mach_port_allocate(t.self, MACH_PORT_RIGHT_RECEIVE);
  await mach_port_insert_right(t.self, name, t.port(name), MACH_MSG_TYPE_MAKE_SEND);
  return name;
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MachError) return e.code;
    throw e;
  }
  return 0;
}

describe('netname', () => {
  it('version', async () => {
    expect((await netname_version(a.bootstrap!)).version).toBe(NETNAME_VERSION);
  });

  it('check in, look up from another task, check out', async () => {
    const p = await port(a);
    const sig = await port(a);
    await netname_check_in(a.bootstrap!, 'fs', a.port(sig), a.port(p));
    expect(kernel.netname.size).toBe(1);
    for (const host of ['', 'localhost', '*']) {
      const { port_id } = await netname_look_up(b.bootstrap!, host, 'fs');
      expect((await mach_port_type(b.self, port_id!.name)).ptype & MACH_PORT_TYPE_SEND).toBeTruthy();
    }
    expect(await code(netname_look_up(b.bootstrap!, 'elsewhere', 'fs'))).toBe(NETNAME_HOST_NOT_FOUND);
    expect(await code(netname_look_up(b.bootstrap!, '', 'nope'))).toBe(NETNAME_NOT_CHECKED_IN);
    // only the signature checks out
    expect(await code(netname_check_out(b.bootstrap!, 'fs', b.self))).toBe(NETNAME_NOT_YOUR_HOST);
    expect(await code(netname_check_in(b.bootstrap!, 'fs', b.self, b.self))).toBe(NETNAME_NOT_YOUR_HOST);
    await netname_check_out(a.bootstrap!, 'fs', a.port(sig));
    expect(await code(netname_look_up(b.bootstrap!, '', 'fs'))).toBe(NETNAME_NOT_CHECKED_IN);
    expect(await code(netname_check_out(a.bootstrap!, 'fs', a.port(sig)))).toBe(NETNAME_NOT_CHECKED_IN);
  });

  it('the same signature replaces a name; a null port is refused', async () => {
    const p1 = await port(a);
    const p2 = await port(a);
    await netname_check_in(a.bootstrap!, 'x', a.self, a.port(p1));
    await netname_check_in(a.bootstrap!, 'x', a.self, a.port(p2));
    const { port_id } = await netname_look_up(a.bootstrap!, '', 'x');
    expect(port_id!.name).toBe(p2); // a right to our own port comes back under its name
    expect(await code(netname_check_in(a.bootstrap!, 'y', a.self, null))).toBe(NETNAME_INVALID_PORT);
  });

  it('a name whose port died is gone, and may be taken by anyone', async () => {
    const p = await port(a);
    await netname_check_in(a.bootstrap!, 'gone', a.self, a.port(p));
    await mach_port_mod_refs(a.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
    expect(await code(netname_look_up(b.bootstrap!, '', 'gone'))).toBe(NETNAME_NOT_CHECKED_IN);
    const q = await port(b);
    await netname_check_in(b.bootstrap!, 'gone', b.self, b.port(q));
    await mach_port_deallocate(b.self, q);
  });

  it('names of a task that ends are swept', async () => {
    const c = await connect({ url: kernel.url, token: kernel.token, name: 'c' });
    await netname_check_in(c.bootstrap!, 'c1', c.self, c.port(await port(c)));
    await netname_check_in(c.bootstrap!, 'c2', c.self, c.port(await port(c)));
    expect(kernel.netname.size).toBe(2);
    c.terminate();
    const end = Date.now() + 2000;
    while (kernel.netname.size !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(kernel.netname.size).toBe(0);
  });
});
