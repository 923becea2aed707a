/*
 * File: servers/ext2fs/heap.ts
 * Purpose: ServerMemory, the memory calls the ext2fs server makes for everything it keeps
 *          or hands out, and JsHeap, a trivial in-JS implementation that only accounts.
 *
 * The experiment (DESIGN §7) counts the VM map entries of the file server, so the server's
 * memory traffic must eventually land in its VM map: every cached item through a glibc-like
 * heap (malloc/free over brk and mmap, src/libc/), and every large reply buffer through an
 * anonymous mapping, as the Hurd's ext2fs does. The server calls only this interface:
 *
 *   malloc(size, tag) / free(addr)   one call per cached item: a node (struct node +
 *                                    disknode), an open file (peropen + protid), a
 *                                    directory's entries, a block buffer
 *   mmap(size, tag) / munmap(a, n)   the reply buffers the Hurd's ext2fs mmaps: io_read of
 *                                    more than MIG's 2048-byte in-line buffer
 *                                    (diskfs_S_io_read), dir_readdir's whole-reply buffer
 *                                    (diskfs_get_directs), whose unused tail it munmaps
 *
 * The real heap: TaskMemory (task_memory.ts) implements ServerMemory over the task's
 * glibc-like allocator (src/libc/) and its VM map; pass it as `memory` in
 * Ext2ServerOptions. Reply buffers whose bytes the server builds in JavaScript are mapped
 * and released around the reply (the release stands for the kernel's vm_map_copyin with
 * src_destroy when the region goes out of line with `dealloc`: the same entries come and
 * go); replies whose bytes the kernel already put in the task's map are sent as regions.
 *
 * Addresses are opaque numbers to the server (it never reads or writes through them):
 * the bytes live in JS objects, the addresses let the heap's layout be modelled.
 */

import { PAGE_SIZE } from '../../vm/vm_param.js';

/** What an allocation is for (accounting and traces). */
export type MemoryTag =
  | 'node'
  | 'protid'
  | 'dirdata'
  | 'block'
  | 'io_read reply'
  | 'readdir reply'
  | 'pager'
  | 'pager request';

/** The memory calls of the server (malloc/free and anonymous mmap/munmap). */
export interface ServerMemory {
  /** malloc: `size` bytes for one cached item; returns its address (never 0). */
  malloc(size: number, tag: MemoryTag): number;
  /** free: the item at `addr` (from malloc) is gone. */
  free(addr: number): void;
  /** mmap(0, size, PROT_READ|PROT_WRITE, MAP_ANON): page-aligned anonymous memory. */
  mmap(size: number, tag: MemoryTag): number;
  /** munmap(addr, size): release [addr, addr+size) of an mmap'd region (whole pages). */
  munmap(addr: number, size: number): void;
  /**
   * Resolves once the calls made so far have taken effect (an implementation over RPCs
   * runs them in a queue: task_memory.ts). Absent: they take effect at once.
   */
  settle?(): Promise<void>;
  /**
   * mmap(0, size, PROT_READ|PROT_WRITE, MAP_ANON) in the task's map: the real address
   * (implementations with a VM map; absent: the server uses mmap/munmap above).
   */
  mapAnon?(size: number): Promise<number>;
  /** munmap(address, size) of memory mapAnon gave. */
  unmap?(address: number, size: number): Promise<void>;
}

/** Counters of a JsHeap. */
export interface JsHeapStats {
  mallocs: number;
  frees: number;
  /** bytes malloc'd and not freed */
  liveBytes: number;
  peakLiveBytes: number;
  /** live allocations per tag */
  live: Partial<Record<MemoryTag, number>>;
  mmaps: number;
  munmaps: number;
  /** bytes mapped and not unmapped */
  mappedBytes: number;
  peakMappedBytes: number;
}

const ALIGN = 16; // glibc malloc's alignment on x86_64

/**
 * The trivial ServerMemory: no real memory, only bookkeeping. malloc hands out
 * increasing 16-byte aligned addresses (never reused), mmap page-aligned ones in a
 * separate range; frees and unmaps of unknown addresses throw, so a server bug (a double
 * free, a leak found by the tests' stats) shows.
 */
export class JsHeap implements ServerMemory {
  private nextHeap = 0x10000000;
  private nextMap = 0x7f0000000000;
  private readonly blocks = new Map<number, { size: number; tag: MemoryTag }>();
  private readonly maps = new Map<number, { size: number; tag: MemoryTag }>();
  private readonly s: JsHeapStats = { mallocs: 0, frees: 0, liveBytes: 0, peakLiveBytes: 0, live: {}, mmaps: 0, munmaps: 0, mappedBytes: 0, peakMappedBytes: 0 };

  malloc(size: number, tag: MemoryTag): number {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`malloc(${size})`);
    const addr = this.nextHeap;
    this.nextHeap += Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN) + ALIGN; // a chunk header
    this.blocks.set(addr, { size, tag });
    this.s.mallocs++;
    this.s.liveBytes += size;
    this.s.peakLiveBytes = Math.max(this.s.peakLiveBytes, this.s.liveBytes);
    this.s.live[tag] = (this.s.live[tag] ?? 0) + 1;
    return addr;
  }

  free(addr: number): void {
    const b = this.blocks.get(addr);
    if (b === undefined) throw new Error(`free(0x${addr.toString(16)}): not allocated`);
    this.blocks.delete(addr);
    this.s.frees++;
    this.s.liveBytes -= b.size;
    this.s.live[b.tag] = (this.s.live[b.tag] ?? 1) - 1;
  }

  mmap(size: number, tag: MemoryTag): number {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`mmap(${size})`);
    const len = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const addr = this.nextMap;
    this.nextMap += len + PAGE_SIZE;
    this.maps.set(addr, { size: len, tag });
    this.s.mmaps++;
    this.s.mappedBytes += len;
    this.s.peakMappedBytes = Math.max(this.s.peakMappedBytes, this.s.mappedBytes);
    return addr;
  }

  /** Releases a whole mapping or its tail (the cases the server uses). */
  munmap(addr: number, size: number): void {
    const len = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    if (len === 0) return;
    for (const [start, m] of this.maps) {
      if (addr < start || addr + len > start + m.size) continue;
      if (addr === start && len === m.size) this.maps.delete(start);
      else if (addr + len === start + m.size) m.size -= len;
      else throw new Error(`munmap(0x${addr.toString(16)}, ${size}): only whole mappings or their tails`);
      this.s.munmaps++;
      this.s.mappedBytes -= len;
      return;
    }
    throw new Error(`munmap(0x${addr.toString(16)}, ${size}): not mapped`);
  }

  /** A snapshot of the counters. */
  get stats(): JsHeapStats {
    return { ...this.s, live: { ...this.s.live } };
  }

  /** Live allocations (malloc'd, not freed). */
  get liveCount(): number {
    return this.blocks.size;
  }
}
