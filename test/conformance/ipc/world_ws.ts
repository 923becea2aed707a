/*
 * File: test/conformance/ipc/world_ws.ts
 * Purpose: the WebSocket worlds of the IPC conformance suite: a kernel listening on
 *          127.0.0.1 (kern/server.ts) and tasks connected to it over WebSocket
 *          (transport/websocket.ts), every trap a msgpackr frame through a real socket —
 *          in `processWorld`, through a process of the task's own (task_process.ts).
 *          The kernel is in this process, so stats() and taskPort() read its tables as
 *          the embedded world does; the tasks see it only through their connections.
 *
 * Tasks are created as the embedded world creates them: no bootstrap port unless
 * bootstrapFrom names one (a one-time ticket carries the options to the kernel), so the
 * same cases expect the same spaces.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ipc_entry_lookup } from '../../../src/ipc/space.js';
import { ipc_port_copyout_send, ipc_port_make_send, type IpcPort } from '../../../src/ipc/port.js';
import { ipc_space_stats, ipc_stats } from '../../../src/ipc/stats.js';
import { MACH_PORT_TYPE_RECEIVE } from '../../../src/mach/port.js';
import type { MachPort } from '../../../src/mach/mig.js';
import type { Task } from '../../../src/kern/task.js';
import { KernelServer } from '../../../src/kern/server.js';
import type { MachTask } from '../../../src/runtime/task.js';
import { connect, WebSocketTransport } from '../../../src/transport/websocket.js';
import { giveRightByTaskPort, type CreateTaskOptions, type IpcWorld, type SpaceStats, type WorldStats } from './world.js';

/**
 * Processes that hold tasks' kernel connections (task_process.ts), reused: each holds one
 * task at a time, so every live task is in a process of its own.
 */
class TaskProcesses {
  private readonly kernelUrl: string;
  private readonly idle: Array<{ proc: ChildProcess; url: string }> = [];
  private readonly all: ChildProcess[] = [];

  constructor(kernelUrl: string) {
    this.kernelUrl = kernelUrl;
  }

  /** A process for one task; it comes back when the task's connection closes. */
  async acquire(): Promise<{ url: string; release(): void }> {
    const p = this.idle.pop() ?? await this.spawn();
    return { url: p.url, release: () => { if (p.proc.exitCode === null) this.idle.push(p); } };
  }

  private spawn(): Promise<{ proc: ChildProcess; url: string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', TASK_PROCESS, this.kernelUrl], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.all.push(proc);
    return new Promise((resolve, reject) => {
      let out = '';
      proc.once('exit', (code) => reject(new Error(`task process exited (${code}) before it listened`)));
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve({ proc, url: (JSON.parse(out.slice(0, nl)) as { url: string }).url });
      });
    });
  }

  close(): void {
    for (const p of this.all) p.stdin?.end();
  }
}

const TASK_PROCESS = fileURLToPath(new URL('./task_process.ts', import.meta.url));

class WebSocketWorld implements IpcWorld {
  readonly name: string;
  private readonly server: KernelServer;
  private readonly tasks = new Set<MachTask>();
  private readonly processes: TaskProcesses | null;

  constructor(server: KernelServer, processes: boolean) {
    this.server = server;
    this.name = processes ? 'processes' : 'websocket';
    this.processes = processes ? new TaskProcesses(server.url) : null;
  }

  private ktask(t: MachTask): Task {
    const task = this.server.kernel.tasks.get(t.info.id);
    if (task === undefined) throw new Error(`task ${t.name} (${t.info.id}) is not alive`);
    return task;
  }

  async createTask(name: string, opts: CreateTaskOptions = {}): Promise<MachTask> {
    let bootstrap: IpcPort | null = null;
    if (opts.bootstrapFrom) {
      const { task, name: rname } = opts.bootstrapFrom;
      const entry = ipc_entry_lookup(this.ktask(task).itk_space, rname);
      if (entry === null || (entry.ie_bits & MACH_PORT_TYPE_RECEIVE) === 0) throw new Error(`bootstrapFrom: ${rname} is not a receive right of ${task.name}`);
      bootstrap = entry.ie_object as IpcPort;
    }
    const ticket = this.server.ticket({ name, privileged: opts.privileged ?? false, bootstrap });
    if (this.processes === null) {
      const t = await connect({ url: this.server.url, token: this.server.token, ticket });
      this.tasks.add(t);
      return t;
    }
    // The task's connection is opened by a process of its own, which passes frames through.
    const proc = await this.processes.acquire();
    const t = await connect({ url: proc.url, token: this.server.token, ticket });
    void t.transport.closed.then(() => proc.release());
    this.tasks.add(t);
    return t;
  }

  async taskPort(of: MachTask, holder: MachTask): Promise<MachPort> {
    const name = ipc_port_copyout_send(ipc_port_make_send(this.ktask(of).itk_self), this.ktask(holder).itk_space);
    return holder.port(name);
  }

  giveRight(from: MachTask, name: number, to: MachTask, disposition?: number): Promise<number> {
    return giveRightByTaskPort(this, from, name, to, disposition);
  }

  async stats(): Promise<WorldStats> {
    await this.settle();
    const spaces: Record<number, SpaceStats> = {};
    for (const [id, task] of this.server.kernel.tasks) spaces[id] = ipc_space_stats(task.itk_space);
    return { ...ipc_stats(), spaces };
  }

  /**
   * Frames in flight arrive: a round trip on every open connection (the kernel has then
   * handled all that task sent, and the task has all the kernel sent it), turns of the
   * event loop for what the tasks do in answer, again; and the kernel has seen the close
   * of every connection that closed.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const open = [...this.tasks].filter((t) => this.server.kernel.tasks.has(t.info.id));
      await Promise.all(open.map((t) => (t.transport as WebSocketTransport).kernelStats().catch(() => undefined)));
      for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
    }
    const end = Date.now() + 2000;
    for (;;) {
      const closing = [...this.tasks].filter((t) => (t.transport as WebSocketTransport).pendingCalls === 0 && isClosed(t));
      for (const t of closing) if (!this.server.kernel.tasks.has(t.info.id)) this.tasks.delete(t);
      if (closing.every((t) => !this.server.kernel.tasks.has(t.info.id)) || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async close(): Promise<void> {
    for (const t of this.tasks) t.terminate();
    this.tasks.clear();
    await this.server.close();
    this.processes?.close();
  }
}

/** Whether a task's connection has ended (it terminated, or the kernel ended it). */
function isClosed(t: MachTask): boolean {
  return (t.transport as WebSocketTransport).isClosed;
}

/** A kernel on 127.0.0.1 in this process, its tasks over WebSocket. */
export async function webSocketWorld(): Promise<IpcWorld> {
  return new WebSocketWorld(await KernelServer.listen(), false);
}

/**
 * The same, with every task's kernel connection held by a process of its own
 * (task_process.ts): the kernel's tasks are other processes' connections.
 */
export async function processWorld(): Promise<IpcWorld> {
  return new WebSocketWorld(await KernelServer.listen(), true);
}
