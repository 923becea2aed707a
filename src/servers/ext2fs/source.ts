/*
 * File: servers/ext2fs/source.ts
 * Purpose: BlockSource, the abstract device the ext2 reader reads from, and an
 *          in-memory implementation.
 *
 * In the running system each read() is a device_read RPC to the kernel's disk device
 * whose reply carries the data out of line; tests and tools use FileBlockSource
 * (file_source.ts) or MemoryBlockSource.
 */

/** A random-access, read-only byte device. */
export interface BlockSource {
  /** Size of the device in bytes. */
  readonly size: number;
  /**
   * Read `length` bytes at byte `offset`. The reader only asks for ranges inside
   * [0, size) and expects exactly `length` bytes back.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A BlockSource over bytes in memory (tests, and images already fetched whole). */
export class MemoryBlockSource implements BlockSource {
  constructor(readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  /** Returns a copy, as an out-of-line reply would be. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.slice(offset, offset + length);
  }
}
