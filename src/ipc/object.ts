/*
 * File: ipc/object.ts
 * Purpose: ipc_object — operations common to ports and port sets: allocating them under
 *          a name, translating names, copying naked rights in and out of a space,
 *          destroying naked rights (GNU Mach ipc/ipc_object.c).
 *
 * A "naked" right is one the kernel holds outside any space: in a message in transit, in
 * a notification request, in a kernel data structure. Naked rights are IpcPortRef values.
 */

import {
  KERN_INVALID_CAPABILITY, KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_TASK,
  KERN_NAME_EXISTS, KERN_RIGHT_EXISTS, KERN_SUCCESS,
} from '../mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
} from '../mach/message.js';
import {
  MACH_PORT_NULL, MACH_PORT_TYPE, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_NONE,
} from '../mach/port.js';
import { IE_BITS_TYPE, type IpcEntry, type IpcObject } from './entry.js';
import { ipc_notify_port_deleted, ipc_notify_send_once } from './notify.js';
import {
  ipc_port_release_receive, ipc_port_release_send, type IpcPort, type IpcPortRef,
} from './port.js';
import {
  ipc_right_copyin, ipc_right_copyout, ipc_right_inuse, ipc_right_lookup_write, ipc_right_rename,
  ipc_right_reverse, type IpcRightCopyin,
} from './right.js';
import {
  ipc_entry_alloc, ipc_entry_alloc_name, ipc_entry_dealloc, ipc_entry_lookup, type IpcSpace,
} from './space.js';

// ==== allocation ====================================================================

/**
 * ipc_object_alloc: enters a new object in the space under a new name.
 * Rights: the entry gets `type` (MACH_PORT_TYPE_RECEIVE or _PORT_SET) and `urefs`.
 * Returns: the entry, or KERN_INVALID_TASK, KERN_NO_SPACE.
 */
export function ipc_object_alloc(
  space: IpcSpace, object: IpcObject, type: number, urefs: number,
): IpcEntry | number {
  const entry = ipc_entry_alloc(space);
  if (typeof entry === 'number') return entry;
  entry.ie_bits |= type | urefs;
  entry.ie_object = object;
  return entry;
}

/**
 * ipc_object_alloc_name: like ipc_object_alloc under a given name.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_NAME_EXISTS.
 */
export function ipc_object_alloc_name(
  space: IpcSpace, object: IpcObject, type: number, urefs: number, name: number,
): number {
  const entry = ipc_entry_alloc_name(space, name);
  if (typeof entry === 'number') return entry;
  if (ipc_right_inuse(entry)) return KERN_NAME_EXISTS;
  entry.ie_bits |= type | urefs;
  entry.ie_object = object;
  return KERN_SUCCESS;
}

/**
 * ipc_object_alloc_dead: a new dead name with one user reference.
 * Returns: the entry, or KERN_INVALID_TASK, KERN_NO_SPACE.
 */
export function ipc_object_alloc_dead(space: IpcSpace): IpcEntry | number {
  const entry = ipc_entry_alloc(space);
  if (typeof entry === 'number') return entry;
  entry.ie_bits |= MACH_PORT_TYPE_DEAD_NAME | 1;
  return entry;
}

/**
 * ipc_object_alloc_dead_name: a dead name under a given name.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_NAME_EXISTS.
 */
export function ipc_object_alloc_dead_name(space: IpcSpace, name: number): number {
  const entry = ipc_entry_alloc_name(space, name);
  if (typeof entry === 'number') return entry;
  if (ipc_right_inuse(entry)) return KERN_NAME_EXISTS;
  entry.ie_bits |= MACH_PORT_TYPE_DEAD_NAME | 1;
  return KERN_SUCCESS;
}

/**
 * ipc_object_translate: the object a name denotes, if the entry holds `right`
 * (MACH_PORT_RIGHT_*).
 * Returns: the object, or KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function ipc_object_translate(space: IpcSpace, name: number, right: number): IpcObject | number {
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return entry;
  if ((entry.ie_bits & MACH_PORT_TYPE(right)) === 0) return KERN_INVALID_RIGHT;
  return entry.ie_object!;
}

// ==== copyin ========================================================================

/** ipc_object_copyin_type: the right type a disposition becomes once copied in. */
export function ipc_object_copyin_type(msgt_name: number): number {
  switch (msgt_name) {
    case 0: return 0;
    case MACH_MSG_TYPE_MOVE_RECEIVE: return MACH_MSG_TYPE_PORT_RECEIVE;
    case MACH_MSG_TYPE_MOVE_SEND_ONCE:
    case MACH_MSG_TYPE_MAKE_SEND_ONCE: return MACH_MSG_TYPE_PORT_SEND_ONCE;
    case MACH_MSG_TYPE_MOVE_SEND:
    case MACH_MSG_TYPE_MAKE_SEND:
    case MACH_MSG_TYPE_COPY_SEND: return MACH_MSG_TYPE_PORT_SEND;
    default: throw new Error(`ipc_object_copyin_type: strange rights ${msgt_name}`);
  }
}

/**
 * ipc_object_copyin: takes a right out of a space as a naked right, following the
 * disposition `msgt_name`. Dead names and dead ports give IP_DEAD. A dead-name request
 * that the move cancels yields a port-deleted notification.
 * Rights: per disposition (moves consume the space's right, copies and makes don't).
 * Returns: the naked right, or KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT.
 */
export function ipc_object_copyin(space: IpcSpace, name: number, msgt_name: number): IpcPortRef | number {
  const entry = ipc_right_lookup_write(space, name);
  if (typeof entry === 'number') return entry;
  const out: IpcRightCopyin = { object: null, soright: null };
  const kr = ipc_right_copyin(space, name, entry, msgt_name, true, out);
  if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, name, entry);
  if (kr !== KERN_SUCCESS) return kr;
  if (out.soright !== null) ipc_notify_port_deleted(out.soright, name);
  return out.object;
}

/**
 * ipc_object_copyin_from_kernel: turns a right the kernel supplies into the right a message
 * carries (MOVE_* consume the kernel's naked right; COPY_SEND, MAKE_SEND, MAKE_SEND_ONCE make a
 * new one; MAKE_* and MOVE_RECEIVE need the kernel to hold the receive right).
 * Rights: per disposition.
 */
export function ipc_object_copyin_from_kernel(port: IpcPort, msgt_name: number): void {
  switch (msgt_name) {
    case MACH_MSG_TYPE_MOVE_RECEIVE:
      port.ip_mscount = 0;
      port.ip_receiver_name = MACH_PORT_NULL;
      port.ip_receiver = null;
      port.ip_destination = null;
      port.ip_has_protected_payload = false;
      break;
    case MACH_MSG_TYPE_COPY_SEND:
      if (port.ip_active) port.ip_srights++;
      break;
    case MACH_MSG_TYPE_MAKE_SEND:
      port.ip_mscount++;
      port.ip_srights++;
      break;
    case MACH_MSG_TYPE_MAKE_SEND_ONCE:
      port.ip_sorights++;
      break;
    case MACH_MSG_TYPE_MOVE_SEND:
    case MACH_MSG_TYPE_MOVE_SEND_ONCE:
      break;
    default:
      throw new Error(`ipc_object_copyin_from_kernel: strange rights ${msgt_name}`);
  }
}

// ==== destroy =======================================================================

/**
 * ipc_object_destroy: destroys a naked right: a send right is released (maybe
 * no-senders), a send-once right is used for a send-once notification, a receive right
 * (in limbo or in transit) destroys its port.
 * Rights: consumes the right.
 */
export function ipc_object_destroy(port: IpcPort, msgt_name: number): void {
  switch (msgt_name) {
    case MACH_MSG_TYPE_PORT_SEND: ipc_port_release_send(port); break;
    case MACH_MSG_TYPE_PORT_SEND_ONCE: ipc_notify_send_once(port); break;
    case MACH_MSG_TYPE_PORT_RECEIVE: ipc_port_release_receive(port); break;
    default: throw new Error(`ipc_object_destroy: strange rights ${msgt_name}`);
  }
}

// ==== copyout =======================================================================

/**
 * ipc_object_copyout: puts a naked right into a space. Send and receive rights join the
 * entry already holding rights for the port, if any (one name per port); send-once rights
 * always get a new name. With `overflow`, a send right whose urefs would overflow is
 * absorbed and the urefs stay pegged.
 * Rights: consumes the naked right on success.
 * Returns: the entry, or KERN_INVALID_TASK (space dead), KERN_INVALID_CAPABILITY (the
 * port is dead), KERN_NO_SPACE, KERN_UREFS_OVERFLOW (only without `overflow`).
 */
export function ipc_object_copyout(
  space: IpcSpace, port: IpcPort, msgt_name: number, overflow: boolean,
): IpcEntry | number {
  if (!space.is_active) return KERN_INVALID_TASK;
  let entry = msgt_name !== MACH_MSG_TYPE_PORT_SEND_ONCE ? ipc_right_reverse(space, port) : null;
  if (entry === null) {
    const fresh = ipc_entry_alloc(space);
    if (typeof fresh === 'number') return fresh;
    if (!port.ip_active) {
      ipc_entry_dealloc(space, fresh.ie_name, fresh);
      return KERN_INVALID_CAPABILITY;
    }
    fresh.ie_object = port;
    entry = fresh;
  }
  const kr = ipc_right_copyout(space, entry.ie_name, entry, msgt_name, overflow, port);
  return kr === KERN_SUCCESS ? entry : kr;
}

/**
 * ipc_object_copyout_name: like ipc_object_copyout, under a given name
 * (mach_port_insert_right).
 * Rights: consumes the naked right on success.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_CAPABILITY, KERN_UREFS_OVERFLOW,
 * KERN_RIGHT_EXISTS (the space names the port under another name), KERN_NAME_EXISTS.
 */
export function ipc_object_copyout_name(
  space: IpcSpace, port: IpcPort, msgt_name: number, overflow: boolean, name: number,
): number {
  const entry = ipc_entry_alloc_name(space, name);
  if (typeof entry === 'number') return entry;
  const oentry = msgt_name !== MACH_MSG_TYPE_PORT_SEND_ONCE ? ipc_right_reverse(space, port) : null;
  if (oentry !== null) {
    if (oentry !== entry) {
      if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, name, entry);
      return KERN_RIGHT_EXISTS;
    }
  } else {
    if (ipc_right_inuse(entry)) return KERN_NAME_EXISTS;
    if (!port.ip_active) {
      ipc_entry_dealloc(space, name, entry);
      return KERN_INVALID_CAPABILITY;
    }
    entry.ie_object = port;
  }
  return ipc_right_copyout(space, name, entry, msgt_name, overflow, port);
}

/**
 * ipc_object_copyout_dest: consumes the destination right of a received message. The
 * receiver gets its own name for the port if it holds the receive right, else
 * MACH_PORT_NULL (a send-once right then produces a send-once notification).
 * Rights: consumes the send or send-once right.
 * Conditions: the port is active.
 * Returns: the name.
 */
export function ipc_object_copyout_dest(space: IpcSpace, port: IpcPort, msgt_name: number): number {
  switch (msgt_name) {
    case MACH_MSG_TYPE_PORT_SEND: {
      const name = port.ip_receiver === space ? port.ip_receiver_name : MACH_PORT_NULL;
      ipc_port_release_send(port);
      return name;
    }
    case MACH_MSG_TYPE_PORT_SEND_ONCE:
      if (port.ip_receiver === space) {
        port.ip_sorights--;
        return port.ip_receiver_name;
      }
      ipc_notify_send_once(port);
      return MACH_PORT_NULL;
    default:
      throw new Error(`ipc_object_copyout_dest: strange rights ${msgt_name}`);
  }
}

/**
 * ipc_object_rename: moves the rights of `oname` to `nname`.
 * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME (oname names nothing, or
 * equals nname), KERN_NAME_EXISTS (nname is taken).
 */
export function ipc_object_rename(space: IpcSpace, oname: number, nname: number): number {
  const nentry = ipc_entry_alloc_name(space, nname);
  if (typeof nentry === 'number') return nentry;
  if (ipc_right_inuse(nentry)) return KERN_NAME_EXISTS;
  const oentry = oname === nname ? null : ipc_entry_lookup(space, oname);
  if (oentry === null) {
    ipc_entry_dealloc(space, nname, nentry);
    return KERN_INVALID_NAME;
  }
  return ipc_right_rename(space, oname, oentry, nname, nentry);
}

