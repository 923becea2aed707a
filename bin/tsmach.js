#!/usr/bin/env node
// tsmach: the kernel, boot, and tools. Runs the built CLI (npm run build).
import { main } from '../dist/src/tools/cli.js';
process.exitCode = await main(process.argv.slice(2));
