/*
 * File: servers/default-pager/args.ts
 * Purpose: the default pager's command line (main.ts): --swap FILE, --swap-size N[K|M|G],
 *          --json, --verbose.
 */

import { resolve } from 'node:path';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import { ArgvOptions } from '../../tools/argv.js';

export const DEFAULT_PAGER_USAGE = 'usage: default-pager [--swap FILE] [--swap-size N[K|M|G]] [--json] [--verbose]';

export interface DefaultPagerArgs {
  /** the swap file, or null for a temporary one */
  swap: string | null;
  /** its size in pages */
  pages: number;
  json: boolean;
  verbose: boolean;
}

/** A size in bytes: a number with an optional K, M or G suffix (powers of 1024). */
export function parseSize(s: string): number {
  const m = /^(\d+)([kmg]?)(i?b)?$/i.exec(s.trim());
  if (m === null) throw new Error(`bad size ${s}: a number of bytes with an optional K, M or G suffix`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`bad size ${s}`);
  return n;
}

export function parseDefaultPagerArgs(argv: string[]): DefaultPagerArgs {
  const a: DefaultPagerArgs = { swap: null, pages: (64 << 20) / PAGE_SIZE, json: false, verbose: false };
  const options = new ArgvOptions(argv);
  for (const arg of options) {
    const value = (): string => options.value(arg);
    switch (arg) {
      case '--swap': a.swap = resolve(value()); break;
      case '--swap-size': a.pages = Math.ceil(parseSize(value()) / PAGE_SIZE); break;
      case '--json': a.json = true; break;
      case '--verbose': case '-v': a.verbose = true; break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  return a;
}
