/*
 * File: codegen/routine.ts
 * Purpose: MIG's routines and arguments: directions, implicit arguments (counts, poly
 *          names, dealloc and server-copy flags, CountInOut), default request/reply ports,
 *          message ids, header dispositions, the complex bit and message sizes.
 *
 * Follows GNU MIG's routine.c (rtCheckRoutine and the functions it calls), rewritten.
 * Argument kinds keep MIG's representation (an `ake` identity in the low bits plus `akb`
 * feature bits) because every generator decision is phrased in those bits.
 */

import type { SourcePosition } from './diagnostic.js';
import {
  checkDeallocate, checkFlags, checkIsLong, flCountInOut, flDealloc, flServerCopy, isNaturalInt, isPortName,
  isProperReplyPort, isProperRequestPort, MSG_TYPE_POLYMORPHIC, SIZEOF_HEADER, SIZEOF_TYPE, SIZEOF_TYPE_LONG,
  WORD_SIZE, type BuiltinTypes, type Dealloc, type IpcType, type TypeContext,
} from './type.js';

// ==== argument kinds (routine.h) =======================================================

export const akeNone = 0;
export const akeNormal = 1;
export const akeRequestPort = 2;
export const akeWaitTime = 3;
export const akeReplyPort = 4;
export const akeMsgOption = 5;
export const akeMsgSeqno = 6;
export const akeRetCode = 7;
export const akeReturn = 8;
export const akeCount = 9;
export const akePoly = 10;
export const akeDealloc = 11;
export const akeServerCopy = 12;
export const akeCountInOut = 13;
const akeBITS = 0x3f;

export const akbRequest = 0x40;
export const akbReply = 0x80;
export const akbUserArg = 0x100;
export const akbServerArg = 0x200;
export const akbSend = 0x400;
export const akbSendBody = 0x800;
export const akbSendSnd = 0x1000;
export const akbSendRcv = 0x2000;
export const akbReturn = 0x4000;
export const akbReturnBody = 0x8000;
export const akbReturnSnd = 0x10000;
export const akbReturnRcv = 0x20000;
export const akbReplyInit = 0x40000;
export const akbRequestQC = 0x80000;
export const akbReplyQC = 0x100000;
export const akbReplyCopy = 0x200000;
export const akbVarNeeded = 0x400000;
export const akbDestroy = 0x800000;
export const akbVariable = 0x1000000;
export const akbIndefinite = 0x2000000;
export const akbPointer = 0x4000000;

const akbSendBits = akbSend | akbSendBody | akbSendSnd | akbSendRcv;
const akbReturnBits = akbReturn | akbReturnBody | akbReturnSnd | akbReturnRcv;

export const akIn = akeNormal | akbUserArg | akbServerArg | akbRequest | akbSendBits;
export const akOut = akeNormal | akbUserArg | akbServerArg | akbReply | akbReturnBits | akbReplyInit;
export const akInOut = akeNormal | akbUserArg | akbServerArg | akbRequest | akbReply | akbSendBits | akbReturnBits | akbReplyInit | akbReplyCopy;
export const akRequestPort = akeRequestPort | akbUserArg | akbServerArg | akbSend | akbSendSnd | akbSendRcv;
export const akWaitTime = akeWaitTime | akbUserArg;
export const akMsgOption = akeMsgOption | akbUserArg;
export const akMsgSeqno = akeMsgSeqno | akbServerArg | akbSend | akbSendRcv;
export const akReplyPort = akeReplyPort | akbUserArg | akbServerArg | akbSend | akbSendSnd | akbSendRcv;
export const akUReplyPort = akeReplyPort | akbUserArg | akbSend | akbSendSnd | akbSendRcv;
export const akSReplyPort = akeReplyPort | akbServerArg | akbSend | akbSendSnd | akbSendRcv;
export const akRetCode = akeRetCode | akbReply;
export const akCount = akeCount | akbUserArg | akbServerArg;
export const akDealloc = akeDealloc | akbUserArg;
export const akServerCopy = akeServerCopy | akbServerArg | akbSendRcv;
export const akCountInOut = akeCountInOut | akbRequest | akbSendBits;

export const akIdent = (k: number): number => k & akeBITS;
export const akCheck = (k: number, bits: number): boolean => (k & bits) !== 0;
export const akCheckAll = (k: number, bits: number): boolean => (k & bits) === bits;

export const DIRECTION_KINDS: Readonly<Record<string, number>> = {
  in: akIn, out: akOut, inout: akInOut, requestport: akRequestPort, replyport: akReplyPort,
  sreplyport: akSReplyPort, ureplyport: akUReplyPort, waittime: akWaitTime, msgoption: akMsgOption,
  msgseqno: akMsgSeqno,
};

// ==== arguments and routines ==========================================================

export interface Argument {
  name: string;
  pos: SourcePosition;
  kind: number;
  /** null only after an error (an undefined type) */
  type: IpcType | null;
  /** the C variable / parameter name (for dummy args: the global value, e.g. a timeout macro) */
  varName: string | null;
  msgField: string;
  ttName: string;
  flags: number;
  deallocate: Dealloc;
  longForm: boolean;
  serverCopy: boolean;
  countInOut: boolean;
  count: Argument | null;
  cInOut: Argument | null;
  poly: Argument | null;
  dealloc: Argument | null;
  sCopy: Argument | null;
  parent: Argument | null;
  /** for a count: elements of the IPC type per C element */
  multiplier: number;
  requestPos: number;
  replyPos: number;
  byReferenceUser: boolean;
  byReferenceServer: boolean;
}

export interface Routine {
  name: string;
  pos: SourcePosition;
  oneway: boolean;
  number: number;
  /** RoutinePrefix + UserPrefix + name */
  userName: string;
  /** RoutinePrefix + ServerPrefix + name */
  serverName: string;
  /** every argument, explicit and implicit, in MIG's order */
  args: Argument[];
  requestPort: Argument | null;
  uReplyPort: Argument | null;
  sReplyPort: Argument | null;
  retCode: Argument;
  waitTime: Argument | null;
  msgOption: Argument | null;
  msgSeqno: Argument | null;
  simpleFixedRequest: boolean;
  simpleSendRequest: boolean;
  simpleCheckRequest: boolean;
  simpleReceiveRequest: boolean;
  simpleFixedReply: boolean;
  simpleSendReply: boolean;
  simpleCheckReply: boolean;
  simpleReceiveReply: boolean;
  /** minimal size of a legal request / reply (the exact size when nothing is variable) */
  requestSize: number;
  replySize: number;
  numRequestVar: number;
  numReplyVar: number;
  maxRequestPos: number;
  maxReplyPos: number;
  noReplyArgs: boolean;
}

export function newArgument(name: string, pos: SourcePosition, kind: number, type: IpcType | null): Argument {
  return {
    name, pos, kind, type, varName: null, msgField: '', ttName: '', flags: 0, deallocate: 'no', longForm: false,
    serverCopy: false, countInOut: false, count: null, cInOut: null, poly: null, dealloc: null, sCopy: null,
    parent: null, multiplier: 1, requestPos: 0, replyPos: 0, byReferenceUser: false, byReferenceServer: false,
  };
}

/** What rtCheckRoutine needs from the file being compiled. */
export interface RoutineContext extends TypeContext {
  builtins: BuiltinTypes;
  portBits: number;
  kernelServer: boolean;
  kernelUser: boolean;
  msgOption: string | null;
  waitTime: string | null;
  serverPrefix: string;
  userPrefix: string;
  /** true once any error was reported in the file: MIG then skips the layout work */
  hasErrors(): boolean;
}

/**
 * rtCheckRoutine: complete a routine: implicit arguments, default ports, checks, and the
 * message shape. `args` are the declared arguments; the routine number is given.
 */
export function checkRoutine(name: string, pos: SourcePosition, oneway: boolean, number: number, declared: Argument[], cx: RoutineContext): Routine {
  const args: Argument[] = [];
  const rt: Routine = {
    name, pos, oneway, number,
    serverName: cx.serverPrefix + name,
    userName: cx.userPrefix + name,
    args,
    requestPort: null, uReplyPort: null, sReplyPort: null,
    retCode: newArgument('RetCode', pos, akRetCode, cx.builtins.retCode),
    waitTime: null, msgOption: null, msgSeqno: null,
    simpleFixedRequest: false, simpleSendRequest: false, simpleCheckRequest: false, simpleReceiveRequest: false,
    simpleFixedReply: false, simpleSendReply: false, simpleCheckReply: false, simpleReceiveReply: false,
    requestSize: 0, replySize: 0, numRequestVar: 0, numReplyVar: 0, maxRequestPos: 0, maxReplyPos: 0,
    noReplyArgs: true,
  };
  // rtAddRetCode: the return code is the first value of the reply.
  args.push(rt.retCode, ...declared);

  checkRoutineArgs(rt, cx);

  if (rt.uReplyPort === null) addDummyReplyPort(rt, oneway ? cx.builtins.zeroReplyPort : cx.builtins.realReplyPort, true);
  if (rt.sReplyPort === null) addDummyReplyPort(rt, oneway ? cx.builtins.zeroReplyPort : cx.builtins.realReplyPort, false);
  if (rt.msgOption === null) addMsgOption(rt, cx.msgOption ?? 'MACH_MSG_OPTION_NONE', cx);
  if (rt.waitTime === null && cx.waitTime !== null) addWaitTime(rt, cx.waitTime, cx);

  checkArgTypes(rt, cx);
  checkArgTrans(rt, cx);
  if (oneway && args.some((a) => akCheckAll(a.kind, akbReturn))) cx.error(pos, `SimpleRoutine ${name} has OUT argument`);

  // With errors in the file, MIG stops here: the rest only serves code generation.
  if (cx.hasErrors()) return rt;

  [rt.simpleFixedRequest, rt.simpleSendRequest] = checkSimple(args, akbRequest, 'in');
  [rt.simpleCheckRequest, rt.simpleReceiveRequest] = checkSimple(args, akbRequest, 'out');
  rt.requestSize = findSize(args, akbRequest);
  [rt.simpleFixedReply, rt.simpleSendReply] = checkSimple(args, akbReply, cx.kernelServer ? 'out' : 'in');
  [rt.simpleCheckReply, rt.simpleReceiveReply] = checkSimple(args, akbReply, 'out');
  rt.replySize = findSize(args, akbReply);
  checkVariable(rt);
  checkDestroy(rt);
  addByReference(rt);
  rt.noReplyArgs = !args.some((a) => akCheckAll(a.kind, akbReturnSnd));
  return rt;
}

/** rtCheckRoutineArgs: defaults, distinguished arguments, flags, implicit arguments. */
function checkRoutineArgs(rt: Routine, cx: RoutineContext): void {
  const args = rt.args;
  // Implicit arguments are inserted right after their parent and processed in turn.
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const it = arg.type;
    // rtDefaultArgKind: the first argument without a direction is the request port.
    if (arg.kind === akeNone) arg.kind = rt.requestPort === null ? akRequestPort : akIn;
    checkRoutineArg(rt, arg, cx);
    setArgDefaults(rt, arg);
    if (it === null) continue;
    processArgFlags(arg, it, cx);
    augmentArgKind(arg, it, cx);
    // Resulting order after the parent: poly, CountInOut count, count, dealloc, scopy.
    if (arg.serverCopy) insertAfter(args, i, addSCopyArg(arg, cx));
    if (arg.deallocate === 'maybe') insertAfter(args, i, addDeallocArg(arg, cx));
    if (it.varArray) insertAfter(args, i, addCountArg(arg, cx));
    if (arg.countInOut) insertAfter(args, i, addCountInOutArg(arg, cx));
    if (it.inName === MSG_TYPE_POLYMORPHIC || it.outName === MSG_TYPE_POLYMORPHIC) insertAfter(args, i, addPolyArg(arg, cx));
  }
}

function insertAfter(args: Argument[], i: number, a: Argument): void {
  args.splice(i + 1, 0, a);
}

/** rtCheckRoutineArg: remember the distinguished arguments (with MIG's warnings). */
function checkRoutineArg(rt: Routine, arg: Argument, cx: RoutineContext): void {
  const dup = (what: string, old: Argument | null): void => {
    if (old) cx.warn(arg.pos, `multiple ${what} args in ${rt.name}; ${old.name} won't be used`);
  };
  switch (akIdent(arg.kind)) {
    case akeRequestPort: dup('RequestPort', rt.requestPort); rt.requestPort = arg; break;
    case akeReplyPort:
      if (akCheck(arg.kind, akbUserArg)) { dup('UserReplyPort', rt.uReplyPort); rt.uReplyPort = arg; }
      if (akCheck(arg.kind, akbServerArg)) { dup('ServerReplyPort', rt.sReplyPort); rt.sReplyPort = arg; }
      break;
    case akeWaitTime: dup('WaitTime', rt.waitTime); rt.waitTime = arg; break;
    case akeMsgOption: dup('MsgOption', rt.msgOption); rt.msgOption = arg; break;
    case akeMsgSeqno: dup('MsgSeqno', rt.msgSeqno); rt.msgSeqno = arg; break;
    default: break;
  }
}

/** rtSetArgDefaults: variable, field and descriptor names. */
function setArgDefaults(rt: Routine, arg: Argument): void {
  if (arg.varName === null) arg.varName = arg.name;
  if (arg.msgField === '') {
    switch (akIdent(arg.kind)) {
      case akeRequestPort: arg.msgField = 'Head.msgh_request_port'; break;
      case akeReplyPort: arg.msgField = 'Head.msgh_reply_port'; break;
      case akeMsgSeqno: arg.msgField = 'Head.msgh_seqno'; break;
      default: arg.msgField = arg.name; break;
    }
  }
  if (arg.ttName === '') arg.ttName = `${arg.name}Type`;
  // The poly names of the request and reply ports live in the header bits.
  if ((rt.requestPort?.poly === arg || rt.uReplyPort?.poly === arg || rt.sReplyPort?.poly === arg) && arg.type) {
    arg.msgField = 'Head.msgh_bits';
  }
}

/** rtProcessArgFlags: deallocate, long form, ServerCopy and CountInOut per argument. */
function processArgFlags(arg: Argument, it: IpcType, cx: RoutineContext): void {
  arg.flags = checkFlags(arg.flags, arg.name, cx.warn, arg.pos);
  if (((cx.kernelServer && akCheck(arg.kind, akbReturn)) || (cx.kernelUser && akCheck(arg.kind, akbSend)))
    && arg.flags & flDealloc && it.deallocate === 'no') {
    // Mach 2.5 compatibility: kernel-side in-line data may carry the deallocate bit.
    arg.deallocate = 'yes';
  } else arg.deallocate = checkDeallocate(it, arg.flags, it.deallocate, arg.name, cx.warn, arg.pos);
  arg.longForm = checkIsLong(it, arg.flags, it.longForm, arg.name, cx.warn, arg.pos);
  if (arg.flags & flServerCopy) {
    if (it.indefinite && akCheck(arg.kind, akbSend)) arg.serverCopy = true;
    else cx.warn(arg.pos, `${arg.name}: ServerCopy on argument is meaningless`);
  }
  if (arg.flags & flCountInOut) {
    if (it.varArray && it.inLine && akCheck(arg.kind, akbReply)) arg.countInOut = true;
    else cx.warn(arg.pos, `${arg.name}: CountInOut on argument is meaningless`);
  }
}

/** rtAugmentArgKind: variable, quick-check, local-variable and pointer features. */
function augmentArgKind(arg: Argument, it: IpcType, cx: RoutineContext): void {
  if (it.varArray && it.inLine) {
    if (akCheckAll(arg.kind, akbRequest | akbReply)) cx.error(arg.pos, `${arg.name}: Inline variable-sized arguments can't be InOut`);
    arg.kind |= akbVariable;
    if (it.indefinite) arg.kind |= akbIndefinite;
  }
  // Kernel servers cannot quick-check out-of-line or port arguments of requests: the
  // kernel keeps the sender's deallocate bit at copyin.
  if (akCheck(arg.kind, akbRequest) && !arg.longForm && it.outName !== MSG_TYPE_POLYMORPHIC && !it.varArray
    && !(cx.kernelServer && (!it.inLine || isPortName(it.outName)))) arg.kind |= akbRequestQC;
  if (akCheck(arg.kind, akbReply) && !arg.longForm && it.outName !== MSG_TYPE_POLYMORPHIC && !it.varArray) arg.kind |= akbReplyQC;
  const id = akIdent(arg.kind);
  if ((it.outTrans !== null && akCheck(arg.kind, akbReturnSnd))
    || (it.inTrans !== null && akCheckAll(arg.kind, akbSendRcv | akbReturnSnd))
    || (it.destructor !== null && akCheck(arg.kind, akbSendRcv) && !akCheck(arg.kind, akbReturnSnd) && it.inTrans !== null)
    || ((id === akeCount || id === akePoly || id === akeDealloc) && akCheck(arg.kind, akbReturnSnd))
    || it.inTransPayload !== null) {
    arg.kind = (arg.kind & ~akbReplyCopy) | akbVarNeeded;
  }
  if (it.indefinite && akCheck(arg.kind, akbReturnSnd)) arg.kind |= akbPointer;
}

/** rtAddCountArg: the element count of a variable array (c_strings carry it only in the descriptor). */
function addCountArg(arg: Argument, cx: RoutineContext): Argument {
  const it = arg.type!;
  const count = newArgument(`${arg.name}Cnt`, arg.pos, akeCount, cx.builtins.makeCount());
  count.parent = arg;
  count.multiplier = it.element?.number ?? 1;
  arg.count = count;
  if (it.string) count.varName = null;
  else count.kind = akCount | (arg.kind & (akbSendBits | akbReturnBits));
  count.msgField = `${arg.ttName}.${arg.longForm ? 'msgtl_number' : 'msgt_number'}`;
  return count;
}

/** rtAddCountInOutArg: the caller's buffer size, sent in the request for an in-line Out array. */
function addCountInOutArg(arg: Argument, cx: RoutineContext): Argument {
  const count = newArgument(`${arg.name}Cnt`, arg.pos, akCountInOut, cx.builtins.makeCount());
  count.cInOut = arg.count;
  if (arg.count) arg.count.cInOut = count;
  return count;
}

/** rtAddPolyArg: the run-time msgt_name of a polymorphic argument. */
function addPolyArg(arg: Argument, cx: RoutineContext): Argument {
  const it = arg.type!;
  const poly = newArgument(`${arg.name}Poly`, arg.pos, akePoly, cx.builtins.makePoly());
  poly.parent = arg;
  arg.poly = poly;
  // akbsend: bits if the argument is In; akbreturn: if it is Out. A KernelServer packs Out
  // values with their out-names, so there the out-name decides who supplies the name.
  let akbsend = akbSend | akbSendBody;
  let akbreturn = akbReturn | akbReturnBody;
  if (it.inName === MSG_TYPE_POLYMORPHIC) {
    akbsend |= akbUserArg | akbSendSnd;
    if (!cx.kernelServer) akbreturn |= akbServerArg | akbReturnSnd;
  }
  if (it.outName === MSG_TYPE_POLYMORPHIC) {
    akbsend |= akbServerArg | akbSendRcv;
    akbreturn |= akbUserArg | akbReturnRcv;
    if (cx.kernelServer) akbreturn |= akbServerArg | akbReturnSnd;
  }
  if (akCheck(arg.kind, akbSend)) poly.kind |= arg.kind & akbsend;
  if (akCheck(arg.kind, akbReturn)) poly.kind |= arg.kind & akbreturn;
  poly.msgField = `${arg.ttName}.${arg.longForm ? 'msgtl_name' : 'msgt_name'}`;
  return poly;
}

/** rtAddDeallocArg: `Dealloc[]` makes the deallocate bit a boolean argument of the sender. */
function addDeallocArg(arg: Argument, cx: RoutineContext): Argument {
  const it = arg.type!;
  const dealloc = newArgument(`${arg.name}Dealloc`, arg.pos, akeDealloc, cx.builtins.makeDealloc());
  dealloc.parent = arg;
  arg.dealloc = dealloc;
  // Indefinite arrays set the bit themselves, and only when the data goes out of line.
  if (akCheck(arg.kind, akbSend)) {
    dealloc.kind |= arg.kind & (akbUserArg | akbSend | akbSendBody | (it.indefinite ? 0 : akbSendSnd));
  }
  if (akCheck(arg.kind, akbReturn)) {
    dealloc.kind |= arg.kind & (akbServerArg | akbReturn | akbReturnBody | (it.indefinite ? 0 : akbReturnSnd));
    if (it.indefinite) {
      dealloc.kind |= akbVarNeeded;
      dealloc.byReferenceServer = true;
    }
  }
  dealloc.msgField = `${arg.ttName}.${arg.longForm ? 'msgtl_header.msgt_deallocate' : 'msgt_deallocate'}`;
  return dealloc;
}

/** rtAddSCopyArg: ServerCopy tells the server the data is still in the request buffer. */
function addSCopyArg(arg: Argument, cx: RoutineContext): Argument {
  const scopy = newArgument(`${arg.name}SCopy`, arg.pos, akServerCopy, cx.builtins.makeDealloc());
  scopy.parent = arg;
  arg.sCopy = scopy;
  scopy.msgField = `${arg.ttName}.${arg.longForm ? 'msgtl_header.msgt_inline' : 'msgt_inline'}`;
  return scopy;
}

function addDummyReplyPort(rt: Routine, type: IpcType, user: boolean): void {
  const arg = newArgument('dummy ReplyPort arg', rt.pos, akeReplyPort, type);
  arg.varName = 'dummy ReplyPort arg';
  if (user) rt.uReplyPort = arg;
  else rt.sReplyPort = arg;
  // after the request port
  const at = rt.requestPort ? rt.args.indexOf(rt.requestPort) + 1 : 0;
  rt.args.splice(at, 0, arg);
  setArgDefaults(rt, arg);
}

function addMsgOption(rt: Routine, value: string, cx: RoutineContext): void {
  const arg = newArgument('dummy MsgOption arg', rt.pos, akeMsgOption, cx.builtins.msgOption);
  arg.varName = value;
  rt.msgOption = arg;
  const at = rt.msgSeqno ? rt.args.indexOf(rt.msgSeqno) + 1 : 0;
  rt.args.splice(at, 0, arg);
  setArgDefaults(rt, arg);
}

function addWaitTime(rt: Routine, value: string, cx: RoutineContext): void {
  const arg = newArgument('dummy WaitTime arg', rt.pos, akeWaitTime, cx.builtins.waitTime);
  arg.varName = value;
  rt.waitTime = arg;
  const at = rt.msgOption ? rt.args.indexOf(rt.msgOption) + 1 : 0;
  rt.args.splice(at, 0, arg);
  setArgDefaults(rt, arg);
}

/** rtCheckArgTypes: the request port exists and every special argument has a proper type. */
function checkArgTypes(rt: Routine, cx: RoutineContext): void {
  if (rt.requestPort === null) {
    cx.error(rt.pos, `${rt.oneway ? 'SimpleRoutine' : 'Routine'} ${rt.name} doesn't have a server port argument`);
  }
  const check = (arg: Argument | null, ok: (it: IpcType) => boolean, message: (name: string) => string): void => {
    if (arg?.type && !ok(arg.type)) cx.error(arg.pos, message(arg.name));
  };
  check(rt.requestPort, (it) => isProperRequestPort(it, cx.portBits), (n) => `argument ${n} isn't a proper request port`);
  check(rt.uReplyPort, (it) => isProperReplyPort(it, cx.portBits), (n) => `argument ${n} isn't a proper reply port`);
  check(rt.sReplyPort, (it) => isProperReplyPort(it, cx.portBits), (n) => `argument ${n} isn't a proper reply port`);
  const natural = (n: string): string => `argument ${n} should have been a MACH_MSG_TYPE_INTEGER_32`;
  check(rt.waitTime, isNaturalInt, natural);
  check(rt.msgOption, isNaturalInt, natural);
  check(rt.msgSeqno, isNaturalInt, natural);
}

/** rtCheckArgTrans: warn when a translated type lacks the function it needs. */
function checkArgTrans(rt: Routine, cx: RoutineContext): void {
  for (const arg of rt.args) {
    const it = arg.type;
    if (it === null || it.serverType === it.transType) continue;
    if (akCheck(arg.kind, akbSendRcv) && it.inTrans === null) cx.warn(arg.pos, `${arg.name}: argument has no in-translation function`);
    if (akCheck(arg.kind, akbReturnSnd) && it.outTrans === null) cx.warn(arg.pos, `${arg.name}: argument has no out-translation function`);
  }
}

/**
 * rtCheckSimpleIn / rtCheckSimpleOut: [fixed, simple] for the message the mask selects,
 * judged by in-names (as sent) or out-names (as received). When not fixed, the bit is
 * decided at run time and starts out simple.
 */
function checkSimple(args: Argument[], mask: number, names: 'in' | 'out'): [boolean, boolean] {
  let mayBeComplex = false;
  let mustBeComplex = false;
  for (const arg of args) {
    if (!akCheck(arg.kind, mask) || arg.type === null) continue;
    const it = arg.type;
    const n = names === 'in' ? it.inName : it.outName;
    if (n === MSG_TYPE_POLYMORPHIC || it.indefinite) mayBeComplex = true;
    if (isPortName(n) || !it.inLine) mustBeComplex = true;
  }
  return [mustBeComplex || !mayBeComplex, !mustBeComplex];
}

/** rtFindSize: header, then per field a word-aligned descriptor and its minimal data. */
function findSize(args: Argument[], mask: number): number {
  let size = SIZEOF_HEADER;
  for (const arg of args) {
    if (!akCheck(arg.kind, mask) || arg.type === null) continue;
    size = (size + WORD_SIZE - 1) & ~(WORD_SIZE - 1);
    size += arg.longForm ? SIZEOF_TYPE_LONG : SIZEOF_TYPE;
    size += arg.type.minTypeSize;
  }
  return size;
}

/** rtCheckVariable: how many variable in-line fields precede each argument. */
function checkVariable(rt: Routine): void {
  let numRequestVar = 0;
  let numReplyVar = 0;
  let maxRequestPos = 0;
  let maxReplyPos = 0;
  for (const arg of rt.args) {
    const parent = arg.parent;
    if (parent === null) {
      if (akCheck(arg.kind, akbRequest | akbSend)) {
        arg.requestPos = numRequestVar;
        maxRequestPos = numRequestVar;
        if (akCheck(arg.kind, akbVariable)) numRequestVar++;
      } else arg.requestPos = -1;
      if (akCheck(arg.kind, akbReply | akbReturn)) {
        arg.replyPos = numReplyVar;
        maxReplyPos = numReplyVar;
        if (akCheck(arg.kind, akbVariable)) numReplyVar++;
      } else arg.replyPos = -1;
    } else {
      arg.requestPos = parent.requestPos;
      arg.replyPos = parent.replyPos;
    }
    // Out values after a variable field cannot be stored straight into the reply.
    if (akCheck(arg.kind, akbReturnSnd) && !akCheck(arg.kind, akbReplyCopy | akbVarNeeded) && arg.replyPos > 0) {
      arg.kind |= akbVarNeeded;
    }
  }
  rt.numRequestVar = numRequestVar;
  rt.numReplyVar = numReplyVar;
  rt.maxRequestPos = maxRequestPos;
  rt.maxReplyPos = maxReplyPos;
}

/** rtCheckDestroy: in-arguments with a destructor, or indefinite data the server must free. */
function checkDestroy(rt: Routine): void {
  for (const arg of rt.args) {
    if (akCheck(arg.kind, akbSendRcv) && !akCheck(arg.kind, akbReturnSnd)
      && (arg.type?.destructor != null || (akCheck(arg.kind, akbIndefinite) && !arg.serverCopy))) arg.kind |= akbDestroy;
  }
}

/** rtAddByReference: values received by the user / sent by the server are passed by reference. */
function addByReference(rt: Routine): void {
  for (const arg of rt.args) {
    const it = arg.type!;
    if (akCheck(arg.kind, akbReturnRcv) && (it.struct || it.indefinite)) {
      arg.byReferenceUser = true;
      if (arg.cInOut) arg.cInOut.byReferenceUser = true;
    }
    if (akCheck(arg.kind, akbReturnSnd) && (it.struct || it.indefinite)) arg.byReferenceServer = true;
  }
}
