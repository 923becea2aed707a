/*
 * File: transport/transport.ts
 * Purpose: the one interface between a task and its kernel: the kernel's traps as the
 *          task calls them. In-memory (loopback.ts) they are the kernel's own functions;
 *          over WebSocket each call is a frame and an answer. The task runtime
 *          (src/runtime) uses nothing else, so it runs unchanged on either.
 */

import type { MachMessage } from '../mach/message.js';

/** What mach_msg gives back: the code, and the message left in the caller's buffer. */
export interface TrapMachMsgResult {
  mr: number;
  msg: MachMessage | null;
  size?: number;
}

/** A task's identity and the names of the rights it starts with (in its own space). */
export interface TaskInfo {
  id: number;
  name: string;
  /** send right to the task's own kernel port (mach_task_self) */
  task_self: number;
  /** send right to the host name port */
  host_self: number;
  /** send right to the privileged host port: boot servers only, else MACH_PORT_NULL */
  host_priv: number;
  /** send right to the device master port: boot servers only, else MACH_PORT_NULL */
  device_master: number;
  /** the bootstrap port, or MACH_PORT_NULL */
  bootstrap: number;
}

export interface Transport {
  readonly info: TaskInfo;
  /** mach_msg_trap: results come at once or, when the call waits, as a Promise. */
  mach_msg(msg: MachMessage | null, option: number, rcvSize: number, rcvName: number, timeout: number, notify: number):
    TrapMachMsgResult | Promise<TrapMachMsgResult>;
  /** mach_reply_port: a new receive right for replies. */
  mach_reply_port(): number | Promise<number>;
  /** The task ends (its rights are released, the kernel sends the notifications). */
  close(): void;
  /** Settles when the connection ends, with the reason. */
  readonly closed: Promise<string>;
}
