/*
 * File: kern/kernel.ts
 * Purpose: the kernel: its host, its tasks, the kernel servers behind kernel ports, and the
 *          embedded entry points `createKernel()` and `kernel.createTask()`.
 *
 * Embedded, the kernel and its tasks share one process and talk through the in-memory
 * transport; the same Kernel serves tasks in other processes through the WebSocket
 * transport. Ports and spaces are process-wide (as in one Mach kernel); the kernel
 * servers are registered once per process and find their kernel through the task or
 * host a request names.
 */

import { MACH_PORT_NULL } from '../mach/port.js';
import { ipc_kobject_server_register } from '../ipc/kobject.js';
import { ipc_port_copy_send, ipc_port_copyout_send, ipc_port_make_send, IP_VALID, type IpcPort, type IpcPortRef } from '../ipc/port.js';
import { VM_LEVEL_DEFAULT, type VmLevel } from '../vm/level.js';
import type { VmMap } from '../vm/map.js';
import { VmSystem } from '../vm/vm_system.js';
import { vm_host_set_system, vm_kernel_server, vm_routines, vm_task_init } from '../vm/vm_server.js';
import { LoopbackTransport } from '../transport/loopback.js';
import type { TaskInfo } from '../transport/transport.js';
import { MachTask } from '../runtime/task.js';
import { DeviceMaster, DiskDevice, device_kernel_server, type DiskOptions } from './device.js';
import { Host } from './host.js';
import { host_server_attach, host_server_detach, task_info_routines } from './host_server.js';
import { KernelMsg, kernelServer } from './ipc_mig.js';
import { mach_kernel_server } from './mach_server.js';
import { mach_port_kernel_server } from './mach_port_server.js';
import { Task, task_terminate } from './task.js';
import { TaskTraps } from './traps.js';

export interface KernelOptions {
  /** VM behaviour level: L0 (GNU Mach before 2023), L1 (July 2023), L2 (current; default). */
  vmLevel?: VmLevel;
  /** Resident pages the kernel may hold before it pages out (default: no limit). */
  memoryPages?: number;
  /** How long a fault waits for a pager before KERN_MEMORY_ERROR, in ms (default 5000). */
  pagerTimeout?: number;
  /** Disk images served as devices (device.defs) to tasks holding the device master port. */
  disks?: DiskOptions[];
}

export interface TaskOptions {
  /** Boot servers get the privileged host port and the device master port. */
  privileged?: boolean;
  /** A port (a right the new task gets a send right to) to use as its bootstrap port. */
  bootstrap?: IpcPortRef;
  /** The task's map (task_create with inherit_memory: vm_map_fork of the parent's). */
  map?: VmMap;
}

/** The kernel's MachMsg for its servers (KernelServer stubs) and KernelUser calls. */
export const kernel_mig = new KernelMsg('from_kernel');

let servers_registered = false;

/** The kernel servers, registered once per process (ipc_kobject_server's chain). */
function register_kernel_servers(): void {
  if (servers_registered) return;
  servers_registered = true;
  ipc_kobject_server_register(kernelServer(mach_port_kernel_server(kernel_mig), kernel_mig));
  ipc_kobject_server_register(vm_kernel_server(mach_kernel_server(kernel_mig, vm_routines(kernel_mig), task_info_routines(kernel_mig)), kernel_mig));
  ipc_kobject_server_register(kernelServer(device_kernel_server(kernel_mig), kernel_mig));
}

export class Kernel {
  readonly vmLevel: VmLevel;
  readonly host: Host;
  /** The kernel's VM: page queue and memory limit, default memory manager, statistics. */
  readonly vm: VmSystem;
  readonly tasks = new Map<number, Task>();
  /** The device master port and the devices (disk images) it opens. */
  readonly devices: DeviceMaster;
  private readonly connections = new Map<Task, { ended(reason: string): void }>();

  constructor(options: KernelOptions = {}) {
    register_kernel_servers();
    this.vmLevel = options.vmLevel ?? VM_LEVEL_DEFAULT;
    this.host = new Host();
    this.vm = new VmSystem({ level: this.vmLevel, memory_pages: options.memoryPages, pager_timeout: options.pagerTimeout });
    vm_host_set_system(this.host, this.vm);
    this.devices = new DeviceMaster();
    for (const disk of options.disks ?? []) this.devices.add(new DiskDevice(disk, this.vm));
    host_server_attach(this, kernel_mig);
  }

  /**
   * task_create_kernel: a new task with an empty space and map.
   * Rights: the task holds no rights yet; see connect() for the ones it starts with.
   */
  task_create(name: string, options: TaskOptions = {}): Task {
    const task = new Task(this, name, this.vmLevel, undefined, options.map);
    vm_task_init(task, this.vm);
    if (IP_VALID(options.bootstrap ?? null)) task.itk_bootstrap = ipc_port_make_send(options.bootstrap as IpcPort);
    this.tasks.set(task.id, task);
    return task;
  }

  /**
   * The rights a task starts with, copied out into its space, and the traps to reach the
   * kernel: what a transport gives the task.
   */
  task_info(task: Task, options: TaskOptions = {}): TaskInfo {
    const space = task.itk_space;
    // Kernel ports get a made send right (retrieve_task_self_fast); the bootstrap port is a
    // send right the task already holds through itk_bootstrap: copied, not made
    // (task_get_special_port), so its make-send count does not move.
    const make = (ref: IpcPortRef): number => (IP_VALID(ref) ? ipc_port_copyout_send(ipc_port_make_send(ref), space) : MACH_PORT_NULL);
    const copy = (ref: IpcPortRef): number => (IP_VALID(ref) ? ipc_port_copyout_send(ipc_port_copy_send(ref), space) : MACH_PORT_NULL);
    return {
      id: task.id,
      name: task.name,
      task_self: make(task.itk_self),
      host_self: make(this.host.host_self),
      host_priv: options.privileged ? make(this.host.host_priv_self) : MACH_PORT_NULL,
      device_master: options.privileged ? make(this.devices.port) : MACH_PORT_NULL,
      bootstrap: copy(task.itk_bootstrap),
    };
  }

  /** The traps of `task`, for a transport, and who to tell when the task ends. */
  connect(task: Task, connection: { ended(reason: string): void }): TaskTraps {
    this.connections.set(task, connection);
    return new TaskTraps(task, this.host);
  }

  /** task_terminate: the task ends; its connection hears of it. */
  task_terminate(task: Task): void {
    if (!task.active) return;
    task_terminate(task);
    this.tasks.delete(task.id);
    const c = this.connections.get(task);
    this.connections.delete(task);
    c?.ended('task terminated');
  }

  /**
   * An embedded task: the kernel-side task and its runtime, joined by the in-memory
   * transport. The runtime is what generated stubs run on.
   */
  createTask(name = 'task', options: TaskOptions = {}): MachTask {
    const task = this.task_create(name, options);
    const info = this.task_info(task, options);
    let transport: LoopbackTransport | null = null;
    const traps = this.connect(task, { ended: (reason) => transport?.ended(reason) });
    transport = new LoopbackTransport(traps, info, () => this.task_terminate(task));
    return new MachTask(transport);
  }

  /** Every task ends; the host's and the devices' ports die. */
  shutdown(): void {
    for (const task of [...this.tasks.values()]) this.task_terminate(task);
    this.devices.destroy();
    host_server_detach(this);
    this.host.destroy();
  }
}

/** A kernel for embedded use: `const k = createKernel(); const t = k.createTask('a');` */
export function createKernel(options: KernelOptions = {}): Kernel {
  return new Kernel(options);
}
