/*
 * File: test/unit/servers/ext2fs/server.test.ts
 * Purpose: the ext2fs-like server over the embedded kernel, against debugfs on images
 *          made by mke2fs -d: every directory through dir_readdir (ls -p), every file
 *          through io_read (dump), every stat through io_stat (stat); dir_lookup's paths,
 *          "..", symlinks (followed, FS_RETRY_MAGICAL, ELOOP at the Hurd's limit) and
 *          errors; the dirent layout and dir_readdir's entry/nentries/bufsiz; out-of-line
 *          replies; the file pointer; protids released on no-senders; RPC counts and the
 *          heap bookkeeping.
 */

import { symlinkSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createKernel, type Kernel } from '../../../../src/kern/kernel.js';
import type { IpcPort } from '../../../../src/ipc/port.js';
import { ipc_entry_lookup } from '../../../../src/ipc/space.js';
import { MachError } from '../../../../src/mach/kern_return.js';
import { MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_MAKE_SEND } from '../../../../src/mach/message.js';
import { mig_rpc, type MachPort } from '../../../../src/mach/mig.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../../src/mach/port.js';
import { dir_lookup, dir_readdir } from '../../../../src/gen/fs.user.js';
import { io_map, io_read, io_readable, io_seek, io_stat, io_write } from '../../../../src/gen/io.user.js';
import { mach_port_allocate, mach_port_deallocate, mach_port_insert_right } from '../../../../src/gen/mach_port.user.js';
import type { MachTask } from '../../../../src/runtime/task.js';
import {
  file_name_lookup, fstat, HurdError, lookup_retry, port_close, readdir_all, take_ool, type LookupContext,
} from '../../../../src/servers/ext2fs/client.js';
import { direntRecLen, getDirects, parseDirents } from '../../../../src/servers/ext2fs/dirent.js';
import { FileBlockSource } from '../../../../src/servers/ext2fs/file_source.js';
import { BufferCache } from '../../../../src/servers/ext2fs/bcache.js';
import { JsHeap } from '../../../../src/servers/ext2fs/heap.js';
import {
  DT_DIR, DT_LNK, DT_REG, DT_UNKNOWN, EACCES, EBADF, EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR,
  EOPNOTSUPP, EROFS, FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FSTYPE_EXT2FS, IFTODT, O_CREAT, O_DIRECTORY, O_EXCL,
  O_NOFOLLOW, O_NOLINK, O_NORW, O_READ, O_WRITE, S_IFLNK, S_IFMT, S_IROOT, SEEK_CUR, SEEK_END, SEEK_SET,
} from '../../../../src/servers/ext2fs/hurd_types.js';
import { fileTypeOfMode } from '../../../../src/servers/ext2fs/inode.js';
import { EXT2FS_BLKSIZE, Ext2Server, type Ext2ServerOptions } from '../../../../src/servers/ext2fs/server.js';
import { packStat, unpackStat } from '../../../../src/servers/ext2fs/statbuf.js';
import { buildTree, debugfs, describeE2fs, type LsEntry, mkfs, parseLsP, parseStat, removeDir, tempDir, debugfsTree } from './tools.js';

/** A kernel, an ext2fs task serving `image`, a client whose bootstrap port is the root. */
interface Session {
  kernel: Kernel;
  serverTask: MachTask;
  server: Ext2Server;
  client: MachTask;
  root: MachPort;
  ctx: LookupContext;
  heap: JsHeap;
  close(): Promise<void>;
}

async function startSession(image: string, options: Ext2ServerOptions & { bufferBlocks?: number } = {}): Promise<Session> {
  const kernel = createKernel();
  const serverTask = kernel.createTask('ext2fs');
  const src = await FileBlockSource.open(image, { sync: true });
  const heap = new JsHeap();
  const server = await Ext2Server.openImage(serverTask, src, { ...options, memory: heap });
  await server.start();
  const rootName = await server.getRoot();
  const entry = ipc_entry_lookup(kernel.tasks.get(serverTask.info.id)!.itk_space, rootName)!;
  const client = kernel.createTask('client', { bootstrap: entry.ie_object as IpcPort });
  const root = client.bootstrap!;
  return {
    kernel, serverTask, server, client, root, ctx: { crdir: root, cwdir: root }, heap,
    async close() {
      client.terminate();
      await server.stop();
      serverTask.terminate();
      kernel.shutdown();
      await src.close();
    },
  };
}

/** The errno a promise rejects with (MachError or HurdError), or null if it resolves. */
async function errnoOf(p: Promise<unknown>): Promise<number | null> {
  try {
    await p;
    return null;
  } catch (e) {
    if (e instanceof MachError || e instanceof HurdError) return e.code;
    throw e;
  }
}

async function readAll(port: MachPort, chunk: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const data = await take_ool(port.task as MachTask, (await io_read(port, -1, chunk)).data);
    if (data.length === 0) return Buffer.concat(parts);
    parts.push(data);
  }
}

/** Resolves when `cond` holds (polled), or fails after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const q = (p: string): string => `"${p}"`;

describe('dirent layout and diskfs_get_directs packing (no image)', () => {
  const ent = (ino: number, name: string) => ({ ino, nameBytes: new TextEncoder().encode(name), type: 'regular' as const });
  it('records are 8-aligned: 12-byte header, name, NUL, padding', () => {
    expect([1, 2, 3, 4, 5, 11, 12, 255].map(direntRecLen)).toEqual([16, 16, 16, 24, 24, 24, 32, 272]);
    const r = getDirects([ent(2, '.'), ent(7, 'abcde')], 1024, 0, -1, 0, 'unknown');
    expect(r.amount).toBe(2);
    expect(r.data.length).toBe(16 + 24);
    const dv = new DataView(r.data.buffer, r.data.byteOffset);
    expect(Number(dv.getBigUint64(16, true))).toBe(7);
    expect(dv.getUint16(24, true)).toBe(24);
    expect(dv.getUint8(26)).toBe(DT_UNKNOWN);
    expect(dv.getUint8(27)).toBe(5);
    expect(Buffer.from(r.data.subarray(28, 40)).toString('latin1')).toBe('abcde\0\0\0\0\0\0\0');
    expect(parseDirents(r.data, 2).map((d) => [d.ino, d.name, d.reclen])).toEqual([[2, '.', 16], [7, 'abcde', 24]]);
    expect(getDirects([ent(2, '.')], 1024, 0, -1, 0, 'filetype').data[10]).toBe(DT_REG);
  });

  it('entry, nentries and bufsiz as the Hurd applies them', () => {
    const es = Array.from({ length: 300 }, (_, k) => ent(100 + k, `name-${String(k).padStart(4, '0')}`)); // 24-byte records
    expect(getDirects(es, 8192, 300, -1, 0, 'unknown')).toMatchObject({ amount: 0, allocsize: 0 });
    expect(getDirects(es, 8192, 5, 0, 0, 'unknown').amount).toBe(0);
    expect(getDirects(es, 8192, 5, -2, 0, 'unknown').amount).toBe(0);
    expect(getDirects(es, 8192, -3, 2, 0, 'unknown').amount).toBe(2); // a negative entry starts at 0
    expect(parseDirents(getDirects(es, 8192, 10, 3, 0, 'unknown').data).map((d) => d.ino)).toEqual([110, 111, 112]);
    // bufsiz 100: no record starts once 100 bytes are filled (5 records = 120 bytes).
    expect(getDirects(es, 8192, 0, -1, 100, 'unknown')).toMatchObject({ amount: 5, allocsize: 4096 });
    expect(getDirects(es, 8192, 0, -1, 120, 'unknown').amount).toBe(5);
    // bufsiz larger than the directory: room for the whole rest.
    expect(getDirects(es, 7168, 0, -1, 8000, 'unknown')).toMatchObject({ amount: 300, allocsize: 20480 }); // round_page(7168 + 896 * 13);
    // Every entry ends within round_page(bufsiz).
    const r = getDirects(es, 8192, 0, -1, 4090, 'unknown');
    expect(r.data.length).toBeLessThanOrEqual(4096);
    expect(r.amount).toBe(Math.floor(4096 / 24));
  });

  it('JsHeap accounts malloc/free and mmap/munmap, and refuses bad frees', () => {
    const h = new JsHeap();
    const a = h.malloc(100, 'node');
    const b = h.malloc(7, 'protid');
    expect(a % 16).toBe(0);
    expect(b).toBeGreaterThan(a + 100);
    expect(h.stats).toMatchObject({ mallocs: 2, liveBytes: 107, live: { node: 1, protid: 1 } });
    h.free(a);
    expect(() => h.free(a)).toThrow(/not allocated/);
    const m = h.mmap(10_000, 'io_read reply');
    expect(m % 4096).toBe(0);
    expect(h.stats.mappedBytes).toBe(12288);
    h.munmap(m + 8192, 4096); // the tail
    h.munmap(m, 8192);
    expect(h.stats).toMatchObject({ mmaps: 1, munmaps: 2, mappedBytes: 0, peakMappedBytes: 12288 });
    expect(() => h.munmap(m, 4096)).toThrow(/not mapped/);
  });

  it('BufferCache: block buffers on the heap, one device read per missing run, LRU eviction', async () => {
    const bytes = Uint8Array.from({ length: 64 * 1024 }, (_, k) => (k * 31) & 0xff);
    let reads = 0;
    const dev = { size: bytes.length, read: async (o: number, n: number) => { reads++; return bytes.slice(o, o + n); } };
    const h = new JsHeap();
    const c = new BufferCache(dev, 1024, h, 8);
    expect(Buffer.from(await c.read(2048, 4096)).equals(Buffer.from(bytes.subarray(2048, 6144)))).toBe(true);
    expect(reads).toBe(1);
    expect(Buffer.from(await c.read(1024, 6144)).equals(Buffer.from(bytes.subarray(1024, 7168)))).toBe(true);
    expect(reads).toBe(3); // block 1, then block 6: two missing runs
    expect(c.stats).toMatchObject({ hits: 4, misses: 6, buffers: 6 });
    await c.read(10 * 1024, 4 * 1024);
    expect(c.stats).toMatchObject({ buffers: 8, evictions: 2 });
    expect(h.stats.live.block).toBe(8);
    await c.read(100, 10); // unaligned: straight to the device
    expect(reads).toBe(5);
    c.clear();
    expect(h.liveCount).toBe(0);
  });

  it('statbuf: 41 ints, 64-bit members split low half first, signs kept', () => {
    const st = {
      st_fstype: FSTYPE_EXT2FS, st_fsid: 0x1_2345_6789, st_ino: 2 ** 40 + 5, st_gen: 0xfffffff0, st_rdev: 0x0801, st_mode: 0o100644,
      st_nlink: 3, st_uid: 70000, st_gid: 4_000_000_000, st_size: 2 ** 33 + 1,
      st_atim: { tv_sec: -5, tv_nsec: 999_999_999 }, st_mtim: { tv_sec: 2 ** 34, tv_nsec: 1 }, st_ctim: { tv_sec: 0, tv_nsec: 0 },
      st_blksize: 8192, st_blocks: 24, st_author: 70000, st_flags: 4, st_spare: [0, 0, 0, 0, 0, 0, 0, 0],
    };
    const ints = packStat(st);
    expect(ints.length).toBe(41);
    expect(ints.slice(0, 5)).toEqual([0x17, 0x23456789, 1, 5, 256]);
    expect(ints.slice(15, 17)).toEqual([0xfffffffb, 0xffffffff]); // -5
    expect(unpackStat(ints)).toEqual(st);
  });
});

describeE2fs('ext2fs server vs debugfs', () => {
  let dir: string;
  let root: string;
  let image: string;
  let s: Session;
  /** debugfs ls -p of every directory, by path. */
  const dbgDirs = new Map<string, LsEntry[]>();
  const dbgAll = new Map<string, LsEntry>();
  let devices = false;

  beforeAll(async () => {
    dir = tempDir('srv');
    root = join(dir, 'tree');
    const tree = await buildTree(root, 1024, { tind: false, manyEntries: 300 });
    devices = tree.devices;
    // A chain of 10 symlinks c10 -> c9 -> ... -> c1 -> c0 -> small.txt (c0 is the 1st link).
    symlinkSync('small.txt', join(root, 'c0'));
    for (let k = 1; k <= 10; k++) symlinkSync(`c${k - 1}`, join(root, `c${k}`));
    // A symlink in the middle of a path to an absolute target, and a relative one with "..".
    symlinkSync('/a/b', join(root, 'abs-dir'));
    mkdirSync(join(root, 'rel'));
    symlinkSync('../a/b/c', join(root, 'rel', 'up-c'));
    writeFileSync(join(root, 'big.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, k) => (k * 7 + (k >> 9)) & 0xff)));
    image = join(dir, 'image');
    try {
      mkfs(image, root, ['-b', '1024', '-N', '2048'], '24M');
    } finally {
      await tree.close();
    }
    const dbg = debugfsTree(image, q);
    for (const [d, e] of dbg.dirs) dbgDirs.set(d, e);
    for (const [p, e] of dbg.all) dbgAll.set(p, e);
    s = await startSession(image);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    if (dir) removeDir(dir);
  });

  const open = (path: string, flags = O_READ): Promise<MachPort> => file_name_lookup(s.ctx, path, flags);

  it('dir_readdir of every directory equals debugfs ls -p (names, inodes, order; d_type DT_UNKNOWN)', async () => {
    let n = 0;
    for (const [path, dbg] of dbgDirs) {
      const d = await open(path);
      const ours = await readdir_all(d);
      expect(ours.map((e) => [e.name, e.ino]), path).toEqual(dbg.map((e) => [e.name, e.ino]));
      for (const e of ours) {
        expect(e.type).toBe(DT_UNKNOWN);
        expect(e.reclen).toBe(direntRecLen(e.nameBytes.length));
      }
      n += ours.length;
      await port_close(d);
    }
    expect(n).toBeGreaterThan(300);
  });

  it('dir_readdir with dtype "filetype" gives each entry\'s type', async () => {
    const t = await startSession(image, { dtype: 'filetype' });
    try {
      for (const [path, dbg] of dbgDirs) {
        const d = await file_name_lookup(t.ctx, path, O_READ);
        const ours = await readdir_all(d);
        expect(ours.map((e) => e.type), path).toEqual(dbg.map((e) => IFTODT(e.mode)));
        await port_close(d);
      }
    } finally {
      await t.close();
    }
  });

  it('dir_readdir: entry/nentries/bufsiz, OOL data, EOF, ENOTDIR, EBADF', async () => {
    const many = await open('/many');
    const dbg = dbgDirs.get('/many')!;
    const all = await dir_readdir(many, 0, -1, 0);
    expect(all.amount).toBe(dbg.length);
    expect(parseDirents(all.data, all.amount).map((e) => e.name)).toEqual(dbg.map((e) => e.name));
    const part = await dir_readdir(many, 10, 7, 0);
    expect(parseDirents(part.data, part.amount).map((e) => e.name)).toEqual(dbg.slice(10, 17).map((e) => e.name));
    const small = await dir_readdir(many, 3, -1, 200);
    const recs = parseDirents(small.data, small.amount);
    expect(recs.map((e) => e.name)).toEqual(dbg.slice(3, 3 + recs.length).map((e) => e.name));
    expect(small.data.length - recs.at(-1)!.reclen).toBeLessThan(200); // the last record started below bufsiz
    expect(small.data.length).toBeGreaterThanOrEqual(200);
    expect(await dir_readdir(many, dbg.length, -1, 0)).toEqual({ data: new Uint8Array(0), amount: 0 });
    await port_close(many);
    const f = await open('/small.txt');
    expect(await errnoOf(dir_readdir(f, 0, -1, 0))).toBe(ENOTDIR);
    await port_close(f);
    const noread = await open('/many', O_NORW);
    expect(await errnoOf(dir_readdir(noread, 0, -1, 0))).toBe(EBADF);
    await port_close(noread);
  });

  it('every file read through io_read equals debugfs dump (file pointer and explicit offsets)', async () => {
    const files = [...dbgAll].filter(([, e]) => fileTypeOfMode(e.mode) === 'regular');
    const outDir = join(dir, 'dump');
    mkdirSync(outDir, { recursive: true });
    debugfs(image, files.map(([path], k) => `dump ${q(path)} ${join(outDir, String(k))}`));
    let bytes = 0;
    for (let k = 0; k < files.length; k++) {
      const [path] = files[k]!;
      const want = readFileSync(join(outDir, String(k)));
      const f = await open(path);
      const got = await readAll(f, k % 3 === 0 ? 8192 : k % 3 === 1 ? 1000 : 65536);
      expect(got.equals(want), path).toBe(true);
      if (want.length > 10) {
        const { data } = await io_read(f, 7, 3);
        expect(Buffer.from(data).equals(want.subarray(7, 10))).toBe(true);
      }
      bytes += want.length;
      await port_close(f);
    }
    expect(files.length).toBeGreaterThan(100);
    expect(bytes).toBeGreaterThan(300_000);
  });

  it('every stat through io_stat equals debugfs stat', async () => {
    const paths = ['/', ...dbgAll.keys()];
    const outs = debugfs(image, paths.map((p) => `stat ${q(p)}`));
    for (let k = 0; k < paths.length; k++) {
      const d = parseStat(outs[k]!.out);
      const f = await lookup_retry(s.ctx, s.root, paths[k]!, O_NOLINK);
      const st = await fstat(f);
      await port_close(f);
      const mode = dbgAll.get(paths[k]!)?.mode ?? 0o40755;
      expect(st.st_ino, paths[k]).toBe(d.ino);
      expect(st.st_mode & ~S_IROOT).toBe(mode);
      expect((st.st_mode & S_IROOT) !== 0).toBe(paths[k] === '/');
      expect([st.st_nlink, st.st_uid, st.st_gid, st.st_size, st.st_blocks, st.st_gen]).toEqual([d.links, d.uid, d.gid, d.size, d.blockcount, d.generation]);
      for (const [name, t] of [['st_ctim', d.times.ctime], ['st_atim', d.times.atime], ['st_mtim', d.times.mtime]] as const) {
        const sec = (t.sec | 0) + (t.extra === null ? 0 : (t.extra & 3) * 2 ** 32);
        const nsec = t.extra === null ? 0 : t.extra >>> 2;
        expect(st[name]).toEqual({ tv_sec: sec, tv_nsec: nsec });
      }
      expect([st.st_fstype, st.st_fsid, st.st_blksize, st.st_author, st.st_spare]).toEqual([FSTYPE_EXT2FS, s.serverTask.info.id, EXT2FS_BLKSIZE, d.uid, [0, 0, 0, 0, 0, 0, 0, 0]]);
      if (devices && (paths[k] === '/chardev' || paths[k] === '/blockdev')) {
        expect(st.st_rdev).toBe((d.device!.major << 8) | d.device!.minor); // the raw old encoding in i_block[0]
      }
    }
  });

  it('dir_lookup: paths, ".", "..", trailing slashes, O_DIRECTORY, errors', async () => {
    const ino = async (path: string, flags = O_NORW, from = s.root): Promise<number> => {
      const f = await lookup_retry(s.ctx, from, path, flags);
      const st = await fstat(f);
      await port_close(f);
      return st.st_ino;
    };
    const want = (p: string): number => dbgAll.get(p)!.ino;
    expect(await ino('a/b/c/d/e/f/g/deep.txt')).toBe(want('/a/b/c/d/e/f/g/deep.txt'));
    expect(await ino('///a//b/./c/../mid.txt')).toBe(want('/a/b/mid.txt'));
    expect(await ino('..')).toBe(2);
    expect(await ino('../../a/..')).toBe(2);
    expect(await ino('a/b/')).toBe(want('/a/b'));
    expect(await ino('')).toBe(2);
    const ab = await open('a/b');
    expect(await ino('..', O_NORW, ab)).toBe(want('/a'));
    expect(await ino('c/d', O_NORW, ab)).toBe(want('/a/b/c/d'));
    await port_close(ab);
    const err = (path: string, flags = O_NORW): Promise<number | null> => errnoOf(dir_lookup(s.root, path, flags, 0));
    expect(await err('nope')).toBe(ENOENT);
    expect(await err('a/nope/x')).toBe(ENOENT);
    expect(await err('small.txt/x')).toBe(ENOTDIR);
    expect(await err('small.txt/')).toBe(ENOTDIR);
    expect(await err('small.txt', O_DIRECTORY)).toBe(ENOTDIR);
    expect(await err('x'.repeat(256))).toBe(ENAMETOOLONG);
    expect(await err('small.txt', O_WRITE)).toBe(EROFS);
    expect(await err('a', O_WRITE)).toBe(EISDIR);
    expect(await err('newfile', O_CREAT | O_READ)).toBe(EROFS);
    expect(await err('small.txt', O_CREAT | O_EXCL)).toBe(EEXIST);
    expect(await err('fifo', O_READ)).toBe(EACCES);
    expect(await err('socket', O_READ)).toBe(EACCES);
    expect(await err('link-fast', O_NOLINK | O_WRITE)).toBe(ELOOP);
    expect(await err('fifo')).toBe(null); // O_NORW: the node itself (no translators here)
    expect(await errnoOf(file_name_lookup(s.ctx, '', O_READ))).toBe(ENOENT);
  });

  it('dir_lookup: symlinks followed in the server, absolute ones returned as FS_RETRY_MAGICAL', async () => {
    const small = dbgAll.get('/small.txt')!.ino;
    const mid = dbgAll.get('/a/b/mid.txt')!.ino;
    const direct = async (path: string, flags = O_READ): Promise<{ do_retry: number; retry_name: string; ino: number | null }> => {
      const r = await dir_lookup(s.root, path, flags, 0);
      let ino: number | null = null;
      if (r.result !== null) {
        ino = unpackStat((await io_stat(r.result)).stat_info).st_ino;
        await mach_port_deallocate(s.client.self, r.result.name);
      }
      return { do_retry: r.do_retry, retry_name: r.retry_name, ino };
    };
    expect(await direct('link-fast')).toEqual({ do_retry: FS_RETRY_NORMAL, retry_name: '', ino: small });
    expect(await direct('link-60')).toEqual({ do_retry: FS_RETRY_NORMAL, retry_name: '', ino: small }); // a slow symlink
    expect(await direct('link-dir/mid.txt')).toEqual({ do_retry: FS_RETRY_NORMAL, retry_name: '', ino: mid });
    expect(await direct('a/b/up')).toEqual({ do_retry: FS_RETRY_NORMAL, retry_name: '', ino: small });
    expect(await direct('link-dir/')).toMatchObject({ do_retry: FS_RETRY_NORMAL, ino: dbgAll.get('/a/b')!.ino });
    // Absolute targets: the rest of the path appended, for the client to restart at its root.
    expect(await direct('link-abs')).toEqual({ do_retry: FS_RETRY_MAGICAL, retry_name: '/a/b/mid.txt', ino: null });
    expect(await direct('abs-dir/c/d/')).toEqual({ do_retry: FS_RETRY_MAGICAL, retry_name: '/a/b/c/d/', ino: null });
    expect(await direct('rel/up-c/d')).toEqual({ do_retry: FS_RETRY_NORMAL, retry_name: '', ino: dbgAll.get('/a/b/c/d')!.ino });
    // O_NOLINK: the symlink itself, which reads as its target.
    const l = await open('link-slow', O_READ | O_NOLINK);
    const lst = await fstat(l);
    expect(lst.st_mode & S_IFMT).toBe(S_IFLNK);
    expect(Buffer.from((await io_read(l, 0, 4096)).data).toString()).toBe(`${'./'.repeat(40)}a/b/c/d/e/f/g/deep.txt`);
    await port_close(l);
    // The client library follows the magic retry.
    const f = await open('link-abs');
    expect((await fstat(f)).st_ino).toBe(mid);
    await port_close(f);
    expect(await errnoOf(open('link-fast', O_READ | O_NOFOLLOW))).toBe(ELOOP);
    // Dangling and looping links; the Hurd's limit: 9 symlinks in one lookup, the 10th is ELOOP.
    expect(await errnoOf(dir_lookup(s.root, 'link-dangling', O_READ, 0))).toBe(ENOENT);
    expect(await errnoOf(dir_lookup(s.root, 'loop1', O_READ, 0))).toBe(ELOOP);
    expect((await direct('c8')).ino).toBe(small); // c8 -> ... -> c0 -> small.txt: 9 links
    expect(await errnoOf(dir_lookup(s.root, 'c9', O_READ, 0))).toBe(ELOOP); // 10 links
  });

  it('io_read out of line beyond 2048 bytes, in line up to it; reply buffers mmap\'d like the Hurd\'s', async () => {
    const f = await open('/big.bin');
    const want = readFileSync(join(root, 'big.bin'));
    const raw = async (offset: number, amount: number) => {
      const body = [
        { type: { name: 11, size: 64, number: 1, inline: true, longform: false, deallocate: false }, data: offset },
        { type: { name: 11, size: 64, number: 1, inline: true, longform: false, deallocate: false }, data: amount },
      ];
      return mig_rpc(s.client, { bits: 5395, size: 56, remotePort: f.name, localPort: 0, seqno: 0, id: 21001 }, body, 0, 0);
    };
    const before = s.heap.stats.mmaps;
    const inl = await raw(10, 2048);
    expect(inl.body[1]!.type.inline).toBe(true);
    expect((inl.header.bits & MACH_MSGH_BITS_COMPLEX) !== 0).toBe(false);
    expect(s.heap.stats.mmaps).toBe(before);
    const ool = await raw(10, 200_000);
    expect(ool.body[1]!.type.inline).toBe(false);
    expect((ool.header.bits & MACH_MSGH_BITS_COMPLEX) !== 0).toBe(true);
    expect(Buffer.from(ool.body[1]!.data as Uint8Array).equals(want.subarray(10, 200_010))).toBe(true);
    expect(s.heap.stats.mmaps).toBe(before + 1);
    expect(s.heap.stats.mappedBytes).toBe(0); // released with the reply
    const tail = await io_read(f, want.length - 5, 100);
    expect(Buffer.from(tail.data).equals(want.subarray(want.length - 5))).toBe(true);
    expect((await io_read(f, want.length + 10, 100)).data.length).toBe(0);
    expect(await errnoOf(io_read(f, -2, 10))).toBe(EINVAL);
    await port_close(f);
    const noread = await open('/big.bin', O_NORW);
    expect(await errnoOf(io_read(noread, 0, 10))).toBe(EBADF);
    await port_close(noread);
  });

  it('io_seek, io_readable and reads at the file pointer; io_write EROFS; io_map EOPNOTSUPP', async () => {
    const f = await open('/size-1025');
    const want = readFileSync(join(root, 'size-1025'));
    expect((await io_readable(f)).amount).toBe(1025);
    expect(Buffer.from((await io_read(f, -1, 1000)).data).equals(want.subarray(0, 1000))).toBe(true);
    expect((await io_readable(f)).amount).toBe(25);
    expect((await io_seek(f, -10, SEEK_CUR)).newp).toBe(990);
    expect(Buffer.from((await io_read(f, -1, 20)).data).equals(want.subarray(990, 1010))).toBe(true);
    expect((await io_seek(f, -5, SEEK_END)).newp).toBe(1020);
    expect((await io_read(f, -1, 100)).data.length).toBe(5);
    expect((await io_read(f, 3, 2)).data.length).toBe(2); // an explicit offset leaves the pointer
    expect((await io_seek(f, 0, SEEK_CUR)).newp).toBe(1025);
    expect((await io_seek(f, 5000, SEEK_SET)).newp).toBe(5000);
    expect((await io_readable(f)).amount).toBe(0);
    expect(await errnoOf(io_seek(f, -1, SEEK_SET))).toBe(EINVAL);
    expect(await errnoOf(io_seek(f, 0, 7))).toBe(EINVAL);
    expect(await errnoOf(io_write(f, new Uint8Array([1]), -1))).toBe(EROFS);
    expect(await errnoOf(io_map(f))).toBe(EOPNOTSUPP);
    await port_close(f);
  });

  it('io_map through a FilePager hook', async () => {
    let asked: { ino: number; prot: number } | null = null;
    const t = await startSession(image, {
      pager: {
        async getFilemap(node, prot) {
          asked = { ino: node.ino, prot };
          const { name } = await mach_port_allocate(t.serverTask.self, MACH_PORT_RIGHT_RECEIVE);
          await mach_port_insert_right(t.serverTask.self, name, t.serverTask.port(name), MACH_MSG_TYPE_MAKE_SEND);
          return t.serverTask.port(name);
        },
      },
    });
    try {
      const f = await file_name_lookup(t.ctx, '/small.txt', O_READ);
      const r = await io_map(f);
      expect(r.memobjrd).not.toBe(null);
      expect(r.memobjwt).toBe(null);
      expect(asked).toEqual({ ino: dbgAll.get('/small.txt')!.ino, prot: 1 });
      const none = await file_name_lookup(t.ctx, '/small.txt', O_NORW);
      expect(await io_map(none)).toEqual({ memobjrd: null, memobjwt: null });
    } finally {
      await t.close();
    }
  });

  it('protids: one per open, released on no-senders; a client\'s end releases its opens; RPCs counted', async () => {
    const t = await startSession(image);
    try {
      const base = t.server.stats;
      expect(base.protids.protids).toBe(1); // the root, held by the client's bootstrap right
      const files = await Promise.all(['/small.txt', '/a/b/mid.txt', '/many', '/small.txt'].map((p) => file_name_lookup(t.ctx, p, O_READ)));
      expect(new Set(files.map((f) => f.name)).size).toBe(4);
      expect(t.server.stats.protids.protids).toBe(5);
      expect(t.heap.stats.live.protid).toBe(5);
      const rel = t.server.bucket.released();
      await port_close(files[0]!);
      await rel;
      expect(t.server.stats.protids).toMatchObject({ protids: 4, released: 1 });
      expect(await errnoOf(io_read(files[0]!, 0, 1))).not.toBe(null); // the name is gone from the client
      for (let k = 0; k < 5; k++) await io_read(files[1]!, -1, 1);
      const st = t.server.stats;
      expect(st.rpcs.io_read).toBe(5);
      expect(st.rpcs.dir_lookup).toBe((base.rpcs.dir_lookup ?? 0) + 4);
      expect(st.rpcs.mach_notify_no_senders).toBe(1);
      // The client ends: every send right it held dies, every protid goes (the root's too).
      t.client.terminate();
      await until(() => t.server.stats.protids.protids === 0);
      expect(t.heap.stats.live.protid).toBe(0);
      expect(t.server.nodes.stats.referenced).toBe(0);
      expect(t.server.internalErrors).toEqual([]);
    } finally {
      await t.close();
    }
    // After stop(), nothing the server allocated is left.
    expect(t.heap.liveCount).toBe(0);
    expect(t.heap.stats.mappedBytes).toBe(0);
  });

  it('concurrent clients: reads at the file pointer never overlap; the node cache stays bounded', async () => {
    const t = await startSession(image, { nodeCacheSize: 16, bufferBlocks: 64 });
    try {
      const f = await file_name_lookup(t.ctx, '/big.bin', O_READ);
      const chunks = (await Promise.all(Array.from({ length: 40 }, () => io_read(f, -1, 8000)))).map((c) => Buffer.from(c.data));
      expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(300_000);
      const want = readFileSync(join(root, 'big.bin'));
      // Each chunk is a distinct 8000-byte window of the file: together they cover it.
      const seen = new Set<number>();
      for (const c of chunks) {
        if (c.length === 0) continue;
        const at = Array.from({ length: 38 }, (_, k) => k * 8000).find((o) => want.subarray(o, o + c.length).equals(c));
        expect(at).toBeDefined();
        seen.add(at!);
      }
      expect(seen.size).toBe(Math.ceil(300_000 / 8000));
      for (const [path] of [...dbgAll].slice(0, 100)) {
        const p = await lookup_retry(t.ctx, t.root, path, O_NOLINK);
        await port_close(p);
      }
      await until(() => t.server.stats.protids.protids === 2);
      expect(t.server.nodes.stats.nodes).toBeLessThanOrEqual(16 + 2);
      expect(t.server.stats.buffers!.buffers).toBeLessThanOrEqual(64);
      expect(t.server.internalErrors).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
