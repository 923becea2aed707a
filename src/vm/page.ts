/*
 * File: vm/page.ts
 * Purpose: a resident page (GNU Mach's struct vm_page, vm/vm_page.h), reduced to what the
 *          map and object code need now: which object holds it, at which offset, and its bytes.
 *
 * The 4096 bytes are allocated on first access to `data`: a page that was made resident
 * but never read or written (zero fill) costs no buffer.
 */

import { PAGE_SIZE } from './vm_param.js';
import type { VmObject } from './object.js';

export class VmPage {
  /** The object the page belongs to (changed by vm_page_rename during a collapse). */
  object: VmObject;
  /** Offset of the page in its object, page aligned. */
  offset: number;
  /** Modified since it was last cleaned (set by writers; pageout will read it). */
  dirty = false;
  private buffer: Uint8Array | null = null;

  constructor(object: VmObject, offset: number) {
    this.object = object;
    this.offset = offset;
  }

  /** The page's bytes; zero-filled on first access. */
  get data(): Uint8Array {
    if (this.buffer === null) this.buffer = new Uint8Array(PAGE_SIZE);
    return this.buffer;
  }

  /** Whether the bytes have been materialised (a never-touched zero page has none). */
  get has_data(): boolean {
    return this.buffer !== null;
  }
}
