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
 *     task's creator holds after task_create. With it, any right moves the Mach way:
 *     mach_port_insert_right(target task, name, right, disposition) (giveRight below);
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
import { MACH_PORT_TYPE_RECEIVE } from '../../../src/mach/port.js';
import type { MachPort } from '../../../src/mach/mig.js';
import type { MachTask } from '../../../src/runtime/task.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_insert_right, mach_port_mod_refs,
} from '../../../src/gen/mach_port.user.js';
import { MACH_MSG_TYPE_MAKE_SEND } from '../../../src/mach/message.js';
import { MACH_PORT_RIGHT_DEAD_NAME } from '../../../src/mach/port.js';

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
   * default; any of the six), the Mach way: `from` holds `to`'s task port and calls
   * mach_port_insert_right on it. Returns the right's name in `to`.
   */
  giveRight(from: MachTask, name: number, to: MachTask, disposition?: number): Promise<number>;
  stats(): Promise<WorldStats>;
  /** Resolves once messages and notifications in flight have arrived and tasks have run. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export type WorldFactory = () => Promise<IpcWorld>;

/**
 * giveRight for any world that has taskPort: `from` gets `to`'s task port, picks a name
 * free in `to` (allocates a dead name there and releases it), inserts the right under it
 * with mach_port_insert_right(to, n, from's name, disposition), and drops the task port.
 */
export async function giveRightByTaskPort(world: IpcWorld, from: MachTask, name: number, to: MachTask, disposition = MACH_MSG_TYPE_MAKE_SEND): Promise<number> {
  const target = await world.taskPort(to, from);
  try {
    const { name: n } = await mach_port_allocate(target, MACH_PORT_RIGHT_DEAD_NAME);
    await mach_port_mod_refs(target, n, MACH_PORT_RIGHT_DEAD_NAME, -1);
    await mach_port_insert_right(target, n, from.port(name), disposition);
    return n;
  } finally {
    await mach_port_deallocate(from.self, target.name);
  }
}

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
export const WORLDS: WorldFactory[] = [embeddedWorld];
