/*
 * File: vm/ool.ts
 * Purpose: out-of-line memory in messages (GNU Mach ipc/ipc_kmsg.c's calls into the VM):
 *          the hook src/ipc/kmsg.ts calls to copy a region in from the sender's map
 *          (vm_map_copyin), out into the receiver's map (vm_map_copyout), or to discard it.
 *
 * How a region is named in a message (docs/messages.md, "Out-of-line memory"):
 *   - sending: the item's data is a Uint8Array of the region's length with a numeric
 *     `address` property (vm_ool_region(address, length) makes one): the region
 *     [address, address + length) of the sender's map is copied in (an entry-list copy,
 *     copy-on-write; with the descriptor's deallocate bit, the range leaves the sender's
 *     map). A Uint8Array without `address` is data that is not in the sender's map (as
 *     a server's stubs pass it): it is copied in as an entry list over a new object
 *     holding those bytes.
 *   - receiving: the region is placed in the receiver's map, and the item's data is a
 *     Uint8Array of its bytes with an `address` property: where it now is. It stays there
 *     until the receiver vm_deallocates it. Pages only a pager could provide (not yet
 *     paged in when the message was received) are zero in the bytes and listed in a
 *     `missing` property: the offset in the data where each such run starts (a run ends
 *     at the next source page boundary, so within PAGE_SIZE bytes); vm_read them from
 *     `address` to have them.
 * In the kernel, between copyin and copyout, the data is a Uint8Array of the bytes as
 * they were at copyin (what kernel servers read), and stands for its vm_map_copy
 * (vm_ool_copy). Data the kernel makes itself for a message carries a copy of the
 * format it chooses (vm_ool_object_data, vm_ool_page_list_data); kernel data with no copy
 * (a server that knows nothing of the VM) arrives as an object copy, as a Linux-glue
 * device_read reply does in GNU Mach.
 *
 * The hook cannot see the destination port, so every copyin makes an entry list; GNU
 * Mach makes a page list for messages to pager-request and device ports (which differs
 * only in not clipping the sender's map without dealloc).
 */

import type { IpcKmsgVm } from '../ipc/kmsg.js';
import { ipc_port_make_send, type IpcPort } from '../ipc/port.js';
import type { IpcSpace } from '../ipc/space.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_BYTE, MACH_MSG_TYPE_MOVE_SEND, MACH_SEND_MSG,
  type MachMsgData, type MachMsgItem,
} from '../mach/message.js';
import { msgSize } from '../mach/mig.js';
import type { VmMap } from './map.js';
import { vm_mig, vm_pageout_set_copy } from './memory_object.js';
import type { VmObject } from './object.js';
import type { VmMapCopy } from './map_copy.js';
import {
  vm_map_copy_discard, vm_map_copy_entry_list_from_bytes, vm_map_copy_object_from_bytes, vm_map_copy_page_list_from_bytes,
  vm_map_copy_read_now, vm_map_copyin, vm_map_copyin_object, vm_map_copyout,
} from './map_copy.js';
import type { VmReadGap } from './fault.js';
import type { VmSystem } from './vm_system.js';
import { KERN_SUCCESS } from '../mach/kern_return.js';

/** Out-of-line data as the VM layer marks it: where it is (or is to come from), and what is missing. */
export interface VmOolData extends Uint8Array {
  /** Sending: the region's start in the sender's map. Received: where it was placed. */
  address?: number;
  /** Received: where (in the data) each run a pager still has to provide starts (a run is at most a page); zero here. */
  missing?: number[];
}

/* The copy each in-kernel data array stands for. */
const copies = new WeakMap<Uint8Array, VmMapCopy>();
/* Pages of in-kernel data not read at copyin (a pager's). */
const missing_at_copyin = new WeakMap<Uint8Array, VmReadGap[]>();
/* The map of each task's IPC space. */
const space_maps = new WeakMap<IpcSpace, VmMap>();

/** Data standing for the region [address, address + length) of the sender's map. */
export function vm_ool_region(address: number, length: number): VmOolData {
  const data = new Uint8Array(length) as VmOolData;
  data.address = address;
  return data;
}

/** Where received out-of-line data was placed in the receiver's map (undefined: not placed by the VM). */
export function vm_ool_address(data: Uint8Array): number | undefined {
  return (data as VmOolData).address;
}

/** The task map of an IPC space (tasks register theirs: vm_task_init). */
export function vm_space_map(space: IpcSpace): VmMap | null {
  return space_maps.get(space) ?? null;
}

/** Registers the map of a task's space, so that its messages' regions are found. */
export function vm_space_set_map(space: IpcSpace, map: VmMap): void {
  space_maps.set(space, map);
}

/** In-kernel data for `copy`: its bytes as they are now, standing for the copy. */
export function vm_ool_attach(copy: VmMapCopy | null, bytes?: Uint8Array, missing?: VmReadGap[]): Uint8Array {
  if (bytes === undefined) {
    const read = vm_map_copy_read_now(copy);
    bytes = read.bytes;
    missing = read.missing;
  }
  if (copy !== null) copies.set(bytes, copy);
  if (missing !== undefined && missing.length > 0) missing_at_copyin.set(bytes, missing);
  return bytes;
}

/**
 * The copy in-kernel data stands for, taken (the data no longer stands for it): kernel
 * servers consume it. Data with no copy gets an entry-list copy of its bytes.
 */
export function vm_ool_take(system: VmSystem | null, data: Uint8Array): VmMapCopy | null {
  const copy = copies.get(data);
  if (copy !== undefined) {
    copies.delete(data);
    missing_at_copyin.delete(data);
    return copy;
  }
  return data.length === 0 ? null : vm_map_copy_entry_list_from_bytes(system, data);
}

/** The copy in-kernel data stands for, without taking it (null if none). */
export function vm_ool_copy(data: Uint8Array): VmMapCopy | null {
  return copies.get(data) ?? null;
}

/** Kernel-made data as an object copy (E rules when received): a new object holding `bytes`. */
export function vm_ool_object_data(system: VmSystem | null, bytes: Uint8Array): Uint8Array {
  return vm_ool_attach(vm_map_copy_object_from_bytes(system, bytes), bytes.slice());
}

/** Kernel-made data as a page list (rule K when received). */
export function vm_ool_page_list_data(bytes: Uint8Array): Uint8Array {
  return vm_ool_attach(vm_map_copy_page_list_from_bytes(bytes), bytes.slice());
}

/** Kernel-made data as an object copy of an existing object (the reference moves to the copy). */
export function vm_ool_object_copy(object: VmObject, offset: number, size: number): Uint8Array {
  return vm_ool_attach(vm_map_copyin_object(object, offset, size));
}

vm_pageout_set_copy((object, size) => vm_ool_object_copy(object, 0, size));

/** The descriptor of `length` bytes out of line (MACH_MSG_TYPE_BYTE, long form). */
export function vm_ool_item(data: Uint8Array, dealloc = false): MachMsgItem {
  return { type: { name: MACH_MSG_TYPE_BYTE, size: 8, number: data.length, inline: false, longform: true, deallocate: dealloc }, data };
}

/**
 * A one-way message from the kernel to `dest` (a send right is made for it) with message
 * id `id` and out-of-line items: how a kernel device or server replies with data it made
 * (mach_msg_send_from_kernel).
 */
export function vm_ool_send_from_kernel(dest: IpcPort, id: number, datas: Uint8Array[]): void {
  const body = datas.map((d) => vm_ool_item(d, true));
  const remote = vm_mig.right(ipc_port_make_send(dest))!;
  const r = vm_mig.mach_msg({
    header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0) | MACH_MSGH_BITS_COMPLEX) >>> 0, size: msgSize(body), remotePort: remote.name, localPort: 0, seqno: 0, id },
    body,
  }, MACH_SEND_MSG);
  void r;
}

/**
 * The hook ipc_kmsg_set_vm takes (src/ipc/kmsg.ts).
 *
 * copyin: vm_map_copyin from the sender's map for data with an `address` (null, i.e.
 *   MACH_SEND_INVALID_MEMORY, when that fails or the sender has no map); an entry-list
 *   copy of the bytes otherwise.
 * copyout: vm_map_copyout into the receiver's map in the copy's format; null (the
 *   region is dropped, MACH_MSG_VM_SPACE) when there is no room. The result is the data's
 *   bytes with `address` set.
 * discard: vm_map_copy_discard.
 */
export const vm_ipc_hook: IpcKmsgVm = {
  copyin(space: IpcSpace, data: MachMsgData, length: number, dealloc: boolean): MachMsgData | null {
    if (!(data instanceof Uint8Array)) return null;
    const map = space_maps.get(space) ?? null;
    const address = (data as VmOolData).address;
    if (typeof address === 'number') {
      if (map === null) return null;
      if (!Number.isSafeInteger(address) || address < 0) return null;
      const r = vm_map_copyin(map, address, length, dealloc);
      if (r.kr !== KERN_SUCCESS) return null;
      map.system?.balance();
      return vm_ool_attach(r.copy);
    }
    return vm_ool_attach(vm_map_copy_entry_list_from_bytes(map?.system ?? null, data), data.slice());
  },

  copyout(space: IpcSpace, data: MachMsgData, length: number): MachMsgData | null {
    if (!(data instanceof Uint8Array)) return data;
    const map = space_maps.get(space) ?? null;
    if (map === null) return data;
    let copy = copies.get(data) ?? null;
    let bytes = data;
    let missing = missing_at_copyin.get(data) ?? [];
    const made_here = copy === null;
    if (copy === null) {
      copy = vm_map_copy_object_from_bytes(map.system, data);
      bytes = data.slice();
      missing = [];
    }
    if (missing.length > 0) {
      // Pages a pager had not provided at copyin may be here now.
      const again = vm_map_copy_read_now(copy);
      missing = again.missing;
      bytes = again.bytes;
    }
    const r = vm_map_copyout(map, copy);
    if (r.kr !== KERN_SUCCESS) {
      if (made_here) vm_map_copy_discard(copy);
      return null;
    }
    copies.delete(data);
    missing_at_copyin.delete(data);
    map.system?.balance();
    const out = (bytes === data ? data : bytes) as VmOolData;
    void length;
    out.address = r.address;
    if (missing.length > 0) out.missing = missing.map((gap) => gap.at);
    return out;
  },

  discard(data: MachMsgData): void {
    if (!(data instanceof Uint8Array)) return;
    const copy = copies.get(data);
    if (copy === undefined) return;
    copies.delete(data);
    missing_at_copyin.delete(data);
    vm_map_copy_discard(copy);
  },
};
