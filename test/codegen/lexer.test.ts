/*
 * File: test/codegen/lexer.test.ts
 * Purpose: unit tests of tsmig's lexer (codegen/lexer.ts): MIG's keywords (case-insensitive,
 *   whole words), case-sensitive MACH_MSG_TYPE_* names, decimal-only numbers with atoi's
 *   32-bit result, punctuation and error tokens, the three one-token modes (string after
 *   msgoption/waittime, file name after import, quoted string after rcsid), positions,
 *   and the errors it throws for unterminated strings.
 */

import { describe, expect, it } from 'vitest';
import { CompileError, type SourcePosition } from '../../codegen/diagnostic.js';
import { describeToken, FLAG_KEYWORDS, KEYWORDS, Lexer, SYMBOLIC_TYPES, type LexMode, type Token } from '../../codegen/lexer.js';

/** offset -> 1-based line and column in `text`, in file `t.defs` */
function locator(text: string): (offset: number) => SourcePosition {
  return (offset) => {
    const before = text.slice(0, offset).split('\n');
    return { file: 't.defs', line: before.length, column: before[before.length - 1]!.length + 1 };
  };
}

function lexer(text: string): Lexer {
  return new Lexer(text, locator(text));
}

/** Every token up to eof (not included), each read in normal mode unless `modes` says otherwise. */
function tokens(text: string, modes: LexMode[] = []): Token[] {
  const lx = lexer(text);
  const out: Token[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = lx.next(modes[i] ?? 'normal');
    if (t.kind === 'eof') return out;
    out.push(t);
  }
  throw new Error('no eof');
}

/** `kind:value` of every token. */
function kinds(text: string, modes: LexMode[] = []): string[] {
  return tokens(text, modes).map((t) => `${t.kind}:${t.value}`);
}

function number(text: string): number {
  const [t] = tokens(text);
  expect(t!.kind).toBe('number');
  return t!.num;
}

/** The CompileError the next read throws, as `LINE:COL: message`. */
function thrown(lx: Lexer, mode: LexMode = 'normal'): string {
  try {
    lx.next(mode);
  } catch (e) {
    if (e instanceof CompileError) return `${e.pos.line}:${e.pos.column}: ${e.diagnostic}`;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('keywords', () => {
  it('are exactly MIG\'s list (lexxer.l), plus the IPC flags and polymorphic', () => {
    expect([...KEYWORDS].sort()).toEqual([
      'array', 'c_string', 'cservertype', 'ctype', 'cusertype', 'destructor', 'error', 'import', 'in', 'inout',
      'intran', 'intranpayload', 'kernelserver', 'kerneluser', 'msgoption', 'msgseqno', 'nowaittime', 'of', 'out',
      'outtran', 'rcsid', 'replyport', 'requestport', 'routine', 'serverdemux', 'serverprefix', 'simpleroutine',
      'simport', 'skip', 'sreplyport', 'struct', 'subsystem', 'type', 'uimport', 'ureplyport', 'userprefix',
      'waittime',
    ]);
    expect([...FLAG_KEYWORDS].sort()).toEqual(['countinout', 'dealloc', 'islong', 'isnotlong', 'notdealloc', 'retcode', 'servercopy']);
    expect(SYMBOLIC_TYPES.size).toBe(23);
  });

  it('are matched in any case and come back in lower case', () => {
    expect(kinds('routine Routine ROUTINE rOuTiNe')).toEqual(['keyword:routine', 'keyword:routine', 'keyword:routine', 'keyword:routine']);
    expect(kinds('SubSystem KernelServer KERNELUSER ServerPrefix MsgOption C_String')).toEqual([
      'keyword:subsystem', 'keyword:kernelserver', 'keyword:kerneluser', 'keyword:serverprefix', 'keyword:msgoption', 'keyword:c_string',
    ]);
  });

  it('every keyword and flag lexes as one in upper case too', () => {
    for (const k of KEYWORDS) expect(tokens(k.toUpperCase())[0]).toMatchObject({ kind: 'keyword', value: k });
    for (const f of FLAG_KEYWORDS) expect(tokens(f.toUpperCase())[0]).toMatchObject({ kind: 'flag', value: f });
  });

  it('IPC flags are their own token kind, in any case', () => {
    expect(kinds('IsLong isnotlong DEALLOC NotDealloc ServerCopy CountInOut RetCode')).toEqual([
      'flag:islong', 'flag:isnotlong', 'flag:dealloc', 'flag:notdealloc', 'flag:servercopy', 'flag:countinout', 'flag:retcode',
    ]);
  });

  it('are whole words: longer words are identifiers', () => {
    expect(kinds('error_t Error errors in_out inout input routines c_strings array2 _type typed')).toEqual([
      'ident:error_t', 'keyword:error', 'ident:errors', 'ident:in_out', 'keyword:inout', 'ident:input', 'ident:routines',
      'ident:c_strings', 'ident:array2', 'ident:_type', 'ident:typed',
    ]);
    expect(kinds('Deallocate dealloc_t retcodes')).toEqual(['ident:Deallocate', 'ident:dealloc_t', 'ident:retcodes']);
  });

  it('identifiers keep their case', () => {
    expect(kinds('Port_t port_t PORT_T _x9')).toEqual(['ident:Port_t', 'ident:port_t', 'ident:PORT_T', 'ident:_x9']);
  });
});

describe('symbolic IPC type names', () => {
  it('are case-sensitive exact names', () => {
    expect(kinds('MACH_MSG_TYPE_INTEGER_32 mach_msg_type_integer_32 MACH_MSG_TYPE_Integer_32 MACH_MSG_TYPE_INTEGER_32X')).toEqual([
      'symtype:MACH_MSG_TYPE_INTEGER_32', 'ident:mach_msg_type_integer_32', 'ident:MACH_MSG_TYPE_Integer_32', 'ident:MACH_MSG_TYPE_INTEGER_32X',
    ]);
  });

  it('all 23 are recognized; MACH_MSG_TYPE_PROTECTED_PAYLOAD is not one', () => {
    for (const s of SYMBOLIC_TYPES) expect(tokens(s)[0]).toMatchObject({ kind: 'symtype', value: s });
    expect(kinds('MACH_MSG_TYPE_PROTECTED_PAYLOAD MACH_MSG_TYPE_STRING_C MACH_MSG_TYPE_PORT_SEND_ONCE')).toEqual([
      'ident:MACH_MSG_TYPE_PROTECTED_PAYLOAD', 'symtype:MACH_MSG_TYPE_STRING_C', 'symtype:MACH_MSG_TYPE_PORT_SEND_ONCE',
    ]);
  });

  it('polymorphic is a keyword (any case) lexed as a symbolic type', () => {
    expect(kinds('polymorphic Polymorphic POLYMORPHIC polymorphic_t')).toEqual([
      'symtype:polymorphic', 'symtype:polymorphic', 'symtype:polymorphic', 'ident:polymorphic_t',
    ]);
  });
});

describe('numbers', () => {
  it('are decimal digits only: 0x10 is 0 then the identifier x10', () => {
    expect(kinds('0x10')).toEqual(['number:0', 'ident:x10']);
    expect(tokens('0x10')[0]!.num).toBe(0);
    expect(kinds('12abc 3_4')).toEqual(['number:12', 'ident:abc', 'number:3', 'ident:_4']);
  });

  it('carry their value in num; leading zeros are decimal, not octal', () => {
    expect(number('0')).toBe(0);
    expect(number('2048')).toBe(2048);
    expect(number('010')).toBe(10);
    expect(number('0777')).toBe(777);
  });

  it('are atoi into a 32-bit unsigned: wrap modulo 2^32, saturate past LONG_MAX', () => {
    expect(number('4294967295')).toBe(4294967295);
    expect(number('4294967296')).toBe(0);
    expect(number('4294967297')).toBe(1); // GNU MIG: `subsystem big 4294967297` has msgh_id 1
    expect(number('9223372036854775806')).toBe(4294967294);
    expect(number('9223372036854775807')).toBe(4294967295);
    expect(number('99999999999999999999')).toBe(4294967295); // GNU MIG: msgh_id -1
  });

  it('have no sign: -1 is punctuation then a number', () => {
    expect(kinds('-1')).toEqual(['punct:-', 'number:1']);
  });
});

describe('punctuation, whitespace and bad characters', () => {
  it('knows the 19 punctuation characters, even when glued together', () => {
    expect(kinds(':;,+-*/()=^~<>[]{}|')).toEqual([...':;,+-*/()=^~<>[]{}|'].map((c) => `punct:${c}`));
  });

  it('any other character is an error token, one character long', () => {
    expect(kinds('@#!.$&%?\'`\\')).toEqual([...'@#!.$&%?\'`\\'].map((c) => `error:${c}`));
    expect(kinds('a.b')).toEqual(['ident:a', 'error:.', 'ident:b']);
  });

  it('skips blanks, tabs, newlines, carriage returns, form and vertical feeds', () => {
    expect(kinds(' \t\r\n\f\va\n\n\tb \r\n')).toEqual(['ident:a', 'ident:b']);
    expect(kinds('')).toEqual([]);
    expect(kinds(' \n\t ')).toEqual([]);
  });

  it('has no comments of its own: // and /* are punctuation', () => {
    expect(kinds('// x /* y */')).toEqual(['punct:/', 'punct:/', 'ident:x', 'punct:/', 'punct:*', 'ident:y', 'punct:*', 'punct:/']);
  });

  it('returns eof again and again at the end', () => {
    const lx = lexer('x');
    expect(lx.next().kind).toBe('ident');
    expect(lx.next()).toMatchObject({ kind: 'eof', value: '' });
    expect(lx.next()).toMatchObject({ kind: 'eof', value: '' });
  });
});

describe('positions', () => {
  it('each token has the line and column of its first character', () => {
    const toks = tokens('subsystem foo 100;\n\n  routine\tr(\n    p : int);');
    expect(toks.map((t) => `${t.value}@${t.pos.line}:${t.pos.column}`)).toEqual([
      'subsystem@1:1', 'foo@1:11', '100@1:15', ';@1:18', 'routine@3:3', 'r@3:11', '(@3:12', 'p@4:5', ':@4:7', 'int@4:9', ')@4:12', ';@4:13',
    ]);
    expect(toks[0]!.pos.file).toBe('t.defs');
  });

  it('eof is positioned after the last character', () => {
    const lx = lexer('a\nbc  ');
    lx.next();
    lx.next();
    expect(lx.next().pos).toEqual({ file: 't.defs', line: 2, column: 5 });
  });
});

describe('string mode (after msgoption and waittime)', () => {
  it('reads one token of [-/._$A-Za-z0-9]', () => {
    expect(kinds('MACH_SEND_TIMEOUT;', ['string'])).toEqual(['string:MACH_SEND_TIMEOUT', 'punct:;']);
    expect(kinds('500', ['string'])).toEqual(['string:500']);
    expect(kinds('a-b/c.d_e$9;', ['string'])).toEqual(['string:a-b/c.d_e$9', 'punct:;']);
    expect(kinds('  \n\tmy_timeout', ['string'])).toEqual(['string:my_timeout']);
  });

  it('keywords are plain strings there', () => {
    expect(kinds('routine', ['string'])).toEqual(['string:routine']);
  });

  it('stops at any other character: A|B is A then normal tokens', () => {
    expect(kinds('A|B', ['string'])).toEqual(['string:A', 'punct:|', 'ident:B']);
    expect(kinds('a+b', ['string'])).toEqual(['string:a', 'punct:+', 'ident:b']);
  });

  it('a character that cannot start one is an error token', () => {
    expect(kinds('(x)', ['string'])).toEqual(['error:(', 'ident:x', 'punct:)']);
    expect(kinds(';', ['string'])).toEqual(['error:;']);
  });

  it('lasts for one token only', () => {
    expect(kinds('MACH_SEND_TIMEOUT MACH_SEND_TIMEOUT 0x1', ['string'])).toEqual([
      'string:MACH_SEND_TIMEOUT', 'ident:MACH_SEND_TIMEOUT', 'number:0', 'ident:x1',
    ]);
  });
});

describe('file name mode (after import, uimport, simport)', () => {
  it('reads "..." or <...> verbatim, delimiters included', () => {
    expect(kinds('"my/file.h";', ['filename'])).toEqual(['filename:"my/file.h"', 'punct:;']);
    expect(kinds('<sys/types.h> ;', ['filename'])).toEqual(['filename:<sys/types.h>', 'punct:;']);
    expect(kinds('"a b\t$c"', ['filename'])).toEqual(['filename:"a b\t$c"']);
    expect(kinds('<"x">', ['filename'])).toEqual(['filename:<"x">']);
  });

  it('anything else is an error token for its first character', () => {
    expect(kinds('file.h', ['filename'])).toEqual(['error:f', 'ident:ile', 'error:.', 'ident:h']);
  });

  it('an unterminated name is an error at its start; lexing resumes at the end of the line', () => {
    const lx = lexer('"file.h\nnext');
    expect(thrown(lx, 'filename')).toBe('1:1: missing terminating " character');
    expect(lx.next()).toMatchObject({ kind: 'ident', value: 'next' });
    expect(thrown(lexer('  <file.h\n>'), 'filename')).toBe('1:3: missing terminating > character');
    expect(thrown(lexer('"no end'), 'filename')).toBe('1:1: missing terminating " character');
  });
});

describe('quoted string mode (after rcsid)', () => {
  it('reads "..." verbatim', () => {
    expect(kinds('"$Id: x.defs,v 1.1 $";', ['qstring'])).toEqual(['qstring:"$Id: x.defs,v 1.1 $"', 'punct:;']);
    expect(kinds('""', ['qstring'])).toEqual(['qstring:""']);
  });

  it('<...> is not a quoted string', () => {
    expect(kinds('<x>', ['qstring'])).toEqual(['error:<', 'ident:x', 'punct:>']);
  });

  it('an unterminated string is an error', () => {
    expect(thrown(lexer('"abc\n"'), 'qstring')).toBe('1:1: missing terminating " character');
  });
});

describe('quotes in normal mode', () => {
  it('a terminated string is an error token for the quote (MIG: syntax error)', () => {
    const lx = lexer('"abc"');
    expect(lx.next()).toMatchObject({ kind: 'error', value: '"' });
    expect(lx.next()).toMatchObject({ kind: 'ident', value: 'abc' });
  });

  it('an unterminated one is named as such, and lexing resumes on the next line', () => {
    const lx = lexer('x "ab\nc');
    expect(lx.next().value).toBe('x');
    expect(thrown(lx)).toBe('1:3: missing terminating " character');
    expect(lx.next()).toMatchObject({ kind: 'ident', value: 'c', pos: { line: 2, column: 1 } });
    const end = lexer('"abc');
    expect(thrown(end)).toBe('1:1: missing terminating " character');
    expect(end.next().kind).toBe('eof');
  });
});

describe('describeToken', () => {
  it('names each kind of token for syntax errors', () => {
    const [kw, flag, sym, id, num, err, punct] = tokens('Routine Dealloc MACH_MSG_TYPE_BIT foo 42 @ ;');
    expect(describeToken(kw!)).toBe("keyword 'routine'");
    expect(describeToken(flag!)).toBe("keyword 'dealloc'");
    expect(describeToken(sym!)).toBe("'MACH_MSG_TYPE_BIT'");
    expect(describeToken(id!)).toBe("identifier 'foo'");
    expect(describeToken(num!)).toBe('number 42');
    expect(describeToken(err!)).toBe("unexpected character '@'");
    expect(describeToken(punct!)).toBe("';'");
    expect(describeToken(lexer('').next())).toBe('end of input');
    expect(describeToken(tokens('"a.h"', ['filename'])[0]!)).toBe('\'"a.h"\'');
  });
});
