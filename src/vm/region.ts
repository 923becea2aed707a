/*
 * File: vm/region.ts
 * Purpose: vm_region (vm/vm_map.c): describe the region at or after an address (spec §5.1).
 */

import { KERN_INVALID_ARGUMENT, KERN_NO_SPACE, KERN_SUCCESS } from '../mach/kern_return.js';
import type { VmMap } from './map.js';
import { vm_map_entry_contains, vm_map_lookup_entry } from './map.js';
import type { VmObjectName } from './object.js';
import { vm_object_name } from './object.js';
import type { vm_inherit_t, vm_prot_t } from './vm_prot.js';

/** vm_region's out parameters. */
export interface VmRegionInfo {
  /** Start of the entry (the in/out address is overwritten). */
  address: number;
  size: number;
  protection: vm_prot_t;
  max_protection: vm_prot_t;
  inheritance: vm_inherit_t;
  is_shared: boolean;
  /** Name of the bottom object of the shadow chain; null for a NULL object. */
  object_name: VmObjectName | null;
  /** The entry's offset, reported for NULL objects too. */
  offset: number;
}

/** vm_region's result: the code, and the region when the code is KERN_SUCCESS. */
export interface VmRegionResult {
  kr: number;
  region: VmRegionInfo | null;
}

/**
 * vm_region (vm/vm_map.c): the entry containing `address`, or else the next entry.
 * The address is not rounded. The map is only read.
 * Returns: KERN_SUCCESS with the region; KERN_NO_SPACE if no entry is at or after the
 *   address; KERN_INVALID_ARGUMENT for a null map.
 */
export function vm_region(map: VmMap | null, address: number): VmRegionResult {
  if (map === null) return { kr: KERN_INVALID_ARGUMENT, region: null };
  let entry = vm_map_lookup_entry(map, address);
  if (!vm_map_entry_contains(map, entry, address)) {
    entry = entry.vme_next;
    if (entry === map.hdr) return { kr: KERN_NO_SPACE, region: null };
  }
  return {
    kr: KERN_SUCCESS,
    region: {
      address: entry.vme_start,
      size: entry.vme_end - entry.vme_start,
      protection: entry.protection,
      max_protection: entry.max_protection,
      inheritance: entry.inheritance,
      is_shared: entry.is_shared,
      object_name: vm_object_name(entry.object),
      offset: entry.offset,
    },
  };
}
