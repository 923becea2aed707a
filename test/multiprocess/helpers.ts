/*
 * File: test/multiprocess/helpers.ts
 * Purpose: start the real processes (the kernel through `tsmach kernel`, task programs
 *          from fixtures/task.ts) on 127.0.0.1, read the JSON lines they print, connect
 *          the test itself as an observer task, and clean everything up.
 *
 * Every process runs from the sources through tsx (about 0.2 s to start); a test starts
 * as few as it needs. Each kernel gets its own connection file in a temporary directory,
 * so tests never touch the user's default one.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readTokenFile } from '../../src/kern/connfile.js';
import type { MachTask } from '../../src/runtime/task.js';
import { connect, kernelStats, type ConnectOptions } from '../../src/transport/websocket.js';
import type { KernelStats } from '../../src/wire/codec.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSMACH = join(ROOT, 'src/tools/main.ts');
export const FIXTURE = join(ROOT, 'test/multiprocess/fixtures/task.ts');
const TSX = import.meta.resolve('tsx');

const procs = new Set<ChildProcess>();
const dirs: string[] = [];

/** A child process and the JSON lines (or plain lines) it prints. */
export class Proc {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** everything printed on stderr (for diagnostics) */
  stderr = '';
  private readonly queue: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private ended = false;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
    this.proc = spawn(process.execPath, [...nodeArgs, '--import', TSX, ...args], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    procs.add(this.proc);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      procs.delete(this.proc);
      resolve({ code, signal });
    }));
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    const rl = createInterface({ input: this.proc.stdout! });
    rl.on('line', (line) => {
      if (this.waiter) { const w = this.waiter; this.waiter = null; w(line); } else this.queue.push(line);
    });
    rl.on('close', () => {
      this.ended = true;
      if (this.waiter) { const w = this.waiter; this.waiter = null; w(null); }
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The next line printed, within `ms`. */
  line(ms = 20_000): Promise<string> {
    const q = this.queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.ended) return Promise.reject(new Error(`process ended before printing a line; stderr:\n${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error(`no line within ${ms} ms; stderr:\n${this.stderr}`)); }, ms);
      this.waiter = (line) => {
        clearTimeout(timer);
        if (line === null) reject(new Error(`process ended before printing a line; stderr:\n${this.stderr}`));
        else resolve(line);
      };
    });
  }

  /** The next line, parsed as JSON. */
  async json<T = Record<string, unknown>>(ms?: number): Promise<T> {
    const l = await this.line(ms);
    try {
      return JSON.parse(l) as T;
    } catch {
      throw new Error(`not JSON: ${l}\nstderr:\n${this.stderr}`);
    }
  }

  /** Lines until one (parsed) satisfies `pred`. */
  async until<T = Record<string, unknown>>(pred: (v: T) => boolean, ms?: number): Promise<T> {
    for (;;) {
      const v = await this.json<T>(ms);
      if (pred(v)) return v;
    }
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

export interface KernelProc {
  proc: Proc;
  url: string;
  token: string;
  tokenFile: string;
  connectionFile: string;
  tickets: Array<{ name: string; ticket: string }>;
  /** environment for a task process to find this kernel */
  env: NodeJS.ProcessEnv;
}

/** A fresh temporary directory, removed after the file's tests. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsmach-mp-'));
  dirs.push(d);
  return d;
}

/** `tsmach kernel --json` in its own directory (node --expose-gc, so stats collect first). */
export async function startKernel(args: string[] = [], connectionFile = join(tempDir(), 'kernel.json')): Promise<KernelProc> {
  const proc = new Proc([TSMACH, 'kernel', '--json', '--connection-file', connectionFile, ...args], {}, ['--expose-gc']);
  const hello = await proc.json<{ url: string; tokenFile: string; connectionFile: string; tickets: Array<{ name: string; ticket: string }> }>();
  return {
    proc, url: hello.url, tokenFile: hello.tokenFile, connectionFile: hello.connectionFile, tickets: hello.tickets,
    token: readTokenFile(hello.tokenFile), env: { TSMACH_CONNECTION: hello.connectionFile },
  };
}

/** A task program from fixtures/task.ts. */
export function startTask(k: KernelProc, role: string, args: Array<string | number> = [], env: NodeJS.ProcessEnv = {}): Proc {
  return new Proc([FIXTURE, role, ...args.map(String)], { ...k.env, ...env });
}

/** The test itself as a task of kernel `k`. */
export function observe(k: KernelProc, options: ConnectOptions = {}): Promise<MachTask> {
  return connect({ connectionFile: k.connectionFile, name: 'observer', ...options });
}

/** Kernel counts that must come back after a scenario (memory is compared separately). */
export async function counts(t: MachTask): Promise<Omit<KernelStats, 'heapUsed' | 'rss'>> {
  const { heapUsed: _h, rss: _r, ...c } = await kernelStats(t);
  return c;
}

export async function waitFor<T>(f: () => Promise<T | undefined> | T | undefined, ms = 5000, step = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Kills every process still running and removes the temporary directories. */
export async function cleanup(): Promise<void> {
  const waits = [...procs].map((p) => new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); }));
  await Promise.all(waits);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
