/*
 * File: vm/fork.ts
 * Purpose: vm_map_fork (vm/vm_map.c): the map of a child task created with
 *          task_create(parent, inherit_memory = TRUE), entry by entry as each entry's
 *          inheritance says (spec §8.4).
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import { vm_map_entry_copy_full } from './entry.js';
import type { VmMap } from './map.js';
import { VmMap as VmMapClass, vm_map_clip_start, vm_map_entry_contains, vm_map_entry_link, vm_map_lookup_entry } from './map.js';
import { vm_object_allocate, vm_object_shadow } from './object.js';
import { vm_map_copy_insert, vm_map_copyin, vm_object_copy_temporary } from './map_copy.js';
import { VM_INHERIT_COPY, VM_INHERIT_NONE, VM_INHERIT_SHARE } from './vm_prot.js';

/**
 * vm_map_fork (vm/vm_map.c): a new map with the parent's bounds, level and kernel, and
 * first_free at the header. For each parent entry:
 *  - NONE: left out;
 *  - SHARE: the entry gets an object if it had none (offset 0); one that needs a copy,
 *    is shadowed, or is a temporary object bigger than the entry first gets a shadow of
 *    its own; the object is marked use_shared_copy (later copies of it are delayed
 *    copies) and gains a reference; parent and child entries are both is_shared from now
 *    on, which rules out any later merge;
 *  - COPY: NULL and temporary objects are copied symmetrically (both entries need a copy
 *    on the first write; a shared-copy object gives the child a delayed copy); a permanent
 *    object is copied with vm_map_copyin (its copy strategy), the copy inserted as it is.
 *    If that copyin fails (an unreadable entry), the entry is left out: GNU Mach retries
 *    the same entry there, which cannot succeed.
 * Entries are appended in order; nothing is merged. Wired entries do not occur here.
 * Returns: the child's map.
 */
export function vm_map_fork(old_map: VmMap): VmMap {
  const new_map = new VmMapClass({
    level: old_map.level,
    min: old_map.min_offset,
    max: old_map.max_offset,
    word_bits: old_map.word_bits,
  });
  new_map.system = old_map.system;
  let new_size = 0;

  let old_entry = old_map.hdr.vme_next;
  while (old_entry !== old_map.hdr) {
    const entry_size = old_entry.vme_end - old_entry.vme_start;
    switch (old_entry.inheritance) {
      case VM_INHERIT_NONE:
        break;

      case VM_INHERIT_SHARE: {
        let object = old_entry.object;
        if (object === null) {
          object = vm_object_allocate(entry_size);
          old_entry.offset = 0;
          old_entry.object = object;
        } else if (old_entry.needs_copy || object.shadowed || (object.temporary && !old_entry.is_shared && object.size > entry_size)) {
          const shadowed = vm_object_shadow(object, old_entry.offset, entry_size);
          old_entry.object = shadowed.object;
          old_entry.offset = shadowed.offset;
          old_entry.needs_copy = false;
          object = shadowed.object;
        }
        object.use_shared_copy = true;
        object.ref_count++;
        const new_entry = vm_map_entry_copy_full(old_entry);
        new_entry.wired_count = 0;
        old_entry.is_shared = true;
        new_entry.is_shared = true;
        vm_map_entry_link(new_map, new_map.hdr.vme_prev, new_entry);
        new_size += entry_size;
        break;
      }

      case VM_INHERIT_COPY: {
        const t = vm_object_copy_temporary(old_entry.object, old_entry.offset);
        if (t !== null) {
          const new_entry = vm_map_entry_copy_full(old_entry);
          new_entry.is_shared = false;
          new_entry.wired_count = 0;
          new_entry.object = t.object;
          new_entry.offset = t.offset;
          if (t.src_needs_copy && !old_entry.needs_copy) old_entry.needs_copy = true;
          new_entry.needs_copy = t.dst_needs_copy;
          vm_map_entry_link(new_map, new_map.hdr.vme_prev, new_entry);
          new_size += entry_size;
          break;
        }
        // A permanent object: copy it in the long way and carry on after the copied range.
        const start = old_entry.vme_start;
        const last = new_map.hdr.vme_prev;
        const r = vm_map_copyin(old_map, start, entry_size, false);
        if (r.kr === KERN_SUCCESS && r.copy !== null && r.copy.type === 'entry_list') {
          vm_map_copy_insert(new_map, last, r.copy);
          new_size += entry_size;
        }
        let next = vm_map_lookup_entry(old_map, start + entry_size);
        if (vm_map_entry_contains(old_map, next, start + entry_size)) vm_map_clip_start(old_map, next, start + entry_size);
        else next = next.vme_next;
        old_entry = next;
        continue;
      }
    }
    old_entry = old_entry.vme_next;
  }
  new_map.size = new_size;
  return new_map;
}
