/*
 * File: ipc/entry.ts
 * Purpose: ipc_entry — one slot of an IPC space: the rights and user references
 *          that one name denotes (GNU Mach ipc/ipc_entry.h, ipc/port.h).
 *
 * A name is an index into the space's table plus a generation (Mach's PORT_GENERATIONS
 * layout: `MACH_PORT_MAKE(index, gen) = index << 8 | gen`). Each time a slot is reused its
 * generation advances, so a name that was deallocated stays invalid when its slot comes
 * back (until the 8-bit generation wraps, 256 reuses later, as in Mach).
 *
 * ie_bits packs, as in GNU Mach: 16 bits of user references, 5 bits of right type
 * (MACH_PORT_TYPE_* >> 16) and IE_BITS_MAREQUEST.
 */

import { MACH_PORT_UREFS_MAX } from '../mach/port.js';
import type { IpcPort } from './port.js';
import type { IpcPset } from './pset.js';

// ==== ie_bits =======================================================================

export const IE_BITS_UREFS_MASK = 0x0000ffff;
export const IE_BITS_TYPE_MASK = 0x001f0000;
/** A msg-accepted request (MACH_SEND_NOTIFY) is registered for this send right. */
export const IE_BITS_MAREQUEST = 0x00200000;
export const IE_BITS_RIGHT_MASK = 0x003fffff;

/** IE_BITS_UREFS(bits): the user references. */
export function IE_BITS_UREFS(bits: number): number {
  return bits & IE_BITS_UREFS_MASK;
}
/** IE_BITS_TYPE(bits): the MACH_PORT_TYPE_* bits of the rights held. */
export function IE_BITS_TYPE(bits: number): number {
  return bits & IE_BITS_TYPE_MASK;
}

// ==== names: index + generation =====================================================

export const MACH_PORT_GEN_MASK = 0xff;
/** The largest table index: index 0xffffff with generation 0xff would be MACH_PORT_DEAD. */
export const MACH_PORT_INDEX_MAX = 0xfffffe;

/** MACH_PORT_INDEX(name): the table index of a name. */
export function MACH_PORT_INDEX(name: number): number {
  return name >>> 8;
}
/** MACH_PORT_GEN(name): the generation of a name. */
export function MACH_PORT_GEN(name: number): number {
  return name & MACH_PORT_GEN_MASK;
}
/** MACH_PORT_MAKE(index, gen): the name of a table slot at a generation. */
export function MACH_PORT_MAKE(index: number, gen: number): number {
  return ((index << 8) | gen) >>> 0;
}

// ==== user-reference arithmetic (ipc/port.h) ========================================

/** MACH_PORT_UREFS_OVERFLOW(urefs, delta) */
export function MACH_PORT_UREFS_OVERFLOW(urefs: number, delta: number): boolean {
  return delta > 0 && urefs + delta > MACH_PORT_UREFS_MAX;
}
/** MACH_PORT_UREFS_UNDERFLOW(urefs, delta) */
export function MACH_PORT_UREFS_UNDERFLOW(urefs: number, delta: number): boolean {
  return delta < 0 && -delta > urefs;
}

// ==== the entry =====================================================================

/** What an entry can name: a port (send, receive, send-once rights) or a port set. */
export type IpcObject = IpcPort | IpcPset;

/**
 * struct ipc_entry. Entries in the table are kept while their slot is free (carrying the
 * generation of the last name); entries in the overflow tree exist only while in use.
 */
export class IpcEntry {
  /** The full name (index | generation) this entry answers to. */
  ie_name: number;
  ie_bits = 0;
  ie_object: IpcObject | null = null;
  /** Index of this name's dead-name request in the port's table; 0 if none. */
  ie_request = 0;
  /** Table index, or -1 for an entry of the overflow tree. */
  readonly ie_index: number;
  /** Free-list links (table entries whose type is MACH_PORT_TYPE_NONE). */
  ie_next: IpcEntry | null = null;
  ie_prev: IpcEntry | null = null;

  constructor(name: number, index: number) {
    this.ie_name = name;
    this.ie_index = index;
  }
}
