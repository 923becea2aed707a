/*
 * File: test/codegen/cpp.test.ts
 * Purpose: unit tests of tsmig's C preprocessor (codegen/cpp.ts): every directive,
 *   macro rule and error with its exact position, the output -> source position map,
 *   -D/-U, and the real .defs corpus (GNU Mach's and the Hurd's, read in place)
 *   compared token for token with `gcc -E -x c -undef -ansi -P`.
 */

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDefineArg, preprocess, type CppOptions, type CppOutput } from '../../codegen/cpp.js';
import { CompileError } from '../../codegen/diagnostic.js';

type Files = Record<string, string>;

/** Preprocesses `main.defs` from an in-memory file system (a string is main.defs alone). */
function run(files: Files | string, options: CppOptions = {}): CppOutput {
  const fs: Files = typeof files === 'string' ? { 'main.defs': files } : files;
  return preprocess('main.defs', { ...options, readFile: (path) => fs[path] });
}

/** The output with whitespace runs collapsed to one space. */
function flat(files: Files | string, options: CppOptions = {}): string {
  return run(files, options).text.replace(/\s+/g, ' ').trim();
}

/** `FILE:LINE:COL: message` of the CompileError that preprocessing throws. */
function failure(files: Files | string, options: CppOptions = {}): string {
  try {
    run(files, options);
  } catch (e) {
    if (e instanceof CompileError) return `${e.pos.file}:${e.pos.line}:${e.pos.column}: ${e.diagnostic}`;
    throw e;
  }
  throw new Error('preprocessing succeeded');
}

/** FILE:LINE:COL that `locate` gives for the `nth` occurrence of `needle` in the output. */
function where(out: CppOutput, needle: string, nth = 0): string {
  let index = -1;
  for (let k = 0; k <= nth; k++) {
    index = out.text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" #${k} not in output:\n${out.text}`);
  }
  const p = out.locate(index);
  return `${p.file}:${p.line}:${p.column}`;
}

describe('parseDefineArg', () => {
  it('splits NAME=VALUE, defaults the value to 1 and keeps later = signs', () => {
    expect(parseDefineArg('X=Y')).toEqual(['X', 'Y']);
    expect(parseDefineArg('X')).toEqual(['X', '1']);
    expect(parseDefineArg('X=')).toEqual(['X', '']);
    expect(parseDefineArg('F(a)=a+1')).toEqual(['F(a)', 'a+1']);
    expect(parseDefineArg('X=a=b')).toEqual(['X', 'a=b']);
  });
});

describe('text, comments and lines', () => {
  it('copies plain text unchanged, one output line per source line', () => {
    const src = 'subsystem foo 100;\n\n  routine r(\n    p : int);\n';
    expect(run(src).text).toBe(src);
  });

  it('maps every copied character to its own line and column', () => {
    const src = 'type x = int;\n\tskip;  skip ;\n\n   routine\tr(p: int);\n';
    const out = run(src);
    const lines = src.split('\n');
    let checked = 0;
    for (let i = 0; i < out.text.length; i++) {
      if (/\s/.test(out.text[i])) continue;
      const p = out.locate(i);
      expect(p.file).toBe('main.defs');
      expect(lines[p.line - 1][p.column - 1]).toBe(out.text[i]);
      checked++;
    }
    expect(checked).toBe(src.replace(/\s/g, '').length);
    expect(where(out, 'routine')).toBe('main.defs:4:4');
    expect(where(out, 'skip', 1)).toBe('main.defs:2:9');
  });

  it('replaces a block comment by a space and keeps the line structure after it', () => {
    const out = run('a/**/b /* one\n two\n three */ c\nd\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('a b c d');
    expect(where(out, 'b')).toBe('main.defs:1:6');
    expect(where(out, 'c')).toBe('main.defs:3:11');
    expect(where(out, 'd')).toBe('main.defs:4:1');
    expect(out.text.split('\n')[3]).toBe('d');
  });

  it('does not treat // as a comment (C90): both slashes reach the output', () => {
    const out = run('a // b\n');
    expect(out.text).toBe('a // b\n');
    expect(where(out, '//')).toBe('main.defs:1:3');
  });

  it('does not expand inside string and character literals', () => {
    expect(flat('#define X 1\n"X" \'X\' X L"X" X\n')).toBe('"X" \'X\' 1 L"X" 1');
  });

  it('passes an unterminated quote through without error (the MIG lexer reports it)', () => {
    const out = run('#define X 1\nrcsid "abc X\nX \'q\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('rcsid "abc X 1 \'q');
    expect(where(out, '"abc')).toBe('main.defs:2:7');
  });

  it('splices backslash-newline, also inside a token, with positions still right', () => {
    const out = run('#define LONG a \\\n  b\nLONG c\nro\\\nutine x\nnext\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('a b c routine x next');
    expect(where(out, 'c')).toBe('main.defs:3:6');
    expect(where(out, 'routine')).toBe('main.defs:4:1');
    expect(where(out, 'x')).toBe('main.defs:5:7');
    expect(where(out, 'next')).toBe('main.defs:6:1');
    expect(out.text.split('\n')[5]).toBe('next');
  });

  it('accepts CRLF line ends', () => {
    const out = run('a\r\n#define X \\\r\n 1\r\nX b\r\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('a 1 b');
    expect(where(out, 'b')).toBe('main.defs:4:3');
  });

  it('turns directive lines into empty lines', () => {
    const out = run('#define X 1\n#ifdef X\nyes\n#endif\nno\n');
    expect(out.text.split('\n')).toEqual(['', '', 'yes', '', 'no', '']);
  });

  it('accepts the null directive and whitespace or comments around #', () => {
    expect(flat('#\n  #  /* c */ define X 1\n# /* only a comment */\n\t# undef X\nX\n')).toBe('X');
  });

  it('predefines no macro (gcc -undef), __FILE__ and __LINE__ included', () => {
    expect(flat('__STDC__ __GNUC__ __x86_64__ __LP64__ linux unix __FILE__ __LINE__\n')).toBe(
      '__STDC__ __GNUC__ __x86_64__ __LP64__ linux unix __FILE__ __LINE__',
    );
  });

  it('returns an empty text for an empty file', () => {
    const out = run('/* nothing */\n');
    expect(out.text).toBe('');
    expect(out.locate(0)).toEqual({ file: 'main.defs', line: 1, column: 1 });
  });
});

describe('object-like macros', () => {
  it('rewrites keywords and whole clauses (the corpus idioms)', () => {
    const src = [
      '#define routine simpleroutine',
      '#define out /* empty */',
      '#define SCP , servercopy',
      '#define IN_T intran: foo_t foo_in(bar_t)',
      '#define RPT sreplyport reply: reply_port_t;',
      'routine f(p: port_t; RPT out data: int SCP);',
      'type t = int IN_T;',
    ].join('\n');
    expect(flat(src)).toBe(
      'simpleroutine f(p: port_t; sreplyport reply: reply_port_t; data: int , servercopy); ' +
        'type t = int intran: foo_t foo_in(bar_t);',
    );
  });

  it('maps every character of an expansion to the macro name, and later tokens to themselves', () => {
    const out = run('#define routine simpleroutine\n#define SCP , servercopy\n  routine f(x: int SCP);\n');
    const start = out.text.indexOf('simpleroutine');
    for (let i = start; i < start + 'simpleroutine'.length; i++) {
      expect(out.locate(i)).toEqual({ file: 'main.defs', line: 3, column: 3 });
    }
    expect(where(out, 'f(')).toBe('main.defs:3:11');
    expect(where(out, 'servercopy')).toBe('main.defs:3:20');
    expect(where(out, ',')).toBe('main.defs:3:20');
    expect(where(out, ');')).toBe('main.defs:3:23');
  });

  it('maps tokens of nested expansions to the outermost invocation', () => {
    const out = run('#define A B + one\n#define B two\nx  A y\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('x two + one y');
    expect(where(out, 'two')).toBe('main.defs:3:4');
    expect(where(out, 'one')).toBe('main.defs:3:4');
    expect(where(out, 'y')).toBe('main.defs:3:6');
  });

  it('does not expand a macro inside its own expansion (blue paint)', () => {
    expect(flat('#define foo foo + 1\nfoo\n')).toBe('foo + 1');
    expect(flat('#define a b\n#define b a\na b\n')).toBe('a b');
    expect(flat('#define z z[0]\n#define y (z)\ny\n')).toBe('(z[0])');
  });

  it('keeps an identical redefinition and lets a different one replace the old', () => {
    expect(flat('#define X  a  +  b\n#define X a + b /* same */\nX\n')).toBe('a + b');
    expect(flat('#define X 1\n#define X 2\nX\n')).toBe('2');
    expect(flat('#define X 1\n#define X(a) [a]\nX(3)\n')).toBe('[3]');
  });

  it('#undef removes a definition; undefining an unknown name is fine', () => {
    expect(flat('#define X 1\nX\n#undef X\nX\n#undef NEVER\n')).toBe('1 X');
  });

  it('spaces the output like cpp: no paste across a macro boundary', () => {
    expect(flat('#define E\n(E) a E;\n')).toBe('() a ;');
    expect(flat('#define P S_\nserverprefix P;\n')).toBe('serverprefix S_;');
    expect(flat('#define M -\n-M M- M-1 <M>\n')).toBe('- - - - - -1 <- >');
    expect(flat('#define E\n-E- +E+ .E. 1 E.5\n')).toBe('- - + + . . 1 .5');
    expect(flat('#define f(x) x\n#define E\nf(a)b f(1)f(2) a E b E(x) f(a)"s" f(-)- f(<)= f(x)1\n')).toBe(
      'a b 1 2 a b (x) a "s" - - < = x 1',
    );
  });
});

describe('function-like macros', () => {
  it('substitutes arguments, with commas inside parentheses kept', () => {
    expect(flat('#define F(a, b) <a|b>\nF((1, 2), x) F( p , (q) )\n')).toBe('<(1, 2)|x> <p|(q)>');
  });

  it('leaves a function-like macro name alone when no ( follows', () => {
    expect(flat('#define F(x) [x]\nF + F (1) F\n(2)\n')).toBe('F + [1] [2]');
  });

  it('reads arguments across lines; the tokens after them keep their positions', () => {
    const out = run('#define F(x, y) x y\nF(a,\n  b) after\nnext\n');
    expect(out.text.replace(/\s+/g, ' ').trim()).toBe('a b after next');
    expect(where(out, 'a')).toBe('main.defs:2:1');
    expect(where(out, 'b')).toBe('main.defs:2:1');
    expect(where(out, 'after')).toBe('main.defs:3:6');
    expect(where(out, 'next')).toBe('main.defs:4:1');
    expect(out.text.split('\n')[3]).toBe('next');
  });

  it('handles empty parameter lists and empty arguments', () => {
    expect(flat('#define P() int\n#define F(x) [x]\nP() P F() F( )\n')).toBe('int P [] []');
  });

  it('expands arguments first, except next to # and ##', () => {
    expect(flat('#define X 1\n#define F(a) a\n#define S(a) #a\n#define C(a) a##_t\nF(X) S(X) C(X)\n')).toBe('1 "X" X_t');
  });

  it('rescans the result together with the rest of the text', () => {
    expect(flat('#define f(x) x f\nf(1)(2)(3)\n')).toBe('1 f(2)(3)');
    expect(flat('#define g(x) [x]\n#define id(x) x\nid(g)(1) id(id)(2) id(id(g))(3)\n')).toBe('[1] id(2) [3]');
    expect(flat('#define f2(a) a*g2\n#define g2(a) f2(a)\nf2(2)(9)\n')).toBe('2*9*g2');
  });

  it('follows the C standard rescanning example (own variant of C99 6.10.3.5 #3)', () => {
    const src = [
      '#define v 3',
      '#define f(a) f(v * (a))',
      '#undef v',
      '#define v 2',
      '#define g f',
      '#define z z[0]',
      '#define h g(~',
      '#define m(a) a(w)',
      '#define w 0,1',
      '#define t(a) a',
      '#define p() int',
      '#define q(x) x',
      '#define r(x,y) x ## y',
      '#define str(x) # x',
      'f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);',
      'g(v+(3,4)-w) | h 5) & m',
      '(f)^m(m);',
      'p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };',
      'char c[2][6] = { str(hello), str() };',
    ].join('\n');
    expect(flat(src)).toBe(
      'f(2 * (y+1)) + f(2 * (f(2 * (z[0])))) % f(2 * (0)) + t(1); ' +
        'f(2 * (2 +(3,4)-0,1)) | f(2 * (~ 5)) & f(2 * (0,1))^m(0,1); ' +
        'int i[] = { 1, 23, 4, 5, }; ' +
        'char c[2][6] = { "hello", "" };',
    );
  });

  it('stringizes with # (escapes, one space per whitespace run, newlines too)', () => {
    const src = String.raw`#define S(x) #x
S( a   "b\n"   'c' ) S() S(a
b) S( ( p , q ) ) S(L"w") S(\)
`;
    expect(flat(src)).toBe(String.raw`"a \"b\\n\" 'c'" "" "a b" "( p , q )" "L\"w\"" ""`);
  });

  it('stringizes the spelling after an indirection (standard example idioms)', () => {
    const src = [
      '#define str(s) # s',
      '#define xstr(s) str(s)',
      '#define INCFILE(n) vers ## n',
      '#define glue(a, b) a ## b',
      '#define xglue(a, b) glue(a, b)',
      '#define HIGHLOW "hello"',
      '#define LOW LOW ", world"',
      'xstr(INCFILE(2).h) glue(HIGH, LOW); xglue(HIGH, LOW)',
    ].join('\n');
    expect(flat(src)).toBe('"vers2.h" "hello"; "hello" ", world"');
  });

  it('pastes with ##, empty operands included, and rescans the result', () => {
    expect(flat('#define C(a, b) a ## b\nC(x, y) C(, y) C(x, ) C(,) C(1, 2) C(-, -) C(L, "s")\n')).toBe('xy y x 12 -- L"s"');
    expect(flat('#define C(a, b) a##b\n#define xy done\nC(x, y)\n')).toBe('done');
    expect(flat('#define T(x,y,z) x ## y ## z\nT(1,2,3) T(,4,5) T(6,,7) T(8,9,) T(,,12) T(,,)\n')).toBe('123 45 67 89 12');
    expect(flat('#define hh # ## #\n#define mk(a) # a\n#define ib(a) mk(a)\n#define j(c, d) ib(c hh d)\nj(x, y)\n')).toBe('"x ## y"');
  });

  it('supports variadic macros with __VA_ARGS__, also omitted', () => {
    expect(flat('#define V(a, ...) a: __VA_ARGS__;\nV(1) V(1, 2, 3) V()\n')).toBe('1: ; 1: 2, 3; : ;');
    expect(flat('#define SHOW(...) #__VA_ARGS__\nSHOW(a, b,c) SHOW()\n')).toBe('"a, b,c" ""');
  });

  it('runs directives met inside an argument list', () => {
    expect(flat('#define f(x) [x]\nf(1\n#define Y 2\n) Y\n')).toBe('[1] 2');
  });

  it('treats an object-like macro whose body starts with ( as object-like', () => {
    expect(flat('#define O (1-1)\n#define F(a) ( a )\nO F(q)\n')).toBe('(1-1) ( q )');
  });
});

describe('conditionals', () => {
  const pick = (cond: string, options?: CppOptions) => flat(`#if ${cond}\nyes\n#else\nno\n#endif\n`, options);

  it('chooses the right #if/#elif/#else branch, also nested', () => {
    const src = [
      '#define TWO 2',
      '#if TWO == 1',
      'one',
      '#elif TWO == 2',
      '# if 0',
      'inner0',
      '# elif 1',
      'inner1',
      '# endif',
      '#elif TWO == 2',
      'again',
      '#else',
      'other',
      '#endif',
    ].join('\n');
    expect(flat(src)).toBe('inner1');
  });

  it('ignores unknown directives, bad expressions and stray quotes in skipped groups', () => {
    const src = "#if 0\n#pragma x\n#foo bar\ndon't \"x\n#if garbage (((\n#elif 1/0\n#else\n#endif\n#include <none>\n#error no\n#endif\nok\n";
    expect(flat(src)).toBe('ok');
  });

  it('lexes quotes in skipped lines, so /* inside them opens no comment', () => {
    expect(flat('#if 0\n"/*"\ndon\'t /* here\n#endif\nok\n')).toBe('ok');
  });

  it('does not evaluate #elif once a branch was taken', () => {
    expect(flat('#if 1\na\n#elif 1/0\nb\n#elif (\nc\n#endif\n')).toBe('a');
  });

  it('tests macros with #ifdef, #ifndef, defined X and defined(X)', () => {
    const src = '#define D\n#ifdef D\na\n#endif\n#ifndef D\nb\n#endif\n#ifndef U\nc\n#endif\n#if defined D && defined(D) && !defined U && !defined(U)\nd\n#endif\n';
    expect(flat(src)).toBe('a c d');
  });

  it('expands macros in #if and evaluates leftover identifiers as 0', () => {
    expect(pick('PAYLOAD', { defines: [['PAYLOAD', '1']] })).toBe('yes');
    expect(pick('PAYLOAD')).toBe('no');
    expect(pick('routine == 0 && !simpleroutine')).toBe('yes');
    expect(flat('#define F(x) (x + 1)\n#if F(2) == 3\nyes\n#endif\n')).toBe('yes');
  });

  it.each([
    ['1 + 2 * 3 == 7', 'yes'],
    ['(1 + 2) * 3 == 9', 'yes'],
    ['10 / 3 == 3 && 10 % 3 == 1 && -7 / 2 == -3 && -7 % 2 == -1', 'yes'],
    ['-1 < 0', 'yes'],
    ['-1 > 0u', 'yes'],
    ['0u - 1 == 0xffffffffffffffff', 'yes'],
    ['~0u == 18446744073709551615u', 'yes'],
    ['0x7fffffffffffffff + 1 < 0', 'yes'],
    ['(1 << 63) < 0 && 1 << 64 == 0 && -8 >> 1 == -4 && -1 >> 70 == -1 && 1 >> -1 == 2', 'yes'],
    ['3 > 2 > 1', 'no'],
    ['(5 & 3) == 1 && (5 | 3) == 7 && (5 ^ 3) == 6 && ~0 == -1 && !0 == 1 && !7 == 0 && +3 == 3', 'yes'],
    ['2 <= 2 && 2 >= 2 && 1 != 2 && !(1 == 2)', 'yes'],
    ['1 ? 2 : 3', 'yes'],
    ['0 ? 1 : 0', 'no'],
    ['(1 ? -1 : 0u) > 0', 'yes'],
    ['0 && 1 / 0', 'no'],
    ['1 || 1 / 0', 'yes'],
    ['1 ? 1 : 1 / 0', 'yes'],
    ['(0, 1)', 'yes'],
    ['010 == 8 && 0x1F == 31 && 0XfF == 255 && 0 == 0', 'yes'],
    ['1L == 1 && 1UL == 1 && 1lu == 1 && 1ll == 1 && 1ULL == 1 && 1u == 1', 'yes'],
    ['18446744073709551615 == -1', 'yes'],
    ["'a' == 97 && '\\n' == 10 && '\\377' < 0 && '\\x41' == 65 && 'ab' == 24930 && '\\'' == 39", 'yes'],
  ])('#if %s -> %s', (cond, expected) => {
    expect(pick(cond)).toBe(expected);
  });
});

describe('#include', () => {
  const tree: Files = {
    'main.defs': '#include "sub/a.defs"\nmain_after\n#include <b.defs>\n#include "b.defs"\n',
    'sub/a.defs': 'in_a\n#include "b.defs"\n#include "c.defs"\n',
    'sub/b.defs': 'sub_b\n',
    'inc/b.defs': 'inc_b\n',
    'inc2/b.defs': 'inc2_b\n',
    'inc/c.defs': '\n\n  inc_c\n',
    'b.defs': 'top_b\n',
  };
  const dirs = { includeDirs: ['inc', 'inc2'] };

  it('searches "x" in the including file\'s directory first, then -I in order; <x> only in -I', () => {
    expect(flat(tree, dirs)).toBe('in_a sub_b inc_c main_after inc_b top_b');
  });

  it('lists every file read, once, in order of first reading', () => {
    expect(run(tree, dirs).files).toEqual(['main.defs', 'sub/a.defs', 'sub/b.defs', 'inc/c.defs', 'inc/b.defs', 'b.defs']);
  });

  it('reads each file once per call', () => {
    const reads: string[] = [];
    preprocess('main.defs', {
      readFile: (path) => {
        reads.push(path);
        return { 'main.defs': '#include "g.defs"\n#include "g.defs"\n', 'g.defs': '#ifndef G\n#define G\ng\n#endif\n' }[path];
      },
    });
    expect(reads).toEqual(['main.defs', 'g.defs']);
  });

  it('maps positions into included files and back', () => {
    const out = run(tree, dirs);
    expect(where(out, 'in_a')).toBe('sub/a.defs:1:1');
    expect(where(out, 'sub_b')).toBe('sub/b.defs:1:1');
    expect(where(out, 'inc_c')).toBe('inc/c.defs:3:3');
    expect(where(out, 'main_after')).toBe('main.defs:2:1');
    expect(where(out, 'top_b')).toBe('b.defs:1:1');
  });

  it('includes a guarded file only once', () => {
    const files = {
      'main.defs': '#include "g.defs"\n#include "g.defs"\nend\n',
      'g.defs': '#ifndef _G_\n#define _G_\nguarded\n#endif\n',
    };
    expect(flat(files)).toBe('guarded end');
  });

  it('accepts a macro-expanded operand of either form', () => {
    const files = {
      'main.defs': '#define Q "q.defs"\n#define A <a.defs>\n#define STR(x) #x\n#define X(x) STR(x.defs)\n#include Q\n#include A\n#include X(q)\n',
      'q.defs': 'q\n',
      'inc/a.defs': 'a\n',
    };
    expect(flat(files, { includeDirs: ['inc'] })).toBe('q a q');
  });

  it('includes C headers and absolute paths', () => {
    const files = { 'main.defs': '#include </abs/x.h>\n#include <bits/utsname.h>\n_UTSNAME_LENGTH\n', '/abs/x.h': 'abs\n', 'i/bits/utsname.h': '#define _UTSNAME_LENGTH 1024\n' };
    expect(flat(files, { includeDirs: ['i'] })).toBe('abs 1024');
  });

  it('reports a missing file at the operand', () => {
    expect(failure('x\n#include "nope.defs"\n')).toBe('main.defs:2:10: nope.defs: No such file or directory');
    expect(failure('  #  include   <nope.defs>\n')).toBe('main.defs:1:16: nope.defs: No such file or directory');
    expect(failure({ 'main.defs': '#include "a.defs"\n', 'a.defs': '\n #include <b.defs>\n' })).toBe(
      'a.defs:2:11: b.defs: No such file or directory',
    );
    expect(failure('#include "b.defs"\n', { includeDirs: ['inc'] })).toBe('main.defs:1:10: b.defs: No such file or directory');
  });

  it('allows 200 nested files, as gcc does, and no more', () => {
    const chain = (last: number) => (path: string) => {
      const n = path === 'main.defs' ? 0 : Number(/\d+/.exec(path)?.[0]);
      return n < last ? `#include "f${n + 1}.defs"\n` : 'leaf\n';
    };
    expect(preprocess('main.defs', { readFile: chain(199) }).text.trim()).toBe('leaf');
    expect(() => preprocess('main.defs', { readFile: chain(200) })).toThrow('f199.defs:1:2: error: #include nested too deeply');
  });

  it('stops runaway recursion', () => {
    expect(failure('#include "main.defs"\n')).toBe('main.defs:1:2: #include nested too deeply');
    let reads = 0;
    expect(() =>
      preprocess('r.defs', {
        readFile: () => {
          reads++;
          return '#if 1\n#include "r.defs"\n#endif\n';
        },
      }),
    ).toThrow('r.defs:2:2: error: #include nested too deeply');
    expect(reads).toBe(1); // one read, served from the cache afterwards
  });

  it('rejects malformed operands', () => {
    expect(failure('#include\n')).toBe('main.defs:1:2: #include expects "FILENAME" or <FILENAME>');
    expect(failure('#include foo\n')).toBe('main.defs:1:10: #include expects "FILENAME" or <FILENAME>');
    expect(failure('#include <foo\n')).toBe('main.defs:1:10: missing terminating > character');
    expect(failure('#include ""\n')).toBe('main.defs:1:10: empty filename in #include');
  });
});

describe('#error, #line and other directives', () => {
  it('#error stops with its text', () => {
    expect(failure('ok\n #error bad   thing /* c */ here\n')).toBe('main.defs:2:3: #error bad thing here');
  });

  it('#pragma and unknown directives are illegal in active code (as for MIG)', () => {
    expect(failure('#pragma once\n')).toBe('main.defs:1:2: illegal # directive');
    expect(failure('x\n  # ident "v1"\n')).toBe('main.defs:2:5: illegal # directive');
    expect(failure('#include_next <a>\n')).toBe('main.defs:1:2: illegal # directive');
    expect(failure('#"str"\n')).toBe('main.defs:1:2: illegal # directive');
  });

  it('accepts #warning (gcc only prints it)', () => {
    expect(flat('#warning careful\nx\n')).toBe('x');
  });

  it('#line and # N "file" renumber the following lines', () => {
    const out = run('a\n#line 100 "other.defs"\nb\n#define L 7\n#line L\nc\n# 50 "m.defs" 2\nd\n');
    expect(where(out, 'a')).toBe('main.defs:1:1');
    expect(where(out, 'b')).toBe('other.defs:100:1');
    expect(where(out, 'c')).toBe('other.defs:7:1');
    expect(where(out, 'd')).toBe('m.defs:50:1');
    expect(failure('#line x\n')).toBe('main.defs:1:7: "x" after #line is not a positive integer');
  });
});

describe('errors, each at its exact position', () => {
  it.each<[string, string]>([
    ['#if 1\nx\n', 'main.defs:1:2: unterminated #if'],
    ['#ifdef X\n#else\n', 'main.defs:2:2: unterminated #else'],
    ['  #  ifndef X\n', 'main.defs:1:6: unterminated #ifndef'],
    ['#else\n', 'main.defs:1:2: #else without #if'],
    ['#elif 1\n', 'main.defs:1:2: #elif without #if'],
    ['x\n#endif\n', 'main.defs:2:2: #endif without #if'],
    ['#if 1\n#else\n#else\n#endif\n', 'main.defs:3:2: #else after #else'],
    ['#if 0\n#else\n#elif 1\n#endif\n', 'main.defs:3:2: #elif after #else'],
    ['#if 0\n#if 1\n#else\n#else\n#endif\n#endif\n', 'main.defs:4:2: #else after #else'],
    ['a\n  b /* open\n\n', 'main.defs:2:5: unterminated comment'],
    ['#if 0\n/* in skipped text\n#endif\n', 'main.defs:2:1: unterminated comment'],
    ['#define F(x) x\nF(1,\n', 'main.defs:2:1: unterminated argument list invoking macro "F"'],
    ['#define F(a, b) a\n  F(1)\n', 'main.defs:2:3: macro "F" requires 2 arguments, but only 1 given'],
    ['#define F(a) a\nF(1, 2)\n', 'main.defs:2:1: macro "F" passed 2 arguments, but takes just 1'],
    ['#define F() 1\nF(2)\n', 'main.defs:2:1: macro "F" passed 1 arguments, but takes just 0'],
    ['#define F(a, b, ...) a\nF(1)\n', 'main.defs:2:1: macro "F" requires 3 arguments, but only 1 given'],
    ['#define\n', 'main.defs:1:2: no macro name given in #define directive'],
    ['#ifdef\n#endif\n', 'main.defs:1:2: no macro name given in #ifdef directive'],
    ['#ifndef /* none */\n#endif\n', 'main.defs:1:2: no macro name given in #ifndef directive'],
    ['#undef\n', 'main.defs:1:2: no macro name given in #undef directive'],
    ['#define 3 x\n', 'main.defs:1:9: macro names must be identifiers'],
    ['#ifdef "x"\n#endif\n', 'main.defs:1:8: macro names must be identifiers'],
    ['#define defined 1\n', 'main.defs:1:9: "defined" cannot be used as a macro name'],
    ['#define F(x,x) x\n', 'main.defs:1:13: duplicate macro parameter "x"'],
    ['#define F(x #x\n', 'main.defs:1:13: expected \',\' or \')\', found "#"'],
    ['#define F(1) x\n', 'main.defs:1:11: expected parameter name, found "1"'],
    ['#define F(x\n', 'main.defs:1:11: missing \')\' in macro parameter list'],
    ['#define F(x) #y\n', "main.defs:1:14: '#' is not followed by a macro parameter"],
    ['#define F(x) ## x\n', "main.defs:1:14: '##' cannot appear at either end of a macro expansion"],
    ['#define G x ##\n', "main.defs:1:13: '##' cannot appear at either end of a macro expansion"],
    ['#define C(a, b) a##b\n  C(/, /)\n', 'main.defs:2:3: pasting "/" and "/" does not give a valid preprocessing token'],
    ['#if 1 / 0\n#endif\n', 'main.defs:1:7: division by zero in #if'],
    ['#if 0 || 5 % (3 - 3)\n#endif\n', 'main.defs:1:12: division by zero in #if'],
    ['#if (1\n#endif\n', "main.defs:1:5: missing ')' in expression"],
    ['#if ((1) + 2\n#endif\n', "main.defs:1:5: missing ')' in expression"],
    ['#if 1)\n#endif\n', "main.defs:1:6: missing '(' in expression"],
    ['#if\n#endif\n', 'main.defs:1:2: #if with no expression'],
    ['#define E\n#if E\n#endif\n', 'main.defs:2:2: #if with no expression'],
    ['#if 0\n#elif\n#endif\n', 'main.defs:2:2: #elif with no expression'],
    ['#if 1 2\n#endif\n', 'main.defs:1:7: missing binary operator before token "2"'],
    ['#if 1 +\n#endif\n', "main.defs:1:7: operator '+' has no right operand"],
    ['#if 1 + )\n#endif\n', "main.defs:1:7: operator '+' has no right operand"],
    ['#if * 2\n#endif\n', "main.defs:1:5: operator '*' has no left operand"],
    ['#if ()\n#endif\n', "main.defs:1:6: missing expression between '(' and ')'"],
    ['#if 1 ? 2\n#endif\n', "main.defs:1:7: '?' without following ':'"],
    ['#if 1 : 2\n#endif\n', "main.defs:1:7: ':' without preceding '?'"],
    ['#if "s"\n#endif\n', 'main.defs:1:5: token ""s"" is not valid in preprocessor expressions'],
    ['#if 1 = 1\n#endif\n', 'main.defs:1:7: token "=" is not valid in preprocessor expressions'],
    ['#if 08\n#endif\n', 'main.defs:1:5: invalid digit "8" in octal constant'],
    ['#if 1.0\n#endif\n', 'main.defs:1:5: floating constant in preprocessor expression'],
    ['#if 1e3\n#endif\n', 'main.defs:1:5: floating constant in preprocessor expression'],
    ['#if 12abc\n#endif\n', 'main.defs:1:5: invalid suffix "abc" on integer constant'],
    ['#if 1lul\n#endif\n', 'main.defs:1:5: invalid suffix "lul" on integer constant'],
    ["#if ''\n#endif\n", 'main.defs:1:5: empty character constant'],
    ['#if defined\n#endif\n', 'main.defs:1:5: operator "defined" requires an identifier'],
    ['#if defined(X\n#endif\n', 'main.defs:1:13: missing \')\' after "defined"'],
    ['#define OOPS (1 +\n#if OOPS\n#endif\n', "main.defs:2:5: operator '+' has no right operand"],
  ])('%j -> %s', (src, expected) => {
    expect(failure(src)).toBe(expected);
  });

  it('keeps conditionals balanced per file', () => {
    expect(failure({ 'main.defs': '#if 1\n#include "a.defs"\n#endif\n', 'a.defs': 'x\n#endif\n' })).toBe(
      'a.defs:2:2: #endif without #if',
    );
    expect(failure({ 'main.defs': '#include "a.defs"\n#endif\n', 'a.defs': '#if 1\n' })).toBe('a.defs:1:2: unterminated #if');
  });

  it('reports a missing main file', () => {
    expect(() => preprocess('none.defs', { readFile: () => undefined })).toThrow('none.defs: No such file or directory');
  });

  it('throws CompileError objects carrying the position', () => {
    try {
      run('\n\n   #if (\n#endif\n');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      expect((e as CompileError).pos).toEqual({ file: 'main.defs', line: 3, column: 8 });
      expect((e as CompileError).message).toBe("main.defs:3:8: error: missing ')' in expression");
    }
  });
});

describe('-D and -U', () => {
  it('defines macros before the file is read, in order; -DX means 1', () => {
    const src = '#ifdef KERNEL_SERVER\nks\n#endif\nSERVERPREFIX X ONE F(2)\n';
    const out = flat(src, {
      defines: [parseDefineArg('KERNEL_SERVER'), parseDefineArg('SERVERPREFIX=S_'), ['X', 'first'], ['X', 'second'], parseDefineArg('ONE'), parseDefineArg('F(a)=[a]')],
    });
    expect(out).toBe('ks S_ second 1 [2]');
  });

  it('applies -U after every -D', () => {
    expect(flat('#ifdef X\nx\n#endif\nY\n', { undefs: ['X'], defines: [['X', '1'], ['Y', '2']] })).toBe('2');
  });

  it('maps an expansion of a -D macro to its use in the file', () => {
    const out = run('serverprefix  SERVERPREFIX;\n', { defines: [['SERVERPREFIX', 'S_']] });
    expect(where(out, 'S_')).toBe('main.defs:1:15');
    expect(where(out, ';')).toBe('main.defs:1:27');
  });

  it('reports a bad -D on the command line', () => {
    expect(failure('x\n', { defines: [['3x', '1']] })).toBe('<command-line>:1:1: macro names must be identifiers');
  });
});

describe('locate', () => {
  it('maps offsets at or after the end just after the last character', () => {
    const out = run('ab\ncd');
    expect(out.text).toBe('ab\ncd\n');
    expect(out.locate(4)).toEqual({ file: 'main.defs', line: 2, column: 2 });
    expect(out.locate(out.text.length)).toEqual({ file: 'main.defs', line: 2, column: 4 });
    expect(out.locate(out.text.length + 10)).toEqual({ file: 'main.defs', line: 2, column: 4 });
  });

  it('keeps output line N on source line N through directives, comments and macro calls', () => {
    const src = '/* licence\n   text */\n#define F(a, b) a b\nalpha\n#if 0\nskipped\n#endif\nbeta /* x\n */ gamma\nF(1,\n2) epsilon\ndelta\n';
    const out = run(src);
    const lines = out.text.split('\n');
    expect(lines.indexOf('alpha')).toBe(3);
    expect(lines[7].trim()).toBe('beta gamma');
    expect(lines[9].replace(/\s+/g, ' ')).toBe('1 2 epsilon');
    expect(lines.indexOf('delta')).toBe(11);
    expect(where(out, 'gamma')).toBe('main.defs:9:5');
    expect(where(out, 'epsilon')).toBe('main.defs:11:4');
    expect(where(out, 'delta')).toBe('main.defs:12:1');
  });

  it('starts a new output line where an included file starts and where it ends', () => {
    const out = run({ 'main.defs': 'a\n#include "t.defs"\nb\n', 't.defs': '\n\nt\n' });
    expect(out.text.split('\n').filter((l) => l.trim() !== '')).toEqual(['a', 't', 'b']);
    expect(where(out, 't')).toBe('t.defs:3:1');
    expect(where(out, 'b')).toBe('main.defs:3:1');
  });

  it('maps whitespace after a token to the following columns of its line', () => {
    const out = run('ab   cd\n');
    expect(out.locate(3)).toEqual({ file: 'main.defs', line: 1, column: 4 });
  });
});

/* ------------------------------------------------------------------------------------ */
/* The real corpus, compared with gcc                                                   */
/* ------------------------------------------------------------------------------------ */

const SYSTEM = '/usr/include/x86_64-linux-gnu';
const HURD = '/work/shared/hurd-defs';
/**
 * gcc also searches its built-in system directories after the -I ones; the only file
 * that needs one is hurd/ioctls.defs (it includes the host C header <bits/ioctls.h>,
 * which includes <asm-generic/ioctls.h> from /usr/include). Our cpp has no built-in
 * directory, so the tests give it that one explicitly, last.
 */
const GCC_SYSTEM_DIR = '/usr/include';
const TARGET: Array<[string, string]> = [
  ['__x86_64__', '1'],
  ['__LP64__', '1'],
];
const VARIANTS = ['', 'KERNEL_SERVER=1', 'KERNEL_USER=1', 'SEQNOS=1', 'REPLY_PORTS=1', 'SERVERCOPY=1', 'SERVERPREFIX=S_'];
const IN_CI = Boolean(process.env.CI);

const haveCorpus = existsSync(`${SYSTEM}/mach/std_types.defs`) && existsSync(`${HURD}/hurd/hurd_types.defs`);
const haveGcc = spawnSync('gcc', ['--version']).status === 0;
/** Runs when the tools exist; in CI a missing tool fails the test instead of skipping it. */
const corpusTest = haveCorpus || IN_CI ? it : it.skip;
const gccTest = (haveCorpus && haveGcc) || IN_CI ? it : it.skip;

/** Every *.defs below `dir` (symbolic links such as mach/machine are not followed). */
function defsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...defsUnder(path));
    else if (entry.isFile() && entry.name.endsWith('.defs')) found.push(path);
  }
  return found.sort();
}

interface CorpusFile {
  path: string;
  includeDirs: string[];
}

function corpusFiles(): CorpusFile[] {
  if (!haveCorpus) return [];
  const mach = ['mach', 'device', 'mach_debug'].flatMap((d) => defsUnder(`${SYSTEM}/${d}`));
  return [
    ...mach.map((path) => ({ path, includeDirs: [SYSTEM] })),
    ...defsUnder(HURD).map((path) => ({ path, includeDirs: [HURD, SYSTEM] })),
  ];
}

/** What a lexer sees: no line markers, no blank lines, whitespace runs as one space. */
function normalize(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*#\s*\d+/.test(line) && line.trim() !== '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function defineFlags(variant: string): Array<[string, string]> {
  return variant === '' ? TARGET : [...TARGET, parseDefineArg(variant)];
}

function ours(file: CorpusFile, defines: Array<[string, string]>): string {
  return preprocess(file.path, { defines, includeDirs: [...file.includeDirs, GCC_SYSTEM_DIR] }).text;
}

const execFileAsync = promisify(execFile);

async function gcc(path: string, defines: Array<[string, string]>, includeDirs: string[]): Promise<string> {
  const args = ['-E', '-x', 'c', '-undef', '-ansi', '-P', ...defines.map(([n, v]) => `-D${n}=${v}`), ...includeDirs.map((d) => `-I${d}`), path];
  return (await execFileAsync('gcc', args, { maxBuffer: 64 << 20 })).stdout;
}

/** Maps `f` over `items` with at most `width` calls in flight. */
async function pool<T, R>(items: T[], width: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

describe('real corpus (GNU Mach and Hurd .defs)', () => {
  const files = corpusFiles();

  corpusTest('has the files to test', () => {
    expect(haveCorpus, 'corpus missing (required in CI)').toBe(true);
    expect(files.filter((f) => f.path.startsWith(SYSTEM)).length).toBeGreaterThanOrEqual(20);
    expect(files.filter((f) => f.path.startsWith(HURD)).length).toBeGreaterThanOrEqual(45);
  });

  corpusTest('preprocesses every file, in every variant, without error', () => {
    expect(haveCorpus).toBe(true);
    for (const variant of VARIANTS) {
      let subsystems = 0;
      for (const file of files) {
        const text = ours(file, defineFlags(variant));
        if (/^\s*subsystem\b/m.test(text)) subsystems++;
      }
      // Every interface file declares its subsystem; type-only files (and hurd/ioctls.defs,
      // all #define) do not.
      expect(subsystems, variant).toBeGreaterThanOrEqual(60);
    }
  });

  corpusTest('rewrites the Hurd macro idioms (ourmsg, utsname, SCP, RPT)', () => {
    const ourmsg = preprocess(`${HURD}/proc/ourmsg.defs`, { defines: TARGET, includeDirs: [HURD, SYSTEM] });
    const text = normalize(ourmsg.text);
    expect(text).toContain('subsystem msg 23000;');
    expect(text).toContain('userprefix nowait_;');
    expect(text).not.toMatch(/(^|[^e])routine /); // every routine became a simpleroutine
    expect(text).toMatch(/simpleroutine msg_sig_post\b/);
    expect(ourmsg.files).toContain(`${HURD}/hurd/msg.defs`);
    expect(ourmsg.files).toContain(`${HURD}/bits/utsname.h`);
    // The expanded keyword maps back to the `routine` it replaced in msg.defs.
    const at = ourmsg.locate(ourmsg.text.indexOf('simpleroutine msg_sig_post'));
    expect(at.file).toBe(`${HURD}/hurd/msg.defs`);
    expect(readFileSync(at.file, 'utf8').split('\n')[at.line - 1].slice(at.column - 1)).toMatch(/^routine msg_sig_post\b/);

    const types = normalize(preprocess(`${HURD}/hurd/hurd_types.defs`, { defines: TARGET, includeDirs: [HURD, SYSTEM] }).text);
    expect(types).toContain('type utsname_t = struct[5 * 1024] of char;'); // the Hurd's length, not Linux's 65
    const fs = (variant: string) =>
      normalize(preprocess(`${HURD}/hurd/fs.defs`, { defines: defineFlags(variant), includeDirs: [HURD, SYSTEM] }).text);
    expect(fs('SERVERCOPY=1')).toContain(', servercopy');
    expect(fs('')).not.toContain('servercopy');
    expect(fs('REPLY_PORTS=1')).toContain('sreplyport reply: sreply_port_t;');
    expect(fs('')).not.toContain('sreplyport');
  });

  corpusTest('maps every copied identifier back to the same text in its source file', () => {
    const sources = new Map<string, string[]>();
    for (const file of files) {
      const out = preprocess(file.path, { defines: TARGET, includeDirs: [...file.includeDirs, GCC_SYSTEM_DIR] });
      for (const m of out.text.matchAll(/[A-Za-z_]\w*/g)) {
        const p = out.locate(m.index);
        let lines = sources.get(p.file);
        if (lines === undefined) sources.set(p.file, (lines = readFileSync(p.file, 'utf8').split('\n')));
        const there = lines[p.line - 1].slice(p.column - 1);
        // Either the identifier itself, or the macro name it was expanded from.
        expect(there.startsWith(m[0]) || /^[A-Za-z_]/.test(there), `${m[0]} at ${p.file}:${p.line}:${p.column}`).toBe(true);
      }
    }
  }, 60_000);

  corpusTest('is fast: the whole corpus in well under a second per pass', () => {
    const pass = () => {
      const start = performance.now();
      for (const file of files) ours(file, TARGET);
      return performance.now() - start;
    };
    pass();
    expect(Math.min(pass(), pass())).toBeLessThan(1500);
  }, 60_000);

  const scratch = mkdtempSync(join(tmpdir(), 'tsmig-cpp-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  for (const variant of VARIANTS) {
    gccTest(`equals gcc -E -undef -ansi token for token${variant === '' ? '' : ` with -D${variant}`}`, async () => {
      expect(haveGcc, 'gcc missing (required in CI)').toBe(true);
      expect(haveCorpus, 'corpus missing (required in CI)').toBe(true);
      const defines = defineFlags(variant);
      const expected = await pool(files, 8, (file) => gcc(file.path, defines, file.includeDirs));
      let tokens = 0;
      files.forEach((file, i) => {
        const reference = normalize(expected[i]);
        expect(normalize(ours(file, defines)), file.path).toBe(reference);
        tokens += reference.split(' ').length;
      });
      expect(tokens).toBeGreaterThan(50_000);
    }, 120_000);
  }

  gccTest('agrees with gcc on tricky macro cases', async () => {
    expect(haveGcc, 'gcc missing (required in CI)').toBe(true);
    const cases = [
      '#define f(x) x f\nf(1)(2)(3)\n#define g(x) [x]\n#define id(x) x\nid(g)(1) id(id)(2) id(id(g))(3)\n',
      '#define E\n#define P(x) <x>\nP(E) P( E a E ) (E) a E; E a\n#define M -\n-M M- M-1 <M> .E. 1 E.5 a E"s" L E\'c\'\n',
      '#define C(a,b) a##b\nC(L, "x") C(1, e) C(., 5) C(+, +)+ C(,) C(a,) C(,b)\n',
      '#define S(x) #x\nS( a   "b\\n"   \'c\' \\ ) S(  lead) S(trail  ) S(a\nb) S( ( a , b ) ) S(@) S(L"w")\n',
      '#define SP(x) [ x ]\n#define XS(x) S(x)\n#define S(x) #x\nSP( a   b ) SP(\na\nb\n) XS(SP(q)) XS( a  SP( b ) c)\n',
      '#define f(a) a*g\n#define g(a) f(a)\nf(2)(9)\n#define AA BB\n#define BB AA\nAA BB\n',
      '#define F(x, y) x + y\n#define ELLIP(...) __VA_ARGS__\n#define LP (\n#define RP )\nELLIP(F, LP, 1, 2, RP);\n',
      '#define f(x) [x]\nf(1\n#define Y 2\n) Y f(\n#undef Y\nY) after\nnext\n',
    ];
    for (const [i, src] of cases.entries()) {
      const path = join(scratch, `case${i}.c`);
      writeFileSync(path, src);
      const reference = normalize(await gcc(path, [], []));
      expect(normalize(preprocess(path).text), src).toBe(reference);
    }
  }, 60_000);
});
