/*
 * File: mach/port.ts
 * Purpose: port names, right kinds and port types as user code sees them
 *          (GNU Mach include/mach/port.h, plus the port macros of include/mach/message.h).
 *
 * A port name is an unsigned 32-bit number in one task's IPC space. MACH_PORT_NULL and
 * MACH_PORT_DEAD are legal in messages but never denote an entry.
 */

import {
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND_ONCE,
} from './message.js';

// ==== names =========================================================================

export const MACH_PORT_NULL = 0;
/** MACH_PORT_DEAD: ~0 as an unsigned 32-bit name. */
export const MACH_PORT_DEAD = 0xffffffff;

/** MACH_PORT_VALID(name): neither null nor dead. */
export function MACH_PORT_VALID(name: number): boolean {
  return name !== MACH_PORT_NULL && name !== MACH_PORT_DEAD;
}

// ==== rights (arguments of mach_port_allocate, get_refs, mod_refs) =================

export const MACH_PORT_RIGHT_SEND = 0;
export const MACH_PORT_RIGHT_RECEIVE = 1;
export const MACH_PORT_RIGHT_SEND_ONCE = 2;
export const MACH_PORT_RIGHT_PORT_SET = 3;
export const MACH_PORT_RIGHT_DEAD_NAME = 4;
export const MACH_PORT_RIGHT_NUMBER = 5;

// ==== types (bit masks returned by mach_port_type / mach_port_names) ================

/** MACH_PORT_TYPE(right) */
export function MACH_PORT_TYPE(right: number): number {
  return (1 << (right + 16)) >>> 0;
}
export const MACH_PORT_TYPE_NONE = 0;
export const MACH_PORT_TYPE_SEND = 0x00010000;
export const MACH_PORT_TYPE_RECEIVE = 0x00020000;
export const MACH_PORT_TYPE_SEND_ONCE = 0x00040000;
export const MACH_PORT_TYPE_PORT_SET = 0x00080000;
export const MACH_PORT_TYPE_DEAD_NAME = 0x00100000;

export const MACH_PORT_TYPE_SEND_RECEIVE = MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE;
export const MACH_PORT_TYPE_SEND_RIGHTS = MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE;
export const MACH_PORT_TYPE_PORT_RIGHTS = MACH_PORT_TYPE_SEND_RIGHTS | MACH_PORT_TYPE_RECEIVE;
export const MACH_PORT_TYPE_PORT_OR_DEAD = MACH_PORT_TYPE_PORT_RIGHTS | MACH_PORT_TYPE_DEAD_NAME;
export const MACH_PORT_TYPE_ALL_RIGHTS = MACH_PORT_TYPE_PORT_OR_DEAD | MACH_PORT_TYPE_PORT_SET;

/** Pseudo type bits: a dead-name request / a msg-accepted request is registered. */
export const MACH_PORT_TYPE_DNREQUEST = 0x80000000;
export const MACH_PORT_TYPE_MAREQUEST = 0x40000000;
export const MACH_PORT_TYPE_COMPAT = 0x20000000;

// ==== user references, queue limits, kernel types ===================================

/** MACH_PORT_UREFS_MAX (ipc/port.h): 16 bits of user references. */
export const MACH_PORT_UREFS_MAX = 0xffff;

export const MACH_PORT_QLIMIT_DEFAULT = 5;
export const MACH_PORT_QLIMIT_MAX = 16;

/** mach_port_set_ktype() values. */
export const MACH_PORT_KTYPE_NONE = 0;
export const MACH_PORT_KTYPE_USER_DEVICE = 28;

/** mach_port_status_t, as mach_port_get_receive_status returns it. */
export interface MachPortStatus {
  /** containing port set (name in the caller's space), or MACH_PORT_NULL */
  mps_pset: number;
  mps_seqno: number;
  mps_mscount: number;
  mps_qlimit: number;
  mps_msgcount: number;
  mps_sorights: number;
  /** do send rights exist? */
  mps_srights: boolean;
  mps_pdrequest: boolean;
  mps_nsrequest: boolean;
}

// ==== message.h port macros not in mach/message.ts ==================================

/** MACH_MSG_TYPE_PORT_ANY_RIGHT(x): a right that can be inserted (16..18). */
export function MACH_MSG_TYPE_PORT_ANY_RIGHT(x: number): boolean {
  return x >= MACH_MSG_TYPE_MOVE_RECEIVE && x <= MACH_MSG_TYPE_MOVE_SEND_ONCE;
}
