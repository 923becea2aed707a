/*
 * File: servers/default-pager/swap.ts
 * Purpose: the default pager's backing store (the Hurd's serverboot/default_pager.c
 *          partitions, reduced to one): a swap file cut into page-sized slots, and its
 *          free-space map, a bitmap with one bit per slot.
 *
 * A slot is allocated when a page first comes back from the kernel
 * (memory_object_data_return / _data_initialize) and stays the page's until its object
 * terminates, when all of the object's slots are freed: the kernel frees clean pages
 * without returning them, so the pager must keep what it has. Allocation is next-fit (the
 * search starts where the last one ended, so consecutive pageouts land in consecutive
 * slots). I/O is positional and synchronous (pread/pwrite of one page): a 4 KiB write
 * to the page cache costs microseconds, and a request that follows a return for the same
 * page always reads what the return wrote.
 */

import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { PAGE_SIZE } from '../../vm/vm_param.js';

/** The free-space map: one bit per slot, set while the slot is in use. */
export class SlotMap {
  readonly slots: number;
  private readonly bits: Uint32Array;
  private used = 0;
  /** where the next search starts (next fit) */
  private hint = 0;

  constructor(slots: number) {
    if (!Number.isSafeInteger(slots) || slots < 0) throw new RangeError(`SlotMap: bad slot count ${slots}`);
    this.slots = slots;
    this.bits = new Uint32Array(Math.ceil(slots / 32));
  }

  /** Slots in use. */
  get inUse(): number {
    return this.used;
  }

  /** Slots free. */
  get free(): number {
    return this.slots - this.used;
  }

  /** Whether `slot` is in use. */
  isSet(slot: number): boolean {
    return (this.bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  /** A free slot, now in use; -1 when the map is full. */
  alloc(): number {
    if (this.used >= this.slots) return -1;
    const words = this.bits.length;
    let w = this.hint >>> 5;
    for (let n = 0; n <= words; n++, w = (w + 1) % words) {
      const word = this.bits[w]!;
      if (word === 0xffffffff) continue;
      // lowest clear bit: ~word & (word + 1)
      const bit = 31 - Math.clz32(~word & (word + 1));
      const slot = w * 32 + bit;
      if (slot >= this.slots) continue;
      this.bits[w] = word | (1 << bit);
      this.used++;
      this.hint = slot + 1 >= this.slots ? 0 : slot + 1;
      return slot;
    }
    return -1;
  }

  /** The slot is free again. Throws if it was not in use (a pager bug). */
  release(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots || !this.isSet(slot)) {
      throw new Error(`SlotMap: slot ${slot} is not in use`);
    }
    this.bits[slot >>> 5]! &= ~(1 << (slot & 31));
    this.used--;
  }
}

export interface SwapFileOptions {
  /** the file (created or truncated, mode 0600) */
  path: string;
  /** its size in pages */
  pages: number;
  /** remove the file when closed (a temporary swap file) */
  removeOnClose?: boolean;
}

/** The swap file: page slots on disk and their free-space map. */
export class SwapFile {
  readonly path: string;
  readonly map: SlotMap;
  private fd: number;
  private readonly removeOnClose: boolean;
  /** page writes and reads done (figures) */
  writes = 0;
  reads = 0;

  constructor(options: SwapFileOptions) {
    this.path = options.path;
    this.map = new SlotMap(options.pages);
    this.removeOnClose = options.removeOnClose ?? false;
    this.fd = openSync(options.path, 'w+', 0o600);
    ftruncateSync(this.fd, options.pages * PAGE_SIZE);
  }

  /** Size in bytes. */
  get totalBytes(): number {
    return this.map.slots * PAGE_SIZE;
  }

  /** Free space in bytes. */
  get freeBytes(): number {
    return this.map.free * PAGE_SIZE;
  }

  /** A free slot, or -1 when the file is full. */
  alloc(): number {
    return this.map.alloc();
  }

  release(slot: number): void {
    this.map.release(slot);
  }

  /** Writes one page (the first PAGE_SIZE bytes of `data`, zero-padded) to `slot`. */
  write(slot: number, data: Uint8Array): void {
    this.check(slot);
    let page = data;
    if (data.length < PAGE_SIZE) {
      page = new Uint8Array(PAGE_SIZE);
      page.set(data);
    }
    let done = 0;
    while (done < PAGE_SIZE) done += writeSync(this.fd, page, done, PAGE_SIZE - done, slot * PAGE_SIZE + done);
    this.writes++;
  }

  /** Reads the page in `slot`. */
  read(slot: number): Uint8Array {
    this.check(slot);
    const page = new Uint8Array(PAGE_SIZE);
    let done = 0;
    while (done < PAGE_SIZE) {
      const n = readSync(this.fd, page, done, PAGE_SIZE - done, slot * PAGE_SIZE + done);
      if (n === 0) break;
      done += n;
    }
    this.reads++;
    return page;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    if (this.removeOnClose) rmSync(this.path, { force: true });
  }

  private check(slot: number): void {
    if (this.fd < 0) throw new Error('swap file closed');
    if (!this.map.isSet(slot)) throw new Error(`swap slot ${slot} is not allocated`);
  }
}
