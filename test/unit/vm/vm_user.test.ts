import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_ADDRESS,
  KERN_INVALID_ARGUMENT,
  KERN_NO_SPACE,
  KERN_PROTECTION_FAILURE,
  KERN_SUCCESS,
} from '../../../src/mach/kern_return.js';
import type { VmMap } from '../../../src/vm/map.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import { vm_object_allocate, vm_object_allocate_external } from '../../../src/vm/object.js';
import {
  VM_INHERIT_NONE,
  VM_INHERIT_SHARE,
  VM_PROT_ALL,
  VM_PROT_DEFAULT,
  VM_PROT_NOTIFY,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from '../../../src/vm/vm_prot.js';
import { vm_allocate, vm_deallocate, vm_inherit, vm_map, vm_protect, vm_region } from '../../../src/vm/vm_user.js';

const P = 0x1000;

function ranges(map: VmMap): [number, number][] {
  return map.entries().map((e) => [e.vme_start, e.vme_end]);
}

describe('vm_allocate', () => {
  it('null map, size 0, anywhere, fixed', () => {
    const map = vm_map_create();
    expect(vm_allocate(null, 0, P, true).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_allocate(map, 0x5000, 0, false)).toEqual({ kr: KERN_SUCCESS, address: 0 });
    expect(map.nentries).toBe(0);
    expect(vm_allocate(map, 0x12345000, P, true)).toEqual({ kr: KERN_SUCCESS, address: 0 });
    expect(vm_allocate(map, 0x20000, P, false)).toEqual({ kr: KERN_SUCCESS, address: 0x20000 });
  });

  it('fixed: the address is truncated and the size rounded separately', () => {
    const map = vm_map_create();
    expect(vm_allocate(map, 0x10800, 0x1000, false)).toEqual({ kr: KERN_SUCCESS, address: 0x10000 });
    expect(ranges(map)).toEqual([[0x10000, 0x11000]]); // bytes 0x11000..0x117ff stay unmapped
    expect(vm_allocate(map, 0x20001, 1, false).address).toBe(0x20000);
  });

  it('errors: a size rounding to 0, overlap, outside the map, wrap-around', () => {
    const map = vm_map_create();
    expect(vm_allocate(map, 0, 0xfffff001, true).kr).toBe(KERN_INVALID_ARGUMENT);
    vm_allocate(map, 0x10000, 2 * P, false);
    expect(vm_allocate(map, 0x11000, P, false).kr).toBe(KERN_NO_SPACE);
    expect(vm_allocate(map, 0xf000, 2 * P, false).kr).toBe(KERN_NO_SPACE);
    expect(vm_allocate(map, 0xbffff000, 2 * P, false).kr).toBe(KERN_INVALID_ADDRESS);
    expect(vm_allocate(map, 0xfffff000, 2 * P, false).kr).toBe(KERN_INVALID_ADDRESS);
    expect(vm_allocate(map, 0, 0xc0000000, true).kr).toBe(KERN_NO_SPACE);
  });

  it('rejects values that are not vm_offset_t', () => {
    const map = vm_map_create();
    expect(() => vm_allocate(map, -1, P, false)).toThrow(RangeError);
    expect(() => vm_allocate(map, 0, 2 ** 32, false)).toThrow(RangeError);
    expect(() => vm_allocate(map, 0.5, P, false)).toThrow(RangeError);
    const wide = vm_map_create({ word_bits: 64, max: 0x800000000000 });
    expect(vm_allocate(wide, 0x7fff00000000, P, false).kr).toBe(KERN_SUCCESS);
  });
});

describe('vm_deallocate', () => {
  it('null map, size 0 (no clip), holes, clamping', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 4 * P, false);
    expect(vm_deallocate(null, 0, P)).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_deallocate(map, 0x11000, 0)).toBe(KERN_SUCCESS);
    expect(map.nentries).toBe(1);
    expect(vm_deallocate(map, 0x11800, 0x100)).toBe(KERN_SUCCESS); // the whole page goes
    expect(ranges(map)).toEqual([
      [0x10000, 0x11000],
      [0x12000, 0x14000],
    ]);
    // round_page(0xffffffff) wraps to 0 in 32 bits: an empty range, nothing removed
    expect(vm_deallocate(map, 0, 0xffffffff)).toBe(KERN_SUCCESS);
    expect(map.nentries).toBe(2);
    expect(vm_deallocate(map, 0, 0xfffff000)).toBe(KERN_SUCCESS); // clamped to the map
    expect(map.nentries).toBe(0);
  });

  it('a range that wraps becomes empty at its end, which still clips there', () => {
    const map = vm_map_create();
    vm_allocate(map, 0xf000, 3 * P, false);
    // 0x11000 + 0xfffff000 wraps to 0x10000: the range is [0x10000, 0x10000)
    expect(vm_deallocate(map, 0x11000, 0xfffff000)).toBe(KERN_SUCCESS);
    expect(ranges(map)).toEqual([
      [0xf000, 0x10000],
      [0x10000, 0x12000],
    ]);
    vm_map_check(map);
  });
});

describe('vm_protect', () => {
  it('checks the bits, accepts NOTIFY, fails above max', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, P, false);
    expect(vm_protect(null, 0x10000, P, false, VM_PROT_READ)).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_protect(map, 0x10000, P, false, 0x20)).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_protect(map, 0x10000, P, false, VM_PROT_READ | VM_PROT_NOTIFY)).toBe(KERN_SUCCESS);
    expect(vm_protect(map, 0x10000, P, true, VM_PROT_READ)).toBe(KERN_SUCCESS);
    expect(vm_protect(map, 0x10000, P, false, VM_PROT_WRITE)).toBe(KERN_PROTECTION_FAILURE);
    expect(vm_protect(map, 0x10000, P, true, VM_PROT_ALL)).toBe(KERN_PROTECTION_FAILURE);
  });

  it('size 0 at an unaligned address changes the whole page', () => {
    const map = vm_map_create({ level: 'L0' });
    vm_allocate(map, 0x10000, 3 * P, false);
    expect(vm_protect(map, 0x11800, 0, false, VM_PROT_READ)).toBe(KERN_SUCCESS);
    expect(map.entries().map((e) => [e.vme_start, e.protection])).toEqual([
      [0x10000, VM_PROT_DEFAULT],
      [0x11000, VM_PROT_READ],
      [0x12000, VM_PROT_DEFAULT],
    ]);
  });
});

describe('vm_inherit', () => {
  it('accepts SHARE, COPY, NONE only', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, P, false);
    expect(vm_inherit(null, 0x10000, P, VM_INHERIT_NONE)).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_inherit(map, 0x10000, P, 3)).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_inherit(map, 0x10000, P, VM_INHERIT_SHARE)).toBe(KERN_SUCCESS);
    expect(map.entries()[0]!.inheritance).toBe(VM_INHERIT_SHARE);
  });
});

describe('vm_map', () => {
  it('argument checks', () => {
    const map = vm_map_create();
    expect(vm_map(null, 0, P, 0, true, null, 0, false, 3, 7, 1).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map(map, 0, P, 0, true, null, 0, false, 8, 7, 1).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map(map, 0, P, 0, true, null, 0, false, 3, 0x10, 1).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map(map, 0, P, 0, true, null, 0, false, 3, 7, 5).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map(map, 0, 0, 0, true, null, 0, false, 3, 7, 1).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(vm_map(map, 0x11000, P, 0xffff, false, null, 0, false, 3, 7, 1).kr).toBe(KERN_NO_SPACE);
    expect(map.nentries).toBe(0);
  });

  it('current need not be within max; a NULL object forces offset 0 and no copy', () => {
    const map = vm_map_create();
    expect(vm_map(map, 0x10000, P, 0, false, null, 0x5000, true, VM_PROT_ALL, VM_PROT_READ, 1).kr).toBe(KERN_SUCCESS);
    const e = map.entries()[0]!;
    expect([e.protection, e.max_protection, e.offset, e.needs_copy, e.object]).toEqual([VM_PROT_ALL, VM_PROT_READ, 0, false, null]);
  });

  it('takes a reference for the mapping, gives it back on failure; the offset need not be aligned', () => {
    const map = vm_map_create();
    const f = vm_object_allocate_external(8 * P, 'delay');
    expect(vm_map(map, 0x10000, P, 0, false, f, 0x123, false, 3, 7, 1).kr).toBe(KERN_SUCCESS);
    expect(map.entries()[0]!.offset).toBe(0x123);
    expect(f.ref_count).toBe(2);
    expect(vm_map(map, 0x10000, P, 0, false, f, 0, false, 3, 7, 1).kr).toBe(KERN_NO_SPACE);
    expect(f.ref_count).toBe(2);
  });

  it('copy maps a delayed copy of a temporary object with needs_copy, at the same offset', () => {
    const map = vm_map_create();
    const x = vm_object_allocate(4 * P);
    expect(vm_map(map, 0x10000, P, 0, false, x, 2 * P, true, 3, 7, 1).kr).toBe(KERN_SUCCESS);
    const e = map.entries()[0]!;
    expect(e.object).not.toBe(x);
    expect(e.object!.shadow).toBe(x);
    expect([e.offset, e.needs_copy]).toEqual([2 * P, true]);
    expect(x.ref_count).toBe(2); // ours and the copy object's
    expect(vm_region(map, 0x10000).region!.object_name).toBe(x.pager_name);
  });

  it('copy of an object with strategy none maps a slow copy at offset 0', () => {
    const map = vm_map_create();
    const f = vm_object_allocate_external(4 * P, 'none');
    expect(vm_map(map, 0x10000, 2 * P, 0, false, f, 2 * P, true, 3, 7, 1).kr).toBe(KERN_SUCCESS);
    const e = map.entries()[0]!;
    expect(e.object!.shadow).toBeNull();
    expect([e.offset, e.needs_copy, e.object!.resident_page_count, f.ref_count]).toEqual([0, false, 2, 1]);
  });
});
