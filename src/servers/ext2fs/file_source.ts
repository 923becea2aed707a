/*
 * File: servers/ext2fs/file_source.ts
 * Purpose: FileBlockSource, a BlockSource reading a local image file through a
 *          node:fs FileHandle (for tests, tools and the benchmark).
 *
 * Reads are asynchronous (FileHandle.read, on libuv's thread pool) by default, like the
 * device_read RPCs they stand in for. `{ sync: true }` uses readSync on the same
 * descriptor instead: it blocks the event loop but costs a few microseconds per read
 * instead of tens, which suits command-line tools and benchmarks of the reader itself.
 */

import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

import type { BlockSource } from './source.js';

/** Reads an image file with positioned reads; call close() when done. */
export class FileBlockSource implements BlockSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
    private readonly sync: boolean,
  ) {}

  /** Open `path` read-only; the size is the file's size at open time. */
  static async open(path: string, opts: { sync?: boolean } = {}): Promise<FileBlockSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileBlockSource(fh, st.size, path, opts.sync ?? false);
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
      const bytesRead = this.sync
        ? readSync(this.fh.fd, buf, done, length - done, offset + done)
        : (await this.fh.read(buf, done, length - done, offset + done)).bytesRead;
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
