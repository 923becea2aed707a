/*
 * File: kern/server.ts
 * Purpose: the kernel process's listener: tasks in other processes connect over
 *          WebSocket (docs/protocol.md); each connection is one task, served by its own
 *          TaskTraps; closing the connection terminates the task.
 *
 * Admission happens at the HTTP upgrade, before any kernel state exists: the token
 * (Authorization: Bearer), the subprotocol (tsmach.1), an optional one-time ticket
 * (X-Tsmach-Ticket: boot servers get the privileged host port through theirs), no Origin
 * header (browsers always send one; tasks never do), the connection limit. Then the task
 * is created and the first frame tells it its TaskInfo.
 *
 * Every frame is decoded and checked (wire/codec.ts) before the kernel is called; a frame
 * that names a call but is wrong gets an OP_ERROR answer, anything worse closes that one
 * connection. The kernel never throws across connections: an exception in a call becomes
 * an OP_ERROR answer and a log line. ws refuses frames over maxFrameBytes before reading
 * their payload (maxPayload).
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ipc_stats } from '../ipc/stats.js';
import type { IpcPortRef } from '../ipc/port.js';
import type { VmLevel } from '../vm/level.js';
import type { TaskInfo } from '../transport/transport.js';
import type { MachMsgResult } from '../ipc/thread.js';
import {
  CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_INVALID, CLOSE_TASK_TERMINATED, CLOSE_UNSUPPORTED, closeReason, decodeCall, encodeError, encodeRet,
  encodeValue, encodeWelcome, OP_MSG, OP_REPLY_PORT, OP_STATS, SUBPROTOCOL, WireError, type KernelStats, type MsgCall,
} from '../wire/codec.js';
import { wireLimits, type WireLimits } from '../wire/limits.js';
import { newToken } from './connfile.js';
import { Kernel } from './kernel.js';
import type { DiskOptions } from './device.js';
import { NetnameService } from './netname.js';
import type { Task } from './task.js';
import type { TaskTraps } from './traps.js';

/** What a one-time ticket gives the task that connects with it. */
export interface TicketOptions {
  /** the task's name (else the name the task asks for) */
  name?: string;
  /** a boot server: gets the privileged host port (and the device master, once devices exist) */
  privileged?: boolean;
  /** the bootstrap port to make a send right from; undefined: the name service; null: none */
  bootstrap?: IpcPortRef;
}

export interface KernelServerOptions {
  /** serve this kernel (else a new one; then close() shuts it down) */
  kernel?: Kernel;
  vmLevel?: VmLevel;
  /** for a new kernel: its disks and resident-page limit */
  disks?: DiskOptions[];
  memoryPages?: number;
  /** for a new kernel: how long a fault waits for a pager (ms) */
  pagerTimeout?: number;
  /**
   * the privileged-tool token: a connection presenting it as its ticket is privileged
   * (host_priv, device master), and it stays valid (tsmach ps, vminfo). Default: none.
   */
  privilegedToken?: string;
  /** address to bind: 127.0.0.1 unless told otherwise */
  host?: string;
  /** port: 0 (default) picks a free one */
  port?: number;
  /** the token tasks must present (default: a fresh random one) */
  token?: string;
  limits?: Partial<WireLimits>;
  /** diagnostics (refused connections, bad frames, internal errors) */
  log?: (line: string) => void;
}

/** Where the privileged-tool token lives: kern/connfile.ts, with the other files (kept here for its importers). */
export { privilegedTokenFile } from './connfile.js';

/** Tokens compared in constant time whatever their lengths. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export class KernelServer {
  readonly kernel: Kernel;
  readonly netname: NetnameService;
  readonly token: string;
  readonly limits: WireLimits;
  readonly host: string;
  /** the port bound (after listen) */
  port = 0;
  private readonly ownKernel: boolean;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly tickets = new Map<string, TicketOptions>();
  private readonly privilegedToken: string | null;
  private readonly conns = new Set<TaskConnection>();
  /** upgrades admitted but not yet connected, counted against maxConnections */
  private admitting = 0;
  readonly log: (line: string) => void;
  /** calls waiting in the kernel, over all connections */
  pendingCalls = 0;
  private closing = false;

  private constructor(options: KernelServerOptions) {
    this.ownKernel = options.kernel === undefined;
    this.kernel = options.kernel ?? new Kernel({
      vmLevel: options.vmLevel, disks: options.disks, memoryPages: options.memoryPages, pagerTimeout: options.pagerTimeout,
    });
    this.privilegedToken = options.privilegedToken ?? null;
    this.netname = new NetnameService();
    this.token = options.token ?? newToken();
    this.limits = wireLimits(options.limits);
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log ?? (() => undefined);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.http = createServer((req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('tsmach kernel: WebSocket only (docs/protocol.md)\n');
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket as Socket, head));
    this.http.on('clientError', (_e, socket) => socket.destroy());
  }

  /** A kernel listening on host:port (127.0.0.1 and a free port by default). */
  static async listen(options: KernelServerOptions = {}): Promise<KernelServer> {
    const s = new KernelServer(options);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(options.port ?? 0, s.host, () => {
        s.http.off('error', reject);
        resolve();
      });
    });
    const addr = s.http.address();
    s.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    return s;
  }

  /** ws://host:port */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  /** Tasks connected now. */
  get connections(): number {
    return this.conns.size;
  }

  /**
   * A one-time ticket: the next connection presenting it (with the token) gets these
   * options. `tsmach boot` gives one to each boot server (privileged).
   */
  ticket(options: TicketOptions = {}): string {
    const t = randomBytes(24).toString('hex');
    this.tickets.set(t, options);
    return t;
  }

  /** Kernel-wide counts (OP_STATS); a garbage collection first when --expose-gc is on. */
  stats(): KernelStats {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const mem = process.memoryUsage();
    return {
      ...ipc_stats(), tasks: this.kernel.tasks.size, connections: this.conns.size, pendingCalls: this.pendingCalls,
      netnames: this.netname.size, heapUsed: mem.heapUsed, rss: mem.rss,
    };
  }

  /** Every task is told the kernel goes away (close 1001); the listener stops. */
  async close(reason = 'kernel shutting down'): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const c of [...this.conns]) c.drop(CLOSE_GOING_AWAY, reason);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
    this.netname.destroy();
    if (this.ownKernel) this.kernel.shutdown();
  }

  // ==== admission ==================================================================

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const deny = (status: number, text: string): void => {
      this.log(`refused ${socket.remoteAddress ?? '?'}: ${status} ${text}`);
      const body = `${text}\n`;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    if (this.closing) return deny(503, 'Kernel Shutting Down');
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), this.token)) return deny(401, 'Unauthorized');
    if (req.headers.origin !== undefined) return deny(403, 'Browsers Not Allowed');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(SUBPROTOCOL)) return deny(400, `Subprotocol ${SUBPROTOCOL} Required`);
    let ticket: TicketOptions = {};
    const t = req.headers['x-tsmach-ticket'];
    if (t !== undefined) {
      const found = typeof t === 'string' ? this.tickets.get(t) : undefined;
      if (found !== undefined) {
        this.tickets.delete(t as string);
        ticket = found;
      } else if (typeof t === 'string' && this.privilegedToken !== null && sameSecret(t, this.privilegedToken)) {
        ticket = { privileged: true }; // a privileged tool: the token stays valid
      } else {
        return deny(403, 'Unknown Ticket');
      }
    }
    let name = 'task';
    const n = req.headers['x-tsmach-task'];
    if (typeof n === 'string') {
      try {
        name = decodeURIComponent(n);
      } catch {
        return deny(400, 'Bad Task Name');
      }
      if (Buffer.byteLength(name) > this.limits.maxTaskName) return deny(400, 'Task Name Too Long');
    }
    if (this.conns.size + this.admitting >= this.limits.maxConnections) return deny(503, 'Too Many Tasks');
    this.admitting++;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.admitting--;
      if (this.closing) {
        ws.close(CLOSE_GOING_AWAY, 'kernel shutting down');
        return;
      }
      this.accept(ws, socket, ticket.name ?? name, ticket);
    });
  }

  private accept(ws: WebSocket, socket: Socket, name: string, ticket: TicketOptions): void {
    const privileged = ticket.privileged === true;
    const task = this.kernel.task_create(name, {
      privileged, bootstrap: ticket.bootstrap === undefined ? this.netname.port : ticket.bootstrap,
    });
    const info = this.kernel.task_info(task, { privileged });
    const conn = new TaskConnection(this, ws, socket, task, info);
    this.conns.add(conn);
    conn.start(this.kernel.connect(task, { ended: (reason) => conn.ended(reason) }));
  }

  /** A connection ended (either side): its task is gone; names of dead ports go too. */
  forget(conn: TaskConnection): void {
    this.conns.delete(conn);
    this.netname.sweep();
  }
}

/** One task's connection: frames in, kernel calls, answers out. */
class TaskConnection {
  private readonly server: KernelServer;
  private readonly ws: WebSocket;
  private readonly socket: Socket;
  readonly task: Task;
  private readonly info: TaskInfo;
  private traps!: TaskTraps;
  /** frames are read and calls made */
  private open = true;
  /** answers still go out (after the kernel ended the task, until the close) */
  private draining = true;
  private pending = 0;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(server: KernelServer, ws: WebSocket, socket: Socket, task: Task, info: TaskInfo) {
    this.server = server;
    this.ws = ws;
    this.socket = socket;
    this.task = task;
    this.info = info;
  }

  start(traps: TaskTraps): void {
    this.traps = traps;
    const ws = this.ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.frame(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.closed(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('error', (e: Error) => {
      this.server.log(`task ${this.task.id} (${this.task.name}): ${e.message}`);
      this.drop(CLOSE_INVALID, e.message);
    });
    this.send(encodeWelcome(this.info, this.server.limits));
  }

  private frame(data: Buffer, isBinary: boolean): void {
    if (!this.open) return;
    if (!isBinary) return this.drop(CLOSE_UNSUPPORTED, 'binary frames only');
    let call;
    try {
      call = decodeCall(data, this.server.limits);
    } catch (e) {
      if (!(e instanceof WireError)) {
        this.server.log(`task ${this.task.id} (${this.task.name}): decoder error: ${(e as Error).stack ?? String(e)}`);
        return this.drop(CLOSE_INTERNAL, 'frame could not be decoded');
      }
      if (e.call === undefined) return this.drop(CLOSE_INVALID, e.message);
      this.send(encodeError(e.call, e.code, e.message));
      return;
    }
    try {
      switch (call.op) {
        case OP_MSG:
          this.msg(call);
          break;
        case OP_REPLY_PORT:
          this.send(encodeValue(call.call, this.traps.mach_reply_port()));
          break;
        case OP_STATS:
          this.send(encodeValue(call.call, this.server.stats()));
          break;
      }
    } catch (e) {
      // A kernel bug must not take the other tasks down: answer, log, go on.
      this.server.log(`task ${this.task.id} (${this.task.name}): internal error: ${(e as Error).stack ?? String(e)}`);
      this.send(encodeError(call.call, 'internal', `kernel error: ${(e as Error).message}`));
    }
  }

  private msg(c: MsgCall): void {
    if (this.pending >= this.server.limits.maxPendingCalls) {
      this.send(encodeError(c.call, 'too-many-calls', `more than ${this.server.limits.maxPendingCalls} calls waiting`));
      return;
    }
    const r = this.traps.mach_msg(c.msg, c.option, c.rcvSize, c.rcvName, c.timeout, c.notify);
    if (!(r instanceof Promise)) {
      this.answer(c, r);
      return;
    }
    this.pending++;
    this.server.pendingCalls++;
    r.then((res) => {
      this.pending--;
      this.server.pendingCalls--;
      this.answer(c, res);
    }, (e: unknown) => {
      this.pending--;
      this.server.pendingCalls--;
      this.server.log(`task ${this.task.id} (${this.task.name}): internal error: ${(e as Error).stack ?? String(e)}`);
      if (this.draining) this.send(encodeError(c.call, 'internal', `kernel error: ${(e as Error).message}`));
    });
  }

  private answer(c: MsgCall, r: MachMsgResult): void {
    if (!this.draining) return;
    this.send(encodeRet(c.call, r.mr, r.msg, r.size, r.msg !== null && r.msg === c.msg));
  }

  /**
   * Frames written in one turn of the event loop leave in one write (the socket is corked
   * until setImmediate). A task that does not read its answers gets no more of its frames
   * read until the backlog drains below half the limit.
   */
  private send(buf: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    this.ws.send(buf);
    if (this.ws.bufferedAmount > this.server.limits.maxBufferedBytes && !this.ws.isPaused) {
      this.ws.pause();
      const check = setInterval(() => {
        if (!this.open || this.ws.bufferedAmount <= this.server.limits.maxBufferedBytes / 2) {
          clearInterval(check);
          if (this.open) this.ws.resume();
        }
      }, 10);
    }
  }

  /** The peer went away, or the socket failed: the task ends. */
  private closed(reason: string): void {
    this.draining = false;
    if (!this.open) return;
    this.open = false;
    this.server.kernel.task_terminate(this.task);
    this.server.forget(this);
    void reason;
  }

  /** Close the connection with a reason; the task ends now, whatever the peer does. */
  drop(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.draining = false;
    this.server.log(`task ${this.task.id} (${this.task.name}): closed: ${code} ${reason}`);
    this.server.kernel.task_terminate(this.task);
    this.server.forget(this);
    this.ws.close(code, closeReason(reason));
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  /**
   * The kernel ended the task (task_terminate, shutdown): the calls it interrupted are
   * answered first (their promises settle in this turn), then the connection closes.
   */
  ended(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.server.forget(this);
    setImmediate(() => {
      this.draining = false;
      this.ws.close(CLOSE_TASK_TERMINATED, closeReason(reason));
      setTimeout(() => this.ws.terminate(), 2000).unref();
    });
  }
}
