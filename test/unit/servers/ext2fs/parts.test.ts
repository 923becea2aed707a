/*
 * File: test/unit/servers/ext2fs/parts.test.ts
 * Purpose: the parts of the ext2fs task that live in a VM map, on an embedded kernel:
 *          the device store (device_read buffers as regions, released; multi-run reads
 *          assembled in an mmap'd buffer, the unused tail unmapped), the glibc heap over
 *          RPCs (handles in order, arenas per thread, stacks, settle), the server threads
 *          (rotation, creation when the last waiting thread is taken, fixed pools,
 *          timeouts) and RpcVmOps' return codes.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createKernel, type Kernel } from '../../../../src/kern/kernel.js';
import { KERN_NO_SPACE, KERN_SUCCESS } from '../../../../src/mach/kern_return.js';
import type { MachTask } from '../../../../src/runtime/task.js';
import { DeviceStore, type StoreBuffer } from '../../../../src/servers/ext2fs/device_store.js';
import type { Ext2Fs } from '../../../../src/servers/ext2fs/ext2.js';
import { Ext2Pager, FREE_PAGE_BUFS, type PagerObject } from '../../../../src/servers/ext2fs/pager.js';
import { RpcVmOps } from '../../../../src/servers/ext2fs/rpc_vm_ops.js';
import { TaskMemory } from '../../../../src/servers/ext2fs/task_memory.js';
import { currentThread, runAsThread, ServerThreads } from '../../../../src/servers/ext2fs/threads.js';
import { vminfo } from '../../../../src/vm/vminfo.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmach-ext2parts-'));
const image = join(dir, 'disk.img');
const bytes = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 13 + (i >> 10)) & 0xff);
writeFileSync(image, bytes);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kernels: Kernel[] = [];
afterEach(() => {
  for (const k of kernels.splice(0)) k.shutdown();
});

function boot(): { k: Kernel; t: MachTask; map: () => string[]; entries: () => number } {
  const k = createKernel({ vmLevel: 'L0', disks: [{ path: image, name: 'hd0', format: 'object' }] });
  kernels.push(k);
  const t = k.createTask('ext2fs', { privileged: true });
  const kt = k.tasks.get(t.info.id)!;
  return { k, t, map: () => vminfo(kt.map), entries: () => kt.map.nentries };
}

describe('DeviceStore: libstore over device_read', () => {
  it('store_read returns the reply region itself; release() unmaps it; read() copies and releases', async () => {
    const { t, entries } = boot();
    const store = await DeviceStore.open(t, 'hd0');
    expect(store.size).toBe(bytes.length);
    const buf = await store.store_read(1024, 6000);
    expect(buf.inMap).toBe(true);
    expect(buf.address % 4096).toBe(0);
    expect(buf.mapped).toBe(8192);
    expect(Buffer.from(buf.bytes).equals(Buffer.from(bytes.subarray(1024, 7024)))).toBe(true);
    expect(entries()).toBe(1);
    await store.release(buf);
    expect(entries()).toBe(0);
    // Any alignment through read(); nothing stays mapped.
    expect(Buffer.from(await store.read(700, 100)).equals(Buffer.from(bytes.subarray(700, 800)))).toBe(true);
    expect(entries()).toBe(0);
    // At the end of the store: short.
    expect((await store.store_read(63 * 1024, 4096)).bytes.length).toBe(1024);
    await expect(store.read(63 * 1024, 4096)).rejects.toThrow(/end of the store/);
    expect(store.stats).toMatchObject({ storeReads: 4, multiRunReads: 0 });
  });

  it('a read over several runs: one mmap\'d buffer, each run\'s reply copied and unmapped, the unused tail unmapped', async () => {
    const { t, entries } = boot();
    const memory = await TaskMemory.create(new RpcVmOps(t));
    const base = entries();
    // Records 64..71 then 0..7: the store's bytes 4096.. are the device's 0..
    const store = await DeviceStore.open(t, 'hd0', { runs: [{ start: 64, length: 8 }, { start: 0, length: 8 }], memory });
    expect(store.size).toBe(8192);
    const buf = await store.store_read(2048, 6144);
    expect(buf.inMap).toBe(false);
    expect(buf.bytes.length).toBe(6144);
    expect(Buffer.from(buf.bytes.subarray(0, 2048)).equals(Buffer.from(bytes.subarray(64 * 512 + 2048, 64 * 512 + 4096)))).toBe(true);
    expect(Buffer.from(buf.bytes.subarray(2048)).equals(Buffer.from(bytes.subarray(0, 4096)))).toBe(true);
    expect(store.stats).toMatchObject({ multiRunReads: 1, deviceReads: 2, buffersReleased: 2 });
    await store.release(buf);
    await memory.settle();
    expect(entries()).toBe(base);
    // Past the end of the store: the amount is clipped, the buffer covers what was read.
    const short = await store.store_read(4096, 8192);
    expect(short.bytes.length).toBe(4096);
    await store.release(short);
    expect(entries()).toBe(base);
  });

  it('a task without the device master port cannot open the disk', async () => {
    const { k } = boot();
    const user = k.createTask('user');
    await expect(DeviceStore.open(user, 'hd0')).rejects.toThrow(/no device master port/);
  });
});

describe('TaskMemory: glibc malloc over the task\'s own VM', () => {
  it('handles at once, the calls in order; blocks of threads come from their arenas; settle', async () => {
    const { t, map } = boot();
    const ops = new RpcVmOps(t);
    const m = await TaskMemory.create(ops);
    expect(ops.stats.vm_map).toBe(1); // init_brk's reservation
    const a = m.malloc(100, 'node');
    const b = runAsThread(1, () => m.malloc(200, 'protid'));
    expect(a).not.toBe(b);
    m.free(a);
    await m.settle();
    expect(m.stats).toMatchObject({ mallocs: 2, frees: 1, live: { node: 0, protid: 1 }, arenas: 2 });
    expect(m.malloc_.arenaFor(0)).toBe(0);
    expect(m.malloc_.arenaFor(1)).not.toBe(0);
    // Thread 1's arena is a heap reserved PROT_NONE and opened by vm_protect: visible in vminfo.
    expect(map().some((l) => /prot=RW, max_prot=RWX/.test(l))).toBe(true);
    m.free(0xdead);
    expect(m.errors.length).toBe(1);
  });

  it('mapAnon/unmap, mmap/munmap of tails, thread stacks', async () => {
    const { t, entries } = boot();
    const m = await TaskMemory.create(new RpcVmOps(t), { stackSize: 16 * 4096 });
    const base = entries();
    const a = await m.mapAnon(10_000);
    expect(a % 4096).toBe(0);
    await m.unmap(a, 10_000);
    const h = m.mmap(3 * 4096, 'readdir reply');
    m.munmap(h + 8192, 4096);
    m.munmap(h, 8192);
    await m.threadStarted(7);
    expect(m.stackRanges()).toEqual([{ thread: 7, address: expect.any(Number), size: 16 * 4096 }]);
    await m.threadExited(7);
    await m.settle();
    expect(m.stats).toMatchObject({ mmaps: 2, munmaps: 3, stacks: 1, stacksFreed: 1 });
    expect(entries()).toBe(base);
    expect(m.errors).toEqual([]);
  });
});

describe('ServerThreads', () => {
  it('one thread always waits: a new one when the last is taken; waiting threads take requests in turn', async () => {
    const started: number[] = [];
    const th = new ServerThreads({ firstId: 1, started: (id) => { started.push(id); } });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) await th.run(() => { seen.push(currentThread()); });
    expect(started).toEqual([1, 2]);
    expect(seen).toEqual([1, 2, 1, 2]);
    // Three at once: a third and a fourth thread.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const busy = [th.run(() => gate), th.run(() => gate), th.run(() => gate)];
    await new Promise((r) => setTimeout(r, 5));
    release();
    await Promise.all(busy);
    expect(th.stats).toMatchObject({ created: 4, alive: 4, peakBusy: 3 });
  });

  it('libdiskfs\'s main thread serves first; idle threads time out, the main thread and the last waiting one stay', async () => {
    let now = 0;
    const exited: number[] = [];
    const th = new ServerThreads({ firstId: 1, initial: [0], timeoutMs: 1000, now: () => now, exited: (id) => { exited.push(id); } });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) await th.run(() => { seen.push(currentThread()); });
    expect(seen).toEqual([0, 1, 0]);
    now = 5000;
    await th.run(() => undefined);
    expect(exited).toEqual([1]);
    expect(th.stats.alive).toBeGreaterThanOrEqual(2);
  });

  it('requests arriving while a thread is being created all get one (stacks mapped asynchronously)', async () => {
    const th = new ServerThreads({ firstId: 1, started: () => new Promise((r) => setTimeout(r, 2)) });
    const ids = await Promise.all(Array.from({ length: 10 }, () => th.run(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentThread();
    })));
    expect(ids.every((id) => id >= 1)).toBe(true);
    expect(th.stats.alive).toBe(th.stats.created);
  });

  it('a fixed pool: requests wait for a free thread, in order', async () => {
    const th = new ServerThreads({ firstId: 10, initial: [5], onDemand: false });
    const order: string[] = [];
    const a = th.run(async () => { order.push('a'); await new Promise((r) => setTimeout(r, 5)); order.push('a done'); });
    const b = th.run(() => { order.push(`b on ${currentThread()}`); });
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'a done', 'b on 5']);
    expect(() => new ServerThreads({ firstId: 1, onDemand: false })).toThrow(/initial/);
  });
});

describe('RpcVmOps', () => {
  it('returns kern_return_t codes as VmOps does; touches make no RPC unless given a way', async () => {
    const { t } = boot();
    const touched: number[] = [];
    const ops = new RpcVmOps(t, { touch: async (a) => { touched.push(a); } });
    const r = await ops.vm_allocate(0x100000, 0x2000, false);
    expect(r).toEqual({ kr: KERN_SUCCESS, address: 0x100000 });
    expect((await ops.vm_allocate(0x100000, 0x1000, false)).kr).toBe(KERN_NO_SPACE);
    expect(await ops.vm_protect(0x100000, 0x1000, false, 1)).toBe(KERN_SUCCESS);
    expect((await ops.vm_map(0, 0x3000, true, 0, 7, 1)).kr).toBe(KERN_SUCCESS);
    expect(await ops.vm_deallocate(0x100000, 0x2000)).toBe(KERN_SUCCESS);
    await ops.touch(0x5000, 10);
    expect(touched).toEqual([0x5000]);
    expect(ops.stats).toEqual({ vm_allocate: 2, vm_deallocate: 1, vm_protect: 1, vm_map: 1, touches: 1 });
    expect(ops.rpcs).toBe(5);
    await new RpcVmOps(t).touch(0, 4096); // no RPC, no error
  });
});

describe('file_pager_read_page (ext2fs/pager.c)', () => {
  // A 1 KiB-block file system: the file's blocks by file block number (0: a hole).
  const dev = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 7 + (i >> 10)) & 0xff);
  function pager(blocks: number[]): { p: Ext2Pager; obj: PagerObject; reads: Array<[number, number]>; released: number[]; maps: number[] } {
    const reads: Array<[number, number]> = [];
    const released: number[] = [];
    const maps: number[] = [];
    let next = 0x100000;
    const fs = { blockSize: 1024, blockRange: async (_ino: number, first: number, count: number) => Uint32Array.from(blocks.slice(first, first + count)) };
    const store = {
      store_read: async (off: number, len: number): Promise<StoreBuffer> => {
        reads.push([off / 1024, len / 1024]);
        const address = next;
        next += 4096;
        return { address, mapped: 4096, bytes: dev.slice(off, off + len), inMap: true };
      },
      release: async (b: StoreBuffer) => { released.push(b.address); },
    };
    const memory = { mapAnon: async (size: number) => { maps.push(size); return 0x800000; }, unmap: async () => undefined };
    const p = new Ext2Pager(null as never, fs as unknown as Ext2Fs, store as never, memory as never);
    const size = blocks.length * 1024 - 100;
    const obj: PagerObject = { port: 1, ino: 12, size, allocsize: blocks.length * 1024, control: null, name: null, addr: 0, chain: Promise.resolve(), inits: 0 };
    return { p, obj, reads, released, maps };
  }
  const blockOf = (b: number): Uint8Array => dev.subarray(b * 1024, (b + 1) * 1024);

  it('contiguous blocks: one store_read, whose buffer is the page (supplied from the map)', async () => {
    const { p, obj, reads, released } = pager([20, 21, 22, 23]);
    const { buf, writelock } = await p.file_pager_read_page(obj, 0);
    expect(reads).toEqual([[20, 4]]);
    expect(released).toEqual([]);
    expect(buf).toMatchObject({ address: 0x100000, inMap: true });
    expect(writelock).toBe(false);
    expect(Buffer.from(buf.bytes).equals(Buffer.from(dev.subarray(20 * 1024, 24 * 1024)))).toBe(true);
  });

  it('scattered blocks and a hole: later runs copied into the first buffer and freed; the bytes no longer all in the map', async () => {
    const { p, obj, reads, released } = pager([10, 12, 0, 13]);
    const { buf, writelock } = await p.file_pager_read_page(obj, 0);
    expect(reads).toEqual([[10, 1], [12, 1], [13, 1]]);
    expect(released).toEqual([0x101000, 0x102000]);
    expect(buf.inMap).toBe(false);
    expect(writelock).toBe(true);
    const want = Buffer.concat([blockOf(10), blockOf(12), Buffer.alloc(1024), blockOf(13)]);
    expect(Buffer.from(buf.bytes).equals(want)).toBe(true);
    expect(p.stats).toMatchObject({ pageinReads: 3, freedBufs: 2, poolPages: 0 });
  });

  it('a hole first: a page of the get_page_buf pool (16 pages mapped at once); past the allocated size: EIO', async () => {
    const { p, obj, maps } = pager([5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    const a = await p.file_pager_read_page(obj, 4096);
    const b = await p.file_pager_read_page(obj, 8192);
    expect(maps).toEqual([FREE_PAGE_BUFS * 4096]);
    expect(a.buf).toMatchObject({ address: 0x800000, inMap: true });
    expect(b.buf).toMatchObject({ address: 0x801000, inMap: true });
    expect(a.writelock).toBe(true);
    expect(Buffer.from(a.buf.bytes).equals(Buffer.alloc(4096))).toBe(true);
    expect(p.poolRanges).toEqual([{ address: 0x800000, size: FREE_PAGE_BUFS * 4096 }]);
    await expect(p.file_pager_read_page(obj, 3 * 4096)).rejects.toThrow(/page-in error/);
  });
});
