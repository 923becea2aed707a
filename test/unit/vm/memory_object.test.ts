/*
 * The external memory management interface: the kernel's calls to a pager (user stubs of
 * memory_object.defs run on the kernel's KernelMsg) and the pager's answers on the control
 * port (mach.defs, served by the kernel's mach demux), with a test pager task.
 */

import { describe, expect, it } from 'vitest';
import {
  memory_object_lock_request, vm_deallocate, vm_map, vm_read, vm_region, vm_write,
} from '../../../src/gen/mach.user.js';
import { mach_port_deallocate } from '../../../src/gen/mach_port.user.js';
import { KERN_MEMORY_ERROR, MachError } from '../../../src/mach/kern_return.js';
import {
  MEMORY_OBJECT_COPY_DELAY, MEMORY_OBJECT_COPY_NONE, MEMORY_OBJECT_RETURN_DIRTY,
} from '../../../src/vm/memory_object.js';
import { vm_ool_address } from '../../../src/vm/ool.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { VM_PROT_WRITE } from '../../../src/vm/vm_prot.js';
import { giveSend, kernel, kernelTask, pageOf, TestPager } from './pager.js';
import { mach_port_allocate } from '../../../src/gen/mach_port.user.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import { MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG } from '../../../src/mach/message.js';
import { msgSize } from '../../../src/mach/mig.js';
import { vm_ool_item, vm_ool_region, type VmOolData } from '../../../src/vm/ool.js';
import type { Kernel } from '../../../src/kern/kernel.js';
import type { MachTask } from '../../../src/runtime/task.js';

const P = PAGE_SIZE;
const RW = 3;
const RWX = 7;
const COPY = 1;

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof MachError) return e.code;
    throw e;
  }
}

/** A client task with `pager`'s new object mapped at `at` (size pages), copy or not. */
async function mapped(k: Kernel, pager: TestPager, at: number, pages: number, copy = false, client?: MachTask): Promise<{ t: MachTask; mo: number; object: number }> {
  const t = client ?? k.createTask('client');
  const object = await pager.newObject();
  const mo = giveSend(k, pager.task, object, t);
  await vm_map(t.self, at, pages * P, 0, false, t.port(mo), 0, copy, RW, RWX, COPY);
  return { t, mo, object };
}

const pattern = (offset: number): Uint8Array => pageOf(0x40 + offset / P);

describe('faults ask the pager', () => {
  it('vm_map sends memory_object_init; a read asks memory_object_data_request and gets the supplied bytes', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t } = await mapped(k, pager, 0x10000, 2);
    await pager.heard(/^init 4096$/);
    const { data } = await vm_read(t.self, 0x10000, 2 * P);
    expect(data[0]).toBe(0x40);
    expect(data[P]).toBe(0x41);
    expect(pager.log.filter((l) => l.startsWith('request'))).toEqual(['request 0x0 4096 1', 'request 0x1000 4096 1']);
    // Pages now resident: a second read does not ask again.
    await vm_read(t.self, 0x10000, 2 * P);
    expect(pager.log.filter((l) => l.startsWith('request'))).toHaveLength(2);
  });

  it('a read that starts inside a page, over pages not yet resident, gets every byte (each from its own page)', async () => {
    const k = kernel();
    const bytesAt = (offset: number): Uint8Array => Uint8Array.from({ length: P }, (_, i) => ((offset + i) * 7 + ((offset + i) >> 12)) % 251);
    const pager = await TestPager.start(k, { fill: bytesAt });
    const { t } = await mapped(k, pager, 0x10000, 8);
    const start = 3136;
    const length = 29632; // ends 960 bytes before the end of the eighth page
    const { data } = await vm_read(t.self, 0x10000 + start, length);
    const whole = new Uint8Array(8 * P);
    for (let p = 0; p < 8; p++) whole.set(bytesAt(p * P), p * P);
    expect(Buffer.from(data).equals(Buffer.from(whole.subarray(start, start + length)))).toBe(true);
    expect(pager.log.filter((l) => l.startsWith('request'))).toHaveLength(8);
  });

  it('memory_object_data_unavailable gives zeros; memory_object_data_error gives KERN_MEMORY_ERROR', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { mode: 'unavailable', fill: pattern });
    const { t } = await mapped(k, pager, 0x10000, 2);
    expect([...(await vm_read(t.self, 0x10000, P)).data].every((b) => b === 0)).toBe(true);
    pager.mode = 'error';
    expect(await code(vm_read(t.self, 0x11000, P))).toBe(KERN_MEMORY_ERROR);
    // The error page was freed: the next fault asks again.
    pager.mode = 'supply';
    expect((await vm_read(t.self, 0x11000, 1)).data[0]).toBe(0x41);
  });

  it('a pager that never answers makes the fault fail with KERN_MEMORY_ERROR after the timeout', async () => {
    const k = kernel({ pagerTimeout: 50 });
    const pager = await TestPager.start(k, { mode: 'silent' });
    const { t } = await mapped(k, pager, 0x10000, 1);
    const started = Date.now();
    expect(await code(vm_read(t.self, 0x10000, P))).toBe(KERN_MEMORY_ERROR);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    pager.mode = 'supply';
    expect(await code(vm_read(t.self, 0x10000, P))).toBe(0);
  });

  it('a pager that never says memory_object_ready: faults fail after the timeout, never hang', async () => {
    const k = kernel({ pagerTimeout: 40 });
    const pager = await TestPager.start(k, { neverReady: true });
    const { t } = await mapped(k, pager, 0x10000, 1);
    expect(await code(vm_read(t.self, 0x10000, P))).toBe(KERN_MEMORY_ERROR);
    const object = await pager.newObject();
    const mo = giveSend(k, pager.task, object, t);
    expect(await code(vm_map(t.self, 0x20000, P, 0, false, t.port(mo), 0, true, RW, RWX, COPY))).toBe(KERN_MEMORY_ERROR);
  });

  it('a pager that dies fails its pending faults at once (vm_object_destroy)', async () => {
    const k = kernel({ pagerTimeout: 10_000 });
    const pager = await TestPager.start(k, { mode: 'silent' });
    const { t } = await mapped(k, pager, 0x10000, 1);
    const started = Date.now();
    const read = code(vm_read(t.self, 0x10000, P));
    await pager.heard(/^request/);
    pager.task.terminate();
    expect(await read).toBe(KERN_MEMORY_ERROR);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await code(vm_read(t.self, 0x10000, P))).toBe(KERN_MEMORY_ERROR);
  });
});

describe('writing pager-backed memory', () => {
  it('vm_write writes through faults; unmapping returns the dirty pages, then memory_object_terminate', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t, object } = await mapped(k, pager, 0x10000, 2);
    await vm_write(t.self, 0x11000, pageOf(0x99));
    // vm_fault_copy faults the destination page for VM_PROT_WRITE alone.
    expect(pager.log.filter((l) => l.startsWith('request'))).toEqual([`request 0x1000 4096 ${VM_PROT_WRITE}`]);
    const read = await vm_read(t.self, 0x11000, 1);
    expect(read.data[0]).toBe(0x99);
    // The region vm_read placed holds a delayed copy of the file: it must go too.
    await vm_deallocate(t.self, vm_ool_address(read.data)!, 1);
    await vm_deallocate(t.self, 0x10000, 2 * P);
    await pager.heard(/^terminate$/);
    const returned = pager.log.filter((l) => l.startsWith('return'));
    expect(returned).toEqual(['return 0x1000 dirty']);
    expect(pager.objects.get(object)!.store.get(P)![0]).toBe(0x99);
    expect(pager.log.indexOf('terminate')).toBeGreaterThan(pager.log.indexOf('return 0x1000 dirty'));
  });

  it('a page the pager locks against writing is unlocked on demand (memory_object_data_unlock)', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t, object } = await mapped(k, pager, 0x10000, 1);
    await vm_read(t.self, 0x10000, 1); // resident, unlocked
    const control = pager.objects.get(object)!.control!;
    // Lock it against writing (and return nothing).
    await memory_object_lock_request(control, 0, P, 0, false, VM_PROT_WRITE, null);
    await new Promise((r) => setTimeout(r, 5));
    await vm_write(t.self, 0x10000, pageOf(0x55));
    expect(pager.log.some((l) => l === `unlock 0x0 ${VM_PROT_WRITE}`)).toBe(true);
    expect((await vm_read(t.self, 0x10000, 1)).data[0]).toBe(0x55);
  });

  it('memory_object_lock_request with flush returns dirty pages and answers memory_object_lock_completed', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t, object } = await mapped(k, pager, 0x10000, 2);
    await vm_write(t.self, 0x10000, pageOf(0x11, 2));
    const control = pager.objects.get(object)!.control!;
    await memory_object_lock_request(control, 0, 2 * P, MEMORY_OBJECT_RETURN_DIRTY, true, 0, pager.task.port(object));
    await pager.heard(/^lock_completed 0x0 8192$/);
    expect(pager.log.filter((l) => l.startsWith('return'))).toEqual(['return 0x0 dirty', 'return 0x1000 dirty']);
    expect(kernelTask(k, t).map.entries()[0]!.object!.resident_page_count).toBe(0);
    // Flushed: reading asks the pager, which now has the written bytes.
    expect((await vm_read(t.self, 0x11000, 1)).data[0]).toBe(0x11);
  });
});

describe('copies of pager-backed memory', () => {
  it('vm_map copy with COPY_DELAY maps a delayed copy: writes to the file are pushed out of the copy\'s way', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern, strategy: MEMORY_OBJECT_COPY_DELAY });
    const { t, mo } = await mapped(k, pager, 0x10000, 1);
    await pager.heard(/^init/);
    await vm_map(t.self, 0x20000, P, 0, false, t.port(mo), 0, true, RW, RWX, COPY);
    const map = kernelTask(k, t).map;
    const copyEntry = map.entries().find((e) => e.vme_start === 0x20000)!;
    expect(copyEntry.needs_copy).toBe(true);
    expect(copyEntry.object!.shadow).toBe(map.entries()[0]!.object);
    await vm_write(t.self, 0x10000, pageOf(0x77));
    expect((await vm_read(t.self, 0x20000, 1)).data[0]).toBe(0x40);
    expect((await vm_read(t.self, 0x10000, 1)).data[0]).toBe(0x77);
  });

  it('vm_map copy with COPY_NONE copies slowly through the pager into a private object', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern, strategy: MEMORY_OBJECT_COPY_NONE });
    const t = k.createTask('client');
    const object = await pager.newObject();
    const mo = giveSend(k, pager.task, object, t);
    await vm_map(t.self, 0x10000, 2 * P, 0, false, t.port(mo), P, true, RW, RWX, COPY);
    const entry = kernelTask(k, t).map.entries()[0]!;
    expect(entry.needs_copy).toBe(false);
    expect(entry.offset).toBe(0);
    expect(entry.object!.internal).toBe(true);
    expect((await vm_read(t.self, 0x10000, 2 * P)).data[P]).toBe(0x42);
  });

  it('vm_region names the object by its name port, never the pager port; two mappings, one name', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t, mo } = await mapped(k, pager, 0x10000, 1);
    await vm_map(t.self, 0x20000, P, 0, false, t.port(mo), 0, false, 1, RWX, COPY);
    const a = await vm_region(t.self, 0x10000);
    const b = await vm_region(t.self, 0x20000);
    expect(a.object_name!.name).toBe(b.object_name!.name);
    expect(a.object_name!.name).not.toBe(mo);
    await mach_port_deallocate(t.self, a.object_name!.name);
    await mach_port_deallocate(t.self, b.object_name!.name);
  });

  it('OOL data a pager returns lands in the pager\'s map as an object copy, which it deallocates', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t } = await mapped(k, pager, 0x10000, 1);
    await vm_write(t.self, 0x10000, pageOf(1));
    await vm_deallocate(t.self, 0x10000, P);
    await pager.heard(/^terminate$/);
    const pmap = kernelTask(k, pager.task).map;
    expect(pmap.nentries).toBe(0);
    void vm_ool_address;
  });

  it('a region sent out of line before its pages were paged in arrives with them listed as missing; vm_read brings them', async () => {
    const k = kernel();
    const pager = await TestPager.start(k, { fill: pattern });
    const { t } = await mapped(k, pager, 0x10000, 2);
    await pager.heard(/^init/);
    await vm_read(t.self, 0x11000, 1).then((r) => vm_deallocate(t.self, vm_ool_address(r.data)!, 1)); // page 1 resident
    const b = k.createTask('b');
    const port = (await mach_port_allocate(b.self, MACH_PORT_RIGHT_RECEIVE)).name;
    const dest = giveSend(k, b, port, t);
    const body = [vm_ool_item(vm_ool_region(0x10000, 2 * P))];
    await t.mach_msg({ header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX) >>> 0, size: msgSize(body), remotePort: dest, localPort: 0, seqno: 0, id: 1 }, body }, MACH_SEND_MSG, 0, 0);
    const msg = await b.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, port, 0);
    if (typeof msg === 'number') throw new Error(String(msg));
    const data = msg.body[0]!.data as VmOolData;
    expect(data.missing).toEqual([0]);
    expect(data[0]).toBe(0);
    expect(data[P]).toBe(0x41);
    expect((await vm_read(b.self, data.address!, 1)).data[0]).toBe(0x40);
  });
});
