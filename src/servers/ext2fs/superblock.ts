/*
 * File: servers/ext2fs/superblock.ts
 * Purpose: The ext2 superblock (at byte 1024, magic 0xEF53), its feature flags, and the
 *          block group descriptor table: parsing and sanity checks.
 *
 * Field names are the on-disk ones (s_inodes_count, s_log_block_size, bg_inode_table...)
 * so they can be grepped against the ext2 documentation. Only what a read-only reader
 * needs is decoded. parseSuperblock() validates every geometry field it later relies on,
 * so the rest of the reader can do arithmetic on them without re-checking.
 */

import { Ext2Error, corrupt } from './errors.js';

/** Byte offset of the primary superblock, whatever the block size. */
export const SUPERBLOCK_OFFSET = 1024;
/** Size of the on-disk superblock. */
export const SUPERBLOCK_SIZE = 1024;
/** s_magic */
export const EXT2_SUPER_MAGIC = 0xef53;
/** s_rev_level: the original format (fixed 128-byte inodes, first inode 11, no features). */
export const EXT2_GOOD_OLD_REV = 0;
/** s_rev_level: dynamic inode sizes and feature flags. */
export const EXT2_DYNAMIC_REV = 1;
/** Inode size of revision 0. */
export const EXT2_GOOD_OLD_INODE_SIZE = 128;
/** First non-reserved inode of revision 0. */
export const EXT2_GOOD_OLD_FIRST_INO = 11;
/** The root directory's inode number. */
export const EXT2_ROOT_INO = 2;
/** Size of one classic (32-bit) group descriptor. */
export const EXT2_MIN_DESC_SIZE = 32;

/** s_creator_os values */
export const EXT2_OS_LINUX = 0;
export const EXT2_OS_HURD = 1;

// ==== feature flags =================================================================

/** s_feature_compat: a reader may ignore all of these. */
export const COMPAT_FEATURES: Readonly<Record<number, string>> = {
  0x0001: 'dir_prealloc',
  0x0002: 'imagic_inodes',
  0x0004: 'has_journal',
  0x0008: 'ext_attr',
  0x0010: 'resize_inode',
  0x0020: 'dir_index',
  0x0040: 'lazy_bg',
  0x0080: 'exclude_inode',
  0x0100: 'exclude_bitmap',
  0x0200: 'sparse_super2',
  0x0400: 'fast_commit',
  0x0800: 'stable_inodes',
  0x1000: 'orphan_file',
};
export const EXT4_FEATURE_COMPAT_SPARSE_SUPER2 = 0x0200;

/** s_feature_incompat: a reader must understand every bit that is set. */
export const INCOMPAT_FEATURES: Readonly<Record<number, string>> = {
  0x0001: 'compression',
  0x0002: 'filetype',
  0x0004: 'needs_recovery',
  0x0008: 'journal_dev',
  0x0010: 'meta_bg',
  0x0040: 'extent',
  0x0080: '64bit',
  0x0100: 'mmp',
  0x0200: 'flex_bg',
  0x0400: 'ea_inode',
  0x1000: 'dirdata',
  0x2000: 'metadata_csum_seed',
  0x4000: 'large_dir',
  0x8000: 'inline_data',
  0x10000: 'encrypt',
  0x20000: 'casefold',
};
export const EXT2_FEATURE_INCOMPAT_FILETYPE = 0x0002;
export const EXT2_FEATURE_INCOMPAT_META_BG = 0x0010;
export const EXT4_FEATURE_INCOMPAT_FLEX_BG = 0x0200;
/** The incompat features this reader implements (filetype, meta_bg; flex_bg only moves metadata). */
export const SUPPORTED_INCOMPAT =
  EXT2_FEATURE_INCOMPAT_FILETYPE | EXT2_FEATURE_INCOMPAT_META_BG | EXT4_FEATURE_INCOMPAT_FLEX_BG;

/** s_feature_ro_compat: safe to ignore when only reading, except where noted. */
export const RO_COMPAT_FEATURES: Readonly<Record<number, string>> = {
  0x0001: 'sparse_super',
  0x0002: 'large_file',
  0x0004: 'btree_dir',
  0x0008: 'huge_file',
  0x0010: 'uninit_bg',
  0x0020: 'dir_nlink',
  0x0040: 'extra_isize',
  0x0080: 'snapshot',
  0x0100: 'quota',
  0x0200: 'bigalloc',
  0x0400: 'metadata_csum',
  0x0800: 'replica',
  0x1000: 'read-only',
  0x2000: 'project',
  0x4000: 'shared_blocks',
  0x8000: 'verity',
  0x10000: 'orphan_present',
};
export const EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER = 0x0001;
export const EXT2_FEATURE_RO_COMPAT_LARGE_FILE = 0x0002;
export const EXT4_FEATURE_RO_COMPAT_HUGE_FILE = 0x0008;
export const EXT4_FEATURE_RO_COMPAT_BIGALLOC = 0x0200;
/** ro_compat features that change how blocks are addressed, refused even for reading. */
export const UNSUPPORTED_RO_COMPAT = EXT4_FEATURE_RO_COMPAT_BIGALLOC;

/** Names of the bits set in `mask`, from `table`, unknown bits as hex. */
export function featureNames(mask: number, table: Readonly<Record<number, string>>): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const v = (1 << bit) >>> 0;
    if ((mask & v) === 0) continue;
    out.push(table[v] ?? `unknown(0x${v.toString(16)})`);
  }
  return out;
}

// ==== superblock ====================================================================

/** The decoded superblock fields the reader uses (revision-0 defaults filled in). */
export interface Ext2Superblock {
  s_inodes_count: number;
  s_blocks_count: number;
  s_r_blocks_count: number;
  s_free_blocks_count: number;
  s_free_inodes_count: number;
  s_first_data_block: number;
  s_log_block_size: number;
  s_blocks_per_group: number;
  s_inodes_per_group: number;
  s_mtime: number;
  s_wtime: number;
  s_mnt_count: number;
  s_magic: number;
  s_state: number;
  s_errors: number;
  s_minor_rev_level: number;
  s_creator_os: number;
  s_rev_level: number;
  /** Revision 0: 11. */
  s_first_ino: number;
  /** Revision 0: 128. */
  s_inode_size: number;
  s_feature_compat: number;
  s_feature_incompat: number;
  s_feature_ro_compat: number;
  s_uuid: Uint8Array;
  s_volume_name: string;
  s_last_mounted: string;
  s_first_meta_bg: number;
  /** sparse_super2: the (at most two) groups holding backup superblocks. */
  s_backup_bgs: [number, number];
  /** Derived: 1024 << s_log_block_size. */
  blockSize: number;
  /** Derived: number of block groups. */
  groupCount: number;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder('utf-8').decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Decode and validate the 1024 bytes of the superblock. `deviceSize` is the byte size of
 * the device or image; an image shorter than the file system it claims is refused.
 * Throws Ext2Error (EIO for corruption, EUNSUPPORTED for revisions/features not implemented).
 */
export function parseSuperblock(raw: Uint8Array, deviceSize: number): Ext2Superblock {
  if (raw.length < SUPERBLOCK_SIZE) throw corrupt(`superblock: short (${raw.length} bytes)`);
  const dv = new DataView(raw.buffer, raw.byteOffset, SUPERBLOCK_SIZE);
  const u32 = (o: number): number => dv.getUint32(o, true);
  const u16 = (o: number): number => dv.getUint16(o, true);

  const s_magic = u16(56);
  if (s_magic !== EXT2_SUPER_MAGIC) {
    throw corrupt(`bad magic 0x${s_magic.toString(16).padStart(4, '0')} at byte 1080 (want 0xef53): not an ext2 file system`);
  }
  const s_rev_level = u32(76);
  if (s_rev_level !== EXT2_GOOD_OLD_REV && s_rev_level !== EXT2_DYNAMIC_REV) {
    throw new Ext2Error('EUNSUPPORTED', `unsupported revision s_rev_level=${s_rev_level} (only 0 and 1)`);
  }
  const dyn = s_rev_level >= EXT2_DYNAMIC_REV;
  const sb: Ext2Superblock = {
    s_inodes_count: u32(0),
    s_blocks_count: u32(4),
    s_r_blocks_count: u32(8),
    s_free_blocks_count: u32(12),
    s_free_inodes_count: u32(16),
    s_first_data_block: u32(20),
    s_log_block_size: u32(24),
    s_blocks_per_group: u32(32),
    s_inodes_per_group: u32(40),
    s_mtime: u32(44),
    s_wtime: u32(48),
    s_mnt_count: u16(52),
    s_magic,
    s_state: u16(58),
    s_errors: u16(60),
    s_minor_rev_level: u16(62),
    s_creator_os: u32(72),
    s_rev_level,
    s_first_ino: dyn ? u32(84) : EXT2_GOOD_OLD_FIRST_INO,
    s_inode_size: dyn ? u16(88) : EXT2_GOOD_OLD_INODE_SIZE,
    s_feature_compat: dyn ? u32(92) : 0,
    s_feature_incompat: dyn ? u32(96) : 0,
    s_feature_ro_compat: dyn ? u32(100) : 0,
    s_uuid: dyn ? raw.slice(104, 120) : new Uint8Array(16),
    s_volume_name: dyn ? cString(raw.subarray(120, 136)) : '',
    s_last_mounted: dyn ? cString(raw.subarray(136, 200)) : '',
    s_first_meta_bg: dyn ? u32(260) : 0,
    s_backup_bgs: dyn ? [u32(0x24c), u32(0x250)] : [0, 0],
    blockSize: 0,
    groupCount: 0,
  };

  // Features first: an ext4 image should say "extent", not fail a geometry check.
  const badIncompat = sb.s_feature_incompat & ~SUPPORTED_INCOMPAT;
  if (badIncompat !== 0) {
    const names = featureNames(badIncompat, INCOMPAT_FEATURES);
    throw new Ext2Error('EUNSUPPORTED', `unsupported incompatible feature${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
  }
  const badRo = sb.s_feature_ro_compat & UNSUPPORTED_RO_COMPAT;
  if (badRo !== 0) {
    throw new Ext2Error('EUNSUPPORTED', `unsupported feature: ${featureNames(badRo, RO_COMPAT_FEATURES).join(', ')}`);
  }

  // Geometry.
  if (sb.s_log_block_size > 6) throw corrupt(`s_log_block_size ${sb.s_log_block_size} out of range (block size > 64 KiB)`);
  const bs = 1024 << sb.s_log_block_size;
  sb.blockSize = bs;
  if (sb.s_blocks_count === 0) throw corrupt('s_blocks_count is 0');
  if (sb.s_first_data_block !== (bs === 1024 ? 1 : 0)) {
    throw corrupt(`s_first_data_block ${sb.s_first_data_block} invalid for ${bs}-byte blocks`);
  }
  if (sb.s_first_data_block >= sb.s_blocks_count) throw corrupt('s_first_data_block past s_blocks_count');
  if (sb.s_blocks_per_group === 0 || sb.s_blocks_per_group > 8 * bs) {
    throw corrupt(`s_blocks_per_group ${sb.s_blocks_per_group} out of range (1..${8 * bs})`);
  }
  if (sb.s_inodes_per_group === 0 || sb.s_inodes_per_group > 8 * bs) {
    throw corrupt(`s_inodes_per_group ${sb.s_inodes_per_group} out of range (1..${8 * bs})`);
  }
  const isz = sb.s_inode_size;
  if (isz < EXT2_GOOD_OLD_INODE_SIZE || isz > bs || (isz & (isz - 1)) !== 0) {
    throw corrupt(`s_inode_size ${isz} invalid (power of two, 128..block size)`);
  }
  if (sb.s_first_ino < EXT2_GOOD_OLD_FIRST_INO && dyn) throw corrupt(`s_first_ino ${sb.s_first_ino} < 11`);
  sb.groupCount = Math.ceil((sb.s_blocks_count - sb.s_first_data_block) / sb.s_blocks_per_group);
  if (sb.s_inodes_count === 0 || sb.s_inodes_count > sb.groupCount * sb.s_inodes_per_group) {
    throw corrupt(
      `s_inodes_count ${sb.s_inodes_count} inconsistent with ${sb.groupCount} groups of ${sb.s_inodes_per_group} inodes`,
    );
  }
  if (sb.s_inodes_count < EXT2_ROOT_INO) throw corrupt('s_inodes_count too small to hold the root inode');
  const fsBytes = sb.s_blocks_count * bs;
  if (fsBytes > deviceSize) {
    throw corrupt(
      `image truncated: the superblock says ${sb.s_blocks_count} blocks of ${bs} bytes (${fsBytes} bytes), the device has ${deviceSize} bytes`,
    );
  }
  if ((sb.s_feature_incompat & EXT2_FEATURE_INCOMPAT_META_BG) !== 0) {
    const descPerBlock = bs / EXT2_MIN_DESC_SIZE;
    const gdtBlocks = Math.ceil(sb.groupCount / descPerBlock);
    if (sb.s_first_meta_bg > gdtBlocks) throw corrupt(`s_first_meta_bg ${sb.s_first_meta_bg} > ${gdtBlocks} descriptor blocks`);
  }
  return sb;
}

/** True if block group `group` holds a superblock backup (and, without meta_bg, a descriptor table copy). */
export function groupHasSuper(sb: Ext2Superblock, group: number): boolean {
  if (group === 0) return true;
  if ((sb.s_feature_compat & EXT4_FEATURE_COMPAT_SPARSE_SUPER2) !== 0) {
    return group === sb.s_backup_bgs[0] || group === sb.s_backup_bgs[1];
  }
  if ((sb.s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER) === 0) return true;
  if (group === 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < group) p *= base;
    if (p === group) return true;
  }
  return false;
}

/** First block of block group `group`. */
export function groupFirstBlock(sb: Ext2Superblock, group: number): number {
  return sb.s_first_data_block + group * sb.s_blocks_per_group;
}

/**
 * Block number of group-descriptor-table block `i` (i-th block of descriptors).
 * Classic layout: the blocks right after the superblock. meta_bg: from s_first_meta_bg on,
 * descriptor block i lives in the first group of meta group i (after its superblock copy).
 */
export function descriptorBlock(sb: Ext2Superblock, i: number): number {
  if ((sb.s_feature_incompat & EXT2_FEATURE_INCOMPAT_META_BG) === 0 || i < sb.s_first_meta_bg) {
    return sb.s_first_data_block + 1 + i;
  }
  const group = i * (sb.blockSize / EXT2_MIN_DESC_SIZE);
  return groupFirstBlock(sb, group) + (groupHasSuper(sb, group) ? 1 : 0);
}

// ==== group descriptors =============================================================

/** One block group descriptor (struct ext2_group_desc). */
export interface Ext2GroupDesc {
  bg_block_bitmap: number;
  bg_inode_bitmap: number;
  bg_inode_table: number;
  bg_free_blocks_count: number;
  bg_free_inodes_count: number;
  bg_used_dirs_count: number;
  bg_flags: number;
}

/**
 * Decode the descriptor at `offset` of a descriptor-table block and check that its
 * inode table lies inside the file system.
 */
export function parseGroupDesc(sb: Ext2Superblock, group: number, raw: Uint8Array, offset: number): Ext2GroupDesc {
  const dv = new DataView(raw.buffer, raw.byteOffset + offset, EXT2_MIN_DESC_SIZE);
  const gd: Ext2GroupDesc = {
    bg_block_bitmap: dv.getUint32(0, true),
    bg_inode_bitmap: dv.getUint32(4, true),
    bg_inode_table: dv.getUint32(8, true),
    bg_free_blocks_count: dv.getUint16(12, true),
    bg_free_inodes_count: dv.getUint16(14, true),
    bg_used_dirs_count: dv.getUint16(16, true),
    bg_flags: dv.getUint16(18, true),
  };
  const itableBlocks = Math.ceil((sb.s_inodes_per_group * sb.s_inode_size) / sb.blockSize);
  if (gd.bg_inode_table < sb.s_first_data_block || gd.bg_inode_table + itableBlocks > sb.s_blocks_count) {
    throw corrupt(
      `group ${group}: bg_inode_table ${gd.bg_inode_table} (+${itableBlocks} blocks) outside the file system (${sb.s_blocks_count} blocks)`,
    );
  }
  return gd;
}
