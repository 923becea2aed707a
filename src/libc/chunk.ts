/*
 * File: libc/chunk.ts
 * Purpose: glibc malloc's sizes, alignment and bin arithmetic for the 32-bit i386 Hurd
 *          (malloc/malloc.c and malloc/arena.c as of glibc 2.36, the 2022 C library the
 *          pre-2023 stress test ran on; the values below are unchanged up to 2.42).
 *
 *   SIZE_SZ 4 (sizeof size_t); MALLOC_ALIGNMENT 16 (sysdeps/i386/malloc-alignment.h, since
 *   glibc 2.26), so chunk headers (prev_size, size) take 8 bytes and chunks sit at 8 mod 16;
 *   MINSIZE 16; fastbins up to 64 bytes; 64 small bins 16 bytes apart (with the
 *   SMALLBIN_CORRECTION shift), large bins from 1008 bytes (largebin_index_32_big);
 *   tcache of 64 bins x 7 chunks up to 1020 user bytes; mmap threshold 128 KiB, raised
 *   dynamically up to 512 KiB (DEFAULT_MMAP_THRESHOLD_MAX on 32-bit); trim threshold and
 *   top pad 128 KiB; heaps of non-main arenas HEAP_MAX_SIZE = 2 x 512 KiB = 1 MiB.
 */

export const SIZE_SZ: number = 4;
export const MALLOC_ALIGNMENT: number = 16;
export const MALLOC_ALIGN_MASK = MALLOC_ALIGNMENT - 1;
/** Two size fields: prev_size and size. */
export const CHUNK_HDR_SZ = 2 * SIZE_SZ;
/** offsetof (struct malloc_chunk, fd_nextsize) */
export const MIN_CHUNK_SIZE = 4 * SIZE_SZ;
export const MINSIZE = (MIN_CHUNK_SIZE + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;
export const PAGESIZE = 4096;

/** Largest request malloc accepts (PTRDIFF_MAX on 32-bit). */
export const MAX_REQUEST = 0x7fffffff - 2 * MINSIZE;

/** request2size: the chunk size that holds `req` user bytes. */
export function request2size(req: number): number {
  return req + SIZE_SZ + MALLOC_ALIGN_MASK < MINSIZE ? MINSIZE : (req + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;
}

/** checked_request2size: 0 when the request is too large. */
export function checked_request2size(req: number): number {
  if (req < 0 || req > MAX_REQUEST) return 0;
  return request2size(req);
}

/** Usable bytes of a chunk: its size less the size field (the next chunk's prev_size is ours too). */
export function memsize(size: number, mmapped: boolean): number {
  return size - CHUNK_HDR_SZ + (mmapped ? 0 : SIZE_SZ);
}

export function align_up(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export function align_down(x: number, a: number): number {
  return Math.floor(x / a) * a;
}

/* ---- fastbins ---- */

/** DEFAULT_MXFAST (64 * SIZE_SZ / 4) as set_max_fast stores it. */
export const DEFAULT_MXFAST = 64 * SIZE_SZ / 4;
export function set_max_fast(s: number): number {
  return s === 0 ? MIN_CHUNK_SIZE / 2 : (s + SIZE_SZ) & ~MALLOC_ALIGN_MASK;
}
export const MAX_FAST_SIZE = 80 * SIZE_SZ / 4;
export function fastbin_index(sz: number): number {
  return (sz >>> (SIZE_SZ === 8 ? 4 : 3)) - 2;
}
export const NFASTBINS = fastbin_index(request2size(MAX_FAST_SIZE)) + 1;
/** FASTBIN_CONSOLIDATION_THRESHOLD: freeing this much consolidates and may trim. */
export const FASTBIN_CONSOLIDATION_THRESHOLD = 65536;

/* ---- bins ---- */

export const NBINS = 128;
export const NSMALLBINS = 64;
export const SMALLBIN_WIDTH = MALLOC_ALIGNMENT;
export const SMALLBIN_CORRECTION = MALLOC_ALIGNMENT > CHUNK_HDR_SZ ? 1 : 0;
export const MIN_LARGE_SIZE = (NSMALLBINS - SMALLBIN_CORRECTION) * SMALLBIN_WIDTH;

export function in_smallbin_range(sz: number): boolean {
  return sz < MIN_LARGE_SIZE;
}

export function smallbin_index(sz: number): number {
  return (SMALLBIN_WIDTH === 16 ? sz >>> 4 : sz >>> 3) + SMALLBIN_CORRECTION;
}

/** largebin_index_32_big (SIZE_SZ 4 with MALLOC_ALIGNMENT 16). */
export function largebin_index(sz: number): number {
  if (sz >>> 6 <= 45) return 49 + (sz >>> 6);
  if (sz >>> 9 <= 20) return 91 + (sz >>> 9);
  if (sz >>> 12 <= 10) return 110 + (sz >>> 12);
  if (sz >>> 15 <= 4) return 119 + (sz >>> 15);
  if (sz >>> 18 <= 2) return 124 + (sz >>> 18);
  return 126;
}

export function bin_index(sz: number): number {
  return in_smallbin_range(sz) ? smallbin_index(sz) : largebin_index(sz);
}

/* ---- tcache ---- */

export const TCACHE_MAX_BINS = 64;
export const TCACHE_FILL_COUNT = 7;
export function csize2tidx(x: number): number {
  return Math.floor((x - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT);
}
export function tidx2usize(idx: number): number {
  return idx * MALLOC_ALIGNMENT + MINSIZE - SIZE_SZ;
}
/** sizeof (tcache_perthread_struct): uint16_t counts[64] and 64 pointers. */
export const SIZEOF_TCACHE_PERTHREAD = 2 * TCACHE_MAX_BINS + 4 * TCACHE_MAX_BINS;

/* ---- thresholds (malloc.c, malloc-machine.h) ---- */

export const DEFAULT_MMAP_THRESHOLD_MIN = 128 * 1024;
/** 32-bit value: 512 KiB. */
export const DEFAULT_MMAP_THRESHOLD_MAX = 512 * 1024;
export const DEFAULT_MMAP_THRESHOLD = DEFAULT_MMAP_THRESHOLD_MIN;
export const DEFAULT_TRIM_THRESHOLD = 128 * 1024;
/** sysdeps/generic/malloc-machine.h (malloc.c's own default is 0). */
export const DEFAULT_TOP_PAD = 128 * 1024;
export const DEFAULT_MMAP_MAX = 65536;

/* ---- heaps of non-main arenas (arena.c) ---- */

export const HEAP_MIN_SIZE = 32 * 1024;
export const HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX;
/** sizeof (heap_info) on 32-bit: ar_ptr, prev, size, mprotect_size, pagesize, pad to 8 mod 16. */
export const SIZEOF_HEAP_INFO = 5 * SIZE_SZ + ((-3 * SIZE_SZ) & MALLOC_ALIGN_MASK);
/**
 * sizeof (struct malloc_state) on 32-bit: mutex, flags, have_fastchunks, fastbinsY[11],
 * top, last_remainder, bins[254], binmap[4], next, next_free, attached_threads,
 * system_mem, max_system_mem.
 */
export const SIZEOF_MALLOC_STATE = 4 * (3 + NFASTBINS + 2 + (NBINS * 2 - 2) + NBINS / 32 + 2 + 3);

/** NARENAS_FROM_NCORES on 32-bit. */
export function narenas_from_ncores(n: number): number {
  return n * (SIZE_SZ === 4 ? 2 : 8);
}
