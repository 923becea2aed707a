/*
 * File: vm/memory_object.ts
 * Purpose: the kernel side of the external memory management interface (GNU Mach
 *          vm/memory_object.c, vm_object_enter / vm_object_pager_create / vm_object_destroy
 *          in vm/vm_object.c): objects backed by a pager, the calls the kernel makes to a
 *          pager (memory_object_init, _data_request, _data_unlock, _terminate, and
 *          memory_object_create to the default memory manager) and what it does with the
 *          pager's answers on the control port (memory_object_ready, _change_attributes,
 *          _data_supply, _data_unavailable, _data_error, _lock_request, _destroy).
 *
 * The kernel-to-pager calls are the user stubs tsmig generates from
 * defs/memory_object.defs and defs/memory_object_default.defs, run on the kernel's
 * KernelMsg (`vm_mig`): one-way messages that leave at once. The answers arrive as
 * mach.defs requests on the object's control port (IKOT_PAGING_REQUEST) and are served
 * through the kernel's mach demux (vm/vm_server.ts), which calls the functions here.
 *
 * Ports of an object with a pager:
 *   pager          a send right to the memory object port (the pager holds the receive
 *                  right); the port's kobject is the VM object (IKOT_PAGER), which is how
 *                  vm_map finds an object already made for it;
 *   pager_request  the control port, a kernel port (IKOT_PAGING_REQUEST);
 *   name           the name port (IKOT_PAGING_NAME), what vm_region hands out.
 * memory_object_terminate moves the control and name receive rights to the pager.
 */

import {
  memory_object_data_request, memory_object_data_return, memory_object_data_unlock, memory_object_init,
  memory_object_lock_completed, memory_object_terminate,
} from '../gen/memory_object.user.js';
import { memory_object_create, memory_object_data_initialize } from '../gen/memory_object_default.user.js';
import { IKOT_NONE, IKOT_PAGER, IKOT_PAGING_NAME, IKOT_PAGING_REQUEST, ipc_kobject_destroy_register, ipc_kobject_set } from '../ipc/kobject.js';
import {
  IP_VALID, ipc_port_alloc_kernel, ipc_port_copy_send, ipc_port_dealloc_kernel, ipc_port_make_send,
  ipc_port_release_send, ipc_port_release_sonce, type IpcPort, type IpcPortRef,
} from '../ipc/port.js';
import { KernelMsg } from '../kern/ipc_mig.js';
import {
  KERN_INVALID_ARGUMENT, KERN_MEMORY_PRESENT, KERN_SUCCESS,
} from '../mach/kern_return.js';
import { MACH_MSG_TYPE_PORT_SEND_ONCE } from '../mach/message.js';
import type { VmObject, VmObjectName, VmObjectPager, memory_object_copy_strategy_t } from './object.js';
import {
  vm_object_allocate, vm_object_collapse, vm_object_name, vm_object_name_set_release, vm_object_wakeup_ready,
  vm_page_free, vm_page_insert,
} from './object.js';
import { VmPage, vm_page_wakeup_done } from './page.js';
import type { VmSystem } from './vm_system.js';
import { PAGE_SIZE, round_page, trunc_page } from './vm_param.js';
import { VM_PROT_ALL, VM_PROT_NO_CHANGE, VM_PROT_NONE, type vm_prot_t } from './vm_prot.js';

/** The kernel's MachMsg for its calls to pagers (KernelUser: one-way, from the kernel). */
export const vm_mig = new KernelMsg('from_kernel');

/* ==== copy strategies and return policies (include/mach/memory_object.h) ============ */

export const MEMORY_OBJECT_COPY_NONE = 0;
export const MEMORY_OBJECT_COPY_CALL = 1;
export const MEMORY_OBJECT_COPY_DELAY = 2;
export const MEMORY_OBJECT_COPY_TEMPORARY = 3;

export const MEMORY_OBJECT_RETURN_NONE = 0;
export const MEMORY_OBJECT_RETURN_DIRTY = 1;
export const MEMORY_OBJECT_RETURN_ALL = 2;

/** A copy strategy number as the object records it (null: not one of the four). */
export function memory_object_copy_strategy(n: number): memory_object_copy_strategy_t | 'temporary' | null {
  switch (n) {
    case MEMORY_OBJECT_COPY_NONE: return 'none';
    case MEMORY_OBJECT_COPY_CALL: return 'call';
    case MEMORY_OBJECT_COPY_DELAY: return 'delay';
    case MEMORY_OBJECT_COPY_TEMPORARY: return 'temporary';
    default: return null;
  }
}

/* ==== the pager of an object ======================================================= */

/**
 * An object's pager ports (object->pager, object->pager_request) and the kernel whose
 * pages it backs.
 */
export class VmPager implements VmObjectPager {
  /** A naked send right to the memory object port. */
  pager: IpcPort;
  /** The control port: a kernel port whose kobject is the VM object. */
  readonly request: IpcPort;
  readonly system: VmSystem | null;

  constructor(pager: IpcPort, request: IpcPort, system: VmSystem | null) {
    this.pager = pager;
    this.request = request;
    this.system = system;
  }

  /**
   * vm_object_terminate's pager part: for a permanent object, dirty and precious pages go
   * back to the pager (memory_object_data_return, flushing); then memory_object_terminate
   * hands the pager the control and name receive rights and consumes the kernel's send
   * right to the memory object port, which stops standing for this object.
   */
  terminate(object: VmObject): void {
    if (!object.temporary) {
      for (const page of [...object.memq.values()]) {
        if (page.absent || page.error) continue;
        if (page.dirty || page.precious) vm_pageout_page(object, this, page, false, true);
      }
    }
    // Faults still waiting on this object's pages find them freed and fail.
    vm_object_abort_activity(object);
    if (this.pager.ip_kotype === IKOT_PAGER && this.pager.ip_kobject === object) ipc_kobject_set(this.pager, null, IKOT_NONE);
    ipc_kobject_set(this.request, null, IKOT_NONE);
    const name = object.pager_name;
    let namePort: IpcPort | null = null;
    if (name !== null && name.port !== null) {
      namePort = name.port as IpcPort;
      ipc_kobject_set(namePort, null, IKOT_NONE);
      name.port = null;
    }
    sent(memory_object_terminate(vm_mig.right(this.pager)!, vm_mig.right(this.request), vm_mig.right(namePort)));
  }

  rebind(object: VmObject): void {
    ipc_kobject_set(this.request, object, IKOT_PAGING_REQUEST);
    if (this.pager.ip_kotype === IKOT_PAGER) ipc_kobject_set(this.pager, object, IKOT_PAGER);
  }
}

/** The pager of an object, if it has one. */
export function vm_object_pager(object: VmObject): VmPager | null {
  return object.pager instanceof VmPager ? object.pager : null;
}

function sent(p: Promise<void>): void {
  p.catch((e: unknown) => console.error('kernel: a message to a pager could not be sent:', e));
}

/* ==== name ports ==================================================================== */

/**
 * The name port of `name`, made the first time it is needed (GNU Mach makes one per
 * object in vm_object_allocate): a kernel port of type IKOT_PAGING_NAME.
 */
export function vm_object_name_port(name: VmObjectName): IpcPort {
  if (name.port === null) {
    const port = ipc_port_alloc_kernel();
    ipc_kobject_set(port, name, IKOT_PAGING_NAME);
    name.port = port;
  }
  return name.port as IpcPort;
}

vm_object_name_set_release((name) => {
  const port = name.port as IpcPort;
  name.port = null;
  if (port.ip_active && port.ip_kotype === IKOT_PAGING_NAME) ipc_port_dealloc_kernel(port);
});

/* ==== entering a memory object ====================================================== */

/**
 * vm_object_enter (vm/vm_object.c): the VM object for a memory object port. A port that
 * already stands for an object gives that object (one more reference). A port standing
 * for nothing gets a new external object (not internal, not temporary, pager_created,
 * not ready, copy strategy DELAY until the pager says otherwise) and the pager hears
 * memory_object_init(control MAKE_SEND, name MAKE_SEND, PAGE_SIZE).
 * Rights: the caller keeps its send right; the object takes a send right of its own.
 * Returns: the object with a reference for the caller, or null when the port is some
 *   other kernel object (a task port...): vm_map then fails (no proxies here).
 */
export function vm_object_enter(port: IpcPort, size: number, system: VmSystem | null): VmObject | null {
  if (port.ip_kotype === IKOT_PAGER) {
    const object = port.ip_kobject as VmObject;
    object.ref_count++;
    if (system !== null) system.stats.hits++;
    if (system !== null) system.stats.lookups++;
    return object;
  }
  if (port.ip_kotype !== IKOT_NONE) return null;
  if (system !== null) system.stats.lookups++;

  const object = vm_object_allocate(size);
  object.internal = false;
  object.temporary = false;
  object.pager_created = true;
  object.pager_ready = false;
  object.copy_strategy = 'delay';
  ipc_kobject_set(port, object, IKOT_PAGER);
  const request = ipc_port_alloc_kernel();
  ipc_kobject_set(request, object, IKOT_PAGING_REQUEST);
  const pager = new VmPager(ipc_port_copy_send(port) as IpcPort, request, system);
  object.pager = pager;
  object.pager_initialized = true;
  const name = vm_object_name_port(object.pager_name!);
  sent(memory_object_init(vm_mig.right(pager.pager)!, vm_mig.right(request), vm_mig.right(name), PAGE_SIZE));
  return object;
}

/**
 * vm_object_pager_create (vm/vm_object.c): an internal object is about to be paged out
 * for the first time. The kernel makes a memory object port for it (a kernel port, kobject
 * the object) and hands its receive right to the default memory manager with
 * memory_object_create(DMM, new_memory_object MOVE_RECEIVE, size, control MAKE_SEND,
 * name MAKE_SEND, PAGE_SIZE). Default-pager objects are ready at once.
 * Conditions: system.default_manager is valid; the object is internal with no pager.
 * Returns: the pager.
 */
export function vm_object_pager_create(object: VmObject, system: VmSystem): VmPager {
  const existing = vm_object_pager(object);
  if (existing !== null) return existing;
  object.pager_created = true;
  const port = ipc_port_alloc_kernel();
  ipc_kobject_set(port, object, IKOT_PAGER);
  const send = ipc_port_make_send(port) as IpcPort;
  const request = ipc_port_alloc_kernel();
  ipc_kobject_set(request, object, IKOT_PAGING_REQUEST);
  const pager = new VmPager(send, request, system);
  object.pager = pager;
  object.pager_initialized = true;
  object.pager_ready = true;
  const name = vm_object_name_port(object.pager_name!);
  const dmm = ipc_port_copy_send(system.default_manager) as IpcPort;
  sent(memory_object_create(vm_mig.right(dmm)!, vm_mig.right(port), object.size, vm_mig.right(request), vm_mig.right(name), PAGE_SIZE));
  return pager;
}

/** convert_port_to_object: the object a control port stands for, or null. */
export function vm_object_lookup(port: IpcPortRef): VmObject | null {
  if (!IP_VALID(port) || port.ip_kotype !== IKOT_PAGING_REQUEST) return null;
  const object = port.ip_kobject as VmObject;
  return object.alive ? object : null;
}

/**
 * vm_object_destroy (vm/vm_object.c, called when the memory object port dies or the pager
 * calls memory_object_destroy): the object loses its pager. Pending requests fail
 * (their pages become errors), waiters wake, and later faults on pages the pager would
 * have provided fail with KERN_MEMORY_ERROR. The control and name ports are destroyed.
 */
export function vm_object_destroy(object: VmObject): void {
  const pager = vm_object_pager(object);
  if (pager === null) return;
  object.pager = null;
  object.pager_destroyed = true;
  object.pager_ready = true; // nobody must wait for it any more
  if (pager.pager.ip_kotype === IKOT_PAGER && pager.pager.ip_kobject === object) ipc_kobject_set(pager.pager, null, IKOT_NONE);
  ipc_port_release_send(pager.pager);
  ipc_kobject_set(pager.request, null, IKOT_NONE);
  if (pager.request.ip_active) ipc_port_dealloc_kernel(pager.request);
  vm_object_abort_activity(object);
  vm_object_wakeup_ready(object);
}

/* vm_object_abort_activity: requested pages become errors; their waiters wake. */
function vm_object_abort_activity(object: VmObject): void {
  for (const page of [...object.memq.values()]) {
    if (page.busy && page.absent) {
      page.absent = false;
      page.error = true;
      object.absent_count--;
      vm_page_wakeup_done(page);
    }
  }
}

// GNU Mach: ipc_kobject_destroy, IKOT_PAGER -> vm_object_destroy. A pager that dies takes
// its objects' pending faults with it.
ipc_kobject_destroy_register(IKOT_PAGER, (port) => {
  const object = port.ip_kobject as VmObject | null;
  if (object !== null && object.alive) vm_object_destroy(object);
});

/* ==== the kernel's requests ========================================================= */

/**
 * The fault's pager request (vm_fault_page, look_for_page): a busy, absent placeholder
 * page goes in at `offset`, and the pager is asked with memory_object_data_request
 * (offset + paging_offset, PAGE_SIZE, access). The fault waits for the page.
 * Conditions: the object has a pager and is ready; no page is at `offset`.
 * Returns: the placeholder.
 */
export function vm_object_request_page(object: VmObject, offset: number, access: vm_prot_t): VmPage {
  const pager = vm_object_pager(object)!;
  const page = new VmPage(object, offset);
  page.busy = true;
  page.absent = true;
  object.memq.set(offset, page);
  object.absent_count++;
  if (pager.system !== null) pager.system.stats.pageins++;
  if (!pager.pager.ip_active) {
    // The pager is already gone: the request could only be lost.
    vm_object_destroy(object);
    return page;
  }
  sent(memory_object_data_request(vm_mig.right(pager.pager)!, vm_mig.right(pager.request), offset + object.paging_offset, PAGE_SIZE, access));
  return page;
}

/**
 * The fault's unlock request: the pager locked out an access the fault needs; ask it
 * with memory_object_data_unlock (it answers with memory_object_lock_request).
 */
export function vm_object_request_unlock(object: VmObject, page: VmPage, access: vm_prot_t): void {
  const pager = vm_object_pager(object);
  if (pager === null) return;
  page.unlock_request |= access;
  sent(memory_object_data_unlock(vm_mig.right(pager.pager)!, vm_mig.right(pager.request), page.offset + object.paging_offset, PAGE_SIZE, page.unlock_request));
}

/**
 * A fault gave up waiting for `page` (the pager did not answer in time): it reports
 * KERN_MEMORY_ERROR, and the request is forgotten: the placeholder goes, and any other
 * fault waiting for it asks the pager again (with its own time limit). An answer that
 * comes later still fills the page.
 */
export function vm_object_request_timed_out(page: VmPage): void {
  if (!page.busy || !page.absent) return;
  const object = page.object;
  if (object.memq.get(page.offset) !== page) return;
  object.absent_count--;
  vm_page_free(page);
}

/* ==== pageout of one page =========================================================== */

let pageout_copy: ((object: VmObject, size: number) => Uint8Array) | null = null;

/**
 * How pageout turns a holding object into out-of-line data (an object copy: vm/ool.ts
 * registers it, to keep this file free of the copy machinery).
 */
export function vm_pageout_set_copy(make: (object: VmObject, size: number) => Uint8Array): void {
  pageout_copy = make;
}

/**
 * vm_pageout_page (vm/vm_pageout.c): send one page to the object's pager. The page moves
 * (flush) or is copied (clean) into a new internal object flagged used_for_pageout, which
 * travels as an object copy in memory_object_data_return(offset + paging_offset, data,
 * dirty, kernel_copy = !flush), or memory_object_data_initialize when `initial` (a copy
 * object's first contents, to the default pager).
 * A clean page that is not precious is simply freed (flush) or left alone.
 */
export function vm_pageout_page(object: VmObject, pager: VmPager, page: VmPage, initial: boolean, flush: boolean): void {
  const precious_clean = !page.dirty && page.precious;
  if (precious_clean && !flush) return;
  if (page.absent || page.error || (!page.dirty && !page.precious)) {
    if (flush) vm_page_free(page);
    return;
  }
  const paging_offset = page.offset + object.paging_offset;
  const holder = vm_object_allocate(PAGE_SIZE);
  holder.used_for_pageout = true;
  const bytes = page.peek_data();
  const copy = new VmPage(holder, 0);
  copy.set_data(bytes === null ? null : flush ? bytes : bytes.slice());
  copy.dirty = true;
  holder.memq.set(0, copy);
  if (flush) vm_page_free(page);
  else page.dirty = false;
  if (pager.system !== null) pager.system.stats.pageouts++;
  const data = pageout_copy!(holder, PAGE_SIZE);
  if (initial) {
    sent(memory_object_data_initialize(vm_mig.right(pager.pager)!, vm_mig.right(pager.request), paging_offset, data));
  } else {
    sent(memory_object_data_return(vm_mig.right(pager.pager)!, vm_mig.right(pager.request), paging_offset, data, !precious_clean, !flush));
  }
}

/* ==== the pager's answers on the control port ======================================= */

/**
 * memory_object_data_supply (vm/memory_object.c): the pager's data for
 * [offset, offset + n pages). Each page goes into the object (replacing a requested
 * placeholder, whose faults then find it) with the pager's lock and precious flag; it is
 * clean. A real page already there stops the supply with KERN_MEMORY_PRESENT.
 * Returns: KERN_SUCCESS, KERN_INVALID_ARGUMENT (lock bits outside RWX, a size that is not
 *   whole pages), KERN_MEMORY_PRESENT.
 */
export function memory_object_data_supply_pages(
  object: VmObject, offset: number, pages: Array<Uint8Array | null>, lock_value: vm_prot_t, precious: boolean,
): number {
  if ((lock_value & ~VM_PROT_ALL) !== 0) return KERN_INVALID_ARGUMENT;
  const system = vm_object_pager(object)?.system ?? null;
  offset -= object.paging_offset;
  let result = KERN_SUCCESS;
  for (const bytes of pages) {
    const m = object.memq.get(offset);
    if (m !== undefined && !(m.absent || m.error)) {
      result = KERN_MEMORY_PRESENT;
      break;
    }
    const page = new VmPage(object, offset);
    page.set_data(bytes);
    page.page_lock = lock_value;
    page.precious = precious;
    if (m !== undefined) {
      if (m.busy && m.absent) object.absent_count--;
      m.absent = false;
      vm_page_insert(page, object, offset); // frees the placeholder, waking its faults
    } else {
      vm_page_insert(page, object, offset);
    }
    system?.vm_page_enqueue(page);
    offset += PAGE_SIZE;
  }
  // No pageout here: the faults waiting for these pages must get them first.
  return result;
}

/**
 * memory_object_data_unavailable (vm/memory_object.c): the pager has no data for these
 * pages; requested placeholders become "absent" and their faults go on down the shadow
 * chain or zero-fill.
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT for a size that is not whole pages.
 */
export function memory_object_data_unavailable_pages(object: VmObject, offset: number, size: number): number {
  if (size !== round_page(64, size)) return KERN_INVALID_ARGUMENT;
  offset -= object.paging_offset;
  for (; size !== 0; size -= PAGE_SIZE, offset += PAGE_SIZE) {
    const m = object.memq.get(offset);
    if (m !== undefined && m.busy && m.absent) {
      object.absent_count--;
      vm_page_wakeup_done(m);
    }
  }
  return KERN_SUCCESS;
}

/**
 * memory_object_data_error (vm/memory_object.c): the pager cannot provide these pages;
 * requested placeholders become errors and their faults fail with KERN_MEMORY_ERROR.
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT for a size that is not whole pages.
 */
export function memory_object_data_error_pages(object: VmObject, offset: number, size: number): number {
  if (size !== round_page(64, size)) return KERN_INVALID_ARGUMENT;
  offset -= object.paging_offset;
  for (; size !== 0; size -= PAGE_SIZE, offset += PAGE_SIZE) {
    const m = object.memq.get(offset);
    if (m !== undefined && m.busy && m.absent) {
      m.error = true;
      m.absent = false;
      object.absent_count--;
      vm_page_wakeup_done(m);
    }
  }
  return KERN_SUCCESS;
}

/**
 * memory_object_ready / memory_object_change_attributes
 * (memory_object_set_attributes_common): the pager is ready; may_cache and the copy
 * strategy are recorded (COPY_TEMPORARY makes the object temporary). Faults waiting for
 * the pager go on.
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT for an unknown strategy.
 */
export function memory_object_set_attributes(object: VmObject, may_cache: boolean, copy_strategy: number): number {
  const strategy = memory_object_copy_strategy(copy_strategy);
  if (strategy === null) return KERN_INVALID_ARGUMENT;
  object.can_persist = may_cache;
  object.pager_ready = true;
  if (strategy === 'temporary') object.temporary = true;
  else object.copy_strategy = strategy;
  vm_object_wakeup_ready(object);
  return KERN_SUCCESS;
}

/**
 * memory_object_lock_request (vm/memory_object.c): for each resident page of
 * [offset, offset + size): with should_flush the page goes (after being returned if it
 * must be); otherwise its lock becomes `prot` (unless VM_PROT_NO_CHANGE) and faults
 * waiting for an unlock retry. Pages to return (dirty ones, or precious ones too with
 * MEMORY_OBJECT_RETURN_ALL) go back with memory_object_data_return, one message per
 * page here. Then memory_object_lock_completed goes to `reply_to` if valid.
 * Rights: consumes the send-once right reply_to.
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT (prot bits outside RWX and not NO_CHANGE).
 */
export function memory_object_lock_pages(
  object: VmObject, offset: number, size: number, should_return: number, should_flush: boolean, prot: vm_prot_t,
  reply_to: IpcPortRef,
): number {
  if ((prot & ~VM_PROT_ALL) !== 0 && prot !== VM_PROT_NO_CHANGE) {
    if (IP_VALID(reply_to)) ipc_port_release_sonce(reply_to);
    return KERN_INVALID_ARGUMENT;
  }
  const original_offset = offset;
  const original_size = size;
  size = round_page(64, size);
  offset = trunc_page(offset) - object.paging_offset;
  const pager = vm_object_pager(object);
  for (; size !== 0; size -= PAGE_SIZE, offset += PAGE_SIZE) {
    const m = object.memq.get(offset);
    if (m === undefined || m.absent || m.busy) continue;
    let lock = prot;
    if (should_flush) lock = VM_PROT_ALL;
    if (lock !== VM_PROT_NO_CHANGE) {
      m.page_lock = lock;
      m.unlock_request = VM_PROT_NONE;
      if (m.waiters !== null) vm_page_wakeup_done(m);
    }
    const must_return = should_return !== MEMORY_OBJECT_RETURN_NONE
      && (m.dirty || (m.precious && should_return === MEMORY_OBJECT_RETURN_ALL));
    if (must_return && pager !== null) {
      vm_pageout_page(object, pager, m, false, should_flush);
    } else if (should_flush) {
      vm_page_free(m);
    }
  }
  if (IP_VALID(reply_to)) {
    if (pager !== null) {
      sent(memory_object_lock_completed(vm_mig.right(reply_to)!, MACH_MSG_TYPE_PORT_SEND_ONCE, vm_mig.right(pager.request), original_offset, original_size));
    } else {
      ipc_port_release_sonce(reply_to);
    }
  }
  return KERN_SUCCESS;
}

/* ==== the default memory manager ==================================================== */

/**
 * vm_set_default_memory_manager (vm/memory_object.c): with a valid new manager, it
 * replaces the current one, which is returned; with MACH_PORT_NULL, a copy of the
 * current one is returned and nothing changes.
 * Rights: consumes the send right `new_manager`; the returned send right is the caller's.
 */
export function vm_set_default_memory_manager(system: VmSystem, new_manager: IpcPortRef): IpcPortRef {
  const current = system.default_manager;
  if (!IP_VALID(new_manager)) return ipc_port_copy_send(current);
  system.default_manager = new_manager;
  return current;
}

/* ==== names for vm_region ============================================================ */

/** The name port vm_region hands out for an object (of the bottom of its chain), or null. */
export function vm_region_name_port(object: VmObject | null): IpcPort | null {
  const name = vm_object_name(object);
  return name === null ? null : vm_object_name_port(name);
}

/** Collapse before pageout, as vm_page_evict_one does for objects without a pager. */
export function vm_object_collapse_for_pageout(object: VmObject): void {
  vm_object_collapse(object);
}
