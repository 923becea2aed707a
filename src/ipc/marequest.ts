/*
 * File: ipc/marequest.ts
 * Purpose: ipc_marequest — msg-accepted requests: MACH_SEND_NOTIFY lets a sender force a
 *          message into a full queue; when that message leaves the queue (received or
 *          destroyed) a msg-accepted notification goes to the sender's notify port
 *          (GNU Mach ipc/ipc_marequest.c).
 *
 * While the request is pending, the sender's entry for the destination carries
 * IE_BITS_MAREQUEST (mach_port_type shows MACH_PORT_TYPE_MAREQUEST) and a second forced
 * send fails with MACH_SEND_NOTIFY_IN_PROGRESS.
 */

import { MACH_SEND_INVALID_NOTIFY, MACH_SEND_NOTIFY_IN_PROGRESS } from '../mach/kern_return.js';
import { MACH_PORT_NULL } from '../mach/port.js';
import { IE_BITS_MAREQUEST } from './entry.js';
import { ipc_notify_msg_accepted } from './notify.js';
import { ipc_port_lookup_notify, type IpcPort } from './port.js';
import { ipc_right_reverse } from './right.js';
import { ipc_entry_lookup, type IpcSpace } from './space.js';

/** struct ipc_marequest */
export interface IpcMarequest {
  imar_space: IpcSpace;
  /** The sender's name for the destination; MACH_PORT_NULL once that right is gone. */
  imar_name: number;
  imar_soright: IpcPort;
}

/** The pending requests of each space, by name (GNU Mach hashes (space, name)). */
const ipc_marequest_table = new WeakMap<IpcSpace, Map<number, IpcMarequest>>();

/**
 * ipc_marequest_create: registers a msg-accepted request of `space` for a message to
 * `port`, using a send-once right made from the receive right `notify`.
 * Rights: produces a send-once right for `notify` (held by the request).
 * Returns: the request, or MACH_SEND_INVALID_NOTIFY (space dead, `notify` not a receive
 * right), MACH_SEND_NOTIFY_IN_PROGRESS (the space already forced a message to this port).
 */
export function ipc_marequest_create(space: IpcSpace, port: IpcPort, notify: number): IpcMarequest | number {
  if (!space.is_active) return MACH_SEND_INVALID_NOTIFY;
  const entry = ipc_right_reverse(space, port);
  if (entry !== null && (entry.ie_bits & IE_BITS_MAREQUEST)) return MACH_SEND_NOTIFY_IN_PROGRESS;
  const soright = ipc_port_lookup_notify(space, notify);
  if (soright === null) return MACH_SEND_INVALID_NOTIFY;
  const marequest: IpcMarequest = {
    imar_space: space, imar_name: entry !== null ? entry.ie_name : MACH_PORT_NULL, imar_soright: soright,
  };
  if (entry !== null) {
    entry.ie_bits |= IE_BITS_MAREQUEST;
    let names = ipc_marequest_table.get(space);
    if (names === undefined) ipc_marequest_table.set(space, names = new Map());
    names.set(entry.ie_name, marequest);
  }
  return marequest;
}

/** ipc_marequest_cancel: the entry holding the request is going away. */
export function ipc_marequest_cancel(space: IpcSpace, name: number): void {
  const names = ipc_marequest_table.get(space);
  const marequest = names?.get(name);
  if (marequest === undefined) return;
  names!.delete(name);
  marequest.imar_name = MACH_PORT_NULL;
}

/** ipc_marequest_rename: the entry holding the request was renamed. */
export function ipc_marequest_rename(space: IpcSpace, oname: number, nname: number): void {
  const names = ipc_marequest_table.get(space);
  const marequest = names?.get(oname);
  if (marequest === undefined) return;
  names!.delete(oname);
  names!.set(nname, marequest);
  marequest.imar_name = nname;
}

/**
 * ipc_marequest_destroy: the forced message left the queue: the entry loses
 * IE_BITS_MAREQUEST and the msg-accepted notification is sent (naming the sender's right,
 * or MACH_PORT_NULL if the sender no longer holds it or its space is dead).
 * Rights: consumes the request's send-once right.
 */
export function ipc_marequest_destroy(marequest: IpcMarequest): void {
  const space = marequest.imar_space;
  let name = marequest.imar_name;
  if (name !== MACH_PORT_NULL) {
    ipc_marequest_table.get(space)?.delete(name);
    const entry = space.is_active ? ipc_entry_lookup(space, name) : null;
    if (entry !== null) entry.ie_bits &= ~IE_BITS_MAREQUEST;
    else name = MACH_PORT_NULL;
  }
  ipc_notify_msg_accepted(marequest.imar_soright, name);
}
