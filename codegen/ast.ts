/*
 * File: codegen/ast.ts
 * Purpose: the syntax tree of a .defs file, as GNU MIG's grammar (parser.y) shapes it.
 *
 * Integer expressions are already evaluated (unsigned 32-bit, as MIG does in its parser)
 * and every symbolic IPC type already carries the size it had when it was lexed: after a
 * `subsystem KernelUser`/`KernelServer` statement port rights are 64 bits, before it 32.
 */

import type { SourcePosition } from './diagnostic.js';

/** A primitive IPC type name: a number, a MACH_MSG_TYPE_* symbol or `polymorphic`. */
export interface IpcTypeName {
  inName: number;
  /** the string MIG prints for it (the symbol as written), or null for a number */
  inStr: string | null;
  outName: number;
  outStr: string | null;
  /** default size in bits (0 = the declaration must give one) */
  size: number;
  pos: SourcePosition;
}

export type IpcFlagName = 'islong' | 'isnotlong' | 'dealloc' | 'notdealloc' | 'servercopy' | 'countinout' | 'retcode';

export interface IpcFlagSpec {
  flag: IpcFlagName;
  /** `Dealloc[]` */
  variable: boolean;
  pos: SourcePosition;
}

export type TypeSpec =
  | { kind: 'ipc'; pos: SourcePosition; ipc: IpcTypeName }
  | { kind: 'ipclong'; pos: SourcePosition; ipc: IpcTypeName; size: number; flags: IpcFlagSpec[] }
  | { kind: 'prev'; pos: SourcePosition; name: string }
  | { kind: 'vararray'; pos: SourcePosition; max: number; of: TypeSpec }   // max 0: array[] / array[*]
  | { kind: 'array'; pos: SourcePosition; number: number; of: TypeSpec }
  | { kind: 'pointer'; pos: SourcePosition; of: TypeSpec }
  | { kind: 'structarray'; pos: SourcePosition; number: number; of: TypeSpec }
  | { kind: 'struct'; pos: SourcePosition; members: StructMember[] }
  | { kind: 'cstring'; pos: SourcePosition; number: number; varying: boolean };

export interface StructMember {
  typeName: string;
  typePos: SourcePosition;
  fieldName: string;
  fieldPos: SourcePosition;
}

export type TypeAttribute =
  | { kind: 'intran'; pos: SourcePosition; transType: string; fn: string; serverType: string }
  | { kind: 'intranpayload'; pos: SourcePosition; transType: string; fn: string }
  | { kind: 'outtran'; pos: SourcePosition; serverType: string; fn: string; transType: string }
  | { kind: 'destructor'; pos: SourcePosition; fn: string; transType: string }
  | { kind: 'ctype' | 'cusertype' | 'cservertype'; pos: SourcePosition; name: string };

/** `name = spec attributes...` (a `type` statement, or a type declared inline in an argument) */
export interface NamedTypeSpec {
  name: string;
  pos: SourcePosition;
  spec: TypeSpec;
  attributes: TypeAttribute[];
}

export type Direction =
  | 'in' | 'out' | 'inout' | 'requestport' | 'replyport' | 'sreplyport' | 'ureplyport'
  | 'waittime' | 'msgoption' | 'msgseqno';

export interface ArgumentNode {
  direction: Direction | null;
  name: string;
  pos: SourcePosition;
  type: { ref: string; pos: SourcePosition } | { named: NamedTypeSpec };
  flags: IpcFlagSpec[];
}

export type Statement =
  | { kind: 'subsystem'; pos: SourcePosition; kernelUser: SourcePosition[]; kernelServer: SourcePosition[]; name: string; base: number }
  | { kind: 'waittime'; pos: SourcePosition; value: string | null }
  | { kind: 'msgoption'; pos: SourcePosition; value: string }
  | { kind: 'error'; pos: SourcePosition; name: string }
  | { kind: 'serverprefix' | 'userprefix' | 'serverdemux'; pos: SourcePosition; name: string }
  | { kind: 'type'; pos: SourcePosition; type: NamedTypeSpec }
  | { kind: 'routine'; pos: SourcePosition; oneway: boolean; name: string; args: ArgumentNode[] }
  | { kind: 'skip'; pos: SourcePosition; count: number }
  | { kind: 'import'; pos: SourcePosition; side: 'both' | 'user' | 'server'; file: string }
  | { kind: 'rcsid'; pos: SourcePosition; value: string };
