/**
 * wire/codec.ts: frames between a task and its kernel. Round trips of every kind of item,
 * and refusal of every malformed frame the kernel might get, before any kernel call:
 * wrong shapes and types, msgpack extension values, limits, and random bytes.
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import type { MachMessage } from '../../../src/mach/message.js';
import { MACH_MSG_TYPE_COPY_SEND, MACH_MSGH_BITS, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_RCV_MSG, MACH_SEND_MSG } from '../../../src/mach/message.js';
import {
  closeReason, decode, decodeAnswer, decodeCall, encode, encodeError, encodeMsgCall, encodeRet, encodeSimpleCall, encodeValue,
  encodeWelcome, OP_ERROR, OP_MSG, OP_REPLY_PORT, OP_RET, OP_STATS, OP_VALUE, OP_WELCOME, packMessage, PROTOCOL_VERSION,
  unpackMessage, WireError, type OolRegion,
} from '../../../src/wire/codec.js';
import { DEFAULT_LIMITS, wireLimits } from '../../../src/wire/limits.js';

const T = (name: number, size: number, number: number, inline = true, longform = false, deallocate = false) => ({ name, size, number, inline, longform, deallocate });

function sample(): MachMessage {
  return {
    header: { bits: MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE) | 0x80000000, size: 100, remotePort: 0x1234, localPort: 0xffffffff, seqno: 7, id: 2000 },
    body: [
      { type: T(2, 32, 1), data: -5 },
      { type: T(11, 64, 1), data: 2 ** 52 + 1 },
      { type: T(2, 32, 3), data: [1, 2, 0xffffffff] },
      { type: T(9, 8, 5), data: new Uint8Array([1, 2, 3, 4, 5]) },
      { type: T(9, 8, 70000, false, true, true), data: new Uint8Array(70000).fill(9) },
      { type: T(12, 640, 1, true, true), data: 'héllo' },
      { type: T(19, 32, 2), data: [256, 512] },
    ],
  };
}

function expectWireError(f: () => unknown, code?: string, call?: number): WireError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WireError);
  const w = err as WireError;
  if (code !== undefined) expect(w.code).toBe(code);
  if (call !== undefined) expect(w.call).toBe(call);
  return w;
}

/** A mach_msg frame built by hand (arbitrary content). */
const rawMsgFrame = (msg: unknown, option = MACH_SEND_MSG, call = 9): Buffer => encode([OP_MSG, call, msg, option, 0, 0, 0, 0]);

describe('messages', () => {
  it('round-trip through the flat form with every kind of data', () => {
    const m = sample();
    const back = unpackMessage(decode(encode(packMessage(m))));
    expect(back).toEqual(m);
    for (const it of back.body) if (it.data instanceof Uint8Array) expect(it.data.constructor).toBe(Uint8Array);
  });

  it('bytes arrive as plain Uint8Array views (slice copies, as the kernel expects)', () => {
    const back = unpackMessage(decode(encode(packMessage(sample()))));
    const bytes = back.body[3]!.data as Uint8Array;
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    const copy = bytes.slice();
    copy[0] = 99;
    expect(bytes[0]).toBe(1);
  });

  it('carry out-of-line regions by address: without their bytes from a task, with them to one', () => {
    const m = sample();
    const region = new Uint8Array(70000).fill(9) as OolRegion;
    region.address = 0x10000;
    m.body[4]!.data = region;
    const sent = packMessage(m, false);
    expect(sent[6 + 4 * 5 + 4]).toEqual([0x10000]);
    const atKernel = unpackMessage(decode(encode(sent)));
    const k = atKernel.body[4]!.data as OolRegion;
    expect(k).toHaveLength(70000);
    expect(k.address).toBe(0x10000);
    const received = new Uint8Array([1, 2, 3]) as OolRegion;
    received.address = 0x20000;
    received.missing = [0];
    m.body[4] = { type: T(9, 8, 3, false, true, true), data: received };
    const atTask = unpackMessage(decode(encode(packMessage(m, true)))).body[4]!.data as OolRegion;
    expect(Array.from(atTask)).toEqual([1, 2, 3]);
    expect(atTask.address).toBe(0x20000);
    expect(atTask.missing).toEqual([0]);
    // a region announcing more than the limit is refused before anything is made
    expectWireError(() => unpackMessage([0, 52, 1, 0, 0, 1, 9, 8, 0xffffffff, 8 | 2, [0]]), 'limit');
    for (const bad of [[], [-1], [1.5], ['x'], [1, 'bytes'], [1, new Uint8Array(1), ['x']], [1, new Uint8Array(1), [], 4]]) {
      expectWireError(() => unpackMessage([0, 52, 1, 0, 0, 1, 9, 8, 1, 8 | 2, bad]), 'bad-message');
    }
    expectWireError(() => unpackMessage([0, 52, 1, 0, 0, 1, 9, 8, 1, 8 | 1, [0]]), 'bad-message'); // in line
  });

  it('accept signed bits and ids', () => {
    const m = sample();
    m.header.bits = m.header.bits | 0;
    m.header.id = -1;
    expect(unpackMessage(packMessage(m)).header.bits).toBeLessThan(0);
  });

  it.each([
    ['not an array', { a: 1 }],
    ['too short', [1, 2, 3]],
    ['items not in fives', [0, 32, 0, 0, 0, 1, 2, 32, 1]],
    ['a string for bits', ['x', 32, 0, 0, 0, 1]],
    ['size negative', [0, -1, 0, 0, 0, 1]],
    ['port over 32 bits', [0, 32, 2 ** 32, 0, 0, 1]],
    ['id fractional', [0, 32, 0, 0, 0, 1.5]],
    ['flags over 7', [0, 36, 0, 0, 0, 1, 2, 32, 1, 8, 1]],
    ['name negative', [0, 36, 0, 0, 0, 1, -2, 32, 1, 1, 1]],
    ['data an object', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, { x: 1 }]],
    ['data null', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, null]],
    ['data boolean', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, true]],
    ['data NaN', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, Number.NaN]],
    ['data Infinity', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, Infinity]],
    ['array of strings', [0, 36, 0, 0, 0, 1, 2, 32, 2, 1, ['a', 'b']]],
    ['nested arrays', [0, 36, 0, 0, 0, 1, 2, 32, 2, 1, [[1], [2]]]],
    ['a date', [0, 36, 0, 0, 0, 1, 2, 32, 1, 1, new Date(0)]],
  ])('refuse %s', (_what, m) => {
    expectWireError(() => decodeCall(rawMsgFrame(m)), 'bad-message', 9);
  });

  it('enforce the item, array, in-line and out-of-line limits', () => {
    const limits = wireLimits({ maxItems: 2, maxArrayElements: 4, maxInlineBytes: 10, maxOolBytes: 20 });
    const item = (t: ReturnType<typeof T>, data: unknown) => [t.name, t.size, t.number, t.inline ? 1 : 0, data];
    const msg = (...items: unknown[][]) => [0, 32, 1, 0, 0, 1, ...items.flat()];
    expect(() => unpackMessage(msg(item(T(2, 32, 1), 1), item(T(2, 32, 1), 1)), limits)).not.toThrow();
    expectWireError(() => unpackMessage(msg(item(T(2, 32, 1), 1), item(T(2, 32, 1), 1), item(T(2, 32, 1), 1)), limits), 'limit');
    expectWireError(() => unpackMessage(msg(item(T(2, 32, 3), [1, 2, 3]), item(T(2, 32, 2), [1, 2])), limits), 'limit');
    expectWireError(() => unpackMessage(msg(item(T(9, 8, 11), new Uint8Array(11))), limits), 'limit');
    expectWireError(() => unpackMessage(msg(item(T(12, 8 * 11, 1), 'x'.repeat(11))), limits), 'limit');
    expect(() => unpackMessage(msg(item(T(9, 8, 20, false), new Uint8Array(20))), limits)).not.toThrow();
    expectWireError(() => unpackMessage(msg(item(T(9, 8, 21, false), new Uint8Array(21))), limits), 'limit');
  });
});

describe('calls (task → kernel)', () => {
  it('decode mach_msg, mach_reply_port and stats calls', () => {
    const m = sample();
    const c = decodeCall(encodeMsgCall(42, m, MACH_SEND_MSG | MACH_RCV_MSG, 0xffffffff, 300, 1000, 0));
    expect(c).toEqual({ op: OP_MSG, call: 42, msg: m, option: MACH_SEND_MSG | MACH_RCV_MSG, rcvSize: 0xffffffff, rcvName: 300, timeout: 1000, notify: 0 });
    expect(decodeCall(encodeMsgCall(43, null, MACH_RCV_MSG, 100, 5, 0, 0))).toMatchObject({ op: OP_MSG, msg: null });
    expect(decodeCall(encodeSimpleCall(OP_REPLY_PORT, 44))).toEqual({ op: OP_REPLY_PORT, call: 44 });
    expect(decodeCall(encodeSimpleCall(OP_STATS, 0xffffffff))).toEqual({ op: OP_STATS, call: 0xffffffff });
  });

  it('refuse frames that name no call (the kernel closes the connection)', () => {
    for (const f of [Buffer.from([0xc1]), Buffer.alloc(0), encode({ op: 1 }), encode('x'), encode([1]), encode([1, -1]), encode(['1', 2]), encode([1, 2 ** 32])]) {
      const e = expectWireError(() => decodeCall(f), 'bad-frame');
      expect(e.call).toBeUndefined();
    }
  });

  it('refuse bad calls naming their call (the kernel answers OP_ERROR)', () => {
    expectWireError(() => decodeCall(encode([99, 5])), 'bad-frame', 5);
    expectWireError(() => decodeCall(encode([OP_MSG, 5, null, 2, 0, 0])), 'bad-frame', 5);
    expectWireError(() => decodeCall(encode([OP_MSG, 5, null, -2, 0, 0, 0, 0])), 'bad-frame', 5);
    expectWireError(() => decodeCall(encode([OP_MSG, 5, null, MACH_RCV_MSG, 0, 0, 1.5, 0])), 'bad-frame', 5);
    expectWireError(() => decodeCall(encode([OP_MSG, 5, null, MACH_SEND_MSG, 0, 0, 0, 0])), 'bad-message', 5);
    expectWireError(() => decodeCall(encode([OP_MSG, 5, [0, 32, 1, 0, 0, 1], MACH_RCV_MSG, 0, 0, 0, 0])), 'bad-frame', 5);
    expectWireError(() => decodeCall(encode([OP_REPLY_PORT, 5, 1])), 'bad-frame', 5);
  });

  it('refuse msgpack extension values and records without side effects on later frames', () => {
    const hostile = [
      Buffer.from([0x92, 0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x40]), // a record definition, then a record
      Buffer.from([0x92, 0x01, 0xd6, 0xff, 0, 0, 0, 1]), // a timestamp
      Buffer.from([0x92, 0x01, 0xd4, 0x73, 0x90]), // a Set
      Buffer.from([0x92, 0x01, 0xd4, 0x65, 0x92, 0xa1, 0x45, 0xa1, 0x6d]), // an Error
      Buffer.from([0x92, 0x01, 0xd4, 0x78, 0x92, 0xa2, 0x28, 0x61, 0xa0]), // a RegExp
      Buffer.from([0x92, 0x01, 0xc7, 0x01, 0x69, 0, 0, 0, 0, 0]), // a structured-clone id
      Buffer.from([0x92, 0x01, 0xd4, 0x42, 0x05]), // a bigint
    ];
    for (const f of hostile) expectWireError(() => decodeCall(f));
    // An integer that a record id would shadow still decodes as itself afterwards.
    expect(decodeCall(encodeSimpleCall(OP_REPLY_PORT, 0x40))).toEqual({ op: OP_REPLY_PORT, call: 0x40 });
  });

  it('turn random bytes into WireErrors only (fuzz)', () => {
    let seed = 12345;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
    const valid = encodeMsgCall(1, sample(), MACH_SEND_MSG, 0, 0, 0, 0);
    for (let n = 0; n < 3000; n++) {
      let buf: Buffer;
      if (n % 2 === 0) {
        buf = Buffer.alloc(rnd() % 64);
        for (let i = 0; i < buf.length; i++) buf[i] = rnd() & 0xff;
      } else {
        buf = Buffer.from(valid);
        for (let k = 0; k < 1 + (rnd() % 4); k++) buf[rnd() % buf.length] = rnd() & 0xff;
      }
      try {
        decodeCall(buf);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    }
  });
});

describe('answers (kernel → task)', () => {
  it('carry results, values, errors and the welcome', () => {
    const m = sample();
    expect(decodeAnswer(encodeRet(7, 0, null, undefined, false))).toEqual({ op: OP_RET, call: 7, mr: 0, msg: null, size: undefined });
    expect(decodeAnswer(encodeRet(7, 0, m, undefined, false))).toEqual({ op: OP_RET, call: 7, mr: 0, msg: m, size: undefined });
    expect(decodeAnswer(encodeRet(7, 0x10004004, null, 4096, false))).toMatchObject({ mr: 0x10004004, size: 4096 });
    expect(decodeAnswer(encodeRet(7, 0x10000003, m, undefined, true))).toMatchObject({ msg: true });
    expect(decodeAnswer(encodeValue(8, 768))).toEqual({ op: OP_VALUE, call: 8, value: 768 });
    expect(decodeAnswer(encodeError(9, 'limit', 'too big'))).toEqual({ op: OP_ERROR, call: 9, code: 'limit', text: 'too big' });
    const info = { id: 3, name: 'ext2fs', task_self: 256, host_self: 512, host_priv: 768, device_master: 0, bootstrap: 1024 };
    const w = decodeAnswer(encodeWelcome(info, DEFAULT_LIMITS));
    expect(w).toEqual({ op: OP_WELCOME, version: PROTOCOL_VERSION, info, limits: DEFAULT_LIMITS });
  });

  it('a frame that is not an answer is a WireError', () => {
    for (const f of [encode([OP_RET]), encode([OP_RET, -1, 0]), encode([OP_WELCOME, 1, [1, 2], {}]), encode([77, 1, 2])]) {
      expectWireError(() => decodeAnswer(f), 'bad-frame');
    }
  });

  it('the one Packr does not keep state between frames', () => {
    const p = new Packr({ useRecords: false });
    expect(p.unpack(encode([1, 2]))).toEqual([1, 2]);
  });
});

describe('close reasons', () => {
  it('fit a WebSocket close frame whatever the text', () => {
    expect(closeReason('bad frame')).toBe('bad frame');
    const r = closeReason('é'.repeat(500));
    expect(Buffer.byteLength(r)).toBeLessThanOrEqual(123);
    expect(closeReason('x'.repeat(500))).toHaveLength(120);
  });
});

describe('limits', () => {
  it('defaults, overrides, refusals', () => {
    expect(wireLimits()).toEqual(DEFAULT_LIMITS);
    expect(wireLimits({ maxItems: 3 }).maxItems).toBe(3);
    expect(() => wireLimits({ maxItems: 0 })).toThrow(RangeError);
    expect(() => wireLimits({ maxItems: 1.5 })).toThrow(RangeError);
    expect(() => wireLimits({ bogus: 1 } as never)).toThrow(TypeError);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });
});
