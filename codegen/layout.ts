/*
 * File: codegen/layout.ts
 * Purpose: the machine-comparable message layout of a compiled .defs (`tsmig layout`):
 *          ids, header dispositions, the complex bit, sizes and every body field's
 *          descriptor and offset, as GNU MIG lays them out for x86_64 (spec/mig.md §8–§10).
 *
 * The conformance suite compares this, routine by routine, with what the real GNU MIG's
 * generated C says; the mach binary codec and the stubs are built from the same model.
 */

import type { MigModule } from './compile.js';
import { akbReply, akbRequest, akCheck, type Argument, type Routine } from './routine.js';
import { MSG_TYPE_POLYMORPHIC, SIZEOF_HEADER, SIZEOF_TYPE, SIZEOF_TYPE_LONG, WORD_SIZE } from './type.js';

export interface FieldLayout {
  name: string;
  /** the MACH_MSG_TYPE_* string MIG prints, digits for a number, or the poly argument's name */
  msgt_name: string;
  msgt_size: number;
  msgt_number: number;
  inline: boolean;
  longform: boolean;
  deallocate: boolean;
  /** byte offset of the descriptor; absent after a variable-size field */
  offset?: number;
}

export type Complex = boolean | 'dynamic';
export type Size = number | { min: number };

export interface MessageLayout {
  id: number;
  size: Size;
  fields: FieldLayout[];
}

export interface RequestLayout extends MessageLayout {
  bits: { remote: string | 0; local: string | 0; complex: Complex };
}

export interface ReplyLayout extends MessageLayout {
  complex: Complex;
}

export interface RoutineLayout {
  name: string;
  kind: 'routine' | 'simpleroutine';
  number: number;
  request: RequestLayout;
  reply: ReplyLayout | null;
}

export interface Layout {
  subsystem: { name: string; base: number };
  routines: RoutineLayout[];
}

/** The layout of every routine of a module, in message-id order. */
export function moduleLayout(mod: MigModule): Layout {
  const base = mod.subsystem.base;
  const kernelServer = mod.subsystem.kernelServer;
  return {
    subsystem: { name: mod.subsystem.name, base },
    routines: [...mod.routines].sort((a, b) => a.number - b.number).map((rt) => routineLayout(rt, base, kernelServer)),
  };
}

export function routineLayout(rt: Routine, base: number, kernelServer: boolean): RoutineLayout {
  const id = base + rt.number;
  const request: RequestLayout = {
    id,
    bits: {
      remote: headerName(rt.requestPort),
      local: headerName(rt.uReplyPort),
      complex: rt.simpleFixedRequest ? !rt.simpleSendRequest : 'dynamic',
    },
    size: rt.numRequestVar > 0 ? { min: rt.requestSize } : rt.requestSize,
    fields: fields(rt, akbRequest, 'in'),
  };
  const reply: ReplyLayout | null = rt.oneway ? null : {
    id: id + 100,
    complex: rt.simpleFixedReply ? !rt.simpleSendReply : 'dynamic',
    size: rt.numReplyVar > 0 ? { min: rt.replySize } : rt.replySize,
    fields: fields(rt, akbReply, kernelServer ? 'out' : 'in'),
  };
  return { name: rt.name, kind: rt.oneway ? 'simpleroutine' : 'routine', number: rt.number, request, reply };
}

/** WriteHeaderPortType: the disposition written in msgh_bits (or the poly argument carrying it). */
function headerName(arg: Argument | null): string | 0 {
  const it = arg?.type;
  if (!it) return 0;
  if (it.inName === MSG_TYPE_POLYMORPHIC) return arg!.poly!.varName!;
  return it.inNameStr === '0' ? 0 : it.inNameStr!;
}

/** Each field of the message the mask selects, as its sender writes the descriptor. */
function fields(rt: Routine, mask: number, names: 'in' | 'out'): FieldLayout[] {
  const out: FieldLayout[] = [];
  let offset: number | undefined = SIZEOF_HEADER;
  for (const arg of rt.args) {
    if (!akCheck(arg.kind, mask) || arg.type === null) continue;
    const it = arg.type;
    const nameValue = names === 'in' ? it.inName : it.outName;
    const nameStr = names === 'in' ? it.inNameStr : it.outNameStr;
    if (offset !== undefined) offset = (offset + WORD_SIZE - 1) & ~(WORD_SIZE - 1);
    const f: FieldLayout = {
      name: arg.name,
      msgt_name: nameValue === MSG_TYPE_POLYMORPHIC && arg.poly ? arg.poly.varName! : nameStr!,
      msgt_size: it.size,
      msgt_number: it.number,
      inline: it.inLine,
      longform: arg.longForm,
      // indefinite arrays set the bit only when they actually go out of line
      deallocate: it.indefinite ? false : arg.deallocate === 'yes',
    };
    if (offset !== undefined) f.offset = offset;
    out.push(f);
    if (offset !== undefined) {
      offset += (arg.longForm ? SIZEOF_TYPE_LONG : SIZEOF_TYPE) + it.minTypeSize;
      if (it.varArray && it.inLine) offset = undefined;
    }
  }
  return out;
}
