import { describe, expect, it } from 'vitest';
import type { VmOps } from '../../../src/libc/vm_ops.js';
import { TracingVmOps } from '../../../src/libc/vm_ops.js';

function fake(): VmOps & { touched: [number, number][] } {
  const touched: [number, number][] = [];
  return {
    touched,
    vm_allocate: async (address, _size, anywhere) => ({ kr: 0, address: anywhere ? 0x5000 : address }),
    vm_deallocate: async () => 0,
    vm_protect: async () => 2,
    vm_map: async (address, _size, anywhere) => ({ kr: anywhere ? 0 : 3, address: anywhere ? 0x9000 : address }),
    touch: async (address, size) => {
      touched.push([address, size]);
    },
  };
}

describe('TracingVmOps', () => {
  it('forwards every call and records it with its result, in order', async () => {
    const inner = fake();
    const ops = new TracingVmOps(inner);
    expect(await ops.vm_allocate(0, 0x2000, true)).toEqual({ kr: 0, address: 0x5000 });
    expect(await ops.vm_protect(0x5000, 0x1000, false, 3)).toBe(2);
    expect(await ops.vm_map(0x8000, 0x1000, false, 0, 7, 1)).toEqual({ kr: 3, address: 0x8000 });
    expect(await ops.vm_deallocate(0x5000, 0x2000)).toBe(0);
    await ops.touch(0x5000, 10);
    expect(inner.touched).toEqual([[0x5000, 10]]);
    expect(ops.calls).toEqual([
      { op: 'vm_allocate', address: 0, size: 0x2000, anywhere: true, kr: 0, result: 0x5000 },
      { op: 'vm_protect', address: 0x5000, size: 0x1000, setMax: false, prot: 3, kr: 2 },
      { op: 'vm_map', address: 0x8000, size: 0x1000, anywhere: false, cur: 0, max: 7, inherit: 1, kr: 3, result: 0x8000 },
      { op: 'vm_deallocate', address: 0x5000, size: 0x2000, kr: 0 },
    ]);
    expect(ops.counts).toEqual({ vm_allocate: 1, vm_deallocate: 1, vm_protect: 1, vm_map: 1, touch: 1 });
  });

  it('records touches only when asked, and take() empties the record', async () => {
    const ops = new TracingVmOps(fake(), { touches: true });
    await ops.touch(0x1000, 4);
    expect(ops.take()).toEqual([{ op: 'touch', address: 0x1000, size: 4 }]);
    expect(ops.calls).toEqual([]);
    // An inner VmOps without touch is fine.
    const bare = new TracingVmOps({ ...fake(), touch: undefined });
    await bare.touch(0x1000, 4);
    expect(bare.counts.touch).toBe(1);
  });
});
