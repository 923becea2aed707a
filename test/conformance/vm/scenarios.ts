/*
 * File: test/conformance/vm/scenarios.ts
 * Purpose: the VM conformance scenarios, as data: scripts of user VM calls and what GNU
 *          Mach does with each at L0 (pre-2023), L1 (July 2023) and L2 (current), derived
 *          by hand from spec/gnumach-vm.md and the gnumach sources it cites.
 *
 * Each scenario is replayed by scenarios.test.ts at the three levels; `tsmach vmsim` can
 * replay the same table (src/vm/script.ts). Unless said otherwise, maps are 32-bit user
 * maps [0, 0xC0000000), allocations are RW/RWX COPY, and vm_map defaults to RW/RWX COPY.
 * Entry rows: [start, end, "prot/max", offset, object, inheritance?, needs_copy?]; objects
 * are declared (F, G: external files the script holds a reference on), named by a touch
 * (X, Y, H: anonymous objects materialised by a fault), or $1, $2... otherwise.
 */

import {
  KERN_INVALID_ADDRESS,
  KERN_INVALID_ARGUMENT,
  KERN_NO_SPACE,
  KERN_PROTECTION_FAILURE,
  KERN_SUCCESS,
  MACH_MSG_VM_SPACE,
  MACH_RCV_BODY_ERROR,
  MACH_RCV_TIMED_OUT,
  MACH_SEND_INVALID_MEMORY,
} from '../../../src/mach/kern_return.js';
import type { VmEntryRow, VmScenario, VmScenarioExpect, VmScriptOp, VmScriptResult } from '../../../src/vm/script.js';

const P = 0x1000;
const NONE = 0;
const R = 1;
const RW = 3;
const RWX = 7;
const NOTIFY = 0x10;
const SHARE = 0;
const COPY = 1;
const INH_NONE = 2;
const OK = KERN_SUCCESS;

/* ---- rows and results ---- */

/** An entry row with COPY inheritance and no pending copy. */
function e(start: number, end: number, prot = 'RW/RWX', offset = 0, object: string | null = null): VmEntryRow {
  return [start, end, prot, offset, object];
}
/** An entry row with SHARE or NONE inheritance. */
function ei(start: number, end: number, prot: string, offset: number, object: string | null, inherit: 'share' | 'none'): VmEntryRow {
  return [start, end, prot, offset, object, inherit];
}
/** An entry row with needs_copy set. */
function enc(start: number, end: number, prot: string, offset: number, object: string | null): VmEntryRow {
  return [start, end, prot, offset, object, 'copy', true];
}
/** A successful allocate/map at `address`. */
function at(address: number): VmScriptResult {
  return { kr: OK, address };
}
/** A successful vm_region. */
function region(address: number, size: number): VmScriptResult {
  return { kr: OK, address, size };
}
/** The same expectation at every level. */
function all(x: VmScenarioExpect): Record<'L0' | 'L1' | 'L2', VmScenarioExpect> {
  return { L0: x, L1: x, L2: x };
}

/* ---- operations ---- */

const alloc = (addr: number, size: number): VmScriptOp => ({ op: 'allocate', addr, size });
const anywhere = (size: number): VmScriptOp => ({ op: 'allocate', addr: 0, size, anywhere: true });
const dealloc = (addr: number, size: number): VmScriptOp => ({ op: 'deallocate', addr, size });
const protect = (addr: number, size: number, prot: number, set_max = false): VmScriptOp => ({ op: 'protect', addr, size, prot, set_max });
const inherit = (addr: number, size: number, inh: number): VmScriptOp => ({ op: 'inherit', addr, size, inherit: inh });
const touch = (addr: number, as?: string): VmScriptOp => (as === undefined ? { op: 'touch', addr, write: true } : { op: 'touch', addr, write: true, as });
const regionAt = (addr: number): VmScriptOp => ({ op: 'region', addr });
function map(addr: number, size: number, opts: Omit<Extract<VmScriptOp, { op: 'map' }>, 'op' | 'addr' | 'size'> = {}): VmScriptOp {
  return { op: 'map', addr, size, ...opts };
}
const task = (name: string, from?: string): VmScriptOp => (from === undefined ? { op: 'task', name } : { op: 'task', name, from });
const send = (addr: number, size: number, deallocate = false): VmScriptOp => ({ op: 'send', addr, size, dealloc: deallocate });
const receive = (): VmScriptOp => ({ op: 'receive' });
const receiveObject = (size: number): VmScriptOp => ({ op: 'receive', format: 'object', size });
const receivePages = (size: number): VmScriptOp => ({ op: 'receive', format: 'pages', size });
/** A successful receive, placed at `address`. */
function got(address: number): VmScriptResult {
  return { kr: OK, address };
}

const FILE = { F: { size: 0x10000, external: true } } as const;

export const VM_SCENARIOS: VmScenario[] = [
  // ---------------------------------------------------------------- §2.2 E1, §8.1 basics
  {
    name: 'adjacent fixed allocations extend backward at every level',
    spec: '§2.2 E1',
    ops: [alloc(0x10000, 2 * P), alloc(0x12000, P)],
    expect: all({ results: [at(0x10000), at(0x12000)], entries: [e(0x10000, 0x13000)], first_free: 'header' }),
  },
  {
    name: 'anywhere allocations stack up from min_offset as one entry',
    spec: '§8.1, §2.2 E1',
    ops: [anywhere(P), anywhere(P), anywhere(P)],
    expect: all({ results: [at(0), at(P), at(2 * P)], entries: [e(0, 0x3000)], first_free: 0 }),
  },
  {
    name: 'a fixed allocation just below a NULL-object entry merges forward at L1/L2 only',
    spec: '§2.5.2, §2.2 E2',
    ops: [alloc(0x20000, 2 * P), alloc(0x1e000, 2 * P)],
    expect: {
      L0: { results: [at(0x20000), at(0x1e000)], entries: [e(0x1e000, 0x20000), e(0x20000, 0x22000)], first_free: 'header' },
      L1: { results: [at(0x20000), at(0x1e000)], entries: [e(0x1e000, 0x22000)], first_free: 'header' },
      L2: { results: [at(0x20000), at(0x1e000)], entries: [e(0x1e000, 0x22000)], first_free: 'header' },
    },
  },
  {
    name: 'hole fill: backward at L0/L1, backward then chained at L2',
    spec: '§2.5.1',
    ops: [alloc(0x10000, P), alloc(0x12000, P), alloc(0x11000, P)],
    expect: {
      L0: { results: [at(0x10000), at(0x12000), at(0x11000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x13000)] },
      L1: { results: [at(0x10000), at(0x12000), at(0x11000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x13000)] },
      L2: { results: [at(0x10000), at(0x12000), at(0x11000)], entries: [e(0x10000, 0x13000)] },
    },
  },
  {
    name: 'hole fill where the entry before differs: L1/L2 extend the entry after downwards',
    spec: '§2.5.1, §2.2 E2',
    ops: [alloc(0x10000, P), protect(0x10000, P, R), alloc(0x12000, P), alloc(0x11000, P)],
    expect: {
      L0: {
        results: [at(0x10000), OK, at(0x12000), at(0x11000)],
        entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x12000), e(0x12000, 0x13000)],
      },
      L1: { results: [at(0x10000), OK, at(0x12000), at(0x11000)], entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x13000)] },
      L2: { results: [at(0x10000), OK, at(0x12000), at(0x11000)], entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x13000)] },
    },
  },
  {
    name: 'E1 is preferred to E2: at L1 the record before survives and the one after stays',
    spec: '§2.2 E1/E2, §1.5',
    ops: [alloc(0x10000, P), alloc(0x12000, 2 * P), alloc(0x11000, P), regionAt(0x12000)],
    expect: {
      L0: { results: [at(0x10000), at(0x12000), at(0x11000), region(0x12000, 0x2000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000)] },
      L1: { results: [at(0x10000), at(0x12000), at(0x11000), region(0x12000, 0x2000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000)] },
      L2: { results: [at(0x10000), at(0x12000), at(0x11000), region(0x10000, 0x4000)], entries: [e(0x10000, 0x14000)] },
    },
  },

  // ---------------------------------------------------------------- §2.5.5 NULL-object offsets
  {
    name: 'backward extension after a clip: L0 keeps the clipped offset, L1/L2 reset it to 0',
    spec: '§2.5.5, §2.1 O1',
    ops: [alloc(0x10000, 3 * P), dealloc(0x10000, P), alloc(0x13000, P)],
    expect: {
      L0: { results: [at(0x10000), OK, at(0x13000)], entries: [e(0x11000, 0x14000, 'RW/RWX', 0x1000)], first_free: 'header' },
      L1: { results: [at(0x10000), OK, at(0x13000)], entries: [e(0x11000, 0x14000)], first_free: 'header' },
      L2: { results: [at(0x10000), OK, at(0x13000)], entries: [e(0x11000, 0x14000)], first_free: 'header' },
    },
  },
  {
    name: 'vm_protect split then restored: permanent at L0/L1, glued back at offset 0 at L2',
    spec: '§2.5.4, §2.4',
    ops: [alloc(0x10000, 4 * P), protect(0x11000, P, R), protect(0x11000, P, RW)],
    expect: {
      L0: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L1: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x14000)] },
    },
  },
  {
    name: 'the spec §5.2 brk example: three entries at L0/L1, two at L2',
    spec: '§5.2',
    ops: [alloc(0x10000, 0x8000), protect(0x14000, 0x4000, NONE), protect(0x14000, 0x2000, RW)],
    expect: {
      L0: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x14000), e(0x14000, 0x16000, 'RW/RWX', 0x4000), e(0x16000, 0x18000, '0/RWX', 0x6000)] },
      L1: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x14000), e(0x14000, 0x16000, 'RW/RWX', 0x4000), e(0x16000, 0x18000, '0/RWX', 0x6000)] },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x16000), e(0x16000, 0x18000, '0/RWX', 0x6000)] },
    },
  },

  // ---------------------------------------------------------------- §3 zero-size clips
  {
    name: 'zero-size vm_protect at an aligned address inside an entry still clips (L2 glues back)',
    spec: '§3',
    ops: [alloc(0x10000, 4 * P), protect(0x12000, 0, R)],
    expect: {
      L0: { results: [at(0x10000), OK], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L1: { results: [at(0x10000), OK], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L2: { results: [at(0x10000), OK], entries: [e(0x10000, 0x14000)] },
    },
  },
  {
    name: 'zero-size vm_protect at an unaligned address changes that page',
    spec: '§3',
    ops: [alloc(0x10000, 4 * P), protect(0x12800, 0, R)],
    expect: all({
      results: [at(0x10000), OK],
      entries: [e(0x10000, 0x12000), e(0x12000, 0x13000, 'R/RWX', 0x2000), e(0x13000, 0x14000, 'RW/RWX', 0x3000)],
    }),
  },
  {
    name: 'zero-size vm_inherit inside an entry clips (L2 glues back)',
    spec: '§3',
    ops: [alloc(0x10000, 4 * P), inherit(0x11000, 0, INH_NONE)],
    expect: {
      L0: { results: [at(0x10000), OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x14000, 'RW/RWX', 0x1000)] },
      L1: { results: [at(0x10000), OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x14000, 'RW/RWX', 0x1000)] },
      L2: { results: [at(0x10000), OK], entries: [e(0x10000, 0x14000)] },
    },
  },
  {
    name: 'zero-size vm_protect at the start of an entry or in a hole does nothing',
    spec: '§3',
    ops: [alloc(0x10000, 4 * P), protect(0x10000, 0, R), protect(0x20000, 0, R), protect(0x14000, 0, R)],
    expect: all({ results: [at(0x10000), OK, OK, OK], entries: [e(0x10000, 0x14000)] }),
  },
  {
    name: 'zero-size clip of a touched entry: two references at L0/L1, merged back (O2) at L2',
    spec: '§3, §1.6, §2.1 O2',
    ops: [alloc(0x10000, 4 * P), touch(0x10000, 'X'), protect(0x12000, 0, R)],
    expect: {
      L0: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X'), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'X')], refs: { X: 2 }, resident: { X: [0] } },
      L1: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X'), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'X')], refs: { X: 2 }, resident: { X: [0] } },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0] } },
    },
  },
  {
    name: 'a vm_protect range that wraps around becomes empty at its end and clips there',
    spec: '§8.3, §3',
    ops: [alloc(0xf000, 3 * P), protect(0x11000, 0xfffff000, R)],
    expect: {
      L0: { results: [at(0xf000), OK], entries: [e(0xf000, 0x10000), e(0x10000, 0x12000, 'RW/RWX', 0x1000)] },
      L1: { results: [at(0xf000), OK], entries: [e(0xf000, 0x10000), e(0x10000, 0x12000, 'RW/RWX', 0x1000)] },
      L2: { results: [at(0xf000), OK], entries: [e(0xf000, 0x12000)] },
    },
  },

  // ---------------------------------------------------------------- §3, §8.3 protection failures
  {
    name: 'PROTECTION_FAILURE leaves the clip at the start of the range',
    spec: '§3, §8.3',
    ops: [alloc(0x10000, 4 * P), protect(0x10000, 4 * P, R, true), protect(0x12000, P, RW)],
    expect: all({
      results: [at(0x10000), OK, KERN_PROTECTION_FAILURE],
      entries: [e(0x10000, 0x12000, 'R/R'), e(0x12000, 0x14000, 'R/R', 0x2000)],
    }),
  },
  {
    name: 'PROTECTION_FAILURE on a later entry: the first entry is clipped, nothing is changed',
    spec: '§3, §8.3',
    ops: [alloc(0x10000, 2 * P), map(0x12000, 2 * P, { cur: R, max: R }), protect(0x11000, 2 * P, RW)],
    expect: all({
      results: [at(0x10000), at(0x12000), KERN_PROTECTION_FAILURE],
      entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x14000, 'R/R')],
    }),
  },
  {
    name: 'vm_protect with bits outside RWX|NOTIFY is refused before anything is clipped',
    spec: '§8.3',
    ops: [alloc(0x10000, 2 * P), protect(0x11000, P, 0x20)],
    expect: all({ results: [at(0x10000), KERN_INVALID_ARGUMENT], entries: [e(0x10000, 0x12000)] }),
  },
  {
    name: 'NOTIFY passes the maximum-protection check',
    spec: '§8.3',
    ops: [alloc(0x10000, 2 * P), protect(0x10000, P, R | NOTIFY)],
    expect: all({ results: [at(0x10000), OK], entries: [e(0x10000, 0x11000, 'R+0x10/RWX'), e(0x11000, 0x12000, 'RW/RWX', 0x1000)] }),
  },
  {
    name: 'set_max lowers the maximum and masks the current protection; it cannot be raised again',
    spec: '§8.3',
    ops: [alloc(0x10000, 2 * P), protect(0x10000, P, R, true), protect(0x10000, P, RWX, true)],
    expect: all({
      results: [at(0x10000), OK, KERN_PROTECTION_FAILURE],
      entries: [e(0x10000, 0x11000, 'R/R'), e(0x11000, 0x12000, 'RW/RWX', 0x1000)],
    }),
  },
  {
    name: 'set_max bringing two pieces back in line glues them at L2',
    spec: '§2.4, §8.3',
    ops: [alloc(0x10000, 2 * P), protect(0x11000, P, R, true), protect(0x10000, P, R, true)],
    expect: {
      L0: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000, 'R/R'), e(0x11000, 0x12000, 'R/R', 0x1000)] },
      L1: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000, 'R/R'), e(0x11000, 0x12000, 'R/R', 0x1000)] },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x12000, 'R/R')] },
    },
  },

  // ---------------------------------------------------------------- §2.4 vm_inherit
  {
    name: 'vm_inherit split then restored: permanent at L0/L1, glued back at L2',
    spec: '§2.4, §2.5.4',
    ops: [alloc(0x10000, 3 * P), inherit(0x11000, P, SHARE), inherit(0x11000, P, COPY)],
    expect: {
      L0: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)] },
      L1: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)] },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x13000)] },
    },
  },
  {
    name: 'vm_inherit over entries with different protections sets each, merges none',
    spec: '§2.4',
    ops: [alloc(0x10000, 2 * P), protect(0x11000, P, R), inherit(0x10000, 2 * P, INH_NONE)],
    expect: all({
      results: [at(0x10000), OK, OK],
      entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, null, 'none'), ei(0x11000, 0x12000, 'R/RWX', 0x1000, null, 'none')],
    }),
  },
  {
    name: 'a mapping with another inheritance never extends its neighbour',
    spec: '§2.2 E1',
    ops: [alloc(0x10000, P), map(0x11000, P, { inherit: SHARE })],
    expect: all({ results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x11000), ei(0x11000, 0x12000, 'RW/RWX', 0, null, 'share')] }),
  },
  {
    name: 'vm_inherit with an invalid value is refused',
    spec: '§8.3',
    ops: [alloc(0x10000, 2 * P), inherit(0x11000, P, 3)],
    expect: all({ results: [at(0x10000), KERN_INVALID_ARGUMENT], entries: [e(0x10000, 0x12000)] }),
  },
  {
    name: 'L2 vm_inherit merges the entry that follows the range',
    spec: '§2.4',
    ops: [alloc(0x10000, P), map(0x11000, P, { inherit: INH_NONE }), inherit(0x10000, P, INH_NONE)],
    expect: {
      L0: { results: [at(0x10000), at(0x11000), OK], entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, null, 'none'), ei(0x11000, 0x12000, 'RW/RWX', 0, null, 'none')] },
      L1: { results: [at(0x10000), at(0x11000), OK], entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, null, 'none'), ei(0x11000, 0x12000, 'RW/RWX', 0, null, 'none')] },
      L2: { results: [at(0x10000), at(0x11000), OK], entries: [ei(0x10000, 0x12000, 'RW/RWX', 0, null, 'none')] },
    },
  },

  // ---------------------------------------------------------------- §2.5.3 file mappings (O2)
  {
    name: 'contiguous mappings of one file at contiguous offsets merge at L1/L2 (O2)',
    spec: '§2.5.3, §2.1 O2',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), map(0x12000, 2 * P, { object: 'F', offset: 0x2000 })],
    expect: {
      L0: { results: [at(0x10000), at(0x12000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F'), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'F')], refs: { F: 3 } },
      L1: { results: [at(0x10000), at(0x12000)], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
      L2: { results: [at(0x10000), at(0x12000)], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'mappings of one file at non-contiguous offsets never merge',
    spec: '§2.1 O2',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), map(0x12000, 2 * P, { object: 'F', offset: 0x4000 })],
    expect: all({
      results: [at(0x10000), at(0x12000)],
      entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F'), e(0x12000, 0x14000, 'RW/RWX', 0x4000, 'F')],
      refs: { F: 3 },
    }),
  },
  {
    name: 'a file mapped just below its next part merges forward at L1/L2',
    spec: '§2.5.2, §2.5.3',
    objects: FILE,
    ops: [map(0x12000, 2 * P, { object: 'F', offset: 0x2000 }), map(0x10000, 2 * P, { object: 'F' })],
    expect: {
      L0: { results: [at(0x12000), at(0x10000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F'), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'F')], refs: { F: 3 } },
      L1: { results: [at(0x12000), at(0x10000)], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
      L2: { results: [at(0x12000), at(0x10000)], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'two different files never merge (O3)',
    spec: '§2.1 O3',
    objects: { F: { size: 0x10000, external: true }, G: { size: 0x10000, external: true } },
    ops: [map(0x10000, P, { object: 'F' }), map(0x11000, P, { object: 'G', offset: 0x1000 })],
    expect: all({
      results: [at(0x10000), at(0x11000)],
      entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'G')],
      refs: { F: 2, G: 2 },
    }),
  },
  {
    name: 'a file mapping never merges with zero-fill memory on either side (pager_created)',
    spec: '§2.1 O4',
    objects: FILE,
    ops: [alloc(0x10000, 2 * P), map(0x12000, 2 * P, { object: 'F', offset: 0x2000 }), alloc(0x14000, P)],
    expect: all({
      results: [at(0x10000), at(0x12000), at(0x14000)],
      entries: [e(0x10000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'F'), e(0x14000, 0x15000)],
      refs: { F: 2 },
    }),
  },
  {
    name: 'a read-only file piece made read-only next to another: glued at L2 by vm_protect',
    spec: '§2.4, §2.1 O2',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F', cur: R, max: R }), map(0x11000, P, { object: 'F', offset: 0x1000 }), protect(0x11000, P, R, true)],
    expect: {
      L0: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000, 'R/R', 0, 'F'), e(0x11000, 0x12000, 'R/R', 0x1000, 'F')], refs: { F: 3 } },
      L1: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000, 'R/R', 0, 'F'), e(0x11000, 0x12000, 'R/R', 0x1000, 'F')], refs: { F: 3 } },
      L2: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x12000, 'R/R', 0, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'file hole fill: L1 extends backward, L2 also chains the mapping after it',
    spec: '§2.5.1, §2.5.3',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F' }), map(0x12000, P, { object: 'F', offset: 0x2000 }), map(0x11000, P, { object: 'F', offset: 0x1000 })],
    expect: {
      L0: {
        results: [at(0x10000), at(0x12000), at(0x11000)],
        entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'F'), e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'F')],
        refs: { F: 4 },
      },
      L1: {
        results: [at(0x10000), at(0x12000), at(0x11000)],
        entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F'), e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'F')],
        refs: { F: 3 },
      },
      L2: { results: [at(0x10000), at(0x12000), at(0x11000)], entries: [e(0x10000, 0x13000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'file offsets need not be page aligned, and merge when contiguous',
    spec: '§8.3 vm_map, §2.1 O2',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F', offset: 0x800 }), map(0x11000, P, { object: 'F', offset: 0x1800 })],
    expect: {
      L0: { results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x11000, 'RW/RWX', 0x800, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1800, 'F')], refs: { F: 3 } },
      L1: { results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0x800, 'F')], refs: { F: 2 } },
      L2: { results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0x800, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'every piece of a clipped file mapping holds a reference',
    spec: '§1.6',
    objects: FILE,
    ops: [map(0x10000, 4 * P, { object: 'F' }), protect(0x11000, 2 * P, R), dealloc(0x10000, P)],
    expect: all({
      results: [at(0x10000), OK, OK],
      entries: [e(0x11000, 0x13000, 'R/RWX', 0x1000, 'F'), e(0x13000, 0x14000, 'RW/RWX', 0x3000, 'F')],
      refs: { F: 3 },
    }),
  },
  {
    name: 'restoring the protection of a file piece gives the clip references back at L2',
    spec: '§1.6, §2.4',
    objects: FILE,
    ops: [map(0x10000, 3 * P, { object: 'F' }), protect(0x11000, P, R), protect(0x11000, P, RW)],
    expect: {
      L0: {
        results: [at(0x10000), OK, OK],
        entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'F'), e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'F')],
        refs: { F: 4 },
      },
      L1: {
        results: [at(0x10000), OK, OK],
        entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'F'), e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'F')],
        refs: { F: 4 },
      },
      L2: { results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x13000, 'RW/RWX', 0, 'F')], refs: { F: 2 } },
    },
  },
  {
    name: 'unmapping every mapping of a file leaves only the holder reference',
    spec: '§1.6',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), map(0x12000, 2 * P, { object: 'F', offset: 0x2000 }), dealloc(0x10000, 4 * P)],
    expect: all({ results: [at(0x10000), at(0x12000), OK], entries: [], refs: { F: 1 }, first_free: 'header' }),
  },

  // ---------------------------------------------------------------- §2.1 O4, §4 anonymous objects
  {
    name: 'touched memory is extended by an adjacent allocation at every level (O4a)',
    spec: '§2.1 O4a',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), alloc(0x12000, P)],
    expect: all({ results: [at(0x10000), OK, at(0x12000)], entries: [e(0x10000, 0x13000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0] } }),
  },
  {
    name: 'touched heap: a hole refilled between pieces of one object stays split (ref_count 2)',
    spec: '§6.4 limitation, §2.1 O4',
    ops: [alloc(0x10000, 4 * P), touch(0x10000, 'X'), dealloc(0x11000, P), alloc(0x11000, P)],
    expect: all({
      results: [at(0x10000), OK, OK, at(0x11000)],
      entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'X'), e(0x11000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000, 'X')],
      refs: { X: 2 },
      resident: { X: [0] },
      first_free: 'header',
    }),
  },
  {
    name: 'untouched heap: the same hole refilled joins again at L2',
    spec: '§2.5.1, §6.4',
    ops: [alloc(0x10000, 4 * P), dealloc(0x11000, P), alloc(0x11000, P)],
    expect: {
      L0: { results: [at(0x10000), OK, at(0x11000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L1: { results: [at(0x10000), OK, at(0x11000)], entries: [e(0x10000, 0x12000), e(0x12000, 0x14000, 'RW/RWX', 0x2000)] },
      L2: { results: [at(0x10000), OK, at(0x11000)], entries: [e(0x10000, 0x14000)] },
    },
  },
  {
    name: 'a NULL range in front of a solely referenced object with room merges at L1/L2 and discards stale pages (O4b)',
    spec: '§2.1 O4b, §2.5.2, §4',
    ops: [alloc(0x10000, 3 * P), touch(0x11000, 'X'), touch(0x12000), dealloc(0x10000, 2 * P), alloc(0x11000, P)],
    expect: {
      L0: {
        results: [at(0x10000), OK, OK, OK, at(0x11000)],
        entries: [e(0x11000, 0x12000), e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'X')],
        refs: { X: 1 },
        resident: { X: [0x1000, 0x2000] },
      },
      L1: { results: [at(0x10000), OK, OK, OK, at(0x11000)], entries: [e(0x11000, 0x13000, 'RW/RWX', 0x1000, 'X')], refs: { X: 1 }, resident: { X: [0x2000] } },
      L2: { results: [at(0x10000), OK, OK, OK, at(0x11000)], entries: [e(0x11000, 0x13000, 'RW/RWX', 0x1000, 'X')], refs: { X: 1 }, resident: { X: [0x2000] } },
    },
  },
  {
    name: 'a NULL range in front of an object at offset 0 has no room: never merged',
    spec: '§2.1 O4b',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), alloc(0xf000, P)],
    expect: all({
      results: [at(0x10000), OK, at(0xf000)],
      entries: [e(0xf000, 0x10000), e(0x10000, 0x12000, 'RW/RWX', 0, 'X')],
      refs: { X: 1 },
      first_free: 'header',
    }),
  },
  {
    name: 'hole fill after a touched entry: L2 also appends the zero-fill entry after it to the object',
    spec: '§2.5.1, §2.1 O4a',
    ops: [alloc(0x10000, P), touch(0x10000, 'X'), alloc(0x12000, P), alloc(0x11000, P)],
    expect: {
      L0: { results: [at(0x10000), OK, at(0x12000), at(0x11000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X'), e(0x12000, 0x13000)], refs: { X: 1 } },
      L1: { results: [at(0x10000), OK, at(0x12000), at(0x11000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X'), e(0x12000, 0x13000)], refs: { X: 1 } },
      L2: { results: [at(0x10000), OK, at(0x12000), at(0x11000)], entries: [e(0x10000, 0x13000, 'RW/RWX', 0, 'X')], refs: { X: 1 } },
    },
  },
  {
    name: 'two touched neighbours never merge, even around a refilled hole (O3)',
    spec: '§2.1 O3',
    ops: [alloc(0x10000, P), touch(0x10000, 'X'), alloc(0x12000, P), touch(0x12000, 'Y'), alloc(0x11000, P)],
    expect: all({
      results: [at(0x10000), OK, at(0x12000), OK, at(0x11000)],
      entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X'), e(0x12000, 0x13000, 'RW/RWX', 0, 'Y')],
      refs: { X: 1, Y: 1 },
    }),
  },
  {
    name: 'a zero-fill hole fill before an object at offset 0: L2 refuses to chain it (no room)',
    spec: '§2.1 O4b, §2.4',
    ops: [alloc(0x10000, P), alloc(0x12000, P), touch(0x12000, 'Y'), alloc(0x11000, P)],
    expect: all({
      results: [at(0x10000), at(0x12000), OK, at(0x11000)],
      entries: [e(0x10000, 0x12000), e(0x12000, 0x13000, 'RW/RWX', 0, 'Y')],
      refs: { Y: 1 },
    }),
  },
  {
    name: 'L2 chains a zero-fill hole fill onto a solely referenced object that has room (O4b through C)',
    spec: '§2.3, §2.1 O4b',
    ops: [alloc(0x10000, 4 * P), touch(0x13000, 'X'), dealloc(0x10000, 3 * P), alloc(0x10000, P), alloc(0x11000, 2 * P)],
    expect: {
      L0: {
        results: [at(0x10000), OK, OK, at(0x10000), at(0x11000)],
        entries: [e(0x10000, 0x13000), e(0x13000, 0x14000, 'RW/RWX', 0x3000, 'X')],
        refs: { X: 1 },
        resident: { X: [0x3000] },
      },
      L1: {
        results: [at(0x10000), OK, OK, at(0x10000), at(0x11000)],
        entries: [e(0x10000, 0x13000), e(0x13000, 0x14000, 'RW/RWX', 0x3000, 'X')],
        refs: { X: 1 },
        resident: { X: [0x3000] },
      },
      L2: { results: [at(0x10000), OK, OK, at(0x10000), at(0x11000)], entries: [e(0x10000, 0x14000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0x3000] } },
    },
  },
  {
    name: 're-extending a partly deallocated object discards the pages left in the re-covered range',
    spec: '§4, §2.1 O4a',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), touch(0x11000), dealloc(0x11000, P), alloc(0x11000, P)],
    expect: all({ results: [at(0x10000), OK, OK, OK, at(0x11000)], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0] } }),
  },
  {
    name: 'pages of a partly deallocated object linger at every level (eager release needs ref_count 1)',
    spec: '§4',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), touch(0x11000), dealloc(0x11000, P)],
    expect: all({ results: [at(0x10000), OK, OK, OK], entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0, 0x1000] } }),
  },
  {
    name: 'deallocating a touched region entirely terminates its object',
    spec: '§1.6, §4',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), dealloc(0x10000, 2 * P)],
    expect: all({ results: [at(0x10000), OK, OK], entries: [], refs: { X: 0 }, resident: { X: [] } }),
  },

  // ---------------------------------------------------------------- §6.4 glibc arenas
  {
    name: 'glibc arena: a PROT_NONE reservation grown by vm_protect slices (one entry per growth at L0/L1)',
    spec: '§6.4',
    ops: [map(0x100000, 0x10000, { cur: NONE }), protect(0x100000, P, RW), protect(0x101000, P, RW), protect(0x102000, 2 * P, RW)],
    expect: {
      L0: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x101000), e(0x101000, 0x102000, 'RW/RWX', 0x1000), e(0x102000, 0x104000, 'RW/RWX', 0x2000), e(0x104000, 0x110000, '0/RWX', 0x4000)],
      },
      L1: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x101000), e(0x101000, 0x102000, 'RW/RWX', 0x1000), e(0x102000, 0x104000, 'RW/RWX', 0x2000), e(0x104000, 0x110000, '0/RWX', 0x4000)],
      },
      L2: { results: [at(0x100000), OK, OK, OK], entries: [e(0x100000, 0x104000), e(0x104000, 0x110000, '0/RWX', 0x4000)] },
    },
  },
  {
    name: 'glibc arena shrink and regrow: L2 glues the NONE tail (offset reset) and the heap',
    spec: '§6.4, §2.5.5',
    ops: [map(0x100000, 0x8000, { cur: NONE }), protect(0x100000, 4 * P, RW), protect(0x102000, 2 * P, NONE), protect(0x102000, 2 * P, RW)],
    expect: {
      L0: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x102000), e(0x102000, 0x104000, 'RW/RWX', 0x2000), e(0x104000, 0x108000, '0/RWX', 0x4000)],
      },
      L1: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x102000), e(0x102000, 0x104000, 'RW/RWX', 0x2000), e(0x104000, 0x108000, '0/RWX', 0x4000)],
      },
      L2: { results: [at(0x100000), OK, OK, OK], entries: [e(0x100000, 0x104000), e(0x104000, 0x108000, '0/RWX', 0x2000)] },
    },
  },
  {
    name: 'glibc arena with a touched heap: L2 still glues the next slice onto the heap object (O4a)',
    spec: '§6.4, §2.1 O4a',
    ops: [map(0x100000, 0x10000, { cur: NONE }), protect(0x100000, P, RW), touch(0x100000, 'H'), protect(0x101000, P, RW)],
    expect: {
      L0: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x101000, 'RW/RWX', 0, 'H'), e(0x101000, 0x102000, 'RW/RWX', 0x1000), e(0x102000, 0x110000, '0/RWX', 0x2000)],
        refs: { H: 1 },
      },
      L1: {
        results: [at(0x100000), OK, OK, OK],
        entries: [e(0x100000, 0x101000, 'RW/RWX', 0, 'H'), e(0x101000, 0x102000, 'RW/RWX', 0x1000), e(0x102000, 0x110000, '0/RWX', 0x2000)],
        refs: { H: 1 },
      },
      L2: { results: [at(0x100000), OK, OK, OK], entries: [e(0x100000, 0x102000, 'RW/RWX', 0, 'H'), e(0x102000, 0x110000, '0/RWX', 0x2000)], refs: { H: 1 } },
    },
  },
  {
    name: 'vm_protect over a whole region glues all its earlier splits at L2',
    spec: '§2.4',
    ops: [alloc(0x10000, 4 * P), protect(0x11000, P, R), protect(0x13000, P, R), protect(0x10000, 4 * P, RW)],
    expect: {
      L0: {
        results: [at(0x10000), OK, OK, OK],
        entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000), e(0x13000, 0x14000, 'RW/RWX', 0x3000)],
      },
      L1: {
        results: [at(0x10000), OK, OK, OK],
        entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000), e(0x13000, 0x14000, 'RW/RWX', 0x3000)],
      },
      L2: { results: [at(0x10000), OK, OK, OK], entries: [e(0x10000, 0x14000)] },
    },
  },
  {
    name: 'L2 vm_protect merges the unchanged entry after the range once attributes match',
    spec: '§2.4',
    ops: [alloc(0x10000, P), map(0x11000, P, { cur: R }), protect(0x10000, P, R)],
    expect: {
      L0: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x12000, 'R/RWX')] },
      L1: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x12000, 'R/RWX')] },
      L2: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x12000, 'R/RWX')] },
    },
  },
  {
    name: 'L2 vm_protect merges an updated entry into a predecessor outside the range',
    spec: '§2.4',
    ops: [alloc(0x10000, P), map(0x11000, P, { cur: R }), protect(0x11000, P, RW)],
    expect: {
      L0: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000)] },
      L1: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000)] },
      L2: { results: [at(0x10000), at(0x11000), OK], entries: [e(0x10000, 0x12000)] },
    },
  },
  {
    name: 'vm_protect across a hole updates both sides and skips the hole',
    spec: '§8.3',
    ops: [alloc(0x10000, P), alloc(0x12000, P), protect(0x10000, 3 * P, R)],
    expect: all({ results: [at(0x10000), at(0x12000), OK], entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x12000, 0x13000, 'R/RWX')] }),
  },

  // ---------------------------------------------------------------- §8.1 the anywhere allocator
  {
    name: 'anywhere never uses the space before the first entry',
    spec: '§8.1',
    ops: [alloc(0x10000, P), anywhere(P)],
    expect: all({ results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x12000)], first_free: 'header' }),
  },
  {
    name: 'anywhere is best fit, not first fit',
    spec: '§8.1',
    ops: [alloc(0x10000, P), alloc(0x15000, P), alloc(0x18000, P), anywhere(2 * P)],
    expect: {
      L0: { results: [at(0x10000), at(0x15000), at(0x18000), at(0x16000)], entries: [e(0x10000, 0x11000), e(0x15000, 0x18000), e(0x18000, 0x19000)] },
      L1: { results: [at(0x10000), at(0x15000), at(0x18000), at(0x16000)], entries: [e(0x10000, 0x11000), e(0x15000, 0x18000), e(0x18000, 0x19000)] },
      L2: { results: [at(0x10000), at(0x15000), at(0x18000), at(0x16000)], entries: [e(0x10000, 0x11000), e(0x15000, 0x19000)] },
    },
  },
  {
    name: 'anywhere tie rule: among equal gaps the most recently filed wins',
    spec: '§8.1 ties',
    ops: [alloc(0x10000, P), alloc(0x12000, P), alloc(0x14000, P), anywhere(P)],
    expect: {
      L0: { results: [at(0x10000), at(0x12000), at(0x14000), at(0x13000)], entries: [e(0x10000, 0x11000), e(0x12000, 0x14000), e(0x14000, 0x15000)] },
      L1: { results: [at(0x10000), at(0x12000), at(0x14000), at(0x13000)], entries: [e(0x10000, 0x11000), e(0x12000, 0x14000), e(0x14000, 0x15000)] },
      L2: { results: [at(0x10000), at(0x12000), at(0x14000), at(0x13000)], entries: [e(0x10000, 0x11000), e(0x12000, 0x15000)] },
    },
  },
  {
    name: 'anywhere tie rule: clip_end re-files the gap on the back piece, which then wins',
    spec: '§8.1 ties, §3',
    ops: [alloc(0x10000, 2 * P), alloc(0x13000, P), alloc(0x15000, P), protect(0x10000, P, R), anywhere(P)],
    expect: {
      L0: {
        results: [at(0x10000), at(0x13000), at(0x15000), OK, at(0x12000)],
        entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x13000, 'RW/RWX', 0x1000), e(0x13000, 0x14000), e(0x15000, 0x16000)],
      },
      L1: {
        results: [at(0x10000), at(0x13000), at(0x15000), OK, at(0x12000)],
        entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x13000), e(0x13000, 0x14000), e(0x15000, 0x16000)],
      },
      L2: {
        results: [at(0x10000), at(0x13000), at(0x15000), OK, at(0x12000)],
        entries: [e(0x10000, 0x11000, 'R/RWX'), e(0x11000, 0x14000), e(0x15000, 0x16000)],
      },
    },
  },
  {
    name: 'an aligned anywhere mapping skips past first_free, which does not move',
    spec: '§8.1, §8.2',
    ops: [map(0, P, { anywhere: true, mask: 0xffff }), map(0, P, { anywhere: true, mask: 0xffff })],
    expect: all({ results: [at(0), at(0x10000)], entries: [e(0, 0x1000), e(0x10000, 0x11000)], first_free: 0 }),
  },
  {
    name: 'a fixed vm_map that violates the mask is NO_SPACE',
    spec: '§2.2 E0, §8.3',
    ops: [map(0x11000, P, { mask: 0xffff }), map(0x20000, P, { mask: 0xffff })],
    expect: all({ results: [KERN_NO_SPACE, at(0x20000)], entries: [e(0x20000, 0x21000)] }),
  },
  {
    name: 'NO_SPACE when no gap is large enough; first_free still finds an exact fit',
    spec: '§8.1',
    map: { max: 0x20000 },
    ops: [alloc(0, 0x10000), alloc(0x11000, 0xf000), anywhere(2 * P), anywhere(P)],
    expect: {
      L0: { results: [at(0), at(0x11000), KERN_NO_SPACE, at(0x10000)], entries: [e(0, 0x11000), e(0x11000, 0x20000)], first_free: 0 },
      L1: { results: [at(0), at(0x11000), KERN_NO_SPACE, at(0x10000)], entries: [e(0, 0x11000), e(0x11000, 0x20000)], first_free: 0 },
      L2: { results: [at(0), at(0x11000), KERN_NO_SPACE, at(0x10000)], entries: [e(0, 0x20000)], first_free: 0 },
    },
  },
  {
    name: 'first_free after a delete moves back before the hole, and anywhere refills it',
    spec: '§8.2, §8.1',
    ops: [alloc(0, 3 * P), protect(P, P, R), dealloc(P, P), anywhere(P)],
    expect: {
      L0: { results: [at(0), OK, OK, at(P)], entries: [e(0, 0x2000), e(0x2000, 0x3000, 'RW/RWX', 0x2000)], first_free: 0 },
      L1: { results: [at(0), OK, OK, at(P)], entries: [e(0, 0x2000), e(0x2000, 0x3000, 'RW/RWX', 0x2000)], first_free: 0 },
      L2: { results: [at(0), OK, OK, at(P)], entries: [e(0, 0x3000)], first_free: 0 },
    },
  },
  {
    name: 'first_free stuck on a clipped record with no gap: anywhere falls back to best fit',
    spec: '§8.2 clipping, §8.1',
    ops: [alloc(0, 2 * P), alloc(0x10000, P), protect(0, P, R), anywhere(P)],
    expect: {
      L0: { results: [at(0), at(0x10000), OK, at(0x2000)], entries: [e(0, 0x1000, 'R/RWX'), e(0x1000, 0x3000, 'RW/RWX', 0x1000), e(0x10000, 0x11000)], first_free: 0 },
      L1: { results: [at(0), at(0x10000), OK, at(0x2000)], entries: [e(0, 0x1000, 'R/RWX'), e(0x1000, 0x3000), e(0x10000, 0x11000)], first_free: 0 },
      L2: { results: [at(0), at(0x10000), OK, at(0x2000)], entries: [e(0, 0x1000, 'R/RWX'), e(0x1000, 0x3000), e(0x10000, 0x11000)], first_free: 0 },
    },
  },
  {
    name: 'first_free follows a record through a vm_protect split; a delete moves it before the hole',
    spec: '§8.2, §1.5',
    ops: [alloc(0, 4 * P), protect(0x2000, P, R), dealloc(P, P), anywhere(P)],
    expect: all({
      results: [at(0), OK, OK, at(P)],
      entries: [e(0, 0x2000), e(0x2000, 0x3000, 'R/RWX', 0x2000), e(0x3000, 0x4000, 'RW/RWX', 0x3000)],
      first_free: 0,
    }),
  },
  {
    name: 'a fixed allocation away from first_free does not move it',
    spec: '§8.2 E3',
    ops: [alloc(0x10000, P), alloc(0, P), alloc(0x20000, P), anywhere(P)],
    expect: all({ results: [at(0x10000), at(0), at(0x20000), at(P)], entries: [e(0, 0x2000), e(0x10000, 0x11000), e(0x20000, 0x21000)], first_free: 0 }),
  },
  {
    name: 'deleting everything resets first_free to the header',
    spec: '§8.2',
    ops: [alloc(0, 2 * P), dealloc(0, 2 * P), anywhere(P)],
    expect: all({ results: [at(0), OK, at(0)], entries: [e(0, 0x1000)], first_free: 0 }),
  },
  {
    name: 'E2 leaves first_free alone, which changes where a later anywhere goes looking',
    spec: '§8.2 E1/E2',
    ops: [alloc(P, P), alloc(0, P), anywhere(P)],
    expect: {
      L0: { results: [at(P), at(0), at(0x2000)], entries: [e(0, 0x1000), e(0x1000, 0x3000)], first_free: 0 },
      L1: { results: [at(P), at(0), at(0x2000)], entries: [e(0, 0x3000)], first_free: 'header' },
      L2: { results: [at(P), at(0), at(0x2000)], entries: [e(0, 0x3000)], first_free: 'header' },
    },
  },
  {
    name: 'an aligned anywhere mapping that ends at the next entry extends it downwards at L1/L2',
    spec: '§8.1, §2.2 E2',
    ops: [alloc(0, P), alloc(0x11000, P), map(0, P, { anywhere: true, mask: 0xffff })],
    expect: {
      L0: { results: [at(0), at(0x11000), at(0x10000)], entries: [e(0, 0x1000), e(0x10000, 0x11000), e(0x11000, 0x12000)], first_free: 0 },
      L1: { results: [at(0), at(0x11000), at(0x10000)], entries: [e(0, 0x1000), e(0x10000, 0x12000)], first_free: 0 },
      L2: { results: [at(0), at(0x11000), at(0x10000)], entries: [e(0, 0x1000), e(0x10000, 0x12000)], first_free: 0 },
    },
  },
  {
    name: 'min_offset: the first anywhere mapping starts there; below it is INVALID_ADDRESS',
    spec: '§8.1, §2.2 E0',
    map: { min: 0x1000 },
    ops: [anywhere(2 * P), alloc(0, P)],
    expect: all({ results: [at(0x1000), KERN_INVALID_ADDRESS], entries: [e(0x1000, 0x3000)], first_free: 0x1000 }),
  },
  {
    name: '64-bit map: an entry ending at max_offset leaves no indexed gap',
    spec: '§1.1, §8.1',
    map: { word_bits: 64, max: 0x800000000000 },
    ops: [alloc(0x7ffffffff000, P), anywhere(P), alloc(0x7fffffffe000, 2 * P), alloc(0x7fffffffe000, P)],
    expect: {
      L0: { results: [at(0x7ffffffff000), KERN_NO_SPACE, KERN_NO_SPACE, at(0x7fffffffe000)], entries: [e(0x7fffffffe000, 0x7ffffffff000), e(0x7ffffffff000, 0x800000000000)] },
      L1: { results: [at(0x7ffffffff000), KERN_NO_SPACE, KERN_NO_SPACE, at(0x7fffffffe000)], entries: [e(0x7fffffffe000, 0x800000000000)] },
      L2: { results: [at(0x7ffffffff000), KERN_NO_SPACE, KERN_NO_SPACE, at(0x7fffffffe000)], entries: [e(0x7fffffffe000, 0x800000000000)] },
    },
  },

  // ---------------------------------------------------------------- §2.2 E0, §8.3 argument handling
  {
    name: 'vm_allocate errors: overlap, out of the map, wrap-around, size rounding to 0, size 0',
    spec: '§8.3, §2.2 E0',
    ops: [alloc(0x10000, 2 * P), alloc(0x11000, P), alloc(0xf000, 2 * P), alloc(0xbffff000, 2 * P), alloc(0xfffff000, 2 * P), alloc(0, 0xfffff001), alloc(0x5000, 0)],
    expect: all({
      results: [at(0x10000), KERN_NO_SPACE, KERN_NO_SPACE, KERN_INVALID_ADDRESS, KERN_INVALID_ADDRESS, KERN_INVALID_ARGUMENT, at(0)],
      entries: [e(0x10000, 0x12000)],
    }),
  },
  {
    name: 'vm_allocate truncates the address and rounds the size separately',
    spec: '§8.3',
    ops: [alloc(0x10800, P), alloc(0x11000, 0x800)],
    expect: all({ results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x12000)] }),
  },
  {
    name: 'vm_map argument errors',
    spec: '§8.3',
    ops: [map(0x10000, P, { cur: 8 }), map(0x10000, P, { max: 0x10 }), map(0x10000, P, { inherit: 3 }), map(0x10000, 0), map(0x10800, P, { mask: 0xfff })],
    expect: all({
      results: [KERN_INVALID_ARGUMENT, KERN_INVALID_ARGUMENT, KERN_INVALID_ARGUMENT, KERN_INVALID_ARGUMENT, at(0x10000)],
      entries: [e(0x10000, 0x11000)],
    }),
  },
  {
    name: 'vm_map of MACH_PORT_NULL ignores offset and copy; current may exceed max',
    spec: '§8.3',
    ops: [map(0x10000, P, { offset: 0x7000, copy: true, cur: RWX, max: R }), alloc(0x11000, P)],
    expect: all({ results: [at(0x10000), at(0x11000)], entries: [e(0x10000, 0x11000, 'RWX/R'), e(0x11000, 0x12000)] }),
  },
  {
    name: 'vm_map copy of a file maps a delayed copy (needs_copy); a second copy reuses it and merges at L1/L2',
    spec: '§8.3 vm_map copy, §2.1 O2',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F', copy: true }), map(0x11000, P, { object: 'F', offset: 0x1000, copy: true })],
    expect: {
      L0: { results: [at(0x10000), at(0x11000)], entries: [enc(0x10000, 0x11000, 'RW/RWX', 0, '$1'), enc(0x11000, 0x12000, 'RW/RWX', 0x1000, '$1')], refs: { F: 2 } },
      L1: { results: [at(0x10000), at(0x11000)], entries: [enc(0x10000, 0x12000, 'RW/RWX', 0, '$1')], refs: { F: 2 } },
      L2: { results: [at(0x10000), at(0x11000)], entries: [enc(0x10000, 0x12000, 'RW/RWX', 0, '$1')], refs: { F: 2 } },
    },
  },
  {
    name: 'vm_map copy of a file with the "none" strategy maps a private copy that zero-fill memory extends',
    spec: '§8.3 vm_map copy, §2.1 O4a',
    objects: { F: { size: 0x10000, external: true, copy_strategy: 'none' } },
    ops: [map(0x10000, 2 * P, { object: 'F', offset: 0x2000, copy: true }), alloc(0x12000, P)],
    expect: all({ results: [at(0x10000), at(0x12000)], entries: [e(0x10000, 0x13000, 'RW/RWX', 0, '$1')], refs: { F: 1 } }),
  },
  {
    name: 'forward extension needs the same maximum protection',
    spec: '§2.2 E2',
    ops: [map(0x12000, P, { max: RW }), alloc(0x11000, P)],
    expect: all({ results: [at(0x12000), at(0x11000)], entries: [e(0x11000, 0x12000), e(0x12000, 0x13000, 'RW/RW')] }),
  },

  // ---------------------------------------------------------------- §8.3 vm_deallocate, §5.1 vm_region
  {
    name: 'vm_deallocate over several entries and holes, clipping at both ends',
    spec: '§8.3, §3',
    ops: [alloc(0x10000, 4 * P), protect(0x11000, P, R), alloc(0x16000, 2 * P), dealloc(0x10800, 0x6000)],
    expect: all({ results: [at(0x10000), OK, at(0x16000), OK], entries: [e(0x17000, 0x18000, 'RW/RWX', 0x1000)], first_free: 'header' }),
  },
  {
    name: 'vm_deallocate of the middle splits an entry at every level',
    spec: '§2.4 never merges',
    ops: [alloc(0x10000, 3 * P), dealloc(0x11000, P), protect(0x10000, 3 * P, RW)],
    expect: all({ results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x11000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)] }),
  },
  {
    name: 'vm_deallocate of size 0 does nothing, a range past the map is clamped',
    spec: '§8.3',
    ops: [alloc(0x10000, 2 * P), dealloc(0x11000, 0), dealloc(0xbffff000, 0x2000)],
    expect: all({ results: [at(0x10000), OK, OK], entries: [e(0x10000, 0x12000)] }),
  },
  {
    name: 'a vm_deallocate range that wraps around clips at its end and removes nothing',
    spec: '§8.3',
    ops: [alloc(0xf000, 3 * P), dealloc(0x11000, 0xfffff000)],
    expect: all({ results: [at(0xf000), OK], entries: [e(0xf000, 0x10000), e(0x10000, 0x12000, 'RW/RWX', 0x1000)] }),
  },
  {
    name: 'vm_region reports the entry containing the address or the next one, then NO_SPACE',
    spec: '§5.1',
    ops: [alloc(0x10000, 2 * P), alloc(0x20000, P), regionAt(0x5000), regionAt(0x11fff), regionAt(0x12000), regionAt(0x21000)],
    expect: all({
      results: [at(0x10000), at(0x20000), region(0x10000, 0x2000), region(0x10000, 0x2000), region(0x20000, 0x1000), KERN_NO_SPACE],
      entries: [e(0x10000, 0x12000), e(0x20000, 0x21000)],
    }),
  },
  {
    name: 'vm_region after a glue sees the merged entry',
    spec: '§5.1, §2.4',
    ops: [alloc(0x10000, 3 * P), protect(0x11000, P, R), protect(0x11000, P, RW), regionAt(0x12000)],
    expect: {
      L0: { results: [at(0x10000), OK, OK, region(0x12000, 0x1000)], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)] },
      L1: { results: [at(0x10000), OK, OK, region(0x12000, 0x1000)], entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)] },
      L2: { results: [at(0x10000), OK, OK, region(0x10000, 0x3000)], entries: [e(0x10000, 0x13000)] },
    },
  },
  {
    name: 'touching a clipped zero-fill piece gives it an object at offset 0',
    spec: '§8.4',
    ops: [alloc(0x10000, 3 * P), dealloc(0x10000, P), touch(0x12000, 'X')],
    expect: all({ results: [at(0x10000), OK, OK], entries: [e(0x11000, 0x13000, 'RW/RWX', 0, 'X')], refs: { X: 1 }, resident: { X: [0x1000] } }),
  },
  {
    name: 'a fault on an address outside every entry fails',
    spec: '§8.4',
    ops: [alloc(0x10000, P), touch(0x20000)],
    expect: all({ results: [at(0x10000), KERN_INVALID_ADDRESS], entries: [e(0x10000, 0x11000)] }),
  },
  // ---------------------------------------------------------------- §6.2, §6.3 OOL: entry lists
  {
    name: 'OOL send without dealloc splits the sender\'s entry in three; the receiver\'s copy is never merged',
    spec: '§6.2, §6.3 entry list',
    ops: [alloc(0x10000, 3 * P), send(0x11000, P), task('b'), alloc(0, P), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, at(0), got(P)],
      entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, 'RW/RWX', 0x2000)],
      tasks: { b: [e(0, P), e(P, 2 * P, 'RW/RWX', 0x1000)] },
      first_free: 'header',
    }),
  },
  {
    name: 'OOL send of touched memory without dealloc: symmetric copy-on-write, needs_copy on both sides',
    spec: '§6.2 symmetric copy',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), send(0x10000, P), task('b'), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, OK, got(0)],
      entries: [enc(0x10000, 0x11000, 'RW/RWX', 0, 'X'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'X')],
      tasks: { b: [enc(0, P, 'RW/RWX', 0, 'X')] },
      refs: { X: 3 },
    }),
  },
  {
    name: 'OOL send with dealloc: the range leaves the sender and its object moves to the receiver',
    spec: '§6.2 src_destroy, §4',
    ops: [alloc(0x10000, 3 * P), touch(0x10000, 'X'), send(0x10000, 2 * P, true), task('b'), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, OK, got(0)],
      entries: [e(0x12000, 0x13000, 'RW/RWX', 0x2000, 'X')],
      tasks: { b: [e(0, 2 * P, 'RW/RWX', 0, 'X')] },
      refs: { X: 2 },
      resident: { X: [0] },
      first_free: 'header',
    }),
  },
  {
    name: 'OOL send from a hole is MACH_SEND_INVALID_MEMORY; a hole after the start leaves its clip; nothing in flight times out',
    spec: '§6.2 errors',
    ops: [alloc(0x10000, 2 * P), send(0x20000, P), send(0x11000, 2 * P), receive()],
    expect: all({
      results: [at(0x10000), MACH_SEND_INVALID_MEMORY, MACH_SEND_INVALID_MEMORY, MACH_RCV_TIMED_OUT],
      entries: [e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000)],
    }),
  },
  {
    name: 'OOL send over an unreadable page fails after clipping at the start (the clip stays, even at L2)',
    spec: '§6.2 errors, §3',
    ops: [alloc(0x10000, 4 * P), protect(0x12000, P, NONE), send(0x11000, 2 * P)],
    expect: all({
      results: [at(0x10000), OK, MACH_SEND_INVALID_MEMORY],
      entries: [
        e(0x10000, 0x11000), e(0x11000, 0x12000, 'RW/RWX', 0x1000), e(0x12000, 0x13000, '0/RWX', 0x2000), e(0x13000, 0x14000, 'RW/RWX', 0x3000),
      ],
    }),
  },
  {
    name: 'an entry list received into an exact hole stays separate at every level (a vm_allocate there would merge at L2)',
    spec: '§6.3 entry list, §8.2 copyout',
    ops: [alloc(0x10000, P), alloc(0, P), alloc(0x2000, P), send(0x10000, P), receive()],
    expect: all({
      results: [at(0x10000), at(0), at(0x2000), OK, got(P)],
      entries: [e(0, P), e(P, 2 * P), e(2 * P, 3 * P), e(0x10000, 0x11000)],
      first_free: P,
    }),
  },
  {
    name: 'regions in flight are received first in, first out, side by side and unmerged',
    spec: '§6.3 entry list',
    ops: [alloc(0x10000, P), alloc(0x20000, 2 * P), send(0x20000, 2 * P), send(0x10000, P), task('b'), receive(), receive()],
    expect: all({
      results: [at(0x10000), at(0x20000), OK, OK, OK, got(0), got(2 * P)],
      entries: [e(0x10000, 0x11000), e(0x20000, 0x22000)],
      tasks: { b: [e(0, 2 * P), e(2 * P, 3 * P)] },
    }),
  },
  {
    name: 'a receive that finds no room is MACH_RCV_BODY_ERROR|MACH_MSG_VM_SPACE and the region is dropped',
    spec: '§6.3, ipc_kmsg_copyout_body',
    map: { max: 0x3000 },
    ops: [alloc(0, 2 * P), send(0, 2 * P), task('b'), alloc(0, 2 * P), receive()],
    expect: all({
      results: [at(0), OK, OK, at(0), MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE],
      entries: [e(0, 2 * P)],
      tasks: { b: [e(0, 2 * P)] },
    }),
  },

  // ---------------------------------------------------------------- §6.3 OOL: object copies (E rules)
  {
    name: 'an object copy never extends a zero-fill entry before it (O4b: its offset 0 leaves no room)',
    spec: '§6.3 object, §2.1 O4b',
    ops: [alloc(0, P), receiveObject(P)],
    expect: all({ results: [at(0), got(P)], entries: [e(0, P), e(P, 2 * P, 'RW/RWX', 0, '$1')], first_free: P }),
  },
  {
    name: 'an object copy that exactly fills a hole is taken over by the zero-fill entry after it at L1/L2 (E2, O4a)',
    spec: '§6.3 object, §2.2 E2',
    ops: [alloc(0, P), alloc(0x2000, P), receiveObject(P)],
    expect: {
      L0: { results: [at(0), at(0x2000), got(P)], entries: [e(0, P), e(P, 2 * P, 'RW/RWX', 0, '$1'), e(2 * P, 3 * P)], first_free: P },
      L1: { results: [at(0), at(0x2000), got(P)], entries: [e(0, P), e(P, 3 * P, 'RW/RWX', 0, '$1')], first_free: 0 },
      L2: { results: [at(0), at(0x2000), got(P)], entries: [e(0, P), e(P, 3 * P, 'RW/RWX', 0, '$1')], first_free: 0 },
    },
  },
  {
    name: 'two object copies side by side never merge (O3)',
    spec: '§6.3 object, §2.1 O3',
    ops: [receiveObject(P), receiveObject(P)],
    expect: all({ results: [got(0), got(P)], entries: [e(0, P, 'RW/RWX', 0, '$1'), e(P, 2 * P, 'RW/RWX', 0, '$2')], first_free: P }),
  },
  {
    name: 'a zero-fill allocation after an object copy extends its object at every level (O4a)',
    spec: '§6.3 object, §2.1 O4a',
    ops: [receiveObject(P), anywhere(P)],
    expect: all({ results: [got(0), at(P)], entries: [e(0, 2 * P, 'RW/RWX', 0, '$1')], first_free: 0 }),
  },

  // ---------------------------------------------------------------- §6.3 OOL: page lists (rule K)
  {
    name: 'a page list extends the zero-fill entry before it backward, which gets an object (rule K)',
    spec: '§6.3 rule K',
    ops: [alloc(0, P), receivePages(P)],
    expect: all({ results: [at(0), got(P)], entries: [e(0, 2 * P, 'RW/RWX', 0, '$1')], first_free: 0 }),
  },
  {
    name: 'a page list extends a solely referenced object backward, but never merges forward (rule K)',
    spec: '§6.3 rule K',
    ops: [alloc(0, P), touch(0, 'X'), alloc(0x2000, P), receivePages(P)],
    expect: all({
      results: [at(0), OK, at(0x2000), got(P)],
      entries: [e(0, 2 * P, 'RW/RWX', 0, 'X'), e(2 * P, 3 * P)],
      refs: { X: 1 },
      resident: { X: [0, P] },
      first_free: 0,
    }),
  },
  {
    name: 'a page list after a read-only entry gets an entry of its own; first_free moves to it',
    spec: '§6.3 rule K, §8.2',
    ops: [alloc(0, P), protect(0, P, R), receivePages(2 * P)],
    expect: all({ results: [at(0), OK, got(P)], entries: [e(0, P, 'R/RWX'), e(P, 3 * P, 'RW/RWX', 0, '$1')], first_free: P }),
  },
  {
    name: 'a page list after a file mapping gets an entry of its own (pager_created)',
    spec: '§6.3 rule K',
    objects: FILE,
    ops: [map(0, P, { object: 'F' }), receivePages(P)],
    expect: all({ results: [at(0), got(P)], entries: [e(0, P, 'RW/RWX', 0, 'F'), e(P, 2 * P, 'RW/RWX', 0, '$1')], refs: { F: 2 } }),
  },

  // ---------------------------------------------------------------- §8.4 fork and inheritance
  {
    name: 'fork: COPY entries become copy-on-write on both sides, NONE entries are left out',
    spec: '§8.4 fork',
    ops: [alloc(0x10000, 2 * P), touch(0x10000, 'X'), alloc(0x20000, P), inherit(0x20000, P, INH_NONE), task('c', 'main')],
    expect: all({
      results: [at(0x10000), OK, at(0x20000), OK, OK],
      entries: [enc(0x10000, 0x12000, 'RW/RWX', 0, 'X'), ei(0x20000, 0x21000, 'RW/RWX', 0, null, 'none')],
      tasks: { c: [enc(0x10000, 0x12000, 'RW/RWX', 0, 'X')] },
      refs: { X: 2 },
    }),
  },
  {
    name: 'fork: untouched memory stays zero-fill on both sides and keeps merging',
    spec: '§8.4 fork',
    ops: [alloc(0x10000, P), task('c', 'main'), task('main'), alloc(0x11000, P)],
    expect: all({
      results: [at(0x10000), OK, OK, at(0x11000)],
      entries: [e(0x10000, 0x12000)],
      tasks: { c: [e(0x10000, 0x11000)] },
    }),
  },
  {
    name: 'fork: SHARE gives both sides one object and is_shared, which blocks any later merge',
    spec: '§8.4 fork, §2.2 E1',
    ops: [alloc(0x10000, P), inherit(0x10000, P, SHARE), task('c', 'main'), task('main'), alloc(0x11000, P)],
    expect: all({
      results: [at(0x10000), OK, OK, OK, at(0x11000)],
      entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, '$1', 'share'), e(0x11000, 0x12000)],
      tasks: { c: [ei(0x10000, 0x11000, 'RW/RWX', 0, '$1', 'share')] },
    }),
  },
  {
    name: 'fork: a SHARE entry that needs a copy first gets a shadow of its own',
    spec: '§8.4 fork',
    ops: [alloc(0x10000, P), touch(0x10000, 'X'), send(0x10000, P), inherit(0x10000, P, SHARE), task('c', 'main')],
    expect: all({
      results: [at(0x10000), OK, OK, OK, OK],
      entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, '$1', 'share')],
      tasks: { c: [ei(0x10000, 0x11000, 'RW/RWX', 0, '$1', 'share')] },
      refs: { X: 2 },
    }),
  },
  {
    name: 'fork: a COPY file mapping gives the child a delayed copy, which a second child shares',
    spec: '§8.4 fork, vm_object_copy_delayed',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), task('c', 'main'), task('d', 'main')],
    expect: all({
      results: [at(0x10000), OK, OK],
      entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F')],
      tasks: { c: [enc(0x10000, 0x12000, 'RW/RWX', 0, '$1')], d: [enc(0x10000, 0x12000, 'RW/RWX', 0, '$1')] },
      refs: { F: 3 },
    }),
  },
  {
    name: 'fork then a write in the parent: the parent gets a shadow, which bypasses the fully hidden object',
    spec: '§8.4, vm_fault copy-on-write, vm_object_collapse',
    ops: [alloc(0x10000, P), touch(0x10000, 'X'), task('c', 'main'), task('main'), touch(0x10000)],
    expect: all({
      results: [at(0x10000), OK, OK, OK, OK],
      entries: [e(0x10000, 0x11000, 'RW/RWX', 0, '$1')],
      tasks: { c: [enc(0x10000, 0x11000, 'RW/RWX', 0, 'X')] },
      refs: { X: 1 },
    }),
  },
  {
    name: 'OOL send of memory shared by fork uses a delayed copy; the child receives it after its shared entry',
    spec: '§6.2 shared copy, §8.1 first_free after fork',
    ops: [alloc(0x10000, P), touch(0x10000, 'X'), inherit(0x10000, P, SHARE), task('c', 'main'), task('main'), send(0x10000, P), task('c'), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, OK, OK, OK, OK, got(0x11000)],
      entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, 'X', 'share')],
      tasks: { c: [ei(0x10000, 0x11000, 'RW/RWX', 0, 'X', 'share'), enc(0x11000, 0x12000, 'RW/RWX', 0, '$1')] },
      refs: { X: 3 },
    }),
  },

  // ---------------------------------------------------------------- pager-backed mappings
  {
    name: 'a write fault on a file mapping makes the page resident in the file object itself',
    spec: '§8.4, vm_fault_page',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), touch(0x11000)],
    expect: all({ results: [at(0x10000), OK], entries: [e(0x10000, 0x12000, 'RW/RWX', 0, 'F')], refs: { F: 2 }, resident: { F: [P] } }),
  },
  {
    name: 'a write to a copy mapping of a file shadows the delayed copy (three objects deep)',
    spec: '§8.3 vm_map copy, §8.4',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F', copy: true }), touch(0x10000, 'S')],
    expect: all({ results: [at(0x10000), OK], entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'S')], refs: { F: 2, S: 1 } }),
  },
  {
    name: 'OOL send of a file mapping: the copy is a delayed copy object; the sender keeps the file, clipped',
    spec: '§6.2 external source',
    objects: FILE,
    ops: [map(0x10000, 2 * P, { object: 'F' }), send(0x10000, P), task('b'), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, got(0)],
      entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F'), e(0x11000, 0x12000, 'RW/RWX', 0x1000, 'F')],
      tasks: { b: [enc(0, P, 'RW/RWX', 0, '$1')] },
      refs: { F: 4 },
    }),
  },
  {
    name: 'OOL send of a file whose pager declares COPY_NONE: a private copy, no needs_copy',
    spec: '§6.2 external source, vm_object_copy_slowly',
    objects: { F: { size: 0x10000, external: true, copy_strategy: 'none' } },
    ops: [map(0x10000, P, { object: 'F' }), send(0x10000, P), task('b'), receive()],
    expect: all({
      results: [at(0x10000), OK, OK, got(0)],
      entries: [e(0x10000, 0x11000, 'RW/RWX', 0, 'F')],
      tasks: { b: [e(0, P, 'RW/RWX', 0, '$1')] },
      refs: { F: 2 },
    }),
  },
  {
    name: 'fork of a file mapping with SHARE: both tasks map the file itself, shared',
    spec: '§8.4 fork',
    objects: FILE,
    ops: [map(0x10000, P, { object: 'F', inherit: SHARE }), task('c', 'main')],
    expect: all({
      results: [at(0x10000), OK],
      entries: [ei(0x10000, 0x11000, 'RW/RWX', 0, 'F', 'share')],
      tasks: { c: [ei(0x10000, 0x11000, 'RW/RWX', 0, 'F', 'share')] },
      refs: { F: 3 },
    }),
  },
];
