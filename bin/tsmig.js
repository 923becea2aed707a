#!/usr/bin/env node
// tsmig: the MIG-compatible .defs compiler (the build if current, else the sources).
import { load } from './resolve.js';

const { main } = await load('codegen/cli.js', 'codegen/cli.ts');
process.exitCode = await main(process.argv.slice(2));
