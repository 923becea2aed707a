/*
 * File: test/conformance/ipc/helpers.ts
 * Purpose: what every IPC conformance case shares: the world it runs in (one describe
 *          block per world of WORLDS), the leak check around each case, message builders
 *          over raw mach_msg, servers, a notification inbox, and the ipctest stubs
 *          (test/conformance/ipc/ipctest.defs generated into test/.gen/ipc/).
 *
 * The leak check (useWorld): every task a case creates is recorded with its space's
 * counts at creation. When the case ends, each task still alive must hold exactly what it
 * started with — plus the reply ports its runtime keeps for reuse (a receive right each,
 * task.cachedReplyPorts), and with its bootstrap right turned into a dead name if that
 * port died — with no mach_msg call left waiting. Then every task of the case
 * is terminated, and the kernel-wide counts (ports, port sets, kernel messages) and the
 * spaces of tasks older than the case must be back where they were before it.
 */

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateFile } from '../../../codegen/tsmig.js';
import { kernReturnName, MachError, MACH_MSG_SUCCESS } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_INTEGER_32, MACH_MSG_TYPE_PORT_ANY, MACH_MSG_TYPE_STRING,
  MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT, type MachMessage, type MachMsgItem, type MachMsgType,
} from '../../../src/mach/message.js';
import { msgSize, type MachPort, type MigDemux, type MigResult } from '../../../src/mach/mig.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import { mach_port_allocate, mach_port_destroy } from '../../../src/gen/mach_port.user.js';
import { notify_server } from '../../../src/gen/notify.server.js';
import { mach_msg_server, type ServerOptions } from '../../../src/runtime/server.js';
import type { MachTask } from '../../../src/runtime/task.js';
import { WORLDS, type CreateTaskOptions, type IpcWorld, type SpaceStats, type WorldFactory, type WorldStats } from './world.js';

// ==== worlds and the leak check =====================================================

/** What a case gets: its world, and tasks that are leak-checked and end with the case. */
export interface Ctx {
  readonly world: IpcWorld;
  /** The world factory's name (known when cases are registered, unlike the world). */
  readonly worldName: string;
  /** A task of this case (terminated when the case ends). */
  task(name: string, opts?: CreateTaskOptions): Promise<MachTask>;
  /** Let messages and notifications in flight arrive. */
  settle(): Promise<void>;
  /** The space of a live task. */
  space(task: MachTask): Promise<SpaceStats>;
}

/** Runs `body` once per world of WORLDS, each in its own describe block. */
export function describeWorlds(title: string, body: (ctx: Ctx) => void, worlds: readonly WorldFactory[] = WORLDS): void {
  for (const factory of worlds) {
    describe(`${title} [${factory.name}]`, () => {
      body(useWorld(factory));
    });
  }
}

/** Installs the world (per describe block) and the per-case leak check. */
export function useWorld(factory: WorldFactory): Ctx {
  let world: IpcWorld | null = null;
  let tracked: Array<{ task: MachTask; base: SpaceStats }> = [];
  let before: WorldStats;

  const w = (): IpcWorld => {
    if (world === null) throw new Error('no world yet');
    return world;
  };
  const ctx: Ctx = {
    get world() { return w(); },
    worldName: factory.name,
    async task(name, opts) {
      const task = guardAfterDeath(await w().createTask(name, opts));
      const base = (await w().stats()).spaces[task.info.id];
      if (base === undefined) throw new Error(`world has no space for new task ${name}`);
      tracked.push({ task, base });
      return task;
    },
    settle: () => w().settle(),
    async space(task) {
      const s = (await w().stats()).spaces[task.info.id];
      if (s === undefined) throw new Error(`task ${task.name} is not alive`);
      return s;
    },
  };

  beforeAll(async () => {
    world = await factory();
  });
  afterAll(async () => {
    await world?.close();
    world = null;
  });
  beforeEach(async () => {
    tracked = [];
    before = await w().stats();
  });
  afterEach(async (context) => {
    const failed = (context.task.result?.errors?.length ?? 0) > 0;
    const cases = tracked;
    tracked = [];
    try {
      await w().settle();
      if (!failed) {
        const now = await w().stats();
        for (const { task, base } of cases) {
          const cur = now.spaces[task.info.id];
          if (cur === undefined) continue; // terminated by the case
          const c = task.cachedReplyPorts;
          // The one right a task starts with whose port may die during the case is its
          // bootstrap port: it is then a dead name (with the same single uref).
          const k = task.bootstrap !== null && cur.deadName === base.deadName + 1 && cur.send === base.send - 1 ? 1 : 0;
          expect(cur, `space of ${task.name} at the end of the case (${c} cached reply ports${k ? ', bootstrap port dead' : ''})`)
            .toEqual({ ...base, names: base.names + c, receive: base.receive + c, send: base.send - k, deadName: base.deadName + k, threads: 0 });
        }
      }
    } finally {
      for (const { task } of cases) task.terminate();
      await w().settle();
    }
    if (failed) return;
    const after = await w().stats();
    expect({ ports: after.ports, portSets: after.portSets, kmsgs: after.kmsgs }, 'kernel-wide counts after the case')
      .toEqual({ ports: before.ports, portSets: before.portSets, kmsgs: before.kmsgs });
    expect(after.spaces, 'spaces of tasks older than the case').toEqual(before.spaces);
  });
  return ctx;
}

/**
 * `it.fails` in the worlds where a known bug shows, `it` elsewhere: a case that documents
 * a tsmach bug (GNU Mach's behaviour, which tsmach does not have yet) stays green where
 * the bug is, and must pass where it is not.
 */
export function itUnlessBug(ctx: Ctx, buggyWorlds: readonly string[]): typeof it | typeof it.fails {
  return buggyWorlds.includes(ctx.worldName) ? it.fails : it;
}

// ==== a guard for a runtime bug =====================================================

const postMortem = new WeakMap<MachTask, { calls: number }>();
/** The most mach_msg calls a dead task's runtime may make before the guard stops them. */
export const POST_MORTEM_LIMIT = 200;

/**
 * The mach_msg calls a task's runtime made after the task ended (see guardAfterDeath).
 */
export function postMortemCalls(task: MachTask): number {
  return postMortem.get(task)?.calls ?? 0;
}

/**
 * Works around a runtime bug so that one failing case cannot hang the whole suite: once a
 * task has ended, the in-memory transport still runs its traps, and
 * MachTask.mig_dealloc_reply_port sends mach_port_mod_refs for the failed reply port; that
 * RPC fails too (the space is dead, mach_reply_port gives MACH_PORT_NULL), so the runtime
 * calls mig_dealloc_reply_port(MACH_PORT_NULL), which sends another one — for ever, in
 * microtasks, starving the event loop (see runtime.test.ts). The guard counts a dead task's
 * calls and, past POST_MORTEM_LIMIT, leaves them pending for ever instead of failing,
 * which ends the chain.
 */
export function guardAfterDeath(task: MachTask): MachTask {
  const count = { calls: 0 };
  postMortem.set(task, count);
  let dead = false;
  void task.transport.closed.then(() => { dead = true; });
  const mach_msg = task.mach_msg.bind(task);
  task.mach_msg = (msg, option, rcvName, timeout) => {
    if (dead && ++count.calls > POST_MORTEM_LIMIT) return new Promise<never>(() => undefined);
    return mach_msg(msg, option, rcvName, timeout);
  };
  return task;
}

// ==== codes =========================================================================

/** A mach_msg result that must be the code `code` (compared by Mach name). */
export function expectCode(r: MachMessage | number, code: number): void {
  expect(typeof r === 'number' ? kernReturnName(r) : `a message (id ${r.header.id})`).toBe(kernReturnName(code));
}

/** A mach_msg result that must be a message. */
export function expectMsg(r: MachMessage | number): MachMessage {
  if (typeof r === 'number') throw new Error(`expected a message, got ${kernReturnName(r)}`);
  return r;
}

/** A stub call that must throw MachError(code). */
export async function expectMachError(p: Promise<unknown>, code: number): Promise<MachError> {
  const e = await p.then(() => null, (x: unknown) => x);
  if (!(e instanceof MachError)) throw new Error(`expected MachError ${kernReturnName(code)}, got ${e === null ? 'success' : String(e)}`);
  expect(e.kernName).toBe(kernReturnName(code));
  expect(e.code).toBe(code);
  return e;
}

/**
 * A call started now and checked later: it may fail before anyone awaits it (under load),
 * which must not count as an unhandled rejection. The returned promise still rejects.
 */
export function inFlight<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** A promise that must still be pending once the world has settled. */
export async function expectPending(ctx: Ctx, p: Promise<unknown>): Promise<void> {
  const marker = Symbol('pending');
  await ctx.settle();
  const r = await Promise.race([p, Promise.resolve(marker)]);
  expect(r === marker ? 'pending' : 'settled').toBe('pending');
}

/** Rejects after `ms` (so a lost message fails the case quickly, not after the suite timeout). */
export function within<T>(p: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ==== messages ======================================================================

export function typeOf(name: number, size = 32, number = 1, inline = true, longform = false, deallocate = false): MachMsgType {
  return { name, size, number, inline, longform, deallocate };
}

export function intItem(value: number): MachMsgItem {
  return { type: typeOf(MACH_MSG_TYPE_INTEGER_32), data: value };
}

export function intsItem(values: number[]): MachMsgItem {
  return { type: typeOf(MACH_MSG_TYPE_INTEGER_32, 32, values.length), data: values };
}

export function portItem(name: number, disposition: number): MachMsgItem {
  return { type: typeOf(disposition), data: name };
}

export function portsItem(names: number[], disposition: number, inline = true): MachMsgItem {
  return { type: typeOf(disposition, 32, names.length, inline, !inline || names.length > 0xfff), data: names };
}

export function bytesItem(bytes: Uint8Array, inline = true): MachMsgItem {
  return { type: typeOf(9, 8, bytes.length, inline, true), data: bytes };
}

export function stringItem(s: string, bytes = 64): MachMsgItem {
  return { type: typeOf(MACH_MSG_TYPE_STRING, bytes * 8, 1, true, true), data: s };
}

/** A message: complex when a body item is a port or out of line; msgh_size as laid out. */
export function message(dest: number, destType: number, reply = 0, replyType = 0, id = 1000, body: MachMsgItem[] = []): MachMessage {
  const complex = body.some((i) => MACH_MSG_TYPE_PORT_ANY(i.type.name) || !i.type.inline);
  return {
    header: {
      bits: (MACH_MSGH_BITS(destType, replyType) | (complex ? MACH_MSGH_BITS_COMPLEX : 0)) >>> 0,
      size: msgSize(body), remotePort: dest, localPort: reply, seqno: 0, id,
    },
    body,
  };
}

/** mach_msg(MACH_SEND_MSG | option): MACH_MSG_SUCCESS, an error, or a message given back. */
export async function send(task: MachTask, msg: MachMessage, option = 0, timeout = 0): Promise<MachMessage | number> {
  return task.mach_msg(msg, MACH_SEND_MSG | option, 0, timeout);
}

/** mach_msg(MACH_RCV_MSG), with MACH_RCV_TIMEOUT when `timeout` is given (0 polls). */
export async function receive(task: MachTask, name: number, timeout?: number): Promise<MachMessage | number> {
  return task.mach_msg(null, MACH_RCV_MSG | (timeout === undefined ? 0 : MACH_RCV_TIMEOUT), name, timeout ?? 0);
}

/** Sends and expects MACH_MSG_SUCCESS. */
export async function sendOk(task: MachTask, msg: MachMessage, option = 0, timeout = 0): Promise<void> {
  expectCode(await send(task, msg, option, timeout), MACH_MSG_SUCCESS);
}

/** Polls (MACH_RCV_TIMEOUT 0) and expects a message. */
export async function poll(task: MachTask, name: number): Promise<MachMessage> {
  return expectMsg(await receive(task, name, 0));
}

/** mach_msg with MACH_SEND_TIMEOUT 0 (never waits for room). */
export const SEND_POLL = MACH_SEND_TIMEOUT;

// ==== rights ========================================================================

/** A new receive right in `task`. */
export async function allocReceive(task: MachTask): Promise<number> {
  return (await mach_port_allocate(task.self, MACH_PORT_RIGHT_RECEIVE)).name;
}

/**
 * A server task with a receive right and a client task whose bootstrap port is a send
 * right to it (made by the world, as a parent sets a child's bootstrap port).
 */
export async function serverAndClient(ctx: Ctx, names: [string, string] = ['server', 'client']): Promise<{ server: MachTask; port: number; client: MachTask; send: MachPort }> {
  const server = await ctx.task(names[0]);
  const port = await allocReceive(server);
  const client = await ctx.task(names[1], { bootstrapFrom: { task: server, name: port } });
  return { server, port, client, send: client.bootstrap! };
}

// ==== servers =======================================================================

export interface Served {
  /** resolves with the mach_msg code that ended the loop */
  readonly done: Promise<number>;
  /** destroys the port (or set) the loop serves and waits for the loop to end */
  stop(): Promise<number>;
}

/** mach_msg_server on `name` (a receive right or a port set) of `task`. */
export function serve(task: MachTask, demuxes: readonly MigDemux[], name: number, options?: ServerOptions): Served {
  const done = mach_msg_server(task, demuxes, task.port(name), options);
  return {
    done,
    async stop() {
      await mach_port_destroy(task.self, name);
      return within(done, 'the server loop to end');
    },
  };
}

/** A notification as the notify demux handed it to its work function. */
export type Notification =
  | { kind: 'port_deleted'; port: number; name: number }
  | { kind: 'msg_accepted'; port: number; name: number }
  | { kind: 'port_destroyed'; port: number; rights: number }
  | { kind: 'no_senders'; port: number; mscount: number }
  | { kind: 'send_once'; port: number }
  | { kind: 'dead_name'; port: number; name: number };

/**
 * A receive right of `task` served by the generated notify demux: every notification is
 * recorded; `next()` waits for the next one. A port-destroyed notification's receive right
 * stays with the task (the case decides what to do with it).
 */
export interface Inbox {
  readonly port: number;
  readonly received: Notification[];
  next(what?: string): Promise<Notification>;
  stop(): Promise<number>;
}

export async function notifyInbox(task: MachTask, extra: readonly MigDemux[] = []): Promise<Inbox> {
  const port = await allocReceive(task);
  const received: Notification[] = [];
  let read = 0;
  let waiter: (() => void) | null = null;
  const push = (n: Notification): MigResult<void> => {
    received.push(n);
    const w = waiter;
    waiter = null;
    w?.();
    return 0;
  };
  const demux = notify_server({
    mach_notify_port_deleted: (p, name) => push({ kind: 'port_deleted', port: p.name, name }),
    mach_notify_msg_accepted: (p, name) => push({ kind: 'msg_accepted', port: p.name, name }),
    mach_notify_port_destroyed: (p, rights) => push({ kind: 'port_destroyed', port: p.name, rights: rights?.name ?? 0 }),
    mach_notify_no_senders: (p, mscount) => push({ kind: 'no_senders', port: p.name, mscount }),
    mach_notify_send_once: (p) => push({ kind: 'send_once', port: p.name }),
    mach_notify_dead_name: (p, name) => push({ kind: 'dead_name', port: p.name, name }),
  });
  const served = serve(task, [demux, ...extra], port);
  return {
    port,
    received,
    async next(what = 'a notification') {
      while (read >= received.length) await within(new Promise<void>((r) => { waiter = r; }), what);
      return received[read++]!;
    },
    stop: () => served.stop(),
  };
}

// ==== the ipctest interface (test/conformance/ipc/ipctest.defs) ======================

export interface IpcTestUser {
  ipctest_null(server: MachPort, x: number): Promise<{ y: number }>;
  ipctest_oneway(server: MachPort, x: number): Promise<void>;
  ipctest_give(server: MachPort, right: MachPort | null, rightPoly: number): Promise<{ rtype: number }>;
  ipctest_take(server: MachPort, which: number): Promise<{ right: MachPort | null; rightPoly: number }>;
  ipctest_seqno(server: MachPort): Promise<{ got: number }>;
  ipctest_deferred(server: MachPort, x: number): Promise<{ y: number }>;
}

export interface IpcTestRoutines {
  ipctest_null(server: MachPort, x: number): MigResult<{ y: number }> | void;
  ipctest_oneway(server: MachPort, x: number): MigResult<void> | void;
  ipctest_give(server: MachPort, right: MachPort | null, rightPoly: number): MigResult<{ rtype: number }> | void;
  ipctest_take(server: MachPort, which: number): MigResult<{ right: MachPort | null; rightPoly: number }> | void;
  ipctest_seqno(server: MachPort, seqno: number): MigResult<{ got: number }> | void;
  ipctest_deferred(server: MachPort, reply: MachPort | null, replyPoly: number, x: number): MigResult<{ y: number }> | void;
}

export interface IpcTest extends IpcTestUser {
  ipctest_server(impl: Partial<IpcTestRoutines>): MigDemux;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
let ipctestModule: Promise<IpcTest> | null = null;

/** The ipctest stubs, generated by tsmig on first use (written atomically: files run in parallel). */
export function ipctest(): Promise<IpcTest> {
  ipctestModule ??= (async () => {
    const out = join(ROOT, 'test', '.gen', 'ipc');
    mkdirSync(out, { recursive: true });
    const gen = await generateFile(join(HERE, 'ipctest.defs'), {
      includeDirs: [join(ROOT, 'defs')], sourceName: 'test/conformance/ipc/ipctest.defs', runtimeImport: '../../../src/mach',
    });
    const write = (file: string, text: string): void => {
      const tmp = join(out, `.${file}.${process.pid}.${Math.random().toString(36).slice(2)}`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(out, file));
    };
    write('ipctest.user.ts', gen.user);
    write('ipctest.server.ts', gen.server);
    const user = await import(pathToFileURL(join(out, 'ipctest.user.ts')).href) as IpcTestUser;
    const server = await import(pathToFileURL(join(out, 'ipctest.server.ts')).href) as { ipctest_server(impl: Partial<IpcTestRoutines>): MigDemux };
    return { ...user, ipctest_server: server.ipctest_server };
  })();
  return ipctestModule;
}
