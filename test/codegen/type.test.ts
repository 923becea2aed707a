/*
 * File: test/codegen/type.test.ts
 * Purpose: unit tests of tsmig's IPC type model (codegen/type.ts): what every type
 *   specification becomes (msgt_name, msgt_size, msgt_number, in line or not, long or
 *   short descriptor, deallocate, C size, padding, alignment), MIG's x86_64 quirks (64-bit
 *   struct members aligned to 4, uintptr_t to 8, 2048 bytes in line for unbounded arrays),
 *   the built-in types, port sizes after KernelUser/KernelServer, C type names, and the
 *   warnings and errors MIG gives. Values marked "GNU MIG" were checked against
 *   x86_64-gnu-mig.
 */

import { describe, expect, it } from 'vitest';
import type { MigModule } from '../../codegen/compile.js';
import { CompileErrors, type SourcePosition } from '../../codegen/diagnostic.js';
import { compileFile } from '../../codegen/tsmig.js';
import {
  arrayDecl, builtinTypes, calculateNameInfo, calculateSizeInfo, checkDeallocate, checkFlags, checkIsLong, copyType,
  cStringDecl, flDealloc, flLong, flMaybeDealloc, flNotDealloc, flNotLong, isNaturalInt, isPortName, isProperReplyPort,
  isProperRequestPort, longDecl, newType, ptrDecl, resetType, shortDecl, SIZEOF_HEADER, SIZEOF_POINTER, SIZEOF_TYPE,
  SIZEOF_TYPE_LONG, structArrayDecl, structDecl, varArrayDecl, WORD_SIZE, WORD_SIZE_BITS, type IpcType, type TypeContext,
} from '../../codegen/type.js';

const POS: SourcePosition = { file: 't.defs', line: 1, column: 1 };
const POLY = 0xffffffff;

/** A context that records diagnostics as plain messages. */
function context(kernel = { server: false, user: false }): TypeContext & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, kernel, warn: (_p, m) => warnings.push(m), error: (_p, m) => errors.push(m) };
}

const INT32 = { inName: 2, inStr: 'MACH_MSG_TYPE_INTEGER_32', outName: 2, outStr: 'MACH_MSG_TYPE_INTEGER_32', size: 32 };
const BYTE = { inName: 9, inStr: 'MACH_MSG_TYPE_BYTE', outName: 9, outStr: 'MACH_MSG_TYPE_BYTE', size: 8 };

/** Compile `subsystem t 1;` (or `header`) followed by `text`. */
function compile(text: string, header = 'subsystem t 1;'): MigModule {
  return compileFile('t.defs', { text: `${header}\n${text}` });
}

function type(text: string, name: string, header?: string): IpcType {
  const it = compile(text, header).types.get(name);
  if (!it) throw new Error(`no type ${name}`);
  return it;
}

/** The warnings of compiling `text`, as `LINE:COL: message` (line 1 is the subsystem). */
function warnings(text: string): string[] {
  return compile(text).warnings.map((w) => `${w.pos.line}:${w.pos.column}: ${w.message}`);
}

/** The errors of compiling `text` (which must fail), as `LINE:COL: message`. */
function errors(text: string): string[] {
  try {
    compile(text);
  } catch (e) {
    if (e instanceof CompileErrors) return e.errors.map((x) => `${x.pos.line}:${x.pos.column}: ${x.diagnostic}`);
    throw e;
  }
  throw new Error('compiled without error');
}

/** The descriptor-relevant properties of a type, compactly. */
function shape(it: IpcType): Record<string, unknown> {
  return {
    in: it.inName, out: it.outName, size: it.size, number: it.number, inLine: it.inLine, long: it.longForm,
    dealloc: it.deallocate, var: it.varArray, indefinite: it.indefinite, bytes: it.typeSize, pad: it.padSize,
    min: it.minTypeSize, align: it.alignment,
  };
}

const NAMED_INTS = 'type byte = MACH_MSG_TYPE_BYTE; type int16 = MACH_MSG_TYPE_INTEGER_16; type int32 = MACH_MSG_TYPE_INTEGER_32; type int64 = MACH_MSG_TYPE_INTEGER_64; type natural_t = MACH_MSG_TYPE_INTEGER_32;';

describe('ABI constants', () => {
  it('are those this MIG was built with for x86_64', () => {
    expect([WORD_SIZE, WORD_SIZE_BITS, SIZEOF_POINTER, SIZEOF_HEADER, SIZEOF_TYPE, SIZEOF_TYPE_LONG]).toEqual([4, 32, 8, 32, 4, 12]);
  });

  it('port names are 16..21', () => {
    expect([15, 16, 17, 18, 19, 20, 21, 22, POLY].map(isPortName)).toEqual([false, true, true, true, true, true, true, false, false]);
  });
});

describe('short and long IPC declarations', () => {
  it('a short declaration takes the default size: one in-line element, word-aligned', () => {
    const cx = context();
    const it = shortDecl(INT32, cx, POS);
    expect(shape(it)).toEqual({
      in: 2, out: 2, size: 32, number: 1, inLine: true, long: false, dealloc: 'no', var: false, indefinite: false,
      bytes: 4, pad: 0, min: 4, align: 4,
    });
    expect(it.struct).toBe(true);
    expect(cx.warnings).toEqual([]);
  });

  it('a name without a default size needs the long form', () => {
    const cx = context();
    shortDecl({ ...INT32, inName: 10, outName: 10, size: 0 }, cx, POS);
    expect(cx.errors).toEqual(['must use full IPC type decl']);
    expect(errors('type r = MACH_MSG_TYPE_REAL;')).toEqual(['2:10: must use full IPC type decl']);
    expect(errors('type n = 77;')).toEqual(['2:10: must use full IPC type decl']);
  });

  it('alignment is min(4, size/8) bytes, 0 below 8 bits', () => {
    const align = (size: number): number => longDecl(INT32, 0, size, 0, context(), POS).alignment;
    expect([1, 7, 8, 16, 24, 32, 64, 4096].map(align)).toEqual([0, 0, 1, 2, 3, 4, 4, 4]);
  });

  it('C size rounds bits up to bytes and pads to a word', () => {
    const sizes = (size: number): number[] => {
      const it = longDecl(INT32, 0, size, 0, context(), POS);
      return [it.typeSize, it.padSize, it.minTypeSize];
    };
    expect(sizes(8)).toEqual([1, 3, 4]);
    expect(sizes(16)).toEqual([2, 2, 4]);
    expect(sizes(24)).toEqual([3, 1, 4]);
    expect(sizes(64)).toEqual([8, 0, 8]);
    expect(sizes(40)).toEqual([5, 3, 8]);
  });

  it('a size different from the default warns `IPC type decl has strange size`', () => {
    const cx = context();
    longDecl(INT32, 32, 16, 0, cx, POS);
    expect(cx.warnings).toEqual(['IPC type decl has strange size (16 instead of 32)']);
    expect(warnings('type s = (MACH_MSG_TYPE_INTEGER_16, 32);')).toEqual(['2:10: IPC type decl has strange size (32 instead of 16)']);
    expect(warnings('type s = (MACH_MSG_TYPE_INTEGER_16, 16); type u = (MACH_MSG_TYPE_UNSTRUCTURED, 40);')).toEqual([]);
  });

  it('bit counts that are not whole bytes warn', () => {
    expect(warnings('type b = MACH_MSG_TYPE_BIT;')).toEqual(['2:10: size of C types must be multiples of 8 bits']);
  });

  it('MACH_MSG_TYPE_STRING(_C) types are strings, not struct-like', () => {
    const it = type('type str = (MACH_MSG_TYPE_STRING, 512*8);', 'str');
    expect(shape(it)).toMatchObject({ in: 12, size: 4096, number: 1, long: true, bytes: 512 });
    expect([it.string, it.struct]).toEqual([true, false]);
    expect(type('type c = (MACH_MSG_TYPE_STRING_C, 8*128);', 'c').longForm).toBe(true); // dev_name_t; GNU MIG
  });
});

describe('the long descriptor form', () => {
  it('is needed for msgt_size >= 256, msgt_number >= 4096 or a name >= 256 (GNU MIG)', () => {
    const m = compile(`type a4095 = array[4095] of char; type a4096 = array[4096] of char;
      type s248 = (MACH_MSG_TYPE_UNSTRUCTURED, 248); type s256 = (MACH_MSG_TYPE_UNSTRUCTURED, 256);
      type n255 = (255, 32); type n256 = (256, 32);`);
    const long = (n: string): boolean => m.types.get(n)!.longForm;
    expect(['a4095', 'a4096', 's248', 's256', 'n255', 'n256'].map(long)).toEqual([false, true, false, true, false, true]);
    expect([m.types.get('n256')!.inName, m.types.get('n256')!.inNameStr]).toEqual([256, '256']);
  });

  it('is used by default for unbounded and out-of-line variable arrays only', () => {
    const m = compile(`${NAMED_INTS}
      type text = array[] of char; type bounded = array[*:1024] of natural_t; type ool = ^array[] of MACH_MSG_TYPE_BYTE;
      type oolfixed = ^array[512] of byte; type poly = polymorphic; type polys = array[*:4] of poly;`);
    const long = (n: string): boolean => m.types.get(n)!.longForm;
    expect(['text', 'bounded', 'ool', 'oolfixed', 'poly', 'polys'].map(long)).toEqual([true, false, true, false, false, false]);
  });

  it('IsLong / IsNotLong override, with MIG\'s warnings', () => {
    const m = compile(`type a = (MACH_MSG_TYPE_INTEGER_32, 32, IsLong);
type b = (MACH_MSG_TYPE_STRING, 4096, IsNotLong);
type c = (MACH_MSG_TYPE_STRING, 4096, IsLong);
type d = (MACH_MSG_TYPE_INTEGER_32, 32, IsNotLong);
type e = (MACH_MSG_TYPE_INTEGER_32, 32, IsLong, IsNotLong);
type f = (MACH_MSG_TYPE_POLYMORPHIC, 32, IsLong);`);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => m.types.get(n)!.longForm)).toEqual([true, false, true, false, false, true]);
    expect(m.warnings.map((w) => `${w.pos.line}: ${w.message}`)).toEqual([
      "2: a: doesn't need IsLong",
      '3: b: too big for IsNotLong',
      '4: c: IsLong is redundant',
      '5: d: IsNotLong is redundant',
      '6: e: IsLong and IsNotLong cancel out',
    ]);
  });

  it('names and sizes of 65536 and more are too big even for it', () => {
    expect(warnings('type big = (65536, 8);')).toEqual(['2:6: big: too big for mach_msg_type_long_t']);
    expect(warnings('type wide = (MACH_MSG_TYPE_UNSTRUCTURED, 65536);')).toEqual(['2:6: wide: too big for mach_msg_type_long_t']);
    expect(warnings('type ok = (65535, 8);')).toEqual([]);
  });

  it('checkIsLong alone: the default stands without flags', () => {
    const cx = context();
    const it = shortDecl(INT32, cx, POS);
    expect(checkIsLong(it, 0, true, 'x', cx.warn, POS)).toBe(true);
    expect(checkIsLong(it, flNotLong, true, 'x', cx.warn, POS)).toBe(false);
    expect(checkIsLong(it, flLong, false, 'x', cx.warn, POS)).toBe(true);
    expect(cx.warnings).toEqual(["x: doesn't need IsLong"]);
  });
});

describe('arrays', () => {
  it('array[] of char: long, 2048 in line at most (GNU MIG)', () => {
    expect(shape(type('type text = array[] of char;', 'text'))).toEqual({
      in: 8, out: 8, size: 8, number: 2048, inLine: true, long: true, dealloc: 'no', var: true, indefinite: true,
      bytes: 2048, pad: 0, min: 0, align: 1,
    });
  });

  it('the in-line maximum of an unbounded array is floor(2048 / element bytes) elements (GNU MIG)', () => {
    const m = compile(`${NAMED_INTS}
      type s3 = struct[3] of int; type c100 = c_string[100];
      type v16 = array[] of int16; type v32 = array[*] of int32; type v64 = array[] of int64;
      type vs3 = array[] of s3; type vc = array[] of c100;`);
    const n = (name: string): number => m.types.get(name)!.number;
    expect(['v16', 'v32', 'v64', 'vs3', 'vc'].map(n)).toEqual([1024, 512, 256, 510, 2000]);
  });

  it('array[*:1024] of natural_t: short, maximum 1024, no room counted (GNU MIG)', () => {
    const it = type(`${NAMED_INTS} type e = array[*:1024] of natural_t;`, 'e');
    expect(shape(it)).toEqual({
      in: 2, out: 2, size: 32, number: 1024, inLine: true, long: false, dealloc: 'no', var: true, indefinite: false,
      bytes: 4096, pad: 0, min: 0, align: 4,
    });
    expect([it.struct, it.string]).toEqual([false, false]);
  });

  it('bounded arrays multiply the element number; padding still counts the maximum', () => {
    const m = compile(`${NAMED_INTS} type pair = struct[2] of int; type pairs = array[*:8] of pair; type few = array[*:3] of char;`);
    expect(shape(m.types.get('pairs')!)).toMatchObject({ number: 16, bytes: 64, min: 0 });
    expect(shape(m.types.get('few')!)).toMatchObject({ number: 3, bytes: 3, pad: 1, min: 0 });
  });

  it('array[N] of T: N times the element number, in line, copied as an array', () => {
    const m = compile(`${NAMED_INTS} type d = array[20] of byte; type s = array[3] of int16; type q = array[2] of array[3] of int32;`);
    expect(shape(m.types.get('d')!)).toEqual({
      in: 9, out: 9, size: 8, number: 20, inLine: true, long: false, dealloc: 'no', var: false, indefinite: false,
      bytes: 20, pad: 0, min: 20, align: 1,
    });
    expect(shape(m.types.get('s')!)).toMatchObject({ number: 3, bytes: 6, pad: 2, min: 8, align: 2 });
    expect(shape(m.types.get('q')!)).toMatchObject({ number: 6, bytes: 24, align: 4 });
    expect([m.types.get('d')!.struct, m.types.get('d')!.string]).toEqual([false, false]);
  });

  it('struct[N] of T is the same message data but assignable (struct-like)', () => {
    const it = type('type p = struct[2] of int;', 'p');
    expect(shape(it)).toMatchObject({ in: 2, number: 2, bytes: 8, var: false, align: 4 });
    expect(it.struct).toBe(true);
  });

  it('arrays of variable or out-of-line types are too complicated', () => {
    expect(errors('type v = array[] of char; type a = array[2] of v;')).toEqual(['2:36: IPC type decl is too complicated']);
    expect(errors('type v = array[*:4] of char; type a = array[] of v;')).toEqual(['2:39: IPC type decl is too complicated']);
    expect(errors('type o = ^int; type a = struct[2] of o;')).toEqual(['2:25: IPC type decl is too complicated']);
  });

  it('in-line variable arrays need a named element type (GNU MIG)', () => {
    expect(errors('type a = array[*:4] of (MACH_MSG_TYPE_INTEGER_32, 32);')).toEqual(['2:6: a: variable-sized in-line arrays need a named base type']);
    expect(errors('type a = array[] of struct[3] of int;')).toEqual(['2:6: a: variable-sized in-line arrays need a named base type']);
    expect(() => compile('type a = ^array[] of (MACH_MSG_TYPE_INTEGER_32, 32);')).not.toThrow();
  });

  it('variable arrays cannot be translated or destroyed', () => {
    expect(errors('type a = array[] of char intran: x f(y);')).toEqual(["2:6: a: can't translate variable-sized arrays"]);
    expect(errors('type a = array[] of char outtran: x f(y);')).toEqual(["2:6: a: can't translate variable-sized arrays"]);
    expect(errors('type a = array[] of char destructor: f(y);')).toEqual(["2:6: a: can't destroy variable-sized array"]);
  });

  it('an unbounded array of zero-sized elements is rejected (GNU MIG divides by zero)', () => {
    const cx = context();
    const it = varArrayDecl(0, newType(), cx, POS);
    expect(cx.errors).toEqual(['variable-sized array of zero-sized elements']);
    expect(it.number).toBe(0);
  });

  it('the constructors copy the element and forget its C types', () => {
    const cx = context();
    const el = shortDecl(INT32, cx, POS);
    el.name = 'el';
    el.userType = 'el_t';
    for (const it of [varArrayDecl(4, el, cx, POS), arrayDecl(4, el, cx, POS), structArrayDecl(4, el, cx, POS)]) {
      expect(it.element).toBe(el);
      expect([it.name, it.userType, it.number]).toEqual([null, null, 4]);
    }
    expect(el.number).toBe(1);
  });
});

describe('out-of-line types (^)', () => {
  it('^array[] of T: long, not in line, an 8-byte pointer, number 0 (GNU MIG)', () => {
    expect(shape(type('type o = ^array[] of MACH_MSG_TYPE_BYTE;', 'o'))).toEqual({
      in: 9, out: 9, size: 8, number: 0, inLine: false, long: true, dealloc: 'no', var: true, indefinite: false,
      bytes: 8, pad: 0, min: 8, align: 8,
    });
  });

  it('^ of a fixed type is short, still number 0 in the model', () => {
    const m = compile(`${NAMED_INTS} type a = ^array[512] of byte; type p = ^int;`);
    expect(shape(m.types.get('a')!)).toMatchObject({ number: 0, inLine: false, long: false, var: false, bytes: 8, min: 8 });
    expect(shape(m.types.get('p')!)).toMatchObject({ in: 2, size: 32, number: 0, inLine: false, long: false });
    expect(m.types.get('p')!.struct).toBe(true);
  });

  it('^array[*:N] and ^^T are too complicated', () => {
    expect(errors('type a = ^array[*:4] of char;')).toEqual(['2:10: IPC type decl is too complicated']);
    expect(errors('type a = ^^int;')).toEqual(['2:10: IPC type decl is too complicated']);
  });

  it('ptrDecl changes its operand in place, as MIG does', () => {
    const cx = context();
    const it = shortDecl(INT32, cx, POS);
    expect(ptrDecl(it, cx, POS)).toBe(it);
    expect([it.inLine, it.number, it.typeSize, it.alignment]).toEqual([false, 0, 8, 8]);
  });
});

describe('C strings', () => {
  it('c_string[1024]: short, size 8, number 1024, a fixed string (GNU MIG)', () => {
    const it = type('type path = c_string[1024];', 'path');
    expect(shape(it)).toEqual({
      in: 12, out: 12, size: 8, number: 1024, inLine: true, long: false, dealloc: 'no', var: false, indefinite: false,
      bytes: 1024, pad: 0, min: 1024, align: 1,
    });
    expect([it.string, it.struct, it.inNameStr]).toEqual([true, false, 'MACH_MSG_TYPE_STRING_C']);
  });

  it('c_string[*:N]: variable, no room counted, padded to a word', () => {
    const cx = context();
    const it = cStringDecl(63, true, cx, POS);
    expect(shape(it)).toMatchObject({ in: 12, size: 8, number: 63, var: true, indefinite: false, long: false, bytes: 63, pad: 1, min: 0 });
    expect(it.string).toBe(true);
    expect(it.element?.name).toBe('char');
    expect(cx.warnings).toEqual([]);
  });
});

describe('struct { ... }', () => {
  it('64-bit members are aligned to 4: { int64 a; int32 b; } is 12 bytes = 3 ints (GNU MIG)', () => {
    const it = type(`${NAMED_INTS} type s = struct { int64 a; int32 b; };`, 's');
    expect(shape(it)).toEqual({
      in: 2, out: 2, size: 32, number: 3, inLine: true, long: false, dealloc: 'no', var: false, indefinite: false,
      bytes: 12, pad: 0, min: 12, align: 4,
    });
    expect(it.structFields!.map((f) => `${f.name}@${f.offset}`)).toEqual(['a@0', 'b@8']);
    expect(it.struct).toBe(true);
  });

  it('uintptr_t and intptr_t are aligned to 8: the struct becomes bytes (GNU MIG)', () => {
    const it = type(`${NAMED_INTS} type s = struct { uintptr_t a; int32 b; };`, 's');
    expect(shape(it)).toMatchObject({ in: 9, size: 8, number: 16, bytes: 16, align: 8 });
    expect(it.structFields!.map((f) => `${f.name}@${f.offset}`)).toEqual(['a@0', 'b@8']);
    const t = type(`${NAMED_INTS} type t = struct { int32 b; intptr_t a; };`, 't');
    expect(t.structFields!.map((f) => `${f.name}@${f.offset}`)).toEqual(['b@0', 'a@8']);
    expect(shape(t)).toMatchObject({ in: 9, number: 16 });
  });

  it('members are padded to their own alignment, the total to the largest', () => {
    const m = compile(`${NAMED_INTS}
      type b3 = array[3] of byte;
      type mixed = struct { byte tag; int32 value; int16 extra; };
      type halves = struct { int16 lo; int16 hi; byte sign; };
      type octets = struct { byte a; b3 rest; byte b; };
      type kinds = struct { char c; short s; int i; intptr_t p; };`);
    const f = (n: string): string => m.types.get(n)!.structFields!.map((x) => `${x.name}@${x.offset}`).join(' ');
    expect(f('mixed')).toBe('tag@0 value@4 extra@8');
    expect(shape(m.types.get('mixed')!)).toMatchObject({ in: 2, number: 3, bytes: 12, align: 4 });
    expect(f('halves')).toBe('lo@0 hi@2 sign@4');
    expect(shape(m.types.get('halves')!)).toMatchObject({ in: 1, size: 16, number: 3, bytes: 6, pad: 2, align: 2 });
    expect(f('octets')).toBe('a@0 rest@1 b@4');
    expect(shape(m.types.get('octets')!)).toMatchObject({ in: 9, size: 8, number: 5, bytes: 5, align: 1 });
    expect(f('kinds')).toBe('c@0 s@2 i@4 p@8');
    expect(shape(m.types.get('kinds')!)).toMatchObject({ in: 9, number: 16, align: 8 });
  });

  it('nested structs keep the inner alignment', () => {
    const m = compile(`${NAMED_INTS} type point = struct { int32 x; int32 y; }; type stamp = struct { int64 s; int32 us; };
      type both = struct { point p; stamp t; };`);
    expect(shape(m.types.get('both')!)).toMatchObject({ in: 2, number: 5, bytes: 20 });
  });

  it('structDecl picks shorts, ints or bytes by alignment and rounds the size up', () => {
    const cx = context();
    const b = builtinTypes(cx, 32, POS);
    expect(shape(structDecl(5, 2, b, cx, POS))).toMatchObject({ in: 1, size: 16, number: 3, bytes: 6 });
    expect(shape(structDecl(5, 4, b, cx, POS))).toMatchObject({ in: 2, size: 32, number: 2, bytes: 8 });
    expect(shape(structDecl(5, 1, b, cx, POS))).toMatchObject({ in: 9, size: 8, number: 5, bytes: 5 });
    expect(shape(structDecl(12, 8, b, cx, POS))).toMatchObject({ in: 9, size: 8, number: 16, bytes: 16, align: 8 });
    expect(shape(structDecl(3, 3, b, cx, POS))).toMatchObject({ in: 9, number: 3 });
  });

  it('members must be declared, in-line types', () => {
    expect(errors('type s = struct { nothing a; };')).toEqual(["2:19: type 'nothing' not defined"]);
    expect(errors('type s = struct { int a; nothing b; };')).toEqual(["2:26: type 'nothing' not defined"]);
    expect(errors('type o = ^int; type s = struct { int a; o b; };')).toEqual(['2:41: Type o must be inline']);
  });

  it('a member below 8 bits has no alignment (GNU MIG divides by zero)', () => {
    expect(errors('type bit = MACH_MSG_TYPE_BIT; type s = struct { int a; bit b; };')).toEqual([
      '2:56: struct member b has no alignment (size below 8 bits)',
    ]);
  });
});

describe('deallocate', () => {
  it('defaults to no; Dealloc, Dealloc[] and NotDealloc on the type set it', () => {
    const m = compile(`${NAMED_INTS}
      type plain = ^array[] of byte;
      type d = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc);
      type maybe = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc[]);
      type r = (MACH_MSG_TYPE_MOVE_SEND, 32, Dealloc);
      type nd = (MACH_MSG_TYPE_MOVE_SEND, 32, NotDealloc);`);
    expect(['plain', 'd', 'maybe', 'r', 'nd'].map((n) => m.types.get(n)!.deallocate)).toEqual(['no', 'yes', 'maybe', 'yes', 'no']);
    expect(m.warnings.map((w) => w.message)).toEqual(['r: Dealloc will cause an IPC error', 'nd: NotDealloc is redundant']);
  });

  it('Dealloc on in-line data that is not unbounded will cause an IPC error', () => {
    const cx = context();
    const inline = shortDecl(INT32, cx, POS);
    expect(checkDeallocate(inline, flDealloc, 'no', 'x', cx.warn, POS)).toBe('yes');
    expect(checkDeallocate(inline, flMaybeDealloc, 'no', 'x', cx.warn, POS)).toBe('maybe');
    expect(cx.warnings).toEqual(['x: Dealloc will cause an IPC error', 'x: Dealloc will cause an IPC error']);
    const indefinite = varArrayDecl(0, shortDecl(BYTE, cx, POS), cx, POS);
    const ool = ptrDecl(varArrayDecl(0, shortDecl(BYTE, cx, POS), cx, POS), cx, POS);
    cx.warnings.length = 0;
    expect(checkDeallocate(indefinite, flDealloc, 'no', 'x', cx.warn, POS)).toBe('yes');
    expect(checkDeallocate(ool, flDealloc, 'no', 'x', cx.warn, POS)).toBe('yes');
    expect(cx.warnings).toEqual([]);
  });

  it('a flag equal to the default is redundant; NotDealloc never warns about IPC errors', () => {
    const cx = context();
    const ool = ptrDecl(shortDecl(INT32, cx, POS), cx, POS);
    expect(checkDeallocate(ool, flDealloc, 'yes', 'x', cx.warn, POS)).toBe('yes');
    expect(checkDeallocate(ool, flMaybeDealloc, 'maybe', 'x', cx.warn, POS)).toBe('maybe');
    expect(checkDeallocate(ool, flNotDealloc, 'no', 'x', cx.warn, POS)).toBe('no');
    expect(checkDeallocate(ool, flNotDealloc, 'yes', 'x', cx.warn, POS)).toBe('no');
    expect(cx.warnings).toEqual(['x: Dealloc is redundant', 'x: Dealloc[] is redundant', 'x: NotDealloc is redundant']);
  });

  it('checkFlags cancels contradictions', () => {
    const cx = context();
    expect(checkFlags(flLong | flNotLong | flDealloc, 'x', cx.warn, POS)).toBe(flDealloc);
    expect(checkFlags(flDealloc | flNotDealloc, 'x', cx.warn, POS)).toBe(0);
    expect(checkFlags(flMaybeDealloc | flDealloc | flNotDealloc, 'x', cx.warn, POS)).toBe(flMaybeDealloc);
    expect(checkFlags(flMaybeDealloc | flLong, 'x', cx.warn, POS)).toBe(flMaybeDealloc | flLong);
    expect(cx.warnings).toEqual([
      'x: IsLong and IsNotLong cancel out',
      'x: Dealloc and NotDealloc cancel out',
      'x: Dealloc and NotDealloc ignored with Dealloc[]',
    ]);
  });

  it('flags on the type: repeats and [] on the wrong flag warn at the flag', () => {
    expect(warnings('type a = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc, Dealloc);')).toEqual(['2:55: redundant IPC flag ignored']);
    // the flag is dropped, as GNU MIG does (no "doesn't need IsLong" either)
    expect(warnings('type a = (MACH_MSG_TYPE_INTEGER_32, 32, IsLong[]);')).toEqual(['2:41: only Dealloc is variable']);
    expect(type('type a = (MACH_MSG_TYPE_INTEGER_32, 32, IsLong[]);', 'a').longForm).toBe(false);
    // Dealloc[] twice is not redundant for GNU MIG; with Dealloc it wins over it
    expect(warnings('type a = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc[], Dealloc[]);')).toEqual([]);
    expect(warnings('type a = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc, Dealloc[]);')).toEqual(['2:6: a: Dealloc and NotDealloc ignored with Dealloc[]']);
    expect(type('type a = ^array[] of (MACH_MSG_TYPE_BYTE, 8, Dealloc, Dealloc[]);', 'a').deallocate).toBe('maybe');
  });
});

describe('built-in types', () => {
  it('char, short, int, uintptr_t and intptr_t, usable by name', () => {
    const cx = context();
    const b = builtinTypes(cx, 32, POS);
    const row = (n: string): unknown[] => {
      const it = b.named.get(n)!;
      return [it.name, it.inNameStr, it.size, it.alignment, it.typeSize, it.userType];
    };
    expect(['char', 'short', 'int', 'uintptr_t', 'intptr_t'].map(row)).toEqual([
      ['char', 'MACH_MSG_TYPE_CHAR', 8, 1, 1, 'char'],
      ['short', 'MACH_MSG_TYPE_INTEGER_16', 16, 2, 2, 'short'],
      ['int', 'MACH_MSG_TYPE_INTEGER_32', 32, 4, 4, 'int'],
      ['uintptr_t', 'MACH_MSG_TYPE_INTEGER_64', 64, 8, 8, 'uintptr_t'],
      ['intptr_t', 'MACH_MSG_TYPE_INTEGER_64', 64, 8, 8, 'intptr_t'],
    ]);
    expect(cx.warnings).toEqual([]);
  });

  it('counts, poly names, timeouts and options are word-sized INTEGER_32; dealloc flags BOOLEAN', () => {
    const b = builtinTypes(context(), 32, POS);
    for (const it of [b.retCode, b.makeCount(), b.makePoly(), b.waitTime, b.msgOption]) {
      expect([it.inName, it.size, it.number, it.typeSize]).toEqual([2, 32, 1, 4]);
      expect(isNaturalInt(it)).toBe(true);
    }
    expect([b.retCode.name, b.makeCount().name, b.makePoly().name, b.waitTime.name, b.msgOption.name]).toEqual([
      'kern_return_t', 'mach_msg_type_number_t', 'mach_msg_type_name_t', 'mach_msg_timeout_t', 'mach_msg_option_t',
    ]);
    const d = b.makeDealloc();
    expect([d.name, d.inName, d.inNameStr, d.size]).toEqual(['boolean_t', 0, 'MACH_MSG_TYPE_BOOLEAN', 32]);
    expect(b.makeCount()).not.toBe(b.makeCount());
  });

  it('the implicit ports: COPY_SEND request, MAKE_SEND_ONCE reply, 0 for simpleroutines; 32 or 64 bits', () => {
    for (const bits of [32, 64]) {
      const b = builtinTypes(context(), bits, POS);
      expect([b.requestPort.inNameStr, b.requestPort.outNameStr, b.requestPort.size]).toEqual(['MACH_MSG_TYPE_COPY_SEND', 'MACH_MSG_TYPE_PORT_SEND', bits]);
      expect([b.realReplyPort.inName, b.realReplyPort.outName, b.realReplyPort.size]).toEqual([21, 18, bits]);
      expect([b.zeroReplyPort.inNameStr, b.zeroReplyPort.outName, b.zeroReplyPort.size]).toEqual(['0', 0, bits]);
      expect(isProperRequestPort(b.requestPort, bits)).toBe(true);
      expect(isProperReplyPort(b.realReplyPort, bits)).toBe(true);
      expect(isProperReplyPort(b.zeroReplyPort, bits)).toBe(true);
      expect(isProperRequestPort(b.zeroReplyPort, bits)).toBe(false);
    }
    const b32 = builtinTypes(context(), 32, POS);
    expect(isProperRequestPort(b32.requestPort, 64)).toBe(false);
  });

  it('cannot be redeclared', () => {
    expect(errors('type int = MACH_MSG_TYPE_INTEGER_32;')).toEqual(['2:6: overriding previous definition of int']);
    expect(errors('type uintptr_t = MACH_MSG_TYPE_INTEGER_64;')).toEqual(['2:6: overriding previous definition of uintptr_t']);
  });
});

describe('port sizes', () => {
  it('ports are 32 bits, or 64 in KernelUser and KernelServer subsystems', () => {
    const size = (header: string): number[] => {
      const m = compile('type p = MACH_MSG_TYPE_COPY_SEND; type poly = polymorphic; type name = MACH_MSG_TYPE_PORT_NAME;', header);
      return ['p', 'poly', 'name'].map((n) => m.types.get(n)!.size);
    };
    expect(size('subsystem t 1;')).toEqual([32, 32, 32]);
    expect(size('subsystem KernelUser t 1;')).toEqual([64, 64, 32]);
    expect(size('subsystem KernelServer t 1;')).toEqual([64, 64, 32]);
    expect(type('type p = MACH_MSG_TYPE_MOVE_SEND;', 'p', 'subsystem KernelServer t 1;').typeSize).toBe(8);
  });
});

describe('C type names', () => {
  it('default to the MIG type name', () => {
    const it = type('type foo_t = int;', 'foo_t');
    expect([it.userType, it.serverType, it.transType]).toEqual(['foo_t', 'foo_t', 'foo_t']);
  });

  it('ctype, cusertype, cservertype, intran, outtran, destructor, intranpayload', () => {
    const m = compile(`type a = int ctype: a_c;
type b = int cusertype: b_u cservertype: b_s;
type c = MACH_MSG_TYPE_COPY_SEND ctype: mach_port_t intran: c_obj c_in(mach_port_t) destructor: c_done(c_obj);
type d = MACH_MSG_TYPE_COPY_SEND outtran: mach_port_t d_out(d_obj);
type e = MACH_MSG_TYPE_COPY_SEND ctype: mach_port_t intranpayload: e_obj e_payload;`);
    const row = (n: string): unknown[] => {
      const it = m.types.get(n)!;
      return [it.userType, it.serverType, it.transType, it.inTrans, it.outTrans, it.destructor, it.inTransPayload];
    };
    expect(row('a')).toEqual(['a_c', 'a_c', 'a_c', null, null, null, null]);
    expect(row('b')).toEqual(['b_u', 'b_s', 'b_s', null, null, null, null]);
    expect(row('c')).toEqual(['mach_port_t', 'mach_port_t', 'c_obj', 'c_in', null, 'c_done', null]);
    expect(row('d')).toEqual(['d', 'mach_port_t', 'd_obj', null, 'd_out', null, null]);
    expect(row('e')).toEqual(['mach_port_t', 'mach_port_t', 'e_obj', null, null, null, 'e_payload']);
    expect(m.warnings).toEqual([]);
  });

  it('a type copied from another does not inherit them', () => {
    const m = compile('type a = int ctype: a_c intran: a_t a_in(a_c); type b = a;');
    const b = m.types.get('b')!;
    expect([b.userType, b.serverType, b.transType, b.inTrans]).toEqual(['b', 'b', 'b', null]);
    expect(m.types.get('a')!.inTrans).toBe('a_in');
  });

  it('conflicting repeats warn and the last one wins', () => {
    const m = compile('type a = int\n  ctype: x\n  ctype: y\n  cusertype: y;');
    expect(m.warnings.map((w) => `${w.pos.line}:${w.pos.column}: ${w.message}`)).toEqual([
      '4:3: conflicting user types (x, y)',
      '4:3: conflicting server types (x, y)',
    ]);
    expect(m.types.get('a')!.userType).toBe('y');
  });

  it('in KernelServer, mach_port_t port types become ipc_port_t on the server side; in KernelUser, on the user side', () => {
    const t = 'type p = MACH_MSG_TYPE_COPY_SEND ctype: mach_port_t; type q = MACH_MSG_TYPE_COPY_SEND; type i = int ctype: mach_port_t; type poly = polymorphic ctype: mach_port_t;';
    const row = (m: MigModule, n: string): unknown[] => {
      const it = m.types.get(n)!;
      return [it.userType, it.serverType, it.kernelPort];
    };
    const ks = compile(t, 'subsystem KernelServer t 1;');
    expect(row(ks, 'p')).toEqual(['mach_port_t', 'ipc_port_t', true]);
    expect(row(ks, 'q')).toEqual(['q', 'q', false]);
    expect(row(ks, 'i')).toEqual(['mach_port_t', 'mach_port_t', false]);
    expect(row(ks, 'poly')).toEqual(['mach_port_t', 'ipc_port_t', true]);
    const ku = compile(t, 'subsystem KernelUser t 1;');
    expect(row(ku, 'p')).toEqual(['ipc_port_t', 'mach_port_t', true]);
    const plain = compile(t);
    expect(row(plain, 'p')).toEqual(['mach_port_t', 'mach_port_t', false]);
  });

  it('calculateNameInfo prints numeric names as unsigned decimals', () => {
    const it = newType();
    it.name = 'n';
    it.inName = 77;
    it.outName = POLY;
    calculateNameInfo(it, { server: false, user: false });
    expect([it.inNameStr, it.outNameStr, it.transType]).toEqual(['77', '4294967295', 'n']);
  });

  it('resetType and copyType', () => {
    const it = newType();
    Object.assign(it, { name: 'x', userType: 'u', serverType: 's', transType: 't', inTrans: 'i', outTrans: 'o', destructor: 'd', inTransPayload: 'p' });
    const c = copyType(it);
    expect([c.name, c.element, c.userType]).toEqual([null, it, 'u']);
    resetType(c);
    expect([c.userType, c.serverType, c.transType, c.inTrans, c.outTrans, c.destructor, c.inTransPayload]).toEqual([null, null, null, null, null, null, null]);
    expect(it.userType).toBe('u');
  });
});

describe('size warnings', () => {
  it('calculateSizeInfo: bits not in whole bytes, and an empty fixed type', () => {
    const cx = context();
    const it = newType();
    it.name = 'z';
    calculateSizeInfo(it, cx.warn, POS);
    expect(cx.warnings).toEqual(['sizeof(z) == 0']);
    const bits = newType();
    bits.size = 3;
    bits.number = 3;
    cx.warnings.length = 0;
    calculateSizeInfo(bits, cx.warn, POS);
    expect([bits.typeSize, bits.padSize, cx.warnings]).toEqual([2, 2, ['size of C types must be multiples of 8 bits']]);
  });

  it('array[3] of a 1-bit type warns at the array and at the element (GNU MIG)', () => {
    expect(warnings('type odd = (MACH_MSG_TYPE_BIT, 1); type odds = array[3] of odd;')).toEqual([
      '2:12: size of C types must be multiples of 8 bits',
      '2:48: size of C types must be multiples of 8 bits',
    ]);
  });
});
