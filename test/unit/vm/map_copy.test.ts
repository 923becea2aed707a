/*
 * vm/map_copy.ts and vm/fork.ts on maps alone: vm_map_copyin's cases and errors,
 * vm_map_copyout in the three formats, discard, overwrite, and vm_map_fork.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, KERN_NO_SPACE, KERN_PROTECTION_FAILURE, KERN_SUCCESS,
} from '../../../src/mach/kern_return.js';
import { vm_fault } from '../../../src/vm/fault.js';
import { vm_map_fork } from '../../../src/vm/fork.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import { vm_map_create, type VmMap } from '../../../src/vm/map.js';
import {
  vm_map_copy_discard, vm_map_copy_entry_list_from_bytes, vm_map_copy_object_from_bytes, vm_map_copy_overwrite,
  vm_map_copy_page_list_from_bytes, vm_map_copy_read_now, vm_map_copyin, vm_map_copyout, vm_object_copy_temporary,
} from '../../../src/vm/map_copy.js';
import { vm_object_allocate, vm_object_allocate_external, vm_page_alloc } from '../../../src/vm/object.js';
import { VmSystem } from '../../../src/vm/vm_system.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_READ, VM_PROT_WRITE } from '../../../src/vm/vm_prot.js';
import { vm_allocate, vm_inherit, vm_map, vm_protect } from '../../../src/vm/vm_user.js';

const P = PAGE_SIZE;
const RW = VM_PROT_READ | VM_PROT_WRITE;

function ranges(map: VmMap): number[][] {
  vm_map_check(map);
  return map.entries().map((e) => [e.vme_start, e.vme_end]);
}

function touched(map: VmMap, at: number, fill: number): void {
  const r = vm_fault(map, at, RW);
  r.page!.data.fill(fill);
}

describe('vm_map_copyin', () => {
  it('length 0 is a null copy; a wrapping range is KERN_INVALID_ADDRESS', () => {
    const map = vm_map_create();
    expect(vm_map_copyin(map, 0x1000, 0, false)).toEqual({ kr: KERN_SUCCESS, copy: null });
    expect(vm_map_copyin(map, 0xfffff000, 0x2000, false).kr).toBe(KERN_INVALID_ADDRESS);
  });

  it('a start outside every entry clips nothing; a later hole or unreadable entry keeps the clip at the start', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 2 * P, false);
    expect(vm_map_copyin(map, 0x20000, P, false).kr).toBe(KERN_INVALID_ADDRESS);
    expect(map.nentries).toBe(1);
    expect(vm_map_copyin(map, 0x11000, 2 * P, false).kr).toBe(KERN_INVALID_ADDRESS);
    expect(ranges(map)).toEqual([[0x10000, 0x11000], [0x11000, 0x12000]]);
    vm_allocate(map, 0x12000, P, false);
    vm_protect(map, 0x12000, P, false, 0);
    expect(vm_map_copyin(map, 0x10000, 3 * P, false).kr).toBe(KERN_PROTECTION_FAILURE);
  });

  it('copy-on-write: a temporary object gains a reference and both sides need a copy; NULL stays NULL', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 2 * P, false);
    touched(map, 0x10000, 3);
    const object = map.entries()[0]!.object!;
    const r = vm_map_copyin(map, 0x10000, P, false);
    expect(r.copy!.type).toBe('entry_list');
    const copied = (r.copy as { entries: Array<{ object: unknown; needs_copy: boolean }> }).entries;
    expect(copied).toHaveLength(1);
    expect(copied[0]!.object).toBe(object);
    expect(copied[0]!.needs_copy).toBe(true);
    expect(map.entries()[0]!.needs_copy).toBe(true);
    expect(map.entries()[1]!.needs_copy).toBe(false);
    expect(object.ref_count).toBe(3);
    expect(object.shadowed).toBe(true);
    expect(vm_map_copy_read_now(r.copy).bytes[0]).toBe(3);
    vm_map_copy_discard(r.copy);
    expect(object.ref_count).toBe(2);
    const z = vm_map_create();
    vm_allocate(z, 0, P, false);
    const zr = vm_map_copyin(z, 0, P, false);
    expect((zr.copy as { entries: Array<{ object: unknown; needs_copy: boolean }> }).entries[0]).toMatchObject({ object: null, needs_copy: false });
  });

  it('src_destroy moves the reference to the copy and deletes the range', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, P, false);
    touched(map, 0x10000, 1);
    const object = map.entries()[0]!.object!;
    const r = vm_map_copyin(map, 0x10000, P, true);
    expect(map.nentries).toBe(0);
    expect(object.ref_count).toBe(1);
    const dst = vm_map_create();
    expect(vm_map_copyout(dst, r.copy)).toEqual({ kr: KERN_SUCCESS, address: 0 });
    expect(dst.entries()[0]!.object).toBe(object);
  });

  it('a permanent object is copied with its strategy: a delayed copy object with needs_copy', () => {
    const map = vm_map_create();
    const file = vm_object_allocate_external(P, 'delay');
    vm_map(map, 0x10000, P, 0, false, file, 0, false, RW, 7, 1);
    const r = vm_map_copyin(map, 0x10000, P, false);
    const entry = (r.copy as { entries: Array<{ object: { shadow: unknown } | null; needs_copy: boolean }> }).entries[0]!;
    expect(entry.needs_copy).toBe(true);
    expect(entry.object!.shadow).toBe(file);
    expect(file.copy).toBe(entry.object);
    expect(vm_object_copy_temporary(file, 0)).toBeNull();
  });
});

describe('vm_map_copyout', () => {
  it('entry lists: placed anywhere, reset to RW/RWX/COPY, the offset within the page kept, first_free moved', () => {
    const src = vm_map_create();
    vm_allocate(src, 0x10000, 2 * P, false);
    vm_protect(src, 0x10000, 2 * P, false, VM_PROT_READ);
    vm_inherit(src, 0x10000, 2 * P, VM_INHERIT_NONE);
    const r = vm_map_copyin(src, 0x10010, P, false);
    const dst = vm_map_create();
    vm_allocate(dst, 0, P, false);
    const out = vm_map_copyout(dst, r.copy);
    expect(out).toEqual({ kr: KERN_SUCCESS, address: P + 0x10 });
    expect(ranges(dst)).toEqual([[0, P], [P, 3 * P]]);
    const placed = dst.entries()[1]!;
    expect([placed.protection, placed.max_protection, placed.inheritance]).toEqual([RW, 7, 1]);
    expect(dst.first_free).toBe(placed);
  });

  it('no room: KERN_NO_SPACE, and the copy is still the caller\'s', () => {
    const dst = vm_map_create({ max: 0x2000 });
    vm_allocate(dst, 0, 0x2000, false);
    const copy = vm_map_copy_entry_list_from_bytes(null, new Uint8Array(P));
    expect(vm_map_copyout(dst, copy).kr).toBe(KERN_NO_SPACE);
    expect(copy.entries).toHaveLength(1);
    vm_map_copy_discard(copy);
  });

  it('object copies go through vm_map_enter; page lists follow rule K', () => {
    const sys = new VmSystem();
    const dst = vm_map_create();
    dst.system = sys;
    const obj = vm_map_copy_object_from_bytes(sys, new Uint8Array(P).fill(4));
    expect(vm_map_copyout(dst, obj)).toEqual({ kr: KERN_SUCCESS, address: 0 });
    const pages = vm_map_copy_page_list_from_bytes(new Uint8Array(2 * P).fill(8));
    expect(vm_map_copyout(dst, pages)).toEqual({ kr: KERN_SUCCESS, address: P });
    expect(ranges(dst)).toEqual([[0, 3 * P]]);
    const object = dst.entries()[0]!.object!;
    expect([...object.memq.keys()].sort((a, b) => a - b)).toEqual([0, P, 2 * P]);
    expect(object.memq.get(2 * P)!.data[0]).toBe(8);
    expect(object.memq.get(2 * P)!.dirty).toBe(true);
    expect(sys.resident).toBe(3);
  });
});

describe('vm_map_copy_overwrite', () => {
  it('wants page-aligned data and destination, mapped and writable', async () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 2 * P, false);
    const one = (): ReturnType<typeof vm_map_copy_entry_list_from_bytes> => vm_map_copy_entry_list_from_bytes(null, new Uint8Array(P));
    expect(await vm_map_copy_overwrite(map, 0x10800, one())).toBe(KERN_INVALID_ARGUMENT);
    expect(await vm_map_copy_overwrite(map, 0x10000, vm_map_copy_entry_list_from_bytes(null, new Uint8Array(10)))).toBe(KERN_INVALID_ARGUMENT);
    expect(await vm_map_copy_overwrite(map, 0x20000, one())).toBe(KERN_INVALID_ADDRESS);
    expect(await vm_map_copy_overwrite(map, 0x11000, vm_map_copy_entry_list_from_bytes(null, new Uint8Array(2 * P)))).toBe(KERN_INVALID_ADDRESS);
    vm_protect(map, 0x10000, P, false, VM_PROT_READ);
    expect(await vm_map_copy_overwrite(map, 0x10000, one())).toBe(KERN_PROTECTION_FAILURE);
  });

  it('temporary destination memory takes the copy\'s object (the destination clipped to it); permanent memory is written in place', async () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 3 * P, false);
    const copy = vm_map_copy_entry_list_from_bytes(null, new Uint8Array(P).fill(6));
    const object = copy.entries[0]!.object;
    expect(await vm_map_copy_overwrite(map, 0x11000, copy)).toBe(KERN_SUCCESS);
    expect(ranges(map)).toEqual([[0x10000, 0x11000], [0x11000, 0x12000], [0x12000, 0x13000]]);
    expect(map.entries()[1]!.object).toBe(object);
    const file = vm_object_allocate_external(P, 'delay');
    vm_map(map, 0x20000, P, 0, false, file, 0, false, RW, 7, 1);
    expect(await vm_map_copy_overwrite(map, 0x20000, vm_map_copy_entry_list_from_bytes(null, new Uint8Array(P).fill(9)))).toBe(KERN_SUCCESS);
    expect(map.entries()[3]!.object).toBe(file);
    expect(file.memq.get(0)!.data[0]).toBe(9);
    expect(file.memq.get(0)!.dirty).toBe(true);
  });
});

describe('vm_map_fork', () => {
  it('keeps the bounds and level, starts with first_free at the header, follows each entry\'s inheritance', () => {
    const map = vm_map_create({ level: 'L1', min: 0x1000, max: 0x100000 });
    map.system = new VmSystem();
    vm_allocate(map, 0x10000, P, false);
    vm_allocate(map, 0x20000, P, false);
    vm_allocate(map, 0x30000, P, false);
    touched(map, 0x20000, 1);
    vm_inherit(map, 0x10000, P, VM_INHERIT_SHARE);
    vm_inherit(map, 0x30000, P, VM_INHERIT_NONE);
    const child = vm_map_fork(map);
    expect([child.level, child.min_offset, child.max_offset, child.system]).toEqual(['L1', 0x1000, 0x100000, map.system]);
    expect(child.first_free).toBe(child.hdr);
    expect(ranges(child)).toEqual([[0x10000, 0x11000], [0x20000, 0x21000]]);
    const [shared, copied] = child.entries();
    expect(shared!.is_shared && map.entries()[0]!.is_shared).toBe(true);
    expect(shared!.object).toBe(map.entries()[0]!.object);
    expect(shared!.object!.use_shared_copy).toBe(true);
    expect(copied!.object).toBe(map.entries()[1]!.object);
    expect(copied!.needs_copy && map.entries()[1]!.needs_copy).toBe(true);
    expect(child.size).toBe(2 * P);
  });

  it('an object bigger than its SHARE entry is shadowed first', () => {
    const map = vm_map_create();
    const big = vm_object_allocate(4 * P);
    vm_page_alloc(big, 0);
    vm_map(map, 0x10000, P, 0, false, big, 0, false, RW, 7, VM_INHERIT_SHARE);
    big.ref_count--; // vm_map took its own reference
    const child = vm_map_fork(map);
    const shadow = map.entries()[0]!.object!;
    expect(shadow).not.toBe(big);
    expect(shadow.shadow).toBe(big);
    expect(child.entries()[0]!.object).toBe(shadow);
  });
});
