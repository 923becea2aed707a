/*
 * File: servers/ext2fs/hurd_types.ts
 * Purpose: the Hurd's constants the io/fs protocol speaks: errno values (as the Hurd
 *          encodes them in a kern_return_t), open flags (O_*), dir_lookup retry types,
 *          the Hurd-only st_mode bits, st_fstype, dirent d_type codes, and strerror text.
 *
 * Values are the GNU/Hurd ones (glibc sysdeps/mach/hurd/bits/errno.h, bits/fcntl.h,
 * bits/stat.h; the Hurd's hurd/hurd_types.h), not Linux's: a Hurd errno is
 * _HURD_ERRNO(n) = (0x10 << 26) | n = 0x40000000 | n with BSD numbering, and O_RDONLY is
 * O_READ = 1 (there is no 0 "read-only" mode: O_NORW = 0 opens for neither).
 */

import { EOPNOTSUPP as MIG_EOPNOTSUPP } from '../../mach/kern_return.js';
import { Ext2Error } from './errors.js';

// ==== errno (glibc sysdeps/mach/hurd/bits/errno.h) ==================================

/** _HURD_ERRNO(n): how the Hurd carries errno n in a kern_return_t. */
export const HURD_ERRNO = (n: number): number => (0x40000000 | n) >>> 0;

export const EPERM = HURD_ERRNO(1);
export const ENOENT = HURD_ERRNO(2);
export const EIO = HURD_ERRNO(5);
export const EBADF = HURD_ERRNO(9);
export const ENOMEM = HURD_ERRNO(12);
export const EACCES = HURD_ERRNO(13);
export const EEXIST = HURD_ERRNO(17);
export const ENOTDIR = HURD_ERRNO(20);
export const EISDIR = HURD_ERRNO(21);
export const EINVAL = HURD_ERRNO(22);
export const EFBIG = HURD_ERRNO(27);
export const ESPIPE = HURD_ERRNO(29);
export const EROFS = HURD_ERRNO(30);
export const EAGAIN = HURD_ERRNO(35);
export const EOPNOTSUPP = HURD_ERRNO(45);
export const ELOOP = HURD_ERRNO(62);
export const ENAMETOOLONG = HURD_ERRNO(63);
export const ENOSYS = HURD_ERRNO(78);
export const EFTYPE = HURD_ERRNO(79);
export const EGRATUITOUS = HURD_ERRNO(105);

// The generated stubs answer EOPNOTSUPP for routines a server leaves out: the same value.
if (EOPNOTSUPP !== MIG_EOPNOTSUPP) throw new Error('hurd_types: EOPNOTSUPP disagrees with mach/kern_return.ts');

const STRERROR = new Map<number, string>([
  [EPERM, 'Operation not permitted'],
  [ENOENT, 'No such file or directory'],
  [EIO, 'Input/output error'],
  [EBADF, 'Bad file descriptor'],
  [ENOMEM, 'Cannot allocate memory'],
  [EACCES, 'Permission denied'],
  [EEXIST, 'File exists'],
  [ENOTDIR, 'Not a directory'],
  [EISDIR, 'Is a directory'],
  [EINVAL, 'Invalid argument'],
  [EFBIG, 'File too large'],
  [ESPIPE, 'Illegal seek'],
  [EROFS, 'Read-only file system'],
  [EAGAIN, 'Resource temporarily unavailable'],
  [EOPNOTSUPP, 'Operation not supported'],
  [ELOOP, 'Too many levels of symbolic links'],
  [ENAMETOOLONG, 'File name too long'],
  [ENOSYS, 'Function not implemented'],
  [EFTYPE, 'Inappropriate file type or format'],
  [EGRATUITOUS, 'Gratuitous error'],
]);

const ERRNO_NAMES = new Map<number, string>(Object.entries({
  EPERM, ENOENT, EIO, EBADF, ENOMEM, EACCES, EEXIST, ENOTDIR, EISDIR, EINVAL, EFBIG, ESPIPE, EROFS, EAGAIN,
  EOPNOTSUPP, ELOOP, ENAMETOOLONG, ENOSYS, EFTYPE, EGRATUITOUS,
}).map(([k, v]) => [v, k]));

/** glibc's strerror() text for a Hurd errno (or a kern_return_t's name in hex). */
export function hurd_strerror(code: number): string {
  return STRERROR.get(code >>> 0) ?? `Unknown error 0x${(code >>> 0).toString(16)}`;
}

/** The errno's C name (ENOENT...), or null. */
export function hurd_errno_name(code: number): string | null {
  return ERRNO_NAMES.get(code >>> 0) ?? null;
}

/** The Hurd errno for an error of the ext2 reader (anything else: EIO, as a disk error). */
export function errnoOfExt2Error(e: unknown): number {
  if (!(e instanceof Ext2Error)) return EIO;
  switch (e.code) {
    case 'ENOENT': return ENOENT;
    case 'ENOTDIR': return ENOTDIR;
    case 'EISDIR': return EISDIR;
    case 'ELOOP': return ELOOP;
    case 'ENAMETOOLONG': return ENAMETOOLONG;
    case 'EINVAL': return EINVAL;
    case 'EUNSUPPORTED': return EOPNOTSUPP;
    case 'EIO': return EIO;
  }
}

// ==== open flags (glibc sysdeps/mach/hurd/bits/fcntl.h) =============================

export const O_NORW = 0;
export const O_READ = 0x0001;
export const O_WRITE = 0x0002;
export const O_EXEC = 0x0004;
export const O_RDONLY = O_READ;
export const O_WRONLY = O_WRITE;
export const O_RDWR = O_READ | O_WRITE;
export const O_NONBLOCK = 0x0008;
export const O_CREAT = 0x0010;
export const O_EXCL = 0x0020;
/** No name mappings (symlinks) on the final component. */
export const O_NOLINK = 0x0040;
/** No translator on the final component. */
export const O_NOTRANS = 0x0080;
export const O_APPEND = 0x0100;
export const O_ASYNC = 0x0200;
export const O_FSYNC = 0x0400;
export const O_NOATIME = 0x0800;
export const O_TRUNC = 0x00010000;
export const O_SHLOCK = 0x00020000;
export const O_EXLOCK = 0x00040000;
export const O_IGNORE_CTTY = 0x00080000;
/** Handled by the C library on the Hurd (it adds O_NOLINK and refuses a symlink result). */
export const O_NOFOLLOW = 0x00100000;
export const O_DIRECTORY = 0x00200000;
export const O_CLOEXEC = 0x00400000;
/** The flags an io server looks at (dir_lookup masks the rest off). */
export const O_HURD = 0xffff | O_EXLOCK | O_SHLOCK;
/** Open-time-only flags, not kept in the open file's state (libdiskfs/priv.h). */
export const OPENONLY_STATE_MODES = O_CREAT | O_EXCL | O_NOLINK | O_NOTRANS | O_NONBLOCK | O_EXLOCK | O_SHLOCK | O_TRUNC;

// ==== dir_lookup retry types (hurd/hurd_types.h) ====================================

/** Retry normally if retry_name is not empty (an empty one: `result` is the file). */
export const FS_RETRY_NORMAL = 1;
/** Retry after reauthenticating the retry port, even with an empty retry name. */
export const FS_RETRY_REAUTH = 2;
/** The retry name is magical: "/..." (from the caller's root), "fd/N", "machtype/...". */
export const FS_RETRY_MAGICAL = 3;

// ==== seek ===========================================================================

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

// ==== st_mode (glibc sysdeps/mach/hurd/bits/stat.h) =================================

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFSOCK = 0o140000;
export const S_IFIFO = 0o010000;
/** A passive translator is set on this file. */
export const S_IPTRANS = 0o10000000;
/** An active translator runs on this file. */
export const S_IATRANS = 0o20000000;
/** The root of a file system (or single-node translator). */
export const S_IROOT = 0o40000000;
/** All the translator bits. */
export const S_ITRANS = 0o70000000;

/** st_fstype of ext2fs (hurd/hurd_types.h FSTYPE_EXT2FS). */
export const FSTYPE_EXT2FS = 0x17;

/** st_flags bits the Hurd's ext2fs reports (BSD's UF_*), from ext2 i_flags. */
export const UF_NODUMP = 0x00000001;
export const UF_IMMUTABLE = 0x00000002;
export const UF_APPEND = 0x00000004;
export const EXT2_IMMUTABLE_FL = 0x00000010;
export const EXT2_APPEND_FL = 0x00000020;
export const EXT2_NODUMP_FL = 0x00000040;

// ==== dirent d_type (glibc dirent.h) ================================================

export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** The d_type of an st_mode. */
export function IFTODT(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}
