/*
 * File: vm/object.ts
 * Purpose: the VM object (GNU Mach's struct vm_object, vm/vm_object.[ch]): reference
 *          counting, resident pages, shadow chains and their collapse, the name identity
 *          vm_region reports.
 *
 * Reference accounting follows spec §1.6: every map entry holds one reference, clipping
 * adds one, deleting an entry drops one, a same-object merge drops one, a shadow holds
 * one on the object it shadows. An object whose count reaches 0 is terminated: its pages
 * are freed and the reference it held on its shadow is dropped in turn.
 *
 * The pager side (vm/memory_object.ts) hangs off `pager`: the memory object port, the
 * control (pager_request) port, readiness. This file stays free of IPC: the pager and the
 * name port are reached through the small interfaces below. Not modelled: the object
 * cache (can_persist objects die at their last reference like the others) and existence
 * maps (MACH_PAGEMAP, off in GNU Mach's default build).
 */

import { PAGE_SIZE } from './vm_param.js';
import { VmPage, vm_page_wakeup_done } from './page.js';

/**
 * MEMORY_OBJECT_COPY_NONE / _CALL / _DELAY. COPY_CALL would ask the pager for a copy with
 * memory_object_copy, which defs/memory_object.defs skips (2202): it is treated as DELAY.
 */
export type memory_object_copy_strategy_t = 'none' | 'call' | 'delay';

/**
 * What an object with a pager (an external object, or an internal one paged out to the
 * default memory manager) needs from the pager side (vm/memory_object.ts).
 */
export interface VmObjectPager {
  /** The object dies (its last reference is gone): clean, then memory_object_terminate. */
  terminate(object: VmObject): void;
  /** vm_object_collapse moved the pager to `object` (the control port now names it). */
  rebind(object: VmObject): void;
}

let nextNameId = 1;
let nextObjectId = 1;

/**
 * The object's "name" port (pager_name): what vm_region hands out as object_name.
 * Made once per object by vm_object_allocate; a collapse passes the backing object's
 * name up to the survivor, so the name seen through a shadow chain stays stable.
 */
export class VmObjectName {
  readonly id = nextNameId++;
  /** The kernel port (IKOT_PAGING_NAME) standing for this name, made when first needed. */
  port: unknown = null;
}

let vm_object_name_release_hook: ((name: VmObjectName) => void) | null = null;

/** The kernel's way to destroy a name's port when the name goes (set by vm/memory_object.ts). */
export function vm_object_name_set_release(hook: (name: VmObjectName) => void): void {
  vm_object_name_release_hook = hook;
}

function vm_object_name_release(name: VmObjectName | null): void {
  if (name !== null && name.port !== null) vm_object_name_release_hook?.(name);
}

export class VmObject {
  /** A serial number, for debugging output only. */
  readonly id = nextObjectId++;
  ref_count = 1;
  /** Size of the object's offset space (meaningful for internal objects). */
  size: number;
  /** Made by the kernel (anonymous memory), as opposed to backed by a user pager. */
  internal = true;
  /** Contents need not survive the last reference. */
  temporary = true;
  /** A pager port exists (external objects; internal ones once paged out). */
  pager_created = false;
  /** Carries pageout data to a pager (vm_pageout.c). */
  used_for_pageout = false;
  /** Paging operations under way; 0 at rest. */
  paging_in_progress = 0;
  /** The pager, for external objects and internal ones handed to the default pager. */
  pager: VmObjectPager | null = null;
  /** memory_object_init (or _create) was sent. */
  pager_initialized = false;
  /** The pager said memory_object_ready (default-pager objects are ready at once). */
  pager_ready = false;
  /** Offset of this object in its memory object (non-zero after a collapse moved a pager). */
  paging_offset = 0;
  /** Pages requested from the pager and not yet there. */
  absent_count = 0;
  /** may_cache from the pager (recorded; the object cache is not modelled). */
  can_persist = false;
  /** Waiters for pager_ready. */
  ready_waiters: Array<() => void> | null = null;
  /**
   * The pager went away (its port died, or it called memory_object_destroy): pages it
   * would have to provide are lost, and faults on them fail with KERN_MEMORY_ERROR.
   * (An external object with no pager and this flag clear is a stand-in made by
   * vm_object_allocate_external for scripts: its pages are zero when first touched.)
   */
  pager_destroyed = false;
  /** The object this one shadows (copy-on-write), and where in it this object starts. */
  shadow: VmObject | null = null;
  shadow_offset = 0;
  /** The copy object made by an asymmetric (delayed) copy of this object. */
  copy: VmObject | null = null;
  /** Some other object shadows this one. */
  shadowed = false;
  /** Copies must be delayed copies (set on objects shared through fork). */
  use_shared_copy = false;
  copy_strategy: memory_object_copy_strategy_t = 'none';
  /** The name port; null only once the object has been terminated. */
  pager_name: VmObjectName | null = new VmObjectName();
  alive = true;
  /** Resident pages by offset (GNU Mach's memq plus the page hash). */
  readonly memq = new Map<number, VmPage>();

  constructor(size: number) {
    this.size = size;
  }

  get resident_page_count(): number {
    return this.memq.size;
  }
}

/**
 * vm_object_allocate (vm/vm_object.c): a new internal, temporary object of the given
 * size with a fresh name.
 * Returns: the object, with one reference (the caller's).
 */
export function vm_object_allocate(size: number): VmObject {
  return new VmObject(size);
}

/**
 * The VM object vm_object_enter (vm/vm_object.c) makes for a memory object seen for the
 * first time: external (not internal, not temporary), pager_created, one reference.
 * The pager port and the pager's attributes (copy strategy...) are pager work; the copy
 * strategy the pager would declare is given here.
 * Returns: the object, with one reference (the caller's).
 */
export function vm_object_allocate_external(size: number, copy_strategy: memory_object_copy_strategy_t): VmObject {
  const object = new VmObject(size);
  object.internal = false;
  object.temporary = false;
  object.pager_created = true;
  object.copy_strategy = copy_strategy;
  return object;
}

/**
 * vm_object_reference (vm/vm_object.c): one more reference. A NULL object is ignored.
 * Conditions: the object is alive (throws otherwise: a reference-counting bug).
 */
export function vm_object_reference(object: VmObject | null): void {
  if (object === null) return;
  if (object.ref_count <= 0) throw new Error(`vm_object_reference: object ${object.id} is dead`);
  object.ref_count++;
}

/**
 * vm_object_deallocate (vm/vm_object.c): drop a reference. At zero the object is
 * terminated (pages freed, name released, forgotten by the object it is a copy of) and
 * the reference it held on its shadow is dropped the same way. A NULL object is ignored.
 * Conditions: the object is alive (throws otherwise: a reference-counting bug).
 */
export function vm_object_deallocate(object: VmObject | null): void {
  while (object !== null) {
    if (object.ref_count <= 0) throw new Error(`vm_object_deallocate: object ${object.id} is dead`);
    if (--object.ref_count > 0) return;
    const shadow = object.shadow;
    vm_object_terminate(object);
    object = shadow;
  }
}

/*
 * vm_object_terminate (vm/vm_object.c): free the pages of an object nobody references.
 * If it was its shadow's copy object, the shadow forgets it. The shadow reference is the
 * caller's to drop.
 */
function vm_object_terminate(object: VmObject): void {
  const pager = object.pager;
  if (pager !== null) {
    object.pager = null;
    pager.terminate(object);
  }
  object.alive = false;
  if (object.shadow !== null && object.shadow.copy === object) object.shadow.copy = null;
  for (const page of object.memq.values()) vm_page_release(page);
  object.memq.clear();
  vm_object_name_release(object.pager_name);
  object.pager_name = null;
  vm_object_wakeup_ready(object);
}

/* A page leaves its object: out of the page queues, its waiters woken. */
function vm_page_release(page: VmPage): void {
  page.queues?.vm_page_dequeue(page);
  if (page.waiters !== null) vm_page_wakeup_done(page);
}

/**
 * VM_PAGE_FREE (vm/vm_page.h): remove a page from its object, from the page queues, and
 * wake whoever waited for it (they retry and find it gone).
 */
export function vm_page_free(page: VmPage): void {
  if (page.object.memq.get(page.offset) === page) page.object.memq.delete(page.offset);
  vm_page_release(page);
}

/** vm_object_wakeup(object, PAGER_READY): wake everyone waiting for the pager. */
export function vm_object_wakeup_ready(object: VmObject): void {
  const waiters = object.ready_waiters;
  if (waiters === null) return;
  object.ready_waiters = null;
  for (const w of waiters) w();
}

/** A promise that settles when the object's pager is ready (or the object or pager dies). */
export function vm_object_wait_ready(object: VmObject): Promise<void> {
  return new Promise((resolve) => {
    (object.ready_waiters ??= []).push(resolve);
  });
}

/**
 * vm_page_lookup (vm/vm_resident.c): the resident page at `offset` of this object (the
 * shadow chain is not searched).
 * Returns: the page, or null.
 */
export function vm_page_lookup(object: VmObject, offset: number): VmPage | null {
  return object.memq.get(offset) ?? null;
}

/**
 * vm_page_alloc (vm/vm_resident.c): make a new (zero) page resident at `offset`.
 * Conditions: offset is page aligned and no page is resident there (throws otherwise).
 * Returns: the page.
 */
export function vm_page_alloc(object: VmObject, offset: number): VmPage {
  if (offset % PAGE_SIZE !== 0) throw new RangeError(`vm_page_alloc: offset ${offset} is not page aligned`);
  if (object.memq.has(offset)) throw new Error(`vm_page_alloc: object ${object.id} already has a page at ${offset}`);
  const page = new VmPage(object, offset);
  object.memq.set(offset, page);
  return page;
}

/**
 * vm_page_insert (vm/vm_resident.c): put an unowned page (a page list's, or one being
 * moved) into an object at `offset`, replacing (freeing) any page already there
 * (vm_page_replace).
 */
export function vm_page_insert(page: VmPage, object: VmObject, offset: number): void {
  const old = object.memq.get(offset);
  if (old !== undefined && old !== page) vm_page_free(old);
  page.object = object;
  page.offset = offset;
  object.memq.set(offset, page);
}

/** vm_page_rename (vm/vm_resident.c): move a page to another object and offset. */
function vm_page_rename(page: VmPage, object: VmObject, offset: number): void {
  page.object.memq.delete(page.offset);
  page.object = object;
  page.offset = offset;
  object.memq.set(offset, page);
}

/**
 * vm_object_page_remove (vm/vm_object.c): free the resident pages at offsets in
 * [start, end). Like gnumach, looks pages up one by one when the range is small
 * compared with the number resident, and scans the resident set otherwise.
 * Conditions: start and end are page aligned.
 */
export function vm_object_page_remove(object: VmObject, start: number, end: number): void {
  if ((end - start) / PAGE_SIZE < object.memq.size / 16) {
    for (let offset = start; offset < end; offset += PAGE_SIZE) {
      const page = object.memq.get(offset);
      if (page !== undefined) vm_page_free(page);
    }
  } else {
    for (const page of [...object.memq.values()]) {
      if (start <= page.offset && page.offset < end) vm_page_free(page);
    }
  }
}

/**
 * vm_object_shadow (vm/vm_object.c): make a new object of `length` bytes that shadows
 * `object` from `offset`. The caller's reference moves into the new object's shadow
 * pointer, so no count changes; the caller now holds the new object at offset 0.
 * Returns: the new object (one reference, the caller's) and offset 0.
 */
export function vm_object_shadow(object: VmObject | null, offset: number, length: number): { object: VmObject; offset: number } {
  const result = vm_object_allocate(length);
  result.shadow = object;
  result.shadow_offset = offset;
  return { object: result, offset: 0 };
}

/**
 * vm_object_name (vm/vm_object.c): the name port vm_region reports for an object.
 * Returns: the name of the bottom object of the shadow chain, or null for a NULL object.
 */
export function vm_object_name(object: VmObject | null): VmObjectName | null {
  if (object === null) return null;
  while (object.shadow !== null) object = object.shadow;
  return object.pager_name;
}

/**
 * vm_object_collapse (vm/vm_object.c): shorten the shadow chain below `object`.
 *
 * While `object` has no pager and no paging under way, and its backing object (shadow)
 * is internal, idle, and not itself backed by an object that has a copy object:
 *  - if `object` holds the only reference to the backing object, absorb it: pages move up
 *    unless the parent has one at that offset or they fall outside the parent; the
 *    backing object's pager state and name pass to `object`; `object` shadows what the
 *    backing object shadowed;
 *  - otherwise, if the backing object has no pager and every one of its pages is hidden
 *    by a page of `object`, bypass it: `object` shadows the next object down directly.
 * Conditions: object may be null (nothing happens). Reference counts move as in gnumach:
 *   an absorbed object's shadow reference passes to `object`; a bypass takes a reference
 *   on the new shadow and drops one on the bypassed object.
 */
export function vm_object_collapse(object: VmObject | null): void {
  for (;;) {
    if (object === null || object.pager_created || object.paging_in_progress !== 0 || object.absent_count !== 0) return;
    const backing = object.shadow;
    if (backing === null) return;
    if (!backing.internal || backing.paging_in_progress !== 0) return;
    if (backing.shadow !== null && backing.shadow.copy !== null) return;

    const backing_offset = object.shadow_offset;
    const size = object.size;

    if (backing.ref_count === 1) {
      for (const page of [...backing.memq.values()]) {
        const new_offset = page.offset - backing_offset;
        const parent_page = object.memq.get(new_offset);
        if (page.offset < backing_offset || new_offset >= size || (parent_page !== undefined && !parent_page.absent)) {
          vm_page_free(page);
        } else {
          if (parent_page !== undefined) vm_page_free(parent_page);
          vm_page_rename(page, object, new_offset);
        }
      }
      // The pager (if the backing object was paged out) moves up with its offset.
      object.pager = backing.pager;
      object.pager_initialized = backing.pager_initialized;
      object.pager_ready = backing.pager_ready;
      object.pager_created = backing.pager_created;
      if (object.pager !== null) {
        object.paging_offset = backing.paging_offset + backing_offset;
        object.pager.rebind(object);
      }
      backing.pager = null;
      vm_object_name_release(object.pager_name);
      object.pager_name = backing.pager_name;
      object.shadow = backing.shadow;
      object.shadow_offset += backing.shadow_offset;
      backing.alive = false;
      backing.ref_count = 0;
      backing.pager_name = null;
    } else {
      if (backing.pager_created) return;
      for (const page of backing.memq.values()) {
        const new_offset = page.offset - backing_offset;
        // gnumach tests new_offset <= size here (not <), kept as is.
        if (page.offset >= backing_offset && new_offset <= size && !object.memq.has(new_offset)) return;
      }
      vm_object_reference(backing.shadow);
      object.shadow = backing.shadow;
      object.shadow_offset += backing.shadow_offset;
      if (backing.copy === object) backing.copy = null;
      backing.ref_count--;
    }
  }
}
