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
 * Each message is made by the KernelUser stub tsmig generates from defs/notify.defs
 * (src/gen/notify.user.ts), run on a KernelMsg whose handles stand for the naked rights
 * (kern/ipc_mig.ts); it leaves with MACH_SEND_ALWAYS (ipc_mqueue_send_always), as the
 * kernel sends notifications: their rights are already in transit.
 */

import {
  mach_notify_dead_name, mach_notify_msg_accepted, mach_notify_no_senders, mach_notify_port_deleted,
  mach_notify_port_destroyed, mach_notify_send_once,
} from '../gen/notify.user.js';
import { KernelMsg } from '../kern/ipc_mig.js';
import { MACH_MSG_TYPE_MOVE_RECEIVE } from '../mach/message.js';
import type { IpcPort } from './port.js';

let notify_mig: KernelMsg | null = null;

/** The notification: its handle for `port`, sent at once (the stub's mach_msg runs synchronously). */
function so(port: IpcPort): { rt: KernelMsg; notify: NonNullable<ReturnType<KernelMsg['right']>> } {
  notify_mig ??= new KernelMsg('in_transit');
  return { rt: notify_mig, notify: notify_mig.right(port)! };
}

function sent(p: Promise<void>): void {
  p.catch((e: unknown) => console.error('kernel: a notification could not be sent:', e));
}

// ==== sending =======================================================================

/**
 * ipc_notify_port_deleted: a send or send-once right `name` carrying a dead-name request
 * was deleted (deallocated, moved away, its space died).
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_port_deleted(port: IpcPort, name: number): void {
  const { notify } = so(port);
  sent(mach_notify_port_deleted(notify, name));
}

/**
 * ipc_notify_msg_accepted: a message forced with MACH_SEND_NOTIFY left the queue.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_msg_accepted(port: IpcPort, name: number): void {
  const { notify } = so(port);
  sent(mach_notify_msg_accepted(notify, name));
}

/**
 * ipc_notify_port_destroyed: a receive right with a port-destroyed request would have been
 * destroyed; instead it travels to the requester in this notification.
 * Rights: consumes the send-once right `port` and the receive right `right` (in transit).
 */
export function ipc_notify_port_destroyed(port: IpcPort, right: IpcPort): void {
  const { rt, notify } = so(port);
  sent(mach_notify_port_destroyed(notify, rt.right(right), MACH_MSG_TYPE_MOVE_RECEIVE));
}

/**
 * ipc_notify_no_senders: the port's last send right is gone; `mscount` is its make-send
 * count at that time.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_no_senders(port: IpcPort, mscount: number): void {
  const { notify } = so(port);
  sent(mach_notify_no_senders(notify, mscount >>> 0));
}

/**
 * ipc_notify_send_once: a send-once right was destroyed unused (the message carrying it
 * was destroyed, its holder deallocated it or died, its port's no-senders request was
 * cancelled by the port's death). A client waiting for a reply gets this instead
 * (MIG_SERVER_DIED).
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_send_once(port: IpcPort): void {
  const { notify } = so(port);
  sent(mach_notify_send_once(notify));
}

/**
 * ipc_notify_dead_name: the port `name` denotes (in the requester's space) died.
 * Rights: consumes the send-once right `port`.
 */
export function ipc_notify_dead_name(port: IpcPort, name: number): void {
  const { notify } = so(port);
  sent(mach_notify_dead_name(notify, name));
}
