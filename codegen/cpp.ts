/*
 * File: codegen/cpp.ts
 * Purpose: the C preprocessor of tsmig. GNU MIG pipes every .defs file through
 *   `gcc -E -x c -undef -ansi`; this module does the same work in-process: C90 rules
 *   (`//` is not a comment, no predefined macro), #include search, conditional
 *   compilation and macro expansion as the C standard describes them. Unlike cpp it
 *   keeps a map from every character of its output back to the original
 *   FILE:LINE:COL, so that the lexer and parser can report exact positions.
 *
 * Structure (top-down): `preprocess` builds a `Preprocessor`, which reads source lines
 * through one `Lexer` per open file, runs directives, and feeds the remaining tokens to
 * an `Expander` (macro expansion with the "disabled macro" rule and padding markers for
 * spacing). An `OutputBuilder` prints the tokens, one output line per source line where
 * possible, and records anchors (output offset -> source position) for `locate`.
 */

import { readFileSync } from 'node:fs';
import { CompileError, type SourcePosition } from './diagnostic.js';

/** Preprocessor options: the `-I`, `-D` and `-U` flags of the command line. */
export interface CppOptions {
  /** -I DIR, in order. */
  includeDirs?: string[];
  /** -D NAME[=VALUE] in command-line order; -DNAME means value "1". */
  defines?: Array<[name: string, value: string]>;
  /** -U NAME, applied after all -D (as gcc does). */
  undefs?: string[];
  /** Reads a file; undefined means it is missing. Defaults to reading from disk. */
  readFile?: (path: string) => string | undefined;
}

/** The preprocessed text with its map back to the sources. */
export interface CppOutput {
  /** The preprocessed text. */
  text: string;
  /** Original file/line/column (1-based) of the character at `offset` in `text`. */
  locate(offset: number): SourcePosition;
  /** Every file read, in order of first reading (for dependency listings). */
  files: string[];
}

/**
 * Preprocesses `file` as `gcc -E -x c -undef -ansi` would (plus the -I/-D/-U options).
 * Throws CompileError at the exact source position of the first problem.
 */
export function preprocess(file: string, options: CppOptions = {}): CppOutput {
  return new Preprocessor(options).run(file);
}

/** Splits a -D argument: "X=Y" -> ["X","Y"], "X" -> ["X","1"], "X=" -> ["X",""]. */
export function parseDefineArg(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  return eq < 0 ? [arg, '1'] : [arg.slice(0, eq), arg.slice(eq + 1)];
}

/* ------------------------------------------------------------------------------------ */
/* Tokens                                                                               */
/* ------------------------------------------------------------------------------------ */

enum Kind {
  Ident,
  Number,
  String,
  Char,
  Punct,
  /** A stray character, or an unterminated quote with the rest of its line. */
  Other,
  /** `<name>` after #include. */
  Header,
  /** Marks a macro boundary; carries spacing information only (never printed). */
  Pad,
  /** The empty operand of `##`. */
  Placemarker,
  /** End of an included file. */
  FileEnd,
  /** End of the input (main file, or of a token list being expanded). */
  InputEnd,
}

/** A preprocessing token. Tokens are immutable; expansion makes copies. */
class Token {
  constructor(
    readonly kind: Kind,
    readonly text: string,
    /** Whitespace, a comment or a line start precedes the token. */
    readonly space: boolean,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** First token of a source line (for an expansion: the invocation's name was). */
    readonly bol = false,
    /** Produced by a macro expansion: file/line/col are the outermost invocation's. */
    readonly expanded = false,
    /** "Painted blue": named a disabled macro once, so it is never expanded. */
    readonly noExpand = false,
    /** Pad only: the token whose spacing this boundary stands for (null: none). */
    readonly source: Token | null = null,
  ) {}
}

const PAD_END = new Token(Kind.Pad, '', false, '', 0, 0, false, true);
const MAX_INCLUDE_DEPTH = 200;
/** Longest run of blank lines printed to stay in step with the source. */
const MAX_BLANK_LINES = 100;

function positionOf(t: Token): SourcePosition {
  return { file: t.file, line: t.line, column: t.col };
}

function errorAt(t: Token, message: string): CompileError {
  return new CompileError(positionOf(t), message);
}

function isPunct(t: Token, text: string): boolean {
  return t.kind === Kind.Punct && t.text === text;
}

/** A copy of `t` placed at the invocation `at` (expansion results map to the invocation). */
function restamp(t: Token, space: boolean, at: Token): Token {
  return new Token(t.kind, t.text, space, at.file, at.line, at.col, at.bol, true, t.noExpand);
}

/* ------------------------------------------------------------------------------------ */
/* Characters                                                                           */
/* ------------------------------------------------------------------------------------ */

const LF = 10;
const CR = 13;
const TAB = 9;
const VT = 11;
const FF = 12;
const SPACE = 32;
const DQUOTE = 34;
const HASH = 35;
const SQUOTE = 39;
const LPAREN = 40;
const STAR = 42;
const DOT = 46;
const SLASH = 47;
const LT = 60;
const GT = 62;
const BACKSLASH = 92;
const UPPER_L = 76;

const ID_START = 1;
const ID_CHAR = 2;
const DIGIT = 4;
const charClass = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_$]/.test(ch)) charClass[c] = ID_START | ID_CHAR;
  else if (/[0-9]/.test(ch)) charClass[c] = ID_CHAR | DIGIT;
}

function hasClass(c: number, cls: number): boolean {
  return c < 128 && (charClass[c] & cls) !== 0;
}

/** End of the C90 punctuator starting at `p`, or -1 if the character is not one. */
function punctuatorEnd(s: string, p: number): number {
  const c = s.charCodeAt(p);
  const n = s.charCodeAt(p + 1);
  switch (c) {
    case 0x5b: case 0x5d: case 0x28: case 0x29: case 0x7b: case 0x7d: // [ ] ( ) { }
    case 0x7e: case 0x3f: case 0x3a: case 0x3b: case 0x2c: // ~ ? : ; ,
      return p + 1;
    case 0x2d: // -  (-> -- -=)
      return n === 0x3e || n === 0x2d || n === 0x3d ? p + 2 : p + 1;
    case 0x2b: case 0x26: case 0x7c: // + & |  (doubled, or followed by =)
      return n === c || n === 0x3d ? p + 2 : p + 1;
    case 0x2a: case 0x2f: case 0x25: case 0x5e: case 0x21: case 0x3d: // * / % ^ ! =
      return n === 0x3d ? p + 2 : p + 1;
    case LT: case GT:
      if (n === c) return s.charCodeAt(p + 2) === 0x3d ? p + 3 : p + 2;
      return n === 0x3d ? p + 2 : p + 1;
    case HASH:
      return n === HASH ? p + 2 : p + 1;
    case DOT:
      return n === DOT && s.charCodeAt(p + 2) === DOT ? p + 3 : p + 1;
    default:
      return -1;
  }
}

/** Removes backslash-newlines; returns the text and the offsets where a line was joined. */
function spliceLines(text: string): { src: string; splices: number[] } {
  const splices: number[] = [];
  let out = '';
  let from = 0;
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 1)) {
    let j = i + 1;
    if (text.charCodeAt(j) === CR) j++;
    if (text.charCodeAt(j) !== LF) continue;
    out += text.slice(from, i);
    from = j + 1;
    splices.push(out.length);
    i = j;
  }
  return splices.length === 0 ? { src: text, splices } : { src: out + text.slice(from), splices };
}

/* ------------------------------------------------------------------------------------ */
/* Lexer: one per open file; works line by line on the spliced text                     */
/* ------------------------------------------------------------------------------------ */

class Lexer {
  /** Name used in positions; `#line` may change it. */
  file: string;
  /** At the start of a logical line (where a directive may begin). */
  atLineStart = true;
  private readonly src: string;
  private readonly splices: number[];
  private nextSplice = 0;
  private pos = 0;
  private physLine = 1;
  private lineStart = 0;
  private lineDelta = 0;
  private firstOnLine = true;
  private unterminated = false;

  /** `path` is where the file was found (the base for `#include "..."`). */
  constructor(readonly path: string, text: string) {
    this.file = path;
    const { src, splices } = spliceLines(text);
    this.src = src;
    this.splices = splices;
  }

  atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  peekChar(offset = 0): number {
    return this.src.charCodeAt(this.pos + offset);
  }

  skipChar(): void {
    this.pos++;
  }

  /** A token of kind `kind` at the current position (for end markers). */
  marker(kind: Kind): Token {
    this.sync(this.pos);
    return new Token(kind, '', true, this.file, this.physLine + this.lineDelta, this.pos - this.lineStart + 1);
  }

  error(offset: number, message: string): CompileError {
    this.sync(offset);
    return new CompileError(
      { file: this.file, line: this.physLine + this.lineDelta, column: offset - this.lineStart + 1 },
      message,
    );
  }

  /** Makes the line after the current one (the one after a #line directive) number `line`. */
  renumber(line: number, file: string | undefined): void {
    this.sync(this.pos);
    this.lineDelta = line - this.physLine;
    if (file !== undefined) this.file = file;
  }

  /** Skips blanks and comments on the current logical line; true if any were skipped. */
  skipBlank(): boolean {
    const s = this.src;
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === SPACE || c === TAB || c === CR || c === FF || c === VT) p++;
      else if (c === SLASH && s.charCodeAt(p + 1) === STAR) p = this.skipComment(p);
      else break;
    }
    this.pos = p;
    return p !== start;
  }

  /** The next token of the current logical line, or null at its end. */
  lexToken(): Token | null {
    const bol = this.firstOnLine;
    const space = this.skipBlank() || bol;
    const s = this.src;
    const p = this.pos;
    const c = s.charCodeAt(p);
    if (c === LF || Number.isNaN(c)) return null;
    this.firstOnLine = false;
    this.sync(p);
    const line = this.physLine + this.lineDelta;
    const col = p - this.lineStart + 1;
    let kind: Kind;
    let end: number;
    if (hasClass(c, ID_START)) {
      end = p + 1;
      while (hasClass(s.charCodeAt(end), ID_CHAR)) end++;
      kind = Kind.Ident;
      const q = s.charCodeAt(end);
      if (c === UPPER_L && end === p + 1 && (q === DQUOTE || q === SQUOTE)) {
        end = this.scanQuoted(end, q);
        kind = this.unterminated ? Kind.Other : q === DQUOTE ? Kind.String : Kind.Char;
      }
    } else if (hasClass(c, DIGIT) || (c === DOT && hasClass(s.charCodeAt(p + 1), DIGIT))) {
      end = this.scanNumber(p);
      kind = Kind.Number;
    } else if (c === DQUOTE || c === SQUOTE) {
      end = this.scanQuoted(p, c);
      kind = this.unterminated ? Kind.Other : c === DQUOTE ? Kind.String : Kind.Char;
    } else {
      end = punctuatorEnd(s, p);
      kind = Kind.Punct;
      if (end < 0) {
        end = p + 1;
        kind = Kind.Other;
      }
    }
    this.pos = end;
    return new Token(kind, s.slice(p, end), space, this.file, line, col, bol);
  }

  /** Reads `<name>` after #include, or returns null if the operand does not start with `<`. */
  readHeaderName(): Token | null {
    this.skipBlank();
    const s = this.src;
    const p = this.pos;
    if (s.charCodeAt(p) !== LT) return null;
    let end = p + 1;
    for (; s.charCodeAt(end) !== GT; end++) {
      const c = s.charCodeAt(end);
      if (c === LF || Number.isNaN(c)) throw this.error(p, 'missing terminating > character');
    }
    this.sync(p);
    this.pos = end + 1;
    this.firstOnLine = false;
    const line = this.physLine + this.lineDelta;
    return new Token(Kind.Header, s.slice(p, end + 1), true, this.file, line, p - this.lineStart + 1);
  }

  /** Skips the rest of the logical line (comments and quotes included) and its newline. */
  finishLine(): void {
    const s = this.src;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === LF) {
        this.newline(p);
        p++;
        break;
      }
      if (Number.isNaN(c)) break;
      if (c === SLASH && s.charCodeAt(p + 1) === STAR) p = this.skipComment(p);
      else if (c === DQUOTE || c === SQUOTE) p = this.scanQuoted(p, c);
      else p++;
    }
    this.pos = p;
    this.atLineStart = true;
    this.firstOnLine = true;
  }

  /** Applies the line joins before offset `p` to the line count. */
  private sync(p: number): void {
    const splices = this.splices;
    while (this.nextSplice < splices.length && splices[this.nextSplice] <= p) {
      this.physLine++;
      this.lineStart = splices[this.nextSplice++];
    }
  }

  private newline(p: number): void {
    this.sync(p);
    this.physLine++;
    this.lineStart = p + 1;
  }

  private skipComment(p: number): number {
    const s = this.src;
    const end = s.indexOf('*/', p + 2);
    if (end < 0) throw this.error(p, 'unterminated comment');
    for (let nl = s.indexOf('\n', p + 2); nl >= 0 && nl < end; nl = s.indexOf('\n', nl + 1)) this.newline(nl);
    return end + 2;
  }

  /** End of the quoted literal at `p`; at an unterminated one, the end of the line. */
  private scanQuoted(p: number, quote: number): number {
    const s = this.src;
    for (let i = p + 1; ; i++) {
      const c = s.charCodeAt(i);
      if (c === quote) {
        this.unterminated = false;
        return i + 1;
      }
      if (c === BACKSLASH && s.charCodeAt(i + 1) !== LF && i + 1 < s.length) i++;
      else if (c === LF || Number.isNaN(c)) {
        this.unterminated = true;
        return i;
      }
    }
  }

  /** A C90 pp-number: digits, letters, `_`, `.` and `e+`, `e-`, `E+`, `E-`. */
  private scanNumber(p: number): number {
    const s = this.src;
    let i = p + 1;
    for (;;) {
      const c = s.charCodeAt(i);
      if (hasClass(c, ID_CHAR) || c === DOT) i++;
      else if ((c === 0x2b || c === 0x2d) && (s.charCodeAt(i - 1) | 0x20) === 0x65) i++;
      else return i;
    }
  }
}

/** The kind of `text` if it is exactly one preprocessing token (for `##`), else null. */
function singleTokenKind(text: string): Kind | null {
  if (text.startsWith('/*')) return null;
  const lexer = new Lexer('', text);
  const t = lexer.lexToken();
  if (t === null || t.text.length !== text.length || lexer.skipBlank()) return null;
  return t.kind === Kind.Other && text.length > 1 ? null : t.kind;
}

/* ------------------------------------------------------------------------------------ */
/* Macros and their expansion                                                           */
/* ------------------------------------------------------------------------------------ */

/** One token of a macro body. */
interface BodyItem {
  tok: Token;
  /** Index of the parameter this token names, or -1. */
  param: number;
  /** `#param`: the argument's spelling as a string literal. */
  stringize: boolean;
  /** Followed by `##`: pasted with the next item. */
  pasteAfter: boolean;
}

interface Macro {
  name: string;
  /** Parameter names (the variadic one is `__VA_ARGS__`); null for an object-like macro. */
  params: string[] | null;
  variadic: boolean;
  body: BodyItem[];
  hasPaste: boolean;
  /** Being expanded: its name is not replaced again (C99 6.10.3.4p2). */
  disabled: boolean;
}

function sameDefinition(a: Macro, b: Macro): boolean {
  if (a.variadic !== b.variadic || a.body.length !== b.body.length) return false;
  if ((a.params === null) !== (b.params === null)) return false;
  if (a.params !== null && b.params !== null && a.params.join(',') !== b.params.join(',')) return false;
  return a.body.every((x, i) => {
    const y = b.body[i];
    return (
      x.tok.text === y.tok.text &&
      (i === 0 || x.tok.space === y.tok.space) &&
      x.param === y.param &&
      x.stringize === y.stringize &&
      x.pasteAfter === y.pasteAfter
    );
  });
}

function padding(source: Token): Token {
  return new Token(Kind.Pad, '', false, source.file, source.line, source.col, false, true, false, source);
}

function paint(t: Token): Token {
  return new Token(t.kind, t.text, t.space, t.file, t.line, t.col, t.bol, t.expanded, true);
}

/** Drops boundary markers at both ends of a macro argument. */
function trimPads(tokens: Token[]): Token[] {
  let start = 0;
  let end = tokens.length;
  while (start < end && tokens[start].kind === Kind.Pad) start++;
  while (end > start && tokens[end - 1].kind === Kind.Pad) end--;
  return start === 0 && end === tokens.length ? tokens : tokens.slice(start, end);
}

/** `#arg`: the spelling of the argument as a string literal (C99 6.10.3.2). */
function stringize(arg: Token[]): string {
  let text = '"';
  let source: Token | null = null;
  let first = true;
  for (const t of arg) {
    if (t.kind === Kind.Pad) {
      if (source === null || (!source.space && t.source === null)) source = t.source;
      continue;
    }
    if (!first && (source ?? t).space) text += ' ';
    source = null;
    first = false;
    const quoted = t.kind === Kind.String || t.kind === Kind.Char || (t.kind === Kind.Other && /^L?["']/.test(t.text));
    text += quoted ? t.text.replace(/[\\"]/g, '\\$&') : t.text;
  }
  // A final lone backslash would escape the closing quote: drop it (as gcc does).
  let backslashes = 0;
  while (text.charCodeAt(text.length - 1 - backslashes) === BACKSLASH) backslashes++;
  return (backslashes % 2 === 1 ? text.slice(0, -1) : text) + '"';
}

interface Context {
  tokens: Token[];
  index: number;
  macro: Macro;
}

/**
 * Macro expansion over a token source (`base`): the source text, or a token list.
 * `next()` returns fully expanded tokens and Pad markers at macro boundaries.
 */
class Expander {
  private readonly contexts: Context[] = [];
  private readonly pending: Token[] = [];

  constructor(
    private readonly macros: Map<string, Macro>,
    private readonly base: () => Token,
    /** In #if: `defined X` and `defined(X)` become 1 or 0. */
    private readonly ifMode = false,
  ) {}

  next(): Token {
    for (;;) {
      const t = this.readRaw();
      if (t.kind !== Kind.Ident || t.noExpand) return t;
      if (this.ifMode && t.text === 'defined') return this.readDefined(t);
      const m = this.macros.get(t.text);
      if (m === undefined) return t;
      if (m.disabled) return paint(t);
      let args: Token[][] | null = null;
      if (m.params !== null) {
        args = this.collectArgs(m, t);
        if (args === null) return t;
      }
      const tokens = this.substitute(m, t, args);
      this.contexts.push({ tokens, index: 0, macro: m });
      m.disabled = true;
      return padding(t);
    }
  }

  /** The next token without expansion; leaving an expansion re-enables its macro. */
  private readRaw(): Token {
    const pushedBack = this.pending.pop();
    if (pushedBack !== undefined) return pushedBack;
    const c = this.contexts[this.contexts.length - 1];
    if (c === undefined) return this.base();
    if (c.index < c.tokens.length) return c.tokens[c.index++];
    this.contexts.pop();
    c.macro.disabled = false;
    return PAD_END;
  }

  private readSkippingPads(): Token {
    let t = this.readRaw();
    while (t.kind === Kind.Pad) t = this.readRaw();
    return t;
  }

  private readDefined(op: Token): Token {
    let t = this.readSkippingPads();
    const paren = isPunct(t, '(');
    if (paren) t = this.readSkippingPads();
    if (t.kind !== Kind.Ident) throw errorAt(t.kind === Kind.InputEnd ? op : t, 'operator "defined" requires an identifier');
    if (paren && !isPunct(this.readSkippingPads(), ')')) throw errorAt(t, `missing ')' after "defined"`);
    const value = this.macros.has(t.text) ? '1' : '0';
    return new Token(Kind.Number, value, op.space, op.file, op.line, op.col, op.bol, op.expanded);
  }

  /** Reads `( args )` after a function-like macro name; null if no `(` follows. */
  private collectArgs(m: Macro, name: Token): Token[][] | null {
    let t = this.readRaw();
    let pad: Token | null = null;
    while (t.kind === Kind.Pad) {
      pad = t;
      t = this.readRaw();
    }
    if (!isPunct(t, '(')) {
      this.pending.push(t);
      if (pad !== null) this.pending.push(pad);
      return null;
    }
    const params = m.params as string[];
    const args: Token[][] = [];
    let current: Token[] = [];
    let depth = 0;
    for (;;) {
      t = this.readRaw();
      if (t.kind === Kind.InputEnd || t.kind === Kind.FileEnd) {
        throw errorAt(name, `unterminated argument list invoking macro "${m.name}"`);
      }
      if (t.kind === Kind.Pad) {
        if (current.length > 0) current.push(t);
        continue;
      }
      if (t.kind === Kind.Punct) {
        if (t.text === '(') depth++;
        else if (t.text === ')') {
          if (depth === 0) break;
          depth--;
        } else if (t.text === ',' && depth === 0 && !(m.variadic && args.length === params.length - 1)) {
          args.push(trimPads(current));
          current = [];
          continue;
        }
      }
      current.push(t);
    }
    args.push(trimPads(current));
    if (params.length === 0) {
      if (args.length === 1 && args[0].length === 0) return [];
      throw errorAt(name, `macro "${m.name}" passed ${args.length} arguments, but takes just 0`);
    }
    if (args.length < params.length) {
      if (m.variadic && args.length === params.length - 1) args.push([]);
      else throw errorAt(name, `macro "${m.name}" requires ${params.length} arguments, but only ${args.length} given`);
    }
    if (args.length > params.length) {
      throw errorAt(name, `macro "${m.name}" passed ${args.length} arguments, but takes just ${params.length}`);
    }
    return args;
  }

  /** The replacement list of `m` with its arguments substituted and `##` applied. */
  private substitute(m: Macro, name: Token, args: Token[][] | null): Token[] {
    const out: Token[] = [];
    /** glue[i]: out[i] is pasted with out[i + 1]. */
    const glue: boolean[] = [];
    const expandedArgs: Array<Token[] | undefined> = [];
    const body = m.body;
    for (let k = 0; k < body.length; k++) {
      const item = body[k];
      if (item.param < 0) {
        out.push(restamp(item.tok, item.tok.space, name));
      } else {
        const arg = (args as Token[][])[item.param];
        if (item.stringize) {
          const text = stringize(arg);
          out.push(new Token(Kind.String, text, item.tok.space, name.file, name.line, name.col, name.bol, true));
        } else if (item.pasteAfter || (k > 0 && body[k - 1].pasteAfter)) {
          const first = out.length;
          for (const t of arg) if (t.kind !== Kind.Pad) out.push(restamp(t, out.length === first ? item.tok.space : t.space, name));
          if (out.length === first) {
            out.push(new Token(Kind.Placemarker, '', item.tok.space, name.file, name.line, name.col, name.bol, true));
          }
        } else {
          const expanded = (expandedArgs[item.param] ??= this.expandArgument(arg, name));
          out.push(padding(item.tok));
          for (const t of expanded) out.push(t.kind === Kind.Pad ? t : restamp(t, t.space, name));
          out.push(PAD_END);
        }
      }
      if (m.hasPaste) {
        while (glue.length < out.length) glue.push(false);
        if (item.pasteAfter) glue[out.length - 1] = true;
      }
    }
    return m.hasPaste ? this.paste(out, glue, name) : out;
  }

  /** Fully macro-expands one argument in isolation (C99 6.10.3.1). */
  private expandArgument(arg: Token[], name: Token): Token[] {
    let i = 0;
    const end = new Token(Kind.InputEnd, '', true, name.file, name.line, name.col);
    const sub = new Expander(this.macros, () => (i < arg.length ? arg[i++] : end));
    const out: Token[] = [];
    for (let t = sub.next(); t.kind !== Kind.InputEnd; t = sub.next()) out.push(t);
    return out;
  }

  private paste(tokens: Token[], glue: boolean[], name: Token): Token[] {
    const out: Token[] = [];
    for (let i = 0; i < tokens.length; i++) {
      let t = tokens[i];
      while (glue[i]) {
        i++;
        t = pasteTokens(t, tokens[i], name);
      }
      if (t.kind !== Kind.Placemarker) out.push(t);
    }
    return out;
  }
}

/** `a ## b` (C99 6.10.3.3): the result must be a single preprocessing token. */
function pasteTokens(a: Token, b: Token, at: Token): Token {
  if (b.kind === Kind.Placemarker) return a;
  if (a.kind === Kind.Placemarker) return restamp(b, a.space, at);
  const text = a.text + b.text;
  const kind = singleTokenKind(text);
  if (kind === null) throw errorAt(at, `pasting "${a.text}" and "${b.text}" does not give a valid preprocessing token`);
  return new Token(kind, text, a.space, at.file, at.line, at.col, at.bol, true);
}

/* ------------------------------------------------------------------------------------ */
/* #if expressions                                                                      */
/* ------------------------------------------------------------------------------------ */

/** A value of a #if expression: 64-bit, signed (intmax_t) or unsigned (uintmax_t). */
interface Value {
  value: bigint;
  unsigned: boolean;
}

const INT64_MAX = (1n << 63n) - 1n;

function wrap(value: bigint, unsigned: boolean): Value {
  return { value: unsigned ? BigInt.asUintN(64, value) : BigInt.asIntN(64, value), unsigned };
}

function truth(b: boolean): Value {
  return { value: b ? 1n : 0n, unsigned: false };
}

function binaryPrecedence(t: Token): number {
  if (t.kind !== Kind.Punct) return 0;
  switch (t.text) {
    case '*': case '/': case '%': return 10;
    case '+': case '-': return 9;
    case '<<': case '>>': return 8;
    case '<': case '>': case '<=': case '>=': return 7;
    case '==': case '!=': return 6;
    case '&': return 5;
    case '^': return 4;
    case '|': return 3;
    case '&&': return 2;
    case '||': return 1;
    default: return 0;
  }
}

function isUnaryOperator(t: Token): boolean {
  return t.kind === Kind.Punct && (t.text === '+' || t.text === '-' || t.text === '~' || t.text === '!');
}

function startsOperand(t: Token): boolean {
  return t.kind === Kind.Number || t.kind === Kind.Ident || t.kind === Kind.Char || isPunct(t, '(');
}

function shift(v: bigint, count: bigint, left: boolean, unsigned: boolean): Value {
  if (count < 0n) return shift(v, -count, !left, unsigned);
  if (left) return wrap(count >= 64n ? 0n : v << count, unsigned);
  if (count >= 64n) return wrap(v < 0n ? -1n : 0n, unsigned);
  return wrap(v >> count, unsigned);
}

/** Evaluates a macro-expanded #if line (C99 6.10.1) with short-circuit rules. */
class ExpressionEvaluator {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  evaluate(): boolean {
    const v = this.comma(true, null);
    const rest = this.tokens[this.index];
    if (rest !== undefined) throw this.unexpected(rest);
    return v.value !== 0n;
  }

  /* `operator`: the token before the expression (null at the start), for error messages. */

  private comma(live: boolean, operator: Token | null): Value {
    let v = this.conditional(live, operator);
    for (let t = this.tokens[this.index]; t !== undefined && isPunct(t, ','); t = this.tokens[this.index]) {
      this.index++;
      v = this.conditional(live, t);
    }
    return v;
  }

  private conditional(live: boolean, operator: Token | null): Value {
    const c = this.binary(1, live, operator);
    const q = this.tokens[this.index];
    if (q === undefined || !isPunct(q, '?')) return c;
    this.index++;
    const whenTrue = this.comma(live && c.value !== 0n, q);
    const colon = this.tokens[this.index];
    if (colon === undefined) throw errorAt(q, "'?' without following ':'");
    if (!isPunct(colon, ':')) throw this.unexpected(colon);
    this.index++;
    const whenFalse = this.conditional(live && c.value === 0n, colon);
    return wrap(c.value !== 0n ? whenTrue.value : whenFalse.value, whenTrue.unsigned || whenFalse.unsigned);
  }

  private binary(minPrecedence: number, live: boolean, operator: Token | null): Value {
    let left = this.operand(live, operator);
    for (;;) {
      const op = this.tokens[this.index];
      const precedence = op === undefined ? 0 : binaryPrecedence(op);
      if (precedence === 0 || precedence < minPrecedence) return left;
      this.index++;
      const rightLive =
        op.text === '&&' ? live && left.value !== 0n : op.text === '||' ? live && left.value === 0n : live;
      const right = this.binary(precedence + 1, rightLive, op);
      left = this.apply(op, left, right, live);
    }
  }

  private operand(live: boolean, operator: Token | null): Value {
    const t = this.tokens[this.index];
    if (t === undefined || (operator !== null && !startsOperand(t) && !isUnaryOperator(t))) {
      // The caller guarantees a token at the start, so `operator` is set here.
      const op = operator as Token;
      throw errorAt(op, `operator '${op.text}' has no right operand`);
    }
    switch (t.kind) {
      case Kind.Number:
        this.index++;
        return parseNumber(t);
      case Kind.Char:
        this.index++;
        return parseCharConstant(t);
      case Kind.Ident:
        this.index++;
        return { value: 0n, unsigned: false };
      case Kind.Punct:
        if (isPunct(t, '(')) {
          this.index++;
          const next = this.tokens[this.index];
          if (next === undefined) throw errorAt(t, "missing ')' in expression");
          if (isPunct(next, ')')) throw errorAt(next, "missing expression between '(' and ')'");
          const v = this.comma(live, null);
          const close = this.tokens[this.index];
          if (close === undefined) throw errorAt(t, "missing ')' in expression");
          if (!isPunct(close, ')')) throw this.unexpected(close);
          this.index++;
          return v;
        }
        if (isUnaryOperator(t)) {
          this.index++;
          const v = this.operand(live, t);
          if (t.text === '!') return truth(v.value === 0n);
          if (t.text === '~') return wrap(~v.value, v.unsigned);
          return wrap(t.text === '-' ? -v.value : v.value, v.unsigned);
        }
    }
    if (binaryPrecedence(t) > 0 || isPunct(t, '?')) throw errorAt(t, `operator '${t.text}' has no left operand`);
    throw this.unexpected(t);
  }

  private apply(op: Token, l: Value, r: Value, live: boolean): Value {
    const unsigned = l.unsigned || r.unsigned;
    const a = unsigned ? BigInt.asUintN(64, l.value) : l.value;
    const b = unsigned ? BigInt.asUintN(64, r.value) : r.value;
    switch (op.text) {
      case '*': return wrap(a * b, unsigned);
      case '/':
      case '%':
        if (b === 0n) {
          if (live) throw errorAt(op, 'division by zero in #if');
          return wrap(0n, unsigned);
        }
        return wrap(op.text === '/' ? a / b : a % b, unsigned);
      case '+': return wrap(a + b, unsigned);
      case '-': return wrap(a - b, unsigned);
      case '<<': return shift(l.value, r.value, true, l.unsigned);
      case '>>': return shift(l.value, r.value, false, l.unsigned);
      case '<': return truth(a < b);
      case '>': return truth(a > b);
      case '<=': return truth(a <= b);
      case '>=': return truth(a >= b);
      case '==': return truth(a === b);
      case '!=': return truth(a !== b);
      case '&': return wrap(a & b, unsigned);
      case '^': return wrap(a ^ b, unsigned);
      case '|': return wrap(a | b, unsigned);
      case '&&': return truth(l.value !== 0n && r.value !== 0n);
      default: return truth(l.value !== 0n || r.value !== 0n); // ||
    }
  }

  private unexpected(t: Token): CompileError {
    if (startsOperand(t)) return errorAt(t, `missing binary operator before token "${t.text}"`);
    if (isPunct(t, ')')) return errorAt(t, "missing '(' in expression");
    if (isPunct(t, ':')) return errorAt(t, "':' without preceding '?'");
    return errorAt(t, `token "${t.text}" is not valid in preprocessor expressions`);
  }
}

/** An integer constant of a #if: decimal, octal or hex with u/l suffixes. */
function parseNumber(t: Token): Value {
  const s = t.text;
  let radix = 10;
  let i = 0;
  if (s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) {
    radix = 16;
    i = 2;
  } else if (s[0] === '0') radix = 8;
  const digitsStart = i;
  const isDigit = radix === 16 ? (c: string) => /[0-9a-fA-F]/.test(c) : (c: string) => c >= '0' && c <= '9';
  while (i < s.length && isDigit(s[i])) i++;
  const digits = s.slice(digitsStart, i);
  const suffix = s.slice(i);
  if (suffix[0] === '.' || (radix !== 16 && /^[eE]/.test(suffix)) || (radix === 16 && /^[.pP]/.test(suffix))) {
    throw errorAt(t, 'floating constant in preprocessor expression');
  }
  if (digits === '' || !/^(?:[uU]?(?:l|L|ll|LL)?|(?:l|L|ll|LL)[uU])$/.test(suffix)) {
    throw errorAt(t, `invalid suffix "${radix === 16 && digits === '' ? s.slice(1) : suffix}" on integer constant`);
  }
  const badOctal = radix === 8 ? /[89]/.exec(digits) : null;
  if (badOctal !== null) throw errorAt(t, `invalid digit "${badOctal[0]}" in octal constant`);
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  const value = BigInt.asUintN(64, BigInt(prefix + digits));
  return { value, unsigned: /[uU]/.test(suffix) || value > INT64_MAX };
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, t: 9, v: 11, b: 8, r: 13, f: 12, a: 7 };

/** A character constant of a #if: 'c' (char is signed, as on x86), multi-char, or L'c'. */
function parseCharConstant(t: Token): Value {
  const wide = t.text[0] === 'L';
  const body = t.text.slice(wide ? 2 : 1, -1);
  const units: number[] = [];
  for (let i = 0; i < body.length; ) {
    const c = body[i++];
    if (c !== '\\') {
      units.push(body.charCodeAt(i - 1));
      continue;
    }
    const e = body[i++] ?? '';
    if (e in SIMPLE_ESCAPES) units.push(SIMPLE_ESCAPES[e]);
    else if (e >= '0' && e <= '7') {
      let v = Number(e);
      for (let n = 1; n < 3 && body[i] >= '0' && body[i] <= '7'; n++) v = v * 8 + Number(body[i++]);
      units.push(v);
    } else if (e === 'x') {
      let v = 0;
      while (i < body.length && /[0-9a-fA-F]/.test(body[i])) v = (v * 16 + parseInt(body[i++], 16)) >>> 0;
      units.push(v);
    } else units.push(e.charCodeAt(0));
  }
  if (units.length === 0) throw errorAt(t, 'empty character constant');
  if (wide) return { value: BigInt.asIntN(32, BigInt(units[units.length - 1])), unsigned: false };
  if (units.length === 1) return { value: BigInt.asIntN(8, BigInt(units[0] & 0xff)), unsigned: false };
  const packed = units.reduce((acc, u) => (acc << 8n) | BigInt(u & 0xff), 0n);
  return { value: BigInt.asIntN(32, packed), unsigned: false };
}

/* ------------------------------------------------------------------------------------ */
/* Output with its position map                                                         */
/* ------------------------------------------------------------------------------------ */

/** Whether printing `b` right after `a` would lex differently (so a space is needed). */
function mustSeparate(a: Token, b: Token): boolean {
  const last = a.text.charCodeAt(a.text.length - 1);
  const first = b.text.charCodeAt(0);
  if (a.kind === Kind.Ident || a.kind === Kind.Number) {
    if (hasClass(first, ID_CHAR)) return true;
    if (a.kind === Kind.Number) return first === DOT || first === 0x2b || first === 0x2d;
    return b.kind === Kind.String || b.kind === Kind.Char;
  }
  if (a.kind !== Kind.Punct) return false;
  if (last === DOT && (b.kind === Kind.Number || first === DOT)) return true;
  if (last === SLASH && (first === SLASH || first === STAR)) return true;
  const joined = a.text + b.text;
  return punctuatorEnd(joined, 0) > a.text.length;
}

/** Index of the last element of the sorted `values` that is <= x (values[0] <= x). */
function lastAtOrBefore(values: number[], x: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (values[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Prints tokens and records anchors. An anchor either maps the text after it
 * character by character (source text: same line, next column; a newline goes to the
 * next source line) or, for macro expansions, maps all of it to one fixed position.
 */
class OutputBuilder {
  private text = '';
  private readonly lineStarts: number[] = [0];
  private readonly anchorOffset: number[] = [];
  private readonly anchorFile: string[] = [];
  private readonly anchorLine: number[] = [];
  private readonly anchorColumn: number[] = [];
  private readonly anchorOutLine: number[] = [];
  private readonly anchorFixed: boolean[] = [];
  private file: string;
  /** Source line of the current output line. */
  private line = 1;
  /** Last token printed on the current output line. */
  private prev: Token | null = null;
  /** A macro boundary came since the last token; `padSource` decides the spacing. */
  private padded = false;
  private padSource: Token | null = null;

  constructor(private readonly mainFile: string) {
    this.file = mainFile;
    this.addAnchor(0, mainFile, 1, 1, false);
  }

  padding(t: Token): void {
    this.padded = true;
    if (this.padSource === null || (!this.padSource.space && t.source === null)) this.padSource = t.source;
  }

  token(t: Token): void {
    // Like cpp, break the output line only where a source line starts (not inside a
    // macro invocation spanning lines), so that output line N stays source line N.
    if (t.file !== this.file || (t.bol && t.line > this.line)) this.newLine(t.file, t.line);
    const prev = this.prev;
    if (prev === null) {
      const indent = t.col - 1 - (this.text.length - this.lineStarts[this.lineStarts.length - 1]);
      if (indent > 0) this.text += ' '.repeat(indent);
    } else {
      const space = this.padded ? (this.padSource ?? t).space || mustSeparate(prev, t) : t.space;
      if (space) {
        const sameSourceLine = !t.expanded && !prev.expanded && prev.file === t.file && prev.line === t.line;
        const gap = sameSourceLine ? t.col - prev.col - prev.text.length : 1;
        this.text += gap > 1 ? ' '.repeat(gap) : ' ';
      }
    }
    this.mark(t);
    this.text += t.text;
    this.prev = t;
    this.padded = false;
    this.padSource = null;
  }

  finish(files: string[]): CppOutput {
    if (this.text.length > this.lineStarts[this.lineStarts.length - 1]) this.newlines(1);
    const text = this.text;
    const { mainFile, lineStarts, anchorOffset, anchorFile, anchorLine, anchorColumn, anchorOutLine, anchorFixed } = this;
    const locate = (offset: number): SourcePosition => {
      if (text.length === 0) return { file: mainFile, line: 1, column: 1 };
      if (offset >= text.length) {
        const last = locate(text.length - 1);
        return { ...last, column: last.column + 1 };
      }
      const x = Math.max(0, Math.floor(offset));
      const a = lastAtOrBefore(anchorOffset, x);
      if (anchorFixed[a]) return { file: anchorFile[a], line: anchorLine[a], column: anchorColumn[a] };
      const outLine = lastAtOrBefore(lineStarts, x);
      const line = anchorLine[a] + (outLine - anchorOutLine[a]);
      const column = outLine === anchorOutLine[a] ? anchorColumn[a] + (x - anchorOffset[a]) : x - lineStarts[outLine] + 1;
      return { file: anchorFile[a], line, column };
    };
    return { text, locate, files };
  }

  /** Starts the output line for source line `line` of `file`. */
  private newLine(file: string, line: number): void {
    const atLineStart = this.text.length === this.lineStarts[this.lineStarts.length - 1];
    if (file !== this.file) {
      if (!atLineStart) this.newlines(1);
      this.file = file;
    } else {
      const n = line - this.line;
      this.newlines(n <= MAX_BLANK_LINES ? n : 1);
    }
    this.line = line;
    this.prev = null;
    const offset = this.text.length;
    if (!this.predicts(offset, file, line, 1)) this.addAnchor(offset, file, line, 1, false);
  }

  private newlines(n: number): void {
    for (let i = 0; i < n; i++) {
      this.text += '\n';
      this.lineStarts.push(this.text.length);
    }
  }

  private mark(t: Token): void {
    const offset = this.text.length;
    if (t.expanded) {
      const a = this.anchorOffset.length - 1;
      const same =
        this.anchorFixed[a] && this.anchorFile[a] === t.file && this.anchorLine[a] === t.line && this.anchorColumn[a] === t.col;
      if (!same) this.addAnchor(offset, t.file, t.line, t.col, true);
    } else if (!this.predicts(offset, t.file, t.line, t.col)) {
      this.addAnchor(offset, t.file, t.line, t.col, false);
    }
  }

  /** Whether the last anchor already maps `offset` to file:line:column. */
  private predicts(offset: number, file: string, line: number, column: number): boolean {
    const a = this.anchorOffset.length - 1;
    if (this.anchorFixed[a] || this.anchorFile[a] !== file) return false;
    const outLine = this.lineStarts.length - 1;
    const sameLine = outLine === this.anchorOutLine[a];
    const l = this.anchorLine[a] + (outLine - this.anchorOutLine[a]);
    const c = sameLine ? this.anchorColumn[a] + (offset - this.anchorOffset[a]) : offset - this.lineStarts[outLine] + 1;
    return l === line && c === column;
  }

  private addAnchor(offset: number, file: string, line: number, column: number, fixed: boolean): void {
    let a = this.anchorOffset.length;
    if (a > 0 && this.anchorOffset[a - 1] === offset) a--;
    this.anchorOffset[a] = offset;
    this.anchorFile[a] = file;
    this.anchorLine[a] = line;
    this.anchorColumn[a] = column;
    this.anchorOutLine[a] = this.lineStarts.length - 1;
    this.anchorFixed[a] = fixed;
  }
}

/* ------------------------------------------------------------------------------------ */
/* Directives and the source token stream                                               */
/* ------------------------------------------------------------------------------------ */

/** One open #if/#ifdef/#ifndef group. */
interface Conditional {
  lexer: Lexer;
  /** Lines of the current branch are processed. */
  active: boolean;
  /** A branch was (or, in a skipped group, must be considered) taken already. */
  taken: boolean;
  sawElse: boolean;
  /** Latest directive of the group and its position (for "unterminated #..."). */
  directive: Token;
}

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : slash === 0 ? '/' : path.slice(0, slash);
}

function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

class Preprocessor {
  private readonly macros = new Map<string, Macro>();
  private readonly lexers: Lexer[] = [];
  private readonly conditionals: Conditional[] = [];
  private readonly cache = new Map<string, string | undefined>();
  private readonly files: string[] = [];
  private readonly includeDirs: string[];
  private readonly readFile: (path: string) => string | undefined;
  private inputEnd: Token | null = null;

  constructor(private readonly options: CppOptions) {
    this.includeDirs = options.includeDirs ?? [];
    this.readFile = options.readFile ?? defaultReadFile;
  }

  run(file: string): CppOutput {
    for (const [name, value] of this.options.defines ?? []) {
      const lexer = new Lexer('<command-line>', `${name} ${value}`);
      this.define(lexer, new Token(Kind.Ident, 'define', false, '<command-line>', 1, 1));
    }
    for (const name of this.options.undefs ?? []) this.macros.delete(name);
    const text = this.read(file);
    if (text === undefined) throw new CompileError({ file, line: 1, column: 1 }, `${file}: No such file or directory`);
    this.lexers.push(new Lexer(file, text));
    const out = new OutputBuilder(file);
    const expander = new Expander(this.macros, () => this.nextSourceToken());
    for (;;) {
      const t = expander.next();
      if (t.kind === Kind.Pad) out.padding(t);
      else if (t.kind === Kind.InputEnd) break;
      else if (t.kind !== Kind.FileEnd) out.token(t);
    }
    return out.finish(this.files);
  }

  private read(path: string): string | undefined {
    if (this.cache.has(path)) return this.cache.get(path);
    const text = this.readFile(path);
    this.cache.set(path, text);
    if (text !== undefined) this.files.push(path);
    return text;
  }

  private get skipping(): boolean {
    const c = this.conditionals[this.conditionals.length - 1];
    return c !== undefined && !c.active;
  }

  /** The next token of the active source text: directives run, skipped groups vanish. */
  private nextSourceToken(): Token {
    for (;;) {
      const lexer = this.lexers[this.lexers.length - 1];
      if (lexer === undefined) return this.inputEnd as Token;
      if (lexer.atLineStart) {
        lexer.skipBlank();
        if (lexer.peekChar() === HASH && lexer.peekChar(1) !== HASH) {
          lexer.skipChar();
          this.directive(lexer);
          continue;
        }
        if (this.skipping && !lexer.atEnd()) {
          lexer.finishLine();
          continue;
        }
        lexer.atLineStart = false;
      }
      const t = lexer.lexToken();
      if (t !== null) return t;
      if (lexer.atEnd()) return this.endOfFile(lexer);
      lexer.finishLine();
    }
  }

  private endOfFile(lexer: Lexer): Token {
    const open = this.conditionals[this.conditionals.length - 1];
    if (open !== undefined && open.lexer === lexer) throw errorAt(open.directive, `unterminated #${open.directive.text}`);
    this.lexers.pop();
    if (this.lexers.length > 0) return lexer.marker(Kind.FileEnd);
    this.inputEnd = lexer.marker(Kind.InputEnd);
    return this.inputEnd;
  }

  /** Runs the directive after a `#` at the start of a line. */
  private directive(lexer: Lexer): void {
    const name = lexer.lexToken();
    if (name === null) {
      lexer.finishLine(); // the null directive
      return;
    }
    const word = name.kind === Kind.Ident ? name.text : '';
    let included: Lexer | undefined;
    let renumber: [number, string | undefined] | undefined;
    if (this.skipping) {
      if (word === 'if' || word === 'ifdef' || word === 'ifndef') this.openConditional(lexer, name, false, true);
      else if (word === 'elif') this.onElif(lexer, name);
      else if (word === 'else') this.onElse(lexer, name);
      else if (word === 'endif') this.onEndif(lexer, name);
    } else if (name.kind === Kind.Number) {
      renumber = this.lineDirective(name, this.lineTokens(lexer));
    } else {
      switch (word) {
        case 'define': this.define(lexer, name); break;
        case 'undef': this.macros.delete(this.macroName(lexer, name)); break;
        case 'include': included = this.include(lexer, name); break;
        case 'if': {
          const value = this.evaluateIf(lexer, name);
          this.openConditional(lexer, name, value, value);
          break;
        }
        case 'ifdef':
        case 'ifndef': {
          const value = this.macros.has(this.macroName(lexer, name)) === (word === 'ifdef');
          this.openConditional(lexer, name, value, value);
          break;
        }
        case 'elif': this.onElif(lexer, name); break;
        case 'else': this.onElse(lexer, name); break;
        case 'endif': this.onEndif(lexer, name); break;
        case 'error': throw errorAt(name, `#error ${this.spell(this.lineTokens(lexer))}`.trimEnd());
        case 'warning': break; // gcc only prints it
        case 'line': {
          const operands = this.expandList(this.lineTokens(lexer), name, false);
          if (operands.length === 0) throw errorAt(name, 'unexpected end of file after #line');
          renumber = this.lineDirective(operands[0], operands.slice(1));
          break;
        }
        default:
          throw errorAt(name, 'illegal # directive');
      }
    }
    lexer.finishLine();
    if (renumber !== undefined) lexer.renumber(renumber[0], renumber[1]);
    if (included !== undefined) this.lexers.push(included);
  }

  private lineTokens(lexer: Lexer): Token[] {
    const tokens: Token[] = [];
    for (let t = lexer.lexToken(); t !== null; t = lexer.lexToken()) tokens.push(t);
    return tokens;
  }

  /** Tokens spelled back with single spaces where there was whitespace. */
  private spell(tokens: Token[]): string {
    return tokens.map((t, i) => (i > 0 && t.space ? ' ' : '') + t.text).join('');
  }

  /** Macro-expands a token list (a directive's operands); Pad markers are dropped. */
  private expandList(tokens: Token[], directive: Token, ifMode: boolean): Token[] {
    let i = 0;
    const end = new Token(Kind.InputEnd, '', true, directive.file, directive.line, directive.col);
    const expander = new Expander(this.macros, () => (i < tokens.length ? tokens[i++] : end), ifMode);
    const out: Token[] = [];
    for (let t = expander.next(); t.kind !== Kind.InputEnd; t = expander.next()) if (t.kind !== Kind.Pad) out.push(t);
    return out;
  }

  private macroName(lexer: Lexer, directive: Token): string {
    const t = lexer.lexToken();
    if (t === null) throw errorAt(directive, `no macro name given in #${directive.text} directive`);
    if (t.kind !== Kind.Ident) throw errorAt(t, 'macro names must be identifiers');
    if (t.text === 'defined' && directive.text !== 'ifdef' && directive.text !== 'ifndef') {
      throw errorAt(t, '"defined" cannot be used as a macro name');
    }
    return t.text;
  }

  /** #define NAME body / #define NAME(params) body (C99 6.10.3). */
  private define(lexer: Lexer, directive: Token): void {
    const name = this.macroName(lexer, directive);
    let params: string[] | null = null;
    let variadic = false;
    if (lexer.peekChar() === LPAREN) {
      params = [];
      variadic = this.parameters(lexer, params, lexer.lexToken() as Token);
    }
    const body: BodyItem[] = [];
    let hasPaste = false;
    let lastPaste: Token | null = null;
    for (let t = lexer.lexToken(); t !== null; t = lexer.lexToken()) {
      lastPaste = null;
      if (params !== null && isPunct(t, '#')) {
        const operand = lexer.lexToken();
        const param = operand === null || operand.kind !== Kind.Ident ? -1 : params.indexOf(operand.text);
        if (param < 0) throw errorAt(t, "'#' is not followed by a macro parameter");
        body.push({ tok: t, param, stringize: true, pasteAfter: false });
      } else if (isPunct(t, '##')) {
        const left = body[body.length - 1];
        if (left === undefined) throw errorAt(t, "'##' cannot appear at either end of a macro expansion");
        left.pasteAfter = true;
        hasPaste = true;
        lastPaste = t;
      } else {
        const param = params !== null && t.kind === Kind.Ident ? params.indexOf(t.text) : -1;
        body.push({ tok: t, param, stringize: false, pasteAfter: false });
      }
    }
    if (lastPaste !== null) throw errorAt(lastPaste, "'##' cannot appear at either end of a macro expansion");
    if (body.length > 0) {
      const first = body[0].tok;
      body[0].tok = new Token(first.kind, first.text, false, first.file, first.line, first.col);
    }
    const macro: Macro = { name, params, variadic, body, hasPaste, disabled: false };
    const old = this.macros.get(name);
    // A different redefinition is only a warning for gcc; the new definition wins.
    if (old === undefined || !sameDefinition(old, macro)) this.macros.set(name, macro);
  }

  /** Reads `a, b, ...)` after `#define NAME(`; returns whether the macro is variadic. */
  private parameters(lexer: Lexer, params: string[], open: Token): boolean {
    let t = lexer.lexToken();
    if (t !== null && isPunct(t, ')')) return false;
    for (;;) {
      if (t === null) throw errorAt(open, "missing ')' in macro parameter list");
      if (isPunct(t, '...')) {
        params.push('__VA_ARGS__');
        const close = lexer.lexToken();
        if (close === null || !isPunct(close, ')')) throw errorAt(close ?? t, `missing ')' after "..."`);
        return true;
      }
      if (t.kind !== Kind.Ident) throw errorAt(t, `expected parameter name, found "${t.text}"`);
      if (params.includes(t.text)) throw errorAt(t, `duplicate macro parameter "${t.text}"`);
      params.push(t.text);
      const sep = lexer.lexToken();
      if (sep !== null && isPunct(sep, ')')) return false;
      if (sep === null || !isPunct(sep, ',')) {
        if (sep === null) throw errorAt(t, "missing ')' in macro parameter list");
        throw errorAt(sep, `expected ',' or ')', found "${sep.text}"`);
      }
      t = lexer.lexToken();
    }
  }

  /** #include "name" / <name> / MACRO; returns the lexer of the included file. */
  private include(lexer: Lexer, directive: Token): Lexer {
    let operand = lexer.readHeaderName();
    let angle = true;
    let name: string;
    if (operand !== null) {
      name = operand.text.slice(1, -1);
    } else {
      const raw = this.lineTokens(lexer);
      const tokens = raw.length > 0 && raw[0].kind === Kind.String ? raw : this.expandList(raw, directive, false);
      const first = tokens[0];
      if (first === undefined) throw errorAt(directive, '#include expects "FILENAME" or <FILENAME>');
      operand = first;
      if (first.kind === Kind.String && first.text[0] === '"') {
        angle = false;
        name = first.text.slice(1, -1);
      } else if (isPunct(first, '<')) {
        const close = tokens.findIndex((t) => isPunct(t, '>'));
        if (close < 0) throw errorAt(first, 'missing terminating > character');
        name = this.spell(tokens.slice(1, close));
      } else {
        throw errorAt(first, '#include expects "FILENAME" or <FILENAME>');
      }
    }
    if (name === '') throw errorAt(operand, 'empty filename in #include');
    if (this.lexers.length >= MAX_INCLUDE_DEPTH) throw errorAt(directive, '#include nested too deeply');
    const path = this.resolve(name, angle, lexer);
    if (path === undefined) throw errorAt(operand, `${name}: No such file or directory`);
    return new Lexer(path, this.read(path) as string);
  }

  /** `"name"`: the including file's directory, then -I; `<name>`: -I only. */
  private resolve(name: string, angle: boolean, from: Lexer): string | undefined {
    if (name.startsWith('/')) return this.read(name) === undefined ? undefined : name;
    if (!angle) {
      const path = joinPath(directoryOf(from.path), name);
      if (this.read(path) !== undefined) return path;
    }
    for (const dir of this.includeDirs) {
      const path = joinPath(dir, name);
      if (this.read(path) !== undefined) return path;
    }
    return undefined;
  }

  /** `#line N ["file"]` and the `# N "file"` form: [N, file]. */
  private lineDirective(number: Token, rest: Token[]): [number, string | undefined] {
    if (number.kind !== Kind.Number || !/^[0-9]+$/.test(number.text)) {
      throw errorAt(number, `"${number.text}" after #line is not a positive integer`);
    }
    const file = rest[0];
    if (file !== undefined && file.kind !== Kind.String) throw errorAt(file, `invalid filename "${file.text}"`);
    return [Number(number.text), file?.text.slice(1, -1)];
  }

  private evaluateIf(lexer: Lexer, directive: Token): boolean {
    const tokens = this.expandList(this.lineTokens(lexer), directive, true);
    if (tokens.length === 0) throw errorAt(directive, `#${directive.text} with no expression`);
    return new ExpressionEvaluator(tokens).evaluate();
  }

  private openConditional(lexer: Lexer, directive: Token, active: boolean, taken: boolean): void {
    this.conditionals.push({ lexer, active, taken, sawElse: false, directive });
  }

  /** The innermost group, which must have been opened in the same file. */
  private currentConditional(lexer: Lexer, directive: Token): Conditional {
    const c = this.conditionals[this.conditionals.length - 1];
    if (c === undefined || c.lexer !== lexer) throw errorAt(directive, `#${directive.text} without #if`);
    return c;
  }

  private onElif(lexer: Lexer, directive: Token): void {
    const c = this.currentConditional(lexer, directive);
    if (c.sawElse) throw errorAt(directive, '#elif after #else');
    c.directive = directive;
    if (c.taken) c.active = false;
    else c.active = c.taken = this.evaluateIf(lexer, directive);
  }

  private onElse(lexer: Lexer, directive: Token): void {
    const c = this.currentConditional(lexer, directive);
    if (c.sawElse) throw errorAt(directive, '#else after #else');
    c.directive = directive;
    c.sawElse = true;
    c.active = !c.taken;
    c.taken = true;
  }

  private onEndif(lexer: Lexer, directive: Token): void {
    this.currentConditional(lexer, directive);
    this.conditionals.pop();
  }
}
