/*
 * File: test/unit/ipc/notify.test.ts
 * Purpose: ipc_notify — every notification in the exact layout GNU MIG gives the
 *          simpleroutines of include/mach/notify.defs (made by the stubs tsmig generates
 *          from defs/notify.defs), as received, and the events that send them.
 */

import { describe, expect, it } from 'vitest';
import { KERN_SUCCESS, MACH_MSG_SUCCESS } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32,
  MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_NAME,
  MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_DEAD_NAME,
  MACH_NOTIFY_MSG_ACCEPTED, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE, MACH_RCV_MSG, MACH_SEND_MSG,
  type MachMessage,
} from '../../../src/mach/message.js';
import { MACH_PORT_NULL, MACH_PORT_TYPE_RECEIVE } from '../../../src/mach/port.js';
import {
  IpcPort, ipc_kmsg_destroy, ipc_kmsg_size, ipc_space_destroy, ipc_notify_dead_name, ipc_notify_msg_accepted,
  ipc_notify_no_senders, ipc_notify_port_deleted, ipc_notify_send_once, ipc_object_copyin,
  ipc_stats, mach_msg, mach_port_destroy, mach_port_request_notification,
  mach_port_type, type MachMsgResult,
} from '../../../src/ipc/index.js';
import { allocReceive, message, poll, portOf, receive, send, serverPort, task, useLeakCheck } from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

/** A notify port in `space` and a naked send-once right for it. */
function notifyPort(space: Space): [number, IpcPort] {
  const name = allocReceive(space);
  return [name, ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort];
}

const type32 = (name: number) => ({ name, size: 32, number: 1, inline: true, longform: false, deallocate: false });

/** What the receiver of a notification sees (MIG's Request struct after the kernel's copyout). */
function expected(local: number, id: number, body: MachMessage['body'], complex = false, seqno = 0): MachMessage {
  return {
    header: {
      bits: (MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE) | (complex ? MACH_MSGH_BITS_COMPLEX : 0)) >>> 0,
      size: ipc_kmsg_size(body), remotePort: MACH_PORT_NULL, localPort: local, seqno, id,
    },
    body,
  };
}

describe('as received', () => {
  it('port-deleted, msg-accepted, no-senders, send-once, dead-name: exact messages', () => {
    const space = task();
    const [name, so] = notifyPort(space);
    so.ip_sorights += 4;
    ipc_notify_port_deleted(so, 0x1234);
    ipc_notify_msg_accepted(so, 0x2345);
    ipc_notify_no_senders(so, 9);
    ipc_notify_send_once(so);
    ipc_notify_dead_name(so, 0x3456);
    const got = [0, 1, 2, 3, 4].map(() => poll(space, name));
    expect(got.map((r) => r.mr)).toEqual([0, 0, 0, 0, 0]);
    expect(got.map((r) => r.msg)).toEqual([
      expected(name, MACH_NOTIFY_PORT_DELETED, [{ type: type32(MACH_MSG_TYPE_PORT_NAME), data: 0x1234 }], false, 0),
      expected(name, MACH_NOTIFY_MSG_ACCEPTED, [{ type: type32(MACH_MSG_TYPE_PORT_NAME), data: 0x2345 }], false, 1),
      expected(name, MACH_NOTIFY_NO_SENDERS, [{ type: type32(MACH_MSG_TYPE_INTEGER_32), data: 9 }], false, 2),
      expected(name, MACH_NOTIFY_SEND_ONCE, [], false, 3),
      expected(name, MACH_NOTIFY_DEAD_NAME, [{ type: type32(MACH_MSG_TYPE_PORT_NAME), data: 0x3456 }], false, 4),
    ]);
    expect(portOf(space, name).ip_sorights).toBe(0);
  });

  it('port-destroyed carries the receive right, named in the receiver\'s space', () => {
    const owner = task();
    const backup = task();
    const port = allocReceive(owner);
    const [name, so] = notifyPort(backup);
    expect(mach_port_request_notification(owner, port, MACH_NOTIFY_PORT_DESTROYED, 0, so).kr).toBe(KERN_SUCCESS);
    mach_port_destroy(owner, port);
    const got = poll(backup, name).msg!;
    const rname = got.body[0]!.data as number;
    expect(got).toEqual(expected(name, MACH_NOTIFY_PORT_DESTROYED, [{ type: type32(MACH_MSG_TYPE_PORT_RECEIVE), data: rname }], true));
    expect(mach_port_type(backup, rname).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
  });
});

describe('delivery', () => {
  it('a notification to a dead port is dropped (no loop, nothing leaked)', () => {
    const space = task();
    const [name, so] = notifyPort(space);
    mach_port_destroy(space, name);
    const before = ipc_stats();
    ipc_notify_dead_name(so, 0x100);
    expect(ipc_stats()).toEqual(before);
  });

  it('a notification is never blocked by a full queue', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    for (let i = 0; i < 5; i++) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i));
    const so = ipc_object_copyin(server, port, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    ipc_notify_no_senders(so, 0);
    expect(portOf(server, port).ip_msgcount).toBe(6);
    for (let i = 0; i < 6; i++) poll(server, port);
  });

  it('a server that dies without replying: the client receives a send-once notification (MIG_SERVER_DIED)', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    const rpc = mach_msg(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 2000),
      MACH_SEND_MSG | MACH_RCV_MSG, 32, 4096, reply, 0, 0) as Promise<MachMsgResult>;
    const request = receive(server, port) as MachMsgResult;
    expect(request.msg!.header.id).toBe(2000);
    ipc_space_destroy(server);
    const r = await rpc;
    expect(r.mr).toBe(MACH_MSG_SUCCESS);
    expect(r.msg).toEqual(expected(reply, MACH_NOTIFY_SEND_ONCE, []));
  });
});
