/*
 * File: bench/vm-map.ts
 * Purpose: per-operation cost of the VM map (src/vm) on maps of 1,000, 100,000 and
 *          1,000,000 entries, against a naive sorted-array map doing the same calls in the
 *          same run; memory per entry and per resident page.
 *
 * Run: npx tsx bench/vm-map.ts            (add --quick for a short run)
 *
 * Layout of a map of N entries: N zero-fill entries of 4 pages separated by 1-page holes
 * (64-bit map, L2). Operations, each timed over a batch, each pair restoring the map so
 * that N stays steady:
 *   - vm_allocate anywhere of 1 page: fills a hole (first_free hint or best fit); at L2 the
 *     hole fill extends the entry before and chains the entry after (E1 + coalesce);
 *   - vm_deallocate of that page: clips the merged entry and reopens the hole;
 *   - vm_protect split: R on the middle page of an entry (clip_start + clip_end);
 *   - vm_protect glue: RW again on that page (L2 glues the three pieces back).
 * vm_protect targets entries chosen two ways:
 *   - local: distinct entries among 2,000 consecutive ones at a random place in the map
 *     (a new place each repetition), as a task works on its heap or an arena;
 *   - random: distinct entries anywhere in the map. On a big map every lookup then misses
 *     the CPU caches, so this measures memory latency as much as the algorithm.
 * (vm_allocate anywhere and vm_deallocate follow the allocator, which starts at first_free.)
 * The naive map keeps entries in a sorted array (binary search, splice, linear best-fit
 * scan) and merges equal neighbours the same way; it stands for "no tree, no gap index".
 * Each figure is the median over the repetitions (best in parentheses).
 */

import v8 from 'node:v8';
import vm from 'node:vm';
import { KERN_SUCCESS } from '../src/mach/kern_return.js';
import type { VmMap } from '../src/vm/map.js';
import { vm_map_create } from '../src/vm/map.js';
import { vm_object_allocate, vm_page_alloc } from '../src/vm/object.js';
import { VM_PROT_DEFAULT, VM_PROT_READ } from '../src/vm/vm_prot.js';
import { vm_allocate, vm_deallocate, vm_protect } from '../src/vm/vm_user.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const P = 0x1000;
const ENTRY = 4 * P;
const STRIDE = 5 * P;
const QUICK = process.argv.includes('--quick');

/* ---------------------------------------------------------------- the naive map */

interface NaiveEntry {
  start: number;
  end: number;
  prot: number;
}

/** A sorted array of ranges with the same merging rules as L2 for zero-fill memory. */
class NaiveMap {
  readonly entries: NaiveEntry[] = [];
  constructor(readonly max: number) {}

  /* Index of the first entry with end > addr. */
  private search(addr: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /* Merge entry i with its neighbours when they touch and have the same protection. */
  private glue(i: number): void {
    const es = this.entries;
    if (i + 1 < es.length && es[i]!.end === es[i + 1]!.start && es[i]!.prot === es[i + 1]!.prot) {
      es[i]!.end = es[i + 1]!.end;
      es.splice(i + 1, 1);
    }
    if (i > 0 && es[i - 1]!.end === es[i]!.start && es[i - 1]!.prot === es[i]!.prot) {
      es[i - 1]!.end = es[i]!.end;
      es.splice(i, 1);
    }
  }

  allocateFixed(start: number, size: number): void {
    const i = this.search(start);
    this.entries.splice(i, 0, { start, end: start + size, prot: VM_PROT_DEFAULT });
    this.glue(i);
  }

  /* Best fit over every gap after an entry, like gnumach's gap tree but by linear scan. */
  allocateAnywhere(size: number): number {
    const es = this.entries;
    let best = -1;
    let bestGap = Infinity;
    for (let i = 0; i < es.length; i++) {
      const gap = (i + 1 < es.length ? es[i + 1]!.start : this.max) - es[i]!.end;
      if (gap >= size && gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    }
    if (best < 0) throw new Error('naive: no space');
    const start = es[best]!.end;
    es.splice(best + 1, 0, { start, end: start + size, prot: VM_PROT_DEFAULT });
    this.glue(best + 1);
    return start;
  }

  /* Split so that an entry boundary falls at addr (if inside an entry); returns the index at addr. */
  private clip(addr: number): number {
    const i = this.search(addr);
    const e = this.entries[i];
    if (e !== undefined && e.start < addr) {
      this.entries.splice(i, 0, { start: e.start, end: addr, prot: e.prot });
      e.start = addr;
      return i + 1;
    }
    return i;
  }

  deallocate(start: number, size: number): void {
    const first = this.clip(start);
    const last = this.clip(start + size);
    this.entries.splice(first, last - first);
  }

  protect(start: number, size: number, prot: number): void {
    const first = this.clip(start);
    const last = this.clip(start + size);
    for (let i = first; i < last; i++) this.entries[i]!.prot = prot;
    // glue the changed range with its neighbours, right to left so indices stay valid
    for (let i = Math.min(last, this.entries.length - 1); i >= Math.max(first - 1, 0); i--) this.glue(i);
  }
}

/* ---------------------------------------------------------------- workloads */

const MAX = 2 ** 46;

function buildTsmach(n: number): VmMap {
  const map = vm_map_create({ level: 'L2', word_bits: 64, max: MAX });
  for (let i = 0; i < n; i++) vm_allocate(map, i * STRIDE, ENTRY, false);
  return map;
}

function buildNaive(n: number): NaiveMap {
  const map = new NaiveMap(MAX);
  for (let i = 0; i < n; i++) map.entries.push({ start: i * STRIDE, end: i * STRIDE + ENTRY, prot: VM_PROT_DEFAULT });
  return map;
}

/* A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type OpName = 'vm_allocate anywhere' | 'vm_deallocate' | 'vm_protect split, local' | 'vm_protect glue, local' | 'vm_protect split, random' | 'vm_protect glue, random';
const OPS: OpName[] = ['vm_allocate anywhere', 'vm_deallocate', 'vm_protect split, local', 'vm_protect glue, local', 'vm_protect split, random', 'vm_protect glue, random'];
type Costs = Record<OpName, number>;

/* Where vm_protect goes: see the header. */
type Pattern = 'local' | 'random';
const WINDOW = 2_000;

/* `batch` distinct entries (the address of the second page of each), as `pattern` says. */
function pickEntries(rand: () => number, n: number, batch: number, pattern: Pattern, out: number[]): void {
  const span = pattern === 'local' ? Math.min(WINDOW, n) : n;
  const base = Math.floor(rand() * (n - span + 1));
  const seen = new Set<number>();
  for (let i = 0; i < batch; i++) {
    let k: number;
    do k = base + Math.floor(rand() * span);
    while (seen.has(k));
    seen.add(k);
    out[i] = k * STRIDE + P;
  }
}

const now = (): bigint => process.hrtime.bigint();

/*
 * One repetition on the tsmach map: ns per operation for each operation. (The two
 * implementations get separate functions, and every timed loop calls the map directly,
 * so that no call site is shared and made polymorphic.)
 */
function repTsmach(map: VmMap, rand: () => number, n: number, batch: number, addrs: number[], picks: number[]): Costs {
  const c = {} as Costs;
  let t = now();
  for (let i = 0; i < batch; i++) {
    const r = vm_allocate(map, 0, P, true);
    if (r.kr !== KERN_SUCCESS) throw new Error(`vm_allocate: ${r.kr}`);
    addrs[i] = r.address;
  }
  c['vm_allocate anywhere'] = Number(now() - t) / batch;
  t = now();
  for (let i = 0; i < batch; i++) vm_deallocate(map, addrs[i]!, P);
  c['vm_deallocate'] = Number(now() - t) / batch;
  for (const pattern of ['local', 'random'] as const) {
    pickEntries(rand, n, batch, pattern, picks);
    t = now();
    for (let i = 0; i < batch; i++) vm_protect(map, picks[i]!, P, false, VM_PROT_READ);
    c[`vm_protect split, ${pattern}`] = Number(now() - t) / batch;
    t = now();
    for (let i = 0; i < batch; i++) vm_protect(map, picks[i]!, P, false, VM_PROT_DEFAULT);
    c[`vm_protect glue, ${pattern}`] = Number(now() - t) / batch;
  }
  return c;
}

function repNaive(map: NaiveMap, rand: () => number, n: number, batch: number, addrs: number[], picks: number[]): Costs {
  const c = {} as Costs;
  let t = now();
  for (let i = 0; i < batch; i++) addrs[i] = map.allocateAnywhere(P);
  c['vm_allocate anywhere'] = Number(now() - t) / batch;
  t = now();
  for (let i = 0; i < batch; i++) map.deallocate(addrs[i]!, P);
  c['vm_deallocate'] = Number(now() - t) / batch;
  for (const pattern of ['local', 'random'] as const) {
    pickEntries(rand, n, batch, pattern, picks);
    t = now();
    for (let i = 0; i < batch; i++) map.protect(picks[i]!, P, VM_PROT_READ);
    c[`vm_protect split, ${pattern}`] = Number(now() - t) / batch;
    t = now();
    for (let i = 0; i < batch; i++) map.protect(picks[i]!, P, VM_PROT_DEFAULT);
    c[`vm_protect glue, ${pattern}`] = Number(now() - t) / batch;
  }
  return c;
}

/* Per operation, the median and the best of the repetitions. */
function summarise(reps: Costs[]): { median: Costs; best: Costs } {
  const median = {} as Costs;
  const best = {} as Costs;
  for (const op of OPS) {
    const xs = reps.map((r) => r[op]).sort((a, b) => a - b);
    median[op] = xs[Math.floor(xs.length / 2)]!;
    best[op] = xs[0]!;
  }
  return { median, best };
}

function measureTsmach(n: number, reps: number): { median: Costs; best: Costs } {
  const map = buildTsmach(n);
  const batch = Math.min(500, n / 4);
  const rand = prng(n);
  const addrs: number[] = new Array<number>(batch).fill(0);
  const picks: number[] = new Array<number>(batch).fill(0);
  const out: Costs[] = [];
  gc(); // finish the collector's work on the freshly built map before timing anything
  repTsmach(map, rand, n, batch, addrs, picks); // one untimed repetition: caches and JIT
  for (let r = 0; r < reps; r++) out.push(repTsmach(map, rand, n, batch, addrs, picks));
  if (map.nentries !== n) throw new Error(`entry count drifted: ${n} -> ${map.nentries}`);
  return summarise(out);
}

function measureNaive(n: number, reps: number, batch: number): { median: Costs; best: Costs } {
  const map = buildNaive(n);
  const rand = prng(n);
  const addrs: number[] = new Array<number>(batch).fill(0);
  const picks: number[] = new Array<number>(batch).fill(0);
  const out: Costs[] = [];
  gc();
  repNaive(map, rand, n, batch, addrs, picks);
  for (let r = 0; r < reps; r++) out.push(repNaive(map, rand, n, batch, addrs, picks));
  if (map.entries.length !== n) throw new Error(`naive entry count drifted: ${n} -> ${map.entries.length}`);
  return summarise(out);
}

function heapNow(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/* ---------------------------------------------------------------- main */

const SIZES = [1_000, 100_000, 1_000_000];
const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const REPS = QUICK ? 5 : 25;

console.log(`tsmach VM map bench (node ${process.version}, ${QUICK ? 'quick' : 'full'} run, ${REPS} repetitions per size)\n`);

// Each implementation is warmed up (JIT) and then measured at every size before the other
// starts, so that neither pays for the other's background compilation or garbage.
for (let i = 0; i < (QUICK ? 2 : 5); i++) measureTsmach(10_000, 20);
const tsmachAt = SIZES.map((n) => measureTsmach(n, REPS));
gc();
measureNaive(10_000, 5, 500);
// the naive map's cost is linear in n: fewer and smaller batches at the larger sizes
const naiveAt = SIZES.map((n) => (n >= 1_000_000 ? measureNaive(n, 3, 20) : n >= 100_000 ? measureNaive(n, 5, 200) : measureNaive(n, REPS, n / 4)));

interface SizeResult {
  n: number;
  tsmach: { median: Costs; best: Costs };
  naive: { median: Costs; best: Costs };
}
const results: SizeResult[] = SIZES.map((n, i) => ({ n, tsmach: tsmachAt[i]!, naive: naiveAt[i]! }));

console.log('ns per operation: median (best) of the repetitions; ratio = naive median / tsmach median\n');
console.log(
  ['entries'.padStart(10), 'operation'.padStart(26), 'tsmach ns'.padStart(18), 'tsmach ops/s'.padStart(14), 'naive ns'.padStart(24), 'naive ops/s'.padStart(12), 'ratio'.padStart(11)].join(''),
);
for (const r of results) {
  for (const op of OPS) {
    console.log(
      [
        fmt(r.n).padStart(10),
        op.padStart(26),
        `${fmt(r.tsmach.median[op])} (${fmt(r.tsmach.best[op])})`.padStart(18),
        fmt(1e9 / r.tsmach.median[op]).padStart(14),
        `${fmt(r.naive.median[op])} (${fmt(r.naive.best[op])})`.padStart(24),
        fmt(1e9 / r.naive.median[op]).padStart(12),
        `${fmt(r.naive.median[op] / r.tsmach.median[op], 1)}x`.padStart(11),
      ].join(''),
    );
  }
}

/* Mean cost of the four operations, vm_protect with the given pattern. */
const mean = (c: Costs, pattern: Pattern): number =>
  (c['vm_allocate anywhere'] + c['vm_deallocate'] + c[`vm_protect split, ${pattern}`] + c[`vm_protect glue, ${pattern}`]) / 4;
const at = (n: number): SizeResult => results.find((r) => r.n === n)!;
console.log('');
for (const pattern of ['local', 'random'] as const) {
  const opsAt100k = 1e9 / mean(at(100_000).tsmach.median, pattern);
  const growth = mean(at(1_000_000).tsmach.median, pattern) / mean(at(1_000).tsmach.median, pattern);
  console.log(`${pattern} vm_protect: mean of the four operations at 100,000 entries: ${fmt(opsAt100k)} map operations/s (goal >= 500,000: ${opsAt100k >= 500_000 ? 'met' : 'NOT met'})`);
  console.log(`${pattern} vm_protect: mean cost at 1,000,000 entries / at 1,000 entries: ${fmt(growth, 2)}x (goal <= 3x: ${growth <= 3 ? 'met' : 'NOT met'})`);
}
console.log('per operation, cost at 1,000,000 entries / at 1,000 entries:');
for (const op of OPS) console.log(`  ${op.padEnd(26)} ${fmt(at(1_000_000).tsmach.median[op] / at(1_000).tsmach.median[op], 2)}x`);

console.log('\nmemory (process.memoryUsage heapUsed + arrayBuffers deltas, after gc)');

/* Bytes per entry of a freshly built map of n entries. */
function bytesPerEntry(n: number): number {
  const base = heapNow();
  const map = buildTsmach(n);
  const bytes = (heapNow() - base) / n;
  if (map.nentries !== n) throw new Error('map lost entries');
  return bytes;
}

/* Bytes per resident page: never accessed (no buffer), then with its bytes touched. */
function bytesPerPage(pages: number): { zero: number; full: number } {
  const base = heapNow();
  const object = vm_object_allocate(pages * P);
  for (let i = 0; i < pages; i++) vm_page_alloc(object, i * P);
  const zero = (heapNow() - base) / pages;
  for (const page of object.memq.values()) page.data[0] = 1;
  const full = (heapNow() - base) / pages;
  if (object.resident_page_count !== pages) throw new Error('pages lost');
  return { zero, full };
}

for (const n of [100_000, 1_000_000]) console.log(`  map of ${fmt(n).padStart(9)} entries: ${fmt(bytesPerEntry(n), 1)} bytes per entry`);
const pages = bytesPerPage(QUICK ? 20_000 : 100_000);
console.log(`  resident page, never accessed (no buffer yet): ${fmt(pages.zero, 1)} bytes`);
console.log(`  resident page with its 4096-byte buffer:       ${fmt(pages.full, 1)} bytes`);
