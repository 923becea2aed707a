/*
 * File: libc/hurd.ts
 * Purpose: the Hurd's system-dependent memory calls of the C library, as VM calls on the
 *          task itself: the data segment (brk/sbrk) and anonymous mmap/munmap/mprotect.
 *
 * Followed (glibc, sysdeps/mach/hurd/brk.c, sbrk.c, mmap.c; sysdeps/mach/munmap.c,
 * mprotect.c; glibc 2.33-2.42 agree on everything modelled here except brk's protection):
 *
 *  - init_brk: the break starts at BRK_START (0x20000000 on i386 since glibc 2.33) and the
 *    whole data segment, DATA_SIZE = 128 MiB, is reserved at once with a fixed vm_map of no
 *    object, protection NONE, maximum RWX, inheritance COPY.
 *  - _hurd_set_brk, growing: the pages between the old and the new page-rounded break are
 *    opened with vm_protect (RWX up to glibc 2.37; RW from 2.38, commit "hurd: Map brk
 *    non-executable", 2023-06-26). Past the reservation, the rest of the reservation is
 *    opened and the excess is vm_allocate'd at a fixed address.
 *  - _hurd_set_brk, shrinking: the released pages are vm_deallocate'd and then mapped again,
 *    fixed, with protection NONE and maximum RWX (the reservation is put back, not kept).
 *  - sbrk(n): returns the old break; sbrk(0) makes no VM call.
 *  - mmap(MAP_ANON): vm_map with no object, copy for private mappings, protection from
 *    PROT_*, maximum RWX, inheritance COPY (SHARE with MAP_SHARED); anywhere only when the
 *    address is 0. A failed hint (NO_SPACE or INVALID_ADDRESS) is retried anywhere; a fixed
 *    mapping over existing memory is vm_deallocate'd first and mapped again.
 *  - munmap = vm_deallocate (EINVAL for address 0); mprotect = vm_protect (current only).
 *
 * Only anonymous mappings are modelled (no io_map of a file). Errors are kern_return_t
 * codes or Hurd errno values (ENOMEM, EINVAL); the C library's errno is lastError.
 */

import { KERN_INVALID_ADDRESS, KERN_NO_SPACE, KERN_SUCCESS } from '../mach/kern_return.js';
import { PAGE_SIZE } from '../vm/vm_param.js';
import {
  VM_INHERIT_COPY,
  VM_INHERIT_SHARE,
  VM_PROT_ALL,
  VM_PROT_EXECUTE,
  VM_PROT_NONE,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from '../vm/vm_prot.js';
import type { VmOps } from './vm_ops.js';

/* The Hurd's <bits/mman.h> (BSD values: PROT_READ is 4, PROT_EXEC is 1). */
export const PROT_NONE = 0x00;
export const PROT_READ = 0x04;
export const PROT_WRITE = 0x02;
export const PROT_EXEC = 0x01;
export const MAP_FILE = 0x0001;
export const MAP_ANON = 0x0002;
export const MAP_TYPE = 0x000f;
export const MAP_SHARED = 0x0010;
export const MAP_PRIVATE = 0x0000;
export const MAP_FIXED = 0x0100;

/* Hurd errno values (_HURD_ERRNO(n) = 0x40000000 | n). */
export const EINVAL = 0x40000016;
export const ENOMEM = 0x4000000c;

/** sysdeps/mach/hurd/i386/vm_param.h */
export const BRK_START_I386 = 0x20000000;
/** sysdeps/mach/hurd/brk.c: the initial data segment reservation. */
export const DATA_SIZE = 128 * 1024 * 1024;

/** What brk opens its pages with: RWX up to glibc 2.37, RW from glibc 2.38. */
export const BRK_PROT_PRE_2_38 = VM_PROT_ALL;
export const BRK_PROT_2_38 = VM_PROT_READ | VM_PROT_WRITE;

export interface HurdVmOptions {
  /** Where the break starts (default BRK_START_I386). */
  brkStart?: number;
  /** Size of the reservation made by init_brk (default DATA_SIZE). */
  dataSize?: number;
  /** Mach protection brk gives the pages it opens (default BRK_PROT_PRE_2_38, RWX). */
  brkProt?: number;
  /** RLIMIT_DATA (default unlimited). */
  rlimitData?: number;
}

function round_page(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}

/** PROT_* to VM_PROT_* as sysdeps/mach/hurd/mmap.c and sysdeps/mach/mprotect.c do it. */
export function vm_prot_from_prot(prot: number): number {
  let vmprot = VM_PROT_NONE;
  if (prot & PROT_READ) vmprot |= VM_PROT_READ;
  if (prot & PROT_WRITE) vmprot |= VM_PROT_WRITE;
  if (prot & PROT_EXEC) vmprot |= VM_PROT_EXECUTE;
  return vmprot;
}

/** The C library's view of one task's memory: the break and anonymous mappings. */
export class HurdVm {
  /** _hurd_brk: the break; pages past the one holding it allow no access. */
  brk: number;
  /** _hurd_data_end: end of what has been reserved or allocated for the data segment. */
  dataEnd: number;
  readonly brkStart: number;
  readonly brkProt: number;
  readonly rlimitData: number;
  private readonly dataSize: number;
  /** errno of the last failed call. */
  lastError = 0;

  constructor(
    readonly ops: VmOps,
    options: HurdVmOptions = {},
  ) {
    this.brkStart = options.brkStart ?? BRK_START_I386;
    this.dataSize = options.dataSize ?? DATA_SIZE;
    this.brkProt = options.brkProt ?? BRK_PROT_PRE_2_38;
    this.rlimitData = options.rlimitData ?? Number.POSITIVE_INFINITY;
    this.brk = this.brkStart;
    this.dataEnd = this.brkStart;
  }

  /**
   * init_brk (brk.c): reserve the data segment, [round(brk), round(brk_start + DATA_SIZE)),
   * with one fixed vm_map (NONE, max RWX, COPY). If that fails the data segment stays empty.
   */
  async initBrk(): Promise<void> {
    const pagend = round_page(this.brk);
    this.dataEnd = round_page(this.brkStart + this.dataSize);
    if (pagend < this.dataEnd) {
      const r = await this.ops.vm_map(pagend, this.dataEnd - pagend, false, VM_PROT_NONE, VM_PROT_ALL, VM_INHERIT_COPY);
      if (r.kr !== KERN_SUCCESS) this.dataEnd = pagend;
    }
  }

  /**
   * _hurd_set_brk (brk.c): move the break to `addr`.
   * Returns: 0, or an error (ENOMEM past RLIMIT_DATA, or the failing call's kern_return_t).
   */
  async setBrk(addr: number): Promise<number> {
    const pagend = round_page(addr);
    const pagebrk = round_page(this.brk);

    if (pagend <= pagebrk) {
      if (pagend < pagebrk) {
        // Give the pages back, then put the no-access reservation in their place.
        await this.ops.vm_deallocate(pagend, pagebrk - pagend);
        await this.ops.vm_map(pagend, pagebrk - pagend, false, VM_PROT_NONE, VM_PROT_ALL, VM_INHERIT_COPY);
      }
      this.brk = addr;
      return 0;
    }

    if (addr - this.brkStart > this.rlimitData) return this.fail(ENOMEM);

    let err = KERN_SUCCESS;
    if (pagend > this.dataEnd) {
      // Past the reservation: open what is left of it, then allocate the rest.
      const allocStart = this.dataEnd;
      if (this.dataEnd > pagebrk) err = await this.ops.vm_protect(pagebrk, allocStart - pagebrk, false, this.brkProt);
      if (err === KERN_SUCCESS) this.brk = allocStart;
      if (err === KERN_SUCCESS) err = (await this.ops.vm_allocate(allocStart, pagend - allocStart, false)).kr;
      if (err === KERN_SUCCESS) this.dataEnd = pagend;
    } else {
      err = await this.ops.vm_protect(pagebrk, pagend - pagebrk, false, this.brkProt);
    }
    if (err !== KERN_SUCCESS) return this.fail(err);
    this.brk = addr;
    return 0;
  }

  /**
   * __sbrk (sysdeps/mach/hurd/sbrk.c): move the break by `increment`.
   * Returns: the old break, or null (the C library's (void *) -1).
   */
  async sbrk(increment: number): Promise<number | null> {
    const result = this.brk;
    if (increment !== 0 && (await this.setBrk(this.brk + increment)) !== 0) return null;
    return result;
  }

  /**
   * __mmap (sysdeps/mach/hurd/mmap.c) for anonymous memory.
   * Returns: the address, or null (MAP_FAILED) with lastError set.
   */
  async mmap(addr: number, len: number, prot: number, flags: number): Promise<number | null> {
    if (addr % PAGE_SIZE !== 0) {
      this.fail(EINVAL);
      return null;
    }
    if ((flags & MAP_TYPE) !== MAP_ANON) throw new Error('HurdVm.mmap: only anonymous mappings are modelled');
    const vmprot = vm_prot_from_prot(prot);
    const inherit = flags & MAP_SHARED ? VM_INHERIT_SHARE : VM_INHERIT_COPY;
    const fixed = (flags & MAP_FIXED) !== 0;

    let r = await this.ops.vm_map(addr, len, !fixed && addr === 0, vmprot, VM_PROT_ALL, inherit);
    if (fixed) {
      if (r.kr === KERN_NO_SPACE) {
        // The range is in use: deallocate it first (not atomic, as the C code says).
        const kr = await this.ops.vm_deallocate(addr, len);
        r = kr === KERN_SUCCESS ? await this.ops.vm_map(addr, len, false, vmprot, VM_PROT_ALL, inherit) : { kr, address: addr };
      }
    } else if (addr !== 0 && (r.kr === KERN_NO_SPACE || r.kr === KERN_INVALID_ADDRESS)) {
      // The hint could not be had: anywhere will do.
      r = await this.ops.vm_map(addr, len, true, vmprot, VM_PROT_ALL, inherit);
    }
    if (r.kr !== KERN_SUCCESS) {
      this.fail(r.kr);
      return null;
    }
    return r.address;
  }

  /** __munmap (sysdeps/mach/munmap.c). Returns: 0 or an error. */
  async munmap(addr: number, len: number): Promise<number> {
    if (addr === 0) return this.fail(EINVAL);
    const kr = await this.ops.vm_deallocate(addr, len);
    return kr === KERN_SUCCESS ? 0 : this.fail(kr);
  }

  /** __mprotect (sysdeps/mach/mprotect.c). Returns: 0 or an error. */
  async mprotect(addr: number, len: number, prot: number): Promise<number> {
    const kr = await this.ops.vm_protect(addr, len, false, vm_prot_from_prot(prot));
    return kr === KERN_SUCCESS ? 0 : this.fail(kr);
  }

  private fail(err: number): number {
    this.lastError = err;
    return err;
  }
}
