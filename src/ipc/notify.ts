/*
 * File: ipc/notify.ts
 * Purpose: ipc_notify — the notifications the kernel sends: port-deleted, msg-accepted,
 *          port-destroyed, no-senders, send-once, dead-name (GNU Mach ipc/ipc_notify.c).
 *
 * Each notification is a one-way message to a send-once right, built here exactly as GNU
 * MIG lays out the simpleroutines of include/mach/notify.defs (subsystem notify 64;
 * spec/mig.md §9): header bits MACH_MSGH_BITS(MOVE_SEND_ONCE, 0), no reply port, then the
 * argument's descriptor and value. The receiver sees msgh_local_port = its notify port
 * (PORT_SEND_ONCE) and msgh_remote_port = MACH_PORT_NULL.
 *
 *   id  routine                     body                                   size
 *   65  mach_notify_port_deleted    PORT_NAME (15), 32 bits, 1: name       40
 *   66  mach_notify_msg_accepted    PORT_NAME (15), 32 bits, 1: name       40
 *   69  mach_notify_port_destroyed  PORT_RECEIVE (16), 32 bits, 1: right   40, complex
 *   70  mach_notify_no_senders      INTEGER_32 (2), 32 bits, 1: mscount     40
 *   71  mach_notify_send_once       (none)                                 32
 *   72  mach_notify_dead_name       PORT_NAME (15), 32 bits, 1: name       40
 *
 * The message for each is made by one builder (mach_notify_*_msg), standing in for the
 * KernelUser stub tsmig will generate from defs/notify.defs; ipc_notify_* send them with
 * MACH_SEND_ALWAYS (ipc_mqueue_send_always), as the kernel does.
 */

import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_PORT_RECEIVE, MACH_NOTIFY_DEAD_NAME,
  MACH_NOTIFY_MSG_ACCEPTED, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE, type MachMsgType,
} from '../mach/message.js';
import { IpcKmsg } from './kmsg.js';
import { ipc_mqueue_send_always } from './mqueue.js';
import type { IpcPort } from './port.js';

/** A short in-line descriptor for one 32-bit value. */
function notifyType(name: number): MachMsgType {
  return { name, size: 32, number: 1, inline: true, longform: false, deallocate: false };
}

const NOTIFY_BITS = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);

// ==== builders: the messages of include/mach/notify.defs ===========================

/** simpleroutine mach_notify_port_deleted(notify: notify_port_t; name: mach_port_name_t) */
export function mach_notify_port_deleted_msg(notify: IpcPort, name: number): IpcKmsg {
  return new IpcKmsg(NOTIFY_BITS, 40, notify, null, MACH_NOTIFY_PORT_DELETED,
    [{ type: notifyType(MACH_MSG_TYPE_PORT_NAME), data: name }]);
}

/** simpleroutine mach_notify_msg_accepted(notify: notify_port_t; name: mach_port_name_t) */
export function mach_notify_msg_accepted_msg(notify: IpcPort, name: number): IpcKmsg {
  return new IpcKmsg(NOTIFY_BITS, 40, notify, null, MACH_NOTIFY_MSG_ACCEPTED,
    [{ type: notifyType(MACH_MSG_TYPE_PORT_NAME), data: name }]);
}

/** simpleroutine mach_notify_port_destroyed(notify: notify_port_t; rights: mach_port_receive_t) */
export function mach_notify_port_destroyed_msg(notify: IpcPort, right: IpcPort): IpcKmsg {
  return new IpcKmsg(MACH_MSGH_BITS_COMPLEX | NOTIFY_BITS, 40, notify, null, MACH_NOTIFY_PORT_DESTROYED,
    [{ type: notifyType(MACH_MSG_TYPE_PORT_RECEIVE), data: right }]);
}

/** simpleroutine mach_notify_no_senders(notify: notify_port_t; mscount: mach_port_mscount_t) */
export function mach_notify_no_senders_msg(notify: IpcPort, mscount: number): IpcKmsg {
  return new IpcKmsg(NOTIFY_BITS, 40, notify, null, MACH_NOTIFY_NO_SENDERS,
    [{ type: notifyType(MACH_MSG_TYPE_INTEGER_32), data: mscount >>> 0 }]);
}

/** simpleroutine mach_notify_send_once(notify: notify_port_t) */
export function mach_notify_send_once_msg(notify: IpcPort): IpcKmsg {
  return new IpcKmsg(NOTIFY_BITS, 32, notify, null, MACH_NOTIFY_SEND_ONCE, []);
}

/** simpleroutine mach_notify_dead_name(notify: notify_port_t; name: mach_port_name_t) */
export function mach_notify_dead_name_msg(notify: IpcPort, name: number): IpcKmsg {
  return new IpcKmsg(NOTIFY_BITS, 40, notify, null, MACH_NOTIFY_DEAD_NAME,
    [{ type: notifyType(MACH_MSG_TYPE_PORT_NAME), data: name }]);
}

// ==== sending =======================================================================

/**
 * ipc_notify_port_deleted: a send or send-once right `name` carrying a dead-name request
 * was deleted (deallocated, moved away, its space died).
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_port_deleted(port: IpcPort, name: number): void {
  ipc_mqueue_send_always(mach_notify_port_deleted_msg(port, name));
}

/**
 * ipc_notify_msg_accepted: a message forced with MACH_SEND_NOTIFY left the queue.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_msg_accepted(port: IpcPort, name: number): void {
  ipc_mqueue_send_always(mach_notify_msg_accepted_msg(port, name));
}

/**
 * ipc_notify_port_destroyed: a receive right with a port-destroyed request would have been
 * destroyed; instead it travels to the requester in this notification.
 * Rights: consumes the send-once right `port` and the receive right `right` (in transit).
 */
export function ipc_notify_port_destroyed(port: IpcPort, right: IpcPort): void {
  ipc_mqueue_send_always(mach_notify_port_destroyed_msg(port, right));
}

/**
 * ipc_notify_no_senders: the port's last send right is gone; `mscount` is its make-send
 * count at that time.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_no_senders(port: IpcPort, mscount: number): void {
  ipc_mqueue_send_always(mach_notify_no_senders_msg(port, mscount));
}

/**
 * ipc_notify_send_once: a send-once right was destroyed unused (the message carrying it
 * was destroyed, its holder deallocated it or died, its port's no-senders request was
 * cancelled by the port's death). A client waiting for a reply gets this instead
 * (MIG_SERVER_DIED).
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_send_once(port: IpcPort): void {
  ipc_mqueue_send_always(mach_notify_send_once_msg(port));
}

/**
 * ipc_notify_dead_name: the port `name` denotes (in the requester's space) died.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_dead_name(port: IpcPort, name: number): void {
  ipc_mqueue_send_always(mach_notify_dead_name_msg(port, name));
}
