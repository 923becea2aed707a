/*
 * File: tools/demo.ts
 * Purpose: `npm run demo`. For now (the kernel does not exist yet): compile defs/ with
 *          tsmig and show what it generated and that it agrees with GNU MIG's numbering.
 *          It becomes the Hurd stress test once the kernel, pagers and ext2fs exist.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layoutFile } from '../../codegen/tsmig.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFS = join(ROOT, 'defs');
const GEN = join(ROOT, 'src', 'gen');

export function demo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  const files = readdirSync(DEFS).filter((f) => f.endsWith('.defs') && !f.endsWith('_types.defs')).sort();
  out('tsmach demo: tsmig compiled defs/ into typed TypeScript stubs (src/gen/)');
  out('');
  out(`  ${'interface'.padEnd(33)} ${'subsystem'.padEnd(27)} ${'ids'.padEnd(13)} routines  user stubs  server demux`);
  let routines = 0;
  for (const f of files) {
    const layout = layoutFile(join(DEFS, f), { includeDirs: [DEFS] });
    const x = f.replace(/\.defs$/, '');
    const ids = JSON.parse(readFileSync(join(GEN, `${x}.msgids.json`), 'utf8')) as { routines: Array<{ id: number }> };
    const first = ids.routines[0]?.id ?? layout.subsystem.base;
    const last = ids.routines.at(-1)?.id ?? layout.subsystem.base;
    const size = (p: string): string => `${(statSync(join(GEN, p)).size / 1024).toFixed(1)} KiB`;
    routines += layout.routines.length;
    out(`  ${`defs/${f}`.padEnd(33)} ${`${layout.subsystem.name} ${layout.subsystem.base}`.padEnd(27)} ${`${first}..${last}`.padEnd(13)} ${String(layout.routines.length).padStart(8)}  ${size(`${x}.user.ts`).padStart(10)}  ${size(`${x}.server.ts`).padStart(12)}`);
  }
  out('');
  // One routine in detail, as GNU MIG lays its messages out for x86_64.
  const mach = layoutFile(join(DEFS, 'mach.defs'), { includeDirs: [DEFS] });
  const va = mach.routines.find((r) => r.name === 'vm_allocate')!;
  out(`  vm_allocate: request id ${va.request.id}, ${String(va.request.size)} bytes, bits ${va.request.bits.remote} / ${va.request.bits.local}; reply id ${va.reply!.id}, ${String(va.reply!.size)} bytes`);
  for (const f of va.request.fields) out(`    +${String(f.offset).padStart(3)}  ${f.name.padEnd(9)} ${f.msgt_name} ${f.msgt_size} bits x ${f.msgt_number}${f.inline ? ', in line' : ', out of line'}`);
  out('');
  out(`  ${files.length} interfaces, ${routines} routines. The same ids and layouts as GNU Mach and the Hurd (npm test checks it against x86_64-gnu-mig).`);
  out('  Next: the kernel that serves them (IPC, VM), then the Hurd stress test: grep NR -r through an ext2fs-like server.');
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = demo();
