import { describe, expect, it } from 'vitest';
import { HEAP_MAX_SIZE, MINSIZE, request2size } from '../../../src/libc/chunk.js';
import { BRK_START_I386, DATA_SIZE } from '../../../src/libc/hurd.js';
import { M_ARENA_MAX, M_MMAP_THRESHOLD, M_TOP_PAD, M_TRIM_THRESHOLD, Malloc } from '../../../src/libc/malloc.js';
import { TracingVmOps } from '../../../src/libc/vm_ops.js';
import { VmMapOps } from '../../../src/libc/vm_ops_map.js';
import { mulberry32 } from '../../../src/libc/workload.js';
import { KERN_NO_SPACE } from '../../../src/mach/kern_return.js';
import { VM_LEVELS } from '../../../src/vm/level.js';
import { vm_map_check } from '../../../src/vm/map_check.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { MiB, P, expectBlocksMapped, rpcs, rwEntries, setup } from './helpers.js';

const B = BRK_START_I386;
const RW = 3;
const RWX = 7;

describe('Malloc: VM call sequences', () => {
  it('create: init_brk reserves the data segment', async () => {
    const map = vm_map_create({ level: 'L0' });
    const ops = new TracingVmOps(new VmMapOps(map));
    const m = await Malloc.create(ops);
    expect(ops.take()).toEqual([{ op: 'vm_map', address: B, size: DATA_SIZE, anywhere: false, cur: 0, max: RWX, inherit: 1, kr: 0, result: B }]);
    expect(m.hurd.brk).toBe(B);
  });

  it('first malloc in the main arena: sbrk of nb + top pad + MINSIZE, then a one-page alignment correction', async () => {
    const { ops, m, map } = await setup('L0');
    const p = await m.malloc(100);
    // tcache_init took 400 bytes at the start of the break, the block follows.
    expect(p).toBe(B + 8 + 400 + 8);
    expect(rpcs(ops.take())).toEqual([
      { op: 'vm_protect', address: B, size: 0x21000, setMax: false, prot: RWX, kr: 0 },
      { op: 'vm_protect', address: B + 0x21000, size: P, setMax: false, prot: RWX, kr: 0 },
    ]);
    expect(m.hurd.brk).toBe(B + 0x22000);
    expect(await m.malloc(1000)).toBe(p + request2size(100));
    expect(ops.take()).toEqual([]);
    // Two brk pieces and the rest of the reservation at L0.
    expect(map.nentries).toBe(3);
    m.check();
  });

  it('without tcache the first block sits at the start of the break, 16-byte aligned', async () => {
    const { ops, m } = await setup('L0', { tcache: false });
    expect(await m.malloc(1)).toBe(B + 16);
    expect(rpcs(ops.take()).map((c) => [c.op, c.address, c.size])).toEqual([
      ['vm_protect', B, 0x21000],
      ['vm_protect', B + 0x21000, P],
    ]);
  });

  it('main arena growth: one vm_protect per sbrk, one more entry each at L0, none at L2', async () => {
    for (const level of VM_LEVELS) {
      const { ops, m, map } = await setup(level, { tcache: false });
      const held: number[] = [];
      for (let i = 0; i < 20; i++) held.push(await m.malloc(100_000));
      const calls = rpcs(ops.take());
      expect(calls.every((c) => c.op === 'vm_protect' && c.prot === RWX)).toBe(true);
      const brkEntries = map.entries().filter((e) => e.vme_start >= B && e.vme_end <= B + DATA_SIZE && e.protection === RWX).length;
      expect(brkEntries).toBe(level === 'L2' ? 1 : calls.length);
      expectBlocksMapped(map, m);
      m.check();
    }
  });

  it('trim: freeing into a top past M_TRIM_THRESHOLD gives all but M_TOP_PAD back (vm_deallocate + vm_map NONE)', async () => {
    const { ops, m } = await setup('L0', { tcache: false });
    const blocks: number[] = [];
    for (let i = 0; i < 4; i++) blocks.push(await m.malloc(100_000));
    ops.take();
    // A small free does nothing.
    await m.free(await m.malloc(200));
    expect(rpcs(ops.take())).toEqual([]);
    // The last block goes back into the top, which reaches the threshold with too little above the pad to trim.
    await m.free(blocks[3]!);
    expect(rpcs(ops.take())).toEqual([]);
    const brkBefore = m.hurd.brk;
    const topBefore = m.arenas()[0]!.top!.size;
    expect(topBefore).toBeGreaterThanOrEqual(128 * 1024);
    await m.free(blocks[2]!);
    const merged = topBefore + request2size(100_000);
    const extra = Math.floor((merged - MINSIZE - 1 - 128 * 1024) / P) * P;
    expect(extra).toBeGreaterThan(0);
    const brkAfter = brkBefore - extra;
    expect(m.hurd.brk).toBe(brkAfter);
    expect(rpcs(ops.take())).toEqual([
      { op: 'vm_deallocate', address: brkAfter, size: extra, kr: 0 },
      { op: 'vm_map', address: brkAfter, size: extra, anywhere: false, cur: 0, max: RWX, inherit: 1, kr: 0, result: brkAfter },
    ]);
    expect(m.arenas()[0]!.top!.size).toBe(merged - extra);
    m.check();
  });

  it('malloc_trim(0) gives back all of the top but what a chunk header needs', async () => {
    const { ops, m } = await setup('L0', { tcache: false });
    await m.malloc(50_000);
    ops.take();
    expect(await m.malloc_trim(0)).toBe(1);
    const calls = rpcs(ops.take());
    expect(calls.map((c) => c.op)).toEqual(['vm_deallocate', 'vm_map']);
    expect(m.arenas()[0]!.top!.size).toBeLessThan(P + MINSIZE + 1);
    expect(await m.malloc_trim(0)).toBe(0);
    m.check();
  });

  it('mmapped block: vm_map anywhere RW of the page-rounded chunk, vm_deallocate on free, threshold raised', async () => {
    const { ops, m, map } = await setup('L0');
    await m.malloc(16); // the tcache and break exist
    ops.take();
    const p = await m.malloc(200_000);
    const size = 0x31000; // round_page(request2size(200000) + 4 + 15)
    const calls = rpcs(ops.take());
    expect(calls).toEqual([{ op: 'vm_map', address: 0, size, anywhere: true, cur: RW, max: RWX, inherit: 1, kr: 0, result: p - 16 }]);
    expect(m.usableSize(p)).toBe(size - 8 - 8);
    expect(m.mallinfo()).toMatchObject({ hblks: 1, hblkhd: size });
    expectBlocksMapped(map, m);
    await m.free(p);
    expect(rpcs(ops.take())).toEqual([{ op: 'vm_deallocate', address: p - 16, size, kr: 0 }]);
    expect(m.mallinfo()).toMatchObject({ hblks: 0, hblkhd: 0, mmapThreshold: size - 8, trimThreshold: 2 * (size - 8) });
    // Below the new threshold: from the break.
    await m.free(await m.malloc(180_000));
    expect(rpcs(ops.take()).some((c) => c.op === 'vm_map' && c.anywhere)).toBe(false);
    // Past 512 KiB the threshold stays.
    await m.free(await m.malloc(600_000));
    expect(m.mallinfo().mmapThreshold).toBe(size - 8);
    m.check();
  });

  it('first malloc of a thread: a new arena in a 1 MiB heap aligned by a 2 MiB PROT_NONE mapping', async () => {
    const { ops, m, map } = await setup('L0');
    await m.malloc(100, 1);
    const calls = rpcs(ops.take());
    const p1 = calls[0]!.op === 'vm_map' ? calls[0]!.result : -1;
    expect(calls[0]).toEqual({ op: 'vm_map', address: 0, size: 2 * MiB, anywhere: true, cur: 0, max: RWX, inherit: 1, kr: 0, result: p1 });
    const heap = m.arenas().find((a) => a.id === 1)!.heaps[0]!;
    expect(heap.address % HEAP_MAX_SIZE).toBe(0);
    const ul = heap.address - p1;
    expect(calls.slice(1)).toEqual([
      ...(ul !== 0 ? [{ op: 'vm_deallocate', address: p1, size: ul, kr: 0 }] : []),
      { op: 'vm_deallocate', address: heap.address + MiB, size: MiB - ul, kr: 0 },
      // size + top pad: 384 (tcache) + 24 + 1116 + 16 + 128 KiB, page-rounded
      { op: 'vm_protect', address: heap.address, size: 0x21000, setMax: false, prot: RW, kr: 0 },
    ]);
    expect(m.arenaFor(1)).toBe(1);
    expect(rwEntries(map, heap.address, heap.address + MiB)).toBe(1);
    // The heap ended up aligned at once, so the next heap is tried right after it first.
    expect(ul).toBe(0);
    await m.malloc(100, 2);
    const second = rpcs(ops.take());
    expect(second).toEqual([
      { op: 'vm_map', address: heap.address + MiB, size: MiB, anywhere: false, cur: 0, max: RWX, inherit: 1, kr: 0, result: heap.address + MiB },
      { op: 'vm_protect', address: heap.address + MiB, size: 0x21000, setMax: false, prot: RW, kr: 0 },
    ]);
    m.check();
  });

  it('heap growth: grow_heap opens the next page-rounded slice RW; one RW entry each at L0/L1, one in all at L2', async () => {
    for (const level of VM_LEVELS) {
      const { ops, m, map } = await setup(level);
      await m.malloc(100, 1);
      ops.take();
      const heap = m.arenas().find((a) => a.id === 1)!.heaps[0]!;
      let grows = 0;
      let first = true;
      for (let i = 0; i < 400; i++) {
        await m.malloc(1000, 1);
        const calls = rpcs(ops.take());
        if (calls.length === 0) continue;
        if (first) {
          expect(calls).toEqual([{ op: 'vm_protect', address: heap.address + 0x21000, size: P, setMax: false, prot: RW, kr: 0 }]);
          first = false;
        }
        for (const c of calls) {
          expect(c).toMatchObject({ op: 'vm_protect', size: P, prot: RW });
          grows++;
        }
      }
      expect(grows).toBeGreaterThan(60);
      const rw = rwEntries(map, heap.address, heap.address + MiB);
      expect(rw).toBe(level === 'L2' ? 1 : grows + 1);
      // The break's reservation, the heap's RW part(s) and its NONE part. (At L0 the 2 MiB
      // reservation first extended the break's NONE entry, which it follows; vm_protect split them.)
      expect(map.nentries).toBe(level === 'L2' ? 3 : grows + 3);
      expectBlocksMapped(map, m);
      m.check();
      vm_map_check(map);
    }
  });

  it('shrink_heap makes no VM call on the Hurd, and regrowth below mprotect_size makes none either', async () => {
    const { ops, m } = await setup('L0');
    const held: number[] = [];
    for (let i = 0; i < 100; i++) held.push(await m.malloc(3000, 1));
    const before = m.arenas().find((a) => a.id === 1)!.heaps[0]!;
    ops.take();
    for (const p of held.reverse()) await m.free(p, 1);
    const after = m.arenas().find((a) => a.id === 1)!.heaps[0]!;
    expect(after.size).toBeLessThan(before.size);
    expect(after.mprotectSize).toBe(before.mprotectSize);
    for (let i = 0; i < 100; i++) await m.malloc(3000, 1);
    expect(rpcs(ops.take())).toEqual([]);
    m.check();
  });

  it('with __libc_enable_secure, shrink_heap maps the slice back PROT_NONE (MAP_FIXED)', async () => {
    const { ops, m, map } = await setup('L0', { secure: true });
    const held: number[] = [];
    for (let i = 0; i < 100; i++) held.push(await m.malloc(3000, 1));
    ops.take();
    for (const p of held.reverse()) await m.free(p, 1);
    const calls = rpcs(ops.take());
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.slice(0, 3).map((c) => [c.op, c.op === 'vm_map' ? c.kr : 0])).toEqual([
      ['vm_map', KERN_NO_SPACE],
      ['vm_deallocate', 0],
      ['vm_map', 0],
    ]);
    const heap = m.arenas().find((a) => a.id === 1)!.heaps[0]!;
    expect(heap.mprotectSize).toBe(heap.size);
    expectBlocksMapped(map, m);
    m.check();
  });

  it('chained heaps: a full heap gets a successor; once empty (and the previous heap has room) it is unmapped whole', async () => {
    const { ops, m, map } = await setup('L0');
    const held: number[] = [];
    for (let i = 0; i < 120; i++) held.push(await m.malloc(10_000, 1));
    let heaps = m.arenas().find((a) => a.id === 1)!.heaps;
    expect(heaps.length).toBe(2);
    const [h1, h2] = heaps as [(typeof heaps)[0], (typeof heaps)[0]];
    expect(h2.address % MiB).toBe(0);
    expectBlocksMapped(map, m);
    m.check();
    ops.take();
    // Free the newest blocks first: the second heap empties into its top.
    for (const p of held.slice().reverse()) await m.free(p, 1);
    heaps = m.arenas().find((a) => a.id === 1)!.heaps;
    expect(heaps.map((h) => h.address)).toEqual([h1.address]);
    expect(rpcs(ops.take()).filter((c) => c.op === 'vm_deallocate')).toEqual([{ op: 'vm_deallocate', address: h2.address, size: MiB, kr: 0 }]);
    m.check();
    vm_map_check(map);
  });
});

describe('Malloc: when the break fails', () => {
  it('sysmalloc_mmap_fallback: a failed sbrk falls back to a 1 MiB mmap, and the main arena is no longer contiguous', async () => {
    const map = vm_map_create({ level: 'L0' });
    const ops = new TracingVmOps(new VmMapOps(map));
    await ops.vm_allocate(B + 16 * P, P, false); // in the way of the break
    const m = await Malloc.create(ops, { hurd: { dataSize: 16 * P } });
    ops.take();
    const p = await m.malloc(100);
    expect(p).not.toBe(0);
    const calls = rpcs(ops.take());
    expect(calls.map((c) => [c.op, c.address, c.size, 'kr' in c ? c.kr : null])).toEqual([
      ['vm_protect', B, 16 * P, 0], // the rest of the reservation is opened...
      ['vm_allocate', B + 16 * P, 0x11000, KERN_NO_SPACE], // ...but the excess cannot be had
      ['vm_map', 0, MiB, 0],
    ]);
    expect(m.hurd.brk).toBe(B + 16 * P);
    expectBlocksMapped(map, m);
    m.check();
  });

  it('a foreign sbrk: the old top is fenced off and the new space starts a new top', async () => {
    const { m, map } = await setup('L0', { tcache: false, topPad: 0 });
    const a = await m.malloc(1000);
    await m.hurd.sbrk(P + 8); // someone else moves the break
    const top = m.arenas()[0]!.top!;
    const b = await m.malloc(100_000); // more than the top holds, less than the mmap threshold
    expect(b).toBeGreaterThan(top.address + top.size);
    expect(m.mallinfo().hblks).toBe(0);
    expectBlocksMapped(map, m);
    m.check();
    await m.free(a);
    await m.free(b);
    m.check();
  });
});

describe('Malloc: arenas and threads', () => {
  it('32-bit arena limit: main + 2 per core after arena_test, then round robin from the main arena', async () => {
    const { m } = await setup('L0');
    for (let t = 1; t <= 6; t++) await m.malloc(10, t);
    expect([1, 2, 3, 4, 5, 6].map((t) => m.arenaFor(t))).toEqual([1, 2, 0, 2, 1, 0]);
    expect(m.mallinfo().narenas).toBe(3);
    expect(m.arenaFor(0)).toBe(0);
    expect(m.arenaFor(99)).toBeNull();

    const four = await setup('L0', { cores: 4 });
    for (let t = 1; t <= 9; t++) await four.m.malloc(10, t);
    expect(four.m.mallinfo().narenas).toBe(8);
    expect(four.m.arenaFor(8)).toBe(0);

    const capped = await setup('L0');
    expect(await capped.m.mallopt(M_ARENA_MAX, 2)).toBe(true);
    for (let t = 1; t <= 3; t++) await capped.m.malloc(10, t);
    expect(capped.m.mallinfo().narenas).toBe(2);
  });

  it('a thread that exits leaves its arena on the free list for the next new thread', async () => {
    const { ops, m } = await setup('L0');
    await m.malloc(10, 1);
    await m.malloc(10, 2);
    ops.take();
    await m.threadExit(1);
    expect(m.arenas().find((a) => a.id === 1)!.attachedThreads).toBe(0);
    await m.malloc(10, 7);
    expect(m.arenaFor(7)).toBe(1);
    expect(rpcs(ops.take())).toEqual([]);
    expect(m.arenas().find((a) => a.id === 1)!.attachedThreads).toBe(1);
    await m.threadExit(42); // unknown: nothing
    m.check();
  });

  it('tcache: a freed small block comes back first, to the thread that freed it', async () => {
    const { m } = await setup('L0');
    const a = await m.malloc(40, 1);
    await m.free(a, 1);
    expect(await m.malloc(40, 1)).toBe(a);
    // Freed by another thread: that thread's cache gets it, even though the chunk is arena 1's.
    await m.free(a, 2);
    const b = await m.malloc(40, 1);
    expect(b).not.toBe(a);
    expect(await m.malloc(40, 2)).toBe(a);
    m.check();
  });

  it('thread exit empties the tcache into the arenas', async () => {
    const { m } = await setup('L0');
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) xs.push(await m.malloc(200, 1));
    for (const x of xs) await m.free(x, 1);
    const used = m.mallinfo().uordblks;
    await m.threadExit(1);
    expect(m.mallinfo().uordblks).toBeLessThan(used);
    m.check();
  });

  it('fastbins and consolidation without tcache', async () => {
    const { m } = await setup('L0', { tcache: false });
    const xs: number[] = [];
    for (let i = 0; i < 40; i++) xs.push(await m.malloc(40));
    const guard = await m.malloc(40);
    for (const x of xs) await m.free(x);
    expect(m.mallinfo()).toMatchObject({ smblks: 40, fsmblks: 40 * 48 });
    // A large request consolidates the fastbins into one free chunk, which it then uses.
    const big = await m.malloc(1200);
    expect(m.mallinfo().smblks).toBe(0);
    expect(big).toBe(xs[0]);
    await m.free(guard);
    m.check();
  });

  it('small and large bins: best fit, and the last remainder serves runs of small requests', async () => {
    const { m } = await setup('L0', { tcache: false });
    const sizes = [2000, 3000, 5000, 2500];
    const xs: number[] = [];
    for (const s of sizes) {
      xs.push(await m.malloc(s));
      await m.malloc(100); // keep them apart
    }
    for (const x of xs) await m.free(x);
    await m.malloc(100); // sorts the unsorted list into bins (takes a remainder of one)
    m.check();
    const p = await m.malloc(2400);
    expect(p).toBe(xs[3]); // the 2500 chunk fits best
    const q = await m.malloc(100);
    const r = await m.malloc(100);
    expect(r - q).toBe(request2size(100));
    m.check();
  });
});

describe('Malloc: API', () => {
  it('free(0) is nothing; double frees and foreign pointers throw', async () => {
    const { m } = await setup('L0');
    await m.free(0);
    const p = await m.malloc(10);
    await m.free(p);
    await expect(m.free(p)).rejects.toThrow(/invalid pointer/);
    await expect(m.free(0x1234)).rejects.toThrow(/invalid pointer/);
    await expect(m.realloc(0x1234, 5)).rejects.toThrow(/invalid pointer/);
    // The allocator still works after a refused call.
    expect(await m.malloc(10)).not.toBe(0);
  });

  it('too large requests return NULL', async () => {
    const { m } = await setup('L0');
    expect(await m.malloc(0x7fffffff)).toBe(0);
    expect(await m.calloc(0x10000, 0x10000)).toBe(0);
    // Refused by the VM: the break cannot grow and no mapping fits.
    const map = vm_map_create({ level: 'L0', max: 0x30000000 });
    const small = await Malloc.create(new VmMapOps(map));
    expect(await small.malloc(300 * MiB)).toBe(0);
    expect(await small.malloc(100)).not.toBe(0);
    small.check();
  });

  it('realloc: NULL is malloc, 0 frees, grows into the top in place, shrinks in place, moves otherwise', async () => {
    const { m, map } = await setup('L0', { tcache: false });
    const p = await m.realloc(0, 100);
    expect(p).not.toBe(0);
    expect(await m.realloc(p, 1000)).toBe(p); // next to the top
    const fence = await m.malloc(10);
    expect(await m.realloc(p, 50)).toBe(p);
    const q = await m.realloc(p, 5000);
    expect(q).not.toBe(p);
    expect(m.usableSize(q)).toBeGreaterThanOrEqual(5000);
    expect(await m.realloc(q, 0)).toBe(0);
    expect(m.blocks().map((b) => b.mem)).toEqual([fence]);
    // mmapped blocks: smaller stays, larger moves and the old mapping goes.
    const big = await m.malloc(300_000);
    expect(await m.realloc(big, 290_000)).toBe(big);
    const bigger = await m.realloc(big, 400_000);
    expect(bigger).not.toBe(big);
    expect(m.mallinfo().hblks).toBe(1);
    expectBlocksMapped(map, m);
    m.check();
  });

  it('realloc grows into a free neighbour', async () => {
    const { m } = await setup('L0', { tcache: false });
    const a = await m.malloc(2000);
    const b = await m.malloc(2000);
    await m.malloc(10);
    await m.free(b);
    expect(await m.realloc(a, 3500)).toBe(a);
    m.check();
  });

  it('calloc clears (touches) what is not fresh from the system', async () => {
    const map = vm_map_create({ level: 'L0' });
    const ops = new TracingVmOps(new VmMapOps(map), { touches: true });
    const m = await Malloc.create(ops, { touchBlocks: false });
    const a = await m.malloc(5000);
    await m.free(a);
    await m.malloc(10);
    ops.take();
    const c = await m.calloc(100, 40);
    expect(c).toBe(a + request2size(10));
    const touches = ops.take().filter((x) => x.op === 'touch');
    expect(touches).toContainEqual({ op: 'touch', address: c, size: request2size(4000) - 4 });
    expect(m.blocks().find((b) => b.mem === c)!.request).toBe(4000);
    m.check();
  });

  it('mallinfo: used + free = system memory; mallopt sets the thresholds', async () => {
    const { m } = await setup('L0');
    const xs: number[] = [];
    for (let i = 0; i < 50; i++) xs.push(await m.malloc(100 * (i + 1), i % 3));
    for (const x of xs.filter((_, i) => i % 2 === 0)) await m.free(x, 1);
    const info = m.mallinfo();
    expect(info.uordblks + info.fordblks).toBe(info.arena);
    expect(info.narenas).toBe(3);
    expect(info.keepcost).toBe(m.arenas()[0]!.top!.size);

    expect(await m.mallopt(M_MMAP_THRESHOLD, 1024 * 1024)).toBe(false);
    expect(await m.mallopt(M_MMAP_THRESHOLD, 64 * 1024)).toBe(true);
    expect(await m.mallopt(M_TRIM_THRESHOLD, 256 * 1024)).toBe(true);
    expect(await m.mallopt(M_TOP_PAD, 0)).toBe(true);
    expect(await m.mallopt(12345, 1)).toBe(false);
    const before = m.mallinfo().hblks;
    // (Only what the top cannot serve goes to sysmalloc and so to mmap.)
    const big = await m.malloc(400_000);
    expect(m.mallinfo().hblks).toBe(before + 1);
    await m.free(big);
    expect(m.mallinfo()).toMatchObject({ mmapThreshold: 64 * 1024, trimThreshold: 256 * 1024 });
  });

  it('concurrent calls are serialised', async () => {
    const { m } = await setup('L0');
    const ps = await Promise.all(Array.from({ length: 50 }, (_, i) => m.malloc(64 + i * 10, i % 5)));
    expect(new Set(ps).size).toBe(50);
    await Promise.all(ps.map((p, i) => m.free(p, (i + 1) % 5)));
    expect(m.blocks()).toEqual([]);
    m.check();
  });
});

describe('Malloc: random operations keep blocks disjoint, aligned and in RW memory', () => {
  for (const level of VM_LEVELS) {
    it(`at ${level}`, async () => {
      const { m, map, ops } = await setup(level);
      const rand = mulberry32(level.charCodeAt(1) + 7);
      const live: { mem: number; size: number }[] = [];
      const size = (): number => {
        const x = rand();
        if (x < 0.6) return 1 + Math.floor(rand() * 200);
        if (x < 0.9) return 200 + Math.floor(rand() * 4000);
        if (x < 0.98) return 4000 + Math.floor(rand() * 60000);
        return 100_000 + Math.floor(rand() * 500_000);
      };
      for (let i = 0; i < 3000; i++) {
        const thread = Math.floor(rand() * 5);
        const x = rand();
        if (x < 0.5 || live.length === 0) {
          const n = size();
          const mem = rand() < 0.1 ? await m.calloc(1, n, thread) : await m.malloc(n, thread);
          expect(mem).not.toBe(0);
          live.push({ mem, size: n });
        } else if (x < 0.9) {
          const [b] = live.splice(Math.floor(rand() * live.length), 1);
          await m.free(b!.mem, thread);
        } else if (x < 0.98) {
          const i2 = Math.floor(rand() * live.length);
          const n = size();
          const mem = await m.realloc(live[i2]!.mem, n, thread);
          expect(mem).not.toBe(0);
          live[i2] = { mem, size: n };
        } else {
          await m.threadExit(1 + Math.floor(rand() * 4));
        }
        if (i % 250 === 0) {
          m.check();
          expectBlocksMapped(map, m);
        }
        if (i % 997 === 0) {
          // Out-of-line buffers come and go between the allocator's mappings.
          const r = await ops.vm_allocate(0, 3 * P, true);
          await ops.vm_deallocate(r.address, 3 * P);
        }
      }
      m.check();
      expectBlocksMapped(map, m);
      vm_map_check(map);
      const blocks = m.blocks();
      expect(blocks.map((b) => b.mem).sort((a, b) => a - b)).toEqual(live.map((b) => b.mem).sort((a, b) => a - b));
      for (const b of blocks) {
        expect(b.mem % 16).toBe(0);
        expect(b.usable).toBeGreaterThanOrEqual(b.request);
      }
      for (const b of live) await m.free(b.mem);
      expect(m.blocks()).toEqual([]);
      const info = m.mallinfo();
      expect(info.hblks).toBe(0);
      expect(info.uordblks + info.fordblks).toBe(info.arena);
      m.check();
    }, 60_000);
  }
});
