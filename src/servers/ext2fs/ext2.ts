/*
 * File: servers/ext2fs/ext2.ts
 * Purpose: Ext2Fs, a read-only reader of ext2 images (revisions 0 and 1) over an
 *          abstract BlockSource: inodes, the indirect block map, linear directories,
 *          path lookup, symlinks and stat, with bounds checks everywhere.
 *
 * This is the on-disk half of the ext2fs file server: every device access goes through
 * one BlockSource.read() (a device_read RPC in the running system) and is counted in
 * `stats`. Metadata is cached in two small LRUs (indirect blocks, inode table blocks);
 * file data is not cached — that is the file pager's job, which uses blockOf().
 *
 * Refused with Ext2Error('EUNSUPPORTED'): revisions other than 0/1, incompat features
 * other than filetype, meta_bg and flex_bg (extent, 64bit, journal_dev, inline_data,
 * needs_recovery, ...), the bigalloc ro_compat feature, and inodes flagged for extents
 * or inline data. A corrupt image yields Ext2Error('EIO') naming what is wrong.
 */

import { BlockMap } from './block_map.js';
import {
  bytesEqual,
  EXT2_NAME_LEN,
  fileTypeOfDirEntry,
  parseDirBlock,
  type RawDirEntry,
} from './dir.js';
import { corrupt, Ext2Error } from './errors.js';
import {
  checkDataFlags,
  decodeDevice,
  encodeDevice,
  type Ext2Inode,
  type FileType,
  parseInode,
} from './inode.js';
import { LruCache } from './lru.js';
import type { BlockSource } from './source.js';
import {
  COMPAT_FEATURES,
  descriptorBlock,
  EXT2_FEATURE_INCOMPAT_FILETYPE,
  EXT2_MIN_DESC_SIZE,
  EXT2_ROOT_INO,
  type Ext2GroupDesc,
  type Ext2Superblock,
  featureNames,
  INCOMPAT_FEATURES,
  parseGroupDesc,
  parseSuperblock,
  RO_COMPAT_FEATURES,
  SUPERBLOCK_OFFSET,
  SUPERBLOCK_SIZE,
} from './superblock.js';

export type { BlockSource } from './source.js';
export { MemoryBlockSource } from './source.js';
export { Ext2Error, type Ext2ErrorCode } from './errors.js';
export type { Ext2Inode, FileType } from './inode.js';
export type { Ext2Superblock, Ext2GroupDesc } from './superblock.js';
export { EXT2_ROOT_INO } from './superblock.js';

/** Longest symlink target accepted (PATH_MAX). */
export const EXT2_MAX_SYMLINK = 4096;
/** How many symlinks one namei() may follow before failing with ELOOP (the Hurd's SYMLOOP_MAX). */
export const EXT2_MAX_SYMLINK_FOLLOWS = 32;
/** Largest single read() result. */
export const EXT2_MAX_READ = 1 << 30;
/** Most blocks one blockRange() call maps. */
export const EXT2_MAX_RANGE = 1 << 24;

/** Tuning for Ext2Fs.open(). */
export interface Ext2OpenOptions {
  /** Indirect blocks kept in the block-map cache (default 64). */
  indirectCacheBlocks?: number;
  /** Inode table blocks kept (default 32). */
  inodeCacheBlocks?: number;
  /** Largest single device read when coalescing contiguous data blocks (default 1 MiB). */
  maxDeviceRead?: number;
}

/** Device and cache counters. `reads`/`bytes` count BlockSource.read() calls and bytes. */
export interface Ext2Stats {
  reads: number;
  bytes: number;
  indirectHits: number;
  indirectMisses: number;
  inodeBlockHits: number;
  inodeBlockMisses: number;
}

/** One directory entry as readdir() returns it. */
export interface Ext2DirEntry {
  /** The name decoded as UTF-8 (see nameBytes for the exact bytes). */
  name: string;
  nameBytes: Uint8Array;
  ino: number;
  /** From the entry's file_type with the filetype feature, else from the inode. */
  type: FileType;
}

/** What stat() reports (struct stat's fields, seconds + nanoseconds for times). */
export interface Ext2Stat {
  ino: number;
  /** i_mode: type and permission bits. */
  mode: number;
  type: FileType;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  atimeNsec: number;
  mtime: number;
  mtimeNsec: number;
  ctime: number;
  ctimeNsec: number;
  /** 512-byte units, like st_blocks. */
  blocks: number;
  /** The file system block size (st_blksize). */
  blksize: number;
  /** Device number for char/block devices (Linux's 32-bit encoding), else 0. */
  rdev: number;
  rdevMajor: number;
  rdevMinor: number;
  /** i_flags */
  flags: number;
  /** i_generation */
  generation: number;
}

/** An entry yielded by walk(). */
export interface Ext2WalkEntry {
  /** Path from the walk's start, '/'-separated, starting with '/'. */
  path: string;
  ino: number;
  type: FileType;
}

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

function checkIndex(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Ext2Error('EINVAL', `bad ${what} ${v}`);
}

/** A read-only ext2 file system on a BlockSource. Create with Ext2Fs.open(). */
export class Ext2Fs {
  /** The decoded superblock. */
  readonly superblock: Ext2Superblock;
  /** The block group descriptors. */
  readonly groups: readonly Ext2GroupDesc[];
  /** 1024 << s_log_block_size */
  readonly blockSize: number;
  /** s_rev_level (0 or 1) */
  readonly revision: number;
  /** s_inode_size (128 on revision 0) */
  readonly inodeSize: number;
  /** s_inodes_count */
  readonly inodesCount: number;
  /** s_blocks_count */
  readonly blocksCount: number;
  /** Number of block groups. */
  readonly groupCount: number;
  /** s_volume_name */
  readonly volumeName: string;
  /** Feature names set in s_feature_compat / _incompat / _ro_compat. */
  readonly features: { compat: string[]; incompat: string[]; roCompat: string[] };
  /** The filetype feature: directory entries carry the type. */
  readonly hasFiletype: boolean;

  private readonly blockMap: BlockMap;
  private readonly inodeBlocks: LruCache<number, Promise<Uint8Array>>;
  private readonly maxDeviceRead: number;
  private counters = { reads: 0, bytes: 0, inodeBlockHits: 0, inodeBlockMisses: 0 };

  private constructor(
    private readonly src: BlockSource,
    sb: Ext2Superblock,
    groups: Ext2GroupDesc[],
    opts: Ext2OpenOptions,
  ) {
    this.superblock = sb;
    this.groups = groups;
    this.blockSize = sb.blockSize;
    this.revision = sb.s_rev_level;
    this.inodeSize = sb.s_inode_size;
    this.inodesCount = sb.s_inodes_count;
    this.blocksCount = sb.s_blocks_count;
    this.groupCount = sb.groupCount;
    this.volumeName = sb.s_volume_name;
    this.features = {
      compat: featureNames(sb.s_feature_compat, COMPAT_FEATURES),
      incompat: featureNames(sb.s_feature_incompat, INCOMPAT_FEATURES),
      roCompat: featureNames(sb.s_feature_ro_compat, RO_COMPAT_FEATURES),
    };
    this.hasFiletype = (sb.s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE) !== 0;
    this.maxDeviceRead = Math.max(sb.blockSize, opts.maxDeviceRead ?? 1 << 20);
    this.inodeBlocks = new LruCache(opts.inodeCacheBlocks ?? 32);
    this.blockMap = new BlockMap({
      blockSize: sb.blockSize,
      firstDataBlock: sb.s_first_data_block,
      blocksCount: sb.s_blocks_count,
      readBlock: (b) => this.readBlock(b),
      cacheBlocks: opts.indirectCacheBlocks ?? 64,
    });
  }

  /**
   * Read and check the superblock and group descriptors of the file system on `src`,
   * and check that the root inode is a directory. Throws Ext2Error.
   */
  static async open(src: BlockSource, opts: Ext2OpenOptions = {}): Promise<Ext2Fs> {
    if (!Number.isSafeInteger(src.size) || src.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
      throw corrupt(`image too small (${src.size} bytes) to hold a superblock at byte ${SUPERBLOCK_OFFSET}`);
    }
    const counters = { reads: 0, bytes: 0 };
    const raw = await deviceRead(src, counters, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE);
    const sb = parseSuperblock(raw, src.size);

    // The group descriptor table: contiguous after the superblock, or spread over meta groups.
    const bs = sb.blockSize;
    const perBlock = bs / EXT2_MIN_DESC_SIZE;
    const gdtBlocks = Math.ceil(sb.groupCount / perBlock);
    const groups: Ext2GroupDesc[] = [];
    let i = 0;
    while (i < gdtBlocks) {
      const first = descriptorBlock(sb, i);
      let n = 1; // coalesce consecutive descriptor blocks into one read
      while (i + n < gdtBlocks && descriptorBlock(sb, i + n) === first + n && n * bs < (1 << 20)) n++;
      if (first + n > sb.s_blocks_count) {
        throw corrupt(`group descriptor block ${first + n - 1} outside the file system (${sb.s_blocks_count} blocks)`);
      }
      const bytes = await deviceRead(src, counters, first * bs, n * bs);
      for (let g = i * perBlock; g < Math.min(sb.groupCount, (i + n) * perBlock); g++) {
        groups.push(parseGroupDesc(sb, g, bytes, (g - i * perBlock) * EXT2_MIN_DESC_SIZE));
      }
      i += n;
    }
    const fs = new Ext2Fs(src, sb, groups, opts);
    fs.counters.reads += counters.reads;
    fs.counters.bytes += counters.bytes;
    const root = await fs.readInode(EXT2_ROOT_INO);
    if (root.type !== 'directory') throw corrupt(`root inode ${EXT2_ROOT_INO} is not a directory (i_mode 0${root.i_mode.toString(8)})`);
    return fs;
  }

  /** Device and cache counters since open (or the last resetStats()). */
  get stats(): Ext2Stats {
    return { ...this.counters, ...this.blockMap.stats };
  }

  /** Zero the counters. */
  resetStats(): void {
    this.counters = { reads: 0, bytes: 0, inodeBlockHits: 0, inodeBlockMisses: 0 };
    this.blockMap.stats.indirectHits = 0;
    this.blockMap.stats.indirectMisses = 0;
  }

  /** Drop the metadata caches (the next accesses go to the device again). */
  clearCaches(): void {
    this.blockMap.clearCache();
    this.inodeBlocks.clear();
  }

  // ==== device access ===============================================================

  private dev(offset: number, length: number): Promise<Uint8Array> {
    return deviceRead(this.src, this.counters, offset, length);
  }

  /** Read file system block `block` (bounds-checked against s_blocks_count). */
  readBlock(block: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(block) || block < 0 || block >= this.blocksCount) {
      return Promise.reject(corrupt(`block ${block} outside the file system (${this.blocksCount} blocks)`));
    }
    return this.dev(block * this.blockSize, this.blockSize);
  }

  // ==== inodes ======================================================================

  /** Read and decode inode `ino` (1..s_inodes_count). */
  async readInode(ino: number): Promise<Ext2Inode> {
    if (!Number.isSafeInteger(ino) || ino < 1 || ino > this.inodesCount) {
      throw new Ext2Error('EINVAL', `inode number ${ino} out of range (1..${this.inodesCount})`);
    }
    const sb = this.superblock;
    const group = Math.floor((ino - 1) / sb.s_inodes_per_group);
    const index = (ino - 1) % sb.s_inodes_per_group;
    const gd = this.groups[group];
    if (gd === undefined) throw corrupt(`inode ${ino}: group ${group} has no descriptor`);
    const byteInTable = index * this.inodeSize;
    const block = gd.bg_inode_table + Math.floor(byteInTable / this.blockSize);
    let p = this.inodeBlocks.get(block);
    if (p !== undefined) {
      this.counters.inodeBlockHits++;
    } else {
      this.counters.inodeBlockMisses++;
      p = this.readBlock(block);
      this.inodeBlocks.set(block, p);
      const pp = p;
      pp.catch(() => this.inodeBlocks.deleteIf(block, pp));
    }
    const bytes = await p;
    const off = byteInTable % this.blockSize;
    return parseInode(sb, ino, bytes.subarray(off, off + this.inodeSize));
  }

  /** True if the inode's i_block holds block pointers (not device numbers or a fast symlink). */
  private isFastSymlink(inode: Ext2Inode): boolean {
    if (inode.type !== 'symlink') return false;
    const eaBlocks = inode.i_file_acl !== 0 ? this.blockSize / 512 : 0;
    return inode.i_blocks - eaBlocks === 0;
  }

  private requireBlockMapped(inode: Ext2Inode, what: string): void {
    const t = inode.type;
    if (t !== 'regular' && t !== 'directory' && t !== 'symlink') {
      throw new Ext2Error('EINVAL', `${what}: inode ${inode.ino} is a ${t}, it has no data blocks`);
    }
    if (this.isFastSymlink(inode)) {
      throw new Ext2Error('EINVAL', `${what}: inode ${inode.ino} is a fast symlink, its target lives in i_block`);
    }
    checkDataFlags(inode);
  }

  /** Disk block holding block `fileBlock` of file `ino`; 0 for a hole. */
  async blockOf(ino: number, fileBlock: number): Promise<number> {
    const inode = await this.readInode(ino);
    this.requireBlockMapped(inode, 'blockOf');
    return this.blockMap.map(inode, fileBlock);
  }

  /** Disk blocks of file blocks [first, first+count) of `ino`, 0 for holes. */
  async blockRange(ino: number, first: number, count: number): Promise<Uint32Array> {
    checkIndex('file block', first);
    checkIndex('block count', count);
    if (count > EXT2_MAX_RANGE || first + count > this.blockMap.maxFileBlocks) {
      throw new Ext2Error('EINVAL', `blockRange: ${count} blocks from ${first} (at most ${EXT2_MAX_RANGE}, below ${this.blockMap.maxFileBlocks})`);
    }
    const inode = await this.readInode(ino);
    this.requireBlockMapped(inode, 'blockRange');
    return this.blockMap.mapRange(inode, first, count);
  }

  // ==== file data ===================================================================

  /**
   * Read file bytes [offset, offset+length) of `inode` (already decoded), clipped at EOF,
   * holes as zeros.
   */
  private async readData(inode: Ext2Inode, offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, inode.size);
    if (end <= offset) return new Uint8Array(0);
    if (end - offset > EXT2_MAX_READ) {
      throw new Ext2Error('EINVAL', `read of ${end - offset} bytes exceeds the ${EXT2_MAX_READ}-byte limit per call`);
    }
    const bs = this.blockSize;
    const firstBlock = Math.floor(offset / bs);
    const lastBlock = Math.floor((end - 1) / bs);
    if (lastBlock >= this.blockMap.maxFileBlocks) {
      throw corrupt(`inode ${inode.ino}: size ${inode.size} beyond what the block map can address`);
    }
    const phys = await this.blockMap.mapRange(inode, firstBlock, lastBlock - firstBlock + 1);
    return this.readMapped(inode, offset, end, firstBlock, phys, false);
  }

  /**
   * Read file bytes [offset, end) given the disk blocks `phys` of file blocks from
   * `firstBlock` on: contiguous disk blocks are fetched with one device read (up to
   * maxDeviceRead bytes), a few reads in flight at once.
   */
  private async readMapped(
    inode: Ext2Inode,
    offset: number,
    end: number,
    firstBlock: number,
    phys: Uint32Array,
    noHoles: boolean,
  ): Promise<Uint8Array> {
    const bs = this.blockSize;
    const out = new Uint8Array(end - offset);
    const maxRun = Math.max(1, Math.floor(this.maxDeviceRead / bs));
    const jobs: Array<() => Promise<void>> = [];
    const count = phys.length;
    let i = 0;
    while (i < count) {
      const start = phys[i]!;
      if (start === 0) {
        if (noHoles) throw corrupt(`directory ${inode.ino} has a hole at block ${firstBlock + i}`);
        i++;
        continue;
      }
      let n = 1;
      while (i + n < count && n < maxRun && phys[i + n] === start + n) n++;
      const fileStart = (firstBlock + i) * bs; // file byte of the run's first block
      const runBlocks = n;
      jobs.push(async () => {
        const bytes = await this.dev(start * bs, runBlocks * bs);
        // Copy the overlap of [fileStart, fileStart + runBlocks*bs) with [offset, end).
        const from = Math.max(offset, fileStart);
        const to = Math.min(end, fileStart + runBlocks * bs);
        out.set(bytes.subarray(from - fileStart, to - fileStart), from - offset);
      });
      i += n;
    }
    // A few device reads in flight at once; each is one device_read RPC in the real system.
    const inFlight = 8;
    for (let k = 0; k < jobs.length; k += inFlight) {
      await Promise.all(jobs.slice(k, k + inFlight).map((j) => j()));
    }
    return out;
  }

  /**
   * Bytes [offset, offset+length) of file `ino`, clipped at EOF, holes read as zeros.
   * Regular files, directories (their raw blocks) and symlinks (the target) only.
   */
  async read(ino: number, offset: number, length: number): Promise<Uint8Array> {
    checkIndex('offset', offset);
    checkIndex('length', length);
    const inode = await this.readInode(ino);
    if (this.isFastSymlink(inode)) {
      const target = await this.readlinkBytes(inode);
      return target.slice(Math.min(offset, target.length), Math.min(offset + length, target.length));
    }
    this.requireBlockMapped(inode, 'read');
    return this.readData(inode, offset, length);
  }

  // ==== symlinks ====================================================================

  private async readlinkBytes(inode: Ext2Inode): Promise<Uint8Array> {
    if (inode.type !== 'symlink') throw new Ext2Error('EINVAL', `readlink: inode ${inode.ino} is not a symlink`);
    const size = inode.size;
    if (this.isFastSymlink(inode)) {
      if (size > inode.i_block_bytes.length) {
        throw corrupt(`fast symlink ${inode.ino}: i_size ${size} larger than i_block (60 bytes)`);
      }
      return inode.i_block_bytes.slice(0, size);
    }
    if (size > EXT2_MAX_SYMLINK) throw corrupt(`symlink ${inode.ino}: i_size ${size} larger than ${EXT2_MAX_SYMLINK}`);
    checkDataFlags(inode);
    return this.readData(inode, 0, size);
  }

  /** The target of symlink `ino` (fast: from i_block; slow: from its data block). */
  async readlink(ino: number): Promise<string> {
    return utf8.decode(await this.readlinkBytes(await this.readInode(ino)));
  }

  // ==== directories =================================================================

  /** Yield the live entries of directory `inode`, a batch of blocks at a time. */
  private async *dirEntries(inode: Ext2Inode): AsyncGenerator<RawDirEntry> {
    if (inode.type !== 'directory') throw new Ext2Error('ENOTDIR', `inode ${inode.ino} is not a directory`);
    checkDataFlags(inode);
    const bs = this.blockSize;
    if (inode.size % bs !== 0) throw corrupt(`directory ${inode.ino}: size ${inode.size} not a multiple of the block size ${bs}`);
    const nblocks = inode.size / bs;
    const chunk = Math.max(1, Math.floor((64 * 1024) / bs));
    const seen = new Set<number>();
    const opts = { dirIno: inode.ino, blockSize: bs, filetype: this.hasFiletype, inodesCount: this.inodesCount };
    for (let b = 0; b < nblocks; b += chunk) {
      const n = Math.min(chunk, nblocks - b);
      // Two file blocks on one disk block would make a directory list itself forever.
      const phys = await this.blockMap.mapRange(inode, b, n);
      for (let k = 0; k < n; k++) {
        const p = phys[k]!;
        if (p === 0) throw corrupt(`directory ${inode.ino} has a hole at block ${b + k}`);
        if (seen.has(p)) throw corrupt(`directory ${inode.ino}: disk block ${p} appears twice in its block map (loop)`);
        seen.add(p);
      }
      const bytes = await this.readMapped(inode, b * bs, (b + n) * bs, b, phys, true);
      for (let k = 0; k < n; k++) {
        yield* parseDirBlock(bytes.subarray(k * bs, (k + 1) * bs), (b + k) * bs, opts);
      }
    }
  }

  private async entryType(e: RawDirEntry): Promise<FileType> {
    const t = this.hasFiletype ? fileTypeOfDirEntry(e.file_type) : null;
    return t ?? (await this.readInode(e.inode)).type;
  }

  /** All live entries of directory `dirIno`, '.' and '..' included, in on-disk order. */
  async readdir(dirIno: number): Promise<Ext2DirEntry[]> {
    const inode = await this.readInode(dirIno);
    const out: Ext2DirEntry[] = [];
    for await (const e of this.dirEntries(inode)) {
      out.push({ name: utf8.decode(e.nameBytes), nameBytes: e.nameBytes, ino: e.inode, type: await this.entryType(e) });
    }
    return out;
  }

  /** Inode number of `name` in directory `dirIno`, or null if there is no such entry. */
  async lookup(dirIno: number, name: string | Uint8Array): Promise<number | null> {
    const key = typeof name === 'string' ? utf8enc.encode(name) : name;
    if (key.length === 0) throw new Ext2Error('EINVAL', 'lookup: empty name');
    if (key.length > EXT2_NAME_LEN) throw new Ext2Error('ENAMETOOLONG', `lookup: name of ${key.length} bytes > ${EXT2_NAME_LEN}`);
    if (key.includes(0x2f) || key.includes(0)) throw new Ext2Error('EINVAL', 'lookup: name contains "/" or NUL');
    const inode = await this.readInode(dirIno);
    for await (const e of this.dirEntries(inode)) {
      if (bytesEqual(e.nameBytes, key)) return e.inode;
    }
    return null;
  }

  /**
   * Resolve `path` from the root directory (a leading '/' is optional). Symlinks in the
   * middle of the path are always followed; the last component is followed unless
   * `followSymlinks` is false. A trailing '/' (as in POSIX) follows the last symlink and
   * requires a directory. Throws ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG.
   */
  async namei(path: string, opts: { followSymlinks?: boolean } = {}): Promise<number> {
    const mustBeDir = path.endsWith('/') && path.replace(/\/+$/, '') !== '';
    const follow = (opts.followSymlinks ?? true) || mustBeDir;
    let follows = 0;
    // A stack of components still to resolve (reversed), and the directory we are in.
    let pending = splitPath(path).reverse();
    let dir = EXT2_ROOT_INO;
    let cur = EXT2_ROOT_INO;
    while (pending.length > 0) {
      const comp = pending.pop()!;
      const dirInode = await this.readInode(cur);
      if (dirInode.type !== 'directory') throw new Ext2Error('ENOTDIR', `namei ${path}: "${comp}" looked up in a non-directory (inode ${cur})`);
      dir = cur;
      const next = await this.lookup(dir, comp);
      if (next === null) throw new Ext2Error('ENOENT', `namei ${path}: no "${comp}" in directory inode ${dir}`);
      const nextInode = await this.readInode(next);
      if (nextInode.type === 'symlink' && (pending.length > 0 || follow)) {
        if (++follows > EXT2_MAX_SYMLINK_FOLLOWS) throw new Ext2Error('ELOOP', `namei ${path}: more than ${EXT2_MAX_SYMLINK_FOLLOWS} symlinks`);
        const target = utf8.decode(await this.readlinkBytes(nextInode));
        if (target.length === 0) throw new Ext2Error('ENOENT', `namei ${path}: empty symlink (inode ${next})`);
        pending = pending.concat(splitPath(target).reverse());
        cur = target.startsWith('/') ? EXT2_ROOT_INO : dir;
        continue;
      }
      cur = next;
    }
    if (mustBeDir && (await this.readInode(cur)).type !== 'directory') {
      throw new Ext2Error('ENOTDIR', `namei ${path}: trailing "/" on a non-directory (inode ${cur})`);
    }
    return cur;
  }

  /**
   * Depth-first walk of the tree under directory `startIno` (default the root), yielding
   * every entry except '.' and '..'. A directory reached twice (a hard-linked directory,
   * i.e. a loop) is an Ext2Error('ELOOP').
   */
  async *walk(startIno: number = EXT2_ROOT_INO): AsyncGenerator<Ext2WalkEntry> {
    const visited = new Map<number, string>([[startIno, '/']]);
    const stack: Array<{ ino: number; path: string }> = [{ ino: startIno, path: '' }];
    while (stack.length > 0) {
      const { ino, path } = stack.pop()!;
      const entries = await this.readdir(ino);
      const subdirs: Array<{ ino: number; path: string }> = [];
      for (const e of entries) {
        if (e.name === '.' || e.name === '..') continue;
        const p = `${path}/${e.name}`;
        yield { path: p, ino: e.ino, type: e.type };
        if (e.type === 'directory') {
          const prev = visited.get(e.ino);
          if (prev !== undefined) throw new Ext2Error('ELOOP', `directory loop: ${p} is inode ${e.ino}, already reached as ${prev}`);
          visited.set(e.ino, p);
          subdirs.push({ ino: e.ino, path: p });
        }
      }
      for (let k = subdirs.length - 1; k >= 0; k--) stack.push(subdirs[k]!);
    }
  }

  // ==== stat ========================================================================

  /** struct stat for inode `ino`. */
  async stat(ino: number): Promise<Ext2Stat> {
    const i = await this.readInode(ino);
    const isDev = i.type === 'chardev' || i.type === 'blockdev';
    const dev = isDev ? decodeDevice(i) : { major: 0, minor: 0 };
    return {
      ino,
      mode: i.i_mode,
      type: i.type,
      nlink: i.i_links_count,
      uid: i.i_uid,
      gid: i.i_gid,
      size: i.size,
      atime: i.i_atime,
      atimeNsec: i.atimeNsec,
      mtime: i.i_mtime,
      mtimeNsec: i.mtimeNsec,
      ctime: i.i_ctime,
      ctimeNsec: i.ctimeNsec,
      blocks: i.i_blocks,
      blksize: this.blockSize,
      rdev: isDev ? encodeDevice(dev) : 0,
      rdevMajor: dev.major,
      rdevMinor: dev.minor,
      flags: i.i_flags,
      generation: i.i_generation,
    };
  }
}

/** Split a path into components, dropping empty ones and '.' is kept (ext2 has '.' entries). */
function splitPath(path: string): string[] {
  const parts = path.split('/').filter((c) => c.length > 0);
  for (const c of parts) {
    if (utf8enc.encode(c).length > EXT2_NAME_LEN) throw new Ext2Error('ENAMETOOLONG', `path component of more than ${EXT2_NAME_LEN} bytes`);
  }
  return parts;
}

/** One bounds-checked, counted device read; source failures become Ext2Error('EIO'). */
async function deviceRead(
  src: BlockSource,
  counters: { reads: number; bytes: number },
  offset: number,
  length: number,
): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > src.size) {
    throw corrupt(`read of ${length} bytes at byte ${offset} past the end of the device (${src.size} bytes): image truncated?`);
  }
  counters.reads++;
  counters.bytes += length;
  let bytes: Uint8Array;
  try {
    bytes = await src.read(offset, length);
  } catch (e) {
    const err = new Ext2Error('EIO', `device read of ${length} bytes at byte ${offset} failed: ${(e as Error)?.message ?? String(e)}`);
    (err as { cause?: unknown }).cause = e;
    throw err;
  }
  if (bytes.length !== length) {
    throw new Ext2Error('EIO', `short device read: ${bytes.length} of ${length} bytes at byte ${offset}`);
  }
  return bytes;
}
