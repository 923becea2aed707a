/*
 * File: vm/delete.ts
 * Purpose: vm_map_entry_delete, vm_map_delete and vm_map_remove (vm/vm_map.c): unmap a
 *          range (spec §4, §8.2). Deletion never merges anything.
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import type { VmMapEntry } from './entry.js';
import { vm_map_entry_dispose } from './entry.js';
import type { VmMap } from './map.js';
import {
  vm_map_clip_end,
  vm_map_clip_start,
  vm_map_entry_contains,
  vm_map_entry_unlink,
  vm_map_lookup_entry,
  vm_map_range_check,
} from './map.js';
import { vm_object_deallocate, vm_object_page_remove } from './object.js';

/**
 * vm_map_entry_delete (vm/vm_map.c): remove one entry from the map and drop its object
 * reference.
 *
 * At L1/L2 (cab23fb5), an unshared entry whose object has no pager, a single reference
 * (this entry's) and no paging under way first has that object's pages over the entry's
 * offsets discarded ("eager page release"). A shared entry keeps the pages (they are only
 * removed from the pmaps, which the sim does not have). Wiring is not modelled.
 * Conditions: entry is a linked entry of map (not the header). The record is disposed.
 */
export function vm_map_entry_delete(map: VmMap, entry: VmMapEntry): void {
  const size = entry.vme_end - entry.vme_start;
  const object = entry.object;
  if (
    object !== null &&
    map.features.eager_page_release &&
    !entry.is_shared &&
    !object.pager_created &&
    object.ref_count === 1 &&
    object.paging_in_progress === 0
  ) {
    vm_object_page_remove(object, entry.offset, entry.offset + size);
  }
  vm_object_deallocate(object);
  vm_map_entry_unlink(map, entry);
  map.size -= size;
  vm_map_entry_dispose(entry);
}

/**
 * vm_map_delete (vm/vm_map.c): remove [start, end) from the map.
 *
 * The entry containing start is clipped there; then, if first_free starts at or after
 * start (the header counts as min_offset), first_free becomes the entry before the first
 * entry at or after start. Each entry in the range is clipped at end and deleted.
 * Holes and unmapped ranges are fine; an empty range still clips at start.
 * Conditions: [start, end) lies within the map (vm_map_remove clamps it).
 * Returns: KERN_SUCCESS.
 */
export function vm_map_delete(map: VmMap, start: number, end: number): number {
  let entry = vm_map_lookup_entry(map, start);
  if (vm_map_entry_contains(map, entry, start)) vm_map_clip_start(map, entry, start);
  else entry = entry.vme_next;

  if (map.first_free.vme_start >= start) map.first_free = entry.vme_prev;

  while (entry !== map.hdr && entry.vme_start < end) {
    vm_map_clip_end(map, entry, end);
    const next = entry.vme_next;
    vm_map_entry_delete(map, entry);
    entry = next;
  }
  return KERN_SUCCESS;
}

/**
 * vm_map_remove (vm/vm_map.c): vm_map_delete of [start, end) clamped to the map.
 * Returns: KERN_SUCCESS.
 */
export function vm_map_remove(map: VmMap, start: number, end: number): number {
  [start, end] = vm_map_range_check(map, start, end);
  return vm_map_delete(map, start, end);
}
