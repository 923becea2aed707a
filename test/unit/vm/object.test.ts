import { describe, expect, it } from 'vitest';
import { KERN_INVALID_ARGUMENT, KERN_SUCCESS } from '../../../src/mach/kern_return.js';
import type { VmObject } from '../../../src/vm/object.js';
import {
  vm_object_allocate,
  vm_object_allocate_external,
  vm_object_collapse,
  vm_object_deallocate,
  vm_object_name,
  vm_object_page_remove,
  vm_object_reference,
  vm_object_shadow,
  vm_page_alloc,
  vm_page_lookup,
} from '../../../src/vm/object.js';
import { vm_object_coalesce } from '../../../src/vm/object_coalesce.js';
import { vm_object_copy_delayed, vm_object_copy_slowly, vm_object_copy_strategically } from '../../../src/vm/object_copy.js';

const P = 0x1000;

function withPages(object: VmObject, ...offsets: number[]): VmObject {
  for (const o of offsets) vm_page_alloc(object, o);
  return object;
}

function resident(object: VmObject): number[] {
  return [...object.memq.keys()].sort((a, b) => a - b);
}

describe('vm_object: allocation and references', () => {
  it('vm_object_allocate makes an internal temporary object with one reference and a name', () => {
    const o = vm_object_allocate(4 * P);
    expect(o).toMatchObject({ ref_count: 1, size: 4 * P, internal: true, temporary: true, pager_created: false, shadow: null, copy: null });
    expect(o.pager_name).not.toBeNull();
    expect(vm_object_allocate(P).pager_name).not.toBe(o.pager_name);
  });

  it('vm_object_allocate_external is what vm_object_enter makes for a new memory object', () => {
    const o = vm_object_allocate_external(P, 'delay');
    expect(o).toMatchObject({ internal: false, temporary: false, pager_created: true, copy_strategy: 'delay', ref_count: 1 });
  });

  it('terminates at zero references, freeing pages and dropping the shadow reference', () => {
    const bottom = withPages(vm_object_allocate(P), 0);
    const top = vm_object_shadow(bottom, 0, P).object; // the caller's reference moved into top
    vm_object_reference(top);
    vm_object_deallocate(top);
    expect(top.alive).toBe(true);
    vm_object_deallocate(top);
    expect(top.alive).toBe(false);
    expect(bottom.alive).toBe(false);
    expect(bottom.resident_page_count).toBe(0);
    expect(() => vm_object_deallocate(top)).toThrow();
  });

  it('a dying copy object is forgotten by the object it shadows', () => {
    const src = vm_object_allocate(P);
    const copy = vm_object_copy_delayed(src);
    expect(src.copy).toBe(copy);
    expect(src.ref_count).toBe(2);
    vm_object_deallocate(copy);
    expect(src.copy).toBeNull();
    expect(src.ref_count).toBe(1);
  });

  it('NULL objects are ignored by reference and deallocate', () => {
    expect(() => {
      vm_object_reference(null);
      vm_object_deallocate(null);
    }).not.toThrow();
  });
});

describe('vm_object: pages', () => {
  it('vm_object_page_remove frees [start, end) both by lookup and by scan', () => {
    const o = withPages(vm_object_allocate(64 * P), ...Array.from({ length: 64 }, (_, i) => i * P));
    vm_object_page_remove(o, 3 * P, 5 * P); // small range: per-page lookup
    expect(vm_page_lookup(o, 3 * P)).toBeNull();
    expect(vm_page_lookup(o, 5 * P)).not.toBeNull();
    vm_object_page_remove(o, 10 * P, 60 * P); // large range: scan
    expect(resident(o)).toEqual([0, 1, 2, 5, 6, 7, 8, 9, 60, 61, 62, 63].map((i) => i * P));
  });

  it('pages allocate their bytes lazily', () => {
    const page = vm_page_alloc(vm_object_allocate(P), 0);
    expect(page.has_data).toBe(false);
    page.data[5] = 7;
    expect(page.has_data).toBe(true);
    expect(page.data.length).toBe(P);
    expect(() => vm_page_alloc(page.object, 0)).toThrow();
    expect(() => vm_page_alloc(page.object, 12)).toThrow();
  });
});

describe('vm_object: shadows, names, collapse', () => {
  it('vm_object_name is the name of the bottom of the shadow chain', () => {
    const a = vm_object_allocate(P);
    const s = vm_object_shadow(a, 0, P).object;
    expect(vm_object_name(s)).toBe(a.pager_name);
    expect(vm_object_name(null)).toBeNull();
  });

  it('collapse absorbs a backing object with one reference: pages move up, the name passes up', () => {
    const backing = withPages(vm_object_allocate(4 * P), 0, P, 2 * P, 3 * P);
    const name = backing.pager_name;
    const top = withPages(vm_object_shadow(backing, P, 2 * P).object, 0);
    vm_object_collapse(top);
    expect(top.shadow).toBeNull();
    expect(top.pager_name).toBe(name);
    expect(backing.alive).toBe(false);
    // backing page at P is hidden by top's page 0; 2P moves to P; 0 and 3P fall outside
    expect(resident(top)).toEqual([0, P]);
  });

  it('collapse bypasses a shared backing object whose pages are all hidden', () => {
    const bottom = withPages(vm_object_allocate(2 * P), P);
    const middle = withPages(vm_object_shadow(bottom, 0, 2 * P).object, 0);
    vm_object_reference(middle); // someone else maps middle too
    const top = withPages(vm_object_shadow(middle, 0, 2 * P).object, 0);
    vm_object_collapse(top);
    // middle's only page is hidden by top's: bypassed; bottom's page at P is still needed
    expect(top.shadow).toBe(bottom);
    expect(middle.ref_count).toBe(1);
    expect(bottom.ref_count).toBe(2);
    // a backing object with no pages at all is bypassed too
    const empty = vm_object_allocate(P);
    vm_object_reference(empty);
    const over = vm_object_shadow(empty, 0, P).object;
    vm_object_collapse(over);
    expect(over.shadow).toBeNull();
    expect(empty.ref_count).toBe(1);
  });

  it('collapse leaves a chain alone when the backing object is external or the parent has a pager', () => {
    const ext = vm_object_allocate_external(P, 'delay');
    const top = vm_object_shadow(ext, 0, P).object;
    vm_object_collapse(top);
    expect(top.shadow).toBe(ext);
    const internal = vm_object_allocate(P);
    const paged = vm_object_shadow(internal, 0, P).object;
    paged.pager_created = true;
    vm_object_collapse(paged);
    expect(paged.shadow).toBe(internal);
  });
});

describe('vm_object_coalesce at L1/L2', () => {
  it('O1: two NULL objects merge at offset 0', () => {
    expect(vm_object_coalesce('L2', null, null, 0x5000, 0x9000, P, P)).toEqual({ object: null, offset: 0 });
  });

  it('O2: the same object merges iff offsets are contiguous, dropping one reference, checking nothing else', () => {
    const f = vm_object_allocate_external(8 * P, 'delay');
    vm_object_reference(f);
    vm_object_reference(f);
    expect(vm_object_coalesce('L1', f, f, P, 3 * P, P, P)).toBeNull();
    expect(f.ref_count).toBe(3);
    expect(vm_object_coalesce('L1', f, f, P, 2 * P, P, P)).toEqual({ object: f, offset: P });
    expect(f.ref_count).toBe(2);
  });

  it('O3: two different objects never merge', () => {
    expect(vm_object_coalesce('L2', vm_object_allocate(P), vm_object_allocate(P), 0, P, P, P)).toBeNull();
  });

  it('O4a: appending after an object discards pages in the new range and grows the object', () => {
    const o = withPages(vm_object_allocate(2 * P), 0, P, 2 * P, 3 * P);
    expect(vm_object_coalesce('L2', o, null, 0, 0, P, 2 * P)).toEqual({ object: o, offset: 0 });
    expect(resident(o)).toEqual([0, 3 * P]);
    expect(o.size).toBe(3 * P);
  });

  it('O4b: a NULL range in front of an object needs room below its offset', () => {
    const o = withPages(vm_object_allocate(8 * P), 0, P, 2 * P, 3 * P);
    expect(vm_object_coalesce('L2', null, o, 0, P, 2 * P, P)).toBeNull();
    expect(vm_object_coalesce('L2', null, o, 0x7000, 3 * P, 2 * P, P)).toEqual({ object: o, offset: P });
    expect(resident(o)).toEqual([0, 3 * P]);
    expect(o.size).toBe(8 * P);
  });

  it('O4 refuses a shared, paged, pageout, shadowing, copied or busy object', () => {
    const cases: [string, (o: VmObject) => void][] = [
      ['ref_count > 1', (o) => vm_object_reference(o)],
      ['pager_created', (o) => (o.pager_created = true)],
      ['used_for_pageout', (o) => (o.used_for_pageout = true)],
      ['shadow', (o) => (o.shadow = vm_object_allocate_external(P, 'delay'))],
      ['copy', (o) => (o.copy = vm_object_allocate(P))],
      ['paging_in_progress', (o) => (o.paging_in_progress = 1)],
    ];
    for (const [, spoil] of cases) {
      const o = vm_object_allocate(P);
      spoil(o);
      expect(vm_object_coalesce('L2', o, null, 0, 0, P, P)).toBeNull();
      expect(vm_object_coalesce('L2', null, o, 0, 4 * P, P, P)).toBeNull();
      expect(o.size).toBe(P);
    }
  });

  it('O4 first collapses a backing object it can absorb', () => {
    const backing = vm_object_allocate(P);
    const top = vm_object_shadow(backing, 0, P).object;
    expect(vm_object_coalesce('L2', top, null, 0, 0, P, P)).toEqual({ object: top, offset: 0 });
    expect(top.shadow).toBeNull();
  });
});

describe('vm_object_coalesce at L0', () => {
  it('refuses any next object and keeps a NULL prev offset', () => {
    const f = vm_object_allocate_external(P, 'delay');
    expect(vm_object_coalesce('L0', f, f, 0, P, P, P)).toBeNull();
    expect(vm_object_coalesce('L0', null, vm_object_allocate(P), 0, 4 * P, P, P)).toBeNull();
    expect(vm_object_coalesce('L0', null, null, 0x3000, 0, P, P)).toEqual({ object: null, offset: 0x3000 });
  });

  it('extends a single-reference prev object like O4a', () => {
    const o = withPages(vm_object_allocate(P), 0, P);
    expect(vm_object_coalesce('L0', o, null, 0, 0, P, P)).toEqual({ object: o, offset: 0 });
    expect(resident(o)).toEqual([0]);
    expect(o.size).toBe(2 * P);
    vm_object_reference(o);
    expect(vm_object_coalesce('L0', o, null, 0, 0, 2 * P, P)).toBeNull();
  });
});

describe('virtual copies', () => {
  it('a delayed copy shadows the source and is reused while unmodified', () => {
    const src = vm_object_allocate_external(4 * P, 'delay');
    const c1 = vm_object_copy_delayed(src);
    expect(c1).toMatchObject({ shadow: src, shadow_offset: 0, shadowed: true, ref_count: 1, size: 4 * P });
    expect(src.copy).toBe(c1);
    expect(vm_object_copy_delayed(src)).toBe(c1);
    expect(c1.ref_count).toBe(2);
    // once modified, a new copy goes between the source and the old copy
    vm_page_alloc(c1, 0);
    const c2 = vm_object_copy_delayed(src);
    expect(c2).not.toBe(c1);
    expect(c1.shadow).toBe(c2);
    expect(c2.shadow).toBe(src);
    expect(c2.ref_count).toBe(2);
    expect(src.ref_count).toBe(2);
  });

  it('a slow copy copies resident bytes from down the chain into a new object at offset 0', () => {
    const src = vm_object_allocate_external(4 * P, 'none');
    vm_page_alloc(src, 2 * P).data[1] = 42;
    const r = vm_object_copy_slowly(src, P, 2 * P);
    expect(r.kr).toBe(KERN_SUCCESS);
    const copy = r.object!;
    expect(resident(copy)).toEqual([0, P]);
    expect(vm_page_lookup(copy, P)!.data[1]).toBe(42);
    expect(vm_page_lookup(copy, 0)!.has_data).toBe(false);
    expect(vm_object_copy_slowly(src, 0, 0)).toEqual({ kr: KERN_INVALID_ARGUMENT, object: null });
  });

  it('copy_strategically: temporary objects use (and keep) the delayed strategy', () => {
    const tmp = vm_object_allocate(P);
    expect(tmp.copy_strategy).toBe('none');
    const r = vm_object_copy_strategically(tmp, 0, P);
    expect(r).toMatchObject({ kr: KERN_SUCCESS, offset: 0, needs_copy: true });
    expect(r.object!.shadow).toBe(tmp);
    expect(tmp.copy_strategy).toBe('delay');
    const ext = vm_object_allocate_external(4 * P, 'none');
    const s = vm_object_copy_strategically(ext, 2 * P, P);
    expect(s).toMatchObject({ kr: KERN_SUCCESS, offset: 0, needs_copy: false });
    expect(s.object!.shadow).toBeNull();
  });
});
