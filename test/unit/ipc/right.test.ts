/*
 * File: test/unit/ipc/right.test.ts
 * Purpose: ipc_right — copyin for all six dispositions and dead names, copyout (merging,
 *          urefs overflow), dealloc, delta (mod_refs), destroy, rename, dead-name requests,
 *          and the lazy conversion of rights to dead ports into dead names.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_ARGUMENT, KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_VALUE,
  KERN_NAME_EXISTS, KERN_SUCCESS, KERN_UREFS_OVERFLOW,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
  MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND,
  MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_RECEIVE,
  MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_RECEIVE, MACH_PORT_UREFS_MAX,
} from '../../../src/mach/port.js';
import {
  IE_BITS_TYPE, IP_DEAD, IpcPort, ipc_entry_dealloc, ipc_entry_lookup, ipc_space_stats, ipc_object_copyin, ipc_object_copyout,
  ipc_port_release_receive, ipc_port_release_send, ipc_port_release_sonce, ipc_right_copyin,
  ipc_right_copyin_two, ipc_right_dnrequest, ipc_right_info, ipc_stats, mach_port_allocate,
  mach_port_deallocate, mach_port_destroy, mach_port_get_refs, mach_port_mod_refs,
  mach_port_rename, mach_port_type, type IpcRightCopyin,
} from '../../../src/ipc/index.js';
import { allocReceive, giveRight, poll, portOf, task, useLeakCheck } from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

function copyin(space: Space, name: number, disposition: number, deadok = true): { kr: number; out: IpcRightCopyin } {
  const out: IpcRightCopyin = { object: null, soright: null };
  const entry = ipc_entry_lookup(space, name)!;
  const kr = ipc_right_copyin(space, name, entry, disposition, deadok, out);
  // as ipc_object_copyin does: an entry left without rights goes back to the space
  if (IE_BITS_TYPE(entry.ie_bits) === 0) ipc_entry_dealloc(space, name, entry);
  return { kr, out };
}

function refs(space: Space, name: number, right: number): number {
  return mach_port_get_refs(space, name, right).refs;
}

/** Registers a dead-name request for `name` with a notify port in `watcher`; returns the notify name. */
function deadNameRequest(space: Space, name: number, watcher: Space): number {
  const notify = allocReceive(watcher);
  const so = ipc_object_copyin(watcher, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
  expect(ipc_right_dnrequest(space, name, false, so).kr).toBe(KERN_SUCCESS);
  return notify;
}

/** A send right in `client` to a port of a new server task; returns [server, port name, send name]. */
function sendRight(client: Space, urefs = 1): [Space, number, number] {
  const server = task();
  const port = allocReceive(server);
  let send = 0;
  for (let i = 0; i < urefs; i++) send = giveRight(server, port, client);
  return [server, port, send];
}

describe('ipc_right_copyin', () => {
  it('MAKE_SEND needs the receive right; counts mscount and srights', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    const { kr, out } = copyin(space, name, MACH_MSG_TYPE_MAKE_SEND);
    expect([kr, out.object, out.soright]).toEqual([KERN_SUCCESS, port, null]);
    expect([port.ip_mscount, port.ip_srights]).toEqual([1, 1]);
    ipc_port_release_send(port);
    const [, , send] = sendRight(space);
    expect(copyin(space, send, MACH_MSG_TYPE_MAKE_SEND).kr).toBe(KERN_INVALID_RIGHT);
  });

  it('MAKE_SEND_ONCE needs the receive right; counts sorights', () => {
    const space = task();
    const name = allocReceive(space);
    const { kr, out } = copyin(space, name, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(kr).toBe(KERN_SUCCESS);
    expect((out.object as IpcPort).ip_sorights).toBe(1);
    ipc_port_release_sonce(out.object as IpcPort);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(copyin(space, dead, MACH_MSG_TYPE_MAKE_SEND_ONCE).kr).toBe(KERN_INVALID_RIGHT);
  });

  it('MOVE_RECEIVE takes the port out of the space into limbo, resetting mscount and seqno', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    port.ip_mscount = 4;
    port.ip_seqno = 7;
    const { kr, out } = copyin(space, name, MACH_MSG_TYPE_MOVE_RECEIVE);
    expect(kr).toBe(KERN_SUCCESS);
    expect(out.object).toBe(port);
    expect(port).toMatchObject({ ip_receiver: null, ip_receiver_name: 0, ip_destination: null, ip_mscount: 0, ip_seqno: 0 });
    expect(ipc_entry_lookup(space, name)).toBeNull();
    expect(ipc_space_stats(space).names).toBe(0);
    ipc_port_release_receive(port);
  });

  it('MOVE_RECEIVE from a send/receive name leaves the send right under the same name', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    const entry = ipc_object_copyout(space, ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND) as IpcPort, MACH_MSG_TYPE_PORT_SEND, false);
    expect(typeof entry !== 'number' && entry.ie_name).toBe(name);
    const moved = ipc_object_copyin(space, name, MACH_MSG_TYPE_MOVE_RECEIVE) as IpcPort;
    expect(moved).toBe(port);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_SEND);
    expect(space.is_reverse_map.get(port)?.ie_name).toBe(name);
    // and back: the receive right rejoins the send right's name
    const back = ipc_object_copyout(space, moved, MACH_MSG_TYPE_PORT_RECEIVE, false);
    expect(typeof back !== 'number' && back.ie_name).toBe(name);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_SEND_RECEIVE);
    expect(space.is_reverse_map.has(port)).toBe(false);
  });

  it('COPY_SEND keeps the urefs; refuses send-once rights', () => {
    const space = task();
    const [, , send] = sendRight(space, 2);
    const port = portOf(space, send);
    const { kr, out } = copyin(space, send, MACH_MSG_TYPE_COPY_SEND);
    expect([kr, out.object]).toEqual([KERN_SUCCESS, port]);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(2);
    expect(port.ip_srights).toBe(2);
    ipc_port_release_send(port);
    const server = task();
    const so = giveRight(server, allocReceive(server), space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(copyin(space, so, MACH_MSG_TYPE_COPY_SEND).kr).toBe(KERN_INVALID_RIGHT);
    expect(copyin(space, so, MACH_MSG_TYPE_MOVE_SEND).kr).toBe(KERN_INVALID_RIGHT);
  });

  it('MOVE_SEND takes one uref; the last one takes the right and the name', () => {
    const space = task();
    const [, , send] = sendRight(space, 2);
    const port = portOf(space, send);
    expect(copyin(space, send, MACH_MSG_TYPE_MOVE_SEND).kr).toBe(KERN_SUCCESS);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(1);
    expect(port.ip_srights).toBe(2); // one in the space, one naked
    expect(copyin(space, send, MACH_MSG_TYPE_MOVE_SEND).kr).toBe(KERN_SUCCESS);
    expect(port.ip_srights).toBe(2); // the last uref moved the entry's right
    expect(space.is_reverse_map.has(port)).toBe(false);
    // the caller deallocates the emptied entry (ipc_object_copyin does)
    ipc_port_release_send(port);
    ipc_port_release_send(port);
  });

  it('MOVE_SEND of the last uref of a send/receive name leaves the receive right', () => {
    const space = task();
    const name = allocReceive(space);
    ipc_object_copyout(space, ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND) as IpcPort, MACH_MSG_TYPE_PORT_SEND, false);
    const moved = ipc_object_copyin(space, name, MACH_MSG_TYPE_MOVE_SEND) as IpcPort;
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    ipc_port_release_send(moved);
  });

  it('MOVE_SEND_ONCE takes the send-once right; refuses send rights', () => {
    const space = task();
    const server = task();
    const sport = allocReceive(server);
    const so = giveRight(server, sport, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const [, , send] = sendRight(space);
    expect(copyin(space, send, MACH_MSG_TYPE_MOVE_SEND_ONCE).kr).toBe(KERN_INVALID_RIGHT);
    const right = ipc_object_copyin(space, so, MACH_MSG_TYPE_MOVE_SEND_ONCE) as IpcPort;
    expect(right).toBe(portOf(server, sport));
    expect(mach_port_type(space, so).kr).toBe(KERN_INVALID_NAME);
    ipc_port_release_sonce(right);
  });

  it('dead names copy in as IP_DEAD (copy: urefs kept; move: one uref used); not with deadok false', () => {
    const space = task();
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, 2); // 3 urefs
    expect(copyin(space, dead, MACH_MSG_TYPE_COPY_SEND).out.object).toBe(IP_DEAD);
    expect(refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(3);
    expect(copyin(space, dead, MACH_MSG_TYPE_MOVE_SEND).out.object).toBe(IP_DEAD);
    expect(copyin(space, dead, MACH_MSG_TYPE_MOVE_SEND_ONCE).out.object).toBe(IP_DEAD);
    expect(refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(1);
    expect(copyin(space, dead, MACH_MSG_TYPE_COPY_SEND, false).kr).toBe(KERN_INVALID_RIGHT);
    expect(copyin(space, dead, MACH_MSG_TYPE_MOVE_SEND, false).kr).toBe(KERN_INVALID_RIGHT);
    expect(ipc_object_copyin(space, dead, MACH_MSG_TYPE_MOVE_SEND)).toBe(IP_DEAD);
    expect(mach_port_type(space, dead).kr).toBe(KERN_INVALID_NAME);
    expect(copyin(space, allocReceive(space), MACH_MSG_TYPE_COPY_SEND).kr).toBe(KERN_INVALID_RIGHT);
  });

  it('a right to a dead port is found dead and becomes a dead name on the spot', () => {
    const space = task();
    const [server, port, send] = sendRight(space);
    mach_port_destroy(server, port);
    expect(copyin(space, send, MACH_MSG_TYPE_COPY_SEND, false).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_type(space, send).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(refs(space, send, MACH_PORT_RIGHT_DEAD_NAME)).toBe(1);
  });

  it('a move that empties an entry with a dead-name request yields a port-deleted notification', () => {
    const space = task();
    const watcher = task();
    const [, , send] = sendRight(space);
    const notify = deadNameRequest(space, send, watcher);
    expect(mach_port_type(space, send).ptype).toBe((MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST) >>> 0);
    const right = ipc_object_copyin(space, send, MACH_MSG_TYPE_MOVE_SEND) as IpcPort;
    const n = poll(watcher, notify);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_PORT_DELETED);
    expect(n.msg!.body[0]!.data).toBe(send);
    ipc_port_release_send(right);
  });

  it('ipc_right_copyin_two moves two send urefs at once', () => {
    const space = task();
    const [, , send] = sendRight(space, 3);
    const port = portOf(space, send);
    const out: IpcRightCopyin = { object: null, soright: null };
    expect(ipc_right_copyin_two(space, send, ipc_entry_lookup(space, send)!, out)).toBe(KERN_SUCCESS);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(1);
    expect(port.ip_srights).toBe(3);
    expect(ipc_right_copyin_two(space, send, ipc_entry_lookup(space, send)!, out)).toBe(KERN_INVALID_RIGHT);
    ipc_port_release_send(port);
    ipc_port_release_send(port);
  });
});

describe('ipc_right_copyout (through ipc_object_copyout)', () => {
  it('a send right joins the name already holding send rights', () => {
    const space = task();
    const [, , send] = sendRight(space);
    const port = portOf(space, send);
    const other = task();
    const again = giveRight(other, allocReceive(other), space); // another port: new name
    expect(again).not.toBe(send);
    const entry = ipc_object_copyout(space, (port.ip_srights++, port), MACH_MSG_TYPE_PORT_SEND, false);
    expect(typeof entry !== 'number' && entry.ie_name).toBe(send);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(2);
    expect(port.ip_srights).toBe(1);
  });

  it('urefs stop at MACH_PORT_UREFS_MAX - 1: KERN_UREFS_OVERFLOW, or pegged with overflow', () => {
    const space = task();
    const [, , send] = sendRight(space);
    const port = portOf(space, send);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX - 2).kr).toBe(KERN_SUCCESS);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(MACH_PORT_UREFS_MAX - 1);
    port.ip_srights++;
    expect(ipc_object_copyout(space, port, MACH_MSG_TYPE_PORT_SEND, false)).toBe(KERN_UREFS_OVERFLOW);
    const pegged = ipc_object_copyout(space, port, MACH_MSG_TYPE_PORT_SEND, true);
    expect(typeof pegged !== 'number' && pegged.ie_name).toBe(send);
    expect(refs(space, send, MACH_PORT_RIGHT_SEND)).toBe(MACH_PORT_UREFS_MAX - 1);
    expect(port.ip_srights).toBe(1);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_SEND, 1).kr).toBe(KERN_UREFS_OVERFLOW);
  });

  it('send-once rights always get a name of their own', () => {
    const space = task();
    const server = task();
    const p = allocReceive(server);
    const a = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const b = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(a).not.toBe(b);
    expect(mach_port_type(space, a).ptype).toBe(MACH_PORT_TYPE_SEND_ONCE);
    expect(portOf(server, p).ip_sorights).toBe(2);
  });
});

describe('ipc_right_dealloc (mach_port_deallocate)', () => {
  it('dead names and send rights lose a uref; the last send right may trigger no-senders', () => {
    const space = task();
    const [server, port, send] = sendRight(space, 2);
    const notify = allocReceive(server);
    const so = ipc_object_copyin(server, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    portOf(server, port).ip_nsrequest = so;
    expect(mach_port_deallocate(space, send).kr).toBe(KERN_SUCCESS);
    expect(poll(server, notify).msg).toBeNull();
    expect(mach_port_deallocate(space, send).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, send).kr).toBe(KERN_INVALID_NAME);
    const n = poll(server, notify);
    expect([n.msg!.header.id, n.msg!.body[0]!.data]).toEqual([MACH_NOTIFY_NO_SENDERS, 2]);
  });

  it('a send-once right is used for a send-once notification', () => {
    const space = task();
    const server = task();
    const p = allocReceive(server);
    const so = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(mach_port_deallocate(space, so).kr).toBe(KERN_SUCCESS);
    expect(poll(server, p).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
  });

  it('the last send uref of a send/receive name leaves the receive right; receive alone is refused', () => {
    const space = task();
    const name = allocReceive(space);
    expect(mach_port_deallocate(space, name).kr).toBe(KERN_INVALID_RIGHT);
    giveRight(space, name, space);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_SEND_RECEIVE);
    expect(mach_port_deallocate(space, name).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    expect(mach_port_deallocate(space, set).kr).toBe(KERN_INVALID_RIGHT);
  });

  it('a right to a dead port is deallocated as the dead name it has become', () => {
    const space = task();
    const watcher = task();
    const [server, port, send] = sendRight(space, 2);
    const notify = deadNameRequest(space, send, watcher);
    mach_port_destroy(server, port);
    expect(poll(watcher, notify).msg!.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
    expect(refs(space, send, MACH_PORT_RIGHT_DEAD_NAME)).toBe(3); // 2 + 1 for the notification
    mach_port_deallocate(space, send);
    mach_port_deallocate(space, send);
    expect(mach_port_deallocate(space, send).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, send).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('ipc_right_delta (mach_port_mod_refs)', () => {
  it('port sets: 0 does nothing, -1 destroys, anything else is KERN_INVALID_VALUE', () => {
    const space = task();
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    const sets = ipc_stats().portSets;
    expect(mach_port_mod_refs(space, set, MACH_PORT_RIGHT_PORT_SET, 0).kr).toBe(KERN_SUCCESS);
    expect(mach_port_mod_refs(space, set, MACH_PORT_RIGHT_PORT_SET, 1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, set, MACH_PORT_RIGHT_PORT_SET, -2).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, set, MACH_PORT_RIGHT_RECEIVE, -1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_mod_refs(space, set, MACH_PORT_RIGHT_PORT_SET, -1).kr).toBe(KERN_SUCCESS);
    expect(ipc_stats().portSets).toBe(sets - 1);
    expect(mach_port_type(space, set).kr).toBe(KERN_INVALID_NAME);
  });

  it('receive rights: -1 destroys the port; send rights under the name become a dead name', () => {
    const space = task();
    const watcher = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    giveRight(space, name, space);
    giveRight(space, name, space);
    const notify = deadNameRequest(space, name, watcher);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_RECEIVE, 1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_RECEIVE, -1).kr).toBe(KERN_SUCCESS);
    expect(port.ip_active).toBe(false);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(refs(space, name, MACH_PORT_RIGHT_DEAD_NAME)).toBe(3); // 2 urefs + 1: the request is used
    // the port died "first": the request became a dead-name notification
    expect(poll(watcher, notify).msg!.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
  });

  it('a receive-only name with a dead-name request: port-deleted, after the port is gone', () => {
    const space = task();
    const watcher = task();
    const name = allocReceive(space);
    const notify = deadNameRequest(space, name, watcher);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_RECEIVE, -1).kr).toBe(KERN_SUCCESS);
    const n = poll(watcher, notify);
    expect([n.msg!.header.id, n.msg!.body[0]!.data]).toEqual([MACH_NOTIFY_PORT_DELETED, name]);
  });

  it('send-once rights accept 0 and -1 only; a dead one is KERN_INVALID_RIGHT', () => {
    const space = task();
    const server = task();
    const p = allocReceive(server);
    const so = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(mach_port_mod_refs(space, so, MACH_PORT_RIGHT_SEND_ONCE, 1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, so, MACH_PORT_RIGHT_SEND_ONCE, 0).kr).toBe(KERN_SUCCESS);
    expect(mach_port_mod_refs(space, so, MACH_PORT_RIGHT_SEND, -1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_mod_refs(space, so, MACH_PORT_RIGHT_SEND_ONCE, -1).kr).toBe(KERN_SUCCESS);
    expect(poll(server, p).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    const so2 = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    mach_port_destroy(server, p);
    expect(mach_port_mod_refs(space, so2, MACH_PORT_RIGHT_SEND_ONCE, -1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_type(space, so2).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });

  it('dead names: any delta within 0..MACH_PORT_UREFS_MAX; a live send right is not a dead name', () => {
    const space = task();
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, 4).kr).toBe(KERN_SUCCESS);
    expect(mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, -6).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_UREFS_MAX - 5).kr).toBe(KERN_SUCCESS);
    expect(refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(MACH_PORT_UREFS_MAX);
    expect(mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, 1).kr).toBe(KERN_UREFS_OVERFLOW);
    expect(mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, -MACH_PORT_UREFS_MAX).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, dead).kr).toBe(KERN_INVALID_NAME);
    const [server, port, send] = sendRight(space);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_DEAD_NAME, 1).kr).toBe(KERN_INVALID_RIGHT);
    mach_port_destroy(server, port);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_DEAD_NAME, 1).kr).toBe(KERN_SUCCESS);
    expect(refs(space, send, MACH_PORT_RIGHT_DEAD_NAME)).toBe(2);
  });

  it('send rights: to zero frees them; underflow KERN_INVALID_VALUE; a dead port KERN_INVALID_RIGHT', () => {
    const space = task();
    const [server, port, send] = sendRight(space);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_SEND, 2).kr).toBe(KERN_SUCCESS);
    expect(portOf(server, port).ip_srights).toBe(1);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_SEND, -4).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, send, MACH_PORT_RIGHT_SEND, -3).kr).toBe(KERN_SUCCESS);
    expect(portOf(server, port).ip_srights).toBe(0);
    expect(mach_port_type(space, send).kr).toBe(KERN_INVALID_NAME);
    const [server2, port2, send2] = sendRight(space);
    mach_port_destroy(server2, port2);
    expect(mach_port_mod_refs(space, send2, MACH_PORT_RIGHT_SEND, -1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_type(space, send2).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });

  it('a receive-only name has no send urefs to change', () => {
    const space = task();
    const name = allocReceive(space);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_SEND, 1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_DEAD_NAME, 1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_mod_refs(space, name, MACH_PORT_RIGHT_RECEIVE, 0).kr).toBe(KERN_SUCCESS);
  });
});

describe('ipc_right_destroy (mach_port_destroy)', () => {
  it('a send right with a dead-name request: no-senders and port-deleted notifications', () => {
    const space = task();
    const watcher = task();
    const [server, port, send] = sendRight(space, 3);
    const notify = deadNameRequest(space, send, watcher);
    const ns = allocReceive(server);
    portOf(server, port).ip_nsrequest = ipc_object_copyin(server, ns, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_destroy(space, send).kr).toBe(KERN_SUCCESS);
    expect(poll(server, ns).msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    expect(poll(watcher, notify).msg!.header.id).toBe(MACH_NOTIFY_PORT_DELETED);
  });

  it('a receive right destroys the port; a send-once right notifies; a dead name just goes', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    expect(mach_port_destroy(space, name).kr).toBe(KERN_SUCCESS);
    expect(port.ip_active).toBe(false);
    const server = task();
    const p = allocReceive(server);
    const so = giveRight(server, p, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(mach_port_destroy(space, so).kr).toBe(KERN_SUCCESS);
    expect(poll(server, p).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(mach_port_destroy(space, dead).kr).toBe(KERN_SUCCESS);
    expect(mach_port_destroy(space, dead).kr).toBe(KERN_INVALID_NAME);
  });

  it('a right to a dead port goes without notifications', () => {
    const space = task();
    const [server, port, send] = sendRight(space);
    mach_port_destroy(server, port);
    expect(mach_port_destroy(space, send).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, send).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('ipc_right_rename (mach_port_rename)', () => {
  it('moves receive, send and dead-name-request state to the new name', () => {
    const space = task();
    const watcher = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    const [server, sport, send] = sendRight(space);
    const notify = deadNameRequest(space, send, watcher);
    expect(mach_port_rename(space, name, 0x7000).kr).toBe(KERN_SUCCESS);
    expect(port.ip_receiver_name).toBe(0x7000);
    expect(mach_port_rename(space, send, 0x7100).kr).toBe(KERN_SUCCESS);
    expect(space.is_reverse_map.get(portOf(server, sport))?.ie_name).toBe(0x7100);
    expect(mach_port_type(space, 0x7100).ptype).toBe((MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST) >>> 0);
    mach_port_destroy(server, sport);
    expect(poll(watcher, notify).msg!.body[0]!.data).toBe(0x7100);
    expect(mach_port_type(space, name).kr).toBe(KERN_INVALID_NAME);
  });

  it('refuses taken names, unknown names and renaming to itself', () => {
    const space = task();
    const a = allocReceive(space);
    const b = allocReceive(space);
    expect(mach_port_rename(space, a, b).kr).toBe(KERN_NAME_EXISTS);
    expect(mach_port_rename(space, 0x9900, 0x9a00).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_rename(space, a, 0).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_type(space, 0x9a00).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('ipc_right_dnrequest', () => {
  it('returns the previously registered send-once right; null cancels', () => {
    const space = task();
    const watcher = task();
    const [, , send] = sendRight(space);
    const n = allocReceive(watcher);
    const so1 = ipc_object_copyin(watcher, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    const so2 = ipc_object_copyin(watcher, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(ipc_right_dnrequest(space, send, false, so1)).toEqual({ kr: KERN_SUCCESS, previous: null });
    expect(ipc_right_dnrequest(space, send, false, so2)).toEqual({ kr: KERN_SUCCESS, previous: so1 });
    expect(ipc_right_dnrequest(space, send, false, null)).toEqual({ kr: KERN_SUCCESS, previous: so2 });
    expect(mach_port_type(space, send).ptype).toBe(MACH_PORT_TYPE_SEND);
    ipc_port_release_sonce(so1);
    ipc_port_release_sonce(so2);
  });

  it('on a dead name: an immediate notification (and a uref) only with sync and a notify port', () => {
    const space = task();
    const watcher = task();
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    const n = allocReceive(watcher);
    const so = ipc_object_copyin(watcher, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(ipc_right_dnrequest(space, dead, false, so).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(ipc_right_dnrequest(space, dead, true, null).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(ipc_right_dnrequest(space, dead, true, so)).toEqual({ kr: KERN_SUCCESS, previous: null });
    expect(refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME)).toBe(2);
    const msg = poll(watcher, n).msg!;
    expect([msg.header.id, msg.body[0]!.data]).toEqual([MACH_NOTIFY_DEAD_NAME, dead]);
  });

  it('on a dead name at MACH_PORT_UREFS_MAX: KERN_UREFS_OVERFLOW; on a port set: KERN_INVALID_RIGHT', () => {
    const space = task();
    const watcher = task();
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    mach_port_mod_refs(space, dead, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_UREFS_MAX - 1);
    const n = allocReceive(watcher);
    const so = ipc_object_copyin(watcher, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(ipc_right_dnrequest(space, dead, true, so).kr).toBe(KERN_UREFS_OVERFLOW);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    expect(ipc_right_dnrequest(space, set, true, so).kr).toBe(KERN_INVALID_RIGHT);
    expect(ipc_right_dnrequest(space, 0x5500, true, so).kr).toBe(KERN_INVALID_NAME);
    ipc_port_release_sonce(so);
  });

  it('on a right whose port died: treated as the dead name it is', () => {
    const space = task();
    const watcher = task();
    const [server, port, send] = sendRight(space);
    mach_port_destroy(server, port);
    const n = allocReceive(watcher);
    const so = ipc_object_copyin(watcher, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(ipc_right_dnrequest(space, send, true, so).kr).toBe(KERN_SUCCESS);
    expect(poll(watcher, n).msg!.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
  });
});

describe('ipc_right_info', () => {
  it('reports the type with MACH_PORT_TYPE_DNREQUEST and the urefs', () => {
    const space = task();
    const watcher = task();
    const [, , send] = sendRight(space, 3);
    deadNameRequest(space, send, watcher);
    expect(ipc_right_info(space, send, ipc_entry_lookup(space, send)!))
      .toEqual({ type: (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST) >>> 0, urefs: 3 });
    expect(MACH_PORT_TYPE_DNREQUEST).toBe(0x80000000);
    expect(MACH_MSG_TYPE_PORT_SEND_ONCE).toBe(MACH_MSG_TYPE_MOVE_SEND_ONCE);
  });
});
