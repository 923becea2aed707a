/*
 * The VM calls of mach.defs served by the kernel through the generated demux, called
 * through the generated user stubs on embedded tasks: argument handling and errors,
 * bytes through vm_read / vm_write / vm_copy, vm_region's name ports, vm_statistics,
 * task_create with inheritance, task_terminate.
 */

import { describe, expect, it } from 'vitest';
import {
  task_create, task_terminate, vm_allocate, vm_copy, vm_deallocate, vm_inherit, vm_map, vm_protect, vm_read, vm_region,
  vm_set_default_memory_manager, vm_statistics, vm_write,
} from '../../../src/gen/mach.user.js';
import { mach_port_allocate, mach_port_deallocate, mach_port_type } from '../../../src/gen/mach_port.user.js';
import { KERN_INVALID_HOST } from '../../../src/mach/kern_return.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import {
  KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, KERN_INVALID_TASK, KERN_NO_SPACE, KERN_PROTECTION_FAILURE, MACH_SEND_INVALID_DEST, MachError,
} from '../../../src/mach/kern_return.js';
import { MACH_PORT_TYPE_SEND } from '../../../src/mach/port.js';
import { vm_ool_address } from '../../../src/vm/ool.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { VM_INHERIT_COPY, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_READ } from '../../../src/vm/vm_prot.js';
import { kernel, kernelTask, pageOf } from './pager.js';

const P = PAGE_SIZE;

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof MachError) return e.code;
    throw e;
  }
}

describe('vm_allocate, vm_deallocate, vm_protect, vm_inherit through the stubs', () => {
  it('allocate anywhere and fixed, with GNU Mach errors', async () => {
    const k = kernel();
    const t = k.createTask('a');
    expect(await vm_allocate(t.self, 0, 2 * P, true)).toEqual({ address: 0 });
    expect(await vm_allocate(t.self, 0x10800, P, false)).toEqual({ address: 0x10000 });
    expect(await code(vm_allocate(t.self, 0x10000, P, false))).toBe(KERN_NO_SPACE);
    expect(await code(vm_allocate(t.self, 0xfffff000, 2 * P, false))).toBe(KERN_INVALID_ADDRESS);
    expect(await vm_allocate(t.self, 0x5000, 0, false)).toEqual({ address: 0 });
    const map = kernelTask(k, t).map;
    expect(map.entries().map((e) => [e.vme_start, e.vme_end])).toEqual([[0, 0x2000], [0x10000, 0x11000]]);
    await vm_protect(t.self, 0x10000, P, false, VM_PROT_READ);
    expect(await code(vm_protect(t.self, 0x10000, P, false, 0x20))).toBe(KERN_INVALID_ARGUMENT);
    await vm_inherit(t.self, 0, P, VM_INHERIT_NONE);
    expect(await code(vm_inherit(t.self, 0, P, 7))).toBe(KERN_INVALID_ARGUMENT);
    await vm_deallocate(t.self, 0, 0x20000);
    expect(map.nentries).toBe(0);
  });

  it('a port that is not a task port is VM_MAP_NULL (KERN_INVALID_ARGUMENT); task_create wants KERN_INVALID_TASK', async () => {
    const k = kernel();
    const t = k.createTask('a');
    expect(await code(vm_allocate(t.host, 0, P, true))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(vm_deallocate(t.host, 0, P))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(vm_read(t.host, 0, P))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(task_create(t.host, false))).toBe(KERN_INVALID_TASK);
  });

  it('an address beyond the map\'s vm_offset_t is KERN_INVALID_ARGUMENT, not a kernel crash', async () => {
    const k = kernel();
    const t = k.createTask('a');
    expect(await code(vm_allocate(t.self, 2 ** 40, P, false))).toBe(KERN_INVALID_ARGUMENT);
  });
});

describe('bytes: vm_write, vm_read, vm_copy', () => {
  it('vm_write then vm_read gives the bytes back; the read region lands in the caller\'s map until deallocated', async () => {
    const k = kernel();
    const t = k.createTask('a');
    const { address } = await vm_allocate(t.self, 0, 4 * P, true);
    await vm_write(t.self, address + P, pageOf(7, 2));
    const { data } = await vm_read(t.self, address + P + 10, 100);
    expect(data.length).toBe(100);
    expect([...data].every((b) => b === 7)).toBe(true);
    const at = vm_ool_address(data)!;
    expect(at % P).toBe(10);
    const map = kernelTask(k, t).map;
    const placed = map.entries().find((e) => e.vme_start === at - 10)!;
    expect(placed.vme_end - placed.vme_start).toBe(P);
    await vm_deallocate(t.self, at, 100);
    expect(map.entries().some((e) => e.vme_start === at - 10)).toBe(false);
    const zero = await vm_read(t.self, address, P);
    expect([...zero.data].every((b) => b === 0)).toBe(true);
  });

  it('vm_write wants a page-aligned address and whole pages (GNU Mach vm_map_copy_overwrite)', async () => {
    const k = kernel();
    const t = k.createTask('a');
    const { address } = await vm_allocate(t.self, 0, 2 * P, true);
    expect(await code(vm_write(t.self, address + 8, pageOf(1)))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(vm_write(t.self, address, new Uint8Array(100)))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(vm_write(t.self, 0x400000, pageOf(1)))).toBe(KERN_INVALID_ADDRESS);
    await vm_protect(t.self, address, P, false, VM_PROT_READ);
    expect(await code(vm_write(t.self, address, pageOf(1)))).toBe(KERN_PROTECTION_FAILURE);
  });

  it('vm_read of a hole or an unreadable page fails as vm_map_copyin does', async () => {
    const k = kernel();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, P, false);
    expect(await code(vm_read(t.self, 0x20000, P))).toBe(KERN_INVALID_ADDRESS);
    expect(await code(vm_read(t.self, 0x10000, 2 * P))).toBe(KERN_INVALID_ADDRESS);
    await vm_protect(t.self, 0x10000, P, false, 0);
    expect(await code(vm_read(t.self, 0x10000, P))).toBe(KERN_PROTECTION_FAILURE);
  });

  it('vm_read makes the source copy-on-write: later writes do not change what was read', async () => {
    const k = kernel();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, P, false);
    await vm_write(t.self, 0x10000, pageOf(1));
    const first = await vm_read(t.self, 0x10000, P);
    await vm_write(t.self, 0x10000, pageOf(2));
    const again = await vm_read(t.self, vm_ool_address(first.data)!, P);
    expect(again.data[0]).toBe(1);
    expect((await vm_read(t.self, 0x10000, P)).data[0]).toBe(2);
  });

  it('vm_copy copies within the map; the destination takes the source object copy-on-write', async () => {
    const k = kernel();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, 4 * P, false);
    await vm_write(t.self, 0x10000, pageOf(9));
    await vm_copy(t.self, 0x10000, P, 0x12000);
    expect((await vm_read(t.self, 0x12000, 1)).data[0]).toBe(9);
    await vm_write(t.self, 0x12000, pageOf(3));
    expect((await vm_read(t.self, 0x10000, 1)).data[0]).toBe(9);
    expect(await code(vm_copy(t.self, 0x10000, P, 0x10800))).toBe(KERN_INVALID_ARGUMENT);
  });
});

describe('vm_region', () => {
  it('object_name is a send right to the name port of the bottom object; none for zero-fill memory', async () => {
    const k = kernel();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, 2 * P, false);
    const r0 = await vm_region(t.self, 0x5000);
    expect(r0).toMatchObject({ address: 0x10000, size: 2 * P, protection: 3, max_protection: 7, inheritance: 1, is_shared: false, object_name: null, offset: 0 });
    await vm_write(t.self, 0x10000, pageOf(1, 2));
    await vm_protect(t.self, 0x11000, P, false, VM_PROT_READ);
    const a = await vm_region(t.self, 0x10000);
    const b = await vm_region(t.self, 0x11000);
    expect(a.object_name).not.toBeNull();
    expect(b.object_name!.name).toBe(a.object_name!.name);
    expect(b.offset).toBe(P);
    expect((await mach_port_type(t.self, a.object_name!.name)).ptype & MACH_PORT_TYPE_SEND).toBeTruthy();
    await mach_port_deallocate(t.self, a.object_name!.name);
    await mach_port_deallocate(t.self, b.object_name!.name);
    expect(await code(vm_region(t.self, 0x12000))).toBe(KERN_NO_SPACE);
  });
});

describe('vm_statistics', () => {
  it('reports the page size and counts faults', async () => {
    const k = kernel({ memoryPages: 100 });
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, P, false);
    await vm_write(t.self, 0x10000, pageOf(1));
    const { vm_stats } = await vm_statistics(t.self);
    expect(vm_stats).toHaveLength(13);
    expect(vm_stats[0]).toBe(P);
    expect(vm_stats[1]! + vm_stats[2]!).toBe(100);
  });
});

describe('task_create and task_terminate', () => {
  it('inherit_memory forks the map: SHARE is shared, COPY is copy-on-write, NONE is left out', async () => {
    const k = kernel();
    const t = k.createTask('parent');
    await vm_allocate(t.self, 0x10000, P, false);
    await vm_allocate(t.self, 0x20000, P, false);
    await vm_allocate(t.self, 0x30000, P, false);
    await vm_write(t.self, 0x10000, pageOf(1));
    await vm_write(t.self, 0x20000, pageOf(2));
    await vm_inherit(t.self, 0x10000, P, VM_INHERIT_SHARE);
    await vm_inherit(t.self, 0x30000, P, VM_INHERIT_NONE);
    const { child_task } = await task_create(t.self, true);
    const child = child_task!;
    expect((await vm_read(child, 0x10000, 1)).data[0]).toBe(1);
    expect((await vm_read(child, 0x20000, 1)).data[0]).toBe(2);
    expect(await code(vm_read(child, 0x30000, 1))).toBe(KERN_INVALID_ADDRESS);
    await vm_write(child, 0x10000, pageOf(5));
    await vm_write(child, 0x20000, pageOf(6));
    // vm_write replaces the destination's object, except in a shared entry: there it writes
    // through the shared object, which the parent sees.
    expect((await vm_read(t.self, 0x10000, 1)).data[0]).toBe(5);
    expect((await vm_read(t.self, 0x20000, 1)).data[0]).toBe(2);
    const shared = await vm_region(t.self, 0x10000);
    expect(shared.is_shared).toBe(true);
    expect(shared.inheritance).toBe(VM_INHERIT_SHARE);
    const inherit = (await vm_region(child, 0x20000)).inheritance;
    expect(inherit).toBe(VM_INHERIT_COPY);
    await task_terminate(child);
    expect(await code(vm_read(child, 0x10000, 1))).toBe(MACH_SEND_INVALID_DEST);
  });

  it('without inherit_memory the child starts with an empty map', async () => {
    const k = kernel();
    const t = k.createTask('parent');
    await vm_allocate(t.self, 0x10000, P, false);
    const { child_task } = await task_create(t.self, false);
    expect(await code(vm_region(child_task!, 0))).toBe(KERN_NO_SPACE);
    const child = [...k.tasks.values()].find((x) => x.name === 'parent.child')!;
    expect(child.map.max_offset).toBe(kernelTask(k, t).map.max_offset);
  });

  it('a terminated task\'s map is emptied and its objects released', async () => {
    const k = kernel();
    const t = k.createTask('a');
    await vm_allocate(t.self, 0x10000, P, false);
    await vm_write(t.self, 0x10000, pageOf(1));
    const task = kernelTask(k, t);
    const object = task.map.entries()[0]!.object!;
    t.terminate();
    expect(task.map.nentries).toBe(0);
    expect(object.alive).toBe(false);
  });
});

describe('vm_map of MACH_PORT_NULL through the stub', () => {
  it('maps zero-fill memory with the given attributes', async () => {
    const k = kernel();
    const t = k.createTask('a');
    expect(await vm_map(t.self, 0x10000, P, 0, false, null, 0, false, 1, 7, VM_INHERIT_SHARE)).toEqual({ address: 0x10000 });
    expect(await code(vm_map(t.self, 0x20000, 0, 0, false, null, 0, false, 1, 7, 1))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(vm_map(t.self, 0x20000, P, 0, false, t.self, 0, false, 1, 7, 1))).toBe(KERN_INVALID_ARGUMENT);
    expect((await vm_region(t.self, 0)).inheritance).toBe(VM_INHERIT_SHARE);
  });
});

describe('vm_set_default_memory_manager', () => {
  it('needs the privileged host port; returns the previous manager, or the current one for MACH_PORT_NULL', async () => {
    const k = kernel();
    const boot = k.createTask('boot', { privileged: true });
    const plain = k.createTask('plain');
    const dmm = (await mach_port_allocate(boot.self, MACH_PORT_RIGHT_RECEIVE)).name;
    const pdmm = (await mach_port_allocate(plain.self, MACH_PORT_RIGHT_RECEIVE)).name;
    expect(await code(vm_set_default_memory_manager(plain.host, plain.port(pdmm)))).toBe(KERN_INVALID_HOST);
    expect((await vm_set_default_memory_manager(boot.hostPriv!, null)).default_manager).toBeNull();
    expect((await vm_set_default_memory_manager(boot.hostPriv!, boot.port(dmm))).default_manager).toBeNull();
    expect(k.vm.default_manager).not.toBeNull();
    const current = (await vm_set_default_memory_manager(boot.hostPriv!, null)).default_manager;
    expect(current!.name).toBe(dmm);
  });
});
