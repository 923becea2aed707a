/*
 * File: test/unit/servers/ext2fs/task.test.ts
 * Purpose: the ext2fs server as it runs in its own task (startExt2fs: the disk through
 *          device_read, the glibc heap over its VM map, the file pager), on an embedded
 *          kernel, against debugfs on images made by mke2fs -d with 1 KiB and 4 KiB
 *          blocks: every listing, every file's bytes through io_read (pager_memcpy windows:
 *          page-ins with memory_object_data_supply from the device_read buffers and the
 *          page pool, holes included) and through io_map (a client maps the memory
 *          object); the client's map is left empty; the same search leaves more entries in
 *          ext2fs's map at L0 than at L2.
 */

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io_map, io_read } from '../../../../src/gen/io.user.js';
import { vm_deallocate, vm_map, vm_read } from '../../../../src/gen/mach.user.js';
import { mach_port_deallocate } from '../../../../src/gen/mach_port.user.js';
import type { IpcPort } from '../../../../src/ipc/port.js';
import { ipc_entry_lookup } from '../../../../src/ipc/space.js';
import { createKernel, type Kernel } from '../../../../src/kern/kernel.js';
import type { MachPort } from '../../../../src/mach/mig.js';
import type { MachTask } from '../../../../src/runtime/task.js';
import { file_name_lookup, port_close, readdir_all, take_ool, type LookupContext } from '../../../../src/servers/ext2fs/client.js';
import { startExt2fs, type Ext2fsTask, type Ext2fsTaskOptions } from '../../../../src/servers/ext2fs/ext2fs_task.js';
import { O_READ } from '../../../../src/servers/ext2fs/hurd_types.js';
import { fileTypeOfMode } from '../../../../src/servers/ext2fs/inode.js';
import { grep, parseGrepArgs } from '../../../../src/tools/grep.js';
import type { VmLevel } from '../../../../src/vm/level.js';
import { vm_ool_address } from '../../../../src/vm/ool.js';
import { buildTree, debugfs, debugfsTree, describeE2fs, type LsEntry, mkfs, removeDir, tempDir } from './tools.js';

interface Session {
  kernel: Kernel;
  ext2fs: Ext2fsTask;
  client: MachTask;
  ctx: LookupContext;
  /** entries of a task's map (by the task's runtime) */
  entries(t: MachTask): number;
  close(): Promise<void>;
}

async function start(image: string, level: VmLevel = 'L0', options: Ext2fsTaskOptions = {}): Promise<Session> {
  const kernel = createKernel({ vmLevel: level, disks: [{ path: image, name: 'hd0', format: 'object' }] });
  const t = kernel.createTask('ext2fs', { privileged: true });
  const ext2fs = await startExt2fs(t, options);
  const entry = ipc_entry_lookup(kernel.tasks.get(t.info.id)!.itk_space, ext2fs.root)!;
  const client = kernel.createTask('client', { bootstrap: entry.ie_object as IpcPort });
  const root = client.bootstrap!;
  return {
    kernel, ext2fs, client, ctx: { crdir: root, cwdir: root },
    entries: (x) => kernel.tasks.get(x.info.id)!.map.nentries,
    async close() {
      client.terminate();
      await ext2fs.stop();
      t.terminate();
      kernel.shutdown();
    },
  };
}

async function readAll(port: MachPort, chunk: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const data = await take_ool(port.task as MachTask, (await io_read(port, -1, chunk)).data);
    if (data.length === 0) return Buffer.concat(parts);
    parts.push(data);
  }
}

const q = (p: string): string => `"${p}"`;

for (const bs of [1024, 4096]) {
  describeE2fs(`ext2fs in its task, ${bs}-byte blocks, vs debugfs`, () => {
    let dir: string;
    let image: string;
    let s: Session;
    const dirs = new Map<string, LsEntry[]>();
    const files: Array<{ path: string; want: Buffer }> = [];

    beforeAll(async () => {
      dir = tempDir(`task${bs}`);
      const root = join(dir, 'tree');
      const tree = await buildTree(root, bs, { tind: false, manyEntries: 150 });
      image = join(dir, 'image');
      try {
        mkfs(image, root, ['-b', String(bs), '-N', '1024'], bs === 1024 ? '16M' : '64M');
      } finally {
        await tree.close();
      }
      const dbg = debugfsTree(image, q);
      for (const [d, e] of dbg.dirs) dirs.set(d, e);
      const regular = [...dbg.all].filter(([, e]) => fileTypeOfMode(e.mode) === 'regular').map(([p]) => p);
      const out = join(dir, 'dump');
      mkdirSync(out);
      debugfs(image, regular.map((p, k) => `dump ${q(p)} ${join(out, String(k))}`));
      regular.forEach((path, k) => files.push({ path, want: readFileSync(join(out, String(k))) }));
      s = await start(image);
    }, 120_000);

    afterAll(async () => {
      await s?.close();
      if (dir) removeDir(dir);
    });

    it('every directory listing equals debugfs ls -p', async () => {
      for (const [path, want] of dirs) {
        const d = await file_name_lookup(s.ctx, path, O_READ);
        const got = await readdir_all(d);
        expect(got.map((e) => [e.name, e.ino]), path).toEqual(want.map((e) => [e.name, e.ino]));
        await port_close(d);
      }
      expect(s.ext2fs.stats().server.vm.dirWindows).toBeGreaterThan(0);
    });

    it('every file through io_read (pager_memcpy windows, page-ins from the disk) equals debugfs dump', async () => {
      let k = 0;
      for (const f of files) {
        const port = await file_name_lookup(s.ctx, f.path, O_READ);
        // 40,000: reads that start inside a page and span two pager_memcpy windows.
        const chunk = [1000, 8192, 65536, 200_000, 40_000][k++ % 5]!;
        expect((await readAll(port, chunk)).equals(f.want), `${f.path} in chunks of ${chunk}`).toBe(true);
        if (f.want.length > 25_000) {
          // One window, from inside a page, beyond MIG's in-line size: the reply is the region vm_read made.
          const got = await take_ool(s.client, (await io_read(port, 1000, 20_000)).data);
          expect(Buffer.from(got).equals(f.want.subarray(1000, 21_000)), `${f.path} at 1000`).toBe(true);
        }
        await port_close(port);
      }
      const st = s.ext2fs.stats();
      expect(st.pager.pageins).toBeGreaterThan(files.length / 2);
      expect(st.pager.suppliedRegions).toBeGreaterThan(0);
      expect(st.pager.errors).toBe(0);
      expect(st.server.vm.windows).toBeGreaterThan(0);
      expect(st.server.vm.regionReplies).toBeGreaterThan(0);
      if (bs === 4096) expect(st.pager.poolPages).toBeGreaterThan(0); // holes of the sparse files
      expect(s.ext2fs.internalErrors()).toEqual([]);
    });

    it('io_map: the client maps the file\'s memory object and reads it (the kernel pages it in from ext2fs)', async () => {
      const picked = files.filter((f) => f.want.length > 0 && /sparse|dind|tail-hole|size-|small/.test(f.path)).slice(0, 12);
      expect(picked.length).toBeGreaterThan(4);
      for (const f of picked) {
        const port = await file_name_lookup(s.ctx, f.path, O_READ);
        const { memobjrd, memobjwt } = await io_map(port);
        expect(memobjwt).toBeNull();
        const size = f.want.length;
        const { address } = await vm_map(s.client.self, 0, size, 0, true, memobjrd, 0, false, 1, 1, 1);
        const { data } = await vm_read(s.client.self, address, size);
        expect(Buffer.from(data).equals(f.want), f.path).toBe(true);
        await vm_deallocate(s.client.self, vm_ool_address(data)!, size);
        await vm_deallocate(s.client.self, address, size);
        await mach_port_deallocate(s.client.self, memobjrd!.name);
        await port_close(port);
      }
      expect(s.entries(s.client)).toBe(0);
    });
  });
}

describeE2fs('ext2fs in its task: the stress test embedded', () => {
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = tempDir('taskgrep');
    const root = join(dir, 'tree');
    const tree = await buildTree(root, 4096, { tind: false, manyEntries: 400 });
    image = join(dir, 'image');
    try {
      mkfs(image, root, ['-b', '4096', '-N', '1024'], '32M');
    } finally {
      await tree.close();
    }
  }, 120_000);

  afterAll(() => {
    if (dir) removeDir(dir);
  });

  async function search(level: VmLevel, options: Ext2fsTaskOptions = {}): Promise<{ entries: number; status: number; out: string; s: Session }> {
    const s = await start(image, level, options);
    let out = '';
    const status = await grep(parseGrepArgs(['-r', 'e']).options, s.ctx, { stdout: (b) => { out += Buffer.from(b).toString('latin1'); }, stderr: () => undefined });
    // The last closes: no-senders notifications on their way.
    for (let k = 0; k < 200 && s.ext2fs.stats().server.protids.protids > 1; k++) await new Promise((r) => setTimeout(r, 5));
    await s.ext2fs.memory.settle();
    return { entries: s.entries(s.ext2fs.task), status, out, s };
  }

  it('grep -r through it: the same output at L0 and L2, more map entries at L0; cache mode gives the same output', async () => {
    const l0 = await search('L0');
    const l2 = await search('L2');
    const cache = await search('L2', { ioRead: 'cache', dirWindows: false });
    try {
      expect(l0.status).toBe(0);
      expect(l2.out).toBe(l0.out);
      expect(cache.out).toBe(l0.out);
      expect(l0.entries).toBeGreaterThan(l2.entries);
      expect(l2.entries).toBeLessThan(20);
      expect(l0.s.ext2fs.stats().server.protids.protids).toBe(1); // only the root is open
      expect(cache.s.ext2fs.stats().server.vm.windows).toBe(0);
      for (const x of [l0, l2, cache]) expect(x.s.ext2fs.internalErrors()).toEqual([]);
    } finally {
      for (const x of [l0, l2, cache]) await x.s.close();
    }
  });
});
