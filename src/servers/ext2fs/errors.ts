/*
 * File: servers/ext2fs/errors.ts
 * Purpose: Ext2Error, the one error type the ext2 image reader throws, with a POSIX-ish
 *          code the file server can map onto a Hurd errno.
 *
 * Every failure the reader detects — a corrupt or truncated image, an unsupported
 * feature, a missing path component — is an Ext2Error. Anything else escaping the
 * reader is a bug in the reader (the hostile-image tests check exactly that).
 */

/**
 * Why an ext2 operation failed.
 * - `EIO`: the image is corrupt or truncated (bad magic, offset past the end, bad rec_len, ...).
 * - `EUNSUPPORTED`: a valid image using a feature or revision this reader does not implement.
 * - `ENOENT`, `ENOTDIR`, `EISDIR`, `ELOOP`, `ENAMETOOLONG`, `EINVAL`: the usual path/argument errors.
 */
export type Ext2ErrorCode =
  | 'EIO'
  | 'EUNSUPPORTED'
  | 'ENOENT'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ELOOP'
  | 'ENAMETOOLONG'
  | 'EINVAL';

/** The error thrown by the ext2 reader; `code` says which kind, `message` says what exactly. */
export class Ext2Error extends Error {
  readonly code: Ext2ErrorCode;
  constructor(code: Ext2ErrorCode, message: string) {
    super(`ext2: ${message}`);
    this.name = 'Ext2Error';
    this.code = code;
  }
}

/** Shorthand for a corrupt-image error (`EIO`). */
export function corrupt(message: string): Ext2Error {
  return new Ext2Error('EIO', message);
}
