/*
 * File: tools/kernel.ts
 * Purpose: `tsmach kernel`: the kernel as a process. It listens for tasks on WebSocket
 *          (127.0.0.1 and a free port unless --listen says otherwise), writes its token
 *          (0600) and a connection file that tasks and tools read by default, and runs
 *          until SIGINT or SIGTERM, when every task is told it goes away.
 *
 *   tsmach kernel [--listen HOST:PORT] [--token-file PATH] [--connection-file PATH]
 *                 [--vm-level L0|L1|L2] [--json] [--boot-tickets NAME,...] [--verbose]
 *
 * --json prints one JSON line {url, tokenFile, connectionFile, pid, tickets} instead of
 * the human lines; --boot-tickets makes a privileged one-time ticket per name (what
 * `tsmach boot` uses: the tickets only ever travel on this process's stdout pipe).
 * The privileged-tool token goes to `<token file>.priv` (0600; not with
 * --no-privileged-tools): tools needing host_priv (tsmach ps, vminfo) present it as
 * their ticket (docs/protocol.md). --pager-timeout: how long a fault waits for a pager.
 */

import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultConnectionFile, defaultTokenFile, newToken, removeConnectionFile, writeConnectionFile, writePrivateFile } from '../kern/connfile.js';
import { KernelServer, privilegedTokenFile } from '../kern/server.js';
import { VM_LEVELS, type VmLevel } from '../vm/level.js';
import type { DiskOptions } from '../kern/device.js';
import { ArgvOptions } from './argv.js';

export const KERNEL_USAGE = `usage: tsmach kernel [--listen HOST:PORT] [--token-file PATH] [--connection-file PATH]
                     [--vm-level L0|L1|L2] [--memory-pages N] [--pager-timeout MS] [--no-privileged-tools]
                     [--disk IMAGE [--disk-name hd0]
                     [--disk-writable] [--disk-format object|pages|entries]]...
                     [--json] [--boot-tickets NAME,...] [--verbose]`;

export interface KernelArgs {
  host: string;
  port: number;
  tokenFile: string | null;
  connectionFile: string | null;
  vmLevel: VmLevel;
  json: boolean;
  bootTickets: string[];
  verbose: boolean;
  /** disk images, served through device.defs to boot servers (the options after a --disk apply to it) */
  disks: DiskOptions[];
  memoryPages: number | undefined;
  /** how long a fault waits for a pager before KERN_MEMORY_ERROR (ms) */
  pagerTimeout: number | undefined;
  /** write the privileged-tool token file (tsmach ps, vminfo): default true */
  privilegedTools: boolean;
}

/** HOST:PORT, [v6]:PORT, HOST or :PORT. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`bad --listen ${s}: HOST:PORT expected`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = m[3] === undefined ? 0 : Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in --listen ${s}`);
  return { host, port };
}

export function parseKernelArgs(argv: string[]): KernelArgs {
  const a: KernelArgs = {
    host: '127.0.0.1', port: 0, tokenFile: null, connectionFile: null, vmLevel: 'L2', json: false, bootTickets: [], verbose: false,
    disks: [], memoryPages: undefined, pagerTimeout: undefined, privilegedTools: true,
  };
  const lastDisk = (flag: string): DiskOptions => {
    const d = a.disks.at(-1);
    if (d === undefined) throw new Error(`${flag} applies to the --disk before it`);
    return d;
  };
  const options = new ArgvOptions(argv);
  for (const arg of options) {
    const value = (): string => options.value(arg);
    switch (arg) {
      case '--listen': Object.assign(a, parseListen(value())); break;
      case '--token-file': a.tokenFile = resolve(value()); break;
      case '--connection-file': a.connectionFile = resolve(value()); break;
      case '--vm-level': {
        const v = value().toUpperCase();
        if (!(VM_LEVELS as readonly string[]).includes(v)) throw new Error(`--vm-level: one of ${VM_LEVELS.join(', ')}`);
        a.vmLevel = v as VmLevel;
        break;
      }
      case '--disk': a.disks.push({ path: resolve(value()) }); break;
      case '--disk-name': lastDisk(arg).name = value(); break;
      case '--disk-writable': lastDisk(arg).writable = true; break;
      case '--disk-format': {
        const f = value();
        if (f !== 'object' && f !== 'pages' && f !== 'entries') throw new Error('--disk-format: object, pages or entries');
        lastDisk(arg).format = f;
        break;
      }
      case '--memory-pages': {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) throw new Error('--memory-pages: a positive number of pages');
        a.memoryPages = n;
        break;
      }
      case '--pager-timeout': {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) throw new Error('--pager-timeout: a positive number of milliseconds');
        a.pagerTimeout = n;
        break;
      }
      case '--no-privileged-tools': a.privilegedTools = false; break;
      case '--json': a.json = true; break;
      case '--boot-tickets': a.bootTickets = value().split(',').filter((s) => s !== ''); break;
      case '--verbose': case '-v': a.verbose = true; break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  return a;
}

/** Runs the kernel until SIGINT/SIGTERM. Returns the exit status. */
export async function kernelCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${KERNEL_USAGE}\n`);
    return 0;
  }
  let args: KernelArgs;
  try {
    args = parseKernelArgs(argv);
  } catch (e) {
    process.stderr.write(`tsmach kernel: ${(e as Error).message}\n${KERNEL_USAGE}\n`);
    return 2;
  }
  const connectionFile = args.connectionFile ?? defaultConnectionFile();
  const tokenFile = args.tokenFile ?? defaultTokenFile(connectionFile);
  const token = newToken();
  const privilegedToken = args.privilegedTools ? newToken() : undefined;
  const privFile = privilegedTokenFile(tokenFile);
  const log = (line: string): void => { if (args.verbose) process.stderr.write(`tsmach kernel: ${line}\n`); };
  let server: KernelServer;
  try {
    server = await KernelServer.listen({
      host: args.host, port: args.port, token, vmLevel: args.vmLevel, disks: args.disks, memoryPages: args.memoryPages,
      pagerTimeout: args.pagerTimeout, privilegedToken, log,
    });
    writePrivateFile(tokenFile, `${token}\n`);
    if (privilegedToken !== undefined) writePrivateFile(privFile, `${privilegedToken}\n`);
    else rmSync(privFile, { force: true });
    writeConnectionFile(connectionFile, { url: server.url, tokenFile, pid: process.pid, vmLevel: args.vmLevel });
  } catch (e) {
    process.stderr.write(`tsmach kernel: ${(e as Error).message}\n`);
    return 1;
  }
  const tickets = args.bootTickets.map((name) => ({ name, ticket: server.ticket({ name, privileged: true }) }));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ url: server.url, tokenFile, connectionFile, pid: process.pid, vmLevel: args.vmLevel, tickets })}\n`);
  } else {
    process.stdout.write(`tsmach kernel: listening on ${server.url} (VM level ${args.vmLevel}, pid ${process.pid})\n`);
    process.stdout.write(`tsmach kernel: connection file ${connectionFile}, token ${tokenFile}\n`);
  }
  if (args.host !== '127.0.0.1' && args.host !== '::1' && args.host !== 'localhost') {
    process.stderr.write(`tsmach kernel: warning: listening on ${args.host}, not loopback: anyone who can reach it and has the token can attach\n`);
  }
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: shutting down`);
      void server.close(`kernel stopped (${signal})`).then(() => {
        removeConnectionFile(connectionFile);
        rmSync(tokenFile, { force: true });
        if (privilegedToken !== undefined) rmSync(privFile, { force: true });
        done(0);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => stop('SIGHUP'));
  });
}
