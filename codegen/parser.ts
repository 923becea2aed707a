/*
 * File: codegen/parser.ts
 * Purpose: GNU MIG's grammar (spec/mig.md §4), parsed by recursive descent into codegen/ast.ts.
 *
 * Like MIG's yacc parser it recovers from a syntax error by skipping to the next `;`, so
 * one run reports every broken statement; any error means nothing is generated. Integer
 * expressions are evaluated here with MIG's unsigned 32-bit arithmetic, and each symbolic
 * IPC type gets the port size in force when it was read (32 bits, or 64 after a
 * `subsystem KernelUser`/`KernelServer` statement).
 */

import type {
  ArgumentNode, Direction, IpcFlagName, IpcFlagSpec, IpcTypeName, NamedTypeSpec, Statement,
  StructMember, TypeAttribute, TypeSpec,
} from './ast.js';
import { CompileError, type SourcePosition } from './diagnostic.js';
import { describeToken, Lexer, type LexMode, type Token } from './lexer.js';

const POLY = 0xffffffff;
const PORT_NAME_BITS = 32;
const KERNEL_PORT_BITS = 64;

/** in-name, out-name, the out-name's string and the default size of each symbolic type */
const SYMBOLS: Record<string, { inName: number; outName: number; outStr?: string; inStr?: string; size: number | 'port' }> = {
  MACH_MSG_TYPE_UNSTRUCTURED: { inName: 0, outName: 0, size: 0 },
  MACH_MSG_TYPE_BIT: { inName: 0, outName: 0, size: 1 },
  MACH_MSG_TYPE_BOOLEAN: { inName: 0, outName: 0, size: 32 },
  MACH_MSG_TYPE_INTEGER_16: { inName: 1, outName: 1, size: 16 },
  MACH_MSG_TYPE_INTEGER_32: { inName: 2, outName: 2, size: 32 },
  MACH_MSG_TYPE_INTEGER_64: { inName: 11, outName: 11, size: 64 },
  MACH_MSG_TYPE_CHAR: { inName: 8, outName: 8, size: 8 },
  MACH_MSG_TYPE_BYTE: { inName: 9, outName: 9, size: 8 },
  MACH_MSG_TYPE_INTEGER_8: { inName: 9, outName: 9, size: 8 },
  MACH_MSG_TYPE_REAL: { inName: 10, outName: 10, size: 0 },
  MACH_MSG_TYPE_STRING: { inName: 12, outName: 12, size: 0 },
  MACH_MSG_TYPE_STRING_C: { inName: 12, outName: 12, size: 0 },
  MACH_MSG_TYPE_MOVE_RECEIVE: { inName: 16, outName: 16, outStr: 'MACH_MSG_TYPE_PORT_RECEIVE', size: 'port' },
  MACH_MSG_TYPE_COPY_SEND: { inName: 19, outName: 17, outStr: 'MACH_MSG_TYPE_PORT_SEND', size: 'port' },
  MACH_MSG_TYPE_MAKE_SEND: { inName: 20, outName: 17, outStr: 'MACH_MSG_TYPE_PORT_SEND', size: 'port' },
  MACH_MSG_TYPE_MOVE_SEND: { inName: 17, outName: 17, outStr: 'MACH_MSG_TYPE_PORT_SEND', size: 'port' },
  MACH_MSG_TYPE_MAKE_SEND_ONCE: { inName: 21, outName: 18, outStr: 'MACH_MSG_TYPE_PORT_SEND_ONCE', size: 'port' },
  MACH_MSG_TYPE_MOVE_SEND_ONCE: { inName: 18, outName: 18, outStr: 'MACH_MSG_TYPE_PORT_SEND_ONCE', size: 'port' },
  MACH_MSG_TYPE_PORT_NAME: { inName: 15, outName: 15, size: PORT_NAME_BITS },
  MACH_MSG_TYPE_PORT_RECEIVE: { inName: POLY, inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outName: 16, size: 'port' },
  MACH_MSG_TYPE_PORT_SEND: { inName: POLY, inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outName: 17, size: 'port' },
  MACH_MSG_TYPE_PORT_SEND_ONCE: { inName: POLY, inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outName: 18, size: 'port' },
  MACH_MSG_TYPE_POLYMORPHIC: { inName: POLY, outName: POLY, size: 0 },
  polymorphic: { inName: POLY, inStr: 'MACH_MSG_TYPE_POLYMORPHIC', outName: POLY, outStr: 'MACH_MSG_TYPE_POLYMORPHIC', size: 'port' },
};

const DIRECTIONS: ReadonlySet<string> = new Set([
  'in', 'out', 'inout', 'requestport', 'replyport', 'sreplyport', 'ureplyport', 'waittime', 'msgoption', 'msgseqno',
]);

/** Thrown inside a statement; caught at statement level, which skips to the next `;`. */
class SyntaxError extends CompileError {}

export interface ParseResult {
  statements: Statement[];
  errors: CompileError[];
}

/** Parse preprocessed .defs text. Never throws for syntax errors: they come back in `errors`. */
export function parse(text: string, locate: (offset: number) => SourcePosition): ParseResult {
  return new Parser(new Lexer(text, locate)).parseFile();
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  private portBits = PORT_NAME_BITS;
  private readonly errors: CompileError[] = [];

  constructor(lexer: Lexer) {
    this.lexer = lexer;
    this.tok = lexer.next();
  }

  parseFile(): ParseResult {
    const statements: Statement[] = [];
    while (this.tok.kind !== 'eof') {
      try {
        const st = this.statement();
        if (st) statements.push(st);
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        this.errors.push(e);
        this.recover();
      }
    }
    return { statements, errors: this.errors };
  }

  /** MIG's `error sySemi` rule: drop tokens up to and including the next `;`. */
  private recover(): void {
    for (;;) {
      try {
        while (this.tok.kind !== 'eof' && !this.isPunct(';')) this.advance();
        if (this.tok.kind !== 'eof') this.advance();
        return;
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        this.errors.push(e);
        // skip the bad character and keep looking for `;`
      }
    }
  }

  // ==== token helpers ================================================================

  private advance(mode: LexMode = 'normal'): Token {
    const t = this.tok;
    this.tok = this.lexer.next(mode);
    return t;
  }

  private isPunct(c: string): boolean {
    return this.tok.kind === 'punct' && this.tok.value === c;
  }
  private isKeyword(k: string): boolean {
    return this.tok.kind === 'keyword' && this.tok.value === k;
  }

  private fail(expected: string, at: Token = this.tok): never {
    throw new SyntaxError(at.pos, `syntax error: expected ${expected}, found ${describeToken(at)}`);
  }

  private punct(c: string, mode: LexMode = 'normal'): Token {
    if (!this.isPunct(c)) this.fail(`'${c}'`);
    return this.advance(mode);
  }
  private keyword(k: string, mode: LexMode = 'normal'): Token {
    if (!this.isKeyword(k)) this.fail(`'${k}'`);
    return this.advance(mode);
  }
  private ident(what = 'an identifier'): Token {
    if (this.tok.kind !== 'ident') this.fail(what);
    return this.advance();
  }
  private number(what = 'a number'): Token {
    if (this.tok.kind !== 'number') this.fail(what);
    return this.advance();
  }

  // ==== statements ===================================================================

  private statement(): Statement | null {
    const t = this.tok;
    if (this.isPunct(';')) { this.advance(); return null; }
    if (t.kind !== 'keyword') this.fail('a statement');
    let st: Statement;
    switch (t.value) {
      case 'subsystem': st = this.subsystem(); break;
      case 'waittime':
        this.advance('string');
        st = { kind: 'waittime', pos: t.pos, value: this.operand('a wait time') };
        break;
      case 'nowaittime': this.advance(); st = { kind: 'waittime', pos: t.pos, value: null }; break;
      case 'msgoption':
        this.advance('string');
        st = { kind: 'msgoption', pos: t.pos, value: this.operand('a message option') };
        break;
      case 'error': this.advance(); st = { kind: 'error', pos: t.pos, name: this.ident().value }; break;
      case 'serverprefix': case 'userprefix': case 'serverdemux':
        this.advance();
        st = { kind: t.value, pos: t.pos, name: this.ident().value };
        break;
      case 'type': this.advance(); st = { kind: 'type', pos: t.pos, type: this.namedTypeSpec() }; break;
      case 'routine': case 'simpleroutine': st = this.routine(); break;
      case 'skip': {
        this.advance();
        const count = this.tok.kind === 'number' ? this.advance().num : 1;
        st = { kind: 'skip', pos: t.pos, count };
        break;
      }
      case 'import': case 'uimport': case 'simport': {
        this.advance('filename');
        if (this.tok.kind !== 'filename') this.fail('a file name ("file.h" or <file.h>)');
        const file = this.advance().value;
        st = { kind: 'import', pos: t.pos, side: t.value === 'import' ? 'both' : t.value === 'uimport' ? 'user' : 'server', file };
        break;
      }
      case 'rcsid': {
        this.advance('qstring');
        if (this.tok.kind !== 'qstring') this.fail('a quoted string');
        st = { kind: 'rcsid', pos: t.pos, value: this.advance().value };
        break;
      }
      default: this.fail('a statement');
    }
    this.punct(';');
    return st;
  }

  private operand(what: string): string {
    if (this.tok.kind !== 'string') this.fail(what);
    return this.advance().value;
  }

  private subsystem(): Statement {
    const pos = this.advance().pos;
    const kernelUser: SourcePosition[] = [];
    const kernelServer: SourcePosition[] = [];
    for (;;) {
      if (this.isKeyword('kerneluser')) { kernelUser.push(this.advance().pos); this.portBits = KERNEL_PORT_BITS; }
      else if (this.isKeyword('kernelserver')) { kernelServer.push(this.advance().pos); this.portBits = KERNEL_PORT_BITS; }
      else break;
    }
    const name = this.ident('the subsystem name').value;
    const base = this.number('the subsystem base message id').num;
    return { kind: 'subsystem', pos, kernelUser, kernelServer, name, base };
  }

  private routine(): Statement {
    const t = this.advance();
    const name = this.ident('the routine name').value;
    this.punct('(');
    const args: ArgumentNode[] = [];
    if (!this.isPunct(')')) {
      args.push(this.argument());
      while (this.isPunct(';')) {
        this.advance();
        args.push(this.argument());
      }
    }
    this.punct(')');
    return { kind: 'routine', pos: t.pos, oneway: t.value === 'simpleroutine', name, args };
  }

  private argument(): ArgumentNode {
    let direction: Direction | null = null;
    if (this.tok.kind === 'keyword' && DIRECTIONS.has(this.tok.value)) direction = this.advance().value as Direction;
    const nameTok = this.ident('an argument name');
    this.punct(':');
    let type: ArgumentNode['type'];
    const typeTok = this.ident('a type name');
    if (this.isPunct('=')) type = { named: this.namedTypeRest(typeTok) };
    else type = { ref: typeTok.value, pos: typeTok.pos };
    return { direction, name: nameTok.value, pos: nameTok.pos, type, flags: this.ipcFlags() };
  }

  // ==== types ========================================================================

  private namedTypeSpec(): NamedTypeSpec {
    return this.namedTypeRest(this.ident('a type name'));
  }

  private namedTypeRest(nameTok: Token): NamedTypeSpec {
    this.punct('=');
    const spec = this.typeSpec();
    const attributes: TypeAttribute[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'keyword') break;
      if (t.value === 'intran' || t.value === 'outtran') {
        this.advance(); this.punct(':');
        const a = this.ident().value;
        const fn = this.ident('a function name').value;
        this.punct('(');
        const b = this.ident().value;
        this.punct(')');
        attributes.push(t.value === 'intran'
          ? { kind: 'intran', pos: t.pos, transType: a, fn, serverType: b }
          : { kind: 'outtran', pos: t.pos, serverType: a, fn, transType: b });
      } else if (t.value === 'intranpayload') {
        this.advance(); this.punct(':');
        const transType = this.ident().value;
        attributes.push({ kind: 'intranpayload', pos: t.pos, transType, fn: this.ident('a function name').value });
      } else if (t.value === 'destructor') {
        this.advance(); this.punct(':');
        const fn = this.ident('a function name').value;
        this.punct('(');
        const transType = this.ident().value;
        this.punct(')');
        attributes.push({ kind: 'destructor', pos: t.pos, fn, transType });
      } else if (t.value === 'ctype' || t.value === 'cusertype' || t.value === 'cservertype') {
        this.advance(); this.punct(':');
        attributes.push({ kind: t.value, pos: t.pos, name: this.ident('a C type name').value });
      } else break;
    }
    return { name: nameTok.value, pos: nameTok.pos, spec, attributes };
  }

  private typeSpec(): TypeSpec {
    const t = this.tok;
    if (t.kind === 'ident') { this.advance(); return { kind: 'prev', pos: t.pos, name: t.value }; }
    if (t.kind === 'number' || t.kind === 'symtype') return { kind: 'ipc', pos: t.pos, ipc: this.ipcType() };
    if (this.isPunct('(')) {
      this.advance();
      const ipc = this.ipcType();
      this.punct(',');
      const size = this.intExp();
      const flags = this.ipcFlags();
      this.punct(')');
      return { kind: 'ipclong', pos: t.pos, ipc, size, flags };
    }
    if (this.isPunct('^')) { this.advance(); return { kind: 'pointer', pos: t.pos, of: this.typeSpec() }; }
    if (this.isKeyword('array')) {
      this.advance();
      this.punct('[');
      if (this.isPunct(']')) {
        this.advance(); this.keyword('of');
        return { kind: 'vararray', pos: t.pos, max: 0, of: this.typeSpec() };
      }
      if (this.isPunct('*')) {
        this.advance();
        let max = 0;
        if (this.isPunct(':')) { this.advance(); max = this.intExp(); }
        this.punct(']'); this.keyword('of');
        return { kind: 'vararray', pos: t.pos, max, of: this.typeSpec() };
      }
      const number = this.intExp();
      this.punct(']'); this.keyword('of');
      return { kind: 'array', pos: t.pos, number, of: this.typeSpec() };
    }
    if (this.isKeyword('struct')) {
      this.advance();
      if (this.isPunct('{')) {
        this.advance();
        const members: StructMember[] = [];
        do {
          const ty = this.ident('a member type name');
          const field = this.ident('a member name');
          this.punct(';');
          members.push({ typeName: ty.value, typePos: ty.pos, fieldName: field.value, fieldPos: field.pos });
        } while (this.tok.kind === 'ident');
        this.punct('}');
        return { kind: 'struct', pos: t.pos, members };
      }
      this.punct('[');
      const number = this.intExp();
      this.punct(']'); this.keyword('of');
      return { kind: 'structarray', pos: t.pos, number, of: this.typeSpec() };
    }
    if (this.isKeyword('c_string')) {
      this.advance();
      this.punct('[');
      let varying = false;
      if (this.isPunct('*')) { this.advance(); this.punct(':'); varying = true; }
      const number = this.intExp();
      this.punct(']');
      return { kind: 'cstring', pos: t.pos, number, varying };
    }
    this.fail('a type specification');
  }

  /** PrimIPCType [ '|' PrimIPCType ] */
  private ipcType(): IpcTypeName {
    const first = this.primIpcType();
    if (!this.isPunct('|')) return first;
    this.advance();
    const second = this.primIpcType();
    let size = first.size;
    if (first.size !== second.size) {
      if (first.size === 0) size = second.size;
      else if (second.size === 0) size = first.size;
      else {
        // MIG reports this and goes on with size 0.
        this.errors.push(new CompileError(second.pos,
          `sizes in IPCTypes (${first.inStr ?? first.inName} ${first.outStr ?? first.outName} ${first.size}, ` +
          `${second.inStr ?? second.inName} ${second.outStr ?? second.outName} ${second.size}) aren't equal`));
        size = 0;
      }
    }
    return { inName: first.inName, inStr: first.inStr, outName: second.outName, outStr: second.outStr, size, pos: first.pos };
  }

  private primIpcType(): IpcTypeName {
    const t = this.tok;
    if (t.kind === 'number') {
      this.advance();
      return { inName: t.num, inStr: null, outName: t.num, outStr: null, size: 0, pos: t.pos };
    }
    if (t.kind !== 'symtype') this.fail('an IPC type name (a number or MACH_MSG_TYPE_...)');
    this.advance();
    const s = SYMBOLS[t.value]!;
    const size = s.size === 'port' ? this.portBits : s.size;
    const inStr = s.inStr ?? t.value;
    const outStr = s.outStr ?? (s.inStr ? t.value : inStr);
    return { inName: s.inName, inStr, outName: s.outName, outStr, size, pos: t.pos };
  }

  private ipcFlags(): IpcFlagSpec[] {
    const flags: IpcFlagSpec[] = [];
    while (this.isPunct(',')) {
      this.advance();
      if (this.tok.kind !== 'flag') this.fail('an IPC flag (IsLong, IsNotLong, Dealloc, NotDealloc, ServerCopy, CountInOut, RetCode)');
      const f = this.advance();
      let variable = false;
      if (this.isPunct('[')) { this.advance(); this.punct(']'); variable = true; }
      flags.push({ flag: f.value as IpcFlagName, variable, pos: f.pos });
    }
    return flags;
  }

  // ==== integer expressions: + - left associative, * / bind tighter; u_int arithmetic ====

  private intExp(): number {
    let v = this.intTerm();
    while (this.isPunct('+') || this.isPunct('-')) {
      const op = this.advance().value;
      const r = this.intTerm();
      v = (op === '+' ? v + r : v - r) >>> 0;
    }
    return v;
  }

  private intTerm(): number {
    let v = this.intFactor();
    while (this.isPunct('*') || this.isPunct('/')) {
      const op = this.advance();
      const r = this.intFactor();
      if (op.value === '*') v = Number((BigInt(v) * BigInt(r)) & 0xffffffffn);
      else {
        if (r === 0) throw new SyntaxError(op.pos, 'division by zero in integer expression');
        v = Math.floor(v / r);
      }
    }
    return v;
  }

  private intFactor(): number {
    if (this.tok.kind === 'number') return this.advance().num;
    if (this.isPunct('(')) {
      this.advance();
      const v = this.intExp();
      this.punct(')');
      return v;
    }
    this.fail('an integer expression');
  }
}
