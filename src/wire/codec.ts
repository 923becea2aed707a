/*
 * File: wire/codec.ts
 * Purpose: the frames a task and its kernel exchange over WebSocket (docs/protocol.md):
 *          msgpackr encoding, and the validation every frame from a task passes before
 *          the kernel touches its tables.
 *
 * A frame is one msgpack array `[op, ...]`. Messages travel flat, header then five
 * values per typed item, so a message costs one array on the wire and in the decoder:
 *
 *   [bits, size, remotePort, localPort, seqno, id,  name, size, number, flags, data,  ...]
 *
 * where flags = inline | longform << 1 | deallocate << 2 | region << 3 and data is what
 * docs/messages.md says an item holds (number, number[], Uint8Array, string); an
 * out-of-line region with an address (the VM's) is [address, bytes?, missing?].
 *
 * msgpackr is used with records, structured clones and extra types off, 64-bit integers
 * decoded as numbers and maps as plain objects. A hostile frame can still make msgpackr
 * build odd values (extensions: dates, errors, sets, bigints); the validators below accept
 * only the exact shapes the protocol has, so such a frame is refused like any other.
 * Bytes decode as Buffer views of the frame: the validators turn them into plain
 * Uint8Array views (the kernel copies what it keeps, as copyin does).
 */

import { Packr } from 'msgpackr';
import type { MachMessage, MachMsgData, MachMsgItem } from '../mach/message.js';
import { MACH_SEND_MSG } from '../mach/message.js';
import type { TaskInfo } from '../transport/transport.js';
import { DEFAULT_LIMITS, type WireLimits } from './limits.js';

/** The WebSocket subprotocol: the protocol's name and version. */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `tsmach.${PROTOCOL_VERSION}`;

// ==== ops ===========================================================================

/** task → kernel: [OP_MSG, call, msg | null, option, rcvSize, rcvName, timeout, notify] */
export const OP_MSG = 1;
/** task → kernel: [OP_REPLY_PORT, call] */
export const OP_REPLY_PORT = 2;
/** task → kernel: [OP_STATS, call] */
export const OP_STATS = 3;
/** kernel → task, first frame: [OP_WELCOME, version, info, limits] */
export const OP_WELCOME = 16;
/** kernel → task: [OP_RET, call, mr, msg | true | null, size?] (true: your message, unchanged) */
export const OP_RET = 17;
/** kernel → task: [OP_VALUE, call, value] */
export const OP_VALUE = 18;
/** kernel → task: [OP_ERROR, call, code, text] */
export const OP_ERROR = 19;

/** WebSocket close codes the kernel uses (RFC 6455 §7.4.1, and 4000+ for tsmach). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNSUPPORTED = 1003;
export const CLOSE_INVALID = 1007;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL = 1011;
/** the task was terminated (task_terminate) */
export const CLOSE_TASK_TERMINATED = 4000;

/** A close reason WebSocket accepts (at most 123 bytes): printable ASCII, cut at 120. */
export function closeReason(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}

/** Error codes in OP_ERROR frames and WireError.code. */
export type WireErrorCode =
  | 'bad-frame' | 'bad-message' | 'limit' | 'too-many-calls' | 'internal' | 'refused'
  /** the connection ended: the kernel went away, or terminated the task */
  | 'kernel-lost' | 'terminated';

/** A frame that breaks the protocol, or a call the kernel refused. */
export class WireError extends Error {
  readonly code: WireErrorCode;
  /** the call the frame carried, when it could be read */
  readonly call: number | undefined;
  constructor(code: WireErrorCode, message: string, call?: number) {
    super(message);
    this.name = 'WireError';
    this.code = code;
    this.call = call;
  }
}

// ==== msgpackr ======================================================================

/** One Packr for the process: records, clones and extra types off; 64-bit ints as numbers. */
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  copyBuffers: false,
});

/** Encodes a frame (a Buffer that stays valid: msgpackr never reuses returned bytes). */
export function encode(frame: unknown): Buffer {
  return packr.pack(frame);
}

/** Decodes a frame; anything that is not one complete msgpack value is a WireError. */
export function decode(buf: Uint8Array): unknown {
  try {
    return packr.unpack(buf);
  } catch (e) {
    throw new WireError('bad-frame', `not a msgpack value (${(e as Error).message})`);
  }
}

// ==== small checks ==================================================================

function isUint32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

/** msgh_bits and msgh_id may arrive signed or unsigned. */
function isInt32ish(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff;
}

function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// ==== messages ======================================================================

/**
 * Out-of-line data as the VM layer marks it (src/vm/ool.ts, docs/messages.md): bytes with
 * the region's `address` (sending: where it is in the sender's map; received: where the
 * kernel placed it) and, received, the offsets of pages a pager has not provided yet.
 */
export interface OolRegion extends Uint8Array {
  address?: number;
  missing?: number[];
}

/** flags bit: an out-of-line region with an address: data is [address, bytes?, missing?] */
export const FLAG_REGION = 8;

/**
 * A message as the flat array the wire carries. `regionBytes` false (a task sending): an
 * out-of-line region with an address travels as [address] alone, since the kernel copies
 * it from the sender's map and never reads those bytes; true (the kernel answering): as
 * [address, bytes] or [address, bytes, missing].
 */
export function packMessage(m: MachMessage, regionBytes = true): unknown[] {
  const h = m.header;
  const a: unknown[] = [h.bits, h.size, h.remotePort, h.localPort, h.seqno, h.id];
  for (const it of m.body) {
    const t = it.type;
    let flags = (t.inline ? 1 : 0) | (t.longform ? 2 : 0) | (t.deallocate ? 4 : 0);
    let data: unknown = it.data;
    if (!t.inline && data instanceof Uint8Array) {
      const address = (data as OolRegion).address;
      if (typeof address === 'number') {
        flags |= FLAG_REGION;
        const missing = (data as OolRegion).missing;
        data = !regionBytes ? [address] : missing !== undefined && missing.length > 0 ? [address, data, missing] : [address, data];
      }
    }
    a.push(t.name, t.size, t.number, flags, data);
  }
  return a;
}

/** A shared zero-filled buffer for regions sent by address (their bytes are never read). */
let zeros = new Uint8Array(0);
function zeroRegion(length: number): Uint8Array {
  if (zeros.length < length) zeros = new Uint8Array(Math.max(length, Math.min(zeros.length * 2, 1 << 30)));
  return new Uint8Array(zeros.buffer, 0, length);
}

function isAddress(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * A message from its flat array, checked against `limits`: every field of the right type
 * and range, item count, array elements, in-line and out-of-line bytes. Whether the items
 * make a valid Mach message (sizes, descriptors, rights) is the kernel's business
 * (ipc_kmsg_get, copyin), as with a C task's bytes.
 * Throws: WireError 'bad-message' or 'limit'.
 */
export function unpackMessage(a: unknown, limits: WireLimits = DEFAULT_LIMITS): MachMessage {
  if (!Array.isArray(a)) throw new WireError('bad-message', 'a message is an array');
  const n = a.length;
  if (n < 6 || (n - 6) % 5 !== 0) throw new WireError('bad-message', 'a message is 6 header values and 5 per item');
  const items = (n - 6) / 5;
  if (items > limits.maxItems) throw new WireError('limit', `${items} items in a message (limit ${limits.maxItems})`);
  const [bits, size, remotePort, localPort, seqno, id] = a as unknown[];
  if (!isInt32ish(bits) || !isUint32(size) || !isUint32(remotePort) || !isUint32(localPort) || !isUint32(seqno) || !isInt32ish(id)) {
    throw new WireError('bad-message', 'bad message header');
  }
  const body: MachMsgItem[] = new Array(items);
  let inlineBytes = 0;
  let oolBytes = 0;
  let elements = 0;
  for (let i = 0, j = 6; i < items; i++, j += 5) {
    const name = a[j];
    const tsize = a[j + 1];
    const number = a[j + 2];
    const flags = a[j + 3];
    let data = a[j + 4] as unknown;
    if (!isUint32(name) || !isUint32(tsize) || !isUint32(number) || typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 15) {
      throw new WireError('bad-message', `bad descriptor of item ${i}`);
    }
    const inline = (flags & 1) !== 0;
    if (flags & FLAG_REGION) {
      // [address] (a task sending a region of its map) or [address, bytes, missing?]
      if (inline || !Array.isArray(data) || data.length < 1 || data.length > 3 || !isAddress(data[0])) {
        throw new WireError('bad-message', `item ${i}: a region is [address, bytes?, missing?], out of line`);
      }
      const [address, bytes, missing] = data as unknown[];
      let region: OolRegion;
      if (bytes === undefined) {
        const length = Math.floor((number * tsize + 7) / 8);
        oolBytes += length;
        if (oolBytes > limits.maxOolBytes) throw new WireError('limit', `more than ${limits.maxOolBytes} out-of-line bytes in a message`);
        region = zeroRegion(length);
      } else {
        if (!(bytes instanceof Uint8Array)) throw new WireError('bad-message', `item ${i}: a region's bytes are bytes`);
        region = plainBytes(bytes);
        oolBytes += region.length;
      }
      region.address = address as number;
      if (missing !== undefined) {
        if (!Array.isArray(missing) || missing.length > limits.maxArrayElements || !missing.every(isAddress)) {
          throw new WireError('bad-message', `item ${i}: missing pages are offsets`);
        }
        region.missing = missing as number[];
      }
      data = region;
    } else if (typeof data === 'number') {
      if (!Number.isFinite(data)) throw new WireError('bad-message', `item ${i}: not a finite number`);
    } else if (data instanceof Uint8Array) {
      data = plainBytes(data);
      if (inline) inlineBytes += (data as Uint8Array).length;
      else oolBytes += (data as Uint8Array).length;
    } else if (typeof data === 'string') {
      inlineBytes += data.length;
    } else if (Array.isArray(data)) {
      elements += data.length;
      if (elements > limits.maxArrayElements) throw new WireError('limit', `more than ${limits.maxArrayElements} array elements in a message`);
      for (const x of data) if (typeof x !== 'number' || !Number.isFinite(x)) throw new WireError('bad-message', `item ${i}: an array holds numbers only`);
    } else {
      throw new WireError('bad-message', `item ${i}: data must be a number, number[], bytes or a string`);
    }
    if (inlineBytes > limits.maxInlineBytes) throw new WireError('limit', `more than ${limits.maxInlineBytes} in-line bytes in a message`);
    if (oolBytes > limits.maxOolBytes) throw new WireError('limit', `more than ${limits.maxOolBytes} out-of-line bytes in a message`);
    body[i] = {
      type: { name, size: tsize, number, inline, longform: (flags & 2) !== 0, deallocate: (flags & 4) !== 0 },
      data: data as MachMsgData,
    };
  }
  return { header: { bits, size, remotePort, localPort, seqno, id }, body };
}

// ==== task → kernel =================================================================

export interface MsgCall {
  op: typeof OP_MSG;
  call: number;
  msg: MachMessage | null;
  option: number;
  rcvSize: number;
  rcvName: number;
  timeout: number;
  notify: number;
}
export interface SimpleCall {
  op: typeof OP_REPLY_PORT | typeof OP_STATS;
  call: number;
}
export type Call = MsgCall | SimpleCall;

export function encodeMsgCall(call: number, msg: MachMessage | null, option: number, rcvSize: number, rcvName: number, timeout: number, notify: number): Buffer {
  return packr.pack([OP_MSG, call, msg === null ? null : packMessage(msg, false), option, rcvSize, rcvName, timeout, notify]);
}

export function encodeSimpleCall(op: SimpleCall['op'], call: number): Buffer {
  return packr.pack([op, call]);
}

/**
 * A frame from a task, checked. Throws WireError: with `call` set when the frame named a
 * call (the kernel answers OP_ERROR for it), without when the frame is not even that (the
 * kernel closes the connection).
 */
export function decodeCall(buf: Uint8Array, limits: WireLimits = DEFAULT_LIMITS): Call {
  const f = decode(buf);
  if (!Array.isArray(f) || f.length < 2 || typeof f[0] !== 'number' || !isUint32(f[1])) {
    throw new WireError('bad-frame', 'a frame is an array [op, call, ...]');
  }
  const op = f[0];
  const call = f[1];
  switch (op) {
    case OP_MSG: {
      if (f.length !== 8) throw new WireError('bad-frame', 'mach_msg takes 6 arguments', call);
      const [, , m, option, rcvSize, rcvName, timeout, notify] = f as unknown[];
      if (!isUint32(option) || !isUint32(rcvSize) || !isUint32(rcvName) || !isUint32(timeout) || !isUint32(notify)) {
        throw new WireError('bad-frame', 'mach_msg: option, sizes, names and timeout are unsigned 32-bit integers', call);
      }
      let msg: MachMessage | null = null;
      if (option & MACH_SEND_MSG) {
        try {
          msg = unpackMessage(m, limits);
        } catch (e) {
          if (e instanceof WireError) throw new WireError(e.code, e.message, call);
          throw e;
        }
      } else if (m !== null) {
        throw new WireError('bad-frame', 'mach_msg: a message without MACH_SEND_MSG', call);
      }
      return { op, call, msg, option, rcvSize, rcvName, timeout, notify };
    }
    case OP_REPLY_PORT:
    case OP_STATS:
      if (f.length !== 2) throw new WireError('bad-frame', 'this call takes no arguments', call);
      return { op, call };
    default:
      throw new WireError('bad-frame', `unknown op ${op}`, call);
  }
}

// ==== kernel → task =================================================================

/** What the kernel says of itself in OP_STATS answers (leak checks, tools). */
export interface KernelStats {
  ports: number;
  portSets: number;
  kmsgs: number;
  tasks: number;
  connections: number;
  /** calls waiting in the kernel, all tasks */
  pendingCalls: number;
  /** names checked in with the name service */
  netnames: number;
  /** process.memoryUsage(), after a garbage collection when the kernel runs with --expose-gc */
  heapUsed: number;
  rss: number;
}

/** [OP_WELCOME, version, [id, name, task_self, host_self, host_priv, device_master, bootstrap], limits] */
export function encodeWelcome(info: TaskInfo, limits: WireLimits): Buffer {
  return packr.pack([OP_WELCOME, PROTOCOL_VERSION,
    [info.id, info.name, info.task_self, info.host_self, info.host_priv, info.device_master, info.bootstrap], limits]);
}

/**
 * The answer to a mach_msg call. `msg` is the message left in the caller's buffer;
 * `same` says it is the very message the caller sent, unchanged (a send refused before
 * anything was taken): then only `true` travels back.
 */
export function encodeRet(call: number, mr: number, msg: MachMessage | null, size: number | undefined, same: boolean): Buffer {
  if (msg === null && size === undefined) return packr.pack([OP_RET, call, mr]);
  const m = msg === null ? null : same ? true : packMessage(msg);
  return packr.pack(size === undefined ? [OP_RET, call, mr, m] : [OP_RET, call, mr, m, size]);
}

export function encodeValue(call: number, value: unknown): Buffer {
  return packr.pack([OP_VALUE, call, value]);
}

export function encodeError(call: number, code: WireErrorCode, text: string): Buffer {
  return packr.pack([OP_ERROR, call, code, text]);
}

export interface Welcome {
  op: typeof OP_WELCOME;
  version: number;
  info: TaskInfo;
  limits: WireLimits;
}
export interface RetAnswer {
  op: typeof OP_RET;
  call: number;
  mr: number;
  /** true: the caller's own message, unchanged */
  msg: MachMessage | true | null;
  size: number | undefined;
}
export interface ValueAnswer {
  op: typeof OP_VALUE;
  call: number;
  value: unknown;
}
export interface ErrorAnswer {
  op: typeof OP_ERROR;
  call: number;
  code: WireErrorCode;
  text: string;
}
export type Answer = Welcome | RetAnswer | ValueAnswer | ErrorAnswer;

/**
 * A frame from the kernel. The kernel is trusted, but a frame that is not what the
 * protocol says is still a WireError rather than a TypeError somewhere later.
 */
export function decodeAnswer(buf: Uint8Array): Answer {
  const f = decode(buf);
  if (!Array.isArray(f) || f.length < 3 || typeof f[0] !== 'number') throw new WireError('bad-frame', 'a kernel frame is an array [op, ...]');
  switch (f[0]) {
    case OP_RET: {
      const [, call, mr, m, size] = f as unknown[];
      if (!isUint32(call) || typeof mr !== 'number') throw new WireError('bad-frame', 'bad mach_msg answer');
      const msg = m === undefined || m === null ? null : m === true ? true : unpackMessage(m, UNLIMITED);
      return { op: OP_RET, call, mr, msg, size: typeof size === 'number' ? size : undefined };
    }
    case OP_VALUE:
      if (!isUint32(f[1])) throw new WireError('bad-frame', 'bad answer');
      return { op: OP_VALUE, call: f[1], value: f[2] };
    case OP_ERROR:
      if (!isUint32(f[1])) throw new WireError('bad-frame', 'bad error answer');
      return { op: OP_ERROR, call: f[1], code: String(f[2]) as WireErrorCode, text: String(f[3]) };
    case OP_WELCOME: {
      const [, version, i, limits] = f as unknown[];
      if (!Array.isArray(i) || i.length !== 7 || typeof i[1] !== 'string' || !i.every((x, k) => k === 1 || isUint32(x))) {
        throw new WireError('bad-frame', 'bad welcome');
      }
      const info: TaskInfo = {
        id: i[0], name: i[1], task_self: i[2], host_self: i[3], host_priv: i[4], device_master: i[5], bootstrap: i[6],
      };
      return { op: OP_WELCOME, version: Number(version), info, limits: { ...DEFAULT_LIMITS, ...(limits as Partial<WireLimits>) } };
    }
    default:
      throw new WireError('bad-frame', `unknown kernel op ${String(f[0])}`);
  }
}

/** What a task accepts from its kernel: the kernel already checked what it sends. */
const UNLIMITED: WireLimits = {
  ...DEFAULT_LIMITS,
  maxItems: Number.MAX_SAFE_INTEGER,
  maxArrayElements: Number.MAX_SAFE_INTEGER,
  maxInlineBytes: Number.MAX_SAFE_INTEGER,
  maxOolBytes: Number.MAX_SAFE_INTEGER,
};
