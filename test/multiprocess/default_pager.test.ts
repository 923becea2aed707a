/**
 * The default pager as its own process (src/servers/default-pager/main.ts, connected with
 * a boot ticket) behind a kernel process with a small resident-page limit: a task writes
 * eight times more anonymous memory than the kernel may hold, reads every byte back
 * intact, and when it lets the memory go the pager's swap file is empty again
 * (default_pager_info through the default memory manager port, asked by a privileged
 * tool). Killing the pager (SIGKILL) makes faults on what it held fail with
 * KERN_MEMORY_ERROR at once, never hang.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { default_pager_info } from '../../src/gen/default_pager.user.js';
import { vm_allocate, vm_deallocate, vm_read, vm_set_default_memory_manager, vm_statistics, vm_write } from '../../src/gen/mach.user.js';
import { KERN_MEMORY_ERROR, MachError } from '../../src/mach/kern_return.js';
import type { MachTask } from '../../src/runtime/task.js';
import { connectPrivileged } from '../../src/tools/ps.js';
import { vm_ool_address } from '../../src/vm/ool.js';
import { PAGE_SIZE } from '../../src/vm/vm_param.js';
import { cleanup, observe, Proc, ROOT, startKernel, tempDir, waitFor, type KernelProc } from './helpers.js';

const P = PAGE_SIZE;
const PAGER = join(ROOT, 'src/servers/default-pager/main.ts');
const LIMIT = 64;
const SWAP_PAGES = 1024;

let k: KernelProc;
let pager: Proc;
let swapFile: string;
let client: MachTask;
let admin: MachTask;

beforeAll(async () => {
  k = await startKernel(['--memory-pages', String(LIMIT), '--pager-timeout', '3000', '--boot-tickets', 'default-pager']);
  swapFile = join(tempDir(), 'swap');
  const ticket = k.tickets.find((t) => t.name === 'default-pager')!.ticket;
  pager = new Proc([PAGER, '--swap', swapFile, '--swap-size', `${SWAP_PAGES * P / 1024}K`, '--json'], { ...k.env, TSMACH_TICKET: ticket, TSMACH_TASK_NAME: 'default-pager' });
  const ready = await pager.json<{ ready: boolean; pages: number }>();
  expect(ready).toMatchObject({ ready: true, pages: SWAP_PAGES });
  client = await observe(k, { name: 'client' });
  admin = await connectPrivileged({ connectionFile: k.connectionFile, name: 'admin' });
});
afterAll(async () => {
  client?.terminate();
  admin?.terminate();
  await cleanup();
});

/** n pages, each 32-bit word (seed, page, word): any misplaced or stale page shows. */
function pattern(pages: number, seed: number, first = 0): Uint8Array {
  const out = new Uint8Array(pages * P);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pages; i++) for (let w = 0; w < P / 4; w += 1) v.setUint32(i * P + w * 4, (seed * 0x1000000 + (first + i) * 0x400 + w) >>> 0, true);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

async function readBack(t: MachTask, address: number, size: number): Promise<Uint8Array> {
  const { data } = await vm_read(t.self, address, size);
  const copy = data.slice();
  await vm_deallocate(t.self, vm_ool_address(data)!, data.length);
  return copy;
}

async function swapInfo(): Promise<{ total: number; free: number; pageSize: number }> {
  const { default_manager: dmm } = await vm_set_default_memory_manager(admin.hostPriv!, null);
  const { info } = await default_pager_info(dmm!);
  const u64 = (i: number): number => (info[i + 1]! >>> 0) * 0x100000000 + (info[i]! >>> 0);
  return { total: u64(0), free: u64(2), pageSize: u64(4) };
}

const CHUNK = 32;

describe('the default pager process', () => {
  it('8x the resident limit written and read back intact; the swap file empties when the memory goes', async () => {
    const pages = 8 * LIMIT;
    const before = (await vm_statistics(client.self)).vm_stats;
    const { address } = await vm_allocate(client.self, 0, pages * P, true);
    const started = Date.now();
    for (let at = 0; at < pages; at += CHUNK) await vm_write(client.self, address + at * P, pattern(CHUNK, 1, at));
    const written = Date.now();
    for (let at = 0; at < pages; at += CHUNK) {
      const got = await readBack(client, address + at * P, CHUNK * P);
      expect(sameBytes(got, pattern(CHUNK, 1, at)), `pages ${at}..${at + CHUNK - 1}`).toBe(true);
    }
    const read = Date.now();
    const after = (await vm_statistics(client.self)).vm_stats;
    const pageouts = after[8]! - before[8]!;
    const pageins = after[7]! - before[7]!;
    expect(pageouts).toBeGreaterThanOrEqual(pages - LIMIT);
    expect(pageins).toBeGreaterThanOrEqual(pages - LIMIT - CHUNK);
    const used = await swapInfo();
    expect(used.total).toBe(SWAP_PAGES * P);
    expect(used.pageSize).toBe(P);
    expect(used.total - used.free).toBeGreaterThanOrEqual((pages - LIMIT) * P);
    expect(statSync(swapFile).size).toBe(SWAP_PAGES * P);
    await vm_deallocate(client.self, address, pages * P);
    const emptied = await waitFor(async () => { const i = await swapInfo(); return i.free === i.total ? i : undefined; });
    expect(emptied.free).toBe(SWAP_PAGES * P);
    process.stdout.write(`default pager: ${pages} pages through a ${LIMIT}-page kernel: ${pageouts} pageouts, ${pageins} pageins, `
      + `${(used.total - used.free) / P} swap pages at most; write ${written - started} ms, read ${read - written} ms\n`);
  });

  it('killed (SIGKILL): faults on the pages it held fail with KERN_MEMORY_ERROR, at once', async () => {
    const pages = 4 * LIMIT;
    const { address } = await vm_allocate(client.self, 0, pages * P, true);
    for (let at = 0; at < pages; at += CHUNK) await vm_write(client.self, address + at * P, pattern(CHUNK, 2, at));
    await waitFor(async () => { const i = await swapInfo(); return i.total - i.free >= (pages - LIMIT) * P ? true : undefined; });
    pager.kill('SIGKILL');
    await pager.exited;
    const started = Date.now();
    const codes = new Set<number>();
    let intact = 0;
    for (let at = 0; at < pages; at += CHUNK) {
      try {
        if (sameBytes(await readBack(client, address + at * P, CHUNK * P), pattern(CHUNK, 2, at))) intact++;
      } catch (e) {
        if (!(e instanceof MachError)) throw e;
        codes.add(e.code);
      }
    }
    expect([...codes]).toEqual([KERN_MEMORY_ERROR]);
    expect(Date.now() - started).toBeLessThan(3000); // well under the pager timeout: nothing waited
    expect(intact).toBeLessThan(pages / CHUNK);
    // the task and the kernel go on
    await vm_deallocate(client.self, address, pages * P);
    const { address: small } = await vm_allocate(client.self, 0, 4 * P, true);
    await vm_write(client.self, small, pattern(4, 3));
    expect(sameBytes(await readBack(client, small, 4 * P), pattern(4, 3))).toBe(true);
  });
});
