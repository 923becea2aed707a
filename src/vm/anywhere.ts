/*
 * File: vm/anywhere.ts
 * Purpose: vm_map_find_entry_anywhere (vm/vm_map.c): where an "anywhere" mapping goes
 *          (spec §8.1; the same at L0, L1 and L2).
 *
 * Not first fit. In order:
 *  1. a mask with high bits as well as low ones bounds the address (32-bit-only
 *     allocations); the low bits are the alignment;
 *  2. an empty map: min_offset rounded up to the alignment, the header as predecessor;
 *  3. the first_free hint: just after first_free, if the range fits in its trailing gap;
 *  4. best fit: after the entry with the smallest gap >= size + mask, the most recently
 *     filed one on ties (gap.ts). The space before the first entry is never considered.
 * The range always starts at its predecessor's end rounded up to the alignment.
 */

import type { VmMapEntry } from './entry.js';
import type { VmMap } from './map.js';
import type { VmWordBits } from './vm_param.js';
import { vm_offset_add, vm_offset_and } from './vm_param.js';

/** Where vm_map_find_entry_anywhere puts a range: its start and the entry (or header) before it. */
export interface VmMapAnywhere {
  start: number;
  entry: VmMapEntry;
}

/**
 * vm_map_find_entry_anywhere (vm/vm_map.c).
 * Conditions: size is a non-zero page multiple. User maps never wait for space.
 * Returns: the range's start and predecessor, or null when there is no room
 *   (or the mask is invalid): vm_map_enter then returns KERN_NO_SPACE.
 */
export function vm_map_find_entry_anywhere(map: VmMap, size: number, mask: number): VmMapAnywhere | null {
  const bits = map.word_bits;
  let max = map.max_offset;

  if (vm_offset_and(vm_offset_add(bits, mask, 1), mask) !== 0) {
    const split = vm_map_mask_split(bits, mask);
    if (split === null) return null; // "invalid mask"
    max = split.max;
    mask = split.lowmask;
  }

  if (map.nentries === 0) {
    const start = align_up(bits, map.min_offset, mask);
    const end = vm_offset_add(bits, start, size);
    if (start < map.min_offset || end <= start || end > max) return null;
    return { start, entry: map.hdr };
  }

  const hint = map.first_free;
  if (hint !== map.hdr) {
    const start = align_up(bits, hint.vme_end, mask);
    const end = vm_offset_add(bits, start, size);
    if (start >= hint.vme_end && end > start && end <= max && end <= hint.vme_end + hint.gap_size) {
      return { start, entry: hint };
    }
  }

  const max_size = vm_offset_add(bits, size, mask);
  if (max_size < size) return null;

  const entry = map.gaps.best_fit(max_size);
  if (entry === null) return null;
  const start = align_up(bits, entry.vme_end, mask);
  const end = start + size;
  if (end > max) return null; // "does not respect the allowed maximum"
  return { start, entry };
}

/* (x + mask) & ~mask, for a mask of the form 2^k - 1, wrapping like C. */
function align_up(bits: VmWordBits, x: number, mask: number): number {
  const v = vm_offset_add(bits, x, mask);
  return v - (v % (mask + 1));
}

/*
 * A mask with high bits: the low run of ones is the alignment; the high run must reach
 * the top of the word, and the lowest high bit is the exclusive upper bound.
 */
function vm_map_mask_split(bits: VmWordBits, mask: number): { lowmask: number; max: number } | null {
  const word = (1n << BigInt(bits)) - 1n;
  const m = BigInt(mask);
  const first0 = ffs((~m) & word);
  const lowmask = (1n << BigInt(first0 - 1)) - 1n;
  const himask = m - lowmask;
  const max = 1n << BigInt(ffs(himask) - 1);
  if (((himask + max) & word) !== 0n) return null;
  return { lowmask: Number(lowmask), max: Number(max) };
}

/* __builtin_ffs: 1 + index of the least significant set bit (x != 0). */
function ffs(x: bigint): number {
  let n = 1;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}
