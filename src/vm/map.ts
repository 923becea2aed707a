/*
 * File: vm/map.ts
 * Purpose: the address map of a task (GNU Mach's struct vm_map, vm/vm_map.[ch]): its
 *          header, entry list, address tree, gap index and first_free hint; entry lookup,
 *          linking and unlinking, and clipping (spec §1.2, §1.5, §3).
 *
 * The operations on a map live in sibling files named after the gnumach functions:
 * anywhere.ts (vm_map_find_entry_anywhere), enter.ts (vm_map_enter), coalesce.ts
 * (vm_map_coalesce_entry), protect.ts, inherit.ts, delete.ts, region.ts, lookup.ts.
 */

import { VmMapEntry, vm_map_entry_copy_full } from './entry.js';
import { VmMapGapTree } from './gap.js';
import type { VmLevel, VmLevelFeatures } from './level.js';
import { VM_LEVEL_DEFAULT, vm_level_features } from './level.js';
import { vm_object_reference } from './object.js';
import { RbTree } from './rbtree.js';
import type { VmWordBits } from './vm_param.js';
import type { VmSystem } from './vm_system.js';
import { assert_vm_offset, round_page, trunc_page } from './vm_param.js';
import { VM_INHERIT_DEFAULT, VM_PROT_NONE } from './vm_prot.js';

/** A 32-bit kernel's user map ends here (spec §1.1). */
export const VM_MAX_USER_ADDRESS_32 = 0xc0000000;

export interface VmMapOptions {
  /** Behaviour level (default L2). */
  level?: VmLevel;
  /** Lowest address (default 0), rounded up to a page. */
  min?: number;
  /** End of the address space (default 0xC0000000), truncated to a page. */
  max?: number;
  /** Width of vm_offset_t (default 32). */
  word_bits?: VmWordBits;
}

export class VmMap {
  /**
   * The header sentinel (hdr.links): its vme_next/vme_prev are the first/last entries,
   * its vme_start/vme_end are min_offset/max_offset. It is a real position in the list:
   * lookups and first_free can point at it.
   */
  readonly hdr: VmMapEntry;
  /** Address tree over the entries (hdr.tree). */
  readonly tree = new RbTree<VmMapEntry>();
  /** Gap index (hdr.gap_tree). */
  readonly gaps: VmMapGapTree;
  /** hdr.nentries */
  nentries = 0;
  /** Virtual size mapped. */
  size = 0;
  /** First-free-space hint: an entry, or the header (spec §8.2). */
  first_free: VmMapEntry;
  readonly level: VmLevel;
  readonly features: VmLevelFeatures;
  readonly word_bits: VmWordBits;
  /**
   * The kernel VM this map belongs to (page queues, memory limit, pagers), or null for a
   * map used on its own (scripts, tests): its faults then never page.
   */
  system: VmSystem | null = null;

  constructor(options: VmMapOptions = {}) {
    this.level = options.level ?? VM_LEVEL_DEFAULT;
    this.features = vm_level_features(this.level);
    this.word_bits = options.word_bits ?? 32;
    const min = round_page(this.word_bits, options.min ?? 0);
    const max = trunc_page(options.max ?? VM_MAX_USER_ADDRESS_32);
    assert_vm_offset(this.word_bits, min, 'min_offset');
    assert_vm_offset(this.word_bits, max, 'max_offset');
    if (min > max) throw new RangeError(`vm_map: min_offset ${min} above max_offset ${max}`);
    this.hdr = new VmMapEntry(min, max, null, 0, false, VM_PROT_NONE, VM_PROT_NONE, VM_INHERIT_DEFAULT);
    this.gaps = new VmMapGapTree(this.hdr);
    this.first_free = this.hdr;
  }

  get min_offset(): number {
    return this.hdr.vme_start;
  }

  get max_offset(): number {
    return this.hdr.vme_end;
  }

  /** The entries in address order (a fresh array; for tests, tools and printing). */
  entries(): VmMapEntry[] {
    const out: VmMapEntry[] = [];
    for (let e = this.hdr.vme_next; e !== this.hdr; e = e.vme_next) out.push(e);
    return out;
  }
}

/**
 * vm_map_create (vm/vm_map.c): an empty map. first_free is the header.
 */
export function vm_map_create(options: VmMapOptions = {}): VmMap {
  return new VmMap(options);
}

/**
 * vm_map_lookup_entry (vm/vm_map.c): the entry containing `address`, or else the entry
 * just before it, or else the header. O(log n) through the address tree.
 * (gnumach's lookup hint only saves time, so it is not modelled.)
 * Conditions: none; the map is only read.
 * Returns: the entry; the address is inside it iff vm_map_entry_contains says so.
 */
export function vm_map_lookup_entry(map: VmMap, address: number): VmMapEntry {
  let node = map.tree.root;
  let floor: VmMapEntry = map.hdr;
  while (node !== null) {
    if (address < node.vme_start) {
      node = node.rb_left;
    } else {
      if (address < node.vme_end) return node;
      floor = node;
      node = node.rb_right;
    }
  }
  return floor;
}

/** Whether `entry` (as returned by vm_map_lookup_entry) is a real entry containing `address`. */
export function vm_map_entry_contains(map: VmMap, entry: VmMapEntry, address: number): boolean {
  return entry !== map.hdr && address >= entry.vme_start && address < entry.vme_end;
}

/**
 * vm_map_entry_link (vm/vm_map.c): insert `entry` after `after` (an entry or the header)
 * in the list and the tree; file it in the gap index and re-file `after`.
 * map.size is the caller's to update.
 * Conditions: entry is unlinked; its range lies between after and after.vme_next.
 */
export function vm_map_entry_link(map: VmMap, after: VmMapEntry, entry: VmMapEntry): void {
  map.nentries++;
  entry.vme_prev = after;
  entry.vme_next = after.vme_next;
  after.vme_next.vme_prev = entry;
  after.vme_next = entry;
  map.tree.insert_after(after === map.hdr ? null : after, entry);
  map.gaps.insert(entry);
}

/**
 * vm_map_entry_unlink (vm/vm_map.c): take `entry` out of the list, the tree and the gap
 * index; its predecessor is re-filed. The entry's object reference and map.size are the
 * caller's to update.
 * Conditions: entry is a linked entry of map (not the header).
 */
export function vm_map_entry_unlink(map: VmMap, entry: VmMapEntry): void {
  map.nentries--;
  entry.vme_next.vme_prev = entry.vme_prev;
  entry.vme_prev.vme_next = entry.vme_next;
  map.tree.remove(entry);
  map.gaps.remove(entry);
}

/**
 * vm_map_clip_start (vm/vm_map.c): make `entry` begin at `start` if it begins before.
 * A new record takes the front [entry.vme_start, start) and is linked before `entry`;
 * `entry` keeps the back and its offset grows by the front's size. Both pieces keep every
 * attribute, NULL-object offsets included; an object gains a reference.
 * Conditions: entry is a linked entry of map.
 */
export function vm_map_clip_start(map: VmMap, entry: VmMapEntry, start: number): void {
  if (start <= entry.vme_start) return;
  const front = vm_map_entry_copy_full(entry);
  front.vme_end = start;
  entry.offset += start - entry.vme_start;
  entry.vme_start = start;
  vm_map_entry_link(map, entry.vme_prev, front);
  vm_object_reference(front.object);
}

/**
 * vm_map_clip_end (vm/vm_map.c): make `entry` end at `end` if it ends after.
 * A new record takes the back [end, entry.vme_end) at offset entry.offset + (end -
 * entry.vme_start) and is linked after `entry`, which keeps the front. The gap that
 * followed `entry` now follows the new record, filed at the tail of its size.
 * An object gains a reference.
 * Conditions: entry is a linked entry of map.
 */
export function vm_map_clip_end(map: VmMap, entry: VmMapEntry, end: number): void {
  if (end >= entry.vme_end) return;
  const back = vm_map_entry_copy_full(entry);
  back.vme_start = end;
  back.offset += end - entry.vme_start;
  entry.vme_end = end;
  vm_map_entry_link(map, entry, back);
  vm_object_reference(back.object);
}

/**
 * VM_MAP_RANGE_CHECK (vm/vm_map.c): clamp [start, end) to the map; an inverted range
 * becomes empty at its end.
 * Returns: the clamped [start, end].
 */
export function vm_map_range_check(map: VmMap, start: number, end: number): [number, number] {
  if (start < map.min_offset) start = map.min_offset;
  if (end > map.max_offset) end = map.max_offset;
  if (start > end) start = end;
  return [start, end];
}
