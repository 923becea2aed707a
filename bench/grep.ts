/*
 * File: bench/grep.ts
 * Purpose: the stress test as a benchmark: `grep NR -r /` over the demo's image through
 *          the ext2fs server, at L0 and at L2, against GNU grep over the same tree on the
 *          host (the physical limit: the same search with no Mach in between).
 *
 * Run: npx tsx bench/grep.ts               (the demo's default image: 3,000 files of /usr/include)
 *      npx tsx bench/grep.ts --quick       (400 files)
 *      npx tsx bench/grep.ts --files N --from DIR --reps R
 *
 * Three ways, in the same run:
 *   - processes: kernel, default pager, ext2fs and grep as processes over WebSocket (the
 *     demo's setup, src/tools/stress.ts), one level at a time: files/s, messages/s (all
 *     tasks; grep's own RPCs apart), bytes of file data/s, ext2fs's entries at the end,
 *     and the kernel's time in VM calls;
 *   - embedded: the same ext2fs and grep as tasks of a kernel in this process (the
 *     in-memory transport): what the work costs without WebSocket; once as the process
 *     runs it (touches make no call) and once with every write of the heap faulting its
 *     pages in (the heap's objects materialised, as on a real Hurd);
 *   - GNU grep -r over the same tree copied to a temporary directory (median of 5 warm runs).
 *
 * The kernel has no statistics field for VM time, so it is measured where the kernel
 * runs: the synchronous part of each mach_msg trap whose request is a VM routine
 * (vm_allocate, vm_deallocate, vm_protect, vm_inherit, vm_read, vm_write, vm_copy,
 * vm_region, vm_map, memory_object_data_supply), i.e. the map operation with its IPC
 * copyin/copyout, not the time a vm_read then waits for a pager.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcPort } from '../src/ipc/port.js';
import { ipc_entry_lookup } from '../src/ipc/space.js';
import { createKernel } from '../src/kern/kernel.js';
import { VmMapOps } from '../src/libc/vm_ops_map.js';
import { startExt2fs } from '../src/servers/ext2fs/ext2fs_task.js';
import { demoImage, haveTools, selectTree, stageTree } from '../src/tools/demo.js';
import { grep, newGrepStats, parseGrepArgs } from '../src/tools/grep.js';
import { observeTraps, runStress, type StressResult } from '../src/tools/stress.js';
import type { VmLevel } from '../src/vm/level.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const k = argv.indexOf(name);
  return k >= 0 && argv[k + 1] !== undefined ? argv[k + 1]! : dflt;
};
const QUICK = argv.includes('--quick');
const FROM = opt('--from', '/usr/include');
const FILES = Number(opt('--files', QUICK ? '400' : '3000'));
const REPS = Number(opt('--reps', '1'));
const PATTERN = 'NR';
const LEVELS: VmLevel[] = ['L0', 'L2'];

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Embedded { ms: number; files: number; bytes: number; entries: number; vmMs: number; vmCalls: number; messages: number }

/** ext2fs and grep as tasks of a kernel in this process. */
async function embedded(image: string, level: VmLevel, touch: boolean): Promise<Embedded> {
  const kernel = createKernel({ vmLevel: level, disks: [{ path: image, name: 'hd0', format: 'object' }] });
  const messages = new Map<string, number>();
  const vm = new Map<string, { calls: number; ms: number }>();
  observeTraps(kernel, messages, vm);
  const t = kernel.createTask('ext2fs', { privileged: true });
  const map = kernel.tasks.get(t.info.id)!.map;
  const faults = new VmMapOps(map);
  const e = await startExt2fs(t, touch ? { touch: (a, s) => faults.touch(a, s) } : {});
  const entry = ipc_entry_lookup(kernel.tasks.get(t.info.id)!.itk_space, e.root)!;
  const client = kernel.createTask('grep', { bootstrap: entry.ie_object as IpcPort });
  const root = client.bootstrap!;
  const stats = newGrepStats();
  const t0 = performance.now();
  await grep(parseGrepArgs([PATTERN, '-r', '/']).options, { crdir: root, cwdir: root }, { stdout: () => undefined, stderr: () => undefined }, stats);
  const ms = performance.now() - t0;
  for (let k = 0; k < 200 && e.stats().server.protids.protids > 1; k++) await new Promise((r) => setTimeout(r, 5));
  await e.memory.settle();
  const entries = map.nentries;
  const vmMs = [...vm.values()].reduce((a, c) => a + c.ms, 0);
  const vmCalls = [...vm.values()].reduce((a, c) => a + c.calls, 0);
  client.terminate();
  await e.stop();
  t.terminate();
  kernel.shutdown();
  return { ms, files: stats.files, bytes: stats.bytes, entries, vmMs, vmCalls, messages: [...messages.values()].reduce((a, b) => a + b, 0) };
}

async function main(): Promise<void> {
  const tools = haveTools();
  if (!tools.mke2fs || !tools.gnuGrep) throw new Error('bench/grep.ts needs mke2fs and GNU grep');
  const img = demoImage(FROM, FILES, PATTERN);
  process.stdout.write(`grep ${PATTERN} -r / over ${n(img.files)} files (${(img.bytes / 1048576).toFixed(1)} MiB, ${n(img.dirs)} directories) of ${img.from}\n`);
  process.stdout.write(`image ${img.path}; Node ${process.version}; ${REPS} run(s) per level and way\n\n`);

  // GNU grep over the same tree, warm.
  const stage = mkdtempSync(join(tmpdir(), 'tsmach-bench-tree-'));
  let gnuMs: number;
  let gnuLines = 0;
  try {
    stageTree(selectTree(FROM, FILES), FROM, stage);
    const times: number[] = [];
    for (let k = 0; k < 6; k++) {
      const t0 = performance.now();
      const r = spawnSync('grep', ['-r', PATTERN], { cwd: stage, env: { ...process.env, LC_ALL: 'C.UTF-8' }, maxBuffer: 1 << 30 });
      if (k > 0) times.push(performance.now() - t0);
      gnuLines = r.stdout.toString('latin1').split('\n').length - 1;
    }
    gnuMs = median(times);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }

  process.stderr.write('warming up (embedded, not recorded) ...\n');
  await embedded(img.path, 'L2', false);
  const proc = new Map<VmLevel, StressResult[]>();
  const emb = new Map<string, Embedded[]>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const level of LEVELS) {
      process.stderr.write(`processes, ${level} ...\n`);
      const r = await runStress({ image: img.path, level, grepArgs: [PATTERN, '-r', '/'] });
      if (r.lines !== gnuLines) throw new Error(`${level}: ${r.lines} lines, GNU grep ${gnuLines}`);
      proc.set(level, [...(proc.get(level) ?? []), r]);
      for (const touch of [false, true]) {
        process.stderr.write(`embedded, ${level}${touch ? ', touches' : ''} ...\n`);
        const key = `${level}${touch ? '+touch' : ''}`;
        emb.set(key, [...(emb.get(key) ?? []), await embedded(img.path, level, touch)]);
      }
    }
  }

  const col = 16;
  const row = (label: string, vals: string[]): void => { process.stdout.write(`  ${label.padEnd(40)}${vals.map((v) => v.padStart(col)).join('')}\n`); };
  const pick = <T>(xs: T[], f: (x: T) => number): number => median(xs.map(f));
  process.stdout.write(`${''.padEnd(42)}${LEVELS.map((l) => l.padStart(col)).join('')}\n`);
  process.stdout.write('processes (kernel, default pager, ext2fs, grep over WebSocket)\n');
  const P = LEVELS.map((l) => proc.get(l)!);
  row('search time', P.map((rs) => `${(pick(rs, (r) => r.grep.ms) / 1000).toFixed(2)} s`));
  row('files/s', P.map((rs) => n(pick(rs, (r) => r.grep.files / (r.grep.ms / 1000)))));
  row('messages/s, all tasks', P.map((rs) => n(pick(rs, (r) => r.rpcs / (r.grep.ms / 1000)))));
  row('  of which grep\'s RPCs/s', P.map((rs) => n(pick(rs, (r) => r.grep.rpcs! / (r.grep.ms / 1000)))));
  row('messages per file', P.map((rs) => (pick(rs, (r) => r.rpcs / r.grep.files)).toFixed(1)));
  row('file data, MiB/s', P.map((rs) => (pick(rs, (r) => r.grep.bytes / 1048576 / (r.grep.ms / 1000))).toFixed(2)));
  row('ext2fs map entries at the end', P.map((rs) => n(pick(rs, (r) => r.entries))));
  row('kernel time in VM calls', P.map((rs) => {
    const ms = pick(rs, (r) => Object.values(r.vmCalls).reduce((a, c) => a + c.ms, 0));
    return `${(ms / 1000).toFixed(2)} s`;
  }));
  row('  VM calls', P.map((rs) => n(pick(rs, (r) => Object.values(r.vmCalls).reduce((a, c) => a + c.calls, 0)))));
  row('  share of the search time', P.map((rs) => `${(100 * pick(rs, (r) => Object.values(r.vmCalls).reduce((a, c) => a + c.ms, 0) / r.grep.ms)).toFixed(1)}%`));
  row(`ratio to GNU grep (${gnuMs.toFixed(0)} ms)`, P.map((rs) => `${n(pick(rs, (r) => r.grep.ms) / gnuMs)}x`));
  process.stdout.write('embedded (the same tasks, one process, in-memory transport)\n');
  for (const touch of [false, true]) {
    const E = LEVELS.map((l) => emb.get(`${l}${touch ? '+touch' : ''}`)!);
    process.stdout.write(touch ? '  heap writes fault pages in (objects materialised):\n' : '  as the process runs it (heap writes make no call):\n');
    row('  search time', E.map((es) => `${(pick(es, (e) => e.ms) / 1000).toFixed(2)} s`));
    row('  files/s', E.map((es) => n(pick(es, (e) => e.files / (e.ms / 1000)))));
    row('  messages/s', E.map((es) => n(pick(es, (e) => e.messages / (e.ms / 1000)))));
    row('  kernel time in VM calls', E.map((es) => `${(pick(es, (e) => e.vmMs) / 1000).toFixed(2)} s (${(100 * pick(es, (e) => e.vmMs / e.ms)).toFixed(1)}%)`));
    row('  ext2fs map entries at the end', E.map((es) => n(pick(es, (e) => e.entries))));
    row(`  ratio to GNU grep`, E.map((es) => `${n(pick(es, (e) => e.ms) / gnuMs)}x`));
  }
  process.stdout.write(`${spawnSync('grep', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]} over the same tree: ${gnuMs.toFixed(1)} ms (median of 5 warm runs), ${n(gnuLines)} lines, ${n(img.files / (gnuMs / 1000))} files/s\n`);
}

await main();
