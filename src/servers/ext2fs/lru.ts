/*
 * File: servers/ext2fs/lru.ts
 * Purpose: A tiny least-recently-used map for the reader's metadata caches
 *          (indirect blocks, inode table blocks).
 */

/** A Map bounded to `capacity` entries that evicts the least recently used one. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {}

  /** The value for `key`, marking it most recently used; undefined if absent. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** Insert or refresh `key`, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  /** Remove `key` if it still maps to `value`. */
  deleteIf(key: K, value: V): void {
    if (this.map.get(key) === value) this.map.delete(key);
  }

  /** Number of cached entries. */
  get size(): number {
    return this.map.size;
  }

  /** Drop everything. */
  clear(): void {
    this.map.clear();
  }
}
