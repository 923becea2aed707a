/*
 * File: test/unit/servers/ext2fs/images.test.ts
 * Purpose: The ext2 reader against debugfs on real images made by mke2fs, in many
 *          variants (revisions 0/1, 1/2/4 KiB blocks, filetype off, Hurd, meta_bg,
 *          flex_bg, sparse_super2, no sparse_super, ext3 journal, metadata_csum,
 *          huge_file, htree directories, 1 KiB inodes): superblock and group table,
 *          every directory listing, every file's bytes, every stat, every block map.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Ext2Error, Ext2Fs, type FileType } from '../../../../src/servers/ext2fs/ext2.js';
import { FileBlockSource } from '../../../../src/servers/ext2fs/file_source.js';
import { fileTypeOfMode } from '../../../../src/servers/ext2fs/inode.js';
import {
  buildTree,
  debugfs,
  debugfsWrite,
  describeE2fs,
  type LsEntry,
  mkfs,
  parseLsP,
  parseStat,
  removeDir,
  tempDir,
  type TreeInfo, debugfsTree } from './tools.js';

interface Variant {
  name: string;
  bs: number;
  args: string[];
  size: string;
  /** Include the triple-indirect sparse file. */
  tind: boolean;
  type?: string;
  /** Run after mke2fs (e.g. e2fsck -D to build htree directories). */
  post?: (image: string) => void;
  expectRevision: number;
  expectFeatures?: string[];
  manyEntries?: number;
  /** Extra checks on the opened file system. */
  check?: (fs: Ext2Fs) => Promise<void>;
}

/** Revision 0 by hand: fixed 128-byte inodes, first inode 11, no feature words, types from inodes. */
async function checkRev0(fs: Ext2Fs): Promise<void> {
  expect(fs.revision).toBe(0);
  expect(fs.inodeSize).toBe(128);
  expect(fs.superblock.s_first_ino).toBe(11);
  expect([fs.superblock.s_feature_compat, fs.superblock.s_feature_incompat, fs.superblock.s_feature_ro_compat]).toEqual([0, 0, 0]);
  expect(fs.hasFiletype).toBe(false);
  // The raw superblock really says revision 0 and carries no dynamic fields.
  const inode = await fs.readInode(2);
  expect(inode.i_extra_isize).toBe(0);
  expect(inode.type).toBe('directory');
}

const VARIANTS: Variant[] = [
  { name: 'rev1, 1 KiB blocks', bs: 1024, args: ['-b', '1024', '-N', '2048'], size: '24M', tind: true, expectRevision: 1 },
  { name: 'rev1, 2 KiB blocks', bs: 2048, args: ['-b', '2048', '-N', '2048'], size: '24M', tind: false, expectRevision: 1 },
  { name: 'rev1, 4 KiB blocks', bs: 4096, args: ['-b', '4096', '-N', '2048'], size: '24M', tind: false, expectRevision: 1 },
  { name: 'rev0, 1 KiB blocks', bs: 1024, args: ['-r', '0', '-b', '1024', '-N', '2048'], size: '24M', tind: true, expectRevision: 0, check: checkRev0 },
  { name: 'rev0, 4 KiB blocks', bs: 4096, args: ['-r', '0', '-b', '4096', '-N', '2048'], size: '24M', tind: false, expectRevision: 0, check: checkRev0 },
  {
    name: 'rev1, no filetype, 128-byte inodes',
    bs: 1024,
    args: ['-b', '1024', '-N', '2048', '-O', '^filetype', '-I', '128'],
    size: '24M',
    tind: true,
    expectRevision: 1,
    check: async (fs) => {
      expect(fs.hasFiletype).toBe(false);
      expect(fs.inodeSize).toBe(128);
    },
  },
  {
    name: 'Hurd creator OS, 4 KiB',
    bs: 4096,
    args: ['-o', 'hurd', '-b', '4096', '-N', '2048'],
    size: '24M',
    tind: false,
    expectRevision: 1,
    check: async (fs) => {
      expect(fs.superblock.s_creator_os).toBe(1); // EXT2_OS_HURD
      expect(fs.hasFiletype).toBe(false);
    },
  },
  {
    name: 'meta_bg, 128 groups',
    bs: 1024,
    args: ['-b', '1024', '-g', '256', '-N', '4096', '-O', 'meta_bg,^resize_inode'],
    size: '32M',
    tind: false,
    expectRevision: 1,
    expectFeatures: ['meta_bg'],
  },
  { name: 'flex_bg', bs: 4096, args: ['-b', '4096', '-N', '2048', '-O', 'flex_bg'], size: '24M', tind: false, expectRevision: 1, expectFeatures: ['flex_bg'] },
  {
    name: 'sparse_super2, 48 groups',
    bs: 1024,
    args: ['-b', '1024', '-g', '512', '-N', '2048', '-O', 'sparse_super2'],
    size: '24M',
    tind: false,
    expectRevision: 1,
    expectFeatures: ['sparse_super2'],
  },
  {
    name: 'no sparse_super',
    bs: 1024,
    args: ['-b', '1024', '-g', '1024', '-N', '2048', '-O', '^sparse_super,^resize_inode'],
    size: '24M',
    tind: false,
    expectRevision: 1,
  },
  { name: 'ext3 (has_journal)', bs: 1024, type: 'ext3', args: ['-b', '1024', '-N', '2048'], size: '24M', tind: false, expectRevision: 1, expectFeatures: ['has_journal'] },
  {
    name: 'metadata_csum (directory tails)',
    bs: 1024,
    args: ['-b', '1024', '-N', '2048', '-O', 'metadata_csum'],
    size: '24M',
    tind: false,
    expectRevision: 1,
    expectFeatures: ['metadata_csum'],
  },
  { name: 'huge_file', bs: 4096, args: ['-b', '4096', '-N', '2048', '-O', 'huge_file'], size: '24M', tind: false, expectRevision: 1, expectFeatures: ['huge_file'] },
  {
    name: 'htree directories (e2fsck -D)',
    bs: 1024,
    args: ['-b', '1024', '-N', '2048'],
    size: '24M',
    tind: false,
    expectRevision: 1,
    manyEntries: 900,
    check: async (fs) => {
      // e2fsck -D indexed the big directory; a linear reader still lists it.
      expect((await fs.stat(await fs.namei('/many'))).flags & 0x1000).toBe(0x1000); // EXT2_INDEX_FL
    },
    post: (image) => {
      try {
        execFileSync('e2fsck', ['-fyD', image], { stdio: 'ignore' });
      } catch (e) {
        // e2fsck exits 1 when it modified the file system (it did: it indexed directories).
        if ((e as { status?: number }).status !== 1) throw e;
      }
    },
  },
  {
    name: '64 KiB blocks (rec_len 65536 encoding)',
    bs: 65536,
    args: ['-b', '65536', '-N', '1024'],
    size: '96M',
    tind: false,
    expectRevision: 1,
    manyEntries: 200,
    // An empty second directory block: one free entry whose rec_len 65536 is stored as 65535.
    post: (image) => debugfsWrite(image, 'expand_dir /emptydir'),
    check: async (fs) => {
      const ino = await fs.namei('/emptydir');
      expect((await fs.stat(ino)).size).toBe(2 * 65536);
      const raw = await fs.read(ino, 65536, 8);
      expect(new DataView(raw.buffer, raw.byteOffset).getUint16(4, true)).toBe(65535);
      expect((await fs.readdir(ino)).map((e) => e.name)).toEqual(['.', '..']);
    },
  },
  { name: '1 KiB inodes, 2 KiB blocks', bs: 2048, args: ['-b', '2048', '-N', '2048', '-I', '1024'], size: '24M', tind: false, expectRevision: 1 },
];

/** What was compared against debugfs, over all variants. */
const tally = { images: 0, dirs: 0, dirEntries: 0, files: 0, fileBytes: 0, stats: 0, blockMaps: 0, mappedBlocks: 0, symlinks: 0, devices: 0, groups: 0, namei: 0, bmap: 0 };

const DEBUGFS_TYPES: Record<string, FileType> = {
  regular: 'regular',
  directory: 'directory',
  symlink: 'symlink',
  'character special': 'chardev',
  'block special': 'blockdev',
  FIFO: 'fifo',
  socket: 'socket',
};

const q = (path: string): string => `"${path}"`;

describeE2fs('ext2 reader vs debugfs on mke2fs images', () => {
  afterAll(() => {
    console.log('[ext2fs] verified against debugfs:', JSON.stringify(tally));
  });

  for (const v of VARIANTS) {
    describe(v.name, () => {
      let dir: string;
      let image: string;
      let tree: TreeInfo;
      let src: FileBlockSource;
      let fs: Ext2Fs;
      /** debugfs's view: directory path -> its ls -p entries. */
      const dbgDirs = new Map<string, LsEntry[]>();
      /** Every non-dot path with its ls -p entry. */
      const dbgAll = new Map<string, LsEntry>();

      beforeAll(async () => {
        dir = tempDir('img');
        const root = join(dir, 'tree');
        tree = await buildTree(root, v.bs, { tind: v.tind, manyEntries: v.manyEntries });
        image = join(dir, 'image');
        try {
          mkfs(image, root, v.args, v.size, v.type);
        } finally {
          await tree.close();
        }
        v.post?.(image);
        const dbg = debugfsTree(image, q);
        for (const [d, e] of dbg.dirs) dbgDirs.set(d, e);
        for (const [p, e] of dbg.all) dbgAll.set(p, e);
        src = await FileBlockSource.open(image);
        fs = await Ext2Fs.open(src);
        tally.images++;
      }, 120_000);

      afterAll(async () => {
        await src?.close();
        if (dir) removeDir(dir);
      });

      it('superblock and group descriptors match debugfs stats', async () => {
        const out = debugfs(image, ['stats'])[0]!.out;
        const field = (name: string): string => {
          const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out);
          if (!m) throw new Error(`no ${name}`);
          return m[1]!.trim();
        };
        expect(fs.revision).toBe(v.expectRevision);
        expect(fs.revision).toBe(Number(field('Filesystem revision #').split(' ')[0]));
        expect(fs.blockSize).toBe(v.bs);
        expect(fs.blockSize).toBe(Number(field('Block size')));
        expect(fs.blocksCount).toBe(Number(field('Block count')));
        expect(fs.inodesCount).toBe(Number(field('Inode count')));
        expect(fs.superblock.s_blocks_per_group).toBe(Number(field('Blocks per group')));
        expect(fs.superblock.s_inodes_per_group).toBe(Number(field('Inodes per group')));
        expect(fs.inodeSize).toBe(v.expectRevision === 0 ? 128 : Number(field('Inode size')));
        const features = field('Filesystem features');
        const ours = [...fs.features.compat, ...fs.features.incompat, ...fs.features.roCompat];
        expect(ours.join(' ') || '(none)').toBe(features);
        for (const f of v.expectFeatures ?? []) expect(ours).toContain(f);
        await v.check?.(fs);
        const groups = [...out.matchAll(/Group\s+(\d+): block bitmap at (\d+), inode bitmap at (\d+), inode table at (\d+)/g)];
        expect(groups.length).toBe(fs.groupCount);
        for (const g of groups) {
          const gd = fs.groups[Number(g[1])]!;
          expect([gd.bg_block_bitmap, gd.bg_inode_bitmap, gd.bg_inode_table]).toEqual([Number(g[2]), Number(g[3]), Number(g[4])]);
          tally.groups++;
        }
      });

      it('every directory listing equals debugfs ls -p', async () => {
        for (const [path, dbg] of dbgDirs) {
          const ino = await fs.namei(path);
          const ours = await fs.readdir(ino);
          expect(ours.map((e) => [e.name, e.ino])).toEqual(dbg.map((e) => [e.name, e.ino]));
          for (let k = 0; k < ours.length; k++) {
            const st = await fs.stat(ours[k]!.ino);
            const d = dbg[k]!;
            expect([st.mode, st.uid, st.gid], `${path}/${d.name}`).toEqual([d.mode, d.uid, d.gid]);
            expect(ours[k]!.type).toBe(fileTypeOfMode(d.mode));
            if (st.type !== 'directory') expect(String(st.size)).toBe(d.size);
          }
          tally.dirs++;
          tally.dirEntries += ours.length;
        }
        // The reader's own walk sees the same set of paths.
        const walked = new Map<string, number>();
        for await (const e of fs.walk()) walked.set(e.path, e.ino);
        expect([...walked.keys()].sort()).toEqual([...dbgAll.keys()].sort());
        for (const [path, e] of dbgAll) expect(walked.get(path)).toBe(e.ino);
      });

      it('every file\'s bytes equal debugfs dump', async () => {
        const files = [...dbgAll].filter(([, e]) => fileTypeOfMode(e.mode) === 'regular');
        const outDir = join(dir, 'dump');
        execFileSync('mkdir', ['-p', outDir]);
        debugfs(image, files.map(([path], k) => `dump ${q(path)} ${join(outDir, String(k))}`));
        for (let k = 0; k < files.length; k++) {
          const [path, e] = files[k]!;
          const want = readFileSync(join(outDir, String(k)));
          const got = await fs.read(e.ino, 0, want.length + 4096); // asks past EOF: clipped
          expect(got.length, path).toBe(want.length);
          expect(Buffer.from(got).equals(want), path).toBe(true);
          tally.files++;
          tally.fileBytes += want.length;
        }
        // The same reads issued all at once (as concurrent RPCs would), with cold caches.
        fs.clearCaches();
        const small = files.map(([, e], k) => ({ e, k })).filter(({ e }) => Number(e.size) < 1 << 20);
        const got = await Promise.all(small.map(({ e }) => fs.read(e.ino, 0, Number(e.size))));
        small.forEach(({ k }, j) => expect(Buffer.from(got[j]!).equals(readFileSync(join(outDir, String(k))))).toBe(true));
        removeDir(outDir);
      });

      it('reads at odd offsets, across holes and past EOF', async () => {
        const ino = await fs.namei('/size-' + String(12 * v.bs + 1));
        const whole = await fs.read(ino, 0, 1 << 20);
        expect(whole.length).toBe(12 * v.bs + 1);
        for (const [off, len] of [[1, 10], [v.bs - 3, 7], [11 * v.bs + 5, 2 * v.bs], [12 * v.bs, 5], [12 * v.bs + 1, 5], [1 << 20, 5], [3, 0]] as const) {
          expect(Buffer.from(await fs.read(ino, off, len)).equals(Buffer.from(whole.subarray(off, off + len)))).toBe(true);
        }
        const th = await fs.namei('/tail-hole');
        const t = await fs.read(th, 0, 10 * v.bs);
        expect(t.length).toBe(5 * v.bs);
        expect(t.subarray(v.bs + 3).every((b) => b === 0)).toBe(true);
        expect(await fs.blockOf(th, 4)).toBe(0);
        expect((await fs.read(await fs.namei('/empty'), 0, 100)).length).toBe(0);
      });

      it('every stat equals debugfs stat', async () => {
        const paths = [...dbgAll.keys()];
        const outs = debugfs(image, paths.map((p) => `stat ${q(p)}`));
        for (let k = 0; k < paths.length; k++) {
          const path = paths[k]!;
          const d = parseStat(outs[k]!.out);
          const st = await fs.stat(d.ino);
          expect(st.ino, path).toBe(dbgAll.get(path)!.ino);
          expect(st.type, path).toBe(DEBUGFS_TYPES[d.type]);
          expect(st.mode & 0o7777, path).toBe(d.perm);
          expect([st.flags, st.uid, st.gid, st.size, st.nlink, st.generation], path).toEqual([d.flags, d.uid, d.gid, d.size, d.links, d.generation]);
          expect(st.blocks, path).toBe(d.blockcount);
          for (const [name, t] of [['ctime', d.times.ctime], ['atime', d.times.atime], ['mtime', d.times.mtime]] as const) {
            const sec = (t.sec | 0) + (t.extra === null ? 0 : (t.extra & 3) * 2 ** 32);
            const nsec = t.extra === null ? 0 : t.extra >>> 2;
            expect([st[name], st[`${name}Nsec`]], `${path} ${name}`).toEqual([sec, nsec]);
          }
          const inode = await fs.readInode(d.ino);
          expect(inode.hurd?.i_translator ?? null, path).toBe(d.translator);
          if (d.device) {
            expect([st.rdevMajor, st.rdevMinor], path).toEqual([d.device.major, d.device.minor]);
            tally.devices++;
          }
          if (st.type === 'symlink') {
            const target = await fs.readlink(st.ino);
            if (d.fastLink !== null) expect(target, path).toBe(d.fastLink);
            else expect(d.blocks.size, path).toBeGreaterThan(0); // slow: its data block
            tally.symlinks++;
          }
          tally.stats++;
        }
        if (tree.devices) {
          const cd = await fs.stat(await fs.namei('/chardev'));
          expect([cd.type, cd.rdevMajor, cd.rdevMinor]).toEqual(['chardev', 4, 5]);
          const bd = await fs.stat(await fs.namei('/blockdev'));
          expect([bd.type, bd.rdevMajor, bd.rdevMinor]).toEqual(['blockdev', 8, 1]);
          const big = await fs.stat(await fs.namei('/bigdev'));
          expect([big.rdevMajor, big.rdevMinor]).toEqual([300, 70000]);
        }
      });

      it('every block map equals debugfs stat BLOCKS (and bmap)', async () => {
        const paths = [...dbgAll].filter(([, e]) => ['regular', 'directory', 'symlink'].includes(fileTypeOfMode(e.mode)));
        const outs = debugfs(image, paths.map(([p]) => `stat ${q(p)}`));
        for (let k = 0; k < paths.length; k++) {
          const [path, e] = paths[k]!;
          const d = parseStat(outs[k]!.out);
          const inode = await fs.readInode(e.ino);
          if (inode.type === 'symlink' && d.fastLink !== null) continue;
          const nblocks = Math.ceil(inode.size / v.bs);
          if (nblocks > 1 << 20) {
            // Huge sparse file: check the mapped blocks and a few holes.
            for (const [l, p] of d.blocks) expect(await fs.blockOf(e.ino, l), `${path}@${l}`).toBe(p);
          } else {
            const ours = await fs.blockRange(e.ino, 0, nblocks);
            for (let l = 0; l < nblocks; l++) {
              expect(ours[l], `${path}@${l}`).toBe(d.blocks.get(l) ?? 0);
            }
            for (const l of d.blocks.keys()) expect(l, `${path}: debugfs maps block ${l} past EOF`).toBeLessThan(nblocks);
          }
          const firstOf = (kind: string): number | undefined => d.meta.find((m) => m.kind === kind)?.block;
          if (firstOf('TIND') !== undefined) expect(inode.i_block[14]).toBe(firstOf('TIND'));
          if (firstOf('DIND') !== undefined && inode.i_block[13] !== 0) expect(inode.i_block[13]).toBe(firstOf('DIND'));
          if (inode.i_block[12] !== 0) expect(inode.i_block[12]).toBe(firstOf('IND'));
          tally.blockMaps++;
          tally.mappedBlocks += d.blocks.size;
        }
      });

      it('uses double and (1 KiB) triple indirect blocks as debugfs reports', async () => {
        const dind = parseStat(debugfs(image, [`stat ${tree.dind}`])[0]!.out);
        expect(dind.meta.some((m) => m.kind === (tree.dindReached ? 'DIND' : 'IND'))).toBe(true);
        if (tree.tind) {
          const out = debugfs(image, [`stat ${tree.tind}`, `bmap ${tree.tind} 0`, ...[...parseStat(debugfs(image, [`stat ${tree.tind}`])[0]!.out).blocks.keys()].map((l) => `bmap ${tree.tind} ${l}`)]);
          const st = parseStat(out[0]!.out);
          expect(st.meta.map((m) => m.kind)).toContain('TIND');
          const ino = await fs.namei(tree.tind);
          expect(await fs.blockOf(ino, 0)).toBe(Number(out[1]!.out.trim()));
          const logical = [...st.blocks.keys()];
          for (let k = 0; k < logical.length; k++) {
            expect(await fs.blockOf(ino, logical[k]!)).toBe(Number(out[k + 2]!.out.trim()));
            tally.bmap++;
          }
          // The image stays small: only a handful of blocks are allocated.
          expect(st.blocks.size + st.meta.length).toBeLessThan(20);
          // Past the triple indirect range: a clear error.
          const p = v.bs / 4;
          await expect(fs.blockOf(ino, 12 + p + p * p + p * p * p)).rejects.toThrow(Ext2Error);
        }
      });

      it('caches indirect blocks: a block-by-block read does not re-read them', async () => {
        const ino = await fs.namei(tree.dind);
        const d = parseStat(debugfs(image, [`stat ${tree.dind}`])[0]!.out);
        const size = (await fs.stat(ino)).size;
        fs.clearCaches();
        fs.resetStats();
        for (let off = 0; off < size; off += v.bs) await fs.read(ino, off, v.bs);
        const s = fs.stats;
        expect(s.indirectMisses).toBe(d.meta.length);
        expect(s.reads).toBe(d.meta.length + d.blocks.size + s.inodeBlockMisses);
        // Whole-file read coalesces contiguous blocks.
        fs.resetStats();
        await fs.read(ino, 0, size);
        expect(fs.stats.reads).toBeLessThan(d.blocks.size);
      });

      it('namei, lookup and symlinks agree with debugfs', async () => {
        const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (e instanceof Ext2Error ? e.code : String(e)));
        const paths = ['/a/b/c/d/e/f/g/deep.txt', '/link-dir/mid.txt', '/link-dir/up', '/a/./b/../b/mid.txt', '/small.txt', '/link-slow', '/link-fast'];
        const outs = debugfs(image, paths.map((p) => `stat ${q(p)}`));
        for (let k = 0; k < paths.length; k++) {
          // debugfs follows symlinks in the middle of a path, not at the end.
          expect(await fs.namei(paths[k]!, { followSymlinks: false }), paths[k]).toBe(parseStat(outs[k]!.out).ino);
          tally.namei++;
        }
        const small = await fs.namei('/small.txt');
        const deep = await fs.namei('/a/b/c/d/e/f/g/deep.txt');
        const mid = await fs.namei('a//b///mid.txt');
        expect(await fs.namei('/hard.txt')).toBe(small);
        expect((await fs.stat(small)).nlink).toBe(2);
        expect(await fs.namei('/link-fast')).toBe(small);
        expect(await fs.namei('/link-59')).toBe(small);
        expect(await fs.namei('/link-60')).toBe(small);
        expect(await fs.namei('/link-slow')).toBe(deep);
        expect(await fs.namei('/link-abs')).toBe(mid);
        expect(await fs.namei('/a/b/up')).toBe(small);
        expect(await fs.namei('/link-dir/up')).toBe(small);
        expect(await fs.namei('/')).toBe(2);
        expect(await fs.namei('/link-dir/', { followSymlinks: false })).toBe(await fs.namei('/a/b'));
        expect(await fs.namei('/link-dir', { followSymlinks: false })).not.toBe(await fs.namei('/a/b'));
        expect(await codeOf(fs.namei('/small.txt/'))).toBe('ENOTDIR');
        expect(await fs.namei('')).toBe(2);
        expect(await fs.namei('/..')).toBe(2);
        expect(await fs.namei('/a/b/c/d/e/f/g/../../../../../../..')).toBe(2);
        expect((await fs.readlink(await fs.namei('/link-59', { followSymlinks: false }))).length).toBe(59);
        expect((await fs.readlink(await fs.namei('/link-60', { followSymlinks: false }))).length).toBe(60);
        expect(await fs.readlink(await fs.namei('/link-slow', { followSymlinks: false }))).toBe('./'.repeat(40) + 'a/b/c/d/e/f/g/deep.txt');
        if (v.bs <= 4096) {
          const blockLink = await fs.readlink(await fs.namei('/link-block', { followSymlinks: false }));
          expect(blockLink).toBe('s/'.repeat(Math.floor((v.bs - 10) / 2)) + 'end');
        }
        expect(await codeOf(fs.namei('/loop1'))).toBe('ELOOP');
        expect(await codeOf(fs.namei('/link-dangling'))).toBe('ENOENT');
        expect(await codeOf(fs.namei('/nope'))).toBe('ENOENT');
        expect(await codeOf(fs.namei('/small.txt/x'))).toBe('ENOTDIR');
        expect(await codeOf(fs.namei('/' + 'z'.repeat(256)))).toBe('ENAMETOOLONG');
        expect(await codeOf(fs.readdir(small))).toBe('ENOTDIR');
        expect(await codeOf(fs.readlink(small))).toBe('EINVAL');
        expect(await codeOf(fs.readInode(0))).toBe('EINVAL');
        expect(await codeOf(fs.readInode(fs.inodesCount + 1))).toBe('EINVAL');
        // lookup: one component, bytes compared exactly.
        const manyIno = await fs.namei('/many');
        const lastIdx = (v.manyEntries ?? 400) - 1;
        const last = `entry-${String(lastIdx).padStart(4, '0')}${'x'.repeat(lastIdx % 17)}`;
        expect(await fs.lookup(manyIno, last)).toBe(await fs.namei(`/many/${last}`));
        expect(await fs.lookup(manyIno, 'entry-9999')).toBeNull();
        expect(await fs.lookup(2, 'héllo wörld ✓')).not.toBeNull();
        expect(await fs.lookup(2, 'n'.repeat(254) + '5')).not.toBeNull();
        expect(await codeOf(fs.lookup(2, 'a/b'))).toBe('EINVAL');
        // Every entry type the tree has is seen.
        const types = new Set((await fs.readdir(2)).map((e) => e.type));
        for (const t of ['regular', 'directory', 'symlink', 'fifo', 'socket'] as const) expect(types).toContain(t);
        if (tree.devices) {
          expect(types).toContain('chardev');
          expect(types).toContain('blockdev');
        }
        // Device, fifo and socket inodes have no data.
        expect(await codeOf(fs.read(await fs.namei('/fifo'), 0, 10))).toBe('EINVAL');
        // read() of a symlink gives its target.
        expect(Buffer.from(await fs.read(await fs.namei('/link-fast', { followSymlinks: false }), 0, 100)).toString()).toBe('small.txt');
      });
    });
  }
});
