/*
 * File: test/unit/ipc/helpers.ts
 * Purpose: shared fixtures for the kernel IPC unit tests: tasks (spaces) destroyed after
 *          each test, message builders, synchronous send/receive, and the leak check.
 *
 * The leak check runs after every test: first a full audit of right counts (each live
 * port's ip_srights / ip_sorights / ip_msgcount must equal what the spaces, the queued
 * messages and the notification requests actually hold), then every task dies and the
 * kernel-wide counts (ports, port sets, kernel messages) must be back where they started.
 */

import { afterEach, beforeEach, expect } from 'vitest';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND,
  MACH_MSG_TYPE_PORT_ANY, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_RCV_MSG,
  MACH_RCV_TIMEOUT, MACH_MSG_SIZE_MAX, MACH_SEND_MSG, MACH_MSGH_BITS_REMOTE, MACH_MSGH_BITS_LOCAL,
  type MachMessage, type MachMsgItem, type MachMsgType,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE,
} from '../../../src/mach/port.js';
import {
  IE_BITS_TYPE, IP_VALID, ipc_entry_lookup, ipc_kmsg_size, ipc_object_copyout, ipc_port_alloc,
  ipc_space_create, ipc_space_destroy, ipc_space_entries, ipc_stats, mach_msg, mach_port_extract_right,
  type IpcKmsg, type IpcPort, type IpcPortRef, type IpcPset, type IpcSpace, type IpcStats,
  type MachMsgResult, type MachMsgReturn,
} from '../../../src/ipc/index.js';

// ==== tasks and the leak check ======================================================

const tasks: IpcSpace[] = [];

/** A new task's space; it dies after the test. */
export function task(): IpcSpace {
  const space = ipc_space_create();
  tasks.push(space);
  return space;
}

/** Installs the per-test leak check (call once at the top of a test file). */
export function useLeakCheck(): void {
  let base: IpcStats;
  beforeEach(() => {
    base = ipc_stats();
  });
  afterEach(() => {
    try {
      auditRights(tasks);
    } finally {
      for (const space of tasks.splice(0)) ipc_space_destroy(space);
    }
    expect(ipc_stats()).toEqual(base);
  });
}

function portsOfItem(item: { type: MachMsgType; data: unknown }): IpcPortRef[] {
  if (!MACH_MSG_TYPE_PORT_ANY(item.type.name)) return [];
  return Array.isArray(item.data) ? item.data as IpcPortRef[] : [item.data as IpcPortRef];
}

function queuedMessages(head: IpcKmsg | null): IpcKmsg[] {
  const out: IpcKmsg[] = [];
  for (let k = head; k !== null; k = k.ikm_next) out.push(k);
  return out;
}

/**
 * Recounts, for every port reachable from `spaces` (names, messages queued on reachable
 * ports, rights travelling in them, notification requests), the send and send-once rights
 * and queued messages, and compares with the port's counters.
 */
export function auditRights(spaces: IpcSpace[]): void {
  const srights = new Map<IpcPort, number>();
  const sorights = new Map<IpcPort, number>();
  const msgcount = new Map<IpcPort, number>();
  const ports = new Set<IpcPort>();
  const psets = new Set<IpcPset>();
  const seenMsgs = new Set<IpcKmsg>();
  const work: IpcPort[] = [];
  const bump = (m: Map<IpcPort, number>, p: IpcPort): void => { m.set(p, (m.get(p) ?? 0) + 1); };
  const reach = (p: IpcPortRef): void => {
    if (IP_VALID(p) && !ports.has(p)) { ports.add(p); work.push(p); }
  };
  const countRight = (p: IpcPortRef, type: number): void => {
    if (!IP_VALID(p)) return;
    reach(p);
    if (type === MACH_MSG_TYPE_PORT_SEND) bump(srights, p);
    if (type === MACH_MSG_TYPE_PORT_SEND_ONCE) bump(sorights, p);
  };
  const scanMessage = (k: IpcKmsg): void => {
    if (seenMsgs.has(k)) return;
    seenMsgs.add(k);
    const h = k.header;
    countRight(h.remotePort, MACH_MSGH_BITS_REMOTE(h.bits));
    countRight(h.localPort, MACH_MSGH_BITS_LOCAL(h.bits));
    if (IP_VALID(h.remotePort)) bump(msgcount, h.remotePort);
    if (h.bits & MACH_MSGH_BITS_COMPLEX) {
      for (const item of k.body) for (const p of portsOfItem(item)) countRight(p, item.type.name);
    }
    if (k.ikm_marequest !== null) countRight(k.ikm_marequest.imar_soright, MACH_MSG_TYPE_PORT_SEND_ONCE);
  };

  for (const space of spaces) {
    if (!space.is_active) continue;
    const entries = ipc_space_entries(space);
    expect(entries.length, 'names in use (is_size)').toBe(space.is_size);
    for (const entry of entries) {
      const type = IE_BITS_TYPE(entry.ie_bits);
      const object = entry.ie_object;
      if (type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE | MACH_PORT_TYPE_RECEIVE)) {
        const port = object as IpcPort;
        reach(port);
        if (!port.ip_active) continue;
        if (type & MACH_PORT_TYPE_SEND) bump(srights, port);
        if (type & MACH_PORT_TYPE_SEND_ONCE) bump(sorights, port);
        if (type & MACH_PORT_TYPE_RECEIVE) {
          expect(port.ip_receiver).toBe(space);
          expect(port.ip_receiver_name).toBe(entry.ie_name);
        }
        if (type === MACH_PORT_TYPE_SEND) expect(space.is_reverse_map.get(port)).toBe(entry);
      } else if (object !== null) {
        psets.add(object as IpcPset);
      }
    }
  }
  while (work.length > 0) {
    const port = work.pop()!;
    if (!port.ip_active) continue;
    for (const k of queuedMessages(port.ip_messages.imq_messages.ikmq_head)) scanMessage(k);
    if (port.ip_pset !== null) psets.add(port.ip_pset);
    for (const p of [port.ip_nsrequest, port.ip_pdrequest]) countRight(p, MACH_MSG_TYPE_PORT_SEND_ONCE);
    for (const ipr of port.ip_dnrequests ?? []) countRight(ipr.ipr_soright, MACH_MSG_TYPE_PORT_SEND_ONCE);
    for (let t = port.ip_blocked.ithq_head; t !== null; t = t.ith_next) scanMessage(t.ith_kmsg!);
    if (work.length === 0) {
      for (const pset of psets) {
        for (const k of queuedMessages(pset.ips_messages.imq_messages.ikmq_head)) scanMessage(k);
      }
    }
  }
  for (const port of ports) {
    if (!port.ip_active) continue;
    expect({ srights: port.ip_srights, sorights: port.ip_sorights }, 'right counts of a port')
      .toEqual({ srights: srights.get(port) ?? 0, sorights: sorights.get(port) ?? 0 });
    // Messages of blocked senders are counted above but are not queued yet.
    let blocked = 0;
    for (let t = port.ip_blocked.ithq_head; t !== null; t = t.ith_next) blocked++;
    expect(port.ip_msgcount, 'ip_msgcount').toBe((msgcount.get(port) ?? 0) - blocked);
  }
}

// ==== rights ========================================================================

/** A new receive right in `space`; returns its name. */
export function allocReceive(space: IpcSpace): number {
  const port = ipc_port_alloc(space);
  if (typeof port === 'number') throw new Error(`ipc_port_alloc: ${port}`);
  return port.ip_receiver_name;
}

/** The port a name denotes. */
export function portOf(space: IpcSpace, name: number): IpcPort {
  const entry = ipc_entry_lookup(space, name);
  if (entry === null) throw new Error(`no entry for 0x${name.toString(16)}`);
  return entry.ie_object as IpcPort;
}

/**
 * Gives `to` a right taken from `from`'s `name` with disposition `disposition`
 * (MAKE_SEND by default), as if it arrived in a message. Returns the name in `to`.
 */
export function giveRight(from: IpcSpace, name: number, to: IpcSpace, disposition = MACH_MSG_TYPE_MAKE_SEND): number {
  const r = mach_port_extract_right(from, name, disposition);
  if (r.kr !== 0 || !IP_VALID(r.poly)) throw new Error(`extract_right: ${r.kr}`);
  const entry = ipc_object_copyout(to, r.poly, r.polyPoly, true);
  if (typeof entry === 'number') throw new Error(`copyout: ${entry}`);
  return entry.ie_name;
}

/** A port in a fresh server task plus a send right for it in `client`. */
export function serverPort(client: IpcSpace): { server: IpcSpace; port: number; send: number } {
  const server = task();
  const port = allocReceive(server);
  const send = giveRight(server, port, client);
  return { server, port, send };
}

// ==== messages ======================================================================

export function typeOf(name: number, size = 32, number = 1, inline = true): MachMsgType {
  return { name, size, number, inline, longform: false, deallocate: false };
}

export function intItem(value: number): MachMsgItem {
  return { type: typeOf(MACH_MSG_TYPE_INTEGER_32), data: value };
}

export function portItem(name: number, disposition: number): MachMsgItem {
  return { type: typeOf(disposition), data: name };
}

export function portsItem(names: number[], disposition: number, inline = true): MachMsgItem {
  return { type: typeOf(disposition, 32, names.length, inline), data: names };
}

export function bytesItem(bytes: Uint8Array, inline = true): MachMsgItem {
  return {
    type: { name: 9, size: 8, number: bytes.length, inline, longform: true, deallocate: false },
    data: bytes,
  };
}

/** A message; complex when any item is a port or out of line; size as laid out. */
export function message(
  dest: number, destType: number, reply: number, replyType: number, id: number, body: MachMsgItem[] = [],
): MachMessage {
  const complex = body.some((i) => MACH_MSG_TYPE_PORT_ANY(i.type.name) || !i.type.inline);
  return {
    header: {
      bits: (MACH_MSGH_BITS(destType, replyType) | (complex ? MACH_MSGH_BITS_COMPLEX : 0)) >>> 0,
      size: ipc_kmsg_size(body), remotePort: dest, localPort: reply, seqno: 0, id,
    },
    body,
  };
}

/** The result of a call that must not wait. */
export function now(r: MachMsgReturn): MachMsgResult {
  if (r instanceof Promise) throw new Error('mach_msg waited');
  return r;
}

/** Sends without waiting for room (the call must finish at once). */
export function send(space: IpcSpace, msg: MachMessage, option = MACH_SEND_MSG, timeout = 0, notify = 0): MachMsgResult {
  return now(mach_msg(space, msg, option, msg.header.size, 0, 0, timeout, notify));
}

/** Polls a receive (MACH_RCV_TIMEOUT 0). */
export function poll(space: IpcSpace, name: number, size = MACH_MSG_SIZE_MAX, option = 0, notify = 0): MachMsgResult {
  return now(mach_msg(space, null, MACH_RCV_MSG | MACH_RCV_TIMEOUT | option, 0, size, name, 0, notify));
}

/** A receive that may wait. */
export function receive(space: IpcSpace, name: number, option = 0, timeout = 0, size = MACH_MSG_SIZE_MAX): MachMsgReturn {
  return mach_msg(space, null, MACH_RCV_MSG | option, 0, size, name, timeout, 0);
}

/** Settles pending promise callbacks (wakeups are synchronous; results arrive in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Resolves to 'pending' if the promise hasn't settled after the microtask queue drained. */
export async function state<T>(p: Promise<T>): Promise<'pending' | T> {
  const marker = Symbol('pending');
  const r = await Promise.race([p, settle().then(() => marker)]);
  return r === marker ? 'pending' : r as T;
}
