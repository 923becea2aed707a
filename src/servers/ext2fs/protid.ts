/*
 * File: servers/ext2fs/protid.ts
 * Purpose: open files and their ports, as libdiskfs and libports keep them: a peropen
 *          (one open of a node: open modes and the file pointer) and a protid (a port
 *          standing for that open, which clients send io/fs requests to), all protids
 *          members of one port set the server receives on (a libports bucket).
 *
 * Rights: each protid is a receive right of the server task, moved into the bucket's port
 * set. The server gives clients send rights by MAKE_SEND in replies (counted in
 * `mscount`); before the first one it asks the kernel for a no-senders notification
 * (mach_port_request_notification(MACH_NOTIFY_NO_SENDERS, sync = mscount + 1) with a
 * send-once right made from the protid itself, as ports_get_right does), so the
 * notification arrives on the protid through the port set. When it comes and no send
 * right was made since (its mscount is not below ours), the protid is destroyed: its
 * receive right goes (the kernel removes it from the set), its peropen releases the node.
 * A notification older than the last send right made re-arms the request instead
 * (ports_no_senders).
 */

import { MachError } from '../../mach/kern_return.js';
import { MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_NOTIFY_NO_SENDERS } from '../../mach/message.js';
import type { MachPort } from '../../mach/mig.js';
import { MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_RECEIVE } from '../../mach/port.js';
import {
  mach_port_allocate, mach_port_mod_refs, mach_port_move_member, mach_port_request_notification,
} from '../../gen/mach_port.user.js';
import type { MachTask } from '../../runtime/task.js';
import type { ServerMemory } from './heap.js';
import type { Node, NodeCache } from './node.js';

/** Bytes of a struct protid plus its struct peropen (libports port_info included): an estimate. */
export const PROTID_HEAP_SIZE = 256;

/** One open of a node (struct peropen). */
export interface Peropen {
  readonly node: Node;
  /** The open modes kept (dir_lookup's flags without the open-only ones): O_READ, ... */
  readonly openstat: number;
  /** The file pointer io_read/io_seek at offset -1 use. */
  filepointer: number;
}

/** A port standing for an open file (struct protid). */
export interface Protid {
  /** The receive right's name in the server's space. */
  readonly name: number;
  readonly po: Peropen;
  /** Send rights the server made for it (the make-send count as it knows it). */
  mscount: number;
  /** Gone: destroyed, or being destroyed. */
  dead: boolean;
  readonly addr: number;
}

/** Counters of a bucket. */
export interface BucketStats {
  /** protids alive */
  protids: number;
  created: number;
  /** destroyed after a no-senders notification */
  released: number;
  /** no-senders notifications that re-armed the request (a newer send right existed) */
  rearmed: number;
}

export class PortBucket {
  /** The port set every protid is a member of. */
  private portSet = 0;
  private readonly protids = new Map<number, Protid>();
  private readonly s = { created: 0, released: 0, rearmed: 0 };
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly task: MachTask,
    private readonly nodes: NodeCache,
    private readonly memory: ServerMemory,
  ) {}

  /** Allocate the port set (once, before any protid). */
  async init(): Promise<MachPort> {
    if (this.portSet === 0) this.portSet = (await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_PORT_SET)).name;
    return this.task.port(this.portSet);
  }

  get set(): MachPort {
    if (this.portSet === 0) throw new Error('PortBucket: init() first');
    return this.task.port(this.portSet);
  }

  get stats(): BucketStats {
    return { protids: this.protids.size, ...this.s };
  }

  /** The live protid named `name` (a request's local port), or undefined. */
  lookup(name: number): Protid | undefined {
    const p = this.protids.get(name);
    return p === undefined || p.dead ? undefined : p;
  }

  /** Every live protid. */
  all(): Protid[] {
    return [...this.protids.values()].filter((p) => !p.dead);
  }

  /**
   * diskfs_make_peropen + diskfs_create_protid + ports_get_right: a new open of `node`
   * with `openstat`, its port in the set, the no-senders notification requested. The
   * caller hands out the send right by MAKE_SEND (call gaveSend()).
   * Throws MachError when the kernel refuses (no space for the right).
   */
  async create(node: Node, openstat: number): Promise<Protid> {
    const set = await this.init();
    const { name } = await mach_port_allocate(this.task.self, MACH_PORT_RIGHT_RECEIVE);
    try {
      await mach_port_move_member(this.task.self, name, set.name);
      await mach_port_request_notification(this.task.self, name, MACH_NOTIFY_NO_SENDERS, 1, this.task.port(name), MACH_MSG_TYPE_MAKE_SEND_ONCE);
    } catch (e) {
      await mach_port_mod_refs(this.task.self, name, MACH_PORT_RIGHT_RECEIVE, -1).catch(() => undefined);
      throw e;
    }
    this.nodes.ref(node);
    const protid: Protid = { name, po: { node, openstat, filepointer: 0 }, mscount: 0, dead: false, addr: this.memory.malloc(PROTID_HEAP_SIZE, 'protid') };
    this.protids.set(name, protid);
    this.s.created++;
    return protid;
  }

  /** A send right to `protid` is being made (MAKE_SEND in a reply). */
  gaveSend(protid: Protid): MachPort {
    protid.mscount++;
    return this.task.port(protid.name);
  }

  /**
   * ports_no_senders: the kernel says `protid`'s port had no senders when its make-send
   * count was `mscount`. Destroys the protid unless a send right was made since; then
   * the request is made again with the current count.
   */
  async noSenders(name: number, mscount: number): Promise<void> {
    const p = this.protids.get(name);
    if (p === undefined || p.dead) return;
    if (mscount >= p.mscount) {
      this.s.released++;
      await this.destroy(p);
      return;
    }
    this.s.rearmed++;
    await mach_port_request_notification(this.task.self, name, MACH_NOTIFY_NO_SENDERS, p.mscount, this.task.port(name), MACH_MSG_TYPE_MAKE_SEND_ONCE)
      .catch((e: unknown) => { if (!(e instanceof MachError)) throw e; });
  }

  /** Destroy a protid: its receive right, its peropen's node reference, its heap item. */
  async destroy(p: Protid): Promise<void> {
    if (p.dead) return;
    p.dead = true;
    this.protids.delete(p.name);
    this.nodes.release(p.po.node);
    this.memory.free(p.addr);
    await mach_port_mod_refs(this.task.self, p.name, MACH_PORT_RIGHT_RECEIVE, -1).catch((e: unknown) => { if (!(e instanceof MachError)) throw e; });
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves the next time a protid is destroyed. */
  released(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Destroy every protid and the port set. */
  async shutdown(): Promise<void> {
    for (const p of [...this.protids.values()]) await this.destroy(p);
    if (this.portSet !== 0) {
      const set = this.portSet;
      this.portSet = 0;
      await mach_port_mod_refs(this.task.self, set, MACH_PORT_RIGHT_PORT_SET, -1).catch(() => undefined);
    }
  }
}
