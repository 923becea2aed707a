/*
 * File: kern/task.ts
 * Purpose: the kernel's task (GNU Mach kern/task.c, kern/ipc_tt.c): an IPC space, a VM
 *          map, the task's kernel port and its special ports.
 *
 * A task is named to the outside by its kernel port (IKOT_TASK); a send right to it is
 * what `mach_task_self()` returns and what task and VM calls are sent to. Terminating a
 * task destroys its space (every right it held goes, with the notifications that
 * follow) and its map.
 */

import { ipc_kobject_set, IKOT_TASK } from '../ipc/kobject.js';
import {
  ipc_port_alloc_kernel, ipc_port_dealloc_kernel, ipc_port_release_send, IP_VALID, type IpcPort, type IpcPortRef,
} from '../ipc/port.js';
import { ipc_space_create, ipc_space_destroy, type IpcSpace } from '../ipc/space.js';
import { vm_map_remove } from '../vm/delete.js';
import { VmMap } from '../vm/map.js';
import type { VmLevel } from '../vm/level.js';

/** Special ports (include/mach/task_special_ports.h). */
export const TASK_KERNEL_PORT = 1;
export const TASK_EXCEPTION_PORT = 3;
export const TASK_BOOTSTRAP_PORT = 4;

/** User maps span [0, 0xC0000000) by default, as on the i386 GNU Mach the Hurd ran. */
export const VM_MAX_USER_ADDRESS = 0xc0000000;

let next_task_id = 1;

/** What a task needs of its kernel. */
export interface TaskOwner {
  task_terminate(task: Task): void;
  /** task_create: a new task of this kernel (with the given map: a forked one). */
  task_create(name: string, options?: { map?: VmMap }): Task;
}

/** struct task */
export class Task {
  readonly id: number;
  name: string;
  readonly itk_space: IpcSpace;
  readonly map: VmMap;
  /** The task's kernel port (itk_self); its kobject is this task. */
  readonly itk_self: IpcPort;
  /** Naked send rights held for task_get_special_port. */
  itk_bootstrap: IpcPortRef = null;
  itk_exception: IpcPortRef = null;
  active = true;
  /** The kernel the task runs on (for the calls that act on the kernel's task list). */
  readonly kernel: TaskOwner;

  constructor(kernel: TaskOwner, name: string, level: VmLevel, max = VM_MAX_USER_ADDRESS, map?: VmMap) {
    this.kernel = kernel;
    this.id = next_task_id++;
    this.name = name;
    this.itk_space = ipc_space_create();
    this.map = map ?? new VmMap({ level, min: 0, max });
    this.itk_self = ipc_port_alloc_kernel();
    ipc_kobject_set(this.itk_self, this, IKOT_TASK);
  }
}

/**
 * task_terminate: the task ends: its space is destroyed (rights released, waiting calls
 * interrupted, notifications sent), then its kernel port, special ports and map.
 * Conditions: the task is active.
 */
export function task_terminate(task: Task): void {
  if (!task.active) return;
  task.active = false;
  ipc_space_destroy(task.itk_space);
  if (IP_VALID(task.itk_bootstrap)) ipc_port_release_send(task.itk_bootstrap);
  if (IP_VALID(task.itk_exception)) ipc_port_release_send(task.itk_exception);
  task.itk_bootstrap = null;
  task.itk_exception = null;
  ipc_port_dealloc_kernel(task.itk_self);
  // vm_map_deallocate -> vm_map_destroy: every entry goes, with its object reference.
  vm_map_remove(task.map, task.map.min_offset, task.map.max_offset);
  task.map.system?.balance();
}

/** convert_port_to_task: the task a port stands for, or null (not a live task port). */
export function convert_port_to_task(port: IpcPortRef): Task | null {
  if (!IP_VALID(port) || port.ip_kotype !== IKOT_TASK) return null;
  const task = port.ip_kobject as Task;
  return task.active ? task : null;
}
