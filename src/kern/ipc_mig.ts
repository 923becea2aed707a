/*
 * File: kern/ipc_mig.ts
 * Purpose: MIG in the kernel: the MachMsg that tsmig's generated stubs run on when the
 *          kernel is one end of an interface (GNU Mach kern/ipc_mig.c).
 *
 * In the kernel a message holds naked rights, not names (ipc/kmsg.ts). Generated code
 * only ever sees port *handles*, so the kernel gives it handles that stand for naked
 * rights: `right(ref)` makes one, and the handle's name is a token this KernelMsg maps
 * back to the right. Two uses:
 *
 *  - KernelUser: the kernel calls a generated user stub (a notification, a call to a
 *    pager); the stub's mach_msg turns tokens back into naked rights and sends the kmsg
 *    from the kernel (mach_msg_send_from_kernel), or, for notifications, as it is
 *    (ipc_mqueue_send_always: their rights are already in transit).
 *  - KernelServer: `kernelServer(demux)` runs a generated demux as a kernel object server
 *    (ipc/kobject.ts): the request's naked rights become handles, the work function takes
 *    the rights it keeps (`take`), and the reply's handles become naked rights again,
 *    moved into the reply — GNU MIG's KernelServer stubs do the same with ipc_port_t.
 */

import { KERN_SUCCESS, MACH_MSG_SUCCESS, MIG_NO_REPLY } from '../mach/kern_return.js';
import {
  copyinType, MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_LOCAL, MACH_MSGH_BITS_REMOTE, MACH_MSG_TYPE_PORT_ANY,
  MACH_RCV_MSG, type MachMessage, type MachMsgItem,
} from '../mach/message.js';
import type { MachMsg, MachPort, MigDemux } from '../mach/mig.js';
import { MACH_PORT_DEAD, MACH_PORT_NULL } from '../mach/port.js';
import { IpcKmsg, type IpcKmsgItem } from '../ipc/kmsg.js';
import type { IpcKobjectDemux } from '../ipc/kobject.js';
import { mach_msg_send_from_kernel } from '../ipc/mach_msg.js';
import { ipc_mqueue_send_always } from '../ipc/mqueue.js';
import { ipc_object_destroy } from '../ipc/object.js';
import { IP_DEAD, IP_VALID, type IpcPortRef } from '../ipc/port.js';

/** A handle for a naked right held by the kernel (its name is a KernelMsg token). */
export interface KernelPort extends MachPort {
  readonly task: KernelMsg;
}

/**
 * The kernel's MachMsg. `send` says how messages from KernelUser stubs leave:
 * 'from_kernel' applies their dispositions to rights the kernel holds
 * (ipc_kmsg_copyin_from_kernel); 'in_transit' sends rights that are already in their
 * message form (notifications).
 */
export class KernelMsg implements MachMsg {
  private readonly rights = new Map<number, IpcPortRef>();
  private nextToken = 1;
  private readonly send: 'from_kernel' | 'in_transit';

  constructor(send: 'from_kernel' | 'in_transit' = 'from_kernel') {
    this.send = send;
  }

  /** A handle standing for the naked right `ref` (null for IP_NULL). */
  right(ref: IpcPortRef): KernelPort | null {
    if (ref === null) return null;
    return { name: this.token(ref), task: this };
  }

  /**
   * The naked right a handle stands for; the handle is used up (its token forgotten), so
   * the caller now owns the right. MACH_PORT_NULL and MACH_PORT_DEAD map to IP_NULL/IP_DEAD.
   */
  take(p: MachPort | number | null): IpcPortRef {
    const name = typeof p === 'number' ? p : p === null ? MACH_PORT_NULL : p.name;
    if (name === MACH_PORT_NULL) return null;
    if (name === MACH_PORT_DEAD) return IP_DEAD;
    if (typeof p === 'object' && p !== null && p.task !== this) throw new TypeError('port handle of another task given to the kernel');
    const ref = this.rights.get(name);
    if (ref === undefined) throw new Error(`kernel: no naked right for token ${name}`);
    this.rights.delete(name);
    return ref;
  }

  /** The naked right a handle stands for, without taking it (IP_NULL if taken or null, IP_DEAD if dead). */
  peek(p: MachPort | null): IpcPortRef {
    if (p === null || p.name === MACH_PORT_NULL) return null;
    if (p.name === MACH_PORT_DEAD) return IP_DEAD;
    return this.rights.get(p.name) ?? null;
  }

  /** Whether the handle's right is still unclaimed. */
  holds(name: number): boolean {
    return this.rights.has(name);
  }

  /** Tokens alive (leak checks). */
  get live(): number {
    return this.rights.size;
  }

  // ==== MachMsg =====================================================================

  port(name: number): MachPort {
    return { name, task: this };
  }

  mig_get_reply_port(): number {
    // mach_msg_rpc_from_kernel is not provided: the kernel only sends one-way messages.
    return MACH_PORT_NULL;
  }
  mig_put_reply_port(): void {}
  mig_dealloc_reply_port(): void {}

  /**
   * mach_msg from the kernel (mach_msg_send_from_kernel): one-way only, never waits.
   * Rights: the message's handles are used up; their rights move into the message.
   * Returns: MACH_MSG_SUCCESS.
   */
  mach_msg(msg: MachMessage | null, option: number): number {
    if (msg === null || option & MACH_RCV_MSG) throw new Error('kernel: RPCs from the kernel are not supported');
    const h = msg.header;
    const kmsg = new IpcKmsg(h.bits, h.size, this.take(h.remotePort), this.take(h.localPort), h.id,
      msg.body.map((it) => this.toKernelItem(it, false)));
    if (this.send === 'from_kernel') mach_msg_send_from_kernel(kmsg);
    else ipc_mqueue_send_always(kmsg);
    return MACH_MSG_SUCCESS;
  }

  // ==== conversions =================================================================

  private token(ref: IpcPortRef): number {
    if (ref === null) return MACH_PORT_NULL;
    if (ref === IP_DEAD) return MACH_PORT_DEAD;
    let t = this.nextToken;
    this.nextToken = t >= 0x7ffffff0 ? 1 : t + 1;
    while (this.rights.has(t)) t++;
    this.rights.set(t, ref);
    return t;
  }

  /** A kernel item for a message item: handles become naked rights (used up). */
  toKernelItem(it: MachMsgItem, received: boolean): IpcKmsgItem {
    // The kernel message gets its own descriptors (copyout adjusts them in place).
    if (!MACH_MSG_TYPE_PORT_ANY(it.type.name)) return { type: { ...it.type }, data: it.data };
    const type = received ? { ...it.type, name: copyinType(it.type.name) } : { ...it.type };
    const d = it.data;
    return { type, data: Array.isArray(d) ? d.map((n) => this.take(n)) : this.take(d as number) };
  }

  /** A message item for a kernel item: naked rights become tokens (recorded in `tokens`). */
  toMessageItem(it: IpcKmsgItem, tokens: number[]): MachMsgItem {
    if (!MACH_MSG_TYPE_PORT_ANY(it.type.name)) return it as MachMsgItem;
    const d = it.data;
    const tok = (ref: IpcPortRef): number => {
      const t = this.token(ref);
      if (IP_VALID(ref)) tokens.push(t);
      return t;
    };
    return { type: it.type, data: Array.isArray(d) ? (d as IpcPortRef[]).map(tok) : tok(d as IpcPortRef) };
  }
}

/**
 * kernelServer: a generated demux as a kernel object server (ipc_kobject_server_register).
 * The work functions run synchronously with handles for the request's naked rights; a
 * right a work function keeps, it `take`s. On success every request right it did not take
 * is released (as MIG's KernelServer stubs release translated send rights); on failure
 * ipc_kobject_server destroys the request. Port values in the reply must be handles made
 * with `right()` for naked rights of the kind the reply carries (a send right for a
 * PORT_SEND field, ...): they move into the reply.
 */
export function kernelServer(demux: MigDemux, rt: KernelMsg): IpcKobjectDemux {
  return (request: IpcKmsg, reply: IpcKmsg): boolean => {
    const h = request.header;
    if (demux.routine(h.id) === undefined) return false;
    const tokens: number[] = [];
    const headerToken = (ref: IpcPortRef): number => {
      const t = rt.right(ref)?.name ?? MACH_PORT_NULL;
      if (IP_VALID(ref)) tokens.push(t);
      return t;
    };
    // The request as its receiver sees it: ports swapped, bits by the rights received.
    const req: MachMessage = {
      header: {
        bits: (MACH_MSGH_BITS(MACH_MSGH_BITS_LOCAL(h.bits), MACH_MSGH_BITS_REMOTE(h.bits)) | (h.bits & MACH_MSGH_BITS_COMPLEX)) >>> 0,
        size: h.size, remotePort: headerToken(h.localPort), localPort: headerToken(h.remotePort), seqno: h.seqno, id: h.id,
      },
      body: request.body.map((it) => rt.toMessageItem(it, tokens)),
    };
    const requestPort = req.header.localPort;
    const replyPort = req.header.remotePort;
    try {
      const out = demux(req, rt);
      if (out instanceof Promise) throw new Error(`kernel server ${demux.subsystem}: work functions must answer synchronously`);
      if (out === null) {
        reply.body[0]!.data = MIG_NO_REPLY;
        return true;
      }
      const kr = out.body[0]!.data as number;
      if (kr === KERN_SUCCESS) {
        // What the work function did not keep, it releases (the request port and the
        // reply right stay with ipc_kobject_server).
        request.body.forEach((it, i) => {
          if (!MACH_MSG_TYPE_PORT_ANY(it.type.name)) return;
          const d = req.body[i]!.data;
          const names = Array.isArray(d) ? d : [d as number];
          for (const n of names) {
            if (!rt.holds(n)) continue;
            const ref = rt.take(n);
            if (IP_VALID(ref)) ipc_object_destroy(ref, it.type.name);
          }
          it.data = Array.isArray(it.data) ? [] : null;
        });
      }
      reply.header.bits = ((reply.header.bits & ~MACH_MSGH_BITS_COMPLEX) | (out.header.bits & MACH_MSGH_BITS_COMPLEX)) >>> 0;
      reply.header.size = out.header.size;
      reply.body = out.body.map((it) => rt.toKernelItem(it, true));
      return true;
    } finally {
      // Handles of this call that nobody used: forget them (their rights stay where they are).
      for (const t of tokens) if (rt.holds(t)) rt.take(t);
      if (rt.holds(requestPort)) rt.take(requestPort);
      if (rt.holds(replyPort)) rt.take(replyPort);
    }
  };
}
