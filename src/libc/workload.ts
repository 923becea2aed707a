/*
 * File: libc/workload.ts
 * Purpose: a deterministic, server-like allocation workload for a task's malloc, shaped
 *          after ext2fs under `grep NR -r /usr` (spec §6.4): a pool of worker threads that
 *          come and go, each serving requests with short-lived small and medium blocks,
 *          long-lived node-like records that pile up in caches, growing buffers (realloc),
 *          large blocks past the mmap threshold that come and go, and out-of-line buffers
 *          mapped and unmapped directly in the task (device_read replies, io_read buffers).
 *
 * Only the shape matters (which sizes, how long they live, which thread); nothing here is
 * measured from a real ext2fs. The same seed gives the same calls, so the same VM map.
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import type { Malloc } from './malloc.js';
import type { VmOps } from './vm_ops.js';

export interface ServerWorkloadOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Requests to serve (default 5000). */
  steps?: number;
  /** Worker threads alive at once, besides the main thread 0 (default 6). */
  workers?: number;
  /** Chance per request that a worker exits and a new thread replaces it (default 0.002). */
  turnover?: number;
  /** Map out-of-line buffers with vm_allocate/vm_deallocate (default true). */
  oolBuffers?: boolean;
  /** Chance per request of a record that stays cached (default 0.4). */
  cacheRate?: number;
  /** Chance per request of a large block past the mmap threshold (default 0.0005). */
  largeRate?: number;
  /** Called after each request (for sampling the map). */
  onStep?: (step: number) => void | Promise<void>;
}

export interface ServerWorkloadResult {
  mallocs: number;
  frees: number;
  reallocs: number;
  callocs: number;
  largeBlocks: number;
  oolBuffers: number;
  threadsStarted: number;
  threadsExited: number;
  /** Blocks still held at the end (the caches), and their bytes. */
  liveBlocks: number;
  liveBytes: number;
  /** Allocations that returned NULL. */
  failures: number;
}

/** mulberry32: a small deterministic PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Pending = { kind: 'block'; mem: number; bytes: number } | { kind: 'ool'; address: number; size: number };

/**
 * Run the workload on `malloc`, with `ops` for the out-of-line buffers. Every block with a
 * finite lifetime is freed (by a random live thread) when it expires; the long-lived ones
 * stay. At the end the expired work is drained, so what remains is the caches.
 */
export async function runServerWorkload(malloc: Malloc, ops: VmOps, options: ServerWorkloadOptions = {}): Promise<ServerWorkloadResult> {
  const rand = mulberry32(options.seed ?? 1);
  const steps = options.steps ?? 5000;
  const nworkers = options.workers ?? 6;
  const turnover = options.turnover ?? 0.002;
  const ool = options.oolBuffers ?? true;
  const cacheRate = options.cacheRate ?? 0.4;
  const largeRate = options.largeRate ?? 0.0005;
  const r: ServerWorkloadResult = {
    mallocs: 0,
    frees: 0,
    reallocs: 0,
    callocs: 0,
    largeBlocks: 0,
    oolBuffers: 0,
    threadsStarted: 0,
    threadsExited: 0,
    liveBlocks: 0,
    liveBytes: 0,
    failures: 0,
  };

  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  /** Mostly small sizes, as C structures and strings are. */
  const smallSize = (): number => (rand() < 0.6 ? between(8, 96) : between(97, 600));

  let nextThread = 1;
  const workers: number[] = [];
  for (let i = 0; i < nworkers; i++) {
    workers.push(nextThread++);
    r.threadsStarted++;
  }
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  const due = new Map<number, Pending[]>();
  const later = (when: number, what: Pending): void => {
    const list = due.get(when);
    if (list === undefined) due.set(when, [what]);
    else list.push(what);
  };
  const cache: { mem: number; bytes: number }[] = [];

  const release = async (what: Pending): Promise<void> => {
    if (what.kind === 'block') {
      await malloc.free(what.mem, rand() < 0.8 ? pick(workers) : 0);
      r.frees++;
    } else {
      await ops.vm_deallocate(what.address, what.size);
    }
  };

  const alloc = async (bytes: number, thread: number, lifetime: number, step: number): Promise<number> => {
    const mem = await malloc.malloc(bytes, thread);
    r.mallocs++;
    if (mem === 0) {
      r.failures++;
      return 0;
    }
    if (Number.isFinite(lifetime)) later(step + lifetime, { kind: 'block', mem, bytes });
    else cache.push({ mem, bytes });
    return mem;
  };

  for (let step = 0; step < steps; step++) {
    if (rand() < turnover) {
      // A worker times out; the pool makes a new thread later.
      const i = Math.floor(rand() * workers.length);
      await malloc.threadExit(workers[i]!);
      r.threadsExited++;
      workers[i] = nextThread++;
      r.threadsStarted++;
    }
    const thread = rand() < 0.1 ? 0 : pick(workers);

    // One request: a few short-lived blocks...
    const n = between(1, 3);
    for (let i = 0; i < n; i++) await alloc(smallSize(), thread, between(1, 40), step);
    if (rand() < cacheRate) {
      // ...a record that stays in a cache (nodes, ports, names)...
      await alloc(between(120, 480), thread, Infinity, step);
      if (rand() < 0.3) await alloc(between(16, 64), thread, Infinity, step);
    }
    const x = rand();
    if (x < 0.1) {
      // ...a medium buffer...
      await alloc(between(1024, 8192), thread, between(1, 10), step);
    } else if (x < 0.13) {
      // ...a buffer that grows...
      let size = between(64, 512);
      let mem = await malloc.malloc(size, thread);
      r.mallocs++;
      for (let k = 0; k < 3 && mem !== 0; k++) {
        size *= between(2, 4);
        mem = await malloc.realloc(mem, size, thread);
        r.reallocs++;
      }
      if (mem === 0) r.failures++;
      else later(step + between(1, 30), { kind: 'block', mem, bytes: size });
    } else if (x < 0.15) {
      const mem = await malloc.calloc(between(1, 64), between(8, 64), thread);
      r.callocs++;
      if (mem === 0) r.failures++;
      else later(step + between(1, 50), { kind: 'block', mem, bytes: 0 });
    }
    if (rand() < largeRate) {
      // ...and now and then a large block, past the mmap threshold, that comes and goes.
      await alloc(between(128 * 1024, 320 * 1024), thread, between(1, 5), step);
      r.largeBlocks++;
    }
    if (ool && rand() < 0.25) {
      // An out-of-line buffer lands in the task and is unmapped after use.
      const size = between(1, 16) * 4096;
      const res = await ops.vm_allocate(0, size, true);
      if (res.kr === KERN_SUCCESS) {
        r.oolBuffers++;
        if (ops.touch) await ops.touch(res.address, size); // the data arrives
        later(step + between(0, 6), { kind: 'ool', address: res.address, size });
      }
    }
    if (rand() < 0.01 && cache.length > 0) {
      // The cache sheds a few entries now and then.
      for (let k = 0; k < 8 && cache.length > 0; k++) {
        const i = Math.floor(rand() * cache.length);
        const [victim] = cache.splice(i, 1);
        await release({ kind: 'block', mem: victim!.mem, bytes: victim!.bytes });
      }
    }

    const expired = due.get(step);
    if (expired !== undefined) {
      due.delete(step);
      for (const what of expired) await release(what);
    }
    if (options.onStep) await options.onStep(step);
  }

  // Drain what is still pending.
  const rest = [...due.entries()].sort((a, b) => a[0] - b[0]);
  for (const [, list] of rest) for (const what of list) await release(what);
  due.clear();

  r.liveBlocks = cache.length;
  r.liveBytes = cache.reduce((s, b) => s + b.bytes, 0);
  return r;
}
