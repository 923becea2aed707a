/*
 * File: vm/pageout.ts
 * Purpose: pageout (GNU Mach vm/vm_pageout.c, vm_page_evict_one in vm/vm_page.c): when a
 *          kernel holds more resident pages than its limit, the least recently used pages
 *          go: clean ones are freed, dirty (and precious) ones go back to their pager with
 *          memory_object_data_return; an internal object paged out for the first time is
 *          handed to the default memory manager first (memory_object_create).
 *
 * As in GNU Mach: pages of internal objects are only paged out while a default memory
 * manager is registered (vm_set_default_memory_manager); busy pages and pager
 * placeholders are skipped; an object whose pager is gone keeps its dirty pages. The
 * pages travelling to a pager (in their used_for_pageout holding objects) no longer count
 * against the kernel.
 */

import { IP_VALID, type IpcPortRef } from '../ipc/port.js';
import { vm_object_pager, vm_object_pager_create, vm_pageout_page } from './memory_object.js';
import { vm_object_collapse, vm_page_free } from './object.js';
import type { VmSystem } from './vm_system.js';
import { vm_system_set_pageout } from './vm_system.js';

/**
 * vm_pageout_scan: page out from the head of the queue until the kernel is within its
 * limit or no page can go.
 */
export function vm_pageout_scan(system: VmSystem): void {
  for (const page of [...system.pages()]) {
    if (system.resident <= system.memory_pages) return;
    if (page.busy || page.absent || page.error) continue;
    const object = page.object;
    if (!object.alive || object.memq.get(page.offset) !== page) {
      system.vm_page_dequeue(page);
      continue;
    }
    // With no live default manager, internal memory stays resident (as when none was set).
    if (object.internal && !vm_port_alive(system.default_manager)) continue;
    if (!page.dirty && !page.precious) {
      vm_page_free(page);
      continue;
    }
    let pager = vm_object_pager(object);
    if (pager === null) {
      if (!object.internal || object.pager_destroyed) continue;
      vm_object_collapse(object);
      pager = vm_object_pager(object) ?? vm_object_pager_create(object, system);
    }
    // A pager that died cannot take the page back: it stays (its faults fail, its data is kept).
    if (!vm_port_alive(pager.pager)) continue;
    vm_pageout_page(object, pager, page, false, true);
  }
}

vm_system_set_pageout(vm_pageout_scan);

/** A right whose port is still active: a pager or manager that can still receive. */
function vm_port_alive(port: IpcPortRef): boolean {
  return IP_VALID(port) && port.ip_active;
}
