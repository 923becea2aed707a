/*
 * File: servers/ext2fs/threads.ts
 * Purpose: ServerThreads, the threads of a multithreaded Hurd server as the C library's
 *          malloc sees them: which thread runs each request (its arena depends on it),
 *          when threads are created (their stacks are mapped) and when they time out.
 *
 * libports' ports_manage_port_operations_multithread keeps one thread waiting in receive:
 * when a thread takes a request and none is left waiting, it creates another; a thread
 * idle longer than the timeout exits (libdiskfs: 2 minutes), except the last waiting one.
 * Waiting threads receive in the order they started waiting (GNU Mach queues receivers
 * first come, first served), so a single client's requests rotate over the idle threads.
 *
 * The thread running the current request is carried by an AsyncLocalStorage, so code deep
 * in the server (a node read from the disk, malloc'ing its struct) allocates from the
 * right arena without passing the thread around. Outside any request it is thread 0, the
 * main thread (startup work), which uses the main arena.
 */

import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<number>();

/** The thread running the caller (0, the main thread, outside requests). */
export function currentThread(): number {
  return current.getStore() ?? 0;
}

/** Run `fn` as thread `id` (for startup code and tests). */
export function runAsThread<T>(id: number, fn: () => T): T {
  return current.run(id, fn);
}

export interface ServerThreadsOptions {
  /** The first id of the threads this pool creates (ids are unique across pools of one task). */
  firstId: number;
  /**
   * Threads already there, waiting (default none). libdiskfs's main thread ends up in
   * ports_manage_port_operations_multithread: pass [0].
   */
  initial?: number[];
  /**
   * Create threads on demand (default true). False: a fixed pool of `initial` threads
   * (requests wait for one to be free), as libpager's worker threads.
   */
  onDemand?: boolean;
  /** Idle time after which a thread exits (ms; default 120,000, libdiskfs's thread timeout). */
  timeoutMs?: number;
  /** A thread was created (its stack is to be mapped); awaited before it serves. */
  started?: (id: number) => Promise<void> | void;
  /** A thread exited (its arena and stack go). */
  exited?: (id: number) => Promise<void> | void;
  /** The clock (ms), for tests. */
  now?: () => number;
}

/** Counters of a pool. */
export interface ServerThreadsStats {
  created: number;
  exited: number;
  /** threads alive now */
  alive: number;
  /** the most requests served at once */
  peakBusy: number;
}

export class ServerThreads {
  private readonly idle: Array<{ id: number; since: number }> = [];
  private nextId: number;
  private busy = 0;
  private readonly s = { created: 0, exited: 0, peakBusy: 0 };
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly onDemand: boolean;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly options: ServerThreadsOptions) {
    this.nextId = options.firstId;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.now = options.now ?? (() => Date.now());
    this.onDemand = options.onDemand ?? true;
    for (const id of options.initial ?? []) this.idle.push({ id, since: this.now() });
    if (!this.onDemand && this.idle.length === 0) throw new RangeError('ServerThreads: a fixed pool needs initial threads');
  }

  get stats(): ServerThreadsStats {
    return { ...this.s, alive: this.idle.length + this.busy };
  }

  /**
   * Serve one request: the longest-waiting idle thread takes it (a new thread is created
   * when none waits, and another when it took the last one); `fn` runs as that thread.
   */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.onDemand) await this.reap();
    // Another request may take the thread made (or freed) for this one while it waits.
    let t = this.idle.shift();
    while (t === undefined) {
      if (this.onDemand) await this.spawn();
      else await new Promise<void>((resolve) => this.waiters.push(resolve));
      t = this.idle.shift();
    }
    this.busy++;
    this.s.peakBusy = Math.max(this.s.peakBusy, this.busy);
    try {
      // The one that took the last waiting place makes sure somebody still waits.
      if (this.onDemand && this.idle.length === 0) await current.run(t.id, () => this.spawn());
      return await current.run(t.id, fn);
    } finally {
      this.busy--;
      this.idle.push({ id: t.id, since: this.now() });
      this.waiters.shift()?.();
    }
  }

  /** Every thread exits (the server is going away). */
  async shutdown(): Promise<void> {
    for (const t of this.idle.splice(0)) await this.exit(t.id);
  }

  private async spawn(): Promise<void> {
    const id = this.nextId++;
    this.s.created++;
    await this.options.started?.(id);
    this.idle.push({ id, since: this.now() });
  }

  /** Threads idle past the timeout exit; one waiting thread (and the main thread) always stays. */
  private async reap(): Promise<void> {
    const limit = this.now() - this.timeoutMs;
    for (let k = 0; k < this.idle.length && this.idle.length > 1; ) {
      const t = this.idle[k]!;
      if (t.since >= limit) break; // the queue is in waiting order: the rest waited less
      if (t.id === 0) {
        k++;
        continue;
      }
      this.idle.splice(k, 1);
      await this.exit(t.id);
    }
  }

  private async exit(id: number): Promise<void> {
    this.s.exited++;
    await this.options.exited?.(id);
  }
}
