/**
 * The WebSocket transport and the kernel's listener, in one process (the kernel and its
 * tasks on 127.0.0.1): admission (token, subprotocol, tickets, Origin), the traps, rights
 * and out-of-line data between tasks, bad frames, the end of a task and of the kernel.
 * test/multiprocess runs the same pieces as separate processes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KernelServer } from '../../../src/kern/server.js';
import { connect, WebSocketTransport } from '../../../src/transport/websocket.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_insert_right, mach_port_names, mach_port_request_notification,
} from '../../../src/gen/mach_port.user.js';
import { task_terminate, vm_allocate, vm_deallocate, vm_read, vm_write } from '../../../src/gen/mach.user.js';
import { vm_ool_address, vm_ool_region } from '../../../src/vm/ool.js';
import { netname_check_in, netname_look_up } from '../../../src/gen/netname.user.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_NOTIFY_DEAD_NAME, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, type MachMessage,
} from '../../../src/mach/message.js';
import {
  MachError, MACH_MSG_SUCCESS, MACH_RCV_INTERRUPTED, MACH_RCV_TIMED_OUT, MACH_SEND_INVALID_DATA, MACH_SEND_INVALID_DEST,
} from '../../../src/mach/kern_return.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import {
  CLOSE_INVALID, CLOSE_TOO_BIG, decodeAnswer, encode, encodeMsgCall, OP_ERROR, OP_MSG, OP_RET, OP_WELCOME, SUBPROTOCOL,
  WireError,
} from '../../../src/wire/codec.js';

let kernel: KernelServer;
const tasks: MachTask[] = [];

beforeEach(async () => {
  kernel = await KernelServer.listen({ limits: { maxFrameBytes: 1 << 20 } });
});
afterEach(async () => {
  for (const t of tasks.splice(0)) t.terminate();
  await kernel.close();
});

async function task(name: string, extra: Parameters<typeof connect>[0] = {}): Promise<MachTask> {
  const t = await connect({ url: kernel.url, token: kernel.token, name, ...extra });
  tasks.push(t);
  return t;
}

/** Waits until `f` holds (the kernel reacts to a closed socket asynchronously). */
async function until(f: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw client speaking the protocol by hand. */
async function raw(headers: Record<string, string> = {}, protocol: string | undefined = SUBPROTOCOL): Promise<{ ws: WebSocket; frames: unknown[]; closed: Promise<[number, string]> }> {
  const ws = new WebSocket(kernel.url, protocol, { headers: { authorization: `Bearer ${kernel.token}`, ...headers } });
  const frames: unknown[] = [];
  const closed = new Promise<[number, string]>((r) => ws.on('close', (code, reason) => r([code, reason.toString()])));
  await new Promise<void>((resolve, reject) => {
    ws.once('message', (d: Buffer) => { frames.push(decodeAnswer(d)); resolve(); });
    ws.once('error', reject);
  });
  ws.on('message', (d: Buffer) => frames.push(decodeAnswer(d)));
  return { ws, frames, closed };
}

/** What the server sees when a connection is refused. */
function refused(headers: Record<string, string>, protocol: string | string[] = SUBPROTOCOL): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(kernel.url, protocol, { headers });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => reject(new Error('connection accepted')));
    ws.on('error', () => undefined);
  });
}

const null_request = (dest: number, reply = 0): MachMessage => ({
  header: { bits: MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, reply ? MACH_MSG_TYPE_MAKE_SEND_ONCE : 0), size: 40, remotePort: dest, localPort: reply, seqno: 0, id: 1000 },
  body: [{ type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: 42 }],
});

/** A port of `t`'s with a send right too, checked in as `name`. */
async function service(t: MachTask, name: string): Promise<number> {
  const { name: port } = await mach_port_allocate(t.self, MACH_PORT_RIGHT_RECEIVE);
  await mach_port_insert_right(t.self, port, t.port(port), MACH_MSG_TYPE_MAKE_SEND);
  await netname_check_in(t.bootstrap!, name, t.self, t.port(port));
  return port;
}

describe('admission', () => {
  it('a task gets its TaskInfo; the bootstrap port is the name service', async () => {
    const t = await task('first');
    expect(t.info).toMatchObject({ name: 'first', host_priv: 0, device_master: 0 });
    expect(t.info.task_self).not.toBe(0);
    expect(t.bootstrap).not.toBeNull();
    expect(kernel.kernel.tasks.get(t.info.id)?.name).toBe('first');
    // its rights: its task port, the host name port, the name service, and the reply
    // port MIG keeps for this very call
    const { names } = await mach_port_names(t.self);
    expect(names).toHaveLength(4);
    expect(names).toEqual(expect.arrayContaining([t.info.task_self, t.info.host_self, t.info.bootstrap]));
  });

  it('wrong, missing or malformed tokens are refused before any task exists', async () => {
    expect(await refused({ authorization: 'Bearer nope' })).toBe(401);
    expect(await refused({})).toBe(401);
    expect(await refused({ authorization: kernel.token })).toBe(401);
    expect(await refused({ authorization: `Bearer ${kernel.token}x` })).toBe(401);
    expect(kernel.kernel.tasks.size).toBe(0);
    await expect(connect({ url: kernel.url, token: 'bad' })).rejects.toMatchObject({ code: 'refused' });
  });

  it('browsers (an Origin header) and other subprotocols are refused', async () => {
    expect(await refused({ authorization: `Bearer ${kernel.token}`, origin: 'https://evil.example' })).toBe(403);
    expect(await refused({ authorization: `Bearer ${kernel.token}` }, 'other.1')).toBe(400);
    expect(await refused({ authorization: `Bearer ${kernel.token}` }, [])).toBe(400);
  });

  it('a ticket makes a privileged task, once; unknown tickets are refused', async () => {
    const ticket = kernel.ticket({ name: 'pager', privileged: true });
    const t = await task('ignored', { ticket });
    expect(t.info.name).toBe('pager');
    expect(t.hostPriv).not.toBeNull();
    await expect(task('again', { ticket })).rejects.toMatchObject({ code: 'refused' });
    await expect(task('forged', { ticket: 'f'.repeat(48) })).rejects.toMatchObject({ code: 'refused' });
  });

  it('task names are bounded', async () => {
    expect(await refused({ authorization: `Bearer ${kernel.token}`, 'x-tsmach-task': 'x'.repeat(300) })).toBe(400);
  });
});

describe('traps and rights between tasks', () => {
  it('an RPC through a port found with the name service, and mach_reply_port', async () => {
    const a = await task('server');
    const b = await task('client');
    const port = await service(a, 'svc');
    const { port_id } = await netname_look_up(b.bootstrap!, '', 'svc');
    const reply = await (b.transport as WebSocketTransport).mach_reply_port();
    const sent = b.mach_msg(null_request(port_id!.name, reply), MACH_SEND_MSG | MACH_RCV_MSG, reply, 0);
    const req = await a.mach_msg(null, MACH_RCV_MSG, port, 0) as MachMessage;
    expect(req.header.id).toBe(1000);
    expect(req.body[0]!.data).toBe(42);
    const answer: MachMessage = {
      header: { bits: MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0) | 0x80000000, size: 60, remotePort: req.header.remotePort, localPort: 0, seqno: 0, id: 1100 },
      body: [
        { type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: 0 },
        { type: { name: 9, size: 8, number: 3, inline: false, longform: true, deallocate: false }, data: new Uint8Array([7, 8, 9]) },
      ],
    };
    expect(await a.mach_msg(answer, MACH_SEND_MSG, 0, 0)).toBe(MACH_MSG_SUCCESS);
    const got = await sent as MachMessage;
    expect(got.header.id).toBe(1100);
    const ool = got.body[1]!.data as Uint8Array;
    expect(Array.from(ool)).toEqual([7, 8, 9]);
    expect(got.body[1]!.type.inline).toBe(false);
    // the region is in b's map now, where the kernel says
    const address = vm_ool_address(ool)!;
    expect((await vm_read(b.self, address, 3)).data.slice(0, 3)).toEqual(new Uint8Array([7, 8, 9]));
    await vm_deallocate(b.self, address, 3);
  });

  it('out-of-line regions by address: from the sender\'s map into the receiver\'s', async () => {
    const a = await task('a');
    const b = await task('b');
    const port = await service(b, 'inbox');
    const { port_id } = await netname_look_up(a.bootstrap!, '', 'inbox');
    const { address: src } = await vm_allocate(a.self, 0, 8192, true);
    const bytes = new Uint8Array(8192).map((_, i) => (i * 7) & 0xff);
    await vm_write(a.self, src, bytes);
    const m: MachMessage = {
      header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | 0x80000000) >>> 0, size: 52, remotePort: port_id!.name, localPort: 0, seqno: 0, id: 77 },
      body: [{ type: { name: 9, size: 8, number: 8192, inline: false, longform: true, deallocate: true }, data: vm_ool_region(src, 8192) }],
    };
    expect(await a.mach_msg(m, MACH_SEND_MSG, 0, 0)).toBe(MACH_MSG_SUCCESS);
    // deallocate: the range left a's map
    await expect(vm_read(a.self, src, 4096)).rejects.toBeInstanceOf(MachError);
    const r = await b.mach_msg(null, MACH_RCV_MSG, port, 0) as MachMessage;
    const data = r.body[0]!.data as Uint8Array;
    expect(data).toHaveLength(8192);
    expect(Buffer.from(data).equals(Buffer.from(bytes))).toBe(true);
    const at = vm_ool_address(data)!;
    expect(Buffer.from((await vm_read(b.self, at, 8192)).data).equals(Buffer.from(bytes))).toBe(true);
    await vm_deallocate(b.self, at, 8192);
  });

  it('send errors come back as codes; an untouched message is the caller\'s own', async () => {
    const a = await task('a');
    const m = null_request(0x12345);
    const r = await a.transport.mach_msg(m, MACH_SEND_MSG, 0, 0, 0, 0);
    expect(r.mr).toBe(MACH_SEND_INVALID_DEST);
    expect(r.msg).toBe(m);
    const bad = null_request(a.info.task_self);
    bad.header.size = 44; // does not match the body
    expect((await a.transport.mach_msg(bad, MACH_SEND_MSG, 0, 0, 0, 0)).mr).toBe(MACH_SEND_INVALID_DATA);
  });

  it('receive with a timeout', async () => {
    const a = await task('a');
    const { name } = await mach_port_allocate(a.self, MACH_PORT_RIGHT_RECEIVE);
    const t0 = Date.now();
    expect(await a.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, name, 50)).toBe(MACH_RCV_TIMED_OUT);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('closing a connection ends its task: dead-name notification, counts back', async () => {
    const watcher = await task('watcher');
    await mach_port_names(watcher.self); // its MIG reply port exists from now on
    const before = kernel.stats();
    const victim = await task('victim');
    await service(victim, 'victim');
    const { port_id } = await netname_look_up(watcher.bootstrap!, '', 'victim');
    const { name: notify } = await mach_port_allocate(watcher.self, MACH_PORT_RIGHT_RECEIVE);
    await mach_port_request_notification(watcher.self, port_id!.name, MACH_NOTIFY_DEAD_NAME, 0, watcher.port(notify), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    victim.terminate();
    const n = await watcher.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, notify, 2000) as MachMessage;
    expect(n.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
    expect(n.body[0]!.data).toBe(port_id!.name);
    await until(() => kernel.kernel.tasks.size === 1);
    // the dead name: one uref from the right, one from the notification
    await mach_port_deallocate(watcher.self, port_id!.name);
    await mach_port_deallocate(watcher.self, port_id!.name);
    const { mach_port_mod_refs } = await import('../../../src/gen/mach_port.user.js');
    await mach_port_mod_refs(watcher.self, notify, MACH_PORT_RIGHT_RECEIVE, -1);
    const after = kernel.stats();
    expect({ ...after, heapUsed: 0, rss: 0 }).toEqual({ ...before, heapUsed: 0, rss: 0 });
  });
});

describe('the end of a connection', () => {
  it('a task closing itself: its waiting receive ends MACH_RCV_INTERRUPTED', async () => {
    const a = await task('a');
    const { name } = await mach_port_allocate(a.self, MACH_PORT_RIGHT_RECEIVE);
    const waiting = a.mach_msg(null, MACH_RCV_MSG, name, 0);
    a.terminate();
    expect(await waiting).toBe(MACH_RCV_INTERRUPTED);
    await expect(Promise.resolve(a.mach_msg(null, MACH_RCV_MSG, name, 0))).rejects.toBeInstanceOf(WireError);
  });

  it('task_terminate by another task closes the connection (4000); calls reject "terminated"', async () => {
    const a = await task('a');
    const b = await task('b');
    const { name } = await mach_port_allocate(a.self, MACH_PORT_RIGHT_RECEIVE);
    const waiting = Promise.resolve(a.mach_msg(null, MACH_RCV_MSG, name, 0));
    // b gets a's task port through the name service
    await netname_check_in(a.bootstrap!, 'a-task', a.self, a.self);
    const { port_id } = await netname_look_up(b.bootstrap!, '', 'a-task');
    await task_terminate(port_id!);
    const r = await Promise.race([waiting.then((v) => ({ v }), (e: unknown) => ({ e })), new Promise((r) => setTimeout(() => r('hung'), 2000))]);
    // The kernel interrupted the receive and closed: either answer is an ending, never a hang.
    expect(r).not.toBe('hung');
    expect(await (a.transport as WebSocketTransport).closed).toMatch(/terminated the task/);
  });

  it('the kernel going away rejects every pending call with a clear error at once', async () => {
    const a = await task('a');
    const { name } = await mach_port_allocate(a.self, MACH_PORT_RIGHT_RECEIVE);
    const waiting = Promise.resolve(a.mach_msg(null, MACH_RCV_MSG, name, 0));
    const t0 = Date.now();
    await kernel.close();
    await expect(waiting).rejects.toMatchObject({ code: 'kernel-lost' });
    await expect(waiting).rejects.toThrow(/connection to the kernel lost/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('bad frames', () => {
  it('a frame naming a call gets an error answer; the connection and other tasks go on', async () => {
    const other = await task('other');
    const { ws, frames } = await raw();
    expect((frames[0] as { op: number }).op).toBe(OP_WELCOME);
    ws.send(encode([OP_MSG, 77, [1, 2, 3], MACH_SEND_MSG, 0, 0, 0, 0]));
    ws.send(encodeMsgCall(78, null_request(0x999), MACH_SEND_MSG, 0, 0, 0, 0));
    await until(() => frames.length === 3);
    expect(frames[1]).toMatchObject({ op: OP_ERROR, call: 77, code: 'bad-message' });
    expect(frames[2]).toMatchObject({ op: OP_RET, call: 78, mr: MACH_SEND_INVALID_DEST });
    expect(await mach_port_names(other.self)).toBeTruthy();
    ws.close();
  });

  it('garbage closes that one connection (1007) and ends its task', async () => {
    const other = await task('other');
    const { ws, closed } = await raw();
    await until(() => kernel.kernel.tasks.size === 2);
    ws.send(Buffer.from([0xc1, 0xc1]));
    expect((await closed)[0]).toBe(CLOSE_INVALID);
    await until(() => kernel.kernel.tasks.size === 1);
    expect(await mach_port_names(other.self)).toBeTruthy();
  });

  it('text frames close the connection', async () => {
    const { ws, closed } = await raw();
    ws.send('hello');
    expect((await closed)[0]).toBe(1003);
  });

  it('frames over maxFrameBytes are refused (1009) from their header alone', async () => {
    const { ws, closed } = await raw();
    // A frame header announcing 2^40 bytes, masked, and no payload at all.
    const header = Buffer.from([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    (ws as unknown as { _socket: import('node:net').Socket })._socket.write(header);
    const [code] = await closed;
    expect(code).toBe(CLOSE_TOO_BIG);
    await until(() => kernel.kernel.tasks.size === 0);
  });

  it('too many waiting calls are refused per call', async () => {
    await kernel.close();
    kernel = await KernelServer.listen({ limits: { maxPendingCalls: 3 } });
    const a = await task('a');
    const { name } = await mach_port_allocate(a.self, MACH_PORT_RIGHT_RECEIVE);
    const waits = [0, 1, 2].map(() => Promise.resolve(a.mach_msg(null, MACH_RCV_MSG, name, 0)));
    await expect(Promise.resolve(a.mach_msg(null, MACH_RCV_MSG, name, 0))).rejects.toMatchObject({ code: 'too-many-calls' });
    a.terminate();
    for (const w of waits) expect(await w).toBe(MACH_RCV_INTERRUPTED);
  });
});
