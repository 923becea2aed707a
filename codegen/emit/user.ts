/*
 * File: codegen/emit/user.ts
 * Purpose: `X.user.ts`: one typed async function per routine, named and ordered as in the
 *          .defs, request port first, that builds the request exactly as GNU MIG's user
 *          stub does (ids, header bits, descriptors, sizes), sends it through the request
 *          port's task, and checks the reply as MIG does (MIG_REPLY_MISMATCH,
 *          MIG_SERVER_DIED, MIG_TYPE_ERROR) before returning the out values.
 *
 * Produces, per routine (for `routine vm_allocate(target_task: vm_task_t; inout address:
 * vm_address_t; size: vm_size_t; anywhere: boolean_t)`):
 *
 *   export async function vm_allocate(target_task: MachPort, address: vm_address_t, ...):
 *       Promise<{ address: vm_address_t }> {
 *     const rt = target_task.task;
 *     const body: MachMsgItem[] = [];
 *     body.push({ type: { name: 11, size: 64, number: 1, ... }, data: address });
 *     ...
 *     const reply = await mig_rpc(rt, { bits: 5395, size: 64, remotePort: ..., id: 2021 }, body, 0, 0);
 *     mig_check_reply(reply, 52, false, false);
 *     ...checks of each reply descriptor...
 *     return { address: int_value(b[1]!) };
 *   }
 */

import type { FunctionDeclarationStructure, OptionalKind, ParameterDeclarationStructure } from 'ts-morph';
import type { MigModule } from '../compile.js';
import {
  akbRequest, akbReply, akbReturnRcv, akbSendSnd, akbUserArg, akCheck, akeCountInOut,
  akeDealloc, akeMsgOption, akeNormal, akePoly, akeReplyPort, akeRequestPort, akeWaitTime, akIdent, akbReplyQC,
  type Argument, type Routine,
} from '../routine.js';
import { MSG_TYPE_POLYMORPHIC, type IpcType } from '../type.js';
import { checkLiteral, optionValue, type EmitContext } from './common.js';
import { tsMorphModule } from './source.js';
import { ident, packField, tsType, unpackField } from './values.js';

/** The user-side parameters of a routine, in MIG's prototype order. */
export function userParams(rt: Routine): Argument[] {
  return rt.args.filter((a) => {
    // The CountInOut count is the user's `xCnt` (MIG shares the name with the reply count).
    if (akIdent(a.kind) === akeCountInOut) return true;
    if (!akCheck(a.kind, akbUserArg)) return false;
    switch (akIdent(a.kind)) {
      case akeRequestPort: case akeReplyPort: case akeWaitTime: case akeMsgOption: return true;
      case akeNormal: return akCheck(a.kind, akbSendSnd);
      case akePoly: return akCheck(a.kind, akbSendSnd);
      case akeDealloc: return true;
      default: return false; // counts travel in the descriptor; the array knows its length
    }
  });
}

/** The values the user receives (out and inout arguments, received poly names). */
export function userOuts(rt: Routine): Argument[] {
  return rt.args.filter((a) => akCheck(a.kind, akbReturnRcv) && (akIdent(a.kind) === akeNormal || akIdent(a.kind) === akePoly));
}

function paramType(a: Argument): string {
  switch (akIdent(a.kind)) {
    case akeRequestPort: return 'MachPort';
    case akeReplyPort: return 'MachPort';
    case akeNormal: return tsType(a.type!);
    case akeDealloc: return 'boolean';
    default: return 'number';
  }
}

export function outsType(outs: Argument[], typeOf: (a: Argument) => string, optional: (a: Argument) => boolean = () => false): string {
  return outs.length === 0 ? 'void' : `{ ${outs.map((a) => `${a.name}${optional(a) ? '?' : ''}: ${typeOf(a)}`).join('; ')} }`;
}

export function outType(a: Argument): string {
  return akIdent(a.kind) === akePoly ? 'number' : tsType(a.type!);
}

/** Header disposition for the request port / user reply port: a literal or the poly parameter. */
function headerDisposition(a: Argument | null): string {
  const it = a?.type;
  if (!it) return '0';
  if (it.inName === MSG_TYPE_POLYMORPHIC) return ident(a!.poly!.name);
  return String(it.inName);
}

export function userFunction(rt: Routine, cx: EmitContext): FunctionDeclarationStructure {
  const params = userParams(rt);
  const outs = userOuts(rt);
  const req = rt.requestPort!;
  const lines: string[] = [];
  lines.push(`const rt = ${ident(req.name)}.task;`);
  lines.push('const body: MachMsgItem[] = [];');
  const dynamic = !rt.simpleFixedRequest;
  if (dynamic) lines.push('let complex = false;');

  for (const a of rt.args) {
    if (!akCheck(a.kind, akbRequest) || a.type === null) continue;
    const it = a.type;
    if (akIdent(a.kind) === akeCountInOut) {
      const parent = a.cInOut!.parent!;
      const max = Math.floor(parent.type!.number / (parent.type!.element?.number ?? 1));
      lines.push(`body.push({ type: { name: 2, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: Math.min(${ident(a.name)}, ${max}) });`);
      continue;
    }
    const nameExpr = it.inName === MSG_TYPE_POLYMORPHIC ? ident(a.poly!.name) : String(it.inName);
    if (it.inName === MSG_TYPE_POLYMORPHIC && dynamic) lines.push(`if (MACH_MSG_TYPE_PORT_ANY(${nameExpr})) complex = true;`);
    const dealloc = a.deallocate === 'yes' ? 'true' : a.deallocate === 'maybe' ? ident(a.dealloc!.name) : 'false';
    lines.push(...packField(a, ident(a.name), nameExpr, dealloc, 'rt', 'request', dynamic));
  }

  const remote = headerDisposition(req);
  const local = headerDisposition(rt.uReplyPort);
  const complexBit = dynamic ? '(complex ? 0x80000000 : 0)' : rt.simpleSendRequest ? '' : '0x80000000';
  const bits = /^\d+$/.test(remote) && /^\d+$/.test(local)
    ? String((Number(remote) | (Number(local) << 8)) >>> 0) : `(${remote} | (${local} << 8))`;
  const bitsExpr = complexBit ? `(${bits} | ${complexBit}) >>> 0` : bits;
  const size = rt.numRequestVar > 0 ? 'msgSize(body)' : String(rt.requestSize);
  const userReply = rt.uReplyPort && akCheck(rt.uReplyPort.kind, akbUserArg) ? rt.uReplyPort : null;
  const header = `{ bits: ${bitsExpr}, size: ${size}, remotePort: ${ident(req.name)}.name, localPort: ${userReply ? `port_name(rt, ${ident(userReply.name)})` : '0'}, seqno: 0, id: ${cx.base + rt.number} }`;

  // options and timeouts (MIG: msgoption ORed in; a waittime makes the receive time out)
  const optArg = rt.msgOption!;
  const option = akCheck(optArg.kind, akbUserArg) ? ident(optArg.name) : String(optionValue(optArg.varName!, optArg.pos, cx));
  let rcvTimeout = '0';
  let rcvOption = '';
  if (rt.waitTime) {
    rcvOption = ' | MACH_RCV_TIMEOUT';
    rcvTimeout = akCheck(rt.waitTime.kind, akbUserArg) ? ident(rt.waitTime.name) : String(optionValue(rt.waitTime.varName!, rt.waitTime.pos, cx, 'timeout'));
  }

  if (rt.oneway) {
    lines.push(`await mig_send(rt, ${header}, body, ${option}, 0);`);
  } else {
    lines.push(`const reply = await mig_rpc(rt, ${header}, body, ${option}${rcvOption}, ${rcvTimeout}${userReply ? `, port_name(rt, ${ident(userReply.name)})` : ''});`);
    const complexCheck = rt.simpleCheckReply ? String(!rt.simpleReceiveReply) : "'dynamic'";
    lines.push(`mig_check_reply(reply, ${rt.replySize}, ${rt.numReplyVar > 0}, ${complexCheck});`);
    const replyFields = rt.args.filter((a) => akCheck(a.kind, akbReply) && a.type !== null);
    if (replyFields.length > 1 || outs.length > 0) {
      lines.push('const b = reply.body;');
      lines.push(`if (b.length !== ${replyFields.length}) throw new MachError(MIG_TYPE_ERROR);`);
    }
    replyFields.forEach((a, i) => {
      if (i === 0) return; // RetCode, checked by mig_check_reply
      const it = a.type!;
      lines.push(`if (!mig_check_type(b[${i}]!.type, ${checkLiteral(a, it, akCheck(a.kind, akbReplyQC))})) throw new MachError(MIG_TYPE_ERROR);`);
      if (it.outName === MSG_TYPE_POLYMORPHIC && !rt.simpleCheckReply) {
        lines.push(`if (MACH_MSG_TYPE_PORT_ANY(b[${i}]!.type.name) && !mig_complex(reply)) throw new MachError(MIG_TYPE_ERROR);`);
      }
    });
    if (outs.length > 0) {
      const index = (a: Argument): number => replyFields.indexOf(a);
      const values = outs.map((a) => {
        if (akIdent(a.kind) === akePoly) return `${a.name}: b[${index(a.parent!)}]!.type.name`;
        return `${a.name}: ${unpackField(a, `b[${index(a)}]!`, 'rt')}`;
      });
      lines.push(`try {`);
      lines.push(`  return { ${values.join(', ')} };`);
      lines.push(`} catch (e) {`);
      lines.push(`  if (e instanceof MigBadArguments) throw new MachError(MIG_TYPE_ERROR);`);
      lines.push(`  throw e;`);
      lines.push(`}`);
    }
  }

  const parameters: OptionalKind<ParameterDeclarationStructure>[] = params.map((a) => ({ name: ident(a.name), type: paramType(a) }));
  return {
    kind: tsMorphModule().StructureKind.Function,
    name: ident(rt.userName),
    isExported: true,
    isAsync: true,
    parameters,
    returnType: `Promise<${outsType(outs, outType)}>`,
    docs: [{ description: routineDoc(rt, cx) }],
    statements: lines,
  };
}

export function routineDoc(rt: Routine, cx: EmitContext): string {
  const id = cx.base + rt.number;
  return `${rt.oneway ? 'SimpleRoutine' : 'Routine'} ${rt.name} (${cx.sourceName}:${rt.pos.line}): request ${id}` +
    (rt.oneway ? ', no reply.' : `, reply ${id + 100}.`);
}

/** Type aliases for the .defs types the routines use (documentation in signatures). */
export function typeAliases(routines: Routine[], side: 'user' | 'server'): string[] {
  const seen = new Map<string, IpcType>();
  for (const rt of routines) {
    for (const a of rt.args) {
      if (akIdent(a.kind) !== akeNormal || a.type === null) continue;
      const want = side === 'user' ? akCheck(a.kind, akbSendSnd) || akCheck(a.kind, akbReturnRcv) : true;
      if (!want) continue;
      const n = tsType(a.type);
      if (/^[A-Za-z_]\w*$/.test(n) && !seen.has(n) && n !== 'number' && n !== 'string' && n !== 'boolean') seen.set(n, a.type);
    }
  }
  return [...seen].map(([n, it]) => `export type ${n} = ${baseTsType(it)};`);
}

function baseTsType(it: IpcType): string {
  return tsType({ ...it, name: null });
}

