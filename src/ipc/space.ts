/*
 * File: ipc/space.ts
 * Purpose: ipc_space — a task's table of port names (GNU Mach ipc/ipc_space.[ch],
 *          ipc/ipc_entry.c; the table + overflow tree layout of CMU Mach 3.0).
 *
 * Names are `index << 8 | generation`. The table is an array of entries indexed by index,
 * grown by doubling, with a LIFO free list (the most recently freed slot is reused first,
 * with its generation advanced, as Mach does). Names a task picks itself
 * (mach_port_allocate_name, mach_port_insert_right, mach_port_rename) go into their table
 * slot when it is free and otherwise into an overflow map (Mach's is_tree), so every
 * lookup is O(1). The reverse map finds the one entry holding send rights for a port.
 */

import { KERN_INVALID_TASK, KERN_NO_SPACE } from '../mach/kern_return.js';
import { MACH_PORT_TYPE_NONE } from '../mach/port.js';
import {
  IE_BITS_TYPE, IE_BITS_TYPE_MASK, IpcEntry, MACH_PORT_GEN, MACH_PORT_GEN_MASK,
  MACH_PORT_INDEX_MAX, MACH_PORT_MAKE,
} from './entry.js';
import { ipc_thread_interrupt } from './mqueue.js';
import type { IpcPort } from './port.js';
import { ipc_right_clean } from './right.js';
import type { IpcThread } from './thread.js';

/** First table size: 63 usable slots (index 0 is reserved). */
const IS_TABLE_SIZE_INITIAL = 64;

/** struct ipc_space: a task's names. Create with ipc_space_create. */
export class IpcSpace {
  is_active = true;
  /** The table; slot 0 is a placeholder that never names anything. */
  readonly is_table: IpcEntry[] = [new IpcEntry(0, 0)];
  /** Head of the free list of table slots (LIFO). */
  is_free: IpcEntry | null = null;
  /** Entries whose name does not fit its table slot (is_tree in CMU Mach). */
  readonly is_tree = new Map<number, IpcEntry>();
  /** Port → the entry holding send (but not receive) rights for it. */
  readonly is_reverse_map = new Map<IpcPort, IpcEntry>();
  /** Number of names in use. */
  is_size = 0;
  /** mach_msg calls of this task that are waiting (interrupted when the space dies). */
  readonly is_threads = new Set<IpcThread>();
}

/**
 * ipc_space_create: a new, empty, active space.
 * Returns: the space (allocation cannot fail here).
 */
export function ipc_space_create(): IpcSpace {
  return new IpcSpace();
}

/**
 * ipc_space_create_special: a space that holds no entries. Ports whose receiver is a
 * special space are "naked" receive rights held by the kernel.
 */
export function ipc_space_create_special(): IpcSpace {
  const space = new IpcSpace();
  space.is_active = false;
  return space;
}

/** ipc_space_kernel: the receiver of every kernel port (ipc_port_alloc_kernel). */
export const ipc_space_kernel: IpcSpace = ipc_space_create_special();

// ==== the free list =================================================================

function ipc_entry_free_push(space: IpcSpace, entry: IpcEntry): void {
  entry.ie_prev = null;
  entry.ie_next = space.is_free;
  if (space.is_free !== null) space.is_free.ie_prev = entry;
  space.is_free = entry;
}

function ipc_entry_free_unlink(space: IpcSpace, entry: IpcEntry): void {
  if (entry.ie_prev === null) space.is_free = entry.ie_next;
  else entry.ie_prev.ie_next = entry.ie_next;
  if (entry.ie_next !== null) entry.ie_next.ie_prev = entry.ie_prev;
  entry.ie_next = null;
  entry.ie_prev = null;
}

function ipc_entry_is_free(space: IpcSpace, entry: IpcEntry): boolean {
  return entry.ie_prev !== null || space.is_free === entry;
}

/**
 * ipc_entry_grow_table: doubles the table; the new slots go on the free list lowest
 * index first. New slots start at generation 0xff so that their first name has
 * generation 0 (CMU Mach's "natural" first names).
 * Returns: false when the table already has MACH_PORT_INDEX_MAX slots.
 */
function ipc_entry_grow_table(space: IpcSpace): boolean {
  const table = space.is_table;
  const osize = table.length;
  const nsize = Math.min(osize === 1 ? IS_TABLE_SIZE_INITIAL : osize * 2, MACH_PORT_INDEX_MAX + 1);
  if (nsize <= osize) return false;
  for (let index = osize; index < nsize; index++) {
    table.push(new IpcEntry(MACH_PORT_MAKE(index, MACH_PORT_GEN_MASK), index));
  }
  for (let index = nsize - 1; index >= osize; index--) ipc_entry_free_push(space, table[index]!);
  return true;
}

// ==== entries =======================================================================

/**
 * ipc_entry_lookup: the entry a name denotes, or null.
 * Conditions: the space is active. A name whose generation is stale finds nothing.
 */
export function ipc_entry_lookup(space: IpcSpace, name: number): IpcEntry | null {
  const index = name >>> 8;
  const table = space.is_table;
  if (index !== 0 && index < table.length) {
    const entry = table[index]!;
    if (entry.ie_name === name && (entry.ie_bits & IE_BITS_TYPE_MASK) !== 0) return entry;
  }
  if (space.is_tree.size !== 0) {
    const entry = space.is_tree.get(name);
    if (entry !== undefined && (entry.ie_bits & IE_BITS_TYPE_MASK) !== 0) return entry;
  }
  return null;
}

/**
 * ipc_entry_alloc: allocates an entry with a name of the kernel's choosing.
 * The entry comes back with no rights (type MACH_PORT_TYPE_NONE); the caller fills it,
 * or gives it back with ipc_entry_dealloc.
 * Returns: the entry, or KERN_INVALID_TASK (space dead), KERN_NO_SPACE (table full).
 */
export function ipc_entry_alloc(space: IpcSpace): IpcEntry | number {
  if (!space.is_active) return KERN_INVALID_TASK;
  for (;;) {
    let entry = space.is_free;
    if (entry === null) {
      if (!ipc_entry_grow_table(space)) return KERN_NO_SPACE;
      entry = space.is_free!;
    }
    ipc_entry_free_unlink(space, entry);

    let gen = (MACH_PORT_GEN(entry.ie_name) + 1) & MACH_PORT_GEN_MASK;
    let name = MACH_PORT_MAKE(entry.ie_index, gen);
    if (space.is_tree.size !== 0) {
      // A name the task chose may already use this index and generation.
      let tries = 0;
      while (space.is_tree.has(name) && tries <= MACH_PORT_GEN_MASK) {
        gen = (gen + 1) & MACH_PORT_GEN_MASK;
        name = MACH_PORT_MAKE(entry.ie_index, gen);
        tries++;
      }
      if (tries > MACH_PORT_GEN_MASK) continue; // every generation is taken: leave the slot unused
    }
    entry.ie_name = name;
    entry.ie_bits = 0;
    entry.ie_request = 0;
    space.is_size++;
    return entry;
  }
}

/**
 * ipc_entry_alloc_name: finds or allocates the entry for a given name.
 * An existing entry comes back with its rights (type non-zero); a new one with none.
 * Conditions: the name is valid (not MACH_PORT_NULL / MACH_PORT_DEAD).
 * Returns: the entry, or KERN_INVALID_TASK (space dead).
 */
export function ipc_entry_alloc_name(space: IpcSpace, name: number): IpcEntry | number {
  if (!space.is_active) return KERN_INVALID_TASK;
  if (space.is_tree.size !== 0) {
    const entry = space.is_tree.get(name);
    if (entry !== undefined) return entry;
  }
  const index = name >>> 8;
  const table = space.is_table;
  if (index !== 0 && index < table.length) {
    const entry = table[index]!;
    if (IE_BITS_TYPE(entry.ie_bits) !== MACH_PORT_TYPE_NONE) {
      if (entry.ie_name === name) return entry;
      // The slot holds another generation: the name goes to the tree.
    } else if (ipc_entry_is_free(space, entry)) {
      ipc_entry_free_unlink(space, entry);
      entry.ie_name = name;
      entry.ie_bits = 0;
      entry.ie_request = 0;
      space.is_size++;
      return entry;
    }
  }
  const entry = new IpcEntry(name, -1);
  space.is_tree.set(name, entry);
  space.is_size++;
  return entry;
}

/**
 * ipc_entry_dealloc: gives a name back to the space.
 * Conditions: the entry holds no object and no dead-name request.
 */
export function ipc_entry_dealloc(space: IpcSpace, name: number, entry: IpcEntry): void {
  entry.ie_bits = 0;
  entry.ie_object = null;
  entry.ie_request = 0;
  if (entry.ie_index < 0) space.is_tree.delete(name);
  else ipc_entry_free_push(space, entry);
  space.is_size--;
}

/**
 * The entries in use, in ascending name order (the order GNU Mach's radix tree walks in:
 * mach_port_names, mach_port_get_set_status, ipc_space_destroy).
 */
export function ipc_space_entries(space: IpcSpace): IpcEntry[] {
  const table = space.is_table;
  const tree = [...space.is_tree.values()].filter((e) => IE_BITS_TYPE(e.ie_bits) !== 0);
  tree.sort((a, b) => a.ie_name - b.ie_name);
  const out: IpcEntry[] = [];
  let t = 0;
  for (let index = 1; index < table.length; index++) {
    const entry = table[index]!;
    if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) continue;
    while (t < tree.length && tree[t]!.ie_name < entry.ie_name) out.push(tree[t++]!);
    out.push(entry);
  }
  while (t < tree.length) out.push(tree[t++]!);
  return out;
}

// ==== reverse map ===================================================================

/** ipc_reverse_insert: `entry` now holds send rights for `port`. */
export function ipc_reverse_insert(space: IpcSpace, port: IpcPort, entry: IpcEntry): void {
  space.is_reverse_map.set(port, entry);
}

/** ipc_reverse_remove */
export function ipc_reverse_remove(space: IpcSpace, port: IpcPort): void {
  space.is_reverse_map.delete(port);
}

/** ipc_reverse_lookup: the entry holding send rights for `port`, or null. */
export function ipc_reverse_lookup(space: IpcSpace, port: IpcPort): IpcEntry | null {
  return space.is_reverse_map.get(port) ?? null;
}

// ==== death =========================================================================

/**
 * ipc_space_destroy: the task died. Its waiting mach_msg calls are interrupted
 * (MACH_SEND_INTERRUPTED / MACH_RCV_INTERRUPTED), then every entry is cleaned in name
 * order (ipc_right_clean): send rights are released (maybe no-senders), send-once rights
 * send send-once notifications, receive rights destroy their ports (queued messages are
 * destroyed, senders get dead names and dead-name notifications, a port-destroyed request
 * is honoured), port sets are destroyed, dead-name requests yield port-deleted
 * notifications.
 * Rights: releases every right the space held.
 * Conditions: does nothing if the space is already dead.
 */
export function ipc_space_destroy(space: IpcSpace): void {
  if (!space.is_active) return;
  space.is_active = false;

  for (const th of [...space.is_threads]) ipc_thread_interrupt(th);

  for (const entry of ipc_space_entries(space)) {
    ipc_right_clean(space, entry.ie_name, entry);
    entry.ie_bits = 0;
    entry.ie_object = null;
    entry.ie_request = 0;
  }
  space.is_table.length = 1;
  space.is_free = null;
  space.is_tree.clear();
  space.is_reverse_map.clear();
  space.is_size = 0;
}
