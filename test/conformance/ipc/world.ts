/*
 * File: test/conformance/ipc/world.ts
 * Purpose: the world the IPC conformance suite runs in: a kernel and the tasks a case
 *          creates, seen only through the task runtime (MachTask, generated stubs, raw
 *          mach_msg) plus a leak counter. The same cases run in every world of WORLDS:
 *          the embedded kernel here; a WebSocket / multi-process world appends its own.
 *
 * What a world must provide (see IpcWorld):
 *   - createTask: a task with its own space, optionally privileged, optionally with a
 *     bootstrap port made (MAKE_SEND) from a receive right another task holds — what a
 *     parent does with task_set_special_port(child, TASK_BOOTSTRAP_PORT, ...);
 *   - taskPort: a send right, in one task's space, to another task's kernel port — what a
 *     task's creator holds after task_create. With it, any right moves the Mach way, in a
 *     message (giveRight below);
 *   - settle: wait until what is in flight has arrived (the leak check runs after it);
 *   - stats: kernel-wide live ports, port sets and kernel messages, and each live task's
 *     space (names by right type, urefs, dead-name requests, waiting mach_msg calls),
 *     keyed by TaskInfo.id;
 *   - close: every task ends, the kernel shuts down.
 */

import { createKernel, type Kernel } from '../../../src/kern/kernel.js';
import type { Task } from '../../../src/kern/task.js';
import { ipc_entry_lookup } from '../../../src/ipc/space.js';
import { ipc_port_copyout_send, ipc_port_make_send, type IpcPort } from '../../../src/ipc/port.js';
import { ipc_space_stats, ipc_stats, type IpcSpaceStats } from '../../../src/ipc/stats.js';
import type { MachPort } from '../../../src/mach/mig.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_extract_right, mach_port_mod_refs,
} from '../../../src/gen/mach_port.user.js';
import { MachError, MACH_MSG_SUCCESS } from '../../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MOVE_SEND, MACH_RCV_MSG, MACH_RCV_TIMEOUT,
  MACH_SEND_MSG, type MachMessage,
} from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_RECEIVE, MACH_PORT_TYPE_RECEIVE } from '../../../src/mach/port.js';
import { processWorld, webSocketWorld } from './world_ws.js';

/** What one space holds (the kernel's ipc_space_stats). */
export type SpaceStats = IpcSpaceStats;

export interface WorldStats {
  /** live ports, kernel ports included */
  ports: number;
  portSets: number;
  /** kernel messages alive: queued, or held by the kernel */
  kmsgs: number;
  /** every live task's space, by TaskInfo.id */
  spaces: Record<number, SpaceStats>;
}

export interface CreateTaskOptions {
  /** a boot server: it gets the privileged host port */
  privileged?: boolean;
  /** the new task's bootstrap port: a send right made from this receive right */
  bootstrapFrom?: { task: MachTask; name: number };
}

export interface IpcWorld {
  readonly name: string;
  createTask(name: string, opts?: CreateTaskOptions): Promise<MachTask>;
  /**
   * A send right in `holder`'s space to `of`'s task port (as `of`'s creator holds it).
   * The caller owns it and deallocates it.
   */
  taskPort(of: MachTask, holder: MachTask): Promise<MachPort>;
  /**
   * Gives `to` a right taken from `from`'s `name` with `disposition` (MAKE_SEND by
   * default; any of the six), the Mach way: in a message (see giveRightByTaskPort).
   * Returns the right's name in `to`.
   */
  giveRight(from: MachTask, name: number, to: MachTask, disposition?: number): Promise<number>;
  stats(): Promise<WorldStats>;
  /** Resolves once messages and notifications in flight have arrived and tasks have run. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export type WorldFactory = () => Promise<IpcWorld>;

/**
 * giveRight for any world that has taskPort, with messages only: `to` makes a receive
 * right T; `from`, holding `to`'s task port, extracts a send right to T
 * (mach_port_extract_right, MAKE_SEND) and sends the right in a message to T; `to`
 * receives it — so it lands under the name `to` already uses for that port, if any, as
 * any received right does — and destroys T.
 */
export async function giveRightByTaskPort(world: IpcWorld, from: MachTask, name: number, to: MachTask, disposition = MACH_MSG_TYPE_MAKE_SEND): Promise<number> {
  const { name: t } = await mach_port_allocate(to.self, MACH_PORT_RIGHT_RECEIVE);
  try {
    const target = await world.taskPort(to, from);
    let s: MachPort;
    try {
      s = (await mach_port_extract_right(target, t, MACH_MSG_TYPE_MAKE_SEND)).poly!;
    } finally {
      await mach_port_deallocate(from.self, target.name);
    }
    const msg: MachMessage = {
      header: { bits: (MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0) | MACH_MSGH_BITS_COMPLEX) >>> 0, size: 40, remotePort: s.name, localPort: 0, seqno: 0, id: GIVE_RIGHT_ID },
      body: [{ type: { name: disposition, size: 32, number: 1, inline: true, longform: false, deallocate: false }, data: name }],
    };
    const sent = await from.mach_msg(msg, MACH_SEND_MSG, 0, 0);
    if (sent !== MACH_MSG_SUCCESS) {
      await mach_port_deallocate(from.self, s.name).catch(() => undefined);
      throw new MachError(sent as number, 'giveRight: send');
    }
    const got = await to.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, t, 0);
    if (typeof got === 'number') throw new MachError(got, 'giveRight: receive');
    return got.body[0]!.data as number;
  } finally {
    await mach_port_mod_refs(to.self, t, MACH_PORT_RIGHT_RECEIVE, -1);
  }
}

/** The message id giveRight's messages carry. */
export const GIVE_RIGHT_ID = 0x6e6f6d;

// ==== the embedded world ===========================================================

class EmbeddedWorld implements IpcWorld {
  readonly name = 'embedded';
  private readonly kernel: Kernel = createKernel();

  /** The kernel's task behind a runtime task (world-internal). */
  private ktask(t: MachTask): Task {
    const task = this.kernel.tasks.get(t.info.id);
    if (task === undefined) throw new Error(`task ${t.name} (${t.info.id}) is not alive`);
    return task;
  }

  async createTask(name: string, opts: CreateTaskOptions = {}): Promise<MachTask> {
    let bootstrap: IpcPort | undefined;
    if (opts.bootstrapFrom) {
      const { task, name: rname } = opts.bootstrapFrom;
      const entry = ipc_entry_lookup(this.ktask(task).itk_space, rname);
      if (entry === null || (entry.ie_bits & MACH_PORT_TYPE_RECEIVE) === 0) throw new Error(`bootstrapFrom: ${rname} is not a receive right of ${task.name}`);
      bootstrap = entry.ie_object as IpcPort;
    }
    return this.kernel.createTask(name, { privileged: opts.privileged ?? false, bootstrap });
  }

  async taskPort(of: MachTask, holder: MachTask): Promise<MachPort> {
    const name = ipc_port_copyout_send(ipc_port_make_send(this.ktask(of).itk_self), this.ktask(holder).itk_space);
    return holder.port(name);
  }

  giveRight(from: MachTask, name: number, to: MachTask, disposition?: number): Promise<number> {
    return giveRightByTaskPort(this, from, name, to, disposition);
  }

  async stats(): Promise<WorldStats> {
    const spaces: Record<number, SpaceStats> = {};
    for (const [id, task] of this.kernel.tasks) spaces[id] = ipc_space_stats(task.itk_space);
    return { ...ipc_stats(), spaces };
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    this.kernel.shutdown();
  }
}

/** The kernel and its tasks in this process, over the in-memory transport. */
export async function embeddedWorld(): Promise<IpcWorld> {
  return new EmbeddedWorld();
}

/** The worlds every case runs in. A WebSocket world appends its factory here. */
export const WORLDS: WorldFactory[] = [embeddedWorld, webSocketWorld, processWorld];
