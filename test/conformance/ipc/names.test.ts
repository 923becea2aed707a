/*
 * A task names rights only in its own space: a name copied from another task, or a name
 * it no longer holds, gives an error or its own right — never another task's right
 * (GNU Mach ipc/ipc_entry.c, ipc/ipc_space.h ipc_entry_get, ipc/port.h).
 */
import { expect, it } from 'vitest';
import {
  KERN_INVALID_NAME, MACH_RCV_INVALID_NAME, MACH_RCV_TIMED_OUT, MACH_SEND_INVALID_DEST,
  MACH_SEND_INVALID_RIGHT,
} from '../../../src/mach/kern_return.js';
import { MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MOVE_RECEIVE } from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_RECEIVE, MACH_PORT_TYPE_RECEIVE } from '../../../src/mach/port.js';
import {
  mach_port_allocate_name, mach_port_destroy, mach_port_get_receive_status, mach_port_insert_right, mach_port_mod_refs,
  mach_port_names,
  mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, describeWorlds, expectCode, expectMachError, message, poll, portItem, receive, send, sendOk, serverAndClient,
} from './helpers.js';

describeWorlds('names belong to one space', (ctx) => {
  it('another task\'s name means nothing here: send, receive, mach_port_* all fail and the other task\'s port is untouched', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    // make the server's name one the client cannot have by chance
    const extra = [];
    for (let i = 0; i < 8; i++) extra.push(await allocReceive(server));
    const p = extra.at(-1)!;
    await expectMachError(mach_port_type(client.self, p), KERN_INVALID_NAME);
    expectCode(await send(client, message(p, MACH_MSG_TYPE_COPY_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await send(client, message(p, MACH_MSG_TYPE_MAKE_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await receive(client, p, 0), MACH_RCV_INVALID_NAME);
    await expectMachError(mach_port_mod_refs(client.self, p, MACH_PORT_RIGHT_RECEIVE, -1), KERN_INVALID_NAME);
    await expectMachError(mach_port_destroy(client.self, p), KERN_INVALID_NAME);
    // in a body too
    expectCode(await send(client, message(client.bootstrap!.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(p, MACH_MSG_TYPE_MOVE_RECEIVE)])), MACH_SEND_INVALID_RIGHT);
    expect((await mach_port_get_receive_status(server.self, p)).status[4]).toBe(0);
    expect((await mach_port_type(server.self, p)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    for (const n of [...extra, port]) await mach_port_mod_refs(server.self, n, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('the same number in two spaces names two unrelated rights', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const mine = 0x4200;
    await mach_port_allocate_name(server.self, MACH_PORT_RIGHT_RECEIVE, mine);
    await mach_port_allocate_name(client.self, MACH_PORT_RIGHT_RECEIVE, mine);
    await sendOk(client, message(mine, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    expect((await poll(client, mine)).header.id).toBe(1);
    expectCode(await receive(server, mine, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(client.self, mine, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, mine, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a stale name (after deallocation) gives errors, never the right of another task', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await mach_port_destroy(client.self, r);
    expectCode(await send(client, message(r, MACH_MSG_TYPE_MAKE_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await receive(client, r, 0), MACH_RCV_INVALID_NAME);
    await expectMachError(mach_port_type(client.self, r), KERN_INVALID_NAME);
    // the bootstrap right still works, and nothing of r reached the server
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    expect((await poll(server, port)).header.id).toBe(2);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('mach_port_names lists only the caller\'s names, each with its type', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const s = await mach_port_names(server.self);
    const c = await mach_port_names(client.self);
    expect(s.names).toContain(port);
    expect(c.names).toContain(dest.name);
    expect(c.names).toContain(client.self.name);
    expect(c.names).toHaveLength((await ctx.space(client)).names);
    expect(s.names).toHaveLength((await ctx.space(server)).names);
    expect(s.types[s.names.indexOf(port)]).toBe(MACH_PORT_TYPE_RECEIVE);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a stub refuses a port argument that is a handle of another task (its name would be looked up in the wrong space)', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    await expect(mach_port_insert_right(client.self, 0x4300, server.port(port), MACH_MSG_TYPE_MAKE_SEND)).rejects.toThrow(TypeError);
    // a handle's own task is the one whose space its name is looked up in
    expect((await mach_port_type(server.port(server.self.name), port)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    await expectMachError(mach_port_type(client.self, 0), KERN_INVALID_NAME); // MACH_PORT_NULL is never a name
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  // GNU Mach builds without PORT_GENERATIONS (ipc/port.h: MACH_PORT_MAKE(index, gen) is
  // `index`; ipc/ipc_entry.h: `#if PORT_GENERATIONS #error "not supported"`). Names are the
  // keys of the space's radix tree (ipc_entry_alloc: rdxtree_insert_alloc, key 0 reserved
  // by ipc_space_create), and a freed entry goes to is_free_list, from which ipc_entry_get
  // hands the same name out again. tsmach's src/ipc/space.ts keeps CMU Mach's
  // `index << 8 | generation` names (0x100, 0x200, ...; a freed slot comes back as 0x101).
  it.fails('a name freed by deallocation is the next one handed out, as in GNU Mach (no generations) [tsmach: KERNEL DIFFERENCE]', async () => {
    const t = await ctx.task('t');
    const a = await allocReceive(t);
    await mach_port_mod_refs(t.self, a, MACH_PORT_RIGHT_RECEIVE, -1);
    const b = await allocReceive(t);
    try {
      expect(b).toBe(a);
      expect(b).toBeLessThan(0x100); // small radix-tree keys
    } finally {
      await mach_port_mod_refs(t.self, b, MACH_PORT_RIGHT_RECEIVE, -1);
    }
  });
});
