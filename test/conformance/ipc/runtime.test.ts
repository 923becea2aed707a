/*
 * The task runtime on top of the kernel: MIG RPCs through generated stubs, typed
 * MachError, MIG_SERVER_DIED, MIG_REPLY_MISMATCH, reply-port reuse, a mach_msg_server loop
 * over a port set with several demuxes, and what that loop does with rights (GNU MIG's
 * user.c / server.c, glibc's mach/mig-reply.c, mach/msgserver.c, mach/msg-destroy.c).
 */
import { expect, it } from 'vitest';
import {
  EOPNOTSUPP, KERN_FAILURE, KERN_INVALID_ARGUMENT, KERN_INVALID_NAME, KERN_SUCCESS, MachError, MACH_RCV_INTERRUPTED, MIG_BAD_ID,
  MIG_REPLY_MISMATCH, MIG_SERVER_DIED,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_RECEIVE,
  MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import { RETCODE_TYPE, type MachPort } from '../../../src/mach/mig.js';
import {
  MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE,
  MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_RECEIVE,
} from '../../../src/mach/port.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_refs, mach_port_insert_right,
  mach_port_mod_refs, mach_port_move_member, mach_port_names, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import { io_server } from '../../../src/gen/io.server.js';
import { io_read, io_readable, io_seek } from '../../../src/gen/io.user.js';
import { mach_notify_no_senders } from '../../../src/gen/notify.user.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  allocReceive, describeWorlds, expectMachError, expectMsg, ipctest, message, notifyInbox, postMortemCalls, receive, sendOk,
  itUnlessBug, serve, serverAndClient, within, inFlight } from './helpers.js';

function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

async function nameCount(t: MachTask): Promise<number> {
  return (await mach_port_names(t.self)).names.length;
}

describeWorlds('task runtime', (ctx) => {
  it('a null RPC through the generated stubs: client task → kernel → server task → reply', async () => {
    const mig = await ipctest();
    const { server, port, send: dest } = await serverAndClient(ctx);
    const served = serve(server, [mig.ipctest_server({ ipctest_null: (_p, x) => ({ y: x * 2 + 1 }) })], port);
    expect(await mig.ipctest_null(dest, 20)).toEqual({ y: 41 });
    expect(await Promise.all([1, 2, 3].map((x) => mig.ipctest_null(dest, x)))).toEqual([{ y: 3 }, { y: 5 }, { y: 7 }]);
    await served.stop();
  });

  it('errors surface as a typed MachError with the code and its Mach name (server code, thrown MachError, EOPNOTSUPP)', async () => {
    const mig = await ipctest();
    const { server, port, send: dest } = await serverAndClient(ctx);
    const served = serve(server, [mig.ipctest_server({
      ipctest_null: (_p, x) => { if (x < 0) throw new MachError(KERN_FAILURE); return x === 0 ? KERN_INVALID_ARGUMENT : { y: x }; },
    })], port);
    const e = await expectMachError(mig.ipctest_null(dest, 0), KERN_INVALID_ARGUMENT);
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.kernName, e.message]).toEqual(['MachError', 4, 'KERN_INVALID_ARGUMENT', 'KERN_INVALID_ARGUMENT']);
    await expectMachError(mig.ipctest_null(dest, -1), KERN_FAILURE);
    const eop = await expectMachError(mig.ipctest_seqno(dest), EOPNOTSUPP);
    expect(eop.kernName).toBe('EOPNOTSUPP');
    await served.stop();
  });

  it('reply ports are reused: sequential RPCs keep one reply port; concurrent ones get one each', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const served = serve(server, [mig.ipctest_server({ ipctest_null: async (_p, x) => { await Promise.resolve(); return { y: x }; } })], port);
    await mig.ipctest_null(dest, 0);
    const names = await nameCount(client);
    expect(client.cachedReplyPorts).toBe(1);
    for (let i = 0; i < 50; i++) await mig.ipctest_null(dest, i);
    expect(await nameCount(client)).toBe(names);
    expect(client.cachedReplyPorts).toBe(1);
    const ys = await Promise.all(Array.from({ length: 8 }, (_, i) => mig.ipctest_null(dest, i)));
    expect(ys.map((r) => r.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(client.cachedReplyPorts).toBe(8);
    expect(await nameCount(client)).toBe(names + 7);
    await served.stop();
  });

  it('MIG_SERVER_DIED: the server destroys the reply right instead of answering; the reply port is reused afterwards', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const held: MachPort[] = [];
    const got = deferred();
    const served = serve(server, [mig.ipctest_server({
      ipctest_deferred: (_p, reply, replyPoly) => { expect(replyPoly).toBe(MACH_MSG_TYPE_PORT_SEND_ONCE); held.push(reply!); got.resolve(); return -305; /* MIG_NO_REPLY */ },
      ipctest_null: (_p, x) => ({ y: x }),
    })], port);
    await mig.ipctest_null(dest, 1);
    const names = await nameCount(client);
    const call = inFlight(mig.ipctest_deferred(dest, 5));
    await within(got.promise, 'the deferred request');
    await mach_port_deallocate(server.self, held[0]!.name); // a send-once notification goes to the client's reply port
    await expectMachError(call, MIG_SERVER_DIED);
    expect(client.cachedReplyPorts).toBe(1);
    expect(await nameCount(client)).toBe(names);
    await served.stop();
  });

  it('a deferred reply: the server answers later, on the send-once right it kept (sreplyport)', async () => {
    const mig = await ipctest();
    const { server, port, send: dest } = await serverAndClient(ctx);
    let reply: MachPort | null = null;
    const got = deferred();
    const served = serve(server, [mig.ipctest_server({ ipctest_deferred: (_p, r) => { reply = r; got.resolve(); return -305; } })], port);
    const call = inFlight(mig.ipctest_deferred(dest, 5));
    await within(got.promise, 'the deferred request');
    await sendOk(server, message(reply!.name, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 7405 + 100, [
      { type: RETCODE_TYPE, data: KERN_SUCCESS }, { type: { ...RETCODE_TYPE, name: MACH_MSG_TYPE_INTEGER_32 }, data: 55 },
    ]));
    expect(await call).toEqual({ y: 55 });
    await served.stop();
  });

  it('MIG_REPLY_MISMATCH: a reply with another id; the reply port is destroyed, not reused', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const before = new Set((await mach_port_names(client.self)).names);
    const call = inFlight(mig.ipctest_null(dest, 1));
    const req = expectMsg(await receive(server, port));
    expect(req.header.id).toBe(7400);
    await sendOk(server, message(req.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 7599, [{ type: RETCODE_TYPE, data: KERN_SUCCESS }]));
    await expectMachError(call, MIG_REPLY_MISMATCH);
    await ctx.settle();
    const after = (await mach_port_names(client.self)).names.filter((n) => !before.has(n));
    // the reply port of the failed call is gone; the one left is the reply port of the
    // runtime's own mach_port_mod_refs call that destroyed it
    expect(after).toHaveLength(1);
    expect(client.cachedReplyPorts).toBe(1);
    await mach_port_destroy(server.self, port);
  });

  it('one mach_msg_server loop on a port set serves several demuxes; an id none serves gets MIG_BAD_ID', async () => {
    const mig = await ipctest();
    const { server, port: ioPort, client, send: io } = await serverAndClient(ctx);
    const set = (await mach_port_allocate(server.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const testPort = await allocReceive(server);
    const inbox = await notifyInbox(server); // a separate loop; its port gets a notification below
    await mach_port_move_member(server.self, ioPort, set);
    await mach_port_move_member(server.self, testPort, set);
    const notes: number[] = [];
    const served = serve(server, [
      io_server({ io_read: (_p, offset, amount) => ({ data: new Uint8Array(amount).fill(offset) }), io_readable: () => ({ amount: 3 }) }),
      mig.ipctest_server({ ipctest_null: (p, x) => ({ y: p.name === testPort ? x : -1 }) }),
      (await import('../../../src/gen/notify.server.js')).notify_server({ mach_notify_no_senders: (_p, m) => { notes.push(m); } }),
    ], set);
    const t = await ctx.world.giveRight(server, testPort, client);
    expect(await io_read(io, 7, 3)).toEqual({ data: new Uint8Array([7, 7, 7]) });
    expect(await io_readable(io)).toEqual({ amount: 3 });
    expect(await mig.ipctest_null(client.port(t), 9)).toEqual({ y: 9 });
    expect(await mig.ipctest_null(io, 1)).toEqual({ y: -1 }); // any member's requests reach every demux; the work function sees which port
    await expectMachError(io_seek(client.port(t), 0, 0), EOPNOTSUPP); // the io demux serves it; the server left it out
    await expectMachError(mach_port_names(client.port(t)), MIG_BAD_ID); // no demux serves 3200
    // a simpleroutine of the notify subsystem (sent on a send-once right, as notify.defs
    // says) is served by the third demux
    const so = await ctx.world.giveRight(server, testPort, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await mach_notify_no_senders(client.port(so), 12);
    await ctx.settle();
    expect(notes).toEqual([12]);
    await mach_port_deallocate(client.self, t);
    await served.stop();
    await inbox.stop();
    await mach_port_destroy(server.self, ioPort);
    await mach_port_destroy(server.self, testPort);
  });

  it('rights a request brings: kept on success, destroyed by the loop when the work function answers an error', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const kept: number[] = [];
    const served = serve(server, [mig.ipctest_server({
      ipctest_give: (_p, right, rightPoly) => { if (rightPoly === MACH_MSG_TYPE_PORT_RECEIVE) return KERN_FAILURE; kept.push(right!.name); return { rtype: rightPoly }; },
    })], port);
    const a = await allocReceive(client);
    expect(await mig.ipctest_give(dest, client.port(a), MACH_MSG_TYPE_MAKE_SEND)).toEqual({ rtype: MACH_MSG_TYPE_PORT_SEND });
    expect((await mach_port_type(server.self, kept[0]!)).ptype).toBe(MACH_PORT_TYPE_SEND);
    await expectMachError(mig.ipctest_give(dest, client.port(a), MACH_MSG_TYPE_MOVE_RECEIVE), KERN_FAILURE);
    await ctx.settle();
    // the receive right died in the server's loop: the server's send right to it is a dead name
    expect((await mach_port_type(server.self, kept[0]!)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    await expectMachError(mach_port_type(client.self, a), KERN_INVALID_NAME);
    await mach_port_deallocate(server.self, kept[0]!);
    await served.stop();
  });

  it('rights in a reply: the server\'s out port with each disposition reaches the client', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(server);
    await mach_port_insert_right(server.self, r, server.port(r), MACH_MSG_TYPE_MAKE_SEND);
    const dispositions = [MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE];
    const served = serve(server, [mig.ipctest_server({ ipctest_take: (_p, which) => ({ right: server.port(r), rightPoly: dispositions[which]! }) })], port);
    const got = [];
    for (let i = 0; i < dispositions.length; i++) {
      const { right, rightPoly } = await mig.ipctest_take(dest, i);
      got.push([rightPoly, (await mach_port_type(client.self, right!.name)).ptype]);
      if (rightPoly === MACH_MSG_TYPE_PORT_SEND_ONCE) await mach_port_deallocate(client.self, right!.name);
    }
    expect(got).toEqual([
      [MACH_MSG_TYPE_PORT_SEND, MACH_PORT_TYPE_SEND], [MACH_MSG_TYPE_PORT_SEND, MACH_PORT_TYPE_SEND],
      [MACH_MSG_TYPE_PORT_SEND_ONCE, expect.any(Number)], [MACH_MSG_TYPE_PORT_RECEIVE, MACH_PORT_TYPE_SEND_RECEIVE],
    ]);
    // the server is left with the send right it made for itself
    expect((await mach_port_type(server.self, r)).ptype).toBe(MACH_PORT_TYPE_SEND);
    await mach_port_deallocate(server.self, r);
    const { names, types } = await mach_port_names(client.self);
    const mine = names[types.indexOf(MACH_PORT_TYPE_SEND_RECEIVE)]!;
    expect((await mach_port_get_refs(client.self, mine, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    await mach_port_destroy(client.self, mine);
    await served.stop();
  });

  // glibc's mach_msg_server (mach/msgserver.c): when the reply cannot be sent —
  // MACH_SEND_INVALID_DEST, "the requester went away" — it calls __mach_msg_destroy on the
  // reply, which deallocates the reply right's name (now a dead name) and every right the
  // reply carries, so nothing stays in the server's space (src/runtime/server.ts, serve()).
  it('a server whose client died before the reply is left with nothing (the dead reply name is released)', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const gate = deferred();
    const working = deferred();
    const served = serve(server, [mig.ipctest_server({ ipctest_null: async (_p, x) => { working.resolve(); await gate.promise; return { y: x }; } })], port);
    void mig.ipctest_null(dest, 1).catch(() => undefined);
    await within(working.promise, 'the request');
    const base = await ctx.space(server); // holds the reply send-once right now
    client.terminate();
    await ctx.settle(); // the kernel has seen the client go
    gate.resolve();
    await ctx.settle();
    try {
      expect(await ctx.space(server)).toMatchObject({ names: base.names - 1, sendOnce: base.sendOnce - 1, deadName: 0 });
    } finally {
      await served.stop();
    }
  });

  // Same loop, a reply carrying a right: glibc destroys it with the failed reply
  // (mach_msg_destroy_port: MOVE_SEND → mach_port_deallocate): the uref the server meant
  // to give away does not stay with it.
  it('rights in a reply that cannot be delivered are released by the server loop', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(server);
    await mach_port_insert_right(server.self, r, server.port(r), MACH_MSG_TYPE_MAKE_SEND);
    const gate = deferred();
    const working = deferred();
    const served = serve(server, [mig.ipctest_server({
      ipctest_take: async () => { working.resolve(); await gate.promise; return { right: server.port(r), rightPoly: MACH_MSG_TYPE_MOVE_SEND }; },
    })], port);
    void mig.ipctest_take(dest, 0).catch(() => undefined);
    await within(working.promise, 'the request');
    client.terminate();
    await ctx.settle(); // the kernel has seen the client go
    gate.resolve();
    await ctx.settle();
    try {
      expect((await mach_port_type(server.self, r)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    } finally {
      await served.stop();
      await mach_port_destroy(server.self, r);
    }
  });

  // In GNU Mach nothing of a task runs once it is terminated: kern/task.c task_terminate
  // terminates every thread of the task (thread_terminate, ipc_thread_terminate). A task's
  // runtime can still make calls afterwards: they must be interrupted at once, and a
  // failed RPC's mig_dealloc_reply_port must not start an endless chain of new RPCs (the
  // suite's guard, helpers.ts guardAfterDeath, would cut it after POST_MORTEM_LIMIT calls).
  it('a task that ends during an RPC stops calling the kernel (no endless mig_dealloc_reply_port loop)', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const call = inFlight(mig.ipctest_null(dest, 1));
    await ctx.settle();
    client.terminate();
    await expectMachError(call, MACH_RCV_INTERRUPTED);
    await ctx.settle();
    try {
      expect(postMortemCalls(client)).toBeLessThanOrEqual(1);
    } finally {
      await mach_port_destroy(server.self, port);
    }
  });

  it('a send-once notification for an RPC\'s reply port is MIG_SERVER_DIED, also when the request dies unreceived', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const call = inFlight(mig.ipctest_null(dest, 1));
    await ctx.settle();
    await mach_port_destroy(server.self, port); // the queued request dies with its reply right
    await expectMachError(call, MIG_SERVER_DIED);
    expect(client.cachedReplyPorts).toBe(1);
  });
});
