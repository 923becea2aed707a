/*
 * Every call of defs/mach_port.defs, through the generated user stubs, with GNU Mach's
 * results and error codes (GNU Mach ipc/mach_port.c, ipc/ipc_right.c, ipc/ipc_object.c,
 * kern/ipc_kobject.c for what happens to the rights of a failed request).
 */
import { expect, it } from 'vitest';
import {
  KERN_INVALID_ARGUMENT, KERN_INVALID_CAPABILITY, KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_TASK,
  KERN_INVALID_VALUE, KERN_NAME_EXISTS, KERN_NOT_IN_SET, KERN_RIGHT_EXISTS, KERN_UREFS_OVERFLOW, MACH_RCV_TIMED_OUT,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE,
  MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND,
  MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PROTECTED_PAYLOAD, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_NUMBER, MACH_PORT_RIGHT_PORT_SET,
  MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND, MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_TYPE_DEAD_NAME,
  MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND,
  MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_RECEIVE, MACH_PORT_UREFS_MAX,
} from '../../../src/mach/port.js';
import type { MachPort } from '../../../src/mach/mig.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_allocate_name, mach_port_clear_protected_payload, mach_port_deallocate, mach_port_destroy,
  mach_port_extract_right, mach_port_get_receive_status, mach_port_get_refs, mach_port_get_set_status,
  mach_port_insert_right, mach_port_mod_refs, mach_port_move_member, mach_port_names, mach_port_rename,
  mach_port_request_notification, mach_port_set_mscount, mach_port_set_protected_payload, mach_port_set_qlimit,
  mach_port_set_seqno, mach_port_type,
} from '../../../src/gen/mach_port.user.js';
import {
  allocReceive, describeWorlds, expectCode, expectMachError, message, poll, receive, sendOk, serverAndClient,
} from './helpers.js';

const alloc = async (t: MachTask, right: number): Promise<number> => (await mach_port_allocate(t.self, right)).name;
const typeOf = async (t: MachTask, name: number): Promise<number> => (await mach_port_type(t.self, name)).ptype;
const refs = async (t: MachTask, name: number, right: number): Promise<number> => (await mach_port_get_refs(t.self, name, right)).refs;

/** mach_port_get_receive_status as named fields. */
async function receiveStatus(t: MachTask, name: number): Promise<Record<string, number>> {
  const s = (await mach_port_get_receive_status(t.self, name)).status;
  const [pset, seqno, mscount, qlimit, msgcount, sorights, srights, pdrequest, nsrequest] = s as [number, number, number, number, number, number, number, number, number];
  return { pset, seqno, mscount, qlimit, msgcount, sorights, srights, pdrequest, nsrequest };
}

/** A send right (MAKE_SEND) of a receive right, under the same name. */
async function makeSend(t: MachTask, name: number): Promise<void> {
  await mach_port_insert_right(t.self, name, t.port(name), MACH_MSG_TYPE_MAKE_SEND);
}

/** A send-once right made from a receive right, under a new name. */
async function makeSendOnce(t: MachTask, name: number): Promise<number> {
  const { poly } = await mach_port_extract_right(t.self, name, MACH_MSG_TYPE_MAKE_SEND_ONCE);
  return (poly as MachPort).name;
}

describeWorlds('mach_port calls', (ctx) => {
  it('mach_port_names and mach_port_type: the type of every kind of name (dead-name request bit included)', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const sr = await allocReceive(t);
    await makeSend(t, sr);
    const so = await makeSendOnce(t, r);
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    const { names, types } = await mach_port_names(t.self);
    const typeOfName = (n: number): number | undefined => types[names.indexOf(n)];
    expect([r, sr, so, set, dead].map(typeOfName)).toEqual([
      MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND_RECEIVE, MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_DEAD_NAME,
    ]);
    expect(typeOfName(t.self.name)).toBe(MACH_PORT_TYPE_SEND);
    expect(await typeOf(t, so)).toBe(MACH_PORT_TYPE_SEND_ONCE);
    // a dead-name request shows as MACH_PORT_TYPE_DNREQUEST
    const n = await makeSendOnce(t, r);
    await mach_port_request_notification(t.self, so, MACH_NOTIFY_DEAD_NAME, 0, t.port(n), MACH_MSG_TYPE_MOVE_SEND_ONCE);
    expect(await typeOf(t, so)).toBe((MACH_PORT_TYPE_SEND_ONCE | MACH_PORT_TYPE_DNREQUEST) >>> 0);
    await expectMachError(mach_port_type(t.self, 0x7ff00), KERN_INVALID_NAME);
    await mach_port_deallocate(t.self, so); // port-deleted notification and send-once notification go to r
    for (const x of [r, sr, set]) await mach_port_destroy(t.self, x);
    await mach_port_deallocate(t.self, dead);
  });

  it('mach_port_rename: the rights and the queued messages follow the new name; KERN_NAME_EXISTS, KERN_INVALID_NAME, KERN_INVALID_VALUE', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const other = await allocReceive(t);
    await sendOk(t, message(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    await mach_port_rename(t.self, r, 0x5000);
    await expectMachError(mach_port_type(t.self, r), KERN_INVALID_NAME);
    const m = await poll(t, 0x5000);
    expect(m.header.localPort).toBe(0x5000);
    await expectMachError(mach_port_rename(t.self, 0x5000, other), KERN_NAME_EXISTS);
    await expectMachError(mach_port_rename(t.self, 0x9999, 0x9998), KERN_INVALID_NAME);
    await expectMachError(mach_port_rename(t.self, 0x5000, MACH_PORT_NULL), KERN_INVALID_VALUE);
    await expectMachError(mach_port_rename(t.self, 0x5000, MACH_PORT_DEAD), KERN_INVALID_VALUE);
    await mach_port_destroy(t.self, 0x5000);
    await mach_port_destroy(t.self, other);
  });

  it('mach_port_allocate: receive rights (qlimit 5, mscount 0, seqno 0), port sets, dead names (1 uref); KERN_INVALID_VALUE for other rights', async () => {
    const t = await ctx.task('t');
    const r = await alloc(t, MACH_PORT_RIGHT_RECEIVE);
    expect(await receiveStatus(t, r)).toEqual({ pset: 0, seqno: 0, mscount: 0, qlimit: 5, msgcount: 0, sorights: 0, srights: 0, pdrequest: 0, nsrequest: 0 });
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    expect(await typeOf(t, set)).toBe(MACH_PORT_TYPE_PORT_SET);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    expect(await refs(t, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(1);
    for (const right of [MACH_PORT_RIGHT_SEND, MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_RIGHT_NUMBER, 99]) {
      await expectMachError(mach_port_allocate(t.self, right), KERN_INVALID_VALUE);
    }
    await mach_port_destroy(t.self, r);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, dead);
  });

  it('mach_port_allocate_name: the right under the caller\'s name; KERN_NAME_EXISTS, KERN_INVALID_VALUE (MACH_PORT_NULL, MACH_PORT_DEAD, bad right)', async () => {
    const t = await ctx.task('t');
    await mach_port_allocate_name(t.self, MACH_PORT_RIGHT_RECEIVE, 0x1234);
    await mach_port_allocate_name(t.self, MACH_PORT_RIGHT_PORT_SET, 0x1235);
    await mach_port_allocate_name(t.self, MACH_PORT_RIGHT_DEAD_NAME, 0x1236);
    expect([await typeOf(t, 0x1234), await typeOf(t, 0x1235), await typeOf(t, 0x1236)])
      .toEqual([MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_DEAD_NAME]);
    await sendOk(t, message(0x1234, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 3));
    expect((await poll(t, 0x1234)).header.localPort).toBe(0x1234);
    await expectMachError(mach_port_allocate_name(t.self, MACH_PORT_RIGHT_RECEIVE, 0x1235), KERN_NAME_EXISTS);
    await expectMachError(mach_port_allocate_name(t.self, MACH_PORT_RIGHT_RECEIVE, t.self.name), KERN_NAME_EXISTS);
    await expectMachError(mach_port_allocate_name(t.self, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_NULL), KERN_INVALID_VALUE);
    await expectMachError(mach_port_allocate_name(t.self, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_DEAD), KERN_INVALID_VALUE);
    await expectMachError(mach_port_allocate_name(t.self, MACH_PORT_RIGHT_SEND, 0x1237), KERN_INVALID_VALUE);
    for (const n of [0x1234, 0x1235, 0x1236]) await mach_port_destroy(t.self, n);
  });

  it('mach_port_deallocate: one uref of a send right, a send-once right (send-once notification), a dead name; KERN_INVALID_RIGHT for receive and port-set rights, KERN_INVALID_NAME', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await makeSend(t, r);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 1);
    await mach_port_deallocate(t.self, r);
    expect(await refs(t, r, MACH_PORT_RIGHT_SEND)).toBe(1);
    await mach_port_deallocate(t.self, r);
    expect(await typeOf(t, r)).toBe(MACH_PORT_TYPE_RECEIVE);
    await expectMachError(mach_port_deallocate(t.self, r), KERN_INVALID_RIGHT);
    const so = await makeSendOnce(t, r);
    await mach_port_deallocate(t.self, so);
    const n = await poll(t, r);
    expect([n.header.id, n.header.bits]).toEqual([MACH_NOTIFY_SEND_ONCE, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE)]);
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    await expectMachError(mach_port_deallocate(t.self, set), KERN_INVALID_RIGHT);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    await mach_port_deallocate(t.self, dead);
    await expectMachError(mach_port_deallocate(t.self, dead), KERN_INVALID_NAME);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, r);
  });

  it('mach_port_destroy: a receive right leaves other tasks with dead names; a send right goes with all its urefs; a port set leaves its members', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 3);
    const set = await alloc(server, MACH_PORT_RIGHT_PORT_SET);
    await mach_port_move_member(server.self, port, set);
    await mach_port_destroy(server.self, set);
    expect((await receiveStatus(server, port)).pset).toBe(0);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    expect((await poll(server, port)).header.id).toBe(1);
    const s2 = await ctx.world.giveRight(server, port, client);
    expect(s2).toBe(dest.name); // a second send right joins the name the client has
    await mach_port_destroy(client.self, dest.name);
    await expectMachError(mach_port_type(client.self, dest.name), KERN_INVALID_NAME);
    expect((await receiveStatus(server, port)).srights).toBe(1); // the kernel's bootstrap special port
    await ctx.world.giveRight(server, port, client);
    await mach_port_destroy(server.self, port);
    expect(await ctx.space(client)).toMatchObject({ deadName: 1 });
    await expectMachError(mach_port_destroy(server.self, port), KERN_INVALID_NAME);
  });

  it('mach_port_get_refs: urefs per right, 0 for a right the name does not hold; KERN_INVALID_VALUE (right number), KERN_INVALID_NAME', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await makeSend(t, r);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 6);
    expect(await refs(t, r, MACH_PORT_RIGHT_SEND)).toBe(7);
    expect(await refs(t, r, MACH_PORT_RIGHT_RECEIVE)).toBe(1);
    expect(await refs(t, r, MACH_PORT_RIGHT_SEND_ONCE)).toBe(0);
    expect(await refs(t, r, MACH_PORT_RIGHT_PORT_SET)).toBe(0);
    expect(await refs(t, r, MACH_PORT_RIGHT_DEAD_NAME)).toBe(0);
    const so = await makeSendOnce(t, r);
    expect(await refs(t, so, MACH_PORT_RIGHT_SEND_ONCE)).toBe(1);
    await expectMachError(mach_port_get_refs(t.self, r, MACH_PORT_RIGHT_NUMBER), KERN_INVALID_VALUE);
    await expectMachError(mach_port_get_refs(t.self, 0x77700, MACH_PORT_RIGHT_SEND), KERN_INVALID_NAME);
    await mach_port_deallocate(t.self, so);
    await mach_port_destroy(t.self, r);
  });

  it('mach_port_mod_refs: adds and removes urefs; KERN_INVALID_VALUE (receive +1 or -2, below zero, right number), KERN_INVALID_RIGHT (a right the name lacks)', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_RECEIVE, 1), KERN_INVALID_VALUE);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_RECEIVE, -2), KERN_INVALID_VALUE);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_RECEIVE, 0);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 1), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 0), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_DEAD_NAME, 1), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_NUMBER, 1), KERN_INVALID_VALUE);
    await makeSend(t, r);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 4);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, -6), KERN_INVALID_VALUE);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, -5);
    expect(await typeOf(t, r)).toBe(MACH_PORT_TYPE_RECEIVE);
    const so = await makeSendOnce(t, r);
    await expectMachError(mach_port_mod_refs(t.self, so, MACH_PORT_RIGHT_SEND_ONCE, 1), KERN_INVALID_VALUE);
    await mach_port_mod_refs(t.self, so, MACH_PORT_RIGHT_SEND_ONCE, -1);
    expect((await poll(t, r)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    await expectMachError(mach_port_mod_refs(t.self, set, MACH_PORT_RIGHT_PORT_SET, -2), KERN_INVALID_VALUE);
    await mach_port_mod_refs(t.self, set, MACH_PORT_RIGHT_PORT_SET, -1);
    await expectMachError(mach_port_type(t.self, set), KERN_INVALID_NAME);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    await expectMachError(mach_port_type(t.self, r), KERN_INVALID_NAME);
  });

  it('mach_port_mod_refs(RECEIVE, -1) on a name that also holds send rights: the port dies first, the send urefs remain as a dead name', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await makeSend(t, r);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 2);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_RECEIVE, -1);
    expect(await typeOf(t, r)).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(await refs(t, r, MACH_PORT_RIGHT_DEAD_NAME)).toBe(3);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_DEAD_NAME, -3);
  });

  it(`mach_port_mod_refs: KERN_UREFS_OVERFLOW past ${MACH_PORT_UREFS_MAX - 1} send urefs and ${MACH_PORT_UREFS_MAX} dead-name urefs`, async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await makeSend(t, r);
    await mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX - 2);
    expect(await refs(t, r, MACH_PORT_RIGHT_SEND)).toBe(MACH_PORT_UREFS_MAX - 1);
    await expectMachError(mach_port_mod_refs(t.self, r, MACH_PORT_RIGHT_SEND, 1), KERN_UREFS_OVERFLOW);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    await mach_port_mod_refs(t.self, dead, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_UREFS_MAX - 1);
    await expectMachError(mach_port_mod_refs(t.self, dead, MACH_PORT_RIGHT_DEAD_NAME, 1), KERN_UREFS_OVERFLOW);
    await expectMachError(mach_port_mod_refs(t.self, dead, MACH_PORT_RIGHT_DEAD_NAME, -MACH_PORT_UREFS_MAX - 1), KERN_INVALID_VALUE);
    await mach_port_mod_refs(t.self, dead, MACH_PORT_RIGHT_DEAD_NAME, -MACH_PORT_UREFS_MAX);
    await mach_port_destroy(t.self, r);
  });

  it('mach_port_mod_refs on a send right whose port died: KERN_INVALID_RIGHT for SEND, the urefs are a dead name\'s now', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, 2);
    await mach_port_destroy(server.self, port);
    await expectMachError(mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_SEND, -1), KERN_INVALID_RIGHT);
    expect(await typeOf(client, dest.name)).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(await refs(client, dest.name, MACH_PORT_RIGHT_DEAD_NAME)).toBe(3);
    await mach_port_mod_refs(client.self, dest.name, MACH_PORT_RIGHT_DEAD_NAME, -2);
  });

  it('mach_port_insert_right: MAKE_SEND, MAKE_SEND_ONCE and MOVE_RECEIVE under a chosen name; more urefs for the same send right', async () => {
    const { server, port: boot, client } = await serverAndClient(ctx);
    const port = await allocReceive(server); // a port the client has no right to yet
    const target = await ctx.world.taskPort(client, server);
    await mach_port_insert_right(target, 0x6100, server.port(port), MACH_MSG_TYPE_MAKE_SEND);
    await mach_port_insert_right(target, 0x6100, server.port(port), MACH_MSG_TYPE_MAKE_SEND);
    expect([await typeOf(client, 0x6100), await refs(client, 0x6100, MACH_PORT_RIGHT_SEND)]).toEqual([MACH_PORT_TYPE_SEND, 2]);
    await mach_port_insert_right(target, 0x6200, server.port(port), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(await typeOf(client, 0x6200)).toBe(MACH_PORT_TYPE_SEND_ONCE);
    const r = await allocReceive(server);
    await sendOk(server, message(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 5));
    await mach_port_insert_right(target, 0x6300, server.port(r), MACH_MSG_TYPE_MOVE_RECEIVE);
    await expectMachError(mach_port_type(server.self, r), KERN_INVALID_NAME);
    expect((await poll(client, 0x6300)).header.id).toBe(5);
    expect((await receiveStatus(server, port)).mscount).toBe(2);
    await mach_port_deallocate(server.self, target.name);
    await mach_port_mod_refs(client.self, 0x6100, MACH_PORT_RIGHT_SEND, -2);
    await sendOk(client, message(0x6200, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 6));
    expect((await poll(server, port)).header.id).toBe(6);
    await mach_port_destroy(client.self, 0x6300);
    await mach_port_destroy(server.self, port);
    await mach_port_destroy(server.self, boot);
  });

  it('mach_port_insert_right errors: KERN_RIGHT_EXISTS, KERN_NAME_EXISTS, KERN_INVALID_VALUE, KERN_INVALID_CAPABILITY; a right sent with a failed request is destroyed', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    const target = await ctx.world.taskPort(client, server);
    // the client already has a send right for port under another name
    await expectMachError(mach_port_insert_right(target, 0x6400, server.port(port), MACH_MSG_TYPE_MAKE_SEND), KERN_RIGHT_EXISTS);
    await expectMachError(mach_port_insert_right(target, client.self.name, server.port(port), MACH_MSG_TYPE_MAKE_SEND_ONCE), KERN_NAME_EXISTS);
    await expectMachError(mach_port_insert_right(target, MACH_PORT_NULL, server.port(port), MACH_MSG_TYPE_MAKE_SEND_ONCE), KERN_INVALID_VALUE);
    await expectMachError(mach_port_insert_right(target, 0x6400, null, MACH_MSG_TYPE_MOVE_SEND), KERN_INVALID_CAPABILITY);
    // the send-once rights made for the failed calls were destroyed: send-once notifications
    for (let i = 0; i < 2; i++) expect((await poll(server, port)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expect((await receiveStatus(server, port)).sorights).toBe(0);
    // a receive right sent with a failed request dies with it
    const r = await allocReceive(server);
    const watcher = await ctx.task('watcher');
    const s = await ctx.world.giveRight(server, r, watcher);
    await expectMachError(mach_port_insert_right(target, dest.name, server.port(r), MACH_MSG_TYPE_MOVE_RECEIVE), KERN_NAME_EXISTS);
    expect(await typeOf(watcher, s)).toBe(MACH_PORT_TYPE_DEAD_NAME);
    await mach_port_deallocate(watcher.self, s);
    await mach_port_deallocate(server.self, target.name);
    await mach_port_destroy(server.self, port);
  });

  it('mach_port_extract_right: each of the six dispositions, from another task\'s space through its task port', async () => {
    const { server, port, client } = await serverAndClient(ctx);
    const r = await allocReceive(client);
    await makeSend(client, r);
    const so = await makeSendOnce(client, r);
    const target = await ctx.world.taskPort(client, server);
    const got: Array<[number, number]> = [];
    for (const [name, disp] of [[r, MACH_MSG_TYPE_MAKE_SEND], [r, MACH_MSG_TYPE_COPY_SEND], [r, MACH_MSG_TYPE_MOVE_SEND],
      [r, MACH_MSG_TYPE_MAKE_SEND_ONCE], [so, MACH_MSG_TYPE_MOVE_SEND_ONCE], [r, MACH_MSG_TYPE_MOVE_RECEIVE]] as const) {
      const { poly, polyPoly } = await mach_port_extract_right(target, name, disp);
      got.push([polyPoly, (poly as MachPort).name]);
    }
    expect(got.map(([t]) => t)).toEqual([MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND,
      MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_RECEIVE]);
    const [s1, s2, s3, so1, so2, recv] = got.map(([, n]) => n) as [number, number, number, number, number, number];
    expect(new Set([s1, s2, s3, recv]).size).toBe(1); // send rights and the receive right share one name
    expect(so1).not.toBe(so2);
    expect(await typeOf(server, recv)).toBe(MACH_PORT_TYPE_SEND_RECEIVE);
    expect(await refs(server, recv, MACH_PORT_RIGHT_SEND)).toBe(3);
    await expectMachError(mach_port_type(client.self, so), KERN_INVALID_NAME);
    await expectMachError(mach_port_type(client.self, r), KERN_INVALID_NAME); // its last send uref and its receive right left
    await mach_port_deallocate(server.self, so1);
    await mach_port_deallocate(server.self, so2);
    await mach_port_deallocate(server.self, target.name);
    await mach_port_destroy(server.self, recv);
    await mach_port_destroy(server.self, port);
  });

  it('mach_port_extract_right errors: KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_VALUE; a dead name extracts as MACH_PORT_DEAD', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    await expectMachError(mach_port_extract_right(t.self, 0x7700, MACH_MSG_TYPE_COPY_SEND), KERN_INVALID_NAME);
    await expectMachError(mach_port_extract_right(t.self, r, MACH_MSG_TYPE_COPY_SEND), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_extract_right(t.self, t.self.name, MACH_MSG_TYPE_MAKE_SEND), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_extract_right(t.self, t.self.name, MACH_MSG_TYPE_MOVE_SEND_ONCE), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_extract_right(t.self, r, 2), KERN_INVALID_VALUE);
    await expectMachError(mach_port_extract_right(t.self, r, 22), KERN_INVALID_VALUE);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    const x = await mach_port_extract_right(t.self, dead, MACH_MSG_TYPE_COPY_SEND);
    expect([x.poly?.name, x.polyPoly]).toEqual([MACH_PORT_DEAD, MACH_MSG_TYPE_PORT_SEND]);
    expect(await refs(t, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(1);
    await mach_port_extract_right(t.self, dead, MACH_MSG_TYPE_MOVE_SEND);
    await expectMachError(mach_port_type(t.self, dead), KERN_INVALID_NAME);
    await mach_port_destroy(t.self, r);
  });

  it('mach_port_get_receive_status reports set, seqno, mscount, qlimit, msgcount, sorights, srights and requests; KERN_INVALID_RIGHT, KERN_INVALID_NAME', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    const n = await allocReceive(t);
    await mach_port_move_member(t.self, r, set);
    await mach_port_set_qlimit(t.self, r, 9);
    await mach_port_set_seqno(t.self, r, 40);
    await mach_port_set_mscount(t.self, r, 7);
    await sendOk(t, message(r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1));
    await makeSend(t, r);
    const so = await makeSendOnce(t, r);
    await mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 0, t.port(n), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await mach_port_request_notification(t.self, r, MACH_NOTIFY_PORT_DESTROYED, 0, t.port(n), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(await receiveStatus(t, r)).toEqual({ pset: set, seqno: 40, mscount: 9, qlimit: 9, msgcount: 1, sorights: 1, srights: 1, pdrequest: 1, nsrequest: 1 });
    await expectMachError(mach_port_get_receive_status(t.self, t.self.name), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_get_receive_status(t.self, set), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_get_receive_status(t.self, 0x7700), KERN_INVALID_NAME);
    for (const [fn, arg] of [[mach_port_set_qlimit, 1], [mach_port_set_mscount, 1], [mach_port_set_seqno, 1]] as const) {
      await expectMachError(fn(t.self, t.self.name, arg), KERN_INVALID_RIGHT);
      await expectMachError(fn(t.self, 0x7700, arg), KERN_INVALID_NAME);
    }
    // cancel the requests (their send-once rights come back and are released: send-once notifications to n)
    for (const id of [MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DESTROYED]) {
      const { previous } = await mach_port_request_notification(t.self, r, id, 0, null, MACH_MSG_TYPE_MAKE_SEND_ONCE);
      expect(previous).not.toBeNull();
      await mach_port_deallocate(t.self, previous!.name);
    }
    for (let i = 0; i < 2; i++) expect((await poll(t, n)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    await mach_port_deallocate(t.self, so);
    await mach_port_destroy(t.self, set);
    await mach_port_destroy(t.self, r);
    await mach_port_destroy(t.self, n);
  });

  it('mach_port_get_set_status and mach_port_move_member: members in order, moves between sets, out with MACH_PORT_NULL; KERN_NOT_IN_SET, KERN_INVALID_RIGHT, KERN_INVALID_NAME', async () => {
    const t = await ctx.task('t');
    const s1 = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    const s2 = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    const a = await allocReceive(t);
    const b = await allocReceive(t);
    expect((await mach_port_get_set_status(t.self, s1)).members).toEqual([]);
    await mach_port_move_member(t.self, b, s1);
    await mach_port_move_member(t.self, a, s1);
    expect((await mach_port_get_set_status(t.self, s1)).members).toEqual([a, b].sort((x, y) => x - y));
    await mach_port_move_member(t.self, a, s2);
    expect((await mach_port_get_set_status(t.self, s1)).members).toEqual([b]);
    expect((await mach_port_get_set_status(t.self, s2)).members).toEqual([a]);
    await mach_port_move_member(t.self, a, MACH_PORT_NULL);
    await expectMachError(mach_port_move_member(t.self, a, MACH_PORT_NULL), KERN_NOT_IN_SET);
    await expectMachError(mach_port_move_member(t.self, t.self.name, s1), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_move_member(t.self, a, b), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_move_member(t.self, a, 0x7700), KERN_INVALID_NAME);
    await expectMachError(mach_port_move_member(t.self, 0x7700, s1), KERN_INVALID_NAME);
    await expectMachError(mach_port_get_set_status(t.self, a), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_get_set_status(t.self, 0x7700), KERN_INVALID_NAME);
    for (const n of [s1, s2, a, b]) await mach_port_destroy(t.self, n);
  });

  it('mach_port_request_notification errors: KERN_INVALID_VALUE (id, sync for port-destroyed), KERN_INVALID_RIGHT, KERN_INVALID_ARGUMENT, KERN_INVALID_NAME', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const n = await allocReceive(t);
    const set = await alloc(t, MACH_PORT_RIGHT_PORT_SET);
    const dead = await alloc(t, MACH_PORT_RIGHT_DEAD_NAME);
    const req = (name: number, id: number, sync: number): Promise<unknown> =>
      mach_port_request_notification(t.self, name, id, sync, t.port(n), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    await expectMachError(req(r, 0o100 + 3, 0), KERN_INVALID_VALUE);
    await expectMachError(req(r, MACH_NOTIFY_PORT_DESTROYED, 1), KERN_INVALID_VALUE);
    await expectMachError(req(t.self.name, MACH_NOTIFY_NO_SENDERS, 0), KERN_INVALID_RIGHT);
    await expectMachError(req(t.self.name, MACH_NOTIFY_PORT_DESTROYED, 0), KERN_INVALID_RIGHT);
    await expectMachError(req(set, MACH_NOTIFY_DEAD_NAME, 0), KERN_INVALID_RIGHT);
    await expectMachError(req(dead, MACH_NOTIFY_DEAD_NAME, 0), KERN_INVALID_ARGUMENT);
    await expectMachError(req(0x7700, MACH_NOTIFY_DEAD_NAME, 0), KERN_INVALID_NAME);
    // each failed request destroyed the send-once right it carried: a send-once notification each
    for (let i = 0; i < 7; i++) expect((await poll(t, n)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expectCode(await receive(t, n, 0), MACH_RCV_TIMED_OUT);
    for (const x of [r, n, set, dead]) await mach_port_destroy(t.self, x);
  });

  // GNU Mach ipc/mach_port.c mach_port_request_notification: `if (notify == IP_DEAD) return
  // KERN_INVALID_CAPABILITY;` before anything else — not taken for a cancellation (which
  // would answer KERN_SUCCESS and remove the request that was registered). KernelMsg.peek
  // (src/kern/ipc_mig.ts) must map a MACH_PORT_DEAD handle to IP_DEAD for that.
  it('mach_port_request_notification with a dead notify right: KERN_INVALID_CAPABILITY, the registered request stays', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const n = await allocReceive(t);
    try {
      await mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 1, t.port(n), MACH_MSG_TYPE_MAKE_SEND_ONCE);
      await expectMachError(mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 0, t.port(MACH_PORT_DEAD), MACH_MSG_TYPE_MOVE_SEND_ONCE), KERN_INVALID_CAPABILITY);
      expect((await receiveStatus(t, r)).nsrequest).toBe(1);
    } finally {
      await mach_port_destroy(t.self, r);
      await mach_port_destroy(t.self, n);
    }
  });

  it('mach_port_request_notification returns the previous request\'s send-once right; MACH_PORT_NULL cancels', async () => {
    const t = await ctx.task('t');
    const r = await allocReceive(t);
    const n1 = await allocReceive(t);
    const n2 = await allocReceive(t);
    const a = await mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 1, t.port(n1), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(a.previous).toBeNull();
    const b = await mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 1, t.port(n2), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(await typeOf(t, b.previous!.name)).toBe(MACH_PORT_TYPE_SEND_ONCE);
    // the previous right is a send-once right to n1: a message sent with it arrives there
    await sendOk(t, message(b.previous!.name, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 1234));
    expect((await poll(t, n1)).header.id).toBe(1234);
    const c = await mach_port_request_notification(t.self, r, MACH_NOTIFY_NO_SENDERS, 0, null, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect((await receiveStatus(t, r)).nsrequest).toBe(0);
    await mach_port_deallocate(t.self, c.previous!.name);
    expect((await poll(t, n2)).header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    for (const x of [r, n1, n2]) await mach_port_destroy(t.self, x);
  });

  it('mach_port_set_protected_payload: received messages carry the payload in msgh_local_port (MACH_MSG_TYPE_PROTECTED_PAYLOAD); clearing it, or moving the receive right, brings the name back', async () => {
    const { server, port, client, send: dest } = await serverAndClient(ctx);
    await mach_port_set_protected_payload(server.self, port, 0xdead01);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    let m = await poll(server, port);
    expect([m.header.localPort, m.header.bits]).toEqual([0xdead01, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PROTECTED_PAYLOAD)]);
    await mach_port_clear_protected_payload(server.self, port);
    await sendOk(client, message(dest.name, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    m = await poll(server, port);
    expect([m.header.localPort, m.header.bits]).toEqual([port, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND)]);
    await mach_port_set_protected_payload(server.self, port, 0xbeef);
    const target = await ctx.world.taskPort(client, server);
    // the client holds a send right to the port: the receive right must join that name
    await expectMachError(mach_port_insert_right(target, 0x6500, server.port(port), MACH_MSG_TYPE_MOVE_RECEIVE), KERN_RIGHT_EXISTS);
    const again = await allocReceive(server); // (the failed request took the first one with it)
    await mach_port_set_protected_payload(server.self, again, 0xbeef);
    await mach_port_insert_right(target, 0x6500, server.port(again), MACH_MSG_TYPE_MOVE_RECEIVE);
    await sendOk(client, message(0x6500, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 3));
    m = await poll(client, 0x6500);
    expect([m.header.localPort, m.header.bits]).toEqual([0x6500, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND)]);
    expect(await typeOf(client, dest.name)).toBe(MACH_PORT_TYPE_DEAD_NAME);
    await expectMachError(mach_port_set_protected_payload(client.self, dest.name, 1), KERN_INVALID_RIGHT);
    await expectMachError(mach_port_clear_protected_payload(client.self, 0x7700), KERN_INVALID_NAME);
    await mach_port_deallocate(server.self, target.name);
    await mach_port_destroy(client.self, 0x6500);
  });

  it('mach_port_* on a port that is not a task port (the host port): KERN_INVALID_TASK', async () => {
    const t = await ctx.task('t');
    await expectMachError(mach_port_allocate(t.host, MACH_PORT_RIGHT_RECEIVE), KERN_INVALID_TASK);
    await expectMachError(mach_port_names(t.host), KERN_INVALID_TASK);
    await expectMachError(mach_port_type(t.host, t.self.name), KERN_INVALID_TASK);
  });
});
