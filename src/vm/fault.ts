/*
 * File: vm/fault.ts
 * Purpose: page faults (GNU Mach vm/vm_fault.c: vm_fault_page, vm_fault), and the loads
 *          and stores a task makes through them: find the page behind an address, asking
 *          the pager for it, zero-filling it, or copying it on write through the shadow
 *          chain, and pushing the old contents into a copy object first.
 *
 * Each attempt runs to completion or stops at a page it must wait for (the pager's data,
 * a page another operation holds, the pager's readiness or an unlock). A stopped attempt
 * has made no change a retry would not make anyway, so waiting is: wait, then retry from
 * the start (GNU Mach's VM_FAULT_RETRY). The *_async functions do that, and give up with
 * KERN_MEMORY_ERROR once the kernel's pager timeout has passed without an answer (the
 * placeholder page then becomes an error, as memory_object_data_error would make it).
 */

import {
  KERN_INVALID_ADDRESS, KERN_MEMORY_ERROR, KERN_PROTECTION_FAILURE, KERN_SUCCESS,
} from '../mach/kern_return.js';
import { vm_map_lookup } from './lookup.js';
import type { VmMap } from './map.js';
import { vm_map_entry_contains, vm_map_lookup_entry } from './map.js';
import {
  vm_object_request_page, vm_object_request_timed_out, vm_object_request_unlock, vm_object_pager, vm_pageout_page,
} from './memory_object.js';
import type { VmObject } from './object.js';
import { vm_object_collapse, vm_object_wait_ready, vm_page_free } from './object.js';
import { VmPage, vm_page_wait } from './page.js';
import type { VmSystem } from './vm_system.js';
import { PAGE_SIZE, trunc_page } from './vm_param.js';
import { VM_PROT_READ, VM_PROT_WRITE, type vm_prot_t } from './vm_prot.js';

/** A fault attempt that must wait: retry once `wait` settles. */
export interface VmFaultWait {
  wait: Promise<void>;
  /** The pager placeholder waited for, if any (it becomes an error on timeout). */
  page: VmPage | null;
}

/** What vm_fault_page found. */
export type VmFaultPageResult =
  | { kr: typeof KERN_SUCCESS; page: VmPage; prot: vm_prot_t; wait?: undefined }
  | { kr: number; page?: undefined; wait?: undefined }
  | ({ kr?: undefined } & VmFaultWait);

function waitPage(page: VmPage, placeholder: boolean): VmFaultWait {
  return { wait: vm_page_wait(page), page: placeholder ? page : null };
}

/* A new real page at object/offset (replacing a placeholder), counted by `system`. */
function vm_page_grab(system: VmSystem | null, object: VmObject, offset: number): VmPage {
  const old = object.memq.get(offset);
  if (old !== undefined) vm_page_free(old);
  const page = new VmPage(object, offset);
  object.memq.set(offset, page);
  system?.vm_page_enqueue(page);
  return page;
}

/**
 * vm_fault_page (vm/vm_fault.c): the page for `fault_type` access at first_object /
 * first_offset, walking the shadow chain:
 *  - a resident page is used (a busy one is waited for; an error one is freed and the
 *    fault fails with KERN_MEMORY_ERROR; an "unavailable" one sends the walk on down);
 *  - an object with a pager is asked for the page (memory_object_data_request), once it
 *    is ready, and the fault waits for the answer;
 *  - at the bottom of the chain the page is zero-filled in first_object;
 *  - a page the pager locked against the access is unlocked first
 *    (memory_object_data_unlock, then wait for memory_object_lock_request).
 * A page found below first_object is copied up into first_object for a write (a
 * copy-on-write fault, then vm_object_collapse(first_object)); for a read, WRITE is taken
 * out of `prot`. Then, for a write, if first_object has a copy object that lacks the page,
 * the page's current contents are pushed into it first (its pager, if any, gets them with
 * memory_object_data_initialize).
 * Returns: the page and the protection to use, an error (KERN_MEMORY_ERROR), or a wait.
 */
export function vm_fault_page(
  system: VmSystem | null, first_object: VmObject, first_offset: number, fault_type: vm_prot_t, prot: vm_prot_t,
): VmFaultPageResult {
  let object = first_object;
  let offset = first_offset;
  let access_required = fault_type;
  let m: VmPage | null = null;

  for (;;) {
    const found = object.memq.get(offset);
    if (found !== undefined) {
      if (found.busy) return waitPage(found, found.absent);
      if (found.error) {
        vm_page_free(found);
        return { kr: KERN_MEMORY_ERROR };
      }
      if (found.absent) {
        // The pager had nothing: go on down; at the bottom, zero-fill in the first object.
        vm_page_free(found);
      } else {
        if (access_required & found.page_lock) {
          if ((access_required & found.unlock_request) !== access_required) {
            if (!object.pager_ready) return { wait: vm_object_wait_ready(object), page: null };
            vm_object_request_unlock(object, found, access_required);
          }
          return waitPage(found, false);
        }
        m = found;
        break;
      }
    } else if (object.pager_created) {
      const pager = vm_object_pager(object);
      if (pager !== null) {
        if (!object.pager_ready) return { wait: vm_object_wait_ready(object), page: null };
        const placeholder = vm_object_request_page(object, offset, access_required);
        if (placeholder.error) {
          vm_page_free(placeholder);
          return { kr: KERN_MEMORY_ERROR };
        }
        return waitPage(placeholder, true);
      }
      // The pager is gone: what it held is lost. (No pager ever: a script's stand-in for
      // an external object, whose pages start as zeros.)
      if (object.pager_destroyed) return { kr: KERN_MEMORY_ERROR };
    }

    const next = object.shadow;
    if (next === null) {
      m = vm_page_grab(system, first_object, first_offset);
      if (system !== null) system.stats.zero_fill_count++;
      object = first_object;
      offset = first_offset;
      break;
    }
    access_required = VM_PROT_READ;
    offset += object.shadow_offset;
    object = next;
  }

  if (object !== first_object) {
    if (fault_type & VM_PROT_WRITE) {
      const copy_m = vm_page_grab(system, first_object, first_offset);
      const bytes = m.peek_data();
      if (bytes !== null) copy_m.set_data(bytes.slice());
      copy_m.dirty = true;
      if (system !== null) system.stats.cow_faults++;
      m = copy_m;
      object = first_object;
      vm_object_collapse(first_object);
    } else {
      prot &= ~VM_PROT_WRITE;
    }
  }

  const copy_object = first_object.copy;
  if (copy_object !== null) {
    if ((fault_type & VM_PROT_WRITE) === 0) {
      prot &= ~VM_PROT_WRITE;
    } else {
      const copy_offset = first_offset - copy_object.shadow_offset;
      const copy_m = copy_object.memq.get(copy_offset);
      if (copy_m !== undefined) {
        if (copy_m.busy) return waitPage(copy_m, copy_m.absent);
      } else {
        const pushed = vm_page_grab(system, copy_object, copy_offset);
        const bytes = m.peek_data();
        if (bytes !== null) pushed.set_data(bytes.slice());
        pushed.dirty = true;
        const copy_pager = copy_object.pager_created ? vm_object_pager(copy_object) : null;
        if (copy_pager !== null) vm_pageout_page(copy_object, copy_pager, pushed, true, true);
      }
    }
  }

  return { kr: KERN_SUCCESS, page: m, prot };
}

/** What vm_fault gives back: the page and where it is, an error, or a wait. */
export type VmFaultResult =
  | { kr: typeof KERN_SUCCESS; page: VmPage; prot: vm_prot_t; wait?: undefined }
  | { kr: number; page?: undefined; wait?: undefined }
  | ({ kr?: undefined } & VmFaultWait);

/**
 * vm_fault (vm/vm_fault.c): a fault of `fault_type` at `vaddr` in `map`: vm_map_lookup
 * (which gives a NULL-object entry its object, and a written needs_copy entry its shadow),
 * then vm_fault_page. A write marks the page dirty.
 * Returns: KERN_SUCCESS with the page; KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE,
 *   KERN_WRITE_PROTECTION_FAILURE, KERN_MEMORY_ERROR; or a wait.
 */
export function vm_fault(map: VmMap, vaddr: number, fault_type: vm_prot_t): VmFaultResult {
  const system = map.system;
  if (system !== null) system.stats.faults++;
  const va = trunc_page(vaddr);
  const lookup = vm_map_lookup(map, va, fault_type);
  if (lookup.kr !== KERN_SUCCESS || lookup.object === null) return { kr: lookup.kr };
  const r = vm_fault_page(system, lookup.object, lookup.offset, fault_type, lookup.prot);
  if (r.kr !== KERN_SUCCESS || r.page === undefined) return r;
  if (fault_type & VM_PROT_WRITE) r.page.dirty = true;
  system?.vm_page_activate(r.page);
  return r;
}

/* Wait for `w`, but no longer than `deadline`; false when the time is up. */
async function wait_until(w: VmFaultWait, deadline: number): Promise<boolean> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = await Promise.race([
    w.wait.then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), remaining); }),
  ]);
  clearTimeout(timer);
  return !expired;
}

/**
 * Run `attempt` until it does not ask to wait, waiting between tries; after the kernel's
 * pager timeout, give up with KERN_MEMORY_ERROR (the placeholder waited for, if any,
 * becomes an error).
 */
export async function vm_fault_retry<T extends { kr?: number | undefined; wait?: Promise<void> | undefined }>(
  system: VmSystem | null, attempt: () => T,
): Promise<T | { kr: number; wait?: undefined; page?: undefined }> {
  const deadline = Date.now() + (system?.pager_timeout ?? Infinity);
  for (;;) {
    const r = attempt();
    if (r.wait === undefined) return r;
    const w = r as unknown as VmFaultWait;
    if (!(await wait_until(w, deadline))) {
      if (w.page !== null && w.page !== undefined) vm_object_request_timed_out(w.page);
      return { kr: KERN_MEMORY_ERROR };
    }
  }
}

/**
 * vm_fault, waiting as long as it must (up to the pager timeout).
 * Returns: the code (KERN_SUCCESS, or the errors of vm_fault); pageout runs afterwards if
 *   the kernel is over its memory limit.
 */
export async function vm_fault_async(map: VmMap, vaddr: number, fault_type: vm_prot_t): Promise<number> {
  const r = await vm_fault_retry(map.system, () => vm_fault(map, vaddr, fault_type));
  map.system?.balance();
  return r.kr!;
}

/* ==== reading without faulting the map ============================================== */

/** What a look at one page of an object gives: its bytes (null: zeros), an error, or a wait. */
export type VmPeekResult =
  | { kr: typeof KERN_SUCCESS; data: Uint8Array | null; wait?: undefined }
  | { kr: number; data?: undefined; wait?: undefined }
  | ({ kr?: undefined } & VmFaultWait);

/**
 * The contents of the page at object/offset as a read would see them, without changing
 * any map and without making zero pages resident: resident pages down the chain, or the
 * pager's data (asked for when `ask`, else reported as a wait with no request), or zeros
 * at the bottom of the chain.
 */
export function vm_object_peek(object: VmObject, offset: number, ask: boolean): VmPeekResult {
  for (;;) {
    const m = object.memq.get(offset);
    if (m !== undefined) {
      if (m.busy) return waitPage(m, m.absent);
      if (m.error) {
        if (!ask) return { kr: KERN_MEMORY_ERROR };
        vm_page_free(m);
        return { kr: KERN_MEMORY_ERROR };
      }
      if (!m.absent) {
        vm_object_pager(object)?.system?.vm_page_activate(m);
        return { kr: KERN_SUCCESS, data: m.peek_data() };
      }
    } else if (object.pager_created) {
      const pager = vm_object_pager(object);
      if (pager !== null) {
        if (!object.pager_ready) return { wait: vm_object_wait_ready(object), page: null };
        if (!ask) return { kr: KERN_MEMORY_ERROR };
        const placeholder = vm_object_request_page(object, offset, VM_PROT_READ);
        if (placeholder.error) {
          vm_page_free(placeholder);
          return { kr: KERN_MEMORY_ERROR };
        }
        return waitPage(placeholder, true);
      }
      if (object.pager_destroyed) return { kr: KERN_MEMORY_ERROR };
    }
    if (object.shadow === null) return { kr: KERN_SUCCESS, data: null };
    offset += object.shadow_offset;
    object = object.shadow;
  }
}

/**
 * The bytes of [offset, offset + length) of `object` (null: a NULL object, all zeros),
 * into `out` at `at`, asking pagers and waiting for them as needed.
 * Returns: KERN_SUCCESS or KERN_MEMORY_ERROR.
 */
export async function vm_object_read_async(
  system: VmSystem | null, object: VmObject | null, offset: number, length: number, out: Uint8Array, at: number,
): Promise<number> {
  if (object === null) return KERN_SUCCESS;
  let done = 0;
  while (done < length) {
    const o = offset + done;
    const page_offset = o - (o % PAGE_SIZE) ;
    const within = o - page_offset;
    const n = Math.min(PAGE_SIZE - within, length - done);
    // The bytes are taken in the same step that finds the page.
    const r = await vm_fault_retry(system, () => {
      const p = vm_object_peek(object, page_offset, true);
      if (p.kr === KERN_SUCCESS && p.data !== undefined && p.data !== null) out.set(p.data.subarray(within, within + n), at + done);
      return p;
    });
    if (r.kr !== KERN_SUCCESS) return r.kr!;
    done += n;
  }
  return KERN_SUCCESS;
}

/** A run of bytes a read could not take without a pager: [at, at + length) in the output. */
export interface VmReadGap {
  at: number;
  length: number;
}

/**
 * The same, without waiting: pages a pager would have to provide are left as they are in
 * `out` and reported.
 * Returns: one gap per page not read, in `out`'s coordinates (each gap is the part of one
 * object page that the read covers, so it need not start on a page boundary of `out`).
 */
export function vm_object_read_now(object: VmObject | null, offset: number, length: number, out: Uint8Array, at: number): VmReadGap[] {
  const missing: VmReadGap[] = [];
  if (object === null) return missing;
  let done = 0;
  while (done < length) {
    const o = offset + done;
    const page_offset = o - (o % PAGE_SIZE);
    const within = o - page_offset;
    const n = Math.min(PAGE_SIZE - within, length - done);
    const r = vm_object_peek(object, page_offset, false);
    if (r.kr === KERN_SUCCESS && r.data !== undefined) {
      if (r.data !== null) out.set(r.data.subarray(within, within + n), at + done);
    } else {
      missing.push({ at: at + done, length: n });
    }
    done += n;
  }
  return missing;
}

/* ==== a task's loads and stores ===================================================== */

/**
 * A task's load of `length` bytes at `address`: a read fault on each page (as a CPU load
 * would take), then the bytes. Protection is checked as for a load (READ).
 * Returns: the bytes, or the fault's error code.
 */
export async function vm_map_load(map: VmMap, address: number, length: number): Promise<Uint8Array | number> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const va = address + done;
    const within = va % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - within, length - done);
    const r = await vm_fault_retry(map.system, () => {
      const f = vm_fault(map, va, VM_PROT_READ);
      const data = f.kr === KERN_SUCCESS && f.page !== undefined ? f.page.peek_data() : null;
      if (data !== null) out.set(data.subarray(within, within + n), done);
      return f;
    });
    if (r.kr !== KERN_SUCCESS) return r.kr!;
    done += n;
  }
  map.system?.balance();
  return out;
}

/**
 * A task's store of `bytes` at `address`: a write fault on each page (copy-on-write,
 * zero fill, pager data as needed), then the bytes go into the page, which is dirty.
 * Returns: KERN_SUCCESS, or the first fault's error (earlier pages stay written).
 */
export async function vm_map_store(map: VmMap, address: number, bytes: Uint8Array): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const va = address + done;
    const within = va % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - within, bytes.length - done);
    const r = await vm_fault_retry(map.system, () => {
      const f = vm_fault(map, va, VM_PROT_READ | VM_PROT_WRITE);
      if (f.kr === KERN_SUCCESS && f.page !== undefined) {
        f.page.data.set(bytes.subarray(done, done + n), within);
        f.page.dirty = true;
      }
      return f;
    });
    if (r.kr !== KERN_SUCCESS) return r.kr!;
    done += n;
  }
  map.system?.balance();
  return KERN_SUCCESS;
}

/**
 * Whether `address` is mapped readable (what a load would need), without faulting.
 * Returns: KERN_SUCCESS, KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE.
 */
export function vm_map_check_readable(map: VmMap, address: number): number {
  const entry = vm_map_lookup_entry(map, address);
  if (!vm_map_entry_contains(map, entry, address)) return KERN_INVALID_ADDRESS;
  return entry.protection & VM_PROT_READ ? KERN_SUCCESS : KERN_PROTECTION_FAILURE;
}
