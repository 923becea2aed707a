/*
 * File: codegen/emit/server.ts
 * Purpose: `X.server.ts`: the typed interface of the server's work functions and the
 *          demux (MIG's `<subsystem>_server`) that validates each request as GNU MIG's
 *          server stubs do (id → MIG_BAD_ID; size, complex bit, descriptors, data →
 *          MIG_BAD_ARGUMENTS), calls the work function and builds the reply.
 *
 * Produces, per routine:
 *
 *   export interface mach_port_routines {
 *     mach_port_allocate(task: MachPort, right: number): MigResult<{ name: number }>;
 *   }
 *   function _Xmach_port_allocate(req: MachMessage, rt: MachMsg): ... {
 *     ...checks...                       // → mig_reply(req, MIG_BAD_ARGUMENTS)
 *     return mig_finish(req, impl.mach_port_allocate(...), (outs) => ...reply...);
 *   }
 *
 * and a demux `mach_port_server(impl): MigDemux` with MIG's routine table.
 */

import type { FunctionDeclarationStructure, InterfaceDeclarationStructure } from 'ts-morph';
import { tsMorphModule, type Statement } from './source.js';
import type { MigModule } from '../compile.js';
import {
  akbReply, akbRequest, akbRequestQC, akbReturn, akbReturnSnd, akbSendRcv, akbServerArg, akCheck, akeCount,
  akeDealloc, akeMsgSeqno, akeNormal, akePoly, akeReplyPort, akeRequestPort, akIdent, type Argument, type Routine,
} from '../routine.js';
import { MSG_TYPE_POLYMORPHIC } from '../type.js';
import { checkLiteral, type EmitContext } from './common.js';
import { outsType, routineDoc } from './user.js';
import { ident, packField, tsType, unpackField } from './values.js';

/** The server work function's parameters, in MIG's server prototype order. */
export function serverParams(rt: Routine): Argument[] {
  return rt.args.filter((a) => {
    if (!akCheck(a.kind, akbServerArg)) return false;
    switch (akIdent(a.kind)) {
      case akeRequestPort: case akeReplyPort: case akeMsgSeqno: return true;
      case akeNormal: return akCheck(a.kind, akbSendRcv);
      case akePoly: return akCheck(a.kind, akbSendRcv);
      case akeCount: return a.parent?.countInOut === true; // the caller's buffer size
      default: return false;
    }
  });
}

/** The values the work function returns (out/inout values, poly names, Dealloc[] flags). */
export function serverOuts(rt: Routine): Argument[] {
  return rt.args.filter((a) => {
    if (!akCheck(a.kind, akbServerArg)) return false;
    switch (akIdent(a.kind)) {
      case akeNormal: return akCheck(a.kind, akbReturnSnd);
      case akePoly: return akCheck(a.kind, akbReturnSnd);
      case akeDealloc: return akCheck(a.kind, akbReturn);
      default: return false;
    }
  });
}

function serverParamType(a: Argument): string {
  switch (akIdent(a.kind)) {
    case akeRequestPort: return 'MachPort';
    case akeReplyPort: return 'MachPort | null';
    case akeNormal: return tsType(a.type!);
    default: return 'number';
  }
}

/** The outs object of a work function; inout values may be left out (then sent back unchanged). */
function serverOutsType(rt: Routine): string {
  return outsType(serverOuts(rt), serverOutType, (a) => akIdent(a.kind) === akeNormal && akCheck(a.kind, akbRequest));
}

function serverOutType(a: Argument): string {
  switch (akIdent(a.kind)) {
    case akeNormal: return tsType(a.type!);
    case akeDealloc: return 'boolean';
    default: return 'number';
  }
}

export function implInterface(mod: MigModule): InterfaceDeclarationStructure {
  const cx = { base: mod.subsystem.base };
  return {
    kind: tsMorphModule().StructureKind.Interface,
    name: `${mod.subsystem.name}_routines`,
    isExported: true,
    docs: [{ description: `The work functions of subsystem ${mod.subsystem.name} (${mod.subsystem.base}), as a server implements them.\nEach returns its out values, or a kern_return_t (MIG_NO_REPLY: send nothing).` }],
    methods: mod.routines.map((rt) => ({
      name: ident(rt.serverName),
      docs: [{ description: `${rt.oneway ? 'SimpleRoutine' : 'Routine'} ${rt.name}: request ${cx.base + rt.number}.` }],
      parameters: serverParams(rt).map((a) => ({ name: ident(a.name), type: serverParamType(a) })),
      returnType: `MigResult<${serverOutsType(rt)}> | void`,
    })),
  };
}

/** `_X<routine>`: check the request, call the work function, build the reply. */
export function serverStub(rt: Routine, mod: MigModule, cx: EmitContext): FunctionDeclarationStructure {
  const reqFields = rt.args.filter((a) => akCheck(a.kind, akbRequest) && a.type !== null);
  const replyFields = rt.args.filter((a) => akCheck(a.kind, akbReply) && a.type !== null);
  const lines: string[] = [];
  lines.push('const h = req.header;');
  lines.push('const q = req.body;');
  // TypeCheck: size (fixed, or at least the minimum and consistent), complex bit, descriptors.
  const sizeBad = rt.numRequestVar > 0 ? `h.size < ${rt.requestSize} || h.size !== msgSize(q)` : `h.size !== ${rt.requestSize}`;
  const conds = [`q.length !== ${reqFields.length}`, sizeBad];
  if (rt.simpleCheckRequest) conds.push(`mig_complex(req) !== ${!rt.simpleReceiveRequest}`);
  reqFields.forEach((a, i) => {
    conds.push(`!mig_check_type(q[${i}]!.type, ${checkLiteral(a, a.type!, akCheck(a.kind, akbRequestQC))})`);
    if (a.type!.outName === MSG_TYPE_POLYMORPHIC && !rt.simpleCheckRequest) conds.push(`(MACH_MSG_TYPE_PORT_ANY(q[${i}]!.type.name) && !mig_complex(req))`);
  });
  lines.push(`if (${conds.join('\n    || ')}) return mig_reply(req, MIG_BAD_ARGUMENTS);`);

  const params = serverParams(rt);
  const at = (a: Argument): number => reqFields.indexOf(a);
  const values: string[] = [];
  for (const a of params) {
    switch (akIdent(a.kind)) {
      case akeRequestPort: values.push('rt.port(h.localPort)'); break;
      case akeReplyPort: values.push('h.remotePort === 0 ? null : rt.port(h.remotePort)'); break;
      case akeMsgSeqno: values.push('h.seqno'); break;
      case akeNormal: values.push(unpackField(a, `q[${at(a)}]!`, 'rt')); break;
      case akePoly: {
        const p = a.parent!;
        if (p === rt.requestPort) values.push('MACH_MSGH_BITS_LOCAL(h.bits)');
        else if (p === rt.sReplyPort) values.push('MACH_MSGH_BITS_REMOTE(h.bits)');
        else values.push(`q[${at(p)}]!.type.name`);
        break;
      }
      case akeCount: {
        const p = a.parent!;
        const max = Math.floor(p.type!.number / (p.type!.element?.number ?? 1));
        const cinout = p.count!.cInOut!;
        values.push(`Math.min(${max}, int_value(q[${at(cinout)}]!))`);
        break;
      }
    }
  }
  const method = ident(rt.serverName);
  lines.push('let r;');
  lines.push('try {');
  lines.push(`  const f = impl.${method};`);
  lines.push('  if (f === undefined) return mig_reply(req, EOPNOTSUPP);');
  lines.push(`  r = f.call(impl${values.length ? ', ' : ''}${values.join(', ')});`);
  lines.push('} catch (e) {');
  lines.push('  return mig_fail(req, e);');
  lines.push('}');

  // The reply: RetCode, then the out values in argument order.
  const build: string[] = [];
  build.push('const body: MachMsgItem[] = [{ type: RETCODE_TYPE, data: KERN_SUCCESS }];');
  const dynamic = !rt.simpleFixedReply;
  if (dynamic) build.push('let complex = false;');
  // A missing out value is a bug of the work function, not of the client: say so.
  for (const a of serverOuts(rt)) {
    if (akIdent(a.kind) === akeNormal && akCheck(a.kind, akbRequest)) continue; // inout: optional
    build.push(`if (outs.${a.name} === undefined) throw new TypeError('${rt.serverName} returned no ${a.name}');`);
  }
  const sendNames = cx.kernelServer ? 'out' : 'in';
  for (const a of replyFields) {
    if (a === rt.retCode) continue;
    const it = a.type!;
    const sendName = sendNames === 'out' ? it.outName : it.inName;
    let v = `outs.${a.name}`;
    if (akCheck(a.kind, akbRequest)) v = `(outs.${a.name} === undefined ? ${unpackField(a, `q[${at(a)}]!`, 'rt')} : outs.${a.name})`; // inout: unchanged unless returned (null is a value: MACH_PORT_NULL)
    const nameExpr = sendName === MSG_TYPE_POLYMORPHIC ? `outs.${a.poly!.name}` : String(sendName);
    if (sendName === MSG_TYPE_POLYMORPHIC && dynamic) build.push(`if (MACH_MSG_TYPE_PORT_ANY(${nameExpr})) complex = true;`);
    const dealloc = a.deallocate === 'yes' ? 'true' : a.deallocate === 'maybe' ? `outs.${a.dealloc!.name}` : 'false';
    const valueName = `v_${a.name}`;
    build.push(`const ${valueName} = ${v};`);
    build.push(...packField(a, valueName, nameExpr, dealloc, 'rt', 'reply', dynamic));
  }
  const complexBit = dynamic ? ' | (complex ? 0x80000000 : 0)' : rt.simpleSendReply ? '' : ' | 0x80000000';
  const size = rt.numReplyVar > 0 ? 'msgSize(body)' : String(rt.replySize);
  build.push(`return { header: { bits: (MACH_MSGH_BITS_REMOTE(h.bits)${complexBit}) >>> 0, size: ${size}, remotePort: h.remotePort, localPort: 0, seqno: 0, id: h.id + 100 }, body };`);
  lines.push(`return mig_finish(req, r, (outs: ${serverOutsType(rt)}) => {`);
  lines.push(...build.map((l) => `  ${l}`));
  lines.push('});');

  return {
    kind: tsMorphModule().StructureKind.Function,
    name: `_X${rt.name}`,
    parameters: [{ name: 'req', type: 'MachMessage' }, { name: 'rt', type: 'MachMsg' }],
    returnType: 'MachMessage | null | Promise<MachMessage | null>',
    docs: [{ description: routineDoc(rt, cx) }],
    statements: lines,
  };
}

/** The demux factory: the routine table and MIG's id check, around the per-routine stubs. */
export function demuxFactory(mod: MigModule, cx: EmitContext): Statement[] {
  const name = ident(mod.serverDemux);
  const base = mod.subsystem.base;
  const table: string[] = [];
  const byNumber = new Map(mod.routines.map((rt) => [rt.number, rt]));
  for (let n = 0; n < mod.total; n++) {
    const rt = byNumber.get(n);
    table.push(rt ? `_X${rt.name}` : 'undefined');
  }
  const infos = mod.routines.map((rt) => `[${base + rt.number}, { name: '${rt.name}', id: ${base + rt.number}, oneway: ${rt.oneway} }]`);
  const stubs = mod.routines.map((rt) => serverStub(rt, mod, cx));
  return [
    {
      kind: tsMorphModule().StructureKind.Function,
      name,
      isExported: true,
      parameters: [{ name: 'impl', type: `Partial<${mod.subsystem.name}_routines>` }],
      returnType: 'MigDemux',
      docs: [{ description: `The demux of subsystem ${mod.subsystem.name}: requests ${base}..${base + mod.total - 1}.\nUnknown or skipped ids get MIG_BAD_ID; work functions impl does not define answer EOPNOTSUPP.` }],
      statements: [
        (w) => { for (const s of stubs) printFunction(w, s); },
        `const table: Array<((req: MachMessage, rt: MachMsg) => MachMessage | null | Promise<MachMessage | null>) | undefined> = [${table.join(', ')}];`,
        `const demux = (req: MachMessage, rt: MachMsg): MachMessage | null | Promise<MachMessage | null> => {`,
        `  const n = req.header.id - ${base};`,
        `  const stub = n >= 0 && n < ${mod.total} ? table[n] : undefined;`,
        `  if (stub === undefined) return mig_reply(req, MIG_BAD_ID);`,
        `  return stub(req, rt);`,
        `};`,
        `return Object.assign(demux, { subsystem: '${mod.subsystem.name}', base: ${base}, total: ${mod.total}, routine: (id: number): MigRoutineInfo | undefined => ROUTINES.get(id) });`,
      ],
    },
    `const ROUTINES = new Map<number, MigRoutineInfo>([${infos.join(', ')}]);`,
  ];
}

/** Print a nested function declaration into a writer (stubs live inside the factory, closing over impl). */
function printFunction(w: import('ts-morph').CodeBlockWriter, f: FunctionDeclarationStructure): void {
  w.writeLine(`/** ${(f.docs?.[0] as { description: string }).description} */`);
  w.write(`function ${f.name}(${(f.parameters ?? []).map((p) => `${p.name}: ${p.type as string}`).join(', ')}): ${f.returnType as string} `).block(() => {
    for (const s of f.statements as string[]) w.writeLine(s);
  });
  w.blankLine();
}
