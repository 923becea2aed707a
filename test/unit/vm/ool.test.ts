/*
 * Out-of-line memory in messages through the kernel's IPC (ipc_kmsg_set_vm plugged in by
 * the VM): copyin from the sender's map (entry list, with and without dealloc, copy-on-
 * write), copyout into the receiver's map in the three copy formats, the address and
 * bytes the receiver gets, discarding regions of messages never received.
 */

import { describe, expect, it } from 'vitest';
import { vm_allocate, vm_deallocate, vm_read, vm_write } from '../../../src/gen/mach.user.js';
import { mach_port_allocate, mach_port_mod_refs } from '../../../src/gen/mach_port.user.js';
import { ipc_entry_lookup } from '../../../src/ipc/space.js';
import type { IpcPort } from '../../../src/ipc/port.js';
import type { Kernel } from '../../../src/kern/kernel.js';
import { MACH_MSG_SUCCESS, MACH_SEND_INVALID_MEMORY } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG,
  type MachMessage,
} from '../../../src/mach/message.js';
import { msgSize } from '../../../src/mach/mig.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import type { MachTask } from '../../../src/runtime/task.js';
import type { VmLevel } from '../../../src/vm/level.js';
import {
  vm_ool_address, vm_ool_item, vm_ool_object_data, vm_ool_page_list_data, vm_ool_region, vm_ool_send_from_kernel,
} from '../../../src/vm/ool.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { giveSend, kernel, kernelTask, pageOf } from './pager.js';

const P = PAGE_SIZE;

interface Pair {
  k: Kernel;
  a: MachTask;
  b: MachTask;
  /** b's receive right */
  port: number;
  /** a's send right to it */
  dest: number;
}

async function pair(level: VmLevel = 'L2'): Promise<Pair> {
  const k = kernel({ vmLevel: level });
  const a = k.createTask('a');
  const b = k.createTask('b');
  const port = (await mach_port_allocate(b.self, MACH_PORT_RIGHT_RECEIVE)).name;
  return { k, a, b, port, dest: giveSend(k, b, port, a) };
}

async function send(p: Pair, datas: Array<{ data: Uint8Array; dealloc?: boolean }>): Promise<number> {
  const body = datas.map(({ data, dealloc }) => vm_ool_item(data, dealloc ?? false));
  const r = await p.a.mach_msg({
    header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX) >>> 0, size: msgSize(body), remotePort: p.dest, localPort: 0, seqno: 0, id: 4242 },
    body,
  }, MACH_SEND_MSG, 0, 0);
  return typeof r === 'number' ? r : -1;
}

async function receive(p: Pair): Promise<MachMessage> {
  const r = await p.b.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, p.port, 0);
  if (typeof r === 'number') throw new Error(`receive: ${r}`);
  return r;
}

function rows(k: Kernel, t: MachTask): Array<[number, number, boolean]> {
  return kernelTask(k, t).map.entries().map((e) => [e.vme_start, e.vme_end, e.needs_copy]);
}

describe('copyin from the sender\'s map (entry list)', () => {
  it('without dealloc: the sender\'s entry is split in three, the copy is copy-on-write on both sides', async () => {
    const p = await pair();
    await vm_allocate(p.a.self, 0x10000, 3 * P, false);
    await vm_write(p.a.self, 0x10000, pageOf(1, 3));
    expect(await send(p, [{ data: vm_ool_region(0x11000, P) }])).toBe(MACH_MSG_SUCCESS);
    expect(rows(p.k, p.a)).toEqual([[0x10000, 0x11000, false], [0x11000, 0x12000, true], [0x12000, 0x13000, false]]);
    const msg = await receive(p);
    const data = msg.body[0]!.data as Uint8Array;
    expect(vm_ool_address(data)).toBe(0);
    expect(data.length).toBe(P);
    expect(data[100]).toBe(1);
    expect(rows(p.k, p.b)).toEqual([[0, P, true]]);
    // Both sides write their own copy.
    await vm_write(p.a.self, 0x11000, pageOf(2));
    expect((await vm_read(p.b.self, 0, 1)).data[0]).toBe(1);
  });

  it('with dealloc: the range leaves the sender (vm_map_delete) and the object moves to the copy', async () => {
    const p = await pair();
    await vm_allocate(p.a.self, 0x10000, 3 * P, false);
    await vm_write(p.a.self, 0x10000, pageOf(7, 3));
    const object = kernelTask(p.k, p.a).map.entries()[0]!.object!;
    await send(p, [{ data: vm_ool_region(0x10000, 2 * P), dealloc: true }]);
    expect(rows(p.k, p.a)).toEqual([[0x12000, 0x13000, false]]);
    const data = (await receive(p)).body[0]!.data as Uint8Array;
    expect(data[2 * P - 1]).toBe(7);
    const placed = kernelTask(p.k, p.b).map.entries()[0]!;
    expect(placed.object).toBe(object);
    expect(placed.needs_copy).toBe(false);
  });

  it('an unaligned region keeps its offset within the page; a hole or an unreadable page is MACH_SEND_INVALID_MEMORY', async () => {
    const p = await pair();
    await vm_allocate(p.a.self, 0x10000, 2 * P, false);
    await send(p, [{ data: vm_ool_region(0x10010, P) }]);
    const data = (await receive(p)).body[0]!.data as Uint8Array;
    expect(vm_ool_address(data)! % P).toBe(0x10);
    expect(rows(p.k, p.b)).toEqual([[0, 2 * P, false]]);
    expect(await send(p, [{ data: vm_ool_region(0x20000, P) }])).toBe(MACH_SEND_INVALID_MEMORY);
  });

  it('bytes without an address arrive as a new region too', async () => {
    const p = await pair();
    await send(p, [{ data: pageOf(9) }]);
    const data = (await receive(p)).body[0]!.data as Uint8Array;
    expect(data[0]).toBe(9);
    expect(vm_ool_address(data)).toBe(0);
    expect((await vm_read(p.b.self, 0, 1)).data[0]).toBe(9);
  });

  it('entry lists are never merged on arrival, even zero-fill pieces with the same attributes', async () => {
    const p = await pair();
    await vm_allocate(p.a.self, 0x10000, 2 * P, false);
    await vm_allocate(p.a.self, 0x12000, P, false);
    await vm_write(p.a.self, 0x12000, pageOf(3));
    // Two entries: NULL object then an object.
    await vm_allocate(p.b.self, 0, P, false);
    await send(p, [{ data: vm_ool_region(0x10000, 2 * P) }, { data: vm_ool_region(0x11000, 2 * P) }]);
    await receive(p);
    // The first copy lands after b's entry, beside it, unmerged; the second (two pieces) after it.
    expect(kernelTask(p.k, p.b).map.entries().map((e) => [e.vme_start, e.vme_end])).toEqual([[0, P], [P, 3 * P], [3 * P, 4 * P], [4 * P, 5 * P]]);
  });

  it('a message destroyed unreceived gives its regions\' references back', async () => {
    const p = await pair();
    await vm_allocate(p.a.self, 0x10000, P, false);
    await vm_write(p.a.self, 0x10000, pageOf(1));
    const object = kernelTask(p.k, p.a).map.entries()[0]!.object!;
    await send(p, [{ data: vm_ool_region(0x10000, P) }]);
    expect(object.ref_count).toBe(2);
    await mach_port_mod_refs(p.b.self, p.port, MACH_PORT_RIGHT_RECEIVE, -1);
    expect(object.ref_count).toBe(1);
  });
});

function portOf(k: Kernel, t: MachTask, name: number): IpcPort {
  return ipc_entry_lookup(kernelTask(k, t).itk_space, name)!.ie_object as IpcPort;
}

describe('copyout of kernel-made data: object copies (E rules) and page lists (rule K)', () => {
  it('an object copy goes through vm_map_enter: at L2 it extends the zero-fill entry after its gap (E2)', async () => {
    for (const level of ['L0', 'L2'] as const) {
      const p = await pair(level);
      await vm_allocate(p.b.self, 0, P, false);
      await vm_allocate(p.b.self, 2 * P, P, false);
      vm_ool_send_from_kernel(portOf(p.k, p.b, p.port), 77, [vm_ool_object_data(p.k.vm, pageOf(5))]);
      const data = (await receive(p)).body[0]!.data as Uint8Array;
      expect(vm_ool_address(data)).toBe(P);
      expect(data[0]).toBe(5);
      const entries = kernelTask(p.k, p.b).map.entries().map((e) => [e.vme_start, e.vme_end, e.object === null ? null : e.offset]);
      if (level === 'L0') expect(entries).toEqual([[0, P, null], [P, 2 * P, 0], [2 * P, 3 * P, null]]);
      else expect(entries).toEqual([[0, P, null], [P, 3 * P, 0]]);
    }
  });

  it('a page list extends the entry before it backward (rule K), giving a zero-fill entry an object', async () => {
    const p = await pair();
    await vm_allocate(p.b.self, 0, P, false);
    vm_ool_send_from_kernel(portOf(p.k, p.b, p.port), 78, [vm_ool_page_list_data(pageOf(6, 2))]);
    const data = (await receive(p)).body[0]!.data as Uint8Array;
    expect(vm_ool_address(data)).toBe(P);
    const entries = kernelTask(p.k, p.b).map.entries();
    expect(entries.map((e) => [e.vme_start, e.vme_end, e.offset])).toEqual([[0, 3 * P, 0]]);
    expect([...entries[0]!.object!.memq.keys()].sort()).toEqual([P, 2 * P]);
    expect((await vm_read(p.b.self, 2 * P, 1)).data[0]).toBe(6);
    await vm_deallocate(p.b.self, 0, 3 * P);
  });
});
