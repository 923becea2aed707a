/**
 * `tsmach boot`: the kernel and the boot servers as child processes. Boot servers (and
 * only they) get the privileged host port; a server that crashes is reported; SIGINT
 * (Ctrl-C) stops everything and removes the connection file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/transport/websocket.js';
import { cleanup, FIXTURE, Proc, tempDir, TSMACH, waitFor } from './helpers.js';

afterAll(cleanup);

describe('tsmach boot', () => {
  it('boots privileged servers, reports a crash, stops cleanly on SIGINT', async () => {
    const dir = tempDir();
    const connectionFile = join(dir, 'kernel.json');
    writeFileSync(join(dir, 'boot.script'), `# two boot servers\nname=pager ${FIXTURE} report\nname=crasher ${FIXTURE} crash  # exits with status 3\n`);
    const boot = new Proc([TSMACH, 'boot', '--connection-file', connectionFile, '--vm-level', 'L1', '--script', join(dir, 'boot.script')]);

    const lines: Array<Record<string, unknown>> = [await boot.json(), await boot.json()];
    const pager = lines.find((l) => 'info' in l) as { info: { name: string; host_priv: number } };
    expect(pager.info.name).toBe('pager');
    expect(pager.info.host_priv).not.toBe(0);
    expect(lines.some((l) => l.ready === true)).toBe(true);
    await waitFor(() => (/module crasher \(pid \d+\) exited with status 3/.test(boot.stderr) ? true : undefined));

    // Any other task of that kernel is unprivileged.
    const t = await connect({ connectionFile, name: 'user' });
    expect(t.hostPriv).toBeNull();
    t.terminate();

    boot.kill('SIGINT');
    expect(await boot.exited).toEqual({ code: 0, signal: null });
    expect(boot.stderr).toMatch(/tsmach boot: stopped/);
    expect(boot.stderr).not.toMatch(/module pager .* (exited|killed)/);
    expect(existsSync(connectionFile)).toBe(false);
  });

  it('stops the servers and fails when the kernel dies', async () => {
    const connectionFile = join(tempDir(), 'kernel.json');
    const boot = new Proc([TSMACH, 'boot', '--connection-file', connectionFile, '--', FIXTURE, 'report']);
    await boot.json();
    const { pid } = JSON.parse(readFileSync(connectionFile, 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL');
    expect((await boot.exited).code).toBe(1);
    expect(boot.stderr).toMatch(/the kernel \(pid \d+\) died \(SIGKILL\); stopping the modules/);
    expect(boot.stderr).toMatch(/tsmach boot: stopped/);
  });

  it('refuses bad arguments', async () => {
    const boot = new Proc([TSMACH, 'boot', '--bogus']);
    expect((await boot.exited).code).toBe(2);
    expect(boot.stderr).toMatch(/unknown option --bogus/);
  });
});
