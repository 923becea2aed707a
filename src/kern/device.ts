/*
 * File: kern/device.ts
 * Purpose: the kernel's devices (GNU Mach device/ds_routines.c): disk images served through
 *          defs/device.defs, opened from the device master port, which only boot servers
 *          get. device_read answers with out-of-line data, a new region in the caller's map.
 *
 * Disks are image files. Records are 512 bytes (DEV_BSIZE); `recnum` is the first record.
 * How the data of a read reaches the reader depends on the driver, and the choice shapes
 * the reader's VM map (spec gnumach-vm.md §6.4): `object` (in-kernel Linux glue, hd/sd:
 * an object copy, vm_map_enter's E rules), `pages` (GNU Mach drivers completing through
 * ds_read_done: a page list, rule K) or `entries` (an entry list, as from a user-level
 * driver like rumpdisk: never merged).
 */

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { MACH_MSG_TYPE_MOVE_SEND } from '../mach/message.js';
import type { MachPort } from '../mach/mig.js';
import { ipc_kobject_set, IKOT_DEVICE, IKOT_MASTER_DEVICE } from '../ipc/kobject.js';
import { ipc_port_alloc_kernel, ipc_port_dealloc_kernel, ipc_port_make_send, IP_VALID, type IpcPort, type IpcPortRef } from '../ipc/port.js';
import { device_server, type device_routines } from '../gen/device.server.js';
import { vm_map_copy_entry_list_from_bytes } from '../vm/map_copy.js';
import { vm_ool_attach, vm_ool_object_data, vm_ool_page_list_data } from '../vm/ool.js';
import type { VmSystem } from '../vm/vm_system.js';
import type { KernelMsg } from './ipc_mig.js';

/** include/device/device_types.h */
export const D_READ = 0x1;
export const D_WRITE = 0x2;
export const D_NODELAY = 0x4;
export const D_SUCCESS = 0;
export const D_IO_ERROR = 2500;
export const D_WOULD_BLOCK = 2501;
export const D_NO_SUCH_DEVICE = 2502;
export const D_ALREADY_OPEN = 2503;
export const D_DEVICE_DOWN = 2504;
export const D_INVALID_OPERATION = 2505;
export const D_INVALID_RECNUM = 2506;
export const D_INVALID_SIZE = 2507;
export const D_NO_MEMORY = 2508;
export const D_READ_ONLY = 2509;
export const DEV_GET_SIZE = 0;
export const DEV_GET_RECORDS = 1;
/** DEV_BSIZE: the record size of disks */
export const DEV_BSIZE = 512;
/** The largest single read a driver accepts (larger ones: D_INVALID_SIZE). */
export const DEVICE_IO_MAX = 16 * 1024 * 1024;

export type DiskFormat = 'object' | 'pages' | 'entries';

export interface DiskOptions {
  /** the image file */
  path: string;
  /** the device name given to device_open (default hd0) */
  name?: string;
  /** writes allowed (default: read-only) */
  writable?: boolean;
  /** how read data reaches the reader (default object, as the Linux-glue drivers) */
  format?: DiskFormat;
}

/** A disk: an image file read and written by 512-byte records. */
export class DiskDevice {
  readonly name: string;
  readonly path: string;
  readonly writable: boolean;
  readonly format: DiskFormat;
  readonly size: number;
  /** The device port (IKOT_DEVICE); send rights to it are what device_open returns. */
  readonly port: IpcPort;
  private fd: number;
  readonly stats = { reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0 };
  /** The VM of the kernel the disk belongs to (the reader's map gets the data through it). */
  readonly vm: VmSystem | null;

  constructor(options: DiskOptions, vm: VmSystem | null = null) {
    this.vm = vm;
    this.name = options.name ?? 'hd0';
    this.path = options.path;
    this.writable = options.writable ?? false;
    this.format = options.format ?? 'object';
    this.fd = openSync(options.path, this.writable ? 'r+' : 'r');
    this.size = fstatSync(this.fd).size;
    this.port = ipc_port_alloc_kernel();
    ipc_kobject_set(this.port, this, IKOT_DEVICE);
  }

  /** Up to `bytes` bytes from record `recnum` (short at the end of the disk). */
  read(recnum: number, bytes: number): Uint8Array | number {
    if (bytes < 0 || bytes > DEVICE_IO_MAX) return D_INVALID_SIZE;
    const offset = recnum * DEV_BSIZE;
    if (recnum < 0 || offset > this.size) return D_INVALID_RECNUM;
    const n = Math.min(bytes, this.size - offset);
    const data = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, data, done, n - done, offset + done);
      if (got <= 0) return D_IO_ERROR;
      done += got;
    }
    this.stats.reads++;
    this.stats.bytesRead += n;
    return data;
  }

  /** Writes `data` at record `recnum`; whole records only. Returns D_SUCCESS or the error. */
  write(recnum: number, data: Uint8Array): number {
    if (!this.writable) return D_READ_ONLY;
    const offset = recnum * DEV_BSIZE;
    if (recnum < 0 || offset + data.length > this.size) return D_INVALID_RECNUM;
    if (data.length % DEV_BSIZE !== 0) return D_INVALID_SIZE;
    writeSync(this.fd, data, 0, data.length, offset);
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
    return D_SUCCESS;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    ipc_port_dealloc_kernel(this.port);
  }
}

/** The device master: the port device_open is sent to, and the devices it knows. */
export class DeviceMaster {
  readonly port: IpcPort;
  readonly devices = new Map<string, DiskDevice>();

  constructor() {
    this.port = ipc_port_alloc_kernel();
    ipc_kobject_set(this.port, this, IKOT_MASTER_DEVICE);
  }

  add(disk: DiskDevice): void {
    this.devices.set(disk.name, disk);
  }

  destroy(): void {
    for (const d of this.devices.values()) d.close();
    this.devices.clear();
    ipc_port_dealloc_kernel(this.port);
  }
}

function device_of(port: IpcPortRef): DiskDevice | null {
  return IP_VALID(port) && port.ip_kotype === IKOT_DEVICE ? (port.ip_kobject as DiskDevice) : null;
}

function master_of(port: IpcPortRef): DeviceMaster | null {
  return IP_VALID(port) && port.ip_kotype === IKOT_MASTER_DEVICE ? (port.ip_kobject as DeviceMaster) : null;
}

/** The out-of-line data of a read in the disk's copy format. */
function read_data(disk: DiskDevice, bytes: Uint8Array): Uint8Array {
  const system = disk.vm;
  switch (disk.format) {
    case 'object': return vm_ool_object_data(system, bytes);
    case 'pages': return vm_ool_page_list_data(bytes);
    case 'entries': return vm_ool_attach(vm_map_copy_entry_list_from_bytes(system, bytes), bytes.slice());
  }
}

/**
 * The work functions of device.defs (ds_device_open, ds_device_read, ...), answering at
 * once (no D_IO_QUEUED: the replies are not deferred).
 * Returns: D_SUCCESS, D_NO_SUCH_DEVICE, D_READ_ONLY, D_INVALID_RECNUM, D_INVALID_SIZE,
 * D_INVALID_OPERATION, D_IO_ERROR.
 */
export function device_routines(rt: KernelMsg): device_routines {
  const dev = (p: MachPort): DiskDevice | null => device_of(rt.peek(p));
  return {
    device_open(master, _reply, _replyPoly, mode, name) {
      const m = master_of(rt.peek(master));
      if (m === null) return D_NO_SUCH_DEVICE;
      const disk = m.devices.get(name);
      if (disk === undefined) return D_NO_SUCH_DEVICE;
      if (mode & D_WRITE && !disk.writable) return D_READ_ONLY;
      return { device: rt.right(ipc_port_make_send(disk.port)), devicePoly: MACH_MSG_TYPE_MOVE_SEND };
    },
    device_close(device) {
      return dev(device) === null ? D_NO_SUCH_DEVICE : D_SUCCESS;
    },
    device_read(device, _reply, _replyPoly, _mode, recnum, bytes_wanted) {
      const d = dev(device);
      if (d === null) return D_NO_SUCH_DEVICE;
      const r = d.read(recnum, bytes_wanted);
      if (typeof r === 'number') return r;
      return { data: read_data(d, r) };
    },
    device_read_inband(device, _reply, _replyPoly, _mode, recnum, bytes_wanted) {
      const d = dev(device);
      if (d === null) return D_NO_SUCH_DEVICE;
      if (bytes_wanted > 128) return D_INVALID_SIZE;
      const r = d.read(recnum, bytes_wanted);
      return typeof r === 'number' ? r : { data: r };
    },
    device_write(device, _reply, _replyPoly, _mode, recnum, data) {
      const d = dev(device);
      if (d === null) return D_NO_SUCH_DEVICE;
      const kr = d.write(recnum, data);
      return kr === D_SUCCESS ? { bytes_written: data.length } : kr;
    },
    device_write_inband(device, _reply, _replyPoly, _mode, recnum, data) {
      const d = dev(device);
      if (d === null) return D_NO_SUCH_DEVICE;
      const kr = d.write(recnum, data);
      return kr === D_SUCCESS ? { bytes_written: data.length } : kr;
    },
    device_set_status(device) {
      return dev(device) === null ? D_NO_SUCH_DEVICE : D_INVALID_OPERATION;
    },
    device_get_status(device, flavor, statusCnt) {
      const d = dev(device);
      if (d === null) return D_NO_SUCH_DEVICE;
      if (statusCnt < 2) return D_INVALID_OPERATION;
      switch (flavor) {
        case DEV_GET_SIZE: return { status: [d.size, DEV_BSIZE] };
        case DEV_GET_RECORDS: return { status: [Math.floor(d.size / DEV_BSIZE), DEV_BSIZE] };
        default: return D_INVALID_OPERATION;
      }
    },
  };
}

/** The device demux over the kernel's devices. */
export function device_kernel_server(rt: KernelMsg): ReturnType<typeof device_server> {
  return device_server(device_routines(rt));
}

