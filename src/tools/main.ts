/*
 * File: tools/main.ts
 * Purpose: runs the `tsmach` command from the sources (`node --import tsx src/tools/main.ts
 *          kernel ...`): what bin/tsmach.js does without a build, for tests and scripts.
 */

import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
