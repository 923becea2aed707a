/*
 * File: codegen/compile.ts
 * Purpose: tsmig's semantic pass: parse preprocessed text and walk the statements in order
 *          as GNU MIG's parser actions do (symbol table, prefixes, global msgoption/waittime,
 *          routine numbering), producing the checked model every emitter reads.
 *
 * Errors do not stop the walk (MIG reports as many as it can) but any error means the
 * compile fails as a whole: CompileErrors is thrown and nothing is written.
 */

import type { ArgumentNode, IpcFlagSpec, NamedTypeSpec, Statement, TypeSpec } from './ast.js';
import { CompileError, CompileErrors, type Diagnostic, type SourcePosition } from './diagnostic.js';
import { parse } from './parser.js';
import { akeNone, checkRoutine, DIRECTION_KINDS, newArgument, type Argument, type Routine, type RoutineContext } from './routine.js';
import {
  arrayDecl, builtinTypes, checkDecl, copyType, cStringDecl, flCountInOut, flDealloc, flLong, flMaybeDealloc, flNone,
  flNotDealloc, flNotLong, flServerCopy, longDecl, PORT_NAME_BITS, ptrDecl, resetType, shortDecl, structArrayDecl,
  structDecl, varArrayDecl, newType, type BuiltinTypes, type IpcType, type StructField, type TypeContext,
} from './type.js';

/** What the emitters see, in file order: routines, skips and imports interleaved. */
export type ModuleItem =
  | { kind: 'routine'; routine: Routine }
  | { kind: 'skip'; number: number; count: number }
  | { kind: 'import'; side: 'both' | 'user' | 'server'; file: string };

export interface MigModule {
  /** the .defs file compiled */
  file: string;
  subsystem: { name: string; base: number; kernelUser: boolean; kernelServer: boolean };
  items: ModuleItem[];
  routines: Routine[];
  /** count of routine numbers used, skips included (the demux accepts base .. base+total-1) */
  total: number;
  serverDemux: string;
  rcsid: string | null;
  /** named types of the file, in declaration order (last definition wins) */
  types: Map<string, IpcType>;
  warnings: Diagnostic[];
  /** every file read by the preprocessor */
  files: string[];
}

/** Compile already-preprocessed text (`locate` maps offsets back to source positions). */
export function compilePreprocessed(file: string, text: string, locate: (offset: number) => SourcePosition, files: string[] = [file]): MigModule {
  let parsed;
  try {
    parsed = parse(text, locate);
  } catch (e) {
    if (e instanceof CompileError) throw new CompileErrors([e]);
    throw e;
  }
  const walker = new Walker(file);
  walker.errors.push(...parsed.errors);
  for (const st of parsed.statements) walker.statement(st);
  return walker.finish(files);
}

// ==== the walk ========================================================================

class Walker implements RoutineContext {
  readonly errors: CompileError[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly types = new Map<string, IpcType>();
  readonly items: ModuleItem[] = [];
  readonly routines: Routine[] = [];
  private readonly file: string;
  private subsystem: MigModule['subsystem'] | null = null;
  private builtinSet: BuiltinTypes | null = null;
  private rtNumber = 0;
  private serverDemuxName: string | null = null;
  private rcsid: string | null = null;

  portBits = PORT_NAME_BITS;
  kernelServer = false;
  kernelUser = false;
  msgOption: string | null = null;
  waitTime: string | null = null;
  serverPrefix = '';
  userPrefix = '';

  constructor(file: string) {
    this.file = file;
  }

  get kernel(): TypeContext['kernel'] {
    return { server: this.kernelServer, user: this.kernelUser };
  }
  get builtins(): BuiltinTypes {
    return this.builtinSet!;
  }
  readonly warn = (pos: SourcePosition, message: string): void => {
    this.warnings.push({ pos, severity: 'warning', message });
  };
  readonly error = (pos: SourcePosition, message: string): void => {
    this.errors.push(new CompileError(pos, message));
  };
  hasErrors(): boolean {
    return this.errors.length > 0;
  }

  statement(st: Statement): void {
    switch (st.kind) {
      case 'subsystem': return this.subsystemStatement(st);
      case 'waittime': this.waitTime = st.value; return;
      case 'msgoption': this.msgOption = st.value === 'MACH_MSG_OPTION_NONE' ? null : st.value; return;
      case 'error': return; // accepted, unused (MIG's ErrorProc)
      case 'serverprefix': this.serverPrefix = st.name; return;
      case 'userprefix': this.userPrefix = st.name; return;
      case 'serverdemux': this.serverDemuxName = st.name; return;
      case 'rcsid':
        if (this.rcsid !== null) this.warn(st.pos, 'previous RCS decl will be ignored');
        this.rcsid = st.value;
        return;
      case 'import': this.items.push({ kind: 'import', side: st.side, file: st.file }); return;
      case 'skip':
        this.items.push({ kind: 'skip', number: this.rtNumber, count: st.count });
        this.rtNumber += st.count;
        return;
      case 'type': return this.typeStatement(st.type);
      case 'routine': return this.routineStatement(st);
    }
  }

  private subsystemStatement(st: Extract<Statement, { kind: 'subsystem' }>): void {
    if (this.subsystem !== null) {
      this.warn(st.pos, `previous Subsystem decl (of ${this.subsystem.name}) will be ignored`);
      // GNU MIG then stops: its basic types cannot be set up twice.
      this.error(st.pos, 'Basic types were already initialized');
      return;
    }
    for (const p of st.kernelUser.slice(1)) this.warn(p, 'duplicate KernelUser keyword');
    for (const p of st.kernelServer.slice(1)) this.warn(p, 'duplicate KernelServer keyword');
    this.kernelUser = st.kernelUser.length > 0;
    this.kernelServer = st.kernelServer.length > 0;
    if (this.kernelUser || this.kernelServer) this.portBits = 64;
    this.subsystem = { name: st.name, base: st.base, kernelUser: this.kernelUser, kernelServer: this.kernelServer };
    this.builtinSet = builtinTypes(this, this.portBits, st.pos);
    for (const [name, it] of this.builtinSet.named) this.types.set(name, it);
  }

  // ==== types ==========================================================================

  /** itLookUp, with MIG's complaint when no subsystem statement came first. */
  private lookUp(name: string, pos: SourcePosition): IpcType | null | 'uninitialized' {
    if (this.builtinSet === null) {
      this.error(pos, `Basic types not initialized when looking up type ${name}. Did you forget to define the subsystem?`);
      return 'uninitialized';
    }
    return this.types.get(name) ?? null;
  }

  private typeStatement(named: NamedTypeSpec): void {
    const it = this.namedType(named);
    if (this.lookUp(named.name, named.pos) !== null && this.builtinSet !== null) {
      this.error(named.pos, `overriding previous definition of ${named.name}`);
    }
    this.types.set(named.name, it);
  }

  /** NamedTypeSpec: a type spec, its attributes, then itCheckDecl. */
  private namedType(named: NamedTypeSpec): IpcType {
    const it = resetType(this.typeSpec(named.spec));
    const conflict = (what: string, old: string | null, now: string, pos: SourcePosition): string => {
      if (old !== null && old !== now) this.warn(pos, `conflicting ${what} (${old}, ${now})`);
      return now;
    };
    for (const a of named.attributes) {
      switch (a.kind) {
        case 'intran':
          it.transType = conflict('translation types', it.transType, a.transType, a.pos);
          it.inTrans = conflict('in-translation functions', it.inTrans, a.fn, a.pos);
          it.serverType = conflict('server types', it.serverType, a.serverType, a.pos);
          break;
        case 'intranpayload':
          it.transType = conflict('translation types', it.transType, a.transType, a.pos);
          it.inTransPayload = conflict('in-translation functions', it.inTransPayload, a.fn, a.pos);
          break;
        case 'outtran':
          it.serverType = conflict('server types', it.serverType, a.serverType, a.pos);
          it.outTrans = conflict('out-translation functions', it.outTrans, a.fn, a.pos);
          it.transType = conflict('translation types', it.transType, a.transType, a.pos);
          break;
        case 'destructor':
          it.destructor = conflict('destructor functions', it.destructor, a.fn, a.pos);
          it.transType = conflict('translation types', it.transType, a.transType, a.pos);
          break;
        case 'ctype':
          it.userType = conflict('user types', it.userType, a.name, a.pos);
          it.serverType = conflict('server types', it.serverType, a.name, a.pos);
          break;
        case 'cusertype': it.userType = conflict('user types', it.userType, a.name, a.pos); break;
        case 'cservertype': it.serverType = conflict('server types', it.serverType, a.name, a.pos); break;
      }
    }
    checkDecl(named.name, it, this, named.pos);
    return it;
  }

  /** itPrevDecl: a copy of a declared type. */
  private prevDecl(name: string, pos: SourcePosition): IpcType {
    const old = this.lookUp(name, pos);
    if (old === 'uninitialized') return newType();
    if (old === null) {
      this.error(pos, `type '${name}' not defined`);
      return newType();
    }
    return copyType(old);
  }

  private typeSpec(spec: TypeSpec): IpcType {
    const pos = spec.pos;
    switch (spec.kind) {
      case 'ipc': return shortDecl(spec.ipc, this, spec.ipc.pos);
      case 'ipclong': return longDecl(spec.ipc, spec.ipc.size, spec.size, this.flagMask(spec.flags), this, pos);
      case 'prev': return this.prevDecl(spec.name, pos);
      case 'vararray': return varArrayDecl(spec.max, this.typeSpec(spec.of), this, pos);
      case 'array': return arrayDecl(spec.number, this.typeSpec(spec.of), this, pos);
      case 'pointer': return ptrDecl(this.typeSpec(spec.of), this, pos);
      case 'structarray': return structArrayDecl(spec.number, this.typeSpec(spec.of), this, pos);
      case 'cstring': return cStringDecl(spec.number, spec.varying, this, pos);
      case 'struct': return this.structSpec(spec);
    }
  }

  /** `struct { T1 f1; T2 f2; ... }`: members padded to their alignment (at most 4 here). */
  private structSpec(spec: Extract<TypeSpec, { kind: 'struct' }>): IpcType {
    let size = 0;
    let alignment = 0;
    const fields: StructField[] = [];
    let ok = true;
    for (const [i, m] of spec.members.entries()) {
      const t = this.prevDecl(m.typeName, m.typePos);
      if (this.builtinSet === null || !this.types.has(m.typeName)) {
        ok = false; // already reported; its placeholder has no size or alignment to complain about
        continue;
      }
      if (!t.inLine) this.error(m.typePos, `Type ${m.typeName} must be inline`);
      if (i === 0) {
        alignment = t.alignment;
        fields.push({ name: m.fieldName, type: t, offset: 0 });
        size = t.typeSize;
        continue;
      }
      alignment = Math.max(alignment, t.alignment);
      if (t.alignment === 0) {
        // GNU MIG divides by this alignment and dies: such a struct is rejected.
        this.error(m.typePos, `struct member ${m.fieldName} has no alignment (size below 8 bits)`);
        ok = false;
        continue;
      }
      if (size % t.alignment) size += t.alignment - (size % t.alignment);
      fields.push({ name: m.fieldName, type: t, offset: size });
      size += t.typeSize;
    }
    if (alignment === 0 && ok) this.error(spec.pos, 'struct has no alignment (members below 8 bits)');
    const it = structDecl(size, alignment, this.builtins ?? { short: newType(), int: newType(), byte: newType() }, this, spec.pos);
    it.structFields = fields;
    return it;
  }

  /** IPCFlags: OR the flags together (MIG's "redundant" and "only Dealloc is variable" warnings). */
  private flagMask(flags: IpcFlagSpec[]): number {
    let mask = flNone;
    for (const f of flags) {
      const bit = { islong: flLong, isnotlong: flNotLong, dealloc: flDealloc, notdealloc: flNotDealloc, servercopy: flServerCopy, countinout: flCountInOut, retcode: flNone }[f.flag];
      if (f.variable) {
        if (bit !== flDealloc) this.warn(f.pos, 'only Dealloc is variable');
        else mask |= flMaybeDealloc;
      } else if (mask & bit) this.warn(f.pos, 'redundant IPC flag ignored');
      else mask |= bit;
    }
    return mask;
  }

  // ==== routines =======================================================================

  private routineStatement(st: Extract<Statement, { kind: 'routine' }>): void {
    const number = this.rtNumber++;
    const declared: Argument[] = st.args.map((a) => this.argument(a));
    if (this.builtinSet === null) return; // already reported at the first type lookup
    const rt = checkRoutine(st.name, st.pos, st.oneway, number, declared, this);
    this.routines.push(rt);
    this.items.push({ kind: 'routine', routine: rt });
  }

  private argument(a: ArgumentNode): Argument {
    let type: IpcType | null;
    if ('ref' in a.type) {
      const found = this.lookUp(a.type.ref, a.type.pos);
      if (found === null) this.error(a.type.pos, `type '${a.type.ref}' not defined`);
      type = found === 'uninitialized' ? null : found;
    } else type = this.namedType(a.type.named);
    const arg = newArgument(a.name, a.pos, a.direction ? DIRECTION_KINDS[a.direction]! : akeNone, type);
    arg.flags = this.flagMask(a.flags);
    return arg;
  }

  finish(files: string[]): MigModule {
    if (this.subsystem === null && this.errors.length === 0) {
      this.errors.push(new CompileError({ file: this.file, line: 1, column: 1 }, 'no SubSystem declaration')); // a whole-file error
    }
    const duplicates = new Map<string, Routine>();
    for (const rt of this.routines) {
      const prev = duplicates.get(rt.name);
      // GNU MIG would emit two C functions of one name, which its output then fails to compile.
      if (prev) this.error(rt.pos, `routine ${rt.name} already declared at line ${prev.pos.line}`);
      duplicates.set(rt.name, rt);
    }
    if (this.errors.length > 0) {
      this.errors.sort((a, b) => (a.pos.file === b.pos.file ? a.pos.line - b.pos.line || a.pos.column - b.pos.column : 0));
      throw new CompileErrors(this.errors);
    }
    const sub = this.subsystem!;
    return {
      file: this.file,
      subsystem: sub,
      items: this.items,
      routines: this.routines,
      total: this.rtNumber,
      serverDemux: this.serverDemuxName ?? `${sub.name}_server`,
      rcsid: this.rcsid,
      types: this.types,
      warnings: this.warnings,
      files,
    };
  }
}
