/*
 * File: ipc/kmsg.ts
 * Purpose: ipc_kmsg — a message inside the kernel: copied in from the sender's space
 *          (names → naked rights, dispositions → received right types), queued, copied
 *          out into the receiver's space (naked rights → names), or destroyed with the
 *          rights it carries (GNU Mach ipc/ipc_kmsg.c).
 *
 * The user form of a message is MachMessage (mach/message.ts): port fields hold names in
 * the holder's space. The kernel form, IpcKmsg, has the same header and body layout with
 * naked rights (IpcPortRef) in place of the names. Message sizes follow the x86_64 layout
 * of spec/mig.md §9 (4-byte descriptors, 12-byte long descriptors, 32-bit port names,
 * 8-byte out-of-line pointers, 4-byte alignment): `msgh_size` must match the body.
 *
 * Out-of-line data travels as bytes. The VM layer takes over through ipc_kmsg_set_vm():
 * `copyin` is vm_map_copyin (may deallocate the sender's region), `copyout` is
 * vm_map_copyout into the receiver's map, `discard` is vm_map_copy_discard.
 */

import {
  KERN_RESOURCE_SHORTAGE, KERN_SUCCESS, MACH_MSG_IPC_KERNEL, MACH_MSG_IPC_SPACE, MACH_MSG_SUCCESS,
  MACH_MSG_VM_SPACE, MACH_RCV_BODY_ERROR, MACH_RCV_HEADER_ERROR, MACH_RCV_INVALID_NOTIFY,
  MACH_SEND_INVALID_DATA, MACH_SEND_INVALID_DEST, MACH_SEND_INVALID_HEADER, MACH_SEND_INVALID_MEMORY,
  MACH_SEND_INVALID_NOTIFY, MACH_SEND_INVALID_REPLY, MACH_SEND_INVALID_RIGHT, MACH_SEND_INVALID_TYPE,
  MACH_SEND_MSG_TOO_SMALL, KERN_INVALID_CAPABILITY,
} from '../mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_CIRCULAR, MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_LOCAL,
  MACH_MSGH_BITS_PORTS_MASK, MACH_MSGH_BITS_REMOTE, MACH_MSG_HEADER_SIZE, MACH_MSG_TYPE_COPY_SEND,
  MACH_MSG_TYPE_LONG_SIZE, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_ANY,
  MACH_MSG_TYPE_PORT_ANY_SEND, MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_PORT_RECEIVE,
  MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PROTECTED_PAYLOAD,
  MACH_MSG_TYPE_SIZE, MACH_OOL_POINTER_SIZE,
  type MachMessage, type MachMsgData, type MachMsgHeader, type MachMsgItem, type MachMsgType,
} from '../mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_TYPE_NONE, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND,
  MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_UREFS_MAX, MACH_PORT_VALID,
} from '../mach/port.js';
import { IE_BITS_TYPE, IE_BITS_UREFS, type IpcEntry } from './entry.js';
import { ipc_marequest_destroy, type IpcMarequest } from './marequest.js';
import { ipc_notify_no_senders, ipc_notify_port_deleted, ipc_notify_send_once } from './notify.js';
import {
  ipc_object_copyin, ipc_object_copyin_from_kernel, ipc_object_copyin_type, ipc_object_copyout,
  ipc_object_copyout_dest, ipc_object_destroy,
} from './object.js';
import {
  IP_DEAD, IP_VALID, ipc_port_check_circularity, ipc_port_copy_send, ipc_port_dngrow,
  ipc_port_dnrequest, ipc_port_lookup_notify, ipc_port_release_sonce, type IpcPort, type IpcPortRef,
} from './port.js';
import {
  ipc_right_copyin, ipc_right_copyin_check, ipc_right_copyin_two, ipc_right_copyout,
  ipc_right_reverse, type IpcRightCopyin,
} from './right.js';
import {
  ipc_entry_alloc, ipc_entry_dealloc, ipc_entry_lookup, ipc_reverse_lookup, type IpcSpace,
} from './space.js';

// ==== the kernel message ============================================================

/** The header of a message in the kernel: port fields hold naked rights. */
export interface IpcKmsgHeader {
  bits: number;
  size: number;
  /** msgh_remote_port: the destination while in the kernel. */
  remotePort: IpcPortRef;
  /** msgh_local_port: the reply right. */
  localPort: IpcPortRef;
  seqno: number;
  id: number;
}

/**
 * The data of a kernel body item: as in MachMsgData, except that port-right items
 * (MACH_MSG_TYPE_PORT_ANY names) hold naked rights: one IpcPortRef where the sender gave
 * one name, an array where it gave an array.
 */
export type IpcKmsgData = MachMsgData | IpcPortRef | IpcPortRef[];

/** One typed item of a kernel message body: descriptor + data. */
export interface IpcKmsgItem {
  type: MachMsgType;
  data: IpcKmsgData;
}

let ipc_kmsg_live = 0;

/** Number of kernel messages alive (queued, being handed over, or held by the kernel). */
export function ipc_kmsg_count(): number {
  return ipc_kmsg_live;
}

/** struct ipc_kmsg. Creating one is ikm_alloc; ipc_kmsg_free (or a copyout) ends it. */
export class IpcKmsg {
  readonly header: IpcKmsgHeader;
  body: IpcKmsgItem[];
  /** Links of the ipc_kmsg_queue holding the message. */
  ikm_next: IpcKmsg | null = null;
  ikm_prev: IpcKmsg | null = null;
  /** A msg-accepted request (MACH_SEND_NOTIFY) to answer when the message leaves the queue. */
  ikm_marequest: IpcMarequest | null = null;

  constructor(bits: number, size: number, remotePort: IpcPortRef, localPort: IpcPortRef, id: number,
    body: IpcKmsgItem[]) {
    this.header = { bits: bits >>> 0, size, remotePort, localPort, seqno: 0, id };
    this.body = body;
    ipc_kmsg_live++;
  }
}

/** ipc_kmsg_free: the message buffer is done with (its rights were consumed or moved). */
export function ipc_kmsg_free(kmsg: IpcKmsg): void {
  kmsg.body = [];
  ipc_kmsg_live--;
}

// ==== queues ========================================================================

/** ipc_kmsg_queue: FIFO of messages. */
export class IpcKmsgQueue {
  ikmq_head: IpcKmsg | null = null;
  ikmq_tail: IpcKmsg | null = null;
}

/** ipc_kmsg_enqueue: appends `kmsg` to the queue. */
export function ipc_kmsg_enqueue(queue: IpcKmsgQueue, kmsg: IpcKmsg): void {
  kmsg.ikm_next = null;
  kmsg.ikm_prev = queue.ikmq_tail;
  if (queue.ikmq_tail === null) queue.ikmq_head = kmsg;
  else queue.ikmq_tail.ikm_next = kmsg;
  queue.ikmq_tail = kmsg;
}

/** ipc_kmsg_rmqueue: takes `kmsg` out of the queue, wherever it is. */
export function ipc_kmsg_rmqueue(queue: IpcKmsgQueue, kmsg: IpcKmsg): void {
  if (kmsg.ikm_prev === null) queue.ikmq_head = kmsg.ikm_next;
  else kmsg.ikm_prev.ikm_next = kmsg.ikm_next;
  if (kmsg.ikm_next === null) queue.ikmq_tail = kmsg.ikm_prev;
  else kmsg.ikm_next.ikm_prev = kmsg.ikm_prev;
  kmsg.ikm_next = null;
  kmsg.ikm_prev = null;
}

/** ipc_kmsg_dequeue: takes the first message off the queue (null if empty). */
export function ipc_kmsg_dequeue(queue: IpcKmsgQueue): IpcKmsg | null {
  const kmsg = queue.ikmq_head;
  if (kmsg !== null) ipc_kmsg_rmqueue(queue, kmsg);
  return kmsg;
}

// ==== sizes =========================================================================

/** Bytes of data a descriptor covers: ceil(number × size / 8). */
export function ipc_kmsg_data_length(type: MachMsgType): number {
  return Math.floor((type.number * type.size + 7) / 8);
}

/**
 * msgh_size of a message with this body, laid out as spec/mig.md §9.4: each item is
 * its 4- or 12-byte descriptor, then in-line data padded to 4 bytes or an 8-byte pointer.
 */
export function ipc_kmsg_size(body: readonly (MachMsgItem | IpcKmsgItem)[]): number {
  let size = MACH_MSG_HEADER_SIZE;
  for (const { type } of body) {
    size += type.longform ? MACH_MSG_TYPE_LONG_SIZE : MACH_MSG_TYPE_SIZE;
    size += type.inline ? (ipc_kmsg_data_length(type) + 3) & ~3 : MACH_OOL_POINTER_SIZE;
  }
  return size;
}

// ==== out-of-line memory: the VM hook ===============================================

/** What the VM layer provides for out-of-line regions (vm_map_copyin / copyout / discard). */
export interface IpcKmsgVm {
  /** Takes `length` bytes out of the sender's space; null means MACH_SEND_INVALID_MEMORY. */
  copyin(space: IpcSpace, data: MachMsgData, length: number, dealloc: boolean): MachMsgData | null;
  /** Places the region in the receiver's space; null means no room (MACH_MSG_VM_SPACE). */
  copyout(space: IpcSpace, data: MachMsgData, length: number): MachMsgData | null;
  /** Drops a region that will never be received. */
  discard(data: MachMsgData): void;
}

/** Until the VM layer is plugged in: regions are copied as bytes at send time. */
const ipc_kmsg_vm_bytes: IpcKmsgVm = {
  copyin: (_space, data) => copyData(data),
  copyout: (_space, data) => data,
  discard: () => undefined,
};

let ipc_kmsg_vm: IpcKmsgVm = ipc_kmsg_vm_bytes;

/** Plugs in the VM layer's out-of-line handling (null restores the byte copies). */
export function ipc_kmsg_set_vm(vm: IpcKmsgVm | null): void {
  ipc_kmsg_vm = vm ?? ipc_kmsg_vm_bytes;
}

function copyData(data: MachMsgData): MachMsgData {
  if (data instanceof Uint8Array) return data.slice();
  if (Array.isArray(data)) return data.slice();
  return data;
}

// ==== get: user message → kernel buffer ===========================================

function isUint(x: unknown, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
}

function isNameArray(data: unknown, n: number): data is number[] {
  if (!Array.isArray(data) || data.length !== n) return false;
  for (const x of data) if (!isUint(x, 0xffffffff)) return false;
  return true;
}

/**
 * Checks one item of a user message and copies it for the kernel (what copyinmsg does
 * with the bytes): descriptor fields within their bit widths, port items 32 bits wide
 * with a name or an array of `number` names, data the size the descriptor says.
 * Out-of-line non-port data is left to the VM hook. Returns null if the item is bad.
 */
function ipc_kmsg_get_item(item: MachMsgItem): IpcKmsgItem | null {
  const t = item.type;
  if (typeof t !== 'object' || t === null) return null;
  const longform = t.longform === true;
  const inline = t.inline === true;
  if (longform
    ? !isUint(t.name, 0xffff) || !isUint(t.size, 0xffff) || !isUint(t.number, 0xffffffff)
    : !isUint(t.name, 0xff) || !isUint(t.size, 0xff) || !isUint(t.number, 0xfff)) return null;
  const type: MachMsgType = {
    name: t.name, size: t.size, number: t.number, inline, longform, deallocate: t.deallocate === true,
  };
  const data = item.data;
  if (MACH_MSG_TYPE_PORT_ANY(t.name) || t.name === MACH_MSG_TYPE_PORT_NAME) {
    if (MACH_MSG_TYPE_PORT_ANY(t.name) && t.size !== 32) return null;
    if (typeof data === 'number') return t.number === 1 && isUint(data, 0xffffffff) ? { type, data } : null;
    return isNameArray(data, t.number) ? { type, data: data.slice() } : null;
  }
  const length = ipc_kmsg_data_length(t);
  if (data instanceof Uint8Array) {
    if (data.length !== length) return null;
  } else if (Array.isArray(data)) {
    if (data.length !== t.number || !data.every((x) => typeof x === 'number')) return null;
  } else if (typeof data === 'number') {
    if (t.number !== 1) return null;
  } else if (typeof data === 'string') {
    if (data.length > length) return null;
  } else {
    return null;
  }
  return { type, data: inline ? copyData(data) : data };
}

/**
 * ipc_kmsg_get: copies a user message into a new kernel message. `send_size` is the size
 * the sender passes to mach_msg; it becomes msgh_size and must match the body's layout.
 * Returns: the message, or MACH_SEND_MSG_TOO_SMALL (smaller than a header, or not a
 * multiple of 4), MACH_SEND_INVALID_DATA (the body doesn't match its descriptors or
 * send_size — what copyinmsg reports when the bytes can't be read as a message).
 */
export function ipc_kmsg_get(msg: MachMessage, send_size: number): IpcKmsg | number {
  if (!isUint(send_size, 0xffffffff) || send_size < MACH_MSG_HEADER_SIZE || (send_size & 3) !== 0) {
    return MACH_SEND_MSG_TOO_SMALL;
  }
  const header = msg.header;
  // msgh_bits may come as a signed 32-bit number (`bits | MACH_MSGH_BITS_COMPLEX` in JS).
  if (!Number.isInteger(header.bits) || header.bits < -0x80000000 || header.bits > 0xffffffff
    || !isUint(header.remotePort, 0xffffffff)
    || !isUint(header.localPort, 0xffffffff) || !Number.isInteger(header.id)) {
    return MACH_SEND_INVALID_DATA;
  }
  const ubody = msg.body;
  const body: IpcKmsgItem[] = [];
  for (let i = 0; i < ubody.length; i++) {
    const item = ipc_kmsg_get_item(ubody[i]!);
    if (item === null) return MACH_SEND_INVALID_DATA;
    body.push(item);
  }
  if (ipc_kmsg_size(body) !== send_size) return MACH_SEND_INVALID_DATA;
  return new IpcKmsg(header.bits, send_size, null, null, header.id | 0, body);
}

// ==== copyin: names in the sender's space → naked rights ===========================

/**
 * ipc_kmsg_copyin_header: copies in the destination and reply rights named in the header.
 * Atomic: on failure neither the message nor the space changed (except that rights to dead
 * ports that were looked at have become dead names, as in Mach). `notify` implements
 * MACH_SEND_CANCEL: a port-deleted notification that would go to that receive right is
 * not sent.
 * Rights: per the header's dispositions; the destination must not be dead, the reply may be.
 * Returns: MACH_MSG_SUCCESS, MACH_SEND_INVALID_HEADER (bad dispositions, or a reply name
 * without a reply disposition), MACH_SEND_INVALID_DEST (space dead, bad destination),
 * MACH_SEND_INVALID_REPLY, MACH_SEND_INVALID_NOTIFY.
 */
export function ipc_kmsg_copyin_header(
  kmsg: IpcKmsg, space: IpcSpace, dest_name: number, reply_name: number, notify: number,
): number {
  const header = kmsg.header;
  const mbits = (header.bits & ~MACH_MSGH_BITS_CIRCULAR) >>> 0;
  const other = (mbits & ~MACH_MSGH_BITS_PORTS_MASK) >>> 0;

  // First the common cases (GNU Mach's optimized paths; same results as below).
  if (notify === MACH_PORT_NULL && space.is_active) {
    switch (mbits & MACH_MSGH_BITS_PORTS_MASK) {
      case MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0): {
        // sending an asynchronous message
        if (reply_name !== MACH_PORT_NULL) break;
        const entry = ipc_entry_lookup(space, dest_name);
        if (entry === null || IE_BITS_TYPE(entry.ie_bits) !== MACH_PORT_TYPE_SEND) break;
        const dest = entry.ie_object as IpcPort;
        if (!dest.ip_active) break;
        dest.ip_srights++;
        header.bits = (other | MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0)) >>> 0;
        header.remotePort = dest;
        header.localPort = null;
        return MACH_MSG_SUCCESS;
      }
      case MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE): {
        // sending a request message
        const dentry = ipc_entry_lookup(space, dest_name);
        if (dentry === null || IE_BITS_TYPE(dentry.ie_bits) !== MACH_PORT_TYPE_SEND) break;
        const rentry = ipc_entry_lookup(space, reply_name);
        if (rentry === null || IE_BITS_TYPE(rentry.ie_bits) !== MACH_PORT_TYPE_RECEIVE) break;
        const dest = dentry.ie_object as IpcPort;
        if (!dest.ip_active) break;
        const reply = rentry.ie_object as IpcPort;
        dest.ip_srights++;
        reply.ip_sorights++;
        header.bits = (other | MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE)) >>> 0;
        header.remotePort = dest;
        header.localPort = reply;
        return MACH_MSG_SUCCESS;
      }
      case MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0): {
        // sending a reply message
        if (reply_name !== MACH_PORT_NULL) break;
        const entry = ipc_entry_lookup(space, dest_name);
        if (entry === null || IE_BITS_TYPE(entry.ie_bits) !== MACH_PORT_TYPE_SEND_ONCE) break;
        if (entry.ie_request !== 0) break;
        const dest = entry.ie_object as IpcPort;
        if (!dest.ip_active) break;
        ipc_entry_dealloc(space, dest_name, entry);
        header.bits = (other | MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, 0)) >>> 0;
        header.remotePort = dest;
        header.localPort = null;
        return MACH_MSG_SUCCESS;
      }
      default:
        break;
    }
  }

  const dest_type = MACH_MSGH_BITS_REMOTE(mbits);
  const reply_type = MACH_MSGH_BITS_LOCAL(mbits);
  if (!MACH_MSG_TYPE_PORT_ANY_SEND(dest_type)) return MACH_SEND_INVALID_HEADER;
  if (reply_type === 0 ? reply_name !== MACH_PORT_NULL : !MACH_MSG_TYPE_PORT_ANY_SEND(reply_type)) {
    return MACH_SEND_INVALID_HEADER;
  }
  if (!space.is_active) return MACH_SEND_INVALID_DEST;

  let notify_port: IpcPort | null = null;
  if (notify !== MACH_PORT_NULL) {
    const entry = ipc_entry_lookup(space, notify);
    if (entry === null || (entry.ie_bits & MACH_PORT_TYPE_RECEIVE) === 0) return MACH_SEND_INVALID_NOTIFY;
    notify_port = entry.ie_object as IpcPort;
  }

  const d: IpcRightCopyin = { object: null, soright: null };
  const r: IpcRightCopyin = { object: null, soright: null };

  if (dest_name === reply_name) {
    // Destination and reply are the same name: 25 combinations of dispositions.
    const name = dest_name;
    const entry = ipc_entry_lookup(space, name);
    if (entry === null) return MACH_SEND_INVALID_DEST;
    if (!ipc_right_copyin_check(space, name, entry, reply_type)) return MACH_SEND_INVALID_REPLY;

    if (dest_type === MACH_MSG_TYPE_MOVE_SEND_ONCE || reply_type === MACH_MSG_TYPE_MOVE_SEND_ONCE) {
      // A move-sonce would destroy the live entry the other copyin needs.
      return MACH_SEND_INVALID_DEST;
    } else if (dest_type === MACH_MSG_TYPE_MAKE_SEND || dest_type === MACH_MSG_TYPE_MAKE_SEND_ONCE
      || reply_type === MACH_MSG_TYPE_MAKE_SEND || reply_type === MACH_MSG_TYPE_MAKE_SEND_ONCE) {
      if (ipc_right_copyin(space, name, entry, dest_type, false, d) !== KERN_SUCCESS) return MACH_SEND_INVALID_DEST;
      ipc_right_copyin(space, name, entry, reply_type, true, r);
    } else if (dest_type === MACH_MSG_TYPE_COPY_SEND && reply_type === MACH_MSG_TYPE_COPY_SEND) {
      if (ipc_right_copyin(space, name, entry, dest_type, false, d) !== KERN_SUCCESS) return MACH_SEND_INVALID_DEST;
      r.object = ipc_port_copy_send(d.object);
    } else if (dest_type === MACH_MSG_TYPE_MOVE_SEND && reply_type === MACH_MSG_TYPE_MOVE_SEND) {
      if (ipc_right_copyin_two(space, name, entry, d) !== KERN_SUCCESS) return MACH_SEND_INVALID_DEST;
      if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, name, entry);
      r.object = d.object;
    } else {
      // COPY_SEND + MOVE_SEND in either order: one move, then duplicate the right.
      const m: IpcRightCopyin = { object: null, soright: null };
      if (ipc_right_copyin(space, name, entry, MACH_MSG_TYPE_MOVE_SEND, false, m) !== KERN_SUCCESS) {
        return MACH_SEND_INVALID_DEST;
      }
      if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, name, entry);
      d.object = m.object;
      r.object = ipc_port_copy_send(m.object);
      if (dest_type === MACH_MSG_TYPE_MOVE_SEND) d.soright = m.soright;
      else r.soright = m.soright;
    }
  } else if (!MACH_PORT_VALID(reply_name)) {
    // No reply port: just the destination.
    const entry = ipc_entry_lookup(space, dest_name);
    if (entry === null) return MACH_SEND_INVALID_DEST;
    if (ipc_right_copyin(space, dest_name, entry, dest_type, false, d) !== KERN_SUCCESS) return MACH_SEND_INVALID_DEST;
    if (IE_BITS_TYPE(entry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, dest_name, entry);
    r.object = reply_name === MACH_PORT_NULL ? null : IP_DEAD;
  } else {
    // Two names. (GNU Mach also undoes both copyins when the two ports died in the wrong
    // order between them; nothing runs between the copyins here, so that cannot happen.)
    const dentry = ipc_entry_lookup(space, dest_name);
    if (dentry === null) return MACH_SEND_INVALID_DEST;
    const rentry = ipc_entry_lookup(space, reply_name);
    if (rentry === null) return MACH_SEND_INVALID_REPLY;
    if (!ipc_right_copyin_check(space, reply_name, rentry, reply_type)) return MACH_SEND_INVALID_REPLY;
    if (ipc_right_copyin(space, dest_name, dentry, dest_type, false, d) !== KERN_SUCCESS) return MACH_SEND_INVALID_DEST;
    ipc_right_copyin(space, reply_name, rentry, reply_type, true, r);
    if (IE_BITS_TYPE(rentry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, reply_name, rentry);
    if (IE_BITS_TYPE(dentry.ie_bits) === MACH_PORT_TYPE_NONE) ipc_entry_dealloc(space, dest_name, dentry);
  }

  if (notify_port !== null && d.soright === notify_port) {
    ipc_port_release_sonce(d.soright);
    d.soright = null;
  }
  if (d.soright !== null) ipc_notify_port_deleted(d.soright, dest_name);
  if (r.soright !== null) ipc_notify_port_deleted(r.soright, reply_name);

  header.bits = (other | MACH_MSGH_BITS(ipc_object_copyin_type(dest_type), ipc_object_copyin_type(reply_type))) >>> 0;
  header.remotePort = d.object;
  header.localPort = r.object;
  return MACH_MSG_SUCCESS;
}

/** Copies in one name of a body item (MACH_PORT_NULL / _DEAD pass through). */
function ipc_kmsg_copyin_name(space: IpcSpace, name: number, msgt_name: number): IpcPortRef | number {
  if (name === MACH_PORT_NULL) return null;
  if (name === MACH_PORT_DEAD) return IP_DEAD;
  return ipc_object_copyin(space, name, msgt_name);
}

/**
 * ipc_kmsg_copyin_body: copies in the rights and out-of-line regions of a complex message.
 * A receive right sent towards a port that is (transitively) in transit inside it marks
 * the message MACH_MSGH_BITS_CIRCULAR. On failure every right already taken — including
 * the header's — is destroyed, as GNU Mach does (a MOVE_SEND destination is lost, a
 * MAKE_SEND_ONCE reply produces a send-once notification, moved receive rights die).
 * Returns: MACH_MSG_SUCCESS, MACH_SEND_INVALID_TYPE (deallocate on in-line data),
 * MACH_SEND_INVALID_MEMORY, MACH_SEND_INVALID_RIGHT.
 */
export function ipc_kmsg_copyin_body(kmsg: IpcKmsg, space: IpcSpace): number {
  const dest = kmsg.header.remotePort as IpcPort;
  const body = kmsg.body;
  let complex = false;

  for (let k = 0; k < body.length; k++) {
    const item = body[k]!;
    const t = item.type;
    if (t.deallocate && t.inline) {
      ipc_kmsg_clean_partial(kmsg, k, false, 0);
      return MACH_SEND_INVALID_TYPE;
    }
    const is_port = MACH_MSG_TYPE_PORT_ANY(t.name);

    if (!t.inline) {
      if (!is_port) {
        const length = ipc_kmsg_data_length(t);
        if (length !== 0) {
          const copy = ipc_kmsg_vm.copyin(space, item.data as MachMsgData, length, t.deallocate);
          if (copy === null) {
            ipc_kmsg_clean_partial(kmsg, k, false, 0);
            return MACH_SEND_INVALID_MEMORY;
          }
          item.data = copy;
        }
      }
      complex = true;
    }

    if (is_port) {
      const msgt_name = t.name;
      t.name = ipc_object_copyin_type(msgt_name);
      const names = item.data as number | number[];
      if (typeof names === 'number') {
        const object = ipc_kmsg_copyin_name(space, names, msgt_name);
        if (typeof object === 'number') {
          ipc_kmsg_clean_partial(kmsg, k, false, 0);
          return MACH_SEND_INVALID_RIGHT;
        }
        if (t.name === MACH_MSG_TYPE_PORT_RECEIVE && IP_VALID(object)
          && ipc_port_check_circularity(object, dest)) kmsg.header.bits |= MACH_MSGH_BITS_CIRCULAR;
        item.data = object;
      } else {
        const objects: IpcPortRef[] = [];
        for (let i = 0; i < names.length; i++) {
          const object = ipc_kmsg_copyin_name(space, names[i]!, msgt_name);
          if (typeof object === 'number') {
            item.data = objects;
            ipc_kmsg_clean_partial(kmsg, k, true, i);
            return MACH_SEND_INVALID_RIGHT;
          }
          if (t.name === MACH_MSG_TYPE_PORT_RECEIVE && IP_VALID(object)
            && ipc_port_check_circularity(object, dest)) kmsg.header.bits |= MACH_MSGH_BITS_CIRCULAR;
          objects.push(object);
        }
        item.data = objects;
      }
      complex = true;
    }
  }

  if (!complex) kmsg.header.bits = (kmsg.header.bits & ~MACH_MSGH_BITS_COMPLEX) >>> 0;
  return MACH_MSG_SUCCESS;
}

/**
 * ipc_kmsg_copyin: copies in the header, then (if the message is complex) the body.
 * `dest_name`/`reply_name` are the names in the user header. In all failure cases the
 * message holds no rights afterwards.
 * Returns: the codes of ipc_kmsg_copyin_header and ipc_kmsg_copyin_body.
 */
export function ipc_kmsg_copyin(
  kmsg: IpcKmsg, space: IpcSpace, dest_name: number, reply_name: number, notify: number,
): number {
  const mr = ipc_kmsg_copyin_header(kmsg, space, dest_name, reply_name, notify);
  if (mr !== MACH_MSG_SUCCESS) return mr;
  if ((kmsg.header.bits & MACH_MSGH_BITS_COMPLEX) === 0) return MACH_MSG_SUCCESS;
  return ipc_kmsg_copyin_body(kmsg, space);
}

/**
 * ipc_kmsg_copyin_from_kernel: turns a message the kernel built with dispositions
 * (MAKE_SEND, COPY_SEND, MOVE_SEND, MAKE_SEND_ONCE, MOVE_SEND_ONCE, MOVE_RECEIVE) applied
 * to naked rights it holds into its in-transit form (ipc_object_copyin_from_kernel).
 * Rights: per disposition.
 */
export function ipc_kmsg_copyin_from_kernel(kmsg: IpcKmsg): void {
  const header = kmsg.header;
  const bits = header.bits;
  const rname = MACH_MSGH_BITS_REMOTE(bits);
  const lname = MACH_MSGH_BITS_LOCAL(bits);
  const remote = header.remotePort as IpcPort;
  ipc_object_copyin_from_kernel(remote, rname);
  if (IP_VALID(header.localPort)) ipc_object_copyin_from_kernel(header.localPort, lname);
  header.bits = ((bits & ~MACH_MSGH_BITS_PORTS_MASK)
    | MACH_MSGH_BITS(ipc_object_copyin_type(rname), ipc_object_copyin_type(lname))) >>> 0;
  if ((bits & MACH_MSGH_BITS_COMPLEX) === 0) return;

  for (const item of kmsg.body) {
    const t = item.type;
    if (!MACH_MSG_TYPE_PORT_ANY(t.name)) continue;
    const msgt_name = t.name;
    t.name = ipc_object_copyin_type(msgt_name);
    const objects = Array.isArray(item.data) ? item.data as IpcPortRef[] : [item.data as IpcPortRef];
    for (const object of objects) {
      if (!IP_VALID(object)) continue;
      ipc_object_copyin_from_kernel(object, msgt_name);
      if (t.name === MACH_MSG_TYPE_PORT_RECEIVE && ipc_port_check_circularity(object, remote)) {
        header.bits |= MACH_MSGH_BITS_CIRCULAR;
      }
    }
  }
}

// ==== cleaning ======================================================================

/** Destroys the rights and regions of body items [from, to) of a copied-in message. */
function ipc_kmsg_clean_body(body: IpcKmsgItem[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const item = body[k]!;
    const t = item.type;
    if (MACH_MSG_TYPE_PORT_ANY(t.name)) {
      const data = item.data as IpcPortRef | IpcPortRef[];
      if (Array.isArray(data)) {
        for (const object of data) if (IP_VALID(object)) ipc_object_destroy(object, t.name);
      } else if (IP_VALID(data)) {
        ipc_object_destroy(data, t.name);
      }
    } else if (!t.inline && ipc_kmsg_data_length(t) !== 0) {
      ipc_kmsg_vm.discard(item.data as MachMsgData);
    }
  }
}

/**
 * ipc_kmsg_clean_partial: cleans a message whose body copyin failed at item `k`: the
 * header rights, items before `k`, and if `dolast` the first `number` rights of item k.
 */
function ipc_kmsg_clean_partial(kmsg: IpcKmsg, k: number, dolast: boolean, number: number): void {
  const header = kmsg.header;
  const mbits = header.bits;
  ipc_object_destroy(header.remotePort as IpcPort, MACH_MSGH_BITS_REMOTE(mbits));
  if (IP_VALID(header.localPort)) ipc_object_destroy(header.localPort, MACH_MSGH_BITS_LOCAL(mbits));
  header.remotePort = null;
  header.localPort = null;
  ipc_kmsg_clean_body(kmsg.body, 0, k);
  if (dolast) {
    const item = kmsg.body[k]!;
    const objects = item.data as IpcPortRef[];
    for (let i = 0; i < number; i++) {
      const object = objects[i]!;
      if (IP_VALID(object)) ipc_object_destroy(object, item.type.name);
    }
  }
}

/**
 * ipc_kmsg_clean: releases every right and region a message holds, and its msg-accepted
 * request (which sends the msg-accepted notification).
 */
export function ipc_kmsg_clean(kmsg: IpcKmsg): void {
  const marequest = kmsg.ikm_marequest;
  if (marequest !== null) {
    kmsg.ikm_marequest = null;
    ipc_marequest_destroy(marequest);
  }
  const header = kmsg.header;
  const mbits = header.bits;
  if (IP_VALID(header.remotePort)) ipc_object_destroy(header.remotePort, MACH_MSGH_BITS_REMOTE(mbits));
  if (IP_VALID(header.localPort)) ipc_object_destroy(header.localPort, MACH_MSGH_BITS_LOCAL(mbits));
  header.remotePort = null;
  header.localPort = null;
  if (mbits & MACH_MSGH_BITS_COMPLEX) ipc_kmsg_clean_body(kmsg.body, 0, kmsg.body.length);
}

/** Messages being destroyed, oldest first (GNU Mach's per-thread ith_messages). */
const ipc_kmsg_destroy_queue = new IpcKmsgQueue();

/**
 * ipc_kmsg_destroy: destroys a message and the rights it carries. Destroying rights can
 * destroy more messages (a receive right in a message takes its queue with it); those are
 * queued and cleaned in order instead of recursively, as in GNU Mach.
 * Rights: consumes everything in the message.
 */
export function ipc_kmsg_destroy(kmsg: IpcKmsg): void {
  const queue = ipc_kmsg_destroy_queue;
  const empty = queue.ikmq_head === null;
  ipc_kmsg_enqueue(queue, kmsg);
  if (!empty) return;
  for (let k = queue.ikmq_head; k !== null; k = queue.ikmq_head) {
    ipc_kmsg_clean(k);
    ipc_kmsg_rmqueue(queue, k);
    ipc_kmsg_free(k);
  }
}

// ==== copyout: naked rights → names in the receiver's space ========================

/** A fresh user header to copy a message out into (ports filled in by the copyout). */
export function ipc_kmsg_out_header(kmsg: IpcKmsg): MachMsgHeader {
  const h = kmsg.header;
  return { bits: h.bits, size: h.size, remotePort: MACH_PORT_NULL, localPort: MACH_PORT_NULL, seqno: h.seqno, id: h.id };
}

/** Releases a send right of the destination after receipt, maybe sending no-senders. */
function ipc_kmsg_release_dest_send(dest: IpcPort): void {
  if (--dest.ip_srights === 0) {
    const nsrequest = dest.ip_nsrequest;
    if (nsrequest !== null) {
      dest.ip_nsrequest = null;
      ipc_notify_no_senders(nsrequest, dest.ip_mscount);
    }
  }
}

/** Fills the local port field: the destination's name, or its protected payload. */
function ipc_kmsg_set_local(out: MachMsgHeader, other: number, reply_type: number, dest_type: number,
  dest: IpcPort, dest_name: number): void {
  if (dest.ip_has_protected_payload) {
    out.bits = (other | MACH_MSGH_BITS(reply_type, MACH_MSG_TYPE_PROTECTED_PAYLOAD)) >>> 0;
    out.localPort = dest.ip_protected_payload;
  } else {
    out.bits = (other | MACH_MSGH_BITS(reply_type, dest_type)) >>> 0;
    out.localPort = dest_name;
  }
}

/**
 * ipc_kmsg_copyout_header: copies out the header rights into the receiver's space; the
 * receiver sees the destination in msgh_local_port (its name for the receive right, or
 * MACH_PORT_NULL if it no longer holds it, or the port's protected payload) and the reply
 * right in msgh_remote_port, with the header bits swapped. `notify` implements
 * MACH_RCV_NOTIFY: a newly created reply name gets a dead-name request using a send-once
 * right made from that receive right.
 * Rights: the destination right is consumed; the reply right moves into the space.
 * Returns: MACH_MSG_SUCCESS, MACH_RCV_INVALID_NOTIFY, MACH_RCV_HEADER_ERROR |
 * MACH_MSG_IPC_SPACE (space dead or full), MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_KERNEL.
 * On error the message's rights are intact.
 */
export function ipc_kmsg_copyout_header(kmsg: IpcKmsg, space: IpcSpace, notify: number, out: MachMsgHeader): number {
  const header = kmsg.header;
  const mbits = header.bits;
  const other = (mbits & ~MACH_MSGH_BITS_PORTS_MASK) >>> 0;
  const dest = header.remotePort as IpcPort;

  if (notify === MACH_PORT_NULL) {
    switch (mbits & MACH_MSGH_BITS_PORTS_MASK) {
      case MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 0): {
        // receiving an asynchronous message
        if (!dest.ip_active) break;
        const dest_name = dest.ip_receiver === space ? dest.ip_receiver_name : MACH_PORT_NULL;
        ipc_kmsg_release_dest_send(dest);
        ipc_kmsg_set_local(out, other, 0, MACH_MSG_TYPE_PORT_SEND, dest, dest_name);
        out.remotePort = MACH_PORT_NULL;
        return MACH_MSG_SUCCESS;
      }
      case MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE): {
        // receiving a request message
        const reply = header.localPort;
        if (!IP_VALID(reply) || !space.is_active || !dest.ip_active || !reply.ip_active) break;
        const entry = ipc_entry_alloc(space);
        if (typeof entry === 'number') break;
        entry.ie_bits |= MACH_PORT_TYPE_SEND_ONCE | 1;
        entry.ie_object = reply;
        const dest_name = dest.ip_receiver === space ? dest.ip_receiver_name : MACH_PORT_NULL;
        ipc_kmsg_release_dest_send(dest);
        ipc_kmsg_set_local(out, other, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND, dest, dest_name);
        out.remotePort = entry.ie_name;
        return MACH_MSG_SUCCESS;
      }
      case MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, 0): {
        // receiving a reply message
        if (!dest.ip_active) break;
        let dest_name: number;
        if (dest.ip_receiver === space) {
          dest.ip_sorights--;
          dest_name = dest.ip_receiver_name;
        } else {
          ipc_notify_send_once(dest);
          dest_name = MACH_PORT_NULL;
        }
        ipc_kmsg_set_local(out, other, 0, MACH_MSG_TYPE_PORT_SEND_ONCE, dest, dest_name);
        out.remotePort = MACH_PORT_NULL;
        return MACH_MSG_SUCCESS;
      }
      default:
        break;
    }
  }

  const dest_type = MACH_MSGH_BITS_REMOTE(mbits);
  const reply_type = MACH_MSGH_BITS_LOCAL(mbits);
  let reply = header.localPort;
  let reply_name: number;

  if (IP_VALID(reply)) {
    let entry: IpcEntry | null = null;
    let notify_port: IpcPort | null = null;
    for (;;) {
      if (!space.is_active) return MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_SPACE;
      if (notify !== MACH_PORT_NULL) {
        notify_port = ipc_port_lookup_notify(space, notify);
        if (notify_port === null) return MACH_RCV_INVALID_NOTIFY;
      }
      if (reply_type !== MACH_MSG_TYPE_PORT_SEND_ONCE) {
        entry = ipc_right_reverse(space, reply);
        if (entry !== null) break; // the notify right isn't needed; released below
      }
      if (!reply.ip_active) {
        if (notify_port !== null) ipc_port_release_sonce(notify_port);
        break;
      }
      const fresh = ipc_entry_alloc(space);
      if (typeof fresh === 'number') {
        if (notify_port !== null) ipc_port_release_sonce(notify_port);
        return MACH_RCV_HEADER_ERROR | (fresh === KERN_RESOURCE_SHORTAGE ? MACH_MSG_IPC_KERNEL : MACH_MSG_IPC_SPACE);
      }
      if (notify_port === null) {
        fresh.ie_object = reply;
        entry = fresh;
        break;
      }
      const request = ipc_port_dnrequest(reply, fresh.ie_name, notify_port);
      if (request === 0) {
        ipc_port_release_sonce(notify_port);
        notify_port = null;
        ipc_entry_dealloc(space, fresh.ie_name, fresh);
        if (ipc_port_dngrow(reply) !== KERN_SUCCESS) return MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_KERNEL;
        continue;
      }
      notify_port = null; // the request holds it now
      fresh.ie_object = reply;
      fresh.ie_request = request;
      entry = fresh;
      break;
    }

    if (entry === null) {
      // The reply port died: the receiver gets MACH_PORT_DEAD.
      reply = IP_DEAD;
      reply_name = MACH_PORT_DEAD;
    } else {
      reply_name = entry.ie_name;
      ipc_right_copyout(space, reply_name, entry, reply_type, true, reply);
      if (notify_port !== null) ipc_port_release_sonce(notify_port);
    }
  } else {
    if (!space.is_active) return MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_SPACE;
    if (notify !== MACH_PORT_NULL) {
      // must check notify even though it won't be used
      const entry = ipc_entry_lookup(space, notify);
      if (entry === null || (entry.ie_bits & MACH_PORT_TYPE_RECEIVE) === 0) return MACH_RCV_INVALID_NOTIFY;
    }
    reply_name = reply === null ? MACH_PORT_NULL : MACH_PORT_DEAD;
  }

  let dest_name: number;
  if (dest.ip_active) {
    dest_name = ipc_object_copyout_dest(space, dest, dest_type);
  } else if (IP_VALID(reply)) {
    // Serialize as if both copyouts happened while both ports were alive, or after both died.
    dest_name = reply.ip_active || dest.ip_timestamp - reply.ip_timestamp < 0 ? MACH_PORT_DEAD : MACH_PORT_NULL;
  } else {
    dest_name = MACH_PORT_DEAD;
  }
  ipc_kmsg_set_local(out, other, reply_type, dest_type, dest, dest_name);
  out.remotePort = reply_name;
  return MACH_MSG_SUCCESS;
}

/**
 * ipc_kmsg_copyout_object: copies out one naked right of a body (or of a pseudo-received
 * header). Dead rights become MACH_PORT_DEAD; if the space can't take the right it is
 * destroyed and the name is MACH_PORT_NULL.
 * Rights: consumes the right.
 * Returns: the name (>= 0), or minus the error bits (MACH_MSG_IPC_SPACE, MACH_MSG_IPC_KERNEL)
 * when the right could not be placed (the name is then MACH_PORT_NULL).
 */
function ipc_kmsg_copyout_object(space: IpcSpace, object: IpcPortRef, msgt_name: number): number {
  if (object === null) return MACH_PORT_NULL;
  if (object === IP_DEAD) return MACH_PORT_DEAD;

  // Quick copyout of a send right to a port the space already holds send rights for.
  if (msgt_name === MACH_MSG_TYPE_PORT_SEND && space.is_active && object.ip_active) {
    const entry = ipc_reverse_lookup(space, object);
    if (entry !== null) {
      object.ip_srights--;
      if (IE_BITS_UREFS(entry.ie_bits + 1) < MACH_PORT_UREFS_MAX) entry.ie_bits++;
      return entry.ie_name;
    }
  }

  const entry = ipc_object_copyout(space, object, msgt_name, true);
  if (typeof entry !== 'number') return entry.ie_name;
  ipc_object_destroy(object, msgt_name);
  if (entry === KERN_INVALID_CAPABILITY) return MACH_PORT_DEAD;
  return -(entry === KERN_RESOURCE_SHORTAGE ? MACH_MSG_IPC_KERNEL : MACH_MSG_IPC_SPACE);
}

/**
 * ipc_kmsg_copyout_body: copies out the body's rights (names replace naked rights, port
 * types are the received ones) and out-of-line regions (the VM hook's copyout; a region
 * that can't be placed arrives empty with size 0). In-line descriptors arrive with the
 * deallocate bit clear, out-of-line ones with it set. Proceeds despite errors.
 * Returns: MACH_MSG_SUCCESS, or MACH_MSG_IPC_SPACE / _IPC_KERNEL / _VM_SPACE bits.
 */
export function ipc_kmsg_copyout_body(kmsg: IpcKmsg, space: IpcSpace): number {
  let mr = MACH_MSG_SUCCESS;
  for (const item of kmsg.body) {
    const t = item.type;
    if (MACH_MSG_TYPE_PORT_ANY(t.name)) {
      const data = item.data as IpcPortRef | IpcPortRef[];
      if (Array.isArray(data)) {
        const names: number[] = [];
        for (const object of data) {
          const name = ipc_kmsg_copyout_object(space, object, t.name);
          if (name < 0) mr |= -name;
          names.push(name < 0 ? MACH_PORT_NULL : name);
        }
        item.data = names;
      } else {
        const name = ipc_kmsg_copyout_object(space, data, t.name);
        if (name < 0) mr |= -name;
        item.data = name < 0 ? MACH_PORT_NULL : name;
      }
    } else if (!t.inline && ipc_kmsg_data_length(t) !== 0) {
      const data = ipc_kmsg_vm.copyout(space, item.data as MachMsgData, ipc_kmsg_data_length(t));
      if (data === null) {
        ipc_kmsg_vm.discard(item.data as MachMsgData);
        t.size = 0;
        item.data = new Uint8Array(0);
        mr |= MACH_MSG_VM_SPACE;
      } else {
        item.data = data;
      }
    }
    t.deallocate = !t.inline;
  }
  return mr;
}

/**
 * ipc_kmsg_copyout: copies out header and body into the receiver's space, writing the
 * user header into `out`.
 * Returns: MACH_MSG_SUCCESS; MACH_RCV_INVALID_NOTIFY or MACH_RCV_HEADER_ERROR | bits (the
 * message is intact); MACH_RCV_BODY_ERROR | bits (the header was copied out, as much of
 * the body as possible).
 */
export function ipc_kmsg_copyout(kmsg: IpcKmsg, space: IpcSpace, notify: number, out: MachMsgHeader): number {
  const mbits = kmsg.header.bits;
  const mr = ipc_kmsg_copyout_header(kmsg, space, notify, out);
  if (mr !== MACH_MSG_SUCCESS) return mr;
  if (mbits & MACH_MSGH_BITS_COMPLEX) {
    const body = ipc_kmsg_copyout_body(kmsg, space);
    if (body !== MACH_MSG_SUCCESS) return MACH_RCV_BODY_ERROR | body;
  }
  return MACH_MSG_SUCCESS;
}

/**
 * ipc_kmsg_copyout_pseudo: gives a message that could not be sent back to its sender: the
 * header rights are copied out like body rights (not swapped: the destination right goes
 * back to msgh_remote_port, the reply right to msgh_local_port), then the body.
 * Rights: every right in the message returns to the space (or is destroyed if it can't).
 * Returns: MACH_MSG_SUCCESS or MACH_MSG_IPC_SPACE / _IPC_KERNEL / _VM_SPACE bits.
 */
export function ipc_kmsg_copyout_pseudo(kmsg: IpcKmsg, space: IpcSpace, out: MachMsgHeader): number {
  const header = kmsg.header;
  const mbits = header.bits;
  let mr = MACH_MSG_SUCCESS;
  const dest_name = ipc_kmsg_copyout_object(space, header.remotePort, MACH_MSGH_BITS_REMOTE(mbits));
  const reply_name = ipc_kmsg_copyout_object(space, header.localPort, MACH_MSGH_BITS_LOCAL(mbits));
  if (dest_name < 0) mr |= -dest_name;
  if (reply_name < 0) mr |= -reply_name;
  header.remotePort = null;
  header.localPort = null;
  out.bits = (mbits & ~MACH_MSGH_BITS_CIRCULAR) >>> 0;
  out.remotePort = dest_name < 0 ? MACH_PORT_NULL : dest_name;
  out.localPort = reply_name < 0 ? MACH_PORT_NULL : reply_name;
  if (mbits & MACH_MSGH_BITS_COMPLEX) mr |= ipc_kmsg_copyout_body(kmsg, space);
  return mr;
}

/**
 * ipc_kmsg_copyout_dest: copies out only the destination (the receiver's name for it, or
 * MACH_PORT_DEAD) and destroys every other right and region in the message. Used when a
 * received message can't be delivered whole (MACH_RCV_TOO_LARGE, header errors).
 * Rights: consumes everything in the message.
 */
export function ipc_kmsg_copyout_dest(kmsg: IpcKmsg, space: IpcSpace, out: MachMsgHeader): void {
  const header = kmsg.header;
  const mbits = header.bits;
  const dest = header.remotePort as IpcPort;
  const reply = header.localPort;
  const dest_type = MACH_MSGH_BITS_REMOTE(mbits);
  const reply_type = MACH_MSGH_BITS_LOCAL(mbits);

  const dest_name = dest.ip_active ? ipc_object_copyout_dest(space, dest, dest_type) : MACH_PORT_DEAD;
  let reply_name: number;
  if (IP_VALID(reply)) {
    ipc_object_destroy(reply, reply_type);
    reply_name = MACH_PORT_NULL;
  } else {
    reply_name = reply === null ? MACH_PORT_NULL : MACH_PORT_DEAD;
  }
  header.remotePort = null;
  header.localPort = null;
  out.bits = ((mbits & ~MACH_MSGH_BITS_PORTS_MASK) | MACH_MSGH_BITS(reply_type, dest_type)) >>> 0;
  out.localPort = dest_name;
  out.remotePort = reply_name;
  if (mbits & MACH_MSGH_BITS_COMPLEX) ipc_kmsg_clean_body(kmsg.body, 0, kmsg.body.length);
}

/**
 * ipc_kmsg_put: hands the (copied-out) message to the caller as a MachMessage and frees the
 * kernel buffer. With `whole` false only the header is returned (sizeof *msg in Mach).
 */
export function ipc_kmsg_put(kmsg: IpcKmsg, header: MachMsgHeader, whole: boolean): MachMessage {
  // After copyout every body item holds user data (names in place of rights).
  const body = whole ? kmsg.body as MachMsgItem[] : [];
  ipc_kmsg_free(kmsg);
  return { header, body };
}
