/**
 * The GNU MIG oracle: runs the real `x86_64-gnu-mig` (GNU MIG 1.8+git20221221, x86_64
 * GNU/Hurd target) on a `.defs` file and reads the C it generates back into the JSON
 * "layout" that tsmig prints, so the conformance suite can compare the two routine by
 * routine.
 *
 * Everything below is read from MIG's own output (its user stubs `U.c` and server stubs
 * `S.c`), never recomputed from the `.defs` source:
 *
 *  - Routines: the `/* Routine NAME *\/` and `/* SimpleRoutine NAME *\/` banners of both
 *    files (same names, same order), numbered from the user stub's `msgh_id = N` minus
 *    the subsystem base (the demux's `InP->msgh_id < BASE`), cross-checked with the
 *    position of `_XNAME` in the server's `<demux>_routines[]` table.
 *  - `request.bits`: the two operands of `MACH_MSGH_BITS(a, b)` in the user stub, as
 *    printed (`MACH_MSG_TYPE_*`, the poly variable such as `reply_portPoly`, or `0` —
 *    which becomes the number 0). `complex` is `true` for `MACH_MSGH_BITS_COMPLEX|...`,
 *    `"dynamic"` for the `msgh_simple ? ... : ...` form, else `false`.
 *  - `reply.complex` (reinterpretation, the brief only defines the request side): taken
 *    from the **server** stub, the side that writes the reply, consistent with the reply
 *    fields: `OutP->Head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;` unconditionally → `true`,
 *    `msgh_simple = TRUE;` + `if (!msgh_simple) ...` → `"dynamic"`, otherwise `false`.
 *    (The user stub's check differs in 282 routine-variants of the corpus: it goes by
 *    out-names, so a `MACH_MSG_TYPE_PORT_SEND_ONCE` reply field — in-name polymorphic,
 *    out-name 18, e.g. mach_port_request_notification's `previous` — is "dynamic" for
 *    the server but "must be complex" for the user.)
 *  - Sizes: request — the user stub's `_Static_assert(sizeof(Request) == N)` (fixed) or
 *    the server's TypeCheck `msgh_size < N` (variable, `{ min: N }`), cross-checked with
 *    the server's `msgh_size != N` / the user's `msgh_size = N + ...`; reply — the user
 *    stub's check `msgh_size != N` / `msgh_size < N` (or `OutP->Head.msgh_size != 40`
 *    for routines without reply arguments), cross-checked with the server's
 *    `OutP->Head.msgh_size = N[ + ...]` (40, the demux's `sizeof *OutP`, when absent).
 *  - Fields: the `mach_msg_type_t xType` / `mach_msg_type_long_t xType` members of the
 *    `Request` typedef of the user stub (templates `const mach_msg_type_t xType = {...}`
 *    of the user stub: what the sender writes, in-names) and of the `Reply` typedef of
 *    the server stub (its templates; `RetCode` from the demux's `RetCodeType`).
 *    `name` = member name minus `Type`. `msgt_name` = the template's name with the
 *    `(unsigned char)` / `(unsigned short)` cast removed (long form: `msgtl_name`), or,
 *    when the stub assigns it at run time (`InP->xType.msgt[l]_name = xPoly;`,
 *    `OutP->...` on the server), the assigned variable's name. Other values are the
 *    template's (run-time overrides of number/inline/deallocate are not modelled).
 *  - `offset`: walking the typedef's members under `#pragma pack(4)`: header 32,
 *    descriptor 4 or 12, then the data member — `union { T x[N]; T *xP; }` (an in-line
 *    variable array: 0 bytes towards the minimum size, and later fields get no offset),
 *    an out-of-line value (template inline FALSE: an 8-byte pointer) or in-line data of
 *    `ceil(number*size/8)` bytes — then `char xPad[n]` when MIG declares one. The pad
 *    must be exactly what rounds the data to 4 bytes, and the walk's total must equal
 *    MIG's own size constants (fixed size, or the minimum of a variable message); any
 *    disagreement is an `OracleError` (a harness error, never a "rejected" file).
 *    Also checked: the user and server typedefs have the same members (C types aside),
 *    and the receiver's quick-check templates (`xCheck`) agree with the sender's on
 *    size, number and inline.
 *
 * KernelServer/KernelUser variants need no special case: their 64-bit port fields and
 * out-name reply templates are simply what the C says.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/** Name of the GNU MIG wrapper this oracle runs. */
export const MIG_COMMAND = 'x86_64-gnu-mig';

/** Target macros every run gets (spec §2: the installed cpp predefines nothing). */
export const DEFAULT_DEFINES: ReadonlyArray<[string, string]> = [
  ['__x86_64__', '1'],
  ['__LP64__', '1'],
];

// The JSON shape is tsmig's `layout` output format, declared once in codegen/layout.ts; the
// oracle fills it from MIG's C, independently of how tsmig computes it.
export type {
  Complex as Complexity, FieldLayout, Layout, MessageLayout, ReplyLayout, RequestLayout, RoutineLayout,
  Size as MessageSize,
} from '../../../codegen/layout.js';
import type { Complex, FieldLayout, Layout, MessageLayout, ReplyLayout, RequestLayout, RoutineLayout, Size } from '../../../codegen/layout.js';

/** A header-bits operand: a `MACH_MSG_TYPE_*` symbol or poly variable name as MIG prints it, or 0. */
export type BitsName = string | 0;

/** The request's header bits as the user stub writes them. */
export type RequestBits = RequestLayout['bits'];

/** Result of running MIG on one file with one set of options. */
export interface MigRun {
  /** MIG exited 0 and wrote its outputs (then `layout`, `userC`, `serverC` are set). */
  ok: boolean;
  status: number | null;
  signal: string | null;
  stderr: string;
  layout?: Layout;
  userC?: string;
  serverC?: string;
}

/** Options of a MIG run: `-I` directories in order and the full `-D` list. */
export interface MigOptions {
  includeDirs: string[];
  defines: Array<[string, string]>;
}

/** A harness error: MIG's C did not read the way this oracle expects. */
export class OracleError extends Error {
  override name = 'OracleError';
}

// ---------------------------------------------------------------------------
// Availability

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** True when `x86_64-gnu-mig` is on PATH. */
export const MIG_AVAILABLE: boolean = onPath(MIG_COMMAND);

/**
 * For tests: returns true when MIG can be run. When it is missing, throws if
 * `process.env.CI` is set (a CI run must not silently skip the oracle) and returns false
 * otherwise, so the caller can skip (`describe.skipIf(!requireMig())`).
 */
export function requireMig(): boolean {
  if (MIG_AVAILABLE) return true;
  if (process.env.CI) {
    throw new Error(`${MIG_COMMAND} is not on PATH; the GNU MIG conformance oracle is required in CI (install mig-x86-64-gnu)`);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Running MIG

function migArgs(file: string, opts: MigOptions): string[] {
  return [
    '-n',
    '-user', 'U.c',
    '-server', 'S.c',
    '-header', 'H.h',
    ...opts.defines.map(([k, v]) => `-D${k}=${v}`),
    ...opts.includeDirs.map((d) => `-I${d}`),
    resolve(file),
  ];
}

function finishRun(dir: string, file: string, status: number | null, signal: string | null, stderr: string): MigRun {
  const run: MigRun = { ok: false, status, signal, stderr };
  if (status === 0 && signal === null) {
    let userC: string;
    let serverC: string;
    try {
      userC = readFileSync(join(dir, 'U.c'), 'utf8');
      serverC = readFileSync(join(dir, 'S.c'), 'utf8');
    } catch (e) {
      throw new OracleError(`${file}: MIG exited 0 but did not write its outputs: ${String(e)}`);
    }
    run.ok = true;
    run.userC = userC;
    run.serverC = serverC;
    try {
      run.layout = layoutFromMigC(userC, serverC);
    } catch (e) {
      if (e instanceof OracleError) e.message = `${file}: ${e.message}`;
      throw e;
    }
  }
  return run;
}

/**
 * Runs GNU MIG on `file` in a fresh temporary directory
 * (`x86_64-gnu-mig -n -user U.c -server S.c -header H.h -D... -I... FILE`) and reads the
 * generated C into a layout. A file MIG rejects is a normal result (`ok: false`, with
 * status and stderr); an unreadable output throws `OracleError`.
 */
export function runMig(file: string, opts: MigOptions): MigRun {
  const dir = mkdtempSync(join(tmpdir(), 'tsmach-mig-'));
  try {
    const r = spawnSync(MIG_COMMAND, migArgs(file, opts), { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.error) throw r.error;
    return finishRun(dir, file, r.status, r.signal, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Same as `runMig`, without blocking (lets a caller keep a few MIG processes running). */
export async function runMigAsync(file: string, opts: MigOptions): Promise<MigRun> {
  const dir = mkdtempSync(join(tmpdir(), 'tsmach-mig-'));
  try {
    const { status, signal, stderr } = await new Promise<{ status: number | null; signal: string | null; stderr: string }>(
      (res, rej) => {
        const child = spawn(MIG_COMMAND, migArgs(file, opts), {
          cwd: dir,
          env: { ...process.env, LC_ALL: 'C' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (d: string) => (err += d));
        child.on('error', rej);
        child.on('close', (code, sig) => res({ status: code, signal: sig, stderr: err }));
      },
    );
    return finishRun(dir, file, status, signal, stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A one-line reason for a rejected run: MIG's first diagnostic, plus the signal when
 * migcom died of one (the wrapper reports it as exit status 128+N, e.g. 136 = SIGFPE).
 */
export function rejectionReason(run: MigRun): string {
  const first = run.stderr.split('\n').find((l) => l.trim() !== '') ?? '(no diagnostic)';
  let how = run.signal ? `signal ${run.signal}` : `exit ${run.status}`;
  if (!run.signal && run.status !== null && run.status > 128) {
    const sig = Object.entries(osConstants.signals).find(([, n]) => n === run.status! - 128);
    if (sig) how += ` = 128+${sig[0]}`;
  }
  return `${how}: ${first.trim()}`;
}

// ---------------------------------------------------------------------------
// Reading MIG's C

/** A descriptor template `const mach_msg_type[_long]_t NAME = {...};` as printed. */
interface Template {
  longform: boolean;
  name: string;
  size: number;
  number: number;
  inline: boolean;
  deallocate: boolean;
}

type Member =
  | { kind: 'header'; name: string }
  | { kind: 'desc'; name: string; longform: boolean }
  | { kind: 'data'; name: string; ctype: string }
  | { kind: 'union'; name: string; count: number; ptrName: string }
  | { kind: 'pad'; name: string; bytes: number };

/** Per-message facts behind a layout, for self-checks and counts. */
export interface MessageCheck {
  /** Walk total: header + descriptors + data + pads, variable in-line arrays counted as 0. */
  walkedSize: number;
  /** MIG's own number (fixed size or minimum) the walk was checked against. */
  migSize: number;
  variable: boolean;
  /** Names of the in-line variable-size fields (0 bytes towards the minimum size). */
  variableFields: string[];
}

/** A layout plus, per routine, the size facts it was checked with. */
export interface MigCAnalysis {
  layout: Layout;
  checks: Array<{ routine: string; request: MessageCheck; reply: MessageCheck | null }>;
}

function fail(msg: string): never {
  throw new OracleError(msg);
}

function one(re: RegExp, text: string, what: string): RegExpMatchArray {
  const m = text.match(re);
  if (!m) fail(`cannot find ${what}`);
  return m;
}

function int(s: string, what: string): number {
  if (!/^\d+$/.test(s)) fail(`${what}: expected a decimal number, got ${JSON.stringify(s)}`);
  return Number(s);
}

function bool(s: string, what: string): boolean {
  if (s === 'TRUE') return true;
  if (s === 'FALSE') return false;
  return fail(`${what}: expected TRUE/FALSE, got ${JSON.stringify(s)}`);
}

interface Section {
  kind: 'routine' | 'simpleroutine';
  name: string;
  text: string;
}

const BANNER = /^\/\* (Routine|SimpleRoutine) (\w+) \*\/$/gm;

function splitRoutines(c: string): Section[] {
  const marks = [...c.matchAll(BANNER)];
  return marks.map((m, i) => ({
    kind: m[1] === 'Routine' ? 'routine' : 'simpleroutine',
    name: m[2]!,
    text: c.slice(m.index!, i + 1 < marks.length ? marks[i + 1]!.index : c.length),
  }));
}

/** Parses `/* msgt_x = *\/ VALUE,` lines into a map. */
function templateValues(body: string, ctx: string): Map<string, string> {
  const vals = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = line.match(/^\s*\/\* (msgtl?_\w+) = \*\/\s*(.*?),?\s*$/);
    if (m) vals.set(m[1]!, m[2]!);
    else if (!/^\s*[{}],?\s*$/.test(line) && line.trim() !== '') fail(`${ctx}: unexpected template line ${JSON.stringify(line)}`);
  }
  return vals;
}

function typeName(raw: string, cast: string, ctx: string): string {
  let v = raw;
  if (v.startsWith(cast)) v = v.slice(cast.length).trim();
  if (!/^(MACH_MSG_TYPE_\w+|\d+)$/.test(v)) fail(`${ctx}: unexpected msgt_name ${JSON.stringify(raw)}`);
  return v;
}

/** All descriptor templates of one section, by variable name. */
function parseTemplates(text: string, ctx: string): Map<string, Template> {
  const out = new Map<string, Template>();
  const re = /^\tconst (mach_msg_type_t|mach_msg_type_long_t) (\w+) = \{\n([\s\S]*?)\n\t\};$/gm;
  for (const m of text.matchAll(re)) {
    const name = m[2]!;
    const where = `${ctx}: template ${name}`;
    const v = templateValues(m[3]!, where);
    const get = (k: string): string => v.get(k) ?? fail(`${where}: no ${k}`);
    if (get('msgt_unused') !== '0') fail(`${where}: msgt_unused ${get('msgt_unused')}`);
    const longform = m[1] === 'mach_msg_type_long_t';
    if (bool(get('msgt_longform'), where) !== longform) fail(`${where}: msgt_longform disagrees with its C type`);
    let t: Template;
    if (longform) {
      for (const k of ['msgt_name', 'msgt_size', 'msgt_number']) {
        if (get(k) !== '0') fail(`${where}: long-form header ${k} is ${get(k)}, expected 0`);
      }
      t = {
        longform,
        name: typeName(get('msgtl_name'), '(unsigned short)', where),
        size: int(get('msgtl_size'), where),
        number: int(get('msgtl_number'), where),
        inline: bool(get('msgt_inline'), where),
        deallocate: bool(get('msgt_deallocate'), where),
      };
    } else {
      t = {
        longform,
        name: typeName(get('msgt_name'), '(unsigned char)', where),
        size: int(get('msgt_size'), where),
        number: int(get('msgt_number'), where),
        inline: bool(get('msgt_inline'), where),
        deallocate: bool(get('msgt_deallocate'), where),
      };
    }
    if (out.has(name)) fail(`${where}: declared twice`);
    out.set(name, t);
  }
  return out;
}

/** Members of `typedef struct { ... } WHICH;` (the first one in the section). */
function parseStruct(text: string, which: 'Request' | 'Reply', ctx: string): Member[] {
  const m = text.match(new RegExp(`#pragma pack\\(push,(\\d+)\\)\\n\\ttypedef struct \\{\\n((?:\\t\\t.*\\n)*)\\t\\} ${which};`));
  if (!m) fail(`${ctx}: no ${which} typedef`);
  if (m[1] !== '4') fail(`${ctx}: ${which} packed to ${m[1]}, expected 4`);
  const lines = m[2]!.split('\n').slice(0, -1);
  const members: Member[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const where = `${ctx}: ${which} member ${JSON.stringify(line)}`;
    if (line === '\t\tunion {') {
      const arr = (lines[i + 1] ?? '').match(/^\t\t\t(.+?)\s*\b(\w+)\[(\d+)\];$/);
      const ptr = (lines[i + 2] ?? '').match(/^\t\t\t(?:const )?(.+?)\s*\*\s*(\w+);$/);
      if (!arr || !ptr || lines[i + 3] !== '\t\t};') fail(`${where}: unexpected union shape`);
      members.push({ kind: 'union', name: arr[2]!, count: Number(arr[3]), ptrName: ptr[2]! });
      i += 3;
      continue;
    }
    const d = line.match(/^\t\t(mach_msg_header_t|mach_msg_type_t|mach_msg_type_long_t) (\w+);$/);
    if (d) {
      if (d[1] === 'mach_msg_header_t') members.push({ kind: 'header', name: d[2]! });
      else members.push({ kind: 'desc', name: d[2]!, longform: d[1] === 'mach_msg_type_long_t' });
      continue;
    }
    const pad = line.match(/^\t\tchar (\w+Pad)\[(\d+)\];$/);
    const prev = members[members.length - 1];
    if (pad && prev && (prev.kind === 'data' || prev.kind === 'union') && pad[1] === `${prev.name}Pad`) {
      members.push({ kind: 'pad', name: pad[1]!, bytes: Number(pad[2]) });
      continue;
    }
    const data = line.match(/^\t\t(.+?)\s*\b(\w+);$/);
    if (data) {
      members.push({ kind: 'data', name: data[2]!, ctype: data[1]! });
      continue;
    }
    fail(`${where}: unrecognised`);
  }
  return members;
}

/** A member list reduced to what the layout depends on (C types differ between sides). */
function structShape(ms: Member[]): string {
  return ms
    .map((m) => {
      switch (m.kind) {
        case 'header': return `H:${m.name}`;
        case 'desc': return `${m.longform ? 'L' : 'S'}:${m.name}`;
        case 'data': return `D:${m.name}`;
        case 'union': return `U:${m.name}[${m.count}]`;
        case 'pad': return `P:${m.name}[${m.bytes}]`;
      }
    })
    .join(' ');
}

/**
 * The receiving side's quick-check templates (`const mach_msg_type_t xCheck`) must agree
 * with the sender's templates on size, number and inline (names differ: in- vs out-name).
 */
function crossCheck(fields: FieldLayout[], checks: Map<string, Template>, ctx: string): void {
  for (const f of fields) {
    const c = checks.get(`${f.name}Check`);
    if (!c) continue;
    if (c.size !== f.msgt_size || c.number !== f.msgt_number || c.inline !== f.inline) {
      fail(`${ctx}: field ${f.name}: check template ${c.size}/${c.number}/${c.inline} vs sent ${f.msgt_size}/${f.msgt_number}/${f.inline}`);
    }
  }
}

/** Run-time poly name assignments `PTR->xType.msgt[l]_name = VAR;`, by descriptor name. */
function polyAssignments(text: string, ptr: 'InP' | 'OutP'): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(`^\\t${ptr}->(\\w+)\\.msgtl?_name = \\*?(\\w+);$`, 'gm');
  for (const m of text.matchAll(re)) out.set(m[1]!, m[2]!);
  return out;
}

interface Walk {
  fields: FieldLayout[];
  size: number;
  variable: boolean;
  variableFields: string[];
}

/** Walks a Request/Reply typedef, taking each data size from its descriptor template. */
function walk(
  members: Member[],
  templates: Map<string, Template>,
  polys: Map<string, string>,
  ctx: string,
): Walk {
  if (members[0]?.kind !== 'header' || members[0].name !== 'Head') fail(`${ctx}: does not start with Head`);
  let offset = 32;
  let variable = false;
  const variableFields: string[] = [];
  const fields: FieldLayout[] = [];
  let i = 1;
  while (i < members.length) {
    const desc = members[i]!;
    if (desc.kind !== 'desc' || !desc.name.endsWith('Type')) fail(`${ctx}: expected a descriptor, got ${desc.kind} ${desc.name}`);
    const base = desc.name.slice(0, -'Type'.length);
    const where = `${ctx}: field ${base}`;
    const t = templates.get(desc.name) ?? fail(`${where}: no template ${desc.name}`);
    if (t.longform !== desc.longform) fail(`${where}: template and member disagree on long form`);
    if (offset % 4 !== 0) fail(`${where}: descriptor at unaligned offset ${offset}`);
    const field: FieldLayout = {
      name: base,
      msgt_name: polys.get(desc.name) ?? t.name,
      msgt_size: t.size,
      msgt_number: t.number,
      inline: t.inline,
      longform: t.longform,
      deallocate: t.deallocate,
    };
    if (!variable) field.offset = offset;
    offset += t.longform ? 12 : 4;
    const data = members[i + 1];
    if (!data || (data.kind !== 'data' && data.kind !== 'union') || data.name !== base) {
      fail(`${where}: descriptor not followed by its data member`);
    }
    let bytes: number;
    let isVar = false;
    if (data.kind === 'union') {
      if (data.ptrName !== `${base}P`) fail(`${where}: union pointer member ${data.ptrName}`);
      if (!t.inline) fail(`${where}: in-line variable array with an out-of-line template`);
      isVar = true;
      bytes = 0;
    } else if (!t.inline) {
      bytes = 8;
    } else {
      bytes = Math.ceil((t.number * t.size) / 8);
    }
    offset += bytes;
    i += 2;
    const pad = members[i];
    let padBytes = 0;
    if (pad?.kind === 'pad') {
      padBytes = pad.bytes;
      offset += padBytes;
      i += 1;
    }
    if (!isVar) {
      const want = (4 - (bytes % 4)) % 4;
      if (padBytes !== want) fail(`${where}: ${bytes} data bytes with ${padBytes} pad bytes (expected ${want})`);
    } else if (padBytes !== 0) {
      fail(`${where}: variable array with ${padBytes} pad bytes`);
    }
    fields.push(field);
    if (isVar) {
      variable = true;
      variableFields.push(base);
    }
  }
  return { fields, size: offset, variable, variableFields };
}

function sizeOf(n: number, variable: boolean): Size {
  return variable ? { min: n } : n;
}

function bitsOperand(s: string, ctx: string): BitsName {
  if (s === '0') return 0;
  if (!/^[A-Za-z_]\w*$/.test(s)) fail(`${ctx}: unexpected MACH_MSGH_BITS operand ${JSON.stringify(s)}`);
  return s;
}

function requestBits(user: string, ctx: string): RequestBits {
  const fixed = user.match(/^\tInP->Head\.msgh_bits =( MACH_MSGH_BITS_COMPLEX\|)?\n\t\tMACH_MSGH_BITS\((\w+), (\w+)\);$/m);
  if (fixed) {
    return { remote: bitsOperand(fixed[2]!, ctx), local: bitsOperand(fixed[3]!, ctx), complex: fixed[1] !== undefined };
  }
  const dyn = user.match(
    /^\tInP->Head\.msgh_bits = msgh_simple \?\n\t\tMACH_MSGH_BITS\((\w+), (\w+)\) :\n\t\t\(MACH_MSGH_BITS_COMPLEX\|\n\t\t MACH_MSGH_BITS\((\w+), (\w+)\)\);$/m,
  );
  if (!dyn) fail(`${ctx}: cannot read the request header bits`);
  if (dyn[1] !== dyn[3] || dyn[2] !== dyn[4]) fail(`${ctx}: the two MACH_MSGH_BITS of the dynamic form differ`);
  return { remote: bitsOperand(dyn[1]!, ctx), local: bitsOperand(dyn[2]!, ctx), complex: 'dynamic' };
}

function replyComplex(server: string): Complex {
  if (/^\tmsgh_simple = (TRUE|FALSE);$/m.test(server)) {
    if (!/^\tif \(!msgh_simple\)\n\t\tOutP->Head\.msgh_bits \|= MACH_MSGH_BITS_COMPLEX;$/m.test(server)) {
      fail('reply msgh_simple set but never used for the complex bit');
    }
    return 'dynamic';
  }
  return /^\tOutP->Head\.msgh_bits \|= MACH_MSGH_BITS_COMPLEX;$/m.test(server);
}

/**
 * Like `layoutFromMigC`, also returning per message the walked size and MIG's number it
 * was checked against (used by the self-checks and counts).
 */
export function analyzeMigC(userC: string, serverC: string): MigCAnalysis {
  const subsystem = one(/^\/\* Module (\w+) \*\/$/m, serverC, 'the server\'s "/* Module NAME */" line')[1]!;
  const demux = one(
    /^\tif \(\(InP->msgh_id > (\d+)\) \|\| \(InP->msgh_id < (\d+)\) \|\|\n\t    \(\(routine = (\w+)_routines\[InP->msgh_id - (\d+)\]\) == 0\)\) \{$/m,
    serverC,
    'the demux id check',
  );
  const base = Number(demux[2]);
  if (Number(demux[4]) !== base) fail('demux: base mismatch');
  const total = Number(demux[1]) - base + 1;
  const table = one(new RegExp(`^mig_routine_t ${demux[3]}_routines\\[\\] = \\{\\n([\\s\\S]*?)\\n\\};$`, 'm'), serverC, 'the routine table');
  const entries = table[1]!.split('\n').map((l) => l.trim().replace(/,$/, ''));
  if (entries.length !== total) fail(`routine table has ${entries.length} entries, demux accepts ${total}`);
  const retCodeTemplates = parseTemplates(
    one(/^mig_external boolean_t \w+\n[\s\S]*?\n\}$/m, serverC, 'the demux function')[0],
    'demux',
  );
  const retCode = retCodeTemplates.get('RetCodeType') ?? fail('demux: no RetCodeType template');

  const users = splitRoutines(userC);
  // The demux and its table follow the last stub: keep them out of its section.
  const servers = splitRoutines(serverC.slice(0, table.index));
  if (users.map((s) => `${s.kind} ${s.name}`).join() !== servers.map((s) => `${s.kind} ${s.name}`).join()) {
    fail('user and server files list different routines');
  }

  const routines: RoutineLayout[] = [];
  const checks: MigCAnalysis['checks'] = [];
  for (let k = 0; k < users.length; k++) {
    const u = users[k]!;
    const s = servers[k]!;
    const ctx = `${u.kind} ${u.name}`;

    // Identity.
    const id = Number(one(/^\tInP->Head\.msgh_id = (\d+);$/m, u.text, `${ctx}: request msgh_id`)[1]);
    const number = id - base;
    if (number < 0 || entries[number] !== `_X${u.name}`) fail(`${ctx}: id ${id} is not its slot in the routine table`);

    // Request: user stub's typedef and templates.
    const uReq = parseStruct(u.text, 'Request', `${ctx} (user)`);
    const sReq = parseStruct(s.text, 'Request', `${ctx} (server)`);
    if (structShape(uReq) !== structShape(sReq)) fail(`${ctx}: user and server Request typedefs differ`);
    const uTemplates = parseTemplates(u.text, `${ctx} (user)`);
    const req = walk(uReq, uTemplates, polyAssignments(u.text, 'InP'), `${ctx} request`);
    const fixedReq = u.text.match(/^\t_Static_assert\(sizeof\(Request\) == (\d+), "Request expected to be \1 bytes"\);$/m);
    let reqSize: number;
    if (fixedReq) {
      reqSize = Number(fixedReq[1]);
      if (req.variable) fail(`${ctx}: fixed request with a variable field`);
      if (!u.text.includes(`\tInP->Head.msgh_size = ${reqSize};\n`)) fail(`${ctx}: user msgh_size differs from the assertion`);
      const sv = one(/^\tif \(mig_unlikely \(\(In0P->Head\.msgh_size != (\d+)\)/m, s.text, `${ctx}: server request size check`);
      if (Number(sv[1]) !== reqSize) fail(`${ctx}: server expects request size ${sv[1]}, user sends ${reqSize}`);
    } else {
      if (!req.variable) fail(`${ctx}: variable request without a variable field`);
      reqSize = Number(one(/^\tif \(mig_unlikely \(\(msgh_size < (\d+)\)/m, s.text, `${ctx}: server minimum request size`)[1]);
      const us = one(/^\tmsgh_size = (\d+) \+ /m, u.text, `${ctx}: user request size`);
      if (Number(us[1]) !== reqSize) fail(`${ctx}: user minimum ${us[1]} vs server minimum ${reqSize}`);
    }
    const sTemplates = parseTemplates(s.text, `${ctx} (server)`);
    if (req.size !== reqSize) fail(`${ctx}: request walk gives ${req.size} bytes, MIG says ${reqSize}`);
    crossCheck(req.fields, sTemplates, `${ctx} request`);
    const request: RequestLayout = {
      id,
      bits: requestBits(u.text, ctx),
      size: sizeOf(reqSize, req.variable),
      fields: req.fields,
    };

    let reply: ReplyLayout | null = null;
    let replyCheck: MessageCheck | null = null;
    if (u.kind === 'routine') {
      const replyId = Number(one(/^\tif \(mig_unlikely \(OutP->Head\.msgh_id != (\d+)\)\) \{$/m, u.text, `${ctx}: reply id check`)[1]);
      if (replyId !== id + 100) fail(`${ctx}: reply id ${replyId} is not request id + 100`);
      const sRep = parseStruct(s.text, 'Reply', `${ctx} (server)`);
      const uRep = parseStruct(u.text, 'Reply', `${ctx} (user)`);
      if (structShape(uRep) !== structShape(sRep)) fail(`${ctx}: user and server Reply typedefs differ`);
      if (sTemplates.has('RetCodeType')) fail(`${ctx}: server stub declares its own RetCodeType`);
      sTemplates.set('RetCodeType', retCode);
      if (sRep[1]?.kind !== 'desc' || sRep[1].name !== 'RetCodeType') fail(`${ctx}: reply does not start with RetCode`);
      const rep = walk(sRep, sTemplates, polyAssignments(s.text, 'OutP'), `${ctx} reply`);

      let repSize: number;
      let repVariable: boolean;
      const noArgs = u.text.match(/^\t    \(OutP->Head\.msgh_size != (\d+)\)\)\)$/m);
      if (noArgs) {
        repSize = Number(noArgs[1]);
        repVariable = false;
        if (sRep.length !== 3) fail(`${ctx}: reply without arguments has a body beyond RetCode`);
        if (/^\t(OutP->Head\.)?msgh_size = \d+/m.test(s.text)) fail(`${ctx}: server sets a size for an argument-less reply`);
        if (repSize !== 40) fail(`${ctx}: argument-less reply of ${repSize} bytes`);
      } else {
        const m = one(/\(msgh_size (!=|<) (\d+)\)/, u.text, `${ctx}: user reply size check`);
        repSize = Number(m[2]);
        repVariable = m[1] === '<';
        const sv = repVariable
          ? one(/^\t(?:OutP->Head\.)?msgh_size = (\d+) \+ /m, s.text, `${ctx}: server reply size`)
          : one(/^\tOutP->Head\.msgh_size = (\d+);$/m, s.text, `${ctx}: server reply size`);
        if (Number(sv[1]) !== repSize) fail(`${ctx}: server reply size ${sv[1]} vs user check ${repSize}`);
      }
      if (rep.variable !== repVariable) fail(`${ctx}: reply variability disagrees with MIG's size check`);
      if (rep.size !== repSize) fail(`${ctx}: reply walk gives ${rep.size} bytes, MIG says ${repSize}`);
      crossCheck(rep.fields, uTemplates, `${ctx} reply`);
      reply = { id: replyId, complex: noArgs ? false : replyComplex(s.text), size: sizeOf(repSize, repVariable), fields: rep.fields };
      replyCheck = { walkedSize: rep.size, migSize: repSize, variable: repVariable, variableFields: rep.variableFields };
    } else if (/^\tReply \*OutP/m.test(u.text)) {
      fail(`${ctx}: simpleroutine with a reply`);
    }

    routines.push({ name: u.name, kind: u.kind, number, request, reply });
    checks.push({ routine: u.name, request: { walkedSize: req.size, migSize: reqSize, variable: req.variable, variableFields: req.variableFields }, reply: replyCheck });
  }
  const named = new Set(routines.map((r) => `_X${r.name}`));
  for (const e of entries) if (e !== '0' && !named.has(e)) fail(`routine table entry ${e} has no stub`);
  routines.sort((a, b) => a.number - b.number);
  return { layout: { subsystem: { name: subsystem, base }, routines }, checks };
}

/**
 * Reads MIG's generated user stubs (`userC`) and server stubs (`serverC`) into the
 * layout JSON (see the file header for every rule). Pure; throws `OracleError` when the
 * C does not read as expected or its own numbers disagree.
 */
export function layoutFromMigC(userC: string, serverC: string): Layout {
  return analyzeMigC(userC, serverC).layout;
}

/** Run `fn` over `items` with at most `limit` running at once (MIG processes, say); results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
