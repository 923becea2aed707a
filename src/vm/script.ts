/*
 * File: vm/script.ts
 * Purpose: VM scripts: a sequence of user VM calls on one map, as data, with a replayer and
 *          a snapshot of the resulting map. The conformance scenarios
 *          (test/conformance/vm/scenarios.ts) are written in this form so that a
 *          `tsmach vmsim` runner can replay the same table.
 *
 * Objects are named: declared objects (the script holds one reference on each, as a pager
 * or a file server would), and objects materialised by a `touch` given an `as` name. Any
 * other object is named $1, $2... in order of first appearance in a snapshot.
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import type { VmLevel } from './level.js';
import { vm_map_lookup } from './lookup.js';
import type { VmMap, VmMapOptions } from './map.js';
import { vm_map_create } from './map.js';
import type { VmObject, memory_object_copy_strategy_t } from './object.js';
import { vm_object_allocate, vm_object_allocate_external, vm_page_alloc, vm_page_lookup } from './object.js';
import { trunc_page } from './vm_param.js';
import type { vm_inherit_t, vm_prot_t } from './vm_prot.js';
import {
  VM_INHERIT_DEFAULT,
  VM_INHERIT_NONE,
  VM_INHERIT_SHARE,
  VM_PROT_ALL,
  VM_PROT_DEFAULT,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from './vm_prot.js';
import { vminfo_prot_rep } from './vminfo.js';
import { vm_allocate, vm_deallocate, vm_inherit, vm_map, vm_protect, vm_region } from './vm_user.js';

/** An object a script declares up front. */
export interface VmScriptObject {
  size: number;
  /** An external (pager-backed) object, as vm_object_enter makes for a memory object. Default: internal. */
  external?: boolean;
  /** The copy strategy its pager declares (external objects; default 'delay'). */
  copy_strategy?: memory_object_copy_strategy_t;
}

/** One user call. Defaults: anywhere false, set_max false, vm_map cur RW / max RWX / COPY, mask 0, offset 0. */
export type VmScriptOp =
  | { op: 'allocate'; addr: number; size: number; anywhere?: boolean }
  | { op: 'deallocate'; addr: number; size: number }
  | { op: 'protect'; addr: number; size: number; prot: vm_prot_t; set_max?: boolean }
  | { op: 'inherit'; addr: number; size: number; inherit: vm_inherit_t }
  | {
      op: 'map';
      addr: number;
      size: number;
      mask?: number;
      anywhere?: boolean;
      /** A declared object's name; absent or null: MACH_PORT_NULL. */
      object?: string | null;
      offset?: number;
      copy?: boolean;
      cur?: vm_prot_t;
      max?: vm_prot_t;
      inherit?: vm_inherit_t;
    }
  /**
   * A stand-in for a page fault until the fault work lands: vm_map_lookup, then the page
   * is made resident in the (top) object. `as` names the object behind the address.
   */
  | { op: 'touch'; addr: number; write?: boolean; as?: string }
  | { op: 'region'; addr: number };

/**
 * What a call returned. allocate/map: kr and, on success, the address. region: kr and, on
 * success, the region's address and size. Other calls: kr only.
 */
export interface VmScriptResult {
  kr: number;
  address?: number;
  size?: number;
}

/**
 * One entry as a row: [start, end, "prot/max", offset, object name or null,
 * inheritance when not copy, true when needs_copy]. Protections are written as vminfo
 * writes them: R, W, X letters, "0" for none.
 */
export type VmEntryRow =
  | readonly [start: number, end: number, prot: string, offset: number, object: string | null]
  | readonly [start: number, end: number, prot: string, offset: number, object: string | null, inherit: 'share' | 'none']
  | readonly [start: number, end: number, prot: string, offset: number, object: string | null, inherit: 'share' | 'copy' | 'none', needs_copy: true];

/** The state of a map after a script. */
export interface VmScriptSnapshot {
  entries: VmEntryRow[];
  /** Start of the first_free entry, or 'header'. */
  first_free: number | 'header';
  /** ref_count of every named object (0 once dead). */
  refs: Record<string, number>;
  /** Resident page offsets of every named object, ascending. */
  resident: Record<string, number[]>;
}

/** What a scenario expects at one level. Fields left out are not checked. */
export interface VmScenarioExpect {
  /** One per op: a kr code alone, or the full result. */
  results: (number | VmScriptResult)[];
  entries: VmEntryRow[];
  first_free?: number | 'header';
  refs?: Record<string, number>;
  resident?: Record<string, number[]>;
}

/** A scenario: a script and what each level must make of it. */
export interface VmScenario {
  name: string;
  /** The spec sections it exercises. */
  spec: string;
  map?: Omit<VmMapOptions, 'level'>;
  objects?: Record<string, VmScriptObject>;
  ops: VmScriptOp[];
  expect: Record<VmLevel, VmScenarioExpect>;
}

/** A script being replayed on one map. */
export class VmScriptRun {
  readonly map: VmMap;
  /** Named objects: declared ones, then those named by touch. */
  readonly objects = new Map<string, VmObject>();
  readonly results: VmScriptResult[] = [];

  constructor(level: VmLevel, map: Omit<VmMapOptions, 'level'> = {}, objects: Record<string, VmScriptObject> = {}) {
    this.map = vm_map_create({ ...map, level });
    for (const [name, decl] of Object.entries(objects)) {
      this.objects.set(
        name,
        decl.external ? vm_object_allocate_external(decl.size, decl.copy_strategy ?? 'delay') : vm_object_allocate(decl.size),
      );
    }
  }

  /** Perform one call and record its result. */
  step(op: VmScriptOp): VmScriptResult {
    const result = this.perform(op);
    this.results.push(result);
    return result;
  }

  private perform(op: VmScriptOp): VmScriptResult {
    const map = this.map;
    switch (op.op) {
      case 'allocate': {
        const r = vm_allocate(map, op.addr, op.size, op.anywhere ?? false);
        return r.kr === KERN_SUCCESS ? { kr: r.kr, address: r.address } : { kr: r.kr };
      }
      case 'deallocate':
        return { kr: vm_deallocate(map, op.addr, op.size) };
      case 'protect':
        return { kr: vm_protect(map, op.addr, op.size, op.set_max ?? false, op.prot) };
      case 'inherit':
        return { kr: vm_inherit(map, op.addr, op.size, op.inherit) };
      case 'map': {
        let object: VmObject | null = null;
        if (op.object !== undefined && op.object !== null) {
          const named = this.objects.get(op.object);
          if (named === undefined) throw new Error(`script: no object named ${op.object}`);
          object = named;
        }
        const r = vm_map(
          map,
          op.addr,
          op.size,
          op.mask ?? 0,
          op.anywhere ?? false,
          object,
          op.offset ?? 0,
          op.copy ?? false,
          op.cur ?? VM_PROT_DEFAULT,
          op.max ?? VM_PROT_ALL,
          op.inherit ?? VM_INHERIT_DEFAULT,
        );
        return r.kr === KERN_SUCCESS ? { kr: r.kr, address: r.address } : { kr: r.kr };
      }
      case 'touch': {
        const r = vm_map_lookup(map, op.addr, op.write ? VM_PROT_READ | VM_PROT_WRITE : VM_PROT_READ);
        if (r.kr !== KERN_SUCCESS || r.object === null) return { kr: r.kr };
        const offset = trunc_page(r.offset);
        if (vm_page_lookup(r.object, offset) === null) vm_page_alloc(r.object, offset).dirty = !!op.write;
        if (op.as !== undefined) this.objects.set(op.as, r.object);
        return { kr: r.kr };
      }
      case 'region': {
        const r = vm_region(map, op.addr);
        return r.region === null ? { kr: r.kr } : { kr: r.kr, address: r.region.address, size: r.region.size };
      }
    }
  }

  /** The map's entries and the named objects' state, objects named as described above. */
  snapshot(): VmScriptSnapshot {
    const names = new Map<VmObject, string>();
    for (const [name, object] of this.objects) if (!names.has(object)) names.set(object, name);
    let anonymous = 0;
    const entries: VmEntryRow[] = this.map.entries().map((e) => {
      let object: string | null = null;
      if (e.object !== null) {
        object = names.get(e.object) ?? null;
        if (object === null) {
          object = `$${++anonymous}`;
          names.set(e.object, object);
        }
      }
      const prot = `${vminfo_prot_rep(e.protection)}/${vminfo_prot_rep(e.max_protection)}`;
      const inherit = e.inheritance === VM_INHERIT_SHARE ? 'share' : e.inheritance === VM_INHERIT_NONE ? 'none' : 'copy';
      if (e.needs_copy) return [e.vme_start, e.vme_end, prot, e.offset, object, inherit, true] as const;
      if (inherit !== 'copy') return [e.vme_start, e.vme_end, prot, e.offset, object, inherit] as const;
      return [e.vme_start, e.vme_end, prot, e.offset, object] as const;
    });
    const refs: Record<string, number> = {};
    const resident: Record<string, number[]> = {};
    for (const [name, object] of this.objects) {
      refs[name] = object.ref_count;
      resident[name] = [...object.memq.keys()].sort((a, b) => a - b);
    }
    const ff = this.map.first_free;
    return { entries, first_free: ff === this.map.hdr ? 'header' : ff.vme_start, refs, resident };
  }
}
