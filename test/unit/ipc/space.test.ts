/*
 * File: test/unit/ipc/space.test.ts
 * Purpose: ipc_space — name allocation (index + generation, LIFO reuse), chosen names,
 *          O(1) lookup at a million names, entry order, and task death (ipc_space_destroy).
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_NAME, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_NAME_EXISTS, KERN_SUCCESS,
  MACH_MSG_IPC_SPACE, MACH_RCV_INTERRUPTED, MACH_RCV_INVALID_NAME, MACH_SEND_INTERRUPTED,
  MACH_SEND_INVALID_DEST,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS, MACH_NOTIFY_PORT_DELETED,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET,
  MACH_PORT_RIGHT_RECEIVE, MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_RECEIVE,
} from '../../../src/mach/port.js';
import {
  ipc_entry_alloc, ipc_entry_alloc_name, ipc_entry_lookup, ipc_space_destroy, ipc_space_entries,
  ipc_space_kernel, ipc_space_stats, mach_msg, mach_port_allocate, mach_port_allocate_name,
  mach_port_destroy, mach_port_move_member, mach_port_names, mach_port_request_notification,
  mach_port_type, ipc_stats, ipc_object_copyin, IpcPort,
} from '../../../src/ipc/index.js';
import {
  allocReceive, giveRight, intItem, message, poll, portItem, portOf, receive, send, serverPort, task,
  useLeakCheck,
} from './helpers.js';

useLeakCheck();

describe('ipc_entry_alloc: names are index << 8 | generation', () => {
  it('gives 0x100, 0x200, 0x300 ... in a new space', () => {
    const space = task();
    expect([allocReceive(space), allocReceive(space), allocReceive(space)]).toEqual([0x100, 0x200, 0x300]);
  });

  it('reuses the most recently freed slot with the next generation', () => {
    const space = task();
    const [a, b, c] = [allocReceive(space), allocReceive(space), allocReceive(space)];
    expect(mach_port_destroy(space, a).kr).toBe(KERN_SUCCESS);
    expect(mach_port_destroy(space, c).kr).toBe(KERN_SUCCESS);
    expect(allocReceive(space)).toBe(0x301);
    expect(allocReceive(space)).toBe(0x101);
    expect(b).toBe(0x200);
  });

  it('a stale name (old generation) denotes nothing', () => {
    const space = task();
    const a = allocReceive(space);
    mach_port_destroy(space, a);
    const b = allocReceive(space);
    expect(b).toBe(a + 1);
    expect(mach_port_type(space, a).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_type(space, b)).toEqual({ kr: KERN_SUCCESS, ptype: MACH_PORT_TYPE_RECEIVE });
  });

  it('the generation wraps after 256 reuses', () => {
    const space = task();
    const first = allocReceive(space);
    let name = first;
    for (let i = 0; i < 256; i++) {
      mach_port_destroy(space, name);
      name = allocReceive(space);
    }
    expect(name).toBe(first);
  });

  it('fails with KERN_INVALID_TASK in a dead space', () => {
    const space = task();
    ipc_space_destroy(space);
    expect(ipc_entry_alloc(space)).toBe(KERN_INVALID_TASK);
    expect(ipc_entry_alloc_name(space, 0x500)).toBe(KERN_INVALID_TASK);
    expect(mach_port_allocate(space, MACH_PORT_RIGHT_RECEIVE).kr).toBe(KERN_INVALID_TASK);
  });
});

describe('names chosen by the task (mach_port_allocate_name)', () => {
  it('takes a free table slot out of the free list, keeping its generation', () => {
    const space = task();
    expect(allocReceive(space)).toBe(0x100);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_RECEIVE, 0x10a7).kr).toBe(KERN_SUCCESS);
    const names = Array.from({ length: 15 }, () => allocReceive(space));
    expect(names.at(-2)).toBe(0xf00);
    expect(names.at(-1)).toBe(0x1100); // slot 16 is taken
    mach_port_destroy(space, 0x10a7);
    expect(allocReceive(space)).toBe(0x10a8);
  });

  it('keeps names whose slot is busy or out of the table apart (the overflow tree)', () => {
    const space = task();
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, 0x12345678).kr).toBe(KERN_SUCCESS);
    const a = allocReceive(space);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_PORT_SET, a | 0x7f).kr).toBe(KERN_SUCCESS);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_RECEIVE, 5).kr).toBe(KERN_SUCCESS); // index 0
    expect(mach_port_type(space, a).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(mach_port_type(space, a | 0x7f).ptype).toBe(0x00080000);
    expect(mach_port_type(space, 0x12345678).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(mach_port_type(space, 5).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(ipc_space_stats(space).names).toBe(4);
  });

  it('never hands out a name the task chose', () => {
    const space = task();
    const a = allocReceive(space);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, a + 1).kr).toBe(KERN_SUCCESS);
    mach_port_destroy(space, a);
    expect(allocReceive(space)).toBe(a + 2); // a + 1 is taken: skip that generation
    expect(mach_port_type(space, a + 1).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });

  it('answers KERN_NAME_EXISTS and KERN_INVALID_VALUE as GNU Mach does', () => {
    const space = task();
    const a = allocReceive(space);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_RECEIVE, a).kr).toBe(KERN_NAME_EXISTS);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, a).kr).toBe(KERN_NAME_EXISTS);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_NULL).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_allocate_name(space, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_DEAD).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_allocate_name(space, 7, 0x900).kr).toBe(KERN_INVALID_VALUE);
  });
});

describe('lookup', () => {
  it('stays O(1) with 1,000,000 names', () => {
    const space = task();
    const names: number[] = [];
    for (let i = 0; i < 1_000_000; i++) names.push(mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name);
    expect(ipc_space_stats(space).names).toBe(1_000_000);
    expect(new Set(names).size).toBe(1_000_000);
    expect(names.at(-1)).toBe(1_000_000 << 8);

    const time = (sample: number[]): number => {
      const t0 = performance.now();
      let found = 0;
      for (let round = 0; round < 20; round++) {
        for (const name of sample) if (ipc_entry_lookup(space, name) !== null) found++;
      }
      expect(found).toBe(sample.length * 20);
      return performance.now() - t0;
    };
    const low = names.slice(0, 10_000);
    const spread = Array.from({ length: 10_000 }, (_, i) => names[(i * 99_991) % names.length]!);
    time(low);
    time(spread); // warm up both
    const ratio = time(spread) / Math.max(time(low), 0.01);
    expect(ratio).toBeLessThan(20);
    expect(ipc_entry_lookup(space, names[123_456]! + 1)).toBeNull(); // wrong generation
  });

  it('lists entries in ascending name order, table and tree merged', () => {
    const space = task();
    const a = allocReceive(space);
    const b = allocReceive(space);
    mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, a + 5);
    mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, 3);
    mach_port_allocate_name(space, MACH_PORT_RIGHT_DEAD_NAME, 0x7fff0000);
    expect(ipc_space_entries(space).map((e) => e.ie_name)).toEqual([3, a, a + 5, b, 0x7fff0000]);
    expect(mach_port_names(space).names).toEqual([3, a, a + 5, b, 0x7fff0000]);
  });
});

describe('ipc_space_kernel', () => {
  it('is a special space: inactive, holding no entries', () => {
    expect(ipc_space_kernel.is_active).toBe(false);
    expect(ipc_space_stats(ipc_space_kernel).names).toBe(0);
  });
});

describe('ipc_space_destroy: a task dies', () => {
  it('leaves a dead space answering KERN_INVALID_TASK / MACH_SEND_INVALID_DEST / MACH_RCV_INVALID_NAME', () => {
    const space = task();
    const a = allocReceive(space);
    ipc_space_destroy(space);
    expect(mach_port_type(space, a).kr).toBe(KERN_INVALID_TASK);
    expect(mach_port_names(space).kr).toBe(KERN_INVALID_TASK);
    expect(send(space, message(a, MACH_MSG_TYPE_MAKE_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    expect(poll(space, a).mr).toBe(MACH_RCV_INVALID_NAME);
    ipc_space_destroy(space); // twice is harmless
  });

  it('destroys its receive rights: senders get dead names and dead-name notifications', () => {
    const dying = task();
    const other = task();
    const port = allocReceive(dying);
    const send1 = giveRight(dying, port, other);
    const notify = allocReceive(other);
    const soright = ipc_object_copyin(other, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(other, send1, MACH_NOTIFY_DEAD_NAME, 0, soright).kr).toBe(KERN_SUCCESS);
    const before = ipc_stats().ports;

    ipc_space_destroy(dying);
    expect(ipc_stats().ports).toBe(before - 1);
    const n = poll(other, notify);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
    expect(n.msg!.body[0]!.data).toBe(send1);
    // the dead name carries one more uref for the name in the notification
    expect(mach_port_type(other, send1).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    expect(ipc_space_stats(other)).toMatchObject({ deadName: 1, urefs: 2 });
  });

  it('destroys queued messages; a send-once right in one yields a send-once notification', () => {
    const dying = task();
    const client = task();
    const port = allocReceive(dying);
    const send1 = giveRight(dying, port, client);
    const reply = allocReceive(client);
    expect(send(client, message(send1, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 500)).mr).toBe(0);
    ipc_space_destroy(dying);
    const n = poll(client, reply);
    expect(n.mr).toBe(0);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE); // MIG stubs turn this into MIG_SERVER_DIED
    expect(n.msg!.header.localPort).toBe(reply);
    expect(portOf(client, reply).ip_sorights).toBe(0);
  });

  it('releases its send rights: the last one triggers no-senders with the make-send count', () => {
    const server = task();
    const dying = task();
    const port = allocReceive(server);
    giveRight(server, port, dying);
    giveRight(server, port, dying); // same name, 2 urefs; mscount 2
    const notify = allocReceive(server);
    const so = ipc_object_copyin(server, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(server, port, MACH_NOTIFY_NO_SENDERS, 0, so).kr).toBe(KERN_SUCCESS);
    ipc_space_destroy(dying);
    const n = poll(server, notify);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    expect(n.msg!.body[0]!.data).toBe(2);
    expect(portOf(server, port).ip_srights).toBe(0);
  });

  it('uses its send-once rights up: the server gets send-once notifications', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1));
    const req = poll(server, port);
    expect(req.msg!.header.remotePort).not.toBe(MACH_PORT_NULL);
    ipc_space_destroy(server); // dies holding the reply right
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
  });

  it('honours a port-destroyed request: the receive right travels to the requester', () => {
    const dying = task();
    const backup = task();
    const port = allocReceive(dying);
    const notify = allocReceive(backup);
    const so = ipc_object_copyin(backup, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(dying, port, MACH_NOTIFY_PORT_DESTROYED, 0, so).kr).toBe(KERN_SUCCESS);
    const ports = ipc_stats().ports;
    ipc_space_destroy(dying);
    expect(ipc_stats().ports).toBe(ports); // not destroyed: in transit
    const n = poll(backup, notify);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_PORT_DESTROYED);
    const name = n.msg!.body[0]!.data as number;
    expect(mach_port_type(backup, name).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
  });

  it('cancels its dead-name requests with port-deleted notifications', () => {
    const server = task();
    const dying = task();
    const watcher = task();
    const port = allocReceive(server);
    const send1 = giveRight(server, port, dying);
    const notify = allocReceive(watcher);
    const so = ipc_object_copyin(watcher, notify, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(dying, send1, MACH_NOTIFY_DEAD_NAME, 0, so).kr).toBe(KERN_SUCCESS);
    ipc_space_destroy(dying);
    const n = poll(watcher, notify);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_PORT_DELETED);
    expect(n.msg!.body[0]!.data).toBe(send1);
  });

  it('destroys its port sets', () => {
    const dying = task();
    const set = mach_port_allocate(dying, MACH_PORT_RIGHT_PORT_SET).name;
    const member = allocReceive(dying);
    expect(mach_port_move_member(dying, member, set).kr).toBe(KERN_SUCCESS);
    const before = ipc_stats();
    ipc_space_destroy(dying);
    expect(ipc_stats().portSets).toBe(before.portSets - 1);
    expect(ipc_stats().ports).toBe(before.ports - 1);
  });

  it('interrupts its waiting mach_msg calls', async () => {
    const dying = task();
    const { server, port, send: dest } = serverPort(dying);
    const own = allocReceive(dying);
    const rcv = receive(dying, own);
    // fill the server's queue, then block a sender
    for (let i = 0; i < 5; i++) send(dying, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i));
    const blocked = mach_msg(dying, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 99, [intItem(1)]),
      MACH_SEND_MSG | MACH_SEND_TIMEOUT, 40, 0, 0, 60_000, 0);
    expect(ipc_space_stats(dying).threads).toBe(2);
    ipc_space_destroy(dying);
    expect((await rcv).mr).toBe(MACH_RCV_INTERRUPTED);
    // the message's rights can't go back into a dead space: they are destroyed
    expect((await blocked).mr).toBe(MACH_SEND_INTERRUPTED | MACH_MSG_IPC_SPACE);
    expect(portOf(server, port).ip_msgcount).toBe(5);
    // the queued messages keep their send rights; the entry's and the blocked message's are gone
    expect(portOf(server, port).ip_srights).toBe(5);
  });

  it('gives the counts back: ports, sets and messages all gone', () => {
    const before = ipc_stats();
    const a = task();
    const b = task();
    const p = allocReceive(a);
    const s = giveRight(a, p, b, MACH_MSG_TYPE_MAKE_SEND);
    const r = allocReceive(b);
    send(b, message(s, MACH_MSG_TYPE_COPY_SEND, r, MACH_MSG_TYPE_MAKE_SEND_ONCE, 7, [portItem(r, MACH_MSG_TYPE_MAKE_SEND)]));
    mach_port_allocate(b, MACH_PORT_RIGHT_PORT_SET);
    expect(ipc_stats()).toEqual({ ports: before.ports + 2, portSets: before.portSets + 1, kmsgs: before.kmsgs + 1 });
    ipc_space_destroy(a);
    ipc_space_destroy(b);
    expect(ipc_stats()).toEqual(before);
  });
});
