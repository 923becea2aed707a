/*
 * The default pager's backing store: the free-space map (a bitmap of page slots,
 * next-fit) and the swap file's page I/O.
 */

import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDefaultPagerArgs, parseSize } from '../../../../src/servers/default-pager/args.js';
import { SlotMap, SwapFile } from '../../../../src/servers/default-pager/swap.js';
import { PAGE_SIZE } from '../../../../src/vm/vm_param.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmach-swap-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SlotMap', () => {
  it('allocates every slot once, next fit, then reports full', () => {
    const m = new SlotMap(70);
    const got = Array.from({ length: 70 }, () => m.alloc());
    expect(got).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(m.alloc()).toBe(-1);
    expect(m.free).toBe(0);
    m.release(33);
    m.release(5);
    // next fit: the search goes on from where it stopped (wrapping), finding 5 first
    expect(m.alloc()).toBe(5);
    expect(m.alloc()).toBe(33);
    expect(m.inUse).toBe(70);
  });

  it('refuses to free a slot not in use', () => {
    const m = new SlotMap(8);
    expect(() => m.release(3)).toThrow(/not in use/);
    const s = m.alloc();
    m.release(s);
    expect(() => m.release(s)).toThrow(/not in use/);
    expect(() => m.release(8)).toThrow(/not in use/);
  });

  it('goes back to empty when everything is released', () => {
    const m = new SlotMap(1000);
    const slots: number[] = [];
    for (let i = 0; i < 1000; i++) slots.push(m.alloc());
    for (const s of slots.reverse()) m.release(s);
    expect(m.inUse).toBe(0);
    expect(m.free).toBe(1000);
    for (let s = 0; s < 1000; s++) expect(m.isSet(s)).toBe(false);
  });
});

describe('SwapFile', () => {
  it('is a private file of the asked size, pages written and read back in their slots', () => {
    const path = join(dir, 'swap1');
    const swap = new SwapFile({ path, pages: 16 });
    expect(statSync(path).size).toBe(16 * PAGE_SIZE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const a = swap.alloc();
    const b = swap.alloc();
    swap.write(a, new Uint8Array(PAGE_SIZE).fill(0xaa));
    swap.write(b, new Uint8Array(10).fill(0xbb)); // short: zero-padded
    expect(swap.read(a).every((x) => x === 0xaa)).toBe(true);
    const pb = swap.read(b);
    expect(pb.subarray(0, 10).every((x) => x === 0xbb)).toBe(true);
    expect(pb.subarray(10).every((x) => x === 0)).toBe(true);
    expect(swap.freeBytes).toBe(14 * PAGE_SIZE);
    expect(() => swap.read(5)).toThrow(/not allocated/);
    swap.close();
    expect(existsSync(path)).toBe(true);
  });

  it('a temporary swap file goes when closed', () => {
    const path = join(dir, 'swap2');
    const swap = new SwapFile({ path, pages: 1, removeOnClose: true });
    swap.close();
    expect(existsSync(path)).toBe(false);
  });
});

describe('the command line', () => {
  it('sizes with suffixes, in pages', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('64K')).toBe(65536);
    expect(parseSize('2m')).toBe(2 << 20);
    expect(parseSize('1G')).toBe(1 << 30);
    expect(parseSize('3MiB')).toBe(3 << 20);
    expect(() => parseSize('x')).toThrow(/bad size/);
    expect(() => parseSize('0')).toThrow(/bad size/);
    expect(parseDefaultPagerArgs(['--swap', 'f', '--swap-size', '10000'])).toMatchObject({ pages: 3, json: false });
    expect(parseDefaultPagerArgs([]).pages).toBe((64 << 20) / PAGE_SIZE);
    expect(parseDefaultPagerArgs(['--swap', '/tmp/s']).swap).toBe('/tmp/s');
    expect(() => parseDefaultPagerArgs(['--swap'])).toThrow(/needs a value/);
    expect(() => parseDefaultPagerArgs(['--bogus'])).toThrow(/unknown option/);
  });
});
