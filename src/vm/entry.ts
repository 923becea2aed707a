/*
 * File: vm/entry.ts
 * Purpose: the map entry (GNU Mach's struct vm_map_entry, vm/vm_map.h).
 *
 * One record per mapped range [vme_start, vme_end). A record is three things at once,
 * as in gnumach: a link in the map's sorted doubly-linked list (vme_prev/vme_next, with
 * the map header as sentinel), a node of the address tree (rb_*), and a member of the gap
 * index (gap_size and the gap_* links). Which record survives a clip or a merge matters
 * (spec §1.5): first_free and the gap index's filing order point at records.
 *
 * Kernel-only states are not modelled: submaps (is_sub_map), projected buffers
 * (projected_on), in_transition/needs_wakeup (kernel wiring and copyout continuations).
 * They are always FALSE/0 in a user task's map; see vm_map_coalesce_entry.
 */

import type { VmObject } from './object.js';
import type { RbNode } from './rbtree.js';
import type { vm_inherit_t, vm_prot_t } from './vm_prot.js';
import type { VmMapGapClass } from './gap.js';

export class VmMapEntry implements RbNode<VmMapEntry> {
  vme_prev: VmMapEntry = this;
  vme_next: VmMapEntry = this;
  vme_start: number;
  vme_end: number;

  /* Address tree links. */
  rb_parent: VmMapEntry | null = null;
  rb_left: VmMapEntry | null = null;
  rb_right: VmMapEntry | null = null;
  rb_red = false;

  /* Gap index: free space after this entry, and where the entry is filed. */
  gap_size = 0;
  gap_class: VmMapGapClass | null = null;
  gap_prev: VmMapEntry | null = null;
  gap_next: VmMapEntry | null = null;

  /** The VM object, or null for zero-fill memory not yet materialised. */
  object: VmObject | null;
  /** Offset into the object; kept (and reported) for NULL objects too. */
  offset: number;
  /** Shared with another map through fork (VM_INHERIT_SHARE). Blocks every merge. */
  is_shared = false;
  /** Copy-on-write pending: a shadow must be made on the first write. */
  needs_copy: boolean;
  protection: vm_prot_t;
  max_protection: vm_prot_t;
  inheritance: vm_inherit_t;
  /** Wiring count (vm_wire); 0 for pageable memory. */
  wired_count = 0;

  constructor(
    start: number,
    end: number,
    object: VmObject | null,
    offset: number,
    needs_copy: boolean,
    protection: vm_prot_t,
    max_protection: vm_prot_t,
    inheritance: vm_inherit_t,
  ) {
    this.vme_start = start;
    this.vme_end = end;
    this.object = object;
    this.offset = offset;
    this.needs_copy = needs_copy;
    this.protection = protection;
    this.max_protection = max_protection;
    this.inheritance = inheritance;
  }
}

/**
 * vm_map_entry_copy_full (vm/vm_map.h): a new, unlinked record with every attribute of
 * `entry` (range, object, offset, protections, inheritance, sharing, wiring).
 * No object reference is taken; that is the caller's job.
 */
export function vm_map_entry_copy_full(entry: VmMapEntry): VmMapEntry {
  const copy = new VmMapEntry(
    entry.vme_start,
    entry.vme_end,
    entry.object,
    entry.offset,
    entry.needs_copy,
    entry.protection,
    entry.max_protection,
    entry.inheritance,
  );
  copy.is_shared = entry.is_shared;
  copy.wired_count = entry.wired_count;
  return copy;
}
