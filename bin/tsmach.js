#!/usr/bin/env node
// tsmach: the kernel, boot and the tools. Runs the built CLI (npm run build), or the
// TypeScript sources through tsx in a checkout that has not been built.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/src/tools/cli.js', import.meta.url);
let main;
if (existsSync(dist)) ({ main } = await import(dist.href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('../src/tools/cli.ts', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
