/*
 * tsmach vmsim (src/tools/vmsim.ts) and the script text it shares with the scenario table
 * (src/vm/script.ts): parsing and its errors, what each operation prints, pager-backed
 * objects served by vmsim, tasks, forks, out-of-line sends and receives.
 */

import { describe, expect, it } from 'vitest';
import { vmsim_lines, vmsim_parse } from '../../../src/tools/vmsim.js';
import { MACH_MSG_VM_SPACE, MACH_RCV_BODY_ERROR, MACH_SEND_INVALID_MEMORY } from '../../../src/mach/kern_return.js';
import { vm_scenario_script, vm_script_kr_text, vm_script_op_text } from '../../../src/vm/script.js';

async function run(text: string): Promise<string[]> {
  const r = await vmsim_lines(text, 't.vms');
  expect(r.err).toEqual([]);
  expect(r.status).toBe(0);
  return r.out;
}

describe('parsing', () => {
  it('numbers in hex or decimal, comments, blank lines, a level on the first line', () => {
    const p = vmsim_parse('# a comment\n\nlevel L1 # with a comment\nallocate 0x10000 4096\n  allocate   *   0x1000  \n');
    expect('lines' in p && p.level).toBe('L1');
    expect('lines' in p && p.lines.map((l) => [l.line, l.text])).toEqual([[4, 'allocate 0x10000 4096'], [5, 'allocate * 0x1000']]);
  });

  it('reports every bad line as file:line: error: ...', () => {
    const p = vmsim_parse([
      'allocate 1 2', 'level L0', 'allocate 0x1g 2', 'allocate 1', 'map * 0x1000 F prot=RQ', 'map * 0x1000 F colour=red',
      'protect 0 1 RW maybe', 'inherit 0 1 sometimes', 'task b from nobody', 'object anon', 'object G', 'object G copy=none',
      'receive later', 'touch', 'send 1 2 3', 'task c bits=16', 'vminfo now', 'map * 0x1000 F off=1 off=2',
    ].join('\n'), 'x.vms');
    expect('errors' in p && p.errors).toEqual([
      'x.vms:2: error: level must be the first line',
      "x.vms:3: error: bad address '0x1g' (a hex or decimal number)",
      'x.vms:4: error: usage: allocate ADDR|* SIZE',
      "x.vms:5: error: bad protection 'RQ' (R, W, X letters, 0, or a number)",
      "x.vms:6: error: unexpected 'colour=red'",
      'x.vms:7: error: usage: protect ADDR SIZE P [setmax]',
      "x.vms:8: error: bad inheritance 'sometimes' (copy, share or none)",
      "x.vms:9: error: no task named 'nobody'",
      "x.vms:10: error: 'anon' is not an object name",
      "x.vms:12: error: object 'G' is already known",
      'x.vms:13: error: usage: receive | receive object SIZE | receive pages SIZE',
      'x.vms:14: error: usage: touch ADDR [read]',
      'x.vms:15: error: usage: send ADDR SIZE [dealloc]',
      "x.vms:16: error: bad bits '16' (32 or 64)",
      'x.vms:17: error: usage: vminfo',
      "x.vms:18: error: 'off' given twice",
    ]);
  });

  it('a script with errors runs nothing and exits 2', async () => {
    const r = await vmsim_lines('allocate * 0x1000\nnonsense\n', 'y.vms');
    expect(r).toEqual({ status: 2, out: [], err: ["y.vms:2: error: unknown operation 'nonsense'"] });
  });
});

describe('running', () => {
  it('prints each operation, its code, and the address of anywhere placements', async () => {
    expect(await run('allocate * 0x2000\nallocate 0x10000 0x1000\nallocate 0x10000 0x1000\nprotect 0x10000 0x1000 R\ninherit 0x10000 0x1000 none\nregion 0x5000\ndeallocate 0 0x2000\nvminfo\n')).toEqual([
      'allocate * 0x2000 -> KERN_SUCCESS 0x0',
      'allocate 0x10000 0x1000 -> KERN_SUCCESS',
      'allocate 0x10000 0x1000 -> KERN_NO_SPACE',
      'protect 0x10000 0x1000 R -> KERN_SUCCESS',
      'inherit 0x10000 0x1000 none -> KERN_SUCCESS',
      'region 0x5000 -> KERN_SUCCESS 0x10000 0x1000',
      'deallocate 0 0x2000 -> KERN_SUCCESS',
      '   0x10000[0x1000] (prot=R, max_prot=RWX, inherit=none)',
    ]);
  });

  it('the levels differ: an L0 hole fill leaves two entries, L2 one', async () => {
    const script = 'allocate 0x10000 0x1000\nallocate 0x12000 0x1000\nallocate 0x11000 0x1000\nvminfo\n';
    expect((await run(`level L0\n${script}`)).slice(3)).toHaveLength(2);
    expect((await run(`level L2\n${script}`)).slice(3)).toEqual(['   0x10000[0x3000] (prot=RW, max_prot=RWX)']);
  });

  it('maps objects whose pager vmsim serves: contiguous mappings of one object merge at L2, touching works', async () => {
    expect(await run('map 0x10000 0x2000 F\nmap 0x12000 0x1000 F off=0x2000\ntouch 0x12000\nmap * 0x1000 G prot=R max=R inherit=share\nvminfo\n')).toEqual([
      'map 0x10000 0x2000 F -> KERN_SUCCESS',
      'map 0x12000 0x1000 F off=0x2000 -> KERN_SUCCESS',
      'touch 0x12000 -> KERN_SUCCESS',
      'map * 0x1000 G prot=R max=R inherit=share -> KERN_SUCCESS 0x13000',
      '   0x10000[0x3000] (prot=RW, max_prot=RWX, mem_obj=1)',
      '   0x13000[0x1000] (prot=R, inherit=share, mem_obj=2)',
    ]);
  });

  it('tasks, forks and out-of-line regions in the three formats', async () => {
    expect(await run([
      'allocate 0x10000 0x3000', 'touch 0x10000', 'send 0x11000 0x1000', 'send 0x40000 0x1000', 'task b', 'receive', 'receive',
      'receive object 0x1000', 'receive pages 0x2000', 'vminfo', 'task c from main', 'vminfo',
    ].join('\n'))).toEqual([
      'allocate 0x10000 0x3000 -> KERN_SUCCESS',
      'touch 0x10000 -> KERN_SUCCESS',
      'send 0x11000 0x1000 -> KERN_SUCCESS',
      `send 0x40000 0x1000 -> ${vm_script_kr_text(MACH_SEND_INVALID_MEMORY)}`,
      'task b -> KERN_SUCCESS',
      'receive -> KERN_SUCCESS 0x0',
      'receive -> MACH_RCV_TIMED_OUT',
      'receive object 0x1000 -> KERN_SUCCESS 0x1000',
      'receive pages 0x2000 -> KERN_SUCCESS 0x2000',
      '         0[0x1000] (prot=RW, max_prot=RWX, mem_obj=1, offs=0x1000)',
      '    0x1000[0x3000] (prot=RW, max_prot=RWX, mem_obj=2)',
      'task c from main -> KERN_SUCCESS',
      '   0x10000[0x1000] (prot=RW, max_prot=RWX, mem_obj=1)',
      '   0x11000[0x1000] (prot=RW, max_prot=RWX, mem_obj=1, offs=0x1000)',
      '   0x12000[0x1000] (prot=RW, max_prot=RWX, mem_obj=1, offs=0x2000)',
    ]);
  });

  it('any number of regions may be in flight, received first in, first out', async () => {
    const sends = Array.from({ length: 12 }, (_, i) => `send ${0x10000 + i * 0x1000} 0x1000`);
    const out = await run(['allocate 0x10000 0xc000', ...sends, 'task b', ...sends.map(() => 'receive'), 'receive'].join('\n'));
    expect(out.slice(1, 13).every((l) => l.endsWith('-> KERN_SUCCESS'))).toBe(true);
    expect(out.slice(14, 26)).toEqual(Array.from({ length: 12 }, (_, i) => `receive -> KERN_SUCCESS 0x${(i * 0x1000).toString(16)}`));
    expect(out[26]).toBe('receive -> MACH_RCV_TIMED_OUT');
  });

  it('a task with other bounds, a 64-bit one, and a send with dealloc', async () => {
    expect(await run('task t min=0x4000 max=0x8000\nallocate * 0x1000\nallocate * 0x8000\nsend 0x4000 0x1000 dealloc\nvminfo\ntask w bits=64 max=0x800000000000\nallocate 0x7ffffffff000 0x1000\nvminfo\n')).toEqual([
      'task t min=0x4000 max=0x8000 -> KERN_SUCCESS',
      'allocate * 0x1000 -> KERN_SUCCESS 0x4000',
      'allocate * 0x8000 -> KERN_NO_SPACE',
      'send 0x4000 0x1000 dealloc -> KERN_SUCCESS',
      'task w bits=64 max=0x800000000000 -> KERN_SUCCESS',
      'allocate 0x7ffffffff000 0x1000 -> KERN_SUCCESS',
      '0x7ffffffff000[0x1000] (prot=RW, max_prot=RWX)',
    ]);
  });
});

describe('script text', () => {
  it('operations print as vmsim reads them; codes with mach_msg bits are spelled out', () => {
    expect(vm_script_op_text({ op: 'map', addr: 0, size: 0x1000, anywhere: true, object: 'F', offset: 0x2000, cur: 1, max: 0x10, inherit: 0, mask: 0xffff, copy: true }))
      .toBe('map * 0x1000 F off=0x2000 prot=R max=0x10 inherit=share mask=0xffff copy');
    expect(vm_script_op_text({ op: 'protect', addr: 0x1000, size: 0, prot: 0, set_max: true })).toBe('protect 0x1000 0x0 0 setmax');
    expect(vm_script_kr_text(MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE)).toBe('MACH_RCV_BODY_ERROR|MACH_MSG_VM_SPACE');
    expect(vm_script_kr_text(0)).toBe('KERN_SUCCESS');
  });

  it('a scenario becomes a script with its map bounds, copy strategies and a vminfo per task', () => {
    expect(vm_scenario_script({
      name: 'x', spec: '', map: { min: 0x1000 }, objects: { F: { size: 0x1000, external: true, copy_strategy: 'none' } },
      ops: [{ op: 'allocate', addr: 0, size: 0x1000, anywhere: true }, { op: 'task', name: 'b' }, { op: 'task', name: 'c', from: 'b' }],
      expect: { L0: { results: [], entries: [] }, L1: { results: [], entries: [] }, L2: { results: [], entries: [] } },
    }, 'L1')).toBe([
      'level L1', '# x', 'task main min=0x1000', 'object F copy=none', 'allocate * 0x1000', 'task b min=0x1000', 'task c from b',
      'task main', 'vminfo', 'task b', 'vminfo', 'task c', 'vminfo', '',
    ].join('\n'));
  });
});
