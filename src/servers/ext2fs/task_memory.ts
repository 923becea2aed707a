/*
 * File: servers/ext2fs/task_memory.ts
 * Purpose: TaskMemory, the ServerMemory of an ext2fs task that has a VM map: every cached
 *          item is a block of the glibc-like malloc (src/libc/) over the task's own VM
 *          (RPCs on its task port), from the arena of the thread that asks (threads.ts);
 *          anonymous mappings go through the Hurd's mmap/munmap; thread stacks are mapped
 *          when threads start.
 *
 * The server's node and open-file code calls malloc/free synchronously (as C does) and
 * treats addresses as opaque. The allocator is asynchronous (its VM calls are RPCs), so
 * this class hands out handles at once and runs the real calls in order in a queue: a
 * free always runs after the malloc it frees, and every call keeps the thread it was
 * made from. `settle()` waits for the queue: the server settles before each reply, so a
 * request's memory effects are in the map before its client hears back, as in C.
 * Asynchronous callers (the pager, reply buffers, the device store) use mapAnon/unmap,
 * which go through the same queue and give the real addresses.
 *
 * Allocation failures and frees of unknown handles are server bugs: they are recorded in
 * `errors` (and never break the queue).
 */

import { PAGE_SIZE } from '../../vm/vm_param.js';
import { MAP_ANON, MAP_PRIVATE, PROT_READ, PROT_WRITE, type HurdVmOptions } from '../../libc/hurd.js';
import { Malloc } from '../../libc/malloc.js';
import type { VmOps } from '../../libc/vm_ops.js';
import type { MemoryTag, ServerMemory } from './heap.js';
import { currentThread } from './threads.js';

export interface TaskMemoryOptions {
  /** Processors glibc sees (__get_nprocs; arena limit), default 1 (GNU Mach before SMP). */
  cores?: number;
  /** The Hurd's brk and mmap settings. */
  hurd?: HurdVmOptions;
  /** Stack size of the threads the server creates (default 64 KiB; libports' STACK_SIZE [uncertain]). */
  stackSize?: number;
}

/** Counters of a TaskMemory. */
export interface TaskMemoryStats {
  mallocs: number;
  frees: number;
  /** live blocks by tag */
  live: Partial<Record<MemoryTag | 'other', number>>;
  mmaps: number;
  munmaps: number;
  /** thread stacks mapped, and unmapped */
  stacks: number;
  stacksFreed: number;
  /** arenas glibc made */
  arenas: number;
}

const MALLOC_BASE = 0x1000; // handles for malloc'd blocks: small, never 0
const MMAP_BASE = 0x100000000; // handles for sync mmaps: above any 32-bit address

export class TaskMemory implements ServerMemory {
  readonly malloc_: Malloc;
  readonly ops: VmOps;
  readonly errors: unknown[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly blocks = new Map<number, { address: number; tag: MemoryTag }>();
  private readonly pending = new Map<number, MemoryTag>();
  private nextBlock = MALLOC_BASE;
  /** sync mmaps: handle -> { real address (once mapped), size } */
  private readonly maps = new Map<number, { address: number; size: number }>();
  private nextMap = MMAP_BASE;
  private readonly stacks = new Map<number, { address: number; size: number }>();
  private readonly stackSize: number;
  private readonly s = { mallocs: 0, frees: 0, mmaps: 0, munmaps: 0, stacks: 0, stacksFreed: 0 };
  private readonly live: Partial<Record<MemoryTag | 'other', number>> = {};

  private constructor(m: Malloc, options: TaskMemoryOptions) {
    this.malloc_ = m;
    this.ops = m.ops;
    this.stackSize = options.stackSize ?? 64 * 1024;
  }

  /** The task's malloc over `ops` (init_brk reserves the data segment: one vm_map). */
  static async create(ops: VmOps, options: TaskMemoryOptions = {}): Promise<TaskMemory> {
    const m = await Malloc.create(ops, { cores: options.cores ?? 1, hurd: options.hurd });
    return new TaskMemory(m, options);
  }

  get stats(): TaskMemoryStats {
    return { ...this.s, live: { ...this.live }, arenas: this.malloc_.arenas().length };
  }

  /** The thread stacks mapped now. */
  stackRanges(): Array<{ thread: number; address: number; size: number }> {
    return [...this.stacks].map(([thread, st]) => ({ thread, ...st }));
  }

  // ==== ServerMemory (synchronous callers) ==========================================

  malloc(size: number, tag: MemoryTag): number {
    const h = this.nextBlock;
    this.nextBlock += 16;
    const thread = currentThread();
    this.s.mallocs++;
    this.live[tag] = (this.live[tag] ?? 0) + 1;
    this.pending.set(h, tag);
    void this.enqueue(async () => {
      const address = await this.malloc_.malloc(size, thread);
      this.pending.delete(h);
      if (address === 0) throw new Error(`malloc(${size}) for ${tag}: out of memory`);
      this.blocks.set(h, { address, tag });
    });
    return h;
  }

  free(h: number): void {
    const thread = currentThread();
    const tag = this.pending.get(h) ?? this.blocks.get(h)?.tag;
    if (tag === undefined) {
      this.errors.push(new Error(`free(0x${h.toString(16)}): not allocated`));
      return;
    }
    this.s.frees++;
    this.live[tag] = (this.live[tag] ?? 1) - 1;
    void this.enqueue(async () => {
      const b = this.blocks.get(h);
      if (b === undefined) return; // its malloc failed (recorded)
      this.blocks.delete(h);
      await this.malloc_.free(b.address, thread);
    });
  }

  /** An anonymous mapping for a caller that only needs an opaque address (see mapAnon). */
  mmap(size: number, _tag: MemoryTag): number {
    const len = roundPage(size);
    const h = this.nextMap;
    this.nextMap += len + PAGE_SIZE;
    const m = { address: 0, size: len };
    this.maps.set(h, m);
    void this.enqueue(async () => {
      m.address = await this.mapNow(len);
    });
    return h;
  }

  /** Unmaps [addr, addr + size) of a mapping made by mmap() (whole pages). */
  munmap(addr: number, size: number): void {
    const len = roundPage(size);
    if (len === 0) return;
    for (const [h, m] of this.maps) {
      if (addr < h || addr + len > h + m.size) continue;
      const off = addr - h;
      if (off === 0 && len === m.size) this.maps.delete(h);
      void this.enqueue(() => this.unmapNow(m.address + off, len));
      return;
    }
    this.errors.push(new Error(`munmap(0x${addr.toString(16)}, ${size}): not mapped by mmap()`));
  }

  /** Resolves once every call made so far has taken effect. */
  async settle(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (c === this.chain) return;
    }
  }

  // ==== asynchronous callers (real addresses) =======================================

  /** mmap(0, size, PROT_READ|PROT_WRITE, MAP_ANON): the page-aligned address. */
  mapAnon(size: number): Promise<number> {
    return this.enqueue(() => this.mapNow(roundPage(size)));
  }

  /** munmap(address, size). */
  unmap(address: number, size: number): Promise<void> {
    return this.enqueue(() => this.unmapNow(address, roundPage(size)));
  }

  /** A new thread: its stack is allocated anywhere (htl's __pthread_stack_alloc: vm_allocate). */
  threadStarted(id: number): Promise<void> {
    return this.enqueue(async () => {
      const r = await this.ops.vm_allocate(0, this.stackSize, true);
      if (r.kr !== 0) throw new Error(`thread ${id}: no stack (kern_return ${r.kr})`);
      this.stacks.set(id, { address: r.address, size: this.stackSize });
      this.s.stacks++;
    });
  }

  /** A thread exits: its arena goes on the free list (glibc), its stack is deallocated. */
  threadExited(id: number): Promise<void> {
    return this.enqueue(async () => {
      await this.malloc_.threadExit(id);
      const st = this.stacks.get(id);
      if (st !== undefined) {
        this.stacks.delete(id);
        await this.ops.vm_deallocate(st.address, st.size);
        this.s.stacksFreed++;
      }
    });
  }

  // ==== internals ===================================================================

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const p = this.chain.then(op);
    this.chain = p.then(
      () => undefined,
      (e: unknown) => {
        this.errors.push(e);
      },
    );
    return p;
  }

  private async mapNow(len: number): Promise<number> {
    const a = await this.malloc_.hurd.mmap(0, len, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
    if (a === null) throw new Error(`mmap(${len}): error 0x${this.malloc_.hurd.lastError.toString(16)}`);
    this.s.mmaps++;
    return a;
  }

  private async unmapNow(address: number, len: number): Promise<void> {
    const err = await this.malloc_.hurd.munmap(address, len);
    if (err !== 0) throw new Error(`munmap(0x${address.toString(16)}, ${len}): error 0x${err.toString(16)}`);
    this.s.munmaps++;
  }
}

function roundPage(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}
