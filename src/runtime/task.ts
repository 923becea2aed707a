/*
 * File: runtime/task.ts
 * Purpose: a task as its own code sees it (libmach's part of glibc): mach_task_self and the
 *          other special ports as handles, the mach_msg call, MIG's reply ports, and
 *          handles for the names it receives. Generated user stubs run on it.
 *
 * It speaks to the kernel only through a Transport, so it is the same whether the kernel
 * is in this process or another. Rights are held as MachPort handles bound to this task:
 * a stub refuses a handle of another task, so a name can never be sent through the wrong
 * space by mistake (and the kernel interprets names only in the sender's space anyway).
 */

import { MACH_MSG_SUCCESS } from '../mach/kern_return.js';
import { MACH_MSG_SIZE_MAX, type MachMessage } from '../mach/message.js';
import type { MachMsg, MachPort } from '../mach/mig.js';
import { MACH_PORT_NULL, MACH_PORT_RIGHT_RECEIVE } from '../mach/port.js';
import type { TaskInfo, Transport, TrapMachMsgResult } from '../transport/transport.js';
import { mach_port_mod_refs } from '../gen/mach_port.user.js';

function result(r: TrapMachMsgResult): MachMessage | number {
  return r.mr === MACH_MSG_SUCCESS ? (r.msg ?? MACH_MSG_SUCCESS) : r.mr;
}

export class MachTask implements MachMsg {
  readonly transport: Transport;
  readonly info: TaskInfo;
  /** mach_task_self(): the task's own kernel port */
  readonly self: MachPort;
  /** mach_host_self() */
  readonly host: MachPort;
  /** the privileged host port (boot servers only) */
  readonly hostPriv: MachPort | null;
  /** the device master port (boot servers only) */
  readonly deviceMaster: MachPort | null;
  /** the bootstrap port, if the task was given one */
  readonly bootstrap: MachPort | null;
  private readonly replyPorts: number[] = [];

  constructor(transport: Transport) {
    this.transport = transport;
    const info = transport.info;
    this.info = info;
    this.self = this.port(info.task_self);
    this.host = this.port(info.host_self);
    this.hostPriv = info.host_priv === MACH_PORT_NULL ? null : this.port(info.host_priv);
    this.deviceMaster = info.device_master === MACH_PORT_NULL ? null : this.port(info.device_master);
    this.bootstrap = info.bootstrap === MACH_PORT_NULL ? null : this.port(info.bootstrap);
  }

  get name(): string {
    return this.info.name;
  }

  /** A handle for a name in this task's space. */
  port(name: number): MachPort {
    return { name, task: this };
  }

  /**
   * mach_msg: send `msg` (MACH_SEND_MSG), then receive on `rcvName` (MACH_RCV_MSG).
   * Returns the received message, MACH_MSG_SUCCESS after a send, or the mach_msg error.
   */
  mach_msg(msg: MachMessage | null, option: number, rcvName: number, timeout: number): MachMessage | number | Promise<MachMessage | number> {
    const r = this.transport.mach_msg(msg, option, MACH_MSG_SIZE_MAX, rcvName, timeout, MACH_PORT_NULL);
    return r instanceof Promise ? r.then(result) : result(r);
  }

  /** mig_get_reply_port: a receive right for one RPC's reply (reused across RPCs). */
  mig_get_reply_port(): number | Promise<number> {
    return this.replyPorts.pop() ?? this.transport.mach_reply_port();
  }

  mig_put_reply_port(name: number): void {
    this.replyPorts.push(name);
  }

  /** The RPC failed: a late reply may come, so the port is destroyed, not reused. */
  mig_dealloc_reply_port(name: number): void {
    // Nothing to destroy for MACH_PORT_NULL (no reply port could be had: the task is dying).
    if (name === MACH_PORT_NULL) return;
    mach_port_mod_refs(this.self, name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
  }

  /** Reply ports kept for reuse (their receive rights stay in the space). */
  get cachedReplyPorts(): number {
    return this.replyPorts.length;
  }

  /** The task ends: the kernel releases its rights and sends the notifications that follow. */
  terminate(): void {
    this.transport.close();
  }
}
