/*
 * File: test/unit/kern/device.test.ts
 * Purpose: the kernel's disks through device.defs: only boot servers get the device master;
 *          device_open by name (read-only unless asked), device_read with out-of-line data
 *          placed in the reader's map in the disk's copy format, device_write, device_get_status.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKernel } from '../../../src/kern/kernel.js';
import { D_INVALID_RECNUM, D_NO_SUCH_DEVICE, D_READ, D_READ_ONLY, D_WRITE, DEV_GET_RECORDS, DEV_GET_SIZE } from '../../../src/kern/device.js';
import { device_get_status, device_open, device_read, device_read_inband, device_write } from '../../../src/gen/device.user.js';
import { vm_deallocate, vm_read } from '../../../src/gen/mach.user.js';
import { MachError } from '../../../src/mach/kern_return.js';
import { vm_ool_address } from '../../../src/vm/ool.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmach-disk-'));
const image = join(dir, 'disk.img');
const bytes = new Uint8Array(64 * 1024).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
writeFileSync(image, bytes);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<number> {
  const e = await p.then(() => null, (x: unknown) => x);
  if (!(e instanceof MachError)) throw new Error(`expected a MachError, got ${String(e)}`);
  return e.code;
}

describe('disks served through device.defs', () => {
  it('only privileged (boot) tasks get the device master port', () => {
    const k = createKernel({ disks: [{ path: image }] });
    expect(k.createTask('user').deviceMaster).toBeNull();
    expect(k.createTask('boot', { privileged: true }).deviceMaster).not.toBeNull();
    k.shutdown();
  });

  it('device_read: the bytes, as a region of the reader\'s map, in each copy format', async () => {
    for (const format of ['object', 'pages', 'entries'] as const) {
      const k = createKernel({ disks: [{ path: image, format }] });
      const t = k.createTask('ext2fs', { privileged: true });
      const device = (await device_open(t.deviceMaster!, D_READ, 'hd0')).device!;
      const { data } = await device_read(device, D_READ, 3, 10000);
      expect(Array.from(data)).toEqual(Array.from(bytes.subarray(3 * 512, 3 * 512 + 10000)));
      const addr = vm_ool_address(data)!;
      expect(typeof addr).toBe('number');
      // The region really is in the task's map, with those bytes.
      const again = await vm_read(t.self, addr, 4096);
      expect(Array.from(again.data)).toEqual(Array.from(bytes.subarray(3 * 512, 3 * 512 + 4096)));
      await vm_deallocate(t.self, vm_ool_address(again.data)!, 4096);
      await vm_deallocate(t.self, addr, data.length);
      const kt = [...k.tasks.values()].find((x) => x.name === 'ext2fs')!;
      expect(kt.map.nentries).toBe(0);
      k.shutdown();
    }
  });

  it('a short read at the end; errors: no such device, bad record, read-only', async () => {
    const k = createKernel({ disks: [{ path: image }] });
    const t = k.createTask('boot', { privileged: true });
    const device = (await device_open(t.deviceMaster!, D_READ, 'hd0')).device!;
    const { data } = await device_read(device, D_READ, 127, 4096);
    expect(data.length).toBe(512);
    expect(await code(device_open(t.deviceMaster!, D_READ, 'sd9'))).toBe(D_NO_SUCH_DEVICE);
    expect(await code(device_read(device, D_READ, 1000, 512))).toBe(D_INVALID_RECNUM);
    expect(await code(device_open(t.deviceMaster!, D_READ | D_WRITE, 'hd0'))).toBe(D_READ_ONLY);
    expect(await code(device_write(device, D_WRITE, 0, new Uint8Array(512)))).toBe(D_READ_ONLY);
    expect((await device_read_inband(device, D_READ, 1, 16)).data).toEqual(bytes.subarray(512, 528));
    expect((await device_get_status(device, DEV_GET_SIZE, 2)).status).toEqual([65536, 512]);
    expect((await device_get_status(device, DEV_GET_RECORDS, 2)).status).toEqual([128, 512]);
    k.shutdown();
  });

  it('a writable disk takes writes of whole records', async () => {
    const copy = join(dir, 'rw.img');
    writeFileSync(copy, bytes);
    const k = createKernel({ disks: [{ path: copy, name: 'hd1', writable: true }] });
    const t = k.createTask('boot', { privileged: true });
    const device = (await device_open(t.deviceMaster!, D_READ | D_WRITE, 'hd1')).device!;
    const w = new Uint8Array(1024).fill(0xab);
    expect((await device_write(device, D_WRITE, 2, w)).bytes_written).toBe(1024);
    expect(Array.from((await device_read(device, D_READ, 2, 1024)).data)).toEqual(Array.from(w));
    k.shutdown();
  });
});
