import { describe, expect, it } from 'vitest';
import { VmFaultError, VmMapOps } from '../../../src/libc/vm_ops_map.js';
import { KERN_INVALID_ADDRESS, KERN_NO_SPACE, KERN_PROTECTION_FAILURE, KERN_SUCCESS } from '../../../src/mach/kern_return.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { VM_INHERIT_COPY, VM_PROT_ALL, VM_PROT_NONE } from '../../../src/vm/vm_prot.js';

const P = 0x1000;

describe('VmMapOps', () => {
  it('makes the calls on the map', async () => {
    const map = vm_map_create({ level: 'L0' });
    const ops = new VmMapOps(map);
    expect(await ops.vm_allocate(0x10000, 2 * P, false)).toEqual({ kr: KERN_SUCCESS, address: 0x10000 });
    expect(await ops.vm_allocate(0x10000, P, false)).toMatchObject({ kr: KERN_NO_SPACE });
    const r = await ops.vm_map(0, 4 * P, true, VM_PROT_NONE, VM_PROT_ALL, VM_INHERIT_COPY);
    expect(r.kr).toBe(KERN_SUCCESS);
    expect(await ops.vm_protect(r.address, P, false, 3)).toBe(KERN_SUCCESS);
    expect(map.entries().map((e) => [e.vme_start, e.vme_end, e.protection, e.max_protection])).toEqual([
      [0x10000, 0x12000, 3, 7],
      [r.address, r.address + P, 3, 7],
      [r.address + P, r.address + 4 * P, 0, 7],
    ]);
    expect(await ops.vm_deallocate(0x10000, 2 * P)).toBe(KERN_SUCCESS);
    expect(map.nentries).toBe(2);
  });

  it('touch faults pages in, materialising the object, and refuses what is not writable', async () => {
    const map = vm_map_create({ level: 'L2' });
    const ops = new VmMapOps(map);
    await ops.vm_allocate(0x10000, 4 * P, false);
    await ops.touch(0x10ff0, 0x20);
    expect(ops.faults).toBe(2);
    await ops.touch(0x10000, 2 * P);
    expect(ops.faults).toBe(2);
    expect(map.entries()[0]!.object).not.toBeNull();
    await ops.vm_protect(0x13000, P, false, 1);
    await expect(ops.touch(0x13000, 1)).rejects.toMatchObject({ name: 'VmFaultError', address: 0x13000, kr: KERN_PROTECTION_FAILURE });
    await expect(ops.touch(0x20000, 1)).rejects.toBeInstanceOf(VmFaultError);
    await expect(ops.touch(0x20000, 1)).rejects.toMatchObject({ kr: KERN_INVALID_ADDRESS });
    await ops.touch(0x30000, 0); // nothing
  });
});
