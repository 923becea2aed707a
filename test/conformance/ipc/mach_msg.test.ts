/*
 * mach_msg: send, receive, RPC in one call, port sets, timeouts, message contents
 * (GNU Mach ipc/mach_msg.c, ipc/ipc_mqueue.c).
 */
import { expect, it } from 'vitest';
import {
  MACH_MSG_SUCCESS, MACH_RCV_TIMED_OUT, MACH_RCV_TOO_LARGE,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND,
  MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
  MACH_RCV_LARGE, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG,
} from '../../../src/mach/message.js';
import { MACH_PORT_NULL, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import {
  mach_port_allocate, mach_port_destroy, mach_port_move_member, mach_port_mod_refs,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, bytesItem, describeWorlds, expectCode, expectMsg, expectPending, intItem, intsItem, message, poll,
  receive, send, sendOk, serverAndClient, stringItem,
} from './helpers.js';

describeWorlds('mach_msg', (ctx) => {
  it('send then receive: id, body, msgh_size, and the header as the receiver sees it', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 4242, [intItem(7), intsItem([1, 2, 3])]));
    const m = await poll(server, port);
    expect(m.header.id).toBe(4242);
    expect(m.header.size).toBe(32 + 8 + 16);
    // the destination right was consumed: local = PORT_SEND on the receiver's name, no reply
    expect(m.header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND));
    expect(m.header.localPort).toBe(port);
    expect(m.header.remotePort).toBe(MACH_PORT_NULL);
    expect(m.body.map((i) => i.data)).toEqual([7, [1, 2, 3]]);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a receiver waiting on an empty queue gets the message sent later', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = receive(server, port);
    await expectPending(ctx, r);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [intItem(5)]));
    const m = expectMsg(await r);
    expect(m.body[0]!.data).toBe(5);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('messages from one sender arrive in order', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    for (let i = 0; i < 5; i++) await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 100 + i));
    for (let i = 0; i < 5; i++) expect((await poll(server, port)).header.id).toBe(100 + i);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('RPC in one call: MACH_SEND_MSG|MACH_RCV_MSG with a MAKE_SEND_ONCE reply right, answered with MOVE_SEND_ONCE', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const replyPort = await allocReceive(client);
    const rpc = client.mach_msg(message(dest.name, MACH_MSG_TYPE_COPY_SEND, replyPort, MACH_MSG_TYPE_MAKE_SEND_ONCE, 500, [intItem(20)]),
      MACH_SEND_MSG | MACH_RCV_MSG, replyPort, 0);
    const req = expectMsg(await receive(server, port));
    expect(req.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND));
    expect(req.header.remotePort).not.toBe(MACH_PORT_NULL);
    expect(await ctx.space(server)).toMatchObject({ sendOnce: 1 });
    await sendOk(server, message(req.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 600, [intItem(21)]));
    const reply = expectMsg(await rpc);
    expect(reply.header.id).toBe(600);
    expect(reply.header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
    expect(reply.header.localPort).toBe(replyPort);
    expect(reply.body[0]!.data).toBe(21);
    expect(await ctx.space(server)).toMatchObject({ sendOnce: 0 });
    await mach_port_mod_refs(client.self, replyPort, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('receive from a port set: messages of every member, msgh_local_port naming the member', async () => {
    const server = await ctx.task('server');
    const set = (await mach_port_allocate(server.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const a = await allocReceive(server);
    const b = await allocReceive(server);
    await mach_port_move_member(server.self, a, set);
    await mach_port_move_member(server.self, b, set);
    await sendOk(server, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    await sendOk(server, message(b, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 2));
    await sendOk(server, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 3));
    const got = [];
    for (let i = 0; i < 3; i++) { const m = await poll(server, set); got.push([m.header.id, m.header.localPort, m.header.seqno]); }
    // in arrival order; sequence numbers count per port
    expect(got).toEqual([[1, a, 0], [2, b, 0], [3, a, 1]]);
    expectCode(await receive(server, set, 0), MACH_RCV_TIMED_OUT);
    await mach_port_destroy(server.self, set);
    await mach_port_mod_refs(server.self, a, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, b, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a receiver waiting on a port set is woken by a message to any member', async () => {
    const server = await ctx.task('server');
    const set = (await mach_port_allocate(server.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const a = await allocReceive(server);
    await mach_port_move_member(server.self, a, set);
    const r = receive(server, set);
    await expectPending(ctx, r);
    await sendOk(server, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 9));
    expect(expectMsg(await r).header.localPort).toBe(a);
    await mach_port_destroy(server.self, set);
    await mach_port_destroy(server.self, a);
  });

  it('messages queued on a port follow it into a set, and back out of it', async () => {
    const server = await ctx.task('server');
    const set = (await mach_port_allocate(server.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const a = await allocReceive(server);
    await sendOk(server, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    await sendOk(server, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 2));
    await mach_port_move_member(server.self, a, set);
    expect((await poll(server, set)).header.id).toBe(1);
    await mach_port_move_member(server.self, a, MACH_PORT_NULL);
    expectCode(await receive(server, set, 0), MACH_RCV_TIMED_OUT);
    expect((await poll(server, a)).header.id).toBe(2);
    await mach_port_destroy(server.self, set);
    await mach_port_destroy(server.self, a);
  });

  it('MACH_RCV_TIMEOUT with 0 polls: MACH_RCV_TIMED_OUT at once on an empty queue', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    expectCode(await receive(t, p, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_RCV_TIMEOUT with a delay: MACH_RCV_TIMED_OUT when nothing came, and the waiter is gone', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    expectCode(await receive(t, p, 20), MACH_RCV_TIMED_OUT);
    expect(await ctx.space(t)).toMatchObject({ threads: 0 });
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a message arriving before the receive timeout is received', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    const r = receive(t, p, 5000);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 77));
    expect(expectMsg(await r).header.id).toBe(77);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('data items arrive as sent: in-line bytes, out-of-line bytes (deallocate bit set), strings, integer arrays', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inline = new Uint8Array([1, 2, 3, 4, 5]);
    const ool = new Uint8Array(10000).map((_, i) => i & 0xff);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1,
      [bytesItem(inline), bytesItem(ool, false), stringItem('hello, mach'), intsItem([-1, 0x7fffffff])]));
    const m = await poll(server, port);
    expect((m.header.bits & MACH_MSGH_BITS_COMPLEX) >>> 0).toBe(MACH_MSGH_BITS_COMPLEX);
    expect(m.body[0]!.data).toEqual(inline);
    expect(m.body[0]!.type).toMatchObject({ inline: true, deallocate: false });
    expect(Buffer.from(m.body[1]!.data as Uint8Array).equals(Buffer.from(ool))).toBe(true);
    expect(m.body[1]!.type).toMatchObject({ inline: false, deallocate: true, number: 10000 });
    expect(m.body[2]!.data).toBe('hello, mach');
    expect(m.body[3]!.data).toEqual([-1, 0x7fffffff]);
    // msgh_size: header + (12 + 8) + (12 + 8) + (12 + 64) + (4 + 8)
    expect(m.header.size).toBe(32 + 20 + 20 + 76 + 12);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_RCV_LARGE: a message larger than the buffer stays queued and its size is returned', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 5, [intsItem([1, 2, 3, 4])]));
    const r = await t.transport.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT | MACH_RCV_LARGE, 40, p, 0, MACH_PORT_NULL);
    expectCode(r.mr, MACH_RCV_TOO_LARGE);
    expect(r.size).toBe(32 + 4 + 16);
    const m = await poll(t, p);
    expect(m.body[0]!.data).toEqual([1, 2, 3, 4]);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('without MACH_RCV_LARGE a message too large is destroyed (its rights too) and only its header returned', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    const q = await allocReceive(t);
    const s0 = await ctx.space(t);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 5, [intsItem([1, 2, 3, 4]), { type: { name: MACH_MSG_TYPE_MAKE_SEND, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: q }]));
    const r = await t.transport.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 40, p, 0, MACH_PORT_NULL);
    expectCode(r.mr, MACH_RCV_TOO_LARGE);
    expect(r.msg?.header.id).toBe(5);
    expect(r.msg?.header.localPort).toBe(p);
    expectCode(await receive(t, p, 0), MACH_RCV_TIMED_OUT);
    // the send right made for q died with the message
    expect(await ctx.space(t)).toEqual(s0);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(t.self, q, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('a send-only call returns MACH_MSG_SUCCESS and leaves the sender\'s send right in place (COPY_SEND)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND)), MACH_MSG_SUCCESS);
    expect(await ctx.space(client)).toMatchObject({ send: 3 });
    expect(await ctx.space(client)).toMatchObject({ urefs: 3 });
    await poll(server, port);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });
});
