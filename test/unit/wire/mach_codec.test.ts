/*
 * File: test/unit/wire/mach_codec.test.ts
 * Purpose: the Mach binary codec — spec/mig.md §9.5 and §9.8 byte for byte, round trips of
 *          every item kind, malformed input, and a fuzz loop in which only MachCodecError
 *          may come out.
 */

import { describe, expect, it } from 'vitest';
import {
  MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_BOOLEAN, MACH_MSG_TYPE_BYTE, MACH_MSG_TYPE_CHAR, MACH_MSG_TYPE_COPY_SEND,
  MACH_MSG_TYPE_INTEGER_16, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_INTEGER_64, MACH_MSG_TYPE_MAKE_SEND,
  MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_STRING, type MachMessage, type MachMsgData,
  type MachMsgItem, type MachMsgType,
} from '../../../src/mach/message.js';
import { msgSize } from '../../../src/mach/mig.js';
import {
  decodeMachMessage, encodeMachMessage, machMsgDataKind, machMsgDataKindFits, machMsgTypeWord, MachCodecError,
} from '../../../src/wire/mach_codec.js';

// ---- helpers --------------------------------------------------------------------------

/** Bytes from a hex dump (whitespace and `|` ignored). */
function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function type(name: number, size: number, number: number, extra: Partial<MachMsgType> = {}): MachMsgType {
  return { name, size, number, inline: true, longform: false, deallocate: false, ...extra };
}

function message(body: MachMsgItem[], header: Partial<MachMessage['header']> = {}): MachMessage {
  return {
    header: { bits: 0x1513, size: msgSize(body), remotePort: 0x1234, localPort: 0xabc, seqno: 0, id: 2000, ...header },
    body,
  };
}

/** Encode then decode (with out-of-line regions kept by pointer) and expect the same message. */
function roundTrip(msg: MachMessage, regions: Map<bigint, Uint8Array> = new Map()): Uint8Array {
  const bytes = encodeMachMessage(msg, { oolPointer: (_item, i) => 0x7f0000001000n + BigInt(i) * 0x1000n });
  expect(bytes.length).toBe(msg.header.size);
  const back = decodeMachMessage(bytes, {
    ool: (p, n) => {
      const r = regions.get(p);
      if (r === undefined) throw new Error(`no region at ${p}`);
      expect(r.length).toBe(n);
      return r;
    },
  });
  expect(back).toEqual(msg);
  return bytes;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectCodecError(f: () => unknown, match?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MachCodecError);
  if (match) expect((caught as Error).message).toMatch(match);
}

// ---- spec/mig.md §9.8 ------------------------------------------------------------------

describe('spec/mig.md §9.8: task_create byte for byte', () => {
  const REQUEST = hex(`
    13 15 00 00 | 28 00 00 00 | 10 11 12 13 | 00 00 00 00 | bc 0a 00 00 00 00 00 00
    00 00 00 00 | d7 07 00 00 | 00 20 01 10 | 20 21 22 23`);
  const requestMsg: MachMessage = {
    header: { bits: 0x1513, size: 40, remotePort: 0x13121110, localPort: 0xabc, seqno: 0, id: 2007 },
    body: [{ type: type(MACH_MSG_TYPE_BOOLEAN, 32, 1), data: 0x23222120 }],
  };

  it('the request as the user stub sends it (40 bytes)', () => {
    expect(toHex(encodeMachMessage(requestMsg))).toBe(toHex(REQUEST));
    expect(decodeMachMessage(REQUEST)).toEqual(requestMsg);
  });

  it('the request as the server receives it (remote and local swapped, seqno set)', () => {
    const received: MachMessage = {
      header: { bits: 0x1112, size: 40, remotePort: 0xabc, localPort: 0x13121110, seqno: 5, id: 2007 },
      body: requestMsg.body,
    };
    const b = encodeMachMessage(received);
    expect(toHex(b.subarray(0, 4))).toBe('12110000');
    expect(toHex(b.subarray(8, 12))).toBe('bc0a0000');
    expect(toHex(b.subarray(16, 24))).toBe('1011121300000000');
    expect(toHex(b.subarray(24, 28))).toBe('05000000');
    expect(decodeMachMessage(b)).toEqual(received);
  });

  it('the reply as the server stub builds it (48 bytes, complex)', () => {
    const REPLY = hex(`
      12 00 00 80 | 30 00 00 00 | bc 0a 00 00 | 00 00 00 00 | 00 00 00 00 00 00 00 00
      00 00 00 00 | 3b 08 00 00 | 02 20 01 10 | 00 00 00 00 | 13 20 01 10 | b0 b1 b2 b3`);
    const reply: MachMessage = {
      header: { bits: (0x12 | MACH_MSGH_BITS_COMPLEX) >>> 0, size: 48, remotePort: 0xabc, localPort: 0, seqno: 0, id: 2107 },
      body: [
        { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: 0 },
        { type: type(MACH_MSG_TYPE_COPY_SEND, 32, 1), data: 0xb3b2b1b0 },
      ],
    };
    expect(toHex(encodeMachMessage(reply))).toBe(toHex(REPLY));
    expect(decodeMachMessage(REPLY)).toEqual(reply);
  });
});

// ---- spec/mig.md §9.5 -------------------------------------------------------------------

describe('spec/mig.md §9.5: descriptor encoding', () => {
  it('short-form words', () => {
    expect(machMsgTypeWord(type(MACH_MSG_TYPE_INTEGER_32, 32, 1))).toBe(0x10012002);
    expect(machMsgTypeWord(type(MACH_MSG_TYPE_INTEGER_32, 32, 3))).toBe(0x10032002);
    expect(machMsgTypeWord(type(MACH_MSG_TYPE_CHAR, 8, 3))).toBe(0x10030808);
    expect(machMsgTypeWord(type(MACH_MSG_TYPE_PORT_SEND, 32, 1, { inline: false, deallocate: true }))).toBe(0x40012011);
    const b = encodeMachMessage(message([{ type: type(MACH_MSG_TYPE_INTEGER_32, 32, 3), data: [1, 2, 3] }]));
    expect(toHex(b.subarray(32))).toBe('02200310' + '01000000' + '02000000' + '03000000');
  });

  it('long form, out of line: 00 00 00 20 | 09 00 08 00 | 03 00 00 00 then the pointer', () => {
    const t = type(MACH_MSG_TYPE_BYTE, 8, 3, { inline: false, longform: true });
    const msg = message([{ type: t, data: new Uint8Array([1, 2, 3]) }], { bits: (0x1513 | MACH_MSGH_BITS_COMPLEX) >>> 0 });
    const b = encodeMachMessage(msg, { oolPointer: () => 0x0000123456789abcn });
    expect(b.length).toBe(32 + 12 + 8);
    expect(toHex(b.subarray(32))).toBe('00000020' + '09000800' + '03000000' + 'bc9a785634120000');
    const back = decodeMachMessage(b, { ool: (p, n) => { expect(p).toBe(0x123456789abcn); expect(n).toBe(3); return new Uint8Array([1, 2, 3]); } });
    expect(back).toEqual(msg);
  });

  it('long form, in line: 00 00 00 30 | 08 00 08 00 | 03 00 00 00 then 3 bytes and a pad', () => {
    const t = type(MACH_MSG_TYPE_CHAR, 8, 3, { longform: true });
    const msg = message([{ type: t, data: new Uint8Array([0x42, 0x43, 0x44]) }]);
    const b = encodeMachMessage(msg);
    expect(toHex(b.subarray(32))).toBe('00000030' + '08000800' + '03000000' + '42434400');
    expect(decodeMachMessage(b)).toEqual(msg);
  });

  it('io_read replies (§9.8): in line, 56 bytes; out of line with deallocate, 60 bytes', () => {
    const rc: MachMsgItem = { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: 0 };
    const inl = message([rc, { type: type(MACH_MSG_TYPE_CHAR, 8, 3, { longform: true }), data: new Uint8Array([0x42, 0x43, 0x44]) }]);
    const b1 = encodeMachMessage(inl);
    expect(b1.length).toBe(56);
    expect(toHex(b1.subarray(40))).toBe('00000030080008000300000042434400');
    const big = new Uint8Array(4096).fill(7);
    const ool = message([rc, { type: type(MACH_MSG_TYPE_CHAR, 8, 4096, { longform: true, inline: false, deallocate: true }), data: big }]);
    const b2 = encodeMachMessage(ool, { oolPointer: () => 0x1000n });
    expect(b2.length).toBe(60);
    expect(toHex(b2.subarray(40))).toBe('00000060080008000010000000100000' + '00000000');
    expect(decodeMachMessage(b2, { ool: () => big })).toEqual(ool);
  });
});

// ---- round trips -------------------------------------------------------------------------

describe('round trips of every item kind', () => {
  const cases: Array<[string, MachMsgType, MachMsgData]> = [
    ['boolean', type(MACH_MSG_TYPE_BOOLEAN, 32, 1), 1],
    ['INTEGER_32 negative (signed)', type(MACH_MSG_TYPE_INTEGER_32, 32, 1), -300],
    ['INTEGER_32 largest', type(MACH_MSG_TYPE_INTEGER_32, 32, 1), 0x7fffffff],
    ['INTEGER_16', type(MACH_MSG_TYPE_INTEGER_16, 16, 1), -2],
    ['INTEGER_64 negative', type(MACH_MSG_TYPE_INTEGER_64, 64, 1), -(2 ** 40) - 5],
    ['INTEGER_64 safe maximum', type(MACH_MSG_TYPE_INTEGER_64, 64, 1), Number.MAX_SAFE_INTEGER],
    ['unsigned 64-bit (name 0)', type(0, 64, 1), 2 ** 52 + 3],
    ['char scalar', type(MACH_MSG_TYPE_CHAR, 8, 1), 0xfe],
    ['BYTE scalar', type(MACH_MSG_TYPE_BYTE, 8, 1), 7],
    ['INTEGER_16 array (odd count, padded)', type(MACH_MSG_TYPE_INTEGER_16, 16, 3), [1, -1, 0x7fff]],
    ['INTEGER_32 array', type(MACH_MSG_TYPE_INTEGER_32, 32, 4), [0, -1, 2 ** 31 - 1, -(2 ** 31)]],
    ['INTEGER_64 array', type(MACH_MSG_TYPE_INTEGER_64, 64, 2), [1, -1]],
    ['INTEGER_32 array, long form, one element', type(MACH_MSG_TYPE_INTEGER_32, 32, 1, { longform: true }), [42]],
    ['empty INTEGER_32 array', type(MACH_MSG_TYPE_INTEGER_32, 32, 0, { longform: true }), []],
    ['char array', type(MACH_MSG_TYPE_CHAR, 8, 5), new Uint8Array([1, 2, 3, 4, 5])],
    ['char array, long form, one byte', type(MACH_MSG_TYPE_CHAR, 8, 1, { longform: true }), new Uint8Array([9])],
    ['empty byte array', type(MACH_MSG_TYPE_BYTE, 8, 0, { longform: true }), new Uint8Array(0)],
    ['bit array (1-bit elements)', type(0, 1, 12), new Uint8Array([0xff, 0x0f])],
    ['24-bit elements', type(MACH_MSG_TYPE_INTEGER_32, 24, 2), new Uint8Array([1, 2, 3, 4, 5, 6])],
    ['c_string[16]', type(MACH_MSG_TYPE_STRING, 8, 16), 'hello'],
    ['c_string[*:64], 6 bytes', type(MACH_MSG_TYPE_STRING, 8, 6), 'hello'],
    ['(STRING, 512*8), long form', type(MACH_MSG_TYPE_STRING, 4096, 1, { longform: true }), 'a path/with ünïcödé'],
    ['empty string', type(MACH_MSG_TYPE_STRING, 8, 1), ''],
    ['port (COPY_SEND)', type(MACH_MSG_TYPE_COPY_SEND, 32, 1), 0x1003],
    ['port name', type(MACH_MSG_TYPE_PORT_NAME, 32, 1), 0xffffffff],
    ['64-bit port (KernelUser)', type(MACH_MSG_TYPE_PORT_SEND, 64, 1), 0x123456789],
    ['port array', type(MACH_MSG_TYPE_MAKE_SEND, 32, 3), [1, 2, 3]],
    ['port array, long form, one name', type(MACH_MSG_TYPE_PORT_SEND, 32, 1, { longform: true }), [5]],
  ];
  for (const [what, t, data] of cases) {
    it(what, () => {
      roundTrip(message([{ type: t, data }]));
    });
  }

  it('the kind of each descriptor', () => {
    expect(cases.map(([, t]) => machMsgDataKind(t))).toEqual([
      'int', 'int', 'int', 'int', 'int', 'int', 'int', 'int', 'int', 'ints', 'ints', 'ints', 'ints', 'ints',
      'bytes', 'bytes', 'bytes', 'bytes', 'bytes', 'string', 'string', 'string', 'string',
      'port', 'port', 'port', 'ports', 'ports',
    ]);
  });

  it('out-of-line bytes, integers (as bytes) and ports', () => {
    const regions = new Map<bigint, Uint8Array>();
    const bytesData = new Uint8Array([5, 6, 7, 8, 9]);
    const intsData = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    const names = [0x101, 0x102];
    const body: MachMsgItem[] = [
      { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: 1 },
      { type: type(MACH_MSG_TYPE_BYTE, 8, 5, { inline: false, longform: true, deallocate: true }), data: bytesData },
      { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 2, { inline: false, longform: true }), data: intsData },
      { type: type(MACH_MSG_TYPE_PORT_SEND, 32, 2, { inline: false, longform: true }), data: names },
      { type: type(MACH_MSG_TYPE_PORT_SEND, 32, 1, { inline: false }), data: [0x103] },
    ];
    regions.set(0x7f0000002000n, bytesData);
    regions.set(0x7f0000003000n, intsData);
    regions.set(0x7f0000004000n, new Uint8Array([1, 1, 0, 0, 2, 1, 0, 0]));
    regions.set(0x7f0000005000n, new Uint8Array([3, 1, 0, 0]));
    const b = roundTrip(message(body, { bits: (0x1513 | MACH_MSGH_BITS_COMPLEX) >>> 0 }), regions);
    expect(b.length).toBe(32 + 8 + 20 + 20 + 20 + 12);
  });

  it('a message with every kind at once, and an empty body', () => {
    roundTrip(message([]));
    roundTrip(message(cases.map(([, t, data]) => ({ type: t, data }))));
  });

  it('the header: every field, a protected payload in msgh_local_port, negative msgh_id', () => {
    const msg = message([], { bits: 0xffff17ff, remotePort: 0xfffffffe, localPort: 2 ** 40 + 1, seqno: 0xffffffff, id: -1 });
    const b = roundTrip(msg);
    expect(toHex(b.subarray(16, 24))).toBe('0100000000010000');
    expect(toHex(b.subarray(28, 32))).toBe('ffffffff');
    // without MACH_MSG_TYPE_PROTECTED_PAYLOAD in the local bits, only the name's 4 bytes count
    const named = b.slice();
    named[1] = 0x15;
    expect(decodeMachMessage(named).header.localPort).toBe(1);
    // an msgh_id given unsigned is written the same
    expect(encodeMachMessage({ ...msg, header: { ...msg.header, id: 0xffffffff } })).toEqual(b);
  });

  it('fixed strings occupy their field, zero-filled after the NUL', () => {
    const b = encodeMachMessage(message([{ type: type(MACH_MSG_TYPE_STRING, 8, 10), data: 'abc' }]));
    expect(toHex(b.subarray(32))).toBe('0c080a10' + '61626300000000000000' + '0000');
  });

  it('integers given unsigned are written as the same bits', () => {
    const a = encodeMachMessage(message([{ type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: 0xfffffed4 }]));
    const b = encodeMachMessage(message([{ type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: -300 }]));
    expect(a).toEqual(b);
    expect(decodeMachMessage(a).body[0]!.data).toBe(-300);
  });

  it('padding is ignored when decoding (MIG leaves it uninitialised) and zeroed when encoding', () => {
    const msg = message([{ type: type(MACH_MSG_TYPE_CHAR, 8, 1), data: 0x41 }, { type: type(MACH_MSG_TYPE_STRING, 8, 8), data: 'ab' }]);
    const b = encodeMachMessage(msg);
    const dirty = b.slice();
    dirty[12] = 0xee; // header padding
    dirty[23] = 0xee; // upper half of msgh_local_port (a name: local bits MAKE_SEND_ONCE)
    dirty[37] = 0xee; // after the char
    dirty[47] = 0xee; // after the string's NUL
    expect(decodeMachMessage(dirty)).toEqual(msg);
    expect(encodeMachMessage(decodeMachMessage(dirty))).toEqual(b);
  });
});

describe('the kind hint of a receiver that knows the routine', () => {
  it('a one-element bounded array (short form) reads as a scalar unless the receiver says otherwise', () => {
    const msg = message([
      { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: [7] },
      { type: type(MACH_MSG_TYPE_CHAR, 8, 1), data: new Uint8Array([0x41]) },
      { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 1), data: 9 },
    ]);
    const b = encodeMachMessage(msg);
    expect(decodeMachMessage(b).body.map((x) => x.data)).toEqual([7, 0x41, 9]);
    const hinted = decodeMachMessage(b, { kind: (_t, i) => (i === 0 ? 'ints' : i === 1 ? 'bytes' : undefined) });
    expect(hinted).toEqual(msg);
  });

  it('port names are integers: int/ints hints read them as port/ports', () => {
    const msg = message([{ type: type(MACH_MSG_TYPE_PORT_NAME, 32, 1), data: 5 }, { type: type(MACH_MSG_TYPE_COPY_SEND, 32, 1), data: [6] }]);
    const b = encodeMachMessage(msg);
    expect(decodeMachMessage(b, { kind: (_t, i) => (i === 0 ? 'int' : 'ints') })).toEqual(msg);
    expect(machMsgDataKindFits('port', type(MACH_MSG_TYPE_PORT_NAME, 32, 1))).toBe(true);
    expect(machMsgDataKindFits('bytes', type(MACH_MSG_TYPE_PORT_NAME, 32, 1))).toBe(false);
  });

  it('a hint that does not fit the descriptor is a MachCodecError', () => {
    const b = encodeMachMessage(message([{ type: type(MACH_MSG_TYPE_INTEGER_32, 32, 2), data: [1, 2] }]));
    expectCodecError(() => decodeMachMessage(b, { kind: () => 'string' }), /data kind 'string' does not fit/);
    expectCodecError(() => decodeMachMessage(b, { kind: () => 'int' }), /data kind 'int' does not fit/);
    expectCodecError(() => decodeMachMessage(b, { kind: () => 'port' }), /data kind 'port' does not fit/);
  });
});

// ---- malformed input --------------------------------------------------------------------

describe('malformed bytes', () => {
  const good = encodeMachMessage(message([
    { type: type(MACH_MSG_TYPE_INTEGER_32, 32, 2), data: [1, 2] },
    { type: type(MACH_MSG_TYPE_CHAR, 8, 3, { longform: true }), data: new Uint8Array([1, 2, 3]) },
  ]));

  function withSize(b: Uint8Array, size = b.length): Uint8Array {
    const c = b.slice();
    new DataView(c.buffer).setUint32(4, size, true);
    return c;
  }

  it('not a Uint8Array', () => {
    expectCodecError(() => decodeMachMessage([1, 2, 3] as unknown as Uint8Array), /Uint8Array/);
  });

  it('shorter than a header', () => {
    expectCodecError(() => decodeMachMessage(new Uint8Array(0)), /shorter than mach_msg_header_t/);
    expectCodecError(() => decodeMachMessage(good.subarray(0, 31)), /shorter/);
  });

  it('msgh_size does not match the length', () => {
    expectCodecError(() => decodeMachMessage(good.subarray(0, good.length - 4)), /msgh_size 60 does not match the 56 bytes/);
    expectCodecError(() => decodeMachMessage(withSize(good, good.length + 4)), /does not match/);
    expectCodecError(() => decodeMachMessage(withSize(new Uint8Array(34))), /not a multiple of 4/);
  });

  it('truncated descriptors', () => {
    const b = new Uint8Array(36);
    new DataView(b.buffer).setUint32(32, 0x30000000, true); // long form, needs 12 bytes
    expectCodecError(() => decodeMachMessage(withSize(b)), /truncated long-form descriptor/);
    const c = new Uint8Array(40);
    new DataView(c.buffer).setUint32(32, 0x00012002, true); // out of line: an 8-byte pointer follows
    expectCodecError(() => decodeMachMessage(withSize(c)), /truncated out-of-line pointer/);
  });

  it('descriptor data overruns the message', () => {
    const b = good.slice(0, 40);
    new DataView(b.buffer).setUint32(32, 0x10032002, true); // three ints, room for one
    expectCodecError(() => decodeMachMessage(withSize(b)), /12 bytes of data announced, 4 remain/);
  });

  it('a bogus number: 4095 elements or 2^32 - 1 in long form', () => {
    const b = good.slice(0, 48);
    new DataView(b.buffer).setUint32(32, 0x1fff2002, true);
    expectCodecError(() => decodeMachMessage(withSize(b)), /announced/);
    const c = new Uint8Array(48);
    const v = new DataView(c.buffer);
    v.setUint32(32, 0x30000000, true);
    v.setUint16(36, MACH_MSG_TYPE_INTEGER_32, true);
    v.setUint16(38, 0xffff, true);
    v.setUint32(40, 0xffffffff, true);
    expectCodecError(() => decodeMachMessage(withSize(c)), /announced/);
  });

  it('port names of a size other than 32 or 64 bits', () => {
    const b = new Uint8Array(40);
    new DataView(b.buffer).setUint32(32, 0x10011011, true); // PORT_SEND, 16 bits
    expectCodecError(() => decodeMachMessage(withSize(b)), /port names of 16 bits/);
  });

  it('a string without its NUL', () => {
    const b = new Uint8Array(40);
    const v = new DataView(b.buffer);
    v.setUint32(32, 0x1004080c, true);
    v.setUint32(36, 0x64636261, true);
    expectCodecError(() => decodeMachMessage(withSize(b)), /NUL/);
  });

  it('64-bit values beyond the safe integers', () => {
    const b = new Uint8Array(44);
    const v = new DataView(b.buffer);
    v.setUint32(32, 0x1001400b, true);
    v.setBigUint64(36, 1n << 60n, true);
    expectCodecError(() => decodeMachMessage(withSize(b)), /not a safe integer/);
    const h = new Uint8Array(32);
    new DataView(h.buffer).setUint32(0, 23 << 8, true); // local: MACH_MSG_TYPE_PROTECTED_PAYLOAD
    new DataView(h.buffer).setBigUint64(16, 1n << 63n, true);
    expectCodecError(() => decodeMachMessage(withSize(h)), /msgh_protected_payload/);
  });

  it('out-of-line data without a reader, or a reader giving the wrong length', () => {
    const msg = message([{ type: type(MACH_MSG_TYPE_BYTE, 8, 4, { inline: false, longform: true }), data: new Uint8Array(4) }]);
    const b = encodeMachMessage(msg);
    expectCodecError(() => decodeMachMessage(b), /no ool reader/);
    expectCodecError(() => decodeMachMessage(b, { ool: () => new Uint8Array(3) }), /gave 3 bytes, the descriptor says 4/);
  });
});

describe('messages that cannot be encoded', () => {
  const t32 = type(MACH_MSG_TYPE_INTEGER_32, 32, 1);

  it('msgh_size that does not match the body', () => {
    expectCodecError(() => encodeMachMessage(message([{ type: t32, data: 1 }], { size: 44 })), /msgh_size 44 does not match the body, which takes 40 bytes/);
  });

  it('header fields out of range', () => {
    expectCodecError(() => encodeMachMessage(message([], { bits: -1 })), /msgh_bits/);
    expectCodecError(() => encodeMachMessage(message([], { remotePort: 2 ** 32 })), /msgh_remote_port/);
    expectCodecError(() => encodeMachMessage(message([], { localPort: 2 ** 32 })), /msgh_local_port 4294967296 is not a 32-bit name/);
    expectCodecError(() => encodeMachMessage(message([], { bits: 23 << 8, localPort: 2 ** 53 })), /msgh_local_port/);
    expectCodecError(() => encodeMachMessage(message([], { id: 2 ** 32 })), /msgh_id/);
    expectCodecError(() => encodeMachMessage(null as unknown as MachMessage), /not a MachMessage/);
  });

  it('descriptor fields beyond their form', () => {
    expectCodecError(() => encodeMachMessage(message([{ type: type(256, 8, 1), data: 1 }])), /msgt_name 256 does not fit a mach_msg_type_t/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 4096), data: [] }])), /msgt_number 4096/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 65536, 1, { longform: true }), data: new Uint8Array(8192) }])), /msgt_size 65536/);
    expectCodecError(() => encodeMachMessage(message([{ type: { ...t32, inline: 1 as unknown as boolean }, data: 1 }])), /msgt_inline is not a boolean/);
  });

  it('data that does not match its descriptor', () => {
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 3), data: [1, 2] }])), /2 elements, the descriptor says 3/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 3), data: 5 }])), /one value for 3 elements/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(8, 8, 3), data: new Uint8Array(4) }])), /4 bytes of data, the descriptor says 3/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 24, 1), data: 5 }])), /elements of 24 bits must be given as a Uint8Array/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 1), data: 'x' }])), /a string in a field of msgt_name 2/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(19, 16, 1), data: 5 }])), /port names are 32 or 64 bits/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(9, 8, 2, { inline: false, longform: true }), data: new Uint8Array(3) }])), /3 bytes of out-of-line data/);
  });

  it('values that do not fit their element', () => {
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 1), data: 2 ** 32 }])), /does not fit 32 bits/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(1, 16, 1), data: -32769 }])), /does not fit 16 bits/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(9, 8, 1), data: 1.5 }])), /not an integer/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(11, 64, 1), data: 2 ** 60 }])), /not a safe integer/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(2, 32, 2), data: [1, Number.NaN] }])), /item 0\[1\]: NaN is not an integer/);
  });

  it('a string and its NUL longer than the field', () => {
    expectCodecError(() => encodeMachMessage(message([{ type: type(12, 8, 4), data: 'abcd' }])), /4 bytes and its NUL do not fit 4 bytes/);
    expectCodecError(() => encodeMachMessage(message([{ type: type(12, 8, 4), data: 'abé' }])), /4 bytes/);
  });

  it('an out-of-line pointer that is not an unsigned 64-bit bigint', () => {
    const msg = message([{ type: type(9, 8, 1, { inline: false }), data: new Uint8Array(1) }]);
    expectCodecError(() => encodeMachMessage(msg, { oolPointer: () => -1n }), /out-of-line pointer -1/);
    expectCodecError(() => encodeMachMessage(msg, { oolPointer: () => 5 as unknown as bigint }), /out-of-line pointer 5/);
  });
});

// ---- fuzz ----------------------------------------------------------------------------------

describe('fuzz: hostile bytes only ever raise MachCodecError', () => {
  /** An ool reader for fuzzing: regions up to 4 KiB of zeros, larger ones refused. */
  const ool = (_p: bigint, n: number): Uint8Array => {
    if (n > 4096) throw new MachCodecError('fuzz: region too large');
    return new Uint8Array(n);
  };

  /** Decode; on success, encoding gives the same length and decodes to the same message. */
  function probe(b: Uint8Array): 'ok' | 'rejected' {
    let msg: MachMessage;
    try {
      msg = decodeMachMessage(b, { ool });
    } catch (e) {
      if (!(e instanceof MachCodecError)) throw e;
      return 'rejected';
    }
    const pointers: bigint[] = [];
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let at = 32;
    for (const item of msg.body) {
      at += item.type.longform ? 12 : 4;
      if (!item.type.inline) {
        pointers.push(v.getBigUint64(at, true));
        at += 8;
      } else at += Math.ceil(Math.ceil((item.type.number * item.type.size) / 8) / 4) * 4;
    }
    const again = encodeMachMessage(msg, { oolPointer: (_i, index) => pointers[msg.body.slice(0, index).filter((x) => !x.type.inline).length]! });
    expect(again.length).toBe(b.length);
    expect(decodeMachMessage(again, { ool })).toEqual(msg);
    return 'ok';
  }

  it('random noise of random lengths', () => {
    const rnd = prng(1);
    for (let n = 0; n < 3000; n++) {
      const b = new Uint8Array(Math.floor(rnd() * 200));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      probe(b);
      if (b.length >= 32) probe(withSizeFixed(b));
    }
  });

  it('random descriptors after a consistent header (many decode)', () => {
    const rnd = prng(2);
    const names = [0, 1, 2, 8, 9, 11, 12, 15, 16, 17, 18, 19, 20, 21, 23, 3, 200];
    const sizes = [0, 1, 8, 16, 24, 32, 64, 7, 255];
    let ok = 0;
    for (let n = 0; n < 5000; n++) {
      const words: number[] = [];
      const items = Math.floor(rnd() * 5);
      for (let i = 0; i < items; i++) {
        const name = names[Math.floor(rnd() * names.length)]!;
        const size = sizes[Math.floor(rnd() * sizes.length)]!;
        const number = Math.floor(rnd() * (rnd() < 0.8 ? 4 : 4096));
        const inline = rnd() < 0.85;
        const longform = rnd() < 0.3;
        const flags = (inline ? 1 << 28 : 0) | (longform ? 1 << 29 : 0) | (rnd() < 0.2 ? 1 << 30 : 0) | (rnd() < 0.05 ? 2 ** 31 : 0);
        if (longform) words.push(flags >>> 0, (name | (size << 16)) >>> 0, number);
        else words.push((flags | name | (size << 8) | ((number & 0xfff) << 16)) >>> 0);
        const dataBytes = inline ? Math.ceil(Math.ceil((number * size) / 8) / 4) * 4 : 8;
        const fill = rnd() < 0.9 ? dataBytes : Math.floor(rnd() * 16);
        for (let k = 0; k < fill / 4 && k < 64; k++) words.push(rnd() < 0.5 ? 0 : Math.floor(rnd() * 2 ** 32));
      }
      const b = new Uint8Array(32 + words.length * 4);
      const v = new DataView(b.buffer);
      for (let i = 0; i < 8; i++) v.setUint32(i * 4, Math.floor(rnd() * 2 ** 32), true);
      v.setUint32(4, b.length, true);
      if (rnd() < 0.9) v.setUint32(20, 0, true); // a payload within the safe integers
      else if (rnd() < 0.5) v.setUint8(1, 23); // local bits: a protected payload
      words.forEach((w, i) => v.setUint32(32 + i * 4, w, true));
      if (probe(b) === 'ok') ok++;
    }
    expect(ok).toBeGreaterThan(500);
  });

  it('mutations and truncations of valid messages', () => {
    const rnd = prng(3);
    const seeds = [
      message([{ type: type(2, 32, 1), data: 5 }, { type: type(12, 8, 7), data: 'abc' }]),
      message([{ type: type(8, 8, 3, { longform: true }), data: new Uint8Array([1, 2, 3]) }, { type: type(19, 32, 2), data: [1, 2] }]),
      message([{ type: type(9, 8, 4, { inline: false, longform: true }), data: new Uint8Array(4) }, { type: type(11, 64, 2), data: [1, 2] }]),
    ].map((m) => encodeMachMessage(m));
    for (let n = 0; n < 5000; n++) {
      const b = seeds[n % seeds.length]!.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let i = 0; i < flips; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      probe(cut);
      if (cut.length >= 32) probe(withSizeFixed(cut));
    }
  });
});

/** A copy whose msgh_size says its length (so decoding gets past the header). */
function withSizeFixed(b: Uint8Array): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setUint32(4, c.length, true);
  return c;
}
