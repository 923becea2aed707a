/*
 * File: vm/script.ts
 * Purpose: VM scripts: a sequence of user VM calls on the maps of one or more tasks, as
 *          data, with an in-process replayer, a snapshot of the resulting maps, and the
 *          same script as `tsmach vmsim` text (vm_scenario_script). The conformance
 *          scenarios (test/conformance/vm/scenarios.ts) are written in this form and run
 *          both ways.
 *
 * A script starts in the task `main`; `task` switches to another (made empty, or forked
 * from a task with task_create's vm_map_fork). `send` copies a region in (an out-of-line
 * message in flight, first in first out), `receive` copies the oldest one out into the
 * current task, or a kernel-made region (an object copy, a page list).
 *
 * Objects are named: declared objects (the script holds one reference on each, as a pager
 * or a file server would), and objects materialised by a `touch` given an `as` name. Any
 * other object is named $1, $2... in order of first appearance in a snapshot.
 */

import {
  KERN_SUCCESS, MACH_MSG_SUCCESS, MACH_MSG_VM_SPACE, MACH_RCV_BODY_ERROR, MACH_RCV_TIMED_OUT, MACH_SEND_INVALID_MEMORY,
  kernReturnName,
} from '../mach/kern_return.js';
import { vm_fault } from './fault.js';
import { vm_map_fork } from './fork.js';
import type { VmLevel } from './level.js';
import type { VmMap, VmMapOptions } from './map.js';
import { vm_map_create } from './map.js';
import type { VmMapCopy } from './map_copy.js';
import {
  vm_map_copy_discard, vm_map_copy_object_from_bytes, vm_map_copy_page_list_from_bytes, vm_map_copyin, vm_map_copyout,
} from './map_copy.js';
import type { VmObject, memory_object_copy_strategy_t } from './object.js';
import { vm_object_allocate, vm_object_allocate_external } from './object.js';
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
import { VminfoNames, vminfo, vminfo_prot_rep } from './vminfo.js';
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
  /** A page fault (vm_fault) at addr, a write one unless write is false. `as` names the object behind the address. */
  | { op: 'touch'; addr: number; write?: boolean; as?: string }
  | { op: 'region'; addr: number }
  /** Switch to task `name`, made empty (or forked from task `from`) the first time. */
  | { op: 'task'; name: string; from?: string }
  /** An out-of-line send of [addr, addr + size) from the current task (vm_map_copyin). */
  | { op: 'send'; addr: number; size: number; dealloc?: boolean }
  /**
   * The current task receives: the oldest region in flight (an entry list), or a region
   * the kernel makes of `size` bytes: an object copy, or a page list.
   */
  | { op: 'receive'; format?: 'object' | 'pages'; size?: number };

/**
 * What a call returned. allocate/map: kr and, on success, the address. region: kr and, on
 * success, the region's address and size. receive: the mach_msg code and, on success, the
 * address. send: the mach_msg code. Other calls: kr only.
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
  /** The entries of task `main`. */
  entries: VmEntryRow[];
  /** The entries of the other tasks. */
  tasks: Record<string, VmEntryRow[]>;
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
  /** The entries of task `main`. */
  entries: VmEntryRow[];
  /** The entries of other tasks, by name. */
  tasks?: Record<string, VmEntryRow[]>;
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

/** The task a script starts in. */
export const VM_SCRIPT_MAIN_TASK = 'main';

/** A script being replayed in process, on the maps of its tasks. */
export class VmScriptRun {
  readonly level: VmLevel;
  /** The maps of the tasks, by name, in order of creation. */
  readonly maps = new Map<string, VmMap>();
  /** The current task. */
  current = VM_SCRIPT_MAIN_TASK;
  /** Named objects: declared ones, then those named by touch. */
  readonly objects = new Map<string, VmObject>();
  readonly results: VmScriptResult[] = [];
  /** Regions in flight (sent, not received yet), oldest first. */
  readonly in_flight: Array<VmMapCopy | null> = [];
  private readonly map_options: Omit<VmMapOptions, 'level'>;

  constructor(level: VmLevel, map: Omit<VmMapOptions, 'level'> = {}, objects: Record<string, VmScriptObject> = {}) {
    this.level = level;
    this.map_options = map;
    this.maps.set(VM_SCRIPT_MAIN_TASK, vm_map_create({ ...map, level }));
    for (const [name, decl] of Object.entries(objects)) {
      this.objects.set(
        name,
        decl.external ? vm_object_allocate_external(decl.size, decl.copy_strategy ?? 'delay') : vm_object_allocate(decl.size),
      );
    }
  }

  /** The map of task `main`. */
  get map(): VmMap {
    return this.maps.get(VM_SCRIPT_MAIN_TASK)!;
  }

  /** Perform one call and record its result. */
  step(op: VmScriptOp): VmScriptResult {
    const result = this.perform(op);
    this.results.push(result);
    return result;
  }

  private perform(op: VmScriptOp): VmScriptResult {
    const map = this.maps.get(this.current)!;
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
        const write = op.write ?? true;
        const r = vm_fault(map, op.addr, write ? VM_PROT_READ | VM_PROT_WRITE : VM_PROT_READ);
        if (r.kr !== KERN_SUCCESS || r.page === undefined) return { kr: r.kr ?? KERN_SUCCESS };
        if (op.as !== undefined) this.objects.set(op.as, r.page.object);
        return { kr: KERN_SUCCESS };
      }
      case 'region': {
        const r = vm_region(map, op.addr);
        return r.region === null ? { kr: r.kr } : { kr: r.kr, address: r.region.address, size: r.region.size };
      }
      case 'task': {
        if (!this.maps.has(op.name)) {
          if (op.from !== undefined) {
            const parent = this.maps.get(op.from);
            if (parent === undefined) throw new Error(`script: no task named ${op.from}`);
            this.maps.set(op.name, vm_map_fork(parent));
          } else {
            this.maps.set(op.name, vm_map_create({ ...this.map_options, level: this.level }));
          }
        } else if (op.from !== undefined) {
          throw new Error(`script: task ${op.name} exists already`);
        }
        this.current = op.name;
        return { kr: KERN_SUCCESS };
      }
      case 'send': {
        const r = vm_map_copyin(map, op.addr, op.size, op.dealloc ?? false);
        if (r.kr !== KERN_SUCCESS) return { kr: MACH_SEND_INVALID_MEMORY };
        this.in_flight.push(r.copy);
        return { kr: MACH_MSG_SUCCESS };
      }
      case 'receive': {
        let copy: VmMapCopy | null;
        if (op.format === undefined) {
          if (this.in_flight.length === 0) return { kr: MACH_RCV_TIMED_OUT };
          copy = this.in_flight.shift()!;
        } else {
          const bytes = new Uint8Array(op.size ?? 0);
          if (bytes.length === 0) return { kr: MACH_MSG_SUCCESS };
          copy = op.format === 'object' ? vm_map_copy_object_from_bytes(null, bytes) : vm_map_copy_page_list_from_bytes(bytes);
        }
        if (copy === null || copy.size === 0) return { kr: MACH_MSG_SUCCESS };
        const r = vm_map_copyout(map, copy);
        if (r.kr !== KERN_SUCCESS) {
          vm_map_copy_discard(copy);
          return { kr: MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE };
        }
        return { kr: MACH_MSG_SUCCESS, address: r.address };
      }
    }
  }

  /** The maps' entries and the named objects' state, objects named as described above. */
  snapshot(): VmScriptSnapshot {
    const names = new Map<VmObject, string>();
    for (const [name, object] of this.objects) if (!names.has(object)) names.set(object, name);
    let anonymous = 0;
    const rows = (map: VmMap): VmEntryRow[] => map.entries().map((e) => {
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
    const entries = rows(this.map);
    const tasks: Record<string, VmEntryRow[]> = {};
    for (const [name, map] of this.maps) if (name !== VM_SCRIPT_MAIN_TASK) tasks[name] = rows(map);
    const refs: Record<string, number> = {};
    const resident: Record<string, number[]> = {};
    for (const [name, object] of this.objects) {
      refs[name] = object.ref_count;
      resident[name] = [...object.memq.values()].filter((p) => !p.absent && !p.error).map((p) => p.offset).sort((a, b) => a - b);
    }
    const ff = this.map.first_free;
    return { entries, tasks, first_free: ff === this.map.hdr ? 'header' : ff.vme_start, refs, resident };
  }

  /** vminfo's default output for each task, by name (mem_obj numbered afresh per task, as separate runs would). */
  vminfo(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, map] of this.maps) out[name] = vminfo(map, {}, new VminfoNames());
    return out;
  }
}

/* ==== the same script as vmsim text ================================================= */

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function prot_text(p: vm_prot_t): string {
  return (p & ~VM_PROT_ALL) !== 0 ? hex(p) : p === 0 ? '0' : vminfo_prot_rep(p);
}

function inherit_text(i: vm_inherit_t): string {
  return i === VM_INHERIT_SHARE ? 'share' : i === VM_INHERIT_NONE ? 'none' : i === VM_INHERIT_DEFAULT ? 'copy' : String(i);
}

/** One operation as a vmsim line. */
export function vm_script_op_text(op: VmScriptOp): string {
  switch (op.op) {
    case 'allocate': return `allocate ${op.anywhere ? '*' : hex(op.addr)} ${hex(op.size)}`;
    case 'deallocate': return `deallocate ${hex(op.addr)} ${hex(op.size)}`;
    case 'protect': return `protect ${hex(op.addr)} ${hex(op.size)} ${prot_text(op.prot)}${op.set_max ? ' setmax' : ''}`;
    case 'inherit': return `inherit ${hex(op.addr)} ${hex(op.size)} ${inherit_text(op.inherit)}`;
    case 'map': {
      let line = `map ${op.anywhere ? '*' : hex(op.addr)} ${hex(op.size)} ${op.object ?? 'anon'}`;
      if (op.offset !== undefined && op.offset !== 0) line += ` off=${hex(op.offset)}`;
      if (op.cur !== undefined) line += ` prot=${prot_text(op.cur)}`;
      if (op.max !== undefined) line += ` max=${prot_text(op.max)}`;
      if (op.inherit !== undefined) line += ` inherit=${inherit_text(op.inherit)}`;
      if (op.mask !== undefined && op.mask !== 0) line += ` mask=${hex(op.mask)}`;
      if (op.copy) line += ' copy';
      return line;
    }
    case 'touch': return `touch ${hex(op.addr)}${op.write === false ? ' read' : ''}`;
    case 'region': return `region ${hex(op.addr)}`;
    case 'task': return `task ${op.name}${op.from !== undefined ? ` from ${op.from}` : ''}`;
    case 'send': return `send ${hex(op.addr)} ${hex(op.size)}${op.dealloc ? ' dealloc' : ''}`;
    case 'receive': return op.format === undefined ? 'receive' : `receive ${op.format} ${hex(op.size ?? 0)}`;
  }
}

/** The map options of a task as vmsim `task` options. */
function task_options_text(map: Omit<VmMapOptions, 'level'> | undefined): string {
  if (map === undefined) return '';
  let text = '';
  if (map.min !== undefined) text += ` min=${hex(map.min)}`;
  if (map.max !== undefined) text += ` max=${hex(map.max)}`;
  if (map.word_bits !== undefined) text += ` bits=${map.word_bits}`;
  return text;
}

/* The lines of a scenario's vmsim script: what each is. */
type VmScenarioLine =
  | { kind: 'quiet'; text: string }
  | { kind: 'decl'; text: string }
  | { kind: 'op'; text: string; index: number }
  | { kind: 'vminfo'; text: string; task: string };

function vm_scenario_lines(scenario: VmScenario, level: VmLevel): VmScenarioLine[] {
  const lines: VmScenarioLine[] = [{ kind: 'quiet', text: `level ${level}` }, { kind: 'quiet', text: `# ${scenario.name}` }];
  const opts = task_options_text(scenario.map);
  if (opts !== '') lines.push({ kind: 'decl', text: `task ${VM_SCRIPT_MAIN_TASK}${opts}` });
  for (const [name, decl] of Object.entries(scenario.objects ?? {})) {
    if (decl.external && decl.copy_strategy !== undefined && decl.copy_strategy !== 'delay') {
      lines.push({ kind: 'decl', text: `object ${name} copy=${decl.copy_strategy}` });
    }
  }
  const tasks = [VM_SCRIPT_MAIN_TASK];
  scenario.ops.forEach((op, index) => {
    let text = vm_script_op_text(op);
    if (op.op === 'task' && !tasks.includes(op.name)) {
      tasks.push(op.name);
      if (op.from === undefined) text += opts;
    }
    lines.push({ kind: 'op', text, index });
  });
  for (const task of tasks) {
    lines.push({ kind: 'decl', text: `task ${task}` });
    lines.push({ kind: 'vminfo', text: 'vminfo', task });
  }
  return lines;
}

/**
 * A scenario as a `tsmach vmsim` script at `level`: the level, the main task's map
 * options, object declarations (copy strategies), the operations (tasks other than main
 * get the same map options), then `vminfo` for every task in order of creation.
 */
export function vm_scenario_script(scenario: VmScenario, level: VmLevel): string {
  return `${vm_scenario_lines(scenario, level).map((l) => l.text).join('\n')}\n`;
}

/**
 * What `tsmach vmsim` must print for vm_scenario_script(scenario, level), given the
 * scenario replayed in process at that level (`run`, every op stepped).
 */
export function vm_scenario_vmsim_output(scenario: VmScenario, level: VmLevel, run: VmScriptRun): string[] {
  const vminfos = run.vminfo();
  const out: string[] = [];
  for (const line of vm_scenario_lines(scenario, level)) {
    switch (line.kind) {
      case 'quiet': break;
      case 'decl': out.push(`${line.text} -> KERN_SUCCESS`); break;
      case 'op': {
        const op = scenario.ops[line.index]!;
        const r = run.results[line.index]!;
        const generic = vm_script_result_text(op, r);
        out.push(`${line.text}${generic.slice(vm_script_op_text(op).length)}`);
        break;
      }
      case 'vminfo': out.push(...(vminfos[line.task] ?? [])); break;
    }
  }
  return out;
}

/**
 * The line vmsim prints for an operation and its result: the operation, ` -> `, the code's
 * name, and the address for anywhere placements and receives (region: address and size).
 */
export function vm_script_result_text(op: VmScriptOp, r: VmScriptResult): string {
  let line = `${vm_script_op_text(op)} -> ${vm_script_kr_text(r.kr)}`;
  if (r.kr === KERN_SUCCESS) {
    if ((op.op === 'allocate' || op.op === 'map') && op.anywhere && r.address !== undefined) line += ` ${hex(r.address)}`;
    if (op.op === 'receive' && r.address !== undefined) line += ` ${hex(r.address)}`;
    if (op.op === 'region' && r.address !== undefined) line += ` ${hex(r.address)} ${hex(r.size ?? 0)}`;
  }
  return line;
}

/** A kern_return_t / mach_msg_return_t by name, with mach_msg's extra bits spelled out. */
export function vm_script_kr_text(kr: number): string {
  const bits = kr & 0x3c00;
  if (bits === 0 || (kr & 0x10000000) === 0) return kernReturnName(kr);
  const parts = [kernReturnName(kr & ~0x3c00)];
  if (kr & 0x2000) parts.push('MACH_MSG_IPC_SPACE');
  if (kr & 0x1000) parts.push('MACH_MSG_VM_SPACE');
  if (kr & 0x0800) parts.push('MACH_MSG_IPC_KERNEL');
  if (kr & 0x0400) parts.push('MACH_MSG_VM_KERNEL');
  return parts.join('|');
}
