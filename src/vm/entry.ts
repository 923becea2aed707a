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
  /*
   * Field order matters for speed: a tree descent reads only the first four, which then
   * share a cache line. Every field starts with a value of its final type (number, boolean,
   * object or null) so that the engine keeps numbers unboxed in place.
   */
  rb_left: VmMapEntry | null = null;
  rb_right: VmMapEntry | null = null;
  vme_start = 0;
  vme_end = 0;
  rb_parent: VmMapEntry | null = null;
  rb_red = false;
  vme_prev: VmMapEntry = this;
  vme_next: VmMapEntry = this;

  /* Gap index: free space after this entry, and where the entry is filed. */
  gap_size = 0;
  gap_class: VmMapGapClass | null = null;
  gap_prev: VmMapEntry | null = null;
  gap_next: VmMapEntry | null = null;

  /** The VM object, or null for zero-fill memory not yet materialised. */
  object: VmObject | null = null;
  /** Offset into the object; kept (and reported) for NULL objects too. */
  offset = 0;
  /** Shared with another map through fork (VM_INHERIT_SHARE). Blocks every merge. */
  is_shared = false;
  /** Copy-on-write pending: a shadow must be made on the first write. */
  needs_copy = false;
  protection: vm_prot_t = 0;
  max_protection: vm_prot_t = 0;
  inheritance: vm_inherit_t = 0;
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
    this.init(start, end, object, offset, needs_copy, protection, max_protection, inheritance);
  }

  /* The attributes of a fresh record: the range and mapping given, unshared and unwired. */
  init(
    start: number,
    end: number,
    object: VmObject | null,
    offset: number,
    needs_copy: boolean,
    protection: vm_prot_t,
    max_protection: vm_prot_t,
    inheritance: vm_inherit_t,
  ): this {
    this.vme_start = start;
    this.vme_end = end;
    this.object = object;
    this.offset = offset;
    this.needs_copy = needs_copy;
    this.protection = protection;
    this.max_protection = max_protection;
    this.inheritance = inheritance;
    this.is_shared = false;
    this.wired_count = 0;
    return this;
  }
}

/*
 * vm_map_entry_cache: disposed records wait here to be reused, as gnumach's kmem cache
 * for map entries does. Clipping and merging create and free records all the time; reusing
 * them keeps that churn out of the garbage collector's old generation. Bounded, so a map
 * that shrinks gives its memory back.
 */
const VM_MAP_ENTRY_CACHE_MAX = 1024;
const vm_map_entry_cache: VmMapEntry[] = [];

/**
 * vm_map_entry_create (vm/vm_map.c): a new, unlinked record for [start, end), unshared and
 * unwired, taken from the cache when one is there.
 */
export function vm_map_entry_create(
  start: number,
  end: number,
  object: VmObject | null,
  offset: number,
  needs_copy: boolean,
  protection: vm_prot_t,
  max_protection: vm_prot_t,
  inheritance: vm_inherit_t,
): VmMapEntry {
  const entry = vm_map_entry_cache.pop();
  if (entry === undefined) return new VmMapEntry(start, end, object, offset, needs_copy, protection, max_protection, inheritance);
  return entry.init(start, end, object, offset, needs_copy, protection, max_protection, inheritance);
}

/**
 * vm_map_entry_dispose (vm/vm_map.c): free a record that has been unlinked from its map
 * (its object reference already dealt with). The record may be handed out again by
 * vm_map_entry_create, so nobody may keep using it.
 */
export function vm_map_entry_dispose(entry: VmMapEntry): void {
  entry.vme_prev = entry.vme_next = entry;
  entry.object = null;
  entry.gap_size = 0;
  if (vm_map_entry_cache.length < VM_MAP_ENTRY_CACHE_MAX) vm_map_entry_cache.push(entry);
}

/**
 * vm_map_entry_copy_full (vm/vm_map.h): a new, unlinked record with every attribute of
 * `entry` (range, object, offset, protections, inheritance, sharing, wiring).
 * No object reference is taken; that is the caller's job.
 */
export function vm_map_entry_copy_full(entry: VmMapEntry): VmMapEntry {
  const copy = vm_map_entry_create(
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
