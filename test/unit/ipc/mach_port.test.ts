/*
 * File: test/unit/ipc/mach_port.test.ts
 * Purpose: the mach_port.defs calls on a space: arguments, results and GNU Mach's codes.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_ARGUMENT, KERN_INVALID_CAPABILITY, KERN_INVALID_HOST, KERN_INVALID_NAME,
  KERN_INVALID_RIGHT, KERN_INVALID_TASK, KERN_INVALID_VALUE, KERN_NAME_EXISTS, KERN_RIGHT_EXISTS,
  KERN_SUCCESS, KERN_UREFS_OVERFLOW,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_NAME, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND,
  MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_NO_SENDERS,
  MACH_NOTIFY_PORT_DELETED, MACH_NOTIFY_PORT_DESTROYED, MACH_NOTIFY_SEND_ONCE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_KTYPE_NONE, MACH_PORT_KTYPE_USER_DEVICE, MACH_PORT_NULL,
  MACH_PORT_QLIMIT_MAX, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_NUMBER, MACH_PORT_RIGHT_PORT_SET,
  MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND, MACH_PORT_RIGHT_SEND_ONCE, MACH_PORT_TYPE_DEAD_NAME,
  MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_PORT_SET, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND,
  MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_RECEIVE, MACH_PORT_UREFS_MAX,
} from '../../../src/mach/port.js';
import {
  IKOT_DEVICE, IKOT_NONE, IKOT_USER_DEVICE, IP_DEAD, IpcPort, ipc_kobject_set, ipc_object_copyin,
  ipc_port_release_send, ipc_port_release_sonce, mach_port_allocate, mach_port_allocate_name,
  mach_port_clear_protected_payload, mach_port_deallocate, mach_port_destroy, mach_port_extract_right,
  mach_port_get_receive_status, mach_port_get_refs, mach_port_get_set_status, mach_port_insert_right,
  mach_port_mod_refs, mach_port_move_member, mach_port_names, mach_port_rename,
  mach_port_request_notification, mach_port_set_ktype, mach_port_set_mscount,
  mach_port_set_protected_payload, mach_port_set_qlimit, mach_port_set_seqno, mach_port_type,
} from '../../../src/ipc/index.js';
import { allocReceive, giveRight, message, poll, portOf, send, serverPort, task, useLeakCheck } from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

function sonce(space: Space): [number, IpcPort] {
  const n = allocReceive(space);
  return [n, ipc_object_copyin(space, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort];
}

describe('a null space (not a task port): KERN_INVALID_TASK everywhere', () => {
  it('answers every call', () => {
    const krs = [
      mach_port_names(null).kr, mach_port_type(null, 1).kr, mach_port_rename(null, 1, 2).kr,
      mach_port_allocate_name(null, 1, 0x100).kr, mach_port_allocate(null, 1).kr, mach_port_destroy(null, 1).kr,
      mach_port_deallocate(null, 1).kr, mach_port_get_refs(null, 1, 0).kr, mach_port_mod_refs(null, 1, 0, 1).kr,
      mach_port_set_qlimit(null, 1, 1).kr, mach_port_set_mscount(null, 1, 1).kr,
      mach_port_get_set_status(null, 1).kr, mach_port_move_member(null, 1, 0).kr,
      mach_port_request_notification(null, 1, MACH_NOTIFY_DEAD_NAME, 0, null).kr,
      mach_port_insert_right(null, 1, null, 17).kr, mach_port_extract_right(null, 1, 17).kr,
      mach_port_get_receive_status(null, 1).kr, mach_port_set_seqno(null, 1, 0).kr,
      mach_port_set_protected_payload(null, 1, 0).kr, mach_port_clear_protected_payload(null, 1).kr,
      mach_port_set_ktype({}, null, 1, 1, 0).kr,
    ];
    expect(krs.every((kr) => kr === KERN_INVALID_TASK)).toBe(true);
  });
});

describe('mach_port_names / mach_port_type', () => {
  it('lists every name with its type bits', () => {
    const space = task();
    const watcher = task();
    const recv = allocReceive(space);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    const { send: s } = serverPort(space);
    const [, n] = sonce(watcher);
    mach_port_request_notification(space, s, MACH_NOTIFY_DEAD_NAME, 0, n);
    giveRight(space, recv, space);
    const so = giveRight(space, recv, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const { names, types } = mach_port_names(space);
    const byName = new Map(names.map((name, i) => [name, types[i]]));
    expect(byName).toEqual(new Map([
      [recv, MACH_PORT_TYPE_SEND_RECEIVE], [set, MACH_PORT_TYPE_PORT_SET], [dead, MACH_PORT_TYPE_DEAD_NAME],
      [s, (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DNREQUEST) >>> 0], [so, MACH_PORT_TYPE_SEND_ONCE],
    ]));
    expect(names).toEqual([...names].sort((a, b) => a - b));
    expect(mach_port_type(space, 0x7700).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_type(space, MACH_PORT_NULL).kr).toBe(KERN_INVALID_NAME);
  });

  it('shows a right to a dead port as a dead name', () => {
    const space = task();
    const { server, port, send: s } = serverPort(space);
    mach_port_destroy(server, port);
    expect(mach_port_names(space).types).toEqual([MACH_PORT_TYPE_DEAD_NAME]);
    expect(mach_port_type(space, s).ptype).toBe(MACH_PORT_TYPE_DEAD_NAME);
  });
});

describe('mach_port_allocate', () => {
  it('allocates receive rights, port sets and dead names; refuses other rights', () => {
    const space = task();
    expect(mach_port_type(space, mach_port_allocate(space, MACH_PORT_RIGHT_RECEIVE).name).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(mach_port_type(space, mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name).ptype).toBe(MACH_PORT_TYPE_PORT_SET);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME);
    expect(mach_port_get_refs(space, dead.name, MACH_PORT_RIGHT_DEAD_NAME).refs).toBe(1);
    for (const right of [MACH_PORT_RIGHT_SEND, MACH_PORT_RIGHT_SEND_ONCE, 9]) {
      expect(mach_port_allocate(space, right)).toEqual({ kr: KERN_INVALID_VALUE, name: MACH_PORT_NULL });
    }
  });
});

describe('mach_port_destroy / mach_port_deallocate', () => {
  it('KERN_INVALID_NAME for names that denote nothing', () => {
    const space = task();
    expect(mach_port_destroy(space, 0x4400).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_deallocate(space, 0x4400).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_deallocate(space, MACH_PORT_NULL).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_deallocate(space, MACH_PORT_DEAD).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('mach_port_get_refs / mach_port_mod_refs', () => {
  it('1 for receive, port-set and send-once rights; the count for send and dead names; 0 otherwise', () => {
    const space = task();
    const recv = allocReceive(space);
    giveRight(space, recv, space);
    giveRight(space, recv, space);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    const so = giveRight(space, recv, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const refs = (name: number, right: number): number => mach_port_get_refs(space, name, right).refs;
    expect([refs(recv, MACH_PORT_RIGHT_RECEIVE), refs(recv, MACH_PORT_RIGHT_SEND), refs(recv, MACH_PORT_RIGHT_SEND_ONCE)])
      .toEqual([1, 2, 0]);
    expect([refs(set, MACH_PORT_RIGHT_PORT_SET), refs(set, MACH_PORT_RIGHT_RECEIVE)]).toEqual([1, 0]);
    expect([refs(so, MACH_PORT_RIGHT_SEND_ONCE), refs(so, MACH_PORT_RIGHT_DEAD_NAME)]).toEqual([1, 0]);
    expect(mach_port_get_refs(space, recv, MACH_PORT_RIGHT_NUMBER).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_get_refs(space, recv, -1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_get_refs(space, 0x4400, MACH_PORT_RIGHT_SEND).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_mod_refs(space, recv, MACH_PORT_RIGHT_NUMBER, 1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_mod_refs(space, 0x4400, MACH_PORT_RIGHT_SEND, 1).kr).toBe(KERN_INVALID_NAME);
    mach_port_deallocate(space, so);
    poll(space, recv);
  });
});

describe('mach_port_set_qlimit / set_mscount / set_seqno / get_receive_status', () => {
  it('check the receive right and the values', () => {
    const space = task();
    const recv = allocReceive(space);
    const { send: s } = serverPort(space);
    expect(mach_port_set_qlimit(space, recv, MACH_PORT_QLIMIT_MAX + 1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_set_qlimit(space, recv, -1).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_set_qlimit(space, recv, MACH_PORT_QLIMIT_MAX).kr).toBe(KERN_SUCCESS);
    expect(mach_port_set_qlimit(space, s, 3).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_set_qlimit(space, 0x4400, 3).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_set_mscount(space, recv, 12).kr).toBe(KERN_SUCCESS);
    expect(mach_port_set_mscount(space, s, 12).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_set_seqno(space, recv, 3).kr).toBe(KERN_SUCCESS);
    expect(mach_port_set_seqno(space, s, 3).kr).toBe(KERN_INVALID_RIGHT);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    mach_port_move_member(space, recv, set);
    const [, n] = sonce(space);
    mach_port_request_notification(space, recv, MACH_NOTIFY_PORT_DESTROYED, 0, n);
    giveRight(space, recv, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(mach_port_get_receive_status(space, recv)).toEqual({
      kr: KERN_SUCCESS,
      status: {
        mps_pset: set, mps_seqno: 3, mps_mscount: 12, mps_qlimit: MACH_PORT_QLIMIT_MAX, mps_msgcount: 0,
        mps_sorights: 1, mps_srights: false, mps_pdrequest: true, mps_nsrequest: false,
      },
    });
    expect(mach_port_get_receive_status(space, s)).toEqual({ kr: KERN_INVALID_RIGHT, status: null });
  });

  it('set_mscount is the count a later no-senders notification reports', () => {
    const space = task();
    const other = task();
    const recv = allocReceive(space);
    const s = giveRight(space, recv, other);
    mach_port_set_mscount(space, recv, 41);
    const [nn, n] = sonce(space);
    mach_port_request_notification(space, recv, MACH_NOTIFY_NO_SENDERS, 0, n);
    mach_port_deallocate(other, s);
    expect(poll(space, nn).msg!.body[0]!.data).toBe(41);
  });
});

describe('mach_port_request_notification', () => {
  it('checks the id, the notify right and the right named', () => {
    const space = task();
    const recv = allocReceive(space);
    const { send: s } = serverPort(space);
    const [, n] = sonce(space);
    expect(mach_port_request_notification(space, recv, MACH_NOTIFY_DEAD_NAME, 0, IP_DEAD).kr).toBe(KERN_INVALID_CAPABILITY);
    expect(mach_port_request_notification(space, recv, MACH_NOTIFY_SEND_ONCE, 0, n).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_request_notification(space, recv, MACH_NOTIFY_PORT_DESTROYED, 1, n).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_request_notification(space, s, MACH_NOTIFY_PORT_DESTROYED, 0, n).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_request_notification(space, s, MACH_NOTIFY_NO_SENDERS, 0, n).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_request_notification(space, 0x4400, MACH_NOTIFY_NO_SENDERS, 0, n).kr).toBe(KERN_INVALID_NAME);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    expect(mach_port_request_notification(space, set, MACH_NOTIFY_DEAD_NAME, 0, n).kr).toBe(KERN_INVALID_RIGHT);
    ipc_port_release_sonce(n);
  });

  it('returns the previous send-once right for each kind of request', () => {
    const space = task();
    const other = task();
    const recv = allocReceive(space);
    giveRight(space, recv, other);
    const { send: s } = serverPort(space);
    for (const [name, id] of [[recv, MACH_NOTIFY_PORT_DESTROYED], [recv, MACH_NOTIFY_NO_SENDERS], [s, MACH_NOTIFY_DEAD_NAME]] as const) {
      const [, a] = sonce(space);
      const [, b] = sonce(space);
      expect(mach_port_request_notification(space, name, id, 0, a)).toEqual({ kr: KERN_SUCCESS, previous: null });
      expect(mach_port_request_notification(space, name, id, 0, b)).toEqual({ kr: KERN_SUCCESS, previous: a });
      expect(mach_port_request_notification(space, name, id, 0, null)).toEqual({ kr: KERN_SUCCESS, previous: b });
      ipc_port_release_sonce(a);
      ipc_port_release_sonce(b);
    }
  });

  it('dead-name requests work on receive rights too; a dead name with sync gets one at once', () => {
    const space = task();
    const recv = allocReceive(space);
    const [nn, n] = sonce(space);
    expect(mach_port_request_notification(space, recv, MACH_NOTIFY_DEAD_NAME, 0, n).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, recv).ptype).toBe((MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_DNREQUEST) >>> 0);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    const [, m] = sonce(space);
    expect(mach_port_request_notification(space, dead, MACH_NOTIFY_DEAD_NAME, 1, m)).toEqual({ kr: KERN_SUCCESS, previous: null });
    expect(poll(space, m.ip_receiver_name).msg!.body[0]!.data).toBe(dead);
    mach_port_destroy(space, recv);
    // destroying the name cancels its request: port-deleted
    expect(poll(space, nn).msg!.header.id).toBe(MACH_NOTIFY_PORT_DELETED);
  });
});

describe('mach_port_insert_right', () => {
  it('inserts naked rights under a chosen name, joining an existing name for the same port', () => {
    const space = task();
    const other = task();
    const recv = allocReceive(other);
    const sright = mach_port_extract_right(other, recv, MACH_MSG_TYPE_MAKE_SEND);
    expect(sright).toMatchObject({ kr: KERN_SUCCESS, polyPoly: MACH_MSG_TYPE_PORT_SEND });
    expect(mach_port_insert_right(space, 0x3300, sright.poly, sright.polyPoly).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, 0x3300).ptype).toBe(MACH_PORT_TYPE_SEND);
    // a second send right: only under the same name
    const again = mach_port_extract_right(other, recv, MACH_MSG_TYPE_MAKE_SEND);
    expect(mach_port_insert_right(space, 0x3400, again.poly, again.polyPoly).kr).toBe(KERN_RIGHT_EXISTS);
    expect(mach_port_insert_right(space, 0x3300, again.poly, again.polyPoly).kr).toBe(KERN_SUCCESS);
    expect(mach_port_get_refs(space, 0x3300, MACH_PORT_RIGHT_SEND).refs).toBe(2);
    // the receive right itself, under the same name
    const rr = mach_port_extract_right(other, recv, MACH_MSG_TYPE_MOVE_RECEIVE);
    expect(rr.polyPoly).toBe(MACH_MSG_TYPE_PORT_RECEIVE);
    expect(mach_port_insert_right(space, 0x3300, rr.poly, rr.polyPoly).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, 0x3300).ptype).toBe(MACH_PORT_TYPE_SEND_RECEIVE);
  });

  it('the Hurd idiom: a send right under the receive right\'s own name', () => {
    const space = task();
    const recv = allocReceive(space);
    const s = mach_port_extract_right(space, recv, MACH_MSG_TYPE_MAKE_SEND);
    expect(mach_port_insert_right(space, recv, s.poly, s.polyPoly).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(space, recv).ptype).toBe(MACH_PORT_TYPE_SEND_RECEIVE);
  });

  it('answers GNU Mach\'s errors without consuming the right', () => {
    const space = task();
    const other = task();
    const recv = allocReceive(other);
    const taken = allocReceive(space);
    const s = mach_port_extract_right(other, recv, MACH_MSG_TYPE_MAKE_SEND);
    const port = s.poly as IpcPort;
    expect(mach_port_insert_right(space, MACH_PORT_NULL, port, MACH_MSG_TYPE_PORT_SEND).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_insert_right(space, MACH_PORT_DEAD, port, MACH_MSG_TYPE_PORT_SEND).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_insert_right(space, 0x3300, port, MACH_MSG_TYPE_MAKE_SEND).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_insert_right(space, 0x3300, port, MACH_MSG_TYPE_PORT_NAME).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_insert_right(space, 0x3300, null, MACH_MSG_TYPE_PORT_SEND).kr).toBe(KERN_INVALID_CAPABILITY);
    expect(mach_port_insert_right(space, 0x3300, IP_DEAD, MACH_MSG_TYPE_PORT_SEND).kr).toBe(KERN_INVALID_CAPABILITY);
    expect(mach_port_insert_right(space, taken, port, MACH_MSG_TYPE_PORT_SEND).kr).toBe(KERN_NAME_EXISTS);
    expect(port.ip_srights).toBe(1);
    mach_port_insert_right(space, 0x3300, port, MACH_MSG_TYPE_PORT_SEND);
    mach_port_mod_refs(space, 0x3300, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX - 2);
    const more = mach_port_extract_right(other, recv, MACH_MSG_TYPE_MAKE_SEND);
    expect(mach_port_insert_right(space, 0x3300, more.poly, more.polyPoly).kr).toBe(KERN_UREFS_OVERFLOW);
    ipc_port_release_send(more.poly as IpcPort);
    mach_port_destroy(other, recv);
    const late = mach_port_insert_right(space, 0x3500, port, MACH_MSG_TYPE_PORT_SEND);
    expect(late.kr).toBe(KERN_INVALID_CAPABILITY); // the port is dead now
  });
});

describe('mach_port_extract_right', () => {
  it('takes rights out with each disposition; dead names come out as IP_DEAD', () => {
    const space = task();
    const recv = allocReceive(space);
    const so = mach_port_extract_right(space, recv, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(so.polyPoly).toBe(MACH_MSG_TYPE_PORT_SEND_ONCE);
    ipc_port_release_sonce(so.poly as IpcPort);
    giveRight(space, recv, space);
    const c = mach_port_extract_right(space, recv, MACH_MSG_TYPE_COPY_SEND);
    expect([c.kr, c.polyPoly]).toEqual([KERN_SUCCESS, MACH_MSG_TYPE_PORT_SEND]);
    ipc_port_release_send(c.poly as IpcPort);
    const m = mach_port_extract_right(space, recv, MACH_MSG_TYPE_MOVE_SEND);
    expect(mach_port_type(space, recv).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    ipc_port_release_send(m.poly as IpcPort);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(mach_port_extract_right(space, dead, MACH_MSG_TYPE_MOVE_SEND)).toEqual({
      kr: KERN_SUCCESS, poly: IP_DEAD, polyPoly: MACH_MSG_TYPE_PORT_SEND,
    });
    expect(mach_port_extract_right(space, recv, MACH_MSG_TYPE_MOVE_SEND_ONCE).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_extract_right(space, recv, MACH_MSG_TYPE_PORT_NAME).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_extract_right(space, recv, 0).kr).toBe(KERN_INVALID_VALUE);
    expect(mach_port_extract_right(space, 0x4400, MACH_MSG_TYPE_COPY_SEND).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('protected payloads', () => {
  it('need a receive right', () => {
    const space = task();
    const { send: s } = serverPort(space);
    expect(mach_port_set_protected_payload(space, s, 1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_clear_protected_payload(space, s).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_set_protected_payload(space, 0x4400, 1).kr).toBe(KERN_INVALID_NAME);
  });

  it('are dropped when the receive right moves', () => {
    const client = task();
    const { server, port, send: s } = serverPort(client);
    mach_port_set_protected_payload(server, port, 77);
    const r = mach_port_extract_right(server, port, MACH_MSG_TYPE_MOVE_RECEIVE);
    mach_port_insert_right(server, 0x6600, r.poly, r.polyPoly);
    send(client, message(s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    expect(poll(server, 0x6600).msg!.header.localPort).toBe(0x6600);
  });
});

describe('mach_port_set_ktype', () => {
  it('needs the privileged host port and a known ktype; marks user devices', () => {
    const space = task();
    const recv = allocReceive(space);
    const port = portOf(space, recv);
    const host = {};
    expect(mach_port_set_ktype(null, space, recv, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_KTYPE_USER_DEVICE).kr).toBe(KERN_INVALID_HOST);
    expect(mach_port_set_ktype(host, space, recv, MACH_PORT_RIGHT_RECEIVE, 5).kr).toBe(KERN_INVALID_ARGUMENT);
    expect(mach_port_set_ktype(host, space, recv, MACH_PORT_RIGHT_SEND, MACH_PORT_KTYPE_USER_DEVICE).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_set_ktype(host, space, recv, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_KTYPE_USER_DEVICE).kr).toBe(KERN_SUCCESS);
    expect(port.ip_kotype).toBe(IKOT_USER_DEVICE);
    expect(mach_port_set_ktype(host, space, recv, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_KTYPE_NONE).kr).toBe(KERN_SUCCESS);
    expect(port.ip_kotype).toBe(IKOT_NONE);
    ipc_kobject_set(port, {}, IKOT_DEVICE);
    expect(mach_port_set_ktype(host, space, recv, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_KTYPE_NONE).kr).toBe(KERN_INVALID_ARGUMENT);
    ipc_kobject_set(port, null, IKOT_NONE);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    expect(mach_port_set_ktype(host, space, set, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_KTYPE_NONE).kr).toBe(KERN_INVALID_ARGUMENT);
  });
});
