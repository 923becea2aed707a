/*
 * File: mach/mig.ts
 * Purpose: what tsmig's generated stubs run on: the abstract mach_msg interface a task
 *          runtime (or the kernel) implements, port handles, and MIG's support routines
 *          (reply checks, typed-value conversions), like libmach's mig support.
 *
 * Generated code (src/gen/*.ts) imports only this module and mach/message.ts, so any
 * runtime that implements `MachMsg` can carry the stubs: the embedded kernel, a task
 * process over WebSocket, or a test double.
 */

import {
  KERN_SUCCESS, MACH_SEND_INVALID_REPLY, MachError, MIG_BAD_ARGUMENTS, MIG_NO_REPLY, MIG_REPLY_MISMATCH, MIG_SERVER_DIED, MIG_TYPE_ERROR,
} from './kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_REMOTE, MACH_MSG_TYPE_INTEGER_32, MACH_NOTIFY_SEND_ONCE,
  MACH_RCV_MSG, MACH_SEND_MSG, MIG_REPLY_HEADER_SIZE, type MachMessage, type MachMsgHeader, type MachMsgItem,
  type MachMsgType,
} from './message.js';

// ==== the interface the stubs run on =================================================

/**
 * A right held by a task: a name in that task's IPC space, bound to the runtime that
 * can use it. A stub never sends a handle of one task through another task's runtime.
 */
export interface MachPort {
  readonly name: number;
  readonly task: MachMsg;
}

/**
 * The mach_msg trap and MIG's reply-port management, as a task (or the kernel) offers
 * them to generated stubs.
 *
 * `mach_msg` sends `msg` when `option` has MACH_SEND_MSG, then receives on `rcvName`
 * when it has MACH_RCV_MSG. It returns the received message, or a mach_msg_return_t
 * (0 after a successful send-only call). Port fields of messages hold names in this
 * task's space.
 */
export interface MachMsg {
  mach_msg(msg: MachMessage | null, option: number, rcvName: number, timeout: number): Promise<MachMessage | number> | MachMessage | number;
  /** a receive right for one RPC's reply (mig_get_reply_port); may need a kernel call */
  mig_get_reply_port(): number | Promise<number>;
  /** the RPC completed: the reply port can serve again (mig_put_reply_port) */
  mig_put_reply_port(name: number): void;
  /** the RPC failed: a late reply may still come, so destroy the port (mig_dealloc_reply_port) */
  mig_dealloc_reply_port(name: number): void;
  /** a handle for a name this task received */
  port(name: number): MachPort;
}

/** One routine of a demux: for tracing and for routing a message among several demuxes. */
export interface MigRoutineInfo {
  name: string;
  id: number;
  oneway: boolean;
}

/**
 * A server demultiplexer (MIG's `<subsystem>_server`): handles one request and returns
 * the reply to send, or null when nothing is to be sent (a simpleroutine, MIG_NO_REPLY).
 * `routine(id)` tells whether this demux serves an id (MIG's `<demux>_routine`).
 */
export interface MigDemux {
  (request: MachMessage, task: MachMsg): MachMessage | null | Promise<MachMessage | null>;
  readonly subsystem: string;
  readonly base: number;
  /** routine numbers used, skips included */
  readonly total: number;
  routine(id: number): MigRoutineInfo | undefined;
}

/** What a server work function returns: its outs, or a kern_return_t (an error, or KERN_SUCCESS). */
export type MigResult<T> = T | number | Promise<T | number>;

// ==== user side =======================================================================

/**
 * Send a request and wait for its reply, as a MIG user stub does: reply port from the
 * runtime (or the caller's), mach_msg send+receive, reply id checked.
 * Returns the reply. Throws MachError: the mach_msg error, MIG_SERVER_DIED (a send-once
 * notification came back instead), MIG_REPLY_MISMATCH.
 */
export async function mig_rpc(rt: MachMsg, header: MachMsgHeader, body: MachMsgItem[], option: number, timeout: number, userReplyPort?: number): Promise<MachMessage> {
  let replyPort = userReplyPort ?? rt.mig_get_reply_port();
  if (typeof replyPort !== 'number') replyPort = await replyPort;
  // No reply port could be made (the space is full or dead): the send would fail anyway.
  if (replyPort === 0) throw new MachError(MACH_SEND_INVALID_REPLY);
  header.localPort = replyPort;
  const r = await rt.mach_msg({ header, body }, MACH_SEND_MSG | MACH_RCV_MSG | option, replyPort, timeout);
  if (typeof r === 'number') {
    if (userReplyPort === undefined) rt.mig_dealloc_reply_port(replyPort);
    throw new MachError(r);
  }
  if (r.header.id !== header.id + 100) {
    if (r.header.id === MACH_NOTIFY_SEND_ONCE) {
      if (userReplyPort === undefined) rt.mig_put_reply_port(replyPort);
      throw new MachError(MIG_SERVER_DIED);
    }
    if (userReplyPort === undefined) rt.mig_dealloc_reply_port(replyPort);
    throw new MachError(MIG_REPLY_MISMATCH);
  }
  if (userReplyPort === undefined) rt.mig_put_reply_port(replyPort);
  return r;
}

/** Send a one-way request (a simpleroutine). Throws MachError on a send failure. */
export async function mig_send(rt: MachMsg, header: MachMsgHeader, body: MachMsgItem[], option: number, timeout: number): Promise<void> {
  const r = await rt.mach_msg({ header, body }, MACH_SEND_MSG | option, 0, timeout);
  if (typeof r !== 'number') throw new MachError(MIG_TYPE_ERROR);
  if (r !== KERN_SUCCESS) throw new MachError(r);
}

/**
 * The reply's size, complex bit and return code (user stub TypeCheck): a 40-byte simple
 * reply with a non-success RetCode is an error reply whatever the routine's shape.
 * Throws MachError(MIG_TYPE_ERROR) or the server's return code.
 */
export function mig_check_reply(reply: MachMessage, size: number, minimum: boolean, complex: boolean | 'dynamic'): void {
  const h = reply.header;
  const body = reply.body;
  const rc = body[0];
  if (rc === undefined || !sameType(rc.type, RETCODE_TYPE) || typeof rc.data !== 'number') throw new MachError(MIG_TYPE_ERROR);
  const isComplex = (h.bits & MACH_MSGH_BITS_COMPLEX) !== 0;
  const errorReply = h.size === MIG_REPLY_HEADER_SIZE && !isComplex && rc.data !== KERN_SUCCESS;
  if (!errorReply) {
    if (minimum ? h.size < size : h.size !== size) throw new MachError(MIG_TYPE_ERROR);
    if (complex !== 'dynamic' && isComplex !== complex) throw new MachError(MIG_TYPE_ERROR);
  }
  if (rc.data !== KERN_SUCCESS) throw new MachError(rc.data);
}

/**
 * A receiver's descriptor check (MIG's TypeCheck). With every member present it is the
 * quick check of the whole descriptor; absent members are not checked (MIG's attribute
 * check: variable arrays skip the number, indefinite ones the inline bit, polymorphic
 * ones the name).
 */
export interface MigTypeCheck {
  name?: number;
  size: number;
  number?: number;
  inline?: boolean;
  longform: boolean;
  deallocate?: boolean;
}

export function mig_check_type(t: MachMsgType, c: MigTypeCheck): boolean {
  return t.size === c.size && t.longform === c.longform
    && (c.name === undefined || t.name === c.name)
    && (c.number === undefined || t.number === c.number)
    && (c.inline === undefined || t.inline === c.inline)
    && (c.deallocate === undefined || t.deallocate === c.deallocate);
}

// ==== server side =====================================================================

/** The RetCode descriptor: INTEGER_32, 32 bits, 1, in line (0x10012002). */
export const RETCODE_TYPE: MachMsgType = Object.freeze({ name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false });

/**
 * The 40-byte reply the demux prepares (mig_reply_header_t): the request's reply right
 * as destination, id + 100, and a RetCode.
 */
export function mig_reply(request: MachMessage, code: number): MachMessage {
  const h = request.header;
  return {
    header: {
      bits: MACH_MSGH_BITS(MACH_MSGH_BITS_REMOTE(h.bits), 0), size: MIG_REPLY_HEADER_SIZE,
      remotePort: h.remotePort, localPort: 0, seqno: 0, id: h.id + 100,
    },
    body: [{ type: RETCODE_TYPE, data: code }],
  };
}

/** True when a message's complex bit is set. */
export function mig_complex(m: MachMessage): boolean {
  return (m.header.bits & MACH_MSGH_BITS_COMPLEX) !== 0;
}

/** Thrown by the value readers below when a request does not match its routine. */
export class MigBadArguments extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'MigBadArguments';
  }
  readonly code = MIG_BAD_ARGUMENTS;
}

// ==== descriptors ======================================================================

/** Descriptor equality (MIG's BAD_TYPECHECK on the whole descriptor). */
export function sameType(a: MachMsgType, b: MachMsgType): boolean {
  return a.name === b.name && a.size === b.size && a.number === b.number && a.inline === b.inline
    && a.longform === b.longform && a.deallocate === b.deallocate;
}

/** Bytes of data an item takes in the x86_64 message: in line padded to 4, or a pointer. */
export function itemDataSize(t: MachMsgType): number {
  if (!t.inline) return 8;
  return (Math.floor((t.number * t.size + 7) / 8) + 3) & ~3;
}

/**
 * msgh_size of a message with this body, as GNU Mach on x86_64 counts it (the header,
 * then each descriptor and its data, in line padded to 4 bytes or an 8-byte pointer).
 */
export function msgSize(body: readonly MachMsgItem[]): number {
  let size = 32;
  for (let i = 0; i < body.length; i++) {
    const t = body[i]!.type;
    size += (t.longform ? 12 : 4) + itemDataSize(t);
  }
  return size;
}

// ==== values: what each kind of field carries in a MachMsgItem =======================
//
// integers (one element)        number           (64-bit values: safe integers)
// booleans                      number 0/1       (typed `boolean` in the stubs)
// integer arrays, in line       number[]
// 8-bit data, in line or OOL    Uint8Array
// other data out of line        Uint8Array       (little-endian bytes, as memory holds them)
// strings (MACH_MSG_TYPE_STRING) string
// port rights and names         number / number[] (names in the holder's space)

export function int_value(item: MachMsgItem): number {
  const d = item.data;
  if (typeof d !== 'number') throw new MigBadArguments('expected an integer');
  return d;
}

export function bool_value(item: MachMsgItem): boolean {
  return int_value(item) !== 0;
}

export function string_value(item: MachMsgItem): string {
  const d = item.data;
  if (typeof d !== 'string') throw new MigBadArguments('expected a string');
  return d;
}

/** 8-bit (or out-of-line) data: exactly the bytes its descriptor announces. */
export function bytes_value(item: MachMsgItem, t: MachMsgType): Uint8Array {
  const d = item.data;
  if (!(d instanceof Uint8Array)) throw new MigBadArguments('expected bytes');
  if (d.length !== Math.floor((t.number * t.size + 7) / 8)) throw new MigBadArguments('data length does not match its descriptor');
  return d;
}

/** A fixed-size array argument must have exactly its declared length. */
export function check_length<T extends { length: number }>(v: T, n: number, what: string): T {
  if (v.length !== n) throw new RangeError(`${what}: expected ${n} elements, got ${v.length}`);
  return v;
}

export function ints_value(item: MachMsgItem, count?: number): number[] {
  const d = item.data;
  if (!Array.isArray(d)) throw new MigBadArguments('expected an array of integers');
  if (count !== undefined && d.length !== count) throw new MigBadArguments('array length does not match its descriptor');
  for (let i = 0; i < d.length; i++) if (typeof d[i] !== 'number') throw new MigBadArguments('expected an array of integers');
  return d;
}

/** Integer elements of `bits` bits packed little-endian (out-of-line integer arrays). */
export function ints_to_bytes(values: readonly number[], bits: number): Uint8Array {
  const bytes = bits >>> 3;
  const out = new Uint8Array(values.length * bytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = i * bytes;
    if (bytes === 1) view.setUint8(at, v & 0xff);
    else if (bytes === 2) view.setUint16(at, v & 0xffff, true);
    else if (bytes === 4) view.setUint32(at, v >>> 0, true);
    else view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
  }
  return out;
}

/** The inverse of ints_to_bytes (64-bit elements as numbers; signedness as unsigned). */
export function bytes_to_ints(data: Uint8Array, bits: number): number[] {
  const bytes = bits >>> 3;
  if (bytes === 0 || data.length % bytes !== 0) throw new MigBadArguments('out-of-line data is not a whole number of elements');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Array<number>(data.length / bytes);
  for (let i = 0; i < out.length; i++) {
    const at = i * bytes;
    out[i] = bytes === 1 ? view.getUint8(at) : bytes === 2 ? view.getUint16(at, true) : bytes === 4 ? view.getUint32(at, true) : Number(view.getBigUint64(at, true));
  }
  return out;
}

/** The name to send for a handle (MACH_PORT_NULL for null); refuses another task's handle. */
export function port_name(rt: MachMsg, p: MachPort | null | undefined): number {
  if (p == null) return 0;
  if (p.task !== rt) throw new TypeError(`port handle ${p.name} belongs to another task`);
  return p.name;
}

/** A received port: a handle of this task, or null for MACH_PORT_NULL. */
export function port_value(rt: MachMsg, item: MachMsgItem): MachPort | null {
  const name = int_value(item);
  return name === 0 ? null : rt.port(name);
}

export function ports_value(rt: MachMsg, item: MachMsgItem): Array<MachPort | null> {
  return ints_value(item).map((n) => (n === 0 ? null : rt.port(n)));
}

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

/**
 * mig_strncpy for a field of `n` bytes: at most n-1 bytes of `s` (UTF-8, cut on a
 * character boundary) and the count a variable string's descriptor carries (the bytes
 * copied plus the NUL, at most n).
 */
export function mig_string(s: string, n: number): { value: string; count: number } {
  let ascii = s.length < n;
  for (let i = 0; ascii && i < s.length; i++) if (s.charCodeAt(i) > 0x7f) ascii = false;
  if (ascii) return { value: s, count: s.length + 1 };
  const bytes = utf8.encode(s);
  if (bytes.length < n) return { value: s, count: bytes.length + 1 };
  let end = Math.max(0, n - 1);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not split a character
  return { value: utf8Decode.decode(bytes.subarray(0, end)), count: n };
}

/**
 * Finish a server stub once its work function has answered (MIG's `OutP->RetCode = ...`
 * then the reply): outs → the reply `build` makes; a kern_return_t → a 40-byte error
 * reply (KERN_SUCCESS too, for routines without out values); MIG_NO_REPLY → nothing.
 * A work function may also throw a MachError; any other exception is a bug and propagates.
 */
export function mig_finish<T>(request: MachMessage, r: MigResult<T> | void, build: (outs: T) => MachMessage): MachMessage | null | Promise<MachMessage | null> {
  if (r instanceof Promise) return r.then((v) => mig_finish(request, v, build), (e: unknown) => mig_fail(request, e));
  if (typeof r === 'number' || r === undefined) {
    const code = typeof r === 'number' ? r : KERN_SUCCESS;
    if (code === MIG_NO_REPLY) return null;
    if (code !== KERN_SUCCESS) return mig_reply(request, code);
    return build(undefined as T);
  }
  return build(r);
}

/** A work function threw: a MachError becomes its code in an error reply; others propagate. */
export function mig_fail(request: MachMessage, e: unknown): MachMessage | null {
  if (e instanceof MachError) return e.code === MIG_NO_REPLY ? null : mig_reply(request, e.code);
  if (e instanceof MigBadArguments) return mig_reply(request, MIG_BAD_ARGUMENTS);
  throw e;
}
