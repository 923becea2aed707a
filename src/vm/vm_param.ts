/*
 * File: vm/vm_param.ts
 * Purpose: page size and vm_offset_t arithmetic (GNU Mach's mach/vm_param.h).
 *
 * Addresses and sizes are plain numbers holding unsigned vm_offset_t values.
 * GNU Mach does its address arithmetic in a machine word, so sums wrap around:
 * that is how `start >= end` detects an overflowing range in vm_map_enter and
 * how vm_deallocate/vm_protect ranges collapse. A map says how wide its word is
 * (32 bits for the i386 kernel whose user maps end at 0xC0000000, 64 bits for
 * x86_64); every sum that C would wrap goes through `vm_offset_add`.
 * With 64-bit words, values must stay below 2^53 to be exact in a JS number.
 */

/** Page size on i386 and x86_64 (i386/include/mach/i386/vm_param.h). */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const PAGE_MASK = PAGE_SIZE - 1;

/** Width of vm_offset_t in the simulated kernel. */
export type VmWordBits = 32 | 64;

const WORD_MODULUS_32 = 2 ** 32;
const WORD_MODULUS_64 = 2 ** 64;

/** a + b in a `bits`-wide unsigned word (C's wrap-around). */
export function vm_offset_add(bits: VmWordBits, a: number, b: number): number {
  const sum = a + b;
  const modulus = bits === 32 ? WORD_MODULUS_32 : WORD_MODULUS_64;
  return sum >= modulus ? sum - modulus : sum;
}

/** Largest vm_offset_t value: ~0 in a `bits`-wide word. */
export function vm_offset_max(bits: VmWordBits): number {
  return bits === 32 ? WORD_MODULUS_32 - 1 : WORD_MODULUS_64 - 1;
}

/** trunc_page: round down to a page boundary. */
export function trunc_page(x: number): number {
  return x - (x % PAGE_SIZE);
}

/** round_page: round up to a page boundary, wrapping like the C macro. */
export function round_page(bits: VmWordBits, x: number): number {
  return trunc_page(vm_offset_add(bits, x, PAGE_MASK));
}

/** page_aligned: whether x is a multiple of the page size. */
export function page_aligned(x: number): boolean {
  return x % PAGE_SIZE === 0;
}

/** x & mask for unsigned words of any width up to 64 bits. */
export function vm_offset_and(x: number, mask: number): number {
  if (x <= 0x7fffffff && mask <= 0x7fffffff) return x & mask;
  return Number(BigInt(x) & BigInt(mask));
}

/**
 * Check that a caller's address or size is a representable vm_offset_t.
 * The IPC layer delivers word-sized integers; anything else is a bug in the caller.
 */
export function assert_vm_offset(bits: VmWordBits, x: number, what: string): void {
  if (!Number.isSafeInteger(x) || x < 0 || x > vm_offset_max(bits)) {
    throw new RangeError(`${what} ${x} is not a ${bits}-bit vm_offset_t`);
  }
}
