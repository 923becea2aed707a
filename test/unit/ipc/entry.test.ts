/*
 * File: test/unit/ipc/entry.test.ts
 * Purpose: ipc_entry — name layout (index + generation) and user-reference arithmetic.
 */

import { describe, expect, it } from 'vitest';
import { MACH_PORT_DEAD, MACH_PORT_UREFS_MAX } from '../../../src/mach/port.js';
import {
  IE_BITS_TYPE, IE_BITS_UREFS, MACH_PORT_GEN, MACH_PORT_INDEX, MACH_PORT_INDEX_MAX, MACH_PORT_MAKE,
  MACH_PORT_UREFS_OVERFLOW, MACH_PORT_UREFS_UNDERFLOW,
} from '../../../src/ipc/entry.js';

describe('names', () => {
  it('MACH_PORT_MAKE puts the index above an 8-bit generation', () => {
    expect(MACH_PORT_MAKE(1, 0)).toBe(0x100);
    expect(MACH_PORT_MAKE(0x1234, 0x56)).toBe(0x123456);
    expect(MACH_PORT_INDEX(0x123456)).toBe(0x1234);
    expect(MACH_PORT_GEN(0x123456)).toBe(0x56);
  });

  it('names are unsigned 32-bit and the largest index never makes MACH_PORT_DEAD', () => {
    expect(MACH_PORT_MAKE(0xffffff, 0xff)).toBe(MACH_PORT_DEAD);
    expect(MACH_PORT_MAKE(MACH_PORT_INDEX_MAX, 0xff)).toBe(0xfffffeff);
    expect(MACH_PORT_INDEX(MACH_PORT_DEAD)).toBe(0xffffff);
  });
});

describe('ie_bits', () => {
  it('splits urefs (16 bits) from the type (5 bits)', () => {
    const bits = 0x00010000 | 7;
    expect(IE_BITS_UREFS(bits)).toBe(7);
    expect(IE_BITS_TYPE(bits)).toBe(0x00010000);
    expect(IE_BITS_TYPE(0x00200000 | 0x00020000)).toBe(0x00020000);
  });
});

describe('user references (ipc/port.h)', () => {
  it('MACH_PORT_UREFS_OVERFLOW: only positive deltas past MACH_PORT_UREFS_MAX', () => {
    expect(MACH_PORT_UREFS_MAX).toBe(0xffff);
    expect(MACH_PORT_UREFS_OVERFLOW(0xfffe, 1)).toBe(false);
    expect(MACH_PORT_UREFS_OVERFLOW(0xffff, 1)).toBe(true);
    expect(MACH_PORT_UREFS_OVERFLOW(5, 0xfffb)).toBe(true);
    expect(MACH_PORT_UREFS_OVERFLOW(0xffff, -1)).toBe(false);
  });

  it('MACH_PORT_UREFS_UNDERFLOW: only negative deltas below zero', () => {
    expect(MACH_PORT_UREFS_UNDERFLOW(3, -3)).toBe(false);
    expect(MACH_PORT_UREFS_UNDERFLOW(3, -4)).toBe(true);
    expect(MACH_PORT_UREFS_UNDERFLOW(0, 1)).toBe(false);
  });
});
