import { describe, expect, it, vi } from 'vitest';
import {
  KERN_INVALID_ADDRESS,
  KERN_INVALID_ARGUMENT,
  KERN_NO_SPACE,
  KERN_PROTECTION_FAILURE,
  KERN_SUCCESS,
  KERN_WRITE_PROTECTION_FAILURE,
} from '../../../src/mach/kern_return.js';
import { vm_map_find_entry_anywhere } from '../../../src/vm/anywhere.js';
import { vm_map_coalesce_entry } from '../../../src/vm/coalesce.js';
import { vm_map_delete } from '../../../src/vm/delete.js';
import { vm_map_enter } from '../../../src/vm/enter.js';
import { vm_map_inherit } from '../../../src/vm/inherit.js';
import type { VmLevel } from '../../../src/vm/level.js';
import { VM_LEVELS } from '../../../src/vm/level.js';
import { vm_map_lookup } from '../../../src/vm/lookup.js';
import type { VmMap } from '../../../src/vm/map.js';
import {
  vm_map_clip_end,
  vm_map_clip_start,
  vm_map_create,
  vm_map_entry_contains,
  vm_map_lookup_entry,
} from '../../../src/vm/map.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import type { VmObject } from '../../../src/vm/object.js';
import { vm_object_allocate, vm_object_allocate_external, vm_object_reference, vm_page_alloc } from '../../../src/vm/object.js';
import { vm_map_protect } from '../../../src/vm/protect.js';
import { vm_region } from '../../../src/vm/region.js';
import {
  VM_INHERIT_COPY,
  VM_INHERIT_NONE,
  VM_INHERIT_SHARE,
  VM_PROT_ALL,
  VM_PROT_DEFAULT,
  VM_PROT_NONE,
  VM_PROT_NOTIFY,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from '../../../src/vm/vm_prot.js';
import { vm_allocate, vm_deallocate, vm_protect } from '../../../src/vm/vm_user.js';

const P = 0x1000;

/* vm_map_enter with vm_allocate's attributes. */
function enter(map: VmMap, addr: number, size: number, anywhere = false, object: VmObject | null = null, offset = 0) {
  return vm_map_enter(map, addr, size, 0, anywhere, object, offset, false, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_COPY);
}

function ranges(map: VmMap): [number, number][] {
  return map.entries().map((e) => [e.vme_start, e.vme_end]);
}

describe('VmMap structure', () => {
  it('a new map is empty with first_free at the header and the header holding min/max', () => {
    const map = vm_map_create({ min: 0x1234, max: 0x100fff });
    expect(map.min_offset).toBe(0x2000);
    expect(map.max_offset).toBe(0x100000);
    expect(map.first_free).toBe(map.hdr);
    expect(map.hdr.vme_next).toBe(map.hdr);
    expect(map.level).toBe('L2');
    expect(vm_map_create().max_offset).toBe(0xc0000000);
    expect(() => vm_map_create({ min: 0x5000, max: 0x1000 })).toThrow(RangeError);
  });

  it('vm_map_lookup_entry returns the containing entry, else the one before, else the header', () => {
    const map = vm_map_create();
    enter(map, 0x10000, P);
    enter(map, 0x20000, 2 * P);
    const [a, b] = map.entries();
    expect(vm_map_lookup_entry(map, 0x5000)).toBe(map.hdr);
    expect(vm_map_lookup_entry(map, 0x10fff)).toBe(a);
    expect(vm_map_entry_contains(map, a!, 0x10fff)).toBe(true);
    expect(vm_map_lookup_entry(map, 0x11000)).toBe(a);
    expect(vm_map_entry_contains(map, a!, 0x11000)).toBe(false);
    expect(vm_map_lookup_entry(map, 0x21000)).toBe(b);
    expect(vm_map_lookup_entry(map, 0xbfff0000)).toBe(b);
  });

  it('clip_start keeps the back in the original record; clip_end keeps the front', () => {
    const map = vm_map_create();
    const obj = vm_object_allocate(4 * P);
    enter(map, 0x10000, 4 * P, false, obj, 0);
    const e = map.entries()[0]!;
    vm_map_clip_start(map, e, 0x11000);
    expect([e.vme_start, e.vme_end, e.offset]).toEqual([0x11000, 0x14000, P]);
    expect(e.vme_prev.vme_start).toBe(0x10000);
    vm_map_clip_end(map, e, 0x12000);
    expect([e.vme_start, e.vme_end, e.offset]).toEqual([0x11000, 0x12000, P]);
    expect([e.vme_next.vme_start, e.vme_next.offset]).toEqual([0x12000, 2 * P]);
    expect(obj.ref_count).toBe(3);
    // no-op clips at or beyond the edges
    vm_map_clip_start(map, e, 0x11000);
    vm_map_clip_end(map, e, 0x13000);
    expect(map.nentries).toBe(3);
    vm_map_check(map);
  });

  it('NULL-object pieces get offsets too', () => {
    const map = vm_map_create();
    enter(map, 0x10000, 3 * P);
    const e = map.entries()[0]!;
    vm_map_clip_end(map, e, 0x11000);
    vm_map_clip_end(map, e.vme_next, 0x12000);
    expect(map.entries().map((x) => x.offset)).toEqual([0, P, 2 * P]);
  });
});

describe('vm_map_find_entry_anywhere', () => {
  it('puts the first mapping at min_offset rounded up to the mask', () => {
    const map = vm_map_create({ min: 0x3000 });
    expect(vm_map_find_entry_anywhere(map, P, 0xffff)).toEqual({ start: 0x10000, entry: map.hdr });
    expect(vm_map_find_entry_anywhere(map, 0xc0000000, 0)).toBeNull();
  });

  it('uses first_free when the range fits in its gap, else the best fit', () => {
    const map = vm_map_create();
    enter(map, 0, P); // first_free -> this entry (nothing between min_offset and it)
    expect(map.first_free.vme_start).toBe(0);
    const found = vm_map_find_entry_anywhere(map, P, 0)!;
    expect(found.start).toBe(P);
    expect(found.entry).toBe(map.first_free);
  });

  it('never considers the space before the first entry once the map has one', () => {
    const map = vm_map_create({ max: 0x10000 });
    enter(map, 0x8000, P);
    expect(map.first_free).toBe(map.hdr); // a gap separates min_offset from it
    expect(vm_map_find_entry_anywhere(map, P, 0)!.start).toBe(0x9000);
    expect(vm_map_find_entry_anywhere(map, 0x8000, 0)).toBeNull();
  });

  it('aligns to the mask and needs a gap of size + mask', () => {
    const map = vm_map_create({ max: 0x100000 });
    enter(map, 0, P);
    enter(map, 0x3000, P); // gap after the first: 0x2000
    vm_map_delete(map, 0x3000, 0x4000);
    enter(map, 0x3000, P);
    // first_free is the first entry; a 0x10000-aligned page does not fit in its gap
    const found = vm_map_find_entry_anywhere(map, P, 0xffff)!;
    expect(found.start).toBe(0x10000);
    expect(found.entry.vme_start).toBe(0x3000);
  });

  it('a mask with high bits bounds the address; an inconsistent one is refused', () => {
    const map = vm_map_create();
    enter(map, 0, 0x10000000 - P);
    // 0xF0000FFF: 4K aligned and below 0x10000000
    expect(vm_map_find_entry_anywhere(map, P, 0xf0000fff)!.start).toBe(0x0ffff000);
    expect(vm_map_find_entry_anywhere(map, 2 * P, 0xf0000fff)).toBeNull();
    expect(vm_map_find_entry_anywhere(map, P, 0x101)).toBeNull();
  });
});

describe('vm_map_enter', () => {
  it('E0: size 0, mask violation, range, overlap', () => {
    const map = vm_map_create({ min: 0x1000, max: 0x100000 });
    expect(enter(map, 0x10000, 0).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map_enter(map, 0x11000, P, 0xffff, false, null, 0, false, 3, 7, 1).kr).toBe(KERN_NO_SPACE);
    expect(enter(map, 0, P).kr).toBe(KERN_INVALID_ADDRESS);
    expect(enter(map, 0xff000, 2 * P).kr).toBe(KERN_INVALID_ADDRESS);
    expect(enter(map, 0xfffff000, 2 * P).kr).toBe(KERN_INVALID_ADDRESS); // wraps in 32 bits
    expect(enter(map, 0x10000, 4 * P).kr).toBe(KERN_SUCCESS);
    expect(enter(map, 0x12000, P).kr).toBe(KERN_NO_SPACE);
    expect(enter(map, 0xe000, 3 * P).kr).toBe(KERN_NO_SPACE);
    const full = vm_map_create({ max: 0x2000 });
    enter(full, 0, 0x2000);
    expect(enter(full, 0, P, true).kr).toBe(KERN_NO_SPACE);
  });

  it('E1 keeps the earlier record; E2 keeps the later one and re-files prev', () => {
    const map = vm_map_create({ level: 'L1' });
    enter(map, 0x10000, P);
    const a = map.entries()[0]!;
    enter(map, 0x11000, P);
    expect(map.entries()).toEqual([a]);
    expect([a.vme_start, a.vme_end]).toEqual([0x10000, 0x12000]);
    enter(map, 0x20000, P);
    const b = map.entries()[1]!;
    enter(map, 0x1f000, P);
    expect(map.entries()).toEqual([a, b]);
    expect(b.vme_start).toBe(0x1f000);
    expect(a.gap_size).toBe(0x1f000 - 0x12000);
    vm_map_check(map);
  });

  it('E3 moves first_free to the new entry only when nothing separates them', () => {
    const map = vm_map_create({ level: 'L0' });
    enter(map, 0x10000, P);
    expect(map.first_free).toBe(map.hdr);
    enter(map, 0, P);
    expect(map.first_free.vme_start).toBe(0);
    const ff = map.first_free;
    const obj = vm_object_allocate(P);
    enter(map, P, P, false, obj); // L0: an object never extends; a new entry right after first_free
    expect(map.first_free.vme_start).toBe(P);
    expect(map.first_free).not.toBe(ff);
  });

  it('neither E1 nor E2 compares needs_copy; the survivor keeps its own', () => {
    const map = vm_map_create({ level: 'L2' });
    vm_map_enter(map, 0x10000, P, 0, false, null, 0, true, 3, 7, 1);
    enter(map, 0x11000, P);
    expect(map.entries().map((e) => [e.vme_end, e.needs_copy])).toEqual([[0x12000, true]]);
  });

  it('L2 chains vm_map_coalesce_entry after E1: a hole fill joins three entries', () => {
    const map = vm_map_create({ level: 'L2' });
    enter(map, 0x10000, P);
    enter(map, 0x12000, P);
    enter(map, 0x11000, P);
    expect(ranges(map)).toEqual([[0x10000, 0x13000]]);
    expect(map.size).toBe(3 * P);
    vm_map_check(map);
  });
});

describe('vm_map_coalesce_entry', () => {
  it('moves first_free to the survivor and the freed entry gap to it', () => {
    const map = vm_map_create({ level: 'L2', max: 0x20000 });
    enter(map, 0, P);
    vm_map_enter(map, P, P, 0, false, null, 0, false, VM_PROT_READ, VM_PROT_ALL, VM_INHERIT_COPY);
    const [a, b] = map.entries();
    expect(map.first_free).toBe(b);
    b!.protection = VM_PROT_DEFAULT;
    expect(vm_map_coalesce_entry(map, b!)).toBe(true);
    expect(map.first_free).toBe(a);
    expect(a!.gap_size).toBe(0x20000 - 0x2000);
    expect(vm_map_coalesce_entry(map, map.hdr)).toBe(false);
    expect(vm_map_coalesce_entry(map, a!)).toBe(false);
    vm_map_check(map);
  });

  it('is absent at L0 and L1', () => {
    for (const level of ['L0', 'L1'] as const) {
      const map = vm_map_create({ level });
      enter(map, 0, 2 * P);
      vm_map_clip_end(map, map.entries()[0]!, P);
      expect(vm_map_coalesce_entry(map, map.entries()[1]!)).toBe(false);
      expect(map.nentries).toBe(2);
    }
  });

  it('refuses shared entries and different wirings; accepts equal non-zero wirings', () => {
    const map = vm_map_create({ level: 'L2' });
    enter(map, 0, 2 * P);
    vm_map_clip_end(map, map.entries()[0]!, P);
    const [a, b] = map.entries();
    a!.is_shared = true;
    expect(vm_map_coalesce_entry(map, b!)).toBe(false);
    a!.is_shared = false;
    a!.wired_count = 1;
    expect(vm_map_coalesce_entry(map, b!)).toBe(false);
    b!.wired_count = 1;
    expect(vm_map_coalesce_entry(map, b!)).toBe(true);
  });
});

describe('vm_map_protect and vm_map_inherit', () => {
  it('PROTECTION_FAILURE leaves the start clip at every level', () => {
    for (const level of VM_LEVELS) {
      const map = vm_map_create({ level });
      vm_map_enter(map, 0x10000, 4 * P, 0, false, null, 0, false, VM_PROT_READ, VM_PROT_READ, VM_INHERIT_COPY);
      expect(vm_map_protect(map, 0x11000, 0x12000, VM_PROT_WRITE, false)).toBe(KERN_PROTECTION_FAILURE);
      expect(ranges(map)).toEqual([
        [0x10000, 0x11000],
        [0x11000, 0x14000],
      ]);
    }
  });

  it('set_max lowers max and masks the current protection; NOTIFY passes the check', () => {
    const map = vm_map_create({ level: 'L0' });
    enter(map, 0x10000, P);
    expect(vm_map_protect(map, 0x10000, 0x11000, VM_PROT_READ, true)).toBe(KERN_SUCCESS);
    const e = map.entries()[0]!;
    expect([e.protection, e.max_protection]).toEqual([VM_PROT_READ, VM_PROT_READ]);
    expect(vm_map_protect(map, 0x10000, 0x11000, VM_PROT_ALL, true)).toBe(KERN_PROTECTION_FAILURE);
    expect(vm_map_protect(map, 0x10000, 0x11000, VM_PROT_READ | VM_PROT_NOTIFY, false)).toBe(KERN_SUCCESS);
    expect(e.protection).toBe(VM_PROT_READ | VM_PROT_NOTIFY);
  });

  it('L2 merges an updated entry into a predecessor outside the range, and the entry after the range', () => {
    const map = vm_map_create({ level: 'L2' });
    enter(map, 0x10000, P);
    vm_map_enter(map, 0x11000, P, 0, false, null, 0, false, VM_PROT_READ, VM_PROT_ALL, VM_INHERIT_COPY);
    enter(map, 0x12000, P); // E1 refused (protections differ), new entry
    expect(map.nentries).toBe(3);
    vm_map_protect(map, 0x11000, 0x12000, VM_PROT_DEFAULT, false);
    expect(ranges(map)).toEqual([[0x10000, 0x13000]]);
  });

  it('vm_map_inherit clips and, at L2, glues back', () => {
    const results: Record<VmLevel, number> = { L0: 0, L1: 0, L2: 0 };
    for (const level of VM_LEVELS) {
      const map = vm_map_create({ level });
      enter(map, 0x10000, 4 * P);
      vm_map_inherit(map, 0x11000, 0x12000, VM_INHERIT_SHARE);
      vm_map_inherit(map, 0x11000, 0x12000, VM_INHERIT_COPY);
      results[level] = map.nentries;
      vm_map_inherit(map, 0x10000, 0x14000, VM_INHERIT_NONE);
      expect(map.entries().every((e) => e.inheritance === VM_INHERIT_NONE)).toBe(true);
      vm_map_check(map);
    }
    expect(results).toEqual({ L0: 3, L1: 3, L2: 1 });
  });
});

describe('vm_map_delete', () => {
  it('moves first_free back to the entry before the hole', () => {
    const map = vm_map_create();
    for (let i = 0; i < 4; i++) vm_map_enter(map, i * P, P, 0, false, null, 0, false, i % 2 ? 1 : 3, 7, 1);
    expect(map.first_free.vme_start).toBe(3 * P);
    vm_map_delete(map, P, 2 * P);
    expect(map.first_free.vme_start).toBe(0);
    vm_map_delete(map, 0, P);
    expect(map.first_free).toBe(map.hdr);
    vm_map_check(map);
  });

  it('an empty range still clips at its start', () => {
    const map = vm_map_create();
    enter(map, 0x10000, 2 * P);
    vm_map_delete(map, 0x11000, 0x11000);
    expect(ranges(map)).toEqual([
      [0x10000, 0x11000],
      [0x11000, 0x12000],
    ]);
  });

  it('drops the entry reference; a clipped piece holds its own', () => {
    const map = vm_map_create();
    const obj = vm_object_allocate(4 * P);
    enter(map, 0x10000, 4 * P, false, obj);
    vm_map_delete(map, 0x13000, 0x14000); // clip (+1), delete (-1)
    expect(obj.ref_count).toBe(1);
    vm_map_delete(map, 0x11000, 0x12000); // two clips, one deletion
    expect(obj.ref_count).toBe(2);
    vm_map_delete(map, 0x10000, 0x14000);
    expect(obj.alive).toBe(false);
  });

  it('eager release: at L1/L2 the last holder discards its pages before the object dies', () => {
    // Unobservable in the end state (termination frees the pages anyway, spec §4), so the
    // discard is seen through the page-by-page removals it makes.
    const removals: Record<VmLevel, number> = { L0: 0, L1: 0, L2: 0 };
    for (const level of VM_LEVELS) {
      const map = vm_map_create({ level });
      const obj = vm_object_allocate(2 * P);
      vm_page_alloc(obj, 0);
      vm_page_alloc(obj, P);
      enter(map, 0x10000, 2 * P, false, obj);
      const spy = vi.spyOn(obj.memq, 'delete');
      vm_map_delete(map, 0x10000, 0x12000);
      removals[level] = spy.mock.calls.length;
      expect(obj.alive).toBe(false);
      expect(obj.resident_page_count).toBe(0);
    }
    expect(removals).toEqual({ L0: 0, L1: 2, L2: 2 });
  });

  it('shared entries keep their pages', () => {
    const map = vm_map_create({ level: 'L2' });
    const obj = vm_object_allocate(P);
    vm_page_alloc(obj, 0);
    enter(map, 0x10000, P, false, obj);
    map.entries()[0]!.is_shared = true;
    obj.ref_count++; // the other task's entry
    vm_map_delete(map, 0x10000, 0x11000);
    expect(obj.resident_page_count).toBe(1);
  });
});

describe('vm_region', () => {
  it('reports the containing or next entry, its start, offset and bottom object name', () => {
    const map = vm_map_create();
    const bottom = vm_object_allocate_external(4 * P, 'delay');
    vm_object_reference(bottom);
    vm_map_enter(map, 0x20000, P, 0, false, bottom, 2 * P, true, VM_PROT_READ, VM_PROT_ALL, VM_INHERIT_SHARE);
    const r = vm_region(map, 0x10000);
    expect(r.kr).toBe(KERN_SUCCESS);
    expect(r.region).toEqual({
      address: 0x20000,
      size: P,
      protection: VM_PROT_READ,
      max_protection: VM_PROT_ALL,
      inheritance: VM_INHERIT_SHARE,
      is_shared: false,
      object_name: bottom.pager_name,
      offset: 2 * P,
    });
    expect(vm_region(map, 0x20fff).region!.address).toBe(0x20000);
    expect(vm_region(map, 0x21000)).toEqual({ kr: KERN_NO_SPACE, region: null });
    expect(vm_region(null, 0).kr).toBe(KERN_INVALID_ARGUMENT);
    // a write fault on the needs_copy entry gives it a shadow; the name stays the bottom's
    vm_map_protect(map, 0x20000, 0x21000, VM_PROT_DEFAULT, false);
    vm_map_lookup(map, 0x20000, VM_PROT_WRITE);
    expect(map.entries()[0]!.object!.shadow).toBe(bottom);
    expect(vm_region(map, 0x20000).region!.object_name).toBe(bottom.pager_name);
  });
});

describe('vm_map_lookup', () => {
  it('materialises a NULL object the size of the entry at offset 0', () => {
    const map = vm_map_create();
    enter(map, 0x10000, 3 * P);
    vm_map_clip_start(map, map.entries()[0]!, 0x11000);
    const e = map.entries()[1]!;
    expect(e.offset).toBe(P);
    const r = vm_map_lookup(map, 0x11234, VM_PROT_WRITE);
    expect(r.kr).toBe(KERN_SUCCESS);
    expect(e.object).toBe(r.object);
    expect([e.offset, r.offset, r.object!.size]).toEqual([0, 0x234, 2 * P]);
    expect(map.entries()[0]!.object).toBeNull();
  });

  it('a write fault on needs_copy makes a shadow; a read fault only drops WRITE', () => {
    const map = vm_map_create();
    const obj = vm_object_allocate(4 * P);
    vm_map_enter(map, 0x10000, 2 * P, 0, false, obj, 2 * P, true, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_COPY);
    const read = vm_map_lookup(map, 0x10000, VM_PROT_READ);
    expect([read.object, read.offset, read.prot]).toEqual([obj, 2 * P, VM_PROT_READ]);
    const write = vm_map_lookup(map, 0x11000, VM_PROT_WRITE);
    const e = map.entries()[0]!;
    expect(e.needs_copy).toBe(false);
    expect(e.object).not.toBe(obj);
    expect(e.object!.shadow).toBe(obj);
    expect(e.object!.shadow_offset).toBe(2 * P);
    expect([write.offset, e.offset, obj.ref_count]).toEqual([P, 0, 1]);
  });

  it('fails outside entries and beyond the protection', () => {
    const map = vm_map_create();
    vm_map_enter(map, 0x10000, P, 0, false, null, 0, false, VM_PROT_READ, VM_PROT_ALL, VM_INHERIT_COPY);
    expect(vm_map_lookup(map, 0x20000, VM_PROT_READ).kr).toBe(KERN_INVALID_ADDRESS);
    expect(vm_map_lookup(map, 0x10000, VM_PROT_WRITE).kr).toBe(KERN_PROTECTION_FAILURE);
    vm_map_protect(map, 0x10000, 0x11000, VM_PROT_READ | VM_PROT_NOTIFY, false);
    expect(vm_map_lookup(map, 0x10000, VM_PROT_WRITE).kr).toBe(KERN_WRITE_PROTECTION_FAILURE);
  });
});

/* A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('random operation sequences', () => {
  it('keep list, tree, gap index, size and first_free consistent at every level', () => {
    for (const level of VM_LEVELS) {
      const rand = prng(level.charCodeAt(1) * 1000 + 1);
      const map = vm_map_create({ level, max: 0x400000 });
      const page = (): number => Math.floor(rand() * 0x400) * P;
      for (let i = 0; i < 3000; i++) {
        const r = rand();
        const n = 1 + Math.floor(rand() * 8);
        if (r < 0.3) vm_allocate(map, page(), n * P, rand() < 0.5);
        else if (r < 0.5) vm_deallocate(map, page(), n * P);
        else if (r < 0.8) vm_protect(map, page(), rand() < 0.1 ? 0 : n * P, false, rand() < 0.5 ? VM_PROT_NONE : VM_PROT_DEFAULT);
        else if (r < 0.9) vm_map_inherit(map, page(), page() + n * P, rand() < 0.5 ? VM_INHERIT_NONE : VM_INHERIT_COPY);
        else if (map.nentries > 0) vm_map_lookup(map, page(), VM_PROT_READ);
        vm_map_check(map);
        // every entry holds one reference, and nothing else holds any here (spec §1.6)
        const holders = new Map<VmObject, number>();
        for (const e of map.entries()) if (e.object !== null) holders.set(e.object, (holders.get(e.object) ?? 0) + 1);
        for (const [object, n] of holders) expect(object.ref_count).toBe(n);
      }
    }
  });
});
