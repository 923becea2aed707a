/*
 * The scenario table through `tsmach vmsim`: each scenario becomes a vmsim script
 * (vm_scenario_script), which runs on an embedded kernel through the generated stubs,
 * with pager-backed objects served by vmsim; its output must be what the in-process
 * replay of the same scenario gives (return codes, anywhere and receive addresses,
 * vm_region results, and vminfo's lines for every task), at L0, L1 and L2.
 * The same scripts also go through the real command line, all of a level in one process.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { vmsim_lines } from '../../../src/tools/vmsim.js';
import { VM_LEVELS, type VmLevel } from '../../../src/vm/level.js';
import { VmScriptRun, vm_scenario_script, vm_scenario_vmsim_output } from '../../../src/vm/script.js';
import type { VmScenario } from '../../../src/vm/script.js';
import { VM_SCENARIOS } from './scenarios.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function expected(scenario: VmScenario, level: VmLevel): string[] {
  const run = new VmScriptRun(level, scenario.map, scenario.objects);
  for (const op of scenario.ops) run.step(op);
  return vm_scenario_vmsim_output(scenario, level, run);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const code = "const { main } = await import('./src/tools/cli.ts'); process.exitCode = await main(process.argv.slice(1));";
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], { cwd: ROOT, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number) ?? 1, stdout, stderr }));
  });
}

describe('the scenario table through vmsim (in this process)', () => {
  for (const level of VM_LEVELS) {
    describe(level, () => {
      for (const scenario of VM_SCENARIOS) {
        it(scenario.name, async () => {
          const script = vm_scenario_script(scenario, level);
          const r = await vmsim_lines(script, 'scenario.vms');
          expect(r.err).toEqual([]);
          expect(r.status).toBe(0);
          expect(r.out, script).toEqual(expected(scenario, level));
        });
      }
    });
  }
});

describe('the scenario table through the tsmach command line', () => {
  for (const level of VM_LEVELS) {
    it(`tsmach vmsim runs every scenario at ${level} and prints what the in-process replay gives`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vmsim-'));
      try {
        const files = VM_SCENARIOS.map((s, i) => {
          const file = join(dir, `${String(i).padStart(3, '0')}.vms`);
          writeFileSync(file, vm_scenario_script(s, level));
          return file;
        });
        const r = await cli(['vmsim', ...files]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const want = VM_SCENARIOS.flatMap((s, i) => [`==> ${files[i]} <==`, ...expected(s, level)]);
        expect(r.stdout.split('\n').slice(0, -1)).toEqual(want);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('reads standard input; a bad line is file:line: error: ..., exit status 2, nothing run', async () => {
    const ok = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const code = "const { main } = await import('./src/tools/cli.ts'); process.exitCode = await main(process.argv.slice(1));";
      const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, 'vmsim'], { cwd: ROOT },
        (error, stdout) => resolve({ code: error === null ? 0 : (error.code as number), stdout }));
      child.stdin!.end('level L0\nallocate * 0x2000   # a comment\nallocate 0x10000 4096\nvminfo\n');
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('allocate * 0x2000 -> KERN_SUCCESS 0x0\nallocate 0x10000 4096 -> KERN_SUCCESS\n         0[0x2000] (prot=RW, max_prot=RWX)\n   0x10000[0x1000] (prot=RW, max_prot=RWX)\n');
    const dir = mkdtempSync(join(tmpdir(), 'vmsim-'));
    try {
      const file = join(dir, 'bad.vms');
      writeFileSync(file, 'allocate * 0x1000\nlevel L1\nprotect 0x0 0x1000 Q\nfrobnicate\n');
      const bad = await cli(['vmsim', file]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr.split('\n').slice(0, -1)).toEqual([
        `${file}:2: error: level must be the first line`,
        `${file}:3: error: bad protection 'Q' (R, W, X letters, 0, or a number)`,
        `${file}:4: error: unknown operation 'frobnicate'`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
