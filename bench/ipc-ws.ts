/*
 * File: bench/ipc-ws.ts
 * Purpose: null RPCs between two task processes through the kernel process, against the
 *          physical limit measured in the same run: raw ws + msgpackr with a relay process
 *          in the middle that decodes each frame, looks the destination up in a table
 *          and re-encodes it (client → relay → server → relay → client), with frames of
 *          the same size as tsmach's.
 *
 * Run: npx tsx bench/ipc-ws.ts            (add --quick for a short run, --profile to write
 *                                          CPU profiles of the three tsmach processes to /tmp)
 *
 * Each system is three processes (client, kernel or relay, server) on this machine:
 *   - tsmach, glibc loop: the server runs glibc's classic loop by hand (one mach_msg that
 *     sends the reply and receives the next request), the client calls a MIG-style
 *     mig_rpc (send + receive in one mach_msg): two frames each way per RPC, as the relay.
 *   - tsmach, mach_msg_server: the server runs src/runtime/server.ts's mach_msg_server
 *     (a receive, then a separate reply send), the client the same mig_rpc: what a
 *     tsmig-generated server does today.
 *   - relay: the baseline; the client's frame is tsmach's own mach_msg frame for the
 *     request, the relay validates it with the same decoder the kernel uses, finds the
 *     server by the destination port in a Map and sends it the message in the kernel's
 *     answer frame; the server answers the same way.
 * Figures: sequential round trips/s and p50/p99 latency (one call in flight), then
 * pipelined throughput with 16 and 256 calls in flight. Goal: tsmach ≥ 70% of the
 * relay's sequential round trips/s.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { KernelServer } from '../src/kern/server.js';
import { connect } from '../src/transport/websocket.js';
import { mach_port_allocate, mach_port_insert_right } from '../src/gen/mach_port.user.js';
import { netname_check_in, netname_look_up } from '../src/gen/netname.user.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../src/mach/port.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE,
  MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_RCV_MSG, MACH_SEND_MSG, type MachMessage,
} from '../src/mach/message.js';
import { mig_reply, mig_rpc, type MigDemux } from '../src/mach/mig.js';
import { mach_msg_server } from '../src/runtime/server.js';
import type { MachTask } from '../src/runtime/task.js';
import { decodeAnswer, decodeCall, encodeMsgCall, encodeRet, OP_MSG, OP_RET } from '../src/wire/codec.js';

const SELF = fileURLToPath(import.meta.url);
const QUICK = process.argv.includes('--quick');
const PROFILE = process.argv.includes('--profile');
const SEQ_CALLS = QUICK ? 3000 : 20000;
const PIPE_CALLS = QUICK ? 10000 : 60000;
const WARMUP = QUICK ? 1000 : 5000;
const NULL_ID = 1000;
const REPS = QUICK ? 1 : 3;

// ==== a null RPC ==================================================================

/** The request: one 32-bit integer, as a MIG routine with one in argument. */
function request(dest: number): { header: MachMessage['header']; body: MachMessage['body'] } {
  return {
    header: { bits: MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE), size: 40, remotePort: dest, localPort: 0, seqno: 0, id: NULL_ID },
    body: [{ type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: 7 }],
  };
}

/** The reply MIG's server sends: RetCode only. */
function reply(req: MachMessage): MachMessage {
  return mig_reply(req, 0);
}

const nullDemux: MigDemux = Object.assign((req: MachMessage) => reply(req), {
  subsystem: 'null', base: NULL_ID, total: 1,
  routine: (id: number) => (id === NULL_ID ? { name: 'null', id, oneway: false } : undefined),
});

interface Figures {
  seq: { rtps: number; p50: number; p99: number };
  p16: number;
  p256: number;
  /** CPU time per RPC over the whole run (µs): client, middle (kernel or relay), server */
  cpu?: { client: number; middle: number; server: number };
  /** RPCs the client made in all (warm-up included) */
  calls?: number;
}

/** Runs the phases with `rpc` (one call, resolves when answered). */
async function measure(rpc: () => Promise<unknown>): Promise<Figures> {
  for (let i = 0; i < WARMUP; i++) await rpc();
  const lat = new Float64Array(SEQ_CALLS);
  const t0 = performance.now();
  for (let i = 0; i < SEQ_CALLS; i++) {
    const s = performance.now();
    await rpc();
    lat[i] = performance.now() - s;
  }
  const seqMs = performance.now() - t0;
  lat.sort();
  const piped = async (inflight: number): Promise<number> => {
    const per = Math.ceil(PIPE_CALLS / inflight);
    const t = performance.now();
    await Promise.all(Array.from({ length: inflight }, async () => { for (let i = 0; i < per; i++) await rpc(); }));
    return (per * inflight) / ((performance.now() - t) / 1000);
  };
  await piped(16); // warm the pipelined paths
  const p16 = await piped(16);
  const p256 = await piped(256);
  const per = (n: number): number => Math.ceil(PIPE_CALLS / n) * n;
  return {
    seq: { rtps: SEQ_CALLS / (seqMs / 1000), p50: lat[Math.floor(SEQ_CALLS * 0.5)]! * 1000, p99: lat[Math.floor(SEQ_CALLS * 0.99)]! * 1000 },
    p16, p256, calls: WARMUP + SEQ_CALLS + 2 * per(16) + per(256),
  };
}

// ==== roles (child processes) ======================================================

/** This process's CPU time so far (µs). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Another process's CPU time so far (µs), from /proc. */
function procCpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) / 100) * 1e6; // utime + stime, clock ticks (USER_HZ 100)
}

function say(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

let session: Session | null = null;

/** With --profile, this process records a CPU profile until it ends. */
async function startProfile(): Promise<void> {
  if (!PROFILE) return;
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}

/** Writes /tmp/tsmach-<role>.cpuprofile and exits. */
async function exitProfiled(role: string): Promise<never> {
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`/tmp/tsmach-${role}.cpuprofile`, JSON.stringify(profile));
  }
  process.exit(0);
}

async function roleKernel(): Promise<void> {
  const k = await KernelServer.listen();
  await startProfile();
  say({ url: k.url, token: k.token });
  process.on('SIGTERM', () => void exitProfiled('kernel'));
}

async function roleServer(url: string, token: string, style: string): Promise<void> {
  const task = await connect({ url, token, name: 'bench-server' });
  const { name: port } = await mach_port_allocate(task.self, MACH_PORT_RIGHT_RECEIVE);
  await mach_port_insert_right(task.self, port, task.port(port), MACH_MSG_TYPE_MAKE_SEND);
  await netname_check_in(task.bootstrap!, 'bench', task.self, task.port(port));
  await startProfile();
  process.on('SIGTERM', () => void exitProfiled('server'));
  say({ ready: true });
  if (style === 'server') {
    await mach_msg_server(task, [nullDemux], task.port(port), { concurrency: 256 });
    return;
  }
  // glibc's mach_msg_server: one mach_msg sends the reply and receives the next request.
  // Several such loops stand for several server threads: as many as calls in flight, so
  // that requests meet a waiting receiver rather than the queue's limit.
  const loop = async (): Promise<void> => {
    let r = await task.mach_msg(null, MACH_RCV_MSG, port, 0);
    for (;;) {
      if (typeof r === 'number') return;
      const rep = reply(r);
      r = await task.mach_msg(rep, MACH_SEND_MSG | MACH_RCV_MSG, port, 0);
    }
  };
  await Promise.all(Array.from({ length: 256 }, loop));
}

async function roleClient(url: string, token: string): Promise<void> {
  const task: MachTask = await connect({ url, token, name: 'bench-client' });
  const { port_id } = await netname_look_up(task.bootstrap!, '', 'bench');
  const dest = port_id!.name;
  const rpc = (): Promise<MachMessage> => { const q = request(dest); return mig_rpc(task, q.header, q.body, 0, 0); };
  await startProfile();
  const f = await measure(rpc);
  say({ ...f, clientCpu: cpuMicros() });
  await exitProfiled('client');
}

// ---- the relay baseline -----------------------------------------------------------

/** Frames of one turn leave in one write, as tsmach's transport does. */
function corker(socket: Socket): (ws: WebSocket, buf: Buffer) => void {
  let corked = false;
  const uncork = (): void => { corked = false; socket.uncork(); };
  return (ws, buf) => {
    if (!corked) { corked = true; socket.cork(); setImmediate(uncork); }
    ws.send(buf);
  };
}

async function roleRelay(): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 << 20 });
  await once(wss, 'listening');
  // destination port → who receives on it
  const table = new Map<number, { ws: WebSocket; send: (ws: WebSocket, b: Buffer) => void }>();
  wss.on('connection', (ws, req) => {
    const peer = { ws, send: corker(req.socket as Socket) };
    ws.on('message', (data: Buffer) => {
      const c = decodeCall(data);
      if (c.op !== OP_MSG || c.msg === null) return;
      if (c.msg.header.id === 0) { table.set(c.msg.header.localPort, peer); return; } // registration
      const to = table.get(c.msg.header.remotePort);
      if (to === undefined) return;
      to.send(to.ws, encodeRet(c.call, 0, c.msg, undefined, false));
    });
  });
  const addr = wss.address() as { port: number };
  say({ url: `ws://127.0.0.1:${addr.port}` });
}

async function rawConnect(url: string): Promise<{ ws: WebSocket; send: (b: Buffer) => void }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await once(ws, 'open');
  const send = corker((ws as unknown as { _socket: Socket })._socket);
  return { ws, send: (b) => send(ws, b) };
}

const register = (port: number): MachMessage => ({ header: { bits: 0, size: 32, remotePort: 0, localPort: port, seqno: 0, id: 0 }, body: [] });

async function roleRawServer(url: string): Promise<void> {
  const { ws, send } = await rawConnect(url);
  send(encodeMsgCall(0, register(1), MACH_SEND_MSG, 0, 0, 0, 0));
  ws.on('message', (data: Buffer) => {
    const a = decodeAnswer(data);
    if (a.op !== OP_RET || a.msg === null || a.msg === true) return;
    const rep = reply(a.msg);
    rep.header.bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
    rep.header.remotePort = 2;
    send(encodeMsgCall(a.call, rep, MACH_SEND_MSG | MACH_RCV_MSG, 0xffffffff, 1, 0, 0));
  });
  say({ ready: true });
}

async function roleRawClient(url: string): Promise<void> {
  const { ws, send } = await rawConnect(url);
  send(encodeMsgCall(0, register(2), MACH_SEND_MSG, 0, 0, 0, 0));
  const calls = new Map<number, (m: MachMessage) => void>();
  let next = 1;
  ws.on('message', (data: Buffer) => {
    const a = decodeAnswer(data);
    if (a.op !== OP_RET || a.msg === null || a.msg === true) return;
    const r = calls.get(a.call);
    calls.delete(a.call);
    r?.(a.msg);
  });
  const rpc = (): Promise<MachMessage> => {
    const call = next++;
    const q = request(1);
    q.header.localPort = 2;
    send(encodeMsgCall(call, q as MachMessage, MACH_SEND_MSG | MACH_RCV_MSG, 0xffffffff, 2, 0, 0));
    return new Promise((resolve) => calls.set(call, resolve));
  };
  const f = await measure(rpc);
  say({ ...f, clientCpu: cpuMicros() });
  process.exit(0);
}

// ==== the parent ====================================================================

function child(args: string[]): { proc: ChildProcess; next: () => Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return {
    proc,
    next: async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`bench child ${args.join(' ')} ended`);
      return JSON.parse(r.value as string) as Record<string, unknown>;
    },
  };
}

/** The client's figures with the CPU time per RPC of the three processes. */
function withCpu(line: Record<string, unknown>, middle: number, server: number): Figures {
  const f = line as unknown as Figures & { clientCpu: number };
  const n = f.calls!;
  f.cpu = { client: f.clientCpu / n, middle: procCpuMicros(middle) / n, server: procCpuMicros(server) / n };
  return f;
}

async function runTsmach(style: 'glibc' | 'server'): Promise<Figures> {
  const prof = PROFILE && style === 'glibc' ? ['--profile'] : [];
  const k = child(['--role', 'kernel', ...prof]);
  const { url, token } = await k.next() as { url: string; token: string };
  const s = child(['--role', 'server', url, token, style, ...prof]);
  await s.next();
  const c = child(['--role', 'client', url, token, ...prof]);
  const figures = withCpu(await c.next(), k.proc.pid!, s.proc.pid!);
  s.proc.kill('SIGTERM');
  k.proc.kill('SIGTERM');
  await Promise.all([once(k.proc, 'exit'), once(s.proc, 'exit'), c.proc.exitCode === null ? once(c.proc, 'exit') : null]);
  return figures;
}

async function runRelay(): Promise<Figures> {
  const r = child(['--role', 'relay']);
  const { url } = await r.next() as { url: string };
  const s = child(['--role', 'rserver', url]);
  await s.next();
  const c = child(['--role', 'rclient', url]);
  const figures = withCpu(await c.next(), r.proc.pid!, s.proc.pid!);
  s.proc.kill('SIGTERM');
  r.proc.kill('SIGTERM');
  return figures;
}

function row(name: string, f: Figures, base: Figures | null): string {
  const pct = (a: number, b: number | undefined): string => (b ? `${((a / b) * 100).toFixed(0)}%`.padStart(5) : '     ');
  const cpu = f.cpu ? `${f.cpu.client.toFixed(1)} + ${f.cpu.middle.toFixed(1)} + ${f.cpu.server.toFixed(1)} = ${(f.cpu.client + f.cpu.middle + f.cpu.server).toFixed(1)}` : '';
  return `${name.padEnd(28)} ${f.seq.rtps.toFixed(0).padStart(8)} ${pct(f.seq.rtps, base?.seq.rtps)}  ${f.seq.p50.toFixed(0).padStart(6)} ${f.seq.p99.toFixed(0).padStart(6)}   ${f.p16.toFixed(0).padStart(8)} ${pct(f.p16, base?.p16)}  ${f.p256.toFixed(0).padStart(8)} ${pct(f.p256, base?.p256)}   ${cpu}`;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--role');
  if (i >= 0) {
    const [role, a, b, c] = process.argv.slice(i + 1);
    switch (role) {
      case 'kernel': return roleKernel();
      case 'server': return roleServer(a!, b!, c!);
      case 'client': return roleClient(a!, b!);
      case 'relay': return roleRelay();
      case 'rserver': return roleRawServer(a!);
      case 'rclient': return roleRawClient(a!);
      default: throw new Error(`unknown role ${role}`);
    }
  }
  process.stdout.write(`null RPC, client and server processes, ${SEQ_CALLS} sequential calls, ${PIPE_CALLS} pipelined, ${REPS} interleaved runs each, medians (Node ${process.version})\n\n`);
  const runs: Record<'relay' | 'glibc' | 'server', Figures[]> = { relay: [], glibc: [], server: [] };
  for (let r = 0; r < REPS; r++) {
    runs.relay.push(await runRelay());
    runs.glibc.push(await runTsmach('glibc'));
    runs.server.push(await runTsmach('server'));
  }
  const relay = median(runs.relay);
  const glibc = median(runs.glibc);
  const server = median(runs.server);
  process.stdout.write(`${''.padEnd(28)} ${'seq rt/s'.padStart(8)} ${'%'.padStart(5)}  ${'p50µs'.padStart(6)} ${'p99µs'.padStart(6)}   ${'16 rt/s'.padStart(8)} ${'%'.padStart(5)}  ${'256 rt/s'.padStart(8)} ${'%'.padStart(5)}   CPU µs/RPC client+middle+server\n`);
  process.stdout.write(`${row('relay (raw ws + msgpackr)', relay, null)}\n`);
  process.stdout.write(`${row('tsmach, glibc loop', glibc, relay)}\n`);
  process.stdout.write(`${row('tsmach, mach_msg_server', server, relay)}\n`);
  const ratios = runs.glibc.map((g, i) => g.seq.rtps / runs.relay[i]!.seq.rtps);
  const ratio = glibc.seq.rtps / relay.seq.rtps;
  process.stdout.write(`\nsequential round trips/s, tsmach (glibc loop) / relay: ${(ratio * 100).toFixed(0)}% of the medians; per run ${ratios.map((x) => `${(x * 100).toFixed(0)}%`).join(' ')} (goal >= 70%: ${ratio >= 0.7 ? 'met' : 'NOT met'})\n`);
  if (PROFILE) process.stdout.write('CPU profiles (last glibc loop run): /tmp/tsmach-{kernel,server,client}.cpuprofile\n');
}

/** Field by field median of several runs. */
function median(fs: Figures[]): Figures {
  const m = (get: (f: Figures) => number): number => {
    const v = fs.map(get).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  return {
    seq: { rtps: m((f) => f.seq.rtps), p50: m((f) => f.seq.p50), p99: m((f) => f.seq.p99) },
    p16: m((f) => f.p16), p256: m((f) => f.p256),
    cpu: { client: m((f) => f.cpu!.client), middle: m((f) => f.cpu!.middle), server: m((f) => f.cpu!.server) },
  };
}

await main();
