/*
 * File: servers/ext2fs/statbuf.ts
 * Purpose: io_statbuf_t, the struct stat io_stat returns, as the 41 32-bit integers
 *          defs/io_types.defs lays out (MIG's 4-byte alignment: each 64-bit member is two
 *          ints, low half first, as little-endian memory holds it).
 *
 *   int  index  member          C type
 *        0      st_fstype       int
 *        1-2    st_fsid         uint64
 *        3-4    st_ino          ino64_t (int64)
 *        5      st_gen          uint32
 *        6-7    st_rdev         uint64
 *        8      st_mode         mode_t (uint32)
 *        9-10   st_nlink        uint64
 *        11     st_uid          uid_t
 *        12     st_gid          gid_t
 *        13-14  st_size         loff_t (int64)
 *        15-18  st_atim         { int64 tv_sec; int64 tv_nsec }
 *        19-22  st_mtim
 *        23-26  st_ctim
 *        27-28  st_blksize      int64
 *        29-30  st_blocks       int64
 *        31     st_author       uid_t
 *        32     st_flags        uint32
 *        33-40  st_spare[8]     int
 *
 * Elements are carried as unsigned 32-bit values; unpackStat reads signed members back
 * with their sign.
 */

/** struct stat as io_stat carries it. */
export interface IoStat {
  st_fstype: number;
  st_fsid: number;
  st_ino: number;
  st_gen: number;
  st_rdev: number;
  st_mode: number;
  st_nlink: number;
  st_uid: number;
  st_gid: number;
  st_size: number;
  st_atim: { tv_sec: number; tv_nsec: number };
  st_mtim: { tv_sec: number; tv_nsec: number };
  st_ctim: { tv_sec: number; tv_nsec: number };
  st_blksize: number;
  st_blocks: number;
  st_author: number;
  st_flags: number;
  st_spare: number[];
}

/** Number of ints in an io_statbuf_t. */
export const IO_STATBUF_INTS = 41;

const TWO32 = 0x1_0000_0000;

function put64(out: number[], v: number, what: string): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`io_stat: ${what} ${v} is not a safe integer`);
  const lo = ((v % TWO32) + TWO32) % TWO32;
  const hi = Math.floor(v / TWO32);
  out.push(lo, hi < 0 ? hi + TWO32 : hi);
}

function put32(out: number[], v: number): void {
  out.push(v >>> 0);
}

function get64(a: readonly number[], i: number, signed: boolean): number {
  const lo = a[i]! >>> 0;
  const hi = signed ? a[i + 1]! | 0 : a[i + 1]! >>> 0;
  return hi * TWO32 + lo;
}

/** The 41 ints of `st` (every member; missing spare ints are 0). */
export function packStat(st: IoStat): number[] {
  const out: number[] = [];
  put32(out, st.st_fstype);
  put64(out, st.st_fsid, 'st_fsid');
  put64(out, st.st_ino, 'st_ino');
  put32(out, st.st_gen);
  put64(out, st.st_rdev, 'st_rdev');
  put32(out, st.st_mode);
  put64(out, st.st_nlink, 'st_nlink');
  put32(out, st.st_uid);
  put32(out, st.st_gid);
  put64(out, st.st_size, 'st_size');
  for (const t of [st.st_atim, st.st_mtim, st.st_ctim]) {
    put64(out, t.tv_sec, 'tv_sec');
    put64(out, t.tv_nsec, 'tv_nsec');
  }
  put64(out, st.st_blksize, 'st_blksize');
  put64(out, st.st_blocks, 'st_blocks');
  put32(out, st.st_author);
  put32(out, st.st_flags);
  for (let i = 0; i < 8; i++) put32(out, st.st_spare[i] ?? 0);
  if (out.length !== IO_STATBUF_INTS) throw new Error(`packStat: ${out.length} ints`);
  return out;
}

/** The struct stat in 41 ints (signed members read as signed). */
export function unpackStat(a: readonly number[]): IoStat {
  if (a.length !== IO_STATBUF_INTS) throw new RangeError(`io_statbuf_t of ${a.length} ints, not ${IO_STATBUF_INTS}`);
  const time = (i: number): { tv_sec: number; tv_nsec: number } => ({ tv_sec: get64(a, i, true), tv_nsec: get64(a, i + 2, true) });
  return {
    st_fstype: a[0]! | 0,
    st_fsid: get64(a, 1, false),
    st_ino: get64(a, 3, true),
    st_gen: a[5]! >>> 0,
    st_rdev: get64(a, 6, false),
    st_mode: a[8]! >>> 0,
    st_nlink: get64(a, 9, false),
    st_uid: a[11]! >>> 0,
    st_gid: a[12]! >>> 0,
    st_size: get64(a, 13, true),
    st_atim: time(15),
    st_mtim: time(19),
    st_ctim: time(23),
    st_blksize: get64(a, 27, true),
    st_blocks: get64(a, 29, true),
    st_author: a[31]! >>> 0,
    st_flags: a[32]! >>> 0,
    st_spare: a.slice(33, 41).map((x) => x | 0),
  };
}
