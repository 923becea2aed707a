/*
 * File: transport/loopback.ts
 * Purpose: the in-memory transport: the task and the kernel in one process, the traps
 *          called directly (no copies beyond what the kernel itself makes).
 */

import { MACH_RCV_INTERRUPTED, MACH_SEND_INTERRUPTED } from '../mach/kern_return.js';
import { MACH_SEND_MSG, type MachMessage } from '../mach/message.js';
import { MACH_PORT_NULL } from '../mach/port.js';
import type { TaskTraps } from '../kern/traps.js';
import type { TaskInfo, Transport, TrapMachMsgResult } from './transport.js';

export class LoopbackTransport implements Transport {
  readonly info: TaskInfo;
  readonly closed: Promise<string>;
  private readonly traps: TaskTraps;
  private readonly terminate: () => void;
  private settle!: (reason: string) => void;
  private open = true;

  /** `terminate` ends the task in the kernel; `kernelClosed` is called when the kernel ends it. */
  constructor(traps: TaskTraps, info: TaskInfo, terminate: () => void) {
    this.traps = traps;
    this.info = info;
    this.terminate = terminate;
    this.closed = new Promise((resolve) => { this.settle = resolve; });
  }

  /** After the task ended nothing of it runs in the kernel: a call is interrupted at once. */
  mach_msg(msg: MachMessage | null, option: number, rcvSize: number, rcvName: number, timeout: number, notify: number):
    TrapMachMsgResult | Promise<TrapMachMsgResult> {
    if (!this.open) return { mr: option & MACH_SEND_MSG ? MACH_SEND_INTERRUPTED : MACH_RCV_INTERRUPTED, msg: null };
    return this.traps.mach_msg(msg, option, rcvSize, rcvName, timeout, notify);
  }

  mach_reply_port(): number {
    return this.open ? this.traps.mach_reply_port() : MACH_PORT_NULL;
  }

  close(): void {
    if (!this.open) return;
    this.terminate();
  }

  /** The kernel says the task is gone (task_terminate, or kernel shutdown). */
  ended(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.settle(reason);
  }
}
