/*
 * File: tools/vminfo.ts
 * Purpose: `tsmach vminfo`: the Hurd's vminfo (utils/vminfo.c) against the running
 *          kernel: one line per map entry of a task, in vminfo's format
 *          (src/vm/vminfo.ts has the line formats; spec §5.2).
 *
 *   tsmach vminfo [-a] [-s] [-v] [-d] [-h] TASK [ADDR [SIZE]] [--connection-file PATH]
 *
 * TASK is a task id as `tsmach ps` shows it, or a task name. ADDR and SIZE are read as C's
 * strtoul(…, 0) reads them (0x… hex, 0… octal, else decimal). The loop is vminfo.c's:
 * vm_region from ADDR (or 0), a line, on past the region, until KERN_NO_SPACE or past
 * ADDR + SIZE. mem_obj=N is the name, in this tool's own IPC space, of the send right to
 * the object's name port vm_region returned: the same port always gets the same name, and
 * the rights are kept until the tool ends, as vminfo does.
 *
 * The tool is a privileged task (tools/ps.ts: the privileged-tool token) and reaches the
 * task's port through the host's processor sets.
 */

import { resolve } from 'node:path';
import { vm_region } from '../gen/mach.user.js';
import { mach_port_deallocate } from '../gen/mach_port.user.js';
import { KERN_NO_SPACE, MachError } from '../mach/kern_return.js';
import type { MachPort } from '../mach/mig.js';
import type { MachTask } from '../runtime/task.js';
import { VmObjectName } from '../vm/object.js';
import type { VmRegionInfo } from '../vm/region.js';
import { VminfoNames, vminfo_region_line, type VminfoOptions } from '../vm/vminfo.js';
import { host_tasks, privilegedCommand, task_identity } from './ps.js';
import { ArgvOptions } from './argv.js';

/** mem_obj numbers that are port names in the tool's space (what the real vminfo prints). */
class PortNames extends VminfoNames {
  private readonly ports = new Map<number, VmObjectName>();
  private readonly numbers = new Map<VmObjectName, number>();

  /** The token standing for port name `n` in region lines. */
  token(n: number): VmObjectName {
    let t = this.ports.get(n);
    if (t === undefined) {
      t = new VmObjectName();
      this.ports.set(n, t);
      this.numbers.set(t, n);
    }
    return t;
  }

  override name(port: VmObjectName): number {
    return this.numbers.get(port) ?? super.name(port);
  }
}

/* vminfo's what-is-printed rule (vm/vminfo.ts): hole lines depend on it. */
function shows(options: VminfoOptions): { addrs: boolean; sizes: boolean } {
  if (!options.addresses && !options.sizes) return { addrs: true, sizes: true };
  return { addrs: !!options.addresses, sizes: !!options.sizes };
}

/**
 * vminfo's main loop over another task's map, through vm_region on its kernel port.
 * Returns the lines (without newlines). Throws a MachError if vm_region fails otherwise
 * than with KERN_NO_SPACE.
 */
export async function vminfo_task(task: MachPort, options: VminfoOptions = {}): Promise<string[]> {
  const names = new PortNames();
  const what = shows(options);
  const hex = !options.decimal;
  const num = (n: number, width: number): string => (hex ? (n === 0 ? '0' : `0x${n.toString(16)}`) : String(n)).padStart(width);
  let addr = options.addr ?? 0;
  const max_addr = options.addr !== undefined ? options.addr + (options.size ?? 0) : Number.MAX_SAFE_INTEGER;
  const lines: string[] = [];
  while (addr <= max_addr) {
    const hole_addr = addr;
    let r;
    try {
      r = await vm_region(task, addr);
    } catch (e) {
      if (e instanceof MachError && e.code === KERN_NO_SPACE) break;
      throw e;
    }
    addr = r.address;
    if (options.holes && hole_addr !== addr) {
      if (what.addrs && what.sizes) lines.push(`          [${num(addr - hole_addr, 0)}] (hole)`);
      else if (what.sizes && !what.addrs) lines.push(`${num(addr - hole_addr, 10)} (hole)`);
    }
    const region: VmRegionInfo = {
      address: r.address, size: r.size, protection: r.protection, max_protection: r.max_protection,
      inheritance: r.inheritance, is_shared: r.is_shared, offset: r.offset,
      object_name: r.object_name === null ? null : names.token(r.object_name.name),
    };
    lines.push(vminfo_region_line(region, options, names));
    addr += r.size;
  }
  return lines;
}

/**
 * The kernel port of the task `which` names: its id (digits) or its name. The other
 * task ports are released. Throws an Error when no task, or more than one, matches.
 */
export async function find_task(t: MachTask, which: string): Promise<MachPort> {
  const byId = /^\d+$/.test(which) ? Number(which) : null;
  const found: MachPort[] = [];
  for (const task of await host_tasks(t)) {
    let keep = false;
    try {
      const { id, name } = await task_identity(task);
      keep = byId !== null ? id === byId : name === which;
    } catch (e) {
      if (!(e instanceof MachError)) throw e;
    }
    if (keep) found.push(task);
    else await mach_port_deallocate(t.self, task.name).catch(() => undefined);
  }
  if (found.length === 1) return found[0]!;
  for (const task of found) await mach_port_deallocate(t.self, task.name).catch(() => undefined);
  throw new Error(found.length === 0 ? `no task ${which}` : `${found.length} tasks are named ${which}: give an id (tsmach ps)`);
}

/* ==== the command line ================================================================ */

export const VMINFO_USAGE = 'usage: tsmach vminfo [-a] [-s] [-v] [-d] [-h] TASK [ADDR [SIZE]] [--connection-file PATH]';

export interface VminfoArgs {
  options: VminfoOptions;
  task: string;
  connectionFile: string | undefined;
}

/** C's strtoul(s, &end, 0) over the whole string: 0x… hex, 0… octal, else decimal. */
export function parseCNumber(s: string): number {
  let m: RegExpExecArray | null;
  let n: number;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(s)) !== null) n = parseInt(m[1]!, 16);
  else if (/^0[0-7]*$/.test(s)) n = parseInt(s, 8);
  else if (/^[1-9]\d*$/.test(s)) n = Number(s);
  else throw new Error(`bad number ${s}`);
  if (!Number.isSafeInteger(n)) throw new Error(`number too large: ${s}`);
  return n;
}

export function parseVminfoArgs(argv: string[]): VminfoArgs {
  const options: VminfoOptions = {};
  const words: string[] = [];
  let connectionFile: string | undefined;
  const flag = (c: string): void => {
    switch (c) {
      case 'a': options.addresses = true; break;
      case 's': options.sizes = true; break;
      case 'v': options.verbose = true; break;
      case 'd': options.decimal = true; break;
      case 'h': options.holes = true; break;
      default: throw new Error(`unknown option -${c}`);
    }
  };
  let dashdash = false;
  const args = new ArgvOptions(argv);
  for (const arg of args) {
    if (dashdash || !arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    switch (arg) {
      case '--': dashdash = true; break;
      case '--addresses': flag('a'); break;
      case '--sizes': flag('s'); break;
      case '--verbose': flag('v'); break;
      case '--decimal': flag('d'); break;
      case '--holes': flag('h'); break;
      case '--connection-file': connectionFile = resolve(args.value(arg)); break;
      default:
        if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
        for (const c of arg.slice(1)) flag(c);
    }
  }
  if (words.length < 1) throw new Error('a task (an id from tsmach ps, or a name) is needed');
  if (words.length > 3) throw new Error(`too many arguments: ${words.slice(3).join(' ')}`);
  if (words[1] !== undefined) options.addr = parseCNumber(words[1]);
  if (words[2] !== undefined) options.size = parseCNumber(words[2]);
  return { options, task: words[0]!, connectionFile };
}

export function vminfoCommand(argv: string[]): Promise<number> {
  return privilegedCommand('vminfo', VMINFO_USAGE, argv, parseVminfoArgs, async (t, args) => {
    const task = await find_task(t, args.task);
    const lines = await vminfo_task(task, args.options);
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  });
}
