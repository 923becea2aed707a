/*
 * File: vm/level.ts
 * Purpose: the three GNU Mach behaviour levels of the VM map (spec §0) and what each turns on.
 *
 *   L0  pre-2023, up to d5464d53: backward extension of NULL-object mappings only.
 *   L1  July 2023 (dc0c9160 .. bdcafee4, e.g. v1.8+git20230830): the new vm_object_coalesce
 *       (self-merge, NULL range in front of an object, offsets reset to 0 for NULL objects),
 *       forward extension in vm_map_enter, eager page release on deallocation.
 *   L2  1ca3a6d9 and later: L1 plus vm_map_coalesce_entry after extensions and in
 *       vm_map_protect / vm_map_inherit.
 */

export type VmLevel = 'L0' | 'L1' | 'L2';

export const VM_LEVELS: readonly VmLevel[] = ['L0', 'L1', 'L2'];

export const VM_LEVEL_DEFAULT: VmLevel = 'L2';

/** The switches a level sets. Every level difference in the VM code reads one of these. */
export interface VmLevelFeatures {
  /**
   * vm_object_coalesce as rewritten by dc0c9160/ee65849b/bdcafee4 (O1-O4), and E1 for
   * mappings of an object (dc0c9160); else the L0 versions.
   */
  readonly object_coalesce_v2: boolean;
  /** vm_map_enter may extend the next entry downwards (E2, d5718931). */
  readonly forward_extension: boolean;
  /** vm_map_entry_delete discards the pages of a solely-referenced, pagerless object (cab23fb5). */
  readonly eager_page_release: boolean;
  /** vm_map_coalesce_entry exists and is called (87e8ddc7, 1ca3a6d9). */
  readonly coalesce_entry: boolean;
}

const FEATURES: Record<VmLevel, VmLevelFeatures> = {
  L0: { object_coalesce_v2: false, forward_extension: false, eager_page_release: false, coalesce_entry: false },
  L1: { object_coalesce_v2: true, forward_extension: true, eager_page_release: true, coalesce_entry: false },
  L2: { object_coalesce_v2: true, forward_extension: true, eager_page_release: true, coalesce_entry: true },
};

export function vm_level_features(level: VmLevel): VmLevelFeatures {
  return FEATURES[level];
}
