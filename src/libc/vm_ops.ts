/*
 * File: libc/vm_ops.ts
 * Purpose: the VM calls the C library makes on its own task, as an abstract asynchronous
 *          interface (in the real system each is an RPC to the kernel through the generated
 *          mach.defs stubs, or a page fault), and a recorder that keeps the calls in order.
 *
 * Addresses and sizes are vm_offset_t values of the task; protections and inheritance are
 * Mach's (VM_PROT_*, VM_INHERIT_*), not the C library's PROT_* flags; results are Mach
 * kern_return_t codes.
 */

/** The task's VM, as the C library reaches it. */
export interface VmOps {
  /** vm_allocate(mach_task_self(), &address, size, anywhere): zero-fill RW/RWX COPY memory. */
  vm_allocate(address: number, size: number, anywhere: boolean): Promise<{ kr: number; address: number }>;
  /** vm_deallocate(mach_task_self(), address, size). */
  vm_deallocate(address: number, size: number): Promise<number>;
  /** vm_protect(mach_task_self(), address, size, set_maximum, new_protection). */
  vm_protect(address: number, size: number, setMax: boolean, prot: number): Promise<number>;
  /**
   * vm_map(mach_task_self(), &address, size, 0, anywhere, MACH_PORT_NULL, 0, copy, cur, max,
   * inherit): anonymous memory (no memory object, so the kernel ignores `copy`).
   */
  vm_map(
    address: number,
    size: number,
    anywhere: boolean,
    cur: number,
    max: number,
    inherit: number,
  ): Promise<{ kr: number; address: number }>;
  /** The first write to [address, address + size): faults the pages in (no RPC in the real system). */
  touch?(address: number, size: number): Promise<void>;
}

/** One recorded VM call and its result. */
export type VmCall =
  | { op: 'vm_allocate'; address: number; size: number; anywhere: boolean; kr: number; result: number }
  | { op: 'vm_deallocate'; address: number; size: number; kr: number }
  | { op: 'vm_protect'; address: number; size: number; setMax: boolean; prot: number; kr: number }
  | {
      op: 'vm_map';
      address: number;
      size: number;
      anywhere: boolean;
      cur: number;
      max: number;
      inherit: number;
      kr: number;
      result: number;
    }
  | { op: 'touch'; address: number; size: number };

/** Counts of recorded calls by kind. */
export type VmCallCounts = Record<VmCall['op'], number>;

/**
 * A VmOps that forwards to another and records every call with its result, in order.
 * Touches are recorded only when asked (they are page faults, not RPCs).
 */
export class TracingVmOps implements VmOps {
  readonly calls: VmCall[] = [];
  readonly counts: VmCallCounts = { vm_allocate: 0, vm_deallocate: 0, vm_protect: 0, vm_map: 0, touch: 0 };
  private readonly recordTouches: boolean;

  constructor(
    readonly inner: VmOps,
    options: { touches?: boolean } = {},
  ) {
    this.recordTouches = options.touches ?? false;
  }

  async vm_allocate(address: number, size: number, anywhere: boolean): Promise<{ kr: number; address: number }> {
    const r = await this.inner.vm_allocate(address, size, anywhere);
    this.record({ op: 'vm_allocate', address, size, anywhere, kr: r.kr, result: r.address });
    return r;
  }

  async vm_deallocate(address: number, size: number): Promise<number> {
    const kr = await this.inner.vm_deallocate(address, size);
    this.record({ op: 'vm_deallocate', address, size, kr });
    return kr;
  }

  async vm_protect(address: number, size: number, setMax: boolean, prot: number): Promise<number> {
    const kr = await this.inner.vm_protect(address, size, setMax, prot);
    this.record({ op: 'vm_protect', address, size, setMax, prot, kr });
    return kr;
  }

  async vm_map(
    address: number,
    size: number,
    anywhere: boolean,
    cur: number,
    max: number,
    inherit: number,
  ): Promise<{ kr: number; address: number }> {
    const r = await this.inner.vm_map(address, size, anywhere, cur, max, inherit);
    this.record({ op: 'vm_map', address, size, anywhere, cur, max, inherit, kr: r.kr, result: r.address });
    return r;
  }

  async touch(address: number, size: number): Promise<void> {
    if (this.inner.touch) await this.inner.touch(address, size);
    this.counts.touch++;
    if (this.recordTouches) this.calls.push({ op: 'touch', address, size });
  }

  /** The calls recorded so far, and forget them. */
  take(): VmCall[] {
    return this.calls.splice(0, this.calls.length);
  }

  private record(call: VmCall): void {
    this.counts[call.op]++;
    this.calls.push(call);
  }
}
