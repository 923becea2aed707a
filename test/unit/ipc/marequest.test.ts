/*
 * File: test/unit/ipc/marequest.test.ts
 * Purpose: ipc_marequest — msg-accepted requests: creation and its errors, the entry's
 *          IE_BITS_MAREQUEST, renaming and cancelling, the notification when the forced
 *          message is received or destroyed.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_SUCCESS, MACH_SEND_INVALID_NOTIFY, MACH_SEND_NOTIFY_IN_PROGRESS, MACH_SEND_WILL_NOTIFY,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_NOTIFY_MSG_ACCEPTED, MACH_SEND_MSG, MACH_SEND_NOTIFY,
} from '../../../src/mach/message.js';
import { MACH_PORT_NULL, MACH_PORT_TYPE_MAREQUEST, MACH_PORT_TYPE_SEND } from '../../../src/mach/port.js';
import {
  IE_BITS_MAREQUEST, ipc_entry_lookup, ipc_marequest_create, ipc_marequest_destroy, ipc_space_destroy,
  mach_port_destroy, mach_port_rename, mach_port_type,
} from '../../../src/ipc/index.js';
import { allocReceive, message, poll, portOf, send, serverPort, task, useLeakCheck } from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

function force(client: Space, dest: number, notify: number): number {
  for (let i = 0; i < 5; i++) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i));
  return send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 99), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, notify).mr;
}

describe('ipc_marequest_create', () => {
  it('marks the sender\'s entry; a second request for the same port is MACH_SEND_NOTIFY_IN_PROGRESS', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const notify = allocReceive(client);
    const m = ipc_marequest_create(client, portOf(server, port), notify);
    expect(typeof m).toBe('object');
    expect(ipc_entry_lookup(client, dest)!.ie_bits & IE_BITS_MAREQUEST).toBeTruthy();
    expect(ipc_marequest_create(client, portOf(server, port), notify)).toBe(MACH_SEND_NOTIFY_IN_PROGRESS);
    if (typeof m !== 'number') ipc_marequest_destroy(m);
    expect(ipc_entry_lookup(client, dest)!.ie_bits & IE_BITS_MAREQUEST).toBe(0);
    expect(poll(client, notify).msg!.body[0]!.data).toBe(dest);
  });

  it('needs a live space and a receive right to notify; a sender without a name gets MACH_PORT_NULL', () => {
    const client = task();
    const { server, port } = serverPort(client);
    const stranger = task();
    const notify = allocReceive(stranger);
    expect(ipc_marequest_create(stranger, portOf(server, port), 0x5500)).toBe(MACH_SEND_INVALID_NOTIFY);
    const m = ipc_marequest_create(stranger, portOf(server, port), notify);
    if (typeof m === 'number') throw new Error('create failed');
    expect(m.imar_name).toBe(MACH_PORT_NULL);
    ipc_marequest_destroy(m);
    expect(poll(stranger, notify).msg!.body[0]!.data).toBe(MACH_PORT_NULL);
    ipc_space_destroy(stranger);
    expect(ipc_marequest_create(stranger, portOf(server, port), notify)).toBe(MACH_SEND_INVALID_NOTIFY);
  });
});

describe('the request follows the sender\'s entry', () => {
  it('renaming the entry renames the request', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const notify = allocReceive(client);
    expect(force(client, dest, notify)).toBe(MACH_SEND_WILL_NOTIFY);
    expect(mach_port_rename(client, dest, 0x4400).kr).toBe(KERN_SUCCESS);
    expect(mach_port_type(client, 0x4400).ptype).toBe((MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_MAREQUEST) >>> 0);
    for (let i = 0; i < 6; i++) poll(server, port);
    const n = poll(client, notify).msg!;
    expect([n.header.id, n.body[0]!.data]).toEqual([MACH_NOTIFY_MSG_ACCEPTED, 0x4400]);
  });

  it('destroying the forced message (its port dies) still answers the request', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const notify = allocReceive(client);
    force(client, dest, notify);
    mach_port_destroy(server, port);
    expect(poll(client, notify).msg!.header.id).toBe(MACH_NOTIFY_MSG_ACCEPTED);
  });
});
