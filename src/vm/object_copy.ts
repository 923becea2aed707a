/*
 * File: vm/object_copy.ts
 * Purpose: virtual copies of an object (vm/vm_object.c): vm_object_copy_strategically and
 *          the two strategies it can use without asking a pager, delayed (asymmetric
 *          copy-on-write through a copy object) and slow (an immediate copy of the pages).
 *          vm_map with copy=TRUE goes through here.
 */

import { KERN_INVALID_ARGUMENT, KERN_SUCCESS } from '../mach/kern_return.js';
import type { VmObject } from './object.js';
import { vm_object_allocate, vm_object_deallocate, vm_page_alloc, vm_page_lookup } from './object.js';
import { PAGE_SIZE } from './vm_param.js';

/** What vm_object_copy_strategically returns. */
export interface VmObjectCopyResult {
  kr: number;
  /** The object to map (one reference, the caller's), or null on failure. */
  object: VmObject | null;
  offset: number;
  /** Whether the mapping must be marked needs_copy. */
  needs_copy: boolean;
}

/**
 * vm_object_copy_strategically (vm/vm_object.c): copy [src_offset, src_offset + size) of
 * `src_object` as its copy strategy says. A temporary object always uses (and from now on
 * declares) the delayed strategy.
 *  - delay: vm_object_copy_delayed; the result is mapped at src_offset with needs_copy;
 *  - none: vm_object_copy_slowly; the result is a new object mapped at 0, no needs_copy;
 *  - call: would ask the pager (memory_object_copy, skipped in defs/memory_object.defs):
 *    treated as delay.
 * Conditions: the caller holds a reference on src_object (kept).
 * Returns: KERN_SUCCESS, or KERN_INVALID_ARGUMENT for a slow copy of size 0.
 */
export function vm_object_copy_strategically(src_object: VmObject, src_offset: number, size: number): VmObjectCopyResult {
  if (src_object.temporary) src_object.copy_strategy = 'delay';
  if (src_object.copy_strategy !== 'none') {
    return { kr: KERN_SUCCESS, object: vm_object_copy_delayed(src_object), offset: src_offset, needs_copy: true };
  }
  const copy = vm_object_copy_slowly(src_object, src_offset, size);
  return { kr: copy.kr, object: copy.object, offset: 0, needs_copy: false };
}

/**
 * vm_object_copy_delayed (vm/vm_object.c): the asymmetric copy. The copy object shadows
 * the source at offset 0 and is recorded as the source's `copy`. If the source already has
 * a copy object that was never modified (no resident pages, no pager), that one is reused
 * with one more reference. Otherwise the old copy object is made to shadow the new one
 * (moving its reference from the source to the new copy).
 * Returns: the copy object, with one reference for the caller.
 */
export function vm_object_copy_delayed(src_object: VmObject): VmObject {
  const new_copy = vm_object_allocate(src_object.size);
  const old_copy = src_object.copy;
  if (old_copy !== null) {
    if (old_copy.resident_page_count === 0 && !old_copy.pager_created) {
      old_copy.ref_count++;
      vm_object_deallocate(new_copy);
      return old_copy;
    }
    src_object.ref_count--;
    old_copy.shadow = new_copy;
    new_copy.ref_count++;
  }
  new_copy.shadow = src_object;
  new_copy.shadow_offset = 0;
  new_copy.shadowed = true;
  src_object.ref_count++;
  src_object.copy = new_copy;
  return new_copy;
}

/**
 * vm_object_copy_slowly (vm/vm_object.c): a new internal object of `size` bytes whose
 * every page is a copy of the source's page at src_offset + its offset. gnumach reads each
 * source page with vm_fault_page; until the fault and pager work exist, the page is taken
 * from the first object down the source's shadow chain that has it resident, and a page
 * resident nowhere is zero (which is what a pagerless chain holds).
 * Returns: KERN_SUCCESS and the new object (one reference), or KERN_INVALID_ARGUMENT
 *   (and no object) for size 0.
 */
export function vm_object_copy_slowly(src_object: VmObject, src_offset: number, size: number): { kr: number; object: VmObject | null } {
  if (size === 0) return { kr: KERN_INVALID_ARGUMENT, object: null };
  const new_object = vm_object_allocate(size);
  for (let new_offset = 0; new_offset < size; new_offset += PAGE_SIZE) {
    const new_page = vm_page_alloc(new_object, new_offset);
    new_page.dirty = true;
    let object: VmObject | null = src_object;
    let offset = src_offset + new_offset;
    while (object !== null) {
      const page = vm_page_lookup(object, offset);
      if (page !== null) {
        if (page.has_data) new_page.data.set(page.data);
        break;
      }
      offset += object.shadow_offset;
      object = object.shadow;
    }
  }
  return { kr: KERN_SUCCESS, object: new_object };
}
