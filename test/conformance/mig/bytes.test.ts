/*
 * File: test/conformance/mig/bytes.test.ts
 * Purpose: byte-for-byte conformance of tsmig's TypeScript user stubs, encoded by
 *          src/wire/mach_codec.ts, with GNU MIG's C user stubs compiled by gcc.
 *
 * For every GNU Mach interface (/usr/include/x86_64-linux-gnu/{mach,device,mach_debug}/*.defs
 * with a subsystem, and the machine's mach/x86_64/mach_i386.defs):
 *  1. `x86_64-gnu-mig` writes U.c/H.h; gcc compiles U.c against the installed GNU Mach headers
 *     plus our shim <mach/mig_support.h> (bytes/include), with bytes/runtime.c (mach_msg
 *     prints the request and its out-of-line regions, then fails with
 *     MACH_SEND_INVALID_DEST) and a generated driver (bytes/driver.ts) that calls every user
 *     stub with deterministic values. `-ftrivial-auto-var-init=zero` makes the stubs'
 *     uninitialised padding (after msgh_remote_port, xPad, fixed strings' tails) zero, so
 *     the bytes are compared unmasked.
 *  2. tsmig generates X.user.ts (into test/.gen/bytes/); each routine is called with the
 *     same values through a runtime whose mach_msg captures the request and fails the same way.
 *  3. The captured MachMessage is encoded with encodeMachMessage, out-of-line pointers
 *     taken from the C message, and must equal MIG's bytes; so must the mach_msg options,
 *     receive port and timeout, the out-of-line regions, and the return code (calls MIG
 *     refuses before sending — MIG_ARRAY_TOO_LARGE — must be refused by tsmig too).
 *     MIG's bytes must also decode (decodeMachMessage) and re-encode to themselves.
 *
 * Routines whose C stubs do not compile (MIG 1.8's 4-byte alignment of 64-bit struct
 * members, spec/mig.md §6.3) are found by gcc and listed as exclusions. The summary line
 * (stdout of the last test) gives the counts; BYTES_KEEP=1 keeps the C work directory
 * (U.c, driver.c, the driver) in the system's temporary directory.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, generateFile } from '../../../codegen/tsmig.js';
import type { MigModule } from '../../../codegen/compile.js';
import { MachError, MACH_SEND_INVALID_DEST } from '../../../src/mach/kern_return.js';
import type { MachMessage, MachMsgItem } from '../../../src/mach/message.js';
import type { MachMsg, MachPort } from '../../../src/mach/mig.js';
import { decodeMachMessage, encodeMachMessage, MachCodecError } from '../../../src/wire/mach_codec.js';
import { DEFAULT_DEFINES, requireMig } from './oracle.js';
import {
  driverSource, dropRoutines, parseUserStubs, planRoutine, requestKinds, routinesAtLines, type CallPlan, type CStub, type TsArg,
} from './bytes/driver.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BYTES = join(HERE, 'bytes');
const SHIM = join(BYTES, 'include');
const RUNTIME_C = join(BYTES, 'runtime.c');
const GEN = join(HERE, '..', '..', '.gen', 'bytes');
const INCLUDE = '/usr/include/x86_64-linux-gnu';
const DEFINES = DEFAULT_DEFINES.map(([k, v]): [string, string] => [k, v]);
const REPLY_PORT = 0xabc;

/**
 * Discrepancies found by this test that are bugs in tsmig's generated stubs (codegen/, not
 * ours to fix). Their calls are still run and compared; the differences are printed in the
 * summary instead of failing the file. An entry whose calls all match again is reported as
 * fixed (remove it then).
 */
const KNOWN: Readonly<Record<string, string>> = {
  // none: (MACH_MSG_TYPE_STRING, 8*N) strings were sent empty until codegen/emit/values.ts
  // counted their bytes as number x size / 8 (device_open, default_pager_paging_file, ...).
};

// ---- availability --------------------------------------------------------------------

function gccAvailable(): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'gcc'))) return true;
  return false;
}

function requireTools(): boolean {
  if (!requireMig()) return false;
  if (gccAvailable() && existsSync(join(INCLUDE, 'mach', 'mach.defs'))) return true;
  if (process.env.CI) throw new Error('gcc and the GNU Mach headers (gnumach-dev) are required for the byte conformance test in CI');
  return false;
}

const AVAILABLE = requireTools();

/** The interfaces: .defs files with a subsystem statement. */
function interfaces(): string[] {
  if (!AVAILABLE) return [];
  const out: string[] = [];
  for (const sub of ['mach', 'mach/x86_64', 'device', 'mach_debug']) {
    const dir = join(INCLUDE, sub);
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.defs')) continue;
      if (/^\s*subsystem\b/m.test(readFileSync(join(dir, f), 'utf8'))) out.push(join(dir, f));
    }
  }
  return out;
}

const FILES = interfaces();

// ---- running tools ---------------------------------------------------------------------

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// ---- the C side ------------------------------------------------------------------------

interface CMessage {
  option: number;
  sendSize: number;
  rcvName: number;
  timeout: number;
  notify: number;
  bytes: Uint8Array;
  ool: Uint8Array[];
}

interface CResult {
  messages: CMessage[];
  rc: number | null;
}

interface Prepared {
  file: string;
  sub: string;
  mod: MigModule;
  stubs: CStub[];
  plans: CallPlan[];
  excluded: Array<{ routine: string; reason: string }>;
  results: Map<string, CResult>;
  userModule: string;
}

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Reads the driver's output: R tag / M ... / O ... / X rc. */
function parseDriverOutput(out: string): Map<string, CResult> {
  const results = new Map<string, CResult>();
  let cur: CResult | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('R ')) {
      cur = { messages: [], rc: null };
      results.set(line.slice(2), cur);
    } else if (line.startsWith('M ') && cur) {
      const [option, sendSize, , rcvName, timeout, notify, hex] = line.slice(2).split(' ');
      cur.messages.push({ option: Number(option), sendSize: Number(sendSize), rcvName: Number(rcvName), timeout: Number(timeout), notify: Number(notify), bytes: fromHex(hex!), ool: [] });
    } else if (line.startsWith('O ') && cur) {
      cur.messages.at(-1)?.ool.push(fromHex(line.slice(2)));
    } else if (line.startsWith('X ') && cur) {
      cur.rc = Number(line.slice(2));
    }
  }
  return results;
}

const GCC_FLAGS = ['-O0', '-w', '-ftrivial-auto-var-init=zero', '-D__x86_64__=1', '-D__LP64__=1'];

async function prepare(file: string, root: string): Promise<Prepared> {
  const sub = basename(file, '.defs');
  const dir = join(root, `${basename(join(file, '..'))}-${sub}`);
  mkdirSync(dir, { recursive: true });
  const mig = await run('x86_64-gnu-mig', ['-n', '-user', 'U.c', '-server', 'S.c', '-header', 'H.h', ...DEFINES.map(([k, v]) => `-D${k}=${v}`), `-I${INCLUDE}`, file], dir);
  if (mig.status !== 0) throw new Error(`x86_64-gnu-mig failed on ${file}: ${mig.stderr}`);
  const userC = readFileSync(join(dir, 'U.c'), 'utf8');
  const stubs = parseUserStubs(userC);
  const mod = compileFile(file, { includeDirs: [INCLUDE], defines: DEFINES });
  const byName = new Map(mod.routines.map((r) => [r.name, r]));
  expect(stubs.map((s) => s.name)).toEqual(mod.routines.map((r) => r.name));

  // Routines whose C does not compile.
  const syntax = await run('gcc', ['-fsyntax-only', ...GCC_FLAGS, `-I${dir}`, `-I${SHIM}`, `-I${INCLUDE}`, 'U.c'], dir);
  const excluded: Prepared['excluded'] = [];
  const drop = new Set<string>();
  if (syntax.status !== 0) {
    const errors = [...syntax.stderr.matchAll(/^U\.c:(\d+):\d+: error: (.*)$/gm)];
    if (errors.length === 0) throw new Error(`gcc rejects ${file}'s U.c outside any routine:\n${syntax.stderr}`);
    for (const e of errors) {
      for (const name of routinesAtLines(userC, stubs, [Number(e[1])])) {
        if (!drop.has(name)) excluded.push({ routine: name, reason: `gcc: ${e[2]}` });
        drop.add(name);
      }
    }
  }
  writeFileSync(join(dir, 'U_driven.c'), dropRoutines(userC, stubs, drop));

  const plans = stubs.filter((s) => !drop.has(s.name)).flatMap((s, i) => planRoutine(byName.get(s.name)!, s, i + 1));
  writeFileSync(join(dir, 'driver.c'), driverSource(mod, plans));
  const cc = await run('gcc', [...GCC_FLAGS, `-I${dir}`, `-I${SHIM}`, `-I${INCLUDE}`, 'U_driven.c', 'driver.c', RUNTIME_C, '-o', 'driver'], dir);
  if (cc.status !== 0) throw new Error(`gcc cannot build the driver for ${file}:\n${cc.stderr.slice(0, 4000)}`);
  const drv = await run(join(dir, 'driver'), [], dir);
  if (drv.status !== 0) throw new Error(`the driver for ${file} exited ${drv.status}: ${drv.stderr}`);

  const gen = await generateFile(file, {
    includeDirs: [INCLUDE], defines: DEFINES, sourceName: file.slice(INCLUDE.length + 1), runtimeImport: '../../../src/mach',
  });
  const userModule = join(GEN, `${basename(join(file, '..'))}-${sub}.user.ts`);
  writeFileSync(userModule, gen.user);
  return { file, sub, mod, stubs, plans, excluded, results: parseDriverOutput(drv.stdout), userModule };
}

// ---- the TypeScript side -----------------------------------------------------------------

/** A task runtime whose mach_msg records the message and fails like the C shim. */
class CaptureRuntime implements MachMsg {
  calls: Array<{ msg: MachMessage | null; option: number; rcvName: number; timeout: number }> = [];
  mach_msg(msg: MachMessage | null, option: number, rcvName: number, timeout: number): number {
    this.calls.push({ msg, option, rcvName, timeout });
    return MACH_SEND_INVALID_DEST;
  }
  mig_get_reply_port(): number { return REPLY_PORT; }
  mig_put_reply_port(): void { /* nothing to recycle */ }
  mig_dealloc_reply_port(): void { /* nothing to destroy */ }
  port(name: number): MachPort { return { name, task: this }; }
}

function tsValue(a: TsArg, rt: CaptureRuntime): unknown {
  if ('port' in a) return rt.port(a.port);
  if ('ports' in a) return a.ports.map((n) => rt.port(n));
  return a.value;
}

/** An out-of-line item's data as memory holds it. */
function oolBytes(item: MachMsgItem): Uint8Array {
  const d = item.data;
  if (d instanceof Uint8Array) return d;
  if (Array.isArray(d)) {
    const step = item.type.size / 8;
    const out = new Uint8Array(d.length * step);
    const view = new DataView(out.buffer);
    d.forEach((x, i) => { if (step === 8) view.setBigUint64(i * step, BigInt.asUintN(64, BigInt(x)), true); else view.setUint32(i * step, x >>> 0, true); });
    return out;
  }
  return new Uint8Array(0);
}

function shapeOf(d: unknown): string {
  return d instanceof Uint8Array ? 'a Uint8Array' : Array.isArray(d) ? 'an array' : typeof d === 'string' ? 'a string' : typeof d === 'number' ? 'a number' : typeof d;
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Where two messages first differ, and the 16 bytes around it on each side. */
function describeDiff(c: Uint8Array, t: Uint8Array): string {
  let i = 0;
  while (i < c.length && i < t.length && c[i] === t[i]) i++;
  const from = Math.max(0, i - 8) & ~3;
  return `lengths C ${c.length} / TS ${t.length}; first difference at byte ${i}: C ${hexOf(c.subarray(from, from + 24))} / TS ${hexOf(t.subarray(from, from + 24))} (from byte ${from})`;
}

interface Totals {
  files: number;
  routines: number;
  calls: number;
  messages: number;
  bytes: number;
  oolRegions: number;
  oolBytes: number;
  refused: number;
  decoded: number;
  excluded: Array<{ file: string; routine: string; reason: string }>;
  known: string[];
  fixed: string[];
  ambiguous: string[];
}

const totals: Totals = { files: 0, routines: 0, calls: 0, messages: 0, bytes: 0, oolRegions: 0, oolBytes: 0, refused: 0, decoded: 0, excluded: [], known: [], fixed: [], ambiguous: [] };

/** Calls one plan on the TS side and compares it with the C result; returns the problems. */
async function compare(p: Prepared, plan: CallPlan, user: Record<string, unknown>): Promise<string[]> {
  const problems: string[] = [];
  const c = p.results.get(plan.tag);
  if (!c || c.rc === null) return [`${plan.tag}: the C driver did not report this call`];
  if (c.messages.length > 1) problems.push(`${plan.tag}: the C stub called mach_msg ${c.messages.length} times`);

  const rt = new CaptureRuntime();
  const fn = user[plan.routine.userName] as ((...args: unknown[]) => Promise<unknown>) | undefined;
  if (typeof fn !== 'function') return [`${plan.tag}: the TS module has no function ${plan.routine.userName}`];
  let code: number | null = null;
  try {
    await fn(...plan.ts.map((a) => tsValue(a, rt)));
    code = 0;
  } catch (e) {
    if (e instanceof MachError) code = e.code;
    else return [`${plan.tag}: the TS stub threw ${(e as Error).name}: ${(e as Error).message}`];
  }
  const rcC = c.rc;
  if (code !== rcC) problems.push(`${plan.tag}: return code C ${rcC} / TS ${code}`);
  const cm = c.messages[0];
  const tm = rt.calls[0];
  if (!cm && !tm) {
    totals.refused++;
    return problems;
  }
  if (!cm || !tm) return [...problems, `${plan.tag}: ${cm ? 'only C' : 'only TS'} sent a message`];

  if (cm.option !== tm.option) problems.push(`${plan.tag}: mach_msg option C ${cm.option} / TS ${tm.option}`);
  if (cm.rcvName !== tm.rcvName) problems.push(`${plan.tag}: mach_msg rcv_name C ${cm.rcvName} / TS ${tm.rcvName}`);
  if (cm.timeout !== tm.timeout) problems.push(`${plan.tag}: mach_msg timeout C ${cm.timeout} / TS ${tm.timeout}`);
  if (cm.sendSize !== cm.bytes.length) problems.push(`${plan.tag}: C send_size ${cm.sendSize} ≠ msgh_size ${cm.bytes.length}`);

  // MIG's bytes through our decoder: the pointers it finds, and back to the same bytes.
  const pointers: bigint[] = [];
  let oolAt = 0;
  let decodedC: MachMessage | null = null;
  try {
    const kinds = requestKinds(plan.routine);
    decodedC = decodeMachMessage(cm.bytes, { kind: (t, i) => (t.inline ? kinds[i] : undefined), ool: (ptr, n) => { pointers.push(ptr); const r = cm.ool[oolAt++]; if (!r || r.length !== n) throw new MachCodecError(`region ${oolAt - 1}: C printed ${r?.length} bytes, descriptor says ${n}`); return r; } });
  } catch (e) {
    problems.push(`${plan.tag}: decodeMachMessage rejects MIG's bytes: ${(e as Error).message}`);
  }
  if (decodedC) {
    const oolIndex = (i: number): number => decodedC!.body.slice(0, i).filter((x) => !x.type.inline).length;
    const again = encodeMachMessage(decodedC, { oolPointer: (_item, i) => pointers[oolIndex(i)]! });
    if (hexOf(again) !== hexOf(cm.bytes)) problems.push(`${plan.tag}: MIG's bytes decoded and re-encoded differ: ${describeDiff(cm.bytes, again)}`);
    else totals.decoded++;
  }

  // The TS stub's message, encoded.
  const msg = tm.msg!;
  let tsBytes: Uint8Array;
  try {
    const tsOol = (i: number): number => msg.body.slice(0, i).filter((x) => !x.type.inline).length;
    tsBytes = encodeMachMessage(msg, { oolPointer: (_item, i) => pointers[tsOol(i)] ?? 0n });
  } catch (e) {
    return [...problems, `${plan.tag}: encodeMachMessage rejects the TS stub's message: ${(e as Error).message}`];
  }
  if (hexOf(tsBytes) !== hexOf(cm.bytes)) {
    problems.push(`${plan.tag}: bytes differ: ${describeDiff(cm.bytes, tsBytes)}`);
  } else {
    totals.messages++;
    totals.bytes += tsBytes.length;
    // Same bytes: the decoder must also give each item's data the shape the stub gave it.
    // (With the routine's kinds as hints; without them, note where the descriptor alone
    // reads a one-element array as a scalar.)
    const plain = decodedC ? decodeMachMessage(cm.bytes, { ool: (_p, n) => new Uint8Array(n) }) : null;
    decodedC?.body.forEach((item, i) => {
      const want = shapeOf(msg.body[i]!.data);
      const got = shapeOf(item.data);
      if (want !== got) problems.push(`${plan.tag}: item ${i}: the stub's data is ${want}, decodeMachMessage gives ${got}`);
      const guess = shapeOf(plain!.body[i]!.data);
      if (guess !== want) totals.ambiguous.push(`${plan.tag} item ${i}: ${want}, read as ${guess} without the routine`);
    });
  }
  const tsRegions = msg.body.filter((x) => !x.type.inline).map(oolBytes);
  if (tsRegions.length !== cm.ool.length) problems.push(`${plan.tag}: ${cm.ool.length} out-of-line regions in C, ${tsRegions.length} in TS`);
  tsRegions.forEach((r, i) => {
    const cr = cm.ool[i];
    if (!cr) return;
    if (hexOf(r) !== hexOf(cr)) problems.push(`${plan.tag}: out-of-line region ${i} differs: ${describeDiff(cr, r)}`);
    else {
      totals.oolRegions++;
      totals.oolBytes += r.length;
    }
  });
  return problems;
}

// ---- the suite -----------------------------------------------------------------------------

describe.skipIf(!AVAILABLE)('GNU MIG C stubs and tsmig TS stubs send the same bytes', () => {
  const prepared = new Map<string, Prepared>();
  let root = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tsmach-bytes-'));
    mkdirSync(GEN, { recursive: true });
    const all = await Promise.all(FILES.map((f) => prepare(f, root)));
    for (const p of all) prepared.set(p.file, p);
  }, 120_000);

  afterAll(() => {
    if (root && !process.env.BYTES_KEEP) rmSync(root, { recursive: true, force: true });
  });

  it('finds GNU Mach interfaces to compare', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(18);
  });

  for (const file of FILES) {
    it(file.slice(INCLUDE.length + 1), async () => {
      const p = prepared.get(file)!;
      const user = await import(pathToFileURL(p.userModule).href) as Record<string, unknown>;
      const problems: string[] = [];
      const known = new Map<string, string[]>();
      for (const plan of p.plans) {
        const found = await compare(p, plan, user);
        totals.calls++;
        const reason = KNOWN[plan.routine.name];
        if (reason === undefined) problems.push(...found);
        else known.set(plan.routine.name, [...(known.get(plan.routine.name) ?? []), ...found]);
      }
      for (const [routine, found] of known) {
        if (found.length === 0) totals.fixed.push(routine);
        else totals.known.push(`${routine}: ${KNOWN[routine]}\n    ${found.join('\n    ')}`);
      }
      totals.files++;
      totals.routines += new Set(p.plans.map((x) => x.routine.name)).size;
      totals.excluded.push(...p.excluded.map((x) => ({ file: file.slice(INCLUDE.length + 1), ...x })));
      expect(problems).toEqual([]);
    });
  }

  it('covers every routine but the exclusions, and reports the counts', () => {
    const routines = [...prepared.values()].reduce((n, p) => n + p.mod.routines.length, 0);
    const excluded = [...prepared.values()].reduce((n, p) => n + p.excluded.length, 0);
    // eslint-disable-next-line no-console
    console.log(`bytes conformance: ${totals.files} files, ${totals.routines} routines (${routines} in all, ${excluded} excluded), ` +
      `${totals.calls} calls, ${totals.messages} messages / ${totals.bytes} bytes identical, ` +
      `${totals.oolRegions} out-of-line regions / ${totals.oolBytes} bytes identical, ${totals.refused} calls refused by both, ` +
      `${totals.decoded} MIG messages decoded and re-encoded, ${totals.ambiguous.length} items whose shape needs the routine's kind hint\n` +
      totals.ambiguous.map((x) => `  ${x}\n`).join('') +
      totals.excluded.map((x) => `  excluded ${x.file} ${x.routine}: ${x.reason}`).join('\n') +
      totals.known.map((x) => `\n  known tsmig discrepancy, ${x}`).join('') +
      totals.fixed.map((x) => `\n  ${x} now matches: remove it from KNOWN`).join(''));
    expect(totals.files).toBe(FILES.length);
    expect(totals.routines + excluded).toBe(routines);
    const knownCalls = [...prepared.values()].flatMap((p) => p.plans).filter((x) => KNOWN[x.routine.name] !== undefined && !totals.fixed.includes(x.routine.name)).length;
    expect(totals.messages + totals.refused).toBeGreaterThanOrEqual(totals.calls - knownCalls);
  });
});
