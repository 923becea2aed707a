/*
 * File: test/codegen/routine.test.ts
 * Purpose: unit tests of tsmig's routine model (codegen/routine.ts, rtCheckRoutine):
 *   routine numbers, default request port, argument kinds of every direction, implicit
 *   arguments and their order (x, xPoly, [CountInOut xCnt], xCnt, xDealloc, xSCopy),
 *   dummy reply ports / msgoption / waittime, the complex bit (fixed or dynamic) of
 *   requests and replies, fixed and minimum sizes, variable-field positions, kernel
 *   Dealloc rules, and MIG's errors and warnings with their positions.
 */

import { describe, expect, it } from 'vitest';
import type { MigModule } from '../../codegen/compile.js';
import { CompileErrors } from '../../codegen/diagnostic.js';
import {
  akbDestroy, akbIndefinite, akbPointer, akbReply, akbReplyCopy, akbReplyQC, akbRequest, akbRequestQC, akbReturn, akbReturnRcv,
  akbReturnSnd, akbSend, akbSendRcv, akbSendSnd, akbServerArg, akbUserArg, akbVariable, akbVarNeeded, akCheck, akCheckAll,
  akCount, akCountInOut, akeCount, akeCountInOut, akeDealloc, akeMsgSeqno, akeNormal, akePoly, akeReplyPort,
  akeRequestPort, akeRetCode, akeServerCopy, akeWaitTime, akIdent, akIn, akInOut, akMsgOption, akMsgSeqno, akOut, akReplyPort,
  akRequestPort, akSReplyPort, akUReplyPort, akWaitTime, DIRECTION_KINDS, type Argument, type Routine,
} from '../../codegen/routine.js';
import { compileFile } from '../../codegen/tsmig.js';

const PRELUDE = `
type port_t = MACH_MSG_TYPE_COPY_SEND;
type int32 = MACH_MSG_TYPE_INTEGER_32;
type int16 = MACH_MSG_TYPE_INTEGER_16;
type once_t = MACH_MSG_TYPE_MOVE_SEND_ONCE;
type reply_t = MACH_MSG_TYPE_MAKE_SEND_ONCE | polymorphic;
type sreply_t = polymorphic | MACH_MSG_TYPE_PORT_SEND_ONCE;
type any_t = polymorphic;
type make_t = MACH_MSG_TYPE_MAKE_SEND;
type chars_t = array[] of char;
type few_t = array[*:8] of int32;
type anys_t = array[] of any_t;
type few_anys_t = array[*:4] of any_t;
type ool_t = ^array[] of char;
type fixed_t = array[4] of int32;
type point_t = struct { int32 x; int32 y; };
type pairs_t = array[*:4] of point_t;
type name_t = c_string[*:64];
type path_t = c_string[1024];
`;

/** Compile a module: `subsystem r 100;` (or `header`), the prelude types, then `text`. */
function compile(text: string, header = 'subsystem r 100;'): MigModule {
  return compileFileText(`${header}\n${PRELUDE}\n${text}`);
}

function compileFileText(text: string): MigModule {
  return compileFile('r.defs', { text });
}

const PRELUDE_LINES = PRELUDE.split('\n').length + 1;

function routine(text: string, header?: string): Routine {
  const m = compile(text, header);
  expect(m.routines.length).toBe(1);
  return m.routines[0]!;
}

/** The argument names, dummy arguments left out. */
function names(rt: Routine): string[] {
  return rt.args.filter((a) => !a.name.startsWith('dummy')).map((a) => a.name);
}

function arg(rt: Routine, name: string, nth = 0): Argument {
  const found = rt.args.filter((a) => a.name === name);
  if (!found[nth]) throw new Error(`no argument ${name} #${nth} in ${names(rt).join(' ')}`);
  return found[nth]!;
}

/** Errors of a module that must not compile, `LINE:COL: message` with LINE counted from `text`'s first line. */
function errors(text: string, header?: string): string[] {
  try {
    compile(text, header);
  } catch (e) {
    if (e instanceof CompileErrors) return e.errors.map((x) => `${x.pos.line - PRELUDE_LINES}:${x.pos.column}: ${x.diagnostic}`);
    throw e;
  }
  throw new Error('compiled without error');
}

function warnings(text: string, header?: string): string[] {
  return compile(text, header).warnings.map((w) => `${w.pos.line - PRELUDE_LINES}:${w.pos.column}: ${w.message}`);
}

describe('argument kinds', () => {
  it('each direction keyword has MIG\'s kind bits', () => {
    expect(DIRECTION_KINDS).toEqual({
      in: akIn, out: akOut, inout: akInOut, requestport: akRequestPort, replyport: akReplyPort, sreplyport: akSReplyPort,
      ureplyport: akUReplyPort, waittime: akWaitTime, msgoption: akMsgOption, msgseqno: akMsgSeqno,
    });
    // who sees what: user stub, server work function, request body, reply body
    const sides = (k: number): string => [akbUserArg, akbServerArg, akbRequest, akbReply].map((b) => (akCheck(k, b) ? '1' : '0')).join('');
    expect(sides(akIn)).toBe('1110');
    expect(sides(akOut)).toBe('1101');
    expect(sides(akInOut)).toBe('1111');
    expect(sides(akRequestPort)).toBe('1100');
    expect(sides(akReplyPort)).toBe('1100');
    expect(sides(akUReplyPort)).toBe('1000');
    expect(sides(akSReplyPort)).toBe('0100');
    expect(sides(akWaitTime)).toBe('1000');
    expect(sides(akMsgOption)).toBe('1000');
    expect(sides(akMsgSeqno)).toBe('0100');
    expect(sides(akCountInOut)).toBe('0010');
    expect(sides(akCount)).toBe('1100');
    expect([akIdent(akIn), akIdent(akRequestPort), akIdent(akUReplyPort), akIdent(akSReplyPort), akIdent(akWaitTime), akIdent(akMsgSeqno)])
      .toEqual([akeNormal, akeRequestPort, akeReplyPort, akeReplyPort, akeWaitTime, akeMsgSeqno]);
    expect(akCheckAll(akInOut, akbSend | akbReturn)).toBe(true);
    expect(akCheckAll(akIn, akbSend | akbReturn)).toBe(false);
  });

  it('the first argument without a direction is the request port, the next ones are in', () => {
    const rt = routine('routine f(p: port_t; q: port_t; r: int32);');
    expect([rt.requestPort?.name, arg(rt, 'q').kind & ~(akbRequestQC | akbReplyQC), akIdent(arg(rt, 'r').kind)]).toEqual(['p', akIn, akeNormal]);
    expect(arg(rt, 'p').kind).toBe(akRequestPort);
  });

  it('an explicit requestport after a defaulted one wins, with a warning (GNU MIG)', () => {
    const m = compile('routine f(x: int32; requestport p: port_t);');
    const rt = m.routines[0]!;
    expect([rt.requestPort?.name, akIdent(arg(rt, 'x').kind)]).toEqual(['p', akeRequestPort]);
    expect(m.warnings.map((w) => w.message)).toEqual(["multiple RequestPort args in f; x won't be used"]);
    const rt2 = routine('routine f(requestport p: port_t; x: int32);');
    expect(rt2.requestPort?.name).toBe('p');
    expect(akIdent(arg(rt2, 'x').kind)).toBe(akeNormal);
  });

  it('the distinguished arguments are remembered', () => {
    const rt = routine('routine f(p: port_t; replyport r: reply_t; waittime t: int32; msgoption o: int32; msgseqno s: int32);');
    expect([rt.requestPort, rt.uReplyPort, rt.sReplyPort, rt.waitTime, rt.msgOption, rt.msgSeqno].map((a) => a?.name)).toEqual(['p', 'r', 'r', 't', 'o', 's']);
    const u = routine('routine f(p: port_t; ureplyport r: reply_t);');
    expect([u.uReplyPort?.name, u.sReplyPort?.name]).toEqual(['r', 'dummy ReplyPort arg']);
    const s = routine('routine f(p: port_t; sreplyport r: reply_t);');
    expect([s.uReplyPort?.name, s.sReplyPort?.name]).toEqual(['dummy ReplyPort arg', 'r']);
  });
});

describe('routine numbers and names', () => {
  it('count from 0 in file order; skip and skip N consume numbers', () => {
    const m = compile(`skip; routine a(p: port_t); skip 3; simpleroutine b(p: port_t); skip 0; routine c(p: port_t); skip 2;`);
    expect(m.routines.map((r) => `${r.name}=${r.number}`)).toEqual(['a=1', 'b=5', 'c=6']);
    expect(m.total).toBe(9);
  });

  it('user and server names get the prefix in force when the routine is read', () => {
    const m = compile('routine a(p: port_t); serverprefix S_; routine b(p: port_t); userprefix U_; serverprefix do_; routine c(p: port_t);');
    expect(m.routines.map((r) => `${r.userName}/${r.serverName}`)).toEqual(['a/a', 'b/S_b', 'U_c/do_c']);
  });

  it('oneway for simpleroutines', () => {
    const m = compile('routine a(p: port_t); simpleroutine b(p: port_t);');
    expect(m.routines.map((r) => r.oneway)).toEqual([false, true]);
  });
});

describe('implicit arguments', () => {
  it('the return code comes first, then the request port and the dummy reply ports', () => {
    const rt = routine('routine f(p: port_t; x: int32);');
    expect(rt.args.map((a) => a.name)).toEqual([
      'dummy MsgOption arg', 'RetCode', 'p', 'dummy ReplyPort arg', 'dummy ReplyPort arg', 'x',
    ]);
    expect([akIdent(rt.retCode.kind), rt.retCode.type?.name, akCheck(rt.retCode.kind, akbReply)]).toEqual([akeRetCode, 'kern_return_t', true]);
    expect(rt.args[0]!.varName).toBe('MACH_MSG_OPTION_NONE');
  });

  it('order: x, xPoly, [CountInOut xCnt], xCnt, xDealloc, xSCopy', () => {
    const rt = routine(`routine f(
      p: port_t;
      in x: anys_t, Dealloc[], ServerCopy;
      out y: few_anys_t, CountInOut;
      out z: anys_t, Dealloc[]);`);
    expect(names(rt)).toEqual(['RetCode', 'p', 'x', 'xPoly', 'xCnt', 'xDealloc', 'xSCopy', 'y', 'yPoly', 'yCnt', 'yCnt', 'z', 'zPoly', 'zCnt', 'zDealloc']);
    const ids = rt.args.filter((a) => !a.name.startsWith('dummy')).map((a) => akIdent(a.kind));
    expect(ids).toEqual([
      akeRetCode, akeRequestPort, akeNormal, akePoly, akeCount, akeDealloc, akeServerCopy,
      akeNormal, akePoly, akeCountInOut, akeCount, akeNormal, akePoly, akeCount, akeDealloc,
    ]);
    const x = arg(rt, 'x');
    expect([x.poly?.name, x.count?.name, x.dealloc?.name, x.sCopy?.name, x.serverCopy]).toEqual(['xPoly', 'xCnt', 'xDealloc', 'xSCopy', true]);
    const y = arg(rt, 'y');
    expect([y.countInOut, y.count === arg(rt, 'yCnt', 1), y.count?.cInOut === arg(rt, 'yCnt', 0)]).toEqual([true, true, true]);
    for (const n of ['xPoly', 'xCnt', 'xDealloc', 'xSCopy']) expect(arg(rt, n).parent).toBe(x);
  });

  it('who sees the implicit arguments: user, server, request', () => {
    const rt = routine('routine f(p: port_t; in x: anys_t, Dealloc[], ServerCopy; out y: few_anys_t, CountInOut; out z: anys_t, Dealloc[]);');
    const sides = (a: Argument): string => [akbUserArg, akbServerArg, akbRequest, akbReply].map((b) => (akCheck(a.kind, b) ? '1' : '0')).join('');
    expect(Object.fromEntries(['xPoly', 'xCnt', 'xDealloc', 'xSCopy', 'yPoly', 'zPoly', 'zCnt', 'zDealloc'].map((n) => [n, sides(arg(rt, n))]))).toEqual({
      xPoly: '1100', xCnt: '1100', xDealloc: '1000', xSCopy: '0100', yPoly: '1100', zPoly: '1100', zCnt: '1100', zDealloc: '0100',
    });
    expect(sides(arg(rt, 'yCnt', 0))).toBe('0010'); // CountInOut: a request field only
    expect(sides(arg(rt, 'yCnt', 1))).toBe('1100');
    // an indefinite Out array's dealloc flag is the server's, by reference
    expect([arg(rt, 'zDealloc').byReferenceServer, akCheck(arg(rt, 'zDealloc').kind, akbVarNeeded)]).toEqual([true, true]);
  });

  it('poly names: the sender supplies a polymorphic in-name, the receiver gets a polymorphic out-name', () => {
    const rt = routine('routine f(p: port_t; a: any_t; b: reply_t; c: sreply_t; out d: any_t; out e: reply_t; out g: sreply_t);');
    const who = (n: string): string => {
      const k = arg(rt, `${n}Poly`).kind;
      return `${akCheck(k, akbUserArg) ? 'U' : '-'}${akCheck(k, akbServerArg) ? 'S' : '-'}`;
    };
    // in: user sends the in-name, server receives the out-name; out: the other way round
    expect(['a', 'b', 'c', 'd', 'e', 'g'].map(who)).toEqual(['US', '-S', 'U-', 'US', 'U-', '-S']);
    expect(akCheck(arg(rt, 'aPoly').kind, akbSendSnd)).toBe(true);
    expect(akCheck(arg(rt, 'bPoly').kind, akbSendSnd)).toBe(false);
    expect(akCheck(arg(rt, 'dPoly').kind, akbReturnSnd | akbReturnRcv)).toBe(true);
  });

  it('in a KernelServer the out-name decides who names an Out value', () => {
    const rt = routine('routine f(p: port_t; out d: any_t; out e: reply_t; out g: sreply_t);', 'subsystem KernelServer r 100;');
    const who = (n: string): string => {
      const k = arg(rt, `${n}Poly`).kind;
      return `${akCheck(k, akbUserArg) ? 'U' : '-'}${akCheck(k, akbServerArg) ? 'S' : '-'}`;
    };
    expect(['d', 'e', 'g'].map(who)).toEqual(['US', 'US', '--']);
  });

  it('counts carry the element multiplier; c_string[*:N] has a count with no C parameter', () => {
    const rt = routine('routine f(p: port_t; a: few_t; b: pairs_t; c: name_t; out d: chars_t);');
    expect(['aCnt', 'bCnt', 'dCnt'].map((n) => arg(rt, n).multiplier)).toEqual([1, 2, 1]);
    // c_string[*:N]: the length travels only in the descriptor, no C parameter on either side
    expect(arg(rt, 'cCnt').kind).toBe(akeCount);
    // others: seen by both sides, sent with the array
    const a = arg(rt, 'aCnt').kind;
    expect([akCheckAll(a, akCount), akCheck(a, akbSendSnd), akCheck(a, akbSendRcv), akCheck(a, akbReturn)]).toEqual([true, true, true, false]);
    const d = arg(rt, 'dCnt').kind;
    expect([akCheckAll(d, akCount), akCheck(d, akbSend), akCheck(d, akbReturnSnd), akCheck(d, akbReturnRcv)]).toEqual([true, false, true, true]);
    expect(arg(rt, 'aCnt').msgField).toBe('aType.msgt_number');
    expect(arg(rt, 'dCnt').msgField).toBe('dType.msgtl_number');
  });

  it('no poly argument for port types that are not polymorphic', () => {
    const rt = routine('routine f(p: port_t; a: make_t; b: once_t; out c: port_t);');
    expect(names(rt)).toEqual(['RetCode', 'p', 'a', 'b', 'c']);
  });
});

describe('dummy arguments: reply ports, msgoption, waittime', () => {
  it('a routine gets MAKE_SEND_ONCE reply ports, a simpleroutine reply ports of name 0', () => {
    const m = compile('routine a(p: port_t); simpleroutine b(p: port_t);');
    const [a, b] = m.routines;
    expect([a!.uReplyPort?.type?.inName, a!.sReplyPort?.type?.inName, a!.uReplyPort?.type?.outName]).toEqual([21, 21, 18]);
    expect([b!.uReplyPort?.type?.inName, b!.sReplyPort?.type?.inNameStr]).toEqual([0, '0']);
    expect(a!.uReplyPort?.kind).toBe(akeReplyPort);
  });

  it('the global msgoption and waittime apply to later routines; arguments override them', () => {
    const m = compile(`routine a(p: port_t);
msgoption MACH_SEND_TIMEOUT; waittime 500;
routine b(p: port_t);
routine c(p: port_t; msgoption o: int32; waittime t: int32);
waittime my_timeout; msgoption MACH_MSG_OPTION_NONE;
routine d(p: port_t);
nowaittime;
routine e(p: port_t);`);
    const row = (r: Routine): string => `${r.name} ${r.msgOption?.varName} ${r.waitTime?.varName ?? '-'}`;
    expect(m.routines.map(row)).toEqual([
      'a MACH_MSG_OPTION_NONE -', 'b MACH_SEND_TIMEOUT 500', 'c o t', 'd MACH_MSG_OPTION_NONE my_timeout', 'e MACH_MSG_OPTION_NONE -',
    ]);
    const b = m.routines[1]!;
    expect(b.args.slice(0, 3).map((x) => `${x.name}=${x.varName}`)).toEqual(['dummy MsgOption arg=MACH_SEND_TIMEOUT', 'dummy WaitTime arg=500', 'RetCode=RetCode']);
  });

  it('the dummy msgoption goes after a msgseqno argument', () => {
    const rt = routine('routine f(p: port_t; msgseqno s: int32; x: int32);');
    expect(rt.args.map((a) => a.name)).toEqual(['RetCode', 'p', 'dummy ReplyPort arg', 'dummy ReplyPort arg', 's', 'dummy MsgOption arg', 'x']);
  });
});

describe('the complex bit', () => {
  const flags = (rt: Routine): string =>
    `req ${rt.simpleFixedRequest ? (rt.simpleSendRequest ? 'simple' : 'complex') : 'dynamic'}, `
    + `rep ${rt.simpleFixedReply ? (rt.simpleSendReply ? 'simple' : 'complex') : 'dynamic'}`;

  it('plain data: simple', () => {
    expect(flags(routine('routine f(p: port_t; x: int32; out y: fixed_t; out z: point_t);'))).toBe('req simple, rep simple');
  });

  it('a port right or out-of-line data: complex', () => {
    expect(flags(routine('routine f(p: port_t; x: port_t; out y: int32);'))).toBe('req complex, rep simple');
    expect(flags(routine('routine f(p: port_t; x: ool_t; out y: make_t);'))).toBe('req complex, rep complex');
    expect(flags(routine('routine f(p: port_t; out y: ool_t);'))).toBe('req simple, rep complex');
  });

  it('polymorphic values or unbounded arrays: decided at run time', () => {
    expect(flags(routine('routine f(p: port_t; x: any_t; out y: chars_t);'))).toBe('req dynamic, rep dynamic');
    expect(flags(routine('routine f(p: port_t; x: chars_t; out y: sreply_t);'))).toBe('req dynamic, rep dynamic');
    // a fixed port wins over a dynamic value
    expect(flags(routine('routine f(p: port_t; x: chars_t; y: port_t);'))).toBe('req complex, rep simple');
  });

  it('the request port and reply ports are header fields: they do not count', () => {
    expect(flags(routine('routine f(p: port_t; replyport r: reply_t);'))).toBe('req simple, rep simple');
    expect(flags(routine('simpleroutine f(p: any_t);'))).toBe('req simple, rep simple');
  });

  it('a user-space server sends its reply by in-names, a KernelServer by out-names', () => {
    // sreply_t: in-name polymorphic, out-name PORT_SEND_ONCE
    expect(flags(routine('routine f(p: port_t; out y: sreply_t);'))).toBe('req simple, rep dynamic');
    expect(flags(routine('routine f(p: port_t; out y: sreply_t);', 'subsystem KernelServer r 100;'))).toBe('req simple, rep complex');
    // the receiver checks by out-names
    const rt = routine('routine f(p: port_t; out y: sreply_t);');
    expect([rt.simpleCheckReply, rt.simpleReceiveReply]).toEqual([true, false]);
  });
});

describe('message sizes', () => {
  it('header, then per field a word-aligned 4-byte descriptor and the data padded to a word', () => {
    const rt = routine('routine f(p: port_t; a: int32; b: int16; c: fixed_t; out d: point_t; out e: path_t);');
    expect(rt.requestSize).toBe(32 + (4 + 4) + (4 + 4) + (4 + 16));
    expect(rt.replySize).toBe(32 + (4 + 4) + (4 + 8) + (4 + 1024));
    expect([rt.numRequestVar, rt.numReplyVar]).toEqual([0, 0]);
  });

  it('long descriptors are 12 bytes; out-of-line data is an 8-byte pointer', () => {
    const rt = routine('routine f(p: port_t; a: ool_t; b: (MACH_MSG_TYPE_STRING, 512*8));'.replace('b: (', 'b: str_t = ('));
    expect(rt.requestSize).toBe(32 + (12 + 8) + (12 + 512));
  });

  it('variable arrays count no data: the size is a minimum', () => {
    const rt = routine('routine f(p: port_t; a: few_t; b: int32; c: chars_t; out d: name_t; out e: int32);');
    expect(rt.requestSize).toBe(32 + 4 + (4 + 4) + 12);
    expect(rt.replySize).toBe(32 + (4 + 4) + 4 + (4 + 4));
    expect([rt.numRequestVar, rt.numReplyVar]).toEqual([2, 1]);
  });

  it('variable positions: how many variable fields precede each argument', () => {
    const rt = routine('routine f(p: port_t; a: int32; b: few_t; c: int32; d: chars_t; e: int32; out x: few_t; out y: int32);');
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => arg(rt, n).requestPos)).toEqual([0, 0, 1, 1, 2]);
    expect(['x', 'y'].map((n) => arg(rt, n).replyPos)).toEqual([0, 1]);
    expect([arg(rt, 'bCnt').requestPos, arg(rt, 'a').replyPos]).toEqual([0, -1]);
    expect([rt.maxRequestPos, rt.maxReplyPos]).toEqual([2, 1]);
    // an Out value after a variable one cannot be written straight into the reply
    expect(akCheck(arg(rt, 'y').kind, akbVarNeeded)).toBe(true);
    expect(akCheck(arg(rt, 'x').kind, akbVarNeeded)).toBe(false);
  });

  it('a routine with no reply values has the 40-byte reply', () => {
    const rt = routine('routine f(p: port_t; x: int32);');
    expect([rt.replySize, rt.noReplyArgs]).toEqual([40, true]);
    expect(routine('routine f(p: port_t; out x: int32);').noReplyArgs).toBe(false);
  });
});

describe('feature bits', () => {
  it('variable, indefinite, pointer and destroy', () => {
    const rt = routine('routine f(p: port_t; a: chars_t; b: chars_t, ServerCopy; c: few_t; out d: chars_t; e: ool_t);');
    const has = (n: string, bit: number): boolean => akCheck(arg(rt, n).kind, bit);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => has(n, akbVariable))).toEqual([true, true, true, true, false]);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => has(n, akbIndefinite))).toEqual([true, true, false, true, false]);
    expect(['a', 'd'].map((n) => has(n, akbPointer))).toEqual([false, true]);
    // the server frees unbounded in-data that arrived out of line, unless ServerCopy
    expect(['a', 'b', 'c', 'e'].map((n) => has(n, akbDestroy))).toEqual([true, false, false, false]);
  });

  it('quick checks: short, fixed, not polymorphic; KernelServer cannot quick-check ports or out-of-line data', () => {
    const text = 'routine f(p: port_t; a: int32; b: port_t; c: any_t; d: few_t; e: ool_fixed_t = ^array[64] of char; out g: port_t; h: ool_t);';
    const user = routine(text);
    const kernel = routine(text, 'subsystem KernelServer r 100;');
    const qc = (rt: Routine, n: string, bit: number): boolean => akCheck(arg(rt, n).kind, bit);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => qc(user, n, akbRequestQC))).toEqual([true, true, false, false, true]);
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => qc(kernel, n, akbRequestQC))).toEqual([true, false, false, false, false]);
    expect(qc(kernel, 'g', akbReplyQC)).toBe(true);
    expect(qc(user, 'h', akbRequestQC)).toBe(false); // long form
  });

  it('inout values are copied from request to reply unless translated', () => {
    const m = compile(`type t_t = int32 intran: obj_t t_in(int32) outtran: int32 t_out(obj_t);
routine f(p: port_t; inout a: int32; inout b: t_t);`);
    const rt = m.routines[0]!;
    expect(akCheck(arg(rt, 'a').kind, akbReplyCopy)).toBe(true);
    expect([akCheck(arg(rt, 'b').kind, akbReplyCopy), akCheck(arg(rt, 'b').kind, akbVarNeeded)]).toEqual([false, true]);
  });

  it('values the user receives or the server sends are passed by reference when struct-like or unbounded', () => {
    const rt = routine('routine f(p: port_t; out a: int32; out b: fixed_t; out c: chars_t; out d: few_t, CountInOut; out e: point_t; in g: int32);');
    const ref = (n: string): string => `${arg(rt, n).byReferenceUser ? 'U' : '-'}${arg(rt, n).byReferenceServer ? 'S' : '-'}`;
    expect(['a', 'b', 'c', 'd', 'e', 'g'].map(ref)).toEqual(['US', '--', 'US', '--', 'US', '--']);
    expect(ref('cCnt')).toBe('US');
    // d's count, and the CountInOut value the user passes in the same variable
    expect(`${arg(rt, 'dCnt', 1).byReferenceUser} ${arg(rt, 'dCnt', 1).byReferenceServer} ${arg(rt, 'dCnt', 0).byReferenceUser}`).toBe('true true true');
  });
});

describe('flags on arguments', () => {
  it('Dealloc on in-line data warns; on unbounded or out-of-line data it does not', () => {
    expect(warnings('routine f(p: port_t; x: int32, Dealloc; y: chars_t, Dealloc; z: ool_t, Dealloc; w: fixed_t, Dealloc[]);')).toEqual([
      '1:22: x: Dealloc will cause an IPC error',
      '1:81: w: Dealloc will cause an IPC error',
    ]);
    const rt = routine('routine f(p: port_t; y: chars_t, Dealloc; z: ool_t, Dealloc; n: ool_t, NotDealloc; m: ool_t, Dealloc[]);');
    expect(['y', 'z', 'n', 'm'].map((n) => arg(rt, n).deallocate)).toEqual(['yes', 'yes', 'no', 'maybe']);
  });

  it('KernelServer Out and KernelUser In data accept Dealloc silently (Mach 2.5)', () => {
    const ks = compile('routine f(p: port_t; out v: int32, Dealloc; in w: int32, Dealloc);', 'subsystem KernelServer r 100;');
    expect(ks.warnings.map((w) => w.message)).toEqual(['w: Dealloc will cause an IPC error']);
    expect(['v', 'w'].map((n) => arg(ks.routines[0]!, n).deallocate)).toEqual(['yes', 'yes']);
    const ku = compile('routine f(p: port_t; out v: int32, Dealloc; in w: int32, Dealloc);', 'subsystem KernelUser r 100;');
    expect(ku.warnings.map((w) => w.message)).toEqual(['v: Dealloc will cause an IPC error']);
  });

  it('ServerCopy only means something on unbounded In arrays; CountInOut on in-line variable Out arrays', () => {
    expect(warnings(`routine f(p: port_t;
  a: chars_t, ServerCopy;
  b: few_t, ServerCopy;
  out c: chars_t, ServerCopy;
  out d: few_t, CountInOut;
  out e: chars_t, CountInOut;
  f: few_t, CountInOut;
  out g: ool_t, CountInOut);`)).toEqual([
      '3:3: b: ServerCopy on argument is meaningless',
      '4:7: c: ServerCopy on argument is meaningless',
      '7:3: f: CountInOut on argument is meaningless',
      '8:7: g: CountInOut on argument is meaningless',
    ]);
  });

  it('IsLong / IsNotLong on an argument set its descriptor form', () => {
    const rt = routine('routine f(p: port_t; a: int32, IsLong; b: chars_t, IsNotLong; c: chars_t);');
    expect(['a', 'b', 'c'].map((n) => arg(rt, n).longForm)).toEqual([true, false, true]);
  });

  it('RetCode is accepted and ignored', () => {
    const rt = routine('simpleroutine f(p: port_t; status: int32, RetCode);');
    expect([arg(rt, 'status').flags, akIdent(arg(rt, 'status').kind)]).toEqual([0, akeNormal]);
  });
});

describe('errors', () => {
  it('every routine needs a request port', () => {
    expect(errors('routine f(in x: int32);')).toEqual(["1:1: Routine f doesn't have a server port argument"]);
    expect(errors('simpleroutine g();')).toEqual(["1:1: SimpleRoutine g doesn't have a server port argument"]);
  });

  it('a simpleroutine has no reply: out and inout are errors', () => {
    expect(errors('simpleroutine f(p: port_t; out x: int32);')).toEqual(['1:1: SimpleRoutine f has OUT argument']);
    expect(errors('simpleroutine f(p: port_t; inout x: int32);')).toEqual(['1:1: SimpleRoutine f has OUT argument']);
  });

  it('ports and the natural-integer arguments must have proper types', () => {
    expect(errors('routine f(p: int32);')).toEqual(["1:11: argument p isn't a proper request port"]);
    // reported for the user and the server reply port, as GNU MIG does
    expect(errors('routine f(p: make_t; replyport r: int32);')).toEqual(["1:32: argument r isn't a proper reply port", "1:32: argument r isn't a proper reply port"]);
    expect(errors('routine f(p: make_t; ureplyport r: int32);')).toEqual(["1:33: argument r isn't a proper reply port"]);
    expect(errors('routine f(p: port_t; waittime t: int16);')).toEqual(['1:31: argument t should have been a MACH_MSG_TYPE_INTEGER_32']);
    expect(errors('routine f(p: port_t; msgoption o: port_t);')).toEqual(['1:32: argument o should have been a MACH_MSG_TYPE_INTEGER_32']);
    expect(errors('routine f(p: port_t; msgseqno s: fixed_t);')).toEqual(['1:31: argument s should have been a MACH_MSG_TYPE_INTEGER_32']);
  });

  it('a request port must not be a receive right; a reply port may have name 0', () => {
    expect(errors('type recv_t = MACH_MSG_TYPE_MOVE_RECEIVE; routine f(p: recv_t);')).toEqual(["1:53: argument p isn't a proper request port"]);
    expect(() => compile('type zero_t = (0, 32); routine f(p: port_t; replyport r: zero_t);')).not.toThrow();
  });

  it('a 32-bit port type is not a proper request port in a KernelServer', () => {
    expect(errors('type p32_t = (MACH_MSG_TYPE_COPY_SEND, 32); routine f(p: p32_t);', 'subsystem KernelServer r 100;')).toEqual([
      "1:55: argument p isn't a proper request port",
    ]);
  });

  it('in-line variable arrays cannot be inout', () => {
    expect(errors('routine f(p: port_t; inout x: few_t);')).toEqual(["1:28: x: Inline variable-sized arguments can't be InOut"]);
    expect(() => compile('routine f(p: port_t; inout x: ool_t);')).not.toThrow();
  });
});

describe('warnings', () => {
  it('a second argument of a special kind wins, with a warning at it', () => {
    expect(warnings(`routine f(p: port_t;
  requestport q: port_t;
  replyport r1: reply_t;
  ureplyport r2: reply_t;
  sreplyport r3: reply_t;
  waittime t1: int32;
  waittime t2: int32;
  msgoption o1: int32;
  msgoption o2: int32;
  msgseqno s1: int32;
  msgseqno s2: int32);`)).toEqual([
      "2:15: multiple RequestPort args in f; p won't be used",
      "4:14: multiple UserReplyPort args in f; r1 won't be used",
      "5:14: multiple ServerReplyPort args in f; r1 won't be used",
      "7:12: multiple WaitTime args in f; t1 won't be used",
      "9:13: multiple MsgOption args in f; o1 won't be used",
      "11:12: multiple MsgSeqno args in f; s1 won't be used",
    ]);
    const rt = routine('routine f(p: port_t; requestport q: port_t);');
    expect(rt.requestPort?.name).toBe('q');
  });

  it('a translated type without the function it needs', () => {
    const m = compile(`type out_only = MACH_MSG_TYPE_COPY_SEND outtran: mach_port_t export_it(thing_t);
type in_only = MACH_MSG_TYPE_COPY_SEND intran: thing_t import_it(mach_port_t);
routine f(p: port_t; a: out_only; out b: in_only; inout c: in_only; out d: out_only);`);
    expect(m.warnings.map((w) => `${w.pos.line - PRELUDE_LINES}:${w.pos.column}: ${w.message}`)).toEqual([
      '3:22: a: argument has no in-translation function',
      '3:39: b: argument has no out-translation function',
      '3:57: c: argument has no out-translation function',
    ]);
  });
});
