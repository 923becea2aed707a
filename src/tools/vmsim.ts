/*
 * File: tools/vmsim.ts
 * Purpose: `tsmach vmsim`: the scriptable VM playground. A script of VM operations runs on
 *          the tasks of an embedded kernel, through the generated stubs wherever a Mach
 *          call exists, and each operation prints its result; `vminfo` prints a task's map
 *          as the Hurd's vminfo does.
 *
 * Script: one operation per line, `#` starts a comment, numbers are hex (0x...) or
 * decimal, ADDR may be `*` (anywhere) where the operation places memory.
 *
 *   level L0|L1|L2                       first line only (default L2)
 *   task NAME [from PARENT] [min=N] [max=N] [bits=32|64]
 *                                        switch to task NAME; made the first time: empty
 *                                        (with those map bounds), or by task_create from
 *                                        PARENT with inherit_memory (vm_map_fork)
 *   object OBJ [copy=none|delay|call]    declare the copy strategy OBJ's pager announces
 *   allocate ADDR|* SIZE                 vm_allocate
 *   map ADDR|* SIZE OBJ|anon [off=N] [prot=P] [max=P] [inherit=copy|share|none] [mask=N] [copy]
 *                                        vm_map of OBJ, a memory object created on first use
 *                                        whose pager vmsim serves (anon: MACH_PORT_NULL)
 *   deallocate ADDR SIZE                 vm_deallocate
 *   protect ADDR SIZE P [setmax]         vm_protect
 *   inherit ADDR SIZE copy|share|none    vm_inherit
 *   touch ADDR [read]                    a write (or read) fault, as the task's CPU would take
 *   send ADDR SIZE [dealloc]             an out-of-line send of the region (the copy stays
 *                                        in flight until received)
 *   receive                              receive the oldest region in flight (entry list)
 *   receive object SIZE                  receive SIZE bytes the kernel made (object copy)
 *   receive pages SIZE                   receive SIZE bytes the kernel made (page list)
 *   region ADDR                          vm_region
 *   vminfo                               the current task's map, vminfo's default lines
 * P: R, W, X letters (RW, RWX...), 0 or none, or a number.
 *
 * Output: per operation, the line as given, ` -> `, the return code's name, and the
 * address for anywhere placements and receives (region: address and size). Bad lines are
 * reported as `file:line: error: ...` and nothing runs (exit status 2).
 */

import { readFileSync } from 'node:fs';
import {
  memory_object_data_supply, memory_object_ready, task_create, vm_allocate, vm_deallocate, vm_inherit, vm_map, vm_protect,
  vm_region,
} from '../gen/mach.user.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_extract_right, mach_port_insert_right, mach_port_mod_refs,
  mach_port_move_member,
} from '../gen/mach_port.user.js';
import { memory_object_server } from '../gen/memory_object.server.js';
import { IKOT_PAGER } from '../ipc/kobject.js';
import type { IpcPort } from '../ipc/port.js';
import { ipc_port_copyout_send, ipc_port_make_send } from '../ipc/port.js';
import { ipc_entry_lookup } from '../ipc/space.js';
import { createKernel, type Kernel } from '../kern/kernel.js';
import { convert_port_to_task, type Task } from '../kern/task.js';
import { TaskTraps } from '../kern/traps.js';
import { KERN_SUCCESS, MACH_MSG_SUCCESS, MachError } from '../mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_SIZE_MAX, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG,
} from '../mach/message.js';
import { msgSize, type MachPort } from '../mach/mig.js';
import { MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE } from '../mach/port.js';
import { mach_msg_server } from '../runtime/server.js';
import type { MachTask } from '../runtime/task.js';
import { vm_fault_async } from '../vm/fault.js';
import type { VmLevel } from '../vm/level.js';
import { VmMap } from '../vm/map.js';
import { MEMORY_OBJECT_COPY_CALL, MEMORY_OBJECT_COPY_DELAY, MEMORY_OBJECT_COPY_NONE } from '../vm/memory_object.js';
import { VmObjectName } from '../vm/object.js';
import {
  vm_ool_address, vm_ool_item, vm_ool_object_data, vm_ool_page_list_data, vm_ool_region, vm_ool_send_from_kernel,
} from '../vm/ool.js';
import { vm_script_kr_text } from '../vm/script.js';
import type { VmWordBits } from '../vm/vm_param.js';
import { PAGE_SIZE } from '../vm/vm_param.js';
import { VM_INHERIT_COPY, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_PROT_ALL, VM_PROT_DEFAULT, VM_PROT_READ, VM_PROT_WRITE } from '../vm/vm_prot.js';
import { VminfoNames, vminfo_region_line } from '../vm/vminfo.js';

/* ==== the script ==================================================================== */

type Strategy = 'none' | 'delay' | 'call';

/** One parsed line. */
type VmsimOp =
  | { op: 'level'; level: VmLevel }
  | { op: 'task'; name: string; from?: string; min?: number; max?: number; bits?: VmWordBits }
  | { op: 'object'; name: string; copy: Strategy }
  | { op: 'allocate'; addr: number | '*'; size: number }
  | {
      op: 'map'; addr: number | '*'; size: number; object: string | null; offset: number; cur: number; max: number;
      inherit: number; mask: number; copy: boolean;
    }
  | { op: 'deallocate'; addr: number; size: number }
  | { op: 'protect'; addr: number; size: number; prot: number; set_max: boolean }
  | { op: 'inherit'; addr: number; size: number; inherit: number }
  | { op: 'touch'; addr: number; write: boolean }
  | { op: 'send'; addr: number; size: number; dealloc: boolean }
  | { op: 'receive'; format?: 'object' | 'pages'; size?: number }
  | { op: 'region'; addr: number }
  | { op: 'vminfo' };

interface VmsimLine {
  line: number;
  /** The operation as given (comment removed, spaces collapsed). */
  text: string;
  op: VmsimOp;
}

class VmsimSyntaxError extends Error {}

function num(word: string | undefined, what: string): number {
  if (word === undefined) throw new VmsimSyntaxError(`missing ${what}`);
  const n = /^0x[0-9a-f]+$/i.test(word) ? Number.parseInt(word.slice(2), 16) : /^[0-9]+$/.test(word) ? Number.parseInt(word, 10) : NaN;
  if (!Number.isSafeInteger(n)) throw new VmsimSyntaxError(`bad ${what} '${word}' (a hex or decimal number)`);
  return n;
}

function addr_or_anywhere(word: string | undefined): number | '*' {
  return word === '*' ? '*' : num(word, 'address');
}

function prot(word: string | undefined, what = 'protection'): number {
  if (word === undefined) throw new VmsimSyntaxError(`missing ${what}`);
  if (word === '0' || word === 'none') return 0;
  if (/^[RWX]+$/.test(word)) {
    return (word.includes('R') ? VM_PROT_READ : 0) | (word.includes('W') ? VM_PROT_WRITE : 0) | (word.includes('X') ? 4 : 0);
  }
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(word)) return num(word, what);
  throw new VmsimSyntaxError(`bad ${what} '${word}' (R, W, X letters, 0, or a number)`);
}

function inheritance(word: string | undefined): number {
  switch (word) {
    case 'copy': return VM_INHERIT_COPY;
    case 'share': return VM_INHERIT_SHARE;
    case 'none': return VM_INHERIT_NONE;
    case undefined: throw new VmsimSyntaxError('missing inheritance');
    default:
      if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(word)) return num(word, 'inheritance');
      throw new VmsimSyntaxError(`bad inheritance '${word}' (copy, share or none)`);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function name(word: string | undefined, what: string): string {
  if (word === undefined) throw new VmsimSyntaxError(`missing ${what}`);
  if (!NAME.test(word)) throw new VmsimSyntaxError(`bad ${what} '${word}'`);
  return word;
}

/* key=value options after the fixed words */
function options(words: string[], allowed: string[], flags: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of words) {
    if (flags.includes(w)) {
      out.set(w, '');
      continue;
    }
    const eq = w.indexOf('=');
    const key = eq < 0 ? w : w.slice(0, eq);
    if (eq < 0 || !allowed.includes(key)) throw new VmsimSyntaxError(`unexpected '${w}'`);
    if (out.has(key)) throw new VmsimSyntaxError(`'${key}' given twice`);
    out.set(key, w.slice(eq + 1));
  }
  return out;
}

function exactly(words: string[], n: number, usage: string): void {
  if (words.length !== n) throw new VmsimSyntaxError(`usage: ${usage}`);
}

function parse_op(words: string[]): VmsimOp {
  const [verb, ...rest] = words;
  switch (verb) {
    case 'level': {
      exactly(rest, 1, 'level L0|L1|L2');
      if (rest[0] !== 'L0' && rest[0] !== 'L1' && rest[0] !== 'L2') throw new VmsimSyntaxError(`bad level '${rest[0]}' (L0, L1 or L2)`);
      return { op: 'level', level: rest[0] };
    }
    case 'task': {
      const task_name = name(rest[0], 'task name');
      let more = rest.slice(1);
      let from: string | undefined;
      if (more[0] === 'from') {
        from = name(more[1], 'parent task name');
        more = more.slice(2);
      }
      const o = options(more, ['min', 'max', 'bits']);
      const op: VmsimOp = { op: 'task', name: task_name };
      if (from !== undefined) op.from = from;
      if (o.has('min')) op.min = num(o.get('min'), 'min');
      if (o.has('max')) op.max = num(o.get('max'), 'max');
      if (o.has('bits')) {
        const bits = o.get('bits');
        if (bits !== '32' && bits !== '64') throw new VmsimSyntaxError(`bad bits '${bits}' (32 or 64)`);
        op.bits = bits === '32' ? 32 : 64;
      }
      if (from !== undefined && (op.min !== undefined || op.max !== undefined || op.bits !== undefined)) {
        throw new VmsimSyntaxError('a forked task has its parent\'s bounds');
      }
      return op;
    }
    case 'object': {
      const object = name(rest[0], 'object name');
      if (object === 'anon') throw new VmsimSyntaxError('\'anon\' is not an object name');
      const o = options(rest.slice(1), ['copy']);
      const copy = o.get('copy') ?? 'delay';
      if (copy !== 'none' && copy !== 'delay' && copy !== 'call') throw new VmsimSyntaxError(`bad copy strategy '${copy}' (none, delay or call)`);
      return { op: 'object', name: object, copy };
    }
    case 'allocate':
      exactly(rest, 2, 'allocate ADDR|* SIZE');
      return { op: 'allocate', addr: addr_or_anywhere(rest[0]), size: num(rest[1], 'size') };
    case 'map': {
      if (rest.length < 3) throw new VmsimSyntaxError('usage: map ADDR|* SIZE OBJ|anon [off=N] [prot=P] [max=P] [inherit=I] [mask=N] [copy]');
      const object = rest[2] === 'anon' ? null : name(rest[2], 'object name');
      const o = options(rest.slice(3), ['off', 'prot', 'max', 'inherit', 'mask'], ['copy']);
      return {
        op: 'map', addr: addr_or_anywhere(rest[0]), size: num(rest[1], 'size'), object,
        offset: o.has('off') ? num(o.get('off'), 'offset') : 0,
        cur: o.has('prot') ? prot(o.get('prot')) : VM_PROT_DEFAULT,
        max: o.has('max') ? prot(o.get('max'), 'maximum protection') : VM_PROT_ALL,
        inherit: o.has('inherit') ? inheritance(o.get('inherit')) : VM_INHERIT_COPY,
        mask: o.has('mask') ? num(o.get('mask'), 'mask') : 0,
        copy: o.has('copy'),
      };
    }
    case 'deallocate':
      exactly(rest, 2, 'deallocate ADDR SIZE');
      return { op: 'deallocate', addr: num(rest[0], 'address'), size: num(rest[1], 'size') };
    case 'protect': {
      if (rest.length !== 3 && !(rest.length === 4 && rest[3] === 'setmax')) throw new VmsimSyntaxError('usage: protect ADDR SIZE P [setmax]');
      return { op: 'protect', addr: num(rest[0], 'address'), size: num(rest[1], 'size'), prot: prot(rest[2]), set_max: rest.length === 4 };
    }
    case 'inherit':
      exactly(rest, 3, 'inherit ADDR SIZE copy|share|none');
      return { op: 'inherit', addr: num(rest[0], 'address'), size: num(rest[1], 'size'), inherit: inheritance(rest[2]) };
    case 'touch': {
      if (rest.length !== 1 && !(rest.length === 2 && (rest[1] === 'read' || rest[1] === 'write'))) throw new VmsimSyntaxError('usage: touch ADDR [read]');
      return { op: 'touch', addr: num(rest[0], 'address'), write: rest[1] !== 'read' };
    }
    case 'send': {
      if (rest.length !== 2 && !(rest.length === 3 && rest[2] === 'dealloc')) throw new VmsimSyntaxError('usage: send ADDR SIZE [dealloc]');
      return { op: 'send', addr: num(rest[0], 'address'), size: num(rest[1], 'size'), dealloc: rest.length === 3 };
    }
    case 'receive': {
      if (rest.length === 0) return { op: 'receive' };
      if (rest.length === 2 && (rest[0] === 'object' || rest[0] === 'pages')) return { op: 'receive', format: rest[0], size: num(rest[1], 'size') };
      throw new VmsimSyntaxError('usage: receive | receive object SIZE | receive pages SIZE');
    }
    case 'region':
      exactly(rest, 1, 'region ADDR');
      return { op: 'region', addr: num(rest[0], 'address') };
    case 'vminfo':
      exactly(rest, 0, 'vminfo');
      return { op: 'vminfo' };
    default:
      throw new VmsimSyntaxError(`unknown operation '${verb}'`);
  }
}

/** A parsed script, or the errors (`file:line: error: ...`). */
export function vmsim_parse(text: string, file = '<stdin>'): { level: VmLevel; lines: VmsimLine[] } | { errors: string[] } {
  const errors: string[] = [];
  const lines: VmsimLine[] = [];
  let level: VmLevel = 'L2';
  let first = true;
  const tasks = new Set(['main']);
  const declared = new Set<string>();
  const used = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const words = (hash >= 0 ? raw.slice(0, hash) : raw).trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return;
    try {
      const op = parse_op(words);
      if (op.op === 'level') {
        if (!first) throw new VmsimSyntaxError('level must be the first line');
        level = op.level;
      } else if (op.op === 'task') {
        if (op.from !== undefined) {
          if (!tasks.has(op.from)) throw new VmsimSyntaxError(`no task named '${op.from}'`);
          if (tasks.has(op.name)) throw new VmsimSyntaxError(`task '${op.name}' exists already`);
        } else if (tasks.has(op.name) && (op.min !== undefined || op.max !== undefined || op.bits !== undefined) && (op.name !== 'main' || lines.length > 0)) {
          throw new VmsimSyntaxError(`task '${op.name}' exists already: bounds are given when it is made`);
        }
        tasks.add(op.name);
        lines.push({ line: i + 1, text: words.join(' '), op });
      } else {
        if (op.op === 'object') {
          if (declared.has(op.name) || used.has(op.name)) throw new VmsimSyntaxError(`object '${op.name}' is already known`);
          declared.add(op.name);
        }
        if (op.op === 'map' && op.object !== null) used.add(op.object);
        lines.push({ line: i + 1, text: words.join(' '), op });
      }
    } catch (e) {
      if (!(e instanceof VmsimSyntaxError)) throw e;
      errors.push(`${file}:${i + 1}: error: ${e.message}`);
    }
    first = false;
  });
  return errors.length > 0 ? { errors } : { level, lines };
}

/* ==== running it ==================================================================== */

/**
 * Regions in flight wait in mailboxes: ports whose receive rights vmsim holds and lends to
 * the receiving task. Each takes at most MAILBOX_MESSAGES messages (under the default
 * qlimit, so a send never blocks); mailbox i has the name MAILBOX_BASE + i in every
 * simulated task's space.
 */
const MAILBOX_BASE = 0x7f000000;
const MAILBOX_MESSAGES = 4;

interface SimTask {
  task: Task;
  /** vmsim's send right to the task's kernel port. */
  port: MachPort;
  traps: TaskTraps;
  /** The mailboxes the task holds a send right to (under MAILBOX_BASE + index). */
  can_send: Set<number>;
}

interface SimObject {
  name: number;
  copy: Strategy;
  store: Map<number, Uint8Array>;
  initialized: Promise<void>;
  init_seen: () => void;
}

function strategy_number(s: Strategy): number {
  return s === 'none' ? MEMORY_OBJECT_COPY_NONE : s === 'call' ? MEMORY_OBJECT_COPY_CALL : MEMORY_OBJECT_COPY_DELAY;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

async function kr_of(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return KERN_SUCCESS;
  } catch (e) {
    if (e instanceof MachError) return e.code;
    throw e;
  }
}

/** One vmsim run: an embedded kernel, its tasks, vmsim's own task (which also serves the pagers). */
class Vmsim {
  readonly kernel: Kernel;
  readonly tool: MachTask;
  readonly tasks = new Map<string, SimTask>();
  readonly objects = new Map<string, SimObject>();
  readonly declared = new Map<string, Strategy>();
  current = 'main';
  private set = 0;
  /** The mailboxes: vmsim's name for each receive right, and how many messages wait there. */
  private readonly mailboxes: Array<{ name: number; count: number }> = [];
  /** For each region in flight, oldest first, the mailbox it waits in. */
  private readonly in_flight: number[] = [];
  private readonly stop = new AbortController();
  private readonly out: (line: string) => void;

  constructor(level: VmLevel, out: (line: string) => void) {
    this.kernel = createKernel({ vmLevel: level });
    this.tool = this.kernel.createTask('vmsim', { privileged: true });
    this.out = out;
  }

  private get toolTask(): Task {
    return this.kernel.tasks.get(this.tool.info.id)!;
  }

  async start(): Promise<void> {
    this.set = (await mach_port_allocate(this.tool.self, MACH_PORT_RIGHT_PORT_SET)).name;
    await this.new_mailbox();
    void mach_msg_server(this.tool, [memory_object_server(this.pager())], this.tool.port(this.set), { signal: this.stop.signal })
      .catch(() => undefined);
  }

  end(): void {
    this.stop.abort();
    this.kernel.shutdown();
  }

  /** A task made by the kernel, and vmsim's send right to its port. */
  private adopt(task: Task, port?: MachPort): SimTask {
    const p = port ?? this.tool.port(ipc_port_copyout_send(ipc_port_make_send(task.itk_self), this.toolTask.itk_space));
    const sim: SimTask = { task, port: p, traps: new TaskTraps(task, this.kernel.host), can_send: new Set() };
    return sim;
  }

  private ensure_main(bounds?: { min?: number; max?: number; bits?: VmWordBits }): void {
    if (this.tasks.has('main')) return;
    this.tasks.set('main', this.adopt(this.make_task('main', bounds)));
  }

  private make_task(name: string, bounds?: { min?: number; max?: number; bits?: VmWordBits }): Task {
    if (bounds === undefined || (bounds.min === undefined && bounds.max === undefined && bounds.bits === undefined)) {
      return this.kernel.task_create(name);
    }
    const map = new VmMap({ level: this.kernel.vmLevel, min: bounds.min ?? 0, max: bounds.max ?? 0xc0000000, word_bits: bounds.bits ?? 32 });
    return this.kernel.task_create(name, { map });
  }

  /** Runs one operation and prints its line(s). */
  async run(line: VmsimLine): Promise<void> {
    const op = line.op;
    if (op.op === 'task' && op.name === 'main' && !this.tasks.has('main')) this.ensure_main(op);
    this.ensure_main();
    if (op.op === 'vminfo') {
      for (const l of await this.vminfo()) this.out(l);
      return;
    }
    const r = await this.perform(op);
    let text = `${line.text} -> ${vm_script_kr_text(r.kr)}`;
    if (r.extra !== undefined) text += ` ${r.extra}`;
    this.out(text);
  }

  private sim(): SimTask {
    return this.tasks.get(this.current)!;
  }

  private async perform(op: VmsimOp): Promise<{ kr: number; extra?: string }> {
    switch (op.op) {
      case 'level':
      case 'vminfo':
        return { kr: KERN_SUCCESS };
      case 'task': {
        if (!this.tasks.has(op.name)) {
          if (op.from !== undefined) {
            const parent = this.tasks.get(op.from)!;
            let child: MachPort | null = null;
            const kr = await kr_of(task_create(parent.port, true).then((r) => { child = r.child_task; }));
            if (kr !== KERN_SUCCESS || child === null) return { kr };
            const task = convert_port_to_task(ipc_entry_lookup(this.toolTask.itk_space, (child as MachPort).name)!.ie_object as IpcPort)!;
            task.name = op.name;
            this.tasks.set(op.name, this.adopt(task, child));
          } else {
            this.tasks.set(op.name, this.adopt(this.make_task(op.name, op)));
          }
        }
        this.current = op.name;
        return { kr: KERN_SUCCESS };
      }
      case 'object':
        this.declared.set(op.name, op.copy);
        return { kr: KERN_SUCCESS };
      case 'allocate': {
        let address = 0;
        const kr = await kr_of(vm_allocate(this.sim().port, op.addr === '*' ? 0 : op.addr, op.size, op.addr === '*').then((r) => { address = r.address; }));
        return kr === KERN_SUCCESS && op.addr === '*' ? { kr, extra: hex(address) } : { kr };
      }
      case 'map': {
        let object: SimObject | null = null;
        let created = false;
        if (op.object !== null) {
          object = this.objects.get(op.object) ?? null;
          if (object === null) {
            object = await this.new_object(op.object);
            created = true;
          }
        }
        let address = 0;
        const kr = await kr_of(vm_map(this.sim().port, op.addr === '*' ? 0 : op.addr, op.size, op.mask, op.addr === '*',
          object === null ? null : this.tool.port(object.name), op.offset, op.copy, op.cur, op.max, op.inherit)
          .then((r) => { address = r.address; }));
        if (object !== null && created) {
          const port = ipc_entry_lookup(this.toolTask.itk_space, object.name)?.ie_object as IpcPort | undefined;
          if (port !== undefined && port.ip_kotype === IKOT_PAGER) await object.initialized;
        }
        return kr === KERN_SUCCESS && op.addr === '*' ? { kr, extra: hex(address) } : { kr };
      }
      case 'deallocate':
        return { kr: await kr_of(vm_deallocate(this.sim().port, op.addr, op.size)) };
      case 'protect':
        return { kr: await kr_of(vm_protect(this.sim().port, op.addr, op.size, op.set_max, op.prot)) };
      case 'inherit':
        return { kr: await kr_of(vm_inherit(this.sim().port, op.addr, op.size, op.inherit)) };
      case 'touch':
        return { kr: await vm_fault_async(this.sim().task.map, op.addr, op.write ? VM_PROT_READ | VM_PROT_WRITE : VM_PROT_READ) };
      case 'region': {
        let extra = '';
        const kr = await kr_of(vm_region(this.sim().port, op.addr).then(async (r) => {
          extra = `${hex(r.address)} ${hex(r.size)}`;
          if (r.object_name !== null) await mach_port_deallocate(this.tool.self, r.object_name.name);
        }));
        return kr === KERN_SUCCESS ? { kr, extra } : { kr };
      }
      case 'send':
        return { kr: await this.send(op.addr, op.size, op.dealloc) };
      case 'receive':
        return this.receive(op.format, op.size);
    }
  }

  /* ---- out-of-line messages ---- */

  private async new_mailbox(): Promise<number> {
    const name = (await mach_port_allocate(this.tool.self, MACH_PORT_RIGHT_RECEIVE)).name;
    this.mailboxes.push({ name, count: 0 });
    return this.mailboxes.length - 1;
  }

  /* The current task's name for mailbox i (a send right made there the first time). */
  private async mailbox_name(sim: SimTask, i: number): Promise<number> {
    if (!sim.can_send.has(i)) {
      await mach_port_insert_right(sim.port, MAILBOX_BASE + i, this.tool.port(this.mailboxes[i]!.name), MACH_MSG_TYPE_MAKE_SEND);
      sim.can_send.add(i);
    }
    return MAILBOX_BASE + i;
  }

  private async send(addr: number, size: number, dealloc: boolean): Promise<number> {
    const sim = this.sim();
    let i = this.mailboxes.length - 1;
    if (this.mailboxes[i]!.count >= MAILBOX_MESSAGES) i = await this.new_mailbox();
    const dest = await this.mailbox_name(sim, i);
    const body = [vm_ool_item(vm_ool_region(addr, size), dealloc)];
    const r = await sim.traps.mach_msg({
      header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX) >>> 0, size: msgSize(body), remotePort: dest, localPort: 0, seqno: 0, id: 0x766d },
      body,
    }, MACH_SEND_MSG, 0, 0, 0, 0);
    if (r.mr === MACH_MSG_SUCCESS) {
      this.mailboxes[i]!.count++;
      this.in_flight.push(i);
    }
    return r.mr;
  }

  private async receive(format?: 'object' | 'pages', size?: number): Promise<{ kr: number; extra?: string }> {
    const sim = this.sim();
    let name: number;
    const box = this.in_flight[0] ?? 0;
    if (format === undefined) {
      // The mailbox's receive right visits the task for the receive.
      name = await this.mailbox_name(sim, box);
      await mach_port_insert_right(sim.port, name, this.tool.port(this.mailboxes[box]!.name), MACH_MSG_TYPE_MOVE_RECEIVE);
    } else {
      name = (await mach_port_allocate(sim.port, MACH_PORT_RIGHT_RECEIVE)).name;
      const port = ipc_entry_lookup(sim.task.itk_space, name)!.ie_object as IpcPort;
      const bytes = new Uint8Array(size ?? 0);
      if (bytes.length > 0) {
        const data = format === 'object' ? vm_ool_object_data(this.kernel.vm, bytes) : vm_ool_page_list_data(bytes);
        vm_ool_send_from_kernel(port, 0x766e, [data]);
      }
    }
    let result: { kr: number; extra?: string };
    if (format !== undefined && (size ?? 0) === 0) {
      result = { kr: MACH_MSG_SUCCESS };
    } else {
      const r = await sim.traps.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, MACH_MSG_SIZE_MAX, name, 0, 0);
      result = { kr: r.mr };
      if (format === undefined && r.msg !== null) {
        this.in_flight.shift();
        this.mailboxes[box]!.count--;
      }
      const data = r.msg?.body[0]?.data;
      if (data instanceof Uint8Array) {
        const address = vm_ool_address(data);
        if (address !== undefined && r.mr === MACH_MSG_SUCCESS) result.extra = hex(address);
      }
    }
    if (format === undefined) {
      const back = await mach_port_extract_right(sim.port, name, MACH_MSG_TYPE_MOVE_RECEIVE);
      this.mailboxes[box]!.name = back.poly!.name;
    } else {
      await mach_port_mod_refs(sim.port, name, MACH_PORT_RIGHT_RECEIVE, -1);
    }
    return result;
  }

  /* ---- vminfo ---- */

  private async vminfo(): Promise<string[]> {
    const lines: string[] = [];
    const names = new VminfoNames();
    const stand_ins = new Map<number, VmObjectName>();
    const rights: number[] = [];
    const port = this.sim().port;
    let address = 0;
    for (;;) {
      let region: Awaited<ReturnType<typeof vm_region>> | null = null;
      const kr = await kr_of(vm_region(port, address).then((r) => { region = r; }));
      if (kr !== KERN_SUCCESS || region === null) break;
      const r: Awaited<ReturnType<typeof vm_region>> = region;
      let object_name: VmObjectName | null = null;
      if (r.object_name !== null) {
        rights.push(r.object_name.name);
        object_name = stand_ins.get(r.object_name.name) ?? new VmObjectName();
        stand_ins.set(r.object_name.name, object_name);
      }
      lines.push(vminfo_region_line({
        address: r.address, size: r.size, protection: r.protection, max_protection: r.max_protection,
        inheritance: r.inheritance, is_shared: r.is_shared, object_name, offset: r.offset,
      }, {}, names));
      address = r.address + r.size;
    }
    for (const n of rights) await mach_port_deallocate(this.tool.self, n).catch(() => undefined);
    return lines;
  }

  /* ---- the pager ---- */

  private async new_object(name: string): Promise<SimObject> {
    const port = (await mach_port_allocate(this.tool.self, MACH_PORT_RIGHT_RECEIVE)).name;
    await mach_port_insert_right(this.tool.self, port, this.tool.port(port), MACH_MSG_TYPE_MAKE_SEND);
    await mach_port_move_member(this.tool.self, port, this.set);
    let init_seen!: () => void;
    const initialized = new Promise<void>((resolve) => { init_seen = resolve; });
    const object: SimObject = { name: port, copy: this.declared.get(name) ?? 'delay', store: new Map(), initialized, init_seen };
    this.objects.set(name, object);
    return object;
  }

  private by_port(p: MachPort): SimObject | null {
    for (const o of this.objects.values()) if (o.name === p.name) return o;
    return null;
  }

  private pager(): Parameters<typeof memory_object_server>[0] {
    return {
      memory_object_init: async (mo, control) => {
        const object = this.by_port(mo);
        if (control !== null) await memory_object_ready(control, false, strategy_number(object?.copy ?? 'delay'));
        object?.init_seen();
      },
      memory_object_data_request: async (mo, control, offset, length) => {
        if (control === null) return;
        const object = this.by_port(mo);
        const data = new Uint8Array(length);
        for (let at = 0; at < length; at += PAGE_SIZE) {
          const page = object?.store.get(offset + at);
          if (page !== undefined) data.set(page.subarray(0, Math.min(PAGE_SIZE, length - at)), at);
        }
        await memory_object_data_supply(control, offset, data, false, 0, false, null);
        await mach_port_deallocate(this.tool.self, control.name).catch(() => undefined);
      },
      memory_object_data_unlock: async (_mo, control) => {
        if (control !== null) await mach_port_deallocate(this.tool.self, control.name).catch(() => undefined);
      },
      memory_object_data_return: async (mo, control, offset, data) => {
        const object = this.by_port(mo);
        for (let at = 0; at < data.length; at += PAGE_SIZE) object?.store.set(offset + at, data.slice(at, at + PAGE_SIZE));
        const address = vm_ool_address(data);
        if (address !== undefined) await vm_deallocate(this.tool.self, address, data.length).catch(() => undefined);
        if (control !== null) await mach_port_deallocate(this.tool.self, control.name).catch(() => undefined);
      },
      memory_object_lock_completed: async (_mo, control) => {
        if (control !== null) await mach_port_deallocate(this.tool.self, control.name).catch(() => undefined);
      },
      memory_object_terminate: async (_mo, control, name) => {
        if (control !== null) await mach_port_mod_refs(this.tool.self, control.name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
        if (name !== null) await mach_port_mod_refs(this.tool.self, name.name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
      },
    };
  }
}

/**
 * Runs a vmsim script. Output lines go to `out`; errors (`file:line: error: ...`) to `err`.
 * Returns: the exit status (0, or 2 for a script with bad lines: nothing is run then).
 */
export async function vmsim(text: string, file = '<stdin>', out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const parsed = vmsim_parse(text, file);
  if ('errors' in parsed) {
    for (const e of parsed.errors) err(e);
    return 2;
  }
  const sim = new Vmsim(parsed.level, out);
  try {
    await sim.start();
    for (const line of parsed.lines) await sim.run(line);
  } finally {
    sim.end();
  }
  return 0;
}

/** Runs a script and returns what it printed (for tests and tools). */
export async function vmsim_lines(text: string, file = '<stdin>'): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await vmsim(text, file, (l) => out.push(l), (l) => err.push(l));
  return { status, out, err };
}

async function read_stdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const VMSIM_USAGE = 'usage: tsmach vmsim [SCRIPT...]   (no SCRIPT, or -: read standard input)';

/**
 * `tsmach vmsim [SCRIPT...]`: runs each script (standard input if none, or for `-`), one
 * kernel each; with several, each output is headed `==> SCRIPT <==`.
 * Returns: the exit status: 0, 2 (bad lines or usage), 1 (a file could not be read).
 */
export async function vmsim_main(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${VMSIM_USAGE}\n`);
    return 0;
  }
  const files = args.length === 0 ? ['-'] : args;
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? await read_stdin() : readFileSync(file, 'utf8');
    } catch (e) {
      process.stderr.write(`tsmach vmsim: ${file}: ${(e as Error).message}\n`);
      status = Math.max(status, 1);
      continue;
    }
    if (files.length > 1) process.stdout.write(`==> ${file} <==\n`);
    const s = await vmsim(text, file === '-' ? '<stdin>' : file);
    status = Math.max(status, s);
  }
  return status;
}
