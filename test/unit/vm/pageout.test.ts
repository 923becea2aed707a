/*
 * Pageout under a resident-page limit (createKernel({ memoryPages })): clean pages are
 * freed, dirty pages of external objects go back to their pager (memory_object_data_return),
 * internal objects go to the default memory manager (memory_object_create, then
 * data_return; paged in again with data_request). Bytes survive every round trip.
 */

import { describe, expect, it } from 'vitest';
import { vm_allocate, vm_deallocate, vm_map, vm_read, vm_statistics, vm_write } from '../../../src/gen/mach.user.js';
import { vm_ool_address } from '../../../src/vm/ool.js';
import { VmSystem } from '../../../src/vm/vm_system.js';
import { VmPage } from '../../../src/vm/page.js';
import { vm_object_allocate } from '../../../src/vm/object.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { giveSend, kernel, kernelTask, TestPager } from './pager.js';

const P = PAGE_SIZE;

/** n pages, page i filled with (seed + i). */
function pages(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * P);
  for (let i = 0; i < n; i++) out.fill((seed + i) & 0xff, i * P, (i + 1) * P);
  return out;
}

describe('the page queue', () => {
  it('counts pages, keeps them in LRU order, and drops them when freed', () => {
    const sys = new VmSystem({ memory_pages: 10 });
    const object = vm_object_allocate(3 * P);
    const ps = [0, 1, 2].map((i) => {
      const p = new VmPage(object, i * P);
      object.memq.set(i * P, p);
      sys.vm_page_enqueue(p);
      return p;
    });
    expect(sys.resident).toBe(3);
    sys.vm_page_activate(ps[0]!);
    expect([...sys.pages()].map((p) => p.offset)).toEqual([P, 2 * P, 0]);
    sys.vm_page_dequeue(ps[1]!);
    expect(sys.resident).toBe(2);
    expect(sys.free_count).toBe(8);
  });
});

describe('internal objects and the default memory manager', () => {
  it('without a default memory manager, dirty anonymous pages stay (GNU Mach cannot page them out)', async () => {
    const k = kernel({ memoryPages: 4 });
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, 8 * P, false);
    await vm_write(t.self, 0x10000, pages(8, 1));
    expect(k.vm.resident).toBe(8);
  });

  it('with one, pages beyond the limit go to it and come back with the same bytes', async () => {
    const k = kernel({ memoryPages: 4 });
    const dmm = await TestPager.start(k, {}, 'default-pager');
    await dmm.becomeDefault();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, 12 * P, false);
    await vm_write(t.self, 0x10000, pages(12, 1));
    expect(k.vm.resident).toBeLessThanOrEqual(4);
    await dmm.heard(/^create 49152 4096$/);
    await dmm.heard(/^return 0x7000 dirty$/);
    const { data } = await vm_read(t.self, 0x10000, 12 * P);
    for (let i = 0; i < 12; i++) expect(data[i * P + 5], `page ${i}`).toBe(1 + i);
    expect(dmm.log.some((l) => l.startsWith('request'))).toBe(true);
    await vm_deallocate(t.self, vm_ool_address(data)!, data.length);
    expect(k.vm.resident).toBeLessThanOrEqual(4);
    const object = kernelTask(k, t).map.entries()[0]!.object!;
    expect(object.pager_created).toBe(true);
    const { vm_stats } = await vm_statistics(t.self);
    expect(vm_stats[8]).toBeGreaterThan(0); // pageouts
    expect(vm_stats[7]).toBeGreaterThan(0); // pageins
  });

  it('a paged-out object is no longer coalesced with its neighbours (pager_created)', async () => {
    const k = kernel({ memoryPages: 1 });
    const dmm = await TestPager.start(k, {}, 'default-pager');
    await dmm.becomeDefault();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, 2 * P, false);
    await vm_write(t.self, 0x10000, pages(2, 1));
    await vm_allocate(t.self, 0x12000, P, false);
    expect(kernelTask(k, t).map.nentries).toBe(2);
  });
});

describe('external objects', () => {
  it('dirty pages go back to their pager; clean ones are just freed; reading them back asks the pager', async () => {
    const k = kernel({ memoryPages: 3 });
    const pager = await TestPager.start(k);
    const t = k.createTask('a');
    const object = await pager.newObject();
    const mo = giveSend(k, pager.task, object, t);
    await vm_map(t.self, 0x10000, 8 * P, 0, false, t.port(mo), 0, false, 3, 7, 1);
    await vm_write(t.self, 0x10000, pages(8, 0x20));
    expect(k.vm.resident).toBeLessThanOrEqual(3);
    await pager.heard(/^return 0x4000 dirty$/);
    expect(pager.log.filter((l) => l.startsWith('return')).length).toBeGreaterThanOrEqual(5);
    const { data } = await vm_read(t.self, 0x10000, 8 * P);
    for (let i = 0; i < 8; i++) expect(data[i * P], `page ${i}`).toBe(0x20 + i);
    await vm_deallocate(t.self, vm_ool_address(data)!, data.length);
    expect(k.vm.resident).toBeLessThanOrEqual(3);
    // Each written page went back once; the clean pages read back in were just freed.
    await vm_deallocate(t.self, 0x10000, 8 * P);
    await pager.heard(/^terminate$/);
    const returned = pager.log.filter((l) => l.startsWith('return'));
    expect(new Set(returned).size).toBe(8);
    expect(returned).toHaveLength(8);
  });
});
