/*
 * File: test/unit/libc/helpers.ts
 * Purpose: shared set-up for the libc tests: a malloc over a simulated GNU Mach map at a
 *          given level, with every VM call recorded, and checks against the map.
 */

import { expect } from 'vitest';
import { KERN_SUCCESS } from '../../../src/mach/kern_return.js';
import type { MallocOptions } from '../../../src/libc/malloc.js';
import { Malloc } from '../../../src/libc/malloc.js';
import type { VmCall } from '../../../src/libc/vm_ops.js';
import { TracingVmOps } from '../../../src/libc/vm_ops.js';
import { VmMapOps } from '../../../src/libc/vm_ops_map.js';
import type { VmLevel } from '../../../src/vm/level.js';
import type { VmMap } from '../../../src/vm/map.js';
import { vm_map_create } from '../../../src/vm/map.js';
import { VM_PROT_READ, VM_PROT_WRITE } from '../../../src/vm/vm_prot.js';
import { vm_region } from '../../../src/vm/vm_user.js';

export const P = 0x1000;
export const MiB = 0x100000;

export interface Setup {
  map: VmMap;
  ops: TracingVmOps;
  m: Malloc;
}

/** A task: an empty map at `level`, its brk reserved by init_brk, and a malloc; the init call is dropped from the trace. */
export async function setup(level: VmLevel = 'L0', options: MallocOptions = {}): Promise<Setup> {
  const map = vm_map_create({ level });
  const ops = new TracingVmOps(new VmMapOps(map));
  const m = await Malloc.create(ops, options);
  ops.take();
  return { map, ops, m };
}

/** Calls other than touches. */
export function rpcs(calls: VmCall[]): VmCall[] {
  return calls.filter((c) => c.op !== 'touch');
}

/** [start, end) is covered by map entries readable and writable (checked with vm_region). */
export function expectReadWrite(map: VmMap, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const { kr, region } = vm_region(map, at);
    expect(kr, `vm_region at 0x${at.toString(16)}`).toBe(KERN_SUCCESS);
    expect(region!.address, `hole at 0x${at.toString(16)}`).toBeLessThanOrEqual(at);
    expect(region!.protection & (VM_PROT_READ | VM_PROT_WRITE), `protection at 0x${at.toString(16)}`).toBe(VM_PROT_READ | VM_PROT_WRITE);
    at = region!.address + region!.size;
  }
}

/** Every block the program holds lies in RW memory. */
export function expectBlocksMapped(map: VmMap, m: Malloc): void {
  for (const b of m.blocks()) expectReadWrite(map, b.mem, b.mem + Math.max(b.request, 1));
}

/** Entries of the map inside [start, end) with protection RW (and maybe X). */
export function rwEntries(map: VmMap, start: number, end: number): number {
  return map.entries().filter((e) => e.vme_start >= start && e.vme_end <= end && (e.protection & 3) === 3).length;
}
