/*
 * File: vm/lookup.ts
 * Purpose: vm_map_lookup (vm/vm_map.c): the object and offset behind an address, for a
 *          fault of a given type, materialising what the entry still lacks (spec §8.4).
 */

import { KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE, KERN_SUCCESS, KERN_WRITE_PROTECTION_FAILURE } from '../mach/kern_return.js';
import type { VmMap } from './map.js';
import { vm_map_entry_contains, vm_map_lookup_entry } from './map.js';
import type { VmObject } from './object.js';
import { vm_object_allocate, vm_object_shadow } from './object.js';
import type { vm_prot_t } from './vm_prot.js';
import { VM_PROT_NOTIFY, VM_PROT_WRITE } from './vm_prot.js';

/** vm_map_lookup's out parameters. */
export interface VmMapLookupResult {
  kr: number;
  /** The (possibly new) object and the offset of the address in it; null on failure. */
  object: VmObject | null;
  offset: number;
  /** The protection the fault may map the page with (WRITE removed for a pending copy). */
  prot: vm_prot_t;
  wired: boolean;
}

/**
 * vm_map_lookup (vm/vm_map.c): resolve `vaddr` for a fault of `fault_type`.
 *
 * A write fault on a needs_copy entry first gives the entry a new object, the size of the
 * entry, shadowing the old one at the old offset; the entry's reference moves to the new
 * object, its offset becomes 0 and needs_copy is cleared. A read fault there only drops
 * WRITE from the returned protection. An entry with no object then gets a new internal
 * object the size of the entry, at offset 0. These are the only entry changes a fault
 * makes: the fault path never clips or merges.
 *
 * Returns: KERN_SUCCESS; KERN_INVALID_ADDRESS when no entry contains vaddr;
 *   KERN_PROTECTION_FAILURE when fault_type is not allowed (KERN_WRITE_PROTECTION_FAILURE
 *   for a write to a NOTIFY-protected entry).
 */
export function vm_map_lookup(map: VmMap, vaddr: number, fault_type: vm_prot_t): VmMapLookupResult {
  const entry = vm_map_lookup_entry(map, vaddr);
  if (!vm_map_entry_contains(map, entry, vaddr)) {
    return { kr: KERN_INVALID_ADDRESS, object: null, offset: 0, prot: 0, wired: false };
  }

  let prot = entry.protection;
  if ((fault_type & prot) !== fault_type) {
    const kr = prot & VM_PROT_NOTIFY && fault_type & VM_PROT_WRITE ? KERN_WRITE_PROTECTION_FAILURE : KERN_PROTECTION_FAILURE;
    return { kr, object: null, offset: 0, prot: 0, wired: false };
  }

  const wired = entry.wired_count !== 0;
  if (wired) prot = fault_type = entry.protection;

  if (entry.needs_copy) {
    if (fault_type & VM_PROT_WRITE) {
      const shadowed = vm_object_shadow(entry.object, entry.offset, entry.vme_end - entry.vme_start);
      entry.object = shadowed.object;
      entry.offset = shadowed.offset;
      entry.needs_copy = false;
    } else {
      prot &= ~VM_PROT_WRITE;
    }
  }

  if (entry.object === null) {
    entry.object = vm_object_allocate(entry.vme_end - entry.vme_start);
    entry.offset = 0;
  }

  return { kr: KERN_SUCCESS, object: entry.object, offset: vaddr - entry.vme_start + entry.offset, prot, wired };
}
