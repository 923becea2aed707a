/*
 * File: codegen/type.ts
 * Purpose: MIG's IPC types: how a type specification becomes a message descriptor
 *          (msgt_name, msgt_size, msgt_number, inline, longform, deallocate) and a C-level
 *          kind, with MIG's sizes for the x86_64 GNU Mach ABI of MIG 1.8+git20221221.
 *
 * Follows GNU MIG's type.c (itShortDecl, itLongDecl, itVarArrayDecl, itArrayDecl,
 * itPtrDecl, itStructArrayDecl, itStructDecl, itCStringDecl, itCheckDecl, itUseLong),
 * rewritten; spec/mig.md §6 is the reference. Field names keep MIG's `it` vocabulary
 * without the prefix (inName, outName, varArray, indefinite, ...).
 */

import type { SourcePosition } from './diagnostic.js';

// ==== the target ABI (x86_64 GNU Mach, as this MIG was built) ==========================

/** word_size: alignment of message fields and of natural integers (this MIG: 4) */
export const WORD_SIZE = 4;
export const WORD_SIZE_BITS = 32;
export const SIZEOF_POINTER = 8;
export const SIZEOF_HEADER = 32;
export const SIZEOF_TYPE = 4;
export const SIZEOF_TYPE_LONG = 12;
/** port names are 32 bits; KernelUser/KernelServer port fields are vm_offset_t, 64 bits */
export const PORT_NAME_BITS = 32;

export const MSG_TYPE_POLYMORPHIC = 0xffffffff;
export const MSG_TYPE_STRING = 12;
export const MSG_TYPE_PORT_RECEIVE = 16;
export const MSG_TYPE_PORT_SEND = 17;
export const MSG_TYPE_PORT_SEND_ONCE = 18;

/** MACH_MSG_TYPE_PORT_ANY: a port disposition or received right (16..21) */
export function isPortName(name: number): boolean {
  return name >= 16 && name <= 21;
}

// ==== flags (type.h) ==================================================================

export const flNone = 0x00;
export const flLong = 0x01;
export const flNotLong = 0x02;
export const flDealloc = 0x04;
export const flNotDealloc = 0x08;
export const flMaybeDealloc = 0x10;
export const flServerCopy = 0x20;
export const flCountInOut = 0x40;

export type Dealloc = 'no' | 'yes' | 'maybe';

/** Warnings go to a sink so that tsmig can print them (or not) after a successful run. */
export type WarnFn = (pos: SourcePosition, message: string) => void;
export type ErrorFn = (pos: SourcePosition, message: string) => void;

// ==== the type ========================================================================

/** A member of a `struct { ... }` type, kept for typed TypeScript output. */
export interface StructField {
  name: string;
  type: IpcType;
  /** byte offset inside the structure as MIG lays it out (4-byte alignment at most) */
  offset: number;
}

export interface IpcType {
  name: string | null;
  /** size of the C type in bytes (out of line: a pointer) */
  typeSize: number;
  /** padding after the data field up to the next word */
  padSize: number;
  /** minimal room taken by the data in a message (0 for variable in-line arrays) */
  minTypeSize: number;
  alignment: number;

  inName: number;
  outName: number;
  /** msgt_size in bits per element */
  size: number;
  /** msgt_number (for in-line variable arrays: the maximum; out of line: 0) */
  number: number;
  inLine: boolean;
  longForm: boolean;
  deallocate: Dealloc;
  inNameStr: string | null;
  outNameStr: string | null;
  flags: number;

  /** passed by value in C (scalars, struct[N], struct {}, out-of-line pointers) */
  struct: boolean;
  /** a C string (copied with mig_strncpy) */
  string: boolean;
  varArray: boolean;
  /** array[]: in line up to 2048 bytes, out of line beyond */
  indefinite: boolean;
  kernelPort: boolean;
  element: IpcType | null;

  userType: string | null;
  serverType: string | null;
  transType: string | null;
  inTrans: string | null;
  inTransPayload: string | null;
  outTrans: string | null;
  destructor: string | null;

  /** `struct { T a; U b; }` members, when the type was declared that way */
  structFields: StructField[] | null;
}

/** itAlloc: MIG's prototype type (one in-line 0-bit element, passed by value). */
export function newType(): IpcType {
  return {
    name: null, typeSize: 0, padSize: 0, minTypeSize: 0, alignment: 0,
    inName: 0, outName: 0, size: 0, number: 1, inLine: true, longForm: false, deallocate: 'no',
    inNameStr: null, outNameStr: null, flags: flNone,
    struct: true, string: false, varArray: false, indefinite: false, kernelPort: false, element: null,
    userType: null, serverType: null, transType: null,
    inTrans: null, inTransPayload: null, outTrans: null, destructor: null,
    structFields: null,
  };
}

/** itCopyType: a copy whose element is the original. */
export function copyType(old: IpcType): IpcType {
  return { ...old, name: null, element: old };
}

/** itResetType: forget C types and translations (`type new = old` does not inherit them). */
export function resetType(it: IpcType): IpcType {
  it.inTrans = null;
  it.inTransPayload = null;
  it.outTrans = null;
  it.destructor = null;
  it.userType = null;
  it.serverType = null;
  it.transType = null;
  return it;
}

/** itCalculateSizeInfo: C size, padding to the next word, and the minimal message room. */
export function calculateSizeInfo(it: IpcType, warn: WarnFn, pos: SourcePosition): void {
  if (it.inLine) {
    const bytes = Math.floor((it.number * it.size + 7) / 8);
    const padding = (WORD_SIZE - (bytes % WORD_SIZE)) % WORD_SIZE;
    it.typeSize = bytes;
    it.padSize = padding;
    it.minTypeSize = it.varArray ? 0 : bytes + padding;
  } else {
    it.typeSize = SIZEOF_POINTER;
    it.padSize = 0;
    it.minTypeSize = SIZEOF_POINTER;
    it.alignment = SIZEOF_POINTER;
  }
  if ((it.number * it.size) % 8 !== 0) warn(pos, 'size of C types must be multiples of 8 bits');
  if (it.typeSize === 0 && !it.varArray) warn(pos, `sizeof(${it.name ?? '(null)'}) == 0`);
}

/** The string MIG prints for a type name it only knows as a number. */
function nameToString(n: number): string {
  return String(n >>> 0);
}

/**
 * itCalculateNameInfo: printable names and default C types; in KernelServer (KernelUser)
 * interfaces a `mach_port_t` port type becomes `ipc_port_t` on the server (user) side.
 */
export function calculateNameInfo(it: IpcType, kernel: { server: boolean; user: boolean }): void {
  if (it.inNameStr === null) it.inNameStr = nameToString(it.inName);
  if (it.outNameStr === null) it.outNameStr = nameToString(it.outName);
  if (it.userType === null) it.userType = it.name;
  if (it.serverType === null) it.serverType = it.name;
  const portish = (it.inName === MSG_TYPE_POLYMORPHIC && it.outName === MSG_TYPE_POLYMORPHIC)
    || isPortName(it.inName) || isPortName(it.outName);
  if (kernel.server && it.serverType === 'mach_port_t' && portish) {
    it.serverType = 'ipc_port_t';
    it.kernelPort = true;
  } else if (kernel.user && it.userType === 'mach_port_t' && portish) {
    it.userType = 'ipc_port_t';
    it.kernelPort = true;
  } else it.kernelPort = false;
  if (it.transType === null) it.transType = it.serverType;
}

// ==== flags, deallocate and the descriptor form ======================================

/** itCheckFlags: resolve contradictory flags (with MIG's warnings). */
export function checkFlags(flags: number, name: string, warn: WarnFn, pos: SourcePosition): number {
  if ((flags & (flLong | flNotLong)) === (flLong | flNotLong)) {
    warn(pos, `${name}: IsLong and IsNotLong cancel out`);
    flags &= ~(flLong | flNotLong);
  }
  if (flags & flMaybeDealloc && flags & (flDealloc | flNotDealloc)) {
    warn(pos, `${name}: Dealloc and NotDealloc ignored with Dealloc[]`);
    flags &= ~(flDealloc | flNotDealloc);
  }
  if ((flags & (flDealloc | flNotDealloc)) === (flDealloc | flNotDealloc)) {
    warn(pos, `${name}: Dealloc and NotDealloc cancel out`);
    flags &= ~(flDealloc | flNotDealloc);
  }
  return flags;
}

/** itCheckDeallocate: the deallocate bit the flags ask for. */
export function checkDeallocate(it: IpcType, flags: number, dfault: Dealloc, name: string, warn: WarnFn, pos: SourcePosition): Dealloc {
  let dealloc = dfault;
  if (flags & flMaybeDealloc) dealloc = 'maybe';
  if (flags & flDealloc) dealloc = 'yes';
  if (flags & flNotDealloc) dealloc = 'no';
  if (dealloc === dfault) {
    if (flags & flMaybeDealloc) warn(pos, `${name}: Dealloc[] is redundant`);
    if (flags & flDealloc) warn(pos, `${name}: Dealloc is redundant`);
    if (flags & flNotDealloc) warn(pos, `${name}: NotDealloc is redundant`);
  }
  if (flags & (flMaybeDealloc | flDealloc | flNotDealloc) && dealloc !== 'no' && it.inLine && !it.indefinite) {
    warn(pos, `${name}: Dealloc will cause an IPC error`);
  }
  return dealloc;
}

const enum UseLong { NotLong, CanBeLong, ShouldBeLong, MustBeLong, TooLong }

/** itUseLong: whether the long descriptor form is needed, advisable or possible. */
function useLong(it: IpcType): UseLong {
  let u = UseLong.NotLong;
  const inP = it.inName === MSG_TYPE_POLYMORPHIC;
  const outP = it.outName === MSG_TYPE_POLYMORPHIC;
  if (inP || outP || it.varArray) u = UseLong.CanBeLong;
  if ((it.varArray && !it.inLine) || it.indefinite) u = UseLong.ShouldBeLong;
  if ((!inP && it.inName >= 1 << 8) || (!outP && it.outName >= 1 << 8) || it.size >= 1 << 8 || it.number >= 1 << 12) {
    u = UseLong.MustBeLong;
  }
  if ((!inP && it.inName >= 1 << 16) || (!outP && it.outName >= 1 << 16) || it.size >= 1 << 16) u = UseLong.TooLong;
  return u;
}

/** itCheckIsLong: long form by default when it should be; IsLong/IsNotLong override. */
export function checkIsLong(it: IpcType, flags: number, dfault: boolean, name: string, warn: WarnFn, pos: SourcePosition): boolean {
  let islong = dfault;
  if (flags & flLong) islong = true;
  if (flags & flNotLong) islong = false;
  if (islong === dfault) {
    if (flags & flLong) warn(pos, `${name}: IsLong is redundant`);
    if (flags & flNotLong) warn(pos, `${name}: IsNotLong is redundant`);
  }
  if (flags & (flLong | flNotLong)) {
    const u = useLong(it);
    if (islong && u <= UseLong.NotLong) warn(pos, `${name}: doesn't need IsLong`);
    if (!islong && u >= UseLong.MustBeLong) warn(pos, `${name}: too big for IsNotLong`);
  }
  return islong;
}

/** The context every constructor needs: diagnostics and the interface's kernel side. */
export interface TypeContext {
  warn: WarnFn;
  error: ErrorFn;
  kernel: { server: boolean; user: boolean };
}

/**
 * itCheckDecl: a named type (a `type` statement or an inline argument type) is complete:
 * names, sanity checks, deallocate and descriptor form.
 */
export function checkDecl(name: string, it: IpcType, cx: TypeContext, pos: SourcePosition): void {
  it.name = name;
  calculateNameInfo(it, cx.kernel);
  if (it.varArray) {
    if (it.inTrans !== null || it.inTransPayload !== null || it.outTrans !== null) cx.error(pos, `${name}: can't translate variable-sized arrays`);
    if (it.destructor !== null) cx.error(pos, `${name}: can't destroy variable-sized array`);
  }
  if (it.varArray && it.inLine && (it.element?.userType == null || it.element.serverType == null)) {
    cx.error(pos, `${name}: variable-sized in-line arrays need a named base type`);
  }
  it.flags = checkFlags(it.flags, name, cx.warn, pos);
  it.deallocate = checkDeallocate(it, it.flags, 'no', name, cx.warn, pos);
  const u = useLong(it);
  if (u === UseLong.TooLong) cx.warn(pos, `${name}: too big for mach_msg_type_long_t`);
  it.longForm = checkIsLong(it, it.flags, u >= UseLong.ShouldBeLong, name, cx.warn, pos);
}

// ==== constructors (one per type specification) ======================================

/** itLongDecl: `(name, size, flags...)`, or `(in|out, size, ...)`. */
export function longDecl(
  ipc: { inName: number; inStr: string | null; outName: number; outStr: string | null },
  defsize: number, size: number, flags: number, cx: TypeContext, pos: SourcePosition,
): IpcType {
  if (defsize !== 0 && defsize !== size) cx.warn(pos, `IPC type decl has strange size (${size} instead of ${defsize})`);
  const it = newType();
  it.inName = ipc.inName;
  it.inNameStr = ipc.inStr;
  it.outName = ipc.outName;
  it.outNameStr = ipc.outStr;
  it.size = size;
  it.alignment = Math.min(WORD_SIZE, Math.floor(size / 8));
  if (ipc.inName === MSG_TYPE_STRING) {
    it.struct = false;
    it.string = true;
  }
  it.flags = flags;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itShortDecl: a bare name takes its default size; no default size is an error. */
export function shortDecl(
  ipc: { inName: number; inStr: string | null; outName: number; outStr: string | null; size: number },
  cx: TypeContext, pos: SourcePosition,
): IpcType {
  if (ipc.size === 0) cx.error(pos, 'must use full IPC type decl');
  return longDecl(ipc, ipc.size, ipc.size, flNone, cx, pos);
}

/** itVarArrayDecl: `array[] of T` (number 0: indefinite) or `array[*:N] of T`. */
export function varArrayDecl(number: number, old: IpcType, cx: TypeContext, pos: SourcePosition): IpcType {
  const it = resetType(copyType(old));
  if (!it.inLine || it.varArray) cx.error(pos, 'IPC type decl is too complicated');
  if (number !== 0) it.number = (it.number * number) >>> 0;
  else {
    // At most 2048 bytes travel in line.
    const bytes = Math.floor((it.number * it.size + 7) / 8);
    if (bytes === 0) {
      // GNU MIG divides by zero here and dies (SIGFPE): the file is rejected either way.
      cx.error(pos, 'variable-sized array of zero-sized elements');
      it.number = 0;
    } else it.number = Math.floor(2048 / bytes) * it.number;
    it.indefinite = true;
  }
  it.varArray = true;
  it.struct = false;
  it.string = false;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itArrayDecl: `array[N] of T`. */
export function arrayDecl(number: number, old: IpcType, cx: TypeContext, pos: SourcePosition): IpcType {
  const it = resetType(copyType(old));
  if (!it.inLine || it.varArray) cx.error(pos, 'IPC type decl is too complicated');
  it.number = (it.number * number) >>> 0;
  it.struct = false;
  it.string = false;
  it.alignment = old.alignment;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itPtrDecl: `^ T`, out of line (changes T in place, as MIG does). */
export function ptrDecl(it: IpcType, cx: TypeContext, pos: SourcePosition): IpcType {
  if (!it.inLine || (it.varArray && !it.indefinite && it.number > 0)) cx.error(pos, 'IPC type decl is too complicated');
  it.number = 0;
  it.indefinite = false;
  it.inLine = false;
  it.struct = true;
  it.string = false;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itStructArrayDecl: `struct[N] of T` (like an array, but assignable in C). */
export function structArrayDecl(number: number, old: IpcType, cx: TypeContext, pos: SourcePosition): IpcType {
  const it = resetType(copyType(old));
  if (!it.inLine || it.varArray) cx.error(pos, 'IPC type decl is too complicated');
  it.number = (it.number * number) >>> 0;
  it.struct = true;
  it.string = false;
  it.alignment = old.alignment;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/**
 * itStructDecl: `struct { ... }` of `size` bytes and the largest member alignment: sent as
 * that many shorts (alignment 2), ints (4) or bytes (anything else).
 */
export function structDecl(size: number, alignment: number, base: { short: IpcType; int: IpcType; byte: IpcType }, cx: TypeContext, pos: SourcePosition): IpcType {
  let bytes = size;
  if (alignment !== 0 && bytes % alignment) bytes += alignment - (bytes % alignment);
  let element: IpcType;
  let n: number;
  if (alignment === 2) { element = base.short; n = bytes / 2; }
  else if (alignment === 4) { element = base.int; n = bytes / 4; }
  else { element = base.byte; n = bytes; }
  const it = resetType(copyType(element));
  it.number = n;
  it.struct = true;
  it.string = false;
  it.alignment = alignment;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itCStringDecl: `c_string[N]` / `c_string[*:N]`, an array of (MACH_MSG_TYPE_STRING_C, 8). */
export function cStringDecl(count: number, varying: boolean, cx: TypeContext, pos: SourcePosition): IpcType {
  const element = shortDecl({ inName: MSG_TYPE_STRING, inStr: 'MACH_MSG_TYPE_STRING_C', outName: MSG_TYPE_STRING, outStr: 'MACH_MSG_TYPE_STRING_C', size: 8 }, cx, pos);
  checkDecl('char', element, cx, pos);
  const it = resetType(copyType(element));
  it.number = count;
  it.varArray = varying;
  it.struct = false;
  it.string = true;
  it.alignment = element.alignment;
  calculateSizeInfo(it, cx.warn, pos);
  return it;
}

/** itCIntTypeDecl: the predefined C integers (char, short, int, uintptr_t, intptr_t). */
function cIntType(name: string, bytes: number, cx: TypeContext, pos: SourcePosition): IpcType {
  const sym = bytes === 1 ? ['MACH_MSG_TYPE_CHAR', 8] : bytes === 2 ? ['MACH_MSG_TYPE_INTEGER_16', 1] : bytes === 4 ? ['MACH_MSG_TYPE_INTEGER_32', 2] : ['MACH_MSG_TYPE_INTEGER_64', 11];
  const it = shortDecl({ inName: sym[1] as number, inStr: sym[0] as string, outName: sym[1] as number, outStr: sym[0] as string, size: bytes * 8 }, cx, pos);
  it.name = name;
  it.alignment = bytes;
  calculateNameInfo(it, cx.kernel);
  return it;
}

/** A natural-sized (word) integer type: counts, poly names, timeouts, options. */
function naturalType(name: string, cx: TypeContext, pos: SourcePosition, inStr = 'MACH_MSG_TYPE_INTEGER_32', inName = 2): IpcType {
  const it = newType();
  it.name = name;
  it.inName = it.outName = inName;
  it.inNameStr = it.outNameStr = inStr;
  it.size = WORD_SIZE_BITS;
  calculateSizeInfo(it, cx.warn, pos);
  calculateNameInfo(it, cx.kernel);
  return it;
}

/** The types MIG creates when it reads the subsystem statement (init_type). */
export interface BuiltinTypes {
  byte: IpcType;
  short: IpcType;
  int: IpcType;
  retCode: IpcType;
  requestPort: IpcType;
  zeroReplyPort: IpcType;
  realReplyPort: IpcType;
  waitTime: IpcType;
  msgOption: IpcType;
  /** named, in the symbol table: char, short, int, uintptr_t, intptr_t */
  named: Map<string, IpcType>;
  makeCount(): IpcType;
  makePoly(): IpcType;
  makeDealloc(): IpcType;
}

export function builtinTypes(cx: TypeContext, portBits: number, pos: SourcePosition): BuiltinTypes {
  const port = (inName: number, inStr: string, outName: number, outStr: string): IpcType => {
    const it = newType();
    it.name = 'mach_port_t';
    it.inName = inName; it.inNameStr = inStr;
    it.outName = outName; it.outNameStr = outStr;
    it.size = portBits;
    calculateSizeInfo(it, cx.warn, pos);
    calculateNameInfo(it, cx.kernel);
    return it;
  };
  const byte = newType();
  byte.name = 'unsigned char';
  byte.inName = byte.outName = 9;
  byte.inNameStr = byte.outNameStr = 'MACH_MSG_TYPE_BYTE';
  byte.size = 8;
  calculateSizeInfo(byte, cx.warn, pos);
  calculateNameInfo(byte, cx.kernel);
  const named = new Map<string, IpcType>();
  named.set('char', cIntType('char', 1, cx, pos));
  const short = cIntType('short', 2, cx, pos);
  named.set('short', short);
  const int = cIntType('int', 4, cx, pos);
  named.set('int', int);
  named.set('uintptr_t', cIntType('uintptr_t', 8, cx, pos));
  named.set('intptr_t', cIntType('intptr_t', 8, cx, pos));
  return {
    byte, short, int, named,
    retCode: naturalType('kern_return_t', cx, pos),
    requestPort: port(19, 'MACH_MSG_TYPE_COPY_SEND', MSG_TYPE_PORT_SEND, 'MACH_MSG_TYPE_PORT_SEND'),
    zeroReplyPort: port(0, '0', 0, '0'),
    realReplyPort: port(21, 'MACH_MSG_TYPE_MAKE_SEND_ONCE', MSG_TYPE_PORT_SEND_ONCE, 'MACH_MSG_TYPE_PORT_SEND_ONCE'),
    waitTime: naturalType('mach_msg_timeout_t', cx, pos),
    msgOption: naturalType('mach_msg_option_t', cx, pos),
    makeCount: () => naturalType('mach_msg_type_number_t', cx, pos),
    makePoly: () => naturalType('mach_msg_type_name_t', cx, pos),
    makeDealloc: () => naturalType('boolean_t', cx, pos, 'MACH_MSG_TYPE_BOOLEAN', 0),
  };
}

// ==== checks used by routine.ts =======================================================

/** itCheckRequestPortType */
export function isProperRequestPort(it: IpcType, portBits: number): boolean {
  return (it.outName === MSG_TYPE_PORT_SEND || it.outName === MSG_TYPE_PORT_SEND_ONCE || it.outName === MSG_TYPE_POLYMORPHIC)
    && it.number === 1 && it.size === portBits && it.inLine && it.deallocate === 'no' && it.struct && !it.varArray;
}

/** itCheckReplyPortType */
export function isProperReplyPort(it: IpcType, portBits: number): boolean {
  return (it.outName === MSG_TYPE_PORT_SEND || it.outName === MSG_TYPE_PORT_SEND_ONCE || it.outName === MSG_TYPE_POLYMORPHIC || it.outName === 0)
    && it.number === 1 && it.size === portBits && it.inLine && it.deallocate === 'no' && it.struct && !it.varArray;
}

/** itCheckNaturalType: a word-sized MACH_MSG_TYPE_INTEGER_32 scalar */
export function isNaturalInt(it: IpcType): boolean {
  return it.inName === 2 && it.outName === 2 && it.number === 1 && it.size === WORD_SIZE_BITS
    && it.inLine && it.deallocate === 'no' && it.struct && !it.varArray;
}
