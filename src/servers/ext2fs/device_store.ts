/*
 * File: servers/ext2fs/device_store.ts
 * Purpose: DeviceStore, libstore's device store as the Hurd's ext2fs uses it: the disk
 *          opened with device_open on the device master port, read with device_read,
 *          whose out-of-line reply is a new region the kernel placed in this task's map.
 *
 * store_read (libstore/rdwr.c) with Mach's buffer-return semantics, over dev_read
 * (libstore/device.c):
 *
 *  - a read inside one run is one device_read; its reply region *is* the buffer returned
 *    (the caller owns it: it uses it and munmaps it, or hands it on, as the file pager
 *    does with memory_object_data_supply(..., dealloc));
 *  - a read that spans several runs gets a buffer mmap'd for the whole amount; each run's
 *    device_read reply is copied into it and munmapped; if less than the amount came
 *    back, the unused tail of the buffer is munmapped;
 *  - reads stop at the end of the store.
 *
 * As a BlockSource (what the ext2 reader and the buffer cache read metadata through),
 * read() is store_read, a copy of the bytes, and munmap of the buffer.
 *
 * Runs are in DEV_BSIZE (512-byte) records. The default store is the whole device, one
 * run; `runs` makes a store of several (a remapped store, as libstore's remap class).
 */

import { device_get_status, device_open, device_read } from '../../gen/device.user.js';
import { vm_deallocate } from '../../gen/mach.user.js';
import type { MachPort } from '../../mach/mig.js';
import type { MachTask } from '../../runtime/task.js';
import { vm_ool_address } from '../../vm/ool.js';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import type { BlockSource } from './source.js';

/** include/device/device_types.h */
const D_READ = 0x1;
const DEV_GET_SIZE = 0;
/** The record size of disks. */
export const DEV_BSIZE = 512;

/** One run of a store: `length` records from record `start` of the device. */
export interface StoreRun {
  start: number;
  length: number;
}

/** A buffer store_read returned. */
export interface StoreBuffer {
  /** Where it is in the task's map (page-aligned; 0 is an address like any other). */
  address: number;
  /** Bytes of the map it covers (whole pages); 0: it is not in the map (nothing read, or no memory to map it). */
  mapped: number;
  /** The data read. */
  bytes: Uint8Array;
  /**
   * The task's map holds `bytes` at `address` (a device_read reply used as it came);
   * false when the bytes were assembled by copies (the map holds what mmap gave).
   */
  inMap: boolean;
}

/** The anonymous mappings a store needs for multi-run reads (TaskMemory provides them). */
export interface StoreMemory {
  mapAnon(size: number): Promise<number>;
  unmap(address: number, size: number): Promise<void>;
}

/** Counters of a DeviceStore. */
export interface DeviceStoreStats {
  /** device_read calls and the bytes they returned */
  deviceReads: number;
  bytesRead: number;
  /** store_read calls, and those that spanned several runs */
  storeReads: number;
  multiRunReads: number;
  /** buffers munmapped by the store or by read() */
  buffersReleased: number;
}

const roundPage = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

export class DeviceStore implements BlockSource {
  readonly stats: DeviceStoreStats = { deviceReads: 0, bytesRead: 0, storeReads: 0, multiRunReads: 0, buffersReleased: 0 };
  /** Bytes in the store (the sum of its runs). */
  readonly size: number;
  private readonly runs: ReadonlyArray<StoreRun & { at: number }>;

  private constructor(
    readonly task: MachTask,
    readonly device: MachPort,
    readonly deviceSize: number,
    runs: StoreRun[],
    private readonly memory: StoreMemory | null,
  ) {
    let at = 0;
    this.runs = runs.map((r) => {
      const run = { ...r, at };
      at += r.length * DEV_BSIZE;
      return run;
    });
    this.size = at;
  }

  /**
   * device_open(device master, D_READ, name) and its size (device_get_status
   * DEV_GET_SIZE). `runs` default to the whole device. `memory` maps the buffers of
   * multi-run reads (without it they are not mapped: address 0).
   * Throws MachError (D_NO_SUCH_DEVICE ...), or Error without a device master port.
   */
  static async open(task: MachTask, name = 'hd0', options: { runs?: StoreRun[]; memory?: StoreMemory | null } = {}): Promise<DeviceStore> {
    if (task.deviceMaster === null) throw new Error(`device ${name}: this task has no device master port (not a boot server)`);
    const { device } = await device_open(task.deviceMaster, D_READ, name);
    if (device === null) throw new Error(`device ${name}: no device port returned`);
    const { status } = await device_get_status(device, DEV_GET_SIZE, 2);
    const size = status[0]!;
    const runs = options.runs ?? [{ start: 0, length: Math.floor(size / DEV_BSIZE) }];
    for (const r of runs) {
      if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.length) || r.start < 0 || r.length < 0 || (r.start + r.length) * DEV_BSIZE > size) {
        throw new RangeError(`device ${name}: run ${r.start}+${r.length} outside the device (${size} bytes)`);
      }
    }
    return new DeviceStore(task, device, size, runs, options.memory ?? null);
  }

  /**
   * store_read: `amount` bytes at byte `offset` (a multiple of DEV_BSIZE), fewer at the
   * end of the store. The buffer is the caller's: release() it, or hand it on.
   * Throws MachError (device errors) or RangeError (an unaligned offset).
   */
  async store_read(offset: number, amount: number): Promise<StoreBuffer> {
    if (offset % DEV_BSIZE !== 0 || offset < 0) throw new RangeError(`store_read at ${offset}: not a multiple of ${DEV_BSIZE}`);
    this.stats.storeReads++;
    if (offset + amount > this.size) amount = Math.max(0, this.size - offset);
    if (amount === 0) return { address: 0, mapped: 0, bytes: new Uint8Array(0), inMap: false };
    const k = this.runAt(offset);
    const run = this.runs[k]!;
    const inRun = run.at + run.length * DEV_BSIZE - offset;
    if (amount <= inRun) {
      // The first run has it all: the device's buffer is the result.
      return this.dev_read(run.start + (offset - run.at) / DEV_BSIZE, amount);
    }
    // Several runs: one buffer for the whole amount, each run's reply copied into it.
    this.stats.multiRunReads++;
    const whole = this.memory !== null ? await this.memory.mapAnon(amount) : null;
    const out = new Uint8Array(amount);
    let done = 0;
    for (let j = k; j < this.runs.length && done < amount; j++) {
      const r = this.runs[j]!;
      const from = j === k ? offset - r.at : 0;
      const n = Math.min(amount - done, r.length * DEV_BSIZE - from);
      const seg = await this.dev_read(r.start + from / DEV_BSIZE, n);
      out.set(seg.bytes, done);
      done += seg.bytes.length;
      await this.release(seg);
      if (seg.bytes.length < n) break; // a short read ends it
    }
    const mapped = roundPage(amount);
    const used = roundPage(done);
    if (whole !== null && used < mapped) await this.memory!.unmap(whole + used, mapped - used); // the unused tail
    return { address: whole ?? 0, mapped: whole === null ? 0 : used, bytes: out.subarray(0, done), inMap: false };
  }

  /** munmap a buffer store_read returned (vm_deallocate of its pages). */
  async release(buf: StoreBuffer): Promise<void> {
    if (buf.mapped === 0) return;
    this.stats.buffersReleased++;
    await vm_deallocate(this.task.self, buf.address - (buf.address % PAGE_SIZE), buf.mapped);
  }

  /**
   * BlockSource.read: `length` bytes at `offset` (any alignment: the records around are
   * read), copied out of the store's buffer, which is then munmapped.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = offset - (offset % DEV_BSIZE);
    const buf = await this.store_read(start, offset + length - start);
    try {
      const bytes = buf.bytes.slice(offset - start, offset - start + length);
      if (bytes.length !== length) throw new RangeError(`device read of ${length} bytes at ${offset}: only ${bytes.length} (end of the store)`);
      return bytes;
    } finally {
      await this.release(buf);
    }
  }

  /** dev_read: one device_read; its reply region in this task's map is the buffer. */
  private async dev_read(recnum: number, amount: number): Promise<StoreBuffer> {
    const { data } = await device_read(this.device, 0, recnum, amount);
    this.stats.deviceReads++;
    this.stats.bytesRead += data.length;
    const address = vm_ool_address(data);
    if (address === undefined) return { address: 0, mapped: 0, bytes: data, inMap: false };
    return { address, mapped: roundPage(data.length + (address % PAGE_SIZE)), bytes: data, inMap: address % PAGE_SIZE === 0 };
  }

  private runAt(offset: number): number {
    for (let k = 0; k < this.runs.length; k++) {
      const r = this.runs[k]!;
      if (offset >= r.at && offset < r.at + r.length * DEV_BSIZE) return k;
    }
    throw new RangeError(`store_read at ${offset}: past the end of the store (${this.size} bytes)`);
  }
}
