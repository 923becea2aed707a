/*
 * File: ipc/thread.ts
 * Purpose: ipc_thread — the IPC state of one mach_msg call that had to wait
 *          (GNU Mach ipc/ipc_thread.h, the ith_* fields of struct thread).
 *
 * A Mach thread blocks inside mach_msg; here a call that cannot finish at once gets an
 * IpcThread, queued on a port (a blocked sender, ip_blocked) or on a message queue (a
 * waiting receiver, imq_threads), and the caller holds a Promise. Whoever wakes the thread
 * sets ith_state (and ith_kmsg/ith_seqno for a receiver) and runs ith_continuation, which
 * finishes the call and resolves the promise — Mach's thread_block(continuation).
 * Threads are only created when a call really waits; a timer only when a timeout is armed.
 */

import type { MachMessage } from '../mach/message.js';
import type { IpcKmsg } from './kmsg.js';
import type { IpcMqueue } from './mqueue.js';
import type { IpcPort } from './port.js';
import type { IpcSpace } from './space.js';

/** What a mach_msg call returns: the code and the message left in the caller's buffer. */
export interface MachMsgResult {
  mr: number;
  /**
   * The received message; after a send that failed once the message was copied in
   * (MACH_SEND_TIMED_OUT, MACH_SEND_INTERRUPTED), the message with its rights copied back
   * out into the sender's space; after a copyin error, the caller's message untouched;
   * null when nothing was left in the buffer.
   */
  msg: MachMessage | null;
  /** MACH_RCV_TOO_LARGE with MACH_RCV_LARGE: the size of the message left queued. */
  size?: number;
}

/** The state of one waiting mach_msg call (a blocked sender or a waiting receiver). */
export class IpcThread {
  /** The space of the task that made the call. */
  readonly ith_space: IpcSpace;
  /** MACH_SEND_IN_PROGRESS / MACH_RCV_IN_PROGRESS while waiting, then the wakeup reason. */
  ith_state = 0;
  ith_option = 0;
  ith_timeout = 0;
  ith_notify = 0;
  /** Receive: the largest message this receiver accepts (ith_msize). */
  ith_msize = 0;
  /** Receive: the caller's buffer size (rcv_size). */
  ith_rcv_size = 0;
  ith_rcv_name = 0;
  /** Receive: the message handed over by a sender, and its sequence number. */
  ith_kmsg: IpcKmsg | null = null;
  ith_seqno = 0;
  /** Receive: the queue waited on. */
  ith_mqueue: IpcMqueue | null = null;
  /** Send: the port whose queue is full, and the caller's message (for copyout_pseudo). */
  ith_port: IpcPort | null = null;
  ith_msg: MachMessage | null = null;
  ith_timer: ReturnType<typeof setTimeout> | null = null;
  /** Runs once the thread is woken (state set); finishes the call. */
  ith_continuation: (th: IpcThread) => void;
  ith_resolve: (result: MachMsgResult) => void = noResolve;
  /** Links of the ipc_thread_queue the thread waits on. */
  ith_next: IpcThread | null = null;
  ith_prev: IpcThread | null = null;

  constructor(space: IpcSpace, continuation: (th: IpcThread) => void) {
    this.ith_space = space;
    this.ith_continuation = continuation;
  }
}

function noResolve(): void {
  throw new Error('ipc_thread: woken before its caller waited');
}

/** ipc_thread_queue: FIFO of waiting threads. */
export class IpcThreadQueue {
  ithq_head: IpcThread | null = null;
  ithq_tail: IpcThread | null = null;
}

/** ipc_thread_enqueue: the thread waits at the end of the queue. */
export function ipc_thread_enqueue(queue: IpcThreadQueue, th: IpcThread): void {
  th.ith_next = null;
  th.ith_prev = queue.ithq_tail;
  if (queue.ithq_tail === null) queue.ithq_head = th;
  else queue.ithq_tail.ith_next = th;
  queue.ithq_tail = th;
}

/** ipc_thread_dequeue: takes the longest-waiting thread off the queue (null if none). */
export function ipc_thread_dequeue(queue: IpcThreadQueue): IpcThread | null {
  const th = queue.ithq_head;
  if (th !== null) ipc_thread_rmqueue(queue, th);
  return th;
}

/** ipc_thread_rmqueue: takes `th` out of the queue, wherever it is. */
export function ipc_thread_rmqueue(queue: IpcThreadQueue, th: IpcThread): void {
  if (th.ith_prev === null) queue.ithq_head = th.ith_next;
  else th.ith_prev.ith_next = th.ith_next;
  if (th.ith_next === null) queue.ithq_tail = th.ith_prev;
  else th.ith_next.ith_prev = th.ith_prev;
  th.ith_next = null;
  th.ith_prev = null;
}

/**
 * Arms the timeout of a waiting thread. `expire` runs with the thread when it fires.
 * Conditions: timeout > 0 (a zero timeout is a poll and never waits).
 */
export function ipc_thread_will_wait_with_timeout(
  th: IpcThread, timeout: number, expire: (th: IpcThread) => void,
): void {
  th.ith_timer = setTimeout(expire, timeout, th);
}

/** Disarms the timer (if any) of a thread being woken. */
export function ipc_thread_clear_timeout(th: IpcThread): void {
  if (th.ith_timer !== null) {
    clearTimeout(th.ith_timer);
    th.ith_timer = null;
  }
}
