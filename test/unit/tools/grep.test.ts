/*
 * File: test/unit/tools/grep.test.ts
 * Purpose: `tsmach grep` against GNU grep: the same tree as a host directory (GNU grep)
 *          and as an ext2 image made from it by mke2fs -d (ours, through the ext2fs server
 *          task). Outputs, messages and exit statuses must be equal; the order of files
 *          legitimately differs (GNU grep walks the host directory in its readdir order,
 *          ours walks the image in its on-disk order, which mke2fs 1.47 makes sorted by
 *          name), so output lines are compared sorted, and our walk order is checked
 *          separately against debugfs's listing (fts: depth first, directory order, sorted
 *          by inode above 10,000 entries).
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compilePatterns, ftsChildPath, ftsRootPath, grep, grepCommand, GrepPatternError, openImageSession, parseGrepArgs,
  GrepUsageError, type ImageSession,
} from '../../../src/tools/grep.js';
import { debugfs, HAVE_E2FSPROGS, mkfs, parseLsP, removeDir, tempDir } from '../servers/ext2fs/tools.js';
import { file_name_lookup } from '../../../src/servers/ext2fs/client.js';
import { O_DIRECTORY, O_READ } from '../../../src/servers/ext2fs/hurd_types.js';
import { fileTypeOfMode } from '../../../src/servers/ext2fs/inode.js';
import { vm_region } from '../../../src/gen/mach.user.js';
import { KERN_NO_SPACE } from '../../../src/mach/kern_return.js';
import type { MachTask } from '../../../src/runtime/task.js';

/** GNU grep (3.x) is installed. */
const HAVE_GNU_GREP = ((): boolean => {
  const r = spawnSync('grep', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /GNU grep\) 3\./.test(r.stdout);
})();

function describeTools(name: string, fn: () => void): void {
  if (HAVE_E2FSPROGS && HAVE_GNU_GREP) describe(name, { timeout: 120_000 }, fn);
  else if (process.env.CI) {
    describe(name, () => {
      it('needs mke2fs, debugfs and GNU grep 3.x', () => {
        throw new Error('mke2fs/debugfs or GNU grep 3.x not found; CI must install e2fsprogs and grep');
      });
    });
  } else describe.skip(`${name} (e2fsprogs or GNU grep 3.x not installed)`, fn);
}

interface Result {
  status: number;
  stdout: Buffer;
  stderr: string;
}

function hostGrep(cwd: string, args: string[]): Result {
  const r = spawnSync('grep', args, { cwd, env: { ...process.env, LC_ALL: 'C.UTF-8' }, maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

async function ourGrep(session: ImageSession, args: string[]): Promise<Result> {
  const out: Buffer[] = [];
  let err = '';
  const sink = { stdout: (b: Uint8Array) => void out.push(Buffer.from(b)), stderr: (s: string) => void (err += s) };
  let status: number;
  try {
    status = await grep(parseGrepArgs(args).options, session.ctx, sink);
  } catch (e) {
    if (!(e instanceof GrepUsageError)) throw e;
    sink.stderr(`${e.message}\n`);
    status = 2;
  }
  return { status, stdout: Buffer.concat(out), stderr: err };
}

/** Lines of a byte output (split after each newline, bytes kept). */
function lines(b: Buffer): string[] {
  const s = b.toString('latin1');
  const parts = s.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

const sorted = (a: string[]): string[] => [...a].sort();

/**
 * The test tree: text, binary and odd files for grep, in `tree/`; files with lines longer
 * than grep's buffer in `long/`, apart: GNU grep keeps its grown buffer for the next
 * files, so what it prints for a file depends on the files searched before it, and the
 * two walks visit files in different orders.
 */
function buildGrepTree(top: string): void {
  const root = join(top, 'tree');
  mkdirSync(join(top, 'long'), { recursive: true });
  const w = (p: string, data: string | Buffer): void => writeFileSync(join(root, p), data);
  mkdirSync(join(root, 'd1/d2/d3'), { recursive: true });
  mkdirSync(join(root, 'emptydir'));
  mkdirSync(join(root, 'many'));
  w('a.txt', 'first NR line\nno match\nsecond nr lower\nNR NR twice\nNRX word\n  NR indented\n');
  w('d1/b.txt', `${'x\n'.repeat(10)}awk NR==1\nNR\n`);
  w('d1/d2/d3/deep.c', 'int NR = 3;\n/* nR */\nNR\n');
  w('nonl.txt', 'ends without a newline NR');
  w('empty.txt', '');
  w('.hidden', 'hidden NR\n');
  w('héllo wörld.txt', 'a UTF-8 name NR\nünïcödé NR ✓\n');
  w('crlf.txt', 'NR dos\r\nmore\r\n');
  w('bin-early', Buffer.concat([Buffer.from('\x7fELF\0\0\0'), Buffer.from('NR inside a binary\n')]));
  // A NUL past the first 96 KiB buffer: the lines before that buffer print, then the message.
  const line = Buffer.from('NR 0123456789abcdef\n');
  const late = Buffer.concat(Array.from({ length: 6000 }, () => line));
  w('late-nul', Buffer.concat([late.subarray(0, 110_000), Buffer.from([0]), late.subarray(110_000)]));
  // A NUL in the residue line carried over a buffer boundary.
  w('nul-at-boundary', Buffer.concat([Buffer.from('NR a\n'.repeat(19_660)), Buffer.from('NR tail \0 x\nNR after\n')]));
  // An invalid UTF-8 matching line: skipped, the others print, then the message.
  w('enc.txt', Buffer.from('NR ok\nNR bad \xff\xfe here\nNR after\n', 'latin1'));
  // Lines longer than the buffer (grep grows it), and a huge one at the end.
  w('../long/longline', Buffer.concat([Buffer.alloc(150_000, 'a'), Buffer.from('NR'), Buffer.alloc(100, 'b'), Buffer.from('\nshort NR\n'), Buffer.alloc(300_000, 'c'), Buffer.from('NR\n')]));
  // Many lines crossing buffer boundaries.
  w('many.txt', Array.from({ length: 40_000 }, (_, i) => (i % 7 === 0 ? `line ${i} NR\n` : `line ${i}\n`)).join(''));
  for (let i = 0; i < 60; i++) w(`many/f${String(i).padStart(3, '0')}`, i % 5 === 0 ? `NR ${i}\nnr\n` : 'none\n');
  symlinkSync('a.txt', join(root, 'link-to-a'));
  symlinkSync('d1', join(root, 'link-to-d1'));
  symlinkSync('nowhere', join(root, 'dangling'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
}

describe('grep pieces (no image)', () => {
  it('fts paths: trailing slashes', () => {
    expect(['d', 'd/', 'd//', 'd///', '/', '//', '.', './', 'a//b/'].map(ftsRootPath)).toEqual(['d', 'd/', 'd/', 'd/', '/', '//', '.', './', 'a//b/']);
    expect(ftsChildPath('d/', 'f')).toBe('d/f');
    expect(ftsChildPath('/', 'usr')).toBe('/usr');
    expect(ftsChildPath('a//b', 'f')).toBe('a//b/f');
  });

  it('getopt: options anywhere, bundles, long prefixes, errors', () => {
    const c = parseGrepArgs(['NR', '-rn', 'dir', '--ignore-c', '--image=x.img', '-e', 'foo']);
    expect(c.options).toMatchObject({ patterns: ['foo'], recursive: true, lineNumbers: true, ignoreCase: true, files: ['NR', 'dir'] });
    expect(c.image).toBe('x.img');
    expect(parseGrepArgs(['--', '-r', 'x']).options).toMatchObject({ patterns: ['-r'], files: ['x'], recursive: false });
    expect(() => parseGrepArgs(['-j', 'x'])).toThrow(GrepUsageError);
    expect(() => parseGrepArgs(['--no', 'x'])).toThrow(/ambiguous/);
    expect(() => parseGrepArgs([])).toThrow(/Usage/);
  });

  it('patterns: BRE/ERE/fixed translation and GNU errors', () => {
    const m = (p: string, syntax: 'basic' | 'extended' | 'fixed', line: string, extra: Partial<{ ignoreCase: boolean; wordRegexp: boolean; lineRegexp: boolean }> = {}): boolean =>
      compilePatterns([p], { syntax, ignoreCase: false, wordRegexp: false, lineRegexp: false, ...extra }, []).regex.test(line);
    expect(m('a\\{2\\}b', 'basic', 'xaab')).toBe(true);
    expect(m('a{2}b', 'basic', 'a{2}b')).toBe(true);
    expect(m('a{2}b', 'extended', 'aab')).toBe(true);
    expect(m('\\(ab\\)\\1', 'basic', 'abab')).toBe(true);
    expect(m('(ab)\\1', 'extended', 'abab')).toBe(true);
    expect(m('*a', 'basic', '*a')).toBe(true);
    expect(m('a|b', 'basic', 'a|b')).toBe(true);
    expect(m('a\\|b', 'basic', 'b')).toBe(true);
    expect(m('x^y$z', 'basic', 'x^y$z')).toBe(true);
    expect(m('[[:digit:]]\\+', 'basic', 'ab12')).toBe(true);
    expect(m('[]a]', 'basic', ']')).toBe(true);
    expect(m('[^\\]', 'basic', '\\')).toBe(false);
    expect(m('\\<NR\\>', 'basic', 'x NR y')).toBe(true);
    expect(m('\\<NR\\>', 'basic', 'xNR y')).toBe(false);
    expect(m('a.b', 'fixed', 'axb')).toBe(false);
    expect(m('nr', 'basic', 'NR', { ignoreCase: true })).toBe(true);
    expect(m('NR', 'basic', 'NRX', { wordRegexp: true })).toBe(false);
    expect(m('NR', 'basic', 'NR', { lineRegexp: true })).toBe(true);
    const err = (p: string, syntax: 'basic' | 'extended'): string => {
      try {
        compilePatterns([p], { syntax, ignoreCase: false, wordRegexp: false, lineRegexp: false }, []);
        return '';
      } catch (e) {
        expect(e).toBeInstanceOf(GrepPatternError);
        return (e as Error).message;
      }
    };
    expect(err('x\\', 'basic')).toBe('Trailing backslash');
    expect(err('a\\{1', 'basic')).toBe('Unmatched \\{');
    expect(err('[a', 'basic')).toBe('Unmatched [, [^, [:, [., or [=');
    expect(err('[[:foo:]]', 'basic')).toBe('Invalid character class name');
    expect(err('\\(a', 'basic')).toBe('Unmatched ( or \\(');
    expect(err('a\\)', 'basic')).toBe('Unmatched ) or \\)');
    expect(err('(a', 'extended')).toBe('Unmatched ( or \\(');
    expect(err('a)', 'extended')).toBe('');
    const warnings: string[] = [];
    compilePatterns(['*a'], { syntax: 'extended', ignoreCase: false, wordRegexp: false, lineRegexp: false }, warnings);
    expect(warnings).toEqual(['* at start of expression']);
  });
});

describeTools('tsmach grep vs GNU grep on the same tree', () => {
  let dir: string;
  let src: string;
  let image: string;
  let session: ImageSession;

  beforeAll(async () => {
    dir = tempDir('grep');
    src = join(dir, 'src');
    mkdirSync(src);
    buildGrepTree(src);
    image = join(dir, 'image');
    mkfs(image, src, ['-b', '1024', '-N', '4096'], '32M');
    const image_session = await openImageSession(image);
    // The client's working directory: /tree (GNU grep runs in src/tree).
    const tree = await file_name_lookup(image_session.ctx, '/tree', O_READ | O_DIRECTORY);
    session = { ...image_session, ctx: { crdir: image_session.ctx.crdir, cwdir: tree } };
    srcTree = join(src, 'tree');
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    if (dir) removeDir(dir);
  });

  let srcTree: string;

  const CASES: string[][] = [
    ['-r', 'NR', '.'],
    ['-rn', 'NR', '.'],
    ['-ri', 'nr', '.'],
    ['-rc', 'NR', '.'],
    ['-rl', 'NR', '.'],
    ['-rn', '-i', 'nR', 'd1'],
    ['-r', 'NR'],
    ['-r', 'zzz_no_match', '.'],
    ['-r', 'NR', 'nonexistent'],
    ['-rs', 'NR', 'nonexistent', 'a.txt'],
    ['NR', 'd1'],
    ['NR', 'a.txt', 'nonl.txt', 'crlf.txt'],
    ['-r', 'NR', 'a.txt'],
    ['-rH', 'NR', 'a.txt'],
    ['-rh', 'NR', '.'],
    ['-r', 'NR', 'd1/'],
    ['-r', 'NR', 'd1//'],
    ['-r', 'NR', './d1/d2'],
    ['-rw', 'NR', '.'],
    ['-rx', 'NR', '.'],
    ['-rv', 'NR', 'd1', 'many'],
    ['-rvc', 'NR', '.'],
    ['-rE', 'N+R|awk', '.'],
    ['-rF', 'NR==1', '.'],
    ['-rn', '^NR', '.'],
    ['-r', '[[:upper:]]R$', '.'],
    ['-r', '\\(N\\)R', '.'],
    ['-rI', 'NR', '.'],
    ['-ra', 'NR', 'bin-early', 'enc.txt'],
    ['-n', 'NR', 'late-nul'],
    ['-c', 'NR', 'late-nul', 'nul-at-boundary'],
    ['-n', 'NR', 'nul-at-boundary'],
    ['-n', 'NR', '../long/longline'],
    ['-c', '', '../long/longline', 'many.txt'],
    ['-n', 'NR', '../long/longline', 'nul-at-boundary'],
    ['-n', 'NR', 'nul-at-boundary', '../long/longline'],
    ['-rq', 'NR', '.'],
    ['-rq', 'zzz', '.'],
    ['-r', 'a\\{1', '.'],
    ['-rE', '*NR', 'd1'],
    ['--bogus', 'x'],
    ['-j', 'x'],
  ];

  for (const args of CASES) {
    it(`grep ${args.join(' ')}`, async () => {
      const want = hostGrep(srcTree, args);
      const got = await ourGrep(session, args);
      expect(got.status).toBe(want.status);
      expect(sorted(got.stderr.split('\n'))).toEqual(sorted(want.stderr.split('\n')));
      expect(sorted(lines(got.stdout))).toEqual(sorted(lines(want.stdout)));
      expect(got.stdout.length).toBe(want.stdout.length);
    });
  }

  it('outputs that do not depend on directory order are byte-identical', async () => {
    for (const args of [['-n', 'NR', 'late-nul'], ['NR', 'a.txt', 'nonl.txt', 'crlf.txt'], ['-n', 'NR', '../long/longline', 'enc.txt', 'nul-at-boundary'], ['-rn', 'NR', 'd1/d2']]) {
      const want = hostGrep(srcTree, args);
      const got = await ourGrep(session, args);
      expect(got.stdout.equals(want.stdout), args.join(' ')).toBe(true);
      expect(got.stderr).toBe(want.stderr);
    }
    // The late NUL: the 4915 lines of the first 96 KiB buffer print, then the message.
    const late = await ourGrep(session, ['NR', 'late-nul']);
    expect(lines(late.stdout).length).toBe(Math.floor(98304 / 20));
    expect(late.stderr).toBe('grep: late-nul: binary file matches\n');
  });

  it('the client task releases every out-of-line reply region it received (its map is empty after a run)', async () => {
    await ourGrep(session, ['-rn', 'NR', '.', '../long']);
    const client = session.ctx.crdir.task as MachTask;
    await expect(vm_region(client.self, 0)).rejects.toMatchObject({ code: KERN_NO_SPACE });
  });

  it('walks depth first in the image\'s directory order (debugfs ls), skipping symlinks and fifos', async () => {
    // -c '' prints every regular file searched, in walk order.
    const got = lines((await ourGrep(session, ['-rc', '', '.'])).stdout).map((l) => l.slice(0, l.lastIndexOf(':')));
    const expected: string[] = [];
    const visit = (path: string, shown: string): void => {
      const entries = parseLsP(debugfs(image, [`ls -p "${path}"`])[0]!.out).filter((e) => e.ino !== 0 && e.name !== '.' && e.name !== '..');
      for (const e of entries) {
        const t = fileTypeOfMode(e.mode);
        const child = `${shown}/${e.name}`;
        if (t === 'directory') visit(path === '/' ? `/${e.name}` : `${path}/${e.name}`, child);
        else if (t === 'regular') expected.push(child);
      }
    };
    visit('/tree', '.');
    expect(got.map((s) => Buffer.from(s, 'latin1').toString('utf8'))).toEqual(expected.filter((p) => !p.startsWith('./lost+found')));
    const host = lines(hostGrep(srcTree, ['-rc', '', '.']).stdout).map((l) => l.slice(0, l.lastIndexOf(':')));
    expect(sorted(got)).toEqual(sorted(host));
  });

  it('the CLI: --image, --stats, usage errors', async () => {
    let out = '';
    let err = '';
    const sink = { stdout: (b: Uint8Array) => void (out += Buffer.from(b).toString()), stderr: (s: string) => void (err += s) };
    expect(await grepCommand(['NR', '-r', '/tree/d1', '--image', image, '--stats'], sink)).toBe(0);
    expect(out).toBe('/tree/d1/b.txt:awk NR==1\n/tree/d1/b.txt:NR\n/tree/d1/d2/d3/deep.c:int NR = 3;\n/tree/d1/d2/d3/deep.c:NR\n');
    expect(err).toMatch(/^ext2fs: \d+ requests served: dir_lookup \d+, dir_readdir \d+, io_read \d+, io_stat \d+, mach_notify_no_senders \d+\n/);
    err = '';
    expect(await grepCommand(['NR', '-r', '/d1'], sink)).toBe(2);
    expect(err).toMatch(/--image/);
    expect(await grepCommand(['-r', 'NR', '/', '--image', join(dir, 'missing.img')], sink)).toBe(2);
  });
});

describeTools('fts order in a directory of more than 10,000 entries', () => {
  let dir: string;
  let image: string;
  let session: ImageSession;

  beforeAll(async () => {
    dir = tempDir('grep-big');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'big'), { recursive: true });
    for (let i = 0; i < 10_005; i++) writeFileSync(join(src, 'big', `f${String(i).padStart(5, '0')}`), i % 1000 === 0 ? 'NR\n' : '');
    writeFileSync(join(src, 'a-early'), 'NR early\n'); // before big/ in mke2fs's order: a lower inode
    image = join(dir, 'image');
    mkfs(image, src, ['-b', '4096', '-N', '12000'], '64M');
    // A last entry with a low inode (a hard link to /early): last in directory order, first by inode.
    debugfs(image, ['ln /a-early /big/zzz-link'], true);
    session = await openImageSession(image);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    if (dir) removeDir(dir);
  });

  it('entries are visited by inode number, as gnulib fts sorts them', async () => {
    const got = lines((await ourGrep(session, ['-rl', 'NR', '/big'])).stdout);
    const ls = parseLsP(debugfs(image, ['ls -p /big'])[0]!.out).filter((e) => e.ino !== 0 && e.name !== '.' && e.name !== '..');
    expect(ls.length).toBe(10_006);
    expect(ls.at(-1)!.name).toBe('zzz-link');
    const byIno = [...ls].sort((a, b) => a.ino - b.ino).map((e) => `/big/${e.name}`);
    const matching = new Set(['/big/zzz-link', ...Array.from({ length: 11 }, (_, k) => `/big/f${String(k * 1000).padStart(5, '0')}`)]);
    expect(got).toEqual(byIno.filter((p) => matching.has(p)));
    expect(got[0]).toBe('/big/zzz-link');
  });
});
