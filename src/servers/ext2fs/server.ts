/*
 * File: servers/ext2fs/server.ts
 * Purpose: Ext2Server, the ext2fs-like file server: serves fs.defs (dir_lookup,
 *          dir_readdir) and io.defs (io_read, io_seek, io_readable, io_stat, io_map,
 *          io_write) for a read-only Ext2Fs, one port (protid) per open file, all in one
 *          port set, through the generated demuxes and mach_msg_server.
 *
 * Each work function follows libdiskfs's (the Hurd's libdiskfs/*.c, named in its doc):
 * the same checks in the same order, the same errno values (Hurd-encoded, hurd_types.ts).
 * What differs, because this server has no translators, no users and no writes:
 *
 *  - no translators: device, fifo and socket nodes and nodes with a passive translator
 *    are returned as plain nodes (as with O_NOTRANS); opening a special node for
 *    reading, writing or executing is EACCES, as libdiskfs answers for one;
 *  - no authentication: every client is treated as root (no permission checks);
 *  - read only: O_WRITE opens of non-directories, O_CREAT of a new name and io_write are
 *    EROFS (diskfs_check_readonly); O_WRITE on a directory is EISDIR;
 *  - this server is the root file system: ".." of the root is the root (the Hurd's "REAL
 *    root" case), never FS_RETRY_REAUTH to a parent;
 *  - file names travel as UTF-8 strings (c_string), so names that are not valid UTF-8
 *    cannot be looked up (dir_readdir returns their exact bytes).
 *
 * io_map answers EOPNOTSUPP without a file pager: pass `pager` (FilePager, pager.ts) to
 * serve it (diskfs_S_io_map's logic is here; the pager supplies the memory objects).
 *
 * With a pager that can name its memory objects (FilePager.pagerPort) and a VM map
 * (ServerMemory.mapAnon), the server uses the task's VM as libdiskfs does:
 *
 *  - io_read (`ioRead: 'pager'`, the default then) copies file data out of the file's
 *    memory object through pager_memcpy windows (libpager/pager-memcpy.c): each window
 *    of at most 8 pages is vm_map'd (read-only, VM_INHERIT_NONE), its pages faulted in
 *    and copied, and unmapped. A task cannot take a page fault over RPC, so the fault and
 *    copy are a vm_read of the window: the kernel asks this server's pager for the pages
 *    (memory_object_data_request → file_pager_read_page → device_read →
 *    memory_object_data_supply) and returns them as a new region. A read beyond MIG's
 *    2048 in-line bytes that one window covers is answered with that region, out of line
 *    with dealloc (the one anywhere mapping a large read makes, gone when the reply
 *    leaves, as the buffer diskfs_S_io_read mmaps); a larger one is answered from an
 *    mmap'd buffer (its bytes travel in the message, and it is munmapped).
 *  - dir_lookup (`dirWindows`, default on) maps the directory's memory object while it
 *    looks a name up in it (ext2fs/dir.c: vm_map anywhere, round_page(size + DIRBLKSIZ),
 *    prot = max = VM_PROT_READ, inheritance 0 = SHARE; munmap after). The scan itself
 *    uses the node's cached entries (no faults: the kernel object cache that would make
 *    them cheap is not modelled).
 *
 * Memory: every node, open file, directory's entries and block buffer is a ServerMemory
 * item; reply buffers the Hurd mmaps are mapped and unmapped (heap.ts explains the hook).
 * With `threads` (threads.ts), each request runs as one of the server's threads (its
 * mallocs come from that thread's arena), and its memory calls take effect before the
 * reply goes (ServerMemory.settle).
 */

import { MachError, MIG_NO_REPLY } from '../../mach/kern_return.js';
import { vm_deallocate, vm_map, vm_read } from '../../gen/mach.user.js';
import { MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MOVE_SEND, type MachMessage } from '../../mach/message.js';
import type { MachPort, MigDemux } from '../../mach/mig.js';
import { fs_server, type fs_routines } from '../../gen/fs.server.js';
import { io_server, type io_routines } from '../../gen/io.server.js';
import { notify_server, type notify_routines } from '../../gen/notify.server.js';
import { mach_msg_server } from '../../runtime/server.js';
import type { MachTask } from '../../runtime/task.js';
import { vm_ool_address, vm_ool_region } from '../../vm/ool.js';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import { BufferCache, type BufferCacheStats } from './bcache.js';
import { getDirects, MIG_INLINE_DATA_MAX } from './dirent.js';
import { Ext2Error, Ext2Fs, EXT2_ROOT_INO, type Ext2OpenOptions } from './ext2.js';
import { JsHeap, type ServerMemory } from './heap.js';
import {
  EACCES, EBADF, EEXIST, EINVAL, EIO, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EOPNOTSUPP, EROFS,
  errnoOfExt2Error, EXT2_APPEND_FL, EXT2_IMMUTABLE_FL, EXT2_NODUMP_FL, FS_RETRY_MAGICAL, FS_RETRY_NORMAL,
  FSTYPE_EXT2FS, O_CREAT, O_DIRECTORY, O_EXCL, O_EXEC, O_HURD, O_NOLINK, O_NOTRANS, O_READ, O_WRITE,
  OPENONLY_STATE_MODES, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_IROOT, SEEK_CUR,
  SEEK_END, SEEK_SET, UF_APPEND, UF_IMMUTABLE, UF_NODUMP,
} from './hurd_types.js';
import { NodeCache, type Node, type NodeCacheStats } from './node.js';
import { PortBucket, type BucketStats, type Protid } from './protid.js';
import type { BlockSource } from './source.js';
import { packStat, type IoStat } from './statbuf.js';
import type { ServerThreads } from './threads.js';

/** The Hurd's ext2fs follows at most this many symlinks in one dir_lookup (diskfs_maxsymlinks). */
export const EXT2FS_MAXSYMLINKS = 8;
/** st_blksize the Hurd's ext2fs reports: vm_page_size * 2. */
export const EXT2FS_BLKSIZE = PAGE_SIZE * 2;
/** retry_name is a c_string[1024]: at most 1023 bytes. */
const RETRY_NAME_MAX = 1023;

/**
 * The file pager io_map will use (the Hurd's diskfs_get_filemap): a send right to a
 * memory object for the file's contents, for `prot` (VM_PROT_READ...), or null.
 */
export interface FilePager {
  getFilemap(node: Node, prot: number): Promise<MachPort | null>;
  /**
   * The name of a send right to the node's memory object that the server itself holds
   * (for its own vm_map windows; not consumed). Optional: without it the server never
   * maps file contents itself.
   */
  pagerPort?(node: Node): Promise<number>;
}

/** pager_memcpy's window: 8 pages (libpager/pager-memcpy.c). */
export const PAGER_MEMCPY_WINDOW = 8 * PAGE_SIZE;
const VM_PROT_READ = 1;
const VM_INHERIT_SHARE = 0;
const VM_INHERIT_NONE = 2;

/** Counters of the server's own VM use (windows and reply buffers). */
export interface Ext2ServerVmStats {
  /** pager_memcpy windows mapped, and the vm_reads that faulted them in */
  windows: number;
  /** directory mappings made by lookups */
  dirWindows: number;
  /** replies sent as the region vm_read placed in the map (dealloc) */
  regionReplies: number;
  /** reply buffers mapped and unmapped */
  replyBuffers: number;
}

export interface Ext2ServerOptions {
  /** The heap and mmap calls (default: a JsHeap, bookkeeping only). */
  memory?: ServerMemory;
  /** d_type in dir_readdir: 'unknown' (DT_UNKNOWN, the Hurd's ext2fs; default) or 'filetype'. */
  dtype?: 'unknown' | 'filetype';
  /** Unreferenced nodes kept (default 1024). */
  nodeCacheSize?: number;
  /** st_fsid (the Hurd uses the server's pid; default: the task's id). */
  fsid?: number;
  /** Requests served at once (default 16). */
  concurrency?: number;
  /** Symlinks one dir_lookup follows before ELOOP (default 8, diskfs_maxsymlinks). */
  maxSymlinks?: number;
  /** io_map's memory objects; without it io_map is EOPNOTSUPP. */
  pager?: FilePager;
  /**
   * How io_read gets file data: 'pager' (through the file's memory object, as libdiskfs:
   * needs a pager with pagerPort and a memory with mapAnon; the default then) or 'cache'
   * (the reader and the buffer cache).
   */
  ioRead?: 'pager' | 'cache';
  /** dir_lookup maps the directory's memory object while it scans it (default: when a pager with pagerPort is given). */
  dirWindows?: boolean;
  /** The server's threads: each request runs as one of them (default: all as thread 0). */
  threads?: ServerThreads;
}

/** What Ext2Server.openImage adds. */
export interface Ext2ImageOptions extends Ext2ServerOptions {
  /** Block buffers kept by the server's buffer cache (default 1024; 0: none). */
  bufferBlocks?: number;
  /** Options for the reader. */
  reader?: Ext2OpenOptions;
}

/** Counters for the demo and tests. */
export interface Ext2ServerStats {
  /** requests served, by routine name (dir_lookup, io_read, mach_notify_no_senders, ...) */
  rpcs: Record<string, number>;
  /** requests answered with an error, by errno or code name */
  errors: Record<string, number>;
  protids: BucketStats;
  nodes: NodeCacheStats;
  buffers: BufferCacheStats | null;
  /** io_read replies and their bytes */
  bytesRead: number;
  vm: Ext2ServerVmStats;
}

/** A work function outcome that is an errno. */
class Errno extends Error {
  constructor(readonly code: number) {
    super(`errno 0x${code.toString(16)}`);
  }
}

const fail = (code: number): never => {
  throw new Errno(code);
};

function nodeType(node: Node): number {
  return node.stat.mode & S_IFMT;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

export class Ext2Server {
  readonly task: MachTask;
  readonly fs: Ext2Fs;
  readonly memory: ServerMemory;
  readonly nodes: NodeCache;
  readonly bucket: PortBucket;
  readonly buffers: BufferCache | null;
  private readonly dtype: 'unknown' | 'filetype';
  private readonly fsid: number;
  private readonly concurrency: number;
  private readonly maxSymlinks: number;
  private readonly pager: FilePager | null;
  private readonly ioRead: 'pager' | 'cache';
  private readonly dirWindows: boolean;
  private readonly threads: ServerThreads | null;
  private readonly vmStats: Ext2ServerVmStats = { windows: 0, dirWindows: 0, regionReplies: 0, replyBuffers: 0 };
  private readonly rpcs: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private bytesRead = 0;
  /** Resolves when the server loop ends (with the mach_msg code that ended it). */
  done: Promise<number> | null = null;
  /** Exceptions a work function threw that were not file system errors (bugs). */
  readonly internalErrors: unknown[] = [];

  constructor(task: MachTask, fs: Ext2Fs, options: Ext2ServerOptions = {}, buffers: BufferCache | null = null) {
    this.task = task;
    this.fs = fs;
    this.memory = options.memory ?? new JsHeap();
    const cap = options.nodeCacheSize ?? 1024;
    if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`nodeCacheSize ${cap}: at least 1`);
    this.nodes = new NodeCache(fs, this.memory, cap);
    this.bucket = new PortBucket(task, this.nodes, this.memory);
    this.buffers = buffers;
    this.dtype = options.dtype ?? 'unknown';
    this.fsid = options.fsid ?? task.info.id;
    this.concurrency = options.concurrency ?? 16;
    this.maxSymlinks = options.maxSymlinks ?? EXT2FS_MAXSYMLINKS;
    this.pager = options.pager ?? null;
    const canMap = this.pager?.pagerPort !== undefined && this.memory.mapAnon !== undefined;
    this.ioRead = options.ioRead ?? (canMap ? 'pager' : 'cache');
    if (this.ioRead === 'pager' && !canMap) throw new Error("Ext2Server: ioRead 'pager' needs a pager with pagerPort and a memory with mapAnon");
    this.dirWindows = (options.dirWindows ?? canMap) && this.pager?.pagerPort !== undefined;
    this.threads = options.threads ?? null;
  }

  /**
   * A server over the ext2 image on `source`, with a buffer cache of `bufferBlocks`
   * heap-accounted block buffers between the reader and the device.
   */
  static async openImage(task: MachTask, source: BlockSource, options: Ext2ImageOptions = {}): Promise<Ext2Server> {
    const memory = options.memory ?? new JsHeap();
    const blocks = options.bufferBlocks ?? 1024;
    const probe = await Ext2Fs.open(source, options.reader); // the block size, before caching blocks
    const buffers = blocks > 0 ? new BufferCache(source, probe.blockSize, memory, blocks) : null;
    const fs = buffers === null ? probe : await Ext2Fs.open(buffers, options.reader);
    return new Ext2Server(task, fs, { ...options, memory }, buffers);
  }

  /** The demuxes the server loop uses (counting each request by routine). */
  demuxes(): MigDemux[] {
    return [
      this.counting(fs_server(this.fsRoutines())),
      this.counting(io_server(this.ioRoutines())),
      this.counting(notify_server(this.notifyRoutines())),
    ];
  }

  /** Create the port set and start serving it (mach_msg_server, not awaited). */
  async start(): Promise<void> {
    if (this.done !== null) throw new Error('Ext2Server: already started');
    const set = await this.bucket.init();
    // No AbortSignal: mach_msg_server adds a listener per receive with one (they pile up);
    // stop() ends the loop by destroying the port set instead (MACH_RCV_INVALID_NAME).
    this.done = mach_msg_server(this.task, this.demuxes(), set, {
      concurrency: this.concurrency,
      onError: (e) => {
        this.internalErrors.push(e);
        return EIO;
      },
    });
  }

  /**
   * A new open of the root directory (what fsys_getroot gives a client): the protid's
   * receive right name in the server's space. Whoever makes a send right from it (the
   * kernel, for a bootstrap port) owns the open; it ends when no send rights remain.
   */
  async getRoot(flags: number = O_READ): Promise<number> {
    const root = await this.nodes.get(EXT2_ROOT_INO);
    try {
      const p = await this.bucket.create(root, flags & O_HURD & ~OPENONLY_STATE_MODES);
      return p.name;
    } finally {
      this.nodes.release(root);
    }
  }

  /** Stop serving: destroy every protid and the port set (which ends the server loop). */
  async stop(): Promise<void> {
    await this.bucket.shutdown();
    this.nodes.clear();
    this.buffers?.clear();
  }

  get stats(): Ext2ServerStats {
    return {
      rpcs: { ...this.rpcs },
      errors: { ...this.errors },
      protids: this.bucket.stats,
      nodes: this.nodes.stats,
      buffers: this.buffers?.stats ?? null,
      bytesRead: this.bytesRead,
      vm: { ...this.vmStats },
    };
  }

  // ==== plumbing ======================================================================

  private counting(d: MigDemux): MigDemux {
    const count = (req: MachMessage): void => {
      const name = d.routine(req.header.id)?.name ?? `id ${req.header.id}`;
      this.rpcs[name] = (this.rpcs[name] ?? 0) + 1;
    };
    const threads = this.threads;
    const memory = this.memory;
    const wrapped = (req: MachMessage, rt: Parameters<MigDemux>[1]): ReturnType<MigDemux> => {
      count(req);
      if (threads === null && memory.settle === undefined) return d(req, rt);
      const serve = async (): Promise<MachMessage | null> => {
        const reply = await d(req, rt);
        await memory.settle?.();
        return reply;
      };
      return threads === null ? serve() : threads.run(serve);
    };
    return Object.assign(wrapped, { subsystem: d.subsystem, base: d.base, total: d.total, routine: d.routine });
  }

  /**
   * Run a work function: its value, or the errno it failed with (Errno, Ext2Error → the
   * Hurd errno). Other exceptions are server bugs: recorded, answered EIO.
   */
  private async serve<T>(what: string, f: () => Promise<T>): Promise<T | number> {
    try {
      return await f();
    } catch (e) {
      let code: number;
      if (e instanceof Errno) code = e.code;
      else if (e instanceof MachError) code = e.code;
      else if (e instanceof Ext2Error) code = errnoOfExt2Error(e);
      else {
        this.internalErrors.push(e);
        code = EIO;
      }
      const key = `${what}: 0x${code.toString(16)}`;
      this.errors[key] = (this.errors[key] ?? 0) + 1;
      return code;
    }
  }

  /** The protid a request arrived on (libports' ports_lookup_port), or EOPNOTSUPP. */
  private cred(port: MachPort): Protid {
    return this.bucket.lookup(port.name) ?? fail(EOPNOTSUPP);
  }

  // ==== fs.defs =========================================================================

  private fsRoutines(): Partial<fs_routines> {
    return {
      dir_lookup: (start, name, flags, mode) => this.serve('dir_lookup', () => this.dir_lookup(this.cred(start), name, flags, mode)),
      dir_readdir: (dir, entry, nentries, bufsiz) => this.serve('dir_readdir', () => this.dir_readdir(this.cred(dir), entry, nentries, bufsiz)),
    };
  }

  /**
   * diskfs_S_dir_lookup (libdiskfs/dir-lookup.c): walk `filename` from the protid's node,
   * component by component; follow symlinks in the middle of the path, and on the last
   * component unless O_NOLINK (or O_NOTRANS), at most maxSymlinks+1 of them (ELOOP); a
   * relative target continues from the link's directory, an absolute one is returned as
   * FS_RETRY_MAGICAL "/target/rest" for the client to restart from its root. The result
   * is a new protid (FS_RETRY_NORMAL, "", MAKE_SEND).
   */
  private async dir_lookup(dircred: Protid, filename: string, flags: number, _mode: number): Promise<{ do_retry: number; retry_name: string; result: MachPort | null; resultPoly: number }> {
    const origFlags = flags;
    flags &= O_HURD;
    let create = (flags & O_CREAT) !== 0;
    const excl = (flags & O_EXCL) !== 0;
    let name: string | null = filename.replace(/^\/+/, ''); // skip leading slashes
    let mustbedir = false;
    let lastcomp = false;
    let nsymlinks = 0;
    // Nodes met on the way are referenced (diskfs_nref/nput) until the lookup ends.
    const held: Node[] = [dircred.po.node];
    this.nodes.ref(dircred.po.node); // the protid may go while the lookup runs
    try {
      let np: Node;
      if (name === '') {
        np = dircred.po.node;
      } else {
        let dnp = dircred.po.node;
        let found: Node | null = null;
        do {
          // The next component, and what follows it.
          let comp: string;
          let nextname: string | null;
          const slash = name.indexOf('/');
          if (slash >= 0) {
            comp = name.slice(0, slash);
            nextname = name.slice(slash + 1).replace(/^\/+/, '');
            if (nextname === '') {
              // The rules for names ending in '/'.
              nextname = null;
              lastcomp = true;
              mustbedir = true;
              create = false;
            } else {
              lastcomp = false;
            }
          } else {
            comp = name;
            nextname = null;
            lastcomp = true;
          }

          // diskfs_lookup of the component in dnp.
          const ino = await this.lookupIn(dnp, comp);
          if (lastcomp && create && excl && ino !== null) fail(EEXIST);
          if (ino === null) fail(lastcomp && create ? EROFS : ENOENT); // creating needs a writable fs
          let node = dnp;
          if (ino !== dnp.ino) {
            node = await this.nodes.get(ino!);
            held.push(node);
          }

          if (nodeType(node) === S_IFLNK && (!lastcomp || mustbedir || (flags & (O_NOLINK | O_NOTRANS)) === 0)) {
            // A symlink to interpret.
            if (nsymlinks++ > this.maxSymlinks) fail(ELOOP);
            const target = await this.fs.read(node.ino, 0, node.stat.size);
            if (target.length === 0) {
              name = nextname; // a symlink to "": the rest of the path, from the same directory
            } else {
              let pathbuf = utf8d.decode(target);
              if (nextname !== null) pathbuf += `/${nextname}`;
              if (mustbedir) pathbuf += '/';
              if (utf8.encode(pathbuf).length > RETRY_NAME_MAX) fail(ENAMETOOLONG);
              if (pathbuf.startsWith('/')) {
                // Punt to the caller: restart from its root directory.
                return { do_retry: FS_RETRY_MAGICAL, retry_name: pathbuf, result: null, resultPoly: MACH_MSG_TYPE_MAKE_SEND };
              }
              name = pathbuf;
              mustbedir = false;
            }
            lastcomp = false;
            if (name === null) {
              // The symlink to "" was the last component: the directory it is in.
              found = dnp;
              break;
            }
          } else {
            name = nextname;
            if (!lastcomp) dnp = node;
            else found = node;
          }
        } while (name !== null && name !== '');
        np = found ?? dnp;
      }

      // gotit:
      const type = nodeType(np);
      if ((mustbedir || (origFlags & O_DIRECTORY) !== 0) && type !== S_IFDIR) fail(ENOTDIR);
      if ((type === S_IFSOCK || type === S_IFBLK || type === S_IFCHR || type === S_IFIFO) && (flags & (O_READ | O_WRITE | O_EXEC)) !== 0) fail(EACCES);
      if (type === S_IFLNK && (flags & (O_WRITE | O_EXEC)) !== 0) fail(ELOOP);
      if ((flags & O_WRITE) !== 0) fail(type === S_IFDIR ? EISDIR : EROFS);

      const p = await this.bucket.create(np, flags & ~OPENONLY_STATE_MODES);
      return { do_retry: FS_RETRY_NORMAL, retry_name: '', result: this.bucket.gaveSend(p), resultPoly: MACH_MSG_TYPE_MAKE_SEND };
    } finally {
      for (const n of held) this.nodes.release(n);
    }
  }

  /**
   * diskfs_lookup of one component: ENOTDIR when `dnp` is not a directory; ".." of the
   * root is the root; ENAMETOOLONG past 255 bytes. Returns the inode or null (ENOENT).
   */
  private async lookupIn(dnp: Node, comp: string): Promise<number | null> {
    if (nodeType(dnp) !== S_IFDIR) fail(ENOTDIR);
    if (comp === '..' && dnp.ino === EXT2_ROOT_INO) return dnp.ino; // EAGAIN at a real root: stay
    const bytes = utf8.encode(comp);
    if (bytes.length > 255) fail(ENAMETOOLONG);
    if (!this.dirWindows) return this.nodes.lookup(dnp, bytes);
    // ext2fs/dir.c diskfs_lookup_hard: the directory mapped while it is scanned.
    const port = await this.pager!.pagerPort!(dnp);
    const buflen = Math.ceil((dnp.stat.size + this.fs.blockSize) / PAGE_SIZE) * PAGE_SIZE;
    const { address } = await vm_map(this.task.self, 0, buflen, 0, true, this.task.port(port), 0, false, VM_PROT_READ, VM_PROT_READ, VM_INHERIT_SHARE);
    this.vmStats.dirWindows++;
    try {
      return await this.nodes.lookup(dnp, bytes);
    } finally {
      await vm_deallocate(this.task.self, address, buflen);
    }
  }

  /**
   * diskfs_S_dir_readdir (libdiskfs/dir-readdir.c) + the Hurd ext2fs's diskfs_get_directs:
   * EBADF without O_READ, ENOTDIR on a non-directory, then the records of dirent.ts.
   */
  private async dir_readdir(cred: Protid, entry: number, nentries: number, bufsiz: number): Promise<{ data: Uint8Array; amount: number }> {
    if ((cred.po.openstat & O_READ) === 0) fail(EBADF);
    const np = cred.po.node;
    if (nodeType(np) !== S_IFDIR) fail(ENOTDIR);
    const entries = await this.nodes.entries(np);
    const r = getDirects(entries, np.stat.size, entry, nentries, bufsiz, this.dtype);
    if (r.allocsize > MIG_INLINE_DATA_MAX) {
      // The Hurd mmaps the reply buffer, gives back the tail it did not fill, and sends the
      // rest out of line with dealloc (the bytes are built here, so they travel in the
      // message and the buffer is unmapped: the same entries come and go).
      await this.replyBuffer(r.allocsize, Math.ceil(r.data.length / PAGE_SIZE) * PAGE_SIZE, 'readdir reply');
    }
    return { data: r.data, amount: r.amount };
  }

  // ==== io.defs =========================================================================

  private ioRoutines(): Partial<io_routines> {
    return {
      io_write: (file) => this.serve('io_write', async () => this.io_write(this.cred(file))),
      io_read: (file, offset, amount) => this.serve('io_read', () => this.io_read(this.cred(file), offset, amount)),
      io_seek: (file, offset, whence) => this.serve('io_seek', async () => this.io_seek(this.cred(file), offset, whence)),
      io_readable: (file) => this.serve('io_readable', async () => this.io_readable(this.cred(file))),
      io_stat: (file) => this.serve('io_stat', async () => ({ stat_info: packStat(this.statOf(this.cred(file))) })),
      io_map: (file) => this.serve('io_map', () => this.io_map(this.cred(file))),
    };
  }

  /** diskfs_S_io_write: the file system is read-only (diskfs_check_readonly first). */
  private io_write(_cred: Protid): { amount: number } {
    return fail(EROFS);
  }

  /**
   * diskfs_S_io_read (libdiskfs/io-read.c): EBADF without O_READ; offset -1 is the file
   * pointer (advanced by what was read); EINVAL for another negative offset; the amount
   * clipped at the end of the file; a symlink reads as its target.
   */
  private async io_read(cred: Protid, offset: number, amount: number): Promise<{ data: Uint8Array }> {
    const po = cred.po;
    if ((po.openstat & O_READ) === 0) fail(EBADF);
    const off = offset === -1 ? po.filepointer : offset;
    if (off < 0) fail(EINVAL);
    const size = po.node.stat.size;
    let maxread = amount;
    if (off > size) maxread = 0;
    else if (off + maxread > size) maxread = size - off;
    // Claim the range now: concurrent reads at the file pointer must not overlap (the
    // Hurd holds the node lock across the read).
    if (offset === -1) po.filepointer += maxread;
    let data: Uint8Array;
    try {
      const type = nodeType(po.node);
      if (maxread === 0) data = new Uint8Array(0);
      else if (this.ioRead === 'pager' && (type === S_IFREG || type === S_IFDIR)) data = await this.pagerRead(po.node, off, maxread);
      else {
        data = await this.fs.read(po.node.ino, off, maxread);
        // More than MIG's in-line buffer: the Hurd mmaps the reply buffer (sent with dealloc).
        if (maxread > MIG_INLINE_DATA_MAX) await this.replyBuffer(maxread, maxread, 'io_read reply');
      }
    } catch (e) {
      if (offset === -1 && po.filepointer === off + maxread) po.filepointer = off;
      throw e;
    }
    this.bytesRead += data.length;
    return { data };
  }

  /**
   * _diskfs_rdwr_internal → pager_memcpy: `amount` bytes at `offset` of the node's memory
   * object, window by window (vm_map, fault in with vm_read, copy, munmap). Returns the
   * bytes, or the region vm_read placed in this task's map when one window covered a
   * read too large for MIG's in-line buffer (sent out of line with dealloc).
   */
  private async pagerRead(node: Node, offset: number, amount: number): Promise<Uint8Array> {
    const port = this.task.port(await this.pager!.pagerPort!(node));
    const big = amount > MIG_INLINE_DATA_MAX;
    const pageoff0 = offset % PAGE_SIZE;
    const oneWindow = pageoff0 + amount <= PAGER_MEMCPY_WINDOW;
    // diskfs_S_io_read: a reply larger than the in-line buffer is mmap'd.
    const replyBuf = big && !oneWindow ? await this.memory.mapAnon!(amount) : null;
    const out = oneWindow ? null : new Uint8Array(amount);
    let done = 0;
    let region: Uint8Array | null = null;
    while (done < amount) {
      const at = offset + done;
      const pageoff = at % PAGE_SIZE;
      const windowsize = Math.min(PAGER_MEMCPY_WINDOW, pageoff + (amount - done));
      const n = windowsize - pageoff;
      const { address: window } = await vm_map(this.task.self, 0, windowsize, 0, true, port, at - pageoff, false, VM_PROT_READ, VM_PROT_READ, VM_INHERIT_NONE);
      this.vmStats.windows++;
      try {
        // The faults, and the copy: the window's whole pages are read (pager_memcpy's
        // faults take whole pages too), and the part asked for taken from them.
        const { data } = await vm_read(this.task.self, window, Math.ceil(windowsize / PAGE_SIZE) * PAGE_SIZE);
        const where = vm_ool_address(data);
        if (oneWindow && big && where !== undefined) {
          region = vm_ool_region(where + pageoff, n); // already in our map: the reply itself
        } else {
          const bytes = data.slice(pageoff, pageoff + n);
          if (where !== undefined) await vm_deallocate(this.task.self, where, data.length);
          if (out === null) region = bytes;
          else out.set(bytes, done);
        }
      } finally {
        await vm_deallocate(this.task.self, window, windowsize);
      }
      done += n;
    }
    if (replyBuf !== null) {
      this.vmStats.replyBuffers++;
      await this.memory.unmap!(replyBuf, amount);
    }
    if (out !== null) return out;
    if (vm_ool_address(region!) !== undefined) this.vmStats.regionReplies++;
    return region!;
  }

  /**
   * A reply buffer of `size` bytes, as the Hurd mmaps it: its unused tail beyond `used`
   * given back at once, the rest when the reply leaves (here right away: the bytes travel
   * in the message).
   */
  private async replyBuffer(size: number, used: number, tag: 'io_read reply' | 'readdir reply'): Promise<void> {
    this.vmStats.replyBuffers++;
    const m = this.memory;
    if (m.mapAnon === undefined || m.unmap === undefined) {
      const addr = m.mmap(size, tag);
      if (used < size) m.munmap(addr + used, size - used);
      if (used > 0) m.munmap(addr, Math.min(used, size));
      return;
    }
    const mapped = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const addr = await m.mapAnon(size);
    if (used < mapped) await m.unmap(addr + used, mapped - used);
    if (used > 0) await m.unmap(addr, Math.min(used, mapped));
  }

  /** diskfs_S_io_seek (libdiskfs/io-seek.c): SEEK_SET/CUR/END; EINVAL below 0 or another whence. */
  private io_seek(cred: Protid, offset: number, whence: number): { newp: number } {
    const po = cred.po;
    let off: number;
    switch (whence) {
      case SEEK_CUR: off = offset + po.filepointer; break;
      case SEEK_END: off = offset + po.node.stat.size; break;
      case SEEK_SET: off = offset; break;
      default: return fail(EINVAL);
    }
    if (!(off >= 0) || !Number.isSafeInteger(off)) fail(EINVAL);
    po.filepointer = off;
    return { newp: off };
  }

  /** diskfs_S_io_readable (libdiskfs/io-readable.c): EINVAL without O_READ; bytes past the pointer. */
  private io_readable(cred: Protid): { amount: number } {
    if ((cred.po.openstat & O_READ) === 0) fail(EINVAL);
    const size = cred.po.node.stat.size;
    return { amount: size > cred.po.filepointer ? size - cred.po.filepointer : 0 };
  }

  /**
   * diskfs_S_io_stat (libdiskfs/io-stat.c) over the node's stat as the Hurd's ext2fs
   * reads it (diskfs_user_read_node): st_fstype FSTYPE_EXT2FS, st_fsid the server's,
   * st_blksize two pages, st_rdev the raw i_block[0] of a device, st_flags the BSD
   * UF_* bits of i_flags, st_author i_author (Hurd images) or the owner, S_IROOT on the
   * root. uid/gid are the reader's full 32-bit ids (the Hurd's ext2fs reads only the low
   * 16 bits on non-Hurd images).
   */
  statOf(cred: Protid): IoStat {
    const n = cred.po.node;
    const s = n.stat;
    let mode = n.hurdMode;
    if (NodeCache.isRoot(n)) mode |= S_IROOT;
    let flags = 0;
    if ((s.flags & EXT2_APPEND_FL) !== 0) flags |= UF_APPEND;
    if ((s.flags & EXT2_NODUMP_FL) !== 0) flags |= UF_NODUMP;
    if ((s.flags & EXT2_IMMUTABLE_FL) !== 0) flags |= UF_IMMUTABLE;
    const type = s.mode & S_IFMT;
    return {
      st_fstype: FSTYPE_EXT2FS,
      st_fsid: this.fsid,
      st_ino: n.ino,
      st_gen: s.generation,
      st_rdev: type === S_IFCHR || type === S_IFBLK ? n.rdev : 0,
      st_mode: mode >>> 0,
      st_nlink: s.nlink,
      st_uid: s.uid,
      st_gid: s.gid,
      st_size: s.size,
      st_atim: { tv_sec: s.atime, tv_nsec: s.atimeNsec },
      st_mtim: { tv_sec: s.mtime, tv_nsec: s.mtimeNsec },
      st_ctim: { tv_sec: s.ctime, tv_nsec: s.ctimeNsec },
      st_blksize: EXT2FS_BLKSIZE,
      st_blocks: s.blocks,
      st_author: n.author,
      st_flags: flags,
      st_spare: [0, 0, 0, 0, 0, 0, 0, 0],
    };
  }

  /**
   * diskfs_S_io_map (libdiskfs/io-map.c): memory objects for the open modes: O_READ a
   * read object (from the pager), no mode: both null. Until a FilePager is given (the
   * file pager work), a readable open answers EOPNOTSUPP.
   */
  private async io_map(cred: Protid): Promise<{ memobjrd: MachPort | null; memobjrdPoly: number; memobjwt: MachPort | null; memobjwtPoly: number }> {
    const mode = cred.po.openstat & (O_READ | O_WRITE);
    let rd: MachPort | null = null;
    if ((mode & O_READ) !== 0) {
      if (this.pager === null) fail(EOPNOTSUPP);
      rd = await this.pager!.getFilemap(cred.po.node, 1 /* VM_PROT_READ */);
      if (rd === null) fail(EIO);
    }
    // O_WRITE opens do not exist on a read-only file system.
    return { memobjrd: rd, memobjrdPoly: MACH_MSG_TYPE_MOVE_SEND, memobjwt: null, memobjwtPoly: MACH_MSG_TYPE_MOVE_SEND };
  }

  // ==== notify.defs =====================================================================

  private notifyRoutines(): Partial<notify_routines> {
    return {
      mach_notify_no_senders: async (port, mscount) => {
        await this.bucket.noSenders(port.name, mscount);
        return MIG_NO_REPLY;
      },
    };
  }
}
