/*
 * File: servers/ext2fs/client.ts
 * Purpose: the client's side of the io/fs protocol, as the GNU C library does it on the
 *          Hurd: file name lookup with dir_lookup's retries (hurd/lookup-retry.c),
 *          readdir over dir_readdir (sysdeps/mach/hurd/readdir64.c), read at the file
 *          pointer, fstat over io_stat, close = deallocating the port.
 *
 * A client holds its root and working directories as send rights (crdir, cwdir); every
 * open file is a send right to the server's protid, deallocated when closed (the server
 * then hears no-senders and drops the open).
 *
 * Retries (__hurd_file_name_lookup_retry): FS_RETRY_NORMAL with a name continues from the
 * returned port; FS_RETRY_REAUTH does the same (no auth server yet: no reauthentication);
 * FS_RETRY_MAGICAL "/..." restarts from crdir; other magic ("fd/N", "machtype/...")
 * is EGRATUITOUS here. More than 40 retries (glibc's __eloop_threshold) is ELOOP.
 * O_NOFOLLOW is the C library's: O_NOLINK to the server, then ELOOP if the result is a
 * symlink.
 *
 * Out-of-line replies (io_read beyond 2048 bytes, dir_readdir beyond 2048 bytes) arrive
 * as regions the kernel placed in this task's VM map: take_ool copies the bytes and
 * vm_deallocates the region, as glibc's read() and readdir do (a real Mach task that
 * forgot would fill its address space).
 */

import { MachError } from '../../mach/kern_return.js';
import type { MachPort } from '../../mach/mig.js';
import { dir_lookup, dir_readdir } from '../../gen/fs.user.js';
import { io_read, io_stat } from '../../gen/io.user.js';
import { vm_deallocate, vm_read } from '../../gen/mach.user.js';
import { mach_port_deallocate } from '../../gen/mach_port.user.js';
import { MachTask } from '../../runtime/task.js';
import { parseDirents, type Dirent } from './dirent.js';
import {
  EGRATUITOUS, ELOOP, ENOENT, FS_RETRY_MAGICAL, FS_RETRY_NORMAL, FS_RETRY_REAUTH, hurd_errno_name, hurd_strerror,
  O_NOFOLLOW, O_NOLINK, S_IFLNK, S_IFMT,
} from './hurd_types.js';
import { unpackStat, type IoStat } from './statbuf.js';

/** glibc's __eloop_threshold (): retries before ELOOP. */
export const LOOKUP_MAX_RETRIES = 40;

/** An errno from the file protocol (a Hurd errno or another kern_return_t). */
export class HurdError extends Error {
  constructor(readonly code: number, what: string) {
    super(`${what}: ${hurd_strerror(code)} (${hurd_errno_name(code) ?? `0x${(code >>> 0).toString(16)}`})`);
    this.name = 'HurdError';
  }
}

/** Rethrow a stub's MachError as a HurdError naming the call. */
function rethrow(e: unknown, what: string): never {
  if (e instanceof MachError) throw new HurdError(e.code, what);
  throw e;
}

/** The directories names are resolved from. */
export interface LookupContext {
  /** The root directory ("/..." names, FS_RETRY_MAGICAL "/" retries). */
  crdir: MachPort;
  /** The working directory (relative names). */
  cwdir: MachPort;
}

/** OOL data as the kernel's VM delivers it: where the region was placed, pages still to read. */
interface OolData extends Uint8Array {
  address?: number;
  missing?: number[];
}

const PAGE = 4096;

/**
 * The bytes of a reply's out-of-line data, its region released: a region the kernel
 * placed in `task`'s map (data.address set) is read (pages a pager had not supplied yet
 * are vm_read) and vm_deallocate'd. In-line data is returned as it is.
 */
export async function take_ool(task: MachTask, data: Uint8Array): Promise<Uint8Array> {
  const d = data as OolData;
  if (typeof d.address !== 'number' || data.length === 0) return data;
  const bytes = new Uint8Array(data); // our copy, as glibc's read() memcpy's into the caller's buffer
  for (const off of d.missing ?? []) {
    const n = Math.min(PAGE, bytes.length - off);
    const page = (await vm_read(task.self, d.address + off, n)).data as OolData;
    bytes.set(page.subarray(0, n), off);
    if (typeof page.address === 'number') await vm_deallocate(task.self, page.address, page.length);
  }
  await vm_deallocate(task.self, d.address, data.length);
  return bytes;
}

/** Release a send right (close): mach_port_deallocate in the task holding it. */
export async function port_close(port: MachPort): Promise<void> {
  const task = port.task;
  if (!(task instanceof MachTask)) throw new TypeError(`port_close: port ${port.name} is not held by a MachTask`);
  await mach_port_deallocate(task.self, port.name).catch((e: unknown) => { if (!(e instanceof MachError)) throw e; });
}

/**
 * __hurd_file_name_lookup_retry: dir_lookup `name` from `start`, following the server's
 * retry instructions. `start` is not consumed. Returns a send right (the caller closes it).
 * Throws HurdError.
 */
export async function lookup_retry(ctx: LookupContext, start: MachPort, name: string, flags: number, mode = 0): Promise<MachPort> {
  const nofollow = (flags & O_NOFOLLOW) !== 0;
  const serverFlags = nofollow ? (flags | O_NOLINK) & ~O_NOFOLLOW : flags;
  let dir = start;
  let ownDir = false; // dir is a right we got from a retry (ours to release)
  let fname = name;
  let nloops = 0;
  for (;;) {
    let r: Awaited<ReturnType<typeof dir_lookup>>;
    try {
      r = await dir_lookup(dir, fname, serverFlags, mode);
    } catch (e) {
      if (ownDir) await port_close(dir);
      rethrow(e, `dir_lookup ${JSON.stringify(fname)}`);
    }
    if (ownDir) await port_close(dir);
    ownDir = false;
    switch (r.do_retry) {
      case FS_RETRY_REAUTH:
      case FS_RETRY_NORMAL:
        if (nloops++ >= LOOKUP_MAX_RETRIES) {
          if (r.result !== null) await port_close(r.result);
          throw new HurdError(ELOOP, `lookup ${JSON.stringify(name)}`);
        }
        if (r.retry_name === '' && r.do_retry === FS_RETRY_NORMAL) {
          if (r.result === null) throw new HurdError(ENOENT, `lookup ${JSON.stringify(name)}`);
          if (nofollow) {
            const st = await fstat(r.result).catch(async (e: unknown) => { await port_close(r.result!); throw e; });
            if ((st.st_mode & S_IFMT) === S_IFLNK) {
              await port_close(r.result);
              throw new HurdError(ELOOP, `open ${JSON.stringify(name)} (O_NOFOLLOW)`);
            }
          }
          return r.result;
        }
        if (r.result === null) throw new HurdError(EGRATUITOUS, `lookup ${JSON.stringify(name)}: retry without a port`);
        dir = r.result;
        ownDir = true;
        fname = r.retry_name;
        break;
      case FS_RETRY_MAGICAL:
        if (r.result !== null) await port_close(r.result);
        if (r.retry_name.startsWith('/')) {
          if (nloops++ >= LOOKUP_MAX_RETRIES) throw new HurdError(ELOOP, `lookup ${JSON.stringify(name)}`);
          dir = ctx.crdir;
          fname = r.retry_name.slice(1);
          break;
        }
        throw new HurdError(EGRATUITOUS, `lookup ${JSON.stringify(name)}: magic retry ${JSON.stringify(r.retry_name)}`);
      default:
        if (r.result !== null) await port_close(r.result);
        throw new HurdError(EGRATUITOUS, `lookup ${JSON.stringify(name)}: retry type ${r.do_retry}`);
    }
  }
}

/**
 * __hurd_file_name_lookup: `name` from crdir when absolute, cwdir otherwise; "" is ENOENT.
 * Returns a send right. Throws HurdError.
 */
export async function file_name_lookup(ctx: LookupContext, name: string, flags: number, mode = 0): Promise<MachPort> {
  if (name === '') throw new HurdError(ENOENT, 'lookup ""');
  return lookup_retry(ctx, name.startsWith('/') ? ctx.crdir : ctx.cwdir, name, flags, mode);
}

/** fstat: io_stat, unpacked. Throws HurdError. */
export async function fstat(port: MachPort): Promise<IoStat> {
  try {
    return unpackStat((await io_stat(port)).stat_info);
  } catch (e) {
    return rethrow(e, 'io_stat');
  }
}

/**
 * readdir until the end, as glibc's Hurd readdir fetches a directory: dir_readdir from
 * entry 0 asking for all entries (nentries -1, bufsiz 0), then from the next entry, until
 * a reply has none. Throws HurdError (or RangeError on malformed records).
 */
export async function readdir_all(dir: MachPort): Promise<Dirent[]> {
  const out: Dirent[] = [];
  for (;;) {
    let r: { data: Uint8Array; amount: number };
    try {
      r = await dir_readdir(dir, out.length, -1, 0);
    } catch (e) {
      return rethrow(e, 'dir_readdir');
    }
    const data = await take_ool(dir.task as MachTask, r.data);
    if (r.amount === 0) return out;
    out.push(...parseDirents(data, r.amount));
  }
}

/** read(): up to `amount` bytes at the file pointer (offset -1). Throws HurdError. */
export async function read(port: MachPort, amount: number): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    data = (await io_read(port, -1, amount)).data;
  } catch (e) {
    return rethrow(e, 'io_read');
  }
  return take_ool(port.task as MachTask, data);
}
