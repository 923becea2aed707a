/**
 * examples/echo, as its README runs it: tsmig compiles echo.defs, then a kernel, the echo
 * server and the echo client are three processes; the client passes a port right and
 * out-of-line buffers and checks what comes back.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, Proc, ROOT, startKernel } from './helpers.js';

afterAll(cleanup);

describe('examples/echo', () => {
  it('compiles with tsmig and runs: server and client processes', async () => {
    const gen = new Proc([join(ROOT, 'codegen/cli.ts'), 'gen', '-I', 'defs', '--out', 'examples/echo/gen', 'examples/echo/echo.defs']);
    expect((await gen.exited).code).toBe(0);
    const k = await startKernel();
    const server = new Proc([join(ROOT, 'examples/echo/server.ts')], k.env);
    expect(await server.line()).toMatch(/echo server: serving "echo"/);
    const client = new Proc([join(ROOT, 'examples/echo/client.ts')], k.env);
    const out: string[] = [];
    for (let i = 0; i < 4; i++) out.push(await client.line());
    expect((await client.exited).code).toBe(0);
    expect(out[0]).toMatch(/2000 null RPCs/);
    expect(out[1]).toBe('echo client: text: hello, Mach');
    expect(out[2]).toMatch(/64 KiB out of line and back reversed: ok/);
    expect(out[3]).toBe('echo client: callback through the port we passed: "call me back!"');
    server.kill();
    expect((await server.exited).code).toBe(0);
    k.proc.kill();
    await k.proc.exited;
  });
});
