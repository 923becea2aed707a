/*
 * File: tools/boot.ts
 * Purpose: `tsmach boot`: the kernel and its boot servers as child processes (kern/boot.ts),
 *          stopped cleanly on Ctrl-C or SIGTERM.
 *
 *   tsmach boot [--vm-level L] [--listen HOST:PORT] [--connection-file PATH] [--token-file PATH]
 *               [--script FILE] [-- MODULE ARGS... [; MODULE ARGS...]...]
 */

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Boot, parseBootScript, parseModuleArgs, type BootModule } from '../kern/boot.js';
import { ArgvOptions } from './argv.js';

export const BOOT_USAGE = `usage: tsmach boot [--vm-level L0|L1|L2] [--memory-pages N] [--pager-timeout MS] [--no-privileged-tools]
                   [--disk IMAGE [--disk-name N] [--disk-writable] [--disk-format F]]
                   [--listen HOST:PORT] [--connection-file PATH]
                   [--token-file PATH] [--script FILE] [-- MODULE ARGS... [\\; MODULE ARGS...]...]`;

/** Runs a boot until SIGINT/SIGTERM (or the kernel dies). Returns the exit status. */
export async function bootCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`${BOOT_USAGE}\n`);
    return 0;
  }
  const kernelArgs: string[] = [];
  const modules: BootModule[] = [];
  try {
    const options = new ArgvOptions(argv);
    for (const arg of options) {
      if (arg === '--') break;
      const value = (): string => options.value(arg);
      switch (arg) {
        case '--vm-level': case '--listen': case '--connection-file': case '--token-file':
        case '--disk': case '--disk-name': case '--disk-format': case '--memory-pages': case '--pager-timeout':
          kernelArgs.push(arg, value());
          break;
        case '--disk-writable': case '--no-privileged-tools':
          kernelArgs.push(arg);
          break;
        case '--script': {
          const file = resolve(value());
          modules.push(...parseBootScript(readFileSync(file, 'utf8'), dirname(file)));
          break;
        }
        default:
          throw new Error(`unknown option ${arg}`);
      }
    }
    modules.push(...parseModuleArgs(options.rest()));
  } catch (e) {
    process.stderr.write(`tsmach boot: ${(e as Error).message}\n${BOOT_USAGE}\n`);
    return 2;
  }
  const report = (line: string): void => { process.stderr.write(`${line}\n`); };
  let boot: Boot;
  try {
    boot = await Boot.start({
      tsmach: { command: process.execPath, args: [...process.execArgv, process.argv[1]!] },
      kernelArgs, modules, report,
    });
  } catch (e) {
    report(`tsmach boot: ${(e as Error).message}`);
    return 1;
  }
  const stop = (signal: string): void => {
    report(`tsmach boot: ${signal}: stopping`);
    void boot.stop(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  return boot.done;
}
