#!/usr/bin/env node
// tsmig: the MIG-compatible .defs compiler. Runs the built CLI (npm run build).
import { main } from '../dist/codegen/cli.js';
process.exitCode = await main(process.argv.slice(2));
