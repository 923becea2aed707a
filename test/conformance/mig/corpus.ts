/**
 * The `.defs` corpus the GNU MIG conformance suite runs: every interface definition file
 * that Debian's gnumach-dev installs (mach/, mach/x86_64/, device/, mach_debug/) and every
 * Hurd `.defs` in the shared test-data folder (GPL data: read in place, never copied into
 * the repository), each with the build variants it actually tests.
 *
 * Variants: "default" (`-D__x86_64__=1 -D__LP64__=1`) always; then KERNEL_SERVER,
 * KERNEL_USER, SEQNOS, REPLY_PORTS, SERVERCOPY (each `=1`) and `SERVERPREFIX=S_` for a
 * file when that macro is tested by a `#if`/`#ifdef`/`#ifndef`/`#elif` line of the file
 * or of anything it `#include`s (transitively, resolved like cpp does with the entry's
 * include directories). Type-only files are listed too: MIG rejects them, which the suite
 * reports as an expected outcome.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_DEFINES } from './oracle.js';

/** Where Debian's gnumach-dev puts GNU Mach's `.defs` (the include root of the x86_64 target). */
export const GNUMACH_INCLUDE = '/usr/include/x86_64-linux-gnu';

/** Root of the shared Hurd `.defs` test data (before GNUMACH_INCLUDE: its bits/utsname.h wins). */
export const HURD_DEFS = process.env.TSMACH_HURD_DEFS ?? '/work/shared/hurd-defs';

/** One build variant of a corpus file: a name and the complete `-D` list for it. */
export interface CorpusVariant {
  name: string;
  defines: Array<[string, string]>;
}

/** One corpus file with its include path and variants. */
export interface CorpusEntry {
  file: string;
  includeDirs: string[];
  variants: CorpusVariant[];
}

/** The variant macros the suite knows, in this order, with the value each is defined to. */
export const VARIANT_MACROS: ReadonlyArray<{ macro: string; value: string; name: string }> = [
  { macro: 'KERNEL_SERVER', value: '1', name: 'KERNEL_SERVER' },
  { macro: 'KERNEL_USER', value: '1', name: 'KERNEL_USER' },
  { macro: 'SEQNOS', value: '1', name: 'SEQNOS' },
  { macro: 'REPLY_PORTS', value: '1', name: 'REPLY_PORTS' },
  { macro: 'SERVERCOPY', value: '1', name: 'SERVERCOPY' },
  { macro: 'SERVERPREFIX', value: 'S_', name: 'SERVERPREFIX=S_' },
];

/** `*.defs` below `dir`, sorted; symlinked directories (mach/machine → x86_64) are not followed. */
function defsUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...defsUnder(p));
    else if (e.isFile() && e.name.endsWith('.defs')) out.push(p);
  }
  return out.sort();
}

/** Identifiers tested by conditional directives in `file` and everything it includes. */
export function conditionalMacros(file: string, includeDirs: string[]): Set<string> {
  const macros = new Set<string>();
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const text = readFileSync(path, 'utf8');
    for (const line of text.split('\n')) {
      const cond = line.match(/^\s*#\s*(?:if|ifdef|ifndef|elif)\b(.*)$/);
      if (cond) {
        const expr = cond[1]!.replace(/\/\*.*?(\*\/|$)/g, ' ');
        for (const id of expr.match(/[A-Za-z_]\w*/g) ?? []) if (id !== 'defined') macros.add(id);
        continue;
      }
      const inc = line.match(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/);
      if (inc) {
        const dirs = inc[1] === '"' ? [dirname(path), ...includeDirs] : includeDirs;
        const found = dirs.map((d) => join(d, inc[2]!)).find((p) => existsSync(p));
        if (found) visit(found);
      }
    }
  };
  visit(file);
  return macros;
}

function entry(file: string, includeDirs: string[]): CorpusEntry {
  const tested = conditionalMacros(file, includeDirs);
  const variants: CorpusVariant[] = [{ name: 'default', defines: [...DEFAULT_DEFINES] }];
  for (const v of VARIANT_MACROS) {
    if (tested.has(v.macro)) variants.push({ name: v.name, defines: [...DEFAULT_DEFINES, [v.macro, v.value]] });
  }
  return { file, includeDirs, variants };
}

/**
 * Every gnumach-dev `.defs` and every Hurd `.defs`, sorted by path within each group, with
 * the default variant plus the variants the file (or what it includes) tests.
 */
export function corpus(): CorpusEntry[] {
  const gnumachDirs = [GNUMACH_INCLUDE];
  const hurdDirs = [HURD_DEFS, GNUMACH_INCLUDE];
  return [
    ...['mach', 'device', 'mach_debug'].flatMap((d) => defsUnder(join(GNUMACH_INCLUDE, d))).map((f) => entry(f, gnumachDirs)),
    ...defsUnder(HURD_DEFS).map((f) => entry(f, hurdDirs)),
  ];
}
