/*
 * File: servers/ext2fs/bcache.ts
 * Purpose: BufferCache, the server's block buffers: an LRU of file system blocks between
 *          the ext2 reader and the device, each buffer a heap allocation (ServerMemory).
 *
 * It is a BlockSource wrapping the device: block-aligned reads are served from cached
 * buffers, the missing runs fetched with one device read each and kept (malloc'd);
 * evicted buffers are freed. Unaligned reads (the superblock at byte 1024 of a
 * 4 KiB-block file system) go to the device. The reader's own small metadata LRUs sit
 * above it and are not heap-accounted (that needs an allocator option in the reader).
 */

import type { BlockSource } from './source.js';
import type { ServerMemory } from './heap.js';

/** Counters of a BufferCache. */
export interface BufferCacheStats {
  hits: number;
  misses: number;
  /** device reads issued */
  deviceReads: number;
  evictions: number;
  /** buffers held */
  buffers: number;
}

export class BufferCache implements BlockSource {
  private readonly lru = new Map<number, { bytes: Uint8Array; addr: number }>();
  private readonly s = { hits: 0, misses: 0, deviceReads: 0, evictions: 0 };

  /**
   * `blockSize`: the file system's block size; `capacity`: buffers kept (0 disables
   * caching: every read goes to the device).
   */
  constructor(
    private readonly device: BlockSource,
    readonly blockSize: number,
    private readonly memory: ServerMemory,
    readonly capacity: number,
  ) {
    if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw new RangeError(`block size ${blockSize}`);
  }

  get size(): number {
    return this.device.size;
  }

  get stats(): BufferCacheStats {
    return { ...this.s, buffers: this.lru.size };
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const bs = this.blockSize;
    if (this.capacity === 0 || offset % bs !== 0 || length % bs !== 0 || length === 0) {
      this.s.deviceReads++;
      return this.device.read(offset, length);
    }
    const first = offset / bs;
    const n = length / bs;
    const out = new Uint8Array(length);
    let k = 0;
    while (k < n) {
      const hit = this.lru.get(first + k);
      if (hit !== undefined) {
        this.s.hits++;
        this.lru.delete(first + k); // most recently used goes last
        this.lru.set(first + k, hit);
        out.set(hit.bytes, k * bs);
        k++;
        continue;
      }
      let run = 1; // the missing run from here
      while (k + run < n && !this.lru.has(first + k + run)) run++;
      this.s.misses += run;
      this.s.deviceReads++;
      const bytes = await this.device.read((first + k) * bs, run * bs);
      out.set(bytes, k * bs);
      for (let j = 0; j < run; j++) this.insert(first + k + j, bytes.slice(j * bs, (j + 1) * bs));
      k += run;
    }
    return out;
  }

  private insert(block: number, bytes: Uint8Array): void {
    if (this.lru.has(block)) return; // filled meanwhile by a concurrent read
    while (this.lru.size >= this.capacity) {
      const [oldest, b] = this.lru.entries().next().value as [number, { addr: number }];
      this.lru.delete(oldest);
      this.memory.free(b.addr);
      this.s.evictions++;
    }
    this.lru.set(block, { bytes, addr: this.memory.malloc(this.blockSize, 'block') });
  }

  /** Free every buffer. */
  clear(): void {
    for (const b of this.lru.values()) this.memory.free(b.addr);
    this.lru.clear();
  }
}
