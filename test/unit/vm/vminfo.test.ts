import { describe, expect, it } from 'vitest';
import { vm_map_lookup } from '../../../src/vm/lookup.js';
import type { VmLevel } from '../../../src/vm/level.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { vm_object_allocate_external } from '../../../src/vm/object.js';
import { VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_NOTIFY, VM_PROT_READ, VM_PROT_WRITE } from '../../../src/vm/vm_prot.js';
import { vm_allocate, vm_inherit, vm_map, vm_protect } from '../../../src/vm/vm_user.js';
import { VminfoNames, vminfo, vminfo_inh_rep, vminfo_prot_rep, vminfo_region_line } from '../../../src/vm/vminfo.js';

/* The spec §5.2 example: a brk-like pattern. */
function brk(level: VmLevel) {
  const map = vm_map_create({ level });
  vm_allocate(map, 0x10000, 0x8000, false);
  vm_protect(map, 0x14000, 0x4000, false, 0);
  vm_protect(map, 0x14000, 0x2000, false, VM_PROT_READ | VM_PROT_WRITE);
  return map;
}

describe('vminfo', () => {
  it('prints the spec §5.2 example: two lines at L2, three at L0', () => {
    expect(vminfo(brk('L2'))).toEqual([
      '   0x10000[0x6000] (prot=RW, max_prot=RWX)',
      '   0x16000[0x2000] (prot=0, max_prot=RWX, offs=0x6000)',
    ]);
    expect(vminfo(brk('L0'))).toEqual([
      '   0x10000[0x4000] (prot=RW, max_prot=RWX)',
      '   0x14000[0x2000] (prot=RW, max_prot=RWX, offs=0x4000)',
      '   0x16000[0x2000] (prot=0, max_prot=RWX, offs=0x6000)',
    ]);
  });

  it('-a, -s, -v, -d and -h', () => {
    const map = brk('L0');
    vm_allocate(map, 0, 0x1000, false);
    expect(vminfo(map, { addresses: true })).toEqual(['         0', '   0x10000', '   0x14000', '   0x16000']);
    expect(vminfo(map, { sizes: true })).toEqual(['    0x1000', '    0x4000', '    0x2000', '    0x2000']);
    expect(vminfo(map, { addresses: true, sizes: true })[1]).toBe('   0x10000[0x4000]');
    expect(vminfo(map, { addresses: true, verbose: true })[0]).toBe('         0 (prot=RW, max_prot=RWX)');
    expect(vminfo(map, { decimal: true })).toEqual([
      '         0[4096] (prot=RW, max_prot=RWX)',
      '     65536[16384] (prot=RW, max_prot=RWX)',
      '     81920[8192] (prot=RW, max_prot=RWX, offs=16384)',
      '     90112[8192] (prot=0, max_prot=RWX, offs=24576)',
    ]);
    expect(vminfo(map, { holes: true }).slice(0, 3)).toEqual([
      '         0[0x1000] (prot=RW, max_prot=RWX)',
      '          [0xf000] (hole)',
      '   0x10000[0x4000] (prot=RW, max_prot=RWX)',
    ]);
    expect(vminfo(map, { holes: true, sizes: true, decimal: true }).slice(0, 3)).toEqual(['      4096', '     61440 (hole)', '     16384']);
    expect(vminfo(map, { holes: true, addresses: true })).toHaveLength(4); // no hole lines without sizes
  });

  it('a hole before the first region when it does not start at ADDR', () => {
    expect(vminfo(brk('L2'), { holes: true })[0]).toBe('          [0x10000] (hole)');
  });

  it('ADDR alone shows the region at or after it; ADDR SIZE the regions enclosing the range', () => {
    const map = brk('L0');
    expect(vminfo(map, { addr: 0x14800 })).toEqual(['   0x14000[0x2000] (prot=RW, max_prot=RWX, offs=0x4000)']);
    expect(vminfo(map, { addr: 0x1000 })).toEqual(['   0x10000[0x4000] (prot=RW, max_prot=RWX)']);
    // the loop runs while addr <= ADDR + SIZE, so a region starting exactly there is shown
    expect(vminfo(map, { addr: 0x12000, size: 0x4000 }, new VminfoNames())).toHaveLength(3);
    expect(vminfo(map, { addr: 0x12000, size: 0x3fff })).toHaveLength(2);
    expect(vminfo(map, { addr: 0x20000 })).toEqual([]);
  });

  it('inherit, shared, mem_obj numbering stable per run, bits beyond RWX', () => {
    const map = vm_map_create();
    const f = vm_object_allocate_external(0x10000, 'delay');
    vm_map(map, 0x10000, 0x1000, 0, false, f, 0, false, VM_PROT_READ, VM_PROT_READ, VM_INHERIT_SHARE);
    vm_allocate(map, 0x20000, 0x1000, false);
    vm_map_lookup(map, 0x20000, VM_PROT_READ); // materialise an anonymous object
    vm_map(map, 0x30000, 0x1000, 0, false, f, 0x3000, false, VM_PROT_READ, VM_PROT_READ, VM_INHERIT_SHARE);
    vm_inherit(map, 0x20000, 0x1000, VM_INHERIT_NONE);
    vm_protect(map, 0x20000, 0x1000, false, VM_PROT_READ | VM_PROT_NOTIFY);
    map.entries()[0]!.is_shared = true;
    const names = new VminfoNames(584);
    const lines = [
      '   0x10000[0x1000] (prot=R, inherit=share, shared, mem_obj=584)',
      '   0x20000[0x1000] (prot=R+0x10, max_prot=RWX, inherit=none, mem_obj=585)',
      '   0x30000[0x1000] (prot=R, inherit=share, mem_obj=584, offs=0x3000)',
    ];
    expect(vminfo(map, {}, names)).toEqual(lines);
    expect(vminfo(map, {}, names)).toEqual(lines);
  });

  it('prot_rep and inh_rep', () => {
    expect(['0', 'R', 'W', 'RW', 'X', 'RX', 'WX', 'RWX']).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map(vminfo_prot_rep));
    expect(vminfo_prot_rep(0x10)).toBe('+0x10');
    expect(vminfo_prot_rep(0x19)).toBe('R+0x18');
    expect([0, 1, 2, 7].map(vminfo_inh_rep)).toEqual(['share', 'copy', 'none', '7']);
  });

  it('vminfo_region_line prints one region', () => {
    const line = vminfo_region_line(
      { address: 0, size: 0x1000, protection: 3, max_protection: 3, inheritance: 1, is_shared: false, object_name: null, offset: 0 },
      {},
      new VminfoNames(),
    );
    expect(line).toBe('         0[0x1000] (prot=RW)');
  });
});
