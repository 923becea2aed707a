/*
 * File: servers/ext2fs/node.ts
 * Purpose: the server's node cache (libdiskfs's struct node, one per inode in use): each
 *          node's stat as the Hurd's ext2fs reads it (diskfs_user_read_node), its
 *          directory entries once read, and references from open files.
 *
 * References work as libdiskfs's (diskfs_cached_lookup returns a referenced node, nput
 * drops it): get() takes one for the caller, release() drops it; an open file (peropen)
 * holds one for its life. A node without references waits in an LRU of `capacity`
 * nodes; leaving the LRU frees it. So a node in use by a request is never evicted. Every node is a heap item
 * (ServerMemory.malloc 'node'), and a directory's entries another ('dirdata', sized as the
 * directory), so the heap sees the server's real churn.
 */

import type { Ext2DirEntry, Ext2Fs, Ext2Stat } from './ext2.js';
import { EXT2_ROOT_INO } from './ext2.js';
import type { MemoryTag, ServerMemory } from './heap.js';
import { S_IFDIR, S_IFMT, S_IPTRANS, S_ITRANS } from './hurd_types.js';
import { EXT2_OS_HURD } from './superblock.js';

/**
 * Bytes one node takes in the Hurd's ext2fs on x86_64 (struct node with its struct stat,
 * locks, conch and transbox, plus struct disknode): an estimate for the heap model.
 */
export const NODE_HEAP_SIZE = 512;

/** A cached inode. */
export interface Node {
  readonly ino: number;
  /** The reader's stat of the inode. */
  readonly stat: Ext2Stat;
  /** st_mode as the Hurd reports it: i_mode (and i_mode_high on Hurd images), S_IPTRANS. */
  readonly hurdMode: number;
  /** st_author: i_author on Hurd images, else the owner. */
  readonly author: number;
  /** st_rdev as the Hurd's ext2fs reports it: a device's raw i_block[0] (0 for the rest). */
  readonly rdev: number;
  /** References: open files (peropens) and requests using the node. */
  refs: number;
  /** The directory's live entries, once read. */
  dir: { entries: Ext2DirEntry[]; byName: Map<string, number>; addr: number } | null;
  /** The node's heap address. */
  readonly addr: number;
}

/** Counters of the node cache. */
export interface NodeCacheStats {
  /** nodes held (referenced or in the LRU) */
  nodes: number;
  referenced: number;
  hits: number;
  misses: number;
  evictions: number;
  /** directories whose entries are cached */
  dirs: number;
}

/** A latin1 key for a byte string (names compare as bytes, as on disk). */
function key(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

export class NodeCache {
  private readonly nodes = new Map<number, Node>();
  /** Unreferenced nodes, least recently used first. */
  private readonly lru = new Map<number, Node>();
  private readonly loading = new Map<number, Promise<Node>>();
  private readonly dirLoading = new Map<number, Promise<Ext2DirEntry[]>>();
  private readonly s = { hits: 0, misses: 0, evictions: 0 };

  constructor(
    readonly fs: Ext2Fs,
    private readonly memory: ServerMemory,
    readonly capacity: number,
  ) {}

  get stats(): NodeCacheStats {
    let referenced = 0;
    let dirs = 0;
    for (const n of this.nodes.values()) {
      if (n.refs > 0) referenced++;
      if (n.dir !== null) dirs++;
    }
    return { nodes: this.nodes.size, referenced, dirs, ...this.s };
  }

  /**
   * diskfs_cached_lookup: the node of inode `ino` (read on first use), with a reference
   * for the caller (drop it with release()). Throws Ext2Error.
   */
  async get(ino: number): Promise<Node> {
    const n = this.nodes.get(ino);
    if (n !== undefined) {
      this.s.hits++;
      this.ref(n);
      return n;
    }
    let p = this.loading.get(ino);
    if (p === undefined) {
      this.s.misses++;
      p = this.read(ino);
      this.loading.set(ino, p);
      p.finally(() => this.loading.delete(ino)).catch(() => undefined);
    }
    const node = await p;
    this.ref(node);
    return node;
  }

  /** diskfs_user_read_node: the inode's stat, the Hurd's mode bits and author. */
  private async read(ino: number): Promise<Node> {
    const stat = await this.fs.stat(ino);
    const inode = await this.fs.readInode(ino);
    const hurdImage = this.fs.superblock.s_creator_os === EXT2_OS_HURD;
    let hurdMode = stat.mode;
    let author = stat.uid;
    if (hurdImage && inode.hurd !== null) {
      hurdMode = (stat.mode | (inode.hurd.i_mode_high << 16)) & ~S_ITRANS;
      if (inode.hurd.i_translator !== 0) hurdMode |= S_IPTRANS;
      author = inode.hurd.i_author === 0xffffffff ? stat.uid : inode.hurd.i_author;
    }
    const isDev = stat.type === 'chardev' || stat.type === 'blockdev';
    const rdev = isDev ? inode.i_block[0]! : 0;
    // In the table, not in the LRU: every get() waiting for it takes a reference next.
    const node: Node = { ino, stat, hurdMode: hurdMode >>> 0, author, rdev, refs: 0, dir: null, addr: this.memory.malloc(NODE_HEAP_SIZE, 'node') };
    this.nodes.set(ino, node);
    return node;
  }

  /** diskfs_nref: a new reference on `node` (an open file, or a request using it). */
  ref(node: Node): void {
    if (node.refs++ === 0) this.lru.delete(node.ino);
  }

  /** diskfs_nrele: a reference is dropped; the node joins the LRU when it was the last. */
  release(node: Node): void {
    if (node.refs <= 0) throw new Error(`node ${node.ino}: release without a reference`);
    if (--node.refs === 0 && this.nodes.get(node.ino) === node) {
      this.lru.set(node.ino, node);
      this.trim();
    }
  }

  private trim(): void {
    while (this.lru.size > this.capacity) {
      const [ino, node] = this.lru.entries().next().value as [number, Node];
      this.lru.delete(ino);
      this.nodes.delete(ino);
      this.drop(node);
      this.s.evictions++;
    }
  }

  private drop(node: Node): void {
    if (node.dir !== null) this.memory.free(node.dir.addr);
    node.dir = null;
    this.memory.free(node.addr);
  }

  /** True for a directory node. */
  static isDir(node: Node): boolean {
    return (node.stat.mode & S_IFMT) === S_IFDIR;
  }

  /** The directory's live entries in on-disk order ('.' and '..' included), cached. */
  async entries(node: Node): Promise<Ext2DirEntry[]> {
    if (node.dir !== null) return node.dir.entries;
    let p = this.dirLoading.get(node.ino);
    if (p === undefined) {
      p = this.fs.readdir(node.ino).then((entries) => {
        if (node.dir === null) {
          const byName = new Map<string, number>();
          for (const e of entries) if (!byName.has(key(e.nameBytes))) byName.set(key(e.nameBytes), e.ino);
          const tag: MemoryTag = 'dirdata';
          node.dir = { entries, byName, addr: this.memory.malloc(Math.max(node.stat.size, 1), tag) };
          // An evicted node must not keep a heap item alive.
          if (this.nodes.get(node.ino) !== node) {
            this.memory.free(node.dir.addr);
            const d = node.dir;
            node.dir = null;
            return d.entries;
          }
        }
        return node.dir.entries;
      });
      this.dirLoading.set(node.ino, p);
      p.finally(() => this.dirLoading.delete(node.ino)).catch(() => undefined);
    }
    return p;
  }

  /** The inode `name` (its bytes) names in directory `node`, or null. */
  async lookup(node: Node, name: Uint8Array): Promise<number | null> {
    if (node.dir === null) await this.entries(node);
    const dir = node.dir as Node['dir'];
    if (dir === null) return (await this.fs.lookup(node.ino, name)) ?? null; // evicted meanwhile
    return dir.byName.get(key(name)) ?? null;
  }

  /** Free every node (the server is going away). */
  clear(): void {
    for (const n of this.nodes.values()) this.drop(n);
    this.nodes.clear();
    this.lru.clear();
  }

  /** True for the file system's root. */
  static isRoot(node: Node): boolean {
    return node.ino === EXT2_ROOT_INO;
  }
}
