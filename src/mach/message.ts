/*
 * File: mach/message.ts
 * Purpose: GNU Mach's typed message: header bits, type names, options, and the
 *          in-memory shape of a message that the stubs, the kernel and the wire share.
 *
 * Values follow GNU Mach's include/mach/message.h. A message is a header and a body of
 * typed items, each a descriptor (mach_msg_type_t / mach_msg_type_long_t) plus its data.
 * `msgh_size` is kept as GNU Mach on x86_64 would compute it (see docs/protocol.md), so
 * MIG's size checks mean what they mean in C.
 */

// ==== msgh_bits =====================================================================

export const MACH_MSGH_BITS_REMOTE_MASK = 0x000000ff;
export const MACH_MSGH_BITS_LOCAL_MASK = 0x0000ff00;
export const MACH_MSGH_BITS_COMPLEX = 0x80000000;
export const MACH_MSGH_BITS_CIRCULAR = 0x40000000;

/** MACH_MSGH_BITS(remote, local) */
export function MACH_MSGH_BITS(remote: number, local: number): number {
  return (remote | (local << 8)) >>> 0;
}
export const MACH_MSGH_BITS_REMOTE = (bits: number): number => bits & MACH_MSGH_BITS_REMOTE_MASK;
export const MACH_MSGH_BITS_LOCAL = (bits: number): number => (bits & MACH_MSGH_BITS_LOCAL_MASK) >>> 8;

// ==== msgt_name values ==============================================================

export const MACH_MSG_TYPE_UNSTRUCTURED = 0;
export const MACH_MSG_TYPE_BIT = 0;
export const MACH_MSG_TYPE_BOOLEAN = 0;
export const MACH_MSG_TYPE_INTEGER_16 = 1;
export const MACH_MSG_TYPE_INTEGER_32 = 2;
export const MACH_MSG_TYPE_CHAR = 8;
export const MACH_MSG_TYPE_BYTE = 9;
export const MACH_MSG_TYPE_INTEGER_8 = 9;
export const MACH_MSG_TYPE_REAL = 10;
export const MACH_MSG_TYPE_INTEGER_64 = 11;
export const MACH_MSG_TYPE_STRING = 12;
export const MACH_MSG_TYPE_STRING_C = 12;
export const MACH_MSG_TYPE_PORT_NAME = 15;
export const MACH_MSG_TYPE_MOVE_RECEIVE = 16;
export const MACH_MSG_TYPE_MOVE_SEND = 17;
export const MACH_MSG_TYPE_MOVE_SEND_ONCE = 18;
export const MACH_MSG_TYPE_COPY_SEND = 19;
export const MACH_MSG_TYPE_MAKE_SEND = 20;
export const MACH_MSG_TYPE_MAKE_SEND_ONCE = 21;
export const MACH_MSG_TYPE_PORT_RECEIVE = MACH_MSG_TYPE_MOVE_RECEIVE;
export const MACH_MSG_TYPE_PORT_SEND = MACH_MSG_TYPE_MOVE_SEND;
export const MACH_MSG_TYPE_PORT_SEND_ONCE = MACH_MSG_TYPE_MOVE_SEND_ONCE;
export const MACH_MSG_TYPE_PROTECTED_PAYLOAD = 23;
export const MACH_MSG_TYPE_LAST = 23;
export const MACH_MSG_TYPE_POLYMORPHIC = 0xffffffff;

/** MACH_MSG_TYPE_PORT_ANY(x): a disposition or received right type (16..21). */
export const MACH_MSG_TYPE_PORT_ANY = (x: number): boolean =>
  x >= MACH_MSG_TYPE_MOVE_RECEIVE && x <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
/** MACH_MSG_TYPE_PORT_ANY_SEND(x): a disposition that yields a send or send-once right. */
export const MACH_MSG_TYPE_PORT_ANY_SEND = (x: number): boolean =>
  x >= MACH_MSG_TYPE_MOVE_SEND && x <= MACH_MSG_TYPE_MAKE_SEND_ONCE;

/** The right type a disposition becomes once received (ipc_object_copyin_type). */
export function copyinType(disposition: number): number {
  switch (disposition) {
    case MACH_MSG_TYPE_MOVE_RECEIVE: return MACH_MSG_TYPE_PORT_RECEIVE;
    case MACH_MSG_TYPE_MOVE_SEND:
    case MACH_MSG_TYPE_COPY_SEND:
    case MACH_MSG_TYPE_MAKE_SEND: return MACH_MSG_TYPE_PORT_SEND;
    case MACH_MSG_TYPE_MOVE_SEND_ONCE:
    case MACH_MSG_TYPE_MAKE_SEND_ONCE: return MACH_MSG_TYPE_PORT_SEND_ONCE;
    default: return disposition;
  }
}

/** Symbolic names of msgt_name values, as MIG spells them (first name wins for aliases). */
export const MSG_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'MACH_MSG_TYPE_BOOLEAN', 1: 'MACH_MSG_TYPE_INTEGER_16', 2: 'MACH_MSG_TYPE_INTEGER_32',
  8: 'MACH_MSG_TYPE_CHAR', 9: 'MACH_MSG_TYPE_BYTE', 10: 'MACH_MSG_TYPE_REAL',
  11: 'MACH_MSG_TYPE_INTEGER_64', 12: 'MACH_MSG_TYPE_STRING', 15: 'MACH_MSG_TYPE_PORT_NAME',
  16: 'MACH_MSG_TYPE_MOVE_RECEIVE', 17: 'MACH_MSG_TYPE_MOVE_SEND', 18: 'MACH_MSG_TYPE_MOVE_SEND_ONCE',
  19: 'MACH_MSG_TYPE_COPY_SEND', 20: 'MACH_MSG_TYPE_MAKE_SEND', 21: 'MACH_MSG_TYPE_MAKE_SEND_ONCE',
  23: 'MACH_MSG_TYPE_PROTECTED_PAYLOAD',
};

// ==== mach_msg options and timeouts =================================================

export const MACH_MSG_OPTION_NONE = 0x00000000;
export const MACH_SEND_MSG = 0x00000001;
export const MACH_RCV_MSG = 0x00000002;
export const MACH_SEND_TIMEOUT = 0x00000010;
export const MACH_SEND_NOTIFY = 0x00000020;
export const MACH_SEND_INTERRUPT = 0x00000040;
export const MACH_SEND_CANCEL = 0x00000080;
export const MACH_RCV_TIMEOUT = 0x00000100;
export const MACH_RCV_NOTIFY = 0x00000200;
export const MACH_RCV_INTERRUPT = 0x00000400;
export const MACH_RCV_LARGE = 0x00000800;
export const MACH_SEND_ALWAYS = 0x00010000;
export const MACH_MSG_TIMEOUT_NONE = 0;

/** Option names a .defs may use in `msgoption` (MIG passes them through to C). */
export const MSG_OPTION_VALUES: Readonly<Record<string, number>> = {
  MACH_MSG_OPTION_NONE, MACH_SEND_MSG, MACH_RCV_MSG, MACH_SEND_TIMEOUT, MACH_SEND_NOTIFY,
  MACH_SEND_INTERRUPT, MACH_SEND_CANCEL, MACH_RCV_TIMEOUT, MACH_RCV_NOTIFY, MACH_RCV_INTERRUPT,
  MACH_RCV_LARGE,
};

// ==== notifications (include/mach/notify.h) =========================================

export const MACH_NOTIFY_FIRST = 0o100;
export const MACH_NOTIFY_PORT_DELETED = MACH_NOTIFY_FIRST + 0o1;
export const MACH_NOTIFY_MSG_ACCEPTED = MACH_NOTIFY_FIRST + 0o2;
export const MACH_NOTIFY_PORT_DESTROYED = MACH_NOTIFY_FIRST + 0o5;
export const MACH_NOTIFY_NO_SENDERS = MACH_NOTIFY_FIRST + 0o6;
export const MACH_NOTIFY_SEND_ONCE = MACH_NOTIFY_FIRST + 0o7;
export const MACH_NOTIFY_DEAD_NAME = MACH_NOTIFY_FIRST + 0o10;

// ==== the message itself ============================================================

/** x86_64 GNU Mach sizes this MIG was built with (docs/protocol.md, spec/mig.md §9.1). */
export const MACH_MSG_HEADER_SIZE = 32;
export const MACH_MSG_TYPE_SIZE = 4;
export const MACH_MSG_TYPE_LONG_SIZE = 12;
export const MIG_REPLY_HEADER_SIZE = 40;
export const MACH_OOL_POINTER_SIZE = 8;

/** mach_msg_header_t. Port fields hold names in the space of whoever holds the message. */
export interface MachMsgHeader {
  /** remote disposition | local << 8 | MACH_MSGH_BITS_COMPLEX */
  bits: number;
  /** msgh_size: bytes as GNU Mach on x86_64 would count them */
  size: number;
  /** msgh_remote_port: the destination when sending, the reply right when received */
  remotePort: number;
  /** msgh_local_port: the reply port when sending, the destination when received */
  localPort: number;
  seqno: number;
  id: number;
}

/** mach_msg_type_t / mach_msg_type_long_t, unpacked. */
export interface MachMsgType {
  name: number;
  size: number;
  number: number;
  inline: boolean;
  longform: boolean;
  deallocate: boolean;
}

/**
 * The data of one typed item.
 * - integers of 8..64 bits, one element: `number` (64-bit values must be safe integers);
 * - several integers: `number[]`;
 * - bytes / chars (8-bit elements, in line or out of line): `Uint8Array`;
 * - C strings (MACH_MSG_TYPE_STRING): `string`;
 * - port rights and port names: names (`number`, or `number[]` for arrays) in the
 *   holder's space; the kernel translates them on transfer.
 */
export type MachMsgData = number | number[] | Uint8Array | string;

export interface MachMsgItem {
  type: MachMsgType;
  data: MachMsgData;
}

export interface MachMessage {
  header: MachMsgHeader;
  body: MachMsgItem[];
}

// ==== appended for the kernel IPC (include/mach/message.h) ==========================

export const MACH_MSGH_BITS_PORTS_MASK = MACH_MSGH_BITS_REMOTE_MASK | MACH_MSGH_BITS_LOCAL_MASK;
export const MACH_MSG_SIZE_MAX = 0xffffffff;
