/*
 * Replays every scenario of scenarios.ts at L0, L1 and L2 and compares return codes,
 * addresses, the entry list, and (when given) first_free, reference counts and resident
 * pages with what the table says GNU Mach does. The map's structures are checked for
 * consistency after every call.
 */

import { describe, expect, it } from 'vitest';
import { VM_LEVELS } from '../../../src/vm/level.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import type { VmScriptResult } from '../../../src/vm/script.js';
import { VmScriptRun } from '../../../src/vm/script.js';
import { VM_SCENARIOS } from './scenarios.js';

function normalise(result: number | VmScriptResult): VmScriptResult {
  return typeof result === 'number' ? { kr: result } : result;
}

describe('VM scenario table', () => {
  it('has at least 60 uniquely named scenarios, each with one result per operation at every level', () => {
    expect(VM_SCENARIOS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(VM_SCENARIOS.map((s) => s.name)).size).toBe(VM_SCENARIOS.length);
    for (const s of VM_SCENARIOS) {
      for (const level of VM_LEVELS) expect(s.expect[level].results, `${s.name} @ ${level}`).toHaveLength(s.ops.length);
    }
  });

  it('tells the levels apart: L0 and L2 differ in many scenarios, L1 in some', () => {
    const differ = (a: 'L0' | 'L1' | 'L2', b: 'L0' | 'L1' | 'L2'): number =>
      VM_SCENARIOS.filter((s) => JSON.stringify(s.expect[a]) !== JSON.stringify(s.expect[b])).length;
    expect(differ('L0', 'L2')).toBeGreaterThanOrEqual(30);
    expect(differ('L0', 'L1')).toBeGreaterThanOrEqual(10);
    expect(differ('L1', 'L2')).toBeGreaterThanOrEqual(15);
  });
});

for (const scenario of VM_SCENARIOS) {
  describe(scenario.name, () => {
    for (const level of VM_LEVELS) {
      it(level, () => {
        const expected = scenario.expect[level];
        const run = new VmScriptRun(level, scenario.map, scenario.objects);
        for (const op of scenario.ops) {
          run.step(op);
          for (const map of run.maps.values()) vm_map_check(map);
        }
        expect(run.results, `results (${scenario.spec})`).toEqual(expected.results.map(normalise));
        const snap = run.snapshot();
        expect(snap.entries, `entries (${scenario.spec})`).toEqual(expected.entries);
        for (const [name, rows] of Object.entries(expected.tasks ?? {})) expect(snap.tasks[name], `entries of task ${name}`).toEqual(rows);
        expect(Object.keys(snap.tasks).sort(), 'tasks').toEqual(Object.keys(expected.tasks ?? {}).sort());
        if (expected.first_free !== undefined) expect(snap.first_free, 'first_free').toEqual(expected.first_free);
        for (const [name, refs] of Object.entries(expected.refs ?? {})) expect(snap.refs[name], `ref_count of ${name}`).toBe(refs);
        for (const [name, pages] of Object.entries(expected.resident ?? {})) expect(snap.resident[name], `resident pages of ${name}`).toEqual(pages);
      });
    }
  });
}
