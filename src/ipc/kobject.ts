/*
 * File: ipc/kobject.ts
 * Purpose: ipc_kobject — ports that stand for kernel objects (tasks, threads, hosts,
 *          devices, memory objects...) and the kernel server that answers messages sent to
 *          them (GNU Mach kern/ipc_kobject.c).
 *
 * A kernel port is a port whose receive right is held by ipc_space_kernel
 * (ipc_port_alloc_kernel). A message sent to it never waits in a queue: ipc_mqueue_send
 * hands it to ipc_kobject_server at once, which runs the registered server demuxes (the
 * KernelServer stubs tsmig generates) and sends back their reply. The request and reply
 * are in kernel form (IpcKmsg): port fields hold naked rights, so a KernelServer stub
 * translates ports to kernel objects and back, as GNU MIG's do with ipc_port_t.
 */

import { KERN_SUCCESS, MIG_BAD_ID, MIG_NO_REPLY } from '../mach/kern_return.js';
import {
  MACH_MSGH_BITS, MACH_MSGH_BITS_LOCAL, MACH_MSGH_BITS_REMOTE, MACH_MSG_TYPE_INTEGER_32,
  MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE, MIG_REPLY_HEADER_SIZE,
} from '../mach/message.js';
import { IpcKmsg, ipc_kmsg_destroy, ipc_kmsg_free } from './kmsg.js';
import {
  IP_VALID, ipc_port_release_send, ipc_port_release_sonce, type IpcPort,
} from './port.js';

// ==== kernel object types (kern/ipc_kobject.h) =====================================

export const IKOT_NONE = 0;
export const IKOT_THREAD = 1;
export const IKOT_TASK = 2;
export const IKOT_HOST = 3;
export const IKOT_HOST_PRIV = 4;
export const IKOT_PROCESSOR = 5;
export const IKOT_PSET = 6;
export const IKOT_PSET_NAME = 7;
export const IKOT_PAGER = 8;
export const IKOT_PAGING_REQUEST = 9;
export const IKOT_DEVICE = 10;
export const IKOT_XMM_OBJECT = 11;
export const IKOT_XMM_PAGER = 12;
export const IKOT_XMM_KERNEL = 13;
export const IKOT_XMM_REPLY = 14;
export const IKOT_PAGER_TERMINATING = 15;
export const IKOT_PAGING_NAME = 16;
export const IKOT_HOST_SECURITY = 17;
export const IKOT_LEDGER = 18;
export const IKOT_MASTER_DEVICE = 19;
export const IKOT_ACT = 20;
export const IKOT_SUBSYSTEM = 21;
export const IKOT_IO_DONE_QUEUE = 22;
export const IKOT_SEMAPHORE = 23;
export const IKOT_LOCK_SET = 24;
export const IKOT_CLOCK = 25;
export const IKOT_CLOCK_CTRL = 26;
export const IKOT_PAGER_PROXY = 27;
export const IKOT_USER_DEVICE = 28;
export const IKOT_PROCESSOR_NAME = 29;
export const IKOT_UNKNOWN = 30;

/**
 * A kernel server demux, as MIG generates for a KernelServer subsystem: given the request
 * and a reply already set up as a mig_reply_header_t (RetCode KERN_SUCCESS), it fills the
 * reply and returns true, or returns false when the message id isn't one of its routines.
 * Setting RetCode (reply.body[0].data) to MIG_NO_REPLY means "no reply now": the routine
 * kept the request's reply right (request.header.localPort) to answer later with
 * mach_msg_send_from_kernel.
 */
export type IpcKobjectDemux = (request: IpcKmsg, reply: IpcKmsg) => boolean;

const ipc_kobject_servers: IpcKobjectDemux[] = [];
const ipc_kobject_destroyers = new Map<number, (port: IpcPort) => void>();

/** Adds a demux to the chain ipc_kobject_server tries, in registration order. */
export function ipc_kobject_server_register(demux: IpcKobjectDemux): void {
  ipc_kobject_servers.push(demux);
}

/** Removes a demux added by ipc_kobject_server_register. */
export function ipc_kobject_server_unregister(demux: IpcKobjectDemux): void {
  const i = ipc_kobject_servers.indexOf(demux);
  if (i >= 0) ipc_kobject_servers.splice(i, 1);
}

/** Registers what to do when a port of kernel type `kotype` is destroyed (ipc_kobject_destroy). */
export function ipc_kobject_destroy_register(kotype: number, destroy: (port: IpcPort) => void): void {
  ipc_kobject_destroyers.set(kotype, destroy);
}

/**
 * ipc_kobject_set: makes `port` stand for the kernel object `kobject` of type `kotype`.
 * Conditions: the port is active.
 */
export function ipc_kobject_set(port: IpcPort, kobject: unknown, kotype: number): void {
  port.ip_kobject = kobject;
  port.ip_kotype = kotype;
}

/**
 * ipc_kobject_destroy: a port with a kernel object died: the type's destroy hook runs.
 * Conditions: the port is dead.
 */
export function ipc_kobject_destroy(port: IpcPort): void {
  ipc_kobject_destroyers.get(port.ip_kotype)?.(port);
}

/**
 * ipc_kobject_server: handles a message sent to a kernel port. The reply starts as a
 * mig_reply_header_t: bits MACH_MSGH_BITS(local type of the request, 0), size 40,
 * remote port the request's reply right, id + 100, RetCode KERN_SUCCESS. An id no demux
 * knows gets MIG_BAD_ID. Afterwards the destination right is released (a send-once right
 * silently: a send-once notification would come straight back here). If RetCode is
 * KERN_SUCCESS or MIG_NO_REPLY the server owns what the request carried; otherwise the
 * request is destroyed, except for its reply right, which the (error) reply uses.
 * Rights: consumes the request.
 * Returns: the reply to send, or null (MIG_NO_REPLY, or no valid reply port: the reply is
 * destroyed).
 */
export function ipc_kobject_server(request: IpcKmsg): IpcKmsg | null {
  const rheader = request.header;
  const reply = new IpcKmsg(MACH_MSGH_BITS(MACH_MSGH_BITS_LOCAL(rheader.bits), 0), MIG_REPLY_HEADER_SIZE,
    rheader.localPort, null, rheader.id + 100, [{
      type: { name: MACH_MSG_TYPE_INTEGER_32, size: 32, number: 1, inline: true, longform: false, deallocate: false },
      data: KERN_SUCCESS,
    }]);

  let handled = false;
  for (const demux of ipc_kobject_servers) {
    if (demux(request, reply)) {
      handled = true;
      break;
    }
  }
  if (!handled) reply.body[0]!.data = MIG_BAD_ID;

  const dest = rheader.remotePort as IpcPort;
  switch (MACH_MSGH_BITS_REMOTE(rheader.bits)) {
    case MACH_MSG_TYPE_PORT_SEND: ipc_port_release_send(dest); break;
    case MACH_MSG_TYPE_PORT_SEND_ONCE: ipc_port_release_sonce(dest); break;
    default: throw new Error('ipc_kobject_server: strange destination rights');
  }
  rheader.remotePort = null;

  const kr = reply.body[0]!.data as number;
  if (kr === KERN_SUCCESS || kr === MIG_NO_REPLY) {
    ipc_kmsg_free(request);
  } else {
    rheader.localPort = null;
    ipc_kmsg_destroy(request);
  }

  if (kr === MIG_NO_REPLY) {
    ipc_kmsg_free(reply);
    return null;
  }
  if (!IP_VALID(reply.header.remotePort)) {
    ipc_kmsg_destroy(reply);
    return null;
  }
  return reply;
}
