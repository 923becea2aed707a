/*
 * File: servers/default-pager/main.ts
 * Purpose: the default pager as a process: a boot module that connects to the kernel
 *          with its privileged ticket, opens its swap file, registers as the default
 *          memory manager and serves until SIGTERM/SIGINT (or the kernel goes away).
 *
 *   tsmach boot --memory-pages 256 -- src/servers/default-pager/main.ts [--swap FILE] [--swap-size N]
 *
 * --swap FILE      the swap file (created or truncated, mode 0600; kept afterwards).
 *                  Default: a temporary file, removed when the pager stops.
 * --swap-size N    its size in bytes, with an optional K, M or G suffix (default 64M),
 *                  rounded up to whole pages.
 * --json           one JSON line on stdout once registered: {ready, pid, task, swap, pages}
 * --verbose, -v    diagnostics on stderr
 */

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { task_set_name } from '../../gen/gnumach.user.js';
import { connect } from '../../transport/websocket.js';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import { DEFAULT_PAGER_USAGE, parseDefaultPagerArgs, type DefaultPagerArgs } from './args.js';
import { DefaultPager } from './pager.js';
import { SwapFile } from './swap.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${DEFAULT_PAGER_USAGE}\n`);
    return 0;
  }
  let args: DefaultPagerArgs;
  try {
    args = parseDefaultPagerArgs(argv);
  } catch (e) {
    process.stderr.write(`default-pager: ${(e as Error).message}\n${DEFAULT_PAGER_USAGE}\n`);
    return 2;
  }
  const log = (line: string): void => { if (args.verbose) process.stderr.write(`default-pager: ${line}\n`); };
  const path = args.swap ?? join(tmpdir(), `tsmach-swap-${process.pid}`);
  const swap = new SwapFile({ path, pages: args.pages, removeOnClose: args.swap === null });
  let task;
  try {
    task = await connect({ name: process.env.TSMACH_TASK_NAME ?? 'default-pager', onKernelLost: (reason) => {
      log(reason);
      swap.close();
      process.exit(0);
    } });
  } catch (e) {
    swap.close();
    process.stderr.write(`default-pager: ${(e as Error).message}\n`);
    return 1;
  }
  // Booted as `tsmach boot -- .../default-pager/main.ts`, the task is named after the
  // file: it takes its own name (gnumach's task_set_name), as `tsmach ps` shows it.
  if (task.info.name === 'main') await task_set_name(task.self, 'default-pager').catch(() => undefined);
  let pager: DefaultPager;
  try {
    pager = await DefaultPager.start(task, swap, { log });
  } catch (e) {
    swap.close();
    task.terminate();
    process.stderr.write(`default-pager: ${(e as Error).message}\n`);
    return 1;
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, task: task.info.id, swap: path, pages: args.pages })}\n`);
  } else {
    process.stderr.write(`default-pager: task ${task.info.id}, swap ${path} (${args.pages} pages of ${PAGE_SIZE} bytes)\n`);
  }
  return new Promise<number>((done) => {
    const stop = (signal: string): void => {
      log(`${signal}: stopping; ${JSON.stringify(pager.stats)}`);
      pager.halt();
      swap.close();
      task.terminate();
      done(0);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

process.exitCode = await main(process.argv.slice(2));
