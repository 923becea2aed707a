/*
 * File: servers/ext2fs/rpc_vm_ops.ts
 * Purpose: RpcVmOps, the C library's VM calls (libc/vm_ops.ts VmOps) as what they are in a
 *          Mach task: RPCs on its own task port through the generated mach.defs stubs
 *          (vm_allocate, vm_deallocate, vm_protect, vm_map with MACH_PORT_NULL).
 *
 * A stub's MachError becomes the kern_return_t the VmOps contract returns; any other
 * failure (the kernel went away) is thrown.
 *
 * touch (a user-mode write faulting pages in) has no RPC: a real task just writes to its
 * memory and the kernel's fault handler materialises the entry's object. The only RPC
 * that writes a task's memory, vm_write, is vm_map_copy_overwrite: it clips the
 * destination entry to the written pages and gives them a new object, so using it for
 * touches would split every heap entry a block is written into (at every level) — a
 * distortion far larger than the effect of touching. So, by default, touches make no
 * call here (they are counted); a caller that can fault pages in another way (an
 * embedded kernel, whose maps are reachable) passes its own `touch`.
 */

import { MachError } from '../../mach/kern_return.js';
import { vm_allocate, vm_deallocate, vm_map, vm_protect } from '../../gen/mach.user.js';
import type { VmOps } from '../../libc/vm_ops.js';
import type { MachTask } from '../../runtime/task.js';

/** Counters of an RpcVmOps: RPCs made, by call, and touches seen. */
export interface RpcVmOpsStats {
  vm_allocate: number;
  vm_deallocate: number;
  vm_protect: number;
  vm_map: number;
  /** touch() calls (page-fault stand-ins; no RPC unless a touch function was given) */
  touches: number;
}

export interface RpcVmOpsOptions {
  /** How a write to [address, address + size) faults its pages in (default: nothing). */
  touch?: (address: number, size: number) => Promise<void>;
}

/** The task's VM calls as RPCs on `task.self`. */
export class RpcVmOps implements VmOps {
  readonly stats: RpcVmOpsStats = { vm_allocate: 0, vm_deallocate: 0, vm_protect: 0, vm_map: 0, touches: 0 };
  private readonly touchFn: ((address: number, size: number) => Promise<void>) | undefined;

  constructor(readonly task: MachTask, options: RpcVmOpsOptions = {}) {
    this.touchFn = options.touch;
  }

  async vm_allocate(address: number, size: number, anywhere: boolean): Promise<{ kr: number; address: number }> {
    this.stats.vm_allocate++;
    try {
      return { kr: 0, address: (await vm_allocate(this.task.self, address, size, anywhere)).address };
    } catch (e) {
      return { kr: code(e), address };
    }
  }

  async vm_deallocate(address: number, size: number): Promise<number> {
    this.stats.vm_deallocate++;
    try {
      await vm_deallocate(this.task.self, address, size);
      return 0;
    } catch (e) {
      return code(e);
    }
  }

  async vm_protect(address: number, size: number, setMax: boolean, prot: number): Promise<number> {
    this.stats.vm_protect++;
    try {
      await vm_protect(this.task.self, address, size, setMax, prot);
      return 0;
    } catch (e) {
      return code(e);
    }
  }

  async vm_map(address: number, size: number, anywhere: boolean, cur: number, max: number, inherit: number): Promise<{ kr: number; address: number }> {
    this.stats.vm_map++;
    try {
      const r = await vm_map(this.task.self, address, size, 0, anywhere, null, 0, false, cur, max, inherit);
      return { kr: 0, address: r.address };
    } catch (e) {
      return { kr: code(e), address };
    }
  }

  async touch(address: number, size: number): Promise<void> {
    this.stats.touches++;
    if (this.touchFn !== undefined) await this.touchFn(address, size);
  }

  /** RPCs made so far. */
  get rpcs(): number {
    const s = this.stats;
    return s.vm_allocate + s.vm_deallocate + s.vm_protect + s.vm_map;
  }
}

/** The kern_return_t of a stub's failure (other errors are rethrown). */
function code(e: unknown): number {
  if (e instanceof MachError) return e.code;
  throw e;
}
