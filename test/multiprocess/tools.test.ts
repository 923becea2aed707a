/**
 * tsmach ps and tsmach vminfo against a running kernel: `tsmach boot` with the default
 * pager as its module; a task (this test) builds a map; `tsmach ps` lists every task with
 * its entries and resident pages; `tsmach vminfo ID` prints the Hurd's lines for that
 * task's map, the same lines the kernel's own vminfo gives for the same operations. Both
 * tools are privileged through the kernel's privileged-tool token; a task with the token
 * alone stays unprivileged, a wrong privileged ticket is refused, and a kernel started
 * with --no-privileged-tools admits no tool.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vm_allocate, vm_protect, vm_write } from '../../src/gen/mach.user.js';
import { host_processor_set_priv, host_processor_sets } from '../../src/gen/mach_host.user.js';
import { privilegedTokenFile } from '../../src/kern/server.js';
import { createKernel } from '../../src/kern/kernel.js';
import { KERN_INVALID_ARGUMENT, MachError } from '../../src/mach/kern_return.js';
import type { MachTask } from '../../src/runtime/task.js';
import { connect } from '../../src/transport/websocket.js';
import { vminfo } from '../../src/vm/vminfo.js';
import type { PsRow } from '../../src/tools/ps.js';
import { cleanup, Proc, ROOT, startKernel, tempDir, TSMACH } from './helpers.js';

const PAGER = join(ROOT, 'src/servers/default-pager/main.ts');
let boot: Proc;
let connectionFile: string;
let victim: MachTask;

/** Runs `tsmach ARGS` to its end: status and output lines. */
async function tsmach(...args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const p = new Proc([TSMACH, ...args]);
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await p.line(30_000));
    } catch {
      break;
    }
  }
  const { code } = await p.exited;
  return { code, lines, stderr: p.stderr };
}

/** The operations the victim does, on any task (remote or embedded). */
async function build(t: MachTask): Promise<void> {
  await vm_allocate(t.self, 0x10000, 0x8000, false);
  await vm_protect(t.self, 0x14000, 0x4000, false, 0);
  await vm_protect(t.self, 0x14000, 0x2000, false, 3);
  await vm_allocate(t.self, 0x40000, 0x10000, false);
  await vm_write(t.self, 0x40000, new Uint8Array(0x3000).fill(9));
  await vm_protect(t.self, 0x48000, 0x1000, false, 1);
}

beforeAll(async () => {
  connectionFile = join(tempDir(), 'kernel.json');
  boot = new Proc([TSMACH, 'boot', '--connection-file', connectionFile, '--memory-pages', '256', '--', PAGER, '--swap-size', '1M', '--json']);
  expect(await boot.json()).toMatchObject({ ready: true });
  victim = await connect({ connectionFile, name: 'victim' });
  await build(victim);
});
afterAll(async () => {
  victim?.terminate();
  boot?.kill('SIGINT');
  await boot?.exited;
  await cleanup();
});

describe('tsmach ps', () => {
  it('lists the boot module, the task and itself: ids, entries, resident pages, names', async () => {
    const { code, lines, stderr } = await tsmach('ps', '--connection-file', connectionFile);
    expect(code, stderr).toBe(0);
    expect(lines[0]).toBe('   ID ENTRIES RESIDENT  VSIZE NAME');
    const rows = lines.slice(1).map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+) (.*)$/.exec(l)!.slice(1));
    const names = rows.map((r) => r[4]);
    expect(names).toContain('default-pager');
    expect(names).toContain('ps');
    const v = rows.find((r) => r[4] === 'victim')!;
    expect(Number(v[0])).toBe(victim.info.id);
    expect(Number(v[1])).toBe(6); // 0x10000[0x6000] 0x16000[0x2000], 0x40000 in four (written part, protected page)
    expect(Number(v[2])).toBe(3); // the three pages written
    expect(v[3]).toBe('96K');
    const ids = rows.map((r) => Number(r[0]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const json = await tsmach('ps', '--json', '--connection-file', connectionFile);
    const parsed = JSON.parse(json.lines.join('\n')) as PsRow[];
    expect(parsed.find((r) => r.name === 'victim')).toEqual({ id: victim.info.id, name: 'victim', entries: 6, resident: 3, virtual: 0x18000 });
  });
});

describe('tsmach vminfo', () => {
  it('prints the Hurd\'s lines for the task\'s map: those the kernel\'s vminfo gives for the same operations', async () => {
    const k = createKernel({ vmLevel: 'L2' });
    const local = k.createTask('victim');
    await build(local);
    const map = k.tasks.get(local.info.id)!.map;
    const renumber = (ls: string[]): string[] => {
      const seen = new Map<string, number>();
      return ls.map((l) => l.replace(/mem_obj=(\d+)/, (_m, n: string) => `mem_obj=${seen.get(n) ?? (seen.set(n, seen.size + 1), seen.size)}`));
    };
    const all = await tsmach('vminfo', String(victim.info.id), '--connection-file', connectionFile);
    expect(all.code, all.stderr).toBe(0);
    expect(all.lines[0]).toBe('   0x10000[0x6000] (prot=RW, max_prot=RWX)');
    expect(all.lines[1]).toBe('   0x16000[0x2000] (prot=0, max_prot=RWX, offs=0x6000)');
    expect(all.lines).toHaveLength(6);
    expect(renumber(all.lines)).toEqual(renumber(vminfo(map)));
    // by name, holes, sizes, from an address
    const some = await tsmach('vminfo', '-sh', 'victim', '0x20000', '0x30000', '--connection-file', connectionFile);
    expect(some.code, some.stderr).toBe(0);
    expect(some.lines).toEqual(vminfo(map, { sizes: true, holes: true, addr: 0x20000, size: 0x30000 }));
    expect(some.lines[0]).toBe('   0x20000 (hole)');
    k.shutdown();
  });

  it('says so for a task that does not exist', async () => {
    const r = await tsmach('vminfo', 'no-such-task', '--connection-file', connectionFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no task no-such-task/);
  });
});

describe('privilege', () => {
  it('a task with the token alone gets no host_priv and cannot reach a processor set\'s tasks', async () => {
    const plain = await connect({ connectionFile, name: 'plain' });
    expect(plain.hostPriv).toBeNull();
    const { processor_sets } = await host_processor_sets(plain.host);
    await expect(host_processor_set_priv(plain.host, processor_sets[0]!)).rejects.toSatisfy((e: unknown) => e instanceof MachError && e.code === KERN_INVALID_ARGUMENT);
    plain.terminate();
    // a wrong privileged ticket is refused; the token file is private
    await expect(connect({ connectionFile, name: 'forger', ticket: 'f'.repeat(64) })).rejects.toThrow(/403/);
    const info = JSON.parse((await import('node:fs')).readFileSync(connectionFile, 'utf8')) as { tokenFile: string };
    expect(statSync(privilegedTokenFile(info.tokenFile)).mode & 0o777).toBe(0o600);
  });

  it('a kernel started with --no-privileged-tools admits no tool', async () => {
    const k = await startKernel(['--no-privileged-tools']);
    const r = await tsmach('ps', '--connection-file', k.connectionFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/privileged-tool token/);
    k.proc.kill();
  });
});
