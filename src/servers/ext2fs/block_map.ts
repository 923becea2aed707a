/*
 * File: servers/ext2fs/block_map.ts
 * Purpose: ext2's block map: file block -> disk block through i_block's 12 direct
 *          pointers and its single (IND), double (DIND) and triple (TIND) indirect
 *          blocks, with a small LRU cache of indirect blocks.
 *
 * A 0 pointer at any level is a hole. Every non-zero pointer is checked against
 * [s_first_data_block, s_blocks_count) before it is used or returned, so a corrupt
 * image yields an Ext2Error, never a read past the device.
 */

import { corrupt, Ext2Error } from './errors.js';
import {
  EXT2_DIND_BLOCK,
  EXT2_IND_BLOCK,
  EXT2_NDIR_BLOCKS,
  EXT2_TIND_BLOCK,
  type Ext2Inode,
} from './inode.js';
import { LruCache } from './lru.js';

/** What the block map needs from the file system. */
export interface BlockMapDeps {
  blockSize: number;
  /** s_first_data_block */
  firstDataBlock: number;
  /** s_blocks_count */
  blocksCount: number;
  /** Read one whole block from the device (counted by the caller). */
  readBlock(block: number): Promise<Uint8Array>;
  /** How many indirect blocks to keep (default 64). */
  cacheBlocks?: number;
}

/** Counters of the indirect-block cache. */
export interface BlockMapStats {
  indirectHits: number;
  indirectMisses: number;
}

const LEVEL_NAMES = ['IND', 'DIND', 'TIND'] as const;

/** Maps file blocks to disk blocks for block-mapped (non-extent) inodes. */
export class BlockMap {
  /** Pointers per indirect block (block size / 4). */
  readonly perBlock: number;
  /** First file block beyond what the triple indirect block can address. */
  readonly maxFileBlocks: number;
  readonly stats: BlockMapStats = { indirectHits: 0, indirectMisses: 0 };
  private readonly cache: LruCache<number, Promise<Uint32Array>>;

  constructor(private readonly deps: BlockMapDeps) {
    const p = deps.blockSize / 4;
    this.perBlock = p;
    this.maxFileBlocks = EXT2_NDIR_BLOCKS + p + p * p + p * p * p;
    this.cache = new LruCache(deps.cacheBlocks ?? 64);
  }

  /** Forget all cached indirect blocks. */
  clearCache(): void {
    this.cache.clear();
  }

  private checkPointer(inode: Ext2Inode, block: number, fileBlock: number, what: string): void {
    if (block !== 0 && (block < this.deps.firstDataBlock || block >= this.deps.blocksCount)) {
      throw corrupt(
        `inode ${inode.ino}: ${what} pointer ${block} for file block ${fileBlock} outside the file system (blocks ${this.deps.firstDataBlock}..${this.deps.blocksCount - 1})`,
      );
    }
  }

  /** The pointers of indirect block `block`, from the cache or the device. */
  private indirect(block: number): Promise<Uint32Array> {
    const hit = this.cache.get(block);
    if (hit !== undefined) {
      this.stats.indirectHits++;
      return hit;
    }
    this.stats.indirectMisses++;
    const p = this.deps.readBlock(block).then((bytes) => {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Uint32Array(this.perBlock);
      for (let k = 0; k < out.length; k++) out[k] = dv.getUint32(4 * k, true);
      return out;
    });
    this.cache.set(block, p);
    // A failed read must not stay cached (the caller sees the rejection itself).
    p.catch(() => this.cache.deleteIf(block, p));
    return p;
  }

  /**
   * Path through the tree for `fileBlock`: the i_block slot and the indices inside each
   * indirect level (empty for direct blocks).
   */
  private path(inode: Ext2Inode, fileBlock: number): { slot: number; idx: number[] } {
    if (!Number.isSafeInteger(fileBlock) || fileBlock < 0) {
      throw new Ext2Error('EINVAL', `inode ${inode.ino}: bad file block ${fileBlock}`);
    }
    const p = this.perBlock;
    let b = fileBlock;
    if (b < EXT2_NDIR_BLOCKS) return { slot: b, idx: [] };
    b -= EXT2_NDIR_BLOCKS;
    if (b < p) return { slot: EXT2_IND_BLOCK, idx: [b] };
    b -= p;
    if (b < p * p) return { slot: EXT2_DIND_BLOCK, idx: [Math.floor(b / p), b % p] };
    b -= p * p;
    if (b < p * p * p) return { slot: EXT2_TIND_BLOCK, idx: [Math.floor(b / (p * p)), Math.floor(b / p) % p, b % p] };
    throw new Ext2Error('EINVAL', `inode ${inode.ino}: file block ${fileBlock} beyond the triple indirect range (${this.maxFileBlocks} blocks)`);
  }

  /** Disk block holding `fileBlock` of `inode`, 0 for a hole. */
  async map(inode: Ext2Inode, fileBlock: number): Promise<number> {
    const { slot, idx } = this.path(inode, fileBlock);
    let block = inode.i_block[slot]!;
    const depth = idx.length;
    this.checkPointer(inode, block, fileBlock, depth === 0 ? 'direct' : LEVEL_NAMES[depth - 1]!);
    for (let level = 0; level < depth && block !== 0; level++) {
      const ptrs = await this.indirect(block);
      block = ptrs[idx[level]!]!;
      this.checkPointer(inode, block, fileBlock, level === depth - 1 ? 'data' : 'indirect');
    }
    return block;
  }

  /**
   * Disk blocks of file blocks [first, first+count), 0 for holes. Walks the tree once per
   * leaf indirect block rather than once per block.
   */
  async mapRange(inode: Ext2Inode, first: number, count: number): Promise<Uint32Array> {
    const out = new Uint32Array(count);
    let i = 0;
    while (i < count) {
      const fb = first + i;
      const { slot, idx } = this.path(inode, fb);
      if (idx.length === 0) {
        const block = inode.i_block[slot]!;
        this.checkPointer(inode, block, fb, 'direct');
        out[i++] = block;
        continue;
      }
      // Resolve down to the leaf indirect block, then take as many entries from it as we can.
      let block = inode.i_block[slot]!;
      this.checkPointer(inode, block, fb, LEVEL_NAMES[idx.length - 1]!);
      for (let level = 0; level < idx.length - 1 && block !== 0; level++) {
        const ptrs = await this.indirect(block);
        block = ptrs[idx[level]!]!;
        this.checkPointer(inode, block, fb, 'indirect');
      }
      const start = idx[idx.length - 1]!;
      const n = Math.min(this.perBlock - start, count - i);
      if (block === 0) {
        i += n; // a hole over the whole leaf range; `out` is already zero
        continue;
      }
      const leaf = await this.indirect(block);
      for (let k = 0; k < n; k++) {
        const b = leaf[start + k]!;
        this.checkPointer(inode, b, fb + k, 'data');
        out[i + k] = b;
      }
      i += n;
    }
    return out;
  }
}
