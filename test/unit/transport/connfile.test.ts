/**
 * How tasks find their kernel: the connection and token files (kern/connfile.ts), the
 * options connect() resolves from them and from the environment, and the module lists of
 * `tsmach boot` (kern/boot.ts).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultConnectionFile, defaultTokenFile, readConnectionFile, readTokenFile, removeConnectionFile, writeConnectionFile,
  writePrivateFile,
} from '../../../src/kern/connfile.js';
import { parseBootScript, parseModuleArgs, splitWords } from '../../../src/kern/boot.js';
import { parseKernelArgs, parseListen } from '../../../src/tools/kernel.js';
import { resolveConnectOptions } from '../../../src/transport/websocket.js';

const dirs: string[] = [];
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'tsmach-conn-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('connection file', () => {
  it('default location: $TSMACH_CONNECTION, then $XDG_RUNTIME_DIR/tsmach, then ~/.tsmach', () => {
    expect(defaultConnectionFile({ TSMACH_CONNECTION: '/x/k.json', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x/k.json');
    expect(defaultConnectionFile({ XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/run/user/1/tsmach/kernel.json');
    expect(defaultConnectionFile({})).toMatch(/\.tsmach\/kernel\.json$/);
    expect(defaultTokenFile('/run/user/1/tsmach/kernel.json')).toBe('/run/user/1/tsmach/token');
  });

  it('files are written 0600 in a 0700 directory, and read back', () => {
    const d = join(tmp(), 'sub');
    const file = join(d, 'kernel.json');
    writePrivateFile(join(d, 'token'), 'abc\n');
    writeConnectionFile(file, { url: 'ws://127.0.0.1:1', tokenFile: join(d, 'token'), pid: process.pid, vmLevel: 'L1' });
    expect(statSync(d).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'token')).mode & 0o777).toBe(0o600);
    expect(readConnectionFile(file)).toEqual({ url: 'ws://127.0.0.1:1', tokenFile: join(d, 'token'), pid: process.pid, vmLevel: 'L1' });
    expect(readTokenFile(join(d, 'token'))).toBe('abc');
    // an existing, world-readable token file is replaced by a private one
    writeFileSync(join(d, 'token'), 'old', { mode: 0o644 });
    writePrivateFile(join(d, 'token'), 'new');
    expect(statSync(join(d, 'token')).mode & 0o777).toBe(0o600);
    removeConnectionFile(file, process.pid + 1); // another kernel's: kept
    expect(readConnectionFile(file).pid).toBe(process.pid);
    removeConnectionFile(file);
    expect(() => readConnectionFile(file)).toThrow(/is `tsmach kernel` running/);
  });

  it('bad files say so', () => {
    const d = tmp();
    writeFileSync(join(d, 'a.json'), 'nope');
    writeFileSync(join(d, 'b.json'), '{"url": 3}');
    expect(() => readConnectionFile(join(d, 'a.json'))).toThrow(/bad JSON/);
    expect(() => readConnectionFile(join(d, 'b.json'))).toThrow(/url and tokenFile/);
  });

  it('connect() options: explicit, environment, connection file; the ticket is used once', () => {
    const d = tmp();
    writePrivateFile(join(d, 'token'), 'T0K\n');
    writeConnectionFile(join(d, 'k.json'), { url: 'ws://127.0.0.1:9', tokenFile: join(d, 'token'), pid: 1 });
    expect(resolveConnectOptions({ url: 'ws://h:1', token: 't', name: 'n' }, {})).toEqual({ url: 'ws://h:1', token: 't', name: 'n', ticket: undefined });
    const env: NodeJS.ProcessEnv = { TSMACH_CONNECTION: join(d, 'k.json'), TSMACH_TICKET: 'tick', TSMACH_TASK_NAME: 'ext2fs' };
    expect(resolveConnectOptions({}, env)).toEqual({ url: 'ws://127.0.0.1:9', token: 'T0K', name: 'ext2fs', ticket: 'tick' });
    expect(env.TSMACH_TICKET).toBeUndefined();
    expect(resolveConnectOptions({}, { TSMACH_KERNEL_URL: 'ws://e:2', TSMACH_TOKEN_FILE: join(d, 'token') })).toMatchObject({ url: 'ws://e:2', token: 'T0K' });
    expect(() => resolveConnectOptions({}, { TSMACH_CONNECTION: join(d, 'none.json') })).toThrow(/no kernel connection file/);
  });
});

describe('tsmach kernel arguments', () => {
  it('--listen forms; loopback and a free port by default', () => {
    expect(parseListen('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseListen(':4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseListen('[::1]:5')).toEqual({ host: '::1', port: 5 });
    expect(parseListen('0.0.0.0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(() => parseListen('h:99999')).toThrow(/bad port/);
    expect(parseKernelArgs([])).toMatchObject({ host: '127.0.0.1', port: 0, vmLevel: 'L2', json: false });
    expect(parseKernelArgs(['--vm-level', 'l0', '--boot-tickets', 'a,b', '--json'])).toMatchObject({ vmLevel: 'L0', bootTickets: ['a', 'b'], json: true });
    expect(() => parseKernelArgs(['--vm-level', 'L9'])).toThrow(/one of/);
    expect(() => parseKernelArgs(['--what'])).toThrow(/unknown option/);
  });
});

describe('boot module lists', () => {
  it('words split like a shell', () => {
    expect(splitWords(`a "b c" 'd e' f\\ g  "h\\"i"`)).toEqual(['a', 'b c', 'd e', 'f g', 'h"i']);
    expect(() => splitWords('"open')).toThrow(/unterminated/);
  });

  it('command line: modules separated by ";", names from the program, made unique', () => {
    const mods = parseModuleArgs(['pager.js', '--swap', 'x', ';', 'ext2fs.ts', 'disk.img', ';', ';', 'ext2fs.ts'], '/base');
    expect(mods).toEqual([
      { name: 'pager', file: '/base/pager.js', args: ['--swap', 'x'] },
      { name: 'ext2fs', file: '/base/ext2fs.ts', args: ['disk.img'] },
      { name: 'ext2fs-2', file: '/base/ext2fs.ts', args: [] },
    ]);
  });

  it('boot scripts: one module a line, comments, name=', () => {
    const mods = parseBootScript('# the boot servers\nname=pager servers/pager.js --swap "/tmp/a b"  # swap\n\n  /abs/fs.js disk\n', '/etc/tsmach');
    expect(mods).toEqual([
      { name: 'pager', file: '/etc/tsmach/servers/pager.js', args: ['--swap', '/tmp/a b'] },
      { name: 'fs', file: '/abs/fs.js', args: ['disk'] },
    ]);
    expect(() => parseBootScript('ok.js\nname=x\n', '/')).toThrow(/line 2: a module needs a program/);
  });
});
