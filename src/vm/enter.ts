/*
 * File: vm/enter.ts
 * Purpose: vm_map_enter (vm/vm_map.c): map a range, extending a neighbour when the
 *          objects can be coalesced (spec §2.2, E0-E3).
 */

import {
  KERN_INVALID_ADDRESS,
  KERN_INVALID_ARGUMENT,
  KERN_NO_SPACE,
  KERN_SUCCESS,
} from '../mach/kern_return.js';
import { vm_map_find_entry_anywhere } from './anywhere.js';
import { vm_map_coalesce_entry } from './coalesce.js';
import type { VmMapEntry } from './entry.js';
import { vm_map_entry_create } from './entry.js';
import type { VmMap } from './map.js';
import { vm_map_entry_contains, vm_map_entry_link, vm_map_lookup_entry } from './map.js';
import type { VmObject } from './object.js';
import { vm_object_coalesce } from './object_coalesce.js';
import { vm_offset_add, vm_offset_and } from './vm_param.js';
import type { vm_inherit_t, vm_prot_t } from './vm_prot.js';

/** What vm_map_enter returns: the kern_return code and the address of the range. */
export interface VmMapEnterResult {
  kr: number;
  address: number;
}

/**
 * vm_map_enter (vm/vm_map.c): map [address, address + size) (or a range found anywhere)
 * to `object` at `offset` with the given attributes.
 *
 * E0  size 0 -> KERN_INVALID_ARGUMENT. Anywhere: vm_map_find_entry_anywhere, else
 *     KERN_NO_SPACE. Fixed: address & mask -> KERN_NO_SPACE; out of the map or wrapping
 *     -> KERN_INVALID_ADDRESS; start inside an entry, or the next entry starting before
 *     the end -> KERN_NO_SPACE. prev = the entry before the range (or the header),
 *     next = prev.vme_next.
 * E1  backward extension of prev (prev ends at start, not shared, same inheritance,
 *     protection and max_protection, unwired, objects coalesce; at L0 also: no object).
 *     At L2, vm_map_coalesce_entry(next) follows.
 * E2  (L1/L2, if E1 did not happen) forward extension of next (next starts at the end,
 *     same conditions, objects coalesce): next's start moves down; prev is re-filed in
 *     the gap index. At L2, vm_map_coalesce_entry(next) follows.
 * E3  otherwise a new entry after prev; first_free moves to it if first_free was prev
 *     and nothing separates them.
 * needs_copy is not compared by E1/E2; the surviving entry keeps its own.
 *
 * Conditions: the caller holds one reference on `object` for this mapping; on success
 *   the mapping has consumed it (directly, or through vm_object_coalesce); on failure
 *   the caller still holds it.
 * Returns: KERN_SUCCESS, KERN_INVALID_ARGUMENT, KERN_NO_SPACE, KERN_INVALID_ADDRESS;
 *   `address` is the start of the range (unchanged on failure).
 */
export function vm_map_enter(
  map: VmMap,
  address: number,
  size: number,
  mask: number,
  anywhere: boolean,
  object: VmObject | null,
  offset: number,
  needs_copy: boolean,
  cur_protection: vm_prot_t,
  max_protection: vm_prot_t,
  inheritance: vm_inherit_t,
): VmMapEnterResult {
  if (size === 0) return { kr: KERN_INVALID_ARGUMENT, address };

  // E0: validation and placement.
  let start: number;
  let entry: VmMapEntry;
  if (anywhere) {
    const found = vm_map_find_entry_anywhere(map, size, mask);
    if (found === null) return { kr: KERN_NO_SPACE, address };
    start = found.start;
    entry = found.entry;
  } else {
    start = address;
    if (vm_offset_and(start, mask) !== 0) return { kr: KERN_NO_SPACE, address };
    const end = vm_offset_add(map.word_bits, start, size);
    if (start < map.min_offset || end > map.max_offset || start >= end) {
      return { kr: KERN_INVALID_ADDRESS, address };
    }
    entry = vm_map_lookup_entry(map, start);
    if (vm_map_entry_contains(map, entry, start)) return { kr: KERN_NO_SPACE, address };
    const following = entry.vme_next;
    if (following !== map.hdr && following.vme_start < end) return { kr: KERN_NO_SPACE, address };
  }
  const end = start + size;
  const next_entry = entry.vme_next;

  // E1: backward extension. L0 only ever extended NULL-object mappings; dc0c9160 lifted
  // that together with rewriting vm_object_coalesce, hence the shared level switch.
  if (
    entry !== map.hdr &&
    entry.vme_end === start &&
    (object === null || map.features.object_coalesce_v2) &&
    vm_map_entry_extendable(entry, cur_protection, max_protection, inheritance)
  ) {
    const merged = vm_object_coalesce(
      map.level,
      entry.object,
      object,
      entry.offset,
      offset,
      entry.vme_end - entry.vme_start,
      size,
    );
    if (merged !== null) {
      entry.object = merged.object;
      entry.offset = merged.offset;
      map.size += size;
      entry.vme_end = end;
      map.gaps.update(entry);
      vm_map_coalesce_entry(map, next_entry);
      return { kr: KERN_SUCCESS, address: start };
    }
  }

  // E2: forward extension.
  if (
    map.features.forward_extension &&
    next_entry !== map.hdr &&
    next_entry.vme_start === end &&
    vm_map_entry_extendable(next_entry, cur_protection, max_protection, inheritance)
  ) {
    const merged = vm_object_coalesce(
      map.level,
      object,
      next_entry.object,
      offset,
      next_entry.offset,
      size,
      next_entry.vme_end - next_entry.vme_start,
    );
    if (merged !== null) {
      next_entry.object = merged.object;
      next_entry.offset = merged.offset;
      map.size += size;
      next_entry.vme_start = start;
      map.gaps.update(entry);
      vm_map_coalesce_entry(map, next_entry);
      return { kr: KERN_SUCCESS, address: start };
    }
  }

  // E3: a new entry.
  const new_entry = vm_map_entry_create(start, end, object, offset, needs_copy, cur_protection, max_protection, inheritance);
  vm_map_entry_link(map, entry, new_entry);
  map.size += size;
  if (map.first_free === entry && (entry === map.hdr ? map.min_offset : entry.vme_end) >= start) {
    map.first_free = new_entry;
  }
  return { kr: KERN_SUCCESS, address: start };
}

/* The attribute conditions E1 puts on prev and E2 on next. */
function vm_map_entry_extendable(
  entry: VmMapEntry,
  protection: vm_prot_t,
  max_protection: vm_prot_t,
  inheritance: vm_inherit_t,
): boolean {
  return (
    !entry.is_shared &&
    entry.inheritance === inheritance &&
    entry.protection === protection &&
    entry.max_protection === max_protection &&
    entry.wired_count === 0
  );
}
