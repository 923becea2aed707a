/*
 * File: vm/coalesce.ts
 * Purpose: vm_map_coalesce_entry (vm/vm_map.c, 87e8ddc7; L2 only): merge an entry into
 *          the entry before it (spec §2.3).
 */

import type { VmMapEntry } from './entry.js';
import { vm_map_entry_dispose } from './entry.js';
import type { VmMap } from './map.js';
import { vm_map_entry_unlink } from './map.js';
import { vm_object_coalesce } from './object_coalesce.js';

/**
 * vm_map_coalesce_entry (vm/vm_map.c): try to merge `entry` into its predecessor P.
 *
 * Can't merge if:
 *  - the level has no vm_map_coalesce_entry (L0, L1);
 *  - entry or P is the header;
 *  - P does not end exactly where entry starts;
 *  - either is shared (is_shared);
 *  - inheritance, protection or max_protection differ;
 *  - needs_copy differs;
 *  - wired_count differs (both may be wired, by the same count);
 *  - vm_object_coalesce(P's object, entry's object, ...) refuses (O2-O4 conditions).
 * gnumach also refuses submaps, in-transition entries and projected buffers; none of
 * those exist in a user task's map, so the sim has no such states.
 *
 * On success P takes the coalesced object and offset and entry's end; entry is unlinked
 * and freed (its gap, if any, moves to P, filed at the tail); first_free moves from entry
 * to P. map.size is unchanged.
 * Conditions: entry is an entry of map, or its header.
 * Returns: whether the entries were merged.
 */
export function vm_map_coalesce_entry(map: VmMap, entry: VmMapEntry): boolean {
  if (!map.features.coalesce_entry) return false;
  const prev = entry.vme_prev;
  if (
    entry === map.hdr ||
    prev === map.hdr ||
    prev.vme_end !== entry.vme_start ||
    prev.is_shared ||
    entry.is_shared ||
    prev.inheritance !== entry.inheritance ||
    prev.protection !== entry.protection ||
    prev.max_protection !== entry.max_protection ||
    prev.needs_copy !== entry.needs_copy ||
    prev.wired_count !== entry.wired_count
  ) {
    return false;
  }

  const merged = vm_object_coalesce(
    map.level,
    prev.object,
    entry.object,
    prev.offset,
    entry.offset,
    prev.vme_end - prev.vme_start,
    entry.vme_end - entry.vme_start,
  );
  if (merged === null) return false;
  prev.object = merged.object;
  prev.offset = merged.offset;

  if (map.first_free === entry) map.first_free = prev;
  prev.vme_end = entry.vme_end;
  vm_map_entry_unlink(map, entry);
  vm_map_entry_dispose(entry);
  return true;
}
