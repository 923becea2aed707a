/*
 * Queue limits, blocked senders, send timeouts, send-once messages bypassing the limit,
 * MACH_SEND_NOTIFY, and sequence numbers (GNU Mach ipc/ipc_mqueue.c ipc_mqueue_send,
 * ipc/ipc_port.c ipc_port_set_qlimit, ipc/mach_port.c mach_port_set_seqno).
 */
import { expect, it } from 'vitest';
import {
  KERN_INVALID_VALUE, MACH_MSG_SUCCESS, MACH_SEND_TIMED_OUT, MACH_SEND_WILL_NOTIFY,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND,
  MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_NOTIFY_MSG_ACCEPTED, MACH_SEND_MSG, MACH_SEND_NOTIFY, MACH_SEND_TIMEOUT,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_QLIMIT_DEFAULT, MACH_PORT_QLIMIT_MAX, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND,
  MACH_PORT_TYPE_SEND_ONCE,
} from '../../../src/mach/port.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_receive_status, mach_port_get_refs,
  mach_port_move_member, mach_port_mod_refs, mach_port_set_qlimit, mach_port_set_seqno, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, describeWorlds, expectCode, expectMachError, expectMsg, expectPending, intItem, ipctest, message, notifyInbox,
  poll, portItem, receive, send, sendOk, serve, serverAndClient, within,
} from './helpers.js';

async function qstatus(task: MachTask, name: number): Promise<{ seqno: number; qlimit: number; msgcount: number }> {
  const s = (await mach_port_get_receive_status(task.self, name)).status;
  return { seqno: s[1]!, qlimit: s[3]!, msgcount: s[4]! };
}

/** Fills the queue of the client's destination up to its limit. */
async function fill(client: MachTask, dest: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await sendOk(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 100 + i), MACH_SEND_TIMEOUT, 0);
}

describeWorlds('queue limits and sequence numbers', (ctx) => {
  it(`the default queue limit is ${MACH_PORT_QLIMIT_DEFAULT}: the next send polling with MACH_SEND_TIMEOUT 0 gets MACH_SEND_TIMED_OUT`, async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    expect(await qstatus(server, port)).toMatchObject({ qlimit: 5, msgcount: 0 });
    await fill(client, dest.name, 5);
    expect(await qstatus(server, port)).toMatchObject({ msgcount: 5 });
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 200), MACH_SEND_TIMEOUT, 0), MACH_SEND_TIMED_OUT);
    expect(await qstatus(server, port)).toMatchObject({ msgcount: 5 });
    // the send right COPY_SEND made came back to the sender (pseudo-receive): one more uref
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    await mach_port_deallocate(client.self, dest.name);
    for (let i = 0; i < 5; i++) await poll(server, port);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a message that timed out is given back with its rights copied out again into the sender', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await fill(client, dest.name, 5);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 1);
    const before = await ctx.space(client);
    const back = await client.transport.mach_msg(
      message(dest.name, MACH_MSG_TYPE_MOVE_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, 201, [portItem(r, MACH_MSG_TYPE_MAKE_SEND), intItem(9)]),
      MACH_SEND_MSG | MACH_SEND_TIMEOUT, 0xffffffff, 0, 0, 0);
    expectCode(back.mr, MACH_SEND_TIMED_OUT);
    const h = back.msg!.header;
    // pseudo-received: the destination back in msgh_remote_port, the reply right in msgh_local_port
    expect(h.remotePort).toBe(dest.name);
    expect((await mach_port_type(client.self, h.localPort)).ptype).toBe(MACH_PORT_TYPE_SEND_ONCE);
    expect(back.msg!.body.map((i) => i.data)).toEqual([r, 9]);
    // the moved send right came back; the made send and send-once rights are now the sender's
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    expect(await ctx.space(client)).toMatchObject({ sendOnce: before.sendOnce + 1, send: before.send + 1, names: before.names + 1 });
    await mach_port_deallocate(client.self, h.localPort); // a send-once notification goes to r
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_SEND, -1);
    await mach_port_destroy(client.self, r);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, -1);
    for (let i = 0; i < 5; i++) await poll(server, port);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a sender blocked on a full queue sends when a message is received; blocked senders go in order', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await fill(client, dest.name, 5);
    const a = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 300));
    const b = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 301));
    await expectPending(ctx, a);
    expect(await ctx.space(client)).toMatchObject({ threads: 2 });
    expect((await poll(server, port)).header.id).toBe(100);
    expectCode(await a, MACH_MSG_SUCCESS);
    await expectPending(ctx, b);
    expect((await poll(server, port)).header.id).toBe(101);
    expectCode(await b, MACH_MSG_SUCCESS);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await poll(server, port)).header.id);
    expect(ids).toEqual([102, 103, 104, 300, 301]);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_TIMEOUT with a delay: the blocked sender gives up with MACH_SEND_TIMED_OUT', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await fill(client, dest.name, 5);
    const r = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 400), MACH_SEND_TIMEOUT, 20);
    await expectPending(ctx, r);
    expectCode(await within(r, 'the send timeout'), MACH_SEND_TIMED_OUT);
    expect(await ctx.space(client)).toMatchObject({ threads: 0 });
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    await mach_port_deallocate(client.self, dest.name);
    expect(await qstatus(server, port)).toMatchObject({ msgcount: 5 });
    for (let i = 0; i < 5; i++) await poll(server, port);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('mach_port_set_qlimit: a lower limit blocks sooner; raising it lets blocked senders in', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_set_qlimit(server.self, port, 1);
    await fill(client, dest.name, 1);
    const a = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    const b = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    await expectPending(ctx, a);
    await mach_port_set_qlimit(server.self, port, 3);
    expectCode(await a, MACH_MSG_SUCCESS);
    expectCode(await b, MACH_MSG_SUCCESS);
    expect(await qstatus(server, port)).toMatchObject({ qlimit: 3, msgcount: 3 });
    for (let i = 0; i < 3; i++) await poll(server, port);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it(`mach_port_set_qlimit accepts 0..${MACH_PORT_QLIMIT_MAX}, KERN_INVALID_VALUE above; at 0 every send to a send right waits`, async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await expectMachError(mach_port_set_qlimit(server.self, port, MACH_PORT_QLIMIT_MAX + 1), KERN_INVALID_VALUE);
    await mach_port_set_qlimit(server.self, port, MACH_PORT_QLIMIT_MAX);
    expect((await qstatus(server, port)).qlimit).toBe(MACH_PORT_QLIMIT_MAX);
    await mach_port_set_qlimit(server.self, port, 0);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1), MACH_SEND_TIMEOUT, 0), MACH_SEND_TIMED_OUT);
    await mach_port_deallocate(client.self, dest.name); // the uref the timed-out message gave back
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('send-once messages bypass the queue limit (MAKE_SEND_ONCE and MOVE_SEND_ONCE destinations)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await fill(client, dest.name, 5);
    const so = await ctx.world.giveRight(server, port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expectCode(await send(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 500), MACH_SEND_TIMEOUT, 0), MACH_MSG_SUCCESS);
    expectCode(await send(server, message(port, MACH_MSG_TYPE_MAKE_SEND_ONCE, 0, 0, 501), MACH_SEND_TIMEOUT, 0), MACH_MSG_SUCCESS);
    // MAKE_SEND makes a send right: that one waits
    expectCode(await send(server, message(port, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 502), MACH_SEND_TIMEOUT, 0), MACH_SEND_TIMED_OUT);
    // ... and the send right it made is the sender's now, under the receive right's name
    expect((await mach_port_get_refs(server.self, port, MACH_PORT_RIGHT_SEND)).refs).toBe(1);
    await mach_port_deallocate(server.self, port);
    expect(await qstatus(server, port)).toMatchObject({ qlimit: 5, msgcount: 7 });
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await poll(server, port)).header.id);
    expect(ids).toEqual([100, 101, 102, 103, 104, 500, 501]);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a sender blocked on a port that is destroyed completes (the message is destroyed, as if received)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await fill(client, dest.name, 5);
    const blocked = send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MAKE_SEND)]));
    await expectPending(ctx, blocked);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
    expectCode(await blocked, MACH_MSG_SUCCESS);
    // the send right it carried is gone: r has no senders but the client's bootstrap is dead
    const s = (await mach_port_get_receive_status(client.self, r)).status;
    expect({ mscount: s[2], srights: s[6] }).toEqual({ mscount: 1, srights: 0 });
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_NOTIFY on a full queue: the message goes in anyway (MACH_SEND_WILL_NOTIFY), msg-accepted follows its receipt', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inbox = await notifyInbox(client);
    await fill(client, dest.name, 5);
    const r = await client.transport.mach_msg(message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 600), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0xffffffff, 0, 0, inbox.port);
    expectCode(r.mr, MACH_SEND_WILL_NOTIFY);
    expect(await qstatus(server, port)).toMatchObject({ msgcount: 6 });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await poll(server, port)).header.id);
    expect(ids).toEqual([100, 101, 102, 103, 104, 600]);
    const n = await inbox.next('msg-accepted');
    expect(n).toEqual({ kind: 'msg_accepted', port: inbox.port, name: dest.name });
    expect(MACH_NOTIFY_MSG_ACCEPTED).toBe(66);
    await inbox.stop();
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('msgh_seqno counts the messages received from a port; mach_port_set_seqno sets the next one', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    for (let i = 0; i < 3; i++) await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, i));
    expect((await poll(t, p)).header.seqno).toBe(0);
    expect((await poll(t, p)).header.seqno).toBe(1);
    expect((await qstatus(t, p)).seqno).toBe(2);
    await mach_port_set_seqno(t.self, p, 1000);
    expect((await poll(t, p)).header.seqno).toBe(1000);
    expect((await qstatus(t, p)).seqno).toBe(1001);
    // a receiver waiting when the message comes gets the next number too
    const w = receive(t, p);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 9));
    expect(expectMsg(await w).header.seqno).toBe(1001);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('sequence numbers are per port inside a port set', async () => {
    const t = await ctx.task('t');
    const set = (await mach_port_allocate(t.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const a = await allocReceive(t);
    const b = await allocReceive(t);
    await mach_port_move_member(t.self, a, set);
    await mach_port_move_member(t.self, b, set);
    await mach_port_set_seqno(t.self, b, 50);
    for (const d of [a, b, b, a]) await sendOk(t, message(d, MACH_MSG_TYPE_MAKE_SEND));
    const got = [];
    for (let i = 0; i < 4; i++) { const m = await poll(t, set); got.push([m.header.localPort, m.header.seqno]); }
    expect(got).toEqual([[a, 0], [b, 50], [b, 51], [a, 1]]);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, a);
    await mach_port_destroy(t.self, b);
  });

  it('a MIG server sees msgh_seqno through a msgseqno argument', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const served = serve(server, [mig.ipctest_server({ ipctest_seqno: (_p, seqno) => ({ got: seqno }) })], port);
    expect((await mig.ipctest_seqno(dest)).got).toBe(0);
    expect((await mig.ipctest_seqno(dest)).got).toBe(1);
    await mach_port_set_seqno(server.self, port, 77);
    expect((await mig.ipctest_seqno(dest)).got).toBe(77);
    await served.stop();
  });

  it('a oneway (simpleroutine) flood: the client blocks at the limit and resumes as the server drains', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const calls = Array.from({ length: 8 }, (_, i) => mig.ipctest_oneway(dest, i));
    await ctx.settle();
    expect(await qstatus(server, port)).toMatchObject({ msgcount: 5 });
    const seen: number[] = [];
    const served = serve(server, [mig.ipctest_server({ ipctest_oneway: (_p, x) => { seen.push(x); return 0; } })], port);
    await within(Promise.all(calls), 'the blocked oneway calls');
    await ctx.settle();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await served.stop();
  });
});
