/*
 * File: transport/websocket.ts
 * Purpose: the task side of the WebSocket transport: a task in its own process, its
 *          kernel in another (docs/protocol.md). Each trap is a frame with a call number;
 *          the kernel answers each call once, in whatever order calls finish (a receive
 *          waits until a message comes; a send to a full queue until there is room).
 *
 * `connect()` is all a task program needs: it finds the kernel (options, environment, or
 * the connection file `tsmach kernel` writes), presents the token and, for a boot server,
 * its one-time ticket, and returns the MachTask generated stubs run on.
 *
 * When the connection ends — the task closed it, the kernel terminated the task, or the
 * kernel process died — every call still waiting rejects with a WireError
 * ('kernel-lost'), later calls reject at once, and `closed` settles. What the process
 * does then is the caller's choice (`onKernelLost`): carry on (the default: the socket
 * no longer holds the event loop, so a process with nothing else to do exits), exit, or
 * a function (which may connect() again: a new task, since the old kernel's ports died
 * with it).
 */

import { basename } from 'node:path';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { MACH_RCV_INTERRUPTED, MACH_SEND_INTERRUPTED } from '../mach/kern_return.js';
import { MACH_RCV_MSG, type MachMessage } from '../mach/message.js';
import { MachTask } from '../runtime/task.js';
import { defaultConnectionFile, readConnectionFile, readTokenFile } from '../kern/connfile.js';
import {
  CLOSE_NORMAL, CLOSE_TASK_TERMINATED, closeReason, decodeAnswer, encodeMsgCall, encodeSimpleCall, OP_ERROR, OP_REPLY_PORT, OP_RET, OP_STATS, OP_VALUE,
  OP_WELCOME, PROTOCOL_VERSION, SUBPROTOCOL, WireError, type KernelStats,
} from '../wire/codec.js';
import type { WireLimits } from '../wire/limits.js';
import type { TaskInfo, Transport, TrapMachMsgResult } from './transport.js';

export interface ConnectOptions {
  /** ws://host:port (else $TSMACH_KERNEL_URL, else the connection file's) */
  url?: string;
  /** the kernel's token (else read from tokenFile, $TSMACH_TOKEN_FILE, or the connection file's) */
  token?: string;
  tokenFile?: string;
  /** the connection file (else $TSMACH_CONNECTION, $XDG_RUNTIME_DIR/tsmach/kernel.json, ~/.tsmach/kernel.json) */
  connectionFile?: string;
  /** the task's name (else $TSMACH_TASK_NAME, else the script's base name) */
  name?: string;
  /** a one-time ticket (else $TSMACH_TICKET, which is then removed from the environment) */
  ticket?: string;
  /**
   * When the kernel goes away without this task having closed the connection:
   * 'ignore' (default; pending calls reject, `closed` settles), 'exit' (the process exits
   * with status 1 after a line on stderr), or a function called with the reason.
   */
  onKernelLost?: 'ignore' | 'exit' | ((reason: string) => void);
  /** give up connecting after this many ms (default 10,000) */
  timeout?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  /** the message a mach_msg call sent (an answer may say "your message, unchanged") */
  msg: MachMessage | null;
  /** mach_msg's option (undefined for other calls) */
  option: number | undefined;
}

/** Where and how to connect, from the options, the environment and the connection file. */
export function resolveConnectOptions(options: ConnectOptions = {}, env: NodeJS.ProcessEnv = process.env): {
  url: string; token: string; name: string; ticket: string | undefined;
} {
  let url = options.url ?? env.TSMACH_KERNEL_URL;
  let token = options.token;
  let tokenFile = options.tokenFile ?? env.TSMACH_TOKEN_FILE;
  if (url === undefined || (token === undefined && tokenFile === undefined)) {
    const info = readConnectionFile(options.connectionFile ?? defaultConnectionFile(env));
    url ??= info.url;
    tokenFile ??= info.tokenFile;
  }
  token ??= readTokenFile(tokenFile!);
  let ticket = options.ticket;
  if (ticket === undefined && env.TSMACH_TICKET) {
    ticket = env.TSMACH_TICKET;
    delete env.TSMACH_TICKET; // one use; children must not inherit it
  }
  const name = options.name ?? env.TSMACH_TASK_NAME ?? (process.argv[1] ? basename(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') : 'task');
  return { url, token, name, ticket };
}

export class WebSocketTransport implements Transport {
  readonly info: TaskInfo;
  /** the kernel's limits, as it announced them */
  readonly limits: WireLimits;
  readonly closed: Promise<string>;
  private readonly ws: WebSocket;
  private readonly socket: Socket;
  private readonly calls = new Map<number, Pending>();
  private nextCall = 1;
  private open = true;
  private endReason = '';
  private closing = false;
  private settle!: (reason: string) => void;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private constructor(ws: WebSocket, info: TaskInfo, limits: WireLimits, onKernelLost: ConnectOptions['onKernelLost']) {
    this.ws = ws;
    this.info = info;
    this.limits = limits;
    this.socket = (ws as unknown as { _socket: Socket })._socket;
    this.closed = new Promise((resolve) => { this.settle = resolve; });
    ws.on('message', (data: Buffer) => this.frame(data));
    ws.on('close', (code: number, reason: Buffer) => {
      if (code === CLOSE_TASK_TERMINATED) {
        this.ended(`the kernel terminated the task (${reason.toString() || 'task_terminate'})`, onKernelLost, true);
        return;
      }
      const why = reason.length > 0 ? reason.toString() : code === 1006 ? 'the kernel went away' : 'no reason given';
      this.ended(`connection to the kernel lost (${code}: ${why})`, onKernelLost);
    });
    ws.on('error', () => undefined); // 'close' follows
  }

  /** Connects, is admitted, gets its TaskInfo. Rejects with a WireError ('refused') or the socket's error. */
  static open(options: ConnectOptions = {}): Promise<WebSocketTransport> {
    const { url, token, name, ticket } = resolveConnectOptions(options);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'x-tsmach-task': encodeURIComponent(name) };
    if (ticket !== undefined) headers['x-tsmach-ticket'] = ticket;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, SUBPROTOCOL, { headers, perMessageDeflate: false, maxPayload: 0, handshakeTimeout: options.timeout ?? 10_000 });
      let done = false;
      const fail = (e: Error): void => {
        if (done) return;
        done = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => fail(new WireError('refused', `no answer from the kernel at ${url}`)), options.timeout ?? 10_000);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        fail(new WireError('refused', `the kernel at ${url} refused the connection: ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      ws.on('close', (code, reason) => {
        clearTimeout(timer);
        fail(new WireError('refused', `the kernel at ${url} closed the connection (${code} ${reason.toString()})`));
      });
      ws.once('message', (data: Buffer) => {
        clearTimeout(timer);
        if (done) return;
        try {
          const a = decodeAnswer(data);
          if (a.op !== OP_WELCOME || a.version !== PROTOCOL_VERSION) throw new WireError('bad-frame', 'the kernel did not welcome this task');
          done = true;
          ws.removeAllListeners();
          resolve(new WebSocketTransport(ws, a.info, a.limits, options.onKernelLost));
        } catch (e) {
          fail(e as Error);
        }
      });
    });
  }

  // ==== traps ======================================================================

  mach_msg(msg: MachMessage | null, option: number, rcvSize: number, rcvName: number, timeout: number, notify: number): Promise<TrapMachMsgResult> {
    if (!this.open) return Promise.reject(this.lost());
    const call = this.call();
    this.send(encodeMsgCall(call, msg, option, rcvSize >>> 0, rcvName >>> 0, timeout >>> 0, notify >>> 0));
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve: resolve as (v: unknown) => void, reject, msg, option });
    });
  }

  mach_reply_port(): Promise<number> {
    return this.simple(OP_REPLY_PORT) as Promise<number>;
  }

  /** The kernel's counts (ports, kernel messages, tasks, memory): leak checks and tools. */
  kernelStats(): Promise<KernelStats> {
    return this.simple(OP_STATS) as Promise<KernelStats>;
  }

  /**
   * The task ends: the connection closes and the kernel terminates the task. Calls still
   * waiting end as the kernel ends them when a task dies: MACH_RCV_INTERRUPTED (or
   * MACH_SEND_INTERRUPTED for a send-only call); other calls reject.
   */
  close(): void {
    if (!this.open || this.closing) return;
    this.closing = true;
    this.ws.close(CLOSE_NORMAL, 'task exit');
    this.ended('the task closed its connection', 'ignore');
  }

  /** Calls waiting for an answer. */
  get pendingCalls(): number {
    return this.calls.size;
  }

  /** Whether the connection has ended. */
  get isClosed(): boolean {
    return !this.open;
  }

  // ==== frames =====================================================================

  private simple(op: typeof OP_REPLY_PORT | typeof OP_STATS): Promise<unknown> {
    if (!this.open) return Promise.reject(this.lost());
    const call = this.call();
    this.send(encodeSimpleCall(op, call));
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve, reject, msg: null, option: undefined });
    });
  }

  private call(): number {
    let c = this.nextCall;
    while (this.calls.has(c)) c = (c + 1) >>> 0 || 1;
    this.nextCall = (c + 1) >>> 0 || 1;
    return c;
  }

  /** Frames written in one turn of the event loop leave in one write. */
  private send(buf: Buffer): void {
    if (!this.corked && this.socket) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.ws.send(buf);
  }

  private frame(data: Buffer): void {
    let a;
    try {
      a = decodeAnswer(data);
    } catch (e) {
      this.ws.close(1007, closeReason((e as Error).message));
      return;
    }
    if (a.op === OP_WELCOME) return;
    const p = this.calls.get(a.call);
    if (p === undefined) return;
    this.calls.delete(a.call);
    switch (a.op) {
      case OP_RET: {
        const r: TrapMachMsgResult = { mr: a.mr, msg: a.msg === true ? p.msg : a.msg };
        if (a.size !== undefined) r.size = a.size;
        p.resolve(r);
        break;
      }
      case OP_VALUE:
        p.resolve(a.value);
        break;
      case OP_ERROR:
        p.reject(new WireError(a.code, `kernel refused the call: ${a.text}`, a.call));
        break;
    }
  }

  private lost(code: 'kernel-lost' | 'terminated' = 'kernel-lost'): WireError {
    return new WireError(code, `tsmach: task ${this.info.name}: ${this.endReason || 'connection to the kernel closed'}`);
  }

  private ended(reason: string, onKernelLost: ConnectOptions['onKernelLost'], terminated = false): void {
    if (!this.open) return;
    this.open = false;
    this.endReason = reason;
    const e = this.lost(terminated ? 'terminated' : 'kernel-lost');
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const p of calls) {
      if (this.closing && p.option !== undefined) {
        p.resolve({ mr: p.option & MACH_RCV_MSG ? MACH_RCV_INTERRUPTED : MACH_SEND_INTERRUPTED, msg: null });
      } else {
        p.reject(e);
      }
    }
    this.settle(reason);
    if (this.closing || terminated) return;
    if (onKernelLost === 'exit') {
      process.stderr.write(`tsmach: task ${this.info.name}: ${reason}; exiting\n`);
      process.exit(1);
    } else if (typeof onKernelLost === 'function') {
      onKernelLost(reason);
    }
  }
}

/**
 * connect: this process becomes a task of the kernel process: the MachTask generated
 * stubs run on. See ConnectOptions for where the URL, token and ticket come from.
 */
export async function connect(options: ConnectOptions = {}): Promise<MachTask> {
  return new MachTask(await WebSocketTransport.open(options));
}

/** The kernel's counts, through a task connected over WebSocket. */
export function kernelStats(task: MachTask): Promise<KernelStats> {
  const t = task.transport;
  if (!(t instanceof WebSocketTransport)) throw new TypeError('kernelStats: not a WebSocket task');
  return t.kernelStats();
}

