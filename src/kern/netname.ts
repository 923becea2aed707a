/*
 * File: kern/netname.ts
 * Purpose: the name service (defs/netname.defs, subsystem netname 1040), served by the
 *          kernel on a kernel port, so that tasks in separate processes find each other's
 *          ports: a server checks a send right in under a name, clients look it up.
 *
 * In CMU Mach the netname server was a user task (the netmsgserver); here the kernel
 * serves the same interface behind a kernel port (a kernel object of type IKOT_NETNAME),
 * which a kernel process hands every task it connects as its bootstrap port
 * (kern/server.ts). The table holds naked send rights: a checked-in port's no-senders
 * notification cannot fire while it is checked in (the service is one of its senders).
 * Entries whose port died are dropped when met and after each task ends (sweep).
 */

import {
  KERN_SUCCESS, MIG_BAD_ID,
} from '../mach/kern_return.js';
import type { MachPort } from '../mach/mig.js';
import { ipc_kobject_server_register, ipc_kobject_set } from '../ipc/kobject.js';
import {
  ipc_port_alloc_kernel, ipc_port_copy_send, ipc_port_dealloc_kernel, ipc_port_release_send, IP_VALID, type IpcPort,
  type IpcPortRef,
} from '../ipc/port.js';
import { netname_server } from '../gen/netname.server.js';
import { KernelMsg, kernelServer } from './ipc_mig.js';

/** The kernel object type of the name service's port (after GNU Mach's IKOT_UNKNOWN, 30). */
export const IKOT_NETNAME = 31;

/** servers/netname_defs.h */
export const NETNAME_SUCCESS = 0;
export const NETNAME_PENDING = -1;
export const NETNAME_ERROR_BASE = 4900;
/** the name is checked in under another signature */
export const NETNAME_NOT_YOUR_HOST = NETNAME_ERROR_BASE + 0;
export const NETNAME_NOT_CHECKED_IN = NETNAME_ERROR_BASE + 1;
export const NETNAME_NO_SUCH_HOST = NETNAME_ERROR_BASE + 2;
export const NETNAME_HOST_NOT_FOUND = NETNAME_ERROR_BASE + 3;
export const NETNAME_INVALID_PORT = NETNAME_ERROR_BASE + 4;

export const NETNAME_VERSION = 'tsmach netname 1';

/** Host names that mean this kernel ("*", broadcast in the old service, finds local names). */
const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '*']);

interface NetnameEntry {
  /** naked send right to the checked-in port */
  port: IpcPort;
  /** naked send right to the signature port */
  signature: IpcPort;
}

/** The name table of one kernel, behind its kernel port. */
export class NetnameService {
  /** The service's kernel port: hand out send rights to it (ipc_port_make_send). */
  readonly port: IpcPort;
  private readonly names = new Map<string, NetnameEntry>();
  private active = true;

  constructor() {
    register_netname_server();
    this.port = ipc_port_alloc_kernel();
    ipc_kobject_set(this.port, this, IKOT_NETNAME);
  }

  /** Names checked in (live ports only after a sweep). */
  get size(): number {
    return this.names.size;
  }

  /**
   * netname_check_in: `port` is known as `name`. A name already checked in is replaced
   * only under the same signature (or when its port died).
   * Rights: takes the naked send rights `signature` and `port` on success.
   * Returns: NETNAME_SUCCESS, NETNAME_INVALID_PORT (null or dead port or signature),
   * NETNAME_NOT_YOUR_HOST (held under another signature).
   */
  check_in(name: string, signature: IpcPortRef, port: IpcPortRef): number {
    if (!this.active || !IP_VALID(port) || !port.ip_active || !IP_VALID(signature) || !signature.ip_active) return NETNAME_INVALID_PORT;
    const old = this.names.get(name);
    if (old !== undefined && old.port.ip_active && old.signature !== signature) return NETNAME_NOT_YOUR_HOST;
    this.names.set(name, { port, signature });
    if (old !== undefined) this.release(old);
    return NETNAME_SUCCESS;
  }

  /**
   * netname_look_up: a send right to the port checked in as `name` on `host` (this host:
   * "", "localhost", "*").
   * Rights: produces a naked send right.
   * Returns: the right, or NETNAME_HOST_NOT_FOUND, NETNAME_NOT_CHECKED_IN.
   */
  look_up(host: string, name: string): IpcPort | number {
    if (!LOCAL_HOSTS.has(host)) return NETNAME_HOST_NOT_FOUND;
    const e = this.names.get(name);
    if (e === undefined) return NETNAME_NOT_CHECKED_IN;
    if (!e.port.ip_active) {
      this.names.delete(name);
      this.release(e);
      return NETNAME_NOT_CHECKED_IN;
    }
    return ipc_port_copy_send(e.port) as IpcPort;
  }

  /**
   * netname_check_out: forgets `name`.
   * Rights: releases the table's rights for the name; `signature` stays the caller's.
   * Returns: NETNAME_SUCCESS, NETNAME_NOT_CHECKED_IN, NETNAME_NOT_YOUR_HOST (wrong signature).
   */
  check_out(name: string, signature: IpcPortRef): number {
    const e = this.names.get(name);
    if (e === undefined) return NETNAME_NOT_CHECKED_IN;
    if (e.signature !== signature && e.port.ip_active) return NETNAME_NOT_YOUR_HOST;
    this.names.delete(name);
    this.release(e);
    return e.port.ip_active ? NETNAME_SUCCESS : NETNAME_NOT_CHECKED_IN;
  }

  /** Drops the names whose port died. */
  sweep(): void {
    for (const [name, e] of this.names) {
      if (e.port.ip_active) continue;
      this.names.delete(name);
      this.release(e);
    }
  }

  /** The kernel shuts down: every right the table holds is released, the port dies. */
  destroy(): void {
    if (!this.active) return;
    this.active = false;
    const entries = [...this.names.values()];
    this.names.clear();
    for (const e of entries) this.release(e);
    ipc_port_dealloc_kernel(this.port);
  }

  private release(e: NetnameEntry): void {
    ipc_port_release_send(e.port);
    ipc_port_release_send(e.signature);
  }
}

// ==== the kernel server =============================================================

let registered = false;

/** The netname demux joins the kernel object servers (once per process). */
function register_netname_server(): void {
  if (registered) return;
  registered = true;
  const rt = new KernelMsg('from_kernel');
  const service = (p: MachPort): NetnameService | null => {
    const ref = rt.peek(p);
    return IP_VALID(ref) && ref.ip_active && ref.ip_kotype === IKOT_NETNAME ? (ref.ip_kobject as NetnameService) : null;
  };
  const demux = netname_server({
    netname_check_in(server, name, signature, port_id) {
      const s = service(server);
      if (s === null) return MIG_BAD_ID;
      const kr = s.check_in(name, rt.peek(signature), rt.peek(port_id));
      if (kr === KERN_SUCCESS) {
        rt.take(signature);
        rt.take(port_id);
      }
      return kr;
    },
    netname_look_up(server, host, name) {
      const s = service(server);
      if (s === null) return MIG_BAD_ID;
      const r = s.look_up(host, name);
      return typeof r === 'number' ? r : { port_id: rt.right(r) };
    },
    netname_check_out(server, name, signature) {
      const s = service(server);
      if (s === null) return MIG_BAD_ID;
      return s.check_out(name, rt.peek(signature));
    },
    netname_version(server) {
      return service(server) === null ? MIG_BAD_ID : { version: NETNAME_VERSION };
    },
  });
  ipc_kobject_server_register(kernelServer(demux, rt));
}
