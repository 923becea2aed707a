/*
 * File: tools/cli.ts
 * Purpose: the `tsmach` command: one entry point for the kernel, boot and the tools.
 *          Subcommands are added as the pieces exist.
 */

import { bootCommand } from './boot.js';
import { demo } from './demo.js';
import { grepCommand } from './grep.js';
import { kernelCommand } from './kernel.js';
import { psCommand } from './ps.js';
import { vminfoCommand } from './vminfo.js';
import { vmsim_main } from './vmsim.js';

const USAGE = `usage: tsmach demo       the Hurd's stress test (grep NR -r through ext2fs) at L0, L1, L2; --help for options
       tsmach kernel     run the kernel process (tasks connect over WebSocket); --help for options
       tsmach boot       run the kernel and boot servers: tsmach boot -- server.js ARGS \\; other.js ...
       tsmach grep       GNU grep through an ext2fs server task: grep PATTERN -r PATH [--server NAME | --image FILE.img]
       tsmach vmsim      run a VM script on an embedded kernel: vmsim [SCRIPT...] (standard input if none)
       tsmach ps         the running kernel's tasks: id, map entries, resident pages, size, name
       tsmach vminfo     a task's map as the Hurd's vminfo prints it: vminfo [-a] [-s] [-v] [-d] [-h] TASK [ADDR [SIZE]]
       tsmach help`;

export async function main(argv: string[]): Promise<number> {
  // A closed pipe (tsmach ... | head) ends the output quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); });
  const [command] = argv;
  switch (command) {
    case 'demo': return demo(argv.slice(1));
    case 'grep': return grepCommand(argv.slice(1));
    case 'kernel': return kernelCommand(argv.slice(1));
    case 'boot': return bootCommand(argv.slice(1));
    case 'vmsim': return vmsim_main(argv.slice(1));
    case 'ps': return psCommand(argv.slice(1));
    case 'vminfo': return vminfoCommand(argv.slice(1));
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`tsmach: unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}
