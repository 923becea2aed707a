/*
 * File: vm/map_copy.ts
 * Purpose: virtual copies of memory between maps (GNU Mach vm/vm_map.c: struct
 *          vm_map_copy, vm_map_copyin, vm_map_copyin_object, vm_map_copyout,
 *          vm_map_copyout_page_list, vm_map_copy_discard, vm_map_copy_overwrite,
 *          vm_object_copy_temporary): out-of-line memory in messages, vm_read, vm_write,
 *          vm_copy and fork (spec §6).
 *
 * A copy has one of three formats (spec §6.1):
 *   entry_list  map entries taken from the source map (vm_map_copyin): placed in the
 *               destination as they are, never merged (vm_map_copyout);
 *   object      one object, placed with vm_map_enter (the E rules): kernel-made data
 *               (device reads, pageout);
 *   page_list   pages with no object, placed by vm_map_copyout_page_list (rule K).
 * `offset` is where the data starts (the source address for entry lists, so that the
 * destination keeps the offset within the page); `size` is its length in bytes.
 */

import {
  KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, KERN_MEMORY_ERROR, KERN_NO_SPACE, KERN_PROTECTION_FAILURE, KERN_SUCCESS,
} from '../mach/kern_return.js';
import { vm_map_find_entry_anywhere } from './anywhere.js';
import { vm_map_delete } from './delete.js';
import type { VmMapEntry } from './entry.js';
import { vm_map_entry_copy_full, vm_map_entry_create, vm_map_entry_dispose } from './entry.js';
import { vm_map_enter } from './enter.js';
import { vm_fault_page, vm_fault_retry, vm_object_read_async, vm_object_read_now, type VmReadGap } from './fault.js';
import type { VmMap } from './map.js';
import {
  vm_map_clip_end, vm_map_clip_start, vm_map_entry_contains, vm_map_entry_link, vm_map_lookup_entry,
} from './map.js';
import type { VmObject } from './object.js';
import {
  vm_object_allocate, vm_object_collapse, vm_object_deallocate, vm_object_reference, vm_page_insert,
} from './object.js';
import { vm_object_copy_delayed, vm_object_copy_strategically } from './object_copy.js';
import { VmPage } from './page.js';
import type { VmSystem } from './vm_system.js';
import { PAGE_MASK, PAGE_SIZE, page_aligned, round_page, trunc_page, vm_offset_add } from './vm_param.js';
import { VM_INHERIT_DEFAULT, VM_PROT_ALL, VM_PROT_DEFAULT, VM_PROT_READ, VM_PROT_WRITE } from './vm_prot.js';

/** vm_map_copy_t: entries taken from a map (VM_MAP_COPY_ENTRY_LIST). */
export interface VmMapCopyEntryList {
  type: 'entry_list';
  /** The entries, in order, at their source addresses; unlinked records owning one reference each. */
  entries: VmMapEntry[];
  offset: number;
  size: number;
}

/** VM_MAP_COPY_OBJECT: one object (one reference owned by the copy). */
export interface VmMapCopyObject {
  type: 'object';
  object: VmObject | null;
  offset: number;
  size: number;
}

/** VM_MAP_COPY_PAGE_LIST: pages out of any object (null: a zero page). */
export interface VmMapCopyPageList {
  type: 'page_list';
  pages: Array<Uint8Array | null>;
  offset: number;
  size: number;
}

export type VmMapCopy = VmMapCopyEntryList | VmMapCopyObject | VmMapCopyPageList;

/** What vm_map_copyin returns: the code, and the copy (null for a zero-length copy). */
export interface VmMapCopyinResult {
  kr: number;
  copy: VmMapCopy | null;
}

/* ==== symmetric copy-on-write ======================================================= */

/** What vm_object_copy_temporary decided. */
export interface VmObjectCopyTemporary {
  object: VmObject | null;
  offset: number;
  src_needs_copy: boolean;
  dst_needs_copy: boolean;
}

/**
 * vm_object_copy_temporary (vm/vm_object.c): a copy of a temporary object without asking
 * anyone. A NULL object copies as NULL. A temporary object shared through fork
 * (use_shared_copy) gets a delayed copy object, marked needs_copy, the source untouched.
 * Any other temporary object is shared symmetrically: one more reference, `shadowed`, and
 * both sides need a copy on their first write.
 * Returns: the result, or null for a permanent (external) object: its copy strategy
 *   decides (vm_object_copy_strategically).
 */
export function vm_object_copy_temporary(object: VmObject | null, offset: number): VmObjectCopyTemporary | null {
  if (object === null) return { object: null, offset, src_needs_copy: false, dst_needs_copy: false };
  if (!object.temporary) return null;
  if (object.use_shared_copy) {
    return { object: vm_object_copy_delayed(object), offset, src_needs_copy: false, dst_needs_copy: true };
  }
  object.ref_count++;
  object.shadowed = true;
  return { object, offset, src_needs_copy: true, dst_needs_copy: true };
}

/* ==== copyin ======================================================================== */

/**
 * vm_map_copyin (vm/vm_map.c): an entry-list copy of [src_addr, src_addr + len) of
 * `src_map` (spec §6.2).
 *
 * The range is [trunc(src_addr), round(src_addr + len)); its start must be inside an
 * entry (else KERN_INVALID_ADDRESS, nothing clipped). The entry there is clipped at the
 * start; each entry must be readable (else KERN_PROTECTION_FAILURE, clips stay), is
 * clipped at the end, and is copied: is_shared and wiring cleared, everything else kept.
 *  - src_destroy with a NULL or temporary, not shared-copy object: the reference moves
 *    to the copy (the copy keeps needs_copy as it was); the range is deleted at the end;
 *  - otherwise vm_object_copy_temporary: NULL stays NULL; symmetric copy-on-write (both
 *    source and copy get needs_copy); a delayed copy for shared temporary objects;
 *  - permanent objects go through vm_object_copy_strategically (delayed copy with
 *    needs_copy, or a slow copy). The pager's readiness is not waited for here: the copy
 *    strategy it has declared so far (DELAY until it says otherwise) is used.
 * A hole in the range is KERN_INVALID_ADDRESS.
 * Returns: KERN_SUCCESS with the copy (null when len is 0), KERN_INVALID_ADDRESS (also
 *   for a range that wraps around), KERN_PROTECTION_FAILURE.
 */
export function vm_map_copyin(src_map: VmMap, src_addr: number, len: number, src_destroy: boolean): VmMapCopyinResult {
  if (len === 0) return { kr: KERN_SUCCESS, copy: null };
  const bits = src_map.word_bits;
  const end_addr = vm_offset_add(bits, src_addr, len);
  if (end_addr <= src_addr) return { kr: KERN_INVALID_ADDRESS, copy: null };
  let src_start = trunc_page(src_addr);
  const src_end = round_page(bits, end_addr);
  if (src_end === 0) return { kr: KERN_INVALID_ADDRESS, copy: null };

  const copy: VmMapCopyEntryList = { type: 'entry_list', entries: [], offset: src_addr, size: len };
  const fail = (kr: number): VmMapCopyinResult => {
    vm_map_copy_discard(copy);
    return { kr, copy: null };
  };

  let entry = vm_map_lookup_entry(src_map, src_start);
  if (!vm_map_entry_contains(src_map, entry, src_start)) return fail(KERN_INVALID_ADDRESS);
  vm_map_clip_start(src_map, entry, src_start);

  for (;;) {
    if (!(entry.protection & VM_PROT_READ)) return fail(KERN_PROTECTION_FAILURE);
    vm_map_clip_end(src_map, entry, src_end);
    const src_object = entry.object;
    const src_offset = entry.offset;
    const src_size = entry.vme_end - entry.vme_start;
    const new_entry = vm_map_entry_copy_full(entry);
    new_entry.is_shared = false;
    new_entry.wired_count = 0;

    if (src_destroy && (src_object === null || (src_object.temporary && !src_object.use_shared_copy))) {
      vm_object_reference(src_object);
    } else {
      const t = vm_object_copy_temporary(src_object, src_offset);
      if (t !== null) {
        new_entry.object = t.object;
        new_entry.offset = t.offset;
        new_entry.needs_copy = t.dst_needs_copy;
        if (t.src_needs_copy) entry.needs_copy = true;
      } else {
        const r = vm_object_copy_strategically(src_object!, src_offset, src_size);
        if (r.kr !== KERN_SUCCESS) {
          vm_map_entry_dispose(new_entry);
          return fail(r.kr);
        }
        new_entry.object = r.object;
        new_entry.offset = r.offset;
        new_entry.needs_copy = r.needs_copy;
      }
    }
    copy.entries.push(new_entry);

    src_start = new_entry.vme_end;
    if (src_start >= src_end) break;
    const next = entry.vme_next;
    if (next === src_map.hdr || next.vme_start !== src_start) return fail(KERN_INVALID_ADDRESS);
    entry = next;
  }

  if (src_destroy) vm_map_delete(src_map, trunc_page(src_addr), src_end);
  return { kr: KERN_SUCCESS, copy };
}

/**
 * vm_map_copyin_object (vm/vm_map.c): an object copy of [offset, offset + size) of
 * `object`. The caller's reference moves to the copy.
 */
export function vm_map_copyin_object(object: VmObject | null, offset: number, size: number): VmMapCopyObject {
  return { type: 'object', object, offset, size };
}

/**
 * A new internal object holding `bytes` from offset 0 (what a device driver or the
 * kernel fills for a reply: GNU Mach's Linux block glue makes one per read). Pages are
 * dirty and count against `system`.
 * Returns: the object, with one reference.
 */
export function vm_object_from_bytes(system: VmSystem | null, bytes: Uint8Array): VmObject {
  const size = round_page(64, bytes.length);
  const object = vm_object_allocate(size);
  for (let offset = 0; offset < size; offset += PAGE_SIZE) {
    const page = new VmPage(object, offset);
    const chunk = bytes.subarray(offset, Math.min(offset + PAGE_SIZE, bytes.length));
    const data = new Uint8Array(PAGE_SIZE);
    data.set(chunk);
    page.set_data(data);
    page.dirty = true;
    object.memq.set(offset, page);
    system?.vm_page_enqueue(page);
  }
  return object;
}

/** An object copy of `bytes` in a new internal object (vm_object_from_bytes). */
export function vm_map_copy_object_from_bytes(system: VmSystem | null, bytes: Uint8Array): VmMapCopyObject {
  return vm_map_copyin_object(vm_object_from_bytes(system, bytes), 0, bytes.length);
}

/**
 * An entry-list copy of `bytes`, as if they had been copied in from a page-aligned buffer
 * of the sender's: one entry over a new internal object holding them.
 */
export function vm_map_copy_entry_list_from_bytes(system: VmSystem | null, bytes: Uint8Array): VmMapCopyEntryList {
  const size = round_page(64, bytes.length);
  if (size === 0) return { type: 'entry_list', entries: [], offset: 0, size: 0 };
  const object = vm_object_from_bytes(system, bytes);
  const entry = vm_map_entry_create(0, size, object, 0, false, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_DEFAULT);
  return { type: 'entry_list', entries: [entry], offset: 0, size: bytes.length };
}

/** A page-list copy of `bytes` (whole pages of them; the last one zero-padded). */
export function vm_map_copy_page_list_from_bytes(bytes: Uint8Array): VmMapCopyPageList {
  const pages: Array<Uint8Array | null> = [];
  for (let offset = 0; offset < bytes.length; offset += PAGE_SIZE) {
    const data = new Uint8Array(PAGE_SIZE);
    data.set(bytes.subarray(offset, Math.min(offset + PAGE_SIZE, bytes.length)));
    pages.push(data);
  }
  return { type: 'page_list', pages, offset: 0, size: bytes.length };
}

/* ==== discard ======================================================================= */

/**
 * vm_map_copy_discard (vm/vm_map.c): a copy that will never be placed: its entries and
 * their object references go, an object copy's reference goes, page-list pages are freed.
 */
export function vm_map_copy_discard(copy: VmMapCopy | null): void {
  if (copy === null) return;
  switch (copy.type) {
    case 'entry_list':
      for (const entry of copy.entries) {
        const object = entry.object;
        vm_map_entry_dispose(entry);
        vm_object_deallocate(object);
      }
      copy.entries = [];
      break;
    case 'object':
      vm_object_deallocate(copy.object);
      copy.object = null;
      break;
    case 'page_list':
      copy.pages = [];
      break;
  }
}

/* ==== copyout ======================================================================= */

/** What vm_map_copyout returns: the code and where the data starts in the map. */
export interface VmMapCopyoutResult {
  kr: number;
  address: number;
}

/**
 * vm_map_copyout (vm/vm_map.c): place `copy` anywhere in `dst_map` (spec §6.3).
 *  - entry list: the space is round(offset + size) - trunc(offset), found anywhere with
 *    mask 0 (§8.1); the entries are linked there in order, each reset to RW / RWX / COPY,
 *    keeping object, offset and needs_copy; nothing is extended or merged; first_free
 *    moves to the last of them if it was their predecessor. The address is start + the
 *    offset within the page.
 *  - object: vm_map_enter anywhere of the object at the copy's offset, RW / RWX / COPY,
 *    no needs_copy (the E rules apply; pageout objects never merge).
 *  - page list: vm_map_copyout_page_list (rule K).
 * On success the copy is consumed; on failure (KERN_NO_SPACE) it is left to the caller.
 * Returns: KERN_SUCCESS with the address (0 for a null copy), KERN_NO_SPACE.
 */
export function vm_map_copyout(dst_map: VmMap, copy: VmMapCopy | null): VmMapCopyoutResult {
  if (copy === null) return { kr: KERN_SUCCESS, address: 0 };
  if (copy.type === 'object') {
    const r = vm_map_enter(dst_map, 0, round_page(dst_map.word_bits, copy.size), 0, true, copy.object, copy.offset, false,
      VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_DEFAULT);
    if (r.kr === KERN_SUCCESS) copy.object = null;
    return r;
  }
  if (copy.type === 'page_list') return vm_map_copyout_page_list(dst_map, copy);

  const vm_copy_start = trunc_page(copy.offset);
  const size = round_page(dst_map.word_bits, copy.offset + copy.size) - vm_copy_start;
  const found = vm_map_find_entry_anywhere(dst_map, size, 0);
  if (found === null) return { kr: KERN_NO_SPACE, address: 0 };
  const adjustment = found.start - vm_copy_start;
  let last = found.entry;
  for (const entry of copy.entries) {
    entry.vme_start += adjustment;
    entry.vme_end += adjustment;
    entry.inheritance = VM_INHERIT_DEFAULT;
    entry.protection = VM_PROT_DEFAULT;
    entry.max_protection = VM_PROT_ALL;
  }
  const address = found.start + (copy.offset - vm_copy_start);
  if (dst_map.first_free === last && copy.entries.length > 0) dst_map.first_free = copy.entries[copy.entries.length - 1]!;
  dst_map.size += size;
  for (const entry of copy.entries) {
    vm_map_entry_link(dst_map, last, entry);
    last = entry;
  }
  copy.entries = [];
  return { kr: KERN_SUCCESS, address };
}

/**
 * vm_map_copyout_page_list (vm/vm_map.c; spec §6.3 rule K): place a page list anywhere
 * in `dst_map`. The predecessor L the allocator picks is extended backward when it ends
 * at the start, is unshared and unwired, COPY, RW, max RWX, and either has no object (a
 * new internal object of L's size + size then backs L from offset 0) or has an object
 * with one reference, no pager, shadow, copy or paging (after a collapse attempt; its size
 * grows). Otherwise a new RW / RWX / COPY entry over a new object is made (first_free
 * moves to it if it was L). The pages go into the object, dirty. Never a forward merge.
 * Returns: KERN_SUCCESS with start + the offset within the page, KERN_NO_SPACE.
 */
export function vm_map_copyout_page_list(dst_map: VmMap, copy: VmMapCopyPageList): VmMapCopyoutResult {
  const size = round_page(dst_map.word_bits, copy.offset + copy.size) - trunc_page(copy.offset);
  const found = vm_map_find_entry_anywhere(dst_map, size, 0);
  if (found === null) return { kr: KERN_NO_SPACE, address: 0 };
  const start = found.start;
  const end = start + size;
  let last = found.entry;
  let object: VmObject | null = null;

  if (
    last !== dst_map.hdr &&
    last.vme_end === start &&
    !last.is_shared &&
    last.inheritance === VM_INHERIT_DEFAULT &&
    last.protection === VM_PROT_DEFAULT &&
    last.max_protection === VM_PROT_ALL &&
    last.wired_count === 0
  ) {
    if (last.object === null) {
      object = vm_object_allocate(last.vme_end - last.vme_start + size);
      last.object = object;
      last.offset = 0;
    } else {
      const candidate = last.object;
      vm_object_collapse(candidate);
      if (
        candidate.ref_count <= 1 &&
        !candidate.pager_created &&
        candidate.shadow === null &&
        candidate.copy === null &&
        candidate.paging_in_progress === 0
      ) {
        object = candidate;
        const new_size = last.offset + (start - last.vme_start) + size;
        if (new_size > object.size) object.size = new_size;
      }
    }
    if (object !== null) {
      dst_map.size += size;
      last.vme_end = end;
      dst_map.gaps.update(last);
    }
  }
  if (object === null) {
    object = vm_object_allocate(size);
    const entry = vm_map_entry_create(start, end, object, 0, false, VM_PROT_DEFAULT, VM_PROT_ALL, VM_INHERIT_DEFAULT);
    if (dst_map.first_free === last) dst_map.first_free = entry;
    dst_map.size += size;
    vm_map_entry_link(dst_map, last, entry);
    last = entry;
  }

  const old_last_offset = last.offset + (start - last.vme_start);
  const system = dst_map.system;
  copy.pages.forEach((bytes, i) => {
    const page = new VmPage(object!, old_last_offset + i * PAGE_SIZE);
    page.set_data(bytes);
    page.dirty = true;
    vm_page_insert(page, object!, old_last_offset + i * PAGE_SIZE);
    system?.vm_page_enqueue(page);
  });
  copy.pages = [];
  return { kr: KERN_SUCCESS, address: start + (copy.offset & PAGE_MASK) };
}

/**
 * vm_map_copy_insert (vm/vm_map.c): link an entry list's entries (at their own
 * addresses) after `where`. map.size is the caller's to update.
 */
export function vm_map_copy_insert(map: VmMap, where: VmMapEntry, copy: VmMapCopyEntryList): void {
  for (const entry of copy.entries) {
    vm_map_entry_link(map, where, entry);
    where = entry;
  }
  copy.entries = [];
}

/* ==== the bytes of a copy =========================================================== */

/* Each stretch of a copy's data: the object behind it, where in it, where in the data. */
function* vm_map_copy_pieces(copy: VmMapCopy): Generator<{ object: VmObject | null; offset: number; at: number; length: number; page?: Uint8Array | null }> {
  switch (copy.type) {
    case 'object':
      yield { object: copy.object, offset: copy.offset, at: 0, length: copy.size };
      return;
    case 'page_list': {
      const within = copy.offset & PAGE_MASK;
      let at = 0;
      for (let i = 0; at < copy.size; i++) {
        const from = i === 0 ? within : 0;
        const length = Math.min(PAGE_SIZE - from, copy.size - at);
        yield { object: null, offset: from, at, length, page: copy.pages[i] ?? null };
        at += length;
      }
      return;
    }
    case 'entry_list': {
      const data_start = copy.offset;
      const data_end = copy.offset + copy.size;
      for (const e of copy.entries) {
        const from = Math.max(e.vme_start, data_start);
        const to = Math.min(e.vme_end, data_end);
        if (from >= to) continue;
        yield { object: e.object, offset: e.offset + (from - e.vme_start), at: from - data_start, length: to - from };
      }
    }
  }
}

/**
 * The copy's data as a read would see it now, into a new array of copy.size bytes;
 * pages only a pager could provide are left zero and listed.
 * Returns: the bytes and the runs of them (one per source page) not read.
 */
export function vm_map_copy_read_now(copy: VmMapCopy | null): { bytes: Uint8Array; missing: VmReadGap[] } {
  if (copy === null) return { bytes: new Uint8Array(0), missing: [] };
  const bytes = new Uint8Array(copy.size);
  const missing: VmReadGap[] = [];
  for (const piece of vm_map_copy_pieces(copy)) {
    if (piece.page !== undefined) {
      if (piece.page !== null) bytes.set(piece.page.subarray(piece.offset, piece.offset + piece.length), piece.at);
      continue;
    }
    missing.push(...vm_object_read_now(piece.object, piece.offset, piece.length, bytes, piece.at));
  }
  return { bytes, missing };
}

/**
 * Fill in the pages of `bytes` that vm_map_copy_read_now could not read, asking pagers
 * and waiting for them.
 * Returns: KERN_SUCCESS or KERN_MEMORY_ERROR.
 */
export async function vm_map_copy_read_missing(system: VmSystem | null, copy: VmMapCopy, bytes: Uint8Array, missing: VmReadGap[]): Promise<number> {
  if (missing.length === 0) return KERN_SUCCESS;
  for (const piece of vm_map_copy_pieces(copy)) {
    if (piece.page !== undefined || piece.object === null) continue;
    for (const m of missing) {
      const from = Math.max(m.at, piece.at);
      const to = Math.min(m.at + m.length, piece.at + piece.length);
      if (from >= to) continue;
      const kr = await vm_object_read_async(system, piece.object, piece.offset + (from - piece.at), to - from, bytes, from);
      if (kr !== KERN_SUCCESS) return kr;
    }
  }
  return KERN_SUCCESS;
}

/* ==== overwrite ===================================================================== */

/* Split an entry-list copy's entry at `at` (vm_map_copy_clip_end): the back part follows it. */
function vm_map_copy_clip_end(copy: VmMapCopyEntryList, index: number, at: number): void {
  const entry = copy.entries[index]!;
  if (at >= entry.vme_end) return;
  const back = vm_map_entry_copy_full(entry);
  back.vme_start = at;
  back.offset += at - entry.vme_start;
  entry.vme_end = at;
  vm_object_reference(back.object);
  copy.entries.splice(index + 1, 0, back);
}

/**
 * vm_map_copy_overwrite (vm/vm_map.c; vm_write, vm_copy): write an entry-list copy over
 * [dst_addr, dst_addr + copy.size) of `dst_map`, which must be mapped without holes and
 * writable. Never merges (spec §2.4).
 * The copy's offset and size and dst_addr must be page aligned (else
 * KERN_INVALID_ARGUMENT). The destination is clipped to the copy's pieces. Where it holds
 * unshared temporary memory (or none yet), its object is simply replaced by the copy's
 * (object, offset and needs_copy); permanent memory is written page by page through
 * faults (vm_fault_copy), waiting for pagers as needed.
 * On success the copy is consumed; after a failure it is the caller's to discard.
 * Returns: KERN_SUCCESS, KERN_INVALID_ARGUMENT, KERN_INVALID_ADDRESS,
 *   KERN_PROTECTION_FAILURE, KERN_MEMORY_ERROR.
 */
export async function vm_map_copy_overwrite(dst_map: VmMap, dst_addr: number, copy: VmMapCopy | null): Promise<number> {
  if (copy === null) return KERN_SUCCESS;
  if (copy.type !== 'entry_list') return KERN_INVALID_ARGUMENT;
  if (!page_aligned(copy.offset) || !page_aligned(copy.size) || !page_aligned(dst_addr)) return KERN_INVALID_ARGUMENT;
  if (copy.size === 0) {
    vm_map_copy_discard(copy);
    return KERN_SUCCESS;
  }

  // Pass 1: the destination is all there and writable.
  let tmp_entry = vm_map_lookup_entry(dst_map, dst_addr);
  if (!vm_map_entry_contains(dst_map, tmp_entry, dst_addr)) return KERN_INVALID_ADDRESS;
  vm_map_clip_start(dst_map, tmp_entry, dst_addr);
  {
    let size = copy.size;
    for (let entry = tmp_entry; ; ) {
      if (!(entry.protection & VM_PROT_WRITE)) return KERN_PROTECTION_FAILURE;
      const sub_size = entry.vme_end - entry.vme_start;
      if (size <= sub_size) break;
      const next = entry.vme_next;
      if (next === dst_map.hdr || next.vme_start !== entry.vme_end) return KERN_INVALID_ADDRESS;
      size -= sub_size;
      entry = next;
    }
  }

  // Pass 2: overwrite.
  let start = dst_addr;
  while (copy.entries.length > 0) {
    let copy_entry = copy.entries[0]!;
    let copy_size = copy_entry.vme_end - copy_entry.vme_start;
    const entry = tmp_entry;
    if (entry === dst_map.hdr || entry.vme_start !== start) return KERN_INVALID_ADDRESS;
    if (!(entry.protection & VM_PROT_WRITE)) return KERN_PROTECTION_FAILURE;
    let size = entry.vme_end - entry.vme_start;
    if (copy_size < size) {
      vm_map_clip_end(dst_map, entry, entry.vme_start + copy_size);
      size = copy_size;
    }
    if (size < copy_size) {
      vm_map_copy_clip_end(copy, 0, copy_entry.vme_start + size);
      copy_entry = copy.entries[0]!;
      copy_size = size;
    }

    const object = entry.object;
    if (!entry.is_shared && (object === null || object.temporary)) {
      entry.object = copy_entry.object;
      entry.offset = copy_entry.offset;
      entry.needs_copy = copy_entry.needs_copy;
      entry.wired_count = 0;
      copy.entries.shift();
      vm_map_entry_dispose(copy_entry);
      vm_object_deallocate(object);
      start = entry.vme_end;
      tmp_entry = entry.vme_next;
      continue;
    }

    // Permanent memory: copy the pages through faults on the destination object.
    const dst_object = object!;
    const dst_offset = entry.offset;
    vm_object_reference(dst_object);
    const kr = await vm_fault_copy(dst_map.system, copy_entry.object, copy_entry.offset, size, dst_object, dst_offset);
    vm_object_deallocate(dst_object);
    if (kr !== KERN_SUCCESS) return kr;
    copy.entries.shift();
    const done_object = copy_entry.object;
    vm_map_entry_dispose(copy_entry);
    vm_object_deallocate(done_object);
    start += size;
    if (copy.entries.length === 0) break;
    tmp_entry = vm_map_lookup_entry(dst_map, start);
    if (!vm_map_entry_contains(dst_map, tmp_entry, start)) return KERN_INVALID_ADDRESS;
    vm_map_clip_start(dst_map, tmp_entry, start);
  }
  vm_map_copy_discard(copy);
  dst_map.system?.balance();
  return KERN_SUCCESS;
}

/**
 * vm_fault_copy (vm/vm_fault.c): copy `size` bytes from src_object/src_offset (NULL:
 * zeros) into dst_object/dst_offset, page by page: each destination page is faulted for
 * writing in dst_object (pager data, copy-object pushes), then filled and dirtied.
 * Returns: KERN_SUCCESS or KERN_MEMORY_ERROR.
 */
export async function vm_fault_copy(
  system: VmSystem | null, src_object: VmObject | null, src_offset: number, size: number, dst_object: VmObject, dst_offset: number,
): Promise<number> {
  const buffer = new Uint8Array(PAGE_SIZE);
  for (let done = 0; done < size; done += PAGE_SIZE) {
    buffer.fill(0);
    const kr = await vm_object_read_async(system, src_object, src_offset + done, PAGE_SIZE, buffer, 0);
    if (kr !== KERN_SUCCESS) return kr;
    // The page is filled in the same step that finds it, before anything can page it out.
    const r = await vm_fault_retry(system, () => {
      const f = vm_fault_page(system, dst_object, dst_offset + done, VM_PROT_WRITE, VM_PROT_ALL);
      if (f.kr === KERN_SUCCESS && f.page !== undefined) {
        f.page.data.set(buffer);
        f.page.dirty = true;
        system?.vm_page_activate(f.page);
      }
      return f;
    });
    if (r.kr !== KERN_SUCCESS) return r.kr ?? KERN_MEMORY_ERROR;
  }
  return KERN_SUCCESS;
}

