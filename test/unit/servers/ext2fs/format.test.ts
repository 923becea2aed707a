/*
 * File: test/unit/servers/ext2fs/format.test.ts
 * Purpose: The ext2 format helpers on their own: superblock backups, descriptor
 *          locations, device number encodings, rec_len decoding, feature names,
 *          directory block parsing, the LRU, and the file/memory block sources.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { decodeRecLen, dirRecLen, parseDirBlock } from '../../../../src/servers/ext2fs/dir.js';
import { Ext2Error } from '../../../../src/servers/ext2fs/errors.js';
import { FileBlockSource } from '../../../../src/servers/ext2fs/file_source.js';
import { decodeDevice, encodeDevice, type Ext2Inode } from '../../../../src/servers/ext2fs/inode.js';
import { LruCache } from '../../../../src/servers/ext2fs/lru.js';
import { MemoryBlockSource } from '../../../../src/servers/ext2fs/source.js';
import {
  descriptorBlock,
  type Ext2Superblock,
  featureNames,
  groupHasSuper,
  INCOMPAT_FEATURES,
} from '../../../../src/servers/ext2fs/superblock.js';
import { removeDir, tempDir } from './tools.js';

function sb(over: Partial<Ext2Superblock>): Ext2Superblock {
  return {
    s_first_data_block: 1,
    s_blocks_per_group: 8192,
    s_feature_compat: 0,
    s_feature_incompat: 0,
    s_feature_ro_compat: 0x1,
    s_first_meta_bg: 0,
    s_backup_bgs: [0, 0],
    blockSize: 1024,
    ...over,
  } as Ext2Superblock;
}

describe('ext2 format helpers', () => {
  it('sparse_super: backups in groups 0, 1 and powers of 3, 5, 7', () => {
    const s = sb({});
    const with_ = Array.from({ length: 130 }, (_, g) => g).filter((g) => groupHasSuper(s, g));
    expect(with_).toEqual([0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125]);
    expect(groupHasSuper(sb({ s_feature_ro_compat: 0 }), 6)).toBe(true);
    const s2 = sb({ s_feature_compat: 0x200, s_backup_bgs: [1, 47] });
    expect([0, 1, 3, 47].map((g) => groupHasSuper(s2, g))).toEqual([true, true, false, true]);
  });

  it('descriptor blocks: after the superblock, or per meta group', () => {
    expect(descriptorBlock(sb({}), 0)).toBe(2);
    expect(descriptorBlock(sb({ s_first_data_block: 0, blockSize: 4096 }), 3)).toBe(4);
    // meta_bg, 1 KiB blocks: 32 descriptors per block, so meta group i starts at group 32*i.
    const m = sb({ s_feature_incompat: 0x10, s_blocks_per_group: 256, s_first_meta_bg: 1 });
    expect(descriptorBlock(m, 0)).toBe(2); // before s_first_meta_bg: classic
    expect(descriptorBlock(m, 1)).toBe(1 + 32 * 256); // group 32: no superblock copy
    expect(descriptorBlock(m, 2)).toBe(1 + 64 * 256); // group 64 either
    expect(descriptorBlock(sb({ s_feature_incompat: 0x10, s_blocks_per_group: 256 }), 0)).toBe(2); // group 0: after its superblock
  });

  it('device numbers: old 16-bit and new 32-bit encodings', () => {
    const dev = (b0: number, b1: number) => decodeDevice({ i_block: Uint32Array.of(b0, b1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) } as unknown as Ext2Inode);
    expect(dev(0x0405, 0)).toEqual({ major: 4, minor: 5 });
    expect(dev(0, encodeDevice({ major: 300, minor: 70000 }))).toEqual({ major: 300, minor: 70000 });
    expect(encodeDevice({ major: 8, minor: 1 })).toBe(0x801);
  });

  it('rec_len: 64 KiB blocks encode 65536', () => {
    expect(decodeRecLen(12, 4096)).toBe(12);
    expect(decodeRecLen(0, 65536)).toBe(65536);
    expect(decodeRecLen(65535, 65536)).toBe(65536);
    expect(decodeRecLen(65532 | 1, 65536)).toBe(65532 | (1 << 16));
    expect([1, 4, 5, 255].map(dirRecLen)).toEqual([12, 12, 16, 264]);
  });

  it('feature names, unknown bits in hex', () => {
    expect(featureNames(0x2 | 0x40 | 0x80000000, INCOMPAT_FEATURES)).toEqual(['filetype', 'extent', 'unknown(0x80000000)']);
  });

  it('directory blocks: entries, free space, and every bad rec_len', () => {
    const block = new Uint8Array(1024);
    const dv = new DataView(block.buffer);
    const put = (off: number, ino: number, rec: number, name: string, type: number) => {
      dv.setUint32(off, ino, true);
      dv.setUint16(off + 4, rec, true);
      dv.setUint8(off + 6, name.length);
      dv.setUint8(off + 7, type);
      block.set(new TextEncoder().encode(name), off + 8);
    };
    put(0, 2, 12, '.', 2);
    put(12, 0, 20, 'gone', 1); // free
    put(32, 12, 1024 - 32, 'file', 1);
    const o = { dirIno: 2, blockSize: 1024, filetype: true, inodesCount: 100 };
    expect(parseDirBlock(block, 0, o).map((e) => [e.inode, e.offset, new TextDecoder().decode(e.nameBytes), e.file_type])).toEqual([
      [2, 0, '.', 2],
      [12, 32, 'file', 1],
    ]);
    // Without filetype, name_len is 16 bits: the type byte becomes its high half.
    expect(() => parseDirBlock(block, 0, { ...o, filetype: false })).toThrow(/name_len 258 > 255|name_len 513/);
    for (const [rec, re] of [[0, /rec_len 0 smaller/], [6, /rec_len 6 smaller/], [14, /not a multiple of 4/], [2000, /crosses the block end/]] as const) {
      const b = block.slice();
      new DataView(b.buffer).setUint16(32 + 4, rec, true);
      expect(() => parseDirBlock(b, 0, o)).toThrow(re);
    }
    expect(() => parseDirBlock(block.subarray(0, 1000), 0, o)).toThrow(Ext2Error);
  });

  it('LRU cache evicts the least recently used', () => {
    const c = new LruCache<number, string>(2);
    c.set(1, 'a');
    c.set(2, 'b');
    expect(c.get(1)).toBe('a');
    c.set(3, 'c');
    expect([c.get(1), c.get(2), c.get(3), c.size]).toEqual(['a', undefined, 'c', 2]);
    c.deleteIf(3, 'x');
    expect(c.get(3)).toBe('c');
    c.deleteIf(3, 'c');
    expect(c.get(3)).toBeUndefined();
  });

  it('FileBlockSource and MemoryBlockSource read exact ranges', async () => {
    const dir = tempDir('src');
    try {
      const path = join(dir, 'img');
      const bytes = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
      writeFileSync(path, bytes);
      for (const sync of [false, true]) {
        const f = await FileBlockSource.open(path, { sync });
        expect(f.size).toBe(10000);
        expect(Array.from(await f.read(9990, 10))).toEqual(Array.from(bytes.subarray(9990)));
        await expect(f.read(9995, 10)).rejects.toThrow(/unexpected end of file/);
        await f.close();
      }
      const m = new MemoryBlockSource(bytes);
      const r = await m.read(5, 3);
      r[0] = 99; // a copy, like an out-of-line reply
      expect(bytes[5]).toBe(5);
    } finally {
      removeDir(dir);
    }
  });
});
