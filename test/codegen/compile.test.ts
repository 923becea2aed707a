/*
 * File: test/codegen/compile.test.ts
 * Purpose: unit tests of tsmig's semantic pass (codegen/compile.ts): the statement walk in
 *   file order (subsystem, symbol table, prefixes, demux name, rcsid, imports, skips and
 *   routines as interleaved items), the module it returns, warnings as positioned
 *   diagnostics, and every error collected into one CompileErrors, sorted by position.
 */

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePreprocessed, type MigModule } from '../../codegen/compile.js';
import { CompileErrors, type SourcePosition } from '../../codegen/diagnostic.js';
import { compileFile } from '../../codegen/tsmig.js';

const GOOD = fileURLToPath(new URL('./good/', import.meta.url));

function locator(text: string, file = 'c.defs'): (offset: number) => SourcePosition {
  return (offset) => {
    const before = text.slice(0, offset).split('\n');
    return { file, line: before.length, column: before[before.length - 1]!.length + 1 };
  };
}

/** compilePreprocessed on `text` as file c.defs. */
function compile(text: string): MigModule {
  return compilePreprocessed('c.defs', text, locator(text));
}

/** The errors of text that must not compile, as `LINE:COL: message`. */
function errors(text: string): string[] {
  try {
    compile(text);
  } catch (e) {
    if (e instanceof CompileErrors) return e.errors.map((x) => `${x.pos.line}:${x.pos.column}: ${x.diagnostic}`);
    throw e;
  }
  throw new Error('compiled without error');
}

function warnings(text: string): string[] {
  return compile(text).warnings.map((w) => `${w.pos.line}:${w.pos.column}: ${w.message}`);
}

const PORT = 'type port_t = MACH_MSG_TYPE_COPY_SEND;';

describe('the module', () => {
  it('has the subsystem, file, items, routines, total, demux name and rcsid', () => {
    const m = compile(`subsystem clock 4100; ${PORT} routine a(p: port_t); skip; simpleroutine b(p: port_t);`);
    expect(m.file).toBe('c.defs');
    expect(m.files).toEqual(['c.defs']);
    expect(m.subsystem).toEqual({ name: 'clock', base: 4100, kernelUser: false, kernelServer: false });
    expect(m.routines.map((r) => r.name)).toEqual(['a', 'b']);
    expect(m.total).toBe(3);
    expect(m.serverDemux).toBe('clock_server');
    expect(m.rcsid).toBeNull();
    expect(m.warnings).toEqual([]);
  });

  it('lists routines, skips and imports in file order', () => {
    const m = compile(`subsystem s 10; ${PORT}
import <a.h>; skip 2; routine r1(p: port_t); uimport "u.h"; simport <s.h>; skip; simpleroutine r2(p: port_t); import "z.h";`);
    expect(m.items.map((i) => (i.kind === 'routine' ? `routine ${i.routine.name}` : i.kind === 'skip' ? `skip ${i.number}+${i.count}` : `${i.side} ${i.file}`))).toEqual([
      'both <a.h>', 'skip 0+2', 'routine r1', 'user "u.h"', 'server <s.h>', 'skip 3+1', 'routine r2', 'both "z.h"',
    ]);
    expect(m.routines.map((r) => r.number)).toEqual([2, 4]);
  });

  it('counts trailing skips in the total', () => {
    expect(compile(`subsystem s 1; ${PORT} routine r(p: port_t); skip 5;`).total).toBe(6);
    expect(compile('subsystem s 1;').total).toBe(0);
  });

  it('KernelUser and KernelServer set flags and 64-bit ports; repeats warn at the repeat', () => {
    const m = compile('subsystem KernelServer KernelUser\n  kernelserver k 5;');
    expect(m.subsystem).toEqual({ name: 'k', base: 5, kernelUser: true, kernelServer: true });
    expect(m.warnings.map((w) => `${w.pos.line}:${w.pos.column}: ${w.message}`)).toEqual(['2:3: duplicate KernelServer keyword']);
    expect(warnings('subsystem KernelUser KernelUser KERNELUSER k 5;')).toEqual(['1:22: duplicate KernelUser keyword', '1:33: duplicate KernelUser keyword']);
  });

  it('serverdemux names the demux; the last one wins', () => {
    expect(compile('subsystem s 1; serverdemux first; serverdemux my_demux;').serverDemux).toBe('my_demux');
  });

  it('rcsid keeps its quotes; a second one warns and replaces it', () => {
    expect(compile('subsystem s 1; rcsid "$Id$";').rcsid).toBe('"$Id$"');
    const m = compile('subsystem s 1;\nrcsid "a";\nrcsid "b";');
    expect([m.rcsid, m.warnings.map((w) => `${w.pos.line}:${w.pos.column}: ${w.message}`)]).toEqual(['"b"', ['3:1: previous RCS decl will be ignored']]);
  });

  it('accepts the error statement and ignores it', () => {
    expect(compile('subsystem s 1; error my_error_proc;').items).toEqual([]);
  });

  it('warnings are diagnostics with severity and position', () => {
    const m = compile('subsystem s 1;\ntype t = (MACH_MSG_TYPE_INTEGER_32, 16);');
    expect(m.warnings).toEqual([{ pos: { file: 'c.defs', line: 2, column: 10 }, severity: 'warning', message: 'IPC type decl has strange size (16 instead of 32)' }]);
  });
});

describe('the symbol table', () => {
  it('holds the built-in types, then the declared ones in order', () => {
    const m = compile('subsystem s 1; type b = int; type a = char;');
    expect([...m.types.keys()]).toEqual(['char', 'short', 'int', 'uintptr_t', 'intptr_t', 'b', 'a']);
    expect(m.types.get('b')!.name).toBe('b');
  });

  it('names are case-sensitive', () => {
    const m = compile('subsystem s 1; type Port_t = MACH_MSG_TYPE_COPY_SEND; type port_t = MACH_MSG_TYPE_MAKE_SEND;');
    expect([m.types.get('Port_t')!.inName, m.types.get('port_t')!.inName]).toEqual([19, 20]);
    expect(errors('subsystem s 1; type a = Int;')).toEqual(["1:25: type 'Int' not defined"]);
  });

  it('a type is a copy: later changes to the name do not affect it', () => {
    const m = compile('subsystem s 1; type a = MACH_MSG_TYPE_INTEGER_32 ctype: a_c; type b = a;');
    const [a, b] = [m.types.get('a')!, m.types.get('b')!];
    expect(b).not.toBe(a);
    expect([b.inName, b.size, b.userType, a.userType]).toEqual([2, 32, 'b', 'a_c']);
  });

  it('inline argument types are checked but not entered', () => {
    const m = compile(`subsystem s 1; ${PORT} routine r(p: port_t; x: run_t = array[*:4] of int);`);
    expect(m.types.has('run_t')).toBe(false);
    expect(m.routines[0]!.args.find((a) => a.name === 'x')!.type!.name).toBe('run_t');
  });

  it('redefinition is an error, built-in names included', () => {
    expect(errors('subsystem s 1;\ntype a = int;\ntype a = short;')).toEqual(['3:6: overriding previous definition of a']);
    expect(errors('subsystem s 1; type char = MACH_MSG_TYPE_CHAR;')).toEqual(['1:21: overriding previous definition of char']);
  });

  it('an undefined type is an error at its name, in type statements, arguments and struct members', () => {
    expect(errors(`subsystem s 1; ${PORT}\ntype a = nothing_t;\nroutine r(p: port_t; x: missing_t);\ntype s = struct { int a; gone_t b; };`)).toEqual([
      "2:10: type 'nothing_t' not defined",
      "3:25: type 'missing_t' not defined",
      "4:26: type 'gone_t' not defined", // and nothing about the member's alignment
    ]);
  });
});

describe('prefixes and global options follow the statement order', () => {
  it('serverprefix and userprefix apply to the routines after them', () => {
    const m = compile(`subsystem s 1; ${PORT}
routine a(p: port_t); ServerPrefix S_; routine b(p: port_t); UserPrefix U_; routine c(p: port_t); serverprefix do_; routine d(p: port_t);`);
    expect(m.routines.map((r) => `${r.userName}:${r.serverName}`)).toEqual(['a:a', 'b:S_b', 'U_c:S_c', 'U_d:do_d']);
  });

  it('msgoption MACH_MSG_OPTION_NONE cancels an earlier option; nowaittime cancels waittime', () => {
    const m = compile(`subsystem s 1; ${PORT}
msgoption MACH_SEND_TIMEOUT; waittime 10; routine a(p: port_t);
msgoption MACH_MSG_OPTION_NONE; nowaittime; routine b(p: port_t);`);
    expect(m.routines.map((r) => `${r.msgOption!.varName} ${r.waitTime?.varName ?? 'none'}`)).toEqual(['MACH_SEND_TIMEOUT 10', 'MACH_MSG_OPTION_NONE none']);
  });

  it('port sizes depend on where a type is declared relative to the subsystem statement', () => {
    const m = compile('subsystem KernelUser k 1; type p = MACH_MSG_TYPE_COPY_SEND; routine r(x: p);');
    expect(m.types.get('p')!.size).toBe(64);
    expect(m.routines[0]!.requestPort!.type!.size).toBe(64);
  });
});

describe('errors', () => {
  it('no subsystem statement: one error for the whole file', () => {
    expect(errors('')).toEqual(['1:1: no SubSystem declaration']);
    expect(errors('skip;')).toEqual(['1:1: no SubSystem declaration']);
  });

  it('types used before the subsystem statement are not initialized (GNU MIG)', () => {
    expect(errors('type a = MACH_MSG_TYPE_INTEGER_32;\nsubsystem s 1;')).toEqual([
      '1:6: Basic types not initialized when looking up type a. Did you forget to define the subsystem?',
    ]);
    expect(errors('type a = int;\nsubsystem s 1;')).toEqual([
      '1:6: Basic types not initialized when looking up type a. Did you forget to define the subsystem?',
      '1:10: Basic types not initialized when looking up type int. Did you forget to define the subsystem?',
    ]);
  });

  it('a routine before the subsystem statement: the lookup error only, and it is not numbered into the module', () => {
    expect(errors('routine r(p: port_t);\nsubsystem s 1;')).toEqual([
      '1:14: Basic types not initialized when looking up type port_t. Did you forget to define the subsystem?',
    ]);
  });

  it('a second subsystem statement warns and fails (GNU MIG)', () => {
    expect(errors('subsystem s 1;\nsubsystem t 2;')).toEqual(['2:1: Basic types were already initialized']);
  });

  it('a routine name used twice is an error (GNU MIG would write C that does not compile)', () => {
    expect(errors(`subsystem s 1; ${PORT}\nroutine f(p: port_t);\nsimpleroutine f(p: port_t);`)).toEqual(['3:1: routine f already declared at line 2']);
  });

  it('every error of the file, syntax and semantic, sorted by position, in one CompileErrors', () => {
    const text = `subsystem s 1; ${PORT}
type bad = nothing_t;
routine r(p: port_t; error: int);
type ok = int;
simpleroutine q(p: port_t; out x: int);
type also = array[-1] of int;`;
    let caught: unknown;
    try {
      compile(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CompileErrors);
    const e = caught as CompileErrors;
    expect(e.errors.map((x) => `${x.pos.line}:${x.pos.column}: ${x.diagnostic}`)).toEqual([
      "2:12: type 'nothing_t' not defined",
      "3:22: syntax error: expected an argument name, found keyword 'error'",
      '5:1: SimpleRoutine q has OUT argument',
      "6:19: syntax error: expected an integer expression, found '-'",
    ]);
    expect(e.message.split('\n')[0]).toBe("c.defs:2:12: error: type 'nothing_t' not defined");
  });

  it('an unterminated string at the very start is reported too', () => {
    expect(errors('"abc')).toEqual(['1:1: missing terminating " character']);
  });

  it('errors stop the routine model early but are all reported', () => {
    expect(errors(`subsystem s 1; ${PORT}\nroutine a(in x: int);\nroutine b(p: int);`)).toEqual([
      "2:1: Routine a doesn't have a server port argument",
      "3:11: argument p isn't a proper request port",
    ]);
  });
});

describe('compileFile (preprocessor first)', () => {
  it('runs cpp: macros, -D definitions and includes, with positions in the original files', () => {
    const m = compileFile(join(GOOD, 'macros.defs'));
    expect(m.files).toEqual([join(GOOD, 'macros.defs'), join(GOOD, 'include/lantern_types.defs'), join(GOOD, 'include/lantern_calls.defs')]);
    expect(m.routines.map((r) => `${r.name}${r.oneway ? '*' : ''}`)).toEqual(['lantern_light', 'lantern_text', 'lantern_light_async*', 'lantern_text_async*']);
    expect(m.warnings.map((w) => `${w.pos.file.slice(GOOD.length)}:${w.pos.line}:${w.pos.column}: ${w.message}`)).toEqual([
      'include/lantern_calls.defs:8:3: level: ServerCopy on argument is meaningless',
      'include/lantern_calls.defs:8:3: level: ServerCopy on argument is meaningless',
    ]);
    expect(m.types.get('lantern_port_t')!.inTrans).toBe('lantern_lookup');
  });

  it('text replaces the file; defines select #if branches', () => {
    const text = `subsystem d 1;
#ifdef WIDE
type n = MACH_MSG_TYPE_INTEGER_64;
#else
type n = MACH_MSG_TYPE_INTEGER_32;
#endif
type port_t = MACH_MSG_TYPE_COPY_SEND;
routine r(p: port_t; x: n);`;
    expect(compileFile('d.defs', { text }).types.get('n')!.size).toBe(32);
    expect(compileFile('d.defs', { text, defines: [['WIDE', '1']] }).types.get('n')!.size).toBe(64);
  });

  it('a #define that rewrites a keyword changes the routine kind', () => {
    const text = `subsystem d 1; type port_t = MACH_MSG_TYPE_COPY_SEND;
#define routine simpleroutine
routine r(p: port_t);`;
    expect(compileFile('d.defs', { text }).routines[0]!.oneway).toBe(true);
  });

  it('preprocessor errors come back as CompileErrors', () => {
    let caught: unknown;
    try {
      compileFile('d.defs', { text: 'subsystem d 1;\n#include "missing.defs"\n' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CompileErrors);
    expect((caught as CompileErrors).errors[0]!.pos).toMatchObject({ file: 'd.defs', line: 2 });
  });
});
