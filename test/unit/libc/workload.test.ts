import { describe, expect, it } from 'vitest';
import { BRK_START_I386, DATA_SIZE } from '../../../src/libc/hurd.js';
import { Malloc } from '../../../src/libc/malloc.js';
import type { VmCall } from '../../../src/libc/vm_ops.js';
import { TracingVmOps } from '../../../src/libc/vm_ops.js';
import { VmMapOps } from '../../../src/libc/vm_ops_map.js';
import { mulberry32, runServerWorkload } from '../../../src/libc/workload.js';
import type { VmLevel } from '../../../src/vm/level.js';
import { VM_LEVELS } from '../../../src/vm/level.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { vminfo } from '../../../src/vm/vminfo.js';
import { MiB, expectBlocksMapped, rwEntries } from './helpers.js';

const STEPS = 20000;

/** The RW slices mprotect'ed in the heap at h since the heap was (last) mapped: its initial slice and its grow_heap calls. */
function heapSlices(calls: VmCall[], h: number): number {
  let n = 0;
  for (let i = calls.length - 1; i >= 0; i--) {
    const c = calls[i]!;
    if (c.op === 'vm_map' && c.kr === 0 && c.result <= h && c.result + c.size > h) break;
    if (c.op === 'vm_protect' && c.address >= h && c.address < h + MiB && c.prot === 3) n++;
  }
  return n;
}

async function run(level: VmLevel, seed = 1, steps = STEPS) {
  const map = vm_map_create({ level });
  const ops = new TracingVmOps(new VmMapOps(map));
  const m = await Malloc.create(ops);
  let peak = 0;
  const result = await runServerWorkload(m, ops, {
    seed,
    steps,
    onStep: () => {
      if (map.nentries > peak) peak = map.nentries;
    },
  });
  return { map, ops, m, result, peak };
}

describe('mulberry32', () => {
  it('is deterministic and in [0, 1)', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    for (let i = 0; i < 100; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('server workload: the VM map at L0, L1 and L2', () => {
  it('arena growth leaves one RW entry per grow_heap at L0/L1 and one per heap at L2; L0 ends with far more entries', async () => {
    const counts: Record<string, { entries: number; peak: number; heaps: number; slices: number; brkPieces: number }> = {};
    for (const level of VM_LEVELS) {
      const { map, ops, m, result, peak } = await run(level);
      m.check();
      vm_map_check(map);
      expectBlocksMapped(map, m);
      expect(result.failures).toBe(0);
      expect(result.liveBlocks).toBeGreaterThan(5000);
      expect(result.threadsExited).toBeGreaterThan(10);
      expect(result.largeBlocks).toBeGreaterThan(0);
      expect(result.oolBuffers).toBeGreaterThan(1000);

      const heaps = m.arenas().flatMap((a) => a.heaps);
      expect(heaps.length).toBeGreaterThanOrEqual(2);
      let slices = 0;
      for (const h of heaps) {
        const n = heapSlices(ops.calls, h.address);
        slices += n;
        expect(n).toBeGreaterThan(1);
        expect(rwEntries(map, h.address, h.address + MiB)).toBe(level === 'L2' ? 1 : n);
      }
      const brkPieces = rwEntries(map, BRK_START_I386, BRK_START_I386 + DATA_SIZE);
      if (level === 'L2') expect(brkPieces).toBe(1);
      counts[level] = { entries: map.nentries, peak, heaps: heaps.length, slices, brkPieces };
    }
    console.log(
      `server workload, ${STEPS} requests (entries at the end, peak, heaps, RW slices opened in live heaps, brk RWX pieces):\n` +
        VM_LEVELS.map((l) => `  ${l}: ${JSON.stringify(counts[l])}`).join('\n'),
    );
    // The same calls at every level (the allocator does not see the level) ...
    expect(counts.L0!.slices).toBe(counts.L2!.slices);
    // ... but L0 keeps every slice apart, L2 glues them.
    expect(counts.L0!.entries).toBeGreaterThan(10 * counts.L2!.entries);
    expect(counts.L1!.entries).toBeGreaterThan(10 * counts.L2!.entries);
    expect(counts.L1!.entries).toBeLessThanOrEqual(counts.L0!.entries);
    expect(counts.L2!.entries).toBeLessThan(20);
  }, 60_000);

  it('is deterministic: the same seed gives the same map', async () => {
    const a = await run('L0', 7, 3000);
    const b = await run('L0', 7, 3000);
    expect(vminfo(b.map)).toEqual(vminfo(a.map));
    expect(b.result).toEqual(a.result);
    const c = await run('L0', 8, 3000);
    expect(vminfo(c.map)).not.toEqual(vminfo(a.map));
  }, 60_000);

  it('without out-of-line buffers or caches, most of the map goes away', async () => {
    const map = vm_map_create({ level: 'L2' });
    const ops = new TracingVmOps(new VmMapOps(map));
    const m = await Malloc.create(ops);
    const r = await runServerWorkload(m, ops, { steps: 2000, cacheRate: 0, oolBuffers: false, largeRate: 0.05 });
    expect(r.oolBuffers).toBe(0);
    expect(r.liveBlocks).toBe(0);
    expect(m.blocks()).toEqual([]);
    expect(m.mallinfo().hblks).toBe(0);
    m.check();
  });
});
