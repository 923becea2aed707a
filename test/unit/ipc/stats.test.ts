/*
 * File: test/unit/ipc/stats.test.ts
 * Purpose: the leak-check counters: per-space names by right type and urefs, kernel-wide
 *          ports, port sets and kernel messages.
 */

import { describe, expect, it } from 'vitest';
import { MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE } from '../../../src/mach/message.js';
import { MACH_NOTIFY_DEAD_NAME, MACH_RCV_MSG } from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET } from '../../../src/mach/port.js';
import {
  IpcPort, ipc_object_copyin, ipc_space_destroy, ipc_space_stats, ipc_stats, mach_msg, mach_port_allocate,
  mach_port_destroy, mach_port_mod_refs, mach_port_request_notification,
} from '../../../src/ipc/index.js';
import { allocReceive, giveRight, message, poll, send, serverPort, task, useLeakCheck } from './helpers.js';

useLeakCheck();

describe('ipc_space_stats', () => {
  it('counts names by right (a send/receive name in both), urefs and dead-name requests', () => {
    const space = task();
    const recv = allocReceive(space);
    giveRight(space, recv, space);
    giveRight(space, recv, space);
    mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET);
    const dead = mach_port_allocate(space, MACH_PORT_RIGHT_DEAD_NAME).name;
    mach_port_mod_refs(space, dead, 4, 2);
    giveRight(space, recv, space, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const { send: s } = serverPort(space);
    const n = allocReceive(space);
    mach_port_request_notification(space, s, MACH_NOTIFY_DEAD_NAME, 0,
      ipc_object_copyin(space, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort);
    expect(ipc_space_stats(space)).toEqual({
      names: 6, send: 2, receive: 2, sendOnce: 1, portSet: 1, deadName: 1,
      urefs: 2 + 3 + 1 + 1, dnrequests: 1, threads: 0,
    });
  });

  it('counts a right to a dead port as the dead name it will become (with the notification\'s uref)', () => {
    const space = task();
    const { server, port, send: s } = serverPort(space);
    const n = allocReceive(space);
    mach_port_request_notification(space, s, MACH_NOTIFY_DEAD_NAME, 0,
      ipc_object_copyin(space, n, MACH_MSG_TYPE_MAKE_SEND_ONCE) as IpcPort);
    mach_port_destroy(server, port);
    expect(ipc_space_stats(space)).toMatchObject({ send: 0, deadName: 1, urefs: 2, dnrequests: 0 });
    poll(space, n);
  });

  it('counts waiting calls; a dead space has nothing', async () => {
    const space = task();
    const recv = allocReceive(space);
    const p = mach_msg(space, null, MACH_RCV_MSG, 0, 4096, recv, 0, 0);
    expect(ipc_space_stats(space).threads).toBe(1);
    ipc_space_destroy(space);
    await p;
    expect(ipc_space_stats(space)).toEqual({
      names: 0, send: 0, receive: 0, sendOnce: 0, portSet: 0, deadName: 0, urefs: 0, dnrequests: 0, threads: 0,
    });
  });
});

describe('ipc_stats', () => {
  it('counts live ports, port sets and kernel messages', () => {
    const before = ipc_stats();
    const client = task();
    const { server, port, send: s } = serverPort(client);
    send(client, message(s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    send(client, message(s, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    mach_port_allocate(server, MACH_PORT_RIGHT_PORT_SET);
    expect(ipc_stats()).toEqual({ ports: before.ports + 1, portSets: before.portSets + 1, kmsgs: before.kmsgs + 2 });
    poll(server, port);
    expect(ipc_stats().kmsgs).toBe(before.kmsgs + 1);
    mach_port_destroy(server, port);
    expect(ipc_stats()).toEqual({ ports: before.ports, portSets: before.portSets + 1, kmsgs: before.kmsgs });
  });
});
