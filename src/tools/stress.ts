/*
 * File: tools/stress.ts
 * Purpose: the Hurd's stress test as separate processes, for the demo, the benchmark and
 *          the end-to-end tests: a kernel process, the default pager, the ext2fs server
 *          and `tsmach grep PATTERN -r /` as a client, at one VM level; ext2fs's map
 *          entries sampled all along, its vminfo at the end.
 *
 *   node --import tsx src/tools/stress.ts kernel --level L --disk IMAGE [--format F]
 *        [--memory-pages N] [--sample-ms N] [--watch NAME] [--tickets NAME,...]
 *
 * The kernel process is KernelServer, the same listener `tsmach kernel` runs, with an
 * observer attached in its process: it reads the watched task's map entry count
 * (map.nentries, what `vminfo | wc -l` counts) every --sample-ms milliseconds, without
 * disturbing the task, and counts the messages each task sends (wrapping the traps the
 * kernel gives a connection). Over RPC a tool can only count entries with one vm_region
 * call per entry (tsmach vminfo, tsmach ps), far too slow to sample a map of thousands
 * of entries during a run. The observer also times the VM calls (the synchronous part of
 * each mach_msg whose request is a VM routine: vm_allocate ... vm_map, and
 * memory_object_data_supply, including their IPC copyin/copyout).
 *
 * It prints one JSON line with its URL, token file and one privileged ticket per
 * --tickets name, then a {"progress": ...} line every 250 ms; it answers lines on standard
 * input: "report" ({"report": samples, peak, entries, vminfo lines, messages, VM time}),
 * "stats" ({"stats": KernelServer.stats()}), "exit". SIGTERM also stops it.
 *
 * runStress() starts those processes for one level and returns the figures.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { newToken, writePrivateFile } from '../kern/connfile.js';
import type { DiskFormat } from '../kern/device.js';
import { KernelServer } from '../kern/server.js';
import type { Kernel } from '../kern/kernel.js';
import type { Task } from '../kern/task.js';
import { MACH_SEND_MSG } from '../mach/message.js';
import type { VmLevel } from '../vm/level.js';
import { vminfo } from '../vm/vminfo.js';
import type { KernelStats } from '../wire/codec.js';
import type { Ext2fsTaskStats } from '../servers/ext2fs/ext2fs_task.js';
import type { GrepSummary } from './grep.js';
import { ArgvOptions } from './argv.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const TSMACH = join(ROOT, 'src/tools/main.ts');
const EXT2FS = join(ROOT, 'src/servers/ext2fs/main.ts');
const DEFAULT_PAGER = join(ROOT, 'src/servers/default-pager/main.ts');

/** Request ids of the VM calls the observer times (mach.defs). */
const VM_CALL_IDS = new Map<number, string>([
  [2021, 'vm_allocate'], [2023, 'vm_deallocate'], [2024, 'vm_protect'], [2025, 'vm_inherit'], [2026, 'vm_read'],
  [2027, 'vm_write'], [2028, 'vm_copy'], [2029, 'vm_region'], [2089, 'vm_map'], [2093, 'memory_object_data_supply'],
]);

/* ==== the kernel process ============================================================= */

/** What the observer reports for the watched task. */
export interface KernelReport {
  /** the watched task's name */
  name: string;
  /** its map entries now, and the most seen */
  entries: number;
  peak: number;
  /** [ms since the watched task appeared, entries], one per sample (and at each change of 1% or more) */
  samples: Array<[number, number]>;
  /** `vminfo` of its map now (the Hurd's format, one line per entry) */
  vminfo: string[];
  /** messages sent, by task name */
  messages: Record<string, number>;
  /** VM calls: count and synchronous kernel time (ms), by routine */
  vmCalls: Record<string, { calls: number; ms: number }>;
}

interface KernelArgs {
  level: VmLevel;
  disk: string;
  format: DiskFormat;
  memoryPages: number | undefined;
  sampleMs: number;
  watch: string;
  tickets: string[];
}

function parseKernelArgs(argv: string[]): KernelArgs {
  const a: KernelArgs = { level: 'L2', disk: '', format: 'object', memoryPages: undefined, sampleMs: 10, watch: 'ext2fs', tickets: ['ext2fs'] };
  const options = new ArgvOptions(argv);
  for (const arg of options) {
    const v = (): string => options.value(arg);
    switch (arg) {
      case '--level': a.level = v().toUpperCase() as VmLevel; break;
      case '--disk': a.disk = v(); break;
      case '--format': a.format = v() as DiskFormat; break;
      case '--memory-pages': a.memoryPages = Number(v()); break;
      case '--sample-ms': a.sampleMs = Number(v()); break;
      case '--watch': a.watch = v(); break;
      case '--tickets': a.tickets = v().split(',').filter((s) => s !== ''); break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  if (a.disk === '') throw new Error('--disk IMAGE is required');
  return a;
}

/**
 * Counts each task's messages and times the VM calls, by wrapping the traps the kernel
 * hands out from now on (embedded kernels too: createTask connects through the same call).
 */
export function observeTraps(kernel: Kernel, messages: Map<string, number>, vm: Map<string, { calls: number; ms: number }>): void {
  const connect = kernel.connect.bind(kernel);
  kernel.connect = (task: Task, connection) => {
    const traps = connect(task, connection);
    const trap = traps.mach_msg.bind(traps);
    traps.mach_msg = (msg, option, rcvSize, rcvName, timeout, notify) => {
      if (msg === null || (option & MACH_SEND_MSG) === 0) return trap(msg, option, rcvSize, rcvName, timeout, notify);
      messages.set(task.name, (messages.get(task.name) ?? 0) + 1);
      const call = VM_CALL_IDS.get(msg.header.id);
      if (call === undefined) return trap(msg, option, rcvSize, rcvName, timeout, notify);
      const t0 = performance.now();
      const r = trap(msg, option, rcvSize, rcvName, timeout, notify);
      const c = vm.get(call) ?? { calls: 0, ms: 0 };
      c.calls++;
      c.ms += performance.now() - t0;
      vm.set(call, c);
      return r;
    };
    return traps;
  };
}

/** The kernel process of a stress run (see the header). Returns when it is told to stop. */
export async function stressKernelMain(argv: string[]): Promise<number> {
  let args: KernelArgs;
  try {
    args = parseKernelArgs(argv);
  } catch (e) {
    process.stderr.write(`stress kernel: ${(e as Error).message}\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsmach-stress-'));
  const tokenFile = join(dir, 'token');
  const token = newToken();
  writePrivateFile(tokenFile, `${token}\n`);
  const server = await KernelServer.listen({
    token, vmLevel: args.level, memoryPages: args.memoryPages, disks: [{ path: args.disk, name: 'hd0', format: args.format }],
  });
  const messages = new Map<string, number>();
  const vmCalls = new Map<string, { calls: number; ms: number }>();
  observeTraps(server.kernel, messages, vmCalls);
  const tickets = args.tickets.map((name) => ({ name, ticket: server.ticket({ name, privileged: true }) }));
  const say = (v: unknown): void => { process.stdout.write(`${JSON.stringify(v)}\n`); };
  say({ url: server.url, tokenFile, pid: process.pid, level: args.level, tickets });

  // The sampler.
  const watched = (): Task | undefined => {
    for (const t of server.kernel.tasks.values()) if (t.name === args.watch) return t;
    return undefined;
  };
  let t0 = -1;
  let peak = 0;
  let last = -1;
  let watchedTask: Task | undefined;
  const samples: Array<[number, number]> = [];
  const sample = (): void => {
    watchedTask = watchedTask?.active ? watchedTask : watched();
    if (watchedTask === undefined) return;
    const now = performance.now();
    if (t0 < 0) t0 = now;
    const n = watchedTask.map.nentries;
    peak = Math.max(peak, n);
    if (n !== last) {
      samples.push([Math.round(now - t0), n]);
      last = n;
    }
  };
  const sampler = setInterval(sample, args.sampleMs);
  let lastProgress = 0;
  const progress = setInterval(() => {
    const total = [...messages.values()].reduce((a, b) => a + b, 0);
    if (total === lastProgress) return;
    lastProgress = total;
    say({ progress: { ms: t0 < 0 ? 0 : Math.round(performance.now() - t0), entries: last < 0 ? 0 : last, peak, messages: total } });
  }, 250);

  const stop = async (): Promise<void> => {
    clearInterval(sampler);
    clearInterval(progress);
    await server.close('stress run over');
    rmSync(dir, { recursive: true, force: true });
  };
  return new Promise<number>((done) => {
    let stopping = false;
    const lines = createInterface({ input: process.stdin });
    const finish = (): void => {
      if (stopping) return;
      stopping = true;
      void stop().then(() => {
        lines.close();
        process.stdin.destroy(); // nothing keeps the process then
        done(0);
      });
    };
    process.on('SIGTERM', finish);
    process.on('SIGINT', finish);
    lines.on('line', (line) => {
      const cmd = line.trim();
      if (cmd === 'report') {
        sample();
        const t = watchedTask?.active ? watchedTask : watched();
        const report: KernelReport = {
          name: args.watch, entries: t?.map.nentries ?? 0, peak, samples, vminfo: t === undefined ? [] : vminfo(t.map),
          messages: Object.fromEntries(messages), vmCalls: Object.fromEntries(vmCalls),
        };
        say({ report });
      } else if (cmd === 'stats') {
        say({ stats: server.stats(), tasks: [...server.kernel.tasks.values()].map((t) => t.name) });
      } else if (cmd === 'exit') {
        finish();
      }
    });
    lines.on('close', finish);
  });
}

/* ==== orchestration ================================================================== */

const debug = (line: string): void => { if (process.env.STRESS_DEBUG) process.stderr.write(`stress: ${line}\n`); };

/** A child process and the JSON lines it prints. */
class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  private readonly queue: unknown[] = [];
  private waiters: Array<{ pred: (v: Record<string, unknown>) => boolean; resolve: (v: Record<string, unknown>) => void }> = [];
  private ended = false;

  constructor(args: string[], env: NodeJS.ProcessEnv, onLine?: (v: Record<string, unknown>) => void, stdout: 'json' | 'count' = 'json', onBytes?: (b: Buffer) => void) {
    this.proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.resolve({ ended: true });
      resolve({ code, signal });
    }));
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    if (stdout === 'count') {
      this.proc.stdout!.on('data', (d: Buffer) => onBytes?.(d));
      return;
    }
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // not ours
      }
      onLine?.(v);
      const w = this.waiters.findIndex((x) => x.pred(v));
      if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(v);
      else this.queue.push(v);
    });
  }

  /** The next JSON line satisfying `pred` (printed already or to come). */
  next(pred: (v: Record<string, unknown>) => boolean, ms = 60_000, what = 'a line'): Promise<Record<string, unknown>> {
    const k = this.queue.findIndex((v) => pred(v as Record<string, unknown>));
    if (k >= 0) return Promise.resolve(this.queue.splice(k, 1)[0] as Record<string, unknown>);
    return new Promise((resolve, reject) => {
      if (this.ended) {
        reject(new Error(`process ended before ${what}; stderr:\n${this.stderr}`));
        return;
      }
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stderr:\n${this.stderr}`)), ms);
      this.waiters.push({
        pred,
        resolve: (v) => {
          clearTimeout(timer);
          if (v.ended === true && !pred(v)) reject(new Error(`process ended before ${what}; stderr:\n${this.stderr}`));
          else resolve(v);
        },
      });
    });
  }

  send(line: string): void {
    if (!this.ended) this.proc.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

export interface StressOptions {
  /** the ext2 image */
  image: string;
  level: VmLevel;
  /** how device_read data reaches ext2fs (default object: the Linux-glue drivers) */
  format?: DiskFormat;
  /** grep's arguments (default NR -r /) */
  grepArgs?: string[];
  /** more arguments for the ext2fs module */
  ext2fsArgs?: string[];
  /** boot the default pager (default: when its module exists) */
  defaultPager?: boolean;
  /** resident-page limit of the kernel (default none) */
  memoryPages?: number;
  /** sampling period (ms, default 10) */
  sampleMs?: number;
  /** node options for the children (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** the kernel's progress lines */
  onProgress?: (p: { ms: number; entries: number; peak: number; messages: number }) => void;
  /** what grep prints (default: counted only) */
  onOutput?: (b: Buffer) => void;
}

export interface StressResult {
  level: VmLevel;
  /** grep's exit status and what it did */
  grep: GrepSummary;
  /** lines grep printed */
  lines: number;
  /** wall time of the whole run, and of the search alone (ms) */
  wallMs: number;
  /** ext2fs's map: entries at the end, the peak seen, the samples, vminfo at the end */
  entries: number;
  peak: number;
  samples: Array<[number, number]>;
  vminfo: string[];
  /** messages sent, by task, and in all */
  messages: Record<string, number>;
  rpcs: number;
  vmCalls: Record<string, { calls: number; ms: number }>;
  ext2fs: Ext2fsTaskStats;
  ext2fsErrors: string[];
  /** the kernel's counts once every task of the run had ended */
  after: KernelStats & { taskNames: string[] };
  /** whether the default pager ran */
  defaultPager: boolean;
}

/** One level of the stress test (see the header). Throws when a process fails. */
export async function runStress(o: StressOptions): Promise<StressResult> {
  const t0 = performance.now();
  const nodeArgs = [...(o.nodeArgs ?? []), '--import', import.meta.resolve('tsx')];
  const withPager = o.defaultPager ?? existsSync(DEFAULT_PAGER);
  const names = withPager ? ['ext2fs', 'default-pager'] : ['ext2fs'];
  const kernel = new Child([...nodeArgs, SELF, 'kernel', '--level', o.level, '--disk', o.image, '--format', o.format ?? 'object',
    '--sample-ms', String(o.sampleMs ?? 10), '--tickets', names.join(','),
    ...(o.memoryPages !== undefined ? ['--memory-pages', String(o.memoryPages)] : [])], {},
  (v) => { if (v.progress !== undefined) o.onProgress?.(v.progress as { ms: number; entries: number; peak: number; messages: number }); });
  const children: Child[] = [kernel];
  const dir = mkdtempSync(join(tmpdir(), 'tsmach-stress-run-'));
  try {
    const hello = await kernel.next((v) => typeof v.url === 'string', 30_000, "the kernel's address") as { url: string; tokenFile: string; tickets: Array<{ name: string; ticket: string }> };
    const env = { TSMACH_KERNEL_URL: hello.url, TSMACH_TOKEN_FILE: hello.tokenFile, TSMACH_CONNECTION: join(dir, 'none.json') };
    const ticket = (name: string): string => hello.tickets.find((t) => t.name === name)!.ticket;
    if (withPager) {
      const pager = new Child([...nodeArgs, DEFAULT_PAGER, '--json'], { ...env, TSMACH_TICKET: ticket('default-pager'), TSMACH_TASK_NAME: 'default-pager' });
      children.push(pager);
      await pager.next((v) => v.ready === true, 30_000, "the default pager's ready line");
    }
    const ext2fs = new Child([...nodeArgs, EXT2FS, ...(o.ext2fsArgs ?? []), 'hd0'], { ...env, TSMACH_TICKET: ticket('ext2fs'), TSMACH_TASK_NAME: 'ext2fs' });
    children.push(ext2fs);
    await ext2fs.next((v) => v.ready === true, 30_000, "ext2fs's ready line");

    // The client.
    const summaryFile = join(dir, 'summary.json');
    let lines = 0;
    const grep = new Child([...nodeArgs, TSMACH, 'grep', ...(o.grepArgs ?? ['NR', '-r', '/']), '--summary', summaryFile], env, undefined, 'count', (b) => {
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
      o.onOutput?.(b);
    });
    children.push(grep);
    const g = await grep.exited;
    debug(`grep exited ${g.code}`);
    if (!existsSync(summaryFile)) throw new Error(`grep failed (${g.signal ?? `status ${g.code}`}): ${grep.stderr}`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as GrepSummary;

    // ext2fs has seen every close (no-senders) when only its root is open.
    let st: { stats: Ext2fsTaskStats; internalErrors: string[] };
    for (let k = 0; ; k++) {
      ext2fs.send('stats');
      st = await ext2fs.next((v) => v.stats !== undefined, 30_000, "ext2fs's stats") as unknown as typeof st;
      if (st.stats.server.protids.protids <= 1 || k > 100) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    debug('stats done');
    kernel.send('report');
    const report = (await kernel.next((v) => v.report !== undefined, 30_000, "the kernel's report")).report as KernelReport;

    debug('report done');
    // Shutdown: the servers go, then nothing of them may be left in the kernel.
    for (const c of children.slice(1).reverse()) {
      c.kill('SIGTERM');
      debug(`SIGTERM to ${c.proc.pid} ${c.proc.spawnargs.slice(-3).join(' ')}`);
      await c.exited;
      debug('exited');
    }
    let after: KernelStats & { taskNames: string[] };
    for (let k = 0; ; k++) {
      kernel.send('stats');
      const s = await kernel.next((v) => v.stats !== undefined, 30_000, "the kernel's stats");
      after = { ...(s.stats as KernelStats), taskNames: s.tasks as string[] };
      if (after.tasks === 0 || k > 50) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    kernel.send('exit');
    await kernel.exited;
    const rpcs = Object.values(report.messages).reduce((a, b) => a + b, 0);
    return {
      level: o.level, grep: summary, lines, wallMs: performance.now() - t0, entries: report.entries, peak: report.peak,
      samples: report.samples, vminfo: report.vminfo, messages: report.messages, rpcs, vmCalls: report.vmCalls,
      ext2fs: st.stats, ext2fsErrors: st.internalErrors, after, defaultPager: withPager,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF && process.argv[2] === 'kernel') {
  process.exitCode = await stressKernelMain(process.argv.slice(3));
}
