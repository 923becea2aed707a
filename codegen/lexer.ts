/*
 * File: codegen/lexer.ts
 * Purpose: MIG's lexical structure, applied to the preprocessor's output.
 *
 * What GNU MIG's lexer accepts (spec/mig.md §3): keywords are case-insensitive whole
 * words (`error_t` is an identifier, `Error` a keyword); the MACH_MSG_TYPE_* symbols are
 * case-sensitive; numbers are decimal digits only (`0x10` is `0` then the identifier
 * `x10`); the punctuation is `: ; , + - * / ( ) = ^ ~ < > [ ] { } |`; anything else is
 * an error token. Three one-token modes are entered by the parser just before the token
 * that needs them: a bare string after `msgoption`/`waittime`, a file name after the
 * import statements, a quoted string after `rcsid`.
 */

import { CompileError, type SourcePosition } from './diagnostic.js';

export type TokenKind =
  | 'keyword'     // value: the keyword in lower case
  | 'flag'        // an IPC flag keyword; value: lower case (islong, dealloc, retcode, ...)
  | 'symtype'     // a MACH_MSG_TYPE_* symbol or `polymorphic`; value: as written
  | 'ident'
  | 'number'
  | 'punct'       // value: the character
  | 'string'      // msgoption/waittime operand
  | 'filename'    // import operand, with its quotes or angle brackets
  | 'qstring'     // rcsid operand, with its quotes
  | 'error'       // a character MIG does not know
  | 'eof';

export interface Token {
  kind: TokenKind;
  value: string;
  /** numeric value of a 'number' token (unsigned 32-bit, as atoi into u_int) */
  num: number;
  pos: SourcePosition;
}

/** The modes MIG's parser switches the lexer into for exactly one token. */
export type LexMode = 'normal' | 'string' | 'filename' | 'qstring';

export const KEYWORDS: ReadonlySet<string> = new Set([
  'routine', 'simpleroutine', 'subsystem', 'msgoption', 'msgseqno', 'waittime', 'nowaittime',
  'in', 'out', 'inout', 'requestport', 'replyport', 'ureplyport', 'sreplyport', 'array', 'of',
  'error', 'serverprefix', 'userprefix', 'serverdemux', 'rcsid', 'import', 'uimport', 'simport',
  'type', 'kernelserver', 'kerneluser', 'skip', 'struct', 'intran', 'intranpayload', 'outtran',
  'destructor', 'ctype', 'cusertype', 'cservertype', 'c_string',
]);

export const FLAG_KEYWORDS: ReadonlySet<string> = new Set([
  'islong', 'isnotlong', 'dealloc', 'notdealloc', 'servercopy', 'countinout', 'retcode',
]);

/** Case-sensitive symbolic IPC type names (plus the keyword `polymorphic`, any case). */
export const SYMBOLIC_TYPES: ReadonlySet<string> = new Set([
  'MACH_MSG_TYPE_UNSTRUCTURED', 'MACH_MSG_TYPE_BIT', 'MACH_MSG_TYPE_BOOLEAN',
  'MACH_MSG_TYPE_INTEGER_16', 'MACH_MSG_TYPE_INTEGER_32', 'MACH_MSG_TYPE_INTEGER_64',
  'MACH_MSG_TYPE_CHAR', 'MACH_MSG_TYPE_BYTE', 'MACH_MSG_TYPE_INTEGER_8', 'MACH_MSG_TYPE_REAL',
  'MACH_MSG_TYPE_STRING', 'MACH_MSG_TYPE_STRING_C', 'MACH_MSG_TYPE_MOVE_RECEIVE',
  'MACH_MSG_TYPE_COPY_SEND', 'MACH_MSG_TYPE_MAKE_SEND', 'MACH_MSG_TYPE_MOVE_SEND',
  'MACH_MSG_TYPE_MAKE_SEND_ONCE', 'MACH_MSG_TYPE_MOVE_SEND_ONCE', 'MACH_MSG_TYPE_PORT_NAME',
  'MACH_MSG_TYPE_PORT_RECEIVE', 'MACH_MSG_TYPE_PORT_SEND', 'MACH_MSG_TYPE_PORT_SEND_ONCE',
  'MACH_MSG_TYPE_POLYMORPHIC',
]);

const PUNCT = ':;,+-*/()=^~<>[]{}|';

const enum Ch {
  Tab = 9, Newline = 10, VTab = 11, FormFeed = 12, Return = 13, Space = 32, Quote = 34,
  Zero = 48, Nine = 57, Less = 60, Greater = 62, UpperA = 65, UpperZ = 90, Underscore = 95,
  LowerA = 97, LowerZ = 122,
}

function isIdentStart(c: number): boolean {
  return (c >= Ch.UpperA && c <= Ch.UpperZ) || (c >= Ch.LowerA && c <= Ch.LowerZ) || c === Ch.Underscore;
}
function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
/** `[-/._$A-Za-z0-9]`: the characters of a msgoption/waittime operand */
function isStringChar(c: number): boolean {
  return isIdentPart(c) || c === 45 /* - */ || c === 47 /* / */ || c === 46 /* . */ || c === 36 /* $ */;
}

/**
 * A pull lexer over preprocessed text. `next(mode)` returns the next token read in `mode`;
 * the parser asks for a special mode only for the one token that needs it, as MIG's
 * grammar does with its empty LookString/LookFileName/LookQString rules.
 */
export class Lexer {
  private readonly text: string;
  private readonly locate: (offset: number) => SourcePosition;
  private offset = 0;

  constructor(text: string, locate: (offset: number) => SourcePosition) {
    this.text = text;
    this.locate = locate;
  }

  next(mode: LexMode = 'normal'): Token {
    const text = this.text;
    let i = this.offset;
    // Blanks, tabs and newlines separate tokens (carriage returns and form feeds too).
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Space || c === Ch.Tab || c === Ch.Newline || c === Ch.Return || c === Ch.FormFeed || c === Ch.VTab) i++;
      else break;
    }
    const start = i;
    if (i >= text.length) {
      this.offset = i;
      return this.make('eof', '', start);
    }
    const c = text.charCodeAt(i);

    if (mode === 'string' && isStringChar(c)) {
      while (i < text.length && isStringChar(text.charCodeAt(i))) i++;
      return this.take('string', start, i);
    }
    if (mode === 'filename' || mode === 'qstring') {
      const close = c === Ch.Quote ? Ch.Quote : mode === 'filename' && c === Ch.Less ? Ch.Greater : -1;
      if (close !== -1) {
        let j = i + 1;
        while (j < text.length && text.charCodeAt(j) !== close && text.charCodeAt(j) !== Ch.Newline) j++;
        if (j >= text.length || text.charCodeAt(j) !== close) {
          this.offset = j; // resume after the bad line, whoever catches this
          throw new CompileError(this.locate(start), c === Ch.Quote ? 'missing terminating " character' : 'missing terminating > character');
        }
        return this.take(mode, start, j + 1);
      }
    }
    if (mode !== 'normal') {
      // No token of the expected shape: MIG's catch-all rule yields an error token.
      this.offset = i + 1;
      return this.make('error', text[i]!, start);
    }

    if (isIdentStart(c)) {
      while (i < text.length && isIdentPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      this.offset = i;
      const lower = word.toLowerCase();
      if (lower === 'polymorphic') return this.make('symtype', 'polymorphic', start);
      if (KEYWORDS.has(lower)) return this.make('keyword', lower, start);
      if (FLAG_KEYWORDS.has(lower)) return this.make('flag', lower, start);
      if (SYMBOLIC_TYPES.has(word)) return this.make('symtype', word, start);
      return this.make('ident', word, start);
    }
    if (isDigit(c)) {
      while (i < text.length && isDigit(text.charCodeAt(i))) i++;
      const tok = this.take('number', start, i);
      tok.num = atoiU32(tok.value);
      return tok;
    }
    if (c === Ch.Quote) {
      // A string outside the modes that take one: an unterminated one is worth naming.
      const end = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      if (end === -1 || (nl !== -1 && nl < end)) {
        this.offset = nl === -1 ? text.length : nl; // resume after the bad line, whoever catches this
        throw new CompileError(this.locate(start), 'missing terminating " character');
      }
    }
    this.offset = i + 1;
    if (PUNCT.includes(text[i]!)) return this.make('punct', text[i]!, start);
    return this.make('error', text[i]!, start);
  }

  private take(kind: TokenKind, start: number, end: number): Token {
    this.offset = end;
    return this.make(kind, this.text.slice(start, end), start);
  }

  private make(kind: TokenKind, value: string, offset: number): Token {
    return { kind, value, num: 0, pos: this.locate(offset) };
  }
}

/**
 * atoi() stored into a u_int, as MIG's lexer does: glibc's atoi is (int) strtol, which
 * saturates at LONG_MAX (2^63 - 1) and is then truncated to 32 bits. So 4294967297 is 1,
 * and anything from 9223372036854775807 up is 0xffffffff (GNU MIG prints msgh_id -1).
 */
function atoiU32(digits: string): number {
  const LONG_MAX = (1n << 63n) - 1n;
  const v = BigInt(digits);
  return Number((v > LONG_MAX ? LONG_MAX : v) & 0xffffffffn);
}

/** A human description of a token for "expected X, found Y" messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'keyword': case 'flag': return `keyword '${t.value}'`;
    case 'symtype': return `'${t.value}'`;
    case 'ident': return `identifier '${t.value}'`;
    case 'number': return `number ${t.value}`;
    case 'error': return `unexpected character '${t.value}'`;
    default: return `'${t.value}'`;
  }
}
