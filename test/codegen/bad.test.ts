/**
 * Bad input: every fixture in test/codegen/bad/ must be rejected with the error its first
 * line announces (`expect: [FILE:]LINE:COL: MESSAGE`), reported as FILE:LINE:COL; the CLI
 * exits 1 and writes nothing, not even part of a file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CompileErrors } from '../../codegen/diagnostic.js';
import { compileFile } from '../../codegen/tsmig.js';

const BAD = fileURLToPath(new URL('./bad/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = readdirSync(BAD).filter((f) => f.endsWith('.defs')).sort();

function expected(file: string): string {
  const m = /expect: (.*?) \*\//.exec(readFileSync(join(BAD, file), 'utf8'));
  if (!m) throw new Error(`${file}: no expect: line`);
  const exp = m[1]!;
  // "LINE:COL: MESSAGE" (in the fixture itself) or "PATH:LINE:COL: MESSAGE" (in an included file)
  const at = /^((?:[^:]+:)?\d+:\d+): (.*)$/.exec(exp)!;
  const where = /^\d+:\d+$/.test(at[1]!) ? `${join(BAD, file)}:${at[1]}` : join(BAD, at[1]!);
  return `${where}: error: ${at[2]}`;
}

describe('bad .defs fixtures', () => {
  it('there are at least 25 of them', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of fixtures) {
    it(`${file} is rejected at the announced position`, () => {
      let errors: string[] = [];
      try {
        compileFile(join(BAD, file));
      } catch (e) {
        if (!(e instanceof CompileErrors)) throw e;
        errors = e.errors.map((x) => x.message);
      }
      expect(errors.length, `${file} must not compile`).toBeGreaterThan(0);
      expect(errors).toContain(expected(file));
    });
  }
});

describe('tsmig CLI on bad input', () => {
  it('prints FILE:LINE:COL: error: ..., exits 1 and writes no output file', () => {
    const out = mkdtempSync(join(tmpdir(), 'tsmig-bad-'));
    try {
      const good = join(ROOT, 'defs', 'notify.defs');
      const bad = join(BAD, 'undefined_type.defs');
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'codegen', 'cli.ts'), 'gen', '-I', join(ROOT, 'defs'), '--out', out, good, bad], { encoding: 'utf8', cwd: ROOT });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${bad}:4:30: error: type 'vm_thing_t' not defined`);
      expect(readdirSync(out)).toEqual([]); // not even notify's files: nothing unless everything compiles
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('bad usage exits 2 with the usage text', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'codegen', 'cli.ts'), 'layout'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: tsmig layout');
  });

  it('layout prints JSON for a good file', () => {
    const json = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'codegen', 'cli.ts'), 'layout', '-I', join(ROOT, 'defs'), join(ROOT, 'defs', 'mach.defs')], { encoding: 'utf8', cwd: ROOT });
    const layout = JSON.parse(json) as { subsystem: { name: string; base: number }; routines: Array<{ name: string; request: { id: number } }> };
    expect(layout.subsystem).toEqual({ name: 'mach', base: 2000 });
    expect(layout.routines.find((r) => r.name === 'vm_allocate')!.request.id).toBe(2021);
    expect(existsSync(ROOT)).toBe(true);
  });
});
