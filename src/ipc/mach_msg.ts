/*
 * File: ipc/mach_msg.ts
 * Purpose: the mach_msg trap: send a message, receive one (from a port or a port set), or
 *          both in one call (GNU Mach ipc/mach_msg.c; mach_msg_send_from_kernel from
 *          kern/ipc_mig.c).
 *
 * mach_msg returns its result directly when it can finish at once (the usual case for
 * sends, for receives finding a message queued, and for RPCs to kernel ports), and a
 * Promise when the caller has to wait (a full queue, an empty queue). Nothing is allocated
 * for waiting unless the call really waits, and a timer only when a timeout is armed.
 *
 * What happens to the rights of a message that fails to send, as in GNU Mach:
 *   - MACH_SEND_MSG_TOO_SMALL, _INVALID_DATA, _INVALID_HEADER, _INVALID_DEST,
 *     _INVALID_REPLY, _INVALID_NOTIFY: nothing was taken; the message is returned untouched.
 *   - MACH_SEND_INVALID_TYPE, _INVALID_MEMORY, _INVALID_RIGHT (body errors): every right
 *     the message had already taken, header rights included, is destroyed.
 *   - MACH_SEND_TIMED_OUT, MACH_SEND_INTERRUPTED: the message is given back with its
 *     rights copied out again into the sender's space (ipc_kmsg_copyout_pseudo); the result
 *     holds it with the new names, possibly ORed with MACH_MSG_IPC_SPACE etc.
 */

import {
  MACH_MSG_MASK, MACH_MSG_SUCCESS, MACH_RCV_BODY_ERROR, MACH_RCV_INVALID_NOTIFY,
  MACH_RCV_TIMED_OUT, MACH_RCV_TOO_LARGE, MACH_SEND_INVALID_NOTIFY, MACH_SEND_IN_PROGRESS,
  MACH_SEND_TIMED_OUT, MACH_SEND_WILL_NOTIFY,
} from '../mach/kern_return.js';
import {
  MACH_MSG_SIZE_MAX, MACH_RCV_LARGE, MACH_RCV_MSG, MACH_RCV_NOTIFY, MACH_RCV_TIMEOUT,
  MACH_SEND_CANCEL, MACH_SEND_MSG, MACH_SEND_NOTIFY, MACH_SEND_TIMEOUT, type MachMessage,
} from '../mach/message.js';
import { MACH_PORT_NULL } from '../mach/port.js';
import {
  ipc_kmsg_copyin, ipc_kmsg_copyin_from_kernel, ipc_kmsg_copyout, ipc_kmsg_copyout_dest,
  ipc_kmsg_copyout_pseudo, ipc_kmsg_free, ipc_kmsg_get, ipc_kmsg_out_header, ipc_kmsg_put,
  type IpcKmsg,
} from './kmsg.js';
import { ipc_marequest_create } from './marequest.js';
import {
  ipc_mqueue_copyin, ipc_mqueue_receive, ipc_mqueue_receive_wait, ipc_mqueue_send,
  ipc_mqueue_send_always, ipc_mqueue_send_wait,
} from './mqueue.js';
import type { IpcPort } from './port.js';
import type { IpcSpace } from './space.js';
import { IpcThread, type MachMsgResult } from './thread.js';

export type { MachMsgResult };

/** What a mach_msg call gives back: at once, or once it has waited. */
export type MachMsgReturn = MachMsgResult | Promise<MachMsgResult>;

/** The result of a send-only call that succeeded (shared: nothing is left in the buffer). */
const MACH_MSG_SEND_SUCCESS: MachMsgResult = Object.freeze({ mr: MACH_MSG_SUCCESS, msg: null });

// ==== send ==========================================================================

/**
 * mach_msg_send: sends `msg` (send_size bytes) from `space`.
 * Options: MACH_SEND_TIMEOUT (wait at most `timeout` ms for room; 0 = poll),
 * MACH_SEND_NOTIFY (if the queue is full — at once, or after the timeout — queue the
 * message anyway, register a msg-accepted request with the receive right `notify`, and
 * return MACH_SEND_WILL_NOTIFY), MACH_SEND_CANCEL (`notify` names a receive right to which
 * a port-deleted notification caused by the destination's copyin is not sent).
 * Rights: per the message's dispositions; see the file header for failures.
 * Returns: MACH_MSG_SUCCESS, MACH_SEND_WILL_NOTIFY, MACH_SEND_MSG_TOO_SMALL,
 * MACH_SEND_INVALID_DATA, _INVALID_HEADER, _INVALID_DEST, _INVALID_REPLY, _INVALID_NOTIFY,
 * _INVALID_TYPE, _INVALID_MEMORY, _INVALID_RIGHT, _NOTIFY_IN_PROGRESS, MACH_SEND_TIMED_OUT,
 * MACH_SEND_INTERRUPTED (the task died while waiting).
 */
export function mach_msg_send(
  space: IpcSpace, msg: MachMessage, option: number, send_size: number, timeout: number, notify: number,
): MachMsgReturn {
  const kmsg = ipc_kmsg_get(msg, send_size);
  if (typeof kmsg === 'number') return { mr: kmsg, msg };

  let mr: number;
  if (option & MACH_SEND_CANCEL) {
    mr = notify === MACH_PORT_NULL
      ? MACH_SEND_INVALID_NOTIFY
      : ipc_kmsg_copyin(kmsg, space, msg.header.remotePort, msg.header.localPort, notify);
  } else {
    mr = ipc_kmsg_copyin(kmsg, space, msg.header.remotePort, msg.header.localPort, MACH_PORT_NULL);
  }
  if (mr !== MACH_MSG_SUCCESS) {
    ipc_kmsg_free(kmsg);
    return { mr, msg };
  }

  // MACH_SEND_NOTIFY sends with a timeout: none given means poll.
  const send_option = option & MACH_SEND_NOTIFY ? MACH_SEND_TIMEOUT : option & MACH_SEND_TIMEOUT;
  const send_timeout = option & MACH_SEND_NOTIFY && !(option & MACH_SEND_TIMEOUT) ? 0 : timeout;
  mr = ipc_mqueue_send(kmsg, send_option, send_timeout);
  if (mr === MACH_MSG_SUCCESS) return MACH_MSG_SEND_SUCCESS;
  if (mr !== MACH_SEND_IN_PROGRESS) return mach_msg_send_failed(space, kmsg, option, notify, mr);

  const th = new IpcThread(space, mach_msg_send_continue);
  th.ith_kmsg = kmsg;
  th.ith_port = kmsg.header.remotePort as IpcPort;
  th.ith_option = send_option | (option & ~MACH_SEND_TIMEOUT);
  th.ith_timeout = send_timeout;
  th.ith_notify = notify;
  return new Promise((resolve) => {
    th.ith_resolve = resolve;
    ipc_mqueue_send_wait(th);
  });
}

/** A blocked send finished (sent, timed out, or interrupted). */
function mach_msg_send_continue(th: IpcThread): void {
  const kmsg = th.ith_kmsg!;
  th.ith_kmsg = null;
  th.ith_resolve(th.ith_state === MACH_MSG_SUCCESS
    ? MACH_MSG_SEND_SUCCESS
    : mach_msg_send_failed(th.ith_space, kmsg, th.ith_option, th.ith_notify, th.ith_state));
}

/**
 * The message could not be queued (MACH_SEND_TIMED_OUT, MACH_SEND_INTERRUPTED): with
 * MACH_SEND_NOTIFY and a timeout it is forced in under a msg-accepted request; otherwise
 * its rights go back to the sender (copyout_pseudo) and it is returned.
 */
function mach_msg_send_failed(space: IpcSpace, kmsg: IpcKmsg, option: number, notify: number, mr: number): MachMsgResult {
  if (mr === MACH_SEND_TIMED_OUT && option & MACH_SEND_NOTIFY) {
    if (notify === MACH_PORT_NULL) {
      mr = MACH_SEND_INVALID_NOTIFY;
    } else {
      const marequest = ipc_marequest_create(space, kmsg.header.remotePort as IpcPort, notify);
      if (typeof marequest !== 'number') {
        kmsg.ikm_marequest = marequest;
        ipc_mqueue_send_always(kmsg);
        return { mr: MACH_SEND_WILL_NOTIFY, msg: null };
      }
      mr = marequest;
    }
  }
  const header = ipc_kmsg_out_header(kmsg);
  mr |= ipc_kmsg_copyout_pseudo(kmsg, space, header);
  return { mr, msg: ipc_kmsg_put(kmsg, header, true) };
}

// ==== receive =======================================================================

/**
 * mach_msg_receive: receives a message on `rcv_name` (a receive right not in a set, or a
 * port set) into a buffer of `rcv_size` bytes. The message's rights are copied out into
 * `space`; msgh_seqno is its port's sequence number.
 * Options: MACH_RCV_TIMEOUT (wait at most `timeout` ms; 0 = poll), MACH_RCV_LARGE (a
 * message larger than rcv_size stays queued and its size is returned; without it such a
 * message is destroyed, only its destination name returned), MACH_RCV_NOTIFY (`notify`,
 * a receive right, gets dead-name requests for newly created reply names).
 * Rights: the message's rights move into the space.
 * Returns: MACH_MSG_SUCCESS, MACH_RCV_INVALID_NAME, MACH_RCV_IN_SET, MACH_RCV_TIMED_OUT,
 * MACH_RCV_TOO_LARGE, MACH_RCV_PORT_DIED (the port or set was destroyed, or the receive
 * right sent away, while waiting), MACH_RCV_PORT_CHANGED (the port joined a set),
 * MACH_RCV_INTERRUPTED (the task died), MACH_RCV_INVALID_NOTIFY, MACH_RCV_HEADER_ERROR |
 * bits, MACH_RCV_BODY_ERROR | bits.
 */
export function mach_msg_receive(
  space: IpcSpace, option: number, rcv_size: number, rcv_name: number, timeout: number, notify: number,
): MachMsgReturn {
  const mqueue = ipc_mqueue_copyin(space, rcv_name);
  if (typeof mqueue === 'number') return { mr: mqueue, msg: null };

  const kmsg = mqueue.imq_messages.ikmq_head;
  if (kmsg !== null) {
    if (option & MACH_RCV_LARGE && kmsg.header.size > rcv_size) {
      return { mr: MACH_RCV_TOO_LARGE, msg: null, size: kmsg.header.size };
    }
    ipc_mqueue_receive(mqueue, kmsg);
    return mach_msg_receive_finish(space, kmsg, option, rcv_size, notify);
  }

  if (option & MACH_RCV_TIMEOUT && timeout === 0) return { mr: MACH_RCV_TIMED_OUT, msg: null };

  const th = new IpcThread(space, mach_msg_receive_continue);
  th.ith_option = option;
  th.ith_timeout = timeout;
  th.ith_notify = notify;
  th.ith_rcv_name = rcv_name;
  th.ith_rcv_size = rcv_size;
  th.ith_msize = option & MACH_RCV_LARGE ? rcv_size : MACH_MSG_SIZE_MAX;
  return new Promise((resolve) => {
    th.ith_resolve = resolve;
    ipc_mqueue_receive_wait(th, mqueue);
  });
}

/** A waiting receive finished: copy out what it got, or report why it woke. */
function mach_msg_receive_continue(th: IpcThread): void {
  const kmsg = th.ith_kmsg;
  th.ith_kmsg = null;
  switch (th.ith_state) {
    case MACH_MSG_SUCCESS:
      th.ith_resolve(mach_msg_receive_finish(th.ith_space, kmsg!, th.ith_option, th.ith_rcv_size, th.ith_notify));
      break;
    case MACH_RCV_TOO_LARGE:
      th.ith_resolve({ mr: MACH_RCV_TOO_LARGE, msg: null, size: th.ith_msize });
      break;
    default:
      th.ith_resolve({ mr: th.ith_state, msg: null });
      break;
  }
}

/**
 * The receive has its message: check it fits, copy it out. A message that doesn't fit
 * (without MACH_RCV_LARGE) or whose header can't be copied out is destroyed and only its
 * header (with the destination's name) is returned.
 */
function mach_msg_receive_finish(
  space: IpcSpace, kmsg: IpcKmsg, option: number, rcv_size: number, notify: number,
): MachMsgResult {
  const header = ipc_kmsg_out_header(kmsg);
  if (!(option & MACH_RCV_LARGE) && kmsg.header.size > rcv_size) {
    ipc_kmsg_copyout_dest(kmsg, space, header);
    return { mr: MACH_RCV_TOO_LARGE, msg: ipc_kmsg_put(kmsg, header, false) };
  }

  let mr: number;
  if (option & MACH_RCV_NOTIFY) {
    mr = notify === MACH_PORT_NULL ? MACH_RCV_INVALID_NOTIFY : ipc_kmsg_copyout(kmsg, space, notify, header);
  } else {
    mr = ipc_kmsg_copyout(kmsg, space, MACH_PORT_NULL, header);
  }
  if (mr === MACH_MSG_SUCCESS) return { mr, msg: ipc_kmsg_put(kmsg, header, true) };
  if ((mr & ~MACH_MSG_MASK) === MACH_RCV_BODY_ERROR) return { mr, msg: ipc_kmsg_put(kmsg, header, true) };
  ipc_kmsg_copyout_dest(kmsg, space, header);
  return { mr, msg: ipc_kmsg_put(kmsg, header, false) };
}

// ==== the trap ======================================================================

/**
 * mach_msg: the trap. With MACH_SEND_MSG sends `msg` (send_size bytes); then, if that
 * succeeded and MACH_RCV_MSG is set, receives on `rcv_name` — an RPC in one call.
 * `timeout` (ms) applies to each half whose MACH_SEND_TIMEOUT / MACH_RCV_TIMEOUT is set.
 * Rights: see mach_msg_send and mach_msg_receive.
 * Returns: the send's code if it failed, else the receive's (or MACH_MSG_SUCCESS); at once
 * when nothing had to wait, else a Promise.
 */
export function mach_msg(
  space: IpcSpace, msg: MachMessage | null, option: number, send_size: number, rcv_size: number,
  rcv_name: number, timeout: number, notify: number,
): MachMsgReturn {
  if (option & MACH_SEND_MSG) {
    if (msg === null) throw new Error('mach_msg: MACH_SEND_MSG without a message');
    const sent = mach_msg_send(space, msg, option, send_size, timeout, notify);
    if (!(option & MACH_RCV_MSG)) return sent;
    if (sent instanceof Promise) {
      return sent.then((r) => r.mr !== MACH_MSG_SUCCESS ? r
        : mach_msg_receive(space, option, rcv_size, rcv_name, timeout, notify));
    }
    if (sent.mr !== MACH_MSG_SUCCESS) return sent;
  }
  if (option & MACH_RCV_MSG) return mach_msg_receive(space, option, rcv_size, rcv_name, timeout, notify);
  return MACH_MSG_SEND_SUCCESS;
}

/**
 * mach_msg_send_from_kernel: sends a message the kernel built (KernelUser stubs): its
 * dispositions apply to naked rights the kernel holds (ipc_kmsg_copyin_from_kernel); it
 * never waits (MACH_SEND_ALWAYS).
 * Rights: per the message's dispositions.
 * Returns: MACH_MSG_SUCCESS.
 */
export function mach_msg_send_from_kernel(kmsg: IpcKmsg): number {
  ipc_kmsg_copyin_from_kernel(kmsg);
  ipc_mqueue_send_always(kmsg);
  return MACH_MSG_SUCCESS;
}
