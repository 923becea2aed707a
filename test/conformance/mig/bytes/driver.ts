/*
 * File: test/conformance/mig/bytes/driver.ts
 * Purpose: the C side of the byte conformance test: reads GNU MIG's user stubs (their
 *          prototypes and routine blocks) and writes a C driver that calls every stub with
 *          deterministic argument values derived from tsmig's model of the routine, while
 *          recording the same values for the TypeScript stub.
 *
 * Values: integers from a counter (sized to the field, 64-bit ones above 2^52 but safe),
 * booleans TRUE, port names 0x100 + counter, arrays of a few elements, strings of letters,
 * out-of-line data from static buffers. Each routine is called in variant "small"; routines
 * that send variable arrays or strings also in "empty" (counts 0, empty strings, port-name
 * polymorphic values), "max" (in-line arrays at their bound, strings of N-1 bytes) and
 * "over" (one element past the bound — MIG_ARRAY_TOO_LARGE for bounded arrays, out of line
 * for indefinite ones — and strings MIG truncates).
 */

import type { MigModule } from '../../../../codegen/compile.js';
import { valueKind } from '../../../../codegen/emit/values.js';
import { userParams } from '../../../../codegen/emit/user.js';
import type { MachMsgDataKind } from '../../../../src/wire/mach_codec.js';
import {
  akbRequest, akbSendSnd, akbUserArg, akCheck, akeCount, akeCountInOut, akeDealloc, akeMsgOption, akeNormal, akePoly,
  akeReplyPort, akeRequestPort, akeWaitTime, akIdent, type Argument, type Routine,
} from '../../../../codegen/routine.js';

// ==== MIG's user stubs ===============================================================

/** One parameter of a MIG user stub's prototype. */
export interface CParam {
  /** the type as written, `const` included (`const_data_t`, `const io_buf_ptr_inband_t`) */
  type: string;
  /** the type without `const` (what a local variable is declared with) */
  baseType: string;
  name: string;
  /** passed by reference (`T *x`) */
  pointer: boolean;
}

/** One routine block of U.c. */
export interface CStub {
  /** the routine's name (banner) */
  name: string;
  simple: boolean;
  /** the C function name (user prefix included) */
  fn: string;
  params: CParam[];
  /** the block's extent in U.c (banner to the next banner) */
  start: number;
  end: number;
}

const BANNER = /^\/\* (Simple)?Routine (\w+) \*\/$/gm;

/** The routine blocks of MIG's user stubs, with their prototypes. */
export function parseUserStubs(userC: string): CStub[] {
  const banners = [...userC.matchAll(BANNER)];
  return banners.map((m, i) => {
    const start = m.index!;
    const end = i + 1 < banners.length ? banners[i + 1]!.index! : userC.length;
    const block = userC.slice(start, end);
    const proto = /\nmig_external kern_return_t (\w+)\n\(\n([\s\S]*?)\n\)\n\{/.exec(block);
    if (!proto) throw new Error(`U.c: no prototype for routine ${m[2]}`);
    const params = proto[2]!.split(',\n').map((p): CParam => {
      const text = p.trim();
      const pm = /^(.*?)\s*(\*?)(\w+)$/.exec(text);
      if (!pm) throw new Error(`U.c: cannot read parameter "${text}" of ${m[2]}`);
      const type = pm[1]!.trim();
      return { type, baseType: type.replace(/\bconst\s+/g, '').trim(), name: pm[3]!, pointer: pm[2] === '*' };
    });
    return { name: m[2]!, simple: m[1] !== undefined, fn: proto[1]!, params, start, end };
  });
}

/** U.c without the blocks of the given routines (those whose C does not compile). */
export function dropRoutines(userC: string, stubs: CStub[], drop: ReadonlySet<string>): string {
  let out = '';
  let at = 0;
  for (const s of stubs) {
    if (!drop.has(s.name)) continue;
    out += userC.slice(at, s.start) + `/* ${s.name}: left out by the byte conformance test */\n`;
    at = s.end;
  }
  return out + userC.slice(at);
}

/** The routines whose blocks contain the given U.c line numbers (1-based). */
export function routinesAtLines(userC: string, stubs: CStub[], lines: number[]): Set<string> {
  const lineStart: number[] = [0];
  for (let i = 0; i < userC.length; i++) if (userC.charCodeAt(i) === 10) lineStart.push(i + 1);
  const out = new Set<string>();
  for (const line of lines) {
    const offset = lineStart[line - 1] ?? -1;
    const s = stubs.find((x) => offset >= x.start && offset < x.end);
    if (s) out.add(s.name);
  }
  return out;
}

// ==== values =========================================================================

export type Variant = 'small' | 'empty' | 'one' | 'max' | 'over';
export const VARIANTS: readonly Variant[] = ['small', 'empty', 'one', 'max', 'over'];

/** A TypeScript argument: ports are made into MachPort handles by the test's runtime. */
export type TsArg =
  | { port: number }
  | { ports: number[] }
  | { value: number | boolean | string | number[] | Uint8Array };

/** One call of one routine, on both sides. */
export interface CallPlan {
  routine: Routine;
  stub: CStub;
  variant: Variant;
  /** `routine/variant`, the driver's label */
  tag: string;
  /** the C block: declarations, the call, the return code */
  c: string[];
  /** the TypeScript stub's arguments, in its parameter order */
  ts: TsArg[];
}

/** What a sent argument carries, in both languages. */
interface Sent {
  ts: TsArg;
  /** the data's bytes as C memory holds them (in-line values, arrays, regions) */
  bytes: number[];
  /** elements (C units) of a variable array */
  count?: number;
  /** a string: its C literal */
  string?: string;
}

/** Little-endian bytes of a non-negative integer of `bits` bits. */
function le(v: number, bits: number): number[] {
  const out: number[] = [];
  let x = BigInt(v);
  for (let i = 0; i < bits / 8; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

/** Counter-derived values, one sequence per routine call. */
class Values {
  private k: number;
  constructor(seed: number) {
    this.k = seed;
  }

  int(bits: number): number {
    const k = this.k++;
    switch (bits) {
      case 8: return 0x20 + (k % 0x5f);
      case 16: return (0x1100 + k * 0x0101) & 0xffff;
      case 32: return (0x10000000 + k * 0x01010101) % 2 ** 32;
      case 64: return 2 ** 52 + k * 0x100010001;
      default: throw new Error(`no integers of ${bits} bits`);
    }
  }

  byte(): number {
    return 0x61 + (this.k++ % 26);
  }

  port(): number {
    return 0x100 + this.k++;
  }

  text(length: number): string {
    let s = '';
    const k = this.k++;
    for (let i = 0; i < length; i++) s += String.fromCharCode(0x61 + ((k + i) % 26));
    return s;
  }
}

/** The right types a polymorphic argument cycles through (all make the message complex). */
const PORT_DISPOSITIONS = [19, 20, 17, 21, 18, 16];
const MACH_MSG_TYPE_PORT_NAME = 15;

/** Elements per C element for a variable array (its count's multiplier). */
function multiplier(a: Argument): number {
  return a.count?.multiplier ?? 1;
}

/** Whether this routine's request carries data whose size the caller chooses. */
export function hasVariableData(rt: Routine): boolean {
  return rt.args.some((a) => akIdent(a.kind) === akeNormal && akCheck(a.kind, akbSendSnd) && a.type !== null
    && (a.type.varArray || a.type.string || !a.type.inLine));
}

/** The value of one sent data argument for a variant. */
function sentValue(a: Argument, variant: Variant, v: Values): Sent {
  const it = a.type!;
  const kind = valueKind(it);
  if (kind === 'string') {
    const n = Math.floor((it.number * it.size) / 8);
    const length = variant === 'empty' ? 0 : variant === 'one' ? 1 : variant === 'max' ? n - 1 : variant === 'over' ? n + 3 : Math.min(5, n - 1);
    const s = v.text(length);
    return { ts: { value: s }, bytes: [], string: s };
  }
  const scalar = it.inLine && !it.varArray && it.number === 1;
  if (scalar && kind === 'port') {
    const name = v.port();
    return { ts: { port: name }, bytes: le(name, it.size) };
  }
  if (scalar && kind === 'bool') return { ts: { value: true }, bytes: le(1, it.size) };
  if (scalar && kind === 'int') {
    const x = v.int(it.size);
    return { ts: { value: x }, bytes: le(x, it.size) };
  }

  // arrays: fixed, variable in line, or out of line
  let count: number | undefined;
  let elements: number;
  if (it.varArray) {
    const mult = multiplier(a);
    const bounded = it.inLine;
    const max = bounded ? Math.floor(it.number / mult) : 300;
    count = variant === 'empty' ? 0 : variant === 'one' ? 1 : variant === 'max' ? max : variant === 'over' ? max + 1 : Math.min(3, max);
    elements = count * mult;
  } else {
    elements = it.number;
  }
  if (kind === 'ports' || kind === 'port') {
    const names = Array.from({ length: elements }, () => v.port());
    return { ts: { ports: names }, bytes: names.flatMap((n) => le(n, it.size)), count };
  }
  if (kind === 'ints' || kind === 'int' || kind === 'bool') {
    const xs = Array.from({ length: elements }, () => v.int(it.size));
    return { ts: { value: xs }, bytes: xs.flatMap((x) => le(x, it.size)), count };
  }
  const bytes = Array.from({ length: Math.ceil((elements * it.size) / 8) }, () => v.byte());
  return { ts: { value: new Uint8Array(bytes) }, bytes, count };
}

/** A C initializer list for bytes. */
function cBytes(bytes: number[]): string {
  return bytes.length === 0 ? '0' : bytes.map((b) => `0x${b.toString(16)}`).join(',');
}

/** Plans every call of one routine (its variants) for the C driver and the TS stub. */
export function planRoutine(rt: Routine, stub: CStub, seed: number): CallPlan[] {
  const variants: Variant[] = hasVariableData(rt) ? [...VARIANTS] : ['small'];
  return variants.map((variant, vi) => planCall(rt, stub, variant, seed * 16 + vi * 1000));
}

function planCall(rt: Routine, stub: CStub, variant: Variant, seed: number): CallPlan {
  const v = new Values(seed);
  const sent = new Map<Argument, Sent>();
  const scalar = new Map<Argument, number | boolean>();
  let polyIndex = seed;

  // Values in MIG's argument order (a count after its array, a poly name after its value).
  for (const a of rt.args) {
    const id = akIdent(a.kind);
    switch (id) {
      case akeRequestPort:
      case akeReplyPort:
        if (akCheck(a.kind, akbUserArg)) scalar.set(a, v.port());
        break;
      case akeWaitTime:
        if (akCheck(a.kind, akbUserArg)) scalar.set(a, 1000 + (seed % 1000));
        break;
      case akeMsgOption:
        if (akCheck(a.kind, akbUserArg)) scalar.set(a, 0x40); // MACH_SEND_INTERRUPT
        break;
      case akeNormal:
        if (akCheck(a.kind, akbSendSnd) && a.type) sent.set(a, sentValue(a, variant, v));
        break;
      case akeCount: {
        const parent = a.parent ? sent.get(a.parent) : undefined;
        if (parent?.count !== undefined) scalar.set(a, parent.count);
        break;
      }
      case akeCountInOut: {
        // as tsmig's user emitter: the CountInOut argument's count, whose parent is the array
        const parent = a.cInOut!.parent!;
        const max = Math.floor(parent.type!.number / (parent.type!.element?.number ?? 1));
        scalar.set(a, variant === 'empty' ? 0 : variant === 'one' ? 1 : variant === 'max' ? max : variant === 'over' ? max + 7 : 5);
        break;
      }
      case akePoly:
        if (akCheck(a.kind, akbSendSnd)) {
          scalar.set(a, variant === 'empty' ? MACH_MSG_TYPE_PORT_NAME : PORT_DISPOSITIONS[polyIndex++ % PORT_DISPOSITIONS.length]!);
        }
        break;
      case akeDealloc:
        scalar.set(a, variant === 'small' || variant === 'max');
        break;
      default:
        break;
    }
  }

  // The C call.
  const c: string[] = [];
  const args: string[] = [];
  stub.params.forEach((p, i) => {
    const candidates = rt.args.filter((a) => a.name === p.name);
    const a = candidates.find((x) => akIdent(x.kind) === akeCountInOut) ?? candidates[0];
    if (!a) throw new Error(`${rt.name}: C parameter ${p.name} has no argument in tsmig's model`);
    const local = `v${i}`;
    const sv = sent.get(a);
    const sc = scalar.get(a);
    if (sv !== undefined) {
      const it = a.type!;
      if (sv.string !== undefined) {
        if (p.pointer) throw new Error(`${rt.name}: by-reference string ${p.name} is not driven`);
        args.push(JSON.stringify(sv.string));
      } else if (it.varArray || !it.inLine) {
        c.push(`static unsigned char ${local}b[${Math.max(1, sv.bytes.length)}] __attribute__((aligned(16))) = { ${cBytes(sv.bytes)} };`);
        if (p.pointer) {
          c.push(`${p.baseType} ${local} = (${p.baseType})(uintptr_t)${local}b;`);
          args.push(`&${local}`);
        } else {
          args.push(it.inLine ? `(void *)${local}b` : `(${p.type})(uintptr_t)${local}b`);
        }
      } else {
        c.push(`${p.baseType} ${local};`);
        c.push(`_Static_assert(sizeof ${local} == ${sv.bytes.length}, "${p.name}: C size");`);
        c.push(`memcpy(&${local}, (const unsigned char[]){ ${cBytes(sv.bytes)} }, ${sv.bytes.length});`);
        args.push(p.pointer ? `&${local}` : local);
      }
    } else if (sc !== undefined) {
      const lit = typeof sc === 'boolean' ? (sc ? '1' : '0') : `${sc}u`;
      if (p.pointer) {
        c.push(`${p.baseType} ${local} = ${lit};`);
        args.push(`&${local}`);
      } else {
        args.push(`(${p.type})${lit}`);
      }
    } else {
      // Out values, out counts, received poly names: storage the stub never reaches.
      c.push(`${p.baseType} ${local};`);
      c.push(`memset(&${local}, 0, sizeof ${local});`);
      args.push(p.pointer ? `&${local}` : local);
    }
  });
  const tag = `${rt.name}/${variant}`;
  const block = [
    `{`,
    `  printf("R ${tag}\\n");`,
    ...c.map((l) => `  ${l}`),
    `  kern_return_t kr = ${stub.fn}(${args.join(', ')});`,
    `  printf("X %d\\n", (int) kr);`,
    `}`,
  ];

  // The TypeScript call.
  const ts = userParams(rt).map((a): TsArg => {
    const sv = sent.get(a);
    if (sv) return sv.ts;
    const sc = scalar.get(a);
    if (sc === undefined) throw new Error(`${rt.name}: no value for TS parameter ${a.name}`);
    const id = akIdent(a.kind);
    if (id === akeRequestPort || id === akeReplyPort) return { port: sc as number };
    return { value: sc };
  });
  return { routine: rt, stub, variant, tag, c: block, ts };
}

/**
 * What each request field's data is in the TS stub (codegen/emit/values.ts's kinds), as a
 * decode hint: variable arrays stay arrays with one element. Out-of-line fields are left to
 * the decoder (bytes, or names for ports).
 */
export function requestKinds(rt: Routine): Array<MachMsgDataKind | undefined> {
  return rt.args.filter((a) => akCheck(a.kind, akbRequest) && a.type !== null).map((a) => {
    if (akIdent(a.kind) === akeCountInOut) return 'int';
    const k = valueKind(a.type!);
    return k === 'bool' ? 'int' : k;
  });
}

/** The C driver: main() calling every planned stub call in order. */
export function driverSource(mod: MigModule, plans: CallPlan[]): string {
  return [
    `/* @generated by test/conformance/mig/bytes.test.ts for ${mod.file} — byte conformance driver */`,
    '#include <stdint.h>',
    '#include <stdio.h>',
    '#include <string.h>',
    '#include "H.h"',
    '',
    'int main (void)',
    '{',
    ...plans.flatMap((p) => p.c.map((l) => `  ${l}`)),
    '  return 0;',
    '}',
    '',
  ].join('\n');
}
