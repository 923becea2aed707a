/*
 * File: vm/object_coalesce.ts
 * Purpose: vm_object_coalesce (vm/vm_object.c): can the objects behind two adjoining
 *          ranges be represented by one object and offset? (spec §2.1)
 *
 * The prev range [prev_offset, prev_offset + prev_size) of prev_object ends in the
 * address space exactly where the next range of next_object starts.
 *
 * L1/L2 (dc0c9160, ee65849b, bdcafee4):
 *   O1  both NULL: merge, NULL object at offset 0.
 *   O2  the same object: merge iff prev_offset + prev_size == next_offset; one of the
 *       two references is dropped. Nothing else is checked.
 *   O3  two different objects: never.
 *   O4  one NULL side: after a collapse attempt, the object must have a single
 *       reference, no pager, not be used for pageout, have no shadow, no copy, and no
 *       paging in progress; then
 *       O4a the object is prev: pages in the newly covered offsets are discarded and the
 *           object grows to cover them; result (object, prev_offset);
 *       O4b the object is next: it needs next_offset >= prev_size; pages in
 *           [next_offset - prev_size, next_offset) are discarded; result
 *           (object, next_offset - prev_size).
 * L0 (d5464d53): fails if next_object is non-NULL; a NULL prev succeeds with the offset
 * left as it was; otherwise the O4a checks and actions.
 */

import type { VmLevel } from './level.js';
import { vm_level_features } from './level.js';
import type { VmObject } from './object.js';
import { vm_object_collapse, vm_object_deallocate, vm_object_page_remove } from './object.js';

/** The object and offset the surviving entry takes after a successful coalesce. */
export interface VmObjectCoalesced {
  object: VmObject | null;
  offset: number;
}

/**
 * vm_object_coalesce (vm/vm_object.c), at the given level.
 * Conditions: the two ranges adjoin in the address space; the caller holds one reference
 *   on each non-NULL object (one per entry or mapping).
 * Returns: the object and offset for the merged range, the caller then holding exactly
 *   one reference on it; or null if the objects cannot be merged (nothing changed,
 *   except what a collapse attempt did).
 */
export function vm_object_coalesce(
  level: VmLevel,
  prev_object: VmObject | null,
  next_object: VmObject | null,
  prev_offset: number,
  next_offset: number,
  prev_size: number,
  next_size: number,
): VmObjectCoalesced | null {
  if (!vm_level_features(level).object_coalesce_v2) {
    return vm_object_coalesce_l0(prev_object, next_object, prev_offset, prev_size, next_size);
  }

  if (prev_object === next_object) {
    if (prev_object === null) return { object: null, offset: 0 }; // O1
    if (prev_offset + prev_size !== next_offset) return null; // O2, not contiguous
    vm_object_deallocate(prev_object);
    return { object: prev_object, offset: prev_offset }; // O2
  }
  if (prev_object !== null && next_object !== null) return null; // O3

  const object = (next_object ?? prev_object)!;
  vm_object_collapse(object);
  if (!vm_object_coalesce_allowed(object)) return null;

  if (object === prev_object) {
    // O4a: append the range after the object's mapping.
    const end = prev_offset + prev_size + next_size;
    vm_object_page_remove(object, prev_offset + prev_size, end);
    if (end > object.size) object.size = end;
    return { object, offset: prev_offset };
  }
  // O4b: put a NULL range in front of the object's mapping.
  if (next_offset < prev_size) return null;
  vm_object_page_remove(object, next_offset - prev_size, next_offset);
  return { object, offset: next_offset - prev_size };
}

/* The L0 vm_object_coalesce (d5464d53): only ever extends prev_object upwards. */
function vm_object_coalesce_l0(
  prev_object: VmObject | null,
  next_object: VmObject | null,
  prev_offset: number,
  prev_size: number,
  next_size: number,
): VmObjectCoalesced | null {
  if (next_object !== null) return null;
  if (prev_object === null) return { object: null, offset: prev_offset };
  vm_object_collapse(prev_object);
  if (!vm_object_coalesce_allowed(prev_object)) return null;
  const end = prev_offset + prev_size + next_size;
  vm_object_page_remove(prev_object, prev_offset + prev_size, end);
  if (end > prev_object.size) prev_object.size = end;
  return { object: prev_object, offset: prev_offset };
}

/*
 * The O4 refusals: pages not mapped by the entry may be in use anyway when the object
 * has more than one reference, has been paged out (or is external), is used for pageout,
 * shadows another object, has a copy elsewhere, or has paging references.
 */
function vm_object_coalesce_allowed(object: VmObject): boolean {
  return (
    object.ref_count <= 1 &&
    !object.pager_created &&
    !object.used_for_pageout &&
    object.shadow === null &&
    object.copy === null &&
    object.paging_in_progress === 0
  );
}
