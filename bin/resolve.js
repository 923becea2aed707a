// Which entry point the bin scripts run: the build (dist/, `npm run build`) when it is at
// least as new as every source file, else the TypeScript sources through tsx (a checkout
// that was edited or never built).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'gen' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Import `distFile` (under dist/) if the build is current, else `sourceFile` through tsx. */
export async function load(distFile, sourceFile) {
  const dist = join(root, 'dist', distFile);
  if (existsSync(dist) && statSync(dist).mtimeMs >= Math.max(newest(join(root, 'codegen')), newest(join(root, 'src')))) {
    return import(new URL(`file://${dist}`).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`file://${join(root, sourceFile)}`).href);
}
