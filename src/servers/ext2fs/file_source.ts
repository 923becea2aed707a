/*
 * File: servers/ext2fs/file_source.ts
 * Purpose: FileBlockSource, a BlockSource reading a local image file through a
 *          node:fs FileHandle (for tests, tools and the benchmark).
 */

import { open, type FileHandle } from 'node:fs/promises';

import type { BlockSource } from './source.js';

/** Reads an image file with positioned reads; call close() when done. */
export class FileBlockSource implements BlockSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  /** Open `path` read-only; the size is the file's size at open time. */
  static async open(path: string): Promise<FileBlockSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileBlockSource(fh, st.size, path);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Read exactly `length` bytes at `offset`; fails if the file ends first. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${this.path}: unexpected end of file at byte ${offset + done}`);
      done += bytesRead;
    }
    return buf;
  }

  /** Close the file handle. */
  async close(): Promise<void> {
    await this.fh.close();
  }
}
