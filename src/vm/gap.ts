/*
 * File: vm/gap.ts
 * Purpose: the gap index of a map (GNU Mach's hdr.gap_tree and vm_map_gap_* in vm/vm_map.c):
 *          free space after each entry, filed by size, for the "anywhere" allocator (spec §8.1).
 *
 * Each entry's gap is the space from its end to the next entry's start, or to the map's
 * max_offset for the last entry. The space before the first entry is never indexed.
 * Entries with a zero gap are not filed. Entries with the same gap size form a class,
 * kept in the order they were filed; re-filing an entry (remove, then insert) moves it to
 * the tail. The classes sit in a red-black tree keyed by size.
 *
 * gnumach keeps the first filed entry of a size as the tree node and chains the others
 * on its gap_list; when that node leaves, the next one in the list takes its place. The
 * order within a size is therefore plain filing order, which is what a class list keeps.
 *
 * `vm_map_gap_best_fit` answers: the smallest gap >= a size, and among gaps of that size
 * the one filed last (gnumach takes list_last_entry). Everything is O(log n).
 */

import type { VmMapEntry } from './entry.js';
import type { RbNode } from './rbtree.js';
import { RbTree } from './rbtree.js';

/** All the entries whose gap has one size, in filing order. */
export class VmMapGapClass implements RbNode<VmMapGapClass> {
  rb_parent: VmMapGapClass | null = null;
  rb_left: VmMapGapClass | null = null;
  rb_right: VmMapGapClass | null = null;
  rb_red = false;
  readonly gap_size: number;
  head: VmMapEntry | null = null;
  tail: VmMapEntry | null = null;

  constructor(gap_size: number) {
    this.gap_size = gap_size;
  }
}

export class VmMapGapTree {
  private readonly tree = new RbTree<VmMapGapClass>();
  /** The map header: its vme_end is max_offset, the end of the last entry's gap. */
  private readonly hdr: VmMapEntry;

  constructor(hdr: VmMapEntry) {
    this.hdr = hdr;
  }

  /** vm_map_gap_compute: recompute entry.gap_size from its successor (or max_offset). */
  private compute(entry: VmMapEntry): void {
    const next = entry.vme_next;
    entry.gap_size = (next !== this.hdr ? next.vme_start : this.hdr.vme_end) - entry.vme_end;
  }

  /** vm_map_gap_insert_single: compute the entry's gap and file it at the tail of its size. */
  insert_single(entry: VmMapEntry): void {
    if (entry === this.hdr) return;
    this.compute(entry);
    if (entry.gap_size === 0) return;

    let parent: VmMapGapClass | null = null;
    let left = false;
    let node = this.tree.root;
    while (node !== null && node.gap_size !== entry.gap_size) {
      parent = node;
      left = entry.gap_size < node.gap_size;
      node = left ? node.rb_left : node.rb_right;
    }
    if (node === null) {
      node = new VmMapGapClass(entry.gap_size);
      this.tree.insert_at(parent, left, node);
    }
    entry.gap_class = node;
    entry.gap_prev = node.tail;
    entry.gap_next = null;
    if (node.tail !== null) node.tail.gap_next = entry;
    else node.head = entry;
    node.tail = entry;
  }

  /** vm_map_gap_remove_single: take the entry out of the index if it is filed. */
  remove_single(entry: VmMapEntry): void {
    const cls = entry.gap_class;
    if (cls === null) return;
    if (entry.gap_prev !== null) entry.gap_prev.gap_next = entry.gap_next;
    else cls.head = entry.gap_next;
    if (entry.gap_next !== null) entry.gap_next.gap_prev = entry.gap_prev;
    else cls.tail = entry.gap_prev;
    entry.gap_class = entry.gap_prev = entry.gap_next = null;
    if (cls.head === null) this.tree.remove(cls);
  }

  /** vm_map_gap_update: re-file one entry (it moves to the tail of its size). */
  update(entry: VmMapEntry): void {
    this.remove_single(entry);
    this.insert_single(entry);
  }

  /** vm_map_gap_insert: after linking `entry`, re-file its predecessor and file it. */
  insert(entry: VmMapEntry): void {
    this.update(entry.vme_prev);
    this.insert_single(entry);
  }

  /** vm_map_gap_remove: after unlinking `entry` (its own links still set), drop it and re-file its predecessor. */
  remove(entry: VmMapEntry): void {
    this.remove_single(entry);
    this.update(entry.vme_prev);
  }

  /**
   * The entry the best-fit search of vm_map_find_entry_anywhere picks: among the
   * smallest gaps of at least `min_gap` bytes, the most recently filed one; null if none.
   */
  best_fit(min_gap: number): VmMapEntry | null {
    let best: VmMapGapClass | null = null;
    let node = this.tree.root;
    while (node !== null) {
      if (node.gap_size === min_gap) return node.tail;
      if (node.gap_size > min_gap) {
        best = node;
        node = node.rb_left;
      } else {
        node = node.rb_right;
      }
    }
    return best === null ? null : best.tail;
  }

  /** Every class, smallest gap first, each as its entries in filing order (tests, vm_map_check). */
  classes(): { gap_size: number; entries: VmMapEntry[] }[] {
    const out: { gap_size: number; entries: VmMapEntry[] }[] = [];
    const walk = (node: VmMapGapClass | null): void => {
      if (node === null) return;
      walk(node.rb_left);
      const entries: VmMapEntry[] = [];
      for (let e = node.head; e !== null; e = e.gap_next) entries.push(e);
      out.push({ gap_size: node.gap_size, entries });
      walk(node.rb_right);
    };
    walk(this.tree.root);
    return out;
  }

  /** The class tree, for invariant checks. */
  get class_tree(): RbTree<VmMapGapClass> {
    return this.tree;
  }
}
