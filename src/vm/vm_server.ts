/*
 * File: vm/vm_server.ts
 * Purpose: the kernel serves the VM part of defs/mach.defs (GNU Mach vm/vm_user.c,
 *          vm/memory_object.c, kern/task.c's task_create) through tsmig's generated demux:
 *          the work functions on task ports (vm_allocate ... vm_map, vm_statistics,
 *          task_create), on the host port (vm_set_default_memory_manager) and on memory
 *          object control ports (the pager's answers); and `vm_kernel_server`, which runs
 *          the mach demux as a kernel object server and lets work functions wait (for a
 *          pager) before they answer.
 *
 * Argument translation as GNU MIG's KernelServer stubs do it: a vm_task_t that is not a
 * live task port is VM_MAP_NULL (KERN_INVALID_ARGUMENT), a task_t that is not is
 * TASK_NULL (KERN_INVALID_TASK), a control port that names no object is
 * VM_OBJECT_NULL (KERN_INVALID_ARGUMENT). Addresses and sizes that do not fit the map's
 * vm_offset_t are KERN_INVALID_ARGUMENT.
 */

import type { mach_routines } from '../gen/mach.server.js';
import { ipc_kmsg_destroy, ipc_kmsg_set_vm, IpcKmsg } from '../ipc/kmsg.js';
import type { IpcKobjectDemux } from '../ipc/kobject.js';
import { ipc_mqueue_send_always } from '../ipc/mqueue.js';
import { ipc_object_destroy } from '../ipc/object.js';
import { IP_VALID, ipc_port_copy_send, ipc_port_make_send, type IpcPortRef } from '../ipc/port.js';
import { convert_port_to_host_priv, type Host } from '../kern/host.js';
import { kernelServer, type KernelMsg } from '../kern/ipc_mig.js';
import { convert_port_to_task, type Task } from '../kern/task.js';
import {
  KERN_FAILURE, KERN_INVALID_ARGUMENT, KERN_INVALID_HOST, KERN_INVALID_TASK, KERN_MEMORY_ERROR, KERN_SUCCESS,
} from '../mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_REMOTE, MACH_MSG_TYPE_PORT_ANY, type MachMessage,
} from '../mach/message.js';
import type { MachMsg, MachPort, MigDemux } from '../mach/mig.js';
import { vm_map_remove } from './delete.js';
import { vm_fault_retry, vm_object_read_async } from './fault.js';
import { vm_map_fork } from './fork.js';
import type { VmMap } from './map.js';
import { vm_map_entry_contains, vm_map_lookup_entry } from './map.js';
import {
  memory_object_data_error_pages, memory_object_data_supply_pages, memory_object_data_unavailable_pages,
  memory_object_lock_pages, memory_object_set_attributes, vm_object_destroy, vm_object_enter, vm_object_lookup,
  vm_region_name_port, vm_set_default_memory_manager,
} from './memory_object.js';
import type { VmObject } from './object.js';
import { vm_object_allocate, vm_object_deallocate, vm_object_wait_ready } from './object.js';
import {
  vm_map_copy_discard, vm_map_copy_overwrite, vm_map_copy_read_missing, vm_map_copy_read_now, vm_map_copyin,
} from './map_copy.js';
import { vm_ipc_hook, vm_ool_attach, vm_ool_take, vm_space_set_map } from './ool.js';
import './pageout.js';
import { VmPage } from './page.js';
import type { VmSystem } from './vm_system.js';
import { PAGE_SIZE, round_page, vm_offset_max } from './vm_param.js';
import { VM_PROT_ALL, vm_inherit_valid } from './vm_prot.js';
import { vm_allocate, vm_deallocate, vm_inherit, vm_map, vm_protect, vm_region } from './vm_user.js';

/* ==== kernel wiring ================================================================= */

let vm_hook_installed = false;

/**
 * vm_task_init: a task's map joins its kernel's VM (page accounting, pagers) and its IPC
 * space's out-of-line regions come from and go to it. The first call also plugs the VM
 * into the IPC layer (ipc_kmsg_set_vm).
 */
export function vm_task_init(task: Task, system: VmSystem): void {
  if (!vm_hook_installed) {
    vm_hook_installed = true;
    ipc_kmsg_set_vm(vm_ipc_hook);
  }
  task.map.system = system;
  vm_space_set_map(task.itk_space, task.map);
}

/** vm_map_destroy: a terminated task's map loses every entry (and their object references). */
export function vm_task_terminate(task: Task): void {
  vm_map_remove(task.map, task.map.min_offset, task.map.max_offset);
  task.map.system?.balance();
}

const host_systems = new WeakMap<Host, VmSystem>();

/** The kernel VM behind a host (for vm_set_default_memory_manager). */
export function vm_host_set_system(host: Host, system: VmSystem): void {
  host_systems.set(host, system);
}

/* ==== the VM routines of mach.defs ================================================== */

/**
 * The VM routines of mach.defs, and task_create, as work functions for the kernel's mach
 * demux (mach_kernel_server(rt, vm_routines(rt))).
 */
export function vm_routines(rt: KernelMsg): Partial<mach_routines> {
  const task_of = (p: MachPort): Task | null => convert_port_to_task(rt.peek(p));
  const map_of = (p: MachPort): VmMap | null => task_of(p)?.map ?? null;
  const fits = (map: VmMap, ...values: number[]): boolean => {
    const max = vm_offset_max(map.word_bits);
    return values.every((v) => Number.isSafeInteger(v) && v >= 0 && v <= max);
  };
  const object_of = (p: MachPort): VmObject | null => vm_object_lookup(rt.peek(p));

  return {
    /**
     * task_create (kern/task.c): a child task of the target's kernel; with inherit_memory
     * its map is vm_map_fork of the parent's (SHARE, COPY, NONE per entry), else empty with
     * the same bounds. It starts with the parent's bootstrap and exception ports.
     * Rights: the reply carries a send right to the child's kernel port.
     * Returns: KERN_SUCCESS, KERN_INVALID_TASK.
     */
    task_create(target, inherit_memory) {
      const parent = task_of(target);
      if (parent === null) return KERN_INVALID_TASK;
      const map = inherit_memory ? vm_map_fork(parent.map) : undefined;
      const child = parent.kernel.task_create(`${parent.name}.child`, map === undefined ? {} : { map });
      if (IP_VALID(parent.itk_bootstrap)) child.itk_bootstrap = ipc_port_copy_send(parent.itk_bootstrap);
      if (IP_VALID(parent.itk_exception)) child.itk_exception = ipc_port_copy_send(parent.itk_exception);
      return { child_task: rt.right(ipc_port_make_send(child.itk_self)) };
    },

    /** vm_allocate (vm/vm_user.c; spec §8.3). */
    vm_allocate(target, address, size, anywhere) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size)) return KERN_INVALID_ARGUMENT;
      const r = vm_allocate(map, address, size, anywhere);
      return r.kr === KERN_SUCCESS ? { address: r.address } : r.kr;
    },

    /** vm_deallocate (vm/vm_user.c): always KERN_SUCCESS for a valid task. */
    vm_deallocate(target, address, size) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size)) return KERN_INVALID_ARGUMENT;
      const kr = vm_deallocate(map, address, size);
      map.system?.balance();
      return kr;
    },

    /** vm_protect (vm/vm_user.c). */
    vm_protect(target, address, size, set_maximum, new_protection) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size)) return KERN_INVALID_ARGUMENT;
      return vm_protect(map, address, size, set_maximum, new_protection >>> 0);
    },

    /** vm_inherit (vm/vm_user.c). */
    vm_inherit(target, address, size, new_inheritance) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size)) return KERN_INVALID_ARGUMENT;
      return vm_inherit(map, address, size, new_inheritance >>> 0);
    },

    /**
     * vm_read (vm/vm_user.c): an entry-list copy of [address, address + size) (the source
     * entries are clipped and become copy-on-write), sent back out of line: it lands in
     * the caller's map as new entries (never merged) and the reply carries the bytes.
     * Pages only a pager has are asked for first, and waited for.
     * Returns: KERN_SUCCESS; vm_map_copyin's errors; KERN_INVALID_ARGUMENT (no task);
     *   KERN_MEMORY_ERROR (a pager failed, or did not answer in time).
     */
    async vm_read(target, address, size) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size)) return KERN_INVALID_ARGUMENT;
      const r = vm_map_copyin(map, address, size, false);
      if (r.kr !== KERN_SUCCESS) return r.kr;
      const { bytes, missing } = vm_map_copy_read_now(r.copy);
      if (missing.length > 0) {
        const kr = await vm_map_copy_read_missing(map.system, r.copy!, bytes, missing);
        if (kr !== KERN_SUCCESS) {
          vm_map_copy_discard(r.copy);
          return kr;
        }
      }
      map.system?.balance();
      return { data: vm_ool_attach(r.copy, bytes) };
    },

    /**
     * vm_write (vm/vm_user.c): vm_map_copy_overwrite of the data's copy at `address`
     * (page-aligned address, whole pages of data: else KERN_INVALID_ARGUMENT). Temporary
     * destination memory takes the copy's objects; permanent memory is written through
     * faults. Never merges.
     * Returns: KERN_SUCCESS, KERN_INVALID_ARGUMENT, KERN_INVALID_ADDRESS,
     *   KERN_PROTECTION_FAILURE, KERN_MEMORY_ERROR.
     */
    async vm_write(target, address, data) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address)) return KERN_INVALID_ARGUMENT;
      const copy = vm_ool_take(map.system, data);
      const kr = await vm_map_copy_overwrite(map, address, copy);
      if (kr !== KERN_SUCCESS) vm_map_copy_discard(copy);
      return kr;
    },

    /**
     * vm_copy (vm/vm_user.c): vm_map_copyin of the source then vm_map_copy_overwrite of
     * the destination, in the same map.
     * Returns: the codes of both.
     */
    async vm_copy(target, source_address, size, dest_address) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, source_address, size, dest_address)) return KERN_INVALID_ARGUMENT;
      const r = vm_map_copyin(map, source_address, size, false);
      if (r.kr !== KERN_SUCCESS) return r.kr;
      const kr = await vm_map_copy_overwrite(map, dest_address, r.copy);
      if (kr !== KERN_SUCCESS) vm_map_copy_discard(r.copy);
      return kr;
    },

    /**
     * vm_region (vm/vm_map.c; spec §5.1): the entry at or after `address`; object_name is
     * a send right to the name port of the bottom object of its chain (MACH_PORT_NULL for
     * zero-fill memory), never the pager port.
     * Returns: KERN_SUCCESS, KERN_NO_SPACE, KERN_INVALID_ARGUMENT.
     */
    vm_region(target, address) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address)) return KERN_INVALID_ARGUMENT;
      const r = vm_region(map, address);
      if (r.kr !== KERN_SUCCESS || r.region === null) return r.kr;
      const g = r.region;
      const entry_object = vm_region_object(map, g.address);
      const name = vm_region_name_port(entry_object);
      return {
        address: g.address, size: g.size, protection: g.protection, max_protection: g.max_protection,
        inheritance: g.inheritance, is_shared: g.is_shared,
        object_name: name === null ? null : rt.right(ipc_port_make_send(name)), offset: g.offset,
      };
    },

    /**
     * vm_statistics (vm/vm_user.c): the kernel's counters (struct vm_statistics: pagesize,
     * free, active, inactive, wired, zero fills, reactivations, pageins, pageouts, faults,
     * cow faults, lookups, hits).
     */
    vm_statistics(target) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      const sys = map.system;
      const s = sys?.stats;
      const clamp = (n: number): number => Math.min(n, 0x7fffffff);
      return {
        vm_stats: [
          PAGE_SIZE, clamp(sys?.free_count ?? 0x7fffffff), clamp(sys?.resident ?? 0), 0, 0,
          clamp(s?.zero_fill_count ?? 0), clamp(s?.reactivations ?? 0), clamp(s?.pageins ?? 0), clamp(s?.pageouts ?? 0),
          clamp(s?.faults ?? 0), clamp(s?.cow_faults ?? 0), clamp(s?.lookups ?? 0), clamp(s?.hits ?? 0),
        ],
      };
    },

    /**
     * vm_map (vm/vm_user.c; spec §8.3): map a memory object (vm_object_enter: a new
     * external object for a port seen the first time, memory_object_init to its pager),
     * or zero-fill memory for MACH_PORT_NULL. With copy, the pager's copy strategy is
     * waited for (memory_object_ready) and the range copied: delayed (needs_copy) or slowly.
     * Returns: KERN_SUCCESS with the address; KERN_INVALID_ARGUMENT (bad protections,
     *   inheritance, size 0, a port that is no memory object); KERN_NO_SPACE;
     *   KERN_INVALID_ADDRESS; KERN_MEMORY_ERROR (the pager never became ready).
     */
    vm_map(target, address, size, mask, anywhere, memory_object, offset, copy, cur_protection, max_protection, inheritance) {
      const map = map_of(target);
      if (map === null) return KERN_INVALID_ARGUMENT;
      cur_protection >>>= 0;
      max_protection >>>= 0;
      if ((cur_protection & ~VM_PROT_ALL) !== 0 || (max_protection & ~VM_PROT_ALL) !== 0) return KERN_INVALID_ARGUMENT;
      if (!vm_inherit_valid(inheritance >>> 0)) return KERN_INVALID_ARGUMENT;
      if (!fits(map, address, size, mask, offset)) return KERN_INVALID_ARGUMENT;
      if (size === 0) return KERN_INVALID_ARGUMENT;
      const port = rt.peek(memory_object);
      if (!IP_VALID(port)) {
        const r = vm_map(map, address, size, mask, anywhere, null, 0, false, cur_protection, max_protection, inheritance >>> 0);
        return r.kr === KERN_SUCCESS ? { address: r.address } : r.kr;
      }
      const object = vm_object_enter(port, round_page(map.word_bits, size), map.system);
      if (object === null) return KERN_INVALID_ARGUMENT;
      const enter = (obj: VmObject, off: number, cp: boolean): { address: number } | number => {
        const r = vm_map(map, address, size, mask, anywhere, obj, off, cp, cur_protection, max_protection, inheritance >>> 0);
        vm_object_deallocate(obj);
        return r.kr === KERN_SUCCESS ? { address: r.address } : r.kr;
      };
      if (!copy) return enter(object, offset, false);
      return (async () => {
        if (!object.pager_ready) {
          const ready = await vm_fault_retry(map.system, () => (object.pager_ready ? { kr: KERN_SUCCESS } : { wait: vm_object_wait_ready(object) }));
          if (ready.kr !== KERN_SUCCESS || !object.pager_ready || object.pager_destroyed) {
            vm_object_deallocate(object);
            return KERN_MEMORY_ERROR;
          }
        }
        if (object.temporary || object.copy_strategy !== 'none') return enter(object, offset, true);
        // MEMORY_OBJECT_COPY_NONE: vm_object_copy_slowly, reading the pages through the pager.
        const length = round_page(map.word_bits, size);
        const slow = await vm_object_copy_slowly_async(map.system, object, offset, length);
        vm_object_deallocate(object);
        if (typeof slow === 'number') return slow;
        return enter(slow, 0, false);
      })();
    },

    /**
     * vm_set_default_memory_manager (vm/memory_object.c): on the privileged host port.
     * With a valid default_manager it becomes the kernel's default memory manager (which
     * receives memory_object_create for internal objects being paged out) and the
     * previous one is returned; with MACH_PORT_NULL the current one is returned.
     * Returns: KERN_SUCCESS, KERN_INVALID_HOST.
     */
    vm_set_default_memory_manager(host_priv, default_manager) {
      const host = convert_port_to_host_priv(rt.peek(host_priv));
      if (host === null) return KERN_INVALID_HOST;
      const system = host_systems.get(host);
      if (system === undefined) return KERN_INVALID_HOST;
      const given: IpcPortRef = default_manager === null ? null : rt.take(default_manager);
      const returned = vm_set_default_memory_manager(system, given);
      // (A handle named MACH_PORT_NULL: the generated reply code takes a null out value as
      // "unchanged" and would send the request's right back.)
      return { default_manager: rt.right(returned) };
    },

    /**
     * memory_object_data_supply (vm/memory_object.c): the pager's pages (whole pages, out
     * of line), into the object, clean, with its lock and precious flag.
     * reply_to would get memory_object_supply_completed, which defs/memory_object.defs
     * skips (2207): it is released unused (a send-once notification).
     * Returns: KERN_SUCCESS, KERN_INVALID_ARGUMENT, KERN_MEMORY_PRESENT.
     */
    async memory_object_data_supply(memory_control, offset, data, lock_value, precious) {
      const object = object_of(memory_control);
      const copy = vm_ool_take(null, data);
      if (object === null || data.length % PAGE_SIZE !== 0) {
        vm_map_copy_discard(copy);
        return KERN_INVALID_ARGUMENT;
      }
      const { bytes, missing } = vm_map_copy_read_now(copy);
      if (missing.length > 0 && copy !== null) {
        const kr = await vm_map_copy_read_missing(null, copy, bytes, missing);
        if (kr !== KERN_SUCCESS) {
          vm_map_copy_discard(copy);
          return kr;
        }
      }
      vm_map_copy_discard(copy);
      if (!object.alive) return KERN_INVALID_ARGUMENT;
      const pages: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += PAGE_SIZE) pages.push(bytes.slice(at, at + PAGE_SIZE));
      return memory_object_data_supply_pages(object, offset, pages, lock_value >>> 0, precious);
    },

    /** memory_object_data_unavailable: requested pages become zero-fill (or go down the chain). */
    memory_object_data_unavailable(memory_control, offset, size) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      return memory_object_data_unavailable_pages(object, offset, size);
    },

    /** memory_object_data_error: requested pages fail their faults with KERN_MEMORY_ERROR. */
    memory_object_data_error(memory_control, offset, size) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      return memory_object_data_error_pages(object, offset, size);
    },

    /**
     * memory_object_lock_request (vm/memory_object.c): clean, flush and (un)lock pages;
     * memory_object_lock_completed goes to reply_to.
     */
    memory_object_lock_request(memory_control, offset, size, should_return, should_flush, lock_value, reply_to) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      const reply = rt.take(reply_to);
      return memory_object_lock_pages(object, offset, size, should_return, should_flush, lock_value >>> 0, reply);
    },

    /** memory_object_ready: the pager is ready; its copy strategy and may_cache. */
    memory_object_ready(memory_control, may_cache, copy_strategy) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      return memory_object_set_attributes(object, may_cache, copy_strategy);
    },

    /**
     * memory_object_change_attributes: as memory_object_ready. reply_to would get
     * memory_object_change_completed, which defs/memory_object.defs skips (2209): it is
     * released unused.
     */
    memory_object_change_attributes(memory_control, may_cache, copy_strategy) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      return memory_object_set_attributes(object, may_cache, copy_strategy);
    },

    /** memory_object_destroy: the pager gives the object up (vm_object_destroy). */
    memory_object_destroy(memory_control) {
      const object = object_of(memory_control);
      if (object === null) return KERN_INVALID_ARGUMENT;
      vm_object_destroy(object);
      return KERN_SUCCESS;
    },
  };
}

/* The object of the entry vm_region reported (the one starting at `start`). */
function vm_region_object(map: VmMap, start: number): VmObject | null {
  const entry = vm_map_lookup_entry(map, start);
  return vm_map_entry_contains(map, entry, start) ? entry.object : null;
}

/**
 * vm_object_copy_slowly (vm/vm_object.c) for a source a pager backs: a new internal
 * object of `size` bytes holding the source's data from src_offset, read through the
 * pager as needed.
 * Returns: the new object (one reference), or KERN_MEMORY_ERROR.
 */
async function vm_object_copy_slowly_async(system: VmSystem | null, src: VmObject, src_offset: number, size: number): Promise<VmObject | number> {
  const object = vm_object_allocate(size);
  const buffer = new Uint8Array(PAGE_SIZE);
  for (let offset = 0; offset < size; offset += PAGE_SIZE) {
    buffer.fill(0);
    const kr = await vm_object_read_async(system, src, src_offset + offset, PAGE_SIZE, buffer, 0);
    if (kr !== KERN_SUCCESS) {
      vm_object_deallocate(object);
      return kr;
    }
    const page = new VmPage(object, offset);
    page.set_data(buffer.slice());
    page.dirty = true;
    object.memq.set(offset, page);
    system?.vm_page_enqueue(page);
  }
  return object;
}

/* ==== the kernel object server ====================================================== */

interface VmPendingCall {
  out: Promise<MachMessage | null>;
  reply: IpcPortRef;
  reply_type: number;
  id: number;
  rights: Array<{ ref: IpcPortRef; type: number }>;
  ool: Uint8Array[];
}

/**
 * vm_kernel_server: `demux` as a kernel object server (as kern/ipc_mig.ts's kernelServer)
 * whose work functions may answer later: a work function that returns a promise (it waits
 * for a pager) leaves the request with the server, as GNU Mach's blocked kernel thread
 * does; when it settles, the reply goes to the request's reply port. On success the
 * request's rights the call did not keep are released; on failure they and its
 * out-of-line data are destroyed, as for a synchronous call.
 * Conditions: asynchronous work functions use the request's port handles only before
 *   their first await (to find their task or object).
 */
export function vm_kernel_server(demux: MigDemux, rt: KernelMsg): IpcKobjectDemux {
  let pending: VmPendingCall | null = null;
  const wrapped = ((req: MachMessage, task: MachMsg) => {
    const out = demux(req, task);
    if (!(out instanceof Promise)) return out;
    const rights: VmPendingCall['rights'] = [];
    const ool: Uint8Array[] = [];
    for (const it of req.body) {
      if (MACH_MSG_TYPE_PORT_ANY(it.type.name)) {
        const names = Array.isArray(it.data) ? it.data : [it.data as number];
        for (const n of names) if (rt.holds(n)) rights.push({ ref: rt.take(n), type: it.type.name });
      } else if (!it.type.inline && it.data instanceof Uint8Array) {
        ool.push(it.data);
      }
    }
    const replyName = req.header.remotePort;
    pending = {
      out, reply: rt.holds(replyName) ? rt.take(replyName) : null, reply_type: MACH_MSGH_BITS_REMOTE(req.header.bits),
      id: req.header.id, rights, ool,
    };
    return null;
  }) as MigDemux;
  Object.defineProperties(wrapped, {
    subsystem: { value: demux.subsystem },
    base: { value: demux.base },
    total: { value: demux.total },
    routine: { value: (id: number) => demux.routine(id) },
  });
  const inner = kernelServer(wrapped, rt);
  return (request: IpcKmsg, reply: IpcKmsg): boolean => {
    pending = null;
    const handled = inner(request, reply);
    const call = pending as VmPendingCall | null;
    pending = null;
    if (call !== null) vm_kernel_server_finish(call, rt);
    return handled;
  };
}

/* The late reply of an asynchronous call. */
function vm_kernel_server_finish(call: VmPendingCall, rt: KernelMsg): void {
  const destroy_request = (): void => {
    for (const { ref, type } of call.rights) if (IP_VALID(ref)) ipc_object_destroy(ref, type);
    for (const data of call.ool) vm_ipc_hook.discard(data);
  };
  const send = (msg: MachMessage): void => {
    const kmsg = new IpcKmsg(
      (MACH_MSGH_BITS(call.reply_type, 0) | (msg.header.bits & MACH_MSGH_BITS_COMPLEX)) >>> 0,
      msg.header.size, call.reply, null, call.id + 100, msg.body.map((it) => rt.toKernelItem(it, true)));
    if (IP_VALID(call.reply)) ipc_mqueue_send_always(kmsg);
    else ipc_kmsg_destroy(kmsg);
  };
  call.out.then((msg) => {
    if (msg === null) {
      destroy_request();
      if (IP_VALID(call.reply)) ipc_object_destroy(call.reply, call.reply_type);
      return;
    }
    const kr = msg.body[0]!.data as number;
    if (kr === KERN_SUCCESS) {
      for (const { ref, type } of call.rights) if (IP_VALID(ref)) ipc_object_destroy(ref, type);
    } else {
      destroy_request();
    }
    send(msg);
  }, (e: unknown) => {
    console.error('kernel: a VM call failed:', e);
    destroy_request();
    send({
      header: { bits: 0, size: 40, remotePort: 0, localPort: 0, seqno: 0, id: call.id + 100 },
      body: [{ type: { name: 2, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: KERN_FAILURE }],
    });
  });
}
