/*
 * File: vm/vm_system.ts
 * Purpose: one kernel's VM: its resident page queue (GNU Mach's vm_page_queue_active /
 *          _inactive, vm/vm_resident.c), the resident-page limit that drives pageout, the
 *          default memory manager (memory_manager_default, vm/memory_object.c), the pager
 *          timeout, and vm_stat (the counters vm_statistics reports).
 *
 * Pages count against a kernel from the moment the kernel makes them resident (a fault's
 * zero fill or copy, a pager's data, out-of-line data arriving) until they are freed or
 * paged out. The queue is one LRU list: a page moves to its tail when it is used and
 * pageout takes from its head (GNU Mach's active/inactive pair with reference bits,
 * reduced to the order it produces). Pageout runs when an operation ends over the limit
 * (vm_system_balance), as the pageout daemon would once woken.
 */

import type { IpcPortRef } from '../ipc/port.js';
import type { VmLevel } from './level.js';
import { VM_LEVEL_DEFAULT } from './level.js';
import type { VmPage, VmPageQueues } from './page.js';

/** vm_stat (struct vm_statistics, include/mach/vm_statistics.h), the counters. */
export interface VmStatistics {
  zero_fill_count: number;
  reactivations: number;
  pageins: number;
  pageouts: number;
  faults: number;
  cow_faults: number;
  lookups: number;
  hits: number;
}

export interface VmSystemOptions {
  /** Behaviour level of the maps (default L2). */
  level?: VmLevel;
  /** Resident pages this kernel may hold before it pages out (default: no limit). */
  memory_pages?: number;
  /** How long a fault waits for a pager before failing with KERN_MEMORY_ERROR, in ms (default 5000). */
  pager_timeout?: number;
}

export const VM_PAGER_TIMEOUT_DEFAULT = 5000;

let pageout_scan: ((sys: VmSystem) => void) | null = null;

/** The pageout scan (vm/pageout.ts registers it; kept apart to avoid an import cycle). */
export function vm_system_set_pageout(scan: (sys: VmSystem) => void): void {
  pageout_scan = scan;
}

export class VmSystem implements VmPageQueues {
  readonly level: VmLevel;
  /** The resident-page limit (Infinity: none). */
  memory_pages: number;
  pager_timeout: number;
  /** Pages in the queue. */
  resident = 0;
  /** Most resident pages ever at once (for tests and tools). */
  resident_max = 0;
  private head: VmPage | null = null;
  private tail: VmPage | null = null;
  readonly stats: VmStatistics = {
    zero_fill_count: 0, reactivations: 0, pageins: 0, pageouts: 0, faults: 0, cow_faults: 0, lookups: 0, hits: 0,
  };
  /** A send right to the default memory manager (memory_manager_default), or null. */
  default_manager: IpcPortRef = null;
  /** A pageout scan is running (it may make pages resident itself). */
  private scanning = false;
  private balance_scheduled = false;

  constructor(options: VmSystemOptions = {}) {
    this.level = options.level ?? VM_LEVEL_DEFAULT;
    this.memory_pages = options.memory_pages ?? Infinity;
    this.pager_timeout = options.pager_timeout ?? VM_PAGER_TIMEOUT_DEFAULT;
  }

  /** vm_page_insert's queue part: a page this kernel made resident joins the tail. */
  vm_page_enqueue(page: VmPage): void {
    if (page.queues !== null) {
      this.vm_page_activate(page);
      return;
    }
    page.queues = this;
    page.pageq_prev = this.tail;
    page.pageq_next = null;
    if (this.tail === null) this.head = page;
    else this.tail.pageq_next = page;
    this.tail = page;
    this.resident++;
    if (this.resident > this.resident_max) this.resident_max = this.resident;
    if (this.resident > this.memory_pages && !this.balance_scheduled) {
      // The pageout daemon wakes once the operations under way have had their turn (a
      // fault waiting for the page just made resident must get it first); operations
      // also balance when they end.
      this.balance_scheduled = true;
      setImmediate(() => {
        this.balance_scheduled = false;
        this.balance();
      });
    }
  }

  /** vm_page_activate: the page was used; it goes to the tail. */
  vm_page_activate(page: VmPage): void {
    if (page.queues !== this || this.tail === page) return;
    this.unlink(page);
    page.pageq_prev = this.tail;
    page.pageq_next = null;
    if (this.tail === null) this.head = page;
    else this.tail.pageq_next = page;
    this.tail = page;
  }

  /** VM_PAGE_QUEUES_REMOVE: the page leaves the queue (freed, paged out, stolen). */
  vm_page_dequeue(page: VmPage): void {
    if (page.queues !== this) return;
    this.unlink(page);
    page.queues = null;
    page.pageq_prev = page.pageq_next = null;
    this.resident--;
  }

  private unlink(page: VmPage): void {
    if (page.pageq_prev === null) this.head = page.pageq_next;
    else page.pageq_prev.pageq_next = page.pageq_next;
    if (page.pageq_next === null) this.tail = page.pageq_prev;
    else page.pageq_next.pageq_prev = page.pageq_prev;
  }

  /** The queue from least to most recently used (for pageout and tests). */
  *pages(): IterableIterator<VmPage> {
    for (let p = this.head; p !== null; p = p.pageq_next) yield p;
  }

  /**
   * vm_pageout_scan, when over the limit: page out the least recently used pages until
   * the kernel is within its limit or nothing more can go.
   */
  balance(): void {
    if (this.resident <= this.memory_pages || this.scanning || pageout_scan === null) return;
    this.scanning = true;
    try {
      pageout_scan(this);
    } finally {
      this.scanning = false;
    }
  }

  /** vm_page_mem_free: free pages, as vm_statistics reports them. */
  get free_count(): number {
    return Number.isFinite(this.memory_pages) ? Math.max(0, this.memory_pages - this.resident) : 0x7fffffff;
  }
}

/** vm_system_balance: pageout for a map's kernel if it has one (end of an operation). */
export function vm_system_balance(sys: VmSystem | null): void {
  sys?.balance();
}
