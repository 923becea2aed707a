/*
 * File: test/unit/ipc/port.test.ts
 * Purpose: ipc_port — allocation, naked rights and their counts, no-senders /
 *          port-destroyed / dead-name requests, circularity, kernel ports, destruction.
 */

import { describe, expect, it } from 'vitest';
import { KERN_SUCCESS } from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_MOVE_RECEIVE, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS,
  MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_QLIMIT_DEFAULT, MACH_PORT_RIGHT_DEAD_NAME,
  MACH_PORT_TYPE_DEAD_NAME, MACH_PORT_TYPE_SEND,
} from '../../../src/mach/port.js';
import {
  IP_DEAD, IP_VALID, IpcPort, ipc_object_copyin, ipc_port_alloc, ipc_port_alloc_kernel,
  ipc_port_check_circularity, ipc_port_copy_send, ipc_port_copyout_send, ipc_port_count,
  ipc_port_dealloc_kernel, ipc_port_dncancel, ipc_port_dngrow, ipc_port_dnrequest,
  ipc_port_lookup_notify, ipc_port_make_send, ipc_port_make_sonce, ipc_port_nsrequest,
  ipc_port_pdrequest, ipc_port_release_receive, ipc_port_release_send, ipc_port_release_sonce,
  ipc_port_timestamp, ipc_space_destroy, ipc_space_kernel, ipc_table_dnrequests, mach_port_allocate,
  mach_port_deallocate, mach_port_destroy, mach_port_request_notification, mach_port_type,
} from '../../../src/ipc/index.js';
import { allocReceive, giveRight, poll, portOf, task, useLeakCheck } from './helpers.js';

useLeakCheck();

/** A send-once right made from a fresh receive right in `space`: [port name, naked right]. */
function notifyPort(space: ReturnType<typeof task>): [number, IpcPort] {
  const name = allocReceive(space);
  return [name, ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort];
}

describe('ipc_port_alloc', () => {
  it('makes an active port in the space with GNU Mach defaults', () => {
    const space = task();
    const live = ipc_port_count();
    const port = ipc_port_alloc(space) as IpcPort;
    expect(ipc_port_count()).toBe(live + 1);
    expect(port).toMatchObject({
      ip_active: true, ip_receiver: space, ip_receiver_name: 0x100, ip_mscount: 0, ip_srights: 0,
      ip_sorights: 0, ip_seqno: 0, ip_msgcount: 0, ip_qlimit: MACH_PORT_QLIMIT_DEFAULT,
      ip_pset: null, ip_nsrequest: null, ip_pdrequest: null, ip_dnrequests: null,
    });
    expect(MACH_PORT_QLIMIT_DEFAULT).toBe(5);
  });
});

describe('naked rights', () => {
  it('make_send counts mscount and srights; copy_send only srights', () => {
    const space = task();
    const port = portOf(space, allocReceive(space));
    ipc_port_make_send(port);
    ipc_port_make_send(port);
    expect(ipc_port_copy_send(port)).toBe(port);
    expect([port.ip_mscount, port.ip_srights]).toEqual([2, 3]);
    for (let i = 0; i < 3; i++) ipc_port_release_send(port);
    expect(port.ip_srights).toBe(0);
  });

  it('copy_send of IP_NULL, IP_DEAD or a dead port', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    expect(ipc_port_copy_send(null)).toBeNull();
    expect(ipc_port_copy_send(IP_DEAD)).toBe(IP_DEAD);
    mach_port_destroy(space, name);
    expect(ipc_port_copy_send(port)).toBe(IP_DEAD);
  });

  it('make_sonce / release_sonce: counted, released without a notification', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    ipc_port_make_sonce(port);
    expect(port.ip_sorights).toBe(1);
    ipc_port_release_sonce(port);
    expect(port.ip_sorights).toBe(0);
    expect(poll(space, name).mr).not.toBe(KERN_SUCCESS);
  });

  it('copyout_send puts a send right in a space, or names IP_NULL / IP_DEAD', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    expect(ipc_port_copyout_send(ipc_port_make_send(port), b)).toBe(0x100);
    expect(ipc_port_copyout_send(ipc_port_make_send(port), b)).toBe(0x100); // same name, 2 urefs
    expect(ipc_port_copyout_send(null, b)).toBe(MACH_PORT_NULL);
    expect(ipc_port_copyout_send(IP_DEAD, b)).toBe(MACH_PORT_DEAD);
    ipc_space_destroy(b);
    expect(ipc_port_copyout_send(ipc_port_make_send(port), b)).toBe(MACH_PORT_NULL); // destroyed
    expect(port.ip_srights).toBe(0);
  });

  it('lookup_notify makes a send-once right only from a receive right', () => {
    const space = task();
    const name = allocReceive(space);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    const port = ipc_port_lookup_notify(space, name)!;
    expect(port.ip_sorights).toBe(1);
    expect(ipc_port_lookup_notify(space, dead)).toBeNull();
    expect(ipc_port_lookup_notify(space, 0x9900)).toBeNull();
    ipc_port_release_sonce(port);
  });
});

describe('no-senders requests (ipc_port_nsrequest)', () => {
  it('fires at once when there are no senders and sync <= mscount', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    const [nname, notify] = notifyPort(space);
    expect(ipc_port_nsrequest(port, 0, notify)).toBeNull();
    expect(port.ip_nsrequest).toBeNull();
    const n = poll(space, nname);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    expect(n.msg!.body[0]!.data).toBe(0);
  });

  it('waits when sync > mscount, then reports the make-send count of the last release', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    const [nname, notify] = notifyPort(a);
    expect(ipc_port_nsrequest(port, 1, notify)).toBeNull();
    expect(port.ip_nsrequest).toBe(notify);
    const s = giveRight(a, name, b);
    giveRight(a, name, b);
    giveRight(a, name, b);
    expect(poll(a, nname).msg).toBeNull();
    expect(mach_port_deallocate(b, s).kr).toBe(KERN_SUCCESS);
    expect(mach_port_deallocate(b, s).kr).toBe(KERN_SUCCESS);
    expect(poll(a, nname).msg).toBeNull(); // one uref left
    mach_port_deallocate(b, s);
    const n = poll(a, nname);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    expect(n.msg!.body[0]!.data).toBe(3);
  });

  it('waits while send rights exist and returns the previous request', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    giveRight(a, name, b);
    const [, first] = notifyPort(a);
    const [, second] = notifyPort(a);
    expect(ipc_port_nsrequest(port, 0, first)).toBeNull();
    expect(ipc_port_nsrequest(port, 0, second)).toBe(first);
    expect(ipc_port_nsrequest(port, 0, null)).toBe(second);
    ipc_port_release_sonce(first);
    ipc_port_release_sonce(second);
  });

  it('a pending request becomes a send-once notification when the port dies', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    giveRight(a, name, b);
    const [nname, notify] = notifyPort(b);
    expect(ipc_port_nsrequest(portOf(a, name), 0, notify)).toBeNull();
    mach_port_destroy(a, name);
    expect(poll(b, nname).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
  });
});

describe('port-destroyed requests', () => {
  it('ipc_port_pdrequest returns the previous send-once right', () => {
    const space = task();
    const port = portOf(space, allocReceive(space));
    const [, n1] = notifyPort(space);
    expect(ipc_port_pdrequest(port, n1)).toBeNull();
    expect(ipc_port_pdrequest(port, null)).toBe(n1);
    ipc_port_release_sonce(n1);
  });

  it('a circular request (the port would travel to itself) lets the port die', () => {
    const space = task();
    const name = allocReceive(space);
    const port = portOf(space, name);
    const self = ipc_object_copyin(space, name, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
    expect(mach_port_request_notification(space, name, MACH_NOTIFY_PORT_DESTROYED, 0, self).kr).toBe(KERN_SUCCESS);
    const live = ipc_port_count();
    mach_port_destroy(space, name);
    expect(port.ip_active).toBe(false);
    expect(ipc_port_count()).toBe(live - 1);
  });

  it('if the notification can\'t be delivered, the receive right in it dies', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    const [nname, notify] = notifyPort(b);
    expect(ipc_port_pdrequest(port, notify)).toBeNull();
    mach_port_destroy(b, nname); // the notification port is dead
    mach_port_destroy(a, name);
    expect(port.ip_active).toBe(false);
  });

  it('the receive right arrives with the port state reset (mscount, seqno 0)', () => {
    const a = task();
    const b = task();
    const name = allocReceive(a);
    const port = portOf(a, name);
    giveRight(a, name, b);
    port.ip_seqno = 9;
    const [nname, notify] = notifyPort(b);
    ipc_port_pdrequest(port, notify);
    mach_port_destroy(a, name);
    const n = poll(b, nname);
    expect(n.msg!.header.id).toBe(MACH_NOTIFY_PORT_DESTROYED);
    const rname = n.msg!.body[0]!.data as number;
    expect(rname).toBe(0x100); // joins b's send right for the same port
    expect(portOf(b, rname)).toBe(port);
    expect({ mscount: port.ip_mscount, seqno: port.ip_seqno, srights: port.ip_srights }).toEqual({ mscount: 0, seqno: 0, srights: 1 });
  });
});

describe('dead-name requests (the table of ipc/ipc_table.c)', () => {
  it('grows through GNU Mach\'s sizes', () => {
    expect(ipc_table_dnrequests.slice(0, 10)).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 768]);
    expect(ipc_table_dnrequests.length).toBe(64);
    expect(ipc_table_dnrequests.at(-1)).toBe(0);
  });

  it('hands out slots highest-first after each growth, reuses cancelled slots first', () => {
    const space = task();
    const port = portOf(space, allocReceive(space));
    const [, n] = notifyPort(space);
    expect(ipc_port_dnrequest(port, 0x111, n)).toBe(0);
    expect(ipc_port_dngrow(port)).toBe(KERN_SUCCESS);
    expect(ipc_port_dnrequest(port, 0x111, n)).toBe(1);
    expect(ipc_port_dnrequest(port, 0x222, n)).toBe(0);
    ipc_port_dngrow(port);
    expect(ipc_port_dnrequest(port, 0x222, n)).toBe(3);
    expect(ipc_port_dnrequest(port, 0x333, n)).toBe(2);
    expect(ipc_port_dncancel(port, 0x222, 3)).toBe(n);
    expect(ipc_port_dnrequest(port, 0x444, n)).toBe(3);
    for (const [name, index] of [[0x111, 1], [0x333, 2], [0x444, 3]] as const) ipc_port_dncancel(port, name, index);
    ipc_port_release_sonce(n);
  });

  it('sends dead-name notifications in slot order when the port dies', () => {
    const server = task();
    const watcher = task();
    const name = allocReceive(server);
    const nname = allocReceive(watcher);
    const requesters = [task(), task(), task()];
    const names = requesters.map((t, i) => {
      for (let j = 0; j <= i; j++) mach_port_allocate(t, MACH_PORT_RIGHT_DEAD_NAME); // distinct names
      const s = giveRight(server, name, t);
      const so = ipc_object_copyin(watcher, nname, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort;
      expect(mach_port_request_notification(t, s, MACH_NOTIFY_DEAD_NAME, 0, so).kr).toBe(KERN_SUCCESS);
      return s;
    });
    mach_port_destroy(server, name);
    const order = [poll(watcher, nname), poll(watcher, nname), poll(watcher, nname)]
      .map((r) => { expect(r.msg!.header.id).toBe(MACH_NOTIFY_DEAD_NAME); return r.msg!.body[0]!.data; });
    expect(order).toEqual([names[0], names[2], names[1]]); // slots 1, 3, 2
    for (const [i, t] of requesters.entries()) {
      expect(mach_port_type(t, names[i]!).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
    }
  });
});

describe('ipc_port_check_circularity', () => {
  it('detects a port sent to itself and loops of ports in transit', () => {
    const space = task();
    const an = allocReceive(space);
    const bn = allocReceive(space);
    const a = ipc_object_copyin(space, an, MACH_MSG_TYPE_MOVE_RECEIVE) as IpcPort;
    const b = ipc_object_copyin(space, bn, MACH_MSG_TYPE_MOVE_RECEIVE) as IpcPort;
    expect(ipc_port_check_circularity(a, a)).toBe(true);
    expect(ipc_port_check_circularity(a, b)).toBe(false);
    expect(a.ip_destination).toBe(b);
    expect(ipc_port_check_circularity(b, a)).toBe(true); // b → a → b
    expect(b.ip_destination).toBeNull();
    ipc_port_release_receive(a);
    ipc_port_release_receive(b);
    expect([a.ip_active, b.ip_active]).toEqual([false, false]);
  });

  it('a port in a space ends the chain', () => {
    const space = task();
    const an = allocReceive(space);
    const b = portOf(space, allocReceive(space));
    const a = ipc_object_copyin(space, an, MACH_MSG_TYPE_MOVE_RECEIVE) as IpcPort;
    expect(ipc_port_check_circularity(a, b)).toBe(false);
    ipc_port_release_receive(a);
  });
});

describe('kernel ports', () => {
  it('are held by ipc_space_kernel and die with ipc_port_dealloc_kernel', () => {
    const space = task();
    const live = ipc_port_count();
    const kport = ipc_port_alloc_kernel();
    expect(kport.ip_receiver).toBe(ipc_space_kernel);
    expect(kport.ip_receiver_name).not.toBe(MACH_PORT_NULL);
    expect(ipc_port_count()).toBe(live + 1);
    const name = ipc_port_copyout_send(ipc_port_make_send(kport), space);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_SEND);
    ipc_port_dealloc_kernel(kport);
    expect(ipc_port_count()).toBe(live);
    expect(mach_port_type(space, name).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });
});

describe('ipc_port_timestamp', () => {
  it('increases and orders port deaths', () => {
    const space = task();
    const a = portOf(space, allocReceive(space));
    const b = portOf(space, allocReceive(space));
    const t = ipc_port_timestamp();
    mach_port_destroy(space, a.ip_receiver_name);
    mach_port_destroy(space, b.ip_receiver_name);
    expect(a.ip_timestamp).toBeGreaterThan(t);
    expect(b.ip_timestamp).toBeGreaterThan(a.ip_timestamp);
    expect(IP_VALID(a)).toBe(true);
  });
});
