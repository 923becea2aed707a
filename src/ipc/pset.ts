/*
 * File: ipc/pset.ts
 * Purpose: ipc_pset — port sets: one message queue fed by several receive rights of the
 *          same space (GNU Mach ipc/ipc_pset.c).
 *
 * While a port is in a set its messages wait in the set's queue, in arrival order across
 * all members; taking the port out moves its messages back. GNU Mach leaves the members of
 * a destroyed set to notice lazily; here they are taken out when the set is destroyed,
 * which nothing a task can do tells apart.
 */

import { KERN_NOT_IN_SET, KERN_SUCCESS, MACH_RCV_PORT_CHANGED, MACH_RCV_PORT_DIED } from '../mach/kern_return.js';
import { MACH_PORT_TYPE_PORT_SET } from '../mach/port.js';
import { IpcMqueue, ipc_mqueue_changed, ipc_mqueue_move } from './mqueue.js';
import { ipc_object_alloc, ipc_object_alloc_name } from './object.js';
import type { IpcPort } from './port.js';
import type { IpcSpace } from './space.js';

let ipc_pset_live = 0;

/** Number of port sets alive. */
export function ipc_pset_count(): number {
  return ipc_pset_live;
}

/** struct ipc_pset. Allocate with ipc_pset_alloc*. */
export class IpcPset {
  ips_active = true;
  /** The set's name in its space. */
  ips_local_name: number;
  readonly ips_messages = new IpcMqueue();
  /** The member ports (each has ip_pset === this). */
  readonly ips_members = new Set<IpcPort>();

  constructor(name: number) {
    this.ips_local_name = name;
  }
}

/**
 * ipc_pset_alloc: a new, empty port set in `space`.
 * Rights: produces a port-set right.
 * Returns: the set, or KERN_INVALID_TASK, KERN_NO_SPACE.
 */
export function ipc_pset_alloc(space: IpcSpace): IpcPset | number {
  const pset = new IpcPset(0);
  const entry = ipc_object_alloc(space, pset, MACH_PORT_TYPE_PORT_SET, 0);
  if (typeof entry === 'number') return entry;
  pset.ips_local_name = entry.ie_name;
  ipc_pset_live++;
  return pset;
}

/**
 * ipc_pset_alloc_name: like ipc_pset_alloc, under a given name.
 * Returns: the set, or KERN_INVALID_TASK, KERN_NAME_EXISTS.
 */
export function ipc_pset_alloc_name(space: IpcSpace, name: number): IpcPset | number {
  const pset = new IpcPset(name);
  const kr = ipc_object_alloc_name(space, pset, MACH_PORT_TYPE_PORT_SET, 0, name);
  if (kr !== KERN_SUCCESS) return kr;
  ipc_pset_live++;
  return pset;
}

/**
 * ipc_pset_add: puts a port into a set. The port's queued messages move to the set's
 * queue; threads receiving on the port wake with MACH_RCV_PORT_CHANGED.
 * Conditions: both active; the port is in no set; same space holds both.
 */
export function ipc_pset_add(pset: IpcPset, port: IpcPort): void {
  port.ip_pset = pset;
  pset.ips_members.add(port);
  ipc_mqueue_move(pset.ips_messages, port.ip_messages, port);
  ipc_mqueue_changed(port.ip_messages, MACH_RCV_PORT_CHANGED);
}

/**
 * ipc_pset_remove: takes a port out of its set; its messages move back to its own queue
 * (or to a receiver already waiting on the port).
 * Conditions: the port is active and in `pset`.
 */
export function ipc_pset_remove(pset: IpcPset, port: IpcPort): void {
  port.ip_pset = null;
  pset.ips_members.delete(port);
  ipc_mqueue_move(port.ip_messages, pset.ips_messages, port);
}

/**
 * ipc_pset_move: moves a port into `nset` (out of any set it was in), or, if `nset` is
 * null, out of its set.
 * Returns: KERN_SUCCESS, KERN_NOT_IN_SET (nset null and the port is in no set).
 */
export function ipc_pset_move(port: IpcPort, nset: IpcPset | null): number {
  const oset = port.ip_pset;
  if (oset === nset) {
    // already there: a no-op (KERN_NOT_IN_SET below if both are null)
  } else if (oset === null) {
    ipc_pset_add(nset!, port);
  } else if (nset === null) {
    ipc_pset_remove(oset, port);
  } else {
    ipc_pset_remove(oset, port);
    ipc_pset_add(nset, port);
  }
  return nset === null && oset === null ? KERN_NOT_IN_SET : KERN_SUCCESS;
}

/**
 * ipc_pset_destroy: destroys a port set: threads receiving on it wake with
 * MACH_RCV_PORT_DIED, its members leave it (taking their messages back).
 * Rights: consumes the port-set right.
 */
export function ipc_pset_destroy(pset: IpcPset): void {
  pset.ips_active = false;
  ipc_pset_live--;
  ipc_mqueue_changed(pset.ips_messages, MACH_RCV_PORT_DIED);
  for (const port of [...pset.ips_members]) ipc_pset_remove(pset, port);
}
