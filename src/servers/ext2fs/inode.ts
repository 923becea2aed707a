/*
 * File: servers/ext2fs/inode.ts
 * Purpose: The ext2 inode (struct ext2_inode, 128 bytes in revision 0, s_inode_size in
 *          revision 1): decoding, mode/type bits, device numbers, timestamps.
 *
 * Offsets follow the on-disk layout: i_mode@0 i_uid@2 i_size@4 i_atime@8 i_ctime@12
 * i_mtime@16 i_dtime@20 i_gid@24 i_links_count@26 i_blocks@28 i_flags@32 osd1@36
 * i_block[15]@40 i_generation@100 i_file_acl@104 i_size_high@108 i_faddr@112 osd2@116
 * (l_i_blocks_hi@116, uid/gid high halves @120/@122), then the large-inode tail from
 * byte 128: i_extra_isize, i_ctime_extra, i_mtime_extra, i_atime_extra, i_crtime.
 */

import { Ext2Error, corrupt } from './errors.js';
import { EXT2_OS_HURD, EXT2_OS_LINUX, type Ext2Superblock, EXT4_FEATURE_RO_COMPAT_HUGE_FILE } from './superblock.js';

// ==== mode bits =====================================================================

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** The kind of a file, from the inode's i_mode or a directory entry's file_type. */
export type FileType = 'regular' | 'directory' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket' | 'unknown';

/** FileType of an i_mode value. */
export function fileTypeOfMode(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'regular';
    case S_IFDIR: return 'directory';
    case S_IFLNK: return 'symlink';
    case S_IFCHR: return 'chardev';
    case S_IFBLK: return 'blockdev';
    case S_IFIFO: return 'fifo';
    case S_IFSOCK: return 'socket';
    default: return 'unknown';
  }
}

/** Directory entry file_type codes (EXT2_FT_*), index = code. */
export const EXT2_FT_NAMES: readonly FileType[] = [
  'unknown', // EXT2_FT_UNKNOWN
  'regular', // EXT2_FT_REG_FILE
  'directory', // EXT2_FT_DIR
  'chardev', // EXT2_FT_CHRDEV
  'blockdev', // EXT2_FT_BLKDEV
  'fifo', // EXT2_FT_FIFO
  'socket', // EXT2_FT_SOCK
  'symlink', // EXT2_FT_SYMLINK
];

// ==== i_flags =======================================================================

export const EXT2_INDEX_FL = 0x00001000;
export const EXT4_HUGE_FILE_FL = 0x00040000;
export const EXT4_EXTENTS_FL = 0x00080000;
export const EXT4_INLINE_DATA_FL = 0x10000000;

/** Number of i_block slots: 12 direct, then single, double and triple indirect. */
export const EXT2_N_BLOCKS = 15;
export const EXT2_NDIR_BLOCKS = 12;
export const EXT2_IND_BLOCK = 12;
export const EXT2_DIND_BLOCK = 13;
export const EXT2_TIND_BLOCK = 14;

/** A decoded inode. Fields keep their ext2 names; derived values are camelCase. */
export interface Ext2Inode {
  /** The inode number this was read from. */
  ino: number;
  i_mode: number;
  /** Full uid (i_uid plus the osd2 high half on Linux/Hurd images). */
  i_uid: number;
  /** Full gid. */
  i_gid: number;
  /** Low 32 bits of the size as stored. */
  i_size: number;
  /** i_size_high (i_dir_acl in revision 0); part of the size for regular files on revision 1. */
  i_size_high: number;
  i_atime: number;
  i_ctime: number;
  i_mtime: number;
  i_dtime: number;
  i_links_count: number;
  /** Blocks in 512-byte units (converted from fs blocks for huge_file inodes). */
  i_blocks: number;
  i_flags: number;
  /** osd1 (l_i_version on Linux, h_i_translator on the Hurd). */
  i_osd1: number;
  /** The 15 block pointers (or a fast symlink's target, or device numbers). */
  i_block: Uint32Array;
  /** i_block as its 60 raw bytes (fast symlink targets live here). */
  i_block_bytes: Uint8Array;
  i_generation: number;
  i_file_acl: number;
  /** Large inodes: bytes used beyond 128 (0 for 128-byte inodes). */
  i_extra_isize: number;
  /** Derived: type from i_mode. */
  type: FileType;
  /** Derived: the file size in bytes. */
  size: number;
  /** Derived: nanosecond parts of the times (0 without the large-inode tail). */
  atimeNsec: number;
  mtimeNsec: number;
  ctimeNsec: number;
  /** Derived: creation time if the inode records one. */
  crtime: number | null;
  /**
   * Hurd images (s_creator_os = EXT2_OS_HURD) only: osd1 is h_i_translator (the block
   * holding the passive translator), osd2 holds h_i_mode_high and h_i_author.
   */
  hurd: { i_translator: number; i_mode_high: number; i_author: number } | null;
}

/** Decode a timestamp: signed 32-bit seconds plus the epoch bits and nanoseconds of `extra`. */
function decodeTime(sec: number, extra: number | null): [number, number] {
  let s = sec | 0; // signed, as Linux reads it
  if (extra === null) return [s, 0];
  s += (extra & 3) * 0x1_0000_0000;
  return [s, extra >>> 2];
}

/**
 * Decode the inode bytes `raw` (at least 128; s_inode_size for revision 1) read for `ino`.
 * Throws Ext2Error on fields that cannot be valid (i_extra_isize past the inode).
 */
export function parseInode(sb: Ext2Superblock, ino: number, raw: Uint8Array): Ext2Inode {
  if (raw.length < 128) throw corrupt(`inode ${ino}: short (${raw.length} bytes)`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const u32 = (o: number): number => dv.getUint32(o, true);
  const u16 = (o: number): number => dv.getUint16(o, true);
  const i_mode = u16(0);
  const osLinuxish = sb.s_creator_os === EXT2_OS_LINUX || sb.s_creator_os === EXT2_OS_HURD;
  const i_uid = (u16(2) | (osLinuxish ? u16(120) << 16 : 0)) >>> 0;
  const i_gid = (u16(24) | (osLinuxish ? u16(122) << 16 : 0)) >>> 0;
  const i_size = u32(4);
  const i_size_high = u32(108);
  const i_flags = u32(32);
  const i_block = new Uint32Array(EXT2_N_BLOCKS);
  for (let k = 0; k < EXT2_N_BLOCKS; k++) i_block[k] = u32(40 + 4 * k);

  // i_blocks: 48 bits with huge_file on Linux images, counted in fs blocks if EXT4_HUGE_FILE_FL.
  let i_blocks = u32(28);
  if ((sb.s_feature_ro_compat & EXT4_FEATURE_RO_COMPAT_HUGE_FILE) !== 0 && sb.s_creator_os === EXT2_OS_LINUX) {
    i_blocks += u16(116) * 0x1_0000_0000;
    if ((i_flags & EXT4_HUGE_FILE_FL) !== 0) i_blocks *= sb.blockSize / 512;
  }

  let i_extra_isize = 0;
  if (raw.length > 128) {
    i_extra_isize = u16(128);
    if (128 + i_extra_isize > raw.length || (i_extra_isize & 3) !== 0) {
      throw corrupt(`inode ${ino}: i_extra_isize ${i_extra_isize} does not fit a ${raw.length}-byte inode`);
    }
  }
  const extra = (off: number): number | null => (i_extra_isize >= off - 128 + 4 ? u32(off) : null);
  const [ctime, ctimeNsec] = decodeTime(u32(12), extra(132));
  const [mtime, mtimeNsec] = decodeTime(u32(16), extra(136));
  const [atime, atimeNsec] = decodeTime(u32(8), extra(140));
  const crSec = extra(144);
  const crtime = crSec === null ? null : decodeTime(crSec, extra(148))[0];

  const type = fileTypeOfMode(i_mode);
  let size = i_size;
  if (sb.s_rev_level >= 1 && type === 'regular') size += i_size_high * 0x1_0000_0000;
  if (size > Number.MAX_SAFE_INTEGER) throw corrupt(`inode ${ino}: i_size_high ${i_size_high}: size past 2^53 bytes`);

  return {
    ino,
    i_mode,
    i_uid,
    i_gid,
    i_size,
    i_size_high,
    i_atime: atime,
    i_ctime: ctime,
    i_mtime: mtime,
    i_dtime: u32(20),
    i_links_count: u16(26),
    i_blocks,
    i_flags,
    i_osd1: u32(36),
    i_block,
    i_block_bytes: raw.slice(40, 100),
    i_generation: u32(100),
    i_file_acl: u32(104),
    i_extra_isize,
    type,
    size,
    atimeNsec,
    mtimeNsec,
    ctimeNsec,
    crtime,
    hurd: sb.s_creator_os === EXT2_OS_HURD ? { i_translator: u32(36), i_mode_high: u16(118), i_author: u32(124) } : null,
  };
}

/** A device number pair decoded from a device inode's i_block. */
export interface DeviceNumber {
  major: number;
  minor: number;
}

/**
 * Device numbers of a char/block device inode: the old 16-bit encoding in i_block[0]
 * (major<<8 | minor) when it is non-zero, else the new 32-bit encoding in i_block[1]
 * (minor & 0xff | major << 8 | (minor & ~0xff) << 12), as Linux's ext2 does.
 */
export function decodeDevice(inode: Ext2Inode): DeviceNumber {
  const old = inode.i_block[0]!;
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const dev = inode.i_block[1]!;
  return { major: (dev & 0xfff00) >>> 8, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}

/** The new (Linux huge) 32-bit encoding of a device number: what `stat.rdev` holds. */
export function encodeDevice(d: DeviceNumber): number {
  return ((d.minor & 0xff) | (d.major << 8) | ((d.minor & ~0xff) << 12)) >>> 0;
}

/** Throw if an inode's data would need a feature this reader does not implement. */
export function checkDataFlags(inode: Ext2Inode): void {
  if ((inode.i_flags & EXT4_EXTENTS_FL) !== 0) {
    throw new Ext2Error('EUNSUPPORTED', `inode ${inode.ino}: uses extents (EXT4_EXTENTS_FL), not supported`);
  }
  if ((inode.i_flags & EXT4_INLINE_DATA_FL) !== 0) {
    throw new Ext2Error('EUNSUPPORTED', `inode ${inode.ino}: uses inline data (EXT4_INLINE_DATA_FL), not supported`);
  }
}
