/*
 * File: servers/ext2fs/pager.ts
 * Purpose: Ext2Pager, the file pager of the ext2fs task (the Hurd's ext2fs/pager.c over
 *          libpager): one memory object per file, whose pages the kernel asks for with
 *          memory_object_data_request and the pager answers with
 *          memory_object_data_supply(..., dealloc), out of line from its own map.
 *
 * Followed (Hurd ext2fs/pager.c, libpager/data-request.c, libpager/object-init.c,
 * object-terminate.c):
 *
 *  - diskfs_get_filemap: a file's pager is made on first use (pager_create: a port in the
 *    file pager bucket and a struct pager, malloc'd) and kept with the node; callers get
 *    a send right to it. MAY_CACHE, MEMORY_OBJECT_COPY_DELAY.
 *  - memory_object_init: the control port is kept; memory_object_ready(may_cache,
 *    COPY_DELAY) answers. memory_object_terminate: the control and name ports go.
 *  - memory_object_data_request → file_pager_read_page, page by page:
 *      the page's blocks are found (holes are block 0); runs of consecutive blocks are
 *      read with store_read; the first read of a page allocates its buffer (the
 *      device_read reply *is* the page buffer); later runs are read into new buffers,
 *      copied into the first, and munmapped (free_page_buf); a hole with no buffer yet
 *      gets a page from get_page_buf, a pool that mmaps FREE_PAGE_BUFS pages at once and
 *      hands them out one by one (16 pages; later Hurd versions use 24); a page past the
 *      file's allocated size is an error (memory_object_data_error, EIO).
 *    The page goes to the kernel with memory_object_data_supply(dealloc = 1): the kernel
 *    takes it out of this task's map (vm_map_copyin with src_destroy). When the map does
 *    not hold the page's bytes (they were assembled by copies, which in C are writes
 *    into the buffer), the bytes travel in the message instead and the buffer is
 *    munmapped: the same entries come and go.
 *  - Holes are supplied write-locked (the C code sets *writelock), data pages unlocked.
 *  - memory_object_data_unlock: the file system is read-only: data_error (EROFS).
 *    memory_object_data_return: nothing to write (read-only); the region is deallocated.
 *
 * Threads: libpager's receiving thread copies each request into a malloc'd struct and
 * queues it for a worker thread, which frees it (one worker here [uncertain: the worker
 * count of the 2022 libpager]). Requests for one object are served in the order they
 * came (libpager's seqno ordering).
 *
 * What is simplified: the kernel's object cache is not modelled (an object dies when its
 * last mapping goes, and is initialised again on the next vm_map), so the pager's
 * memory_object_init/terminate traffic is heavier than on GNU Mach; pagers live as long
 * as the server (the Hurd keeps them while the kernel caches their objects).
 */

import { MachError, MIG_NO_REPLY } from '../../mach/kern_return.js';
import type { MachMessage } from '../../mach/message.js';
import { MACH_MSG_TYPE_MAKE_SEND } from '../../mach/message.js';
import type { MachPort, MigDemux } from '../../mach/mig.js';
import { MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE } from '../../mach/port.js';
import {
  memory_object_data_error, memory_object_data_supply, memory_object_ready, vm_deallocate,
} from '../../gen/mach.user.js';
import {
  mach_port_allocate, mach_port_destroy, mach_port_insert_right, mach_port_mod_refs, mach_port_move_member,
} from '../../gen/mach_port.user.js';
import { memory_object_server, type memory_object_routines } from '../../gen/memory_object.server.js';
import { mach_msg_server } from '../../runtime/server.js';
import type { MachTask } from '../../runtime/task.js';
import { vm_ool_address, vm_ool_region } from '../../vm/ool.js';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import type { DeviceStore, StoreBuffer } from './device_store.js';
import type { Ext2Fs } from './ext2.js';
import { EIO, EROFS } from './hurd_types.js';
import type { Node } from './node.js';
import type { FilePager } from './server.js';
import type { TaskMemory } from './task_memory.js';
import { runAsThread, ServerThreads } from './threads.js';

/** MEMORY_OBJECT_COPY_DELAY (include/mach/memory_object.h) */
const MEMORY_OBJECT_COPY_DELAY = 2;
const VM_PROT_NONE = 0;
const VM_PROT_WRITE = 2;
/** ext2fs/pager.c's FREE_PAGE_BUFS as the spec describes it (16; 24 in later Hurds). */
export const FREE_PAGE_BUFS = 16;
/** sizeof (struct pager) + sizeof (struct user_pager_info), roughly (i386). */
export const PAGER_HEAP_SIZE = 160;
/** libpager's queued request: a small struct plus the copied message. */
const REQUEST_HEAP_BASE = 32;

/** One file's pager (struct pager with its user_pager_info). */
export interface PagerObject {
  /** the memory object port: receive right, and one send right kept by the server */
  readonly port: number;
  readonly ino: number;
  /** i_size and the allocated size (node->allocsize: whole blocks) */
  readonly size: number;
  readonly allocsize: number;
  /** the control port while the kernel has the object initialised */
  control: MachPort | null;
  name: MachPort | null;
  /** heap item of the struct pager */
  readonly addr: number;
  /** requests of this object, served in order */
  chain: Promise<unknown>;
  inits: number;
}

/** Counters of the pager. */
export interface Ext2PagerStats {
  pagers: number;
  inits: number;
  terminates: number;
  /** file_pager_read_page calls, pages supplied out of line from the map, in the message */
  pageins: number;
  suppliedRegions: number;
  suppliedBytes: number;
  errors: number;
  /** store_reads made by page-ins; buffers copied and freed; pages taken from the pool */
  pageinReads: number;
  freedBufs: number;
  poolPages: number;
  /** pools mapped (FREE_PAGE_BUFS pages each) */
  pools: number;
  requests: Record<string, number>;
}

export interface Ext2PagerOptions {
  /** Pages per get_page_buf pool (default FREE_PAGE_BUFS). */
  poolPages?: number;
  /** Thread ids: the receiving thread and the first worker (default 900, 901). */
  receiverThread?: number;
  workerThread?: number;
  /** Worker threads (default 1). */
  workers?: number;
}

/** A page read for the kernel. */
interface PageBuf {
  /** where the buffer is in the task's map (null: none was mapped) */
  address: number | null;
  /** the page's bytes */
  bytes: Uint8Array;
  /** the map holds `bytes` at `address` */
  inMap: boolean;
}

export class Ext2Pager implements FilePager {
  private readonly byIno = new Map<number, PagerObject>();
  private readonly byPort = new Map<number, PagerObject>();
  private readonly creating = new Map<number, Promise<PagerObject>>();
  private set = 0;
  private readonly threads: ServerThreads;
  private readonly receiver: number;
  private readonly workers: number[];
  private pool: { next: number; left: number } = { next: 0, left: 0 };
  /** Every pool mapped (their pages leave one by one). */
  readonly poolRanges: Array<{ address: number; size: number }> = [];
  private readonly poolPages: number;
  private readonly s: Ext2PagerStats = {
    pagers: 0, inits: 0, terminates: 0, pageins: 0, suppliedRegions: 0, suppliedBytes: 0, errors: 0,
    pageinReads: 0, freedBufs: 0, poolPages: 0, pools: 0, requests: {},
  };
  done: Promise<number> | null = null;
  /** Exceptions that were not file system errors (bugs). */
  readonly internalErrors: unknown[] = [];

  constructor(
    readonly task: MachTask,
    readonly fs: Ext2Fs,
    readonly store: DeviceStore,
    readonly memory: TaskMemory,
    options: Ext2PagerOptions = {},
  ) {
    this.poolPages = options.poolPages ?? FREE_PAGE_BUFS;
    this.receiver = options.receiverThread ?? 900;
    const worker = options.workerThread ?? 901;
    this.workers = Array.from({ length: Math.max(1, options.workers ?? 1) }, (_, k) => worker + k);
    this.threads = new ServerThreads({ firstId: worker + this.workers.length, initial: this.workers, onDemand: false });
  }

  get stats(): Ext2PagerStats {
    return { ...this.s, requests: { ...this.s.requests }, pagers: this.byIno.size };
  }

  /**
   * pager_start_workers: the file pager bucket (a port set) and its server loop; the
   * receiving and worker threads get their stacks.
   */
  async start(): Promise<void> {
    if (this.done !== null) throw new Error('Ext2Pager: already started');
    this.set = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_PORT_SET)).name;
    await this.memory.threadStarted(this.receiver);
    for (const w of this.workers) await this.memory.threadStarted(w);
    this.done = mach_msg_server(this.task, [this.demux()], this.task.port(this.set), {
      concurrency: 8,
      onError: (e) => {
        this.internalErrors.push(e);
        return MIG_NO_REPLY;
      },
    });
  }

  /** Destroys every pager port and the port set (which ends the loop). */
  async stop(): Promise<void> {
    for (const p of this.byIno.values()) {
      await mach_port_destroy(this.task.self, p.port).catch(ignoreMach);
      if (p.control !== null) await mach_port_destroy(this.task.self, p.control.name).catch(ignoreMach);
      if (p.name !== null) await mach_port_destroy(this.task.self, p.name.name).catch(ignoreMach);
      this.memory.free(p.addr);
    }
    this.byIno.clear();
    this.byPort.clear();
    if (this.set !== 0) await mach_port_destroy(this.task.self, this.set).catch(ignoreMach);
    this.set = 0;
  }

  // ==== diskfs_get_filemap ============================================================

  /** The file's pager (made on first use). */
  async pagerOf(node: Node): Promise<PagerObject> {
    const have = this.byIno.get(node.ino);
    if (have !== undefined) return have;
    let p = this.creating.get(node.ino);
    if (p === undefined) {
      p = this.create(node);
      this.creating.set(node.ino, p);
      p.finally(() => this.creating.delete(node.ino)).catch(() => undefined);
    }
    return p;
  }

  /**
   * diskfs_get_filemap: a send right to the file's memory object, for the caller to
   * consume (io_map hands it to the client with MOVE_SEND).
   */
  async getFilemap(node: Node, _prot: number): Promise<MachPort | null> {
    const p = await this.pagerOf(node);
    await mach_port_insert_right(this.task.self, p.port, this.task.port(p.port), MACH_MSG_TYPE_MAKE_SEND);
    return this.task.port(p.port);
  }

  /** The name of the send right to the file's memory object the server keeps (for its own vm_map). */
  async pagerPort(node: Node): Promise<number> {
    return (await this.pagerOf(node)).port;
  }

  private async create(node: Node): Promise<PagerObject> {
    const port = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_RECEIVE)).name;
    await mach_port_insert_right(this.task.self, port, this.task.port(port), MACH_MSG_TYPE_MAKE_SEND);
    await mach_port_move_member(this.task.self, port, this.set);
    const bs = this.fs.blockSize;
    const size = node.stat.size;
    const obj: PagerObject = {
      port, ino: node.ino, size, allocsize: Math.ceil(size / bs) * bs, control: null, name: null,
      addr: this.memory.malloc(PAGER_HEAP_SIZE, 'pager'), chain: Promise.resolve(), inits: 0,
    };
    this.byIno.set(node.ino, obj);
    this.byPort.set(port, obj);
    return obj;
  }

  // ==== the server side ===============================================================

  /** The memory_object demux, each request served in order per object on the worker. */
  private demux(): MigDemux {
    const d = memory_object_server(this.routines());
    const wrapped = (req: MachMessage, rt: Parameters<MigDemux>[1]): ReturnType<MigDemux> => {
      const name = d.routine(req.header.id)?.name ?? `id ${req.header.id}`;
      this.s.requests[name] = (this.s.requests[name] ?? 0) + 1;
      // The receiving thread copies the request into a queued struct.
      const item = runAsThread(this.receiver, () => this.memory.malloc(REQUEST_HEAP_BASE + req.header.size, 'pager request'));
      const obj = this.byPort.get(req.header.localPort);
      const serve = async (): Promise<MachMessage | null> => this.threads.run(async () => {
        try {
          return await d(req, rt);
        } finally {
          this.memory.free(item);
          await this.memory.settle();
        }
      });
      if (obj === undefined) return serve();
      const r = obj.chain.then(serve);
      obj.chain = r.catch(() => undefined);
      return r;
    };
    return Object.assign(wrapped, { subsystem: d.subsystem, base: d.base, total: d.total, routine: d.routine });
  }

  private object(port: MachPort): PagerObject | null {
    return this.byPort.get(port.name) ?? null;
  }

  private routines(): Partial<memory_object_routines> {
    return {
      memory_object_init: async (mo, control, name) => {
        const p = this.object(mo);
        if (p === null || control === null) return;
        if (p.control !== null) await this.dropControl(p); // a stale one (should not happen)
        p.control = control;
        p.name = name;
        p.inits++;
        this.s.inits++;
        await memory_object_ready(control, true, MEMORY_OBJECT_COPY_DELAY);
      },
      memory_object_terminate: async (mo, control, name) => {
        const p = this.object(mo);
        this.s.terminates++;
        // The receive rights of the control and name ports are ours now: they go, with
        // the send rights the requests brought under the same names.
        if (control !== null) await mach_port_destroy(this.task.self, control.name).catch(ignoreMach);
        if (name !== null) await mach_port_destroy(this.task.self, name.name).catch(ignoreMach);
        if (p !== null && p.control !== null && control !== null && p.control.name === control.name) {
          p.control = null;
          p.name = null;
        }
      },
      memory_object_data_request: async (mo, control, offset, length) => {
        const p = this.object(mo);
        if (p === null || control === null) return;
        for (let page = offset; page < offset + length; page += PAGE_SIZE) await this.pagein(p, control, page);
      },
      memory_object_data_unlock: async (mo, control, offset, length) => {
        if (this.object(mo) === null || control === null) return;
        await memory_object_data_error(control, offset, length, EROFS);
      },
      memory_object_data_return: async (_mo, _control, _offset, data) => {
        const address = vm_ool_address(data);
        if (address !== undefined && data.length > 0) await vm_deallocate(this.task.self, address, data.length);
      },
      memory_object_lock_completed: () => undefined,
    };
  }

  private async dropControl(p: PagerObject): Promise<void> {
    if (p.control !== null) await mach_port_mod_refs(this.task.self, p.control.name, 0 /* SEND */, -1).catch(ignoreMach);
    p.control = null;
    p.name = null;
  }

  /** One page for the kernel: read it, supply it (or the error). */
  private async pagein(p: PagerObject, control: MachPort, page: number): Promise<void> {
    let buf: { buf: PageBuf; writelock: boolean };
    try {
      buf = await this.file_pager_read_page(p, page);
    } catch (e) {
      this.s.errors++;
      if (!(e instanceof PageError) && !(e instanceof MachError)) this.internalErrors.push(e);
      await memory_object_data_error(control, page, PAGE_SIZE, e instanceof PageError ? e.code : EIO);
      return;
    }
    const lock = buf.writelock ? VM_PROT_WRITE : VM_PROT_NONE;
    const b = buf.buf;
    this.s.suppliedBytes += PAGE_SIZE;
    if (b.inMap && b.address !== null) {
      // libpager: memory_object_data_supply(control, page, buf, vm_page_size, dealloc = 1, ...)
      this.s.suppliedRegions++;
      await memory_object_data_supply(control, page, vm_ool_region(b.address, PAGE_SIZE), true, lock, false, null);
    } else {
      await memory_object_data_supply(control, page, b.bytes, false, lock, false, null);
      if (b.address !== null) await this.memory.unmap(b.address, PAGE_SIZE);
    }
  }

  /**
   * file_pager_read_page: the page at `page` of the file, from the disk. Throws PageError
   * (EIO past the allocated size) or the store's errors.
   */
  async file_pager_read_page(p: PagerObject, page: number): Promise<{ buf: PageBuf; writelock: boolean }> {
    this.s.pageins++;
    if (page >= p.allocsize) throw new PageError(EIO);
    const bs = this.fs.blockSize;
    const left = Math.min(PAGE_SIZE, p.allocsize - page);
    const out = new Uint8Array(PAGE_SIZE);
    let buf: PageBuf | null = null;
    let writelock = false;
    let offs = 0;
    // Pending run: device byte offset and length.
    let pendingAt = -1;
    let pendingLen = 0;

    const doPendingReads = async (): Promise<void> => {
      if (pendingLen === 0) return;
      this.s.pageinReads++;
      const got: StoreBuffer = await this.store.store_read(pendingAt, pendingLen);
      if (got.bytes.length !== pendingLen) {
        await this.store.release(got);
        throw new PageError(EIO);
      }
      out.set(got.bytes, offs);
      if (offs === 0 && buf === null) {
        // First read: the returned buffer becomes the page buffer.
        buf = { address: got.mapped === 0 ? null : got.address, bytes: out, inMap: got.inMap };
      } else {
        // Copied into the buffer we have (a write in C), the new one freed.
        if (buf !== null) buf.inMap = false;
        this.s.freedBufs++;
        await this.store.release(got);
      }
      offs += pendingLen;
      pendingLen = 0;
    };

    // Walk the page in pieces of at most one block (a block larger than a page: its part).
    let pos = page;
    const end = page + left;
    while (pos < end) {
      const fileBlock = Math.floor(pos / bs);
      const inBlock = pos - fileBlock * bs;
      const n = Math.min(bs - inBlock, end - pos);
      const block = (await this.fs.blockRange(p.ino, fileBlock, 1))[0]!;
      const devAt = block * bs + inBlock;
      if (block === 0 || devAt !== pendingAt + pendingLen) await doPendingReads();
      if (block === 0) {
        // A hole: zeros, in a buffer from the pool if there is none yet.
        writelock = true;
        if (buf === null) {
          const addr = await this.get_page_buf();
          buf = { address: addr, bytes: out, inMap: true }; // a fresh pool page holds zeros
        }
        offs += n;
      } else {
        if (pendingLen === 0) pendingAt = devAt;
        pendingLen += n;
      }
      pos += n;
    }
    await doPendingReads();
    const result: PageBuf = buf ?? { address: null, bytes: out, inMap: false };
    return { buf: result, writelock };
  }

  /** get_page_buf: the next page of the pool, a new pool of FREE_PAGE_BUFS pages when empty. */
  private async get_page_buf(): Promise<number> {
    this.s.poolPages++;
    if (this.pool.left === 0) {
      const base = await this.memory.mapAnon(this.poolPages * PAGE_SIZE);
      this.s.pools++;
      this.poolRanges.push({ address: base, size: this.poolPages * PAGE_SIZE });
      this.pool = { next: base, left: this.poolPages };
    }
    const addr = this.pool.next;
    this.pool.next += PAGE_SIZE;
    this.pool.left--;
    return addr;
  }
}

/** A page-in that fails with an errno (memory_object_data_error). */
class PageError extends Error {
  constructor(readonly code: number) {
    super(`page-in error 0x${code.toString(16)}`);
  }
}

function ignoreMach(e: unknown): void {
  if (!(e instanceof MachError)) throw e;
}
