/*
 * File: ipc/mach_port.ts
 * Purpose: the port calls a task makes on a space (GNU Mach ipc/mach_port.c; the routines of
 *          include/mach/mach_port.defs, subsystem 3200).
 *
 * Each call takes the target space (null stands for a port that isn't a task port: the
 * calls then answer KERN_INVALID_TASK, as GNU Mach does for IS_NULL) and plain arguments,
 * and returns { kr, ...outs } with the out parameters named as in mach_port.defs. Rights
 * that travel in the request or reply message (the notify and previous send-once rights of
 * mach_port_request_notification, the poly right of insert/extract_right) are naked rights
 * (IpcPortRef), as GNU Mach's KernelServer stubs hand them over: on success the call
 * consumes the right it was given, on failure it leaves it to the caller (the kernel server
 * then destroys it with the request).
 */

import {
  KERN_INVALID_ARGUMENT, KERN_INVALID_CAPABILITY, KERN_INVALID_HOST, KERN_INVALID_NAME,
  KERN_INVALID_RIGHT, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_SUCCESS,
} from '../mach/kern_return.js';
import {
  MACH_MSG_TYPE_PORT_ANY, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DESTROYED,
} from '../mach/message.js';
import {
  MACH_MSG_TYPE_PORT_ANY_RIGHT, MACH_PORT_KTYPE_NONE, MACH_PORT_KTYPE_USER_DEVICE, MACH_PORT_NULL,
  MACH_PORT_QLIMIT_MAX, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_NUMBER, MACH_PORT_RIGHT_PORT_SET,
  MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_TYPE,
  MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_MAREQUEST, MACH_PORT_TYPE_PORT_SET,
  MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND_RIGHTS, MACH_PORT_VALID, type MachPortStatus,
} from '../mach/port.js';
import { IE_BITS_MAREQUEST, IE_BITS_TYPE, IE_BITS_TYPE_MASK } from './entry.js';
import { IKOT_NONE, IKOT_USER_DEVICE, ipc_kobject_set } from './kobject.js';
import {
  ipc_object_alloc_dead, ipc_object_alloc_dead_name, ipc_object_copyin, ipc_object_copyin_type,
  ipc_object_copyout_name, ipc_object_rename, ipc_object_translate,
} from './object.js';
import {
  IP_DEAD, IP_VALID, IpcPort, ipc_port_alloc, ipc_port_alloc_name, ipc_port_clear_protected_payload,
  ipc_port_nsrequest, ipc_port_pdrequest, ipc_port_set_mscount, ipc_port_set_protected_payload,
  ipc_port_set_qlimit, ipc_port_set_seqno, type IpcPortRef,
} from './port.js';
import { IpcPset, ipc_pset_alloc, ipc_pset_alloc_name, ipc_pset_move } from './pset.js';
import {
  ipc_right_dealloc, ipc_right_delta, ipc_right_destroy, ipc_right_dnrequest, ipc_right_info,
  ipc_right_lookup_write,
} from './right.js';
import { ipc_entry_lookup, ipc_space_entries, type IpcSpace } from './space.js';

/** The receive right `name` denotes (ipc_port_translate_receive). */
function ipc_port_translate_receive(space: IpcSpace, name: number): IpcPort | number {
  return ipc_object_translate(space, name, MACH_PORT_RIGHT_RECEIVE) as IpcPort | number;
}

/**
 * mach_port_names: every name in the space with its type (as mach_port_type gives it), in
 * ascending name order. Rights to dead ports show as dead names.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK.
 */
export function mach_port_names(space: IpcSpace | null): { kr: number; names: number[]; types: number[] } {
  if (space === null || !space.is_active) return { kr: KERN_INVALID_TASK, names: [], types: [] };
  const names: number[] = [];
  const types: number[] = [];
  for (const entry of ipc_space_entries(space)) {
    let bits = entry.ie_bits;
    let request = entry.ie_request;
    if (bits & MACH_PORT_TYPE_SEND_RIGHTS && !(entry.ie_object as IpcPort).ip_active) {
      // pretend this is a dead-name entry
      bits = (bits & ~(IE_BITS_TYPE_MASK | IE_BITS_MAREQUEST)) | MACH_PORT_TYPE_DEAD_NAME;
      request = 0;
    }
    let type = IE_BITS_TYPE(bits);
    if (request !== 0) type |= MACH_PORT_TYPE_DNREQUEST;
    if (bits & IE_BITS_MAREQUEST) type |= MACH_PORT_TYPE_MAREQUEST;
    names.push(entry.ie_name);
    types.push(type >>> 0);
  }
  return { kr: KERN_SUCCESS, names, types };
}

/**
 * mach_port_type: the rights `name` denotes (MACH_PORT_TYPE_* bits, plus
 * MACH_PORT_TYPE_DNREQUEST / _MAREQUEST). A right to a dead port becomes a dead name.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME.
 */
export function mach_port_type(space: IpcSpace | null, name: number): { kr: number; ptype: number } {
  if (space === null) return { kr: KERN_INVALID_TASK, ptype: 0 };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry, ptype: 0 };
  return { kr: KERN_SUCCESS, ptype: ipc_right_info(space, name, entry).type };
}

/**
 * mach_port_rename: `old_name`'s rights are now named `new_name`.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_VALUE
 * (new_name not a legal name), KERN_NAME_EXISTS.
 */
export function mach_port_rename(space: IpcSpace | null, old_name: number, new_name: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (!MACH_PORT_VALID(new_name)) return { kr: KERN_INVALID_VALUE };
  return { kr: ipc_object_rename(space, old_name, new_name) };
}

/**
 * mach_port_allocate_name: a new receive right (a port with qlimit
 * MACH_PORT_QLIMIT_DEFAULT, mscount 0, no send rights), port set or dead name (1 uref)
 * under `name`.
 * Rights: produces the right.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE (illegal name or right),
 * KERN_NAME_EXISTS.
 */
export function mach_port_allocate_name(space: IpcSpace | null, right: number, name: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (!MACH_PORT_VALID(name)) return { kr: KERN_INVALID_VALUE };
  switch (right) {
    case MACH_PORT_RIGHT_RECEIVE: {
      const port = ipc_port_alloc_name(space, name);
      return { kr: typeof port === 'number' ? port : KERN_SUCCESS };
    }
    case MACH_PORT_RIGHT_PORT_SET: {
      const pset = ipc_pset_alloc_name(space, name);
      return { kr: typeof pset === 'number' ? pset : KERN_SUCCESS };
    }
    case MACH_PORT_RIGHT_DEAD_NAME:
      return { kr: ipc_object_alloc_dead_name(space, name) };
    default:
      return { kr: KERN_INVALID_VALUE };
  }
}

/**
 * mach_port_allocate: like mach_port_allocate_name under a name the kernel picks.
 * Rights: produces the right.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_NO_SPACE.
 */
export function mach_port_allocate(space: IpcSpace | null, right: number): { kr: number; name: number } {
  if (space === null) return { kr: KERN_INVALID_TASK, name: MACH_PORT_NULL };
  switch (right) {
    case MACH_PORT_RIGHT_RECEIVE: {
      const port = ipc_port_alloc(space);
      return typeof port === 'number' ? { kr: port, name: MACH_PORT_NULL } : { kr: KERN_SUCCESS, name: port.ip_receiver_name };
    }
    case MACH_PORT_RIGHT_PORT_SET: {
      const pset = ipc_pset_alloc(space);
      return typeof pset === 'number' ? { kr: pset, name: MACH_PORT_NULL } : { kr: KERN_SUCCESS, name: pset.ips_local_name };
    }
    case MACH_PORT_RIGHT_DEAD_NAME: {
      const entry = ipc_object_alloc_dead(space);
      return typeof entry === 'number' ? { kr: entry, name: MACH_PORT_NULL } : { kr: KERN_SUCCESS, name: entry.ie_name };
    }
    default:
      return { kr: KERN_INVALID_VALUE, name: MACH_PORT_NULL };
  }
}

/**
 * mach_port_destroy: destroys every right `name` denotes (ipc_right_destroy): a receive right
 * destroys the port unless a port-destroyed request takes it, a port-set right the set, a
 * send-once right sends a send-once notification.
 * Rights: consumes all rights of the name.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME.
 */
export function mach_port_destroy(space: IpcSpace | null, name: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry };
  return { kr: ipc_right_destroy(space, name, entry) };
}

/**
 * mach_port_deallocate: releases one user reference of a send, send-once or dead-name right.
 * Rights: consumes one uref (maybe no-senders / send-once notifications).
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_deallocate(space: IpcSpace | null, name: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry };
  return { kr: ipc_right_dealloc(space, name, entry) };
}

/**
 * mach_port_get_refs: the user references `name` holds for `right`: 1 for receive,
 * port-set and send-once rights, the count for send rights and dead names, 0 if the name
 * doesn't hold that right.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE (bad right), KERN_INVALID_NAME.
 */
export function mach_port_get_refs(space: IpcSpace | null, name: number, right: number): { kr: number; refs: number } {
  if (space === null) return { kr: KERN_INVALID_TASK, refs: 0 };
  if (right >>> 0 >= MACH_PORT_RIGHT_NUMBER) return { kr: KERN_INVALID_VALUE, refs: 0 };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry, refs: 0 };
  const { type, urefs } = ipc_right_info(space, name, entry);
  if ((type & MACH_PORT_TYPE(right)) === 0) return { kr: KERN_SUCCESS, refs: 0 };
  switch (right) {
    case MACH_PORT_RIGHT_SEND_ONCE:
    case MACH_PORT_RIGHT_PORT_SET:
    case MACH_PORT_RIGHT_RECEIVE:
      return { kr: KERN_SUCCESS, refs: 1 };
    default:
      return { kr: KERN_SUCCESS, refs: urefs };
  }
}

/**
 * mach_port_mod_refs: adds `delta` to the user references of `right` (ipc_right_delta).
 * Rights: adds or releases urefs; at 0 the right goes (with its notifications).
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE (bad right or delta),
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_UREFS_OVERFLOW.
 */
export function mach_port_mod_refs(space: IpcSpace | null, name: number, right: number, delta: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (right >>> 0 >= MACH_PORT_RIGHT_NUMBER) return { kr: KERN_INVALID_VALUE };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry };
  return { kr: ipc_right_delta(space, name, entry, right, delta | 0) };
}

/**
 * mach_port_set_qlimit: sets a receive right's queue limit (0..MACH_PORT_QLIMIT_MAX);
 * raising it lets blocked senders in.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT.
 */
export function mach_port_set_qlimit(space: IpcSpace | null, name: number, qlimit: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (qlimit >>> 0 > MACH_PORT_QLIMIT_MAX) return { kr: KERN_INVALID_VALUE };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port };
  ipc_port_set_qlimit(port, qlimit >>> 0);
  return { kr: KERN_SUCCESS };
}

/**
 * mach_port_set_mscount: sets a receive right's make-send count.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_set_mscount(space: IpcSpace | null, name: number, mscount: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port };
  ipc_port_set_mscount(port, mscount);
  return { kr: KERN_SUCCESS };
}

/**
 * mach_port_get_set_status: the names of a port set's members, in ascending order.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT
 * (not a port set).
 */
export function mach_port_get_set_status(space: IpcSpace | null, name: number): { kr: number; members: number[] } {
  if (space === null) return { kr: KERN_INVALID_TASK, members: [] };
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return { kr: entry, members: [] };
  if (IE_BITS_TYPE(entry.ie_bits) !== MACH_PORT_TYPE_PORT_SET) return { kr: KERN_INVALID_RIGHT, members: [] };
  const pset = entry.ie_object as IpcPset;
  const members = [...pset.ips_members].map((port) => port.ip_receiver_name).sort((a, b) => a - b);
  return { kr: KERN_SUCCESS, members };
}

/**
 * mach_port_move_member: puts the receive right `member` into the port set `after`
 * (leaving any set it was in), or, with `after` MACH_PORT_NULL, takes it out of its set.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT (member
 * not a receive right, after not a port set), KERN_NOT_IN_SET.
 */
export function mach_port_move_member(space: IpcSpace | null, member: number, after: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const entry = ipc_right_lookup_write(space, member);
  if (typeof entry === 'number') return { kr: entry };
  if ((entry.ie_bits & MACH_PORT_TYPE_RECEIVE) === 0) return { kr: KERN_INVALID_RIGHT };
  const port = entry.ie_object as IpcPort;
  let nset: IpcPset | null = null;
  if (after !== MACH_PORT_NULL) {
    const aentry = ipc_entry_lookup(space, after);
    if (aentry === null) return { kr: KERN_INVALID_NAME };
    if ((aentry.ie_bits & MACH_PORT_TYPE_PORT_SET) === 0) return { kr: KERN_INVALID_RIGHT };
    nset = aentry.ie_object as IpcPset;
  }
  return { kr: ipc_pset_move(port, nset) };
}

/**
 * mach_port_request_notification: registers the send-once right `notify` for a
 * notification about `name`, returning the one registered before (`previous`):
 *   MACH_NOTIFY_PORT_DESTROYED  receive right; sync must be 0;
 *   MACH_NOTIFY_NO_SENDERS      receive right; if there are no senders now and
 *                               sync <= mscount, the notification is sent at once;
 *   MACH_NOTIFY_DEAD_NAME       send, send-once or receive right; on a dead name with
 *                               sync != 0 the notification is sent at once (and the dead
 *                               name gains a uref).
 * A null `notify` cancels.
 * Rights: consumes `notify` on success; `previous` is a naked send-once right for the caller.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_CAPABILITY (notify is dead),
 * KERN_INVALID_VALUE (bad id, or sync for port-destroyed), KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT, KERN_INVALID_ARGUMENT (dead name without sync or notify),
 * KERN_UREFS_OVERFLOW, KERN_RESOURCE_SHORTAGE.
 */
export function mach_port_request_notification(
  space: IpcSpace | null, name: number, id: number, sync: number, notify: IpcPortRef,
): { kr: number; previous: IpcPortRef } {
  if (space === null) return { kr: KERN_INVALID_TASK, previous: null };
  if (notify === IP_DEAD) return { kr: KERN_INVALID_CAPABILITY, previous: null };
  switch (id) {
    case MACH_NOTIFY_PORT_DESTROYED: {
      if (sync !== 0) return { kr: KERN_INVALID_VALUE, previous: null };
      const port = ipc_port_translate_receive(space, name);
      if (typeof port === 'number') return { kr: port, previous: null };
      return { kr: KERN_SUCCESS, previous: ipc_port_pdrequest(port, notify) };
    }
    case MACH_NOTIFY_NO_SENDERS: {
      const port = ipc_port_translate_receive(space, name);
      if (typeof port === 'number') return { kr: port, previous: null };
      return { kr: KERN_SUCCESS, previous: ipc_port_nsrequest(port, sync >>> 0, notify) };
    }
    case MACH_NOTIFY_DEAD_NAME:
      return ipc_right_dnrequest(space, name, sync !== 0, notify);
    default:
      return { kr: KERN_INVALID_VALUE, previous: null };
  }
}

/**
 * mach_port_insert_right: puts the naked right `poly` (type `polyPoly`: PORT_RECEIVE,
 * PORT_SEND or PORT_SEND_ONCE) into the space under `name`, as if received in a message
 * but with that name. A send or receive right for a port the space already names must use
 * that name.
 * Rights: consumes `poly` on success.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE (illegal name or type),
 * KERN_INVALID_CAPABILITY (poly null or dead), KERN_NAME_EXISTS, KERN_RIGHT_EXISTS,
 * KERN_UREFS_OVERFLOW.
 */
export function mach_port_insert_right(
  space: IpcSpace | null, name: number, poly: IpcPortRef, polyPoly: number,
): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (!MACH_PORT_VALID(name) || !MACH_MSG_TYPE_PORT_ANY_RIGHT(polyPoly)) return { kr: KERN_INVALID_VALUE };
  if (!IP_VALID(poly)) return { kr: KERN_INVALID_CAPABILITY };
  return { kr: ipc_object_copyout_name(space, poly, polyPoly, false, name) };
}

/**
 * mach_port_extract_right: takes a right out of the space as if the space sent it in a
 * message with disposition `msgt_name` (MOVE_RECEIVE, MOVE_SEND, COPY_SEND, MAKE_SEND,
 * MAKE_SEND_ONCE, MOVE_SEND_ONCE). A dead name or dead port gives IP_DEAD.
 * Rights: per disposition; the naked right `poly` (of type `polyPoly`) goes to the caller.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_INVALID_NAME,
 * KERN_INVALID_RIGHT.
 */
export function mach_port_extract_right(
  space: IpcSpace | null, name: number, msgt_name: number,
): { kr: number; poly: IpcPortRef; polyPoly: number } {
  if (space === null) return { kr: KERN_INVALID_TASK, poly: null, polyPoly: 0 };
  if (!MACH_MSG_TYPE_PORT_ANY(msgt_name)) return { kr: KERN_INVALID_VALUE, poly: null, polyPoly: 0 };
  const poly = ipc_object_copyin(space, name, msgt_name);
  if (typeof poly === 'number') return { kr: poly, poly: null, polyPoly: 0 };
  return { kr: KERN_SUCCESS, poly, polyPoly: ipc_object_copyin_type(msgt_name) };
}

/**
 * mach_port_get_receive_status: a receive right's status: its port set (name), seqno,
 * mscount, qlimit, msgcount, sorights, whether send rights exist and whether port-destroyed
 * and no-senders requests are registered.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_get_receive_status(
  space: IpcSpace | null, name: number,
): { kr: number; status: MachPortStatus | null } {
  if (space === null) return { kr: KERN_INVALID_TASK, status: null };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port, status: null };
  return {
    kr: KERN_SUCCESS,
    status: {
      mps_pset: port.ip_pset !== null ? port.ip_pset.ips_local_name : MACH_PORT_NULL,
      mps_seqno: port.ip_seqno,
      mps_mscount: port.ip_mscount,
      mps_qlimit: port.ip_qlimit,
      mps_msgcount: port.ip_msgcount,
      mps_sorights: port.ip_sorights,
      mps_srights: port.ip_srights > 0,
      mps_pdrequest: port.ip_pdrequest !== null,
      mps_nsrequest: port.ip_nsrequest !== null,
    },
  };
}

/**
 * mach_port_set_seqno: sets a receive right's sequence number.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_set_seqno(space: IpcSpace | null, name: number, seqno: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port };
  ipc_port_set_seqno(port, seqno);
  return { kr: KERN_SUCCESS };
}

/**
 * mach_port_set_protected_payload: messages received from this port carry `payload` in
 * msgh_local_port (local type MACH_MSG_TYPE_PROTECTED_PAYLOAD) instead of the port's name.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_set_protected_payload(space: IpcSpace | null, name: number, payload: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port };
  ipc_port_set_protected_payload(port, payload);
  return { kr: KERN_SUCCESS };
}

/**
 * mach_port_clear_protected_payload: received messages name the port again.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_clear_protected_payload(space: IpcSpace | null, name: number): { kr: number } {
  if (space === null) return { kr: KERN_INVALID_TASK };
  const port = ipc_port_translate_receive(space, name);
  if (typeof port === 'number') return { kr: port };
  ipc_port_clear_protected_payload(port);
  return { kr: KERN_SUCCESS };
}

/**
 * mach_port_set_ktype: marks a port as a user device (MACH_PORT_KTYPE_USER_DEVICE) or
 * plain (MACH_PORT_KTYPE_NONE). `host` is what the host_priv port translates to (null if
 * the caller didn't send the privileged host port).
 * Returns: KERN_SUCCESS, KERN_INVALID_HOST, KERN_INVALID_TASK, KERN_INVALID_ARGUMENT (bad
 * ktype, or the port already is another kind of kernel object, or names a port set),
 * KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function mach_port_set_ktype(
  host: unknown, space: IpcSpace | null, name: number, right: number, ktype: number,
): { kr: number } {
  if (host === null || host === undefined) return { kr: KERN_INVALID_HOST };
  if (space === null) return { kr: KERN_INVALID_TASK };
  if (ktype !== MACH_PORT_KTYPE_NONE && ktype !== MACH_PORT_KTYPE_USER_DEVICE) return { kr: KERN_INVALID_ARGUMENT };
  const object = ipc_object_translate(space, name, right);
  if (typeof object === 'number') return { kr: object };
  if (!(object instanceof IpcPort)) return { kr: KERN_INVALID_ARGUMENT };
  if (object.ip_kotype !== IKOT_NONE && object.ip_kotype !== IKOT_USER_DEVICE) return { kr: KERN_INVALID_ARGUMENT };
  ipc_kobject_set(object, null, ktype === MACH_PORT_KTYPE_NONE ? IKOT_NONE : IKOT_USER_DEVICE);
  return { kr: KERN_SUCCESS };
}
