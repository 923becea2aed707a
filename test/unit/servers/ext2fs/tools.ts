/*
 * File: test/unit/servers/ext2fs/tools.ts
 * Purpose: Test helpers for the ext2 reader: detect e2fsprogs, build directory trees,
 *          make images with mke2fs, and run/parse debugfs (ls -p, stat, dump) as the
 *          oracle the reader is compared against.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, writeSync, ftruncateSync, linkSync, chownSync, utimesSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, it } from 'vitest';
import { fileTypeOfMode } from '../../../../src/servers/ext2fs/inode.js';

// ==== tools =========================================================================

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** mke2fs and debugfs are installed (checked once). */
export const HAVE_E2FSPROGS: boolean = runs('mke2fs', ['-V']) && runs('debugfs', ['-V']);

/**
 * describe() that runs only with e2fsprogs installed: without them the suite is skipped,
 * or fails when env CI is set (CI must have them).
 */
export function describeE2fs(name: string, fn: () => void): void {
  if (HAVE_E2FSPROGS) {
    // Generous per-test timeout: these run mke2fs/debugfs and may share a busy CI machine.
    describe(name, { timeout: 60_000 }, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs mke2fs and debugfs (e2fsprogs)', () => {
        throw new Error('mke2fs/debugfs not found; CI must install e2fsprogs');
      });
    });
  } else {
    describe.skip(`${name} (e2fsprogs not installed)`, fn);
  }
}

/** A fresh temporary directory. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tsmach-ext2-${tag}-`));
}

/** Remove a temporary directory. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Make an ext2 image: `mke2fs -q -F -t <type> <args> -d <srcDir> <image> <size>`.
 * `type` defaults to ext2. srcDir may be null for an empty file system.
 */
export function mkfs(image: string, srcDir: string | null, args: string[], size: string, type = 'ext2'): void {
  const argv = ['-q', '-F', '-t', type, ...args];
  if (srcDir !== null) argv.push('-d', srcDir);
  argv.push(image, size);
  execFileSync('mke2fs', argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MKE2FS_CONFIG: '/etc/mke2fs.conf' } });
}

/** Run debugfs with `cmds` (one invocation, -f) and return each command's output. */
export function debugfs(image: string, cmds: string[], write = false): Array<{ cmd: string; out: string }> {
  const dir = tempDir('dbg');
  try {
    const file = join(dir, 'cmds');
    writeFileSync(file, cmds.join('\n') + '\n');
    const args = write ? ['-w', '-f', file, image] : ['-f', file, image];
    const r = spawnSync('debugfs', args, { maxBuffer: 1 << 30, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`debugfs failed: ${r.stderr}`);
    const out: Array<{ cmd: string; out: string }> = [];
    // Each command's output is preceded by "debugfs: <command>".
    const parts = r.stdout.split(/^debugfs: /m);
    for (const p of parts.slice(1)) {
      const nl = p.indexOf('\n');
      out.push({ cmd: nl < 0 ? p : p.slice(0, nl), out: nl < 0 ? '' : p.slice(nl + 1) });
    }
    if (out.length !== cmds.length) throw new Error(`debugfs: ${out.length} outputs for ${cmds.length} commands`);
    return out;
  } finally {
    removeDir(dir);
  }
}

/** `debugfs -w -R cmd` on an image (to corrupt it on purpose). */
export function debugfsWrite(image: string, ...cmds: string[]): void {
  debugfs(image, cmds, true);
}

/** One line of `ls -p`: /ino/mode/uid/gid/name/size/ */
export interface LsEntry {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  name: string;
  size: string;
}

/** Parse `ls -p` output. */
export function parseLsP(out: string): LsEntry[] {
  const res: LsEntry[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
    if (!m) throw new Error(`unparsable ls -p line: ${JSON.stringify(line)}`);
    res.push({ ino: +m[1]!, mode: parseInt(m[2]!, 8), uid: +m[3]!, gid: +m[4]!, name: m[5]!, size: m[6]! });
  }
  return res;
}

/** What `debugfs stat` says about an inode. */
export interface DebugfsStat {
  ino: number;
  type: string;
  perm: number;
  flags: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  blockcount: number;
  generation: number;
  /** Raw seconds and the *_extra word (null for 128-byte inodes). */
  times: Record<'ctime' | 'atime' | 'mtime', { sec: number; extra: number | null }>;
  device: { major: number; minor: number } | null;
  fastLink: string | null;
  /** Hurd images: the "Translator:" field. */
  translator: number | null;
  /** Logical -> physical data blocks, from the BLOCKS section. */
  blocks: Map<number, number>;
  /** Indirect blocks by kind. */
  meta: Array<{ kind: 'IND' | 'DIND' | 'TIND'; block: number }>;
}

/** Parse the output of `stat <path>`. */
export function parseStat(out: string): DebugfsStat {
  const num = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m) throw new Error(`stat: no ${re} in\n${out}`);
    return Number(m[1]);
  };
  const time = (name: string): { sec: number; extra: number | null } => {
    const m = new RegExp(`^\\s*${name}: 0x([0-9a-f]+)(?::([0-9a-f]+))?`, 'm').exec(out);
    if (!m) throw new Error(`stat: no ${name}`);
    return { sec: parseInt(m[1]!, 16), extra: m[2] === undefined ? null : parseInt(m[2], 16) };
  };
  const typeM = /Type: (.+?)\s+Mode:\s+([0-7]+)\s+Flags: 0x([0-9a-f]+)/.exec(out);
  if (!typeM) throw new Error(`stat: no Type in\n${out}`);
  const dev = /Device major\/minor number: (\d+):(\d+)/.exec(out);
  const fast = /Fast link dest: "(.*)"$/m.exec(out);
  const blocks = new Map<number, number>();
  const meta: DebugfsStat['meta'] = [];
  const bm = /BLOCKS:\n([\s\S]*?)\n(?:TOTAL|$)/.exec(out);
  if (bm) {
    for (const item of bm[1]!.split(/,\s*/)) {
      const t = item.trim();
      if (t === '') continue;
      let m = /^\((IND|DIND|TIND)\):(\d+)$/.exec(t);
      if (m) {
        meta.push({ kind: m[1] as 'IND', block: +m[2]! });
        continue;
      }
      m = /^\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?$/.exec(t);
      if (!m) throw new Error(`stat: unparsable BLOCKS item ${t}`);
      const l0 = +m[1]!;
      const l1 = m[2] === undefined ? l0 : +m[2];
      const p0 = +m[3]!;
      for (let k = 0; k <= l1 - l0; k++) blocks.set(l0 + k, p0 + k);
    }
  }
  return {
    ino: num(/^Inode: (\d+)/m),
    type: typeM[1]!,
    perm: parseInt(typeM[2]!, 8),
    flags: parseInt(typeM[3]!, 16),
    uid: num(/User:\s+(\d+)/),
    gid: num(/Group:\s+(\d+)/),
    size: num(/Size: (\d+)/),
    links: num(/Links: (\d+)/),
    blockcount: num(/Blockcount: (\d+)/),
    generation: num(/Generation: (\d+)/),
    times: { ctime: time('ctime'), atime: time('atime'), mtime: time('mtime') },
    device: dev ? { major: +dev[1]!, minor: +dev[2]! } : null,
    fastLink: fast ? fast[1]! : null,
    translator: /Translator: (\d+)/.exec(out) ? Number(/Translator: (\d+)/.exec(out)![1]) : null,
    blocks,
    meta,
  };
}

// ==== test trees ====================================================================

/** What the test tree builder made (paths are relative to the root, with a leading '/'). */
export interface TreeInfo {
  /** Device nodes could be created (needs root). */
  devices: boolean;
  /** Path of the file that needs triple indirect blocks (null if not built). */
  tind: string | null;
  /** Path of a file with indirect blocks; `dindReached` says whether it needs a DIND block. */
  dind: string;
  dindReached: boolean;
  /** Call after mke2fs: closes the listening socket. */
  close(): Promise<void>;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Write `chunks` at their offsets into a file of `size` bytes (a sparse file). */
export function writeSparse(path: string, size: number, chunks: Array<[number, Uint8Array]>): void {
  const fd = openSync(path, 'w');
  try {
    for (const [off, data] of chunks) writeSync(fd, data, 0, data.length, off);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Build the test tree under `root` for an image with `blockSize`-byte blocks: small and
 * empty files, files at block boundaries, a file needing double indirect blocks, a sparse
 * file needing triple indirect blocks (if `tind`), long and UTF-8 names, a directory with
 * many entries, nested directories, fast/slow/absolute/dangling/looping symlinks, a hard
 * link, a fifo, a socket, device nodes (when running as root), odd owners and modes.
 */
export async function buildTree(root: string, blockSize: number, opts: { tind: boolean; manyEntries?: number }): Promise<TreeInfo> {
  const p = (rel: string): string => join(root, rel);
  const bs = blockSize;
  const ptrs = bs / 4;
  mkdirSync(root, { recursive: true });
  writeFileSync(p('empty'), '');
  writeFileSync(p('small.txt'), 'hello, ext2\n');
  linkSync(p('small.txt'), p('hard.txt'));
  for (const n of [1, bs - 1, bs, bs + 1, 12 * bs - 1, 12 * bs, 12 * bs + 1]) {
    writeFileSync(p(`size-${n}`), pseudoRandom(n, n));
  }
  // Double indirect: real data past the 12 direct + one IND block's worth.
  const dindAt = (12 + ptrs) * bs;
  const dindReached = bs <= 4096; // at 64 KiB, DIND starts at 1 GiB: keep to IND there
  if (bs === 1024) {
    writeFileSync(p('dind.bin'), pseudoRandom(dindAt + 20 * bs + 123, 7)); // 300 KiB, all allocated
  } else if (!dindReached) {
    writeSparse(p('dind.bin'), 20 * bs + 5, [
      [0, pseudoRandom(bs, 8)],
      [13 * bs + 5, pseudoRandom(2 * bs, 9)],
    ]);
  } else {
    writeSparse(p('dind.bin'), dindAt + 5 * bs + 77, [
      [0, pseudoRandom(3 * bs, 8)],
      [20 * bs + 5, pseudoRandom(bs, 9)],
      [dindAt - 10, pseudoRandom(3 * bs, 10)],
    ]);
  }
  let tind: string | null = null;
  if (opts.tind) {
    const tindAt = (12 + ptrs + ptrs * ptrs) * bs;
    writeSparse(p('tind.sparse'), tindAt + 3 * bs + 11, [
      [0, pseudoRandom(100, 11)],
      [14 * bs, pseudoRandom(bs, 12)],
      [dindAt + 3 * bs, pseudoRandom(bs + 1, 13)],
      [tindAt + bs + 7, pseudoRandom(2 * bs, 14)],
    ]);
    tind = '/tind.sparse';
  }
  // A file whose last blocks are a hole (size past the data).
  writeSparse(p('tail-hole'), 5 * bs, [[0, pseudoRandom(bs + 3, 15)]]);

  // Names.
  for (const len of [252, 253, 254, 255]) writeFileSync(p('n'.repeat(len - 1) + String(len % 10)), `len ${len}\n`);
  writeFileSync(p('héllo wörld ✓'), 'utf-8 name\n');
  writeFileSync(p('.hidden'), 'dot file\n');

  // A directory with many entries (several directory blocks at every block size).
  const many = opts.manyEntries ?? 400;
  mkdirSync(p('many'));
  for (let i = 0; i < many; i++) writeFileSync(p(`many/entry-${String(i).padStart(4, '0')}${'x'.repeat(i % 17)}`), i % 3 === 0 ? `${i}\n` : '');

  // Nested directories, an empty one, a sticky one.
  mkdirSync(p('a/b/c/d/e/f/g'), { recursive: true });
  writeFileSync(p('a/b/c/d/e/f/g/deep.txt'), 'deep\n');
  writeFileSync(p('a/b/mid.txt'), 'mid\n');
  mkdirSync(p('emptydir'));
  mkdirSync(p('sticky'));
  chmodSync(p('sticky'), 0o1777);

  // Symlinks: fast, the longest fast (59 bytes), slow (> 60 bytes), absolute, to a dir,
  // relative inside a subdirectory, dangling, a loop.
  symlinkSync('small.txt', p('link-fast'));
  symlinkSync('./'.repeat(25) + 'small.txt', p('link-59')); // 59 bytes: still fast
  symlinkSync('./'.repeat(25) + '/small.txt', p('link-60')); // 60 bytes: slow
  const slowTarget = './'.repeat(40) + 'a/b/c/d/e/f/g/deep.txt';
  symlinkSync(slowTarget, p('link-slow'));
  symlinkSync('/a/b/mid.txt', p('link-abs'));
  symlinkSync('a/b', p('link-dir'));
  symlinkSync('../../small.txt', p('a/b/up'));
  symlinkSync('nowhere/at/all', p('link-dangling'));
  symlinkSync('loop2', p('loop1'));
  symlinkSync('loop1', p('loop2'));
  if (bs <= 4096) symlinkSync('s/'.repeat(Math.floor((bs - 10) / 2)) + 'end', p('link-block')); // slow, nearly a block

  // Owners and modes.
  writeFileSync(p('owned'), 'owned\n');
  chownSync(p('owned'), 1234, 5678);
  writeFileSync(p('bigid'), 'big uid\n');
  chownSync(p('bigid'), 70000, 70001);
  writeFileSync(p('setuid'), '#!/bin/sh\n');
  chmodSync(p('setuid'), 0o4755);
  utimesSync(p('owned'), new Date('1999-12-31T23:59:59Z'), new Date('2001-09-09T01:46:40Z'));

  // Special files.
  execFileSync('mkfifo', [p('fifo')]);
  let devices = true;
  try {
    execFileSync('mknod', [p('chardev'), 'c', '4', '5'], { stdio: 'ignore' });
    execFileSync('mknod', [p('blockdev'), 'b', '8', '1'], { stdio: 'ignore' });
    execFileSync('mknod', [p('bigdev'), 'c', '300', '70000'], { stdio: 'ignore' }); // needs the new encoding
  } catch {
    devices = false; // not root: device nodes cannot be made in the tree
  }
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p('socket'), () => resolve());
  });
  return {
    devices,
    tind,
    dind: '/dind.bin',
    dindReached,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * debugfs's view of the whole tree, one debugfs run per depth level: every directory's
 * listing (`ls -p`, without the leading free entries of inode 0 that readdir skips) and
 * every path's entry.
 */
export function debugfsTree(image: string, q: (s: string) => string): { dirs: Map<string, LsEntry[]>; all: Map<string, LsEntry> } {
  const dirs = new Map<string, LsEntry[]>();
  const all = new Map<string, LsEntry>();
  let level = ['/'];
  while (level.length > 0) {
    const outs = debugfs(image, level.map((d) => `ls -p ${q(d)}`));
    const next: string[] = [];
    level.forEach((d, k) => {
      const entries = parseLsP(outs[k]!.out).filter((e) => e.ino !== 0);
      dirs.set(d, entries);
      for (const e of entries) {
        if (e.name === '.' || e.name === '..') continue;
        const path = d === '/' ? `/${e.name}` : `${d}/${e.name}`;
        all.set(path, e);
        if (fileTypeOfMode(e.mode) === 'directory') next.push(path);
      }
    });
    level = next;
  }
  return { dirs, all };
}
