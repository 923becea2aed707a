/*
 * File: servers/ext2fs/main.ts
 * Purpose: the ext2fs server as its own process: a boot module of `tsmach boot`.
 *
 *   tsmach boot --disk IMAGE [--vm-level L] -- src/servers/ext2fs/main.ts [OPTIONS] [DEVICE]
 *
 * It connects to the kernel with its boot ticket (so it holds the device master port),
 * opens DEVICE (default hd0) with device_open, serves the ext2 file system on it
 * (ext2fs_task.ts: the device store, the glibc-like heap over its own VM map, the file
 * pager, the io/fs server) and checks its root directory in with the name service, by
 * default as "ext2fs". Clients (`tsmach grep`) look it up there.
 *
 * Options:
 *   --netname NAME          the name to check in (default ext2fs)
 *   --io-read pager|cache   how io_read gets file data (default pager, as libdiskfs)
 *   --no-dir-windows        dir_lookup does not map the directory
 *   --node-cache N          unreferenced nodes kept (default: unbounded, as libdiskfs)
 *   --buffer-blocks N       block buffers kept (default 1024)
 *   --cores N               processors glibc's malloc sees (default 1)
 *   --pager-workers N       libpager worker threads (default 1)
 *
 * On standard output it prints one JSON line when it serves ({"ready": true, ...}), and,
 * for each line "stats" read on standard input, a JSON line with its counters once its
 * pending memory calls have taken effect. SIGTERM or SIGINT (or the end of standard
 * input, when it is a pipe and "exit-on-eof" was asked with --exit-on-eof) ends it: the
 * task is terminated, which releases every right and every page it had.
 */

import { createInterface } from 'node:readline';
import { task_set_name } from '../../gen/gnumach.user.js';
import { mach_port_deallocate, mach_port_insert_right } from '../../gen/mach_port.user.js';
import { netname_check_in } from '../../gen/netname.user.js';
import { MACH_MSG_TYPE_MAKE_SEND } from '../../mach/message.js';
import { connect } from '../../transport/websocket.js';
import { startExt2fs, type Ext2fsTaskOptions } from './ext2fs_task.js';

const USAGE = 'usage: main.ts [--netname NAME] [--io-read pager|cache] [--no-dir-windows] [--node-cache N] [--buffer-blocks N] [--cores N] [--pager-workers N] [--exit-on-eof] [DEVICE]';

function parse(argv: string[]): { device: string; netname: string; exitOnEof: boolean; options: Ext2fsTaskOptions } {
  const options: Ext2fsTaskOptions = {};
  let device = 'hd0';
  let netname = 'ext2fs';
  let exitOnEof = false;
  const num = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${what} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--netname': netname = argv[++i] ?? ''; if (netname === '') throw new Error('--netname needs a name'); break;
      case '--io-read': {
        const v = argv[++i];
        if (v !== 'pager' && v !== 'cache') throw new Error('--io-read: pager or cache');
        options.ioRead = v;
        break;
      }
      case '--no-dir-windows': options.dirWindows = false; break;
      case '--node-cache': options.nodeCacheSize = num(argv[++i], a); break;
      case '--buffer-blocks': options.bufferBlocks = num(argv[++i], a); break;
      case '--cores': options.cores = num(argv[++i], a); break;
      case '--pager-workers': options.pagerWorkers = num(argv[++i], a); break;
      case '--exit-on-eof': exitOnEof = true; break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
        device = a;
    }
  }
  return { device, netname, exitOnEof, options };
}

let args: ReturnType<typeof parse>;
try {
  args = parse(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`ext2fs: ${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

const task = await connect({ name: 'ext2fs', onKernelLost: 'exit' });
// Booted as `tsmach boot -- .../ext2fs/main.ts`, the task is named after the file: it
// takes its own name (gnumach's task_set_name), as `tsmach ps` shows it.
if (task.info.name === 'main') await task_set_name(task.self, 'ext2fs').catch(() => undefined);
let ext2fs;
try {
  ext2fs = await startExt2fs(task, { ...args.options, device: args.device });
} catch (e) {
  process.stderr.write(`ext2fs: ${args.device}: ${(e as Error).message}\n`);
  task.terminate();
  process.exit(1);
}
const fs = ext2fs;

// The root directory, checked in with the name service (which keeps its own send right).
await mach_port_insert_right(task.self, fs.root, task.port(fs.root), MACH_MSG_TYPE_MAKE_SEND);
await netname_check_in(task.bootstrap!, args.netname, task.self, task.port(fs.root));
await mach_port_deallocate(task.self, fs.root);

let stopping = false;
const stop = (status: number): void => {
  if (stopping) return;
  stopping = true;
  // Terminating the task releases everything at once (as a process exit does on the Hurd).
  task.terminate();
  process.exit(status);
};
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));

const say = (v: unknown): void => { process.stdout.write(`${JSON.stringify(v)}\n`); };
say({
  ready: true, netname: args.netname, task: task.info.id, device: args.device, blockSize: fs.fs.blockSize,
  blocks: fs.fs.blocksCount, inodes: fs.fs.inodesCount, ioRead: args.options.ioRead ?? 'pager',
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') {
    void fs.memory.settle().then(() => say({ stats: fs.stats(), internalErrors: fs.internalErrors().map(String) }));
  } else if (cmd === 'exit') {
    stop(0);
  } else if (cmd !== '') {
    say({ error: `unknown command ${JSON.stringify(cmd)}` });
  }
});
lines.on('close', () => { if (args.exitOnEof) stop(0); });
