/*
 * File: kern/traps.ts
 * Purpose: the traps a task calls into the kernel with (GNU Mach kern/syscall_sw.c):
 *          mach_msg, mach_reply_port, mach_task_self, mach_host_self. A transport carries
 *          them from the task to here; everything else is an RPC through mach_msg.
 */

import type { MachMessage } from '../mach/message.js';
import { mach_msg, type MachMsgReturn } from '../ipc/mach_msg.js';
import { ipc_port_alloc, ipc_port_copyout_send, ipc_port_make_send } from '../ipc/port.js';
import type { Host } from './host.js';
import type { Task } from './task.js';

export class TaskTraps {
  readonly task: Task;
  private readonly host: Host;

  constructor(task: Task, host: Host) {
    this.task = task;
    this.host = host;
  }

  /**
   * mach_msg_trap: the IPC call, in the task's space; `msg.header.size` is the send size.
   * Returns: what ipc/mach_msg.ts returns, at once or once it had to wait.
   */
  mach_msg(msg: MachMessage | null, option: number, rcv_size: number, rcv_name: number, timeout: number, notify: number): MachMsgReturn {
    return mach_msg(this.task.itk_space, msg, option, msg?.header.size ?? 0, rcv_size, rcv_name, timeout, notify);
  }

  /**
   * mach_reply_port: a new receive right for the caller, to receive replies on.
   * Returns: its name, or MACH_PORT_NULL when the space is full or dead.
   */
  mach_reply_port(): number {
    const r = ipc_port_alloc(this.task.itk_space);
    if (typeof r === 'number') return 0;
    return r.ip_receiver_name;
  }

  /** mach_task_self: a send right to the task's own kernel port (one more uref each call). */
  mach_task_self(): number {
    return ipc_port_copyout_send(ipc_port_make_send(this.task.itk_self), this.task.itk_space);
  }

  /** mach_host_self: a send right to the host name port. */
  mach_host_self(): number {
    return ipc_port_copyout_send(ipc_port_make_send(this.host.host_self), this.task.itk_space);
  }
}
