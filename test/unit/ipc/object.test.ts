/*
 * File: test/unit/ipc/object.test.ts
 * Purpose: ipc_object — allocation under names, translation, copyin from the kernel,
 *          destroying naked rights, copyout of a message's destination.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_INVALID_TASK, KERN_NAME_EXISTS, KERN_SUCCESS,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE,
  MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND,
  MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_NULL, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND,
  MACH_PORT_TYPE_DEAD_NAME,
} from '../../../src/mach/port.js';
import {
  IpcPort, IpcPset, ipc_object_alloc_dead_name, ipc_object_alloc_name, ipc_object_copyin,
  ipc_object_copyin_from_kernel, ipc_object_copyin_type, ipc_object_copyout_dest, ipc_object_destroy,
  ipc_object_translate, ipc_port_alloc_kernel, ipc_port_dealloc_kernel, ipc_space_destroy, mach_port_type,
} from '../../../src/ipc/index.js';
import { allocReceive, giveRight, poll, portOf, task, useLeakCheck } from './helpers.js';

useLeakCheck();

describe('ipc_object_copyin_type', () => {
  it('maps dispositions to the right types received', () => {
    expect([MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND,
      MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_MAKE_SEND_ONCE, 0].map(ipc_object_copyin_type)).toEqual([
      MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND,
      MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND_ONCE, 0]);
    expect(() => ipc_object_copyin_type(15)).toThrow();
  });
});

describe('allocation under a name and translation', () => {
  it('refuses taken names with KERN_NAME_EXISTS', () => {
    const space = task();
    const name = allocReceive(space);
    expect(ipc_object_alloc_name(space, new IpcPset(name), 0x80000, 0, name)).toBe(KERN_NAME_EXISTS);
    expect(ipc_object_alloc_dead_name(space, name)).toBe(KERN_NAME_EXISTS);
    expect(ipc_object_alloc_dead_name(space, 0x9100)).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, 0x9100).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });

  it('ipc_object_translate checks the right', () => {
    const space = task();
    const name = allocReceive(space);
    expect(ipc_object_translate(space, name, MACH_PORT_RIGHT_RECEIVE)).toBe(portOf(space, name));
    expect(ipc_object_translate(space, name, MACH_PORT_RIGHT_SEND)).toBe(KERN_INVALID_RIGHT);
    expect(ipc_object_translate(space, name, MACH_PORT_RIGHT_PORT_SET)).toBe(KERN_INVALID_RIGHT);
    expect(ipc_object_translate(space, 0x7700, MACH_PORT_RIGHT_RECEIVE)).toBe(KERN_INVALID_NAME);
    ipc_space_destroy(space);
    expect(ipc_object_translate(space, name, MACH_PORT_RIGHT_RECEIVE)).toBe(KERN_INVALID_TASK);
  });
});

describe('ipc_object_copyin_from_kernel', () => {
  it('makes, copies or moves naked rights the kernel holds', () => {
    const kport = ipc_port_alloc_kernel();
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_MAKE_SEND);
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_COPY_SEND);
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_MOVE_SEND);
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_MOVE_SEND_ONCE);
    expect([kport.ip_mscount, kport.ip_srights, kport.ip_sorights]).toEqual([1, 2, 1]);
    kport.ip_mscount = 5;
    ipc_object_copyin_from_kernel(kport, MACH_MSG_TYPE_MOVE_RECEIVE);
    expect([kport.ip_mscount, kport.ip_receiver, kport.ip_receiver_name]).toEqual([0, null, MACH_PORT_NULL]);
    ipc_object_destroy(kport, MACH_MSG_TYPE_PORT_RECEIVE);
    expect(kport.ip_active).toBe(false);
    expect(() => ipc_object_copyin_from_kernel(kport, 15)).toThrow();
  });
});

describe('ipc_object_destroy / ipc_object_copyout_dest', () => {
  it('a naked send-once right is destroyed by using it for a send-once notification', () => {
    const space = task();
    const name = allocReceive(space);
    const so = ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    ipc_object_destroy(so, MACH_MSG_TYPE_PORT_SEND_ONCE);
    expect(poll(space, name).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
  });

  it('the destination of a received message: its name if the space holds the receive right', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    giveRight(a, name, b);
    const s = ipc_object_copyin(a, name, MACH_MSG_TYPE_MAKE_SEND) as IpcPort;
    expect(ipc_object_copyout_dest(a, s, MACH_MSG_TYPE_PORT_SEND)).toBe(name);
    const s2 = ipc_object_copyin(a, name, MACH_MSG_TYPE_MAKE_SEND) as IpcPort;
    expect(ipc_object_copyout_dest(b, s2, MACH_MSG_TYPE_PORT_SEND)).toBe(MACH_PORT_NULL);
    const so = ipc_object_copyin(a, name, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(ipc_object_copyout_dest(b, so, MACH_MSG_TYPE_PORT_SEND_ONCE)).toBe(MACH_PORT_NULL);
    expect(poll(a, name).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE); // b couldn't consume it quietly
    expect(port.ip_srights).toBe(1);
  });
});
