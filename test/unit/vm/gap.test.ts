import { describe, expect, it } from 'vitest';
import { VmMapEntry } from '../../../src/vm/entry.js';
import type { VmMap } from '../../../src/vm/map.js';
import { vm_map_clip_end, vm_map_create, vm_map_entry_link as link, vm_map_entry_unlink } from '../../../src/vm/map.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import { VM_INHERIT_DEFAULT, VM_PROT_ALL, VM_PROT_DEFAULT } from '../../../src/vm/vm_prot.js';

function entry(start: number, end: number): VmMapEntry {
  return new VmMapEntry(start, end, null, 0, false, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_DEFAULT);
}

/* vm_map_entry_link plus the size accounting vm_map_enter does. */
function vm_map_entry_link(map: VmMap, after: VmMapEntry, e: VmMapEntry): void {
  link(map, after, e);
  map.size += e.vme_end - e.vme_start;
}

/* The gap index as [size, [entry starts in filing order]]. */
function classes(map: VmMap): [number, number[]][] {
  return map.gaps.classes().map((c) => [c.gap_size, c.entries.map((e) => e.vme_start)]);
}

describe('gap index (hdr.gap_tree)', () => {
  it('files each entry under the space after it, the last entry up to max_offset', () => {
    const map = vm_map_create({ max: 0x10000 });
    const a = entry(0x1000, 0x2000);
    vm_map_entry_link(map, map.hdr, a);
    expect(classes(map)).toEqual([[0xe000, [0x1000]]]);
    const b = entry(0x4000, 0x5000);
    vm_map_entry_link(map, a, b);
    // a re-filed with its new gap; b filed up to max; the space before a is never indexed
    expect(classes(map)).toEqual([
      [0x2000, [0x1000]],
      [0xb000, [0x4000]],
    ]);
    vm_map_check(map);
  });

  it('does not file entries with no gap', () => {
    const map = vm_map_create({ max: 0x4000 });
    const a = entry(0x1000, 0x2000);
    vm_map_entry_link(map, map.hdr, a);
    vm_map_entry_link(map, a, entry(0x2000, 0x4000));
    expect(classes(map)).toEqual([]);
    vm_map_check(map);
  });

  it('keeps equal gaps in filing order and best-fits the most recently filed one', () => {
    const map = vm_map_create({ max: 0x7000 });
    const a = entry(0x1000, 0x2000);
    const b = entry(0x3000, 0x4000);
    const c = entry(0x5000, 0x6000);
    vm_map_entry_link(map, map.hdr, a);
    vm_map_entry_link(map, a, b);
    vm_map_entry_link(map, b, c);
    // linking b re-filed a (gap 0x1000), linking c re-filed b: order a, b, c
    expect(classes(map)).toEqual([[0x1000, [0x1000, 0x3000, 0x5000]]]);
    expect(map.gaps.best_fit(0x1000)).toBe(c);
    // re-filing moves an entry to the tail of its size
    map.gaps.update(a);
    expect(classes(map)).toEqual([[0x1000, [0x3000, 0x5000, 0x1000]]]);
    expect(map.gaps.best_fit(0x1000)).toBe(a);
    expect(map.gaps.best_fit(0x800)).toBe(a);
    expect(map.gaps.best_fit(0x1001)).toBeNull();
  });

  it('best fit is the smallest gap at least the size asked for', () => {
    const map = vm_map_create({ max: 0x20000 });
    const a = entry(0x0000, 0x1000); // gap 0x3000
    const b = entry(0x4000, 0x5000); // gap 0x1000
    const c = entry(0x6000, 0x7000); // gap 0x2000
    const d = entry(0x9000, 0xa000); // gap 0x16000
    vm_map_entry_link(map, map.hdr, a);
    vm_map_entry_link(map, a, b);
    vm_map_entry_link(map, b, c);
    vm_map_entry_link(map, c, d);
    expect(map.gaps.best_fit(0x1000)).toBe(b);
    expect(map.gaps.best_fit(0x1800)).toBe(c);
    expect(map.gaps.best_fit(0x2000)).toBe(c);
    expect(map.gaps.best_fit(0x2001)).toBe(a);
    expect(map.gaps.best_fit(0x4000)).toBe(d);
    expect(map.gaps.best_fit(0x17000)).toBeNull();
  });

  it('unlinking an entry re-files its predecessor with the merged gap', () => {
    const map = vm_map_create({ max: 0x10000 });
    const a = entry(0x1000, 0x2000);
    const b = entry(0x3000, 0x4000);
    const c = entry(0x8000, 0x9000);
    vm_map_entry_link(map, map.hdr, a);
    vm_map_entry_link(map, a, b);
    vm_map_entry_link(map, b, c);
    vm_map_entry_unlink(map, b);
    map.size -= 0x1000;
    expect(classes(map)).toEqual([
      [0x6000, [0x1000]],
      [0x7000, [0x8000]],
    ]);
    vm_map_check(map);
  });

  it('clip_end hands the gap to the back piece, filed at the tail of its size', () => {
    const map = vm_map_create({ max: 0x8000 });
    const a = entry(0x0000, 0x1000); // gap 0x1000
    const b = entry(0x2000, 0x4000); // gap 0x1000
    const c = entry(0x5000, 0x7000); // gap 0x1000
    vm_map_entry_link(map, map.hdr, a);
    vm_map_entry_link(map, a, b);
    vm_map_entry_link(map, b, c);
    expect(classes(map)).toEqual([[0x1000, [0x0000, 0x2000, 0x5000]]]);
    vm_map_clip_end(map, b, 0x3000);
    expect(classes(map)).toEqual([[0x1000, [0x0000, 0x5000, 0x3000]]]);
    expect(map.gaps.best_fit(0x1000)!.vme_start).toBe(0x3000);
    vm_map_check(map);
  });
});
