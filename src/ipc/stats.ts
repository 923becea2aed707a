/*
 * File: ipc/stats.ts
 * Purpose: counters for leak checks (the role of capnweb's getStats()): per space, the
 *          names by right type and their user references; kernel-wide, the live ports,
 *          port sets and kernel messages.
 *
 * A test takes ipc_stats() and ipc_space_stats() before an operation and expects the same
 * numbers once every right the operation created has been released.
 */

import {
  MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND,
  MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_RIGHTS,
} from '../mach/port.js';
import { IE_BITS_TYPE, IE_BITS_UREFS } from './entry.js';
import { ipc_kmsg_count } from './kmsg.js';
import { ipc_port_count, type IpcPort } from './port.js';
import { ipc_pset_count } from './pset.js';
import { ipc_space_entries, type IpcSpace } from './space.js';

/** What one space holds. A name holding send and receive rights counts in both. */
export interface IpcSpaceStats {
  /** Names in use. */
  names: number;
  send: number;
  receive: number;
  sendOnce: number;
  portSet: number;
  deadName: number;
  /** User references over all names (send rights, send-once rights, dead names). */
  urefs: number;
  /** Registered dead-name requests. */
  dnrequests: number;
  /** mach_msg calls of the space's task that are waiting. */
  threads: number;
}

/** Kernel-wide counts. */
export interface IpcStats {
  /** Ports alive (not destroyed), kernel ports included. */
  ports: number;
  portSets: number;
  /** Kernel messages alive: queued, or held by a kernel server. */
  kmsgs: number;
}

/**
 * The space's names by right type. Rights to ports that died count as the dead names they
 * will turn into when looked at (with the extra uref of a dead-name notification).
 */
export function ipc_space_stats(space: IpcSpace): IpcSpaceStats {
  const stats: IpcSpaceStats = {
    names: 0, send: 0, receive: 0, sendOnce: 0, portSet: 0, deadName: 0, urefs: 0, dnrequests: 0,
    threads: space.is_threads.size,
  };
  if (!space.is_active) return stats;
  for (const entry of ipc_space_entries(space)) {
    let type = IE_BITS_TYPE(entry.ie_bits);
    let urefs = IE_BITS_UREFS(entry.ie_bits);
    let request = entry.ie_request !== 0;
    if (type & MACH_PORT_TYPE_SEND_RIGHTS && !(entry.ie_object as IpcPort).ip_active) {
      type = MACH_PORT_TYPE_DEAD_NAME;
      if (request) urefs++;
      request = false;
    }
    stats.names++;
    if (type & MACH_PORT_TYPE_SEND) stats.send++;
    if (type & MACH_PORT_TYPE_RECEIVE) stats.receive++;
    if (type & MACH_PORT_TYPE_SEND_ONCE) stats.sendOnce++;
    if (type & MACH_PORT_TYPE_PORT_SET) stats.portSet++;
    if (type & MACH_PORT_TYPE_DEAD_NAME) stats.deadName++;
    stats.urefs += urefs;
    if (request) stats.dnrequests++;
  }
  return stats;
}

/** Kernel-wide live objects. */
export function ipc_stats(): IpcStats {
  return { ports: ipc_port_count(), portSets: ipc_pset_count(), kmsgs: ipc_kmsg_count() };
}
