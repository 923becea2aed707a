/*
 * File: test/unit/ipc/kmsg.test.ts
 * Purpose: ipc_kmsg — message layout and validation, copyin of header and body rights
 *          (errors, atomicity, same-name combinations, MACH_SEND_CANCEL, circularity),
 *          what a failed body copyin destroys, copyout in the receiver's space, protected
 *          payloads, out-of-line data and the VM hook.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  KERN_SUCCESS, MACH_MSG_SUCCESS, MACH_MSG_VM_SPACE, MACH_RCV_BODY_ERROR, MACH_SEND_INVALID_DATA,
  MACH_SEND_INVALID_DEST, MACH_SEND_INVALID_HEADER, MACH_SEND_INVALID_MEMORY, MACH_SEND_INVALID_NOTIFY,
  MACH_SEND_INVALID_REPLY, MACH_SEND_INVALID_RIGHT, MACH_SEND_INVALID_TYPE, MACH_SEND_MSG_TOO_SMALL,
  KERN_INVALID_NAME,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_COPY_SEND,
  MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE,
  MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_PORT_NAME,
  MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
  MACH_MSG_TYPE_PROTECTED_PAYLOAD, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED,
  MACH_NOTIFY_SEND_ONCE, MACH_SEND_CANCEL, MACH_SEND_MSG, type MachMessage,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_SEND,
  MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE,
} from '../../../src/mach/port.js';
import {
  IE_BITS_TYPE, IpcPort, ipc_entry_lookup, ipc_kmsg_set_vm, ipc_kmsg_size, ipc_object_copyin, ipc_stats, mach_port_allocate,
  mach_port_clear_protected_payload, mach_port_destroy, mach_port_get_refs,
  mach_port_request_notification, mach_port_set_protected_payload, mach_port_type,
} from '../../../src/ipc/index.js';
import {
  allocReceive, bytesItem, giveRight, intItem, message, poll, portItem, portOf, portsItem, send,
  serverPort, task, typeOf, useLeakCheck,
} from './helpers.js';

useLeakCheck();
afterEach(() => ipc_kmsg_set_vm(null));

type Space = ReturnType<typeof task>;

const refs = (space: Space, name: number): number => mach_port_get_refs(space, name, MACH_PORT_RIGHT_SEND).refs;

/** A no-senders request on a receive right: returns the notify port's name. */
function noSenders(space: Space, name: number): number {
  const n = allocReceive(space);
  const so = ipc_object_copyin(space, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
  expect(mach_port_request_notification(space, name, MACH_NOTIFY_NO_SENDERS, 1, so).kr).toBe(KERN_SUCCESS);
  return n;
}

describe('message layout (spec/mig.md §9)', () => {
  it('sizes header, descriptors, in-line data padded to 4, 8-byte out-of-line pointers', () => {
    expect(ipc_kmsg_size([])).toBe(32);
    expect(ipc_kmsg_size([intItem(1)])).toBe(40);
    expect(ipc_kmsg_size([intItem(1), intItem(2)])).toBe(48); // task_create: 40 is 32 + 4 + 4
    expect(ipc_kmsg_size([bytesItem(new Uint8Array(3))])).toBe(32 + 12 + 4);
    expect(ipc_kmsg_size([bytesItem(new Uint8Array(3), false)])).toBe(32 + 12 + 8);
    expect(ipc_kmsg_size([{ type: typeOf(8, 8, 1024), data: 'x' }])).toBe(32 + 4 + 1024);
    expect(ipc_kmsg_size([{ type: typeOf(11, 64, 1), data: 1 }])).toBe(32 + 4 + 8);
    expect(ipc_kmsg_size([portsItem([0, 0, 0], MACH_MSG_TYPE_COPY_SEND)])).toBe(32 + 4 + 12);
  });
});

describe('ipc_kmsg_get: the message must be what its descriptors say', () => {
  it('MACH_SEND_MSG_TOO_SMALL for sizes under a header or not a multiple of 4', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    const m = message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1);
    m.header.size = 28;
    expect(send(client, m).mr).toBe(MACH_SEND_MSG_TOO_SMALL);
    m.header.size = 34;
    expect(send(client, m).mr).toBe(MACH_SEND_MSG_TOO_SMALL);
    expect(refs(client, dest)).toBe(1);
  });

  it('MACH_SEND_INVALID_DATA when the body and the size or descriptors disagree, nothing taken', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    const bad: MachMessage[] = [
      { ...message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [intItem(1)]), header: { ...message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1).header, size: 44 } },
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(MACH_MSG_TYPE_COPY_SEND, 64), data: dest }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(MACH_MSG_TYPE_COPY_SEND), data: 'x' }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(MACH_MSG_TYPE_COPY_SEND, 32, 2), data: [dest] }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(9, 8, 4), data: new Uint8Array(3) }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(2, 32, 5000), data: [] }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(2, 32, 2), data: 5 }]),
      message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [{ type: typeOf(256), data: 5 }]),
    ];
    for (const m of bad) expect(send(client, m).mr).toBe(MACH_SEND_INVALID_DATA);
    expect(refs(client, dest)).toBe(1);
  });
});

describe('ipc_kmsg_copyin_header', () => {
  it('MACH_SEND_INVALID_HEADER: a destination that is not a send disposition, a reply name without a type', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    const reply = allocReceive(client);
    for (const d of [0, MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_PORT_NAME, 22]) {
      expect(send(client, message(dest, d, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_HEADER);
    }
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, 0, 1)).mr).toBe(MACH_SEND_INVALID_HEADER);
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MOVE_RECEIVE, 1)).mr)
      .toBe(MACH_SEND_INVALID_HEADER);
  });

  it('MACH_SEND_INVALID_DEST: unknown name, wrong right, dead name, dead port', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const own = allocReceive(client);
    const dead = mach_port_allocate(client, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(send(client, message(0x4400, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(send(client, message(MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(send(client, message(own, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(send(client, message(dest, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(send(client, message(dead, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    mach_port_destroy(server, port);
    const entry = ipc_entry_lookup(client, dest)!;
    expect(IE_BITS_TYPE(entry.ie_bits)).toBe(MACH_PORT_TYPE_SEND); // not looked at yet
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(IE_BITS_TYPE(entry.ie_bits)).toBe(MACH_PORT_TYPE_DEAD_NAME); // the copyin looked
  });

  it('MACH_SEND_INVALID_REPLY leaves the destination untouched (atomic copyin)', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, 0x5500, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1)).mr)
      .toBe(MACH_SEND_INVALID_REPLY);
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, dest, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1)).mr)
      .toBe(MACH_SEND_INVALID_REPLY); // same name, no receive right
    expect(refs(client, dest)).toBe(1);
  });

  it('a dead reply name is carried as MACH_PORT_DEAD', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const dead = mach_port_allocate(client, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, dead, MACH_MSG_TYPE_MOVE_SEND, 1)).mr).toBe(MACH_MSG_SUCCESS);
    expect(mach_port_type(client, dead).kr).toBe(KERN_INVALID_NAME); // its only uref moved
    const r = poll(server, port);
    expect(r.msg!.header.remotePort).toBe(MACH_PORT_DEAD);
    expect(r.msg!.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND));
  });

  it('destination and reply under one name: the 25 combinations reduce as in GNU Mach', () => {
    const space = task();
    const name = allocReceive(space);
    giveRight(space, name, space);
    giveRight(space, name, space); // send/receive, 2 urefs
    const port = portOf(space, name);
    const sendOnce = (d: number, r: number): number => send(space, message(name, d, name, r, 1)).mr;
    expect(sendOnce(MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_MAKE_SEND_ONCE)).toBe(MACH_SEND_INVALID_DEST);
    expect(sendOnce(MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_SEND_ONCE)).toBe(MACH_SEND_INVALID_REPLY);
    expect(sendOnce(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_COPY_SEND)).toBe(MACH_MSG_SUCCESS);
    expect(sendOnce(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE)).toBe(MACH_MSG_SUCCESS);
    expect(sendOnce(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MOVE_SEND)).toBe(MACH_MSG_SUCCESS);
    expect(refs(space, name)).toBe(1);
    expect(sendOnce(MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND)).toBe(MACH_SEND_INVALID_DEST); // 1 uref
    giveRight(space, name, space);
    expect(sendOnce(MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND)).toBe(MACH_MSG_SUCCESS);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(port.ip_msgcount).toBe(4);
    const first = poll(space, name).msg!;
    expect(first.header.localPort).toBe(name);
    expect(first.header.remotePort).toBe(name); // COPY_SEND reply: joins the receive right's name
    expect(first.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND));
    const second = poll(space, name).msg!;
    expect(mach_port_type(space, second.header.remotePort).ptype).toBe(MACH_PORT_TYPE_SEND_ONCE);
    mach_port_destroy(space, second.header.remotePort);
    poll(space, name); // the send-once notification from that
    poll(space, name);
    poll(space, name);
  });

  it('MACH_SEND_CANCEL: the port-deleted notification for the named receive right is not sent', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    const notify = allocReceive(client);
    const so = ipc_object_copyin(client, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(client, dest, 72, 0, so).kr).toBe(KERN_SUCCESS);
    const m = message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1);
    expect(send(client, m, MACH_SEND_MSG | MACH_SEND_CANCEL, 0, 0).mr).toBe(MACH_SEND_INVALID_NOTIFY);
    expect(send(client, m, MACH_SEND_MSG | MACH_SEND_CANCEL, 0, dest).mr).toBe(MACH_SEND_INVALID_NOTIFY);
    expect(send(client, m, MACH_SEND_MSG | MACH_SEND_CANCEL, 0, notify).mr).toBe(MACH_MSG_SUCCESS);
    expect(poll(client, notify).msg).toBeNull();
    expect(portOf(client, notify).ip_sorights).toBe(0);
  });

  it('without MACH_SEND_CANCEL, moving the right away sends port-deleted', () => {
    const client = task();
    const { send: dest } = serverPort(client);
    const notify = allocReceive(client);
    const so = ipc_object_copyin(client, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    mach_port_request_notification(client, dest, 72, 0, so);
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1)).mr).toBe(MACH_MSG_SUCCESS);
    const n = poll(client, notify).msg!;
    expect([n.header.id, n.body[0]!.data]).toEqual([MACH_NOTIFY_PORT_DELETED, dest]);
  });
});

describe('ipc_kmsg_copyin_body', () => {
  it('copies in every disposition and translates names for the receiver', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const a = allocReceive(client);
    const b = allocReceive(client);
    const mover = allocReceive(client);
    const moverPort = portOf(client, mover);
    giveRight(client, b, client); // b: send/receive
    const { send: s2 } = serverPort(client);
    const body = [
      portItem(a, MACH_MSG_TYPE_MAKE_SEND),
      portItem(a, MACH_MSG_TYPE_MAKE_SEND_ONCE),
      portItem(b, MACH_MSG_TYPE_COPY_SEND),
      portItem(s2, MACH_MSG_TYPE_MOVE_SEND),
      portItem(mover, MACH_MSG_TYPE_MOVE_RECEIVE),
      portsItem([MACH_PORT_NULL, MACH_PORT_DEAD, dest], MACH_MSG_TYPE_COPY_SEND),
      portsItem([a, b], MACH_MSG_TYPE_MAKE_SEND, false),
    ];
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 7, body)).mr).toBe(MACH_MSG_SUCCESS);
    expect(mach_port_type(client, s2).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_type(client, mover).kr).toBe(KERN_INVALID_NAME);
    expect(moverPort.ip_receiver).toBeNull();
    expect(moverPort.ip_destination).toBe(portOf(server, port)); // in transit
    const got = poll(server, port).msg!;
    expect(got.header.bits & MACH_MSGH_BITS_COMPLEX).toBeTruthy();
    const types = got.body.map((i) => i.type.name);
    expect(types).toEqual([MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND,
      MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND]);
    const [sa, soa, sb, ss2, rmover, arr, ool] = got.body.map((i) => i.data);
    expect(sa).toBe(ool instanceof Array ? (ool as number[])[0] : -1); // one name per port
    expect(mach_port_type(server, sa as number).ptype).toBe(MACH_PORT_TYPE_SEND);
    expect(mach_port_get_refs(server, sa as number, MACH_PORT_RIGHT_SEND).refs).toBe(2);
    expect(mach_port_type(server, soa as number).ptype).toBe(MACH_PORT_TYPE_SEND_ONCE);
    expect(sb).toBe((ool as number[])[1]);
    expect(mach_port_type(server, ss2 as number).ptype).toBe(MACH_PORT_TYPE_SEND);
    expect(mach_port_type(server, rmover as number).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(portOf(server, rmover as number)).toBe(moverPort);
    expect(arr).toEqual([MACH_PORT_NULL, MACH_PORT_DEAD, got.header.localPort]); // its own port: its own name
    expect(got.body.map((i) => i.type.deallocate)).toEqual([false, false, false, false, false, false, true]);
  });

  it('MACH_SEND_INVALID_TYPE (deallocate on in-line data): the header rights are destroyed too', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    const ns = noSenders(server, port);
    const item = intItem(5);
    item.type.deallocate = true;
    const m = message(dest, MACH_MSG_TYPE_MOVE_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1, [item]);
    m.header.bits |= MACH_MSGH_BITS_COMPLEX;
    expect(send(client, m).mr).toBe(MACH_SEND_INVALID_TYPE);
    expect(mach_port_type(client, dest).kr).toBe(KERN_INVALID_NAME); // the moved right is lost
    expect(poll(server, ns).msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE); // the made send-once right
    expect(poll(server, port).msg).toBeNull();
  });

  it('MACH_SEND_INVALID_RIGHT: rights taken so far are destroyed — a moved receive right dies', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const victim = allocReceive(client);
    const victimPort = portOf(client, victim);
    const made = allocReceive(client);
    const ns = noSenders(client, made);
    const body = [
      portItem(victim, MACH_MSG_TYPE_MOVE_RECEIVE),
      portsItem([made, 0x7700], MACH_MSG_TYPE_MAKE_SEND),
    ];
    const ports = ipc_stats().ports;
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, body)).mr).toBe(MACH_SEND_INVALID_RIGHT);
    expect(victimPort.ip_active).toBe(false);
    expect(ipc_stats().ports).toBe(ports - 1);
    expect(mach_port_type(client, victim).kr).toBe(KERN_INVALID_NAME);
    expect(poll(client, ns).msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS); // the made send right released
    expect(refs(client, dest)).toBe(1); // COPY_SEND destination: a copy was released
    expect(poll(server, port).msg).toBeNull();
  });

  it('a message that isn\'t complex carries port descriptors as plain data', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const own = allocReceive(client);
    const m = message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(own, MACH_MSG_TYPE_MAKE_SEND)]);
    m.header.bits &= ~MACH_MSGH_BITS_COMPLEX;
    expect(send(client, m).mr).toBe(MACH_MSG_SUCCESS);
    expect(portOf(client, own).ip_srights).toBe(0);
    const got = poll(server, port).msg!;
    expect(got.body[0]).toEqual({ type: typeOf(MACH_MSG_TYPE_MAKE_SEND), data: own });
  });

  it('the complex bit is dropped when nothing needs it', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const m = message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [intItem(3)]);
    m.header.bits |= MACH_MSGH_BITS_COMPLEX;
    send(client, m);
    expect(poll(server, port).msg!.header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND));
  });

  it('a receive right sent to its own port makes the message circular: it is destroyed', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    giveRight(space, name, space);
    const m = message(name, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [portItem(name, MACH_MSG_TYPE_MOVE_RECEIVE)]);
    expect(send(space, m).mr).toBe(MACH_MSG_SUCCESS);
    expect(port.ip_active).toBe(false);
    expect(ipc_stats().kmsgs).toBe(0);
  });

  it('a loop of ports in transit (A in a message queued on B, B sent to A) is broken the same way', () => {
    const space = task();
    const a = allocReceive(space);
    const b = allocReceive(space);
    const [pa, pb] = [portOf(space, a), portOf(space, b)];
    giveRight(space, a, space);
    giveRight(space, b, space);
    expect(send(space, message(b, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(a, MACH_MSG_TYPE_MOVE_RECEIVE)])).mr).toBe(0);
    expect(pa.ip_destination).toBe(pb);
    expect(send(space, message(a, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2, [portItem(b, MACH_MSG_TYPE_MOVE_RECEIVE)])).mr).toBe(0);
    expect([pa.ip_active, pb.ip_active]).toEqual([false, false]);
    expect(mach_port_type(space, a).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(mach_port_type(space, b).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });
});

describe('out-of-line data', () => {
  it('is copied at send time (the sender\'s buffer may change) and arrives with deallocate set', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const inl = new Uint8Array([1, 2, 3]);
    const ool = new Uint8Array([4, 5, 6, 7, 8]);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [bytesItem(inl), bytesItem(ool, false)]));
    inl[0] = 9;
    ool[0] = 9;
    const got = poll(server, port).msg!;
    expect(got.body[0]!.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(got.body[1]!.data).toEqual(new Uint8Array([4, 5, 6, 7, 8]));
    expect(got.body.map((i) => i.type.deallocate)).toEqual([false, true]);
    expect(got.header.size).toBe(32 + 16 + 20);
  });

  it('goes through the VM hook: a failed copyin is MACH_SEND_INVALID_MEMORY (rights destroyed)', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const seen: unknown[] = [];
    ipc_kmsg_set_vm({
      copyin: (space, data, length, dealloc) => { seen.push([space === client, length, dealloc]); return null; },
      copyout: (_s, data) => data,
      discard: () => undefined,
    });
    const item = bytesItem(new Uint8Array(10), false);
    item.type.deallocate = true;
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [item])).mr).toBe(MACH_SEND_INVALID_MEMORY);
    expect(seen).toEqual([[true, 10, true]]);
    expect(mach_port_type(client, dest).kr).toBe(KERN_INVALID_NAME);
    expect(poll(server, port).msg).toBeNull();
  });

  it('a region that can\'t be placed arrives empty: MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const discarded: unknown[] = [];
    ipc_kmsg_set_vm({
      copyin: (_s, data) => data,
      copyout: () => null,
      discard: (data) => { discarded.push(data); },
    });
    const own = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1,
      [bytesItem(new Uint8Array(4), false), portItem(own, MACH_MSG_TYPE_MAKE_SEND)]));
    const got = poll(server, port);
    expect(got.mr).toBe(MACH_RCV_BODY_ERROR | MACH_MSG_VM_SPACE);
    expect(got.msg!.body[0]!.type.size).toBe(0);
    expect(got.msg!.body[0]!.data).toEqual(new Uint8Array(0));
    expect(discarded).toHaveLength(1);
    expect(mach_port_type(server, got.msg!.body[1]!.data as number).ptype).toBe(MACH_PORT_TYPE_SEND);
  });
});

describe('ipc_kmsg_copyout_header', () => {
  it('swaps the ports: local = the receiver\'s name for the destination, remote = the reply', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND, 44));
    const got = poll(server, port).msg!;
    expect(got.header).toMatchObject({
      bits: MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND), localPort: port, id: 44, seqno: 0,
    });
    expect(mach_port_type(server, got.header.remotePort).ptype).toBe(MACH_PORT_TYPE_SEND);
    // a second send right for the same reply port joins that name
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND, 45));
    const again = poll(server, port).msg!;
    expect(again.header.remotePort).toBe(got.header.remotePort);
    expect(again.header.seqno).toBe(1);
    expect(mach_port_get_refs(server, got.header.remotePort, MACH_PORT_RIGHT_SEND).refs).toBe(2);
  });

  it('a reply port that died while queued arrives as MACH_PORT_DEAD', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1));
    mach_port_destroy(client, reply);
    const got = poll(server, port).msg!;
    expect(got.header.remotePort).toBe(MACH_PORT_DEAD);
    expect(got.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND));
  });

  it('a protected payload replaces the destination name', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    expect(mach_port_set_protected_payload(server, port, 0xdeadbeef).kr).toBe(KERN_SUCCESS);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    const got = poll(server, port).msg!;
    expect(got.header.localPort).toBe(0xdeadbeef);
    expect(got.header.bits).toBe(MACH_MSGH_BITS(0, MACH_MSG_TYPE_PROTECTED_PAYLOAD));
    expect(mach_port_clear_protected_payload(server, port).kr).toBe(KERN_SUCCESS);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    expect(poll(server, port).msg!.header.localPort).toBe(port);
  });
});

describe('a message whose destination right dies before it is received', () => {
  it('keeps its send right: no no-senders until it is received', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const ns = noSenders(server, port);
    send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1, [intItem(0)]));
    expect(poll(server, ns).msg).toBeNull();
    expect(poll(server, port).mr).toBe(MACH_MSG_SUCCESS);
    expect(poll(server, ns).msg!.body[0]!.data).toBe(1);
  });
});
