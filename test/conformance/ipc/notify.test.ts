/*
 * Notifications as real messages, served by the generated notify demux (notify_server of
 * src/gen/notify.server.ts) in a mach_msg_server loop: no-senders (make-send count, sync),
 * dead-name (and immediate), port-deleted, port-destroyed (the receive right comes back),
 * send-once (GNU Mach ipc/ipc_notify.c, ipc/ipc_port.c ipc_port_nsrequest /
 * ipc_port_destroy, ipc/ipc_right.c ipc_right_dnrequest / ipc_right_dealloc).
 */
import { expect, it } from 'vitest';
import { MIG_BAD_ID } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND,
  MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_PORT_RECEIVE,
  MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE, MACH_RCV_MSG, MACH_SEND_MSG,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE,
} from '../../../src/mach/port.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_receive_status, mach_port_get_refs,
  mach_port_mod_refs, mach_port_request_notification, mach_port_set_mscount, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, describeWorlds, expectMsg, intItem, message, notifyInbox, poll, portItem, sendOk, serverAndClient,
} from './helpers.js';

/** Registers `notify` (a receive right of `t`, MAKE_SEND_ONCE) for notification `id` about `name`. */
async function request(t: MachTask, name: number, id: number, sync: number, notify: number): Promise<void> {
  const { previous } = await mach_port_request_notification(t.self, name, id, sync, t.port(notify), MACH_MSG_TYPE_MAKE_SEND_ONCE);
  expect(previous).toBeNull();
}

async function nsrequest(t: MachTask, name: number): Promise<number> {
  return (await mach_port_get_receive_status(t.self, name)).status[8]!;
}

describeWorlds('notifications', (ctx) => {
  it('no-senders: the last send right anywhere goes; the notification carries the make-send count', async () => {
    const { server, port: boot, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    const p = await allocReceive(server);
    const s = await ctx.world.giveRight(server, p, client);
    await ctx.world.giveRight(server, p, client);
    await ctx.world.giveRight(server, p, client);
    await request(server, p, MACH_NOTIFY_NO_SENDERS, 0, inbox.port);
    await mach_port_mod_refs(client.self, s, MACH_PORT_RIGHT_SEND, -2);
    await ctx.settle();
    expect(inbox.received).toEqual([]);
    await mach_port_deallocate(client.self, s);
    expect(await inbox.next('no-senders')).toEqual({ kind: 'no_senders', port: inbox.port, mscount: 3 });
    expect(await nsrequest(server, p)).toBe(0); // a request fires once
    await mach_port_destroy(server.self, p);
    await inbox.stop();
    await mach_port_destroy(server.self, boot);
  });

  it('no-senders with sync: sent at once when there are no senders and sync <= mscount, else kept until the senders go', async () => {
    const t = await ctx.task('t');
    const inbox = await notifyInbox(t);
    const p = await allocReceive(t);
    await request(t, p, MACH_NOTIFY_NO_SENDERS, 0, inbox.port); // mscount 0, no senders, 0 <= 0: at once
    expect(await inbox.next('immediate no-senders')).toEqual({ kind: 'no_senders', port: inbox.port, mscount: 0 });
    await request(t, p, MACH_NOTIFY_NO_SENDERS, 1, inbox.port); // 1 > mscount 0: kept
    expect(await nsrequest(t, p)).toBe(1);
    await sendOk(t, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1)); // a send right made and consumed at receipt
    await poll(t, p);
    expect(await inbox.next('no-senders after a make-send')).toEqual({ kind: 'no_senders', port: inbox.port, mscount: 1 });
    await mach_port_set_mscount(t.self, p, 41);
    await request(t, p, MACH_NOTIFY_NO_SENDERS, 41, inbox.port);
    expect(await inbox.next('no-senders at sync == mscount')).toEqual({ kind: 'no_senders', port: inbox.port, mscount: 41 });
    await mach_port_destroy(t.self, p);
    await inbox.stop();
  });

  it('no-senders is not sent while the kernel holds a send right (a task\'s bootstrap special port)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    await request(server, port, MACH_NOTIFY_NO_SENDERS, 0, inbox.port);
    await mach_port_deallocate(client.self, dest.name);
    await ctx.settle();
    expect(inbox.received).toEqual([]);
    client.terminate(); // the task's special ports are released with it
    expect((await inbox.next('no-senders')).kind).toBe('no_senders');
    await mach_port_destroy(server.self, port);
    await inbox.stop();
  });

  // GNU Mach: the parent makes the send right it sets as the child's bootstrap port
  // (task_set_special_port, one make-send); the child gets its name for it from
  // task_get_special_port, which copies the kernel's right (kern/ipc_tt.c:
  // ipc_port_copy_send(task->itk_bootstrap)). Making a second send right there would put
  // mscount — and every no-senders notification's make-send count — one too high.
  it('a task started with a bootstrap port counts one make-send on it, not two', async () => {
    const { server, port } = await serverAndClient(ctx);
    try {
      expect((await mach_port_get_receive_status(server.self, port)).status[2]).toBe(1);
    } finally {
      await mach_port_destroy(server.self, port);
    }
  });

  it('dead-name: the port dies; the holder learns its name, and the name gets one more uref', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inbox = await notifyInbox(client);
    await request(client, dest.name, MACH_NOTIFY_DEAD_NAME, 0, inbox.port);
    await mach_port_destroy(server.self, port);
    expect(await inbox.next('dead-name')).toEqual({ kind: 'dead_name', port: inbox.port, name: dest.name });
    expect((await mach_port_type(client.self, dest.name)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(2);
    await mach_port_deallocate(client.self, dest.name); // the notification's uref; the bootstrap's stays
    await inbox.stop();
  });

  it('dead-name immediate: a request on a name already dead, with sync != 0, is answered at once (KERN_SUCCESS)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inbox = await notifyInbox(client);
    await mach_port_destroy(server.self, port);
    await request(client, dest.name, MACH_NOTIFY_DEAD_NAME, 1, inbox.port);
    expect(await inbox.next('immediate dead-name')).toEqual({ kind: 'dead_name', port: inbox.port, name: dest.name });
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(2);
    await mach_port_deallocate(client.self, dest.name);
    await inbox.stop();
  });

  it('dead-name on a send-once right: the send-once right\'s port dies', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(client);
    const p = await allocReceive(server);
    const so = await ctx.world.giveRight(server, p, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await request(client, so, MACH_NOTIFY_DEAD_NAME, 0, inbox.port);
    await mach_port_mod_refs(server.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
    expect(await inbox.next('dead-name')).toEqual({ kind: 'dead_name', port: inbox.port, name: so });
    expect((await mach_port_get_refs(client.self, so, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(2);
    await mach_port_mod_refs(client.self, so, MACH_PORT_RIGHT_DEAD_NAME, -2);
    await inbox.stop();
    await mach_port_destroy(server.self, port);
  });

  it('port-deleted: a right with a dead-name request is deallocated (or moved away) while its port lives', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(client);
    const p = await allocReceive(server);
    const s = await ctx.world.giveRight(server, p, client);
    await request(client, s, MACH_NOTIFY_DEAD_NAME, 0, inbox.port);
    await mach_port_deallocate(client.self, s);
    expect(await inbox.next('port-deleted')).toEqual({ kind: 'port_deleted', port: inbox.port, name: s });
    // moved away in a message: the same
    const s2 = await ctx.world.giveRight(server, p, client);
    await request(client, s2, MACH_NOTIFY_DEAD_NAME, 0, inbox.port);
    await sendOk(client, message(s2, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 5));
    expect(await inbox.next('port-deleted after MOVE_SEND')).toEqual({ kind: 'port_deleted', port: inbox.port, name: s2 });
    expect((await poll(server, p)).header.id).toBe(5);
    await mach_port_destroy(server.self, p);
    await inbox.stop();
    await mach_port_destroy(server.self, port);
  });

  it('port-destroyed: the receive right comes back in the notification, with its queued messages; senders see a live port', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const backup = await ctx.task('backup');
    const inbox = await notifyInbox(backup);
    const so = await ctx.world.giveRight(backup, inbox.port, server, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const { previous } = await mach_port_request_notification(server.self, port, MACH_NOTIFY_PORT_DESTROYED, 0, server.port(so), 18 /* MOVE_SEND_ONCE */);
    expect(previous).toBeNull();
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    await mach_port_destroy(server.self, port);
    const n = await inbox.next('port-destroyed');
    expect(n.kind).toBe('port_destroyed');
    const rights = (n as { rights: number }).rights;
    expect((await mach_port_type(backup.self, rights)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    // the port lived on: the client's right works, the queued message is there
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    expect((await poll(backup, rights)).header.id).toBe(1);
    expect((await poll(backup, rights)).header.id).toBe(2);
    expect((await mach_port_get_receive_status(backup.self, rights)).status[7]).toBe(0); // the request was used up
    await mach_port_destroy(backup.self, rights);
    await inbox.stop();
  });

  it('send-once: a send-once right destroyed unused tells its port (served by mach_notify_send_once)', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    const so = await ctx.world.giveRight(server, inbox.port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await mach_port_deallocate(client.self, so);
    expect(await inbox.next('send-once')).toEqual({ kind: 'send_once', port: inbox.port });
    // and one in a message that is destroyed unreceived (its port dies with it queued)
    const p = await allocReceive(server);
    await sendOk(server, message(p, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1, [portItem(inbox.port, MACH_MSG_TYPE_MAKE_SEND_ONCE)]));
    await mach_port_destroy(server.self, p);
    expect(await inbox.next('send-once from a destroyed message')).toEqual({ kind: 'send_once', port: inbox.port });
    await inbox.stop();
    await mach_port_destroy(server.self, port);
  });

  it('notification messages are GNU Mach\'s: ids, header bits, one typed item each', async () => {
    const t = await ctx.task('t');
    const n = await allocReceive(t);
    const p = await allocReceive(t);
    await request(t, p, MACH_NOTIFY_NO_SENDERS, 0, n);
    let m = await poll(t, n);
    expect([m.header.id, m.header.bits, m.header.localPort]).toEqual([MACH_NOTIFY_NO_SENDERS, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE), n]);
    expect(m.body).toEqual([{ type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: 0 }]);
    const dead = (await mach_port_allocate(t.self, MACH_PORT_RIGHT_DEAD_NAME)).name;
    await request(t, dead, MACH_NOTIFY_DEAD_NAME, 1, n);
    m = await poll(t, n);
    expect([m.header.id, m.header.bits]).toEqual([MACH_NOTIFY_DEAD_NAME, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE)]);
    expect(m.body).toEqual([{ type: { name: MACH_MSG_TYPE_PORT_NAME, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: dead }]);
    await mach_port_mod_refs(t.self, dead, MACH_PORT_RIGHT_DEAD_NAME, -2);
    await request(t, p, MACH_NOTIFY_PORT_DESTROYED, 0, n);
    await mach_port_mod_refs(t.self, p, MACH_PORT_RIGHT_RECEIVE, -1);
    m = await poll(t, n);
    expect([m.header.id, m.header.bits >>> 0]).toEqual([MACH_NOTIFY_PORT_DESTROYED, (MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE)) >>> 0]);
    expect(m.body[0]!.type).toEqual({ name: MACH_MSG_TYPE_PORT_RECEIVE, size: 32, number: 1, inline: true, longform: false, deallocate: false });
    const back = m.body[0]!.data as number; // the receive right is back, under a new name
    expect((await mach_port_type(t.self, back)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    await request(t, back, MACH_NOTIFY_NO_SENDERS, 1, n);
    await mach_port_destroy(t.self, back); // the pending no-senders request's send-once right dies: send-once notification
    m = await poll(t, n);
    expect([m.header.id, m.header.bits, m.body]).toEqual([MACH_NOTIFY_SEND_ONCE, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE), []]);
    await mach_port_destroy(t.self, n);
  });

  it('the notify demux answers MIG_BAD_ID for ids it does not serve (retired 67, 68; 64)', async () => {
    const t = await ctx.task('t');
    const inbox = await notifyInbox(t);
    const r = await allocReceive(t);
    for (const id of [64, 67, 68]) {
      const reply = expectMsg(await t.mach_msg(message(inbox.port, MACH_MSG_TYPE_MAKE_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, id, [intItem(0)]), MACH_SEND_MSG | MACH_RCV_MSG, r, 0));
      expect([reply.header.id, reply.body[0]!.data]).toEqual([id + 100, MIG_BAD_ID]);
    }
    expect(inbox.received).toEqual([]);
    await mach_port_destroy(t.self, r);
    await inbox.stop();
  });

  it('a notification to a dead notify port is dropped without a trace', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const n = await allocReceive(client);
    await request(client, dest.name, MACH_NOTIFY_DEAD_NAME, 0, n);
    await mach_port_destroy(client.self, n); // the request's send-once right now names a dead port
    await mach_port_destroy(server.self, port);
    await ctx.settle();
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(2);
    await mach_port_deallocate(client.self, dest.name);
  });
});
