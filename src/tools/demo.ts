/*
 * File: tools/demo.ts
 * Purpose: `npm run demo` (`tsmach demo`): the Hurd's stress test, `grep NR -r /usr` and
 *          `vminfo <ext2fs> | wc -l`, rebuilt: an ext2 image made with mke2fs -d from a
 *          real directory tree, then at each VM level (L0 before GNU Mach's 2023 merging
 *          work, L1 July 2023, L2 current) a kernel, the default pager and the ext2fs
 *          server as separate processes and `tsmach grep NR -r /` as a client process;
 *          ext2fs's map entries sampled during the run; the figures side by side, what
 *          the entries are at the end, and a chart (SVG) of the entries over the run.
 *
 *   tsmach demo [--from DIR] [--files N | --quick] [--pattern P] [--levels L0,L1,L2]
 *               [--sequential] [--format object|pages|entries] [--chart FILE] [--json FILE]
 *
 *   --from DIR       the tree to copy into the image (default /usr/include)
 *   --files N        at most N of its regular files, spread evenly over the tree in sorted
 *                    order (default 3000; 0: all of them); --quick: 400
 *   --pattern P      what grep looks for (default NR)
 *   --levels         the levels to run (default L0,L1,L2)
 *   --sequential     one level after the other (default: the three at once, which is
 *                    faster on two cores; each level has its own kernel)
 *   --format F       how device_read data reaches ext2fs (default object: the Linux-glue
 *                    disk drivers of the 2022 Hurd)
 *   --chart FILE     where the SVG goes (default: next to the cached image)
 *   --json FILE      all the figures as JSON
 *
 * The image is cached (keyed by the tree's file list, sizes and times) in
 * $TSMACH_CACHE, else $XDG_CACHE_HOME/tsmach, else ~/.cache/tsmach. GNU grep, when
 * installed, is run once over the same tree to check the matches. A progress line shows
 * on a terminal; nothing extra otherwise. See the README's demo section for how to read
 * the result.
 */

import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiskFormat } from '../kern/device.js';
import { VM_LEVELS, type VmLevel } from '../vm/level.js';
import type { LayoutKind, LayoutRange } from '../servers/ext2fs/ext2fs_task.js';
import { lineChart } from './chart.js';
import { runStress, type StressResult } from './stress.js';
import { ArgvOptions } from './argv.js';

export const DEMO_USAGE = `usage: tsmach demo [--from DIR] [--files N | --quick] [--pattern P] [--levels L0,L1,L2]
                   [--sequential] [--format object|pages|entries] [--chart FILE] [--json FILE]
The Hurd's stress test: grep PATTERN -r / through an ext2fs server over an ext2 image of DIR,
at each VM level, kernel, default pager, ext2fs and grep each a process; ext2fs's map entries.
  --from DIR       the tree to copy into the image (default /usr/include)
  --files N        at most N of its files, picked evenly (default 3000; 0: all); --quick: 400
  --pattern P      what grep looks for (default NR)
  --levels LIST    the VM levels (default L0,L1,L2)
  --sequential     one level after the other (default: all at once)
  --format F       how device_read data reaches ext2fs: object (default), pages, entries
  --chart FILE     the SVG chart (default: next to the cached image)
  --json FILE      every figure as JSON`;

/** What the levels are. */
export const LEVEL_NAMES: Record<VmLevel, string> = {
  L0: 'pre-2023',
  L1: 'July 2023',
  L2: 'current',
};

export interface DemoArgs {
  from: string;
  files: number;
  pattern: string;
  levels: VmLevel[];
  sequential: boolean;
  format: DiskFormat;
  chart: string | null;
  json: string | null;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const a: DemoArgs = { from: '/usr/include', files: 3000, pattern: 'NR', levels: [...VM_LEVELS], sequential: false, format: 'object', chart: null, json: null };
  const options = new ArgvOptions(argv);
  for (const arg of options) {
    const value = (): string => options.value(arg);
    switch (arg) {
      case '--from': a.from = resolve(value()); break;
      case '--files': {
        const n = Number(value());
        if (!Number.isSafeInteger(n) || n < 0) throw new Error('--files: a number (0: all)');
        a.files = n;
        break;
      }
      case '--quick': a.files = 400; break;
      case '--pattern': a.pattern = value(); break;
      case '--levels': {
        const ls = value().split(',').map((s) => s.trim().toUpperCase());
        for (const l of ls) if (!(VM_LEVELS as readonly string[]).includes(l)) throw new Error(`--levels: ${l} is not one of ${VM_LEVELS.join(', ')}`);
        a.levels = ls as VmLevel[];
        break;
      }
      case '--sequential': a.sequential = true; break;
      case '--format': {
        const f = value();
        if (f !== 'object' && f !== 'pages' && f !== 'entries') throw new Error('--format: object, pages or entries');
        a.format = f;
        break;
      }
      case '--chart': a.chart = resolve(value()); break;
      case '--json': a.json = resolve(value()); break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  return a;
}

/* ==== the image ====================================================================== */

/** The tree an image is made from. */
export interface DemoTree {
  /** paths relative to the root, in sorted depth-first order */
  dirs: string[];
  files: Array<{ path: string; size: number; mtime: number }>;
  links: Array<{ path: string; target: string }>;
  /** regular files in the whole tree (before the selection) */
  allFiles: number;
}

/**
 * The tree under `root`, sorted depth first; at most `maxFiles` regular files (0: all),
 * picked evenly along that order, with the directories leading to them and the symlinks
 * in those directories. Unreadable entries and special files are left out.
 */
export function selectTree(root: string, maxFiles: number): DemoTree {
  const dirs: string[] = [];
  const files: DemoTree['files'] = [];
  const links: DemoTree['links'] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel)).sort();
    } catch {
      return;
    }
    dirs.push(rel);
    for (const n of names) {
      const p = rel === '' ? n : `${rel}/${n}`;
      let st;
      try {
        st = lstatSync(join(root, p));
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) files.push({ path: p, size: st.size, mtime: Math.floor(st.mtimeMs) });
      else if (st.isSymbolicLink()) links.push({ path: p, target: readlinkSync(join(root, p)) });
    }
  };
  walk('');
  const allFiles = files.length;
  if (maxFiles === 0 || maxFiles >= files.length) return { dirs, files, links, allFiles };
  const picked = files.filter((_, i) => Math.floor(((i + 1) * maxFiles) / allFiles) > Math.floor((i * maxFiles) / allFiles));
  const keep = new Set<string>(['']);
  for (const f of picked) {
    for (let d = dirname(f.path); d !== '.' && !keep.has(d); d = dirname(d)) keep.add(d);
  }
  return {
    dirs: dirs.filter((d) => keep.has(d)),
    files: picked,
    links: links.filter((l) => keep.has(dirname(l.path) === '.' ? '' : dirname(l.path))),
    allFiles,
  };
}

/** Copies the selected tree from `from` into `dest` (directories, files, symlinks). */
export function stageTree(tree: DemoTree, from: string, dest: string): void {
  for (const d of tree.dirs) mkdirSync(join(dest, d), { recursive: true });
  for (const f of tree.files) copyFileSync(join(from, f.path), join(dest, f.path));
  for (const l of tree.links) symlinkSync(l.target, join(dest, l.path));
}

/** A cached demo image and what is known about its tree. */
export interface DemoImage {
  path: string;
  from: string;
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  allFiles: number;
  /** GNU grep -r PATTERN over the same tree: lines printed and status (null: no GNU grep) */
  gnuGrep: { pattern: string; lines: number; status: number; ms: number } | null;
  /** whether it was made now (false: from the cache) */
  made: boolean;
}

/** The cache directory of the demo's images and charts. */
export function cacheDir(): string {
  return process.env.TSMACH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tsmach');
}

/** mke2fs and GNU grep on this machine. */
export function haveTools(): { mke2fs: boolean; gnuGrep: boolean } {
  const mk = spawnSync('mke2fs', ['-V'], { stdio: 'ignore' });
  const gr = spawnSync('grep', ['--version'], { encoding: 'utf8' });
  return { mke2fs: mk.error === undefined && mk.status === 0, gnuGrep: gr.status === 0 && /GNU grep/.test(gr.stdout ?? '') };
}

/**
 * The ext2 image of `from` (at most `maxFiles` files; 0: all), from the cache or made
 * now with mke2fs -d (4 KiB blocks, the Hurd's usual size; ext2, revision 1). Throws
 * when mke2fs fails or is missing.
 */
export function demoImage(from: string, maxFiles: number, pattern = 'NR', dir = cacheDir()): DemoImage {
  const tree = selectTree(from, maxFiles);
  const h = createHash('sha256').update(`tsmach demo image 1\0${from}\0${maxFiles}\0`);
  for (const f of tree.files) h.update(`${f.path}\0${f.size}\0${f.mtime}\n`);
  for (const l of tree.links) h.update(`${l.path}\0${l.target}\n`);
  const key = h.digest('hex').slice(0, 16);
  mkdirSync(dir, { recursive: true });
  const image = join(dir, `demo-${key}.img`);
  const metaFile = join(dir, `demo-${key}.json`);
  const bytes = tree.files.reduce((n, f) => n + f.size, 0);
  if (existsSync(image) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as DemoImage;
    if (meta.gnuGrep === null || meta.gnuGrep.pattern === pattern) return { ...meta, path: image, made: false };
  }
  // The tree as mke2fs -d reads it: the source itself, or a copy of the selection.
  const whole = maxFiles === 0 || tree.files.length === tree.allFiles;
  const stage = whole ? null : mkdtempSync(join(tmpdir(), 'tsmach-demo-tree-'));
  try {
    const src = stage ?? from;
    if (stage !== null) stageTree(tree, from, stage);
    const blocks = tree.files.reduce((n, f) => n + Math.ceil(f.size / 4096) * (1 + 1 / 1000), 0) + tree.dirs.length * 2 + tree.links.length;
    const sizeMiB = Math.ceil((blocks * 4096 * 1.15) / (1 << 20)) + 16;
    const inodes = tree.files.length + tree.dirs.length + tree.links.length + 1024;
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-N', String(inodes), '-d', src, `${image}.tmp`, `${sizeMiB}M`], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MKE2FS_CONFIG: '/etc/mke2fs.conf' },
    });
    let gnuGrep: DemoImage['gnuGrep'] = null;
    if (haveTools().gnuGrep) {
      const t0 = performance.now();
      const r = spawnSync('grep', ['-r', pattern], { cwd: src, env: { ...process.env, LC_ALL: 'C.UTF-8' }, maxBuffer: 1 << 30 });
      const ms = performance.now() - t0;
      const out = r.stdout ?? Buffer.alloc(0);
      let lines = 0;
      for (let i = out.indexOf(10); i >= 0; i = out.indexOf(10, i + 1)) lines++;
      gnuGrep = { pattern, lines, status: r.status ?? -1, ms };
    }
    execFileSync('mv', [`${image}.tmp`, image]);
    const meta: DemoImage = {
      path: image, from, files: tree.files.length, dirs: tree.dirs.length, links: tree.links.length, bytes, allFiles: tree.allFiles, gnuGrep, made: true,
    };
    writeFileSync(metaFile, `${JSON.stringify(meta)}\n`);
    return meta;
  } finally {
    if (stage !== null) rmSync(stage, { recursive: true, force: true });
  }
}

/* ==== reading ext2fs's vminfo ========================================================= */

export type EntryKind = LayoutKind | 'other';

/** The kinds vminfo lines are sorted into, in the order they are shown. */
export const ENTRY_KINDS: readonly EntryKind[] = ['arena heap', 'brk heap', 'thread stack', 'page pool', 'other'];

/** How many of `lines` (vminfo output) fall in each kind of range. */
export function classifyVminfo(lines: readonly string[], layout: readonly LayoutRange[]): Record<EntryKind, number> {
  const counts: Record<EntryKind, number> = { 'arena heap': 0, 'brk heap': 0, 'thread stack': 0, 'page pool': 0, other: 0 };
  for (const line of lines) {
    const m = /^\s*(0x[0-9a-f]+|0)\[/.exec(line);
    if (m === null) continue;
    const a = Number(m[1]);
    const r = layout.find((x) => a >= x.address && a < x.address + x.size);
    counts[r?.kind ?? 'other']++;
  }
  return counts;
}

/* ==== the run ========================================================================= */

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The side-by-side table of the levels' figures. */
export function formatTable(results: readonly StressResult[]): string[] {
  const col = 18;
  const head = `  ${''.padEnd(34)}${results.map((r) => `${r.level} (${LEVEL_NAMES[r.level]})`.padStart(col)).join('')}`;
  const row = (label: string, f: (r: StressResult) => string): string => `  ${label.padEnd(34)}${results.map((r) => f(r).padStart(col)).join('')}`;
  return [
    head,
    row('files read', (r) => n(r.grep.files)),
    row('directories read', (r) => n(r.grep.directories)),
    row('matches (lines selected)', (r) => n(r.grep.selected)),
    row('bytes read', (r) => n(r.grep.bytes)),
    row('search time', (r) => secs(r.grep.ms)),
    row('messages sent (all tasks)', (r) => n(r.rpcs)),
    row('  by grep (its RPCs)', (r) => n(r.messages.grep ?? 0)),
    row('  by ext2fs', (r) => n(r.messages.ext2fs ?? 0)),
    row('ext2fs map entries at the end', (r) => n(r.entries)),
    row('ext2fs map entries at the peak', (r) => n(r.peak)),
  ];
}

/** What the entries are at the end, by kind, per level. */
export function formatBreakdown(results: readonly StressResult[]): string[] {
  const col = 18;
  const lines = [`  ${'vminfo lines in'.padEnd(34)}${results.map((r) => r.level.padStart(col)).join('')}`];
  const counts = results.map((r) => classifyVminfo(r.vminfo, r.ext2fs.layout));
  const label: Record<EntryKind, string> = {
    'arena heap': 'arena heaps (threads\' malloc)', 'brk heap': 'brk heap (main arena)', 'thread stack': 'thread stacks',
    'page pool': 'page-in buffer pools', other: 'anything else',
  };
  for (const k of ENTRY_KINDS) lines.push(`  ${label[k].padEnd(34)}${counts.map((c) => n(c[k]).padStart(col)).join('')}`);
  return lines;
}

/** Up to `max` consecutive vminfo lines of the first arena heap (to show its slices). */
export function heapExcerpt(r: StressResult, max = 6): string[] {
  const heap = r.ext2fs.layout.find((x) => x.kind === 'arena heap');
  if (heap === undefined) return [];
  const inHeap = r.vminfo.filter((line) => {
    const m = /^\s*(0x[0-9a-f]+|0)\[/.exec(line);
    if (m === null) return false;
    const a = Number(m[1]);
    return a >= heap.address && a < heap.address + heap.size;
  });
  const shown = inHeap.slice(0, max);
  if (inHeap.length > max) shown.push(`   ... ${n(inHeap.length - max)} more lines in this heap`);
  return shown;
}

/** The SVG chart of the entries over each run. */
export function demoChart(results: readonly StressResult[], title: string): string {
  return lineChart(results.map((r) => ({
    label: `${r.level} (${LEVEL_NAMES[r.level]}): ${n(r.entries)}`,
    points: r.samples.map(([ms, e]) => [ms / 1000, e] as [number, number]),
    color: r.level === 'L0' ? '#d62728' : r.level === 'L1' ? '#ff7f0e' : '#1f77b4',
  })), {
    title, subtitle: 'ext2fs VM map entries (vminfo | wc -l) while tsmach grep NR -r / runs', xLabel: 'seconds since ext2fs started', yLabel: 'map entries',
  });
}

export async function demo(argv: readonly string[] = [], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(DEMO_USAGE);
    return 0;
  }
  let args: DemoArgs;
  try {
    args = parseDemoArgs(argv);
  } catch (e) {
    process.stderr.write(`tsmach demo: ${(e as Error).message}\n${DEMO_USAGE}\n`);
    return 2;
  }
  const tools = haveTools();
  if (!tools.mke2fs) {
    process.stderr.write('tsmach demo: mke2fs (e2fsprogs) is needed to make the ext2 image\n');
    return 1;
  }
  if (!existsSync(args.from)) {
    process.stderr.write(`tsmach demo: ${args.from}: no such directory (--from DIR)\n`);
    return 1;
  }
  const tty = process.stderr.isTTY === true;
  const status = (s: string): void => { if (tty) process.stderr.write(`\r\x1b[K${s}`); };
  status(`making the image of ${args.from} ...`);
  const img = demoImage(args.from, args.files, args.pattern);
  out(`tsmach demo: the Hurd's stress test, grep ${args.pattern} -r / through an ext2fs server, at ${args.levels.join(', ')}`);
  out(`  image ${img.path} (${img.made ? 'made now' : 'cached'}): ${n(img.files)} files${img.files < img.allFiles ? ` of the ${n(img.allFiles)} in` : ' from'} ${img.from}, ${n(img.dirs)} directories, ${n(img.links)} symlinks, ${(img.bytes / 1048576).toFixed(1)} MiB`);
  out(`  each level: its own kernel (${args.format} copies for device_read), the default pager, ext2fs (boot servers) and grep, each a process${args.sequential ? '' : '; the levels run at once'}`);
  out('');

  const progress = new Map<VmLevel, { ms: number; entries: number; peak: number; messages: number }>();
  const show = (): void => {
    status(args.levels.map((l) => {
      const p = progress.get(l);
      return p === undefined ? `${l} starting` : `${l} ${secs(p.ms)} ${n(p.entries)} entries (peak ${n(p.peak)}), ${n(p.messages)} msgs`;
    }).join(' | '));
  };
  const timer = tty ? setInterval(show, 250) : null;
  const run = (level: VmLevel): Promise<StressResult> => runStress({
    image: img.path, level, format: args.format, grepArgs: [args.pattern, '-r', '/'],
    onProgress: (p) => { progress.set(level, p); },
  });
  let results: StressResult[];
  try {
    if (args.sequential) {
      results = [];
      for (const l of args.levels) results.push(await run(l));
    } else {
      results = await Promise.all(args.levels.map(run));
    }
  } catch (e) {
    if (timer !== null) clearInterval(timer);
    status('');
    process.stderr.write(`tsmach demo: ${(e as Error).message}\n`);
    return 1;
  }
  if (timer !== null) clearInterval(timer);
  status('');

  for (const line of formatTable(results)) out(line);
  if (img.gnuGrep !== null) {
    const same = results.every((r) => r.lines === img.gnuGrep!.lines && r.grep.status === img.gnuGrep!.status);
    out(`  GNU grep over the same tree on the host: ${n(img.gnuGrep.lines)} lines, status ${img.gnuGrep.status}, ${img.gnuGrep.ms.toFixed(0)} ms: ${same ? 'the same lines at every level' : `DIFFERENT (ours: ${results.map((r) => `${r.level} ${n(r.lines)}`).join(', ')})`}`);
  }
  const leftovers = results.filter((r) => r.after.tasks !== 0);
  out(`  after each run: ${leftovers.length === 0 ? 'no task left in the kernel' : `tasks left: ${leftovers.map((r) => `${r.level}: ${r.after.taskNames.join(', ')}`).join('; ')}`}${results[0]?.defaultPager ? '' : ' (no default pager module found)'}`);
  out('');
  out('What ext2fs\'s map holds at the end (its vminfo, one line per entry):');
  for (const line of formatBreakdown(results)) out(line);
  for (const r of results) {
    const ex = heapExcerpt(r, 4);
    if (ex.length === 0) continue;
    out('');
    out(`  ${r.level}: the start of the first arena heap (vminfo lines)`);
    for (const l of ex) out(`    ${l.trimStart()}`);
  }
  out('');
  out('At L0 and L1 every page glibc opens with vm_protect to grow a thread\'s arena heap clips the');
  out('reserved PROT_NONE region and stays an entry of its own; L2 glues each slice back onto the');
  out('heap in front of it (vm_map_coalesce_entry). The README\'s demo section has the whole story.');

  const chartFile = args.chart ?? join(cacheDir(), 'demo-entries.svg');
  mkdirSync(dirname(chartFile), { recursive: true });
  writeFileSync(chartFile, demoChart(results, `grep ${args.pattern} -r / over ${n(img.files)} files of ${img.from}`));
  out('');
  out(`chart: ${chartFile}`);
  if (args.json !== null) {
    writeFileSync(args.json, `${JSON.stringify({ image: img, results }, null, 1)}\n`);
    out(`figures: ${args.json}`);
  }
  const bad = results.filter((r) => r.grep.status === 2 || r.ext2fsErrors.length > 0);
  for (const r of bad) process.stderr.write(`tsmach demo: ${r.level}: grep status ${r.grep.status}; ext2fs errors: ${r.ext2fsErrors.slice(0, 3).join('; ')}\n`);
  return bad.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await demo(process.argv.slice(2));
