/*
 * File: vm/vm_user.ts
 * Purpose: the user-visible VM calls (vm/vm_user.c): GNU Mach's argument handling in front
 *          of the map operations (spec §8.3). The IPC layer calls these through the
 *          generated mach.defs stubs (vm_allocate 2021, vm_deallocate 2023, vm_protect 2024,
 *          vm_inherit 2025, vm_region 2029, vm_map 2089).
 *
 * A null map stands for VM_MAP_NULL (an invalid task port). Addresses and sizes must be
 * vm_offset_t values of the map's word size: anything else throws a RangeError, since the
 * IPC layer can only deliver such values.
 */

import { KERN_INVALID_ARGUMENT, KERN_SUCCESS } from '../mach/kern_return.js';
import { vm_map_remove } from './delete.js';
import type { VmMapEnterResult } from './enter.js';
import { vm_map_enter } from './enter.js';
import { vm_map_inherit } from './inherit.js';
import type { VmMap } from './map.js';
import type { VmObject } from './object.js';
import { vm_object_deallocate, vm_object_reference } from './object.js';
import { vm_object_copy_strategically } from './object_copy.js';
import { vm_map_protect } from './protect.js';
import { assert_vm_offset, round_page, trunc_page, vm_offset_add } from './vm_param.js';
import type { vm_inherit_t, vm_prot_t } from './vm_prot.js';
import {
  VM_INHERIT_DEFAULT,
  VM_PROT_ALL,
  VM_PROT_DEFAULT,
  VM_PROT_NOTIFY,
  vm_inherit_valid,
} from './vm_prot.js';

export { vm_region } from './region.js';
export type { VmRegionInfo, VmRegionResult } from './region.js';

/**
 * vm_allocate (vm/vm_user.c): zero-fill memory, RW with max RWX, inheritance COPY, no
 * object until first touched.
 * Anywhere: the address is ignored and the allocator picks one (§8.1). Fixed: the address
 * is truncated to a page and the size rounded up separately, so the end of the byte range
 * asked for may stay unmapped.
 * Returns: KERN_SUCCESS (size 0: nothing is mapped and the address is 0);
 *   KERN_INVALID_ARGUMENT (null map, or a size that rounds to 0); KERN_NO_SPACE (overlap,
 *   no room); KERN_INVALID_ADDRESS (outside the map, wrap-around).
 */
export function vm_allocate(map: VmMap | null, address: number, size: number, anywhere: boolean): VmMapEnterResult {
  if (map === null) return { kr: KERN_INVALID_ARGUMENT, address };
  assert_vm_offset(map.word_bits, address, 'vm_allocate: address');
  assert_vm_offset(map.word_bits, size, 'vm_allocate: size');
  if (size === 0) return { kr: KERN_SUCCESS, address: 0 };

  address = anywhere ? map.min_offset : trunc_page(address);
  size = round_page(map.word_bits, size);
  return vm_map_enter(map, address, size, 0, anywhere, null, 0, false, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_DEFAULT);
}

/**
 * vm_deallocate (vm/vm_user.c): unmap [trunc(address), round(address + size)), clamped
 * to the map. Holes are fine. Size 0 does nothing.
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT for a null map.
 */
export function vm_deallocate(map: VmMap | null, address: number, size: number): number {
  if (map === null) return KERN_INVALID_ARGUMENT;
  assert_vm_offset(map.word_bits, address, 'vm_deallocate: address');
  assert_vm_offset(map.word_bits, size, 'vm_deallocate: size');
  if (size === 0) return KERN_SUCCESS;
  return vm_map_remove(map, trunc_page(address), round_page(map.word_bits, vm_offset_add(map.word_bits, address, size)));
}

/**
 * vm_protect (vm/vm_user.c): set the current protection of a range, or with set_maximum
 * its maximum protection (the current one is then masked by it).
 * The range is [trunc(address), round(address + size)); size 0 still clips (spec §3).
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT (null map, bits outside RWX|NOTIFY);
 *   KERN_PROTECTION_FAILURE (above an entry's maximum; the clip at the start remains).
 */
export function vm_protect(map: VmMap | null, address: number, size: number, set_maximum: boolean, new_protection: vm_prot_t): number {
  if (map === null || (new_protection & ~(VM_PROT_ALL | VM_PROT_NOTIFY)) !== 0) return KERN_INVALID_ARGUMENT;
  assert_vm_offset(map.word_bits, address, 'vm_protect: address');
  assert_vm_offset(map.word_bits, size, 'vm_protect: size');
  return vm_map_protect(
    map,
    trunc_page(address),
    round_page(map.word_bits, vm_offset_add(map.word_bits, address, size)),
    new_protection,
    set_maximum,
  );
}

/**
 * vm_inherit (vm/vm_user.c): set the inheritance of [trunc(address), round(address + size)).
 * Returns: KERN_SUCCESS; KERN_INVALID_ARGUMENT (null map, not SHARE/COPY/NONE).
 */
export function vm_inherit(map: VmMap | null, address: number, size: number, new_inheritance: vm_inherit_t): number {
  if (map === null || !vm_inherit_valid(new_inheritance)) return KERN_INVALID_ARGUMENT;
  assert_vm_offset(map.word_bits, address, 'vm_inherit: address');
  assert_vm_offset(map.word_bits, size, 'vm_inherit: size');
  return vm_map_inherit(
    map,
    trunc_page(address),
    round_page(map.word_bits, vm_offset_add(map.word_bits, address, size)),
    new_inheritance,
  );
}

/**
 * vm_map (vm/vm_user.c): map a memory object (or zero-fill memory when it is null).
 *
 * `memory_object` stands for the VM object vm_object_enter finds for the memory object
 * port: the caller holds a reference on it, and vm_map takes one more for the mapping
 * (given back if the mapping fails). With copy, the range is copied as the object's copy
 * strategy says (object_copy.ts) and the copy is mapped instead. A null object forces
 * offset 0 and copy FALSE. The offset is not checked for page alignment, and the
 * current protection need not be within the maximum.
 * Returns: KERN_SUCCESS with the address; KERN_INVALID_ARGUMENT (null map, protections
 *   outside RWX, bad inheritance, size 0 or rounding to 0); KERN_NO_SPACE (overlap, no
 *   room, address violating the mask); KERN_INVALID_ADDRESS (outside the map, wrap-around).
 */
export function vm_map(
  target_map: VmMap | null,
  address: number,
  size: number,
  mask: number,
  anywhere: boolean,
  memory_object: VmObject | null,
  offset: number,
  copy: boolean,
  cur_protection: vm_prot_t,
  max_protection: vm_prot_t,
  inheritance: vm_inherit_t,
): VmMapEnterResult {
  if (target_map === null || (cur_protection & ~VM_PROT_ALL) !== 0 || (max_protection & ~VM_PROT_ALL) !== 0) {
    return { kr: KERN_INVALID_ARGUMENT, address };
  }
  if (!vm_inherit_valid(inheritance)) return { kr: KERN_INVALID_ARGUMENT, address };
  const bits = target_map.word_bits;
  assert_vm_offset(bits, address, 'vm_map: address');
  assert_vm_offset(bits, size, 'vm_map: size');
  assert_vm_offset(bits, mask, 'vm_map: mask');
  assert_vm_offset(bits, offset, 'vm_map: offset');
  if (size === 0) return { kr: KERN_INVALID_ARGUMENT, address };

  address = trunc_page(address);
  size = round_page(bits, size);

  let object: VmObject | null = memory_object;
  if (object === null) {
    offset = 0;
    copy = false;
  } else {
    vm_object_reference(object); // vm_object_enter's reference, for the mapping
  }

  if (copy && object !== null) {
    const result = vm_object_copy_strategically(object, offset, size);
    vm_object_deallocate(object);
    if (result.kr !== KERN_SUCCESS) return { kr: result.kr, address };
    object = result.object;
    offset = result.offset;
    copy = result.needs_copy;
  }

  const result = vm_map_enter(target_map, address, size, mask, anywhere, object, offset, copy, cur_protection, max_protection, inheritance);
  if (result.kr !== KERN_SUCCESS) vm_object_deallocate(object);
  return result;
}
