/*
 * vm/fault.ts without a kernel: faults on maps with no pagers (zero fill, copy on write,
 * copy-object pushes, protections), loads and stores, reading without faulting, and the
 * retry loop's time limit.
 */

import { describe, expect, it } from 'vitest';
import { KERN_INVALID_ADDRESS, KERN_MEMORY_ERROR, KERN_PROTECTION_FAILURE, KERN_SUCCESS } from '../../../src/mach/kern_return.js';
import {
  vm_fault, vm_fault_async, vm_fault_retry, vm_map_load, vm_map_store, vm_object_peek, vm_object_read_now,
} from '../../../src/vm/fault.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { vm_object_allocate, vm_object_allocate_external, vm_object_shadow, vm_page_alloc } from '../../../src/vm/object.js';
import { vm_object_copy_delayed } from '../../../src/vm/object_copy.js';
import { VmSystem } from '../../../src/vm/vm_system.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { VM_PROT_READ, VM_PROT_WRITE } from '../../../src/vm/vm_prot.js';
import { vm_allocate, vm_map, vm_protect } from '../../../src/vm/vm_user.js';

const P = PAGE_SIZE;
const RW = VM_PROT_READ | VM_PROT_WRITE;

describe('vm_fault', () => {
  it('a write fault on zero-fill memory gives the entry an object and a dirty zero page in it', () => {
    const map = vm_map_create();
    map.system = new VmSystem();
    vm_allocate(map, 0x10000, 2 * P, false);
    const r = vm_fault(map, 0x11234, RW);
    expect(r.kr).toBe(KERN_SUCCESS);
    const entry = map.entries()[0]!;
    expect(entry.object).not.toBeNull();
    expect(r.page!.object).toBe(entry.object);
    expect(r.page!.offset).toBe(P);
    expect(r.page!.dirty).toBe(true);
    expect(r.page!.has_data).toBe(false);
    expect(map.system.resident).toBe(1);
    expect(map.system.stats.zero_fill_count).toBe(1);
  });

  it('faults outside the map or against the protection fail without changing anything', () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, P, false);
    expect(vm_fault(map, 0x20000, VM_PROT_READ).kr).toBe(KERN_INVALID_ADDRESS);
    vm_protect(map, 0x10000, P, false, VM_PROT_READ);
    expect(vm_fault(map, 0x10000, RW).kr).toBe(KERN_PROTECTION_FAILURE);
    expect(map.entries()[0]!.object).toBeNull();
  });

  it('copy on write: a read finds the page below and withholds WRITE; a write copies it up', () => {
    const map = vm_map_create();
    const below = vm_object_allocate(P);
    vm_page_alloc(below, 0).data.fill(7);
    vm_map(map, 0x10000, P, 0, false, below, 0, false, RW, 7, 1);
    const entry = map.entries()[0]!;
    entry.needs_copy = true;
    const read = vm_fault(map, 0x10000, VM_PROT_READ);
    expect(read.page!.object).toBe(below);
    expect((read as { prot: number }).prot & VM_PROT_WRITE).toBe(0);
    expect(entry.object).toBe(below);
    const write = vm_fault(map, 0x10000, RW);
    expect(entry.object).not.toBe(below);
    expect(entry.needs_copy).toBe(false);
    expect(write.page!.object).toBe(entry.object);
    expect(write.page!.data[0]).toBe(7);
    write.page!.data[0] = 9;
    expect(below.memq.get(0)!.data[0]).toBe(7);
  });

  it('a write to an object with a copy object pushes the old contents into the copy first', () => {
    const map = vm_map_create();
    const file = vm_object_allocate_external(P, 'delay');
    vm_page_alloc(file, 0).data.fill(1);
    const copy = vm_object_copy_delayed(file);
    vm_map(map, 0x10000, P, 0, false, file, 0, false, RW, 7, 1);
    const r = vm_fault(map, 0x10000, RW);
    r.page!.data.fill(2);
    expect(copy.memq.get(0)!.data[0]).toBe(1);
    expect(copy.memq.get(0)!.dirty).toBe(true);
    // The second write finds the copy already has the page.
    vm_fault(map, 0x10000, RW);
    expect(copy.memq.get(0)!.data[0]).toBe(1);
  });

  it('a stand-in external object without a pager zero-fills; one whose pager was destroyed fails', () => {
    const map = vm_map_create();
    const file = vm_object_allocate_external(2 * P, 'delay');
    vm_map(map, 0x10000, 2 * P, 0, false, file, 0, false, RW, 7, 1);
    expect(vm_fault(map, 0x10000, VM_PROT_READ).page!.object).toBe(file);
    file.pager_destroyed = true;
    expect(vm_fault(map, 0x11000, VM_PROT_READ).kr).toBe(KERN_MEMORY_ERROR);
  });
});

describe('loads, stores and reads', () => {
  it('vm_map_store and vm_map_load move bytes across page boundaries', async () => {
    const map = vm_map_create();
    vm_allocate(map, 0x10000, 3 * P, false);
    const bytes = Uint8Array.from({ length: P + 100 }, (_, i) => i & 0xff);
    expect(await vm_map_store(map, 0x10000 + P - 50, bytes)).toBe(KERN_SUCCESS);
    const back = await vm_map_load(map, 0x10000 + P - 50, bytes.length);
    expect(back).toEqual(bytes);
    expect(await vm_map_load(map, 0x20000, 1)).toBe(KERN_INVALID_ADDRESS);
    expect(await vm_fault_async(map, 0x10000, RW)).toBe(KERN_SUCCESS);
  });

  it('peeking never makes zero pages resident and reads through the shadow chain', () => {
    const bottom = vm_object_allocate(2 * P);
    vm_page_alloc(bottom, P).data.fill(5);
    const { object: top } = vm_object_shadow(bottom, 0, 2 * P);
    expect(vm_object_peek(top, 0, false)).toEqual({ kr: KERN_SUCCESS, data: null });
    const out = new Uint8Array(2 * P);
    expect(vm_object_read_now(top, 0, 2 * P, out, 0)).toEqual([]);
    expect(out[P]).toBe(5);
    expect(top.resident_page_count).toBe(0);
  });

  it('vm_fault_retry gives up with KERN_MEMORY_ERROR once the pager timeout has passed', async () => {
    const sys = new VmSystem({ pager_timeout: 20 });
    const started = Date.now();
    const r = await vm_fault_retry(sys, (): { kr?: number; wait?: Promise<void> } => ({ wait: new Promise<void>(() => undefined) }));
    expect(r.kr).toBe(KERN_MEMORY_ERROR);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});
