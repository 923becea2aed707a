import { describe, expect, it } from 'vitest';
import {
  CHUNK_HDR_SZ,
  DEFAULT_MMAP_THRESHOLD_MAX,
  HEAP_MAX_SIZE,
  MALLOC_ALIGNMENT,
  MINSIZE,
  MIN_LARGE_SIZE,
  NFASTBINS,
  SIZEOF_HEAP_INFO,
  SIZEOF_MALLOC_STATE,
  SIZEOF_TCACHE_PERTHREAD,
  SIZE_SZ,
  bin_index,
  checked_request2size,
  csize2tidx,
  fastbin_index,
  largebin_index,
  memsize,
  narenas_from_ncores,
  request2size,
  set_max_fast,
  DEFAULT_MXFAST,
  smallbin_index,
  tidx2usize,
} from '../../../src/libc/chunk.js';

describe('i386 chunk geometry', () => {
  it('has glibc 32-bit sizes with 16-byte alignment', () => {
    expect(SIZE_SZ).toBe(4);
    expect(MALLOC_ALIGNMENT).toBe(16);
    expect(CHUNK_HDR_SZ).toBe(8);
    expect(MINSIZE).toBe(16);
  });

  it('request2size pads by one size field and rounds to 16', () => {
    expect(request2size(0)).toBe(16);
    expect(request2size(12)).toBe(16);
    expect(request2size(13)).toBe(32);
    expect(request2size(100)).toBe(112);
    expect(request2size(384)).toBe(400);
    expect(checked_request2size(-1)).toBe(0);
    expect(checked_request2size(0x7fffffff)).toBe(0);
    expect(memsize(112, false)).toBe(108);
    expect(memsize(112, true)).toBe(104);
  });

  it('fastbins go up to 64 bytes in 11 slots', () => {
    expect(set_max_fast(DEFAULT_MXFAST)).toBe(64);
    expect(NFASTBINS).toBe(11);
    expect(fastbin_index(16)).toBe(0);
    expect(fastbin_index(64)).toBe(6);
  });

  it('bins: small below 1008 bytes (shifted by one), large by largebin_index_32_big', () => {
    expect(MIN_LARGE_SIZE).toBe(1008);
    expect(smallbin_index(16)).toBe(2);
    expect(smallbin_index(992)).toBe(63);
    expect(bin_index(1008)).toBe(64);
    expect(largebin_index(1008)).toBe(64);
    expect(largebin_index(2880)).toBe(94);
    expect(largebin_index(2944)).toBe(96);
    expect(largebin_index(3072)).toBe(97);
    expect(largebin_index(HEAP_MAX_SIZE)).toBe(126);
  });

  it('tcache: 64 bins up to 1020 user bytes; the per-thread struct is 384 bytes', () => {
    expect(csize2tidx(16)).toBe(0);
    expect(csize2tidx(32)).toBe(1);
    expect(tidx2usize(63)).toBe(1020);
    expect(csize2tidx(request2size(1020))).toBe(63);
    expect(SIZEOF_TCACHE_PERTHREAD).toBe(384);
  });

  it('heaps: 1 MiB on 32-bit; heap_info 24 and malloc_state 1116 bytes', () => {
    expect(DEFAULT_MMAP_THRESHOLD_MAX).toBe(512 * 1024);
    expect(HEAP_MAX_SIZE).toBe(0x100000);
    expect(SIZEOF_HEAP_INFO).toBe(24);
    expect((SIZEOF_HEAP_INFO + 2 * SIZE_SZ) % MALLOC_ALIGNMENT).toBe(0);
    expect(SIZEOF_MALLOC_STATE).toBe(1116);
    expect(narenas_from_ncores(1)).toBe(2);
    expect(narenas_from_ncores(4)).toBe(8);
  });
});
