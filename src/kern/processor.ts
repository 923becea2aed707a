/*
 * File: kern/processor.ts
 * Purpose: processor sets (GNU Mach kern/processor.c, kern/ipc_host.c): the set's control
 *          and name ports, the host's default set, and the conversions from a port.
 *
 * One processor set per kernel: the default one (pset_init's default_pset), made the first
 * time it is asked for and destroyed with the kernel. Its control port (IKOT_PSET) lists
 * the kernel's tasks (processor_set_tasks); its name port (IKOT_PSET_NAME), which anyone
 * may hold, answers nothing but processor_set_default. The routines that hand these ports
 * out are served by kern/host_server.ts.
 */

import { IKOT_PSET, IKOT_PSET_NAME, ipc_kobject_set } from '../ipc/kobject.js';
import { ipc_port_alloc_kernel, ipc_port_dealloc_kernel, IP_VALID, type IpcPort, type IpcPortRef } from '../ipc/port.js';
import type { Host } from './host.js';
import type { Task } from './task.js';

/** What a processor set needs of its kernel: the host it belongs to and the tasks it holds. */
export interface PsetKernel {
  readonly host: Host;
  readonly tasks: Map<number, Task>;
}

/** struct processor_set, reduced to its ports and its kernel (the tasks it holds). */
export class ProcessorSet {
  /** pset_self: the control port (IKOT_PSET) */
  readonly pset_self: IpcPort;
  /** pset_name_self: the name port (IKOT_PSET_NAME) */
  readonly pset_name_self: IpcPort;
  readonly kernel: PsetKernel;

  constructor(kernel: PsetKernel) {
    this.kernel = kernel;
    this.pset_self = ipc_port_alloc_kernel();
    ipc_kobject_set(this.pset_self, this, IKOT_PSET);
    this.pset_name_self = ipc_port_alloc_kernel();
    ipc_kobject_set(this.pset_name_self, this, IKOT_PSET_NAME);
  }

  /** The set's ports die (with the kernel). */
  destroy(): void {
    ipc_port_dealloc_kernel(this.pset_self);
    ipc_port_dealloc_kernel(this.pset_name_self);
  }
}

const default_psets = new WeakMap<PsetKernel, ProcessorSet>();

/** The kernel's default processor set, made the first time it is asked for. */
export function default_pset(kernel: PsetKernel): ProcessorSet {
  let pset = default_psets.get(kernel);
  if (pset === undefined) {
    pset = new ProcessorSet(kernel);
    default_psets.set(kernel, pset);
  }
  return pset;
}

/** The kernel shuts down: its default processor set (if it was made) is destroyed. */
export function default_pset_destroy(kernel: PsetKernel): void {
  default_psets.get(kernel)?.destroy();
  default_psets.delete(kernel);
}

/** convert_port_to_pset: the set a control port stands for, or null. */
export function convert_port_to_pset(port: IpcPortRef): ProcessorSet | null {
  return IP_VALID(port) && port.ip_kotype === IKOT_PSET ? (port.ip_kobject as ProcessorSet) : null;
}

/** convert_port_to_pset_name: the set a control or name port stands for, or null. */
export function convert_port_to_pset_name(port: IpcPortRef): ProcessorSet | null {
  return IP_VALID(port) && (port.ip_kotype === IKOT_PSET || port.ip_kotype === IKOT_PSET_NAME) ? (port.ip_kobject as ProcessorSet) : null;
}
