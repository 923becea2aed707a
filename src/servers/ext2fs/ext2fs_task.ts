/*
 * File: servers/ext2fs/ext2fs_task.ts
 * Purpose: startExt2fs, the ext2fs server assembled in a task that has a VM map and the
 *          device master port: what the boot module (main.ts) runs, and what tests and
 *          the benchmark run embedded.
 *
 * The pieces, as the Hurd's ext2fs has them:
 *
 *   DeviceStore   the disk through device_open/device_read (libstore's device store);
 *                 read buffers are the reply regions, munmapped after use
 *   TaskMemory    glibc's malloc over the task's own VM (RPCs), one arena per thread;
 *                 node cache, open files, directory data, block buffers and pager
 *                 structs are heap blocks
 *   BufferCache   block buffers (heap) between the reader and the store: metadata and,
 *                 with ioRead 'cache', file data
 *   Ext2Pager     the file pager: memory objects for io_map, pager_memcpy and directory
 *                 windows; page-ins with memory_object_data_supply(dealloc)
 *   ServerThreads the server's threads (libports: one always waiting; arenas per thread)
 *   Ext2Server    fs.defs/io.defs over a port set of protids
 *
 * Startup runs as the main thread (main arena): the superblock, the root node. Requests
 * run on server threads, created on demand (their stacks mapped), so nearly everything
 * the server keeps lives in non-main arenas, as in the multithreaded Hurd server.
 *
 * libdiskfs's node cache is unbounded (nodes stay until the file system goes away); so is
 * this server's by default.
 */

import type { MachTask } from '../../runtime/task.js';
import { BufferCache } from './bcache.js';
import { DeviceStore, type StoreRun } from './device_store.js';
import { Ext2Fs } from './ext2.js';
import { Ext2Pager } from './pager.js';
import { HEAP_MAX_SIZE } from '../../libc/chunk.js';
import { RpcVmOps } from './rpc_vm_ops.js';
import { Ext2Server, type Ext2ServerStats } from './server.js';
import { TaskMemory, type TaskMemoryStats } from './task_memory.js';
import { ServerThreads, type ServerThreadsStats } from './threads.js';
import type { Ext2PagerStats } from './pager.js';
import type { DeviceStoreStats } from './device_store.js';
import type { RpcVmOpsStats } from './rpc_vm_ops.js';

export interface Ext2fsTaskOptions {
  /** The device name given to device_open (default hd0). */
  device?: string;
  /** The store's runs (default the whole device). */
  runs?: StoreRun[];
  /** Block buffers kept (default 1024). */
  bufferBlocks?: number;
  /** Nodes kept unreferenced (default: unbounded, as libdiskfs). */
  nodeCacheSize?: number;
  /** How io_read gets file data (default 'pager', as libdiskfs). */
  ioRead?: 'pager' | 'cache';
  /** Directory windows in dir_lookup (default true). */
  dirWindows?: boolean;
  /** Processors glibc sees (default 1). */
  cores?: number;
  /** Faults pages in on writes (default: no RPC; see rpc_vm_ops.ts). */
  touch?: (address: number, size: number) => Promise<void>;
  /** Idle time after which a server thread exits (default 120 s, libdiskfs). */
  threadTimeoutMs?: number;
  /** d_type in dir_readdir (default 'unknown', the Hurd's ext2fs). */
  dtype?: 'unknown' | 'filetype';
  /** Pages per get_page_buf pool (default 16). */
  poolPages?: number;
  /** libpager worker threads (default 1). */
  pagerWorkers?: number;
  /** Requests served at once (default 16). */
  concurrency?: number;
}

/** What a range of the task's address space holds (for reading its vminfo). */
export type LayoutKind = 'brk heap' | 'arena heap' | 'thread stack' | 'page pool';

/** The address ranges the server's memory is known to occupy. */
export interface LayoutRange {
  kind: LayoutKind;
  address: number;
  size: number;
}

/** Everything the running server has counted. */
export interface Ext2fsTaskStats {
  layout: LayoutRange[];
  server: Ext2ServerStats;
  pager: Ext2PagerStats;
  store: DeviceStoreStats;
  memory: TaskMemoryStats;
  vmCalls: RpcVmOpsStats;
  threads: ServerThreadsStats;
}

export interface Ext2fsTask {
  task: MachTask;
  ops: RpcVmOps;
  memory: TaskMemory;
  store: DeviceStore;
  fs: Ext2Fs;
  pager: Ext2Pager;
  threads: ServerThreads;
  server: Ext2Server;
  /** The root directory's protid (receive right name in the task's space). */
  root: number;
  stats(): Ext2fsTaskStats;
  /** Bugs seen so far (exceptions that were not file system errors). */
  internalErrors(): unknown[];
  /** Stop serving and release everything (ports, heap). */
  stop(): Promise<void>;
}

/**
 * The ext2fs server in `task` (which must hold the device master port), serving the ext2
 * file system on the device. Throws what opening the device or the file system throws.
 */
export async function startExt2fs(task: MachTask, options: Ext2fsTaskOptions = {}): Promise<Ext2fsTask> {
  const ops = new RpcVmOps(task, { touch: options.touch });
  const memory = await TaskMemory.create(ops, { cores: options.cores });
  const store = await DeviceStore.open(task, options.device ?? 'hd0', { runs: options.runs, memory });
  const probe = await Ext2Fs.open(store);
  const blocks = options.bufferBlocks ?? 1024;
  const buffers = blocks > 0 ? new BufferCache(store, probe.blockSize, memory, blocks) : null;
  const fs = buffers === null ? probe : await Ext2Fs.open(buffers);
  const pager = new Ext2Pager(task, fs, store, memory, { poolPages: options.poolPages, workers: options.pagerWorkers });
  await pager.start();
  const threads = new ServerThreads({
    firstId: 1,
    timeoutMs: options.threadTimeoutMs,
    started: (id) => memory.threadStarted(id),
    exited: (id) => memory.threadExited(id),
  });
  const server = new Ext2Server(task, fs, {
    memory, pager, threads, ioRead: options.ioRead, dirWindows: options.dirWindows, dtype: options.dtype,
    nodeCacheSize: options.nodeCacheSize ?? Number.MAX_SAFE_INTEGER, concurrency: options.concurrency,
  }, buffers);
  await server.start();
  const root = await server.getRoot();
  await memory.settle();
  return {
    task, ops, memory, store, fs, pager, threads, server, root,
    stats: () => ({
      layout: layout(memory, pager),
      server: server.stats, pager: pager.stats, store: { ...store.stats }, memory: memory.stats,
      vmCalls: { ...ops.stats }, threads: threads.stats,
    }),
    internalErrors: () => [...server.internalErrors, ...pager.internalErrors, ...memory.errors],
    async stop() {
      await server.stop();
      await pager.stop();
      await threads.shutdown();
      await memory.settle();
    },
  };
}

/** Where the heap, the arenas' heaps, the thread stacks and the page pools are. */
function layout(memory: TaskMemory, pager: Ext2Pager): LayoutRange[] {
  const hurd = memory.malloc_.hurd;
  const out: LayoutRange[] = [{ kind: 'brk heap', address: hurd.brkStart, size: hurd.dataEnd - hurd.brkStart }];
  for (const a of memory.malloc_.arenas()) for (const h of a.heaps) out.push({ kind: 'arena heap', address: h.address, size: HEAP_MAX_SIZE });
  for (const s of memory.stackRanges()) out.push({ kind: 'thread stack', address: s.address, size: s.size });
  for (const p of pager.poolRanges) out.push({ kind: 'page pool', ...p });
  return out.sort((a, b) => a.address - b.address);
}
