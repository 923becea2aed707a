/*
 * mach_msg's errors, with GNU Mach's codes and what each leaves of the message's rights
 * (GNU Mach ipc/ipc_kmsg.c ipc_kmsg_copyin_header / ipc_kmsg_copyin_body /
 * ipc_kmsg_clean_partial, ipc/ipc_mqueue.c ipc_mqueue_copyin, ipc/ipc_pset.c).
 */
import { expect, it } from 'vitest';
import {
  MACH_RCV_IN_SET, MACH_RCV_INVALID_NAME, MACH_RCV_PORT_CHANGED, MACH_RCV_PORT_DIED, MACH_RCV_TIMED_OUT, MACH_SEND_INVALID_DEST,
  MACH_SEND_INVALID_HEADER, MACH_SEND_INVALID_REPLY, MACH_SEND_INVALID_RIGHT, MACH_SEND_INVALID_TYPE,
  MACH_SEND_MSG_TOO_SMALL,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_NOTIFY_SEND_ONCE,
  MACH_RCV_MSG, MACH_SEND_MSG,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE,
  MACH_PORT_RIGHT_SEND, MACH_PORT_TYPE_DEAD_NAME,
} from '../../../src/mach/port.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_receive_status, mach_port_get_refs,
  mach_port_mod_refs, mach_port_move_member, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  allocReceive, describeWorlds, expectCode, expectPending, intItem, message, poll, portItem, receive, send,
  serverAndClient,
} from './helpers.js';

describeWorlds('mach_msg errors', (ctx) => {
  // ==== MACH_SEND_INVALID_DEST =======================================================

  it('MACH_SEND_INVALID_DEST: a destination name the space does not have, MACH_PORT_NULL, MACH_PORT_DEAD', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    for (const dest of [p + 0x100000, 0x7777, MACH_PORT_NULL, MACH_PORT_DEAD]) {
      expectCode(await send(t, message(dest, MACH_MSG_TYPE_COPY_SEND)), MACH_SEND_INVALID_DEST);
    }
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_INVALID_DEST: a disposition the destination name cannot give (COPY_SEND of a receive right, MAKE_SEND of a send right, MOVE_SEND_ONCE of a send right)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    expectCode(await send(server, message(port, MACH_MSG_TYPE_COPY_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await send(server, message(port, MACH_MSG_TYPE_MOVE_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MAKE_SEND)), MACH_SEND_INVALID_DEST);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MAKE_SEND_ONCE)), MACH_SEND_INVALID_DEST);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND_ONCE)), MACH_SEND_INVALID_DEST);
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_INVALID_DEST: a dead name; nothing of the message is taken (the MOVE_SEND reply right stays)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1); // dest is dead now
    await sendOk2(client, r);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MOVE_SEND)), MACH_SEND_INVALID_DEST);
    expect((await mach_port_type(client.self, dest.name)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect((await mach_port_get_refs(client.self, r, MACH_PORT_RIGHT_SEND)).refs).toBe(1);
    await mach_port_destroy(client.self, r);
  });

  // ==== MACH_SEND_INVALID_REPLY ======================================================

  it('MACH_SEND_INVALID_REPLY: a reply name the space does not have, or one that cannot give the reply disposition; the MOVE_SEND destination is not taken', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 1);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND, 0x4242, MACH_MSG_TYPE_MAKE_SEND_ONCE)), MACH_SEND_INVALID_REPLY);
    // a send right cannot make a send-once right, nor be moved as one
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND, client.self.name, MACH_MSG_TYPE_MAKE_SEND_ONCE)), MACH_SEND_INVALID_REPLY);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND, client.self.name, MACH_MSG_TYPE_MOVE_SEND_ONCE)), MACH_SEND_INVALID_REPLY);
    const r = await allocReceive(client);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND, r, MACH_MSG_TYPE_COPY_SEND)), MACH_SEND_INVALID_REPLY);
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    expect((await mach_port_get_receive_status(server.self, port)).status[4]).toBe(0);
    await mach_port_deallocate(client.self, dest.name);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  // ==== MACH_SEND_INVALID_HEADER =====================================================

  it('MACH_SEND_INVALID_HEADER: a destination disposition that is not a send disposition (MOVE_RECEIVE, 0, 22), a reply name without a reply disposition, MOVE_RECEIVE as reply', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    expectCode(await send(server, message(port, MACH_MSG_TYPE_MOVE_RECEIVE)), MACH_SEND_INVALID_HEADER);
    expectCode(await send(client, message(dest.name, 0)), MACH_SEND_INVALID_HEADER);
    expectCode(await send(client, message(dest.name, 22)), MACH_SEND_INVALID_HEADER);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, 0)), MACH_SEND_INVALID_HEADER);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MOVE_RECEIVE)), MACH_SEND_INVALID_HEADER);
    // nothing was taken: r is still the client's receive right, the server got nothing
    expect((await mach_port_get_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE)).refs).toBe(1);
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  // ==== body errors: MACH_SEND_INVALID_RIGHT, MACH_SEND_INVALID_TYPE =================

  it('MACH_SEND_INVALID_RIGHT: a body right the sender does not hold; the header rights are destroyed (MOVE_SEND destination lost, MAKE_SEND_ONCE reply notified)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 1);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_MOVE_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1,
      [portItem(0x3333, MACH_MSG_TYPE_COPY_SEND)])), MACH_SEND_INVALID_RIGHT);
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(1);
    // the send-once right made for the reply was destroyed: a send-once notification
    const n = await poll(client, r);
    expect(n.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_INVALID_RIGHT: rights taken by earlier items are destroyed (a moved receive right dies), later items are untouched', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const a = await allocReceive(client);
    const b = await allocReceive(client);
    const watcher = await ctx.task('watcher');
    const s = await ctx.world.giveRight(client, a, watcher);
    expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1,
      [portItem(a, MACH_MSG_TYPE_MOVE_RECEIVE), portItem(b, MACH_MSG_TYPE_COPY_SEND), portItem(b, MACH_MSG_TYPE_MOVE_RECEIVE)])), MACH_SEND_INVALID_RIGHT);
    expect((await mach_port_type(watcher.self, s)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect((await mach_port_get_refs(client.self, b, MACH_PORT_RIGHT_RECEIVE)).refs).toBe(1);
    await mach_port_deallocate(watcher.self, s);
    await mach_port_mod_refs(client.self, b, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_INVALID_RIGHT: MOVE_RECEIVE of a send right, MAKE_SEND of a send right, MOVE_SEND_ONCE of a receive right', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    for (const [name, disp] of [[dest.name, MACH_MSG_TYPE_MOVE_RECEIVE], [dest.name, MACH_MSG_TYPE_MAKE_SEND], [r, MACH_MSG_TYPE_MOVE_SEND_ONCE]] as const) {
      expectCode(await send(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(name, disp)])), MACH_SEND_INVALID_RIGHT);
    }
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(client.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_INVALID_TYPE: an in-line item with the deallocate bit', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const m = message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [
      { type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: true }, data: 1 },
    ]);
    m.header.bits |= 0x80000000;
    expectCode(await send(client, m), MACH_SEND_INVALID_TYPE);
    expectCode(await receive(server, port, 0), MACH_RCV_TIMED_OUT);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_SEND_MSG_TOO_SMALL: msgh_size below a header, or not a multiple of 4', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    for (const size of [0, 24, 34]) {
      const m = message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, size === 34 ? [intItem(1)] : []);
      m.header.size = size;
      expectCode(await send(client, m), MACH_SEND_MSG_TOO_SMALL);
    }
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  // ==== receive errors ===============================================================

  it('MACH_RCV_INVALID_NAME: a name the space does not have, MACH_PORT_NULL, a send right, a dead name', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const dead = (await mach_port_allocate(client.self, MACH_PORT_RIGHT_DEAD_NAME)).name;
    for (const name of [0x5555, MACH_PORT_NULL, dest.name, dead, client.self.name]) {
      expectCode(await receive(client, name, 0), MACH_RCV_INVALID_NAME);
      expectCode(await receive(client, name), MACH_RCV_INVALID_NAME); // also without a timeout: it never waits
    }
    await mach_port_mod_refs(client.self, dead, MACH_PORT_RIGHT_DEAD_NAME, -1);
    await mach_port_mod_refs(server.self, port, MACH_PORT_RIGHT_RECEIVE, -1);
  });

  it('MACH_RCV_IN_SET: receiving on a receive right that is in a port set', async () => {
    const t = await ctx.task('t');
    const set = (await mach_port_allocate(t.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const p = await allocReceive(t);
    await mach_port_move_member(t.self, p, set);
    expectCode(await receive(t, p, 0), MACH_RCV_IN_SET);
    expectCode(await receive(t, p), MACH_RCV_IN_SET);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, p);
  });

  it('MACH_RCV_PORT_DIED: the port a receiver waits on is destroyed', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    const w1 = receive(t, p);
    const w2 = receive(t, p, 60_000);
    await expectPending(ctx, w1);
    await mach_port_destroy(t.self, p);
    expectCode(await w1, MACH_RCV_PORT_DIED);
    expectCode(await w2, MACH_RCV_PORT_DIED);
  });

  it('MACH_RCV_PORT_DIED: the port set a receiver waits on is destroyed', async () => {
    const t = await ctx.task('t');
    const set = (await mach_port_allocate(t.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const p = await allocReceive(t);
    await mach_port_move_member(t.self, p, set);
    const w = receive(t, set);
    await expectPending(ctx, w);
    await mach_port_destroy(t.self, set);
    expectCode(await w, MACH_RCV_PORT_DIED);
    // the member left the set with it and can be received from again
    await send(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 8));
    expect((await poll(t, p)).header.id).toBe(8);
    await mach_port_destroy(t.self, p);
  });

  it('MACH_RCV_PORT_CHANGED: the port a receiver waits on is moved into a port set', async () => {
    const t = await ctx.task('t');
    const set = (await mach_port_allocate(t.self, MACH_PORT_RIGHT_PORT_SET)).name;
    const p = await allocReceive(t);
    const w = receive(t, p);
    await expectPending(ctx, w);
    await mach_port_move_member(t.self, p, set);
    expectCode(await w, MACH_RCV_PORT_CHANGED);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, p);
  });

  it('a failed send leaves the receive half undone (MACH_SEND_MSG|MACH_RCV_MSG returns the send error)', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    const r = await t.mach_msg(message(0x6666, MACH_MSG_TYPE_COPY_SEND, p, MACH_MSG_TYPE_MAKE_SEND_ONCE), MACH_SEND_MSG | MACH_RCV_MSG, p, 0);
    expectCode(r, MACH_SEND_INVALID_DEST);
    expect(await ctx.space(t)).toMatchObject({ threads: 0 });
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
  });
});

/** Makes `r` a send+receive name (one send uref). */
async function sendOk2(t: MachTask, r: number): Promise<void> {
  expectCode(await send(t, message(r, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND)), 0);
  await poll(t, r);
}
