/*
 * File: test/unit/servers/ext2fs/hostile.test.ts
 * Purpose: Corrupt, truncated and unsupported ext2 images: the reader must fail with a
 *          clear Ext2Error (and only an Ext2Error), never hang, never crash.
 */

import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Ext2Error, Ext2Fs, MemoryBlockSource, type BlockSource } from '../../../../src/servers/ext2fs/ext2.js';
import { FileBlockSource } from '../../../../src/servers/ext2fs/file_source.js';
import { debugfsWrite, describeE2fs, mkfs, pseudoRandom, removeDir, tempDir, writeSparse } from './tools.js';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<Ext2Error> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof Ext2Error)) throw new Error(`expected an Ext2Error, got ${String(e)}`, { cause: e });
    return e;
  }
  throw new Error('expected a failure, it succeeded');
}

/** Exercise everything reachable in `fs`; returns the Ext2Errors seen (anything else throws). */
async function exercise(fs: Ext2Fs): Promise<Ext2Error[]> {
  const errors: Ext2Error[] = [];
  const guard = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (!(e instanceof Ext2Error)) throw e;
      errors.push(e);
      return undefined;
    }
  };
  const entries: Array<{ path: string; ino: number }> = [];
  await guard(
    (async () => {
      for await (const e of fs.walk()) {
        entries.push(e);
        if (entries.length > 20_000) throw new Error('walk did not end');
      }
    })(),
  );
  for (const e of entries) {
    const st = await guard(fs.stat(e.ino));
    await guard(fs.namei(e.path, { followSymlinks: false }));
    if (st?.type === 'regular' || st?.type === 'directory') {
      await guard(fs.read(e.ino, 0, 1 << 16));
      await guard(fs.read(e.ino, Math.max(0, st.size - 100), 1 << 12));
      await guard(fs.blockOf(e.ino, 0));
    }
    if (st?.type === 'symlink') {
      await guard(fs.readlink(e.ino));
      await guard(fs.namei(e.path));
    }
    if (st?.type === 'directory') await guard(fs.lookup(e.ino, 'nonexistent'));
  }
  return errors;
}

describeE2fs('ext2 reader on hostile images', () => {
  let dir: string;
  let base: string;
  let baseBytes: Buffer;
  let fs0: Ext2Fs;
  let src0: FileBlockSource;

  beforeAll(async () => {
    dir = tempDir('hostile');
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'a/b'), { recursive: true });
    mkdirSync(join(root, 'many'));
    for (let i = 0; i < 120; i++) writeFileSync(join(root, `many/file-with-a-longish-name-${i}`), `${i}\n`);
    writeFileSync(join(root, 'file'), 'some bytes\n');
    writeFileSync(join(root, 'a/b/f'), 'nested\n');
    writeFileSync(join(root, 'big'), pseudoRandom(300 * 1024, 3)); // IND and DIND at 1 KiB
    writeSparse(join(root, 'sparse'), 70 * 1024 * 1024, [[69 * 1024 * 1024, pseudoRandom(100, 4)]]);
    symlinkSync('file', join(root, 'fast'));
    symlinkSync('./'.repeat(40) + 'file', join(root, 'slow'));
    base = join(dir, 'base.img');
    mkfs(base, root, ['-b', '1024', '-N', '256'], '2M');
    baseBytes = readFileSync(base);
    src0 = await FileBlockSource.open(base);
    fs0 = await Ext2Fs.open(src0);
  }, 60_000);

  afterAll(async () => {
    await src0?.close();
    if (dir) removeDir(dir);
  });

  /** A copy of the base image modified by debugfs -w commands, opened. */
  async function withDebugfs(tag: string, ...cmds: string[]): Promise<{ open: () => Promise<Ext2Fs> }> {
    const img = join(dir, `${tag}.img`);
    copyFileSync(base, img);
    debugfsWrite(img, ...cmds);
    return { open: async () => Ext2Fs.open(new MemoryBlockSource(readFileSync(img))) };
  }

  /** A copy of the base image bytes, patched by `patch`. */
  function patched(patch: (b: Buffer) => void): MemoryBlockSource {
    const b = Buffer.from(baseBytes);
    patch(b);
    return new MemoryBlockSource(b);
  }

  /** Byte offset of inode `ino` in the image. */
  function inodeOffset(ino: number): number {
    const sb = fs0.superblock;
    const g = Math.floor((ino - 1) / sb.s_inodes_per_group);
    return fs0.groups[g]!.bg_inode_table * fs0.blockSize + ((ino - 1) % sb.s_inodes_per_group) * fs0.inodeSize;
  }

  it('the base image is sound', async () => {
    expect(await exercise(fs0)).toEqual([]);
  });

  describe('truncated and not-ext2 images', () => {
    it('too small for a superblock', async () => {
      const e = await failure(Ext2Fs.open(new MemoryBlockSource(baseBytes.subarray(0, 1500))));
      expect(e.code).toBe('EIO');
      expect(e.message).toMatch(/too small/);
    });
    it('truncated to half', async () => {
      const e = await failure(Ext2Fs.open(new MemoryBlockSource(baseBytes.subarray(0, baseBytes.length >> 1))));
      expect(e.message).toMatch(/image truncated: the superblock says 2048 blocks/);
    });
    it('a source whose reads fail, or come back short', async () => {
      const bigData = (await fs0.blockOf(await fs0.namei('/big'), 0)) * fs0.blockSize;
      const failing: BlockSource = {
        size: baseBytes.length,
        read: async (off, len) => {
          if (off === bigData) throw new Error('disk on fire');
          return baseBytes.subarray(off, off + len);
        },
      };
      const fs = await Ext2Fs.open(failing);
      const e = await failure(fs.read(await fs.namei('/big'), 0, 300 * 1024));
      expect(e.message).toMatch(/device read of .* failed: disk on fire/);
      const short: BlockSource = { size: baseBytes.length, read: async (off, len) => baseBytes.subarray(off, off + len - 1) };
      expect((await failure(Ext2Fs.open(short))).message).toMatch(/short device read/);
    });
    it('bad magic', async () => {
      const e = await failure(Ext2Fs.open(patched((b) => b.writeUInt16LE(0x1234, 1080))));
      expect(e.code).toBe('EIO');
      expect(e.message).toMatch(/bad magic 0x1234/);
    });
    it('all zeros', async () => {
      expect((await failure(Ext2Fs.open(new MemoryBlockSource(new Uint8Array(1 << 20))))).message).toMatch(/bad magic 0x0000/);
    });
    it('unsupported revision', async () => {
      const e = await failure(Ext2Fs.open(patched((b) => b.writeUInt32LE(2, 1024 + 76))));
      expect([e.code, e.message]).toEqual(['EUNSUPPORTED', 'ext2: unsupported revision s_rev_level=2 (only 0 and 1)']);
    });
  });

  describe('bad superblock geometry and group descriptors', () => {
    const cases: Array<[string, number, number, 'u16' | 'u32', RegExp]> = [
      ['s_log_block_size 10', 24, 10, 'u32', /s_log_block_size 10/],
      ['s_log_block_size 2 on a 1 KiB image', 24, 2, 'u32', /s_first_data_block 1 invalid for 4096-byte blocks/],
      ['s_blocks_per_group 0', 32, 0, 'u32', /s_blocks_per_group 0/],
      ['s_inodes_per_group 0', 40, 0, 'u32', /s_inodes_per_group 0/],
      ['s_inodes_per_group huge', 40, 1 << 20, 'u32', /s_inodes_per_group/],
      ['s_inode_size 100', 88, 100, 'u16', /s_inode_size 100/],
      ['s_inode_size 4096', 88, 4096, 'u16', /s_inode_size 4096/],
      ['s_inodes_count past the groups', 0, 1 << 30, 'u32', /s_inodes_count/],
      ['s_blocks_count past the device', 4, 1 << 30, 'u32', /image truncated/],
      ['s_blocks_count 0', 4, 0, 'u32', /s_blocks_count is 0/],
      ['s_first_data_block 7', 20, 7, 'u32', /s_first_data_block 7/],
    ];
    for (const [name, off, value, kind, re] of cases) {
      it(name, async () => {
        const src = patched((b) => (kind === 'u16' ? b.writeUInt16LE(value, 1024 + off) : b.writeUInt32LE(value >>> 0, 1024 + off)));
        const e = await failure(Ext2Fs.open(src));
        expect(e.code).toBe('EIO');
        expect(e.message).toMatch(re);
      });
    }
    it('bg_inode_table past the end', async () => {
      const t = await withDebugfs('gdt', 'set_bg 0 inode_table 0xfffffff0');
      expect((await failure(t.open())).message).toMatch(/group 0: bg_inode_table 4294967280 .* outside the file system/);
    });
    it('root inode is not a directory', async () => {
      const t = await withDebugfs('rootreg', 'sif <2> mode 0100644');
      expect((await failure(t.open())).message).toMatch(/root inode 2 is not a directory/);
    });
  });

  describe('unsupported features', () => {
    const viaDebugfs: Array<[string, string, RegExp]> = [
      ['extent', 'feature extent', /unsupported incompatible feature: extent$/],
      ['64bit', 'feature 64bit', /unsupported incompatible feature: 64bit$/],
      ['needs_recovery', 'feature needs_recovery', /needs_recovery/],
      ['inline_data', 'feature inline_data', /inline_data/],
      ['encrypt + casefold', 'feature encrypt casefold', /features: encrypt, casefold$/],
    ];
    for (const [name, cmd, re] of viaDebugfs) {
      it(name, async () => {
        const t = await withDebugfs(`feat-${name.replace(/\W/g, '')}`, cmd);
        const e = await failure(t.open());
        expect(e.code).toBe('EUNSUPPORTED');
        expect(e.message).toMatch(re);
      });
    }
    it('unknown incompat bit, compression, bigalloc', async () => {
      const incompat = 1024 + 96;
      const ro = 1024 + 100;
      const e1 = await failure(Ext2Fs.open(patched((b) => b.writeUInt32LE((b.readUInt32LE(incompat) | 0x80000000) >>> 0, incompat))));
      expect(e1.message).toMatch(/unknown\(0x80000000\)/);
      const e2 = await failure(Ext2Fs.open(patched((b) => b.writeUInt32LE(b.readUInt32LE(incompat) | 0x1, incompat))));
      expect(e2.message).toMatch(/compression/);
      const e3 = await failure(Ext2Fs.open(patched((b) => b.writeUInt32LE(b.readUInt32LE(ro) | 0x200, ro))));
      expect([e3.code, e3.message]).toEqual(['EUNSUPPORTED', 'ext2: unsupported feature: bigalloc']);
    });
    it('images made by mke2fs: ext4, ext2+extent, journal device', async () => {
      const made: Array<[string, string[], string, RegExp]> = [
        ['ext4', [], 'ext4', /extent, 64bit, flex_bg|extent, 64bit/],
        ['extent', ['-O', 'extent'], 'ext2', /: extent$/],
        ['jdev', ['-O', 'journal_dev', '-b', '1024'], 'ext2', /journal_dev/],
      ];
      for (const [tag, args, type, re] of made) {
        const img = join(dir, `mk-${tag}.img`);
        mkfs(img, null, args, '4M', type);
        const src = await FileBlockSource.open(img);
        try {
          const e = await failure(Ext2Fs.open(src));
          expect(e.code, tag).toBe('EUNSUPPORTED');
          expect(e.message, tag).toMatch(re);
        } finally {
          await src.close();
        }
      }
    });
    it('an inode flagged for extents or inline data on an ext2 image', async () => {
      const t = await withDebugfs('extfl', 'sif /file flags 0x80000', 'sif /a/b/f flags 0x10000000');
      const fs = await t.open();
      const e = await failure(fs.read(await fs.namei('/file'), 0, 10));
      expect([e.code, e.message]).toEqual(['EUNSUPPORTED', `ext2: inode ${await fs.namei('/file')}: uses extents (EXT4_EXTENTS_FL), not supported`]);
      expect((await failure(fs.blockOf(await fs.namei('/a/b/f'), 0))).message).toMatch(/inline data/);
    });
  });

  describe('corrupt directories', () => {
    /** Patch the first directory block of `path` with `patch(block, offsetOfBlock)`. */
    async function dirBlockPatched(path: string, fileBlock: number, patch: (b: Buffer, at: number) => void): Promise<Ext2Fs> {
      const blk = await fs0.blockOf(await fs0.namei(path), fileBlock);
      return Ext2Fs.open(patched((b) => patch(b, blk * fs0.blockSize)));
    }
    it('rec_len 0 (would loop forever)', async () => {
      const fs = await dirBlockPatched('/', 0, (b, at) => b.writeUInt16LE(0, at + 4));
      const e = await failure(fs.readdir(2));
      expect(e.code).toBe('EIO');
      expect(e.message).toBe('ext2: directory 2, entry at byte 0: rec_len 0 smaller than the minimum 12');
      expect((await failure(fs.lookup(2, 'file'))).message).toMatch(/rec_len 0/);
      expect((await failure(fs.namei('/a/b/f'))).message).toMatch(/rec_len 0/);
      expect((await failure(fs.walk().next())).message).toMatch(/rec_len 0/);
    });
    it('rec_len 0 in a later block of a big directory', async () => {
      const fs = await dirBlockPatched('/many', 2, (b, at) => b.writeUInt16LE(0, at + 4));
      const e = await failure(fs.readdir(await fs.namei('/many')));
      expect(e.message).toMatch(/entry at byte 2048: rec_len 0/);
    });
    it('unaligned rec_len, rec_len past the block, rec_len too small for the name', async () => {
      // The first entry is '.', rec_len 12; the second '..' runs to the block end.
      const a = await dirBlockPatched('/', 0, (b, at) => b.writeUInt16LE(13, at + 4));
      expect((await failure(a.readdir(2))).message).toMatch(/rec_len 13 not a multiple of 4/);
      const c = await dirBlockPatched('/', 0, (b, at) => b.writeUInt16LE(2048, at + 4));
      expect((await failure(c.readdir(2))).message).toMatch(/rec_len 2048 crosses the block end/);
      const d = await dirBlockPatched('/', 0, (b, at) => b.writeUInt8(200, at + 6));
      expect((await failure(d.readdir(2))).message).toMatch(/rec_len 12 too small for name_len 200/);
    });
    it('an entry pointing past s_inodes_count', async () => {
      const fs = await dirBlockPatched('/', 0, (b, at) => b.writeUInt32LE(999_999, at + 12));
      expect((await failure(fs.readdir(2))).message).toMatch(/inode 999999 past s_inodes_count 256/);
    });
    it('a directory loop (a subdirectory linked to its ancestor)', async () => {
      const t = await withDebugfs('loop', 'ln /a /a/b/loop');
      const fs = await t.open();
      // readdir and namei are fine (finite paths)...
      expect((await fs.readdir(await fs.namei('/a/b'))).map((e) => e.name)).toContain('loop');
      expect(await fs.namei('/a/b/loop/b/loop/b/f')).toBe(await fs.namei('/a/b/f'));
      // ...a recursive walk notices it instead of running forever.
      const e = await failure(exerciseWalk(fs));
      expect([e.code, e.message]).toEqual(['ELOOP', `ext2: directory loop: /a/b/loop is inode ${await fs.namei('/a')}, already reached as /a`]);
    });
    it('a directory whose block map repeats a block', async () => {
      const many = await fs0.readInode(await fs0.namei('/many'));
      const t = await withDebugfs('dirdup', `sif /many block[3] ${many.i_block[1]}`);
      const fs = await t.open();
      expect((await failure(fs.readdir(many.ino))).message).toMatch(new RegExp(`disk block ${many.i_block[1]} appears twice`));
    });
    it('a directory with a hole, or a size that is not whole blocks', async () => {
      const h = await (await withDebugfs('dirhole', 'sif /many block[2] 0')).open();
      expect((await failure(h.readdir(await h.namei('/many')))).message).toMatch(/has a hole at block 2/);
      const s = await (await withDebugfs('dirsize', 'sif /many size 1000')).open();
      expect((await failure(s.readdir(await s.namei('/many')))).message).toMatch(/size 1000 not a multiple of the block size 1024/);
    });
  });

  describe('corrupt block maps and inodes', () => {
    it('a direct block number past the end', async () => {
      const fs = await (await withDebugfs('blkpast', 'sif /file block[0] 0x7fffffff')).open();
      const e = await failure(fs.read(await fs.namei('/file'), 0, 100));
      expect(e.code).toBe('EIO');
      expect(e.message).toMatch(/direct pointer 2147483647 for file block 0 outside the file system \(blocks 1\.\.2047\)/);
    });
    it('IND / DIND / TIND pointers past the end', async () => {
      const fs = await (await withDebugfs('indpast', 'sif /big block[IND] 5000', 'sif /sparse block[TIND] 99999')).open();
      const big = await fs.namei('/big');
      expect((await failure(fs.read(big, 0, 300 * 1024))).message).toMatch(/IND pointer 5000 for file block 12/);
      expect(await fs.blockOf(big, 11)).toBeGreaterThan(0); // the direct blocks are still fine
      expect((await failure(fs.blockOf(await fs.namei('/sparse'), 69 * 1024))).message).toMatch(/TIND pointer 99999/);
    });
    it('garbage inside an indirect block', async () => {
      const big = await fs0.readInode(await fs0.namei('/big'));
      const ind = big.i_block[12]!;
      const fs = await Ext2Fs.open(patched((b) => b.writeUInt32LE(0xdeadbeef, ind * 1024 + 4 * 5)));
      const e = await failure(fs.read(big.ino, 0, 300 * 1024));
      expect(e.message).toMatch(/data pointer 3735928559 for file block 17 outside the file system/);
      // A DIND block pointing at garbage: its leaf pointer is checked before use.
      const dind = big.i_block[13]!;
      const fs2 = await Ext2Fs.open(patched((b) => b.writeUInt32LE(77777, dind * 1024)));
      expect((await failure(fs2.blockOf(big.ino, 12 + 256))).message).toMatch(/indirect pointer 77777/);
    });
    it('symlinks with impossible sizes', async () => {
      const fs = await (await withDebugfs('lnk', 'sif /fast size 100', 'sif /slow size 100000')).open();
      expect((await failure(fs.readlink(await fs.namei('/fast', { followSymlinks: false })))).message).toMatch(/fast symlink .* i_size 100 larger than i_block/);
      expect((await failure(fs.readlink(await fs.namei('/slow', { followSymlinks: false })))).message).toMatch(/i_size 100000 larger than 4096/);
      expect((await failure(fs.namei('/slow'))).code).toBe('EIO');
    });
    it('i_extra_isize past the inode', async () => {
      const ino = await fs0.namei('/file');
      const fs = await Ext2Fs.open(patched((b) => b.writeUInt16LE(200, inodeOffset(ino) + 128)));
      expect((await failure(fs.stat(ino))).message).toMatch(/i_extra_isize 200 does not fit a 256-byte inode/);
    });
    it('a huge i_size: reads are clipped or refused, never allocated blindly', async () => {
      const ino = await fs0.namei('/file');
      const fs = await Ext2Fs.open(patched((b) => b.writeUInt32LE(0x10000, inodeOffset(ino) + 108)));
      expect((await fs.stat(ino)).size).toBe(2 ** 48 + 11);
      expect(Buffer.from(await fs.read(ino, 0, 11)).toString()).toBe('some bytes\n');
      expect((await failure(fs.read(ino, 0, 2 ** 40))).code).toBe('EINVAL');
      expect((await failure(fs.read(ino, 2 ** 44, 10))).message).toMatch(/beyond what the block map can address/);
      const fs2 = await Ext2Fs.open(patched((b) => b.writeUInt32LE(0xffffffff, inodeOffset(ino) + 108)));
      expect((await failure(fs2.stat(ino))).message).toMatch(/i_size_high 4294967295: size past 2\^53/);
    });
    it('bad arguments', async () => {
      expect((await failure(fs0.read(12, -1, 5))).code).toBe('EINVAL');
      expect((await failure(fs0.read(12, 0.5, 5))).code).toBe('EINVAL');
      expect((await failure(fs0.blockOf(await fs0.namei('/file'), -3))).code).toBe('EINVAL');
      expect((await failure(fs0.readInode(Number.NaN))).code).toBe('EINVAL');
      expect((await failure(fs0.blockOf(await fs0.namei('/fast', { followSymlinks: false }), 0))).code).toBe('EINVAL');
    });
  });

  it('random corruption of metadata: only Ext2Errors, always terminates', async () => {
    // Metadata regions: superblock, group descriptors, the inode table blocks in use,
    // every directory block, and the indirect blocks of /big.
    const bs = fs0.blockSize;
    const regions: Array<[number, number]> = [[1024, 264], [1024, 264], [2 * bs, 32]]; // used superblock fields, group 0's descriptor
    const itable = fs0.groups[0]!.bg_inode_table;
    regions.push([itable * bs, 16 * bs]);
    for await (const e of fs0.walk()) {
      if (e.type !== 'directory') continue;
      const blocks = await fs0.blockRange(e.ino, 0, (await fs0.stat(e.ino)).size / bs);
      for (const b of blocks) regions.push([b * bs, bs]);
    }
    for (const b of await fs0.blockRange(2, 0, (await fs0.stat(2)).size / bs)) regions.push([b * bs, bs]);
    const big = await fs0.readInode(await fs0.namei('/big'));
    for (const b of [big.i_block[12]!, big.i_block[13]!]) regions.push([b * bs, bs]);

    const rnd = pseudoRandom(1 << 16, 12345);
    let r = 0;
    const next = (n: number): number => {
      const v = (rnd[r++ % rnd.length]! | (rnd[r++ % rnd.length]! << 8) | (rnd[r++ % rnd.length]! << 16)) >>> 0;
      return v % n;
    };
    let opened = 0;
    let failedOpen = 0;
    let errorsSeen = 0;
    const iterations = 400;
    for (let it = 0; it < iterations; it++) {
      const [start, len] = regions[next(regions.length)]!;
      const src = patched((b) => {
        const flips = 1 + next(8);
        for (let k = 0; k < flips; k++) {
          const at = start + next(len);
          b[at] = next(3) === 0 ? 0xff : b[at]! ^ (1 << next(8));
        }
      });
      let fs: Ext2Fs;
      try {
        fs = await Ext2Fs.open(src);
      } catch (e) {
        if (!(e instanceof Ext2Error)) throw e;
        failedOpen++;
        continue;
      }
      opened++;
      errorsSeen += (await exercise(fs)).length;
    }
    expect(opened + failedOpen).toBe(iterations);
    expect(opened).toBeGreaterThan(0);
    console.log(`[ext2fs] fuzz: ${iterations} corrupted images, ${failedOpen} refused at open, ${opened} opened, ${errorsSeen} Ext2Errors while reading`);
  }, 120_000);
});

async function exerciseWalk(fs: Ext2Fs): Promise<void> {
  let n = 0;
  for await (const _ of fs.walk()) if (++n > 10_000) throw new Error('walk did not end');
}
