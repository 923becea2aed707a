/*
 * File: wire/mach_codec.ts
 * Purpose: the Mach binary codec: a MachMessage to and from the bytes GNU Mach on x86_64
 *          carries (mach_msg_header_t, then typed items as GNU MIG's C stubs lay them out),
 *          byte for byte what a MIG user stub hands to mach_msg.
 *
 * Layout (spec/mig.md §9–§10, docs/messages.md), little-endian:
 *
 *   0  msgh_bits         4   remote | local << 8 | MACH_MSGH_BITS_COMPLEX
 *   4  msgh_size         4   the whole message, = msgSize(body) (src/mach/mig.ts)
 *   8  msgh_remote_port  4
 *  12  (padding)         4   msgh_local_port is 8-aligned
 *  16  msgh_local_port   8   a 32-bit name (upper half: padding), or msgh_protected_payload
 *                            when the local bits are MACH_MSG_TYPE_PROTECTED_PAYLOAD
 *  24  msgh_seqno        4
 *  28  msgh_id           4
 *  32  items: a descriptor, then its data
 *        short form (mach_msg_type_t), one 32-bit word:
 *          msgt_name 0–7, msgt_size 8–15, msgt_number 16–27, msgt_inline 28,
 *          msgt_longform 29, msgt_deallocate 30, msgt_unused 31
 *        long form (mach_msg_type_long_t), 12 bytes: that word with msgt_longform set
 *          (name, size and number 0), then uint16 msgtl_name, uint16 msgtl_size,
 *          uint32 msgtl_number
 *        data in line: ceil(number × size / 8) bytes, zero-padded to 4
 *        data out of line: an 8-byte pointer (the region itself is not in the message)
 *
 * What an item's `data` holds is fixed by its descriptor (machMsgDataKind, docs/messages.md):
 * port rights and names a number (one name) or number[]; out-of-line data a Uint8Array;
 * strings a string; one integer a number; several integers number[]; 8-bit elements and
 * every other element size a Uint8Array. Long-form descriptors are arrays even with one
 * element (MIG writes indefinite arrays, whatever their count, in long form).
 *
 * Integers are written as their low 8/16/32/64 bits (a value may be given signed or
 * unsigned); they are read back signed for MACH_MSG_TYPE_INTEGER_16/32/64 (kern_return_t,
 * integer_t: RetCode -300 stays -300) and unsigned for every other name (booleans, bytes,
 * port names, msgt_name numbers). 64-bit values must be safe integers both ways.
 *
 * Decoding validates every length and bound against the bytes given and throws
 * MachCodecError on anything malformed; its work and memory are linear in the input's
 * length whatever the descriptors claim (out-of-line regions come from the caller's `ool`
 * reader, which is told their length first).
 * Padding bytes are not checked (MIG's C leaves them uninitialised: the 4 after
 * msgh_remote_port, the upper half of msgh_local_port, xPad, the tails of strings), so
 * decoding then encoding gives back the input with its padding zeroed.
 */

import {
  MACH_MSG_HEADER_SIZE, MACH_MSG_TYPE_INTEGER_16, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_INTEGER_64,
  MACH_MSG_TYPE_LONG_SIZE, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_SIZE,
  MACH_MSG_TYPE_PROTECTED_PAYLOAD, MACH_MSG_TYPE_STRING, MACH_MSGH_BITS_LOCAL, MACH_OOL_POINTER_SIZE,
  type MachMessage, type MachMsgData, type MachMsgHeader, type MachMsgItem, type MachMsgType,
} from '../mach/message.js';
import { msgSize } from '../mach/mig.js';

// ==== errors and options =============================================================

/** A message that cannot be encoded, or bytes that are not a well-formed message. */
export class MachCodecError extends Error {
  override name = 'MachCodecError';
  /**
   * @param message what is wrong
   * @param offset byte offset in the message where it was found, when known
   */
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

export interface EncodeOptions {
  /**
   * The pointer value written for an out-of-line item (`index`: its position in the body).
   * Defaults to 0. Must be an unsigned 64-bit value.
   */
  oolPointer?: (item: MachMsgItem, index: number) => bigint;
}

export interface DecodeOptions {
  /**
   * Reads an out-of-line region: `lengthBytes` = ceil(msgt_number × msgt_size / 8) bytes at
   * `pointer`. Must return exactly that many bytes. Without it, a message with
   * out-of-line data cannot be decoded (MachCodecError).
   */
  ool?: (pointer: bigint, lengthBytes: number) => Uint8Array;
  /**
   * The representation of item `index`'s data, for a receiver that knows the routine
   * (from msgh_id) where the descriptor alone cannot tell: a one-element bounded array
   * (`array[*:N]`, short form) reads as a scalar by default, as docs/messages.md's rule
   * gives it. Return undefined to keep machMsgDataKind's choice. A kind that does not fit
   * the descriptor is a MachCodecError.
   */
  kind?: (type: MachMsgType, index: number, header: MachMsgHeader) => MachMsgDataKind | undefined;
}

// ==== descriptors ====================================================================

/** Bit positions of mach_msg_type_t (GNU Mach include/mach/message.h, x86_64). */
export const MSGT_NAME_SHIFT = 0;
export const MSGT_SIZE_SHIFT = 8;
export const MSGT_NUMBER_SHIFT = 16;
export const MSGT_INLINE_BIT = 1 << 28;
export const MSGT_LONGFORM_BIT = 1 << 29;
export const MSGT_DEALLOCATE_BIT = 1 << 30;
export const MSGT_UNUSED_BIT = 2 ** 31;

/** The largest values each descriptor form holds. */
const SHORT_NAME_MAX = 0xff;
const SHORT_SIZE_MAX = 0xff;
const SHORT_NUMBER_MAX = 0xfff;
const LONG_NAME_MAX = 0xffff;
const LONG_SIZE_MAX = 0xffff;
const LONG_NUMBER_MAX = 0xffffffff;
const UINT32_MAX = 0xffffffff;

/**
 * Routine: machMsgTypeWord
 * Purpose: the first 32-bit word of a descriptor: the whole mach_msg_type_t in short form,
 *          the header word of a mach_msg_type_long_t (longform, inline and deallocate bits
 *          only) in long form.
 * Conditions: `t` has been checked (fields within their form's widths).
 */
export function machMsgTypeWord(t: MachMsgType): number {
  let w = (t.inline ? MSGT_INLINE_BIT : 0) | (t.longform ? MSGT_LONGFORM_BIT : 0) | (t.deallocate ? MSGT_DEALLOCATE_BIT : 0);
  if (!t.longform) w |= (t.name << MSGT_NAME_SHIFT) | (t.size << MSGT_SIZE_SHIFT) | (t.number << MSGT_NUMBER_SHIFT);
  return w >>> 0;
}

/** Bytes of data an item's elements take: ceil(msgt_number × msgt_size / 8). */
export function machMsgDataLength(t: MachMsgType): number {
  return Math.ceil((t.number * t.size) / 8);
}

/** What `data` holds for an item with this descriptor (docs/messages.md). */
export type MachMsgDataKind = 'int' | 'ints' | 'bytes' | 'string' | 'port' | 'ports';

/** True for port rights (dispositions and received types, 16–21) and port names (15). */
export function isPortItem(t: MachMsgType): boolean {
  return t.name >= MACH_MSG_TYPE_PORT_NAME && t.name <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
}

/**
 * Routine: machMsgDataKind
 * Purpose: how an item's data is represented, from its descriptor alone:
 *   ports (15–21)         'port' (one name: in line, one element, short form) or 'ports'
 *   out of line           'bytes' (the region as memory holds it)
 *   MACH_MSG_TYPE_STRING  'string'
 *   8/16/32/64-bit        'int' (one element, short form), else 'ints' (16/32/64 bits) or
 *                         'bytes' (8 bits)
 *   any other size        'bytes'
 * Long form means an array: MIG uses it for indefinite arrays, which may hold one element.
 */
export function machMsgDataKind(t: MachMsgType): MachMsgDataKind {
  const one = t.number === 1 && !t.longform;
  if (isPortItem(t)) return one && t.inline ? 'port' : 'ports';
  if (!t.inline) return 'bytes';
  if (t.name === MACH_MSG_TYPE_STRING) return 'string';
  if (t.size === 8 || t.size === 16 || t.size === 32 || t.size === 64) {
    if (one) return 'int';
    return t.size === 8 ? 'bytes' : 'ints';
  }
  return 'bytes';
}

/**
 * Whether data of this kind can represent an item with this descriptor. Port names are
 * integers too: 'int' and 'ints' fit a port item where 'port' and 'ports' do.
 */
export function machMsgDataKindFits(kind: MachMsgDataKind, t: MachMsgType): boolean {
  const port = isPortItem(t);
  const intSize = t.size === 8 || t.size === 16 || t.size === 32 || t.size === 64;
  switch (kind) {
    case 'port': return port && t.inline && t.number === 1;
    case 'ports': return port;
    case 'string': return !port && t.inline && t.name === MACH_MSG_TYPE_STRING;
    case 'int': return t.inline && t.number === 1 && intSize;
    case 'ints': return port || (t.inline && intSize);
    case 'bytes': return !port;
  }
}

/** Names read back as signed integers (kern_return_t, integer_t, int64_t). */
function isSignedName(name: number): boolean {
  return name === MACH_MSG_TYPE_INTEGER_16 || name === MACH_MSG_TYPE_INTEGER_32 || name === MACH_MSG_TYPE_INTEGER_64;
}

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

// ==== encoding =======================================================================

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function isUint(x: unknown, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
}

/** A descriptor's fields, checked against the widths of its form. */
function checkType(t: unknown, where: string): MachMsgType {
  if (typeof t !== 'object' || t === null) throw new MachCodecError(`${where}: no descriptor`);
  const d = t as Partial<MachMsgType>;
  for (const flag of ['inline', 'longform', 'deallocate'] as const) {
    if (typeof d[flag] !== 'boolean') throw new MachCodecError(`${where}: msgt_${flag} is not a boolean`);
  }
  const long = d.longform === true;
  const [nameMax, sizeMax, numberMax] = long ? [LONG_NAME_MAX, LONG_SIZE_MAX, LONG_NUMBER_MAX] : [SHORT_NAME_MAX, SHORT_SIZE_MAX, SHORT_NUMBER_MAX];
  const form = long ? 'mach_msg_type_long_t' : 'mach_msg_type_t';
  if (!isUint(d.name, nameMax)) throw new MachCodecError(`${where}: msgt_name ${String(d.name)} does not fit a ${form}`);
  if (!isUint(d.size, sizeMax)) throw new MachCodecError(`${where}: msgt_size ${String(d.size)} does not fit a ${form}`);
  if (!isUint(d.number, numberMax)) throw new MachCodecError(`${where}: msgt_number ${String(d.number)} does not fit a ${form}`);
  return d as MachMsgType;
}

/** Writes one integer element of `bits` bits (8/16/32/64) at `at`. */
function writeInt(view: DataView, at: number, bits: number, v: unknown, where: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new MachCodecError(`${where}: ${String(v)} is not an integer`);
  if (bits === 64) {
    if (!Number.isSafeInteger(v)) throw new MachCodecError(`${where}: ${v} is not a safe integer`);
    view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
    return;
  }
  const limit = 2 ** bits;
  if (v < -(limit / 2) || v >= limit) throw new MachCodecError(`${where}: ${v} does not fit ${bits} bits`);
  const u = v < 0 ? v + limit : v;
  if (bits === 8) view.setUint8(at, u);
  else if (bits === 16) view.setUint16(at, u, true);
  else view.setUint32(at, u, true);
}

/**
 * The checks of one item's data against its descriptor; returns what to write in line
 * (a writer of exactly `length` bytes), or null for out-of-line data.
 */
type DataWriter = (view: DataView, bytes: Uint8Array, at: number) => void;

function itemWriter(t: MachMsgType, data: MachMsgData, where: string): DataWriter | null {
  const length = machMsgDataLength(t);
  const elementBits = t.size;
  const intElements = elementBits === 8 || elementBits === 16 || elementBits === 32 || elementBits === 64;
  if (isPortItem(t) && elementBits !== 32 && elementBits !== 64) {
    throw new MachCodecError(`${where}: port names are 32 or 64 bits, not ${elementBits}`);
  }

  if (!t.inline) {
    // The region travels outside the message; its description must still agree.
    if (data instanceof Uint8Array) {
      if (data.length !== length) throw new MachCodecError(`${where}: ${data.length} bytes of out-of-line data, the descriptor says ${length}`);
    } else if (Array.isArray(data)) {
      if (!intElements || data.length !== t.number) throw new MachCodecError(`${where}: ${data.length} out-of-line elements, the descriptor says ${t.number} of ${elementBits} bits`);
    } else {
      throw new MachCodecError(`${where}: out-of-line data must be a Uint8Array or an array of elements`);
    }
    return null;
  }

  if (t.name === MACH_MSG_TYPE_STRING && typeof data === 'string') {
    const s = utf8.encode(data);
    if (s.length >= length && !(s.length === 0 && length === 0)) {
      throw new MachCodecError(`${where}: a string of ${s.length} bytes and its NUL do not fit ${length} bytes`);
    }
    return (_view, bytes, at) => bytes.set(s, at);
  }
  if (typeof data === 'string') throw new MachCodecError(`${where}: a string in a field of msgt_name ${t.name}, not MACH_MSG_TYPE_STRING`);
  if (data instanceof Uint8Array) {
    if (data.length !== length) throw new MachCodecError(`${where}: ${data.length} bytes of data, the descriptor says ${length}`);
    return (_view, bytes, at) => bytes.set(data, at);
  }
  if (!intElements) throw new MachCodecError(`${where}: elements of ${elementBits} bits must be given as a Uint8Array`);
  const step = elementBits / 8;
  if (typeof data === 'number') {
    if (t.number !== 1) throw new MachCodecError(`${where}: one value for ${t.number} elements`);
    writeInt(new DataView(new ArrayBuffer(8)), 0, elementBits, data, where); // range check now
    return (view, _bytes, at) => writeInt(view, at, elementBits, data, where);
  }
  if (Array.isArray(data)) {
    if (data.length !== t.number) throw new MachCodecError(`${where}: ${data.length} elements, the descriptor says ${t.number}`);
    const scratch = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < data.length; i++) writeInt(scratch, 0, elementBits, data[i], `${where}[${i}]`);
    return (view, _bytes, at) => {
      for (let i = 0; i < data.length; i++) writeInt(view, at + i * step, elementBits, data[i], where);
    };
  }
  throw new MachCodecError(`${where}: data of type ${typeof data}`);
}

/**
 * Routine: encodeMachMessage
 * Purpose: the bytes GNU Mach on x86_64 carries for `msg` (what a MIG user stub passes to
 *          mach_msg): header, then each item's descriptor and data, padding zeroed.
 * Conditions: msg.header.size must equal msgSize(msg.body); every item's data must have
 *          the shape and length its descriptor announces; port and integer values must fit
 *          their element size. Out-of-line items carry the pointer `opts.oolPointer` gives
 *          (0 by default).
 * Returns: a new Uint8Array of msgh_size bytes. Throws MachCodecError when the message
 *          cannot be encoded.
 */
export function encodeMachMessage(msg: MachMessage, opts: EncodeOptions = {}): Uint8Array {
  if (typeof msg !== 'object' || msg === null || typeof msg.header !== 'object' || msg.header === null || !Array.isArray(msg.body)) {
    throw new MachCodecError('not a MachMessage');
  }
  const h: MachMsgHeader = msg.header;
  if (!isUint(h.bits, UINT32_MAX)) throw new MachCodecError(`msgh_bits ${String(h.bits)} is not an unsigned 32-bit value`);
  if (!isUint(h.remotePort, UINT32_MAX)) throw new MachCodecError(`msgh_remote_port ${String(h.remotePort)} is not a 32-bit name`);
  if (MACH_MSGH_BITS_LOCAL(h.bits) === MACH_MSG_TYPE_PROTECTED_PAYLOAD
    ? !isUint(h.localPort, Number.MAX_SAFE_INTEGER) : !isUint(h.localPort, UINT32_MAX)) {
    throw new MachCodecError(`msgh_local_port ${String(h.localPort)} is not a 32-bit name (or, with MACH_MSG_TYPE_PROTECTED_PAYLOAD, a safe 64-bit payload)`);
  }
  if (!isUint(h.seqno, UINT32_MAX)) throw new MachCodecError(`msgh_seqno ${String(h.seqno)} is not an unsigned 32-bit value`);
  if (typeof h.id !== 'number' || !Number.isInteger(h.id) || h.id < -(2 ** 31) || h.id > UINT32_MAX) {
    throw new MachCodecError(`msgh_id ${String(h.id)} does not fit 32 bits`);
  }

  // Check every item before sizing the buffer.
  const body = msg.body;
  const writers: Array<DataWriter | null> = [];
  for (let i = 0; i < body.length; i++) {
    const item = body[i];
    if (typeof item !== 'object' || item === null) throw new MachCodecError(`item ${i}: not a MachMsgItem`);
    const t = checkType(item.type, `item ${i}`);
    writers.push(itemWriter(t, item.data, `item ${i}`));
  }
  const size = msgSize(body);
  if (size > UINT32_MAX) throw new MachCodecError(`a message of ${size} bytes does not fit msgh_size`);
  if (h.size !== size) throw new MachCodecError(`msgh_size ${String(h.size)} does not match the body, which takes ${size} bytes`);

  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, h.bits, true);
  view.setUint32(4, size, true);
  view.setUint32(8, h.remotePort, true);
  view.setBigUint64(16, BigInt(h.localPort), true);
  view.setUint32(24, h.seqno, true);
  view.setInt32(28, h.id > 0x7fffffff ? h.id - 2 ** 32 : h.id, true);

  let at = MACH_MSG_HEADER_SIZE;
  for (let i = 0; i < body.length; i++) {
    const item = body[i]!;
    const t = item.type;
    view.setUint32(at, machMsgTypeWord(t), true);
    if (t.longform) {
      view.setUint16(at + 4, t.name, true);
      view.setUint16(at + 6, t.size, true);
      view.setUint32(at + 8, t.number, true);
      at += MACH_MSG_TYPE_LONG_SIZE;
    } else {
      at += MACH_MSG_TYPE_SIZE;
    }
    const write = writers[i]!;
    if (write === null) {
      const pointer = opts.oolPointer ? opts.oolPointer(item, i) : 0n;
      if (typeof pointer !== 'bigint' || pointer < 0n || pointer > 0xffffffffffffffffn) {
        throw new MachCodecError(`item ${i}: out-of-line pointer ${String(pointer)} is not an unsigned 64-bit bigint`);
      }
      view.setBigUint64(at, pointer, true);
      at += MACH_OOL_POINTER_SIZE;
    } else {
      write(view, bytes, at);
      at += round4(machMsgDataLength(t));
    }
  }
  return bytes;
}

// ==== decoding =======================================================================

/** Reads one element of `bits` bits at `at` as a number (signed or unsigned). */
function readInt(view: DataView, at: number, bits: number, signed: boolean): number {
  switch (bits) {
    case 8: return signed ? view.getInt8(at) : view.getUint8(at);
    case 16: return signed ? view.getInt16(at, true) : view.getUint16(at, true);
    case 32: return signed ? view.getInt32(at, true) : view.getUint32(at, true);
    default: {
      const v = signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new MachCodecError(`64-bit value ${v} is not a safe integer`, at);
      }
      return Number(v);
    }
  }
}

function readInts(view: DataView, at: number, count: number, bits: number, signed: boolean): number[] {
  const out = new Array<number>(count);
  const step = bits / 8;
  for (let i = 0; i < count; i++) out[i] = readInt(view, at + i * step, bits, signed);
  return out;
}

/**
 * Routine: decodeMachMessage
 * Purpose: the inverse of encodeMachMessage: a MachMessage from GNU Mach x86_64 bytes,
 *          each item's data in the representation its descriptor fixes (machMsgDataKind).
 * Conditions: `bytes` holds exactly one message (msgh_size = its length). Out-of-line
 *          regions are read through `opts.ool`.
 * Returns: the message. Throws MachCodecError when the bytes are not a well-formed
 *          message: shorter than a header, msgh_size ≠ length, a descriptor or its data
 *          running past the end, port names not 32/64 bits, a string without its NUL,
 *          a string that is not UTF-8, a 64-bit value beyond the safe integers, an out-of-line region of the wrong
 *          length or with no reader. Errors of the `ool` reader itself propagate.
 */
export function decodeMachMessage(bytes: Uint8Array, opts: DecodeOptions = {}): MachMessage {
  if (!(bytes instanceof Uint8Array)) throw new MachCodecError('a message is decoded from a Uint8Array');
  const length = bytes.length;
  if (length < MACH_MSG_HEADER_SIZE) throw new MachCodecError(`${length} bytes are shorter than mach_msg_header_t (${MACH_MSG_HEADER_SIZE})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(4, true);
  if (size !== length) throw new MachCodecError(`msgh_size ${size} does not match the ${length} bytes given`, 4);
  if ((length & 3) !== 0) throw new MachCodecError(`msgh_size ${size} is not a multiple of 4`, 4);
  const bits = view.getUint32(0, true);
  // The 8-byte union: a protected payload when the local bits say so, else a 32-bit name
  // whose upper half MIG's stubs leave uninitialised.
  let localPort = view.getUint32(16, true);
  if (MACH_MSGH_BITS_LOCAL(bits) === MACH_MSG_TYPE_PROTECTED_PAYLOAD) {
    const payload = view.getBigUint64(16, true);
    if (payload > BigInt(Number.MAX_SAFE_INTEGER)) throw new MachCodecError(`msgh_protected_payload ${payload} is not a safe integer`, 16);
    localPort = Number(payload);
  }
  const header: MachMsgHeader = {
    bits,
    size,
    remotePort: view.getUint32(8, true),
    localPort,
    seqno: view.getUint32(24, true),
    id: view.getInt32(28, true),
  };

  const body: MachMsgItem[] = [];
  let at = MACH_MSG_HEADER_SIZE;
  while (at < length) {
    const start = at;
    const where = `item ${body.length}`;
    if (length - at < MACH_MSG_TYPE_SIZE) throw new MachCodecError(`${where}: truncated descriptor`, start);
    const word = view.getUint32(at, true);
    const longform = (word & MSGT_LONGFORM_BIT) !== 0;
    let name: number;
    let elementBits: number;
    let number: number;
    if (longform) {
      if (length - at < MACH_MSG_TYPE_LONG_SIZE) throw new MachCodecError(`${where}: truncated long-form descriptor`, start);
      name = view.getUint16(at + 4, true);
      elementBits = view.getUint16(at + 6, true);
      number = view.getUint32(at + 8, true);
      at += MACH_MSG_TYPE_LONG_SIZE;
    } else {
      name = (word >>> MSGT_NAME_SHIFT) & SHORT_NAME_MAX;
      elementBits = (word >>> MSGT_SIZE_SHIFT) & SHORT_SIZE_MAX;
      number = (word >>> MSGT_NUMBER_SHIFT) & SHORT_NUMBER_MAX;
      at += MACH_MSG_TYPE_SIZE;
    }
    const type: MachMsgType = {
      name, size: elementBits, number,
      inline: (word & MSGT_INLINE_BIT) !== 0,
      longform,
      deallocate: (word & MSGT_DEALLOCATE_BIT) !== 0,
    };
    const dataLength = machMsgDataLength(type);
    let kind = machMsgDataKind(type);
    if (opts.kind) {
      const wanted = opts.kind(type, body.length, header);
      if (wanted !== undefined) {
        if (!machMsgDataKindFits(wanted, type)) throw new MachCodecError(`${where}: data kind '${wanted}' does not fit its descriptor`, start);
        kind = isPortItem(type) ? (wanted === 'int' || wanted === 'port' ? 'port' : 'ports') : wanted;
      }
    }
    if (isPortItem(type) && elementBits !== 32 && elementBits !== 64) {
      throw new MachCodecError(`${where}: port names of ${elementBits} bits (must be 32 or 64)`, start);
    }

    let data: MachMsgData;
    if (!type.inline) {
      if (length - at < MACH_OOL_POINTER_SIZE) throw new MachCodecError(`${where}: truncated out-of-line pointer`, at);
      const pointer = view.getBigUint64(at, true);
      at += MACH_OOL_POINTER_SIZE;
      if (!opts.ool) throw new MachCodecError(`${where}: out-of-line data and no ool reader`, start);
      const region = opts.ool(pointer, dataLength);
      if (!(region instanceof Uint8Array) || region.length !== dataLength) {
        throw new MachCodecError(`${where}: the ool reader gave ${region instanceof Uint8Array ? region.length : typeof region} bytes, the descriptor says ${dataLength}`, start);
      }
      if (kind === 'ports') {
        const rv = new DataView(region.buffer, region.byteOffset, region.byteLength);
        data = readInts(rv, 0, number, elementBits, false);
      } else {
        data = region.slice();
      }
    } else {
      const padded = round4(dataLength);
      if (padded > length - at) {
        throw new MachCodecError(`${where}: ${dataLength} bytes of data announced, ${length - at} remain`, start);
      }
      switch (kind) {
        case 'port':
          data = readInt(view, at, elementBits, false);
          break;
        case 'ports':
          data = readInts(view, at, number, elementBits, false);
          break;
        case 'int':
          data = readInt(view, at, elementBits, isSignedName(name));
          break;
        case 'ints':
          data = readInts(view, at, number, elementBits, isSignedName(name));
          break;
        case 'string': {
          const field = bytes.subarray(at, at + dataLength);
          const nul = field.indexOf(0);
          if (nul < 0 && dataLength > 0) throw new MachCodecError(`${where}: string without its NUL in ${dataLength} bytes`, at);
          try {
            data = utf8Decoder.decode(field.subarray(0, nul < 0 ? 0 : nul));
          } catch {
            throw new MachCodecError(`${where}: string is not UTF-8`, at);
          }
          break;
        }
        default:
          data = bytes.slice(at, at + dataLength);
      }
      at += padded;
    }
    body.push({ type, data });
  }
  return { header, body };
}
