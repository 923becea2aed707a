/*
 * bench/run.ts: `npm run bench [-- NAME ...] [--quick]`: the benchmarks one after another
 * (all of them, or those named: vm-map, tsmig, ipc-null-rpc, ipc-ws, grep), each in its own
 * process with its output as it comes. --quick is passed to those that have a short run.
 * Exits with the first failing benchmark's status.
 */

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['vm-map', 'tsmig', 'ipc-null-rpc', 'ipc-ws', 'grep'] as const;
const QUICK_FLAG: Record<(typeof BENCHES)[number], string[]> = {
  'vm-map': ['--quick'], tsmig: ['--runs', '3'], 'ipc-null-rpc': ['--quick'], 'ipc-ws': ['--quick'], grep: ['--quick'],
};

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const named = argv.filter((a) => a !== '--quick');
const unknown = named.filter((n) => !(BENCHES as readonly string[]).includes(n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')} (have: ${BENCHES.join(', ')})\n`);
  process.exit(2);
}
const chosen = named.length > 0 ? BENCHES.filter((b) => named.includes(b)) : BENCHES;

for (const name of chosen) {
  process.stdout.write(`\n==== bench/${name}.ts${quick ? ' (quick)' : ''}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...(quick ? QUICK_FLAG[name] : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
