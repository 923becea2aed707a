/*
 * The six dispositions (MOVE_RECEIVE, MOVE_SEND, COPY_SEND, MAKE_SEND, MAKE_SEND_ONCE,
 * MOVE_SEND_ONCE) in the header and in the body: what leaves the sender's space, what the
 * receiver gets, and the port's counts (GNU Mach ipc/ipc_right.c ipc_right_copyin,
 * ipc/ipc_kmsg.c copyin/copyout, ipc/ipc_port.c ipc_port_clear_receiver).
 */
import { expect, it } from 'vitest';
import { KERN_INVALID_NAME, MACH_SEND_INVALID_DEST, MACH_RCV_PORT_DIED, MACH_RCV_TIMED_OUT } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE,
  MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND,
  MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND,
  MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_RECEIVE,
} from '../../../src/mach/port.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_receive_status, mach_port_get_refs, mach_port_insert_right,
  mach_port_mod_refs, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, describeWorlds, expectCode, expectMachError, intItem, message, poll, portItem, portsItem, receive, send, sendOk,
  serverAndClient,
} from './helpers.js';

/** The type bits and send urefs of a name. */
async function rights(task: MachTask, name: number): Promise<{ type: number; send: number }> {
  const { ptype } = await mach_port_type(task.self, name);
  const { refs } = await mach_port_get_refs(task.self, name, MACH_PORT_RIGHT_SEND);
  return { type: ptype & ~0xc0000000, send: refs };
}

async function status(task: MachTask, name: number): Promise<{ seqno: number; mscount: number; msgcount: number; sorights: number; srights: number }> {
  const s = (await mach_port_get_receive_status(task.self, name)).status;
  return { seqno: s[1]!, mscount: s[2]!, msgcount: s[4]!, sorights: s[5]!, srights: s[6]! };
}

describeWorlds('dispositions', (ctx) => {
  // ==== the destination (msgh_remote_port) ==========================================

  it('header COPY_SEND: the sender keeps its urefs; the destination right is consumed at receipt', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 1);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND));
    expect(await rights(client, dest.name)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 2 });
    expect((await status(server, port)).msgcount).toBe(1);
    await poll(server, port);
    expect((await status(server, port)).srights).toBe(1); // only the client's right is left
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('header MOVE_SEND: one uref leaves; the last one takes the name with it', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 1);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND));
    expect(await rights(client, dest.name)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 1 });
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND));
    const before = (await ctx.space(client)).names;
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND));
    expect((await ctx.space(client)).names).toBe(before - 1);
    for (let i = 0; i < 3; i++) expect((await poll(server, port)).header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND));
    // the only send right left is the one the kernel keeps as the client's bootstrap special port
    expect((await status(server, port)).srights).toBe(1);
    // give the client its bootstrap right back so the leak check sees what it started with
    await ctx.world.giveRight(server, port, client);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('header MAKE_SEND: the receiver makes a send right from its receive right; mscount counts it', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND));
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND));
    expect(await status(t, p)).toMatchObject({ mscount: 2, msgcount: 2, srights: 1 });
    expect(await rights(t, p)).toEqual({ type: MACH_PORT_TYPE_RECEIVE, send: 0 });
    await poll(t, p);
    await poll(t, p);
    expect(await status(t, p)).toMatchObject({ mscount: 2, msgcount: 0, srights: 0 });
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('header MAKE_SEND_ONCE: a send-once destination; the receiver sees PORT_SEND_ONCE and sorights drop back', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND_ONCE));
    expect(await status(t, p)).toMatchObject({ sorights: 1, mscount: 0 });
    const m = await poll(t, p);
    expect(m.header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
    expect(await status(t, p)).toMatchObject({ sorights: 0 });
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('header MOVE_SEND_ONCE: the send-once right is used up and its name freed', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const so = await ctx.world.giveRight(server, port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(await rights(client, so)).toEqual({ type: MACH_PORT_TYPE_SEND_ONCE, send: 0 });
    await sendOk(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 3));
    await expectMachError(mach_port_type(client.self, so), KERN_INVALID_NAME);
    expect((await poll(server, port)).header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
    expect((await status(server, port)).sorights).toBe(0);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  // ==== the reply (msgh_local_port) =================================================

  it('reply MAKE_SEND: the receiver gets a send right in msgh_remote_port', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MAKE_SEND));
    const m = await poll(server, port);
    expect(m.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND));
    expect(await rights(server, m.header.remotePort)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 1 });
    expect(await status(client, r)).toMatchObject({ mscount: 1, srights: 1 });
    await mach_port_deallocate(server.self, m.header.remotePort);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('reply COPY_SEND and MOVE_SEND: the sender keeps, or gives up, its send right', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND)); // client: r = send+receive
    const own = await poll(client, r);
    expect(own.header.remotePort).toBe(r);
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_SEND_RECEIVE, send: 1 });
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_COPY_SEND));
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_SEND_RECEIVE, send: 1 });
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MOVE_SEND));
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_RECEIVE, send: 0 });
    const a = await poll(server, port);
    const b = await poll(server, port);
    // both replies are the same port: one name in the server, two urefs
    expect(a.header.remotePort).toBe(b.header.remotePort);
    expect(await rights(server, a.header.remotePort)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 2 });
    await mach_port_mod_refs(server.self, a.header.remotePort, MACH_PORT_RIGHT_SEND, -2);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('reply MOVE_SEND_ONCE: a send-once right the sender holds becomes the receiver\'s reply right', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE));
    const own = await poll(client, r);
    const so = own.header.remotePort;
    expect(await rights(client, so)).toEqual({ type: MACH_PORT_TYPE_SEND_ONCE, send: 0 });
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, so, MACH_MSG_TYPE_MOVE_SEND_ONCE));
    const m = await poll(server, port);
    expect(m.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND));
    await sendOk(server, message(m.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 44));
    expect((await poll(client, r)).header.id).toBe(44);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('destination and reply under one name: COPY_SEND twice, MOVE_SEND twice (needs two urefs), COPY+MOVE, MAKE_SEND+MAKE_SEND_ONCE; MOVE_SEND_ONCE is MACH_SEND_INVALID_DEST', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const d = dest.name;
    const urefs = async (): Promise<number> => (await mach_port_get_refs(client.self, d, MACH_PORT_RIGHT_SEND)).refs;
    await sendOk(client, message(d, MACH_MSG_TYPE_COPY_SEND, d, MACH_MSG_TYPE_COPY_SEND, 1));
    expect(await urefs()).toBe(1);
    expectCode(await send(client, message(d, MACH_MSG_TYPE_MOVE_SEND, d, MACH_MSG_TYPE_MOVE_SEND, 2)), MACH_SEND_INVALID_DEST);
    await mach_port_mod_refs(client.self, d, MACH_PORT_RIGHT_SEND, 1);
    await sendOk(client, message(d, MACH_MSG_TYPE_MOVE_SEND, d, MACH_MSG_TYPE_MOVE_SEND, 3));
    await expectMachError(mach_port_type(client.self, d), KERN_INVALID_NAME);
    const back = await ctx.world.giveRight(server, port, client);
    await sendOk(client, message(back, MACH_MSG_TYPE_COPY_SEND, back, MACH_MSG_TYPE_MOVE_SEND, 4));
    await expectMachError(mach_port_type(client.self, back), KERN_INVALID_NAME);
    const so = await ctx.world.giveRight(server, port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expectCode(await send(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 5)), MACH_SEND_INVALID_DEST);
    await sendOk(server, message(port, MACH_MSG_TYPE_MAKE_SEND, port, MACH_MSG_TYPE_MAKE_SEND_ONCE, 6));
    const got = [];
    for (let i = 0; i < 4; i++) {
      const m = await poll(server, port);
      got.push([m.header.id, m.header.bits]);
      if (m.header.remotePort !== MACH_PORT_NULL) await mach_port_deallocate(server.self, m.header.remotePort);
    }
    expect(got).toEqual([
      [1, MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND)], [3, MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND)],
      [4, MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND)], [6, MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND)],
    ]);
    await sendOk(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 7));
    // the send-once reply right of message 6, deallocated above, came back as a notification
    expect((await poll(server, port)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expect((await poll(server, port)).header.id).toBe(7);
    await ctx.world.giveRight(server, port, client); // the client ends as it began, with one send right
    await mach_port_destroy(server.self, port);
  });

  // ==== the body ====================================================================

  it('body COPY_SEND, MOVE_SEND and MAKE_SEND: counts at the sender, one name with summed urefs at the receiver', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MAKE_SEND)]));
    const m1 = await poll(server, port);
    expect(m1.body[0]!.type.name).toBe(MACH_MSG_TYPE_PORT_SEND);
    const s = m1.body[0]!.data as number;
    expect(await rights(server, s)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 1 });
    // the server copies it back twice and moves it once
    await sendOk(server, message(s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2, [portItem(s, MACH_MSG_TYPE_COPY_SEND), portItem(s, MACH_MSG_TYPE_MOVE_SEND)]));
    await expectMachError(mach_port_type(server.self, s), KERN_INVALID_NAME);
    const m2 = await poll(client, r);
    expect(m2.body.map((i) => i.data)).toEqual([r, r]);
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_SEND_RECEIVE, send: 2 });
    expect(await status(client, r)).toMatchObject({ mscount: 1, srights: 1 });
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_SEND, -2);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('body MAKE_SEND_ONCE and MOVE_SEND_ONCE: the receiver gets send-once rights that each carry one message', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MAKE_SEND_ONCE), portItem(r, MACH_MSG_TYPE_MAKE_SEND_ONCE)]));
    expect(await status(client, r)).toMatchObject({ sorights: 2 });
    const m = await poll(server, port);
    const [a, b] = m.body.map((i) => i.data as number);
    expect(m.body.map((i) => i.type.name)).toEqual([MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND_ONCE]);
    expect(a).not.toBe(b); // send-once rights never share a name
    // one is used as a destination, the other moved in a body and used by the client itself
    await sendOk(server, message(a!, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 10, [portItem(b!, MACH_MSG_TYPE_MOVE_SEND_ONCE)]));
    const got = await poll(client, r);
    expect(got.header.id).toBe(10);
    const so = got.body[0]!.data as number;
    expect(await rights(client, so)).toEqual({ type: MACH_PORT_TYPE_SEND_ONCE, send: 0 });
    await sendOk(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 11));
    expect((await poll(client, r)).header.id).toBe(11);
    expect(await status(client, r)).toMatchObject({ sorights: 0 });
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('body MOVE_RECEIVE: the receive right changes space with its queued messages; mscount and seqno restart at 0', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 2));
    expect((await poll(client, r)).header.seqno).toBe(0);
    expect(await status(client, r)).toMatchObject({ mscount: 2, seqno: 1, msgcount: 1 });
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    await expectMachError(mach_port_type(client.self, r), KERN_INVALID_NAME);
    const m = await poll(server, port);
    expect(m.body[0]!.type.name).toBe(MACH_MSG_TYPE_PORT_RECEIVE);
    const moved = m.body[0]!.data as number;
    expect(await rights(server, moved)).toEqual({ type: MACH_PORT_TYPE_RECEIVE, send: 0 });
    expect(await status(server, moved)).toMatchObject({ mscount: 0, seqno: 0, msgcount: 1 });
    const q = await poll(server, moved);
    expect([q.header.id, q.header.seqno, q.header.localPort]).toEqual([2, 0, moved]);
    await mach_port_mod_refs(server.self, moved, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MOVE_RECEIVE of a name that also holds send rights: the sender keeps the send rights under that name', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND));
    await poll(client, r); // r: send (1 uref) + receive
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 1 });
    const moved = (await poll(server, port)).body[0]!.data as number;
    // the client's send right still reaches the port, now in the server's space
    await sendOk(client, message(r, MACH_MSG_TYPE_COPY_SEND, 0, 0, 4));
    expect((await poll(server, moved)).header.id).toBe(4);
    await mach_port_deallocate(client.self, r);
    await mach_port_mod_refs(server.self, moved, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a receive right arriving where the receiver holds send rights to that port joins the same name', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    // the server gets a send right to r first
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MAKE_SEND)]));
    const s = (await poll(server, port)).body[0]!.data as number;
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    const m = await poll(server, port);
    expect(m.body[0]!.data).toBe(s);
    expect(await rights(server, s)).toEqual({ type: MACH_PORT_TYPE_SEND_RECEIVE, send: 1 });
    await mach_port_destroy(server.self, s);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a receiver waiting on a port whose receive right is sent away gets MACH_RCV_PORT_DIED', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    const waiting = receive(client, r);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    expectCode(await waiting, MACH_RCV_PORT_DIED);
    const moved = (await poll(server, port)).body[0]!.data as number;
    await mach_port_mod_refs(server.self, moved, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a port in transit still takes messages; they wait in its queue for the new owner', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND));
    await poll(client, r); // the client keeps a send right to r
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    // r is in transit now (in a message queued on the server's port)
    await sendOk(client, message(r, MACH_MSG_TYPE_COPY_SEND, 0, 0, 50, [intItem(1)]));
    await sendOk(client, message(r, MACH_MSG_TYPE_COPY_SEND, 0, 0, 51, [intItem(2)]));
    const moved = (await poll(server, port)).body[0]!.data as number;
    expect((await poll(server, moved)).header.id).toBe(50);
    expect((await poll(server, moved)).header.id).toBe(51);
    await mach_port_deallocate(client.self, r);
    await mach_port_mod_refs(server.self, moved, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a receive right in transit dies with the message carrying it (its senders are left with dead names)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND));
    await poll(client, r);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    // the server destroys its port with the message (and the receive right in it) still queued
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
    expect(await rights(client, r)).toEqual({ type: MACH_PORT_TYPE_DEAD_NAME, send: 0 });
    expect((await mach_port_get_refs(client.self, r, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(1);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_DEAD_NAME, -1);
  });

  it('a receive right sent to its own port, or into a cycle of ports in transit, is destroyed with the message', async () => {
    const t = await ctx.task('t');
    const carrier = await allocReceive(t);
    const before = await ctx.space(t);
    // carrier's receive right travels in a message to carrier itself
    await sendOk(t, message(carrier, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1, [portItem(carrier, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    await expectMachError(mach_port_type(t.self, carrier), KERN_INVALID_NAME);
    expect((await ctx.space(t)).receive).toBe(before.receive - 1);
    // a longer cycle: r travels to c, then c travels to r
    const r = await allocReceive(t);
    const c = await allocReceive(t);
    await mach_port_insert_right(t.self, r, t.port(r), MACH_MSG_TYPE_MAKE_SEND);
    await mach_port_insert_right(t.self, c, t.port(c), MACH_MSG_TYPE_MAKE_SEND);
    await sendOk(t, message(c, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2, [portItem(r, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    await sendOk(t, message(r, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3, [portItem(c, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    // both ports died: t's send rights are dead names
    expect(await rights(t, r)).toEqual({ type: MACH_PORT_TYPE_DEAD_NAME, send: 0 });
    expect(await rights(t, c)).toEqual({ type: MACH_PORT_TYPE_DEAD_NAME, send: 0 });
    await mach_port_deallocate(t.self, r);
    await mach_port_deallocate(t.self, c);
  });

  it('arrays of rights, MACH_PORT_NULL and MACH_PORT_DEAD in a body', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    const dead = (await mach_port_allocate(client.self, MACH_PORT_RIGHT_DEAD_NAME)).name;
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [
      portsItem([r, MACH_PORT_NULL, r, MACH_PORT_DEAD], MACH_MSG_TYPE_MAKE_SEND),
      portsItem([dead], MACH_MSG_TYPE_MOVE_SEND),
      portsItem([r, r], MACH_MSG_TYPE_MAKE_SEND, false),
    ]));
    // the dead name moved out with its only uref
    await expectMachError(mach_port_type(client.self, dead), KERN_INVALID_NAME);
    const m = await poll(server, port);
    const s = (m.body[0]!.data as number[])[0]!;
    expect(m.body[0]!.data).toEqual([s, MACH_PORT_NULL, s, MACH_PORT_DEAD]);
    expect(m.body[1]!.data).toEqual([MACH_PORT_DEAD]);
    expect(m.body[2]!.data).toEqual([s, s]);
    expect(m.body[2]!.type).toMatchObject({ name: MACH_MSG_TYPE_PORT_SEND, inline: false, deallocate: true });
    expect(await rights(server, s)).toEqual({ type: MACH_PORT_TYPE_SEND, send: 4 });
    expect(await status(client, r)).toMatchObject({ mscount: 4 });
    await mach_port_mod_refs(server.self, s, MACH_PORT_RIGHT_SEND, -4);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a right to a dead port sent in a body arrives as MACH_PORT_DEAD (COPY_SEND keeps, MOVE_SEND takes the dead name\'s uref)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const other = await ctx.task('other');
    const o = await allocReceive(other);
    const s = await ctx.world.giveRight(other, o, client);
    await mach_port_mod_refs(client.self, s, MACH_PORT_RIGHT_SEND, 1);
    await mach_port_mod_refs(other.self, o, MACH_PORT_RIGHT_RECEIVE, -1); // o dies
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(s, MACH_MSG_TYPE_COPY_SEND), portItem(s, MACH_MSG_TYPE_MOVE_SEND)]));
    expect((await mach_port_get_refs(client.self, s, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(1);
    const m = await poll(server, port);
    expect(m.body.map((i) => i.data)).toEqual([MACH_PORT_DEAD, MACH_PORT_DEAD]);
    await mach_port_mod_refs(client.self, s, MACH_PORT_RIGHT_DEAD_NAME, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a reply right to a port that died before receipt arrives as MACH_PORT_DEAD', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE));
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    const m = await poll(server, port);
    expect(m.header.remotePort).toBe(MACH_PORT_DEAD);
    expect(m.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND));
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });
});
