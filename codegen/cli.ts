/*
 * File: codegen/cli.ts
 * Purpose: the `tsmig` command.
 *
 *   tsmig layout [-I DIR]... [-D NAME[=VALUE]]... [-U NAME]... FILE.defs
 *       print the message layout as JSON (ids, header bits, descriptors, offsets, sizes)
 *   tsmig gen [-I DIR]... [-D ...]... [-U ...]... [--runtime-import SPEC] --out DIR FILE.defs...
 *       write DIR/X.user.ts, DIR/X.server.ts and DIR/X.msgids.json for each FILE (X = its
 *       base name); nothing is written unless every file compiles
 *
 * Errors go to stderr as FILE:LINE:COL: error: MESSAGE, exit status 1 (2 for bad usage).
 * Warnings are printed too unless -q is given.
 */

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseDefineArg } from './cpp.js';
import { CompileErrors, formatDiagnostic } from './diagnostic.js';
import { emitModule } from './emit/index.js';
import { moduleLayout } from './layout.js';
import { compileFile, type CompileOptions } from './tsmig.js';

const USAGE = `usage: tsmig layout [-I DIR]... [-D NAME[=VALUE]]... [-U NAME]... FILE.defs
       tsmig gen [-I DIR]... [-D NAME[=VALUE]]... [-U NAME]... [-q] [--runtime-import SPEC] --out DIR FILE.defs...`;

interface Args {
  command: string;
  files: string[];
  cpp: CompileOptions;
  out: string | null;
  runtimeImport: string | null;
  quiet: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command');
  const a: Args = { command, files: [], cpp: { includeDirs: [], defines: [], undefs: [] }, out: null, runtimeImport: null, quiet: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = (flag: string): string => {
      if (arg.length > flag.length) return arg.slice(flag.length);
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (arg.startsWith('-I')) a.cpp.includeDirs!.push(value('-I'));
    else if (arg.startsWith('-D')) a.cpp.defines!.push(parseDefineArg(value('-D')));
    else if (arg.startsWith('-U')) a.cpp.undefs!.push(value('-U'));
    else if (arg === '--out' || arg === '-o') a.out = value(arg);
    else if (arg === '--runtime-import') a.runtimeImport = value(arg);
    else if (arg === '-q') a.quiet = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else a.files.push(arg);
  }
  return a;
}

/** The tsmach runtime directory (src/mach), whose modules generated code imports. */
function runtimeDir(): string {
  // codegen/cli.ts → ../src/mach ; dist/codegen/cli.js → ../src/mach (dist/src/mach)
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'mach');
}

function importSpecifier(fromDir: string, toDir: string): string {
  let rel = relative(fromDir, toDir).split(sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/** Write a file atomically: a temporary name, then rename, so no reader sees half a file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function main(argv: string[]): Promise<number> {
  useCompileCache();
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tsmig: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (args.command === '--help' || args.command === '-h' || args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.command !== 'layout' && args.command !== 'gen') {
    process.stderr.write(`tsmig: unknown command ${args.command}\n${USAGE}\n`);
    return 2;
  }
  if (args.files.length === 0 || (args.command === 'layout' && args.files.length !== 1)) {
    process.stderr.write(`tsmig: ${args.command === 'layout' ? 'one .defs file expected' : 'no .defs file given'}\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'gen' && args.out === null) {
    process.stderr.write(`tsmig: gen needs --out DIR\n${USAGE}\n`);
    return 2;
  }

  try {
    if (args.command === 'layout') {
      const mod = compileFile(args.files[0]!, args.cpp);
      printWarnings(mod.warnings, args.quiet);
      process.stdout.write(`${JSON.stringify(moduleLayout(mod), null, 2)}\n`);
      return 0;
    }
    // gen: compile everything first; write only if all of it compiled.
    const out = resolve(args.out!);
    const runtimeImport = args.runtimeImport ?? importSpecifier(out, runtimeDir());
    const outputs: Array<[string, string]> = [];
    const failures: CompileErrors[] = [];
    for (const file of args.files) {
      try {
        const mod = compileFile(file, args.cpp);
        printWarnings(mod.warnings, args.quiet);
        const x = basename(file).replace(/\.defs$/, '');
        const sourceName = relative(process.cwd(), resolve(file)).split(sep).join('/');
        const emitted = await emitModule(mod, { sourceName, runtimeImport });
        outputs.push([join(out, `${x}.user.ts`), emitted.user], [join(out, `${x}.server.ts`), emitted.server], [join(out, `${x}.msgids.json`), emitted.msgids]);
      } catch (e) {
        if (e instanceof CompileErrors) failures.push(e);
        else throw e;
      }
    }
    if (failures.length > 0) {
      for (const f of failures) for (const e of f.errors) process.stderr.write(`${e.message}\n`);
      return 1;
    }
    mkdirSync(out, { recursive: true });
    for (const [path, text] of outputs) writeAtomic(path, text);
    return 0;
  } catch (e) {
    if (e instanceof CompileErrors) {
      for (const err of e.errors) process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw e;
  }
}

/**
 * Keep V8's compiled code of CommonJS modules between runs (v8-compile-cache): TypeScript,
 * which ts-morph loads, is 9 MB of JavaScript, and compiling it is most of a cold start.
 */
function useCompileCache(): void {
  try {
    createRequire(import.meta.url)('v8-compile-cache');
  } catch {
    // optional: without it tsmig only starts slower
  }
}

function printWarnings(warnings: import('./diagnostic.js').Diagnostic[], quiet: boolean): void {
  if (quiet) return;
  for (const w of warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
}

// Run when executed directly (tsx codegen/cli.ts ...).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`tsmig: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  });
}
