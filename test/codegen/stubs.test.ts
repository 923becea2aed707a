/**
 * Generated stubs at work: tsmig compiles test/codegen/stubs/everything.defs, and each
 * routine goes user stub → (simulated kernel transfer) → demux → work function → reply
 * → user stub, with the values, descriptors, sizes and MIG error codes GNU MIG's C
 * stubs would produce.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateFile } from '../../codegen/tsmig.js';
import {
  EOPNOTSUPP, KERN_INVALID_ARGUMENT, MachError, MIG_ARRAY_TOO_LARGE, MIG_BAD_ARGUMENTS, MIG_BAD_ID,
  MIG_REPLY_MISMATCH, MIG_SERVER_DIED, MIG_TYPE_ERROR,
} from '../../src/mach/kern_return.js';
import {
  MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MOVE_SEND, MACH_MSG_TYPE_PORT_SEND,
  MACH_MSGH_BITS_COMPLEX, MACH_NOTIFY_SEND_ONCE, type MachMessage,
} from '../../src/mach/message.js';
import { msgSize, type MachPort, type MigDemux } from '../../src/mach/mig.js';
import { Loopback, transfer } from './stubs/loopback.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const OUT = join(HERE, '..', '.gen', 'stubs');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let user: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let server: any;
let rt: Loopback;
let srv: MachPort;
const calls: Array<{ routine: string; args: unknown[] }> = [];

beforeAll(async () => {
  const gen = await generateFile(join(HERE, 'stubs', 'everything.defs'), { sourceName: 'test/codegen/stubs/everything.defs', runtimeImport: '../../../src/mach' });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'everything.user.ts'), gen.user);
  writeFileSync(join(OUT, 'everything.server.ts'), gen.server);
  user = await import(pathToFileURL(join(OUT, 'everything.user.ts')).href);
  server = await import(pathToFileURL(join(OUT, 'everything.server.ts')).href);
  rt = new Loopback();
  srv = rt.port(77);
  const record = (routine: string, args: unknown[]): void => { calls.push({ routine, args }); };
  rt.demux = server.everything_server({
    add(_p: MachPort, a: number, b: number) { record('add', [a, b]); return { sum: a + b }; },
    flip(_p: MachPort, flag: boolean, counter: number) { return counter < 0 ? KERN_INVALID_ARGUMENT : { flag: !flag, counter: counter + 1 }; },
    echo_data(_p: MachPort, data: Uint8Array) { return { copy: data.slice().reverse() }; },
    sum_ints(_p: MachPort, values: number[], big: number[]) {
      return { total: [...values, ...big].reduce((s, v) => s + v, 0), doubled: big.map((v) => v * 2) };
    },
    names(_p: MachPort, fixed: string, varying: string) { return { joined: `${fixed}/${varying}` }; },
    async ool(_p: MachPort, data: Uint8Array) { await Promise.resolve(); return { back: data.map((b) => b ^ 0xff) }; },
    pair(_p: MachPort, p: number[]) { return { swapped: [p[1], p[0]] }; },
    port_pass(_p: MachPort, give: MachPort | null) { record('port_pass', [give?.name]); return { back: give, backPoly: MACH_MSG_TYPE_COPY_SEND }; },
    poly_pass(_p: MachPort, right: MachPort | null, rightPoly: number) { record('poly_pass', [right?.name, rightPoly]); return { same: right, samePoly: MACH_MSG_TYPE_MOVE_SEND }; },
    info(_p: MachPort, flavor: number, info_outCnt: number) { record('info', [flavor, info_outCnt]); return { info_out: Array.from({ length: Math.min(info_outCnt, 8) }, (_, i) => i * flavor) }; },
    notify_me(_p: MachPort, value: number) { record('notify_me', [value]); },
    with_seqno(_p: MachPort, seqno: number) { return { got: seqno }; },
  } satisfies Partial<Record<string, unknown>>) as MigDemux;
});

async function expectMachError(p: Promise<unknown>, code: number): Promise<void> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(MachError);
  expect((e as MachError).code).toBe(code);
}

describe('generated stubs round trip', () => {
  it('integers of 32 and 64 bits', async () => {
    expect(await user.add(srv, 40, 2 ** 40)).toEqual({ sum: 2 ** 40 + 40 });
    expect(calls.at(-1)).toEqual({ routine: 'add', args: [40, 2 ** 40] });
  });

  it('inout values and booleans; an error code surfaces as MachError', async () => {
    expect(await user.flip(srv, true, 41)).toEqual({ flag: false, counter: 42 });
    await expectMachError(user.flip(srv, true, -1), KERN_INVALID_ARGUMENT);
  });

  it('indefinite char arrays: in line up to 2048 bytes, out of line beyond', async () => {
    const small = new Uint8Array([1, 2, 3]);
    expect(Array.from((await user.echo_data(srv, small)).copy)).toEqual([3, 2, 1]);
    const big = new Uint8Array(5000).map((_, i) => i & 0xff);
    const seen: MachMessage[] = [];
    rt.tamperRequest = (m) => { seen.push(m); return m; };
    const r = await user.echo_data(srv, big);
    rt.tamperRequest = null;
    expect(Array.from(r.copy)).toEqual(Array.from(big).reverse());
    const req = seen[0]!;
    expect(req.body[0]!.type.inline).toBe(false);
    expect(req.header.bits & MACH_MSGH_BITS_COMPLEX).not.toBe(0);
    expect(req.header.size).toBe(32 + 12 + 8);
  });

  it('bounded and indefinite integer arrays; the bound is enforced before sending', async () => {
    const big = Array.from({ length: 600 }, (_, i) => i); // 2400 bytes: out of line
    const r = await user.sum_ints(srv, [1, 2, 3], big);
    expect(r.total).toBe(6 + (599 * 600) / 2);
    expect(r.doubled).toEqual(big.map((v) => v * 2));
    await expectMachError(user.sum_ints(srv, Array.from({ length: 17 }, () => 1), []), MIG_ARRAY_TOO_LARGE);
  });

  it('fixed and variable C strings, truncated like mig_strncpy', async () => {
    expect((await user.names(srv, 'usr', 'include')).joined).toBe('usr/include');
    const long = 'x'.repeat(100);
    // the server joins 63 x's, '/' and 'y'; the variable reply string keeps 63 bytes + NUL
    expect((await user.names(srv, long, 'y')).joined).toBe('x'.repeat(63));
  });

  it('out-of-line bytes with a run-time deallocate flag', async () => {
    const seen: MachMessage[] = [];
    rt.tamperRequest = (m) => { seen.push(m); return m; };
    const r = await user.ool(srv, new Uint8Array([0, 1, 0xfe]), true);
    rt.tamperRequest = null;
    expect(Array.from(r.back)).toEqual([0xff, 0xfe, 1]);
    expect(seen[0]!.body[0]!.type).toMatchObject({ inline: false, number: 3, longform: true });
  });

  it('struct[2] values and fixed sizes', async () => {
    expect((await user.pair(srv, [5, 6])).swapped).toEqual([6, 5]);
    await expect(user.pair(srv, [5])).rejects.toThrow(RangeError);
  });

  it('port rights: handles in, handles out, MAKE_SEND received as PORT_SEND', async () => {
    const mine = rt.port(4242);
    const r = await user.port_pass(srv, mine);
    expect(r.back.name).toBe(4242);
    expect(r.back.task).toBe(rt);
    expect(calls.at(-1)).toEqual({ routine: 'port_pass', args: [4242] });
    const other = new Loopback().port(9);
    await expect(user.port_pass(srv, other)).rejects.toThrow(/another task/);
  });

  it('a work function that leaves out a required out value is a bug, reported as such', async () => {
    const demux = rt.demux;
    rt.demux = server.everything_server({ port_pass: () => ({ back: null }) });
    await expect(user.port_pass(srv, null)).rejects.toThrow(/port_pass returned no backPoly/);
    rt.demux = demux;
  });

  it('polymorphic rights carry their disposition, received as the right', async () => {
    const r = await user.poly_pass(srv, rt.port(31), MACH_MSG_TYPE_COPY_SEND);
    expect(calls.at(-1)).toEqual({ routine: 'poly_pass', args: [31, MACH_MSG_TYPE_PORT_SEND] });
    expect(r.same.name).toBe(31);
    expect(r.samePoly).toBe(MACH_MSG_TYPE_PORT_SEND);
  });

  it("CountInOut: the caller's buffer size reaches the server, at most the bound", async () => {
    expect((await user.info(srv, 3, 4)).info_out).toEqual([0, 3, 6, 9]);
    expect(calls.at(-1)).toEqual({ routine: 'info', args: [3, 4] });
    await user.info(srv, 1, 100);
    expect(calls.at(-1)).toEqual({ routine: 'info', args: [1, 8] });
  });

  it('simpleroutines send one message, no reply port', async () => {
    await user.notify_me(srv, 7);
    const m = rt.oneway.at(-1)!;
    expect(m.header.id).toBe(5011);
    expect(m.header.remotePort).toBe(0);
    expect(calls.at(-1)).toEqual({ routine: 'notify_me', args: [7] });
  });

  it('work functions the server does not define answer EOPNOTSUPP', async () => {
    await expectMachError(user.not_implemented(srv), EOPNOTSUPP);
  });

  it("msgseqno gives the server the request's sequence number", async () => {
    const { got } = await user.with_seqno(srv);
    expect(typeof got).toBe('number');
    const again = await user.with_seqno(srv);
    expect(again.got).toBe(got + 1);
  });

  it('reply ports are put back after success and destroyed after failure', async () => {
    const before = { ...rt.replyPorts };
    await user.add(srv, 1, 1);
    expect(rt.replyPorts.put).toBe(before.put + 1);
    rt.tamperReply = (m) => ({ ...m, header: { ...m.header, id: 4242 } });
    await expectMachError(user.add(srv, 1, 1), MIG_REPLY_MISMATCH);
    rt.tamperReply = null;
    expect(rt.replyPorts.dealloc).toBe(before.dealloc + 1);
  });
});

describe('user stub reply checks', () => {
  it('a send-once notification instead of the reply: MIG_SERVER_DIED', async () => {
    rt.tamperReply = (m) => ({ header: { ...m.header, id: MACH_NOTIFY_SEND_ONCE, size: 32 }, body: [] });
    await expectMachError(user.add(srv, 1, 2), MIG_SERVER_DIED);
    rt.tamperReply = null;
  });

  it('a reply with a wrong descriptor, size or complex bit: MIG_TYPE_ERROR', async () => {
    rt.tamperReply = (m) => ({ ...m, body: m.body.map((it, i) => (i === 1 ? { ...it, type: { ...it.type, size: 32 } } : it)) });
    await expectMachError(user.add(srv, 1, 2), MIG_TYPE_ERROR);
    rt.tamperReply = (m) => ({ ...m, header: { ...m.header, size: m.header.size + 4 } });
    await expectMachError(user.add(srv, 1, 2), MIG_TYPE_ERROR);
    rt.tamperReply = (m) => ({ ...m, header: { ...m.header, bits: (m.header.bits | MACH_MSGH_BITS_COMPLEX) >>> 0 } });
    await expectMachError(user.add(srv, 1, 2), MIG_TYPE_ERROR);
    rt.tamperReply = (m) => ({ ...m, body: m.body.map((it, i) => (i === 1 ? { ...it, data: 'oops' } : it)) });
    await expectMachError(user.add(srv, 1, 2), MIG_TYPE_ERROR);
    rt.tamperReply = null;
  });
});

describe('server demux checks', () => {
  const request = async (tamper: (m: MachMessage) => MachMessage): Promise<MachMessage> => {
    let captured: MachMessage | null = null;
    rt.tamperRequest = (m) => { captured = tamper(m); return captured; };
    await user.add(srv, 1, 2).catch(() => undefined);
    rt.tamperRequest = null;
    return (await (rt.demux!(captured!, rt)))!;
  };

  it('an unknown or skipped id: MIG_BAD_ID, in a 40-byte reply with id + 100', async () => {
    for (const id of [4999, 5010, 5015, 6000]) {
      const reply = await request((m) => ({ ...m, header: { ...m.header, id } }));
      expect(reply.header.id).toBe(id + 100);
      expect(reply.header.size).toBe(40);
      expect(reply.body[0]!.data).toBe(MIG_BAD_ID);
    }
    expect(rt.demux!.routine(5000)?.name).toBe('add');
    expect(rt.demux!.routine(5010)).toBeUndefined();
  });

  it('a wrong size, complex bit, descriptor or data: MIG_BAD_ARGUMENTS', async () => {
    const cases: Array<(m: MachMessage) => MachMessage> = [
      (m) => ({ ...m, header: { ...m.header, size: m.header.size - 4 } }),
      (m) => ({ ...m, header: { ...m.header, bits: (m.header.bits | MACH_MSGH_BITS_COMPLEX) >>> 0 } }),
      (m) => ({ ...m, body: m.body.slice(1) }),
      (m) => ({ ...m, body: [{ ...m.body[0]!, type: { ...m.body[0]!.type, name: MACH_MSG_TYPE_MAKE_SEND } }, m.body[1]!] }),
      (m) => ({ ...m, body: [{ ...m.body[0]!, data: 'x' }, m.body[1]!] }),
    ];
    for (const tamper of cases) {
      const reply = await request(tamper);
      expect(reply.body[0]!.data).toBe(MIG_BAD_ARGUMENTS);
      expect(reply.header.size).toBe(40);
    }
  });

  it('a well-formed request gets the reply MIG would build (sizes by msgSize)', async () => {
    const reply = await request((m) => m);
    expect(reply.header.size).toBe(msgSize(reply.body));
    expect(reply.header.size).toBe(32 + 8 + 12);
    expect(transfer(reply).header.remotePort).toBe(0);
  });
});
