/*
 * File: vm/map_check.ts
 * Purpose: a consistency check of a map's structures (in the spirit of gnumach's
 *          vm_map_print and its assertions), for tests and for tools replaying scripts.
 */

import type { VmMapEntry } from './entry.js';
import type { VmMap } from './map.js';
import { rb_check } from './rbtree.js';
import { page_aligned } from './vm_param.js';

/**
 * Check that the list, the address tree, the gap index, nentries, size and first_free of
 * `map` agree with one another: entries sorted, page aligned, non-empty, disjoint, within
 * [min_offset, max_offset); the tree is a valid red-black tree with the list's order; each
 * entry with free space after it is filed exactly once, under that size; first_free is
 * the header or a linked entry.
 * Throws: an Error naming the first inconsistency.
 */
export function vm_map_check(map: VmMap): void {
  const fail = (what: string): never => {
    throw new Error(`vm_map_check: ${what}`);
  };
  const list: VmMapEntry[] = [];
  let size = 0;
  let prev = map.hdr;
  for (let e = map.hdr.vme_next; e !== map.hdr; e = e.vme_next) {
    if (e.vme_prev !== prev) fail(`bad vme_prev at 0x${e.vme_start.toString(16)}`);
    if (!page_aligned(e.vme_start) || !page_aligned(e.vme_end)) fail(`unaligned entry at 0x${e.vme_start.toString(16)}`);
    if (e.vme_start >= e.vme_end) fail(`empty entry at 0x${e.vme_start.toString(16)}`);
    if (e.vme_start < (prev === map.hdr ? map.min_offset : prev.vme_end)) fail(`overlap at 0x${e.vme_start.toString(16)}`);
    if (e.vme_end > map.max_offset) fail(`entry past max_offset at 0x${e.vme_start.toString(16)}`);
    if (e.object !== null && !e.object.alive) fail(`dead object in entry at 0x${e.vme_start.toString(16)}`);
    list.push(e);
    size += e.vme_end - e.vme_start;
    prev = e;
  }
  if (map.hdr.vme_prev !== prev) fail('header vme_prev is not the last entry');
  if (list.length !== map.nentries) fail(`nentries ${map.nentries}, list has ${list.length}`);
  if (size !== map.size) fail(`size ${map.size}, entries cover ${size}`);

  if (rb_check(map.tree) !== list.length) fail('address tree size differs from the list');
  const inorder: VmMapEntry[] = [];
  const walk = (n: VmMapEntry | null): void => {
    if (n === null) return;
    walk(n.rb_left);
    inorder.push(n);
    walk(n.rb_right);
  };
  walk(map.tree.root);
  inorder.forEach((e, i) => {
    if (e !== list[i]) fail(`address tree order differs from the list at index ${i}`);
  });

  rb_check(map.gaps.class_tree);
  const filed = new Set<VmMapEntry>();
  for (const cls of map.gaps.classes()) {
    if (cls.entries.length === 0) fail(`empty gap class ${cls.gap_size}`);
    for (const e of cls.entries) {
      if (filed.has(e)) fail('entry filed twice in the gap index');
      filed.add(e);
      if (e.gap_size !== cls.gap_size) fail(`entry gap_size ${e.gap_size} filed under ${cls.gap_size}`);
    }
  }
  for (const e of list) {
    const gap = (e.vme_next === map.hdr ? map.max_offset : e.vme_next.vme_start) - e.vme_end;
    if (gap > 0 && (!filed.has(e) || e.gap_size !== gap)) fail(`gap of 0x${gap.toString(16)} after 0x${e.vme_start.toString(16)} not filed`);
    if (gap === 0 && filed.has(e)) fail(`entry at 0x${e.vme_start.toString(16)} filed with no gap`);
  }
  const linked = new Set(list);
  for (const e of filed) if (!linked.has(e)) fail('unlinked entry in the gap index');

  if (map.first_free !== map.hdr && !linked.has(map.first_free)) fail('first_free is not linked');
}
