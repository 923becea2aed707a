/*
 * File: test/unit/ipc/mqueue.test.ts
 * Purpose: ipc_mqueue — the queue limit and blocked senders (MACH_SEND_TIMEOUT, 0 = poll),
 *          what bypasses the limit, waiting receivers (MACH_RCV_TIMEOUT, 0 = poll), waking
 *          order, sequence numbers, and receivers told the port died or changed.
 */

import { describe, expect, it, vi } from 'vitest';
import {
  KERN_SUCCESS, MACH_MSG_SUCCESS, MACH_RCV_PORT_CHANGED, MACH_RCV_PORT_DIED, MACH_RCV_TIMED_OUT,
  MACH_SEND_TIMED_OUT,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_SEND, MACH_NOTIFY_SEND_ONCE, MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT,
  type MachMessage,
} from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_SEND } from '../../../src/mach/port.js';
import {
  ipc_stats, mach_msg, mach_port_allocate, mach_port_destroy, mach_port_get_refs,
  mach_port_get_receive_status, mach_port_move_member, mach_port_set_qlimit, mach_port_set_seqno,
  mach_port_deallocate, type MachMsgResult,
} from '../../../src/ipc/index.js';
import {
  allocReceive, giveRight, intItem, message, poll, portItem, portOf, receive, send, serverPort, settle,
  state, task, useLeakCheck,
} from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

/** Sends that may wait (MACH_SEND_MSG [| MACH_SEND_TIMEOUT]). */
function sendWait(space: Space, msg: MachMessage, timeout?: number): MachMsgResult | Promise<MachMsgResult> {
  const option = timeout === undefined ? MACH_SEND_MSG : MACH_SEND_MSG | MACH_SEND_TIMEOUT;
  return mach_msg(space, msg, option, msg.header.size, 0, 0, timeout ?? 0, 0);
}

function fill(client: Space, dest: number, n = 5): void {
  for (let i = 0; i < n; i++) expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i)).mr).toBe(0);
}

describe('the queue limit', () => {
  it('takes qlimit (5) messages; the next send with MACH_SEND_TIMEOUT 0 times out at once', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    expect(portOf(server, port).ip_msgcount).toBe(5);
    const reply = allocReceive(client);
    const r = send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 9),
      MACH_SEND_MSG | MACH_SEND_TIMEOUT, 0);
    expect(r.mr).toBe(MACH_SEND_TIMED_OUT);
    // the message comes back with its rights copied out again (not swapped); the moved send
    // right's name was freed by the copyin, so it returns under the slot's next generation
    const back = r.msg!.header.remotePort;
    expect(back).toBe(dest + 1);
    expect(portOf(client, back)).toBe(portOf(server, port));
    expect(r.msg!.header.bits).toBe(MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND, 18));
    expect(mach_port_get_refs(client, back, MACH_PORT_RIGHT_SEND).refs).toBe(1);
    const so = r.msg!.header.localPort;
    expect(so).not.toBe(reply); // a send-once right for the reply port, under a new name
    mach_port_deallocate(client, so);
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
  });

  it('a blocked sender waits until a receive makes room, then its message is queued', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const p = sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 99)) as Promise<MachMsgResult>;
    expect(p).toBeInstanceOf(Promise);
    expect(await state(p)).toBe('pending');
    expect(poll(server, port).msg!.header.id).toBe(0);
    expect(portOf(server, port).ip_msgcount).toBe(5); // the blocked message got in at once
    expect(await p).toEqual({ mr: MACH_MSG_SUCCESS, msg: null });
    const ids = [1, 2, 3, 4, 99].map(() => poll(server, port).msg!.header.id);
    expect(ids).toEqual([1, 2, 3, 4, 99]);
  });

  it('wakes blocked senders first-come first-served', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const blocked = [100, 101, 102].map((id) => sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, id)));
    for (let i = 0; i < 3; i++) poll(server, port);
    await Promise.all(blocked);
    const ids = Array.from({ length: 5 }, () => poll(server, port).msg!.header.id);
    expect(ids).toEqual([3, 4, 100, 101, 102]);
  });

  it('a MACH_SEND_TIMEOUT expires with MACH_SEND_TIMED_OUT', async () => {
    vi.useFakeTimers();
    try {
      const client = task();
      const { send: dest } = serverPort(client);
      fill(client, dest);
      const p = sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 7), 50) as Promise<MachMsgResult>;
      vi.advanceTimersByTime(49);
      expect(await state(p)).toBe('pending');
      vi.advanceTimersByTime(1);
      const r = await p;
      expect(r.mr).toBe(MACH_SEND_TIMED_OUT);
      expect(r.msg!.header.id).toBe(7);
    } finally {
      vi.useRealTimers();
    }
  });

  it('messages to send-once rights and kernel messages pass a full queue', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const so = giveRight(server, port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    expect(send(client, message(so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 50), MACH_SEND_MSG | MACH_SEND_TIMEOUT).mr)
      .toBe(MACH_MSG_SUCCESS);
    const so2 = giveRight(server, port, client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    mach_port_deallocate(client, so2); // a send-once notification (MACH_SEND_ALWAYS)
    expect(portOf(server, port).ip_msgcount).toBe(7);
    for (let i = 0; i < 7; i++) poll(server, port);
  });

  it('with qlimit 0 every send waits, even with a receiver waiting', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    expect(mach_port_set_qlimit(server, port, 0).kr).toBe(KERN_SUCCESS);
    const rcv = receive(server, port) as Promise<MachMsgResult>;
    const r = send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1), MACH_SEND_MSG | MACH_SEND_TIMEOUT, 0);
    expect(r.mr).toBe(MACH_SEND_TIMED_OUT);
    const p = sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    expect(await state(rcv)).toBe('pending');
    mach_port_set_qlimit(server, port, 1); // lets one sender in: straight to the receiver
    expect((await p).mr).toBe(MACH_MSG_SUCCESS);
    expect((await rcv).msg!.header.id).toBe(2);
  });

  it('raising the limit lets as many blocked senders in', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const blocked = [10, 11, 12].map((id) => sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, id)));
    mach_port_set_qlimit(server, port, 7);
    expect(portOf(server, port).ip_msgcount).toBe(7);
    expect(await state(blocked[2] as Promise<MachMsgResult>)).toBe('pending');
    expect((await blocked[0]!).mr).toBe(0);
    expect((await blocked[1]!).mr).toBe(0);
    poll(server, port);
    expect((await blocked[2]!).mr).toBe(0);
    expect(mach_port_get_receive_status(server, port).status!.mps_msgcount).toBe(7);
  });

  it('a blocked sender whose port dies succeeds; its message is destroyed', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const reply = allocReceive(client);
    const p = sendWait(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 5));
    mach_port_destroy(server, port);
    expect((await p).mr).toBe(MACH_MSG_SUCCESS);
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expect(ipc_stats().kmsgs).toBe(0);
  });
});

describe('receivers', () => {
  it('MACH_RCV_TIMEOUT 0 polls: MACH_RCV_TIMED_OUT at once on an empty queue', () => {
    const space = task();
    expect(poll(space, allocReceive(space))).toEqual({ mr: MACH_RCV_TIMED_OUT, msg: null });
  });

  it('a timeout expires with MACH_RCV_TIMED_OUT; a message before it cancels the timer', async () => {
    vi.useFakeTimers();
    try {
      const client = task();
      const { server, port, send: dest } = serverPort(client);
      const p = receive(server, port, MACH_RCV_TIMEOUT, 100) as Promise<MachMsgResult>;
      vi.advanceTimersByTime(100);
      expect(await p).toEqual({ mr: MACH_RCV_TIMED_OUT, msg: null });
      const q = receive(server, port, MACH_RCV_TIMEOUT, 100) as Promise<MachMsgResult>;
      send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3));
      expect((await q).msg!.header.id).toBe(3);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waiting receivers get messages in the order they started waiting', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const waiting = [receive(server, port), receive(server, port), receive(server, port)];
    for (const id of [1, 2, 3]) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, id));
    const got = await Promise.all(waiting);
    expect(got.map((r) => r.msg!.header.id)).toEqual([1, 2, 3]);
    expect(got.map((r) => r.msg!.header.seqno)).toEqual([0, 1, 2]);
  });

  it('a receiver is told MACH_RCV_PORT_DIED when its port is destroyed or its receive right leaves', async () => {
    const space = task();
    const a = allocReceive(space);
    const b = allocReceive(space);
    const other = task();
    const dest = giveRight(other, allocReceive(other), space);
    const pa = receive(space, a);
    const pb = receive(space, b);
    mach_port_destroy(space, a);
    send(space, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1, [portItem(b, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    expect(await pa).toEqual({ mr: MACH_RCV_PORT_DIED, msg: null });
    expect(await pb).toEqual({ mr: MACH_RCV_PORT_DIED, msg: null });
  });

  it('a receiver is told MACH_RCV_PORT_CHANGED when its port joins a set', async () => {
    const space = task();
    const port = allocReceive(space);
    const set = mach_port_allocate(space, MACH_PORT_RIGHT_PORT_SET).name;
    const p = receive(space, port);
    expect(mach_port_move_member(space, port, set).kr).toBe(KERN_SUCCESS);
    expect(await p).toEqual({ mr: MACH_RCV_PORT_CHANGED, msg: null });
  });

  it('a receive gets everything queued before it, in order', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    for (const id of [5, 6]) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, id, [intItem(id)]));
    const first = receive(server, port);
    expect(first).not.toBeInstanceOf(Promise);
    expect((first as MachMsgResult).msg!.body[0]!.data).toBe(5);
    expect(poll(server, port).msg!.body[0]!.data).toBe(6);
    await settle();
  });
});

describe('sequence numbers', () => {
  it('count received messages per port; mach_port_set_seqno changes the next one', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const seqnos = (): number => {
      send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
      return poll(server, port).msg!.header.seqno;
    };
    expect([seqnos(), seqnos(), seqnos()]).toEqual([0, 1, 2]);
    expect(mach_port_set_seqno(server, port, 40).kr).toBe(KERN_SUCCESS);
    expect(seqnos()).toBe(40);
    expect(mach_port_get_receive_status(server, port).status!.mps_seqno).toBe(41);
  });

  it('start again at 0 when the receive right moves', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1));
    poll(server, port);
    const carrier = allocReceive(client);
    const via = giveRight(client, carrier, server);
    send(server, message(via, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 2, [portItem(port, MACH_MSG_TYPE_MOVE_RECEIVE)]));
    const moved = poll(client, carrier).msg!.body[0]!.data as number;
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3));
    expect(poll(client, moved).msg!.header.seqno).toBe(0);
  });
});
