/*
 * tsmach vminfo's parts: the loop over another task's map through vm_region prints what
 * the kernel's own vminfo of that map prints (mem_obj numbers aside: here they are port
 * names in the tool's space, stable within a run); finding a task by id or name; the
 * command line, as utils/vminfo.c reads it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { vm_allocate, vm_inherit, vm_protect, vm_write } from '../../../src/gen/mach.user.js';
import { mach_port_allocate } from '../../../src/gen/mach_port.user.js';
import { createKernel, type Kernel } from '../../../src/kern/kernel.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import { find_task, parseCNumber, parseVminfoArgs, vminfo_task } from '../../../src/tools/vminfo.js';
import { task_identity } from '../../../src/tools/ps.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';
import { vminfo, type VminfoOptions } from '../../../src/vm/vminfo.js';

const P = PAGE_SIZE;
const kernels: Kernel[] = [];
afterEach(() => { for (const k of kernels.splice(0)) k.shutdown(); });

/** mem_obj numbers renumbered in order of first appearance (they are arbitrary names). */
function renumber(lines: string[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => l.replace(/mem_obj=(\d+)/, (_m, n: string) => {
    if (!seen.has(n)) seen.set(n, seen.size + 1);
    return `mem_obj=${seen.get(n)}`;
  }));
}

async function setup() {
  const k = createKernel({ vmLevel: 'L0' });
  kernels.push(k);
  const t = k.createTask('target');
  // a brk-like pattern, a hole, shared and non-copy inheritance, two regions of one object
  await vm_allocate(t.self, 0x10000, 0x8000, false);
  await vm_protect(t.self, 0x14000, 0x4000, false, 0);
  await vm_protect(t.self, 0x14000, 0x2000, false, 3);
  await vm_write(t.self, 0x10000, new Uint8Array(0x2000).fill(1));
  await vm_allocate(t.self, 0x30000, 0x4000, false);
  await vm_write(t.self, 0x30000, new Uint8Array(0x4000).fill(2));
  await vm_inherit(t.self, 0x32000, 0x1000, 2);
  await vm_allocate(t.self, 0x80000, P, false);
  const tool = k.createTask('vminfo', { privileged: true });
  return { k, t, tool, map: k.tasks.get(t.info.id)!.map };
}

describe('vminfo over vm_region', () => {
  const cases: Array<[string, VminfoOptions]> = [
    ['default', {}],
    ['-v', { verbose: true }],
    ['-a', { addresses: true }],
    ['-s', { sizes: true }],
    ['-as', { addresses: true, sizes: true }],
    ['-av', { addresses: true, verbose: true }],
    ['-d', { decimal: true }],
    ['-h', { holes: true }],
    ['-sh', { sizes: true, holes: true }],
    ['-dh', { decimal: true, holes: true }],
    ['ADDR', { addr: 0x31000 }],
    ['ADDR SIZE', { addr: 0x13000, size: 0x20000 }],
    ['ADDR in a hole -h', { addr: 0x20000, size: 0x100000, holes: true }],
  ];
  for (const [what, options] of cases) {
    it(`prints what the kernel's vminfo prints: ${what}`, async () => {
      const { t, tool, map } = await setup();
      const task = await find_task(tool, String(t.info.id));
      const remote = await vminfo_task(task, options);
      expect(remote.length).toBeGreaterThan(0);
      expect(renumber(remote)).toEqual(renumber(vminfo(map, options)));
    });
  }

  it('mem_obj numbers are the tool\'s port names, the same port the same name', async () => {
    const { t, tool } = await setup();
    const task = await find_task(tool, 'target');
    const lines = await vminfo_task(task);
    const objs = lines.map((l) => /mem_obj=(\d+)/.exec(l)?.[1]).filter((x) => x !== undefined);
    expect(objs.length).toBeGreaterThanOrEqual(3);
    // a fresh right in the tool's space gets a name not among them... and the names repeat run to run
    const { name } = await mach_port_allocate(tool.self, MACH_PORT_RIGHT_RECEIVE);
    expect(objs).not.toContain(String(name));
    expect(await vminfo_task(task)).toEqual(lines);
    expect((await task_identity(task)).id).toBe(t.info.id);
  });

  it('finds a task by id or by its name; not an unknown or ambiguous one', async () => {
    const { k, t, tool } = await setup();
    expect((await task_identity(await find_task(tool, 'target'))).id).toBe(t.info.id);
    await expect(find_task(tool, '999999')).rejects.toThrow(/no task 999999/);
    await expect(find_task(tool, 'nobody')).rejects.toThrow(/no task nobody/);
    k.createTask('target');
    await expect(find_task(tool, 'target')).rejects.toThrow(/2 tasks are named target/);
  });
});

describe('the command line', () => {
  it('reads options and numbers as vminfo.c does', () => {
    expect(parseVminfoArgs(['12'])).toEqual({ options: {}, task: '12', connectionFile: undefined });
    expect(parseVminfoArgs(['-as', '-v', 'ext2fs', '0x10000', '4096']).options).toEqual({
      addresses: true, sizes: true, verbose: true, addr: 0x10000, size: 4096,
    });
    expect(parseVminfoArgs(['--decimal', '--holes', '3', '010']).options).toEqual({ decimal: true, holes: true, addr: 8 });
    expect(parseVminfoArgs(['-dh', '3', '--connection-file', '/k.json']).connectionFile).toBe('/k.json');
    expect(parseVminfoArgs(['--', '-5']).task).toBe('-5');
    expect(() => parseVminfoArgs([])).toThrow(/a task/);
    expect(() => parseVminfoArgs(['-x', '1'])).toThrow(/unknown option -x/);
    expect(() => parseVminfoArgs(['--frob', '1'])).toThrow(/unknown option --frob/);
    expect(() => parseVminfoArgs(['1', '2', '3', '4'])).toThrow(/too many/);
    expect(() => parseVminfoArgs(['1', 'zz'])).toThrow(/bad number/);
  });

  it('numbers: hex, octal, decimal', () => {
    expect(parseCNumber('0')).toBe(0);
    expect(parseCNumber('0x1F')).toBe(31);
    expect(parseCNumber('017')).toBe(15);
    expect(parseCNumber('4096')).toBe(4096);
    expect(() => parseCNumber('08')).toThrow();
    expect(() => parseCNumber('-1')).toThrow();
  });
});
