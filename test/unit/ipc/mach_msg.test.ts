/*
 * File: test/unit/ipc/mach_msg.test.ts
 * Purpose: the mach_msg trap — RPCs, send-then-receive, the options (MACH_RCV_LARGE,
 *          MACH_SEND_NOTIFY, MACH_RCV_NOTIFY, timeouts), GNU Mach's return codes, and what
 *          becomes of a message (and its rights) that fails to send or to be received.
 */

import { describe, expect, it, vi } from 'vitest';
import {
  KERN_SUCCESS, MACH_MSG_SUCCESS, MACH_RCV_INVALID_NAME, MACH_RCV_INVALID_NOTIFY, MACH_RCV_TOO_LARGE,
  MACH_SEND_INVALID_DEST, MACH_SEND_INVALID_NOTIFY, MACH_SEND_NOTIFY_IN_PROGRESS, MACH_SEND_TIMED_OUT,
  MACH_SEND_WILL_NOTIFY,
} from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_MOVE_SEND_ONCE,
  MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_NOTIFY_DEAD_NAME, MACH_NOTIFY_MSG_ACCEPTED,
  MACH_NOTIFY_SEND_ONCE, MACH_RCV_LARGE, MACH_RCV_MSG, MACH_RCV_NOTIFY, MACH_RCV_TIMEOUT, MACH_SEND_MSG,
  MACH_SEND_NOTIFY, MACH_SEND_TIMEOUT, MACH_MSG_OPTION_NONE,
} from '../../../src/mach/message.js';
import {
  MACH_PORT_DEAD, MACH_PORT_NULL, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_RIGHT_SEND,
  MACH_PORT_TYPE_DNREQUEST, MACH_PORT_TYPE_MAREQUEST, MACH_PORT_TYPE_RECEIVE, MACH_PORT_TYPE_SEND,
  MACH_PORT_TYPE_SEND_ONCE,
} from '../../../src/mach/port.js';
import {
  ipc_stats, mach_msg, mach_msg_receive, mach_port_allocate, mach_port_deallocate, mach_port_destroy,
  mach_port_get_refs, mach_port_names, mach_port_type, type MachMsgResult,
} from '../../../src/ipc/index.js';
import {
  allocReceive, bytesItem, giveRight, intItem, message, now, poll, portItem, portOf, receive, send,
  serverPort, state, task, useLeakCheck,
} from './helpers.js';

useLeakCheck();

type Space = ReturnType<typeof task>;

/** A client RPC: request with a MAKE_SEND_ONCE reply, then receive on the reply port. */
function rpc(client: Space, dest: number, reply: number, id: number, body = [intItem(id)]) {
  const m = message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, id, body);
  return mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, m.header.size, 4096, reply, 0, 0);
}

function fill(client: Space, dest: number): void {
  for (let i = 0; i < 5; i++) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, i));
}

describe('RPC', () => {
  it('request, reply: names, bits, ids and seqnos as the stubs expect them', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    const call = rpc(client, dest, reply, 2000) as Promise<MachMsgResult>;
    expect(call).toBeInstanceOf(Promise);
    const req = now(receive(server, port)).msg!;
    expect(req.header).toMatchObject({
      bits: MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND), localPort: port, seqno: 0, id: 2000,
      size: 40,
    });
    expect(mach_port_type(server, req.header.remotePort).ptype).toBe(MACH_PORT_TYPE_SEND_ONCE);
    const answer = message(req.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 2100, [intItem(KERN_SUCCESS)]);
    expect(send(server, answer).mr).toBe(MACH_MSG_SUCCESS);
    expect(mach_port_type(server, req.header.remotePort).kr).not.toBe(KERN_SUCCESS);
    const r = await call;
    expect(r.mr).toBe(MACH_MSG_SUCCESS);
    expect(r.msg!.header).toEqual({
      bits: MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE), size: 40, remotePort: MACH_PORT_NULL, localPort: reply,
      seqno: 0, id: 2100,
    });
    expect(r.msg!.body).toEqual([intItem(KERN_SUCCESS)]);
    expect(portOf(client, reply).ip_sorights).toBe(0);
  });

  it('a server loop: send the reply and receive the next request in one call', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    const first = rpc(client, dest, reply, 1);
    const r1 = now(receive(server, port)).msg!;
    const second = mach_msg(server, message(r1.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 101),
      MACH_SEND_MSG | MACH_RCV_MSG, 32, 4096, port, 0, 0) as Promise<MachMsgResult>;
    expect((await first).msg!.header.id).toBe(101);
    expect(await state(second)).toBe('pending');
    const call2 = rpc(client, dest, reply, 2);
    const r2 = (await second).msg!;
    expect([r2.header.id, r2.header.seqno]).toEqual([2, 1]);
    send(server, message(r2.header.remotePort, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0, 102));
    expect((await call2).msg!.header.id).toBe(102);
  });

  it('if the send fails nothing is received; the result holds the caller\'s message', () => {
    const client = task();
    const reply = allocReceive(client);
    const m = message(0x7700, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1);
    const r = now(mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, m.header.size, 4096, reply, 0, 0));
    expect(r.mr).toBe(MACH_SEND_INVALID_DEST);
    expect(r.msg).toBe(m);
  });

  it('if the receive name is bad, the message was still sent', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const m = message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1);
    expect(now(mach_msg(client, m, MACH_SEND_MSG | MACH_RCV_MSG, 32, 4096, 0x9900, 0, 0)).mr).toBe(MACH_RCV_INVALID_NAME);
    expect(poll(server, port).msg!.header.id).toBe(1);
  });

  it('no option does nothing; MACH_SEND_MSG without a message is a caller bug', () => {
    const space = task();
    expect(mach_msg(space, null, MACH_MSG_OPTION_NONE, 0, 0, 0, 0, 0)).toEqual({ mr: MACH_MSG_SUCCESS, msg: null });
    expect(() => mach_msg(space, null, MACH_SEND_MSG, 0, 0, 0, 0, 0)).toThrow();
  });
});

describe('messages that fail to send', () => {
  it('MACH_SEND_TIMED_OUT: every right goes back into the sender\'s space', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    fill(client, dest);
    const mover = allocReceive(client);
    const moverPort = portOf(client, mover);
    const made = allocReceive(client);
    const m = message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9, [
      portItem(mover, MACH_MSG_TYPE_MOVE_RECEIVE), portItem(made, MACH_MSG_TYPE_MAKE_SEND), bytesItem(new Uint8Array([7]), false),
    ]);
    const r = send(client, m, MACH_SEND_MSG | MACH_SEND_TIMEOUT, 0);
    expect(r.mr).toBe(MACH_SEND_TIMED_OUT);
    const [back, sendBack] = [r.msg!.body[0]!.data as number, r.msg!.body[1]!.data as number];
    expect(mach_port_type(client, back).ptype).toBe(MACH_PORT_TYPE_RECEIVE);
    expect(portOf(client, back)).toBe(moverPort);
    expect(sendBack).toBe(made); // joins the receive right's name
    expect(mach_port_type(client, made).ptype).toBe(MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
    expect(r.msg!.body[2]!.data).toEqual(new Uint8Array([7]));
    expect(r.msg!.body.map((i) => i.type.name)).toEqual([16, 17, 9]);
    // the COPY_SEND destination was a copy: given back, it is one more uref the caller owns
    expect(r.msg!.header.remotePort).toBe(dest);
    expect(mach_port_get_refs(client, dest, MACH_PORT_RIGHT_SEND).refs).toBe(2);
    for (let i = 0; i < 5; i++) poll(server, port);
  });

  it('a message to a port that dies while queued is destroyed with its rights', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1));
    mach_port_destroy(server, port);
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    expect(ipc_stats().kmsgs).toBe(0);
  });
});

describe('MACH_RCV_TOO_LARGE', () => {
  it('without MACH_RCV_LARGE: the message is destroyed, the header returned with its destination', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 5, [bytesItem(new Uint8Array(100))]));
    const r = poll(server, port, 64);
    expect(r.mr).toBe(MACH_RCV_TOO_LARGE);
    expect(r.msg).toEqual({
      header: { bits: MACH_MSGH_BITS(MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND), size: 144,
        remotePort: MACH_PORT_NULL, localPort: port, seqno: 0, id: 5 },
      body: [],
    });
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE); // the reply right was destroyed
    expect(poll(server, port).mr).not.toBe(MACH_MSG_SUCCESS);
  });

  it('with MACH_RCV_LARGE: the message stays queued and its size is returned', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 5, [bytesItem(new Uint8Array(100))]));
    expect(poll(server, port, 64, MACH_RCV_LARGE)).toEqual({ mr: MACH_RCV_TOO_LARGE, msg: null, size: 144 });
    expect(poll(server, port, 144, MACH_RCV_LARGE).msg!.header.id).toBe(5);
  });

  it('a waiting MACH_RCV_LARGE receiver is told the size; the next receiver gets the message', async () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const small = receive(server, port, MACH_RCV_LARGE, 0, 64) as Promise<MachMsgResult>;
    const big = receive(server, port, MACH_RCV_LARGE, 0, 4096) as Promise<MachMsgResult>;
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 5, [bytesItem(new Uint8Array(100))]));
    expect(await small).toEqual({ mr: MACH_RCV_TOO_LARGE, msg: null, size: 144 });
    expect((await big).msg!.header.id).toBe(5);
  });
});

describe('MACH_SEND_NOTIFY: forcing a message into a full queue', () => {
  it('queues it anyway (MACH_SEND_WILL_NOTIFY) and sends msg-accepted when it is received', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const notify = allocReceive(client);
    fill(client, dest);
    const m = message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 77);
    expect(send(client, m, MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, notify)).toEqual({ mr: MACH_SEND_WILL_NOTIFY, msg: null });
    expect(portOf(server, port).ip_msgcount).toBe(6);
    expect(mach_port_type(client, dest).ptype).toBe((MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_MAREQUEST) >>> 0);
    const again = send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 78), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, notify);
    expect(again.mr).toBe(MACH_SEND_NOTIFY_IN_PROGRESS);
    expect(again.msg!.header.remotePort).toBe(dest);
    expect(mach_port_names(client).types[mach_port_names(client).names.indexOf(dest)]).toBe((MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_MAREQUEST) >>> 0);
    for (let i = 0; i < 5; i++) poll(server, port);
    expect(poll(client, notify).msg).toBeNull();
    expect(poll(server, port).msg!.header.id).toBe(77);
    const n = poll(client, notify).msg!;
    expect([n.header.id, n.body[0]!.data]).toEqual([MACH_NOTIFY_MSG_ACCEPTED, dest]);
    expect(mach_port_type(client, dest).ptype).toBe(MACH_PORT_TYPE_SEND);
  });

  it('sends normally when there is room; needs a notify receive right when there isn\'t', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 1), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, 0).mr).toBe(0);
    for (let i = 0; i < 4; i++) send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, 0).mr)
      .toBe(MACH_SEND_INVALID_NOTIFY);
    expect(send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 3), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, dest).mr)
      .toBe(MACH_SEND_INVALID_NOTIFY);
    for (let i = 0; i < 5; i++) poll(server, port);
  });

  it('with MACH_SEND_TIMEOUT it waits first, then forces', async () => {
    vi.useFakeTimers();
    try {
      const client = task();
      const { server, port, send: dest } = serverPort(client);
      const notify = allocReceive(client);
      fill(client, dest);
      const p = mach_msg(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9),
        MACH_SEND_MSG | MACH_SEND_NOTIFY | MACH_SEND_TIMEOUT, 32, 0, 0, 30, notify) as Promise<MachMsgResult>;
      expect(await state(p)).toBe('pending');
      vi.advanceTimersByTime(30);
      expect((await p).mr).toBe(MACH_SEND_WILL_NOTIFY);
      for (let i = 0; i < 6; i++) poll(server, port);
      expect(poll(client, notify).msg!.header.id).toBe(MACH_NOTIFY_MSG_ACCEPTED);
    } finally {
      vi.useRealTimers();
    }
  });

  it('if the sender gives its right away meanwhile, the notification names MACH_PORT_NULL', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const notify = allocReceive(client);
    fill(client, dest);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 9), MACH_SEND_MSG | MACH_SEND_NOTIFY, 0, notify);
    mach_port_deallocate(client, dest);
    for (let i = 0; i < 6; i++) poll(server, port);
    expect(poll(client, notify).msg!.body[0]!.data).toBe(MACH_PORT_NULL);
  });
});

describe('MACH_RCV_NOTIFY', () => {
  it('registers a dead-name request for a reply name the receive creates', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    const notify = allocReceive(server);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1));
    const r = now(mach_msg_receive(server, MACH_RCV_NOTIFY | MACH_RCV_TIMEOUT, 4096, port, 0, notify));
    const rname = r.msg!.header.remotePort;
    expect(mach_port_type(server, rname).ptype).toBe((MACH_PORT_TYPE_SEND_ONCE | MACH_PORT_TYPE_DNREQUEST) >>> 0);
    mach_port_destroy(client, reply);
    const n = poll(server, notify).msg!;
    expect([n.header.id, n.body[0]!.data]).toEqual([MACH_NOTIFY_DEAD_NAME, rname]);
    expect(mach_port_get_refs(server, rname, 4).refs).toBe(2);
  });

  it('a bad notify name fails the receive: MACH_RCV_INVALID_NOTIFY, the message is destroyed', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const reply = allocReceive(client);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, reply, MACH_MSG_TYPE_MAKE_SEND_ONCE, 1));
    const r = now(mach_msg(server, null, MACH_RCV_MSG | MACH_RCV_NOTIFY | MACH_RCV_TIMEOUT, 0, 4096, port, 0, 0x5500));
    expect(r.mr).toBe(MACH_RCV_INVALID_NOTIFY);
    expect(r.msg!.header.localPort).toBe(port);
    expect(poll(client, reply).msg!.header.id).toBe(MACH_NOTIFY_SEND_ONCE);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, 0, 0, 2));
    expect(now(mach_msg(server, null, MACH_RCV_MSG | MACH_RCV_NOTIFY | MACH_RCV_TIMEOUT, 0, 4096, port, 0, 0)).mr)
      .toBe(MACH_RCV_INVALID_NOTIFY);
  });
});

describe('dead destinations and replies', () => {
  it('sending to a dead name or a right to a dead port: MACH_SEND_INVALID_DEST', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const dead = mach_port_allocate(client, MACH_PORT_RIGHT_DEAD_NAME).name;
    expect(send(client, message(dead, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
    mach_port_destroy(server, port);
    expect(send(client, message(dest, MACH_MSG_TYPE_MOVE_SEND, 0, 0, 1)).mr).toBe(MACH_SEND_INVALID_DEST);
  });

  it('a reply right that is a dead name is delivered as MACH_PORT_DEAD', () => {
    const client = task();
    const { server, port, send: dest } = serverPort(client);
    const other = task();
    const gone = giveRight(other, allocReceive(other), client, MACH_MSG_TYPE_MAKE_SEND);
    const so = giveRight(other, allocReceive(other), client, MACH_MSG_TYPE_MAKE_SEND_ONCE);
    // kill both ports: the client's rights become dead names when looked at
    for (const name of mach_port_names(other).names) mach_port_destroy(other, name);
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, gone, MACH_MSG_TYPE_COPY_SEND, 1));
    send(client, message(dest, MACH_MSG_TYPE_COPY_SEND, so, MACH_MSG_TYPE_MOVE_SEND_ONCE, 2));
    expect(poll(server, port).msg!.header.remotePort).toBe(MACH_PORT_DEAD);
    expect(poll(server, port).msg!.header.remotePort).toBe(MACH_PORT_DEAD);
    expect(mach_port_type(client, gone).kr).toBe(KERN_SUCCESS); // a copy: the dead name stays
    expect(mach_port_type(client, so).kr).not.toBe(KERN_SUCCESS); // a move: used up
  });
});
