/*
 * File: mach/kern_return.ts
 * Purpose: kern_return_t, mach_msg_return_t and MIG error codes, with their Mach names.
 *
 * Values are GNU Mach's (include/mach/kern_return.h, include/mach/message.h,
 * include/mach/mig_errors.h). `kernReturnName(code)` gives the name a Mach
 * programmer expects to read in an error message.
 */

export const KERN_SUCCESS = 0;
export const KERN_INVALID_ADDRESS = 1;
export const KERN_PROTECTION_FAILURE = 2;
export const KERN_NO_SPACE = 3;
export const KERN_INVALID_ARGUMENT = 4;
export const KERN_FAILURE = 5;
export const KERN_RESOURCE_SHORTAGE = 6;
export const KERN_NOT_RECEIVER = 7;
export const KERN_NO_ACCESS = 8;
export const KERN_MEMORY_FAILURE = 9;
export const KERN_MEMORY_ERROR = 10;
export const KERN_NOT_IN_SET = 12;
export const KERN_NAME_EXISTS = 13;
export const KERN_ABORTED = 14;
export const KERN_INVALID_NAME = 15;
export const KERN_INVALID_TASK = 16;
export const KERN_INVALID_RIGHT = 17;
export const KERN_INVALID_VALUE = 18;
export const KERN_UREFS_OVERFLOW = 19;
export const KERN_INVALID_CAPABILITY = 20;
export const KERN_RIGHT_EXISTS = 21;
export const KERN_INVALID_HOST = 22;
export const KERN_MEMORY_PRESENT = 23;
export const KERN_WRITE_PROTECTION_FAILURE = 24;
export const KERN_TERMINATED = 26;
export const KERN_TIMEDOUT = 27;
export const KERN_INTERRUPTED = 28;

export const MACH_MSG_SUCCESS = 0x00000000;
export const MACH_SEND_IN_PROGRESS = 0x10000001;
export const MACH_SEND_INVALID_DATA = 0x10000002;
export const MACH_SEND_INVALID_DEST = 0x10000003;
export const MACH_SEND_TIMED_OUT = 0x10000004;
export const MACH_SEND_WILL_NOTIFY = 0x10000005;
export const MACH_SEND_NOTIFY_IN_PROGRESS = 0x10000006;
export const MACH_SEND_INTERRUPTED = 0x10000007;
export const MACH_SEND_MSG_TOO_SMALL = 0x10000008;
export const MACH_SEND_INVALID_REPLY = 0x10000009;
export const MACH_SEND_INVALID_RIGHT = 0x1000000a;
export const MACH_SEND_INVALID_NOTIFY = 0x1000000b;
export const MACH_SEND_INVALID_MEMORY = 0x1000000c;
export const MACH_SEND_NO_BUFFER = 0x1000000d;
export const MACH_SEND_NO_NOTIFY = 0x1000000e;
export const MACH_SEND_INVALID_TYPE = 0x1000000f;
export const MACH_SEND_INVALID_HEADER = 0x10000010;
export const MACH_RCV_IN_PROGRESS = 0x10004001;
export const MACH_RCV_INVALID_NAME = 0x10004002;
export const MACH_RCV_TIMED_OUT = 0x10004003;
export const MACH_RCV_TOO_LARGE = 0x10004004;
export const MACH_RCV_INTERRUPTED = 0x10004005;
export const MACH_RCV_PORT_CHANGED = 0x10004006;
export const MACH_RCV_INVALID_NOTIFY = 0x10004007;
export const MACH_RCV_INVALID_DATA = 0x10004008;
export const MACH_RCV_PORT_DIED = 0x10004009;
export const MACH_RCV_IN_SET = 0x1000400a;
export const MACH_RCV_HEADER_ERROR = 0x1000400b;
export const MACH_RCV_BODY_ERROR = 0x1000400c;

export const MIG_TYPE_ERROR = -300;
export const MIG_REPLY_MISMATCH = -301;
export const MIG_REMOTE_ERROR = -302;
export const MIG_BAD_ID = -303;
export const MIG_BAD_ARGUMENTS = -304;
export const MIG_NO_REPLY = -305;
export const MIG_EXCEPTION = -306;
export const MIG_ARRAY_TOO_LARGE = -307;
export const MIG_SERVER_DIED = -308;
export const MIG_DESTROY_REQUEST = -309;
/** Hurd's EOPNOTSUPP as MIG's weak default work functions return it (errno 45 | 0x40000000). */
export const EOPNOTSUPP = 0x4000002d;

const names = new Map<number, string>();
for (const [name, value] of Object.entries({
  KERN_SUCCESS, KERN_INVALID_ADDRESS, KERN_PROTECTION_FAILURE, KERN_NO_SPACE, KERN_INVALID_ARGUMENT,
  KERN_FAILURE, KERN_RESOURCE_SHORTAGE, KERN_NOT_RECEIVER, KERN_NO_ACCESS, KERN_MEMORY_FAILURE,
  KERN_MEMORY_ERROR, KERN_NOT_IN_SET, KERN_NAME_EXISTS, KERN_ABORTED, KERN_INVALID_NAME,
  KERN_INVALID_TASK, KERN_INVALID_RIGHT, KERN_INVALID_VALUE, KERN_UREFS_OVERFLOW,
  KERN_INVALID_CAPABILITY, KERN_RIGHT_EXISTS, KERN_INVALID_HOST, KERN_MEMORY_PRESENT,
  KERN_WRITE_PROTECTION_FAILURE, KERN_TERMINATED, KERN_TIMEDOUT, KERN_INTERRUPTED,
  MACH_SEND_IN_PROGRESS, MACH_SEND_INVALID_DATA, MACH_SEND_INVALID_DEST, MACH_SEND_TIMED_OUT,
  MACH_SEND_WILL_NOTIFY, MACH_SEND_NOTIFY_IN_PROGRESS, MACH_SEND_INTERRUPTED,
  MACH_SEND_MSG_TOO_SMALL, MACH_SEND_INVALID_REPLY, MACH_SEND_INVALID_RIGHT,
  MACH_SEND_INVALID_NOTIFY, MACH_SEND_INVALID_MEMORY, MACH_SEND_NO_BUFFER, MACH_SEND_NO_NOTIFY,
  MACH_SEND_INVALID_TYPE, MACH_SEND_INVALID_HEADER, MACH_RCV_IN_PROGRESS, MACH_RCV_INVALID_NAME,
  MACH_RCV_TIMED_OUT, MACH_RCV_TOO_LARGE, MACH_RCV_INTERRUPTED, MACH_RCV_PORT_CHANGED,
  MACH_RCV_INVALID_NOTIFY, MACH_RCV_INVALID_DATA, MACH_RCV_PORT_DIED, MACH_RCV_IN_SET,
  MACH_RCV_HEADER_ERROR, MACH_RCV_BODY_ERROR, MIG_TYPE_ERROR, MIG_REPLY_MISMATCH,
  MIG_REMOTE_ERROR, MIG_BAD_ID, MIG_BAD_ARGUMENTS, MIG_NO_REPLY, MIG_EXCEPTION,
  MIG_ARRAY_TOO_LARGE, MIG_SERVER_DIED, MIG_DESTROY_REQUEST, EOPNOTSUPP,
})) names.set(value, name);

/** The Mach name of a kern_return_t / mach_msg_return_t / MIG code, or its number in hex. */
export function kernReturnName(code: number): string {
  return names.get(code) ?? (code < 0 ? String(code) : `0x${code.toString(16)}`);
}

/**
 * A non-success code surfaced as an exception by the typed stubs.
 * `code` is the kern_return_t; `name` its Mach name (KERN_INVALID_ADDRESS, MIG_SERVER_DIED...).
 */
export class MachError extends Error {
  readonly code: number;
  constructor(code: number, context?: string) {
    super(context ? `${context}: ${kernReturnName(code)}` : kernReturnName(code));
    this.name = 'MachError';
    this.code = code;
  }
  get kernName(): string { return kernReturnName(this.code); }
}

// ==== appended for the kernel IPC: special bits ORed into some mach_msg_return_t codes
// (include/mach/message.h). MACH_MSG_MASK masks them off.

export const MACH_MSG_MASK = 0x00003c00;
export const MACH_MSG_IPC_SPACE = 0x00002000;
export const MACH_MSG_VM_SPACE = 0x00001000;
export const MACH_MSG_IPC_KERNEL = 0x00000800;
export const MACH_MSG_VM_KERNEL = 0x00000400;
