/**
 * Load: client processes × concurrent callers × RPCs to one server process with
 * qlimit 5, through the kernel process. Every call is answered exactly once with its own
 * values, each sender's requests reach the server in order, none is lost, and the
 * kernel's counts and memory come back to where they started.
 *
 * Full size (8 × 32 × 2,000 = 512,000 RPCs): about 20 s alone on two cores.
 * TSMACH_LOAD_CALLS=N changes the calls per caller (e.g. 250 for a quick run).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { kernelStats } from '../../src/transport/websocket.js';
import { mig_rpc } from '../../src/mach/mig.js';
import { netname_look_up } from '../../src/gen/netname.user.js';
import { cleanup, counts, observe, startKernel, startTask, waitFor } from './helpers.js';
import { request } from './fixtures/task.js';

afterAll(cleanup);

const CLIENTS = 8;
const CALLERS = 32;
const CALLS = Number(process.env.TSMACH_LOAD_CALLS ?? 2000);

describe('load', () => {
  it(`${CLIENTS} clients × ${CALLERS} callers × ${CALLS} RPCs, qlimit 5: all answered once, in order, nothing lost`, async () => {
    const k = await startKernel();
    const obs = await observe(k);
    const server = startTask(k, 'serve', ['load', 'reply', 5, 16]);
    await server.json();
    const { port_id } = await netname_look_up(obs.bootstrap!, '', 'load');
    // once the server's 16 receive loops wait in the kernel
    const before = await waitFor(async () => { const c = await counts(obs); return c.pendingCalls === 16 ? c : undefined; });
    const memBefore = (await kernelStats(obs)).heapUsed;

    const t0 = Date.now();
    const clients = Array.from({ length: CLIENTS }, (_, i) => startTask(k, 'client', ['load', i + 1, CALLERS, CALLS]));
    const results = await Promise.all(clients.map((c) => c.json<{ answered: number; wrong: number; ms: number }>(170_000)));
    const seconds = (Date.now() - t0) / 1000;
    for (const r of results) expect(r).toMatchObject({ answered: CALLERS * CALLS, wrong: 0 });
    await Promise.all(clients.map((c) => c.exited));

    // The server saw every request once, each sender's in order.
    const q = request(port_id!.name, [], 1001);
    const report = await mig_rpc(obs, q.header, q.body, 0, 0);
    expect(report.body.slice(1).map((b) => b.data)).toEqual([CLIENTS * CALLERS * CALLS, 0]);
    process.stdout.write(`load: ${CLIENTS * CALLERS * CALLS} RPCs in ${seconds.toFixed(1)} s (${Math.round((CLIENTS * CALLERS * CALLS) / seconds)} RPC/s, process start included)\n`);

    // Kernel counts as before; kernel heap back within 8 MiB after a collection.
    expect(await counts(obs)).toEqual(before);
    const memAfter = (await kernelStats(obs)).heapUsed;
    expect(memAfter - memBefore).toBeLessThan(8 << 20);
    obs.terminate();
    server.kill();
    k.proc.kill();
    await k.proc.exited;
  }, 180_000);
});
