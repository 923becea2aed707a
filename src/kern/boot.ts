/*
 * File: kern/boot.ts
 * Purpose: boot, as GNU Mach boots the Hurd: start the kernel, then the boot servers (the
 *          modules), each a task of that kernel that alone receives the privileged ports;
 *          report a server that dies; stop everything cleanly on request.
 *
 * The module list is what GNU Mach's multiboot modules line is: a program and its
 * arguments per module. On the command line modules are separated by a lone `;`
 *   tsmach boot -- servers/pager.js --swap /tmp/swap \; servers/ext2fs.js disk.img
 * or given in a boot script, one module per line (`#` starts a comment, words are split
 * like a shell's, "..." and '...' quote, an optional `name=NAME` first word names the
 * task):
 *   # boot.script
 *   name=pager  servers/pager.js --swap /tmp/swap
 *   servers/ext2fs.js disk.img
 *
 * The kernel process makes one one-time privileged ticket per module (`tsmach kernel
 * --boot-tickets`), printed only on the pipe boot reads; boot hands each module its
 * ticket in the environment (TSMACH_TICKET, which connect() removes at once) with the
 * kernel's URL and token file. A task connecting with a ticket gets host_priv (and the
 * device master once devices exist); no other task ever does. A ticket works once.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { basename, resolve } from 'node:path';

export interface BootModule {
  /** the task's name */
  name: string;
  /** the program (.js, .mjs, .ts: .ts runs through tsx) */
  file: string;
  args: string[];
}

/** Splits one line like a shell (quotes, backslash escapes); no expansions. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

function moduleOf(words: string[], base: string): BootModule {
  let name: string | undefined;
  if (words[0]?.startsWith('name=')) name = words.shift()!.slice(5);
  const file = words.shift();
  if (file === undefined) throw new Error('a module needs a program');
  return { name: name || basename(file).replace(/\.[cm]?[jt]s$/, ''), file: resolve(base, file), args: words };
}

/** Names made unique (a second `ext2fs` becomes `ext2fs-2`). */
function uniqueNames(mods: BootModule[]): BootModule[] {
  const seen = new Map<string, number>();
  for (const m of mods) {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    if (n > 1) m.name = `${m.name}-${n}`;
  }
  return mods;
}

/** Modules from command-line words separated by `;` (relative paths against `cwd`). */
export function parseModuleArgs(words: string[], cwd = process.cwd()): BootModule[] {
  const mods: BootModule[] = [];
  let cur: string[] = [];
  for (const w of [...words, ';']) {
    if (w === ';') {
      if (cur.length > 0) mods.push(moduleOf(cur, cwd));
      cur = [];
    } else {
      cur.push(w);
    }
  }
  return uniqueNames(mods);
}

/** Modules from a boot script's text (relative paths against the script's directory). */
export function parseBootScript(text: string, dir: string): BootModule[] {
  const mods: BootModule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    try {
      mods.push(moduleOf(splitWords(line), dir));
    } catch (e) {
      throw new Error(`boot script line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return uniqueNames(mods);
}

export interface BootOptions {
  /** how to start `tsmach kernel`: the program and arguments before `kernel` */
  tsmach: { command: string; args: string[] };
  /** more arguments for `tsmach kernel` (--listen, --vm-level, --connection-file ...) */
  kernelArgs: string[];
  modules: BootModule[];
  /** lines for the user (module exits, shutdown) */
  report: (line: string) => void;
  /** how long a process may take to stop after SIGTERM before SIGKILL (ms, default 3000) */
  graceMs?: number;
}

interface KernelHello {
  url: string;
  tokenFile: string;
  connectionFile: string;
  pid: number;
  tickets: Array<{ name: string; ticket: string }>;
}

/** How to run a module's program with this Node (TypeScript through tsx, found from here). */
function moduleCommand(file: string): string[] {
  return /\.[cm]?ts$/.test(file) ? ['--import', import.meta.resolve('tsx'), file] : [file];
}

/** A running boot: the kernel process and its modules. */
export class Boot {
  readonly kernel: ChildProcess;
  readonly hello: KernelHello;
  readonly modules = new Map<string, ChildProcess>();
  /** settles when everything has stopped, with boot's exit status */
  readonly done: Promise<number>;
  private readonly options: BootOptions;
  private stopping = false;
  private finish!: (status: number) => void;

  private constructor(options: BootOptions, kernel: ChildProcess, hello: KernelHello) {
    this.options = options;
    this.kernel = kernel;
    this.hello = hello;
    this.done = new Promise((r) => { this.finish = r; });
    kernel.on('exit', (code, signal) => {
      if (this.stopping) return;
      // Status 0: it was stopped (Ctrl-C reaches the whole process group); else it died.
      if (code === 0) {
        options.report(`tsmach boot: the kernel (pid ${kernel.pid}) stopped; stopping the modules`);
        void this.stop(0);
      } else {
        options.report(`tsmach boot: the kernel (pid ${kernel.pid}) died (${signal ?? `status ${code}`}); stopping the modules`);
        void this.stop(1);
      }
    });
  }

  /** Starts the kernel, waits for it to listen, then starts every module. */
  static async start(options: BootOptions): Promise<Boot> {
    const names = options.modules.map((m) => m.name);
    const kernel = spawn(options.tsmach.command, [...options.tsmach.args, 'kernel', '--json', '--boot-tickets', names.join(','), ...options.kernelArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: kernel.stdout! });
    const hello = await new Promise<KernelHello>((resolveHello, reject) => {
      const onExit = (code: number | null, signal: string | null): void => reject(new Error(`the kernel exited before listening (${signal ?? `status ${code}`})`));
      kernel.once('exit', onExit);
      kernel.once('error', reject);
      lines.once('line', (line) => {
        kernel.off('exit', onExit);
        try {
          resolveHello(JSON.parse(line) as KernelHello);
        } catch {
          reject(new Error(`unexpected first line from the kernel: ${line}`));
        }
      });
    });
    // Later kernel output is passed through.
    lines.on('line', (line) => process.stdout.write(`${line}\n`));
    const boot = new Boot(options, kernel, hello);
    options.report(`tsmach boot: kernel ${hello.url} (pid ${hello.pid}), connection file ${hello.connectionFile}`);
    for (const m of options.modules) boot.startModule(m);
    return boot;
  }

  private startModule(m: BootModule): void {
    const ticket = this.hello.tickets.find((t) => t.name === m.name)?.ticket;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TSMACH_KERNEL_URL: this.hello.url,
      TSMACH_TOKEN_FILE: this.hello.tokenFile,
      TSMACH_CONNECTION: this.hello.connectionFile,
      TSMACH_TASK_NAME: m.name,
    };
    if (ticket !== undefined) env.TSMACH_TICKET = ticket;
    const child = spawn(process.execPath, [...moduleCommand(m.file), ...m.args], { stdio: 'inherit', env });
    this.modules.set(m.name, child);
    this.options.report(`tsmach boot: started ${m.name} (pid ${child.pid})`);
    child.on('error', (e) => this.options.report(`tsmach boot: module ${m.name} could not start: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.modules.delete(m.name);
      if (this.stopping) return;
      const how = signal !== null ? `was killed by ${signal}` : code === 0 ? 'exited' : `exited with status ${code}`;
      this.options.report(`tsmach boot: module ${m.name} (pid ${child.pid}) ${how}`);
    });
  }

  /** Stops the modules (SIGTERM, then SIGKILL after the grace period), then the kernel. */
  async stop(status = 0): Promise<number> {
    if (this.stopping) return this.done;
    this.stopping = true;
    const grace = this.options.graceMs ?? 3000;
    const stopOne = async (p: ChildProcess): Promise<void> => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), grace);
      await exited;
      clearTimeout(timer);
    };
    await Promise.all([...this.modules.values()].map(stopOne));
    await stopOne(this.kernel);
    this.options.report('tsmach boot: stopped');
    this.finish(status);
    return status;
  }
}
