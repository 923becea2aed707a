/*
 * File: tools/ps.ts
 * Purpose: `tsmach ps`: the tasks of the running kernel, one line each (id, map entries,
 *          resident pages, virtual size, name); and the privileged tools' common part:
 *          connecting as a privileged task and reaching every task the Mach way.
 *
 *   tsmach ps [--json] [--no-header] [--connection-file PATH]
 *
 * How a tool reaches the tasks (as the Hurd's proc server and ps do, src/kern/host_server.ts):
 * host_processor_sets(host) gives the processor sets' name ports, host_processor_set_priv
 * (host_priv, name) a set's control port, processor_set_tasks(set) send rights to every
 * task's kernel port. That needs the privileged host port: the tool connects with the
 * kernel's privileged-tool token as its ticket (`<token file>.priv`, docs/protocol.md).
 * For each task: task_info(TASK_TSMACH_INFO) gives its id and name, task_info
 * (TASK_BASIC_INFO) its resident and virtual size, and the map entries are counted with
 * vm_region as vminfo walks them (one call per entry). The object name rights vm_region
 * hands out stay in the tool's space until it ends, as with the Hurd's vminfo.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { task_info, vm_region } from '../gen/mach.user.js';
import { host_processor_set_priv, host_processor_sets, processor_set_tasks } from '../gen/mach_host.user.js';
import { mach_port_deallocate } from '../gen/mach_port.user.js';
import { defaultConnectionFile, readConnectionFile } from '../kern/connfile.js';
import {
  TASK_BASIC_INFO, TASK_BASIC_INFO_COUNT, TASK_TSMACH_INFO, TASK_TSMACH_INFO_COUNT, task_name_from_words,
} from '../kern/host_server.js';
import { privilegedTokenFile } from '../kern/server.js';
import { KERN_NO_SPACE, MachError } from '../mach/kern_return.js';
import type { MachPort } from '../mach/mig.js';
import type { MachTask } from '../runtime/task.js';
import { connect } from '../transport/websocket.js';
import { PAGE_SIZE } from '../vm/vm_param.js';
import { ArgvOptions } from './argv.js';

/* ==== connecting as a privileged tool ================================================ */

export interface ToolConnectOptions {
  /** the kernel's connection file (else $TSMACH_CONNECTION or the default one) */
  connectionFile?: string;
  /** the task's name */
  name: string;
}

/**
 * Connects to the running kernel as a privileged task: the privileged-tool token (read
 * from the file next to the kernel's token file) is presented as the ticket.
 * Throws an Error saying what is missing.
 */
export async function connectPrivileged(options: ToolConnectOptions): Promise<MachTask> {
  const connectionFile = options.connectionFile ?? defaultConnectionFile();
  const info = readConnectionFile(connectionFile);
  const file = privilegedTokenFile(process.env.TSMACH_TOKEN_FILE ?? info.tokenFile);
  let ticket: string;
  try {
    ticket = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the kernel's privileged-tool token ${file} (a kernel started with --no-privileged-tools admits no privileged tools): ${(e as Error).message}`);
  }
  const task = await connect({ connectionFile, url: info.url, tokenFile: process.env.TSMACH_TOKEN_FILE ?? info.tokenFile, name: options.name, ticket });
  if (task.hostPriv === null) {
    task.terminate();
    throw new Error('the kernel did not make this tool privileged');
  }
  return task;
}

/* ==== reaching the tasks ============================================================== */

/**
 * Send rights to the kernel ports of every task (processor_set_tasks over the host's
 * processor sets), in the order the kernel lists them.
 * Conditions: `t` holds the privileged host port.
 */
export async function host_tasks(t: MachTask): Promise<MachPort[]> {
  if (t.hostPriv === null) throw new Error('listing tasks needs the privileged host port');
  const { processor_sets } = await host_processor_sets(t.host);
  const tasks: MachPort[] = [];
  for (const name of processor_sets) {
    if (name === null) continue;
    const { set } = await host_processor_set_priv(t.hostPriv, name);
    if (set !== null) {
      const { task_list } = await processor_set_tasks(set);
      for (const task of task_list) if (task !== null) tasks.push(task);
      await mach_port_deallocate(t.self, set.name);
    }
    await mach_port_deallocate(t.self, name.name);
  }
  return tasks;
}

/** A task's id and name (task_info TASK_TSMACH_INFO). */
export async function task_identity(task: MachPort): Promise<{ id: number; name: string }> {
  const { task_info_out: w } = await task_info(task, TASK_TSMACH_INFO, TASK_TSMACH_INFO_COUNT);
  return { id: w[0]!, name: task_name_from_words(w.slice(1)) };
}

/** A task's resident size (bytes) and virtual size (bytes), from TASK_BASIC_INFO. */
export async function task_sizes(task: MachPort): Promise<{ resident: number; virtual: number }> {
  const { task_info_out: w } = await task_info(task, TASK_BASIC_INFO, TASK_BASIC_INFO_COUNT);
  const u64 = (i: number): number => (w[i + 1]! >>> 0) * 0x100000000 + (w[i]! >>> 0);
  return { virtual: u64(2), resident: u64(4) };
}

/** The entries of a task's map, counted with vm_region from address 0 (as vminfo walks them). */
export async function task_entry_count(task: MachPort): Promise<number> {
  let address = 0;
  let n = 0;
  for (;;) {
    let r;
    try {
      r = await vm_region(task, address);
    } catch (e) {
      if (e instanceof MachError && e.code === KERN_NO_SPACE) return n;
      throw e;
    }
    n++;
    address = r.address + r.size;
  }
}

export interface PsRow {
  id: number;
  name: string;
  /** map entries */
  entries: number;
  /** resident pages */
  resident: number;
  /** virtual size in bytes */
  virtual: number;
}

/**
 * One row per task of the kernel, by id. A task that ends while it is being looked at is
 * left out. The task ports are released afterwards.
 */
export async function ps_rows(t: MachTask): Promise<PsRow[]> {
  const rows: PsRow[] = [];
  for (const task of await host_tasks(t)) {
    try {
      const { id, name } = await task_identity(task);
      const { resident, virtual } = await task_sizes(task);
      const entries = await task_entry_count(task);
      rows.push({ id, name, entries, resident: resident / PAGE_SIZE, virtual });
    } catch (e) {
      if (!(e instanceof MachError)) throw e;
    } finally {
      await mach_port_deallocate(t.self, task.name).catch(() => undefined);
    }
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** A size as ps prints it: bytes below 1K, else K, M, G with one decimal below 10. */
export function human_size(n: number): string {
  const units = ['K', 'M', 'G', 'T'];
  if (n < 1024) return String(n);
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? Math.round(v * 10) / 10 : Math.round(v)}${units[u]}`;
}

/** The table: a header line (unless `header` is false), then one line per row. */
export function ps_format(rows: readonly PsRow[], header = true): string[] {
  const lines = header ? [`${'ID'.padStart(5)} ${'ENTRIES'.padStart(7)} ${'RESIDENT'.padStart(8)} ${'VSIZE'.padStart(6)} NAME`] : [];
  for (const r of rows) {
    lines.push(`${String(r.id).padStart(5)} ${String(r.entries).padStart(7)} ${String(r.resident).padStart(8)} ${human_size(r.virtual).padStart(6)} ${r.name}`);
  }
  return lines;
}

/* ==== the command ==================================================================== */

export const PS_USAGE = 'usage: tsmach ps [--json] [--no-header] [--connection-file PATH]';

export interface PsArgs {
  json: boolean;
  header: boolean;
  connectionFile: string | undefined;
}

export function parsePsArgs(argv: string[]): PsArgs {
  const a: PsArgs = { json: false, header: true, connectionFile: undefined };
  const options = new ArgvOptions(argv);
  for (const arg of options) {
    switch (arg) {
      case '--json': a.json = true; break;
      case '--no-header': a.header = false; break;
      case '--connection-file': a.connectionFile = resolve(options.value(arg)); break;
      default: throw new Error(`unknown option ${arg}`);
    }
  }
  return a;
}

/**
 * The frame of a privileged tool's command line: --help, argument errors (exit 2), the
 * privileged connection and its errors (exit 1), then `run` on the tool's task, which is
 * terminated whatever happens.
 */
export async function privilegedCommand<A extends { connectionFile: string | undefined }>(
  tool: string,
  usage: string,
  argv: string[],
  parse: (argv: string[]) => A,
  run: (t: MachTask, args: A) => Promise<void>,
): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let args: A;
  try {
    args = parse(argv);
  } catch (e) {
    process.stderr.write(`tsmach ${tool}: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  let t: MachTask | undefined;
  try {
    t = await connectPrivileged({ connectionFile: args.connectionFile, name: tool });
    await run(t, args);
    return 0;
  } catch (e) {
    process.stderr.write(`tsmach ${tool}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    t?.terminate();
  }
}

export function psCommand(argv: string[]): Promise<number> {
  return privilegedCommand('ps', PS_USAGE, argv, parsePsArgs, async (t, args) => {
    const rows = await ps_rows(t);
    process.stdout.write(args.json ? `${JSON.stringify(rows)}\n` : `${ps_format(rows, args.header).join('\n')}\n`);
  });
}
