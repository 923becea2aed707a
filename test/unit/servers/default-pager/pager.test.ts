/*
 * The default pager on an embedded kernel with a resident-page limit: anonymous memory
 * several times the limit goes to the swap file and comes back intact; the free-space
 * map is empty again once the objects terminate; default_pager_info and _objects answer
 * on the default memory manager port; objects made with default_pager_object_create keep
 * their pages between mappings and go at no-senders.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { default_pager_info, default_pager_object_create, default_pager_objects } from '../../../../src/gen/default_pager.user.js';
import { vm_allocate, vm_deallocate, vm_map, vm_read, vm_set_default_memory_manager, vm_write } from '../../../../src/gen/mach.user.js';
import { mach_port_deallocate } from '../../../../src/gen/mach_port.user.js';
import { createKernel, type Kernel } from '../../../../src/kern/kernel.js';
import type { MachTask } from '../../../../src/runtime/task.js';
import { DefaultPager, from_u64 } from '../../../../src/servers/default-pager/pager.js';
import { SwapFile } from '../../../../src/servers/default-pager/swap.js';
import { vm_ool_address } from '../../../../src/vm/ool.js';
import { PAGE_SIZE } from '../../../../src/vm/vm_param.js';

const P = PAGE_SIZE;
const dir = mkdtempSync(join(tmpdir(), 'tsmach-dp-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface World { k: Kernel; pager: DefaultPager; swap: SwapFile; admin: MachTask }
const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) {
    w.pager.halt();
    w.k.shutdown();
    w.swap.close();
  }
});

async function world(memoryPages: number, swapPages = 1024): Promise<World> {
  const k = createKernel({ memoryPages });
  const swap = new SwapFile({ path: join(dir, `swap-${worlds.length}-${Date.now()}`), pages: swapPages, removeOnClose: true });
  const pager = await DefaultPager.start(k.createTask('default-pager', { privileged: true }), swap);
  const admin = k.createTask('admin', { privileged: true });
  const w = { k, pager, swap, admin };
  worlds.push(w);
  return w;
}

/** Page i of a pattern: every 32-bit word holds (seed << 20 | i << 10 | word index & 0x3ff). */
function pattern(pages: number, seed: number): Uint8Array {
  const out = new Uint8Array(pages * P);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pages; i++) for (let w = 0; w < P / 4; w++) v.setUint32(i * P + w * 4, ((seed << 20) | (i << 10) | (w & 0x3ff)) >>> 0, true);
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The default memory manager port, as a privileged task gets it. */
async function dmmOf(t: MachTask) {
  const { default_manager } = await vm_set_default_memory_manager(t.hostPriv!, null);
  return default_manager!;
}

async function info(t: MachTask): Promise<{ total: number; free: number; pageSize: number }> {
  const dmm = await dmmOf(t);
  const { info: i } = await default_pager_info(dmm);
  await mach_port_deallocate(t.self, dmm.name);
  return { total: from_u64(i[0]!, i[1]!), free: from_u64(i[2]!, i[3]!), pageSize: from_u64(i[4]!, i[5]!) };
}

/** Until the pager has heard everything the kernel sent (nothing new for a few ms). */
async function settled(pager: DefaultPager): Promise<void> {
  let last = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 5));
    await pager.quiet();
    const now = JSON.stringify(pager.stats);
    if (now === last) return;
    last = now;
  }
}

async function readBack(t: MachTask, address: number, size: number): Promise<Uint8Array> {
  const { data } = await vm_read(t.self, address, size);
  const copy = data.slice();
  await vm_deallocate(t.self, vm_ool_address(data)!, data.length);
  return copy;
}

describe('the default pager', () => {
  it('anonymous memory 8x the resident limit goes to swap and comes back intact; the swap empties at terminate', async () => {
    const { k, pager, swap, admin } = await world(32);
    const t = k.createTask('client');
    const pages = 256;
    const { address } = await vm_allocate(t.self, 0, pages * P, true);
    const data = pattern(pages, 1);
    // written in chunks, as a program would touch its memory
    for (let at = 0; at < pages; at += 16) await vm_write(t.self, address + at * P, data.subarray(at * P, (at + 16) * P));
    expect(k.vm.resident_max).toBeLessThanOrEqual(32 + 16 + 2);
    await settled(pager);
    expect(pager.stats.creates).toBeGreaterThanOrEqual(1);
    expect(swap.map.inUse).toBeGreaterThanOrEqual(pages - 32);
    const i = await info(admin);
    expect(i).toEqual({ total: 1024 * P, free: (1024 - swap.map.inUse) * P, pageSize: P });
    // read back in pieces (each vm_read's region must fit under the limit too)
    for (let at = 0; at < pages; at += 16) {
      const got = await readBack(t, address + at * P, 16 * P);
      expect(firstDifference(got, data.subarray(at * P, (at + 16) * P)), `pages ${at}..${at + 15}`).toBe(-1);
    }
    expect(pager.stats.pagesSupplied).toBeGreaterThanOrEqual(pages - 32);
    // rewritten and read again: the slots are reused, not grown
    const used = swap.map.inUse;
    const data2 = pattern(pages, 2);
    for (let at = 0; at < pages; at += 16) await vm_write(t.self, address + at * P, data2.subarray(at * P, (at + 16) * P));
    for (let at = 0; at < pages; at += 32) {
      const got = await readBack(t, address + at * P, 32 * P);
      expect(firstDifference(got, data2.subarray(at * P, (at + 32) * P)), `pages ${at}..`).toBe(-1);
    }
    await settled(pager);
    expect(swap.map.inUse).toBeLessThanOrEqual(pages);
    expect(swap.map.inUse).toBeGreaterThanOrEqual(used);
    await vm_deallocate(t.self, address, pages * P);
    await settled(pager);
    expect(pager.stats.terminates).toBeGreaterThanOrEqual(1);
    expect(swap.map.inUse).toBe(0);
    expect(pager.objects.size).toBe(0);
    expect((await info(admin)).free).toBe(1024 * P);
  });

  it('after the default pager dies, memory over the limit stays resident: nothing is paged out into nothing', async () => {
    const { k, pager } = await world(8);
    const t = k.createTask('client');
    const pages = 32;
    const { address } = await vm_allocate(t.self, 0, pages * P, true);
    pager.task.terminate();
    await new Promise((r) => setTimeout(r, 5));
    const data = pattern(pages, 3);
    for (let at = 0; at < pages; at += 4) await vm_write(t.self, address + at * P, data.subarray(at * P, (at + 4) * P));
    for (let at = 0; at < pages; at += 4) {
      const got = await readBack(t, address + at * P, 4 * P);
      expect(firstDifference(got, data.subarray(at * P, (at + 4) * P)), `pages ${at}..${at + 3}`).toBe(-1);
    }
    expect(k.vm.resident).toBeGreaterThan(8);
  });

  it('several tasks and objects at once, then the tasks end: every slot is free again', async () => {
    const { k, pager, swap } = await world(24);
    const tasks = ['a', 'b', 'c'].map((n) => k.createTask(n));
    const regions: Array<{ t: MachTask; address: number; data: Uint8Array }> = [];
    for (const [n, t] of tasks.entries()) {
      for (let r = 0; r < 2; r++) {
        const { address } = await vm_allocate(t.self, 0, 40 * P, true);
        const data = pattern(40, 10 * n + r);
        await vm_write(t.self, address, data.subarray(0, 20 * P));
        await vm_write(t.self, address + 20 * P, data.subarray(20 * P));
        regions.push({ t, address, data });
      }
    }
    for (const { t, address, data } of regions) {
      for (let at = 0; at < 40; at += 20) expect(firstDifference(await readBack(t, address + at * P, 20 * P), data.subarray(at * P, (at + 20) * P))).toBe(-1);
    }
    await settled(pager);
    expect(pager.objects.size).toBeGreaterThanOrEqual(2);
    for (const t of tasks) t.terminate();
    await settled(pager);
    expect(swap.map.inUse).toBe(0);
    expect(pager.objects.size).toBe(0);
  });

  it('default_pager_objects lists each object with the name port vm_region reports', async () => {
    const { k, pager, admin } = await world(8);
    const t = k.createTask('client');
    const { address } = await vm_allocate(t.self, 0, 32 * P, true);
    await vm_write(t.self, address, pattern(32, 3));
    await settled(pager);
    const dmm = await dmmOf(admin);
    const { objects, ports } = await default_pager_objects(dmm, 128, 128);
    expect(ports).toHaveLength(1);
    expect(objects).toHaveLength(4);
    expect(from_u64(objects[2]!, objects[3]!)).toBe(pager.swap.map.inUse * P);
    expect(ports[0]).not.toBeNull();
    await mach_port_deallocate(admin.self, ports[0]!.name);
    await mach_port_deallocate(admin.self, dmm.name);
  });

  it('a full swap file keeps pages in the pager\'s memory: nothing is lost', async () => {
    const { k, pager, swap } = await world(8, 16);
    const t = k.createTask('client');
    const { address } = await vm_allocate(t.self, 0, 48 * P, true);
    const data = pattern(48, 4);
    for (let at = 0; at < 48; at += 8) await vm_write(t.self, address + at * P, data.subarray(at * P, (at + 8) * P));
    for (let at = 0; at < 48; at += 8) expect(firstDifference(await readBack(t, address + at * P, 8 * P), data.subarray(at * P, (at + 8) * P))).toBe(-1);
    await settled(pager);
    expect(swap.map.free).toBe(0);
    expect(pager.stats.overflowPages).toBeGreaterThan(0);
    await vm_deallocate(t.self, address, 48 * P);
    await settled(pager);
    expect(swap.map.inUse).toBe(0);
  });

  it('default_pager_object_create: a zero-filled object to vm_map, whose pages outlive a mapping, freed at no-senders', async () => {
    const { k, pager, swap, admin } = await world(4);
    const dmm = await dmmOf(admin);
    const { memory_object } = await default_pager_object_create(dmm, 16 * P);
    const mo = memory_object!;
    const map = async (): Promise<number> => (await vm_map(admin.self, 0, 16 * P, 0, true, mo, 0, false, 3, 7, 1)).address;
    let a = await map();
    expect(firstDifference(await readBack(admin, a, 4 * P), new Uint8Array(4 * P))).toBe(-1);
    const data = pattern(16, 5);
    for (let at = 0; at < 16; at += 2) await vm_write(admin.self, a + at * P, data.subarray(at * P, (at + 2) * P));
    await vm_deallocate(admin.self, a, 16 * P);
    await settled(pager);
    expect(pager.stats.inits).toBe(1);
    expect(swap.map.inUse).toBe(16);
    a = await map();
    for (let at = 0; at < 16; at += 2) expect(firstDifference(await readBack(admin, a + at * P, 2 * P), data.subarray(at * P, (at + 2) * P))).toBe(-1);
    await vm_deallocate(admin.self, a, 16 * P);
    await mach_port_deallocate(admin.self, mo.name);
    await mach_port_deallocate(admin.self, dmm.name);
    await settled(pager);
    expect(pager.objects.size).toBe(0);
    expect(swap.map.inUse).toBe(0);
  });
});
