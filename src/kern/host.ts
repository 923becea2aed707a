/*
 * File: kern/host.ts
 * Purpose: the host (GNU Mach kern/host.c, kern/ipc_host.c): its name port, which anyone
 *          may hold, and its privileged port, which the kernel gives only to the servers it
 *          boots (vm_set_default_memory_manager, device access).
 */

import { ipc_kobject_set, IKOT_HOST, IKOT_HOST_PRIV } from '../ipc/kobject.js';
import { ipc_port_alloc_kernel, ipc_port_dealloc_kernel, IP_VALID, type IpcPort, type IpcPortRef } from '../ipc/port.js';

/** struct host: one per kernel. */
export class Host {
  /** host_self: the host name port (IKOT_HOST) */
  readonly host_self: IpcPort;
  /** host_priv_self: the privileged host port (IKOT_HOST_PRIV) */
  readonly host_priv_self: IpcPort;

  constructor() {
    this.host_self = ipc_port_alloc_kernel();
    ipc_kobject_set(this.host_self, this, IKOT_HOST);
    this.host_priv_self = ipc_port_alloc_kernel();
    ipc_kobject_set(this.host_priv_self, this, IKOT_HOST_PRIV);
  }

  /** The host's ports die with the kernel. */
  destroy(): void {
    ipc_port_dealloc_kernel(this.host_self);
    ipc_port_dealloc_kernel(this.host_priv_self);
  }
}

/** convert_port_to_host_priv: the host a privileged host port stands for, or null. */
export function convert_port_to_host_priv(port: IpcPortRef): Host | null {
  return IP_VALID(port) && port.ip_kotype === IKOT_HOST_PRIV ? (port.ip_kobject as Host) : null;
}

/** convert_port_to_host: the host either host port stands for, or null. */
export function convert_port_to_host(port: IpcPortRef): Host | null {
  return IP_VALID(port) && (port.ip_kotype === IKOT_HOST || port.ip_kotype === IKOT_HOST_PRIV) ? (port.ip_kobject as Host) : null;
}
