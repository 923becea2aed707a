import { describe, expect, it } from 'vitest';
import { VM_LEVELS, VM_LEVEL_DEFAULT, vm_level_features } from '../../../src/vm/level.js';
import {
  PAGE_SIZE,
  assert_vm_offset,
  page_aligned,
  round_page,
  trunc_page,
  vm_offset_add,
  vm_offset_and,
  vm_offset_max,
} from '../../../src/vm/vm_param.js';

describe('vm_param', () => {
  it('pages are 4096 bytes; trunc_page and round_page', () => {
    expect(PAGE_SIZE).toBe(4096);
    expect([trunc_page(0), trunc_page(0x1fff), trunc_page(0x2000)]).toEqual([0, 0x1000, 0x2000]);
    expect([round_page(32, 0), round_page(32, 1), round_page(32, 0x1000)]).toEqual([0, 0x1000, 0x1000]);
    expect(page_aligned(0x3000)).toBe(true);
    expect(page_aligned(0x3001)).toBe(false);
  });

  it('wraps like a C word', () => {
    expect(vm_offset_add(32, 0xfffff000, 0x2000)).toBe(0x1000);
    expect(round_page(32, 0xfffff001)).toBe(0);
    expect(vm_offset_add(64, 0xfffff000, 0x2000)).toBe(0x100001000);
    expect(vm_offset_max(32)).toBe(0xffffffff);
  });

  it('vm_offset_and works beyond 31 bits', () => {
    expect(vm_offset_and(0x12345, 0xfff)).toBe(0x345);
    expect(vm_offset_and(0xf0001000, 0xf0000fff)).toBe(0xf0000000);
    expect(vm_offset_and(0x7fff00001000, 0xffff)).toBe(0x1000);
  });

  it('assert_vm_offset rejects what a word cannot hold', () => {
    expect(() => assert_vm_offset(32, 0xffffffff, 'x')).not.toThrow();
    expect(() => assert_vm_offset(32, 2 ** 32, 'x')).toThrow(RangeError);
    expect(() => assert_vm_offset(64, 2 ** 40, 'x')).not.toThrow();
    expect(() => assert_vm_offset(64, -1, 'x')).toThrow(RangeError);
    expect(() => assert_vm_offset(64, 1.5, 'x')).toThrow(RangeError);
  });
});

describe('levels', () => {
  it('L0 has none of the 2023 work, L1 all but vm_map_coalesce_entry, L2 everything; L2 is the default', () => {
    expect(VM_LEVELS).toEqual(['L0', 'L1', 'L2']);
    expect(VM_LEVEL_DEFAULT).toBe('L2');
    expect(vm_level_features('L0')).toEqual({ object_coalesce_v2: false, forward_extension: false, eager_page_release: false, coalesce_entry: false });
    expect(vm_level_features('L1')).toEqual({ object_coalesce_v2: true, forward_extension: true, eager_page_release: true, coalesce_entry: false });
    expect(vm_level_features('L2')).toEqual({ object_coalesce_v2: true, forward_extension: true, eager_page_release: true, coalesce_entry: true });
  });
});
