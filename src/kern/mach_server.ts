/*
 * File: kern/mach_server.ts
 * Purpose: the kernel serves defs/mach.defs on task (and host) ports: the task calls here
 *          (GNU Mach kern/task.c, kern/ipc_tt.c); the VM calls join them from src/vm.
 */

import { KERN_INVALID_ARGUMENT, KERN_INVALID_TASK, KERN_SUCCESS } from '../mach/kern_return.js';
import type { MachPort } from '../mach/mig.js';
import { ipc_port_copy_send, ipc_port_release_send, IP_VALID, type IpcPortRef } from '../ipc/port.js';
import { mach_server, type mach_routines } from '../gen/mach.server.js';
import type { KernelMsg } from './ipc_mig.js';
import { convert_port_to_task, TASK_BOOTSTRAP_PORT, TASK_EXCEPTION_PORT, TASK_KERNEL_PORT, type Task } from './task.js';

/** The task routines of mach.defs. */
export function task_routines(rt: KernelMsg): Partial<mach_routines> {
  const task = (p: MachPort): Task | null => convert_port_to_task(rt.peek(p));
  return {
    /** task_terminate: the target task ends (kern/task.c). Returns KERN_SUCCESS, KERN_INVALID_TASK. */
    task_terminate(target) {
      const t = task(target);
      if (t === null) return KERN_INVALID_TASK;
      t.kernel.task_terminate(t);
      return KERN_SUCCESS;
    },
    /**
     * task_get_special_port (kern/ipc_tt.c): a send right to the task's kernel, exception
     * or bootstrap port (MACH_PORT_NULL when unset).
     * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_ARGUMENT (unknown which).
     */
    task_get_special_port(target, which_port) {
      const t = task(target);
      if (t === null) return KERN_INVALID_TASK;
      let port: IpcPortRef;
      switch (which_port) {
        case TASK_KERNEL_PORT: port = ipc_port_copy_send(t.itk_self); break;
        case TASK_EXCEPTION_PORT: port = ipc_port_copy_send(t.itk_exception); break;
        case TASK_BOOTSTRAP_PORT: port = ipc_port_copy_send(t.itk_bootstrap); break;
        default: return KERN_INVALID_ARGUMENT;
      }
      return { special_port: rt.right(port) };
    },
    /**
     * task_set_special_port (kern/ipc_tt.c): replaces the exception or bootstrap port.
     * Rights: takes the send right `special_port` on success.
     * Returns: KERN_SUCCESS, KERN_INVALID_TASK, KERN_INVALID_ARGUMENT.
     */
    task_set_special_port(target, which_port, special_port) {
      const t = task(target);
      if (t === null) return KERN_INVALID_TASK;
      if (which_port !== TASK_EXCEPTION_PORT && which_port !== TASK_BOOTSTRAP_PORT) return KERN_INVALID_ARGUMENT;
      const port = rt.take(special_port);
      const old = which_port === TASK_EXCEPTION_PORT ? t.itk_exception : t.itk_bootstrap;
      if (which_port === TASK_EXCEPTION_PORT) t.itk_exception = port;
      else t.itk_bootstrap = port;
      if (IP_VALID(old)) ipc_port_release_send(old);
      return KERN_SUCCESS;
    },
  };
}

/** The generated mach demux over every routine the kernel implements. */
export function mach_kernel_server(rt: KernelMsg, ...more: Array<Partial<mach_routines>>): ReturnType<typeof mach_server> {
  return mach_server(Object.assign({}, task_routines(rt), ...more));
}
