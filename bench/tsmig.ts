/**
 * bench/tsmig.ts — tsmig against the real GNU MIG on every gnumach-dev interface.
 *
 *   npx tsx bench/tsmig.ts [--runs N]
 *
 * tsmig: ONE process (the built CLI, `node bin/tsmig.js gen`, as users run it) compiles
 * all the files and writes their TypeScript. MIG: one `x86_64-gnu-mig` per file, run one
 * after the other, as a build does. Both get the same files and flags. Wall times are the
 * median of N runs; the ratio is MIG's time over tsmig's (above 1: tsmig is faster).
 * Then, in-process, where tsmig's time goes (module loading, preprocessing, parsing and
 * the MIG model, emitting TypeScript).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INCLUDE = '/usr/include/x86_64-linux-gnu';
const FLAGS = ['-D__x86_64__=1', '-D__LP64__=1', `-I${INCLUDE}`];
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (!existsSync(join(INCLUDE, 'mach', 'mach.defs'))) throw new Error('gnumach-dev is not installed');
// The interfaces: every .defs with a subsystem (type-only files are included by them).
const all = ['mach', 'device', 'mach_debug', 'mach/x86_64'].flatMap((d) =>
  readdirSync(join(INCLUDE, d)).filter((f) => f.endsWith('.defs')).map((f) => join(INCLUDE, d, f)));
const files = all.filter((f) => /^\s*subsystem\b/im.test(execFileSync('cat', [f], { encoding: 'utf8' })));

// The built CLI, as `npm install` leaves it (npm run build).
if (!existsSync(join(ROOT, 'dist', 'codegen', 'cli.js'))) {
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}

const out = mkdtempSync(join(tmpdir(), 'tsmig-bench-'));
const time = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const tsmigTimes: number[] = [];
const migTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  tsmigTimes.push(time(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tsmig.js'), 'gen', '-q', ...FLAGS, '--out', join(out, 'ts'), ...files], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsmig failed: ${r.stderr}`);
  }));
  migTimes.push(time(() => {
    for (const f of files) {
      const r = spawnSync('x86_64-gnu-mig', ['-n', '-user', join(out, 'u.c'), '-server', join(out, 's.c'), '-header', join(out, 'h.h'), ...FLAGS, f], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mig failed on ${f}: ${r.stderr}`);
    }
  }));
}
rmSync(out, { recursive: true, force: true });

const tsmig = median(tsmigTimes);
const mig = median(migTimes);
console.log(`tsmig vs GNU MIG on ${files.length} gnumach-dev interfaces (median of ${runs} runs, node ${process.version})`);
console.log(`  tsmig, one process, C-like preprocessing + model + TypeScript: ${tsmig.toFixed(0)} ms`);
console.log(`  GNU MIG, one x86_64-gnu-mig per file (cpp + migcom):         ${mig.toFixed(0)} ms`);
console.log(`  ratio MIG/tsmig: ${(mig / tsmig).toFixed(2)} (${mig >= tsmig ? 'tsmig is faster' : 'tsmig is slower'})`);

// Where tsmig's time goes, in this process (cold module loads first).
const t0 = performance.now();
const { preprocess } = await import('../codegen/cpp.js');
const { compilePreprocessed } = await import('../codegen/compile.js');
const { emitModule } = await import('../codegen/emit/index.js');
const tLoadCodegen = performance.now() - t0;
const t1 = performance.now();
await import('ts-morph');
const tLoadMorph = performance.now() - t1;
let tCpp = 0;
let tModel = 0;
let tEmit = 0;
for (let pass = 0; pass < 2; pass++) {
  if (pass === 1) { tCpp = 0; tModel = 0; tEmit = 0; }
  for (const f of files) {
    let a = performance.now();
    const cpp = preprocess(f, { includeDirs: [INCLUDE], defines: [['__x86_64__', '1'], ['__LP64__', '1']] });
    tCpp += performance.now() - a;
    a = performance.now();
    const mod = compilePreprocessed(f, cpp.text, cpp.locate, cpp.files);
    tModel += performance.now() - a;
    a = performance.now();
    await emitModule(mod, { sourceName: f, runtimeImport: '../mach' });
    tEmit += performance.now() - a;
  }
}
console.log(`  tsmig in-process profile (warm second pass over all files): preprocess ${tCpp.toFixed(1)} ms, parse+model ${tModel.toFixed(1)} ms, emit ${tEmit.toFixed(1)} ms`);
console.log(`  module loading (cold): codegen (tsx) ${tLoadCodegen.toFixed(0)} ms, ts-morph + TypeScript ${tLoadMorph.toFixed(0)} ms`);
