/**
 * Self-tests of the GNU MIG oracle: hand-checked layouts (spec mig.md §9.8 and the §9
 * examples, plus a small interface of our own in fixtures/), the purity and the
 * cross-checks of `layoutFromMigC`, the corpus list, and a whole-corpus run that every
 * file × variant reads without a harness error and that the JSON's offsets add up to
 * MIG's own sizes. Needs `x86_64-gnu-mig`: skipped without it, failing in CI.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { corpus, GNUMACH_INCLUDE, HURD_DEFS, type CorpusEntry } from './corpus.js';
import {
  analyzeMigC,
  DEFAULT_DEFINES,
  layoutFromMigC,
  mapLimit,
  OracleError,
  rejectionReason,
  requireMig,
  runMig,
  runMigAsync,
  type FieldLayout,
  type Layout,
  type MessageCheck,
  type MessageLayout,
  type MigRun,
  type RoutineLayout,
} from './oracle.js';

const HAVE_MIG = requireMig();
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SAMPLE = join(HERE, 'fixtures', 'oracle_sample.defs');
const MACH = (f: string): string => join(GNUMACH_INCLUDE, f);
const HURD = (f: string): string => join(HURD_DEFS, f);

const runs = new Map<string, MigRun>();
/** Runs MIG once per (file, extra defines) and returns the accepted run. */
function mig(file: string, extra: Array<[string, string]> = []): MigRun {
  const key = `${file} ${JSON.stringify(extra)}`;
  let run = runs.get(key);
  if (!run) {
    const includeDirs = file.startsWith(HURD_DEFS) ? [HURD_DEFS, GNUMACH_INCLUDE] : [GNUMACH_INCLUDE];
    run = runMig(file, { includeDirs, defines: [...DEFAULT_DEFINES, ...extra] });
    runs.set(key, run);
  }
  if (!run.ok) throw new Error(`MIG rejected ${file}: ${rejectionReason(run)}`);
  return run;
}

function routine(layout: Layout, name: string): RoutineLayout {
  const r = layout.routines.find((x) => x.name === name);
  if (!r) throw new Error(`no routine ${name}`);
  return r;
}

const I32 = { msgt_name: 'MACH_MSG_TYPE_INTEGER_32', msgt_size: 32, msgt_number: 1, inline: true, longform: false, deallocate: false };
const I64 = { ...I32, msgt_name: 'MACH_MSG_TYPE_INTEGER_64', msgt_size: 64 };
const RETCODE: FieldLayout = { name: 'RetCode', ...I32, offset: 32 };
const DEFAULT_BITS = { remote: 'MACH_MSG_TYPE_COPY_SEND', local: 'MACH_MSG_TYPE_MAKE_SEND_ONCE' };

describe('layoutFromMigC without MIG', () => {
  it('rejects C that is not MIG output', () => {
    expect(() => layoutFromMigC('int x;', 'int y;')).toThrow(OracleError);
  });
});

describe.skipIf(!HAVE_MIG)('GNU MIG oracle: hand-checked layouts', () => {
  it('task_create (§9.8): 40-byte simple request, 48-byte complex reply carrying a COPY_SEND', () => {
    const { layout } = mig(MACH('mach/mach.defs'));
    expect(layout!.subsystem).toEqual({ name: 'mach', base: 2000 });
    expect(routine(layout!, 'task_create')).toEqual({
      name: 'task_create',
      kind: 'routine',
      number: 7,
      request: {
        id: 2007,
        bits: { ...DEFAULT_BITS, complex: false }, // 0x1513
        size: 40,
        fields: [{ name: 'inherit_memory', ...I32, msgt_name: 'MACH_MSG_TYPE_BOOLEAN', offset: 32 }],
      },
      reply: {
        id: 2107,
        complex: true,
        size: 48,
        fields: [RETCODE, { name: 'child_task', ...I32, msgt_name: 'MACH_MSG_TYPE_COPY_SEND', offset: 40 }],
      },
    });
  });

  it('vm_allocate: 64/52 bytes, 64-bit values right after their descriptors', () => {
    const { layout } = mig(MACH('mach/mach.defs'));
    expect(routine(layout!, 'vm_allocate')).toEqual({
      name: 'vm_allocate',
      kind: 'routine',
      number: 21,
      request: {
        id: 2021,
        bits: { ...DEFAULT_BITS, complex: false },
        size: 64,
        fields: [
          { name: 'address', ...I64, offset: 32 },
          { name: 'size', ...I64, offset: 44 },
          { name: 'anywhere', ...I32, msgt_name: 'MACH_MSG_TYPE_BOOLEAN', offset: 56 },
        ],
      },
      reply: { id: 2121, complex: false, size: 52, fields: [RETCODE, { name: 'address', ...I64, offset: 40 }] },
    });
  });

  it('vm_read: 56-byte request with size at 44; out-of-line long-form reply data', () => {
    const r = routine(mig(MACH('mach/mach.defs')).layout!, 'vm_read');
    expect(r.request.size).toBe(56);
    expect(r.request.fields.map((f) => [f.name, f.offset])).toEqual([['address', 32], ['size', 44]]);
    expect(r.reply).toEqual({
      id: 2126,
      complex: true,
      size: 60,
      fields: [
        RETCODE,
        { name: 'data', msgt_name: 'MACH_MSG_TYPE_BYTE', msgt_size: 8, msgt_number: 0, inline: false, longform: true, deallocate: false, offset: 40 },
      ],
    });
  });

  it('io_read: indefinite out array, long form, in-line template of 2048 chars, variable reply', () => {
    const r = routine(mig(HURD('hurd/io.defs')).layout!, 'io_read');
    expect(r.request).toEqual({
      id: 21001,
      bits: { ...DEFAULT_BITS, complex: false },
      size: 56,
      fields: [{ name: 'offset', ...I64, offset: 32 }, { name: 'amount', ...I64, offset: 44 }],
    });
    // `out data: data_t, dealloc`: the template never carries the dealloc bit of an indefinite array.
    expect(r.reply).toEqual({
      id: 21101,
      complex: 'dynamic',
      size: { min: 52 },
      fields: [
        RETCODE,
        { name: 'data', msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 2048, inline: true, longform: true, deallocate: false, offset: 40 },
      ],
    });
  });

  it('io_write: a variable request field keeps its offset, the fields after it have none', () => {
    const r = routine(mig(HURD('hurd/io.defs')).layout!, 'io_write');
    expect(r.request.bits.complex).toBe('dynamic');
    expect(r.request.size).toEqual({ min: 56 });
    expect(r.request.fields).toEqual([
      { name: 'data', msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 2048, inline: true, longform: true, deallocate: false, offset: 32 },
      { name: 'offset', ...I64 },
    ]);
  });

  it('dir_lookup: 1076-byte request (c_string[1024] + two ints), polymorphic reply port', () => {
    const r = routine(mig(HURD('hurd/fs.defs')).layout!, 'dir_lookup');
    expect(r.request.size).toBe(1076);
    expect(r.request.fields).toEqual([
      { name: 'file_name', msgt_name: 'MACH_MSG_TYPE_STRING_C', msgt_size: 8, msgt_number: 1024, inline: true, longform: false, deallocate: false, offset: 32 },
      { name: 'flags', ...I32, offset: 1060 },
      { name: 'mode', ...I32, offset: 1068 },
    ]);
    expect(r.reply!.size).toBe(1084);
    expect(r.reply!.complex).toBe('dynamic');
    expect(r.reply!.fields.at(-1)).toEqual({ name: 'result', ...I32, msgt_name: 'resultPoly', offset: 1076 });
  });

  it('polymorphic fields: the run-time name variable, a dynamic complex bit', () => {
    const l = mig(MACH('mach/mach_port.defs')).layout!;
    const ins = routine(l, 'mach_port_insert_right');
    expect(ins.request.bits).toEqual({ ...DEFAULT_BITS, complex: 'dynamic' });
    expect(ins.request.fields[1]).toEqual({ name: 'poly', ...I32, msgt_name: 'polyPoly', offset: 40 });
    expect(ins.reply).toEqual({ id: 3315, complex: false, size: 40, fields: [RETCODE] });
    const ext = routine(l, 'mach_port_extract_right');
    expect(ext.reply!.complex).toBe('dynamic');
    expect(ext.reply!.fields[1]).toEqual({ name: 'poly', ...I32, msgt_name: 'polyPoly', offset: 40 });
  });

  it('simpleroutines: no reply, local bits 0, poly request port in the header bits', () => {
    const n = routine(mig(MACH('mach/notify.defs')).layout!, 'mach_notify_port_destroyed');
    expect(n).toEqual({
      name: 'mach_notify_port_destroyed',
      kind: 'simpleroutine',
      number: 5,
      request: {
        id: 69,
        bits: { remote: 'MACH_MSG_TYPE_MOVE_SEND_ONCE', local: 0, complex: 'dynamic' },
        size: 40,
        fields: [{ name: 'rights', ...I32, msgt_name: 'rightsPoly', offset: 32 }],
      },
      reply: null,
    });
    const w = routine(mig(HURD('hurd/io_reply.defs')).layout!, 'io_write_reply');
    expect(w.request.bits).toEqual({ remote: 'replyPoly', local: 0, complex: false });
    expect(w.reply).toBeNull();
  });

  it('CountInOut: the count travels as its own INTEGER_32 request field', () => {
    const r = routine(mig(MACH('mach/mach.defs')).layout!, 'task_info');
    expect(r.request.size).toBe(48);
    expect(r.request.fields).toEqual([
      { name: 'flavor', ...I32, offset: 32 },
      { name: 'task_info_outCnt', ...I32, offset: 40 },
    ]);
    expect(r.reply).toEqual({
      id: 2112,
      complex: false,
      size: { min: 44 },
      fields: [RETCODE, { name: 'task_info_out', ...I32, msgt_number: 1024, offset: 40 }],
    });
  });

  it('KERNEL_SERVER: 64-bit port fields, reply templates by out-name', () => {
    const r = routine(mig(MACH('mach/mach.defs'), [['KERNEL_SERVER', '1']]).layout!, 'task_create');
    expect(r.request.size).toBe(40);
    expect(r.reply).toEqual({
      id: 2107,
      complex: true,
      size: 52,
      fields: [RETCODE, { name: 'child_task', ...I32, msgt_name: 'MACH_MSG_TYPE_PORT_SEND', msgt_size: 64, offset: 40 }],
    });
  });
});

describe.skipIf(!HAVE_MIG)('GNU MIG oracle: fixtures/oracle_sample.defs', () => {
  const U8 = { ...I32, msgt_name: 'MACH_MSG_TYPE_INTEGER_8', msgt_size: 8 };
  const I16x3 = { ...I32, msgt_name: 'MACH_MSG_TYPE_INTEGER_16', msgt_size: 16, msgt_number: 3 };
  const CHARS = { msgt_name: 'MACH_MSG_TYPE_CHAR', msgt_size: 8, msgt_number: 2048, inline: true, longform: true, deallocate: false };
  const OOL = { msgt_name: 'MACH_MSG_TYPE_BYTE', msgt_size: 8, msgt_number: 0, inline: false, longform: true, deallocate: false };

  it('numbers skip the `skip`s; subsystem and ids', () => {
    const l = mig(SAMPLE).layout!;
    expect(l.subsystem).toEqual({ name: 'oracle_sample', base: 4200 });
    expect(l.routines.map((r) => [r.name, r.number, r.request.id, r.reply?.id ?? null])).toEqual([
      ['sample_pad', 0, 4200, 4300],
      ['sample_arrays', 2, 4202, 4302],
      ['sample_ool', 3, 4203, 4303],
      ['sample_oneway', 4, 4204, null],
    ]);
  });

  it('pad bytes after 1- and 6-byte data; poly in, poly and MAKE_SEND out', () => {
    const r = routine(mig(SAMPLE).layout!, 'sample_pad');
    expect(r.request).toEqual({
      id: 4200,
      bits: { ...DEFAULT_BITS, complex: 'dynamic' },
      size: 60, // 32 + (4+1+3) + (4+6+2) + (4+4)
      fields: [
        { name: 'b', ...U8, offset: 32 },
        { name: 's', ...I16x3, offset: 40 },
        { name: 'right', ...I32, msgt_name: 'rightPoly', offset: 52 },
      ],
    });
    expect(r.reply).toEqual({
      id: 4300,
      complex: true, // the MAKE_SEND field fixes it, the poly one cannot unset it
      size: 56,
      fields: [
        RETCODE,
        { name: 'o', ...I32, msgt_name: 'oPoly', offset: 40 },
        { name: 'port', ...I32, msgt_name: 'MACH_MSG_TYPE_MAKE_SEND', offset: 48 },
      ],
    });
  });

  it('bounded, indefinite and C-string variable fields; CountInOut count last', () => {
    const r = routine(mig(SAMPLE).layout!, 'sample_arrays');
    expect(r.request).toEqual({
      id: 4202,
      bits: { ...DEFAULT_BITS, complex: 'dynamic' },
      size: { min: 68 }, // 32 + 4 + 12 + 4 + (4+4) + (4+4): variable data counts 0
      fields: [
        { name: 'w', ...I32, msgt_number: 16, offset: 32 },
        { name: 'data', ...CHARS }, // `dealloc` is not in the indefinite array's template
        { name: 'n', msgt_name: 'MACH_MSG_TYPE_STRING_C', msgt_size: 8, msgt_number: 64, inline: true, longform: false, deallocate: false },
        { name: 'after', ...I32 },
        { name: 'owCnt', ...I32 },
      ],
    });
    expect(r.reply).toEqual({
      id: 4302,
      complex: 'dynamic',
      size: { min: 56 },
      fields: [RETCODE, { name: 'ow', ...I32, msgt_number: 16, offset: 40 }, { name: 'od', ...CHARS }],
    });
  });

  it('out-of-line data, a 4096-bit long-form string, a user reply port', () => {
    const r = routine(mig(SAMPLE).layout!, 'sample_ool');
    expect(r.request).toEqual({
      id: 4203,
      bits: { ...DEFAULT_BITS, complex: true },
      size: 576, // 32 + (12+512) + (12+8)
      fields: [
        { name: 'p', msgt_name: 'MACH_MSG_TYPE_STRING', msgt_size: 4096, msgt_number: 1, inline: true, longform: true, deallocate: false, offset: 32 },
        { name: 'mem', ...OOL, offset: 556 },
      ],
    });
    expect(r.reply).toEqual({ id: 4303, complex: true, size: 60, fields: [RETCODE, { name: 'omem', ...OOL, deallocate: true, offset: 40 }] });
  });

  it('one-way with poly request and reply ports: both named in the bits, message simple', () => {
    const r = routine(mig(SAMPLE).layout!, 'sample_oneway');
    expect(r.request).toEqual({
      id: 4204,
      bits: { remote: 'serverPoly', local: 'replyPoly', complex: false },
      size: 44,
      fields: [{ name: 'v', ...I64, offset: 32 }],
    });
    expect(r.reply).toBeNull();
  });

  it('KERNEL_SERVER: every port 64 bits, reply ports by out-name', () => {
    const r = routine(mig(SAMPLE, [['KERNEL_SERVER', '1']]).layout!, 'sample_pad');
    expect(r.request.size).toBe(64);
    expect(r.request.fields[2]).toEqual({ name: 'right', ...I32, msgt_name: 'rightPoly', msgt_size: 64, offset: 52 });
    expect(r.reply).toEqual({
      id: 4300,
      complex: true,
      size: 64,
      fields: [
        RETCODE,
        { name: 'o', ...I32, msgt_name: 'oPoly', msgt_size: 64, offset: 40 },
        { name: 'port', ...I32, msgt_name: 'MACH_MSG_TYPE_PORT_SEND', msgt_size: 64, offset: 52 },
      ],
    });
  });
});

describe.skipIf(!HAVE_MIG)('layoutFromMigC on stored C', () => {
  it('is pure: the same C gives the same layout', () => {
    const run = mig(MACH('mach/mach.defs'));
    expect(layoutFromMigC(run.userC!, run.serverC!)).toEqual(run.layout);
  });

  it("fails when MIG's own size constant disagrees with the walk", () => {
    const run = mig(MACH('mach/mach.defs'));
    const bad = run.userC!.replace('sizeof(Request) == 40, "Request expected to be 40 bytes"', 'sizeof(Request) == 44, "Request expected to be 44 bytes"');
    expect(bad).not.toBe(run.userC);
    expect(() => layoutFromMigC(bad, run.serverC!)).toThrow(/request walk gives 40 bytes, MIG says 44|msgh_size differs/);
  });

  it('fails when a template size no longer matches the struct', () => {
    const run = mig(MACH('mach/mach.defs'));
    const i = run.serverC!.indexOf('/* Routine vm_allocate */');
    const bad =
      run.serverC!.slice(0, i) +
      run.serverC!.slice(i).replace(/(const mach_msg_type_t addressType = \{\n.*\n\t\t\/\* msgt_size = \*\/\t\t)64,/, '$132,');
    expect(bad).not.toBe(run.serverC);
    expect(() => layoutFromMigC(run.userC!, bad)).toThrow(/reply walk gives 48 bytes, MIG says 52/);
  });
});

describe.skipIf(!HAVE_MIG)('corpus()', () => {
  it('lists every gnumach-dev and Hurd .defs with the variants they test', () => {
    const c = corpus();
    const find = (f: string): CorpusEntry => c.find((e) => e.file === f) ?? (() => { throw new Error(`${f} not in corpus`); })();
    expect(c.length).toBe(75);
    expect(new Set(c.map((e) => e.file)).size).toBe(c.length);
    for (const e of c) {
      expect(existsSync(e.file)).toBe(true);
      expect(e.variants[0]).toEqual({ name: 'default', defines: DEFAULT_DEFINES });
    }
    expect(find(MACH('mach/x86_64/mach_i386.defs')).includeDirs).toEqual([GNUMACH_INCLUDE]);
    expect(find(HURD('hurd/io.defs')).includeDirs).toEqual([HURD_DEFS, GNUMACH_INCLUDE]);
    const names = (f: string): string[] => find(f).variants.map((v) => v.name);
    expect(names(MACH('device/device_reply.defs'))).toContain('SEQNOS');
    expect(names(MACH('mach/mach.defs'))).toEqual(['default', 'KERNEL_SERVER', 'KERNEL_USER', 'SERVERPREFIX=S_']);
    expect(names(HURD('hurd/io.defs'))).toEqual(['default', 'KERNEL_SERVER', 'KERNEL_USER', 'REPLY_PORTS', 'SERVERCOPY', 'SERVERPREFIX=S_']);
    expect(names(HURD('hurd/ioctls.defs'))).toEqual(['default']);
    expect(find(MACH('device/device_reply.defs')).variants.find((v) => v.name === 'SEQNOS')!.defines).toEqual([...DEFAULT_DEFINES, ['SEQNOS', '1']]);
    expect(find(HURD('hurd/fs.defs')).variants.find((v) => v.name === 'SERVERPREFIX=S_')!.defines).toEqual([...DEFAULT_DEFINES, ['SERVERPREFIX', 'S_']]);
  });
});

// ---------------------------------------------------------------------------
// Whole corpus

const pad4 = (n: number): number => (n + 3) & ~3;

/** Recomputes a message's offsets and size from its JSON alone (plus which fields are variable). */
function offsetProblems(where: string, msg: MessageLayout, check: MessageCheck): string[] {
  const problems: string[] = [];
  let off = 32;
  let known = true;
  for (const f of msg.fields) {
    if (known ? f.offset !== off : f.offset !== undefined) problems.push(`${where} ${f.name}: offset ${f.offset}, expected ${known ? off : 'none'}`);
    off += f.longform ? 12 : 4;
    const variable = check.variableFields.includes(f.name);
    off += variable ? 0 : f.inline ? pad4(Math.ceil((f.msgt_number * f.msgt_size) / 8)) : 8;
    if (variable) known = false;
  }
  const size = typeof msg.size === 'number' ? msg.size : msg.size.min;
  if (off !== size || off !== check.migSize) problems.push(`${where}: fields add up to ${off}, layout says ${size}, MIG says ${check.migSize}`);
  if ((typeof msg.size !== 'number') !== check.variableFields.length > 0) problems.push(`${where}: size form vs variable fields`);
  return problems;
}

const EXPECTED_REJECTED = [
  'device/device_types.defs',
  'hurd/hurd_types.defs',
  'hurd/ioctl_types.defs',
  'hurd/ioctls.defs',
  'mach/default_pager_types.defs',
  'mach/mach_types.defs',
  'mach/std_types.defs',
  'mach/x86_64/machine_types.defs',
  'mach_debug/mach_debug_types.defs',
  'mount/mount.defs',
];

describe.skipIf(!HAVE_MIG)('whole corpus through GNU MIG', () => {
  it('reads every file × variant without a harness error; offsets add up to MIG sizes', async () => {
    const t0 = Date.now();
    const jobs = corpus().flatMap((e) => e.variants.map((v) => ({ e, v })));
    const results = await mapLimit(jobs, 3, async ({ e, v }) => {
      try {
        return { e, v, run: await runMigAsync(e.file, { includeDirs: e.includeDirs, defines: v.defines }) };
      } catch (err) {
        return { e, v, error: String(err) };
      }
    });

    const rel = (f: string): string => (f.startsWith(HURD_DEFS) ? relative(HURD_DEFS, f) : relative(GNUMACH_INCLUDE, f));
    const harness: string[] = [];
    const problems: string[] = [];
    const rejected = new Map<string, { variants: string[]; reason: string }>();
    const accepted = new Set<string>();
    const stats = { routines: 0, fields: 0, defaultRoutines: 0, defaultSimple: 0, complex: { true: 0, false: 0, dynamic: 0 } };
    for (const r of results) {
      const where = `${rel(r.e.file)} [${r.v.name}]`;
      if ('error' in r) {
        harness.push(`${where}: ${r.error}`);
        continue;
      }
      if (!r.run.ok) {
        const entry = rejected.get(rel(r.e.file)) ?? { variants: [], reason: rejectionReason(r.run) };
        entry.variants.push(r.v.name);
        rejected.set(rel(r.e.file), entry);
        continue;
      }
      accepted.add(rel(r.e.file));
      const { layout, checks } = analyzeMigC(r.run.userC!, r.run.serverC!);
      expect(layout).toEqual(r.run.layout);
      for (const [i, rt] of layout.routines.entries()) {
        const check = checks.find((c) => c.routine === rt.name)!;
        expect(check, `${where} ${rt.name}`).toBeDefined();
        stats.routines++;
        stats.fields += rt.request.fields.length + (rt.reply?.fields.length ?? 0);
        if (i > 0) expect(rt.number).toBeGreaterThan(layout.routines[i - 1]!.number);
        problems.push(...offsetProblems(`${where} ${rt.name} request`, rt.request, check.request));
        if (rt.reply) problems.push(...offsetProblems(`${where} ${rt.name} reply`, rt.reply, check.reply!));
        if ((rt.reply === null) !== (rt.kind === 'simpleroutine')) problems.push(`${where} ${rt.name}: reply vs kind`);
        if (r.v.name === 'default') {
          stats.defaultRoutines++;
          if (rt.kind === 'simpleroutine') stats.defaultSimple++;
          stats.complex[String(rt.request.bits.complex) as 'true' | 'false' | 'dynamic']++;
        }
      }
    }

    const files = new Set(jobs.map((j) => j.e.file)).size;
    console.log(
      [
        `GNU MIG corpus: ${files} files, ${jobs.length} file×variant runs, ${jobs.length - [...rejected.values()].reduce((n, x) => n + x.variants.length, 0)} accepted`,
        `  ${stats.routines} routines, ${stats.fields} fields over all variants`,
        `  default variants: ${stats.defaultRoutines} routines (${stats.defaultRoutines - stats.defaultSimple} routine, ${stats.defaultSimple} simpleroutine); requests simple ${stats.complex.false} / complex ${stats.complex.true} / dynamic ${stats.complex.dynamic}`,
        `  rejected by MIG (${rejected.size} files):`,
        ...[...rejected].map(([f, x]) => `    ${f} [${x.variants.join(', ')}]: ${x.reason}`),
        `  ${Date.now() - t0} ms`,
      ].join('\n'),
    );

    expect(harness).toEqual([]);
    expect(problems).toEqual([]);
    expect([...rejected.keys()].sort()).toEqual(EXPECTED_REJECTED);
    for (const f of rejected.keys()) expect(accepted.has(f), `${f} accepted in some variant`).toBe(false);
    // The default-variant figures of spec mig.md §16.
    expect(accepted.size).toBe(65);
    expect(stats.defaultRoutines).toBe(696);
    expect(stats.defaultSimple).toBe(260);
    expect(stats.complex).toEqual({ false: 437, true: 183, dynamic: 76 });
  });
});
