/**
 * Security of the kernel process: `tsmach kernel` binds loopback and writes private files;
 * connections without the right token are refused; a frame over the size limit is refused
 * from its header; a hostile task sending 100,000 messages with random port names gets
 * only MACH_SEND_INVALID_DEST / MACH_SEND_INVALID_RIGHT and changes nothing for others;
 * host_priv and the device master reach boot servers only.
 */
import { statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MACH_SEND_INVALID_DEST, MACH_SEND_INVALID_RIGHT } from '../../src/mach/kern_return.js';
import { CLOSE_TOO_BIG, SUBPROTOCOL } from '../../src/wire/codec.js';
import { kernelStats } from '../../src/transport/websocket.js';
import type { MachTask } from '../../src/runtime/task.js';
import { cleanup, counts, observe, startKernel, startTask, waitFor, type KernelProc } from './helpers.js';

let k: KernelProc;
let obs: MachTask;

beforeAll(async () => {
  k = await startKernel(['--boot-tickets', 'pager']);
  obs = await observe(k);
});
afterAll(async () => {
  obs.terminate();
  await cleanup();
});

function status(url: string, headers: Record<string, string>): Promise<number | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, SUBPROTOCOL, { headers });
    ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve('open'); ws.close(); });
    ws.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('tsmach kernel', () => {
  it('listens on loopback only, with its token and connection files private', async () => {
    expect(k.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(k.tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(k.connectionFile).mode & 0o777).toBe(0o600);
    const port = new URL(k.url).port;
    const outside = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal);
    for (const i of outside) expect(await status(`ws://${i!.address}:${port}`, { authorization: `Bearer ${k.token}` })).toBe('ECONNREFUSED');
  });

  it('refuses a wrong or missing token', async () => {
    expect(await status(k.url, { authorization: 'Bearer 0000' })).toBe(401);
    expect(await status(k.url, {})).toBe(401);
    expect(await status(k.url, { authorization: `Bearer ${k.token}` })).toBe('open');
  });

  it('refuses a frame over the size limit from its header, without reading (or allocating) it', async () => {
    const rssBefore = (await kernelStats(obs)).rss;
    const ws = new WebSocket(k.url, SUBPROTOCOL, { headers: { authorization: `Bearer ${k.token}` } });
    await new Promise((r) => ws.once('message', r));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    // A masked binary frame announcing 1 GiB, and then nothing.
    (ws as unknown as { _socket: Socket })._socket.write(Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 9, 9, 9, 9]));
    expect(await closed).toBe(CLOSE_TOO_BIG);
    expect((await kernelStats(obs)).rss - rssBefore).toBeLessThan(64 << 20);
  });
});

describe('a hostile task', () => {
  it('100,000 random port names: only INVALID_DEST / INVALID_RIGHT, no crash, no effect on others', async () => {
    const server = startTask(k, 'serve', ['honest', 'reply', 5, 4]);
    await server.json();
    // once its four receive loops wait in the kernel
    const before = await waitFor(async () => { const c = await counts(obs); return c.pendingCalls === 4 ? c : undefined; });
    const bystander = startTask(k, 'client', ['honest', 1, 4, 1500]);
    const hostile = startTask(k, 'hostile', ['honest', 100_000]);
    const h = await hostile.json<{ codes: Record<string, number> }>(50_000);
    const b = await bystander.json<{ answered: number; wrong: number }>(50_000);
    expect(Object.keys(h.codes).sort()).toEqual([`0x${MACH_SEND_INVALID_DEST.toString(16)}`, `0x${MACH_SEND_INVALID_RIGHT.toString(16)}`].sort());
    expect(Object.values(h.codes).reduce((a, c) => a + c, 0)).toBe(100_000);
    expect(b).toMatchObject({ answered: 6000, wrong: 0 });
    await hostile.exited;
    await bystander.exited;
    // the kernel is alive and holds what it held before
    const after = await counts(obs);
    expect(after).toEqual(before);
    server.kill();
    await server.exited;
  });
});

describe('privilege', () => {
  it('host_priv and the device master reach the ticket holder only, once', async () => {
    const plain = startTask(k, 'report');
    const r = await plain.json<{ info: { host_priv: number; device_master: number; task_self: number; host_self: number; bootstrap: number }; names: number[] }>();
    expect(r.info.host_priv).toBe(0);
    expect(r.info.device_master).toBe(0);
    // every right it holds is one it was given, plus its MIG reply port
    const given = [r.info.task_self, r.info.host_self, r.info.bootstrap];
    expect(r.names.filter((n) => !given.includes(n))).toHaveLength(1);
    const ticket = k.tickets.find((t) => t.name === 'pager')!.ticket;
    const boot = startTask(k, 'report', [], { TSMACH_TICKET: ticket });
    const p = await boot.json<{ info: { name: string; host_priv: number } }>();
    expect(p.info.name).toBe('pager');
    expect(p.info.host_priv).not.toBe(0);
    const again = startTask(k, 'report', [], { TSMACH_TICKET: ticket });
    expect((await again.json<{ error: string }>()).error).toMatch(/refused the connection: 403/);
    // nor has the observer, connected with the token alone
    expect(obs.hostPriv).toBeNull();
    expect(obs.deviceMaster).toBeNull();
    plain.kill();
    boot.kill();
  });
});
