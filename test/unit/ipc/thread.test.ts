/*
 * File: test/unit/ipc/thread.test.ts
 * Purpose: ipc_thread — the FIFO queues of waiting calls and their timers.
 */

import { describe, expect, it, vi } from 'vitest';
import {
  IpcThread, IpcThreadQueue, ipc_space_create, ipc_thread_clear_timeout, ipc_thread_dequeue,
  ipc_thread_enqueue, ipc_thread_rmqueue, ipc_thread_will_wait_with_timeout,
} from '../../../src/ipc/index.js';

const space = ipc_space_create();
const thread = (): IpcThread => new IpcThread(space, () => undefined);

function drain(q: IpcThreadQueue): IpcThread[] {
  const out: IpcThread[] = [];
  for (let t = ipc_thread_dequeue(q); t !== null; t = ipc_thread_dequeue(q)) out.push(t);
  return out;
}

describe('ipc_thread_queue', () => {
  it('is first in, first out', () => {
    const q = new IpcThreadQueue();
    const [a, b, c] = [thread(), thread(), thread()];
    ipc_thread_enqueue(q, a);
    ipc_thread_enqueue(q, b);
    ipc_thread_enqueue(q, c);
    expect(drain(q)).toEqual([a, b, c]);
    expect(q.ithq_head).toBeNull();
    expect(q.ithq_tail).toBeNull();
  });

  it('removes from the middle, the head and the tail', () => {
    const q = new IpcThreadQueue();
    const ts = [thread(), thread(), thread(), thread()];
    for (const t of ts) ipc_thread_enqueue(q, t);
    ipc_thread_rmqueue(q, ts[1]!);
    ipc_thread_rmqueue(q, ts[0]!);
    ipc_thread_rmqueue(q, ts[3]!);
    expect(drain(q)).toEqual([ts[2]]);
    expect(ts[1]!.ith_next).toBeNull();
    expect(ts[1]!.ith_prev).toBeNull();
  });

  it('a re-queued thread goes to the tail', () => {
    const q = new IpcThreadQueue();
    const [a, b] = [thread(), thread()];
    ipc_thread_enqueue(q, a);
    ipc_thread_enqueue(q, b);
    ipc_thread_enqueue(q, ipc_thread_dequeue(q)!);
    expect(drain(q)).toEqual([b, a]);
  });
});

describe('timeouts', () => {
  it('arm a timer only on request, call back with the thread, and can be cleared', () => {
    vi.useFakeTimers();
    try {
      const t = thread();
      const fired: IpcThread[] = [];
      ipc_thread_will_wait_with_timeout(t, 10, (th) => fired.push(th));
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(10);
      expect(fired).toEqual([t]);
      const u = thread();
      ipc_thread_will_wait_with_timeout(u, 10, (th) => fired.push(th));
      ipc_thread_clear_timeout(u);
      expect(u.ith_timer).toBeNull();
      vi.advanceTimersByTime(100);
      expect(fired).toEqual([t]);
      ipc_thread_clear_timeout(u); // harmless twice
    } finally {
      vi.useRealTimers();
    }
  });

  it('a woken thread must have been waited for (its resolve installed)', () => {
    expect(() => thread().ith_resolve({ mr: 0, msg: null })).toThrow();
  });
});
