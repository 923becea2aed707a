/*
 * File: test/unit/tools/demo.test.ts
 * Purpose: the demo's parts that need no processes: its command line, the tree selection
 *          and the cached image (mke2fs -d, GNU grep's count over the same tree), reading
 *          ext2fs's vminfo by address ranges, the tables, the SVG chart; and tsmach grep's
 *          client-mode options.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeXml, lineChart, niceTicks } from '../../../src/tools/chart.js';
import {
  classifyVminfo, demoChart, demoImage, formatBreakdown, formatTable, haveTools, heapExcerpt, parseDemoArgs, selectTree,
} from '../../../src/tools/demo.js';
import { parseGrepArgs } from '../../../src/tools/grep.js';
import type { StressResult } from '../../../src/tools/stress.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmach-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small tree: 10 files over nested directories, a symlink. */
function tree(): string {
  const root = join(dir, `tree-${Math.random().toString(36).slice(2)}`);
  for (const d of ['a', 'a/x', 'b', 'c/d']) mkdirSync(join(root, d), { recursive: true });
  const files = ['top.h', 'a/1.h', 'a/2.h', 'a/x/3.h', 'a/x/4.h', 'b/5.h', 'b/6.h', 'c/d/7.h', 'c/d/8.h', 'c/9.h'];
  files.forEach((f, k) => writeFileSync(join(root, f), `#define NR_${k} ${k}\n${'x'.repeat(k * 100)}\n`));
  symlinkSync('1.h', join(root, 'a/link.h'));
  return root;
}

describe('tsmach demo: command line', () => {
  it('defaults, --quick, --files, --levels, errors', () => {
    expect(parseDemoArgs([])).toMatchObject({ from: '/usr/include', files: 3000, pattern: 'NR', levels: ['L0', 'L1', 'L2'], sequential: false, format: 'object' });
    expect(parseDemoArgs(['--quick']).files).toBe(400);
    expect(parseDemoArgs(['--files', '0', '--levels', 'l2,L0', '--sequential', '--format', 'pages']))
      .toMatchObject({ files: 0, levels: ['L2', 'L0'], sequential: true, format: 'pages' });
    expect(() => parseDemoArgs(['--levels', 'L3'])).toThrow(/not one of/);
    expect(() => parseDemoArgs(['--files', '-1'])).toThrow(/--files/);
    expect(() => parseDemoArgs(['--bogus'])).toThrow(/unknown option/);
  });

  it('tsmach grep: --server and --summary (client mode); --image keeps the embedded mode', () => {
    const c = parseGrepArgs(['NR', '-r', '/', '--server', 'fs2', '--summary', '-']);
    expect(c).toMatchObject({ image: null, server: 'fs2', summary: '-' });
    expect(c.options.files).toEqual(['/']);
    expect(parseGrepArgs(['NR', '-r', '--image', 'x.img']).server).toBe('ext2fs');
  });
});

describe('tsmach demo: the tree and its image', () => {
  it('selectTree: sorted depth first; N files picked evenly, with the directories leading to them', () => {
    const root = tree();
    const all = selectTree(root, 0);
    expect(all.files.map((f) => f.path)).toEqual(['a/1.h', 'a/2.h', 'a/x/3.h', 'a/x/4.h', 'b/5.h', 'b/6.h', 'c/9.h', 'c/d/7.h', 'c/d/8.h', 'top.h']);
    expect(all.dirs).toEqual(['', 'a', 'a/x', 'b', 'c', 'c/d']);
    expect(all.links).toEqual([{ path: 'a/link.h', target: '1.h' }]);
    const five = selectTree(root, 5);
    expect(five.allFiles).toBe(10);
    expect(five.files.map((f) => f.path)).toEqual(['a/2.h', 'a/x/4.h', 'b/6.h', 'c/d/7.h', 'top.h']);
    expect(five.dirs).toEqual(['', 'a', 'a/x', 'b', 'c', 'c/d']);
    const one = selectTree(root, 1);
    expect(one.files.map((f) => f.path)).toEqual(['top.h']);
    expect(one.dirs).toEqual(['']);
    expect(one.links).toEqual([]);
  });

  const tools = haveTools();
  it.skipIf(!tools.mke2fs)('demoImage: made with mke2fs -d once, then taken from the cache; GNU grep counted on the same tree', () => {
    const root = tree();
    const cache = join(dir, 'cache');
    const a = demoImage(root, 6, 'NR', cache);
    expect(a).toMatchObject({ made: true, files: 6, allFiles: 10, links: 1 });
    expect(statSync(a.path).size).toBeGreaterThan(1 << 20);
    if (tools.gnuGrep) expect(a.gnuGrep).toMatchObject({ pattern: 'NR', lines: 6, status: 0 });
    const b = demoImage(root, 6, 'NR', cache);
    expect(b).toMatchObject({ made: false, path: a.path, files: 6 });
    // debugfs sees the selected files.
    const r = spawnSync('debugfs', ['-R', 'ls -p /a', a.path], { encoding: 'utf8' });
    if (r.status === 0) expect(r.stdout).toMatch(/\/2\.h\//);
    // Another selection is another image.
    expect(demoImage(root, 0, 'NR', cache).path).not.toBe(a.path);
  });
});

/** A StressResult for the formatting helpers. */
function result(level: 'L0' | 'L1' | 'L2', entries: number): StressResult {
  const vminfo = [
    '0x20000000[0x21000] (prot=RWX)',
    '0x20021000[0x7fdf000] (prot=0, max_prot=RWX, offs=0x21000)',
    ...Array.from({ length: entries - 4 }, (_, k) => `0x${(0x28100000 + k * 0x1000).toString(16)}[0x1000] (prot=RW, max_prot=RWX)`),
    '0x30000000[0x10000] (prot=RW, max_prot=RWX)',
    '0x40000000[0x1000] (prot=R, inherit=share, mem_obj=3)',
  ];
  return {
    level, grep: { files: 10, directories: 3, bytes: 1234, selected: 7, status: 0, ms: 1500, rpcs: 99 }, lines: 7, wallMs: 2000,
    entries, peak: entries + 1, samples: [[0, 2], [500, entries]], vminfo, messages: { grep: 99, ext2fs: 400 }, rpcs: 499, vmCalls: {},
    ext2fs: {
      layout: [
        { kind: 'brk heap', address: 0x20000000, size: 0x8000000 }, { kind: 'arena heap', address: 0x28100000, size: 0x100000 },
        { kind: 'thread stack', address: 0x30000000, size: 0x10000 },
      ],
    } as StressResult['ext2fs'],
    ext2fsErrors: [], after: { tasks: 0, taskNames: [] } as unknown as StressResult['after'], defaultPager: true,
  };
}

describe('tsmach demo: reading the results', () => {
  it('classifyVminfo: lines by the range their address falls in', () => {
    const r = result('L0', 10);
    expect(classifyVminfo(r.vminfo, r.ext2fs.layout)).toEqual({ 'arena heap': 6, 'brk heap': 2, 'thread stack': 1, 'page pool': 0, other: 1 });
  });

  it('the table, the breakdown and the heap excerpt', () => {
    const rs = [result('L0', 40), result('L2', 6)];
    const t = formatTable(rs).join('\n');
    expect(t).toMatch(/L0 \(pre-2023\)\s+L2 \(current\)/);
    expect(t).toMatch(/ext2fs map entries at the end\s+40\s+6/);
    expect(t).toMatch(/ext2fs map entries at the peak\s+41\s+7/);
    expect(t).toMatch(/search time\s+1\.5 s/);
    expect(formatBreakdown(rs).join('\n')).toMatch(/arena heaps \(threads' malloc\)\s+36\s+2/);
    const ex = heapExcerpt(rs[0]!, 3);
    expect(ex).toHaveLength(4);
    expect(ex[3]).toMatch(/33 more lines/);
  });

  it('the chart: a well-formed SVG with one step line per level', () => {
    const svg = demoChart([result('L0', 40), result('L1', 30), result('L2', 6)], 'grep <NR> & co');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).toContain('grep &lt;NR&gt; &amp; co');
    expect(svg).toContain('L0 (pre-2023): 40');
    const open = (svg.match(/<(svg|text|polyline|title)\b/g) ?? []).length;
    const close = (svg.match(/<\/(svg|text|polyline|title)>/g) ?? []).length;
    expect(open).toBe(close);
  });
});

describe('chart.ts', () => {
  it('niceTicks: round steps from 0 past the maximum', () => {
    expect(niceTicks(1559)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('lineChart: steps, a log scale, escaping', () => {
    const svg = lineChart([{ label: 'a', points: [[0, 1], [1, 100]] }], { logY: true, title: 'x"y' });
    expect(svg).toContain('>100</text>');
    expect(svg).toContain('x&quot;y');
    // A step: the old value holds until the new x.
    expect(svg).toMatch(/points="78\.0,\d+\.\d (\d+\.\d),(\d+\.\d) \1,/);
    expect(escapeXml('<&>"')).toBe('&lt;&amp;&gt;&quot;');
  });
});
