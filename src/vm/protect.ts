/*
 * File: vm/protect.ts
 * Purpose: vm_map_protect (vm/vm_map.c): set the current or maximum protection of a
 *          range (spec §2.4, §3, §8.3).
 */

import { KERN_PROTECTION_FAILURE, KERN_SUCCESS } from '../mach/kern_return.js';
import { vm_map_coalesce_entry } from './coalesce.js';
import type { VmMap } from './map.js';
import {
  vm_map_clip_end,
  vm_map_clip_start,
  vm_map_entry_contains,
  vm_map_lookup_entry,
  vm_map_range_check,
} from './map.js';
import type { vm_prot_t } from './vm_prot.js';
import { VM_PROT_NOTIFY } from './vm_prot.js';

/**
 * vm_map_protect (vm/vm_map.c): set the protection of [start, end).
 *
 * The range is clamped to the map. The entry containing start is clipped there first,
 * even when the range is empty. Then every entry in the range is checked: a protection
 * outside (max_protection | NOTIFY) fails with KERN_PROTECTION_FAILURE, leaving that
 * clip in place. Otherwise each entry is clipped at end and updated: with set_max,
 * max_protection = new_prot and protection = new_prot & old protection; else protection
 * = new_prot. Holes are skipped.
 * At L2 each updated entry is offered to vm_map_coalesce_entry (it may merge into a
 * predecessor outside the range), and so is the first entry at or after end.
 *
 * Conditions: new_prot has been checked by the caller (vm_protect).
 * Returns: KERN_SUCCESS or KERN_PROTECTION_FAILURE.
 */
export function vm_map_protect(map: VmMap, start: number, end: number, new_prot: vm_prot_t, set_max: boolean): number {
  [start, end] = vm_map_range_check(map, start, end);

  let entry = vm_map_lookup_entry(map, start);
  if (vm_map_entry_contains(map, entry, start)) vm_map_clip_start(map, entry, start);
  else entry = entry.vme_next;

  for (let current = entry; current !== map.hdr && current.vme_start < end; current = current.vme_next) {
    if ((new_prot & (VM_PROT_NOTIFY | current.max_protection)) !== new_prot) return KERN_PROTECTION_FAILURE;
  }

  let current = entry;
  while (current !== map.hdr && current.vme_start < end) {
    vm_map_clip_end(map, current, end);
    if (set_max) {
      current.max_protection = new_prot;
      current.protection = new_prot & current.protection;
    } else {
      current.protection = new_prot;
    }
    const next = current.vme_next;
    vm_map_coalesce_entry(map, current);
    current = next;
  }
  vm_map_coalesce_entry(map, current);
  return KERN_SUCCESS;
}
