/**
 * A test double for the MachMsg interface: one "task" whose mach_msg hands a request
 * straight to a demux and the reply straight back, doing to each message what the
 * kernel does in between (spec mig.md §13): swap the header ports, turn dispositions
 * into the rights received, set the deallocate bit of out-of-line data, copy the data.
 * Rights are not tracked: this exercises the stubs and the demux, not IPC.
 */
import type { MachMsg, MachPort, MigDemux } from '../../../src/mach/mig.js';
import {
  copyinType, MACH_MSGH_BITS, MACH_MSGH_BITS_COMPLEX, MACH_MSGH_BITS_LOCAL, MACH_MSGH_BITS_REMOTE, MACH_RCV_MSG,
  MACH_SEND_MSG, type MachMessage,
} from '../../../src/mach/message.js';

/** The message as its receiver gets it. */
export function transfer(m: MachMessage, seqno = 0): MachMessage {
  const h = m.header;
  const bits = MACH_MSGH_BITS(copyinType(MACH_MSGH_BITS_LOCAL(h.bits)), copyinType(MACH_MSGH_BITS_REMOTE(h.bits))) | (h.bits & MACH_MSGH_BITS_COMPLEX);
  return {
    header: { bits: bits >>> 0, size: h.size, remotePort: h.localPort, localPort: h.remotePort, seqno, id: h.id },
    body: m.body.map((it) => ({
      type: { ...it.type, name: copyinType(it.type.name), deallocate: it.type.inline ? it.type.deallocate : true },
      data: Array.isArray(it.data) ? [...it.data] : it.data instanceof Uint8Array ? it.data.slice() : it.data,
    })),
  };
}

export class Loopback implements MachMsg {
  demux: MigDemux | null = null;
  /** rewrite each reply before the client sees it (to test the client's checks) */
  tamperReply: ((m: MachMessage) => MachMessage) | null = null;
  tamperRequest: ((m: MachMessage) => MachMessage) | null = null;
  readonly oneway: MachMessage[] = [];
  private seqno = 0;
  private nextReply = 1000;
  readonly replyPorts = { got: 0, put: 0, dealloc: 0 };

  port(name: number): MachPort {
    return { name, task: this };
  }
  mig_get_reply_port(): number {
    this.replyPorts.got++;
    return this.nextReply++;
  }
  mig_put_reply_port(): void {
    this.replyPorts.put++;
  }
  mig_dealloc_reply_port(): void {
    this.replyPorts.dealloc++;
  }

  async mach_msg(msg: MachMessage | null, option: number): Promise<MachMessage | number> {
    if (!msg || !(option & MACH_SEND_MSG)) throw new Error('loopback: send expected');
    let req = transfer(msg, this.seqno++);
    if (this.tamperRequest) req = this.tamperRequest(req);
    const reply = await this.demux!(req, this);
    if (!(option & MACH_RCV_MSG)) {
      this.oneway.push(req);
      return 0;
    }
    if (reply === null) throw new Error('loopback: the server sent no reply to an RPC');
    const back = transfer(reply);
    return this.tamperReply ? this.tamperReply(back) : back;
  }
}
