#!/usr/bin/env node
// tsmach: the kernel, boot and the tools (the build if current, else the sources).
import { load } from './resolve.js';

const { main } = await load('src/tools/cli.js', 'src/tools/cli.ts');
process.exitCode = await main(process.argv.slice(2));
