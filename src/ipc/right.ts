/*
 * File: ipc/right.ts
 * Purpose: ipc_right — every transition of the rights a name denotes: lookup, dead-name
 *          requests, the lazy conversion of rights to dead ports into dead names,
 *          destruction, user-reference changes, copyin and copyout for message transfer,
 *          renaming (GNU Mach ipc/ipc_right.c).
 *
 * Send and send-once rights for a port that died are not visited when it dies: the entry
 * keeps pointing at the dead port until someone looks at it; ipc_right_check then turns it
 * into a dead name (one more user reference if a dead-name notification was sent for it).
 *
 * Notifications are always sent after the entry has been updated, as GNU Mach sends them
 * after unlocking the space.
 */

import {
  KERN_INVALID_ARGUMENT, KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_TASK,
  KERN_INVALID_VALUE, KERN_SUCCESS, KERN_UREFS_OVERFLOW,
} from '../mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
} from '../mach/message.js';
import {
  MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE,
  MACH_PORT_RIGHT_SEND, MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_TYPE_DEAD_NAME,
  MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_MAREQUEST, MACH_PORT_TYPE_NONE,
  MACH_PORT_TYPE_PORT_OR_DEAD, MACH_PORT_TYPE_PORT_RIGHTS, MACH_PORT_TYPE_PORT_SET,
  MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE,
  MACH_PORT_TYPE_SEND_RECEIVE, MACH_PORT_TYPE_SEND_RIGHTS, MACH_PORT_UREFS_MAX,
} from '../mach/port.js';
import {
  IE_BITS_MAREQUEST, IE_BITS_RIGHT_MASK, IE_BITS_TYPE, IE_BITS_TYPE_MASK, IE_BITS_UREFS,
  IE_BITS_UREFS_MASK, MACH_PORT_UREFS_OVERFLOW, MACH_PORT_UREFS_UNDERFLOW, type IpcEntry,
} from './entry.js';
import { ipc_marequest_cancel, ipc_marequest_rename } from './marequest.js';
import {
  ipc_notify_dead_name, ipc_notify_no_senders, ipc_notify_port_deleted, ipc_notify_send_once,
} from './notify.js';
import {
  IP_DEAD, ipc_port_clear_receiver, ipc_port_destroy, ipc_port_dncancel, ipc_port_dngrow,
  ipc_port_dnrename, ipc_port_dnrequest, type IpcPort, type IpcPortRef,
} from './port.js';
import { ipc_pset_destroy, type IpcPset } from './pset.js';
import {
  ipc_entry_dealloc, ipc_entry_lookup, ipc_reverse_insert, ipc_reverse_lookup,
  ipc_reverse_remove, type IpcSpace,
} from './space.js';

/** The outputs of ipc_right_copyin: the naked right, and a send-once right to use for a
 *  port-deleted notification (a dead-name request the copyin cancelled). */
export interface IpcRightCopyin {
  object: IpcPortRef;
  soright: IpcPort | null;
}

// ==== lookup ========================================================================

/**
 * ipc_right_lookup_write: the entry a name denotes.
 * Returns: the entry, or KERN_INVALID_TASK (space dead), KERN_INVALID_NAME.
 */
export function ipc_right_lookup_write(space: IpcSpace, name: number): IpcEntry | number {
  if (!space.is_active) return KERN_INVALID_TASK;
  return ipc_entry_lookup(space, name) ?? KERN_INVALID_NAME;
}

/**
 * ipc_right_reverse: the entry holding send or receive rights for `port` in `space`.
 * Conditions: the space is active.
 * Returns: the entry, or null (none, or the port is dead).
 */
export function ipc_right_reverse(space: IpcSpace, port: IpcPort): IpcEntry | null {
  if (!port.ip_active) return null;
  if (port.ip_receiver === space) return ipc_entry_lookup(space, port.ip_receiver_name);
  return ipc_reverse_lookup(space, port);
}

/** ipc_right_inuse: does the entry already hold rights? */
export function ipc_right_inuse(entry: IpcEntry): boolean {
  return IE_BITS_TYPE(entry.ie_bits) !== MACH_PORT_TYPE_NONE;
}

// ==== dead-name requests ============================================================

/**
 * ipc_right_dnrequest: registers `notify` for a dead-name notification about `name`, or
 * cancels the request if `notify` is null. If `name` is already a dead name and
 * `immediate`, the notification is sent at once and the dead name gains a user reference.
 * Rights: consumes `notify` on success; returns the previously registered send-once right.
 * Returns: kr KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_NAME, KERN_INVALID_RIGHT (not a
 * port right or dead name), KERN_INVALID_ARGUMENT (a dead name, but not immediate or no
 * notify port), KERN_UREFS_OVERFLOW, KERN_RESOURCE_SHORTAGE.
 */
export function ipc_right_dnrequest(
  space: IpcSpace, name: number, immediate: boolean, notify: IpcPort | null,
): { kr: number; previous: IpcPort | null } {
  for (;;) {
    const entry = ipc_right_lookup_write(space, name);
    if (typeof entry === 'number') return { kr: entry, previous: null };

    let bits = entry.ie_bits;
    if (bits & MACH_PORT_TYPE_PORT_RIGHTS) {
      const port = entry.ie_object as IpcPort;
      if (!ipc_right_check(space, port, name, entry)) {
        const previous = ipc_right_dncancel_macro(space, port, name, entry);
        if (notify === null) return { kr: KERN_SUCCESS, previous };
        // A cancelled request frees its slot first, so this reuses it.
        const request = ipc_port_dnrequest(port, name, notify);
        if (request === 0) {
          const kr = ipc_port_dngrow(port);
          if (kr !== KERN_SUCCESS) return { kr, previous: null };
          continue;
        }
        entry.ie_request = request;
        return { kr: KERN_SUCCESS, previous };
      }
      bits = entry.ie_bits;
    }

    if ((bits & MACH_PORT_TYPE_DEAD_NAME) && immediate && notify !== null) {
      if (MACH_PORT_UREFS_OVERFLOW(IE_BITS_UREFS(bits), 1)) return { kr: KERN_UREFS_OVERFLOW, previous: null };
      entry.ie_bits = bits + 1;
      ipc_notify_dead_name(notify, name);
      return { kr: KERN_SUCCESS, previous: null };
    }

    return {
      kr: bits & MACH_PORT_TYPE_PORT_OR_DEAD ? KERN_INVALID_ARGUMENT : KERN_INVALID_RIGHT,
      previous: null,
    };
  }
}

/**
 * ipc_right_dncancel: cancels the entry's dead-name request.
 * Rights: returns the registered send-once right.
 * Conditions: the port is active and the entry has a request.
 */
export function ipc_right_dncancel(space: IpcSpace, port: IpcPort, name: number, entry: IpcEntry): IpcPort | null {
  const dnrequest = ipc_port_dncancel(port, name, entry.ie_request);
  entry.ie_request = 0;
  return dnrequest;
}

/** ipc_right_dncancel_macro: ipc_right_dncancel if the entry has a request. */
function ipc_right_dncancel_macro(space: IpcSpace, port: IpcPort, name: number, entry: IpcEntry): IpcPort | null {
  return entry.ie_request !== 0 ? ipc_right_dncancel(space, port, name, entry) : null;
}

// ==== dead ports ====================================================================

/**
 * ipc_right_check: if the port a send or send-once entry denotes has died, turns the
 * entry into a dead name (one more uref if a dead-name notification was registered).
 * Returns: true if the port was dead (the entry is now a dead name).
 */
export function ipc_right_check(space: IpcSpace, port: IpcPort, name: number, entry: IpcEntry): boolean {
  if (port.ip_active) return false;
  let bits = entry.ie_bits;
  if (bits & MACH_PORT_TYPE_SEND) {
    if (bits & IE_BITS_MAREQUEST) {
      bits &= ~IE_BITS_MAREQUEST;
      ipc_marequest_cancel(space, name);
    }
    ipc_reverse_remove(space, port);
  }
  bits = (bits & ~IE_BITS_TYPE_MASK) | MACH_PORT_TYPE_DEAD_NAME;
  if (entry.ie_request !== 0) {
    entry.ie_request = 0;
    bits++;
  }
  entry.ie_bits = bits;
  entry.ie_object = null;
  return true;
}

// ==== destruction ===================================================================

/**
 * ipc_right_clean: releases the rights of an entry of a dead space (ipc_space_destroy).
 * The entry itself is not deallocated.
 * Rights: consumes the entry's rights: send → maybe no-senders; send-once → send-once
 * notification; receive → the port is destroyed; port set → destroyed; a dead-name
 * request → port-deleted notification.
 */
export function ipc_right_clean(space: IpcSpace, name: number, entry: IpcEntry): void {
  const type = IE_BITS_TYPE(entry.ie_bits);
  switch (type) {
    case MACH_PORT_TYPE_DEAD_NAME:
      break;

    case MACH_PORT_TYPE_PORT_SET:
      ipc_pset_destroy(entry.ie_object as IpcPset);
      break;

    case MACH_PORT_TYPE_SEND:
    case MACH_PORT_TYPE_RECEIVE:
    case MACH_PORT_TYPE_SEND_RECEIVE:
    case MACH_PORT_TYPE_SEND_ONCE: {
      const port = entry.ie_object as IpcPort;
      if (!port.ip_active) break;

      const dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
      let nsrequest: IpcPort | null = null;
      let mscount = 0;
      if (type & MACH_PORT_TYPE_SEND) {
        if (--port.ip_srights === 0) {
          nsrequest = port.ip_nsrequest;
          if (nsrequest !== null) {
            port.ip_nsrequest = null;
            mscount = port.ip_mscount;
          }
        }
      }

      if (type & MACH_PORT_TYPE_RECEIVE) {
        ipc_port_clear_receiver(port);
        ipc_port_destroy(port);
      } else if (type & MACH_PORT_TYPE_SEND_ONCE) {
        ipc_notify_send_once(port);
      }

      if (nsrequest !== null) ipc_notify_no_senders(nsrequest, mscount);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      break;
    }

    default:
      throw new Error(`ipc_right_clean: strange type 0x${type.toString(16)}`);
  }
}

/**
 * ipc_right_destroy: destroys all the rights a name denotes and frees the name.
 * A receive right destroys its port (or sends it to its port-destroyed request); a
 * send-once right produces a send-once notification; the last send right may produce a
 * no-senders notification; a cancelled dead-name request a port-deleted notification.
 * Rights: consumes all rights of the entry.
 * Returns: KERN_SUCCESS.
 */
export function ipc_right_destroy(space: IpcSpace, name: number, entry: IpcEntry): number {
  const bits = entry.ie_bits;
  const type = IE_BITS_TYPE(bits);
  switch (type) {
    case MACH_PORT_TYPE_DEAD_NAME:
      ipc_entry_dealloc(space, name, entry);
      break;

    case MACH_PORT_TYPE_PORT_SET: {
      const pset = entry.ie_object as IpcPset;
      ipc_entry_dealloc(space, name, entry);
      ipc_pset_destroy(pset);
      break;
    }

    case MACH_PORT_TYPE_SEND:
    case MACH_PORT_TYPE_RECEIVE:
    case MACH_PORT_TYPE_SEND_RECEIVE:
    case MACH_PORT_TYPE_SEND_ONCE: {
      const port = entry.ie_object as IpcPort;
      if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
      if (type === MACH_PORT_TYPE_SEND) ipc_reverse_remove(space, port);

      if (!port.ip_active) {
        ipc_entry_dealloc(space, name, entry);
        break;
      }

      const dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
      ipc_entry_dealloc(space, name, entry);

      let nsrequest: IpcPort | null = null;
      let mscount = 0;
      if (type & MACH_PORT_TYPE_SEND) {
        if (--port.ip_srights === 0) {
          nsrequest = port.ip_nsrequest;
          if (nsrequest !== null) {
            port.ip_nsrequest = null;
            mscount = port.ip_mscount;
          }
        }
      }

      if (type & MACH_PORT_TYPE_RECEIVE) {
        ipc_port_clear_receiver(port);
        ipc_port_destroy(port);
      } else if (type & MACH_PORT_TYPE_SEND_ONCE) {
        ipc_notify_send_once(port);
      }

      if (nsrequest !== null) ipc_notify_no_senders(nsrequest, mscount);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      break;
    }

    default:
      throw new Error(`ipc_right_destroy: strange type 0x${type.toString(16)}`);
  }
  return KERN_SUCCESS;
}

/**
 * ipc_right_dealloc: releases one user reference of a send, send-once or dead-name right
 * (mach_port_deallocate). A send-once right produces a send-once notification; the last
 * send right may produce a no-senders notification; a right to a dead port is treated as
 * the dead name it has become.
 * Rights: consumes one user reference.
 * Returns: KERN_SUCCESS, KERN_INVALID_RIGHT (receive-only, port set).
 */
export function ipc_right_dealloc(space: IpcSpace, name: number, entry: IpcEntry): number {
  let bits = entry.ie_bits;
  let type = IE_BITS_TYPE(bits);

  if (type === MACH_PORT_TYPE_SEND || type === MACH_PORT_TYPE_SEND_ONCE) {
    if (ipc_right_check(space, entry.ie_object as IpcPort, name, entry)) {
      bits = entry.ie_bits;
      type = MACH_PORT_TYPE_DEAD_NAME;
    }
  }

  switch (type) {
    case MACH_PORT_TYPE_DEAD_NAME:
      if (IE_BITS_UREFS(bits) === 1) ipc_entry_dealloc(space, name, entry);
      else entry.ie_bits = bits - 1;
      return KERN_SUCCESS;

    case MACH_PORT_TYPE_SEND_ONCE: {
      const port = entry.ie_object as IpcPort;
      const dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
      ipc_entry_dealloc(space, name, entry);
      ipc_notify_send_once(port);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      return KERN_SUCCESS;
    }

    case MACH_PORT_TYPE_SEND: {
      const port = entry.ie_object as IpcPort;
      let dnrequest: IpcPort | null = null;
      let nsrequest: IpcPort | null = null;
      let mscount = 0;
      if (IE_BITS_UREFS(bits) === 1) {
        if (--port.ip_srights === 0) {
          nsrequest = port.ip_nsrequest;
          if (nsrequest !== null) {
            port.ip_nsrequest = null;
            mscount = port.ip_mscount;
          }
        }
        dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
        ipc_reverse_remove(space, port);
        if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
        ipc_entry_dealloc(space, name, entry);
      } else {
        entry.ie_bits = bits - 1;
      }
      if (nsrequest !== null) ipc_notify_no_senders(nsrequest, mscount);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      return KERN_SUCCESS;
    }

    case MACH_PORT_TYPE_SEND_RECEIVE: {
      const port = entry.ie_object as IpcPort;
      let nsrequest: IpcPort | null = null;
      let mscount = 0;
      if (IE_BITS_UREFS(bits) === 1) {
        if (--port.ip_srights === 0) {
          nsrequest = port.ip_nsrequest;
          if (nsrequest !== null) {
            port.ip_nsrequest = null;
            mscount = port.ip_mscount;
          }
        }
        entry.ie_bits = bits & ~(IE_BITS_UREFS_MASK | MACH_PORT_TYPE_SEND);
      } else {
        entry.ie_bits = bits - 1;
      }
      if (nsrequest !== null) ipc_notify_no_senders(nsrequest, mscount);
      return KERN_SUCCESS;
    }

    default:
      return KERN_INVALID_RIGHT;
  }
}

/**
 * ipc_right_delta: changes the user references of one kind of right (mach_port_mod_refs).
 * Receive and port-set rights accept only 0 and -1 (-1 destroys them); send-once rights 0
 * and -1; send and dead-name rights any delta that keeps urefs in [0, MACH_PORT_UREFS_MAX]
 * (send rights: below MACH_PORT_UREFS_MAX). Reaching 0 frees the right (and the name if
 * nothing else is left), with the notifications ipc_right_destroy would send. Destroying
 * the receive right of a name that also holds send rights leaves a dead name.
 * Rights: adds or removes user references.
 * Returns: KERN_SUCCESS, KERN_INVALID_RIGHT (the name doesn't hold that right),
 * KERN_INVALID_VALUE (bad delta), KERN_UREFS_OVERFLOW.
 */
export function ipc_right_delta(space: IpcSpace, name: number, entry: IpcEntry, right: number, delta: number): number {
  let bits = entry.ie_bits;

  switch (right) {
    case MACH_PORT_RIGHT_PORT_SET: {
      if ((bits & MACH_PORT_TYPE_PORT_SET) === 0) return KERN_INVALID_RIGHT;
      if (delta === 0) return KERN_SUCCESS;
      if (delta !== -1) return KERN_INVALID_VALUE;
      const pset = entry.ie_object as IpcPset;
      ipc_entry_dealloc(space, name, entry);
      ipc_pset_destroy(pset);
      return KERN_SUCCESS;
    }

    case MACH_PORT_RIGHT_RECEIVE: {
      if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) return KERN_INVALID_RIGHT;
      if (delta === 0) return KERN_SUCCESS;
      if (delta !== -1) return KERN_INVALID_VALUE;

      if (bits & IE_BITS_MAREQUEST) {
        bits &= ~IE_BITS_MAREQUEST;
        ipc_marequest_cancel(space, name);
      }
      const port = entry.ie_object as IpcPort;
      let dnrequest: IpcPort | null = null;
      if (bits & MACH_PORT_TYPE_SEND) {
        // The send rights become a dead name. ip_srights isn't decremented and no
        // no-senders or dead-name request is touched: the port is destroyed "first".
        bits = (bits & ~IE_BITS_TYPE_MASK) | MACH_PORT_TYPE_DEAD_NAME;
        if (entry.ie_request !== 0) {
          entry.ie_request = 0;
          bits++;
        }
        entry.ie_bits = bits;
        entry.ie_object = null;
      } else {
        dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
        ipc_entry_dealloc(space, name, entry);
      }
      ipc_port_clear_receiver(port);
      ipc_port_destroy(port);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      return KERN_SUCCESS;
    }

    case MACH_PORT_RIGHT_SEND_ONCE: {
      if ((bits & MACH_PORT_TYPE_SEND_ONCE) === 0) return KERN_INVALID_RIGHT;
      if (delta > 0 || delta < -1) return KERN_INVALID_VALUE;
      const port = entry.ie_object as IpcPort;
      if (ipc_right_check(space, port, name, entry)) return KERN_INVALID_RIGHT;
      if (delta === 0) return KERN_SUCCESS;
      const dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
      ipc_entry_dealloc(space, name, entry);
      ipc_notify_send_once(port);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      return KERN_SUCCESS;
    }

    case MACH_PORT_RIGHT_DEAD_NAME: {
      if (bits & MACH_PORT_TYPE_SEND_RIGHTS) {
        if (!ipc_right_check(space, entry.ie_object as IpcPort, name, entry)) return KERN_INVALID_RIGHT;
        bits = entry.ie_bits;
      } else if ((bits & MACH_PORT_TYPE_DEAD_NAME) === 0) {
        return KERN_INVALID_RIGHT;
      }
      const urefs = IE_BITS_UREFS(bits);
      if (MACH_PORT_UREFS_UNDERFLOW(urefs, delta)) return KERN_INVALID_VALUE;
      if (MACH_PORT_UREFS_OVERFLOW(urefs, delta)) return KERN_UREFS_OVERFLOW;
      if (urefs + delta === 0) ipc_entry_dealloc(space, name, entry);
      else entry.ie_bits = bits + delta;
      return KERN_SUCCESS;
    }

    case MACH_PORT_RIGHT_SEND: {
      if ((bits & MACH_PORT_TYPE_SEND) === 0) return KERN_INVALID_RIGHT;
      // The maximum urefs for send rights is MACH_PORT_UREFS_MAX - 1.
      const urefs = IE_BITS_UREFS(bits);
      if (MACH_PORT_UREFS_UNDERFLOW(urefs, delta)) return KERN_INVALID_VALUE;
      if (MACH_PORT_UREFS_OVERFLOW(urefs + 1, delta)) return KERN_UREFS_OVERFLOW;
      const port = entry.ie_object as IpcPort;
      if (ipc_right_check(space, port, name, entry)) return KERN_INVALID_RIGHT;

      let dnrequest: IpcPort | null = null;
      let nsrequest: IpcPort | null = null;
      let mscount = 0;
      if (urefs + delta === 0) {
        if (--port.ip_srights === 0) {
          nsrequest = port.ip_nsrequest;
          if (nsrequest !== null) {
            port.ip_nsrequest = null;
            mscount = port.ip_mscount;
          }
        }
        if (bits & MACH_PORT_TYPE_RECEIVE) {
          entry.ie_bits = bits & ~(IE_BITS_UREFS_MASK | MACH_PORT_TYPE_SEND);
        } else {
          dnrequest = ipc_right_dncancel_macro(space, port, name, entry);
          ipc_reverse_remove(space, port);
          if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
          ipc_entry_dealloc(space, name, entry);
        }
      } else {
        entry.ie_bits = bits + delta;
      }
      if (nsrequest !== null) ipc_notify_no_senders(nsrequest, mscount);
      if (dnrequest !== null) ipc_notify_port_deleted(dnrequest, name);
      return KERN_SUCCESS;
    }

    default:
      return KERN_INVALID_VALUE;
  }
}

/**
 * ipc_right_info: the type bits (with MACH_PORT_TYPE_DNREQUEST / _MAREQUEST) and urefs
 * of an entry, after turning a right to a dead port into a dead name.
 */
export function ipc_right_info(space: IpcSpace, name: number, entry: IpcEntry): { type: number; urefs: number } {
  if (entry.ie_bits & MACH_PORT_TYPE_SEND_RIGHTS) {
    ipc_right_check(space, entry.ie_object as IpcPort, name, entry);
  }
  const bits = entry.ie_bits;
  let type = IE_BITS_TYPE(bits);
  if (entry.ie_request !== 0) type |= MACH_PORT_TYPE_DNREQUEST;
  if (bits & IE_BITS_MAREQUEST) type |= MACH_PORT_TYPE_MAREQUEST;
  return { type: type >>> 0, urefs: IE_BITS_UREFS(bits) };
}

// ==== copyin ========================================================================

/**
 * ipc_right_copyin_check: would ipc_right_copyin with this disposition succeed?
 * (Dead names and dead ports pass for the send dispositions: they copy in as IP_DEAD.)
 */
export function ipc_right_copyin_check(space: IpcSpace, name: number, entry: IpcEntry, msgt_name: number): boolean {
  const bits = entry.ie_bits;
  switch (msgt_name) {
    case MACH_MSG_TYPE_MAKE_SEND:
    case MACH_MSG_TYPE_MAKE_SEND_ONCE:
    case MACH_MSG_TYPE_MOVE_RECEIVE:
      return (bits & MACH_PORT_TYPE_RECEIVE) !== 0;

    case MACH_MSG_TYPE_COPY_SEND:
    case MACH_MSG_TYPE_MOVE_SEND:
    case MACH_MSG_TYPE_MOVE_SEND_ONCE: {
      if (bits & MACH_PORT_TYPE_DEAD_NAME) return true;
      if ((bits & MACH_PORT_TYPE_SEND_RIGHTS) === 0) return false;
      if (!(entry.ie_object as IpcPort).ip_active) return true;
      return msgt_name === MACH_MSG_TYPE_MOVE_SEND_ONCE
        ? (bits & MACH_PORT_TYPE_SEND_ONCE) !== 0
        : (bits & MACH_PORT_TYPE_SEND) !== 0;
    }

    default:
      throw new Error(`ipc_right_copyin_check: strange rights ${msgt_name}`);
  }
}

/**
 * ipc_right_copyin: takes a right out of an entry for a message, as `msgt_name` says:
 *   MAKE_SEND / MAKE_SEND_ONCE  need the receive right; mscount+srights / sorights go up;
 *   MOVE_RECEIVE                the receive right leaves the space (in limbo: receivers
 *                               get MACH_RCV_PORT_DIED, mscount and seqno reset to 0);
 *   COPY_SEND                   a new send right; the entry keeps its urefs;
 *   MOVE_SEND                   one uref moves out (the last one takes the entry's right);
 *   MOVE_SEND_ONCE              the send-once right leaves the space.
 * A dead name or a right to a dead port gives IP_DEAD if `deadok` (MOVE_* then consume a
 * uref of the dead name), else KERN_INVALID_RIGHT. A move that empties an entry with a
 * dead-name request cancels it and hands back its send-once right (out.soright), for a
 * port-deleted notification.
 * Rights: per disposition. The entry may be left with type MACH_PORT_TYPE_NONE: the caller
 * deallocates it.
 * Returns: KERN_SUCCESS (out.object, out.soright set), KERN_INVALID_RIGHT.
 */
export function ipc_right_copyin(
  space: IpcSpace, name: number, entry: IpcEntry, msgt_name: number, deadok: boolean, out: IpcRightCopyin,
): number {
  let bits = entry.ie_bits;
  out.soright = null;

  switch (msgt_name) {
    case MACH_MSG_TYPE_MAKE_SEND: {
      if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      port.ip_mscount++;
      port.ip_srights++;
      out.object = port;
      return KERN_SUCCESS;
    }

    case MACH_MSG_TYPE_MAKE_SEND_ONCE: {
      if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      port.ip_sorights++;
      out.object = port;
      return KERN_SUCCESS;
    }

    case MACH_MSG_TYPE_MOVE_RECEIVE: {
      if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      if (bits & MACH_PORT_TYPE_SEND) {
        // The entry keeps the send rights: it is now found through the reverse map.
        ipc_reverse_insert(space, port, entry);
      } else {
        out.soright = ipc_right_dncancel_macro(space, port, name, entry);
        if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
        entry.ie_object = null;
      }
      entry.ie_bits = bits & ~MACH_PORT_TYPE_RECEIVE;
      ipc_port_clear_receiver(port);
      port.ip_receiver_name = 0;
      port.ip_receiver = null;
      port.ip_destination = null;
      port.ip_has_protected_payload = false;
      out.object = port;
      return KERN_SUCCESS;
    }

    case MACH_MSG_TYPE_COPY_SEND: {
      if (bits & MACH_PORT_TYPE_DEAD_NAME) return copyinDead(deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND_RIGHTS) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      if (ipc_right_check(space, port, name, entry)) return copyinDead(deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND) === 0) return KERN_INVALID_RIGHT;
      port.ip_srights++;
      out.object = port;
      return KERN_SUCCESS;
    }

    case MACH_MSG_TYPE_MOVE_SEND: {
      if (bits & MACH_PORT_TYPE_DEAD_NAME) return moveDead(entry, deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND_RIGHTS) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      if (ipc_right_check(space, port, name, entry)) return moveDead(entry, deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND) === 0) return KERN_INVALID_RIGHT;
      if (IE_BITS_UREFS(bits) === 1) {
        if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) {
          out.soright = ipc_right_dncancel_macro(space, port, name, entry);
          ipc_reverse_remove(space, port);
          if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
          entry.ie_object = null;
        }
        entry.ie_bits = bits & ~(IE_BITS_UREFS_MASK | MACH_PORT_TYPE_SEND);
      } else {
        port.ip_srights++;
        entry.ie_bits = bits - 1;
      }
      out.object = port;
      return KERN_SUCCESS;
    }

    case MACH_MSG_TYPE_MOVE_SEND_ONCE: {
      if (bits & MACH_PORT_TYPE_DEAD_NAME) return moveDead(entry, deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND_RIGHTS) === 0) return KERN_INVALID_RIGHT;
      const port = entry.ie_object as IpcPort;
      if (ipc_right_check(space, port, name, entry)) return moveDead(entry, deadok, out);
      if ((bits & MACH_PORT_TYPE_SEND_ONCE) === 0) return KERN_INVALID_RIGHT;
      out.soright = ipc_right_dncancel_macro(space, port, name, entry);
      entry.ie_object = null;
      entry.ie_bits = bits & ~MACH_PORT_TYPE_SEND_ONCE;
      out.object = port;
      return KERN_SUCCESS;
    }

    default:
      throw new Error(`ipc_right_copyin: strange rights ${msgt_name}`);
  }
}

/** copy_dead: a dead name copied (not moved) gives IP_DEAD; the entry is unchanged. */
function copyinDead(deadok: boolean, out: IpcRightCopyin): number {
  if (!deadok) return KERN_INVALID_RIGHT;
  out.object = IP_DEAD;
  return KERN_SUCCESS;
}

/** move_dead: a dead name moved gives IP_DEAD and loses one uref. */
function moveDead(entry: IpcEntry, deadok: boolean, out: IpcRightCopyin): number {
  if (!deadok) return KERN_INVALID_RIGHT;
  const bits = entry.ie_bits;
  entry.ie_bits = IE_BITS_UREFS(bits) === 1 ? bits & ~MACH_PORT_TYPE_DEAD_NAME : bits - 1;
  out.object = IP_DEAD;
  return KERN_SUCCESS;
}

/**
 * ipc_right_copyin_two: MOVE_SEND twice from one entry (a message whose destination and
 * reply are the same name, both MOVE_SEND).
 * Rights: two send rights leave the entry.
 * Returns: KERN_SUCCESS, KERN_INVALID_RIGHT (fewer than two urefs, or the port is dead).
 */
export function ipc_right_copyin_two(space: IpcSpace, name: number, entry: IpcEntry, out: IpcRightCopyin): number {
  const bits = entry.ie_bits;
  out.soright = null;
  if ((bits & MACH_PORT_TYPE_SEND) === 0) return KERN_INVALID_RIGHT;
  const urefs = IE_BITS_UREFS(bits);
  if (urefs < 2) return KERN_INVALID_RIGHT;
  const port = entry.ie_object as IpcPort;
  if (ipc_right_check(space, port, name, entry)) return KERN_INVALID_RIGHT;

  if (urefs === 2) {
    if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) {
      out.soright = ipc_right_dncancel_macro(space, port, name, entry);
      ipc_reverse_remove(space, port);
      if (bits & IE_BITS_MAREQUEST) ipc_marequest_cancel(space, name);
      entry.ie_object = null;
    }
    port.ip_srights++;
    entry.ie_bits = bits & ~(IE_BITS_UREFS_MASK | MACH_PORT_TYPE_SEND);
  } else {
    port.ip_srights += 2;
    entry.ie_bits = bits - 2;
  }
  out.object = port;
  return KERN_SUCCESS;
}

// ==== copyout =======================================================================

/**
 * ipc_right_copyout: puts a naked right into an entry (new, or already holding rights for
 * the port). A send right joining existing send rights adds a uref; at
 * MACH_PORT_UREFS_MAX - 1 urefs it fails with KERN_UREFS_OVERFLOW unless `overflow`, in
 * which case the right is absorbed and urefs stay pegged. A receive right arriving where
 * the space has send rights makes one send/receive entry.
 * Rights: consumes the naked right on success.
 * Conditions: the port is active; entry.ie_object is the port.
 * Returns: KERN_SUCCESS, KERN_UREFS_OVERFLOW.
 */
export function ipc_right_copyout(
  space: IpcSpace, name: number, entry: IpcEntry, msgt_name: number, overflow: boolean, port: IpcPort,
): number {
  const bits = entry.ie_bits;
  switch (msgt_name) {
    case MACH_MSG_TYPE_PORT_SEND_ONCE:
      entry.ie_bits = bits | MACH_PORT_TYPE_SEND_ONCE | 1;
      return KERN_SUCCESS;

    case MACH_MSG_TYPE_PORT_SEND:
      if (bits & MACH_PORT_TYPE_SEND) {
        if (IE_BITS_UREFS(bits) + 1 === MACH_PORT_UREFS_MAX) {
          if (!overflow) return KERN_UREFS_OVERFLOW;
          port.ip_srights--;
          return KERN_SUCCESS;
        }
        // Merge into the existing send right.
        port.ip_srights--;
      } else if ((bits & MACH_PORT_TYPE_RECEIVE) === 0) {
        ipc_reverse_insert(space, port, entry);
      }
      entry.ie_bits = (bits | MACH_PORT_TYPE_SEND) + 1;
      return KERN_SUCCESS;

    case MACH_MSG_TYPE_PORT_RECEIVE:
      port.ip_receiver_name = name;
      port.ip_receiver = space;
      port.ip_destination = null;
      port.ip_has_protected_payload = false;
      if (bits & MACH_PORT_TYPE_SEND) ipc_reverse_remove(space, port);
      entry.ie_bits = bits | MACH_PORT_TYPE_RECEIVE;
      return KERN_SUCCESS;

    default:
      throw new Error(`ipc_right_copyout: strange rights ${msgt_name}`);
  }
}

// ==== rename ========================================================================

/**
 * ipc_right_rename: moves the rights, dead-name request and msg-accepted request of
 * `oname` to the unused entry `nname`, and frees `oname`.
 * Returns: KERN_SUCCESS.
 */
export function ipc_right_rename(
  space: IpcSpace, oname: number, oentry: IpcEntry, nname: number, nentry: IpcEntry,
): number {
  let bits = oentry.ie_bits;
  let request = oentry.ie_request;
  let object = oentry.ie_object;

  if (request !== 0) {
    const port = object as IpcPort;
    if (ipc_right_check(space, port, oname, oentry)) {
      bits = oentry.ie_bits;
      request = 0;
      object = null;
    } else {
      ipc_port_dnrename(port, request, nname);
      oentry.ie_request = 0;
    }
  }

  if (bits & IE_BITS_MAREQUEST) ipc_marequest_rename(space, oname, nname);

  nentry.ie_bits |= bits & IE_BITS_RIGHT_MASK;
  nentry.ie_request = request;
  nentry.ie_object = object;

  switch (IE_BITS_TYPE(bits)) {
    case MACH_PORT_TYPE_SEND:
      ipc_reverse_remove(space, object as IpcPort);
      ipc_reverse_insert(space, object as IpcPort, nentry);
      break;
    case MACH_PORT_TYPE_RECEIVE:
    case MACH_PORT_TYPE_SEND_RECEIVE:
      (object as IpcPort).ip_receiver_name = nname;
      break;
    case MACH_PORT_TYPE_PORT_SET:
      (object as IpcPset).ips_local_name = nname;
      break;
    default:
      break;
  }

  oentry.ie_object = null;
  ipc_entry_dealloc(space, oname, oentry);
  return KERN_SUCCESS;
}
