/**
 * tsmig against the real GNU MIG: for every .defs of gnumach-dev and of the Hurd corpus,
 * in the default variant and every variant the file tests, the layout tsmig computes
 * (ids, header bits, complex bits, sizes, every descriptor and offset) equals what
 * `x86_64-gnu-mig` generates, routine by routine; a file MIG rejects, tsmig rejects too.
 * Needs `x86_64-gnu-mig`: skipped without it, failing when CI is set.
 */
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompileErrors } from '../../../codegen/diagnostic.js';
import { layoutFile } from '../../../codegen/tsmig.js';
import { corpus, GNUMACH_INCLUDE, HURD_DEFS } from './corpus.js';
import { mapLimit, rejectionReason, requireMig, runMigAsync } from './oracle.js';

const HAVE_MIG = requireMig();

describe.skipIf(!HAVE_MIG)('tsmig = GNU MIG on the whole corpus', () => {
  it('computes the same layout for every routine of every file × variant, and rejects what MIG rejects', async () => {
    const jobs = corpus().flatMap((e) => e.variants.map((v) => ({ e, v })));
    const runs = await mapLimit(jobs, 3, async ({ e, v }) => ({ e, v, mig: await runMigAsync(e.file, { includeDirs: e.includeDirs, defines: v.defines }) }));
    const rel = (f: string): string => (f.startsWith(HURD_DEFS) ? `hurd-defs/${relative(HURD_DEFS, f)}` : relative(GNUMACH_INCLUDE, f));
    const mismatches: string[] = [];
    const counts = { files: new Set<string>(), runs: 0, routines: 0, fields: 0, rejectedByBoth: 0 };
    for (const { e, v, mig } of runs) {
      const where = `${rel(e.file)} [${v.name}]`;
      counts.files.add(e.file);
      counts.runs++;
      let ours;
      let ourError: string | null = null;
      try {
        ours = layoutFile(e.file, { includeDirs: e.includeDirs, defines: v.defines });
      } catch (err) {
        if (!(err instanceof CompileErrors)) throw err;
        ourError = err.errors[0]!.message;
      }
      if (!mig.ok) {
        if (ourError === null) mismatches.push(`${where}: MIG rejects it (${rejectionReason(mig)}) but tsmig accepts it`);
        else counts.rejectedByBoth++;
        continue;
      }
      if (ourError !== null || !ours) {
        mismatches.push(`${where}: tsmig rejects it: ${ourError}`);
        continue;
      }
      const theirs = mig.layout!;
      if (JSON.stringify(ours.subsystem) !== JSON.stringify(theirs.subsystem)) mismatches.push(`${where}: subsystem differs`);
      if (ours.routines.length !== theirs.routines.length) mismatches.push(`${where}: ${ours.routines.length} routines, MIG has ${theirs.routines.length}`);
      for (const [i, r] of ours.routines.entries()) {
        const t = theirs.routines[i];
        counts.routines++;
        counts.fields += r.request.fields.length + (r.reply?.fields.length ?? 0);
        if (JSON.stringify(r) !== JSON.stringify(t)) mismatches.push(`${where} ${r.name}:\n  tsmig ${JSON.stringify(r)}\n  MIG   ${JSON.stringify(t)}`);
      }
    }
    console.log(`tsmig vs GNU MIG: ${counts.files.size} files, ${counts.runs} file×variant runs, ${counts.routines} routines, ${counts.fields} fields compared; ${counts.rejectedByBoth} runs rejected by both; ${mismatches.length} mismatches`);
    expect(mismatches).toEqual([]);
    expect(counts.routines).toBeGreaterThan(3000);
  });
});
