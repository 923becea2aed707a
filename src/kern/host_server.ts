/*
 * File: kern/host_server.ts
 * Purpose: the kernel serves the host's processor sets (defs/mach_host.defs, GNU Mach
 *          kern/processor.c, kern/ipc_host.c), task names (defs/gnumach.defs'
 *          task_set_name) and task_info (mach.defs 2012, kern/task.c): what lets a
 *          privileged tool (tsmach ps, vminfo) reach every task the Mach way.
 *
 * How a tool gets another task's port, as the Hurd's proc server does:
 *   host_processor_sets(host)                 -> name ports of the processor sets
 *   host_processor_set_priv(host_priv, name)  -> the set's control port (host_priv needed)
 *   processor_set_tasks(set)                  -> send rights to every task's kernel port
 * Only a holder of the privileged host port gets a set's control port, so only it can
 * list the tasks; the name port (which anyone gets) answers nothing but
 * processor_set_default. The set itself (one per kernel: the default one) is
 * kern/processor.ts's.
 *
 * task_info flavors:
 *   TASK_BASIC_INFO (1): GNU Mach's struct task_basic_info on x86_64, 18 integers:
 *     suspend_count, base_priority, virtual_size (2 words, low first), resident_size
 *     (bytes, 2 words), user_time, system_time, creation_time (time_value_t: seconds in
 *     2 words, microseconds, padding). Resident size: the task's map's resident pages
 *     (what a fault would map: each page of an entry found in its object or down the
 *     shadow chain), times PAGE_SIZE; the times are 0 (no threads here).
 *   TASK_TSMACH_INFO (100, tsmach's own flavor): the task's identity for tools:
 *     [id, name length in bytes, the UTF-8 name packed 4 bytes per integer, little-endian].
 */

import { gnumach_server, type gnumach_routines } from '../gen/gnumach.server.js';
import type { mach_routines } from '../gen/mach.server.js';
import { mach_host_server, type mach_host_routines } from '../gen/mach_host.server.js';
import { ipc_kobject_server_register } from '../ipc/kobject.js';
import { ipc_port_make_send } from '../ipc/port.js';
import { KERN_INVALID_ARGUMENT, KERN_INVALID_TASK, KERN_SUCCESS } from '../mach/kern_return.js';
import type { MachPort } from '../mach/mig.js';
import type { VmMap } from '../vm/map.js';
import type { VmObject } from '../vm/object.js';
import { PAGE_SIZE } from '../vm/vm_param.js';
import { convert_port_to_host, convert_port_to_host_priv, type Host } from './host.js';
import { kernelServer, type KernelMsg } from './ipc_mig.js';
import {
  convert_port_to_pset, convert_port_to_pset_name, default_pset, default_pset_destroy, type ProcessorSet, type PsetKernel,
} from './processor.js';
import { convert_port_to_task } from './task.js';

/** What this file needs of a kernel (kern/kernel.ts's Kernel). */
export interface HostKernel extends PsetKernel {
  readonly vmLevel: string;
}

/** task_info flavors (include/mach/task_info.h). */
export const TASK_BASIC_INFO = 1;
/** 18 on x86_64: sizeof(struct task_basic_info) / sizeof(integer_t). */
export const TASK_BASIC_INFO_COUNT = 18;
/** tsmach's own flavor: [id, name length, name bytes packed 4 per integer]. */
export const TASK_TSMACH_INFO = 100;
export const TASK_TSMACH_INFO_COUNT = 2 + 64;

/** The kernel's version string (host_kernel_version). */
export const KERNEL_VERSION = 'tsmach 0.1.0: GNU Mach IPC and VM in TypeScript';

/* ==== mach_host.defs (the processor sets themselves: kern/processor.ts) ============== */

const kernels = new WeakMap<Host, HostKernel>();

/** The default processor set of the kernel `host` belongs to, or null (no such kernel). */
function host_default_pset(host: Host): ProcessorSet | null {
  const kernel = kernels.get(host);
  return kernel === undefined ? null : default_pset(kernel);
}

/** The mach_host.defs routines the kernel implements. */
export function mach_host_routines_of(rt: KernelMsg): Partial<mach_host_routines> {
  const host_of = (p: MachPort): Host | null => convert_port_to_host(rt.peek(p));
  return {
    /** processor_set_default (kern/processor.c): the default set's name port. Returns KERN_INVALID_ARGUMENT for no host. */
    processor_set_default(host) {
      const h = host_of(host);
      const pset = h === null ? null : host_default_pset(h);
      if (pset === null) return KERN_INVALID_ARGUMENT;
      return { default_set: rt.right(ipc_port_make_send(pset.pset_name_self)) };
    },
    /** host_kernel_version (kern/host.c). */
    host_kernel_version(host) {
      const h = host_of(host);
      if (h === null) return KERN_INVALID_ARGUMENT;
      const kernel = kernels.get(h);
      return { kernel_version: `${KERNEL_VERSION} (VM level ${kernel?.vmLevel ?? '?'})` };
    },
    /**
     * processor_set_tasks (kern/processor.c): send rights to the kernel ports of the set's
     * tasks, in the order they were created.
     * Rights: one made send right per task, in the reply.
     * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT for anything but a set's control port.
     */
    processor_set_tasks(processor_set) {
      const pset = convert_port_to_pset(rt.peek(processor_set));
      if (pset === null) return KERN_INVALID_ARGUMENT;
      const tasks = [...pset.kernel.tasks.values()].filter((t) => t.active).sort((a, b) => a.id - b.id);
      return { task_list: tasks.map((t) => rt.right(ipc_port_make_send(t.itk_self))) };
    },
    /** host_processor_sets (kern/processor.c): the name ports of the host's sets (one). */
    host_processor_sets(host) {
      const h = host_of(host);
      const pset = h === null ? null : host_default_pset(h);
      if (pset === null) return KERN_INVALID_ARGUMENT;
      return { processor_sets: [rt.right(ipc_port_make_send(pset.pset_name_self))] };
    },
    /**
     * host_processor_set_priv (kern/processor.c): the control port of the set a name port
     * names. Conditions: the privileged host port.
     * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT (not host_priv, not a set).
     */
    host_processor_set_priv(host_priv, set_name) {
      const h = convert_port_to_host_priv(rt.peek(host_priv));
      const pset = convert_port_to_pset_name(rt.peek(set_name));
      if (h === null || pset === null || pset.kernel.host !== h) return KERN_INVALID_ARGUMENT;
      return { set: rt.right(ipc_port_make_send(pset.pset_self)) };
    },
  };
}

/* ==== task names and task_info ====================================================== */

/** The gnumach.defs routines the kernel implements. */
export function gnumach_routines_of(rt: KernelMsg): Partial<gnumach_routines> {
  return {
    /** task_set_name (kern/task.c): the task's name becomes `name`. Returns KERN_INVALID_TASK for no task. */
    task_set_name(task, name) {
      const t = convert_port_to_task(rt.peek(task));
      if (t === null) return KERN_INVALID_TASK;
      t.name = name;
      return KERN_SUCCESS;
    },
  };
}

/**
 * The resident pages of a task's map: for each entry, each page a read fault would find
 * resident (in the entry's object or down its shadow chain), counted once — GNU Mach's
 * pmap_resident_count. Costs the smaller of the entry's pages and its objects' resident
 * pages, per entry.
 */
export function vm_map_resident_pages(map: VmMap): number {
  let total = 0;
  for (let e = map.hdr.vme_next; e !== map.hdr; e = e.vme_next) {
    if (e.object === null) continue;
    const npages = (e.vme_end - e.vme_start) / PAGE_SIZE;
    const found = new Set<number>();
    let object: VmObject | null = e.object;
    let offset = e.offset;
    while (object !== null && found.size < npages) {
      const lo = offset;
      const hi = offset + npages * PAGE_SIZE;
      if (object.memq.size < npages - found.size) {
        for (const [at, page] of object.memq) {
          if (at < lo || at >= hi || page.absent || page.error) continue;
          found.add((at - lo) / PAGE_SIZE);
        }
      } else {
        for (let i = 0; i < npages; i++) {
          if (found.has(i)) continue;
          const page = object.memq.get(lo + i * PAGE_SIZE);
          if (page !== undefined && !page.absent && !page.error) found.add(i);
        }
      }
      offset += object.shadow_offset;
      object = object.shadow;
    }
    total += found.size;
  }
  return total;
}

/** A 64-bit value as two integer_t, low word first. */
function words64(n: number): [number, number] {
  return [n % 0x100000000 | 0, Math.floor(n / 0x100000000) | 0];
}

/** The name as TASK_TSMACH_INFO carries it: [length, bytes packed 4 per integer, little-endian]. */
export function task_name_words(name: string): number[] {
  const bytes = new TextEncoder().encode(name).subarray(0, (TASK_TSMACH_INFO_COUNT - 2) * 4);
  const words = [bytes.length];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) | 0);
  }
  return words;
}

/** The name back from TASK_TSMACH_INFO's words (from the length word on). */
export function task_name_from_words(words: readonly number[]): string {
  const length = words[0] ?? 0;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (words[1 + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff;
  return new TextDecoder().decode(bytes);
}

/** task_info (mach.defs 2012), for the kernel's mach demux. */
export function task_info_routines(rt: KernelMsg): Partial<mach_routines> {
  return {
    /**
     * task_info (kern/task.c): TASK_BASIC_INFO or TASK_TSMACH_INFO about the task.
     * Returns: KERN_SUCCESS; KERN_INVALID_TASK; KERN_INVALID_ARGUMENT (unknown flavor, or
     *   a count below the flavor's).
     */
    task_info(target_task, flavor, count) {
      const t = convert_port_to_task(rt.peek(target_task));
      if (t === null) return KERN_INVALID_TASK;
      switch (flavor) {
        case TASK_BASIC_INFO: {
          if (count < TASK_BASIC_INFO_COUNT) return KERN_INVALID_ARGUMENT;
          const time = [0, 0, 0, 0];
          return {
            task_info_out: [0, 0, ...words64(t.map.size), ...words64(vm_map_resident_pages(t.map) * PAGE_SIZE), ...time, ...time, ...time],
          };
        }
        case TASK_TSMACH_INFO: {
          if (count < TASK_TSMACH_INFO_COUNT) return KERN_INVALID_ARGUMENT;
          return { task_info_out: [t.id, ...task_name_words(t.name)] };
        }
        default:
          return KERN_INVALID_ARGUMENT;
      }
    },
  };
}

/* ==== the kernel's registration ====================================================== */

let registered = false;

/**
 * A kernel's host joins this file's servers (registered once per process, like the
 * other kernel servers): its processor set and task calls are served from now on.
 */
export function host_server_attach(kernel: HostKernel, rt: KernelMsg): void {
  if (!registered) {
    registered = true;
    ipc_kobject_server_register(kernelServer(mach_host_server(mach_host_routines_of(rt)), rt));
    ipc_kobject_server_register(kernelServer(gnumach_server(gnumach_routines_of(rt)), rt));
  }
  kernels.set(kernel.host, kernel);
}

/** The kernel shuts down: its processor set's ports die. */
export function host_server_detach(kernel: HostKernel): void {
  default_pset_destroy(kernel);
  kernels.delete(kernel.host);
}
