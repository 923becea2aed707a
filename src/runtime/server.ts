/*
 * File: runtime/server.ts
 * Purpose: mach_msg_server: a task's server loop (glibc's mach_msg_server): receive on a
 *          port or port set, hand each request to the demux that serves its id, send the
 *          reply; several requests may be in service at once (a server's threads).
 *
 * As glibc's loop does: no reply is sent when the request had no reply port or the work
 * function said MIG_NO_REPLY; when the reply carries an error, the rights the request
 * brought are released (mach_msg_destroy), since no work function kept them; a reply that
 * could not be delivered is destroyed too.
 */

import {
  KERN_SUCCESS, MACH_RCV_INTERRUPTED, MACH_RCV_INVALID_NAME, MACH_RCV_PORT_DIED, MACH_SEND_INVALID_DEST, MIG_BAD_ID, MIG_NO_REPLY,
} from '../mach/kern_return.js';
import {
  MACH_MSG_TYPE_PORT_ANY, MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MACH_MSGH_BITS_LOCAL, MACH_MSGH_BITS_REMOTE,
  MACH_RCV_MSG, MACH_SEND_MSG, MACH_SEND_TIMEOUT, type MachMessage,
} from '../mach/message.js';
import { mig_reply, type MachPort, type MigDemux } from '../mach/mig.js';
import { MACH_PORT_NULL, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_VALID } from '../mach/port.js';
import { mach_port_deallocate, mach_port_mod_refs } from '../gen/mach_port.user.js';
import type { MachTask } from './task.js';

/** The class bits of mach_msg_return_t: a send error (0x1000_0000 | 0x0000_xxxx) or a receive error (| 0x4000). */
const MACH_SEND_ERROR_BIT = 0x10000000;
const MACH_RCV_ERROR_BIT = 0x00004000;

export interface ServerOptions {
  /** requests served at once (default 16): the number of server "threads" */
  concurrency?: number;
  /** stop the loop */
  signal?: AbortSignal;
  /** a work function threw (not a MachError): the request gets this code (default: rethrow) */
  onError?: (e: unknown, request: MachMessage) => number;
}

/** The demux among `demuxes` that serves `id` (MIG's `<demux>_routine`), if any. */
export function demuxFor(demuxes: readonly MigDemux[], id: number): MigDemux | undefined {
  for (const d of demuxes) if (d.routine(id) !== undefined) return d;
  return undefined;
}

/**
 * mach_msg_server: serve requests arriving on `port` (a receive right or a port set) with
 * the first demux that knows each id, until the port dies, the task ends or `signal`
 * aborts. `concurrency` workers run the loop a server thread runs in glibc: receive, serve,
 * then send the reply and receive the next request in one mach_msg call.
 * Resolves with the mach_msg code that ended the loop.
 */
export async function mach_msg_server(task: MachTask, demuxes: readonly MigDemux[], port: MachPort, options: ServerOptions = {}): Promise<number> {
  const workers = Math.max(1, options.concurrency ?? 16);
  let ended: number | null = null;
  let end!: (code: number) => void;
  // The loop is over as soon as one worker's receive says so: workers still inside a work
  // function (which may never return) are not waited for.
  const over = new Promise<number>((resolve) => { end = resolve; });
  // One abort listener for the whole loop, however many workers wait.
  const signal = options.signal;
  let onAbort = (): void => undefined;
  const aborted = signal === undefined ? null : new Promise<number>((resolve) => {
    onAbort = () => resolve(MACH_RCV_INTERRUPTED);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const worker = async (): Promise<void> => {
    let r = await receive(task, port, null, options.signal, aborted);
    for (;;) {
      if (ended !== null) return;
      if (typeof r === 'number') {
        if (r === MACH_RCV_INTERRUPTED || r === MACH_RCV_PORT_DIED || r === MACH_RCV_INVALID_NAME) {
          ended = r;
          end(r);
          return;
        }
        // A message too large or badly formed was dropped by the kernel: go on.
        r = await receive(task, port, null, options.signal, aborted);
        continue;
      }
      const reply = await serve(task, demuxes, r, options);
      r = await receive(task, port, reply, options.signal, aborted);
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker)).then(() => ended ?? MACH_RCV_INTERRUPTED);
  return Promise.race([over, all]).finally(() => signal?.removeEventListener('abort', onAbort));
}

/**
 * The next request, after sending `reply` (if any) in the same call. A reply that cannot
 * be delivered (the client's reply port is gone) is destroyed, then the receive is made
 * on its own.
 */
async function receive(task: MachTask, port: MachPort, reply: MachMessage | null, signal: AbortSignal | undefined, aborted: Promise<number> | null): Promise<MachMessage | number> {
  if (signal?.aborted) return MACH_RCV_INTERRUPTED;
  const option = reply === null ? MACH_RCV_MSG : MACH_SEND_MSG | MACH_SEND_TIMEOUT | MACH_RCV_MSG;
  let r: MachMessage | number = await waitOrAbort(task.mach_msg(reply, option, port.name, 0), aborted);
  if (reply !== null && typeof r === 'number' && r !== MACH_RCV_INTERRUPTED && (r & MACH_SEND_ERROR_BIT) !== 0 && (r & MACH_RCV_ERROR_BIT) === 0) {
    if (r === MACH_SEND_INVALID_DEST) await mach_msg_destroy(task, reply);
    r = await waitOrAbort(task.mach_msg(null, MACH_RCV_MSG, port.name, 0), aborted);
  }
  return r;
}

function waitOrAbort(r: MachMessage | number | Promise<MachMessage | number>, aborted: Promise<number> | null): Promise<MachMessage | number> {
  if (!(r instanceof Promise)) return Promise.resolve(r);
  return aborted === null ? r : Promise.race([r, aborted]);
}

/**
 * One request: demux it, release what an error reply leaves unclaimed, and return the
 * reply to send (null: none — MIG_NO_REPLY, or nobody to answer).
 */
async function serve(task: MachTask, demuxes: readonly MigDemux[], req: MachMessage, options: ServerOptions): Promise<MachMessage | null> {
  const demux = demuxFor(demuxes, req.header.id);
  let reply: MachMessage | null;
  if (demux === undefined) reply = mig_reply(req, MIG_BAD_ID);
  else {
    try {
      reply = await demux(req, task);
    } catch (e) {
      if (!options.onError) throw e;
      reply = mig_reply(req, options.onError(e, req));
    }
  }
  const code = reply === null ? MIG_NO_REPLY : (reply.body[0]?.data as number);
  if (code !== KERN_SUCCESS && code !== MIG_NO_REPLY) await mach_msg_destroy(task, { header: { ...req.header, bits: 0 }, body: req.body });
  if (reply === null) return null;
  if (reply.header.remotePort === MACH_PORT_NULL) {
    // Nobody to answer (a simpleroutine): what the reply would have carried is released.
    await mach_msg_destroy(task, reply);
    return null;
  }
  return reply;
}

/**
 * mach_msg_destroy (glibc): release the rights a message in this task's buffer holds: the
 * header's per its bits, the body's per their types (MOVE_* dispositions and received
 * rights have the same values; COPY_SEND and MAKE_* hold nothing of the task's).
 */
export async function mach_msg_destroy(task: MachTask, msg: MachMessage): Promise<void> {
  const release = async (name: number, type: number): Promise<void> => {
    if (!MACH_PORT_VALID(name)) return;
    if (type === MACH_MSG_TYPE_PORT_RECEIVE) await mach_port_mod_refs(task.self, name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
    else if (type === MACH_MSG_TYPE_PORT_SEND || type === MACH_MSG_TYPE_PORT_SEND_ONCE) await mach_port_deallocate(task.self, name).catch(() => undefined);
  };
  const h = msg.header;
  await release(h.remotePort, MACH_MSGH_BITS_REMOTE(h.bits));
  await release(h.localPort, MACH_MSGH_BITS_LOCAL(h.bits));
  for (const it of msg.body) {
    if (!MACH_MSG_TYPE_PORT_ANY(it.type.name)) continue;
    for (const n of Array.isArray(it.data) ? it.data : [it.data as number]) await release(n, it.type.name);
  }
}
