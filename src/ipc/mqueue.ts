/*
 * File: ipc/mqueue.ts
 * Purpose: ipc_mqueue — message queues: queueing under the queue limit, blocked senders,
 *          waiting receivers, hand-off, sequence numbers (GNU Mach ipc/ipc_mqueue.c).
 *
 * A port's messages wait in its own queue, or in its port set's queue while it is a
 * member. A send does not block if (ipc_mqueue_send's three rules): 1) the port is under
 * its queue limit, 2) the caller used MACH_SEND_ALWAYS (kernel messages: notifications,
 * kernel replies), 3) the message is sent to a send-once right. Otherwise the sender waits
 * (MACH_SEND_TIMEOUT 0 polls: MACH_SEND_TIMED_OUT at once).
 *
 * Where GNU Mach wakes a thread that later runs and retries, the work is done on the spot:
 * a message is handed to the first waiting receiver as it is sent, and a blocked sender
 * that gets room has its message queued before the call that made room returns. That
 * keeps waking strictly in order (first blocked, first served).
 */

import {
  MACH_MSG_SUCCESS, MACH_RCV_IN_PROGRESS, MACH_RCV_IN_SET, MACH_RCV_INTERRUPTED,
  MACH_RCV_INVALID_NAME, MACH_RCV_TIMED_OUT, MACH_RCV_TOO_LARGE, MACH_SEND_IN_PROGRESS,
  MACH_SEND_INTERRUPTED, MACH_SEND_TIMED_OUT,
} from '../mach/kern_return.js';
import {
  MACH_MSGH_BITS_CIRCULAR, MACH_MSGH_BITS_REMOTE, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_RCV_TIMEOUT,
  MACH_SEND_ALWAYS, MACH_SEND_TIMEOUT,
} from '../mach/message.js';
import { MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE } from '../mach/port.js';
import {
  IpcKmsgQueue, ipc_kmsg_destroy, ipc_kmsg_enqueue, ipc_kmsg_rmqueue, type IpcKmsg,
} from './kmsg.js';
import { ipc_kobject_server } from './kobject.js';
import { ipc_marequest_destroy } from './marequest.js';
import type { IpcPort } from './port.js';
import type { IpcPset } from './pset.js';
import { ipc_entry_lookup, ipc_space_kernel, type IpcSpace } from './space.js';
import {
  IpcThreadQueue, ipc_thread_clear_timeout, ipc_thread_dequeue, ipc_thread_enqueue,
  ipc_thread_rmqueue, ipc_thread_will_wait_with_timeout, type IpcThread,
} from './thread.js';

/** struct ipc_mqueue: queued messages and the threads waiting to receive them. */
export class IpcMqueue {
  readonly imq_messages = new IpcKmsgQueue();
  readonly imq_threads = new IpcThreadQueue();
}

// ==== waking threads ================================================================

/** The thread stops waiting: no timer, no longer interruptible by its space's death. */
function ipc_thread_go(th: IpcThread): void {
  ipc_thread_clear_timeout(th);
  th.ith_space.is_threads.delete(th);
}

/** Wakes a receiver with its state set; a receiver handed a message finishes the receive. */
function ipc_mqueue_wake_receiver(th: IpcThread): void {
  ipc_thread_go(th);
  if (th.ith_state === MACH_MSG_SUCCESS) ipc_mqueue_receive_finish(th.ith_kmsg!);
  th.ith_continuation(th);
}

/** Hands `kmsg` (sent to `port`) to a waiting receiver, with the next sequence number. */
function ipc_mqueue_handoff(th: IpcThread, kmsg: IpcKmsg, port: IpcPort): void {
  th.ith_state = MACH_MSG_SUCCESS;
  th.ith_kmsg = kmsg;
  kmsg.header.seqno = port.ip_seqno++;
  ipc_mqueue_wake_receiver(th);
}

/**
 * ipc_mqueue_changed: wakes every receiver of the queue with `mr`
 * (MACH_RCV_PORT_DIED, MACH_RCV_PORT_CHANGED).
 */
export function ipc_mqueue_changed(mqueue: IpcMqueue, mr: number): void {
  for (let th = ipc_thread_dequeue(mqueue.imq_threads); th !== null; th = ipc_thread_dequeue(mqueue.imq_threads)) {
    th.ith_state = mr;
    ipc_mqueue_wake_receiver(th);
  }
}

/**
 * ipc_mqueue_move: moves the messages sent to `port` from `source` to `dest` (a port
 * entering or leaving a set), handing them to receivers waiting on `dest` first.
 */
export function ipc_mqueue_move(dest: IpcMqueue, source: IpcMqueue, port: IpcPort): void {
  let next: IpcKmsg | null;
  for (let kmsg = source.imq_messages.ikmq_head; kmsg !== null; kmsg = next) {
    next = kmsg.ikm_next;
    if (kmsg.header.remotePort !== port) continue;
    ipc_kmsg_rmqueue(source.imq_messages, kmsg);
    ipc_mqueue_offer(dest, kmsg, port);
  }
}

/** Gives a message to the first receiver that can take it, else queues it. */
function ipc_mqueue_offer(mqueue: IpcMqueue, kmsg: IpcKmsg, port: IpcPort): void {
  for (;;) {
    const th = ipc_thread_dequeue(mqueue.imq_threads);
    if (th === null) {
      ipc_kmsg_enqueue(mqueue.imq_messages, kmsg);
      return;
    }
    if (kmsg.header.size <= th.ith_msize) {
      ipc_mqueue_handoff(th, kmsg, port);
      return;
    }
    // MACH_RCV_LARGE receiver whose buffer is too small: it learns the size.
    th.ith_state = MACH_RCV_TOO_LARGE;
    th.ith_msize = kmsg.header.size;
    ipc_mqueue_wake_receiver(th);
  }
}

// ==== sending =======================================================================

/**
 * ipc_mqueue_send: queues a copied-in message on its destination port, or hands it to a
 * waiting receiver. Messages to a kernel port go to the kernel server at once (its reply,
 * if any, is sent with MACH_SEND_ALWAYS). A message to a dead port is destroyed, and the
 * send succeeds. A circular message (a receive right travelling inside itself) is
 * destroyed, and the send succeeds.
 * Rights: on success the message (and its rights) is gone from the caller.
 * Returns: MACH_MSG_SUCCESS; MACH_SEND_TIMED_OUT (MACH_SEND_TIMEOUT with timeout 0 and
 * the queue full; the caller keeps the message); MACH_SEND_IN_PROGRESS (the queue is full:
 * the caller keeps the message and must wait with ipc_mqueue_send_wait).
 */
export function ipc_mqueue_send(kmsg: IpcKmsg, option: number, timeout: number): number {
  const port = kmsg.header.remotePort as IpcPort;

  if (port.ip_receiver === ipc_space_kernel) {
    const reply = ipc_kobject_server(kmsg);
    if (reply !== null) ipc_mqueue_send_always(reply);
    return MACH_MSG_SUCCESS;
  }

  if (!port.ip_active) {
    // Pretend it was sent and then destroyed. The destination right dies silently:
    // a send-once notification for it would loop back here.
    kmsg.header.remotePort = null;
    ipc_kmsg_destroy(kmsg);
    return MACH_MSG_SUCCESS;
  }

  if (port.ip_msgcount >= port.ip_qlimit && (option & MACH_SEND_ALWAYS) === 0
    && MACH_MSGH_BITS_REMOTE(kmsg.header.bits) !== MACH_MSG_TYPE_PORT_SEND_ONCE) {
    if ((option & MACH_SEND_TIMEOUT) !== 0 && timeout === 0) return MACH_SEND_TIMED_OUT;
    return MACH_SEND_IN_PROGRESS;
  }

  if (kmsg.header.bits & MACH_MSGH_BITS_CIRCULAR) {
    ipc_kmsg_destroy(kmsg);
    return MACH_MSG_SUCCESS;
  }

  port.ip_msgcount++;
  ipc_mqueue_offer(port.ip_pset !== null ? port.ip_pset.ips_messages : port.ip_messages, kmsg, port);
  return MACH_MSG_SUCCESS;
}

/** ipc_mqueue_send_always: sends a kernel-made message, never blocking. */
export function ipc_mqueue_send_always(kmsg: IpcKmsg): void {
  ipc_mqueue_send(kmsg, MACH_SEND_ALWAYS, 0);
}

/**
 * ipc_mqueue_send_wait: the sender `th` (ith_kmsg, ith_port, ith_option, ith_timeout set)
 * waits for room on its port. When room is made its message is sent and its continuation
 * runs with ith_state MACH_MSG_SUCCESS; or MACH_SEND_TIMED_OUT when the timeout expires,
 * MACH_SEND_INTERRUPTED when its task dies (the message is then still the caller's).
 */
export function ipc_mqueue_send_wait(th: IpcThread): void {
  th.ith_state = MACH_SEND_IN_PROGRESS;
  ipc_thread_enqueue(th.ith_port!.ip_blocked, th);
  th.ith_space.is_threads.add(th);
  if (th.ith_option & MACH_SEND_TIMEOUT) {
    ipc_thread_will_wait_with_timeout(th, th.ith_timeout, ipc_mqueue_send_timeout);
  }
}

/**
 * ipc_mqueue_send_wakeup: a blocked sender was taken off its port's ip_blocked queue
 * (room was made, or the port died): it retries at once; if the queue is full again it
 * waits again at the end of the queue.
 */
export function ipc_mqueue_send_wakeup(th: IpcThread): void {
  const mr = ipc_mqueue_send(th.ith_kmsg!, th.ith_option & MACH_SEND_TIMEOUT, th.ith_timeout);
  if (mr === MACH_SEND_IN_PROGRESS) {
    ipc_thread_enqueue(th.ith_port!.ip_blocked, th);
    return;
  }
  ipc_thread_go(th);
  th.ith_state = mr;
  th.ith_continuation(th);
}

function ipc_mqueue_send_timeout(th: IpcThread): void {
  th.ith_timer = null;
  ipc_thread_rmqueue(th.ith_port!.ip_blocked, th);
  ipc_thread_go(th);
  th.ith_state = MACH_SEND_TIMED_OUT;
  th.ith_continuation(th);
}

// ==== receiving =====================================================================

/**
 * ipc_mqueue_copyin: the queue a receive name stands for: a receive right's own queue, or
 * a port set's queue.
 * Returns: the queue, or MACH_RCV_INVALID_NAME (space dead, no such name, not a receive
 * or port-set right), MACH_RCV_IN_SET (the receive right is in a port set).
 */
export function ipc_mqueue_copyin(space: IpcSpace, name: number): IpcMqueue | number {
  if (!space.is_active) return MACH_RCV_INVALID_NAME;
  const entry = ipc_entry_lookup(space, name);
  if (entry === null) return MACH_RCV_INVALID_NAME;
  if (entry.ie_bits & MACH_PORT_TYPE_RECEIVE) {
    const port = entry.ie_object as IpcPort;
    if (port.ip_pset !== null) return MACH_RCV_IN_SET;
    return port.ip_messages;
  }
  if (entry.ie_bits & MACH_PORT_TYPE_PORT_SET) return (entry.ie_object as IpcPset).ips_messages;
  return MACH_RCV_INVALID_NAME;
}

/**
 * ipc_mqueue_receive: takes `kmsg` (the first queued message) off the queue, giving it the
 * next sequence number of its port, and finishes the receive.
 */
export function ipc_mqueue_receive(mqueue: IpcMqueue, kmsg: IpcKmsg): void {
  ipc_kmsg_rmqueue(mqueue.imq_messages, kmsg);
  kmsg.header.seqno = (kmsg.header.remotePort as IpcPort).ip_seqno++;
  ipc_mqueue_receive_finish(kmsg);
}

/**
 * The end of ipc_mqueue_receive: the msg-accepted request (if any) is answered, the port's
 * message count drops, and the first blocked sender is let in if that made room.
 */
function ipc_mqueue_receive_finish(kmsg: IpcKmsg): void {
  const marequest = kmsg.ikm_marequest;
  if (marequest !== null) {
    kmsg.ikm_marequest = null;
    ipc_marequest_destroy(marequest);
  }
  const port = kmsg.header.remotePort as IpcPort;
  if (port.ip_active) {
    port.ip_msgcount--;
    const sender = port.ip_blocked.ithq_head;
    if (sender !== null && port.ip_msgcount < port.ip_qlimit) {
      ipc_thread_rmqueue(port.ip_blocked, sender);
      ipc_mqueue_send_wakeup(sender);
    }
  }
}

/**
 * ipc_mqueue_receive_wait: the receiver `th` (ith_msize, ith_option, ith_timeout set)
 * waits on `mqueue`. Its continuation runs with ith_state MACH_MSG_SUCCESS (ith_kmsg
 * received, already off the queue), MACH_RCV_TOO_LARGE (ith_msize: the size of the message
 * left queued), MACH_RCV_TIMED_OUT, MACH_RCV_PORT_DIED, MACH_RCV_PORT_CHANGED or
 * MACH_RCV_INTERRUPTED.
 */
export function ipc_mqueue_receive_wait(th: IpcThread, mqueue: IpcMqueue): void {
  th.ith_state = MACH_RCV_IN_PROGRESS;
  th.ith_mqueue = mqueue;
  ipc_thread_enqueue(mqueue.imq_threads, th);
  th.ith_space.is_threads.add(th);
  if (th.ith_option & MACH_RCV_TIMEOUT) {
    ipc_thread_will_wait_with_timeout(th, th.ith_timeout, ipc_mqueue_receive_timeout);
  }
}

function ipc_mqueue_receive_timeout(th: IpcThread): void {
  th.ith_timer = null;
  ipc_thread_rmqueue(th.ith_mqueue!.imq_threads, th);
  th.ith_state = MACH_RCV_TIMED_OUT;
  ipc_mqueue_wake_receiver(th);
}

/**
 * ipc_thread_interrupt: a waiting mach_msg call is aborted (its task is dying):
 * MACH_SEND_INTERRUPTED or MACH_RCV_INTERRUPTED.
 */
export function ipc_thread_interrupt(th: IpcThread): void {
  if (th.ith_state === MACH_SEND_IN_PROGRESS) {
    ipc_thread_rmqueue(th.ith_port!.ip_blocked, th);
    ipc_thread_go(th);
    th.ith_state = MACH_SEND_INTERRUPTED;
    th.ith_continuation(th);
  } else if (th.ith_state === MACH_RCV_IN_PROGRESS) {
    ipc_thread_rmqueue(th.ith_mqueue!.imq_threads, th);
    th.ith_state = MACH_RCV_INTERRUPTED;
    ipc_mqueue_wake_receiver(th);
  }
}
