/**
 * Faults, with real processes: a task killed with SIGKILL in the middle of RPCs, the
 * kernel killed under its tasks, and a receiver too slow for its senders.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  mach_port_allocate, mach_port_deallocate, mach_port_insert_right, mach_port_mod_refs, mach_port_request_notification,
} from '../../src/gen/mach_port.user.js';
import { netname_check_in, netname_check_out, netname_look_up } from '../../src/gen/netname.user.js';
import { MachError, MACH_MSG_SUCCESS, MACH_SEND_INVALID_DEST, MACH_SEND_TIMED_OUT, MIG_SERVER_DIED } from '../../src/mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_NOTIFY_DEAD_NAME,
  MACH_NOTIFY_NO_SENDERS, MACH_RCV_MSG, MACH_RCV_TIMEOUT, MACH_SEND_MSG, MACH_SEND_TIMEOUT, type MachMessage,
} from '../../src/mach/message.js';
import { mig_rpc } from '../../src/mach/mig.js';
import { MACH_PORT_RIGHT_RECEIVE } from '../../src/mach/port.js';
import { cleanup, counts, observe, startKernel, startTask } from './helpers.js';
import { request } from './fixtures/task.js';

afterAll(cleanup);

const oneway = (dest: number, x: number): MachMessage => {
  const m = request(dest, [x]);
  m.header.bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
  return m;
};

describe('a task process killed with SIGKILL', () => {
  it('its task ends: blocked clients get MIG_SERVER_DIED, senders dead names, its send rights go, counts come back', async () => {
    const k = await startKernel();
    const obs = await observe(k);
    // The observer's port P, which the victim will be the only one to send to.
    const { name: P } = await mach_port_allocate(obs.self, MACH_PORT_RIGHT_RECEIVE);
    const { name: nsNotify } = await mach_port_allocate(obs.self, MACH_PORT_RIGHT_RECEIVE);
    const { name: dnNotify } = await mach_port_allocate(obs.self, MACH_PORT_RIGHT_RECEIVE);
    const before = await counts(obs);
    const cached = obs.cachedReplyPorts;

    await mach_port_insert_right(obs.self, P, obs.port(P), MACH_MSG_TYPE_MAKE_SEND);
    await netname_check_in(obs.bootstrap!, 'obs', obs.self, obs.port(P));
    const victim = startTask(k, 'serve', ['victim', 'hang']);
    const holder = startTask(k, 'hold', ['obs'], {});
    await victim.json();
    await holder.json();
    // Only the holder sends to P now: the name service and we let go of our rights.
    await netname_check_out(obs.bootstrap!, 'obs', obs.self);
    await mach_port_deallocate(obs.self, P);
    await mach_port_request_notification(obs.self, P, MACH_NOTIFY_NO_SENDERS, 0, obs.port(nsNotify), MACH_MSG_TYPE_MAKE_SEND_ONCE);

    // Two RPCs the victim receives and never answers; a dead-name request on its port.
    const { port_id: V } = await netname_look_up(obs.bootstrap!, '', 'victim');
    await mach_port_request_notification(obs.self, V!.name, MACH_NOTIFY_DEAD_NAME, 0, obs.port(dnNotify), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    const calls = [1, 2].map((x) => { const q = request(V!.name, [x]); return mig_rpc(obs, q.header, q.body, 0, 0).then(() => 0, (e: unknown) => (e as MachError).code); });
    await victim.until((v) => v.got === 2);

    victim.kill('SIGKILL');
    holder.kill('SIGKILL');
    expect(await Promise.all(calls)).toEqual([MIG_SERVER_DIED, MIG_SERVER_DIED]);
    const dn = await obs.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, dnNotify, 5000) as MachMessage;
    expect(dn.header.id).toBe(MACH_NOTIFY_DEAD_NAME);
    expect(dn.body[0]!.data).toBe(V!.name);
    const ns = await obs.mach_msg(null, MACH_RCV_MSG | MACH_RCV_TIMEOUT, nsNotify, 5000) as MachMessage;
    expect(ns.header.id).toBe(MACH_NOTIFY_NO_SENDERS);
    // sending to the dead port
    expect(await obs.mach_msg(oneway(V!.name, 0), MACH_SEND_MSG, 0, 0)).toBe(MACH_SEND_INVALID_DEST);

    // The observer drops what it got; the kernel is back where it was.
    await mach_port_mod_refs(obs.self, V!.name, 4 /* MACH_PORT_RIGHT_DEAD_NAME */, -2);
    await mach_port_insert_right(obs.self, P, obs.port(P), MACH_MSG_TYPE_MAKE_SEND);
    await mach_port_deallocate(obs.self, P);
    // (the two concurrent RPCs left the observer one more MIG reply port in its pool)
    expect(await counts(obs)).toEqual({ ...before, ports: before.ports + obs.cachedReplyPorts - cached });
    obs.terminate();
    k.proc.kill();
    await k.proc.exited;
  });
});

describe('the kernel process killed', () => {
  it('pending calls reject within a second; tasks exit or reconnect as they chose, none hangs', async () => {
    const k = await startKernel();
    const byDefault = startTask(k, 'lost', ['default']);
    const exits = startTask(k, 'lost', ['exit']);
    const reconnects = startTask(k, 'lost', ['reconnect']);
    await Promise.all([byDefault.json(), exits.json(), reconnects.json()]);

    const t0 = Date.now();
    k.proc.kill('SIGKILL');
    const rejected = await byDefault.json<{ rejected: string; code: string }>();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(rejected.code).toBe('kernel-lost');
    expect(rejected.rejected).toMatch(/connection to the kernel lost/);
    expect(await byDefault.exited).toEqual({ code: 0, signal: null }); // nothing left to do: it ends
    expect((await exits.exited).code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(exits.stderr).toMatch(/exiting/);
    expect((await reconnects.json<{ lost: string }>()).lost).toMatch(/kernel lost/);

    // A new kernel at the same connection file: the task that chose to reconnect does.
    const k2 = await startKernel([], k.connectionFile);
    expect(await reconnects.json()).toHaveProperty('reconnected');
    expect((await reconnects.exited).code).toBe(0);
    k2.proc.kill();
    await k2.proc.exited;
  });
});

describe('a slow receiver', () => {
  it('senders block at qlimit and time out as asked', async () => {
    const k = await startKernel();
    const obs = await observe(k);
    const slow = startTask(k, 'serve', ['slow', 'slow', 5]);
    await slow.json();
    const { port_id } = await netname_look_up(obs.bootstrap!, '', 'slow');
    const dest = port_id!.name;
    for (let i = 0; i < 5; i++) expect(await obs.mach_msg(oneway(dest, i), MACH_SEND_MSG, 0, 0)).toBe(MACH_MSG_SUCCESS);
    let t = Date.now();
    expect(await obs.mach_msg(oneway(dest, 5), MACH_SEND_MSG | MACH_SEND_TIMEOUT, 0, 150)).toBe(MACH_SEND_TIMED_OUT);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    // Without a timeout the sender waits until the receiver takes one.
    t = Date.now();
    let sent = false;
    const blocked = Promise.resolve(obs.mach_msg(oneway(dest, 6), MACH_SEND_MSG, 0, 0)).then((r) => { sent = true; return r; });
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toBe(false);
    slow.send('go');
    expect(await blocked).toBe(MACH_MSG_SUCCESS);
    expect(Date.now() - t).toBeGreaterThanOrEqual(200);
    await slow.until((v) => v.received === 6);
    obs.terminate();
    k.proc.kill();
    await k.proc.exited;
  });
});
