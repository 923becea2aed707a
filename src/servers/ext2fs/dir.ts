/*
 * File: servers/ext2fs/dir.ts
 * Purpose: Linear ext2 directory blocks: a chain of struct ext2_dir_entry_2
 *          { inode u32, rec_len u16, name_len u8, file_type u8, name[] } filling each block.
 *
 * Without the filetype feature, name_len is a 16-bit field and the type must come from the
 * inode. Entries with inode 0 are free space (also the metadata_csum tail and the htree
 * interior nodes of dir_index directories, which a linear reader simply skips). Every
 * rec_len is checked the way Linux's ext2_check_page does, so a corrupt block cannot make
 * the parser loop or read outside the block.
 */

import { corrupt } from './errors.js';
import { EXT2_FT_NAMES, type FileType } from './inode.js';

/** Smallest possible entry: 8-byte header and a 1..4 byte name. */
export const EXT2_DIR_MIN_REC_LEN = 12;
/** Longest name. */
export const EXT2_NAME_LEN = 255;

/** Space an entry with a name of `nameLen` bytes needs (EXT2_DIR_REC_LEN). */
export function dirRecLen(nameLen: number): number {
  return (8 + nameLen + 3) & ~3;
}

/** One live directory entry. */
export interface RawDirEntry {
  /** inode */
  inode: number;
  rec_len: number;
  name_len: number;
  /** file_type code (EXT2_FT_*), 0 when the filetype feature is off. */
  file_type: number;
  /** The name's bytes (names are byte strings on disk). */
  nameBytes: Uint8Array;
  /** Offset of the entry within the directory file. */
  offset: number;
}

/** How to parse a directory block. */
export interface DirParseOptions {
  /** The directory's inode number (for messages). */
  dirIno: number;
  blockSize: number;
  /** The filetype incompat feature is on. */
  filetype: boolean;
  /** s_inodes_count: entries may not point past it. */
  inodesCount: number;
}

/** rec_len as stored to bytes (ext2fs_get_rec_len: 64 KiB blocks encode 65536 as 0/65535). */
export function decodeRecLen(raw: number, blockSize: number): number {
  if (blockSize < 65536) return raw;
  if (raw === 65535 || raw === 0) return blockSize;
  return (raw & 65532) | ((raw & 3) << 16);
}

/**
 * Parse one directory block (`bytes`, exactly one block, at byte `dirOffset` of the
 * directory) and return its live entries. Throws Ext2Error (EIO) on any malformed entry.
 */
export function parseDirBlock(bytes: Uint8Array, dirOffset: number, o: DirParseOptions): RawDirEntry[] {
  const bs = o.blockSize;
  if (bytes.length !== bs) throw corrupt(`directory ${o.dirIno}: short block at ${dirOffset}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawDirEntry[] = [];
  let off = 0;
  while (off < bs) {
    const where = `directory ${o.dirIno}, entry at byte ${dirOffset + off}`;
    if (off + 8 > bs) throw corrupt(`${where}: entry header crosses the block end`);
    const inode = dv.getUint32(off, true);
    const rec_len = decodeRecLen(dv.getUint16(off + 4, true), bs);
    const name_len = o.filetype ? dv.getUint8(off + 6) : dv.getUint16(off + 6, true);
    const file_type = o.filetype ? dv.getUint8(off + 7) : 0;
    if (rec_len < EXT2_DIR_MIN_REC_LEN) throw corrupt(`${where}: rec_len ${rec_len} smaller than the minimum ${EXT2_DIR_MIN_REC_LEN}`);
    if ((rec_len & 3) !== 0) throw corrupt(`${where}: rec_len ${rec_len} not a multiple of 4`);
    if (off + rec_len > bs) throw corrupt(`${where}: rec_len ${rec_len} crosses the block end`);
    if (inode !== 0) {
      if (name_len === 0) throw corrupt(`${where}: empty name`);
      if (name_len > EXT2_NAME_LEN) throw corrupt(`${where}: name_len ${name_len} > ${EXT2_NAME_LEN}`);
      if (dirRecLen(name_len) > rec_len) throw corrupt(`${where}: rec_len ${rec_len} too small for name_len ${name_len}`);
      if (inode > o.inodesCount) throw corrupt(`${where}: inode ${inode} past s_inodes_count ${o.inodesCount}`);
      out.push({
        inode,
        rec_len,
        name_len,
        file_type,
        nameBytes: bytes.slice(off + 8, off + 8 + name_len),
        offset: dirOffset + off,
      });
    }
    off += rec_len;
  }
  return out;
}

/** FileType for a file_type code, or null when it does not say (0 or unknown code). */
export function fileTypeOfDirEntry(code: number): FileType | null {
  if (code === 0 || code >= EXT2_FT_NAMES.length) return null;
  return EXT2_FT_NAMES[code]!;
}

/** True if two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
