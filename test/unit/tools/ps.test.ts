/*
 * tsmach ps's parts on an embedded kernel: the tasks reached the Mach way
 * (host_processor_sets, host_processor_set_priv, processor_set_tasks), only with the
 * privileged host port; task_info (TASK_BASIC_INFO, TASK_TSMACH_INFO); task_set_name;
 * the rows and the table; the command line.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { task_set_name } from '../../../src/gen/gnumach.user.js';
import { task_info, vm_allocate, vm_protect, vm_write } from '../../../src/gen/mach.user.js';
import {
  host_kernel_version, host_processor_set_priv, host_processor_sets, processor_set_default, processor_set_tasks,
} from '../../../src/gen/mach_host.user.js';
import { mach_port_deallocate } from '../../../src/gen/mach_port.user.js';
import {
  TASK_BASIC_INFO, TASK_BASIC_INFO_COUNT, TASK_TSMACH_INFO, task_name_from_words, task_name_words, vm_map_resident_pages,
} from '../../../src/kern/host_server.js';
import { createKernel, type Kernel } from '../../../src/kern/kernel.js';
import { ipc_stats } from '../../../src/ipc/stats.js';
import { KERN_INVALID_ARGUMENT, KERN_INVALID_TASK, MachError } from '../../../src/mach/kern_return.js';
import { host_tasks, human_size, parsePsArgs, ps_format, ps_rows, task_entry_count, task_identity, task_sizes } from '../../../src/tools/ps.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';

const P = PAGE_SIZE;
const kernels: Kernel[] = [];
afterEach(() => { for (const k of kernels.splice(0)) k.shutdown(); });
function kernel(): Kernel {
  const k = createKernel();
  kernels.push(k);
  return k;
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof MachError) return e.code;
    throw e;
  }
}

describe('the host\'s processor sets', () => {
  it('give a privileged task every task\'s kernel port, in creation order', async () => {
    const k = kernel();
    const a = k.createTask('a');
    const b = k.createTask('b');
    const tool = k.createTask('tool', { privileged: true });
    const tasks = await host_tasks(tool);
    const ids = [];
    for (const t of tasks) ids.push((await task_identity(t)).id);
    expect(ids).toEqual([a.info.id, b.info.id, tool.info.id]);
    // the set's name port is what processor_set_default gives too
    const { processor_sets } = await host_processor_sets(tool.host);
    const { default_set } = await processor_set_default(tool.host);
    expect(processor_sets.map((p) => p!.name)).toEqual([default_set!.name]);
    expect((await host_kernel_version(tool.host)).kernel_version).toMatch(/^tsmach .*VM level L2/);
  });

  it('an unprivileged task cannot turn a name port into the set, nor list tasks through the name port', async () => {
    const k = kernel();
    const plain = k.createTask('plain');
    expect(plain.hostPriv).toBeNull();
    const { processor_sets } = await host_processor_sets(plain.host);
    const name = processor_sets[0]!;
    // host_processor_set_priv on the host name port (what it has): refused
    expect(await code(host_processor_set_priv(plain.host, name))).toBe(KERN_INVALID_ARGUMENT);
    // processor_set_tasks on the name port: refused
    expect(await code(processor_set_tasks(name))).toBe(KERN_INVALID_ARGUMENT);
    // nor on its own task port
    expect(await code(processor_set_tasks(plain.self))).toBe(KERN_INVALID_ARGUMENT);
    await expect(host_tasks(plain)).rejects.toThrow(/privileged host port/);
  });

  it('the processor set\'s ports die with the kernel', async () => {
    const before = ipc_stats().ports;
    const k = createKernel();
    const tool = k.createTask('tool', { privileged: true });
    for (const t of await host_tasks(tool)) await mach_port_deallocate(tool.self, t.name);
    k.shutdown();
    expect(ipc_stats().ports).toBe(before);
  });
});

describe('task_info and task names', () => {
  it('TASK_TSMACH_INFO: the id and the name; task_set_name renames', async () => {
    const k = kernel();
    const t = k.createTask('first');
    expect(await task_identity(t.self)).toEqual({ id: t.info.id, name: 'first' });
    await task_set_name(t.self, 'renamed-ä');
    expect(await task_identity(t.self)).toEqual({ id: t.info.id, name: 'renamed-ä' });
    expect(task_name_from_words(task_name_words('x'.repeat(300)))).toBe('x'.repeat(256));
    expect(task_name_from_words(task_name_words(''))).toBe('');
  });

  it('TASK_BASIC_INFO: virtual size, and resident pages through the shadow chain', async () => {
    const k = kernel();
    const t = k.createTask('t');
    expect(await task_sizes(t.self)).toEqual({ virtual: 0, resident: 0 });
    const { address } = await vm_allocate(t.self, 0, 16 * P, true);
    await vm_write(t.self, address, new Uint8Array(5 * P).fill(1));
    await vm_protect(t.self, address + 8 * P, 2 * P, false, 1);
    expect(await task_sizes(t.self)).toEqual({ virtual: 16 * P, resident: 5 * P });
    expect(vm_map_resident_pages(k.tasks.get(t.info.id)!.map)).toBe(5);
    const { task_info_out } = await task_info(t.self, TASK_BASIC_INFO, 1024);
    expect(task_info_out).toHaveLength(TASK_BASIC_INFO_COUNT);
    expect(await code(task_info(t.self, TASK_BASIC_INFO, TASK_BASIC_INFO_COUNT - 1))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(task_info(t.self, 77, 1024))).toBe(KERN_INVALID_ARGUMENT);
    expect(await code(task_info(t.host, TASK_TSMACH_INFO, 1024))).toBe(KERN_INVALID_TASK);
    expect(await task_entry_count(t.self)).toBe(k.tasks.get(t.info.id)!.map.nentries);
  });
});

describe('ps', () => {
  it('one row per task: id, name, entries, resident pages, virtual size', async () => {
    const k = kernel();
    const a = k.createTask('worker');
    const { address } = await vm_allocate(a.self, 0, 8 * P, true);
    await vm_write(a.self, address, new Uint8Array(3 * P).fill(7));
    await vm_allocate(a.self, 0x40000000, P, false);
    const tool = k.createTask('ps', { privileged: true });
    const rows = await ps_rows(tool);
    const entries = k.tasks.get(a.info.id)!.map.nentries;
    expect(entries).toBeGreaterThanOrEqual(2);
    expect(rows).toEqual([
      { id: a.info.id, name: 'worker', entries, resident: 3, virtual: 9 * P },
      { id: tool.info.id, name: 'ps', entries: 0, resident: 0, virtual: 0 },
    ]);
    expect(ps_format(rows)).toEqual([
      '   ID ENTRIES RESIDENT  VSIZE NAME',
      `${String(a.info.id).padStart(5)} ${String(entries).padStart(7)}        3    36K worker`,
      `${String(tool.info.id).padStart(5)}       0        0      0 ps`,
    ]);
    expect(ps_format(rows, false)).toHaveLength(2);
  });

  it('sizes as ps prints them', () => {
    expect(human_size(0)).toBe('0');
    expect(human_size(1023)).toBe('1023');
    expect(human_size(4096)).toBe('4K');
    expect(human_size(1536)).toBe('1.5K');
    expect(human_size(300 * 1024 * 1024)).toBe('300M');
    expect(human_size(3 * 1024 ** 3)).toBe('3G');
  });

  it('its command line', () => {
    expect(parsePsArgs([])).toEqual({ json: false, header: true, connectionFile: undefined });
    expect(parsePsArgs(['--json', '--no-header', '--connection-file', '/x/k.json'])).toEqual({ json: true, header: false, connectionFile: '/x/k.json' });
    expect(() => parsePsArgs(['-x'])).toThrow(/unknown option/);
    expect(() => parsePsArgs(['--connection-file'])).toThrow(/needs a value/);
  });
});
