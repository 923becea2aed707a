/**
 * The Hurd's stress test end to end, every piece its own process: `tsmach boot --disk`
 * with the ext2fs server as a boot module, `tsmach grep -r` as a client that finds it in
 * the name service (output, messages and status equal to GNU grep over the same tree);
 * then the stress harness (kernel, default pager, ext2fs, grep) at L0 and at L2 on that
 * image: the same lines, more map entries left in ext2fs at L0 than at L2, and nothing
 * of the run left in the kernel once the servers are gone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io_read } from '../../src/gen/io.user.js';
import { netname_look_up } from '../../src/gen/netname.user.js';
import { file_name_lookup, port_close, readdir_all, take_ool } from '../../src/servers/ext2fs/client.js';
import { O_READ } from '../../src/servers/ext2fs/hurd_types.js';
import { connect } from '../../src/transport/websocket.js';
import { runStress } from '../../src/tools/stress.js';
import { cleanup, Proc, tempDir, TSMACH } from './helpers.js';

afterAll(cleanup);

const HAVE_TOOLS = spawnSync('mke2fs', ['-V'], { stdio: 'ignore' }).status === 0
  && /GNU grep\) 3\./.test(spawnSync('grep', ['--version'], { encoding: 'utf8' }).stdout ?? '');

/** A tree of ~200 header-like files, a binary file, a long one and a symlink, and its ext2 image. */
function makeTree(dir: string): { root: string; image: string } {
  const root = join(dir, 'tree');
  let n = 0;
  for (let d = 0; d < 12; d++) {
    const sub = join(root, `dir${d}`, d % 3 === 0 ? `deep${d}` : '');
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 16; f++) {
      const lines = Array.from({ length: 20 + ((d * 7 + f) % 90) }, (_, k) => (k % 9 === f % 9 ? `#define NR_${d}_${f}_${k} ${k}` : `int x${k}; /* ${'pad'.repeat(k % 30)} */`));
      writeFileSync(join(sub, `f${f}.h`), `${lines.join('\n')}\n`);
      n++;
    }
  }
  writeFileSync(join(root, 'blob.bin'), Buffer.concat([Buffer.from('NR in a binary file\n'), Buffer.alloc(100), Buffer.alloc(70_000, 0x41)]));
  writeFileSync(join(root, 'big.h'), `${Array.from({ length: 5000 }, (_, k) => `line ${k}${k % 97 === 0 ? ' NR' : ''}`).join('\n')}\n`);
  symlinkSync('dir1/f1.h', join(root, 'link.h'));
  expect(n).toBeGreaterThan(150);
  const image = join(dir, 'image');
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-d', root, image, '16M'], { stdio: 'ignore' });
  return { root, image };
}

const sorted = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort();

describe.skipIf(!HAVE_TOOLS && !process.env.CI)('the stress test, every piece a process', () => {
  let dir: string;
  let tree: { root: string; image: string };
  let gnu: { stdout: string; stderr: string; status: number };

  beforeAll(() => {
    dir = tempDir();
    tree = makeTree(dir);
    const r = spawnSync('grep', ['-r', 'NR'], { cwd: tree.root, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    gnu = { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
    expect(gnu.status).toBe(0);
  });

  it('tsmach boot --disk with ext2fs as a boot module; tsmach grep finds it in the name service: GNU grep\'s output', async () => {
    const connectionFile = join(dir, 'kernel.json');
    const boot = new Proc([TSMACH, 'boot', '--connection-file', connectionFile, '--vm-level', 'L0', '--disk', tree.image,
      '--', join('src/servers/ext2fs/main.ts'), 'hd0']);
    const ready = await boot.json<{ ready: boolean; netname: string; blockSize: number }>(30_000);
    expect(ready).toMatchObject({ ready: true, netname: 'ext2fs', blockSize: 4096 });
    const summary = join(dir, 'summary.json');
    const grep = new Proc([TSMACH, 'grep', '-r', 'NR', '--summary', summary], { TSMACH_CONNECTION: connectionFile });
    let out = '';
    grep.proc.stdout!.removeAllListeners('data');
    grep.proc.stdout!.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    const { code } = await grep.exited;
    expect(code).toBe(gnu.status);
    expect(sorted(out)).toEqual(sorted(gnu.stdout));
    expect(sorted(grep.stderr)).toEqual(sorted(gnu.stderr));
    const s = JSON.parse(readFileSync(summary, 'utf8')) as { files: number; rpcs: number };
    expect(s.files).toBeGreaterThan(150);
    expect(s.rpcs).toBeGreaterThan(s.files * 4);

    // This test as a task: every listing and every file's bytes through the server process
    // (out-of-line replies arrive as regions over WebSocket) equal the tree it was made from.
    const t = await connect({ connectionFile, name: 'reader' });
    try {
      const root = (await netname_look_up(t.bootstrap!, '', 'ext2fs')).port_id!;
      const ctx = { crdir: root, cwdir: root };
      let files = 0;
      const walk = async (rel: string): Promise<void> => {
        const d = await file_name_lookup(ctx, `/${rel}`, O_READ);
        const names = (await readdir_all(d)).map((e) => e.name).filter((x) => x !== '.' && x !== '..' && !(rel === '' && x === 'lost+found'));
        await port_close(d);
        expect(names.sort(), rel).toEqual(readdirSync(join(tree.root, rel)).sort());
        for (const name of names) {
          const path = rel === '' ? name : `${rel}/${name}`;
          const st = lstatSync(join(tree.root, path));
          if (st.isDirectory()) await walk(path);
          else if (st.isFile()) {
            const f = await file_name_lookup(ctx, `/${path}`, O_READ);
            const parts: Uint8Array[] = [];
            for (let data = await take_ool(t, (await io_read(f, -1, 40_000)).data); data.length > 0; data = await take_ool(t, (await io_read(f, -1, 40_000)).data)) parts.push(data);
            await port_close(f);
            expect(Buffer.concat(parts).equals(readFileSync(join(tree.root, path))), path).toBe(true);
            files++;
          }
        }
      };
      await walk('');
      expect(files).toBe(s.files);
    } finally {
      t.terminate();
    }
    // The server is a boot module: tsmach ps lists it under its own name.
    const ps = new Proc([TSMACH, 'ps', '--connection-file', connectionFile]);
    let psOut = '';
    ps.proc.stdout!.removeAllListeners('data');
    ps.proc.stdout!.on('data', (d: Buffer) => { psOut += d.toString(); });
    expect((await ps.exited).code).toBe(0);
    expect(psOut).toMatch(/\d+\s+\d+\s+\d+\s+\S+\s+ext2fs\n/);
    boot.kill('SIGINT');
    expect((await boot.exited).code).toBe(0);
  });

  it('the harness at L0 and L2: the same lines; more entries left at L0; nothing left in the kernel', async () => {
    const [l0, l2] = await Promise.all((['L0', 'L2'] as const).map((level) => runStress({ image: tree.image, level, grepArgs: ['NR', '-r', '/'] })));
    for (const r of [l0!, l2!]) {
      expect(r.grep.status).toBe(0);
      expect(r.lines).toBe(sorted(gnu.stdout).length);
      expect(r.ext2fsErrors).toEqual([]);
      expect(r.vminfo.length).toBe(r.entries);
      expect(r.peak).toBeGreaterThanOrEqual(r.entries);
      expect(r.samples.length).toBeGreaterThan(1);
      expect(r.messages.grep).toBe(r.grep.rpcs);
      expect(r.ext2fs.server.protids.protids).toBe(1);
      // The servers are gone: no task, connection, message or name of theirs remains.
      expect(r.after).toMatchObject({ tasks: 0, connections: 0, kmsgs: 0, netnames: 0, pendingCalls: 0 });
    }
    expect(l0!.grep.selected).toBe(l2!.grep.selected);
    expect(l0!.entries).toBeGreaterThan(l2!.entries);
  }, 120_000);
});
