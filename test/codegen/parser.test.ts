/*
 * File: test/codegen/parser.test.ts
 * Purpose: unit tests of tsmig's parser (codegen/parser.ts): the shape of every statement,
 *   type specification, attribute and argument in codegen/ast.ts; the IPC names and
 *   default sizes of the MACH_MSG_TYPE_* symbols (32-bit ports, 64-bit after
 *   KernelUser/KernelServer); integer expressions in unsigned 32-bit arithmetic with C
 *   precedence; syntax errors with positions and recovery at the next `;`.
 */

import { describe, expect, it } from 'vitest';
import type { IpcTypeName, NamedTypeSpec, Statement, TypeSpec } from '../../codegen/ast.js';
import type { SourcePosition } from '../../codegen/diagnostic.js';
import { parse, type ParseResult } from '../../codegen/parser.js';

function locator(text: string): (offset: number) => SourcePosition {
  return (offset) => {
    const before = text.slice(0, offset).split('\n');
    return { file: 'p.defs', line: before.length, column: before[before.length - 1]!.length + 1 };
  };
}

function run(text: string): ParseResult {
  return parse(text, locator(text));
}

/** Drops every position (for comparing shapes). */
function strip<T>(v: T): unknown {
  return JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'pos' || k === 'typePos' || k === 'fieldPos' ? undefined : x)));
}

/** The statements of text that must parse without error, positions dropped. */
function ok(text: string): unknown[] {
  const r = run(text);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return strip(r.statements) as unknown[];
}

function one(text: string): unknown {
  const st = ok(text);
  expect(st.length).toBe(1);
  return st[0];
}

/** `LINE:COL: message` of every error. */
function errors(text: string): string[] {
  return run(text).errors.map((e) => `${e.pos.line}:${e.pos.column}: ${e.diagnostic}`);
}

/** The spec of `type t = SPEC;` (after an optional prefix). */
function spec(text: string, prefix = ''): TypeSpec {
  const r = run(`${prefix}type t = ${text};`);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  const st = r.statements[r.statements.length - 1] as Extract<Statement, { kind: 'type' }>;
  return strip(st.type.spec) as TypeSpec;
}

function ipc(text: string, prefix = ''): Omit<IpcTypeName, 'pos'> {
  const s = spec(text, prefix);
  if (s.kind !== 'ipc') throw new Error(`not an ipc spec: ${s.kind}`);
  return s.ipc;
}

/** The evaluated integer expression `e` (as the size of a long IPC declaration). */
function intexp(e: string): number {
  const s = spec(`(MACH_MSG_TYPE_INTEGER_32, ${e})`);
  if (s.kind !== 'ipclong') throw new Error('not a long declaration');
  return s.size;
}

const POLY = 0xffffffff;

describe('statements', () => {
  it('subsystem: name, base and the kernel keywords with their positions', () => {
    expect(one('subsystem foo 2000;')).toEqual({ kind: 'subsystem', kernelUser: [], kernelServer: [], name: 'foo', base: 2000 });
    const r = run('subsystem KernelUser KernelServer kerneluser bar 7;');
    expect(r.errors).toEqual([]);
    const st = r.statements[0] as Extract<Statement, { kind: 'subsystem' }>;
    expect(st.kernelUser.map((p) => p.column)).toEqual([11, 35]);
    expect(st.kernelServer.map((p) => p.column)).toEqual([22]);
    expect([st.name, st.base, st.pos.column]).toEqual(['bar', 7, 1]);
  });

  it('waittime, nowaittime and msgoption take one string token', () => {
    expect(ok('waittime 500; waittime my_timeout; nowaittime; msgoption MACH_SEND_TIMEOUT; msgoption MACH_MSG_OPTION_NONE;')).toEqual([
      { kind: 'waittime', value: '500' },
      { kind: 'waittime', value: 'my_timeout' },
      { kind: 'waittime', value: null },
      { kind: 'msgoption', value: 'MACH_SEND_TIMEOUT' },
      { kind: 'msgoption', value: 'MACH_MSG_OPTION_NONE' },
    ]);
    // keywords lose their meaning in the string
    expect(one('WaitTime routine;')).toEqual({ kind: 'waittime', value: 'routine' });
  });

  it('error, serverprefix, userprefix, serverdemux take an identifier', () => {
    expect(ok('error my_error; serverprefix S_; userprefix U_; serverdemux my_demux;')).toEqual([
      { kind: 'error', name: 'my_error' },
      { kind: 'serverprefix', name: 'S_' },
      { kind: 'userprefix', name: 'U_' },
      { kind: 'serverdemux', name: 'my_demux' },
    ]);
  });

  it('import, uimport, simport keep the file name verbatim, quotes or brackets included', () => {
    expect(ok('import "a.h"; uimport <b/c.h>; simport "d e.h"; Import <f.h>;')).toEqual([
      { kind: 'import', side: 'both', file: '"a.h"' },
      { kind: 'import', side: 'user', file: '<b/c.h>' },
      { kind: 'import', side: 'server', file: '"d e.h"' },
      { kind: 'import', side: 'both', file: '<f.h>' },
    ]);
  });

  it('rcsid keeps its quotes', () => {
    expect(one('rcsid "$Id: x $";')).toEqual({ kind: 'rcsid', value: '"$Id: x $"' });
  });

  it('skip counts 1 by default, or the number given', () => {
    expect(ok('skip; skip 3; skip 0; SKIP;')).toEqual([
      { kind: 'skip', count: 1 }, { kind: 'skip', count: 3 }, { kind: 'skip', count: 0 }, { kind: 'skip', count: 1 },
    ]);
  });

  it('empty statements produce nothing', () => {
    expect(ok(';;; skip;;')).toEqual([{ kind: 'skip', count: 1 }]);
    expect(ok('')).toEqual([]);
  });

  it('keeps statement order and positions', () => {
    const r = run('subsystem s 1;\n  skip;\ntype t = int;');
    expect(r.statements.map((s) => `${s.kind}@${s.pos.line}:${s.pos.column}`)).toEqual(['subsystem@1:1', 'skip@2:3', 'type@3:1']);
  });
});

describe('type statements and attributes', () => {
  it('a type refers to a previous one by name', () => {
    expect(one('type a = b;')).toEqual({ kind: 'type', type: { name: 'a', spec: { kind: 'prev', name: 'b' }, attributes: [] } });
  });

  it('attributes are kept in order with their parts', () => {
    const st = one(`type t = int
      ctype: c_t cusertype: u_t cservertype: s_t
      intran: trans_t in_fn(server_t)
      outtran: server_t out_fn(trans_t)
      destructor: done_fn(trans_t)
      intranpayload: trans_t payload_fn;`) as { type: NamedTypeSpec };
    expect(st.type.attributes).toEqual([
      { kind: 'ctype', name: 'c_t' },
      { kind: 'cusertype', name: 'u_t' },
      { kind: 'cservertype', name: 's_t' },
      { kind: 'intran', transType: 'trans_t', fn: 'in_fn', serverType: 'server_t' },
      { kind: 'outtran', serverType: 'server_t', fn: 'out_fn', transType: 'trans_t' },
      { kind: 'destructor', fn: 'done_fn', transType: 'trans_t' },
      { kind: 'intranpayload', transType: 'trans_t', fn: 'payload_fn' },
    ]);
  });

  it('attribute keywords are case-insensitive, and repeats are kept', () => {
    const st = one('type t = int CType: a CTYPE: b;') as { type: NamedTypeSpec };
    expect(st.type.attributes).toEqual([{ kind: 'ctype', name: 'a' }, { kind: 'ctype', name: 'b' }]);
  });

  it('a C type must be one identifier', () => {
    expect(errors('type t = int ctype: unsigned long;')).toEqual(["1:30: syntax error: expected ';', found identifier 'long'"]);
  });
});

describe('type specifications', () => {
  it('short: a symbol or a number', () => {
    expect(spec('MACH_MSG_TYPE_INTEGER_32')).toEqual({
      kind: 'ipc', ipc: { inName: 2, inStr: 'MACH_MSG_TYPE_INTEGER_32', outName: 2, outStr: 'MACH_MSG_TYPE_INTEGER_32', size: 32 },
    });
    expect(spec('77')).toEqual({ kind: 'ipc', ipc: { inName: 77, inStr: null, outName: 77, outStr: null, size: 0 } });
  });

  it('long: (name, size, flags...) with Dealloc[]', () => {
    expect(spec('(MACH_MSG_TYPE_STRING, 512*8)')).toEqual({
      kind: 'ipclong', ipc: { inName: 12, inStr: 'MACH_MSG_TYPE_STRING', outName: 12, outStr: 'MACH_MSG_TYPE_STRING', size: 0 }, size: 4096, flags: [],
    });
    const s = spec('(MACH_MSG_TYPE_BYTE, 8, IsLong, dealloc[], NotDealloc, ServerCopy, CountInOut, RetCode, IsNotLong)');
    expect(s.kind === 'ipclong' && s.flags).toEqual([
      { flag: 'islong', variable: false }, { flag: 'dealloc', variable: true }, { flag: 'notdealloc', variable: false },
      { flag: 'servercopy', variable: false }, { flag: 'countinout', variable: false }, { flag: 'retcode', variable: false },
      { flag: 'isnotlong', variable: false },
    ]);
  });

  it('any flag may be written with [] (the model warns later)', () => {
    const s = spec('(MACH_MSG_TYPE_BYTE, 8, IsLong[])');
    expect(s.kind === 'ipclong' && s.flags).toEqual([{ flag: 'islong', variable: true }]);
  });

  it('arrays: [] and [*] are unbounded (max 0), [*:N] bounded, [N] fixed', () => {
    expect(spec('array[] of char')).toEqual({ kind: 'vararray', max: 0, of: { kind: 'prev', name: 'char' } });
    expect(spec('array[*] of char')).toEqual({ kind: 'vararray', max: 0, of: { kind: 'prev', name: 'char' } });
    expect(spec('array[*:1024] of natural_t')).toEqual({ kind: 'vararray', max: 1024, of: { kind: 'prev', name: 'natural_t' } });
    expect(spec('array[4*4] of int')).toEqual({ kind: 'array', number: 16, of: { kind: 'prev', name: 'int' } });
  });

  it('struct[N], struct {}, ^ and nesting', () => {
    expect(spec('struct[3] of int')).toEqual({ kind: 'structarray', number: 3, of: { kind: 'prev', name: 'int' } });
    expect(spec('struct { int64 a; int32 b; }')).toEqual({
      kind: 'struct', members: [{ typeName: 'int64', fieldName: 'a' }, { typeName: 'int32', fieldName: 'b' }],
    });
    expect(spec('^array[] of MACH_MSG_TYPE_BYTE')).toEqual({
      kind: 'pointer',
      of: { kind: 'vararray', max: 0, of: { kind: 'ipc', ipc: { inName: 9, inStr: 'MACH_MSG_TYPE_BYTE', outName: 9, outStr: 'MACH_MSG_TYPE_BYTE', size: 8 } } },
    });
    expect(spec('array[2] of array[3] of struct[4] of int')).toEqual({
      kind: 'array', number: 2, of: { kind: 'array', number: 3, of: { kind: 'structarray', number: 4, of: { kind: 'prev', name: 'int' } } },
    });
  });

  it('c_string[N] and c_string[*:N]', () => {
    expect(spec('c_string[1024]')).toEqual({ kind: 'cstring', number: 1024, varying: false });
    expect(spec('C_String[*:64]')).toEqual({ kind: 'cstring', number: 64, varying: true });
    expect(errors('type t = c_string[*];')).toEqual(["1:20: syntax error: expected ':', found ']'"]);
    expect(errors('type t = c_string[];')).toEqual(["1:19: syntax error: expected an integer expression, found ']'"]);
  });

  it('struct members are `type name;` pairs; an empty struct is a syntax error', () => {
    expect(errors('type t = struct { };')).toEqual(["1:19: syntax error: expected a member type name, found '}'"]);
    expect(errors('type t = struct { int a };')).toEqual(["1:25: syntax error: expected ';', found '}'"]);
  });

  it('a type spec position is its first token', () => {
    const r = run('type t =\n  array[] of char;');
    const st = r.statements[0] as Extract<Statement, { kind: 'type' }>;
    expect(st.type.pos).toMatchObject({ line: 1, column: 6 });
    expect(st.type.spec.pos).toMatchObject({ line: 2, column: 3 });
  });
});

describe('IPC type names', () => {
  const cases: Array<[string, number, number, number]> = [
    // symbol, in-name, out-name, default size (32-bit ports)
    ['MACH_MSG_TYPE_UNSTRUCTURED', 0, 0, 0], ['MACH_MSG_TYPE_BIT', 0, 0, 1], ['MACH_MSG_TYPE_BOOLEAN', 0, 0, 32],
    ['MACH_MSG_TYPE_INTEGER_16', 1, 1, 16], ['MACH_MSG_TYPE_INTEGER_32', 2, 2, 32], ['MACH_MSG_TYPE_INTEGER_64', 11, 11, 64],
    ['MACH_MSG_TYPE_CHAR', 8, 8, 8], ['MACH_MSG_TYPE_BYTE', 9, 9, 8], ['MACH_MSG_TYPE_INTEGER_8', 9, 9, 8],
    ['MACH_MSG_TYPE_REAL', 10, 10, 0], ['MACH_MSG_TYPE_STRING', 12, 12, 0], ['MACH_MSG_TYPE_STRING_C', 12, 12, 0],
    ['MACH_MSG_TYPE_PORT_NAME', 15, 15, 32], ['MACH_MSG_TYPE_MOVE_RECEIVE', 16, 16, 32], ['MACH_MSG_TYPE_MOVE_SEND', 17, 17, 32],
    ['MACH_MSG_TYPE_MOVE_SEND_ONCE', 18, 18, 32], ['MACH_MSG_TYPE_COPY_SEND', 19, 17, 32], ['MACH_MSG_TYPE_MAKE_SEND', 20, 17, 32],
    ['MACH_MSG_TYPE_MAKE_SEND_ONCE', 21, 18, 32], ['MACH_MSG_TYPE_PORT_RECEIVE', POLY, 16, 32], ['MACH_MSG_TYPE_PORT_SEND', POLY, 17, 32],
    ['MACH_MSG_TYPE_PORT_SEND_ONCE', POLY, 18, 32], ['MACH_MSG_TYPE_POLYMORPHIC', POLY, POLY, 0], ['polymorphic', POLY, POLY, 32],
  ];
  for (const [sym, inName, outName, size] of cases) {
    it(`${sym}: in ${inName}, out ${outName}, ${size} bits`, () => {
      expect(ipc(sym)).toMatchObject({ inName, outName, size });
    });
  }

  it('port dispositions print their received right as the out-name; PORT_* send polymorphic', () => {
    expect(ipc('MACH_MSG_TYPE_COPY_SEND')).toMatchObject({ inStr: 'MACH_MSG_TYPE_COPY_SEND', outStr: 'MACH_MSG_TYPE_PORT_SEND' });
    expect(ipc('MACH_MSG_TYPE_MAKE_SEND_ONCE')).toMatchObject({ inStr: 'MACH_MSG_TYPE_MAKE_SEND_ONCE', outStr: 'MACH_MSG_TYPE_PORT_SEND_ONCE' });
    expect(ipc('MACH_MSG_TYPE_MOVE_RECEIVE')).toMatchObject({ outStr: 'MACH_MSG_TYPE_PORT_RECEIVE' });
    expect(ipc('MACH_MSG_TYPE_PORT_SEND')).toMatchObject({ inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outStr: 'MACH_MSG_TYPE_PORT_SEND' });
    expect(ipc('polymorphic')).toMatchObject({ inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outStr: 'MACH_MSG_TYPE_POLYMORPHIC' });
    expect(ipc('MACH_MSG_TYPE_POLYMORPHIC')).toMatchObject({ inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outStr: 'MACH_MSG_TYPE_POLYMORPHIC' });
  });

  it('ports are 64 bits after subsystem KernelUser or KernelServer; names and polymorphic follow', () => {
    for (const prefix of ['subsystem KernelUser k 1; ', 'subsystem KernelServer k 1; ']) {
      expect(ipc('MACH_MSG_TYPE_COPY_SEND', prefix).size).toBe(64);
      expect(ipc('MACH_MSG_TYPE_PORT_SEND_ONCE', prefix).size).toBe(64);
      expect(ipc('polymorphic', prefix).size).toBe(64);
      expect(ipc('MACH_MSG_TYPE_PORT_NAME', prefix).size).toBe(32);
      expect(ipc('MACH_MSG_TYPE_INTEGER_32', prefix).size).toBe(32);
    }
    expect(ipc('MACH_MSG_TYPE_COPY_SEND', 'subsystem plain 1; ').size).toBe(32);
  });

  it('the port size is the one in force when the symbol is read', () => {
    const r = run('type a = MACH_MSG_TYPE_MOVE_SEND; subsystem KernelServer k 1; type b = MACH_MSG_TYPE_MOVE_SEND;');
    const sizes = r.statements.flatMap((s) => (s.kind === 'type' && s.type.spec.kind === 'ipc' ? [s.type.spec.ipc.size] : []));
    expect(sizes).toEqual([32, 64]);
  });

  it('A | B: in-name of A, out-name of B; a zero size takes the other', () => {
    expect(ipc('MACH_MSG_TYPE_MAKE_SEND_ONCE | polymorphic')).toEqual({
      inName: 21, inStr: 'MACH_MSG_TYPE_MAKE_SEND_ONCE', outName: POLY, outStr: 'MACH_MSG_TYPE_POLYMORPHIC', size: 32,
    });
    expect(ipc('polymorphic | MACH_MSG_TYPE_PORT_SEND_ONCE')).toEqual({
      inName: POLY, inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outName: 18, outStr: 'MACH_MSG_TYPE_PORT_SEND_ONCE', size: 32,
    });
    expect(ipc('MACH_MSG_TYPE_POLYMORPHIC | MACH_MSG_TYPE_INTEGER_16')).toMatchObject({ inName: POLY, outName: 1, size: 16 });
    expect(ipc('MACH_MSG_TYPE_INTEGER_64 | 5')).toMatchObject({ inName: 11, outName: 5, size: 64 });
  });

  it('A | B with two different non-zero sizes is an error; the statement still parses with size 0', () => {
    const r = run('type t = MACH_MSG_TYPE_INTEGER_32 | MACH_MSG_TYPE_INTEGER_16;');
    expect(r.errors.map((e) => `${e.pos.column}: ${e.diagnostic}`)).toEqual([
      "37: sizes in IPCTypes (MACH_MSG_TYPE_INTEGER_32 MACH_MSG_TYPE_INTEGER_32 32, MACH_MSG_TYPE_INTEGER_16 MACH_MSG_TYPE_INTEGER_16 16) aren't equal",
    ]);
    expect(r.statements.length).toBe(1);
    const st = r.statements[0] as Extract<Statement, { kind: 'type' }>;
    expect(st.type.spec.kind === 'ipc' && st.type.spec.ipc.size).toBe(0);
  });

  it('A | B | C is a syntax error', () => {
    expect(errors('type t = 1 | 2 | 3;')).toEqual(["1:16: syntax error: expected ';', found '|'"]);
  });
});

describe('integer expressions', () => {
  it('* and / bind tighter than + and -', () => {
    expect(intexp('2+3*4')).toBe(14);
    expect(intexp('2*3+4')).toBe(10);
    expect(intexp('20-12/4')).toBe(17);
    expect(intexp('(2+3)*4')).toBe(20);
    expect(intexp('((((7))))')).toBe(7);
  });

  it('are left associative', () => {
    expect(intexp('10-2-3')).toBe(5);
    expect(intexp('100/7/2')).toBe(7);
    expect(intexp('2*3/4')).toBe(1);
    expect(intexp('2/4*3')).toBe(0);
  });

  it('divide by truncation', () => {
    expect(intexp('7/2')).toBe(3);
    expect(intexp('1/2')).toBe(0);
  });

  it('are unsigned 32-bit: subtraction and multiplication wrap, division is unsigned', () => {
    expect(intexp('1-2')).toBe(4294967295);
    expect(intexp('1-2+3')).toBe(2);
    expect(intexp('4294967295+2')).toBe(1);
    expect(intexp('65536*65536')).toBe(0);
    expect(intexp('65536*65537')).toBe(65536);
    expect(intexp('2147483648*2+32')).toBe(32);
    expect(intexp('(0-2)/2')).toBe(2147483647); // GNU MIG: msgtl_number 2147483647
  });

  it('have no unary minus, no hex and no identifiers', () => {
    expect(errors('type t = array[-1] of int;')).toEqual(["1:16: syntax error: expected an integer expression, found '-'"]);
    expect(errors('type t = array[0x10] of int;')).toEqual(["1:17: syntax error: expected ']', found identifier 'x10'"]);
    expect(errors('type t = array[N] of int;')).toEqual(["1:16: syntax error: expected an integer expression, found identifier 'N'"]);
  });

  it('division by zero is an error at the operator', () => {
    expect(errors('type t = array[7/0] of int;')).toEqual(['1:17: division by zero in integer expression']);
    expect(errors('type t = array[7/(1-1)] of int;')).toEqual(['1:17: division by zero in integer expression']);
  });

  it('skip takes a number, not an expression', () => {
    expect(errors('skip 2*3;')).toEqual(["1:7: syntax error: expected ';', found '*'"]);
  });

  it('appear in array bounds, struct counts, c_string sizes and long sizes', () => {
    expect(spec('array[*:4*(2+2)] of int')).toMatchObject({ kind: 'vararray', max: 16 });
    expect(spec('struct[10/3] of int')).toMatchObject({ kind: 'structarray', number: 3 });
    expect(spec('c_string[*:8*16]')).toMatchObject({ kind: 'cstring', number: 128 });
    expect(spec('(MACH_MSG_TYPE_STRING_C, 8 * (16 + 16))')).toMatchObject({ kind: 'ipclong', size: 256 });
  });
});

describe('routines', () => {
  it('routine and simpleroutine with their arguments', () => {
    expect(one('routine f(p: port_t; in x: int; out y: int);')).toEqual({
      kind: 'routine', oneway: false, name: 'f',
      args: [
        { direction: null, name: 'p', type: { ref: 'port_t' }, flags: [] },
        { direction: 'in', name: 'x', type: { ref: 'int' }, flags: [] },
        { direction: 'out', name: 'y', type: { ref: 'int' }, flags: [] },
      ],
    });
    expect(one('SimpleRoutine g(p: port_t);')).toMatchObject({ kind: 'routine', oneway: true, name: 'g' });
  });

  it('every direction keyword, in any case', () => {
    const st = one(`routine f(In a: t; OUT b: t; inout c: t; RequestPort d: t; replyport e: t; sreplyport f: t;
      UReplyPort g: t; waittime h: t; MsgOption i: t; msgseqno j: t; k: t);`) as { args: Array<{ direction: string | null }> };
    expect(st.args.map((a) => a.direction)).toEqual([
      'in', 'out', 'inout', 'requestport', 'replyport', 'sreplyport', 'ureplyport', 'waittime', 'msgoption', 'msgseqno', null,
    ]);
  });

  it('no arguments at all', () => {
    expect(one('routine f();')).toEqual({ kind: 'routine', oneway: false, name: 'f', args: [] });
  });

  it('flags follow the type, each after a comma; Dealloc[] is variable', () => {
    const st = one('routine f(p: t; x: data_t, Dealloc[], ServerCopy; out y: t, CountInOut, dealloc);') as { args: Array<{ flags: unknown }> };
    expect(st.args.map((a) => a.flags)).toEqual([
      [],
      [{ flag: 'dealloc', variable: true }, { flag: 'servercopy', variable: false }],
      [{ flag: 'countinout', variable: false }, { flag: 'dealloc', variable: false }],
    ]);
  });

  it('an argument type may be declared inline, with attributes', () => {
    const st = one('routine f(p: t; runs: run_t = array[*:16] of int ctype: run_array; out q: int);') as { args: Array<{ type: unknown }> };
    expect(st.args[1]!.type).toEqual({
      named: { name: 'run_t', spec: { kind: 'vararray', max: 16, of: { kind: 'prev', name: 'int' } }, attributes: [{ kind: 'ctype', name: 'run_array' }] },
    });
  });

  it('argument and type positions', () => {
    const r = run('routine f(\n  p : port_t;\n  in x:\tint);');
    const rt = r.statements[0] as Extract<Statement, { kind: 'routine' }>;
    expect(rt.args.map((a) => `${a.name}@${a.pos.line}:${a.pos.column}`)).toEqual(['p@2:3', 'x@3:6']);
    expect('ref' in rt.args[1]!.type && rt.args[1]!.type.pos).toMatchObject({ line: 3, column: 9 });
  });

  it('a trailing ; before ) is a syntax error', () => {
    expect(errors('routine f(p: t;);')).toEqual(["1:16: syntax error: expected an argument name, found ')'"]);
  });

  it('keywords cannot name arguments, routines or types', () => {
    expect(errors('routine f(p: t; error: int);')).toEqual(["1:17: syntax error: expected an argument name, found keyword 'error'"]);
    expect(errors('routine skip(p: t);')).toEqual(["1:9: syntax error: expected the routine name, found keyword 'skip'"]);
    expect(errors('type type = int;')).toEqual(["1:6: syntax error: expected a type name, found keyword 'type'"]);
    expect(errors('routine f(p: t; x: t, dealloc_t);')).toEqual([
      "1:23: syntax error: expected an IPC flag (IsLong, IsNotLong, Dealloc, NotDealloc, ServerCopy, CountInOut, RetCode), found identifier 'dealloc_t'",
    ]);
  });

  it('arguments are separated by ;, not ,', () => {
    expect(errors('routine f(p: t, x: t);')).toEqual([
      "1:17: syntax error: expected an IPC flag (IsLong, IsNotLong, Dealloc, NotDealloc, ServerCopy, CountInOut, RetCode), found identifier 'x'",
    ]);
  });
});

describe('syntax errors and recovery', () => {
  it('the message names what was expected and what was found', () => {
    expect(errors('subsystem 100;')).toEqual(['1:11: syntax error: expected the subsystem name, found number 100']);
    expect(errors('subsystem s;')).toEqual(["1:12: syntax error: expected the subsystem base message id, found ';'"]);
    expect(errors('subsystem s 1')).toEqual(["1:14: syntax error: expected ';', found end of input"]);
    expect(errors('foo;')).toEqual(["1:1: syntax error: expected a statement, found identifier 'foo'"]);
    expect(errors('type t = @;')).toEqual(["1:10: syntax error: expected a type specification, found unexpected character '@'"]);
    expect(errors('import foo.h;')).toEqual(['1:8: syntax error: expected a file name ("file.h" or <file.h>), found unexpected character \'f\'']);
    expect(errors('rcsid <x>;')).toEqual(["1:7: syntax error: expected a quoted string, found unexpected character '<'"]);
  });

  it('msgoption takes one string token: A|B is a syntax error at |', () => {
    expect(errors('msgoption A|B;')).toEqual(["1:12: syntax error: expected ';', found '|'"]);
    expect(errors('waittime (5);')).toEqual(["1:10: syntax error: expected a wait time, found unexpected character '('"]);
  });

  it('reports several errors in one file, skipping each time to the next ;', () => {
    const text = [
      'subsystem s 1;',
      'type a = array[-1] of int;',
      'type ok1 = int;',
      'routine f(p: t; error: int);',
      'type ok2 = int;',
      'msgoption A|B;',
      'type ok3 = int;',
    ].join('\n');
    const r = run(text);
    expect(r.errors.map((e) => `${e.pos.line}:${e.pos.column}`)).toEqual(['2:16', '4:17', '6:12']);
    expect(r.statements.map((s) => (s.kind === 'type' ? s.type.name : s.kind))).toEqual(['subsystem', 'ok1', 'ok2', 'ok3']);
  });

  it('recovery stops at the first ;, even inside a routine\'s arguments', () => {
    const text = 'routine f(1: int; q: int); type after = int;';
    const r = run(text);
    expect(r.errors.map((e) => `${e.pos.column}: ${e.diagnostic}`)).toEqual([
      '11: syntax error: expected an argument name, found number 1',
      "19: syntax error: expected a statement, found identifier 'q'",
    ]);
    expect(strip(r.statements)).toEqual([{ kind: 'type', type: { name: 'after', spec: { kind: 'prev', name: 'int' }, attributes: [] } }]);
  });

  it('an error in the last statement with no ; after it ends the file', () => {
    const r = run('type ok = int;\ntype bad = ');
    expect(r.errors.map((e) => e.diagnostic)).toEqual(['syntax error: expected a type specification, found end of input']);
    expect(r.statements.length).toBe(1);
  });

  it('lexer errors are collected too, during recovery as well', () => {
    const r = run('x "abc\ntype k = int;\ntype j = int;');
    expect(r.errors.map((e) => `${e.pos.line}:${e.pos.column}: ${e.diagnostic}`)).toEqual([
      "1:1: syntax error: expected a statement, found identifier 'x'",
      '1:3: missing terminating " character',
    ]);
    // recovery went on to the ; of `type k`, so only `type j` remains
    expect(strip(r.statements)).toEqual([{ kind: 'type', type: { name: 'j', spec: { kind: 'prev', name: 'int' }, attributes: [] } }]);
  });

  it('a bad character inside a statement is a syntax error at that character', () => {
    expect(errors('routine f(p: t) $;\ntype t = int;')).toEqual(["1:17: syntax error: expected ';', found unexpected character '$'"]);
  });
});
