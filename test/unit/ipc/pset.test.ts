/*
 * File: test/unit/ipc/pset.test.ts
 * Purpose: ipc_pset — receiving from a port set, moving members in and out (and their
 *          messages with them), MACH_RCV_IN_SET, destroying a set.
 */

import { describe, expect, it } from 'vitest';
import {
  KERN_INVALID_NAME, KERN_INVALID_RIGHT, KERN_NOT_IN_SET, KERN_SUCCESS, MACH_RCV_IN_SET,
  MACH_RCV_INVALID_NAME, MACH_RCV_PORT_DIED, MACH_RCV_TIMED_OUT,
} from '../../../src/mach/kern_return.js';
import { MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MOVE_RECEIVE } from '../../../src/mach/message.js';
import { MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_PORT_SET } from '../../../src/mach/port.js';
import {
  ipc_stats, mach_port_allocate, mach_port_destroy, mach_port_get_receive_status,
  mach_port_get_set_status, mach_port_mod_refs, mach_port_move_member, type MachMsgResult,
} from '../../../src/ipc/index.js';
import {
  allocReceive, giveRight, message, poll, portItem, portOf, receive, send, task, useLeakCheck,
} from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

/** A server with a set of `n` member ports, and send rights for them in `client`. */
function setup(client: Space, n: number): { server: Space; set: number; members: number[]; sends: number[] } {
  const server = task();
  const set = mach_port_allocate(server, MACH_PORT_RIGHT_PORT_SET).name;
  const members: number[] = [];
  const sends: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = allocReceive(server);
    expect(mach_port_move_member(server, m, set).kr).toBe(KERN_SUCCESS);
    members.push(m);
    sends.push(giveRight(server, m, client));
  }
  return { server, set, members, sends };
}

const hello = (space: Space, dest: number, id: number): number =>
  send(space, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, id)).mr;

describe('receiving from a port set', () => {
  it('takes messages of all members in arrival order; local port and seqno are the member\'s', () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    hello(client, sends[0]!, 1);
    hello(client, sends[1]!, 2);
    hello(client, sends[0]!, 3);
    const got = [poll(server, set), poll(server, set), poll(server, set)].map((r) => r.msg!.header);
    expect(got.map((h) => [h.id, h.localPort, h.seqno])).toEqual([
      [1, members[0], 0], [2, members[1], 0], [3, members[0], 1],
    ]);
    expect(poll(server, set).mr).toBe(MACH_RCV_TIMED_OUT);
  });

  it('a receiver waiting on the set gets the next message of any member', async () => {
    const client = task();
    const { server, set, sends } = setup(client, 3);
    const p = receive(server, set) as Promise<MachMsgResult>;
    hello(client, sends[2]!, 7);
    expect((await p).msg!.header.id).toBe(7);
  });

  it('a member can\'t be received from directly (MACH_RCV_IN_SET); other names are invalid', () => {
    const client = task();
    const { server, members, sends } = setup(client, 1);
    expect(poll(server, members[0]!).mr).toBe(MACH_RCV_IN_SET);
    expect(poll(client, sends[0]!).mr).toBe(MACH_RCV_INVALID_NAME);
    expect(poll(client, mach_port_allocate(client, MACH_PORT_RIGHT_DEAD_NAME).name).mr).toBe(MACH_RCV_INVALID_NAME);
    expect(poll(client, 0x8800).mr).toBe(MACH_RCV_INVALID_NAME);
  });
});

describe('mach_port_move_member', () => {
  it('brings the port\'s queued messages into the set, after those already there', () => {
    const client = task();
    const { server, set, sends } = setup(client, 1);
    const late = allocReceive(server);
    const lateSend = giveRight(server, late, client);
    hello(client, lateSend, 10);
    hello(client, sends[0]!, 20);
    hello(client, lateSend, 11);
    expect(mach_port_move_member(server, late, set).kr).toBe(KERN_SUCCESS);
    expect([1, 2, 3].map(() => poll(server, set).msg!.header.id)).toEqual([20, 10, 11]);
  });

  it('takes a member out with its messages (MACH_PORT_NULL), or moves it to another set', () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    const other = mach_port_allocate(server, MACH_PORT_RIGHT_PORT_SET).name;
    hello(client, sends[0]!, 1);
    hello(client, sends[1]!, 2);
    hello(client, sends[0]!, 3);
    expect(mach_port_move_member(server, members[0]!, other).kr).toBe(KERN_SUCCESS);
    expect(mach_port_get_receive_status(server, members[0]!).status!.mps_pset).toBe(other);
    expect(poll(server, set).msg!.header.id).toBe(2);
    expect(poll(server, set).mr).toBe(MACH_RCV_TIMED_OUT);
    expect(mach_port_move_member(server, members[0]!, MACH_PORT_NULL).kr).toBe(KERN_SUCCESS);
    expect(mach_port_get_receive_status(server, members[0]!).status!.mps_pset).toBe(MACH_PORT_NULL);
    expect(poll(server, members[0]!).msg!.header.id).toBe(1);
    expect(poll(server, members[0]!).msg!.header.id).toBe(3);
    expect(mach_port_move_member(server, members[0]!, MACH_PORT_NULL).kr).toBe(KERN_NOT_IN_SET);
  });

  it('answers GNU Mach\'s errors', () => {
    const space = task();
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    const port = allocReceive(space);
    const other = task();
    const send1 = giveRight(other, allocReceive(other), space);
    expect(mach_port_move_member(space, 0x4400, set).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_move_member(space, send1, set).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_move_member(space, set, set).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_move_member(space, port, 0x4400).kr).toBe(KERN_INVALID_NAME);
    expect(mach_port_move_member(space, port, send1).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_move_member(space, port, set).kr).toBe(KERN_SUCCESS);
    expect(mach_port_move_member(space, port, set).kr).toBe(KERN_SUCCESS); // already there
  });
});

describe('mach_port_get_set_status', () => {
  it('lists the members in name order', () => {
    const client = task();
    const { server, set, members } = setup(client, 3);
    expect(mach_port_get_set_status(server, set)).toEqual({ kr: KERN_SUCCESS, members: [...members].sort((a, b) => a - b) });
    expect(mach_port_get_set_status(server, members[0]!).kr).toBe(KERN_INVALID_RIGHT);
    expect(mach_port_get_set_status(server, 0x7700).kr).toBe(KERN_INVALID_NAME);
  });
});

describe('members leaving', () => {
  it('a member whose receive right is sent away leaves the set, its messages travel with it', () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    hello(client, sends[0]!, 1);
    hello(client, sends[1]!, 2);
    const carrier = allocReceive(client);
    const via = giveRight(client, carrier, server);
    send(server, message(via, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9, [portItem(members[0]!, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    expect(mach_port_get_set_status(server, set).members).toEqual([members[1]]);
    expect(poll(server, set).msg!.header.id).toBe(2);
    const moved = poll(client, carrier).msg!.body[0]!.data as number;
    expect(portOf(client, moved).ip_pset).toBeNull();
    expect(poll(client, moved).msg!.header.id).toBe(1);
  });

  it('a destroyed member takes its queued messages with it', () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    hello(client, sends[0]!, 1);
    hello(client, sends[1]!, 2);
    expect(ipc_stats().kmsgs).toBe(2);
    mach_port_destroy(server, members[0]!);
    expect(ipc_stats().kmsgs).toBe(1);
    expect(poll(server, set).msg!.header.id).toBe(2);
  });
});

describe('destroying a set', () => {
  it('wakes its receivers with MACH_RCV_PORT_DIED and gives members their messages back', async () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    const waiting = receive(server, set) as Promise<MachMsgResult>;
    const sets = ipc_stats().portSets;
    expect(mach_port_mod_refs(server, set, MACH_PORT_RIGHT_PORT_SET, -1).kr).toBe(KERN_SUCCESS);
    expect(await waiting).toEqual({ mr: MACH_RCV_PORT_DIED, msg: null });
    expect(ipc_stats().portSets).toBe(sets - 1);
    hello(client, sends[1]!, 5);
    expect(mach_port_get_receive_status(server, members[1]!).status!.mps_pset).toBe(MACH_PORT_NULL);
    expect(poll(server, members[1]!).msg!.header.id).toBe(5);
  });

  it('messages waiting in the set go back to their ports', () => {
    const client = task();
    const { server, set, members, sends } = setup(client, 2);
    hello(client, sends[0]!, 1);
    hello(client, sends[1]!, 2);
    hello(client, sends[0]!, 3);
    mach_port_destroy(server, set);
    expect([poll(server, members[0]!), poll(server, members[0]!)].map((r) => r.msg!.header.id)).toEqual([1, 3]);
    expect(poll(server, members[1]!).msg!.header.id).toBe(2);
  });
});
