/*
 * File: servers/ext2fs/dirent.ts
 * Purpose: struct dirent as dir_readdir returns it on 64-bit GNU/Hurd, and the Hurd
 *          ext2fs's packing of directory entries into a dir_readdir reply
 *          (diskfs_get_directs in the Hurd's ext2fs/dir.c), plus the client's parser.
 *
 * The record layout (LP64, little-endian; glibc sysdeps/mach/hurd/bits/dirent.h):
 *
 *   offset  size  field
 *        0     8  d_ino (d_fileno)   the inode number
 *        8     2  d_reclen           bytes of this record, padding included
 *       10     1  d_type             DT_* (DT_UNKNOWN from the Hurd's ext2fs, see below)
 *       11     1  d_namlen           bytes of the name, NUL excluded
 *       12     n  d_name             the name's bytes, then one NUL
 *   12+n+1     p  zero padding up to DIRENT_ALIGN
 *
 *   d_reclen = (12 + d_namlen + 1 + 7) & ~7    (DIRENT_ALIGN = __alignof (struct dirent) = 8)
 *
 * so "." is a 16-byte record and a 255-byte name a 272-byte one. Records follow each
 * other with no gap; the reply's data is their concatenation and `amount` their count.
 *
 * d_type: the Hurd's ext2fs always answers DT_UNKNOWN ("for complex reasons it might not
 * be correct to return the filesystem's d_type value to the user": a translator may sit
 * on the node), which makes clients such as fts stat every entry. `dtype: 'filetype'`
 * returns the type the ext2 directory entry (or, without the filetype feature, the inode)
 * gives instead.
 */

import { PAGE_SIZE } from '../../vm/vm_param.js';
import { DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN } from './hurd_types.js';
import type { FileType } from './inode.js';

/** offsetof (struct dirent, d_name) on 64-bit GNU/Hurd. */
export const DIRENT_NAME_OFFS = 12;
/** __alignof (struct dirent): records are padded to this many bytes. */
export const DIRENT_ALIGN = 8;
/** EXT2_DIR_REC_LEN (0): the smallest on-disk entry. */
const EXT2_MIN_ENTRY_SIZE = 8;
/** The inline buffer MIG's server stub offers an unbounded data_t out argument. */
export const MIG_INLINE_DATA_MAX = 2048;

/** d_reclen of a record whose name has `namlen` bytes. */
export function direntRecLen(namlen: number): number {
  return (DIRENT_NAME_OFFS + namlen + 1 + (DIRENT_ALIGN - 1)) & ~(DIRENT_ALIGN - 1);
}

/** The d_type for an ext2 file type. */
export function dtypeOf(t: FileType): number {
  switch (t) {
    case 'regular': return DT_REG;
    case 'directory': return DT_DIR;
    case 'symlink': return DT_LNK;
    case 'chardev': return DT_CHR;
    case 'blockdev': return DT_BLK;
    case 'fifo': return DT_FIFO;
    case 'socket': return DT_SOCK;
    default: return DT_UNKNOWN;
  }
}

/** Write one record at `at` of `out` (which must have room); returns its d_reclen. */
export function encodeDirent(out: Uint8Array, at: number, ino: number, type: number, name: Uint8Array): number {
  if (name.length < 1 || name.length > 255) throw new RangeError(`dirent name of ${name.length} bytes`);
  const reclen = direntRecLen(name.length);
  const dv = new DataView(out.buffer, out.byteOffset + at, reclen);
  dv.setBigUint64(0, BigInt(ino), true);
  dv.setUint16(8, reclen, true);
  dv.setUint8(10, type);
  dv.setUint8(11, name.length);
  out.set(name, at + DIRENT_NAME_OFFS);
  out.fill(0, at + DIRENT_NAME_OFFS + name.length, at + reclen); // the NUL and the padding
  return reclen;
}

/** A live directory entry as the server holds it. */
export interface DirEntrySource {
  ino: number;
  nameBytes: Uint8Array;
  type: FileType;
}

/** What diskfs_get_directs produces. */
export interface GetDirectsResult {
  data: Uint8Array;
  /** entries returned */
  amount: number;
  /**
   * Bytes the Hurd would mmap for the reply (0 when it returns nothing), before giving
   * back the unused tail beyond round_page(data.length).
   */
  allocsize: number;
}

function round_page(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}

/**
 * Pack `entries` (the directory's live entries in on-disk order) from entry number
 * `entry` on, as the Hurd's ext2fs diskfs_get_directs does:
 *
 * - `entry` at or past the last entry: success with nothing (the EOF condition).
 * - `nentries`: at most that many records; -1 means no limit (any other negative
 *   value, or 0, returns nothing).
 * - `bufsiz` 0, or larger than the directory (`dirSize` bytes): no byte limit (the
 *   whole rest of the directory). Otherwise no record *starts* once `bufsiz` bytes are
 *   filled, and a record that would end past round_page(bufsiz) is left off: like the
 *   Hurd's, the reply can exceed `bufsiz` by less than one record.
 * - a negative `entry` starts from the first entry (the Hurd's loop never skips).
 */
export function getDirects(
  entries: readonly DirEntrySource[],
  dirSize: number,
  entry: number,
  nentries: number,
  bufsiz: number,
  dtype: 'unknown' | 'filetype',
): GetDirectsResult {
  const first = Math.max(0, entry);
  if (first >= entries.length) return { data: new Uint8Array(0), amount: 0, allocsize: 0 };
  let allocsize: number;
  if (bufsiz === 0 || bufsiz > dirSize) {
    // Enough for the whole directory in the worst case (every on-disk entry minimal).
    const minDirent = DIRENT_NAME_OFFS + 1;
    const maxEntries = Math.floor(dirSize / EXT2_MIN_ENTRY_SIZE);
    const entryExtra = DIRENT_ALIGN + (minDirent > EXT2_MIN_ENTRY_SIZE ? minDirent - EXT2_MIN_ENTRY_SIZE : 0);
    allocsize = round_page(dirSize + maxEntries * entryExtra);
  } else {
    allocsize = round_page(bufsiz);
  }
  // Size the output exactly: records until a limit is hit.
  let size = 0;
  let count = 0;
  for (let k = first; k < entries.length; k++) {
    if (nentries !== -1 && !(count < nentries)) break;
    if (bufsiz !== 0 && !(size < bufsiz)) break;
    const rec = direntRecLen(entries[k]!.nameBytes.length);
    if (bufsiz !== 0 && size + rec > allocsize) break; // left off, as the Hurd does
    size += rec;
    count++;
  }
  const data = new Uint8Array(size);
  let at = 0;
  for (let k = first; k < first + count; k++) {
    const e = entries[k]!;
    at += encodeDirent(data, at, e.ino, dtype === 'filetype' ? dtypeOf(e.type) : DT_UNKNOWN, e.nameBytes);
  }
  return { data, amount: count, allocsize };
}

// ==== the client's side ================================================================

/** One record of a dir_readdir reply. */
export interface Dirent {
  ino: number;
  reclen: number;
  type: number;
  /** The name's bytes. */
  nameBytes: Uint8Array;
  /** The name decoded as UTF-8 (lossy for other bytes). */
  name: string;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Parse the records of a dir_readdir reply (`amount` of them if given). Throws a
 * RangeError on a malformed record (a reclen too small, past the data, misaligned, or a
 * name without its NUL), as a client must not trust a server's bytes.
 */
export function parseDirents(data: Uint8Array, amount?: number): Dirent[] {
  const out: Dirent[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  while (at < data.length && (amount === undefined || out.length < amount)) {
    if (at + DIRENT_NAME_OFFS > data.length) throw new RangeError(`dirent at ${at}: header past the data`);
    const ino = Number(dv.getBigUint64(at, true));
    const reclen = dv.getUint16(at + 8, true);
    const type = dv.getUint8(at + 10);
    const namlen = dv.getUint8(at + 11);
    if (reclen < direntRecLen(namlen) || reclen % DIRENT_ALIGN !== 0 || at + reclen > data.length) {
      throw new RangeError(`dirent at ${at}: d_reclen ${reclen} for d_namlen ${namlen} (${data.length - at} bytes left)`);
    }
    if (data[at + DIRENT_NAME_OFFS + namlen] !== 0) throw new RangeError(`dirent at ${at}: name not NUL-terminated`);
    const nameBytes = data.slice(at + DIRENT_NAME_OFFS, at + DIRENT_NAME_OFFS + namlen);
    out.push({ ino, reclen, type, nameBytes, name: utf8.decode(nameBytes) });
    at += reclen;
  }
  if (amount !== undefined && out.length !== amount) throw new RangeError(`dir_readdir: ${out.length} records for an amount of ${amount}`);
  return out;
}
