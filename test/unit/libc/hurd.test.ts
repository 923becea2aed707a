import { describe, expect, it } from 'vitest';
import {
  BRK_PROT_2_38,
  BRK_START_I386,
  DATA_SIZE,
  EINVAL,
  ENOMEM,
  HurdVm,
  MAP_ANON,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  vm_prot_from_prot,
} from '../../../src/libc/hurd.js';
import { TracingVmOps } from '../../../src/libc/vm_ops.js';
import { VmMapOps } from '../../../src/libc/vm_ops_map.js';
import { KERN_NO_SPACE } from '../../../src/mach/kern_return.js';
import type { VmLevel } from '../../../src/vm/level.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { vminfo } from '../../../src/vm/vminfo.js';
import { P } from './helpers.js';

const B = BRK_START_I386;

function task(level: VmLevel = 'L0', options: ConstructorParameters<typeof HurdVm>[1] = {}) {
  const map = vm_map_create({ level });
  const ops = new TracingVmOps(new VmMapOps(map));
  return { map, ops, hurd: new HurdVm(ops, options) };
}

describe('brk (sysdeps/mach/hurd/brk.c)', () => {
  it('init_brk reserves 128 MiB at BRK_START, no access, max RWX, COPY', async () => {
    const { map, ops, hurd } = task();
    await hurd.initBrk();
    expect(ops.take()).toEqual([
      { op: 'vm_map', address: B, size: DATA_SIZE, anywhere: false, cur: 0, max: 7, inherit: 1, kr: 0, result: B },
    ]);
    expect(hurd.brk).toBe(B);
    expect(hurd.dataEnd).toBe(B + DATA_SIZE);
    expect(vminfo(map)).toEqual(['0x20000000[0x8000000] (prot=0, max_prot=RWX)']);
  });

  it('init_brk gives up the reservation when it cannot map it', async () => {
    const { ops, hurd } = task();
    await ops.vm_allocate(B + P, P, false);
    await hurd.initBrk();
    expect(hurd.dataEnd).toBe(B);
  });

  it('sbrk grows by vm_protect of the new pages (RWX before glibc 2.38), sbrk(0) makes no call', async () => {
    const { map, ops, hurd } = task();
    await hurd.initBrk();
    ops.take();
    expect(await hurd.sbrk(0x100)).toBe(B);
    expect(await hurd.sbrk(0x100)).toBe(B + 0x100);
    expect(await hurd.sbrk(0)).toBe(B + 0x200);
    expect(await hurd.sbrk(0x2000)).toBe(B + 0x200);
    expect(ops.take()).toEqual([
      { op: 'vm_protect', address: B, size: P, setMax: false, prot: 7, kr: 0 },
      { op: 'vm_protect', address: B + P, size: 2 * P, setMax: false, prot: 7, kr: 0 },
    ]);
    expect(hurd.brk).toBe(B + 0x2200);
    // Each growth clipped the reservation: one more entry at L0.
    expect(vminfo(map)).toEqual([
      '0x20000000[0x1000] (prot=RWX)',
      '0x20001000[0x2000] (prot=RWX, offs=0x1000)',
      '0x20003000[0x7ffd000] (prot=0, max_prot=RWX, offs=0x3000)',
    ]);
  });

  it('glibc 2.38 opens brk pages RW', async () => {
    const { ops, hurd } = task('L0', { brkProt: BRK_PROT_2_38 });
    await hurd.initBrk();
    ops.take();
    await hurd.sbrk(P);
    expect(ops.take()).toEqual([{ op: 'vm_protect', address: B, size: P, setMax: false, prot: 3, kr: 0 }]);
  });

  it('sbrk shrinks by vm_deallocate and a fixed vm_map of NONE/RWX in its place', async () => {
    const { map, ops, hurd } = task('L0');
    await hurd.initBrk();
    await hurd.sbrk(4 * P);
    ops.take();
    expect(await hurd.sbrk(-0x1800)).toBe(B + 4 * P);
    expect(ops.take()).toEqual([
      { op: 'vm_deallocate', address: B + 3 * P, size: P, kr: 0 },
      { op: 'vm_map', address: B + 3 * P, size: P, anywhere: false, cur: 0, max: 7, inherit: 1, kr: 0, result: B + 3 * P },
    ]);
    expect(hurd.brk).toBe(B + 0x2800);
    // Within a page: nothing to give back.
    await hurd.sbrk(-0x100);
    expect(ops.take()).toEqual([]);
    expect(vminfo(map)).toEqual([
      '0x20000000[0x3000] (prot=RWX)',
      '0x20003000[0x1000] (prot=0, max_prot=RWX)',
      '0x20004000[0x7ffc000] (prot=0, max_prot=RWX, offs=0x4000)',
    ]);
  });

  it('the same brk cycle leaves two entries at L2', async () => {
    const { map, hurd } = task('L2');
    await hurd.initBrk();
    for (let i = 0; i < 5; i++) {
      await hurd.sbrk(4 * P);
      await hurd.sbrk(-2 * P);
    }
    expect(vminfo(map)).toEqual(['0x20000000[0xa000] (prot=RWX)', '0x2000a000[0x7ff6000] (prot=0, max_prot=RWX)']);
  });

  it('past the reservation: the rest is opened, then the excess allocated at a fixed address', async () => {
    const { ops, hurd } = task('L0', { dataSize: 4 * P });
    await hurd.initBrk();
    await hurd.sbrk(P);
    ops.take();
    expect(await hurd.sbrk(5 * P)).toBe(B + P);
    expect(ops.take()).toEqual([
      { op: 'vm_protect', address: B + P, size: 3 * P, setMax: false, prot: 7, kr: 0 },
      { op: 'vm_allocate', address: B + 4 * P, size: 2 * P, anywhere: false, kr: 0, result: B + 4 * P },
    ]);
    expect(hurd.dataEnd).toBe(B + 6 * P);
    // Something in the way: sbrk fails.
    await ops.vm_allocate(B + 6 * P, P, false);
    expect(await hurd.sbrk(P)).toBeNull();
    expect(hurd.lastError).toBe(KERN_NO_SPACE);
  });

  it('RLIMIT_DATA stops the break', async () => {
    const { hurd } = task('L0', { rlimitData: 8 * P });
    await hurd.initBrk();
    expect(await hurd.sbrk(9 * P)).toBeNull();
    expect(hurd.lastError).toBe(ENOMEM);
  });
});

describe('mmap (sysdeps/mach/hurd/mmap.c)', () => {
  it('translates the Hurd PROT_* bits', () => {
    expect(vm_prot_from_prot(PROT_NONE)).toBe(0);
    expect(vm_prot_from_prot(PROT_READ)).toBe(1);
    expect(vm_prot_from_prot(PROT_READ | PROT_WRITE)).toBe(3);
    expect(vm_prot_from_prot(PROT_READ | PROT_WRITE | PROT_EXEC)).toBe(7);
  });

  it('anonymous memory is vm_map anywhere, max RWX, COPY (SHARE if shared)', async () => {
    const { ops, hurd } = task();
    const a = await hurd.mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
    const b = await hurd.mmap(0, P, PROT_NONE, MAP_ANON | MAP_SHARED);
    expect(ops.take()).toEqual([
      { op: 'vm_map', address: 0, size: 3 * P, anywhere: true, cur: 3, max: 7, inherit: 1, kr: 0, result: a },
      { op: 'vm_map', address: 0, size: P, anywhere: true, cur: 0, max: 7, inherit: 0, kr: 0, result: b },
    ]);
  });

  it('a hint is tried fixed, then anywhere', async () => {
    const { ops, hurd } = task();
    await ops.vm_allocate(0x40000, P, false);
    ops.take();
    expect(await hurd.mmap(0x50000, P, PROT_READ | PROT_WRITE, MAP_ANON)).toBe(0x50000);
    const c = await hurd.mmap(0x40000, P, PROT_READ | PROT_WRITE, MAP_ANON);
    expect(c).not.toBe(0x40000);
    expect(ops.take().map((x) => [x.op, x.address, 'anywhere' in x ? x.anywhere : null, x.op === 'vm_map' ? x.kr : null])).toEqual([
      ['vm_map', 0x50000, false, 0],
      ['vm_map', 0x40000, false, KERN_NO_SPACE],
      ['vm_map', 0x40000, true, 0],
    ]);
  });

  it('MAP_FIXED over existing memory deallocates it first', async () => {
    const { ops, hurd } = task();
    await ops.vm_allocate(0x40000, 2 * P, false);
    ops.take();
    expect(await hurd.mmap(0x40000, P, PROT_NONE, MAP_ANON | MAP_FIXED)).toBe(0x40000);
    expect(ops.take()).toEqual([
      { op: 'vm_map', address: 0x40000, size: P, anywhere: false, cur: 0, max: 7, inherit: 1, kr: KERN_NO_SPACE, result: 0x40000 },
      { op: 'vm_deallocate', address: 0x40000, size: P, kr: 0 },
      { op: 'vm_map', address: 0x40000, size: P, anywhere: false, cur: 0, max: 7, inherit: 1, kr: 0, result: 0x40000 },
    ]);
  });

  it('refuses unaligned addresses and file mappings', async () => {
    const { hurd } = task();
    expect(await hurd.mmap(0x123, P, PROT_READ, MAP_ANON)).toBeNull();
    expect(hurd.lastError).toBe(EINVAL);
    await expect(hurd.mmap(0, P, PROT_READ, 0)).rejects.toThrow(/anonymous/);
  });

  it('munmap is vm_deallocate, mprotect is vm_protect', async () => {
    const { ops, hurd } = task();
    await ops.vm_allocate(0, 0x10000, false); // (an empty map would place it at 0)
    const a = (await hurd.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_ANON))!;
    expect(a).toBe(0x10000);
    ops.take();
    expect(await hurd.mprotect(a, P, PROT_READ)).toBe(0);
    expect(await hurd.munmap(a, 2 * P)).toBe(0);
    expect(await hurd.munmap(0, P)).toBe(EINVAL);
    expect(await hurd.mprotect(a, P, PROT_READ)).toBe(0); // holes are fine
    expect(ops.take()).toEqual([
      { op: 'vm_protect', address: a, size: P, setMax: false, prot: 1, kr: 0 },
      { op: 'vm_deallocate', address: a, size: 2 * P, kr: 0 },
      { op: 'vm_protect', address: a, size: P, setMax: false, prot: 1, kr: 0 },
    ]);
  });
});
