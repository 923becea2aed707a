/*
 * File: vm/page.ts
 * Purpose: a resident page (GNU Mach's struct vm_page, vm/vm_page.h): which object holds it,
 *          at which offset, its bytes, its paging state (busy, absent, error, precious, the
 *          pager's lock) and its place in the page queues of the kernel it counts against.
 *
 * The 4096 bytes are allocated on first access to `data`: a page that was made resident
 * but never read or written (zero fill) costs no buffer.
 *
 * Paging states (vm/vm_fault.c, vm/memory_object.c):
 *   busy && absent   requested from the pager, not there yet (a placeholder; faults wait);
 *   absent           the pager said it has no data (memory_object_data_unavailable): the
 *                    fault goes on down the shadow chain or zero-fills;
 *   error            the pager said the data is lost (memory_object_data_error), or never
 *                    answered: the fault fails with KERN_MEMORY_ERROR and frees the page;
 *   busy             held by a kernel operation (a fault copying it, a pageout sending it).
 * A placeholder (absent or error) has no bytes and does not count as resident memory.
 */

import { PAGE_SIZE } from './vm_param.js';
import type { VmObject } from './object.js';
import type { vm_prot_t } from './vm_prot.js';

/** Where a page is in its kernel's page queues (vm_page_queue_active / _inactive). */
export interface VmPageQueues {
  /** The page left its object (freed, or moved out by a page list copy). */
  vm_page_dequeue(page: VmPage): void;
}

export class VmPage {
  /** The object the page belongs to (changed by vm_page_rename during a collapse). */
  object: VmObject;
  /** Offset of the page in its object, page aligned. */
  offset: number;
  /** Modified since it was last cleaned (set by writers; pageout reads it). */
  dirty = false;
  /** Being worked on (paged in, copied, paged out): others wait for it. */
  busy = false;
  /** A placeholder with no data: requested (while busy), or unavailable from the pager. */
  absent = false;
  /** The pager reported an error for it (or never answered). */
  error = false;
  /** The pager wants it back even if clean (memory_object_data_supply's `precious`). */
  precious = false;
  /** Accesses the pager has locked out (memory_object_data_supply / _lock_request). */
  page_lock: vm_prot_t = 0;
  /** Accesses the kernel has asked the pager to unlock (memory_object_data_unlock). */
  unlock_request: vm_prot_t = 0;
  /** Page queue links: the kernel that counts this page, and the LRU neighbours. */
  queues: VmPageQueues | null = null;
  pageq_prev: VmPage | null = null;
  pageq_next: VmPage | null = null;
  /** Waiters woken when the page stops being busy (PAGE_WAKEUP). */
  waiters: Array<() => void> | null = null;
  private buffer: Uint8Array | null = null;

  constructor(object: VmObject, offset: number) {
    this.object = object;
    this.offset = offset;
  }

  /** The page's bytes; zero-filled on first access. */
  get data(): Uint8Array {
    if (this.buffer === null) this.buffer = new Uint8Array(PAGE_SIZE);
    return this.buffer;
  }

  /** Whether the bytes have been materialised (a never-touched zero page has none). */
  get has_data(): boolean {
    return this.buffer !== null;
  }

  /** Replace the bytes (data_supply, collapse, page list insertion); null: zero again. */
  set_data(bytes: Uint8Array | null): void {
    this.buffer = bytes;
  }

  /** The bytes if materialised, else null (a zero page). */
  peek_data(): Uint8Array | null {
    return this.buffer;
  }
}

/**
 * PAGE_WAKEUP_DONE (vm/vm_page.h): the page is no longer busy; everyone waiting for it
 * runs again (each waiter retries its whole operation).
 */
export function vm_page_wakeup_done(page: VmPage): void {
  page.busy = false;
  const waiters = page.waiters;
  if (waiters !== null) {
    page.waiters = null;
    for (const w of waiters) w();
  }
}

/** PAGE_ASSERT_WAIT: a promise that settles when the page is woken (or freed). */
export function vm_page_wait(page: VmPage): Promise<void> {
  return new Promise((resolve) => {
    (page.waiters ??= []).push(resolve);
  });
}
