/*
 * File: vm/inherit.ts
 * Purpose: vm_map_inherit (vm/vm_map.c): set the inheritance of a range (spec §2.4, §3).
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import { vm_map_coalesce_entry } from './coalesce.js';
import type { VmMap } from './map.js';
import {
  vm_map_clip_end,
  vm_map_clip_start,
  vm_map_entry_contains,
  vm_map_lookup_entry,
  vm_map_range_check,
} from './map.js';
import type { vm_inherit_t } from './vm_prot.js';

/**
 * vm_map_inherit (vm/vm_map.c): set the inheritance of [start, end).
 *
 * The range is clamped; the entry containing start is clipped there (even for an empty
 * range), each entry in the range is clipped at end and updated, holes are skipped.
 * At L2 each updated entry, then the first entry at or after end, is offered to
 * vm_map_coalesce_entry, as in vm_map_protect.
 *
 * Conditions: new_inheritance has been checked by the caller (vm_inherit).
 * Returns: KERN_SUCCESS.
 */
export function vm_map_inherit(map: VmMap, start: number, end: number, new_inheritance: vm_inherit_t): number {
  [start, end] = vm_map_range_check(map, start, end);

  let entry = vm_map_lookup_entry(map, start);
  if (vm_map_entry_contains(map, entry, start)) vm_map_clip_start(map, entry, start);
  else entry = entry.vme_next;

  while (entry !== map.hdr && entry.vme_start < end) {
    vm_map_clip_end(map, entry, end);
    entry.inheritance = new_inheritance;
    const next = entry.vme_next;
    vm_map_coalesce_entry(map, entry);
    entry = next;
  }
  vm_map_coalesce_entry(map, entry);
  return KERN_SUCCESS;
}
