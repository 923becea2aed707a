/*
 * File: test/codegen/layout.test.ts
 * Purpose: unit tests of tsmig's message layout (codegen/layout.ts), the JSON that
 *   `tsmig layout` prints and the conformance suite compares with GNU MIG: ids, header
 *   bits (default, user-supplied and polymorphic ports), the complex bit (true, false,
 *   "dynamic"), fixed and minimum sizes, every descriptor and its offset (omitted after a
 *   variable in-line field), KernelServer replies written with out-names and 64-bit
 *   ports. The expected values below are what x86_64-gnu-mig generates for the same text.
 */

import { describe, expect, it } from 'vitest';
import type { MigModule } from '../../codegen/compile.js';
import { moduleLayout, routineLayout, type FieldLayout, type RoutineLayout } from '../../codegen/layout.js';
import { compileFile } from '../../codegen/tsmig.js';

const TEXT = `
type port_t = MACH_MSG_TYPE_COPY_SEND;
type int32 = MACH_MSG_TYPE_INTEGER_32;
type int16 = MACH_MSG_TYPE_INTEGER_16;
type once_t = MACH_MSG_TYPE_MOVE_SEND_ONCE;
type reply_t = MACH_MSG_TYPE_MAKE_SEND_ONCE | polymorphic;
type sreply_t = polymorphic | MACH_MSG_TYPE_PORT_SEND_ONCE;
type any_t = polymorphic;
type make_t = MACH_MSG_TYPE_MAKE_SEND;
type chars_t = array[] of char;
type few_t = array[*:8] of int32;
type anys_t = array[*:4] of any_t;
type ool_t = ^array[] of char;
type num_t = (77, 32);
type str_t = (MACH_MSG_TYPE_STRING, 512*8);
skip 2;
routine fixed(p: port_t; a: int16; b: int32; c: str_t; d: num_t; out e: int16; out f: make_t);
routine varying(p: port_t; a: int32; b: few_t; c: int32; d: chars_t, Dealloc; e: ool_t, Dealloc; out f: anys_t, CountInOut; out g: int32);
simpleroutine oneway(p: once_t; x: ool_t; y: ool_t, Dealloc[]);
simpleroutine polyreq(p: sreply_t; x: any_t);
routine userreply(p: port_t; replyport r: any_t);
routine ureply(p: port_t; ureplyport r: make_t);
simpleroutine sureply(p: port_t; ureplyport r: make_t);
routine sreply(p: port_t; sreplyport r: reply_t);
`;

function compile(header: string, text = TEXT): MigModule {
  return compileFile('l.defs', { text: `${header}\n${text}` });
}

const user = moduleLayout(compile('subsystem lay 300;'));
const kernel = moduleLayout(compile('subsystem KernelServer lay 300;'));

function routine(name: string, layout = user): RoutineLayout {
  const r = layout.routines.find((x) => x.name === name);
  if (!r) throw new Error(`no routine ${name}`);
  return r;
}

/** A field with the defaults of an in-line, short, non-deallocated INTEGER_32 scalar. */
function field(name: string, offset: number | undefined, over: Partial<FieldLayout> = {}): FieldLayout {
  const f: FieldLayout = {
    name, msgt_name: 'MACH_MSG_TYPE_INTEGER_32', msgt_size: 32, msgt_number: 1, inline: true, longform: false, deallocate: false, ...over,
  };
  if (offset !== undefined) f.offset = offset;
  return f;
}

const RETCODE = field('RetCode', 32);

describe('module layout', () => {
  it('names the subsystem and lists routines by number', () => {
    expect(user.subsystem).toEqual({ name: 'lay', base: 300 });
    expect(user.routines.map((r) => `${r.number} ${r.kind} ${r.name}`)).toEqual([
      '2 routine fixed', '3 routine varying', '4 simpleroutine oneway', '5 simpleroutine polyreq', '6 routine userreply',
      '7 routine ureply', '8 simpleroutine sureply', '9 routine sreply',
    ]);
  });

  it('sorts by routine number whatever the order of the model', () => {
    const mod = compile('subsystem lay 300;');
    const reversed = moduleLayout({ ...mod, routines: [...mod.routines].reverse() });
    expect(reversed.routines.map((r) => r.number)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('request id = base + number, reply id = request id + 100; simpleroutines have no reply', () => {
    expect(user.routines.map((r) => `${r.request.id}/${r.reply?.id ?? '-'}`)).toEqual([
      '302/402', '303/403', '304/-', '305/-', '306/406', '307/407', '308/-', '309/409',
    ]);
    expect(routine('oneway').reply).toBeNull();
  });

  it('is plain JSON: no undefined members', () => {
    expect(JSON.parse(JSON.stringify(user))).toEqual(user);
    const c = routine('varying').request.fields[2]!;
    expect(Object.keys(c)).not.toContain('offset');
  });

  it('an empty subsystem has no routines', () => {
    expect(moduleLayout(compileFile('e.defs', { text: 'subsystem empty 0; skip;' }))).toEqual({ subsystem: { name: 'empty', base: 0 }, routines: [] });
  });
});

describe('header bits', () => {
  it('default: COPY_SEND to the request port, MAKE_SEND_ONCE for the reply, 0 for simpleroutines', () => {
    expect(routine('fixed').request.bits).toEqual({ remote: 'MACH_MSG_TYPE_COPY_SEND', local: 'MACH_MSG_TYPE_MAKE_SEND_ONCE', complex: false });
    expect(routine('oneway').request.bits).toEqual({ remote: 'MACH_MSG_TYPE_MOVE_SEND_ONCE', local: 0, complex: true });
  });

  it('a polymorphic request port: the caller\'s poly argument', () => {
    expect(routine('polyreq').request.bits).toEqual({ remote: 'pPoly', local: 0, complex: 'dynamic' });
  });

  it('user-supplied reply ports: their in-name or their poly argument', () => {
    expect(routine('userreply').request.bits.local).toBe('rPoly');
    expect(routine('ureply').request.bits.local).toBe('MACH_MSG_TYPE_MAKE_SEND');
    expect(routine('sureply').request.bits.local).toBe('MACH_MSG_TYPE_MAKE_SEND'); // even on a simpleroutine
  });

  it('a server-only reply port leaves the user side with the default', () => {
    expect(routine('sreply').request.bits.local).toBe('MACH_MSG_TYPE_MAKE_SEND_ONCE');
  });

  it('a reply port of name 0 writes the number 0', () => {
    const l = moduleLayout(compile('subsystem z 1;', 'type p = MACH_MSG_TYPE_COPY_SEND; type zero_t = (0, 32); routine f(x: p; replyport r: zero_t);'));
    expect(l.routines[0]!.request.bits.local).toBe(0);
  });
});

describe('fixed messages', () => {
  it('fields in argument order, word-aligned, with their descriptors (GNU MIG)', () => {
    expect(routine('fixed')).toEqual({
      name: 'fixed', kind: 'routine', number: 2,
      request: {
        id: 302,
        bits: { remote: 'MACH_MSG_TYPE_COPY_SEND', local: 'MACH_MSG_TYPE_MAKE_SEND_ONCE', complex: false },
        size: 580,
        fields: [
          field('a', 32, { msgt_name: 'MACH_MSG_TYPE_INTEGER_16', msgt_size: 16 }), // 2 bytes + 2 padding
          field('b', 40),
          field('c', 48, { msgt_name: 'MACH_MSG_TYPE_STRING', msgt_size: 4096, longform: true }), // 12 + 512
          field('d', 572, { msgt_name: '77' }),
        ],
      },
      reply: {
        id: 402,
        complex: true,
        size: 56,
        fields: [RETCODE, field('e', 40, { msgt_name: 'MACH_MSG_TYPE_INTEGER_16', msgt_size: 16 }), field('f', 48, { msgt_name: 'MACH_MSG_TYPE_MAKE_SEND' })],
      },
    });
  });

  it('a routine without reply values has the 40-byte reply of RetCode alone', () => {
    expect(routine('userreply').reply).toEqual({ id: 406, complex: false, size: 40, fields: [RETCODE] });
    expect(routine('userreply').request.size).toBe(32);
  });

  it('out-of-line fields are an 8-byte pointer after a long descriptor; Dealloc[] is decided at run time', () => {
    expect(routine('oneway').request).toEqual({
      id: 304,
      bits: { remote: 'MACH_MSG_TYPE_MOVE_SEND_ONCE', local: 0, complex: true },
      size: 72,
      fields: [
        field('x', 32, { msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 0, inline: false, longform: true }),
        field('y', 52, { msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 0, inline: false, longform: true }),
      ],
    });
  });

  it('a polymorphic field names its poly argument', () => {
    expect(routine('polyreq').request.fields).toEqual([field('x', 32, { msgt_name: 'xPoly' })]);
  });
});

describe('variable messages', () => {
  it('minimum sizes; no offsets after a variable in-line field (GNU MIG)', () => {
    expect(routine('varying')).toEqual({
      name: 'varying', kind: 'routine', number: 3,
      request: {
        id: 303,
        bits: { remote: 'MACH_MSG_TYPE_COPY_SEND', local: 'MACH_MSG_TYPE_MAKE_SEND_ONCE', complex: true },
        size: { min: 92 },
        fields: [
          field('a', 32),
          field('b', 40, { msgt_number: 8 }), // the maximum; no data counted
          field('c', undefined),
          // unbounded: long form, 2048 in line at most; its Dealloc only applies out of line
          field('d', undefined, { msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 2048, longform: true }),
          field('e', undefined, { msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 0, inline: false, longform: true, deallocate: true }),
          field('fCnt', undefined), // CountInOut: the caller's buffer size, in the request
        ],
      },
      reply: {
        id: 403,
        complex: 'dynamic',
        size: { min: 52 },
        fields: [RETCODE, field('f', 40, { msgt_name: 'fPoly', msgt_number: 4 }), field('g', undefined)],
      },
    });
  });

  it('the minimum counts every descriptor and the fixed data: 32 + 8 + 4 + 8 + 12 + 20 + 8', () => {
    expect(routine('varying').request.size).toEqual({ min: 32 + 8 + 4 + 8 + 12 + (12 + 8) + 8 });
  });

  it('a bounded array whose maximum is not whole words: its padding is not in the minimum (GNU MIG: 56 and 52)', () => {
    const l = moduleLayout(compile('subsystem pad 900;', `type p = MACH_MSG_TYPE_COPY_SEND; type few = array[*:3] of char; type vs = c_string[*:5];
routine r(x: p; a: few; b: int; c: vs; d: int; out e: few; out f: int);`));
    const r = l.routines[0]!;
    expect([r.request.size, r.reply!.size]).toEqual([{ min: 56 }, { min: 52 }]);
    expect(r.request.fields.map((f) => `${f.name}:${f.msgt_number}@${f.offset ?? '-'}`)).toEqual(['a:3@32', 'b:1@-', 'c:5@-', 'd:1@-']);
  });

  it('offsets continue after an out-of-line variable field', () => {
    const l = moduleLayout(compile('subsystem v 1;', 'type p = MACH_MSG_TYPE_COPY_SEND; type ool = ^array[] of char; routine f(x: p; a: ool; b: int);'));
    expect(l.routines[0]!.request.fields.map((f) => f.offset)).toEqual([32, 52]);
    expect(l.routines[0]!.request.size).toBe(60);
  });
});

describe('KernelServer', () => {
  it('replies carry out-names and 64-bit ports (GNU MIG)', () => {
    expect(routine('fixed', kernel).reply).toEqual({
      id: 402,
      complex: true,
      size: 60,
      fields: [RETCODE, field('e', 40, { msgt_name: 'MACH_MSG_TYPE_INTEGER_16', msgt_size: 16 }), field('f', 48, { msgt_name: 'MACH_MSG_TYPE_PORT_SEND', msgt_size: 64 })],
    });
    expect(routine('fixed', user).reply!.fields[2]!.msgt_name).toBe('MACH_MSG_TYPE_MAKE_SEND');
  });

  it('requests keep in-names; polymorphic values are 64 bits', () => {
    expect(routine('polyreq', kernel).request).toEqual({
      id: 305, bits: { remote: 'pPoly', local: 0, complex: 'dynamic' }, size: 44, fields: [field('x', 32, { msgt_name: 'xPoly', msgt_size: 64 })],
    });
    expect(routine('varying', kernel).reply!.fields[1]).toEqual(field('f', 40, { msgt_name: 'fPoly', msgt_size: 64, msgt_number: 4 }));
  });

  it('routineLayout takes the reply names from its kernelServer argument', () => {
    const mod = compile('subsystem KernelServer lay 300;');
    const rt = mod.routines.find((r) => r.name === 'fixed')!;
    expect(routineLayout(rt, 300, false).reply!.fields[2]!.msgt_name).toBe('MACH_MSG_TYPE_MAKE_SEND');
    expect(routineLayout(rt, 1000, true).reply!.fields[2]!.msgt_name).toBe('MACH_MSG_TYPE_PORT_SEND');
    expect(routineLayout(rt, 1000, true).request.id).toBe(1002);
  });
});
