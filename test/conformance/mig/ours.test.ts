/**
 * Our own defs/ against GNU's: every routine present both in ours and in GNU Mach's
 * (or the Hurd's) file of the same name has the same message id and the same layout,
 * as the real GNU MIG computes it for GNU's file. So a real client and our stubs agree.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layoutFile } from '../../../codegen/tsmig.js';
import { GNUMACH_INCLUDE, HURD_DEFS } from './corpus.js';
import { DEFAULT_DEFINES, rejectionReason, requireMig, runMig } from './oracle.js';

const HAVE_MIG = requireMig();
const DEFS = fileURLToPath(new URL('../../../defs/', import.meta.url));

const PAIRS: Array<{ ours: string; gnu: string; includeDirs: string[] }> = [
  { ours: 'mach.defs', gnu: join(GNUMACH_INCLUDE, 'mach/mach.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'mach_port.defs', gnu: join(GNUMACH_INCLUDE, 'mach/mach_port.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'notify.defs', gnu: join(GNUMACH_INCLUDE, 'mach/notify.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'memory_object.defs', gnu: join(GNUMACH_INCLUDE, 'mach/memory_object.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'memory_object_default.defs', gnu: join(GNUMACH_INCLUDE, 'mach/memory_object_default.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'device.defs', gnu: join(GNUMACH_INCLUDE, 'device/device.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'mach_host.defs', gnu: join(GNUMACH_INCLUDE, 'mach/mach_host.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'gnumach.defs', gnu: join(GNUMACH_INCLUDE, 'mach/gnumach.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'default_pager.defs', gnu: join(GNUMACH_INCLUDE, 'mach/default_pager.defs'), includeDirs: [GNUMACH_INCLUDE] },
  { ours: 'io.defs', gnu: join(HURD_DEFS, 'hurd/io.defs'), includeDirs: [HURD_DEFS, GNUMACH_INCLUDE] },
  { ours: 'fs.defs', gnu: join(HURD_DEFS, 'hurd/fs.defs'), includeDirs: [HURD_DEFS, GNUMACH_INCLUDE] },
];

describe.skipIf(!HAVE_MIG)('defs/ agree with GNU Mach and the Hurd', () => {
  for (const pair of PAIRS) {
    it(`${pair.ours}: same subsystem, ids and layouts as GNU's`, () => {
      const run = runMig(pair.gnu, { includeDirs: pair.includeDirs, defines: [...DEFAULT_DEFINES] });
      expect(run.ok, rejectionReason(run)).toBe(true);
      const theirs = run.layout!;
      const ours = layoutFile(join(DEFS, pair.ours), { includeDirs: [DEFS] });
      expect(ours.subsystem).toEqual(theirs.subsystem);
      const byName = new Map(theirs.routines.map((r) => [r.name, r]));
      expect(ours.routines.length).toBeGreaterThan(0);
      for (const r of ours.routines) {
        const t = byName.get(r.name);
        expect(t, `${r.name} exists in GNU's ${pair.ours}`).toBeDefined();
        expect(r, `${pair.ours} ${r.name}`).toEqual(t);
      }
    });
  }
});
