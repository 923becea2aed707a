/*
 * File: test/unit/ipc/kobject.test.ts
 * Purpose: ipc_kobject — kernel ports: messages answered at once by the registered server
 *          demuxes (reply, MIG_BAD_ID, error replies, MIG_NO_REPLY and a later
 *          mach_msg_send_from_kernel), what happens to the request's rights, destroy hooks.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  KERN_INVALID_ARGUMENT, KERN_SUCCESS, MACH_MSG_SUCCESS, MACH_SEND_INVALID_DEST, MIG_BAD_ID, MIG_NO_REPLY,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32,
  MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_NO_SENDERS, MACH_RCV_MSG,
  MACH_SEND_MSG,
} from '../../../src/mach/message.js';
import { MACH_PORT_NULL, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_SEND } from '../../../src/mach/port.js';
import {
  IKOT_DEVICE, IKOT_TASK, IP_VALID, IpcKmsg, ipc_kobject_destroy_register, ipc_kobject_server_register,
  ipc_kobject_server_unregister, ipc_kobject_set, ipc_port_alloc_kernel, ipc_port_copyout_send,
  ipc_port_dealloc_kernel, ipc_port_make_send, ipc_port_make_sonce, ipc_port_nsrequest, ipc_stats,
  mach_msg, mach_msg_send_from_kernel, mach_port_destroy, mach_port_type, type IpcKobjectDemux,
  type IpcPort, type IpcPortRef, type MachMsgResult,
} from '../../../src/ipc/index.js';
import { allocReceive, intItem, message, now, poll, portItem, portOf, task, typeOf, useLeakCheck } from './helpers.js';

useLeakCheck();

const demuxes: IpcKobjectDemux[] = [];
function register(demux: IpcKobjectDemux): void {
  demuxes.push(demux);
  ipc_kobject_server_register(demux);
}
afterEach(() => {
  for (const d of demuxes.splice(0)) ipc_kobject_server_unregister(d);
});

/** A kernel port standing for `object`, and a send right for it in `space`. */
function kernelPort(space: ReturnType<typeof task>, object: unknown, kotype = IKOT_TASK): [IpcPort, number] {
  const port = ipc_port_alloc_kernel();
  ipc_kobject_set(port, object, kotype);
  return [port, ipc_port_copyout_send(ipc_port_make_send(port), space)];
}

const retcode = (reply: IpcKmsg, kr: number): void => { reply.body[0]!.data = kr; };

describe('ipc_kobject_server', () => {
  it('answers an RPC to a kernel port at once: the client\'s mach_msg does not wait', () => {
    const client = task();
    const [kport, kname] = kernelPort(client, { name: 'task0' });
    const seen: unknown[] = [];
    register((request, reply) => {
      if (request.header.id !== 3000) return false;
      const dest = request.header.remotePort as IpcPort;
      seen.push([dest.ip_kobject, request.body[0]!.data, request.header.bits]);
      reply.body.push({ type: typeOf(MACH_MSG_TYPE_INTEGER_32), data: 42 });
      reply.body.push({ type: typeOf(MACH_MSG_TYPE_PORT_SEND), data: ipc_port_make_send(dest) });
      reply.header.bits |= MACH_MSGH_BITS_COMPLEX;
      reply.header.size = 32 + 8 + 8 + 8;
      return true;
    });
    const reply = allocReceive(client);
    const m = message(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 3000, [intItem(7)]);
    const r = now(mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, m.header.size, 4096, reply, 0, 0));
    expect(seen).toEqual([[{ name: 'task0' }, 7, MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE)]]);
    expect(r.mr).toBe(MACH_MSG_SUCCESS);
    expect(r.msg!.header).toEqual({
      bits: (MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE)) >>> 0, size: 56,
      remotePort: MACH_PORT_NULL, localPort: reply, seqno: 0, id: 3100,
    });
    expect(r.msg!.body.map((i) => i.data)).toEqual([KERN_SUCCESS, 42, kname]);
    expect(kport.ip_srights).toBe(1); // the destination copy was released, the reply's joined kname
    expect(portOf(client, reply).ip_sorights).toBe(0);
    ipc_port_dealloc_kernel(kport);
  });

  it('an id no demux knows: a MIG_BAD_ID reply; the request\'s other rights are destroyed', () => {
    const client = task();
    const [kport, kname] = kernelPort(client, null);
    const reply = allocReceive(client);
    const carried = allocReceive(client);
    const m = message(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 9999,
      [portItem(carried, MACH_MSG_TYPE_MAKE_SEND)]);
    const r = now(mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, m.header.size, 4096, reply, 0, 0));
    expect(r.msg!.header.id).toBe(10099);
    expect(r.msg!.header.size).toBe(40);
    expect(r.msg!.body).toEqual([intItem(MIG_BAD_ID)]);
    expect(portOf(client, carried).ip_srights).toBe(0);
    expect(kport.ip_srights).toBe(1);
    ipc_port_dealloc_kernel(kport);
  });

  it('an error RetCode: the request is destroyed but for its reply right, which carries the error', () => {
    const client = task();
    const [kport, kname] = kernelPort(client, null);
    register((request, reply) => { retcode(reply, KERN_INVALID_ARGUMENT); return request.header.id === 3001; });
    const reply = allocReceive(client);
    const carried = allocReceive(client);
    const m = message(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 3001,
      [portItem(carried, MACH_MSG_TYPE_MAKE_SEND_ONCE)]);
    const r = now(mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, m.header.size, 4096, reply, 0, 0));
    expect(r.msg!.body).toEqual([intItem(KERN_INVALID_ARGUMENT)]);
    expect(poll(client, carried).msg!.header.id).toBe(71); // its send-once right was destroyed
    ipc_port_dealloc_kernel(kport);
  });

  it('MIG_NO_REPLY: no reply now; the routine keeps the reply right and answers later', async () => {
    const client = task();
    const [kport, kname] = kernelPort(client, null);
    let saved: IpcPortRef = null;
    register((request, reply) => {
      if (request.header.id !== 3002) return false;
      saved = request.header.localPort;
      retcode(reply, MIG_NO_REPLY);
      return true;
    });
    const reply = allocReceive(client);
    const m = message(kname, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 3002);
    const pending = mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, 32, 4096, reply, 0, 0) as Promise<MachMsgResult>;
    expect(pending).toBeInstanceOf(Promise);
    expect(IP_VALID(saved)).toBe(true);
    const later = new IpcKmsg(MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0), 40, saved, null, 3102,
      [{ type: typeOf(MACH_MSG_TYPE_INTEGER_32), data: KERN_SUCCESS }]);
    expect(mach_msg_send_from_kernel(later)).toBe(MACH_MSG_SUCCESS);
    const r = await pending;
    expect([r.msg!.header.id, r.msg!.header.localPort]).toEqual([3102, reply]);
    ipc_port_dealloc_kernel(kport);
  });

  it('a one-way message: no reply; destination rights are released without notifications', () => {
    const client = task();
    const [kport, kname] = kernelPort(client, null);
    const calls: number[] = [];
    register((request) => { calls.push(request.header.id); return true; });
    const before = ipc_stats().kmsgs;
    expect(now(mach_msg(client, message(kname, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3003), MACH_SEND_MSG, 32, 0, 0, 0, 0)).mr).toBe(0);
    expect(calls).toEqual([3003]);
    expect(ipc_stats().kmsgs).toBe(before);
    expect(kport.ip_srights).toBe(1);
    ipc_port_dealloc_kernel(kport);
  });

  it('a message to a kernel port through a send-once right releases it quietly', () => {
    const kport = ipc_port_alloc_kernel();
    const calls: number[] = [];
    register((request) => { calls.push(request.header.id); return true; });
    const so = new IpcKmsg(MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND_ONCE, 0), 32, kport, null, 3004, []);
    mach_msg_send_from_kernel(so);
    expect(calls).toEqual([3004]);
    expect(kport.ip_sorights).toBe(0);
    ipc_port_dealloc_kernel(kport);
  });

  it('notifications to kernel ports go to the demuxes too (no-senders for a kernel object)', () => {
    const client = task();
    const [kport, kname] = kernelPort(client, null, IKOT_DEVICE);
    const seen: unknown[] = [];
    register((request) => {
      if (request.header.id !== MACH_NOTIFY_NO_SENDERS) return false;
      seen.push([(request.header.remotePort as IpcPort).ip_kotype, request.body[0]!.data]);
      return true;
    });
    ipc_port_nsrequest(kport, 0, ipc_port_make_sonce(kport));
    mach_port_destroy(client, kname);
    expect(seen).toEqual([[IKOT_DEVICE, 1]]);
    ipc_port_dealloc_kernel(kport);
  });
});

describe('mach_msg_send_from_kernel', () => {
  it('applies the kernel\'s dispositions to naked rights (MAKE_SEND of a kernel port)', () => {
    const user = task();
    const inbox = allocReceive(user);
    const kport = ipc_port_alloc_kernel();
    const k = new IpcKmsg((MACH_MSGH_BITS_COMPLEX | MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND_ONCE, 0)) >>> 0, 40,
      portOf(user, inbox), null, 500, [{ type: typeOf(MACH_MSG_TYPE_MAKE_SEND), data: kport }]);
    mach_msg_send_from_kernel(k);
    const got = poll(user, inbox).msg!;
    expect(got.body[0]!.type.name).toBe(MACH_MSG_TYPE_PORT_SEND);
    const name = got.body[0]!.data as number;
    expect(mach_port_type(user, name).ptype).toBe(MACH_PORT_TYPE_SEND);
    expect([kport.ip_mscount, kport.ip_srights]).toEqual([1, 1]);
    ipc_port_dealloc_kernel(kport);
    expect(mach_port_type(user, name).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });
});

describe('kernel object death', () => {
  it('runs the destroy hook of the port\'s kernel type; sends to it then fail', () => {
    const client = task();
    const destroyed: unknown[] = [];
    ipc_kobject_destroy_register(IKOT_DEVICE, (port) => destroyed.push(port.ip_kobject));
    const [kport, kname] = kernelPort(client, 'disk0', IKOT_DEVICE);
    ipc_port_dealloc_kernel(kport);
    expect(destroyed).toEqual(['disk0']);
    expect(now(mach_msg(client, message(kname, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1), MACH_SEND_MSG, 32, 0, 0, 0, 0)).mr)
      .toBe(MACH_SEND_INVALID_DEST);
    ipc_kobject_destroy_register(IKOT_DEVICE, () => undefined);
  });
});
