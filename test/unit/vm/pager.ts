/*
 * File: test/unit/vm/pager.ts
 * Purpose: the VM tests' pager: a task serving memory_object.defs (and, registered as
 *          the default memory manager, memory_object_default.defs) through the generated
 *          demuxes, keeping pages in memory; plus kernel fixtures (kernels shut down after
 *          each test, rights handed between tasks).
 *
 * Its behaviour on data requests is set per test: supply the stored page (or a pattern),
 * answer unavailable, answer with an error, or stay silent. Everything it hears is logged.
 */

import { afterEach } from 'vitest';
import {
  memory_object_data_error, memory_object_data_supply, memory_object_data_unavailable, memory_object_lock_request,
  memory_object_ready, vm_deallocate, vm_set_default_memory_manager,
} from '../../../src/gen/mach.user.js';
import { mach_port_allocate, mach_port_deallocate, mach_port_mod_refs, mach_port_move_member } from '../../../src/gen/mach_port.user.js';
import { memory_object_server } from '../../../src/gen/memory_object.server.js';
import { memory_object_default_server } from '../../../src/gen/memory_object_default.server.js';
import { ipc_entry_lookup } from '../../../src/ipc/space.js';
import { ipc_port_copyout_send, ipc_port_make_send, type IpcPort } from '../../../src/ipc/port.js';
import { createKernel, type Kernel, type KernelOptions } from '../../../src/kern/kernel.js';
import type { Task } from '../../../src/kern/task.js';
import { KERN_FAILURE } from '../../../src/mach/kern_return.js';
import type { MachPort } from '../../../src/mach/mig.js';
import { MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE } from '../../../src/mach/port.js';
import { mach_msg_server } from '../../../src/runtime/server.js';
import type { MachTask } from '../../../src/runtime/task.js';
import { MEMORY_OBJECT_COPY_DELAY, MEMORY_OBJECT_RETURN_NONE } from '../../../src/vm/memory_object.js';
import { vm_ool_address } from '../../../src/vm/ool.js';
import { PAGE_SIZE } from '../../../src/vm/vm_param.js';

/* ==== kernels ====================================================================== */

const kernels: Kernel[] = [];

/** A kernel that is shut down after the test. */
export function kernel(options: KernelOptions = {}): Kernel {
  const k = createKernel(options);
  kernels.push(k);
  return k;
}

afterEach(() => {
  for (const k of kernels.splice(0)) k.shutdown();
});

/** The kernel's task behind a runtime. */
export function kernelTask(k: Kernel, t: MachTask): Task {
  return k.tasks.get(t.info.id)!;
}

/** A send right to `from`'s port `name`, made in `to`'s space (a test's shortcut for a message). */
export function giveSend(k: Kernel, from: MachTask, name: number, to: MachTask): number {
  const entry = ipc_entry_lookup(kernelTask(k, from).itk_space, name)!;
  return ipc_port_copyout_send(ipc_port_make_send(entry.ie_object as IpcPort), kernelTask(k, to).itk_space);
}

/** The bytes of a page full of `n`. */
export function pageOf(n: number, pages = 1): Uint8Array {
  return new Uint8Array(pages * PAGE_SIZE).fill(n & 0xff);
}

/* ==== the pager ===================================================================== */

export type PagerMode = 'supply' | 'unavailable' | 'error' | 'silent';

/** One memory object the pager serves. */
export interface PagerObject {
  name: number;
  control: MachPort | null;
  /** Pages the pager holds, by offset. */
  store: Map<number, Uint8Array>;
  /** Created by the kernel for an internal object (memory_object_create). */
  internal: boolean;
}

export interface PagerOptions {
  /** The copy strategy it declares in memory_object_ready (default DELAY). */
  strategy?: number;
  /** What it does with data requests (default supply). */
  mode?: PagerMode;
  /** Declares nothing: never sends memory_object_ready. */
  neverReady?: boolean;
  /** The bytes of a page it has never stored (default: all zero). */
  fill?: (offset: number) => Uint8Array;
  /** Supply pages precious. */
  precious?: boolean;
}

export class TestPager {
  readonly task: MachTask;
  readonly objects = new Map<number, PagerObject>();
  readonly log: string[] = [];
  mode: PagerMode;
  private readonly options: PagerOptions;
  private set = 0;
  private readonly stop = new AbortController();
  private waiters: Array<() => void> = [];

  private constructor(task: MachTask, options: PagerOptions) {
    this.task = task;
    this.options = options;
    this.mode = options.mode ?? 'supply';
  }

  /** A pager task in `k`, serving from now on. */
  static async start(k: Kernel, options: PagerOptions = {}, name = 'pager'): Promise<TestPager> {
    const task = k.createTask(name, { privileged: true });
    const pager = new TestPager(task, options);
    pager.set = (await mach_port_allocate(task.self, MACH_PORT_RIGHT_PORT_SET)).name;
    void mach_msg_server(task, [memory_object_server(pager.routines()), memory_object_default_server(pager.defaultRoutines())],
      task.port(pager.set), { signal: pager.stop.signal }).catch(() => undefined);
    return pager;
  }

  /** A new memory object port (its receive right served here); its name in the pager's space. */
  async newObject(): Promise<number> {
    const name = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_RECEIVE)).name;
    await mach_port_move_member(this.task.self, name, this.set);
    this.objects.set(name, { name, control: null, store: new Map(), internal: false });
    return name;
  }

  /** Registers this pager as the default memory manager of the kernel. */
  async becomeDefault(): Promise<void> {
    const name = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_RECEIVE)).name;
    await mach_port_move_member(this.task.self, name, this.set);
    await vm_set_default_memory_manager(this.task.hostPriv!, this.task.port(name));
  }

  /** Resolves once the log has a line matching `re`. */
  async heard(re: RegExp): Promise<string> {
    for (;;) {
      const line = this.log.find((l) => re.test(l));
      if (line !== undefined) return line;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Stops serving. */
  halt(): void {
    this.stop.abort();
  }

  private note(line: string): void {
    this.log.push(line);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private object(port: MachPort): PagerObject {
    let o = this.objects.get(port.name);
    if (o === undefined) {
      o = { name: port.name, control: null, store: new Map(), internal: false };
      this.objects.set(port.name, o);
    }
    return o;
  }

  /* The kernel's rights in a request stay ours; extra send rights to the control port go. */
  private async done(control: MachPort | null, keep: PagerObject): Promise<void> {
    if (control !== null && keep.control !== null && control.name === keep.control.name) {
      await mach_port_deallocate(this.task.self, control.name).catch(() => undefined);
    }
  }

  private routines(): Parameters<typeof memory_object_server>[0] {
    return {
      memory_object_init: async (mo, control, _name, page_size) => {
        const o = this.object(mo);
        o.control = control;
        this.note(`init ${page_size}`);
        if (!this.options.neverReady && control !== null) {
          await memory_object_ready(control, false, this.options.strategy ?? MEMORY_OBJECT_COPY_DELAY);
        }
      },
      memory_object_data_request: async (mo, control, offset, length, access) => {
        const o = this.object(mo);
        this.note(`request 0x${offset.toString(16)} ${length} ${access}`);
        if (control === null) return;
        switch (this.mode) {
          case 'supply': {
            const data = o.store.get(offset) ?? this.options.fill?.(offset) ?? (o.internal ? null : new Uint8Array(length));
            if (data === null) await memory_object_data_unavailable(control, offset, length);
            else await memory_object_data_supply(control, offset, data, false, 0, this.options.precious ?? false, null);
            break;
          }
          case 'unavailable': await memory_object_data_unavailable(control, offset, length); break;
          case 'error': await memory_object_data_error(control, offset, length, KERN_FAILURE); break;
          case 'silent': break;
        }
        await this.done(control, o);
      },
      memory_object_data_unlock: async (mo, control, offset, length, access) => {
        const o = this.object(mo);
        this.note(`unlock 0x${offset.toString(16)} ${access}`);
        if (control !== null) await memory_object_lock_request(control, offset, length, MEMORY_OBJECT_RETURN_NONE, false, 0, null);
        await this.done(control, o);
      },
      memory_object_data_return: async (mo, control, offset, data, dirty, kernel_copy) => {
        const o = this.object(mo);
        this.note(`return 0x${offset.toString(16)} ${dirty ? 'dirty' : 'clean'}${kernel_copy ? ' copy' : ''}`);
        for (let at = 0; at < data.length; at += PAGE_SIZE) o.store.set(offset + at, data.slice(at, at + PAGE_SIZE));
        const address = vm_ool_address(data);
        if (address !== undefined) await vm_deallocate(this.task.self, address, data.length);
        await this.done(control, o);
      },
      memory_object_lock_completed: async (_mo, control, offset, length) => {
        this.note(`lock_completed 0x${offset.toString(16)} ${length}`);
        if (control !== null) await mach_port_deallocate(this.task.self, control.name).catch(() => undefined);
      },
      memory_object_terminate: async (mo, control, name) => {
        this.note('terminate');
        if (control !== null) await mach_port_mod_refs(this.task.self, control.name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
        if (name !== null) await mach_port_mod_refs(this.task.self, name.name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
        const o = this.objects.get(mo.name);
        if (o !== undefined) o.control = null;
      },
    };
  }

  private defaultRoutines(): Parameters<typeof memory_object_default_server>[0] {
    return {
      memory_object_create: async (_dmm, new_memory_object, size, control, _name, page_size) => {
        if (new_memory_object === null) return;
        // Known before its messages (already queued on it) can be received.
        this.objects.set(new_memory_object.name, { name: new_memory_object.name, control, store: new Map(), internal: true });
        this.note(`create ${size} ${page_size}`);
        await mach_port_move_member(this.task.self, new_memory_object.name, this.set);
      },
      memory_object_data_initialize: async (mo, control, offset, data) => {
        const o = this.object(mo);
        this.note(`initialize 0x${offset.toString(16)}`);
        if (!o.store.has(offset)) o.store.set(offset, data.slice(0, PAGE_SIZE));
        const address = vm_ool_address(data);
        if (address !== undefined) await vm_deallocate(this.task.self, address, data.length);
        await this.done(control, o);
      },
    };
  }
}
