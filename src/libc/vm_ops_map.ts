/*
 * File: libc/vm_ops_map.ts
 * Purpose: VmOps over an in-process VmMap (src/vm): the task's VM calls go straight to the
 *          simulated GNU Mach map, for tests and simulations that need no IPC.
 *
 * touch() plays a user-mode write: each page is looked up for a write fault
 * (vm_map_lookup, which materialises the entry's object) and made resident, as the fault
 * handler would. A write to memory that is not mapped writable is a bug in the caller
 * (in the real task it is a segmentation fault), so touch() throws.
 */

import { KERN_SUCCESS, kernReturnName } from '../mach/kern_return.js';
import { vm_map_lookup } from '../vm/lookup.js';
import type { VmMap } from '../vm/map.js';
import { vm_page_alloc, vm_page_lookup } from '../vm/object.js';
import { PAGE_SIZE, trunc_page } from '../vm/vm_param.js';
import { VM_PROT_READ, VM_PROT_WRITE } from '../vm/vm_prot.js';
import { vm_allocate, vm_deallocate, vm_map, vm_protect } from '../vm/vm_user.js';
import type { VmOps } from './vm_ops.js';

/** Thrown by VmMapOps.touch for a write the task's map does not allow. */
export class VmFaultError extends Error {
  constructor(
    readonly address: number,
    readonly kr: number,
  ) {
    super(`write fault at 0x${address.toString(16)}: ${kernReturnName(kr)}`);
    this.name = 'VmFaultError';
  }
}

export class VmMapOps implements VmOps {
  /** Pages faulted in by touch() so far (a page counts once per fault). */
  faults = 0;

  constructor(readonly map: VmMap) {}

  async vm_allocate(address: number, size: number, anywhere: boolean): Promise<{ kr: number; address: number }> {
    const r = vm_allocate(this.map, address, size, anywhere);
    return { kr: r.kr, address: r.address };
  }

  async vm_deallocate(address: number, size: number): Promise<number> {
    return vm_deallocate(this.map, address, size);
  }

  async vm_protect(address: number, size: number, setMax: boolean, prot: number): Promise<number> {
    return vm_protect(this.map, address, size, setMax, prot);
  }

  async vm_map(
    address: number,
    size: number,
    anywhere: boolean,
    cur: number,
    max: number,
    inherit: number,
  ): Promise<{ kr: number; address: number }> {
    const r = vm_map(this.map, address, size, 0, anywhere, null, 0, false, cur, max, inherit);
    return { kr: r.kr, address: r.address };
  }

  async touch(address: number, size: number): Promise<void> {
    if (size <= 0) return;
    const end = address + size;
    for (let page = trunc_page(address); page < end; page += PAGE_SIZE) {
      const r = vm_map_lookup(this.map, page, VM_PROT_READ | VM_PROT_WRITE);
      if (r.kr !== KERN_SUCCESS || r.object === null) throw new VmFaultError(page, r.kr);
      const offset = trunc_page(r.offset);
      if (vm_page_lookup(r.object, offset) === null) {
        vm_page_alloc(r.object, offset).dirty = true;
        this.faults++;
      }
    }
  }
}
