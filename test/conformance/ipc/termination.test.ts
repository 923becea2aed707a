/*
 * Task termination: the space is destroyed, every right released, and the notifications
 * that follow flow as in GNU Mach (kern/task.c task_terminate → ipc_space_destroy,
 * ipc/ipc_right.c ipc_right_clean, ipc/ipc_port.c ipc_port_destroy); clients blocked on a
 * dead server get MIG_SERVER_DIED, then MACH_SEND_INVALID_DEST.
 */
import { expect, it } from 'vitest';
import { MACH_SEND_INVALID_DEST, MIG_SERVER_DIED } from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_NOTIFY_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DESTROYED,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_SEND, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE,
} from '../../../src/mach/port.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_get_receive_status, mach_port_get_refs,
  mach_port_move_member, mach_port_request_notification, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import { task_get_special_port, task_terminate } from '../../../src/gen/mach.user.js';
import {
  allocReceive, describeWorlds, expectMachError, expectMsg, ipctest, message, notifyInbox, poll, portItem, receive, sendOk,
  serve, serverAndClient, within, inFlight } from './helpers.js';

describeWorlds('task termination', (ctx) => {
  it('a server ends: its receive rights die, its clients hold dead names, registered clients get dead-name notifications', async () => {
    const { server, client, send: dest } = await serverAndClient(ctx);
    const other = await ctx.task('other');
    const inbox = await notifyInbox(client);
    const p2 = await allocReceive(server);
    const s2 = await ctx.world.giveRight(server, p2, other);
    await mach_port_request_notification(client.self, dest.name, MACH_NOTIFY_DEAD_NAME, 0, client.port(inbox.port), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const before = await ctx.world.stats();
    server.terminate();
    await ctx.settle();
    expect(await inbox.next('dead-name')).toEqual({ kind: 'dead_name', port: inbox.port, name: dest.name });
    expect((await mach_port_type(other.self, s2)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect((await mach_port_type(client.self, dest.name)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    // the server's two ports, its reply port(s) and its task port are gone from the kernel
    expect((await ctx.world.stats()).ports).toBe(before.ports - 3 - server.cachedReplyPorts);
    await mach_port_deallocate(other.self, s2);
    await mach_port_deallocate(client.self, dest.name); // the notification's uref
    await inbox.stop();
  });

  it('a client ends holding the last send right: the server gets no-senders', async () => {
    const { server, port: boot, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    const p = await allocReceive(server);
    await ctx.world.giveRight(server, p, client);
    await mach_port_request_notification(server.self, p, MACH_NOTIFY_NO_SENDERS, 0, server.port(inbox.port), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    client.terminate();
    expect(await inbox.next('no-senders')).toEqual({ kind: 'no_senders', port: inbox.port, mscount: 1 });
    await mach_port_destroy(server.self, p);
    await mach_port_destroy(server.self, boot);
    await inbox.stop();
  });

  it('a task ends holding a send-once right: its port gets a send-once notification', async () => {
    const { server, port: boot, client } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    await ctx.world.giveRight(server, inbox.port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    client.terminate();
    expect(await inbox.next('send-once')).toEqual({ kind: 'send_once', port: inbox.port });
    await mach_port_destroy(server.self, boot);
    await inbox.stop();
  });

  it('a task ends holding a receive right with a port-destroyed request: the right goes to the requester with its messages', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const backup = await ctx.task('backup');
    const inbox = await notifyInbox(backup);
    const so = await ctx.world.giveRight(backup, inbox.port, server, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await mach_port_request_notification(server.self, port, MACH_NOTIFY_PORT_DESTROYED, 0, server.port(so), MACH_MSG_TYPE_MOVE_SEND_ONCE);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 77));
    server.terminate();
    const n = await inbox.next('port-destroyed');
    const rights = (n as { rights: number }).rights;
    expect((await mach_port_type(backup.self, rights)).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect((await poll(backup, rights)).header.id).toBe(77);
    // the client's right still reaches it
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 78));
    expect((await poll(backup, rights)).header.id).toBe(78);
    await mach_port_destroy(backup.self, rights);
    await inbox.stop();
  });

  it('messages queued on a dying task\'s ports are destroyed with the rights they carry (send-once notification for a reply right)', async () => {
    const { server, client, send: dest } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    const q = await allocReceive(client);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1, [portItem(q, MACH_MSG_TYPE_MAKE_SEND)]));
    server.terminate();
    await ctx.settle();
    const m = await poll(client, r);
    expect(m.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    const s = (await mach_port_get_receive_status(client.self, q)).status;
    expect({ mscount: s[2], srights: s[6] }).toEqual({ mscount: 1, srights: 0 });
    await mach_port_destroy(client.self, r);
    await mach_port_destroy(client.self, q);
  });

  it('a client waiting for a reply when its server ends gets MIG_SERVER_DIED, then MACH_SEND_INVALID_DEST', async () => {
    const mig = await ipctest();
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const call = inFlight(mig.ipctest_null(dest, 1));
    expect(expectMsg(await receive(server, port)).header.id).toBe(7400); // the server holds the reply right now
    server.terminate();
    await expectMachError(within(call, 'the RPC to fail'), MIG_SERVER_DIED);
    await expectMachError(mig.ipctest_null(dest, 2), MACH_SEND_INVALID_DEST);
  });

  it('clients blocked at the queue limit of a server that ends: their RPCs end with MIG_SERVER_DIED', async () => {
    const mig = await ipctest();
    const { server, client, send: dest } = await serverAndClient(ctx);
    for (let i = 0; i < 5; i++) await mig.ipctest_oneway(dest, i);
    const calls = [mig.ipctest_null(dest, 1), mig.ipctest_null(dest, 2)];
    await ctx.settle();
    expect(await ctx.space(client)).toMatchObject({ threads: 2 });
    server.terminate();
    for (const c of calls) await expectMachError(within(c, 'a blocked RPC to fail'), MIG_SERVER_DIED);
  });

  it('a server loop over a port set ends with its task; its clients see MIG_SERVER_DIED for requests in service', async () => {
    const mig = await ipctest();
    const { server, port, send: dest } = await serverAndClient(ctx);
    const set = (await mach_port_allocate(server.self, MACH_PORT_RIGHT_PORT_SET)).name;
    await mach_port_move_member(server.self, port, set);
    let started!: () => void;
    const inService = new Promise<void>((r) => { started = r; });
    const loop = serve(server, [mig.ipctest_server({ ipctest_null: () => { started(); return new Promise(() => undefined); } })], set);
    const call = inFlight(mig.ipctest_null(dest, 3));
    await within(inService, 'the request in service');
    server.terminate();
    await expectMachError(within(call, 'the RPC to fail'), MIG_SERVER_DIED);
    const end = await Promise.race([loop.done, new Promise<string>((r) => setTimeout(() => r('running'), 2000))]);
    expect(end).not.toBe('running');
  });

  it('task_terminate through the task port: the same as the task ending by itself; its connection closes', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const inbox = await notifyInbox(server);
    await mach_port_request_notification(server.self, port, MACH_NOTIFY_NO_SENDERS, 0, server.port(inbox.port), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await mach_port_deallocate(client.self, dest.name);
    const tp = await ctx.world.taskPort(client, server);
    await task_terminate(tp);
    expect(await within(client.transport.closed, 'the client connection to close')).toEqual(expect.any(String));
    expect((await inbox.next('no-senders')).kind).toBe('no_senders');
    // the task port is dead now
    expect((await mach_port_type(server.self, tp.name)).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect((await mach_port_get_refs(server.self, tp.name, MACH_PORT_RIGHT_DEAD_NAME)).refs).toBe(1);
    await mach_port_deallocate(server.self, tp.name);
    await mach_port_destroy(server.self, port);
    await inbox.stop();
  });

  it('a waiting receive of a task that ends does not stay pending', async () => {
    const t = await ctx.task('t');
    const p = await allocReceive(t);
    const w = Promise.resolve(receive(t, p)).then((r) => r, () => 'rejected');
    t.terminate();
    expect(await within(w, 'the receive to end')).not.toBe(undefined);
  });

  it('task_get_special_port(TASK_BOOTSTRAP_PORT) gives a copy of the bootstrap right (the same name, one more uref)', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const before = (await mach_port_get_receive_status(server.self, port)).status[2];
    const { special_port } = await task_get_special_port(client.self, 4 /* TASK_BOOTSTRAP_PORT */);
    expect(special_port!.name).toBe(dest.name);
    expect((await mach_port_get_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND)).refs).toBe(2);
    expect((await mach_port_get_receive_status(server.self, port)).status[2]).toBe(before); // a copy: no make-send
    await mach_port_deallocate(client.self, dest.name);
    await mach_port_destroy(server.self, port);
  });
});
