/*
 * File: servers/default-pager/pager.ts
 * Purpose: the default pager (the Hurd's mach-defpager, serverboot/default_pager.c): the
 *          task that backs anonymous memory. Registered with
 *          vm_set_default_memory_manager, it serves memory_object_default.defs (the kernel
 *          hands it an internal object with memory_object_create the first time one is
 *          paged out), memory_object.defs (data requests and returns, termination) and
 *          default_pager.defs (info, objects, object_create), all on one port set through
 *          the generated demuxes and mach_msg_server. Pages live in a swap file (swap.ts).
 *
 * The protocol, as the kernel speaks it (src/vm/memory_object.ts, pageout.ts):
 *
 *   memory_object_create(dmm, object RECEIVE, size, control SEND, name SEND, page size)
 *       a new object: its port joins the set; it is ready at once (no init/ready).
 *   memory_object_data_return(object, control, offset, data, dirty, kernel_copy)
 *   memory_object_data_initialize(object, control, offset, data)
 *       pages paged out: each gets a swap slot (kept until the object terminates: the
 *       kernel frees clean pages without returning them) and is written there; the data
 *       arrived as a region of this task's map, which is vm_deallocated.
 *   memory_object_data_request(object, control, offset, length, access)
 *       pages paged in: memory_object_data_supply of those in swap,
 *       memory_object_data_unavailable for the others (the kernel zero-fills them).
 *   memory_object_terminate(object, control RECEIVE, name RECEIVE)
 *       the object is gone: its slots are freed, its ports destroyed.
 *   memory_object_init(object, control, name, page size)
 *       only for objects made by default_pager_object_create and vm_map'ped by a client:
 *       answered with memory_object_ready(may_cache FALSE, MEMORY_OBJECT_COPY_DELAY).
 *       Such an object keeps its pages between mappings until its port has no senders
 *       (a no-senders notification on the port itself).
 *
 * Rights: each kernel message carries a made send right to the object's control port;
 * they accumulate on one name (their user references are pegged at the maximum, as Mach
 * does) and mach_port_destroy releases them all at terminate, when the receive right
 * arrives on the same name: no per-message mach_port_deallocate round trip.
 *
 * When the swap file is full, returned pages are kept in this task's memory (counted as
 * `overflowPages`, never lost): the Hurd's default pager panics instead.
 */

import {
  memory_object_data_supply, memory_object_data_unavailable, memory_object_lock_request, memory_object_ready,
  vm_deallocate, vm_read, vm_set_default_memory_manager,
} from '../../gen/mach.user.js';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_destroy, mach_port_mod_refs, mach_port_move_member,
  mach_port_request_notification,
} from '../../gen/mach_port.user.js';
import { default_pager_server, type default_pager_routines } from '../../gen/default_pager.server.js';
import { memory_object_server, type memory_object_routines } from '../../gen/memory_object.server.js';
import { memory_object_default_server, type memory_object_default_routines } from '../../gen/memory_object_default.server.js';
import { notify_server, type notify_routines } from '../../gen/notify.server.js';
import { KERN_INVALID_ARGUMENT, KERN_SUCCESS } from '../../mach/kern_return.js';
import { MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_NOTIFY_NO_SENDERS } from '../../mach/message.js';
import type { MachPort } from '../../mach/mig.js';
import {
  MACH_PORT_NULL, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_SEND,
} from '../../mach/port.js';
import { mach_msg_server } from '../../runtime/server.js';
import type { MachTask } from '../../runtime/task.js';
import { MEMORY_OBJECT_COPY_DELAY, MEMORY_OBJECT_RETURN_NONE } from '../../vm/memory_object.js';
import { vm_ool_address, type VmOolData } from '../../vm/ool.js';
import { PAGE_SIZE } from '../../vm/vm_param.js';
import { VM_PROT_NONE } from '../../vm/vm_prot.js';
import type { SwapFile } from './swap.js';

/** One memory object the pager backs. */
export interface PagerObject {
  /** a serial number (default_pager_objects' dpo_object) */
  readonly id: number;
  /** the memory object port (its receive right, in the port set), a name in the pager's space */
  readonly port: number;
  /** the control port (send rights), once the kernel told it */
  control: MachPort | null;
  /** the name port (a send right), once the kernel told it */
  name: MachPort | null;
  size: number;
  /** made by the kernel (memory_object_create), not by default_pager_object_create */
  readonly internal: boolean;
  /** page offset -> swap slot */
  readonly slots: Map<number, number>;
  /** pages kept in memory because the swap file was full */
  readonly overflow: Map<number, Uint8Array>;
}

/** What the pager did (figures for tests and the report). */
export interface DefaultPagerStats {
  creates: number;
  inits: number;
  terminates: number;
  /** memory_object_data_request messages */
  requests: number;
  /** pages supplied from swap */
  pagesSupplied: number;
  /** pages answered with data_unavailable */
  pagesUnavailable: number;
  /** memory_object_data_return messages */
  returns: number;
  /** pages written to swap (returns and initializes) */
  pagesReturned: number;
  initializes: number;
  /** pages kept in memory because the swap file was full */
  overflowPages: number;
  /** objects alive */
  objects: number;
}

export interface DefaultPagerOptions {
  /** mach_msg_server's concurrency (default 8) */
  concurrency?: number;
  /** diagnostics */
  log?: (line: string) => void;
}

export class DefaultPager {
  readonly task: MachTask;
  readonly swap: SwapFile;
  readonly objects = new Map<number, PagerObject>();
  readonly stats: DefaultPagerStats = {
    creates: 0, inits: 0, terminates: 0, requests: 0, pagesSupplied: 0, pagesUnavailable: 0, returns: 0, pagesReturned: 0,
    initializes: 0, overflowPages: 0, objects: 0,
  };
  /** the port set everything is received on */
  private set = MACH_PORT_NULL;
  /** the default memory manager port (its receive right) */
  dmm = MACH_PORT_NULL;
  /** settles when the server loop ends */
  loop: Promise<number> = Promise.resolve(0);
  private readonly stop = new AbortController();
  private readonly log: (line: string) => void;
  private readonly concurrency: number;
  private nextId = 1;
  private warnedFull = false;
  private idle: Array<() => void> = [];
  private busy = 0;

  private constructor(task: MachTask, swap: SwapFile, options: DefaultPagerOptions) {
    this.task = task;
    this.swap = swap;
    this.log = options.log ?? (() => undefined);
    this.concurrency = options.concurrency ?? 8;
  }

  /**
   * A default pager on `task` (which must hold the privileged host port), backed by
   * `swap`: it starts serving, then registers with vm_set_default_memory_manager.
   * Throws a MachError if the kernel refuses.
   */
  static async start(task: MachTask, swap: SwapFile, options: DefaultPagerOptions = {}): Promise<DefaultPager> {
    if (task.hostPriv === null) throw new Error('the default pager needs the privileged host port (run it as a boot server)');
    const pager = new DefaultPager(task, swap, options);
    pager.set = (await mach_port_allocate(task.self, MACH_PORT_RIGHT_PORT_SET)).name;
    pager.dmm = (await mach_port_allocate(task.self, MACH_PORT_RIGHT_RECEIVE)).name;
    await mach_port_move_member(task.self, pager.dmm, pager.set);
    pager.loop = mach_msg_server(task, pager.demuxes(), task.port(pager.set), {
      concurrency: pager.concurrency, signal: pager.stop.signal,
    }).catch((e: unknown) => {
      pager.log(`server loop ended: ${(e as Error).message}`);
      return -1;
    });
    const { default_manager: previous } = await vm_set_default_memory_manager(task.hostPriv, task.port(pager.dmm));
    if (previous !== null && previous.name !== MACH_PORT_NULL) {
      pager.log('replaced a previous default memory manager');
      await mach_port_deallocate(task.self, previous.name).catch(() => undefined);
    }
    return pager;
  }

  /** default_pager_info's three numbers: total and free backing store (bytes), page size. */
  info(): { total: number; free: number; pageSize: number } {
    return { total: this.swap.totalBytes, free: this.swap.freeBytes, pageSize: PAGE_SIZE };
  }

  /** Resolves once no request is being served. */
  async quiet(): Promise<void> {
    if (this.busy === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Stops serving (the swap file stays open: close it after). */
  halt(): void {
    this.stop.abort();
  }

  /* ==== objects ==================================================================== */

  private newObject(port: number, size: number, internal: boolean, control: MachPort | null, name: MachPort | null): PagerObject {
    const o: PagerObject = {
      id: this.nextId++, port, control, name, size, internal, slots: new Map(), overflow: new Map(),
    };
    this.objects.set(port, o);
    this.stats.objects = this.objects.size;
    return o;
  }

  /**
   * The object is gone: its backing store is freed and its memory object port's receive
   * right released (the pager's last right: the port dies).
   */
  private async deleteObject(o: PagerObject): Promise<void> {
    for (const slot of o.slots.values()) this.swap.release(slot);
    o.slots.clear();
    o.overflow.clear();
    this.objects.delete(o.port);
    this.stats.objects = this.objects.size;
    await mach_port_mod_refs(this.task.self, o.port, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
  }

  /** Destroys every right the pager holds under `port`'s name (if any). */
  private async destroyName(port: MachPort | null): Promise<void> {
    if (port === null || port.name === MACH_PORT_NULL) return;
    await mach_port_destroy(this.task.self, port.name).catch(() => undefined);
  }

  /** Stores one page of an object (allocating its slot the first time). */
  private store(o: PagerObject, offset: number, page: Uint8Array, onlyIfNew: boolean): void {
    const slot = o.slots.get(offset);
    if (slot !== undefined) {
      if (!onlyIfNew) this.swap.write(slot, page);
      return;
    }
    if (onlyIfNew && o.overflow.has(offset)) return;
    const s = this.swap.alloc();
    if (s < 0) {
      if (!this.warnedFull) {
        this.warnedFull = true;
        this.log(`swap file ${this.swap.path} is full (${this.swap.map.slots} pages): keeping pages in memory`);
      }
      if (!o.overflow.has(offset)) this.stats.overflowPages++;
      o.overflow.set(offset, page.slice(0, PAGE_SIZE));
      return;
    }
    o.overflow.delete(offset);
    o.slots.set(offset, s);
    this.swap.write(s, page);
  }

  /** Whether the pager has the page at `offset` (in swap or in memory). */
  private has(o: PagerObject, offset: number): boolean {
    return o.slots.has(offset) || o.overflow.has(offset);
  }

  /** One page of an object, or null if the pager has none. */
  private fetch(o: PagerObject, offset: number): Uint8Array | null {
    const slot = o.slots.get(offset);
    if (slot !== undefined) return this.swap.read(slot);
    return o.overflow.get(offset) ?? null;
  }

  /**
   * Pages that arrived out of line (a region of this task's map): stored page by page,
   * then the region is deallocated. Pages the kernel still had to provide are read first.
   */
  private async received(o: PagerObject | undefined, offset: number, data: Uint8Array, onlyIfNew: boolean): Promise<void> {
    const address = vm_ool_address(data);
    let bytes = data;
    const missing = (data as VmOolData).missing;
    if (address !== undefined && missing !== undefined && missing.length > 0) {
      const r = await vm_read(this.task.self, address, data.length);
      bytes = r.data;
      const a = vm_ool_address(r.data);
      if (a !== undefined) await vm_deallocate(this.task.self, a, r.data.length);
    }
    if (o !== undefined) {
      for (let at = 0; at < bytes.length; at += PAGE_SIZE) {
        this.store(o, offset + at, bytes.subarray(at, Math.min(at + PAGE_SIZE, bytes.length)), onlyIfNew);
        this.stats.pagesReturned++;
      }
    }
    if (address !== undefined) await vm_deallocate(this.task.self, address, data.length);
  }

  /* ==== the server ================================================================= */

  private demuxes(): ReturnType<typeof memory_object_server>[] {
    const counted = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      this.busy++;
      try {
        return await f(...args);
      } finally {
        if (--this.busy === 0) {
          const w = this.idle;
          this.idle = [];
          for (const r of w) r();
        }
      }
    };
    const mo: Partial<memory_object_routines> = {
      memory_object_init: counted(async (object, control, name) => {
        this.stats.inits++;
        const o = this.objects.get(object.name);
        if (o === undefined || control === null) {
          await this.destroyName(control);
          await this.destroyName(name);
          return;
        }
        // A new mapping of an object made by default_pager_object_create.
        o.control = control;
        o.name = name;
        await memory_object_ready(control, false, MEMORY_OBJECT_COPY_DELAY);
      }),
      memory_object_data_request: counted(async (object, control, offset, length) => {
        this.stats.requests++;
        const o = this.objects.get(object.name);
        if (control === null) return;
        // Runs of pages the pager has are supplied; the others are unavailable.
        let at = 0;
        while (at < length) {
          const first = at;
          const pages: Uint8Array[] = [];
          let page: Uint8Array | null;
          while (at < length && o !== undefined && (page = this.fetch(o, offset + at)) !== null) {
            pages.push(page);
            at += PAGE_SIZE;
          }
          if (pages.length > 0) {
            const data = pages.length === 1 ? pages[0]! : concat(pages);
            await memory_object_data_supply(control, offset + first, data, false, VM_PROT_NONE, false, null);
            this.stats.pagesSupplied += pages.length;
            continue;
          }
          const gap = at;
          while (at < length && (o === undefined || !this.has(o, offset + at))) at += PAGE_SIZE;
          await memory_object_data_unavailable(control, offset + gap, at - gap);
          this.stats.pagesUnavailable += (at - gap) / PAGE_SIZE;
        }
      }),
      memory_object_data_return: counted(async (object, _control, offset, data) => {
        this.stats.returns++;
        await this.received(this.objects.get(object.name), offset, data, false);
      }),
      memory_object_data_unlock: counted(async (_object, control, offset, length) => {
        // The pager never locks pages: unlock everything asked.
        if (control !== null) await memory_object_lock_request(control, offset, length, MEMORY_OBJECT_RETURN_NONE, false, VM_PROT_NONE, null);
      }),
      memory_object_lock_completed: counted(async () => undefined),
      memory_object_terminate: counted(async (object, control, name) => {
        this.stats.terminates++;
        const o = this.objects.get(object.name);
        await this.destroyName(control);
        await this.destroyName(name);
        if (o === undefined) return;
        o.control = null;
        o.name = null;
        if (o.internal) {
          // The kernel's send right came with this message: nobody can reach the object.
          await this.deleteObject(o);
        }
        // An object of default_pager_object_create keeps its pages until no-senders.
      }),
    };
    const mod: Partial<memory_object_default_routines> = {
      memory_object_create: counted(async (_dmm, object, size, control, name) => {
        this.stats.creates++;
        if (object === null) {
          await this.destroyName(control);
          await this.destroyName(name);
          return;
        }
        // Known before the messages already queued on its port can be received.
        this.newObject(object.name, size, true, control, name);
        await mach_port_move_member(this.task.self, object.name, this.set);
      }),
      memory_object_data_initialize: counted(async (object, _control, offset, data) => {
        this.stats.initializes++;
        await this.received(this.objects.get(object.name), offset, data, true);
      }),
    };
    const dp: Partial<default_pager_routines> = {
      default_pager_object_create: counted(async (_dp, size) => {
        const port = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_RECEIVE)).name;
        this.newObject(port, size, false, null, null);
        await mach_port_move_member(this.task.self, port, this.set);
        // Armed for the first send right (the reply makes it): no-senders frees the object.
        await mach_port_request_notification(this.task.self, port, MACH_NOTIFY_NO_SENDERS, 1, this.task.port(port), MACH_MSG_TYPE_MAKE_SEND_ONCE);
        return { memory_object: this.task.port(port) };
      }),
      default_pager_info: () => {
        const i = this.info();
        return { info: [...u64(i.total), ...u64(i.free), ...u64(i.pageSize)] };
      },
      default_pager_objects: counted(async () => {
        const objects: number[] = [];
        const ports: Array<MachPort | null> = [];
        for (const o of this.objects.values()) {
          objects.push(...u64(o.id), ...u64((o.slots.size + o.overflow.size) * PAGE_SIZE));
          let port: MachPort | null = null;
          if (o.name !== null) {
            // The reply moves a send right: one more reference for it.
            const ok = await mach_port_mod_refs(this.task.self, o.name.name, MACH_PORT_RIGHT_SEND, 1).then(() => true, () => false);
            if (ok) port = o.name;
          }
          ports.push(port);
        }
        return { objects, ports };
      }),
    };
    const notify: Partial<notify_routines> = {
      mach_notify_no_senders: counted(async (port) => {
        const o = this.objects.get(port.name);
        if (o === undefined || o.internal) return KERN_INVALID_ARGUMENT;
        await this.deleteObject(o);
        await this.destroyName(o.control);
        await this.destroyName(o.name);
        return KERN_SUCCESS;
      }),
    };
    return [memory_object_server(mo), memory_object_default_server(mod), default_pager_server(dp), notify_server(notify)];
  }
}

/** A 64-bit value as two 32-bit integers, low first (a vm_size_t in an integer_t array). */
export function u64(n: number): [number, number] {
  return [n % 0x100000000 | 0, Math.floor(n / 0x100000000) | 0];
}

/** The 64-bit value of two 32-bit integers, low first. */
export function from_u64(lo: number, hi: number): number {
  return (hi >>> 0) * 0x100000000 + (lo >>> 0);
}

function concat(pages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pages.length * PAGE_SIZE);
  pages.forEach((p, i) => out.set(p.subarray(0, PAGE_SIZE), i * PAGE_SIZE));
  return out;
}
