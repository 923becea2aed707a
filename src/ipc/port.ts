/*
 * File: ipc/port.ts
 * Purpose: ipc_port — a port: its receive right, the counts of its send and send-once
 *          rights, its message queue and its notification requests
 *          (GNU Mach ipc/ipc_port.[ch]).
 *
 * A receive right is in one of four states (ipc_port.h):
 *   1) dead: !ip_active; ip_timestamp says when it died;
 *   2) in a space: ip_receiver is the space, ip_receiver_name its name there;
 *   3) in transit: ip_receiver_name is MACH_PORT_NULL and ip_destination is the port
 *      whose queue holds the message carrying the receive right;
 *   4) in limbo: ip_receiver_name is MACH_PORT_NULL and ip_destination is null.
 * Kernel ports are in a space too: ipc_space_kernel, with a name no task can use.
 *
 * Memory is the garbage collector's business, so Mach's object references (ip_references)
 * are not kept; every right is counted (ip_srights, ip_sorights) exactly as Mach does.
 */

import {
  KERN_INVALID_CAPABILITY, KERN_RESOURCE_SHORTAGE, KERN_SUCCESS, MACH_RCV_PORT_DIED,
} from '../mach/kern_return.js';
import { MACH_MSG_TYPE_PORT_SEND } from '../mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_QLIMIT_DEFAULT, MACH_PORT_TYPE_RECEIVE,
} from '../mach/port.js';
import { IE_BITS_TYPE } from './entry.js';
import { ipc_kmsg_destroy, ipc_kmsg_dequeue } from './kmsg.js';
import { IKOT_NONE, ipc_kobject_destroy } from './kobject.js';
import { IpcMqueue, ipc_mqueue_changed, ipc_mqueue_send_wakeup } from './mqueue.js';
import {
  ipc_notify_dead_name, ipc_notify_no_senders, ipc_notify_port_destroyed, ipc_notify_send_once,
} from './notify.js';
import { ipc_object_alloc, ipc_object_alloc_name, ipc_object_copyout } from './object.js';
import { ipc_pset_remove, type IpcPset } from './pset.js';
import { ipc_entry_lookup, ipc_space_kernel, type IpcSpace } from './space.js';
import { IpcThreadQueue, ipc_thread_dequeue } from './thread.js';

// ==== naked rights: IP_NULL, IP_DEAD ================================================

/** IP_DEAD: a right that was present but died (MACH_PORT_DEAD once copied out). */
export const IP_DEAD: unique symbol = Symbol('IP_DEAD');
export type IpDead = typeof IP_DEAD;
/** A naked port right as the kernel holds it: a port, IP_NULL (null) or IP_DEAD. */
export type IpcPortRef = IpcPort | null | IpDead;

/** IP_VALID(port): neither IP_NULL nor IP_DEAD. */
export function IP_VALID(port: IpcPortRef): port is IpcPort {
  return port !== null && port !== IP_DEAD;
}

// ==== dead-name request tables (ipc/ipc_table.c) ====================================

/** struct ipc_port_request: a registered dead-name request, or a free slot. */
export interface IpcPortRequest {
  /** The requester's name for the right; MACH_PORT_NULL in a free slot. */
  ipr_name: number;
  ipr_soright: IpcPort | null;
  /** Free-list link (slot 0 holds the head). */
  ipr_next: number;
}

/**
 * ipc_table_dnrequests: the sizes a dead-name table grows through, computed as GNU Mach's
 * ipc_table_fill does for 16-byte requests and 4 KiB pages (2, 4, ... 128, then page
 * multiples); the last size is 0 (cannot grow: KERN_RESOURCE_SHORTAGE).
 */
export const ipc_table_dnrequests: readonly number[] = (() => {
  const PAGE_SIZE = 4096;
  const elemsize = 16;
  const num = 63;
  const minsize = 2 * elemsize;
  const sizes: number[] = [];
  let size = 1;
  for (; sizes.length < num && size < PAGE_SIZE; size <<= 1) {
    if (size >= minsize) sizes.push(size / elemsize);
  }
  for (let incrsize = PAGE_SIZE; sizes.length < num;) {
    for (let period = 0; period < 15 && sizes.length < num; period++, size += incrsize) {
      if (size >= minsize) sizes.push(size / elemsize);
    }
    if (incrsize < PAGE_SIZE << 3) incrsize <<= 1;
  }
  sizes.push(0);
  return sizes;
})();

// ==== the port ======================================================================

let ipc_port_timestamp_data = 0;
let ipc_port_live = 0;
let ipc_port_kernel_names = 0;

/** ipc_port_timestamp: a logical clock for port deaths. */
export function ipc_port_timestamp(): number {
  return ipc_port_timestamp_data++;
}

/** Number of ports alive (allocated and not yet destroyed), kernel ports included. */
export function ipc_port_count(): number {
  return ipc_port_live;
}

/** struct ipc_port. The constructor is ipc_port_init; allocate with ipc_port_alloc*. */
export class IpcPort {
  ip_active = true;
  /** The space holding the receive right (state 2), else null. */
  ip_receiver: IpcSpace | null;
  ip_receiver_name: number;
  /** In transit: the port whose queue holds the receive right (state 3). */
  ip_destination: IpcPort | null = null;
  ip_timestamp = 0;

  /** Kernel object: ip_kotype is one of IKOT_*, ip_kobject what the kernel attached. */
  ip_kotype = IKOT_NONE;
  ip_kobject: unknown = null;

  ip_mscount = 0;
  ip_srights = 0;
  ip_sorights = 0;

  ip_nsrequest: IpcPort | null = null;
  ip_pdrequest: IpcPort | null = null;
  ip_dnrequests: IpcPortRequest[] | null = null;

  ip_pset: IpcPset | null = null;
  ip_seqno = 0;
  ip_msgcount = 0;
  ip_qlimit = MACH_PORT_QLIMIT_DEFAULT;
  readonly ip_messages = new IpcMqueue();
  /** Senders waiting for room in the queue. */
  readonly ip_blocked = new IpcThreadQueue();

  ip_has_protected_payload = false;
  ip_protected_payload = 0;

  /** ipc_port_init */
  constructor(space: IpcSpace | null, name: number) {
    this.ip_receiver = space;
    this.ip_receiver_name = name;
  }
}

// ==== allocation ====================================================================

/**
 * ipc_port_alloc: a new port, its receive right in `space` under a new name
 * (port.ip_receiver_name). No send rights, qlimit MACH_PORT_QLIMIT_DEFAULT, mscount 0.
 * Rights: produces a receive right.
 * Returns: the port, or KERN_INVALID_TASK (space dead), KERN_NO_SPACE.
 */
export function ipc_port_alloc(space: IpcSpace): IpcPort | number {
  const port = new IpcPort(space, MACH_PORT_NULL);
  const entry = ipc_object_alloc(space, port, MACH_PORT_TYPE_RECEIVE, 0);
  if (typeof entry === 'number') return entry;
  port.ip_receiver_name = entry.ie_name;
  ipc_port_live++;
  return port;
}

/**
 * ipc_port_alloc_name: like ipc_port_alloc, under a name the caller chose.
 * Returns: the port, or KERN_INVALID_TASK, KERN_NAME_EXISTS.
 */
export function ipc_port_alloc_name(space: IpcSpace, name: number): IpcPort | number {
  const port = new IpcPort(space, name);
  const kr = ipc_object_alloc_name(space, port, MACH_PORT_TYPE_RECEIVE, 0, name);
  if (kr !== KERN_SUCCESS) return kr;
  ipc_port_live++;
  return port;
}

/**
 * ipc_port_alloc_special: a port whose receive right is held by a special space
 * (ipc_space_kernel). Its receiver name is valid but names nothing in any task.
 * Rights: produces a naked receive right.
 */
export function ipc_port_alloc_special(space: IpcSpace): IpcPort {
  // Any valid name will do (GNU Mach uses the port's address): it is only ever compared
  // after checking that ip_receiver is the special space.
  const port = new IpcPort(space, ++ipc_port_kernel_names);
  ipc_port_live++;
  return port;
}

/** ipc_port_alloc_kernel: a kernel port (receiver ipc_space_kernel). */
export function ipc_port_alloc_kernel(): IpcPort {
  return ipc_port_alloc_special(ipc_space_kernel);
}

/**
 * ipc_port_dealloc_special: destroys a port held by a special space.
 * Rights: consumes the naked receive right; senders find a dead port.
 */
export function ipc_port_dealloc_special(port: IpcPort, space: IpcSpace): void {
  if (port.ip_receiver !== space) throw new Error('ipc_port_dealloc_special: not the receiver');
  // Clearing the receiver first keeps ipc_mqueue_send from handing messages to the kernel.
  port.ip_receiver_name = MACH_PORT_NULL;
  port.ip_receiver = null;
  ipc_port_clear_receiver(port);
  ipc_port_destroy(port);
}

/** ipc_port_dealloc_kernel */
export function ipc_port_dealloc_kernel(port: IpcPort): void {
  ipc_port_dealloc_special(port, ipc_space_kernel);
}

// ==== dead-name requests ============================================================

/**
 * ipc_port_dnrequest: registers `soright` for a dead-name notification naming `name`.
 * Rights: keeps the send-once right `soright` (on success).
 * Conditions: the port is active.
 * Returns: the request index (> 0), or 0 when the table is full (call ipc_port_dngrow).
 */
export function ipc_port_dnrequest(port: IpcPort, name: number, soright: IpcPort): number {
  const table = port.ip_dnrequests;
  if (table === null) return 0;
  const index = table[0]!.ipr_next;
  if (index === 0) return 0;
  const ipr = table[index]!;
  table[0]!.ipr_next = ipr.ipr_next;
  ipr.ipr_name = name;
  ipr.ipr_soright = soright;
  return index;
}

/**
 * ipc_port_dngrow: grows the port's table of dead-name requests to its next size.
 * Returns: KERN_SUCCESS, KERN_RESOURCE_SHORTAGE (no bigger size).
 */
export function ipc_port_dngrow(port: IpcPort): number {
  const otable = port.ip_dnrequests;
  const osize = otable === null ? 1 : otable.length;
  const nsize = otable === null
    ? ipc_table_dnrequests[0]!
    : ipc_table_dnrequests[ipc_table_dnrequests.indexOf(osize) + 1]!;
  if (nsize === 0) return KERN_RESOURCE_SHORTAGE;

  const ntable: IpcPortRequest[] = otable === null
    ? [{ ipr_name: MACH_PORT_NULL, ipr_soright: null, ipr_next: 0 }]
    : otable;
  let free = ntable[0]!.ipr_next;
  // New slots go on the free list so that the highest index is handed out first.
  for (let i = osize; i < nsize; i++) {
    ntable.push({ ipr_name: MACH_PORT_NULL, ipr_soright: null, ipr_next: free });
    free = i;
  }
  ntable[0]!.ipr_next = free;
  port.ip_dnrequests = ntable;
  return KERN_SUCCESS;
}

/**
 * ipc_port_dncancel: cancels the dead-name request at `index`.
 * Rights: returns the registered send-once right.
 */
export function ipc_port_dncancel(port: IpcPort, name: number, index: number): IpcPort | null {
  const table = port.ip_dnrequests!;
  const ipr = table[index]!;
  if (ipr.ipr_name !== name) throw new Error('ipc_port_dncancel: request names another right');
  const soright = ipr.ipr_soright;
  ipr.ipr_name = MACH_PORT_NULL;
  ipr.ipr_soright = null;
  ipr.ipr_next = table[0]!.ipr_next;
  table[0]!.ipr_next = index;
  return soright;
}

/** ipc_port_dnrename: the requester's right moved from `oname` to `nname`. */
export function ipc_port_dnrename(port: IpcPort, index: number, nname: number): void {
  port.ip_dnrequests![index]!.ipr_name = nname;
}

// ==== port-destroyed and no-senders requests ========================================

/**
 * ipc_port_pdrequest: registers a port-destroyed request; `notify` null cancels.
 * Rights: keeps `notify` (a send-once right); returns the previous one.
 * Conditions: the port is active.
 */
export function ipc_port_pdrequest(port: IpcPort, notify: IpcPort | null): IpcPort | null {
  const previous = port.ip_pdrequest;
  port.ip_pdrequest = notify;
  return previous;
}

/**
 * ipc_port_nsrequest: registers a no-senders request; `notify` null cancels.
 * If there are no send rights now and sync <= ip_mscount, the notification is sent at
 * once (carrying the current make-send count) and nothing stays registered.
 * Rights: consumes `notify` (kept or used); returns the previous request's send-once right.
 * Conditions: the port is active.
 */
export function ipc_port_nsrequest(port: IpcPort, sync: number, notify: IpcPort | null): IpcPort | null {
  const previous = port.ip_nsrequest;
  const mscount = port.ip_mscount;
  if (port.ip_srights === 0 && sync <= mscount && notify !== null) {
    port.ip_nsrequest = null;
    ipc_notify_no_senders(notify, mscount);
  } else {
    port.ip_nsrequest = notify;
  }
  return previous;
}

// ==== attributes ====================================================================

/**
 * ipc_port_set_qlimit: changes the queue limit; raising it wakes that many blocked
 * senders (in order), whose messages are queued at once if there is room.
 * Conditions: the port is active; 0 <= qlimit <= MACH_PORT_QLIMIT_MAX.
 */
export function ipc_port_set_qlimit(port: IpcPort, qlimit: number): void {
  const wakeup = qlimit > port.ip_qlimit ? qlimit - port.ip_qlimit : 0;
  port.ip_qlimit = qlimit;
  for (let i = 0; i < wakeup; i++) {
    const th = ipc_thread_dequeue(port.ip_blocked);
    if (th === null) break;
    ipc_mqueue_send_wakeup(th);
  }
}

/** ipc_port_set_mscount. Conditions: the port is active. */
export function ipc_port_set_mscount(port: IpcPort, mscount: number): void {
  port.ip_mscount = mscount >>> 0;
}

/** ipc_port_set_seqno. Conditions: the port is active. */
export function ipc_port_set_seqno(port: IpcPort, seqno: number): void {
  port.ip_seqno = seqno >>> 0;
}

/**
 * ipc_port_set_protected_payload: messages received from this port carry `payload` in
 * msgh_local_port (local type MACH_MSG_TYPE_PROTECTED_PAYLOAD) instead of its name.
 */
export function ipc_port_set_protected_payload(port: IpcPort, payload: number): void {
  port.ip_protected_payload = payload;
  port.ip_has_protected_payload = true;
}

/** ipc_port_clear_protected_payload */
export function ipc_port_clear_protected_payload(port: IpcPort): void {
  port.ip_has_protected_payload = false;
}

// ==== receive-right transitions =====================================================

/**
 * ipc_port_clear_receiver: prepares a receive right for transmission or destruction:
 * takes the port out of its port set, or wakes its receivers with MACH_RCV_PORT_DIED;
 * resets the make-send count and sequence number to 0.
 * Conditions: the port is active.
 */
export function ipc_port_clear_receiver(port: IpcPort): void {
  const pset = port.ip_pset;
  if (pset !== null) ipc_pset_remove(pset, port);
  else ipc_mqueue_changed(port.ip_messages, MACH_RCV_PORT_DIED);
  port.ip_mscount = 0;
  port.ip_seqno = 0;
}

/**
 * ipc_port_destroy: destroys a port whose receive right is being released.
 * If a port-destroyed request is registered, the port is not destroyed: the receive right
 * travels in a port-destroyed notification (unless that would be circular, in which case
 * the request's send-once right is released and the port destroyed). Otherwise: blocked
 * senders wake (their messages are destroyed, their sends succeed), the no-senders
 * request is answered by a send-once notification, queued messages are destroyed with the
 * rights they carry, every dead-name request yields a dead-name notification, and the
 * kernel object (if any) is told.
 * Rights: consumes the receive right.
 * Conditions: the port is active, in limbo or in transit, not in a port set, mscount and
 * seqno 0 (ipc_port_clear_receiver was done).
 */
export function ipc_port_destroy(port: IpcPort): void {
  const pdrequest = port.ip_pdrequest;
  if (pdrequest !== null) {
    port.ip_pdrequest = null;
    // In limbo.
    port.ip_receiver_name = MACH_PORT_NULL;
    port.ip_receiver = null;
    port.ip_destination = null;
    port.ip_has_protected_payload = false;
    if (!ipc_port_check_circularity(port, pdrequest)) {
      ipc_notify_port_destroyed(pdrequest, port);
      return;
    }
    ipc_port_release_sonce(pdrequest);
  }

  port.ip_active = false;
  port.ip_timestamp = ipc_port_timestamp();
  ipc_port_live--;

  // Rouse all blocked senders: they find the port dead and drop their messages.
  for (let th = ipc_thread_dequeue(port.ip_blocked); th !== null; th = ipc_thread_dequeue(port.ip_blocked)) {
    ipc_mqueue_send_wakeup(th);
  }

  const nsrequest = port.ip_nsrequest;
  if (nsrequest !== null) {
    port.ip_nsrequest = null;
    ipc_notify_send_once(nsrequest);
  }

  for (let kmsg = ipc_kmsg_dequeue(port.ip_messages.imq_messages); kmsg !== null;
    kmsg = ipc_kmsg_dequeue(port.ip_messages.imq_messages)) {
    // The destination right dies with the port; don't let it produce a notification.
    kmsg.header.remotePort = null;
    ipc_kmsg_destroy(kmsg);
  }

  const dnrequests = port.ip_dnrequests;
  if (dnrequests !== null) {
    port.ip_dnrequests = null;
    for (let index = 1; index < dnrequests.length; index++) {
      const ipr = dnrequests[index]!;
      if (ipr.ipr_name === MACH_PORT_NULL) continue;
      ipc_notify_dead_name(ipr.ipr_soright!, ipr.ipr_name);
    }
  }

  if (port.ip_kotype !== IKOT_NONE) ipc_kobject_destroy(port);
}

/**
 * ipc_port_check_circularity: would queueing a message carrying the receive right `port`
 * to `dest` make a loop of ports in transit (dest → ... → port)? If not, `port` goes
 * from limbo to in transit towards `dest`.
 * Conditions: `port` is in limbo.
 * Returns: true if circular (nothing changed).
 */
export function ipc_port_check_circularity(port: IpcPort, dest: IpcPort): boolean {
  if (port === dest) return true;
  let base = dest;
  while (base.ip_active && base.ip_receiver_name === MACH_PORT_NULL && base.ip_destination !== null) {
    base = base.ip_destination;
  }
  if (base === port) return true;
  port.ip_destination = dest;
  return false;
}

/**
 * ipc_port_lookup_notify: makes a send-once right from the receive right `name`
 * (the notify port of MACH_RCV_NOTIFY / MACH_SEND_NOTIFY / MACH_SEND_CANCEL).
 * Rights: produces a send-once right.
 * Conditions: the space is active.
 * Returns: the port, or null if `name` doesn't denote a receive right.
 */
export function ipc_port_lookup_notify(space: IpcSpace, name: number): IpcPort | null {
  const entry = ipc_entry_lookup(space, name);
  if (entry === null || (IE_BITS_TYPE(entry.ie_bits) & MACH_PORT_TYPE_RECEIVE) === 0) return null;
  const port = entry.ie_object as IpcPort;
  port.ip_sorights++;
  return port;
}

// ==== naked rights ==================================================================

/**
 * ipc_port_make_send: a naked send right from the receive right.
 * Rights: produces a send right; mscount and srights go up.
 * Conditions: the port is active.
 */
export function ipc_port_make_send(port: IpcPort): IpcPort {
  port.ip_mscount++;
  port.ip_srights++;
  return port;
}

/**
 * ipc_port_copy_send: another naked send right from a naked send right.
 * IP_NULL → IP_NULL, IP_DEAD → IP_DEAD, a dead port → IP_DEAD.
 * Rights: produces a send right (if the port lives).
 */
export function ipc_port_copy_send(port: IpcPortRef): IpcPortRef {
  if (!IP_VALID(port)) return port;
  if (!port.ip_active) return IP_DEAD;
  port.ip_srights++;
  return port;
}

/**
 * ipc_port_copyout_send: puts a naked send right into a space, or destroys it if that
 * fails. Returns the name: MACH_PORT_NULL / MACH_PORT_DEAD for IP_NULL / IP_DEAD or
 * failures (MACH_PORT_DEAD when the port was dead).
 * Rights: consumes the send right.
 */
export function ipc_port_copyout_send(sright: IpcPortRef, space: IpcSpace): number {
  if (sright === null) return MACH_PORT_NULL;
  if (sright === IP_DEAD) return MACH_PORT_DEAD;
  const entry = ipc_object_copyout(space, sright, MACH_MSG_TYPE_PORT_SEND, true);
  if (typeof entry !== 'number') return entry.ie_name;
  ipc_port_release_send(sright);
  return entry === KERN_INVALID_CAPABILITY ? MACH_PORT_DEAD : MACH_PORT_NULL;
}

/**
 * ipc_port_release_send: releases a naked send right. If it was the last one and a
 * no-senders request is registered, the no-senders notification is sent.
 * Rights: consumes a send right.
 */
export function ipc_port_release_send(port: IpcPort): void {
  if (!port.ip_active) return;
  if (--port.ip_srights === 0) {
    const nsrequest = port.ip_nsrequest;
    if (nsrequest !== null) {
      port.ip_nsrequest = null;
      ipc_notify_no_senders(nsrequest, port.ip_mscount);
    }
  }
}

/**
 * ipc_port_make_sonce: a naked send-once right from the receive right.
 * Rights: produces a send-once right.
 * Conditions: the port is active.
 */
export function ipc_port_make_sonce(port: IpcPort): IpcPort {
  port.ip_sorights++;
  return port;
}

/**
 * ipc_port_release_sonce: releases a naked send-once right without using it (no
 * send-once notification). Normally a send-once right is only consumed by a message.
 * Rights: consumes a send-once right.
 */
export function ipc_port_release_sonce(port: IpcPort): void {
  port.ip_sorights--;
}

/**
 * ipc_port_release_receive: releases a naked receive right (in limbo or in transit):
 * the port is destroyed (or sent to its port-destroyed request).
 * Rights: consumes the receive right.
 */
export function ipc_port_release_receive(port: IpcPort): void {
  ipc_port_destroy(port);
}
