/*
 * File: libc/malloc.ts
 * Purpose: glibc's malloc (ptmalloc2) on the 32-bit i386 Hurd, over a task's VM: which
 *          VM calls the C library's allocator makes, in which order, on which ranges.
 *
 * ---------------------------------------------------------------------------------------
 * What is modelled
 * ---------------------------------------------------------------------------------------
 * The allocator holds no bytes. It manages addresses and sizes in the task's address
 * space, keeping each chunk's boundary tags in JavaScript records instead of in memory,
 * and makes every VM effect through VmOps (an RPC per call in the real system). The
 * algorithms are glibc 2.36's (malloc/malloc.c, malloc/arena.c; 2022, the C library of the
 * pre-2023 Hurd), with the Hurd's sysdeps (hurd.ts). Later releases refactor these files
 * but, as far as checked, make the same VM calls on the Hurd, except that brk opens pages
 * RW instead of RWX from 2.38 (option hurd.brkProt); the development branch after 2.42
 * removes fastbins and reworks the tcache, which is not modelled.
 *
 *
 *  - Chunks as glibc lays them out on i386 (chunk.ts): 8-byte headers, 16-byte alignment,
 *    MINSIZE 16, request2size; the next chunk's prev_size word is usable.
 *  - Per-thread tcache (64 bins x 7, up to 1020 bytes; tcache_init allocates the 384-byte
 *    tcache_perthread_struct from the thread's arena), fastbins (<= 64 bytes), the unsorted
 *    list, 62 small and 64 large bins (sorted, "second position" insertion, best fit), the
 *    bin scan, last_remainder, malloc_consolidate, consolidation on free with
 *    FASTBIN_CONSOLIDATION_THRESHOLD: _int_malloc, _int_free, _int_realloc, __libc_calloc.
 *  - Main arena (sysmalloc): grows the break by nb + M_TOP_PAD + MINSIZE less the old top,
 *    page-rounded, with the alignment correction sbrk on the first call; trimmed by systrim
 *    when the top reaches M_TRIM_THRESHOLD, keeping M_TOP_PAD. On the Hurd sbrk is
 *    _hurd_set_brk: growing is vm_protect inside the 128 MiB reservation made by init_brk,
 *    shrinking is vm_deallocate + vm_map(NONE). If sbrk fails, sysmalloc_mmap_fallback.
 *  - Non-main arenas (arena_get2: free list, then a new arena while narenas <= limit
 *    (arena_test 2, then 2 x cores on 32-bit, or M_ARENA_MAX), else reused_arena round
 *    robin; _int_new_arena; thread exit puts an arena on the free list): heaps of
 *    HEAP_MAX_SIZE (1 MiB), aligned by mapping 2 MiB PROT_NONE and unmapping the excess
 *    (alloc_new_heap, with aligned_heap_area), opened by mprotect RW (grow_heap opens the
 *    next page-rounded slice past mprotect_size, with no top pad), chained when full
 *    (sysmalloc: new_heap, fenceposts, the old top freed), deleted whole by heap_trim once
 *    empty (munmap of 1 MiB), and shrunk by shrink_heap. On the Hurd shrink_heap makes no
 *    VM call: it would madvise(MADV_DONTNEED), which the Hurd's malloc-machine.h turns into
 *    nothing, and mprotect_size is kept, so a regrowth below it makes no call either. (With
 *    `secure`, the __libc_enable_secure path maps the slice back PROT_NONE.)
 *  - mmapped chunks (sysmalloc_mmap): requests >= M_MMAP_THRESHOLD (128 KiB) while fewer
 *    than M_MMAP_MAX are mapped: mmap(0, round_page(nb + 4 + 15)) anywhere, the chunk 8
 *    bytes in; free munmaps and, for a chunk above the threshold and <= 512 KiB, raises
 *    the threshold to its size and the trim threshold to twice that (__libc_free).
 *    realloc of an mmapped chunk copies (the Hurd has no mremap).
 *  - Writes: the allocator touches (VmOps.touch) the memory it writes, chunk headers,
 *    heap_info/malloc_state, calloc's clearing, and, with `touchBlocks` (default), the
 *    user bytes of every block it returns, as the program would write them.
 *
 * ---------------------------------------------------------------------------------------
 * What is simplified
 * ---------------------------------------------------------------------------------------
 *  - One lock for the whole allocator: calls are serialised, so no arena is ever
 *    contended and reused_arena takes next_to_use; glibc's per-arena locks only change
 *    which arena a contended thread picks.
 *  - Threads are numbers: thread 0 is the main thread and uses the main arena (as
 *    ptmalloc_init attaches it); any other thread gets an arena through arena_get2 on its
 *    first call, as glibc's thread_arena starts NULL. SINGLE_THREAD_P is never assumed.
 *  - No memalign/valloc/pvalloc, no malloc hooks, no MALLOC_CHECK_/perturb, no huge pages,
 *    no mtag; double frees and bad pointers throw instead of abort().
 *  - fd_nextsize skip lists are replaced by walks over the sorted large bins (same
 *    choices); the binmap by a scan of the bins (same choices).
 *  - Only anonymous memory. A foreign sbrk (or a failed one that moved the break) is handled
 *    as sysmalloc does, with fenceposts.
 *  - malloc_trim's madvise of free pages (mtrim) is left out: it is a no-op on the Hurd.
 *
 * ---------------------------------------------------------------------------------------
 * Files and API
 * ---------------------------------------------------------------------------------------
 *   vm_ops.ts      VmOps (the task's VM calls, async) and TracingVmOps (records them)
 *   vm_ops_map.ts  VmMapOps: VmOps on an in-process VmMap (src/vm); touch() faults pages in
 *   hurd.ts        HurdVm: init_brk, _hurd_set_brk/sbrk, mmap/munmap/mprotect as VM calls
 *   chunk.ts       i386 sizes, alignment, bin and tcache arithmetic, thresholds
 *   malloc.ts      Malloc (this file)
 *   workload.ts    runServerWorkload: an ext2fs-like multi-threaded allocation workload
 *
 *   const m = await Malloc.create(ops, { cores: 1 });   // init_brk, then ready
 *   const p = await m.malloc(100, thread);              // 0 is NULL; thread 0 is main
 *   await m.free(p, thread); await m.realloc(p, n, thread); await m.calloc(n, size, thread);
 *   await m.threadExit(thread); await m.malloc_trim(pad); await m.mallopt(M_..., value);
 *   m.mallinfo(); m.arenas(); m.blocks(); m.arenaFor(thread); m.usableSize(p); m.check();
 */

import type { HurdVmOptions } from './hurd.js';
import { HurdVm, MAP_ANON, MAP_FIXED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from './hurd.js';
import {
  CHUNK_HDR_SZ,
  DEFAULT_MMAP_MAX,
  DEFAULT_MMAP_THRESHOLD,
  DEFAULT_MMAP_THRESHOLD_MAX,
  DEFAULT_MXFAST,
  DEFAULT_TOP_PAD,
  DEFAULT_TRIM_THRESHOLD,
  FASTBIN_CONSOLIDATION_THRESHOLD,
  HEAP_MAX_SIZE,
  HEAP_MIN_SIZE,
  MALLOC_ALIGNMENT,
  MALLOC_ALIGN_MASK,
  MINSIZE,
  NBINS,
  NFASTBINS,
  PAGESIZE,
  SIZEOF_HEAP_INFO,
  SIZEOF_MALLOC_STATE,
  SIZEOF_TCACHE_PERTHREAD,
  SIZE_SZ,
  TCACHE_FILL_COUNT,
  TCACHE_MAX_BINS,
  align_down,
  align_up,
  checked_request2size,
  csize2tidx,
  fastbin_index,
  in_smallbin_range,
  largebin_index,
  memsize,
  narenas_from_ncores,
  set_max_fast,
  smallbin_index,
} from './chunk.js';
import type { VmOps } from './vm_ops.js';

/* mallopt parameters (malloc.h). */
export const M_TRIM_THRESHOLD = -1;
export const M_TOP_PAD = -2;
export const M_MMAP_THRESHOLD = -3;
export const M_MMAP_MAX = -4;
export const M_ARENA_TEST = -7;
export const M_ARENA_MAX = -8;

/** sysmalloc_mmap_fallback's minimum (MMAP_AS_MORECORE_SIZE). */
const MMAP_AS_MORECORE_SIZE = 1024 * 1024;
/** _int_malloc's bound on unsorted chunks sorted per call. */
const MAX_ITERS = 10000;
/** IS_MMAPPED, as chunksize_nomask sees it. */
const IS_MMAPPED = 0x2;

export interface MallocOptions {
  /** Online processors, for the arena limit (__get_nprocs: host_info avail_cpus; default 1). */
  cores?: number;
  /** The Hurd's brk and mmap (hurd.ts). */
  hurd?: HurdVmOptions;
  /** Touch the user bytes of every block returned, as the program writes them (default true). */
  touchBlocks?: boolean;
  /** Use the per-thread cache (glibc's default since 2.26; default true). */
  tcache?: boolean;
  /** shrink_heap remaps released heap pages PROT_NONE (__libc_enable_secure; default false). */
  secure?: boolean;
  /** Initial M_TOP_PAD, M_TRIM_THRESHOLD, M_MMAP_THRESHOLD (setting either threshold disables the dynamic threshold, as mallopt does). */
  topPad?: number;
  trimThreshold?: number;
  mmapThreshold?: number;
  /** M_ARENA_MAX (0: none). */
  arenaMax?: number;
}

/** What a chunk is to the allocator. */
type ChunkState = 'inuse' | 'fast' | 'tcache' | 'free' | 'top' | 'fence' | 'mmapped' | 'bin';

/** A chunk's boundary tags and bin links (struct malloc_chunk, held outside the task's memory). */
class Chunk {
  fd: Chunk = this;
  bk: Chunk = this;
  /** mmapped chunks: bytes of the mapping before the chunk (prev_size). */
  prevSize = 0;
  /** user blocks: bytes asked for, and the thread that asked. */
  request = 0;
  thread = 0;
  /** The tcache_perthread_struct of a thread (not a program block). */
  internal = false;

  constructor(
    public addr: number,
    public size: number,
    public state: ChunkState,
    public arena: Arena | null,
  ) {}

  get mem(): number {
    return this.addr + CHUNK_HDR_SZ;
  }
}

/** heap_info: one HEAP_MAX_SIZE-aligned heap of a non-main arena. */
class HeapInfo {
  prev: HeapInfo | null = null;
  /** The fencepost left at this heap's end when the next heap was chained after it. */
  fence: Chunk | null = null;

  constructor(
    readonly addr: number,
    /** Bytes in use from the heap's start (h->size). */
    public size: number,
    /** Bytes opened RW so far (h->mprotect_size). */
    public mprotectSize: number,
    public arena: Arena | null,
    /** Where the heap's first chunk lies (after heap_info, and malloc_state in the arena's first heap). */
    public firstChunk: number,
  ) {}
}

/** struct malloc_state */
class Arena {
  readonly fastbins: Chunk[][] = Array.from({ length: NFASTBINS }, () => []);
  /** bins[1] is the unsorted list; 2..63 small, 64..127 large. Sentinels. */
  readonly bins: Chunk[] = Array.from({ length: NBINS }, () => new Chunk(-1, 0, 'bin', null));
  /** null: initial_top (no memory yet). */
  top: Chunk | null = null;
  lastRemainder = -1;
  haveFastchunks = false;
  contiguous: boolean;
  /** Free chunks in the unsorted list and bins, by start and by end (their footers). */
  readonly freeAt = new Map<number, Chunk>();
  readonly freeEnd = new Map<number, Chunk>();
  /** Chunks in use as far as the arena knows: program blocks, fastbin and tcache chunks, fenceposts. */
  readonly used = new Map<number, Chunk>();
  systemMem = 0;
  maxSystemMem = 0;
  attachedThreads = 0;
  next: Arena = this;
  nextFree: Arena | null = null;
  /** Non-main arenas: the heap holding the top chunk (the newest). */
  heap: HeapInfo | null = null;

  constructor(
    readonly id: number,
    readonly isMain: boolean,
  ) {
    this.contiguous = isMain;
  }

  get topSize(): number {
    return this.top === null ? 0 : this.top.size;
  }
}

/** tcache_perthread_struct */
class Tcache {
  readonly entries: Chunk[][] = Array.from({ length: TCACHE_MAX_BINS }, () => []);

  constructor(readonly chunk: Chunk) {}

  count(idx: number): number {
    return this.entries[idx]!.length;
  }
}

interface ThreadState {
  readonly id: number;
  arena: Arena | null;
  tcache: Tcache | null;
  tcacheShuttingDown: boolean;
}

/** mallinfo2(), plus a few counts glibc keeps but does not report. */
export interface MallInfo {
  /** Non-mmapped space from the system (all arenas). */
  arena: number;
  /** Free chunks, each arena's top included. */
  ordblks: number;
  /** Chunks in fastbins. */
  smblks: number;
  /** mmapped chunks, and their bytes. */
  hblks: number;
  hblkhd: number;
  usmblks: number;
  /** Bytes in fastbins. */
  fsmblks: number;
  /** Bytes in use (tcache chunks count as in use, as in glibc). */
  uordblks: number;
  /** Free bytes. */
  fordblks: number;
  /** The main arena's top: what malloc_trim could release. */
  keepcost: number;
  narenas: number;
  nheaps: number;
  mmapThreshold: number;
  trimThreshold: number;
  maxMmappedMem: number;
  maxNMmaps: number;
}

/** A block the program holds. */
export interface BlockInfo {
  mem: number;
  /** Bytes asked for. */
  request: number;
  /** malloc_usable_size */
  usable: number;
  thread: number;
  /** Arena id (0 main), or null for an mmapped chunk. */
  arena: number | null;
  mmapped: boolean;
}

export interface HeapDescr {
  arena: number;
  address: number;
  size: number;
  mprotectSize: number;
}

export interface ArenaDescr {
  id: number;
  isMain: boolean;
  systemMem: number;
  attachedThreads: number;
  top: { address: number; size: number } | null;
  heaps: HeapDescr[];
}

/** One task's malloc. */
export class Malloc {
  readonly ops: VmOps;
  private readonly main: Arena;
  private readonly threads = new Map<number, ThreadState>();
  /** Program blocks (and tcache structs) by user address. */
  private readonly live = new Map<number, Chunk>();
  /** Heaps of non-main arenas by address. */
  private readonly heapsByAddr = new Map<number, HeapInfo>();
  private freeList: Arena | null = null;
  private nextToUse: Arena | null = null;
  private narenas = 1;
  private narenasLimit = 0;
  private nextArenaId = 1;
  private alignedHeapArea = 0;
  private mainStart = 0;
  private lock: Promise<unknown> = Promise.resolve();

  /* malloc_par */
  private trimThreshold = DEFAULT_TRIM_THRESHOLD;
  private topPad = DEFAULT_TOP_PAD;
  private mmapThreshold = DEFAULT_MMAP_THRESHOLD;
  private arenaTest = narenas_from_ncores(1);
  private arenaMax = 0;
  private nMmaps = 0;
  private nMmapsMax = DEFAULT_MMAP_MAX;
  private maxNMmaps = 0;
  private noDynThreshold = false;
  private mmappedMem = 0;
  private maxMmappedMem = 0;
  private sbrkBase = 0;
  private maxFast = set_max_fast(DEFAULT_MXFAST);
  private readonly tcacheBins: number;
  private readonly tcacheCount = TCACHE_FILL_COUNT;

  private readonly cores: number;
  private readonly touchBlocks: boolean;
  private readonly secure: boolean;

  /**
   * A malloc over `hurd` (whose init_brk has already run: the data segment is reserved).
   * Malloc.create does both.
   */
  constructor(
    readonly hurd: HurdVm,
    options: MallocOptions = {},
  ) {
    this.ops = hurd.ops;
    this.cores = options.cores ?? 1;
    this.touchBlocks = options.touchBlocks ?? true;
    this.secure = options.secure ?? false;
    this.tcacheBins = options.tcache === false ? 0 : TCACHE_MAX_BINS;
    if (options.topPad !== undefined) this.topPad = options.topPad;
    if (options.trimThreshold !== undefined) {
      this.trimThreshold = options.trimThreshold;
      this.noDynThreshold = true;
    }
    if (options.mmapThreshold !== undefined) {
      this.mmapThreshold = options.mmapThreshold;
      this.noDynThreshold = true;
    }
    if (options.arenaMax !== undefined) this.arenaMax = options.arenaMax;
    // ptmalloc_init: the main thread is attached to the main arena.
    this.main = new Arena(0, true);
    this.main.attachedThreads = 1;
    this.threads.set(0, { id: 0, arena: this.main, tcache: null, tcacheShuttingDown: false });
  }

  /** A task's malloc: the Hurd's init_brk reserves the data segment, then malloc is ready. */
  static async create(ops: VmOps, options: MallocOptions = {}): Promise<Malloc> {
    const hurd = new HurdVm(ops, options.hurd);
    await hurd.initBrk();
    return new Malloc(hurd, options);
  }

  /* ================================================================ public API */

  /** malloc (__libc_malloc) from `thread`. Returns: the address, or 0 (NULL). */
  malloc(bytes: number, thread = 0): Promise<number> {
    return this.serialize(() => this.libcMalloc(bytes, thread));
  }

  /** free (__libc_free) from `thread`. free(0) does nothing. Throws on a pointer malloc did not return. */
  free(mem: number, thread = 0): Promise<void> {
    return this.serialize(() => this.libcFree(mem, thread));
  }

  /** realloc (__libc_realloc). realloc(p, 0) frees p and returns 0. */
  realloc(mem: number, bytes: number, thread = 0): Promise<number> {
    return this.serialize(() => this.libcRealloc(mem, bytes, thread));
  }

  /** calloc (__libc_calloc). */
  calloc(n: number, size: number, thread = 0): Promise<number> {
    return this.serialize(() => this.libcCalloc(n, size, thread));
  }

  /** malloc_trim (__malloc_trim): consolidate every arena and systrim the main one. Returns: 1 if memory was released. */
  malloc_trim(pad = 0): Promise<number> {
    return this.serialize(async () => {
      let result = 0;
      let av = this.main;
      do {
        result |= await this.mtrim(av, pad);
        av = av.next;
      } while (av !== this.main);
      return result;
    });
  }

  /**
   * mallopt: consolidate the main arena's fastbins, then set the parameter. Setting a
   * threshold, the top pad or the mmap count turns the dynamic mmap threshold off.
   * Returns: whether the parameter was accepted.
   */
  mallopt(param: number, value: number): Promise<boolean> {
    return this.serialize(async () => {
      await this.mallocConsolidate(this.main);
      switch (param) {
        case M_TRIM_THRESHOLD:
          this.trimThreshold = value;
          this.noDynThreshold = true;
          return true;
        case M_TOP_PAD:
          this.topPad = value;
          this.noDynThreshold = true;
          return true;
        case M_MMAP_THRESHOLD:
          if (value > HEAP_MAX_SIZE / 2) return false;
          this.mmapThreshold = value;
          this.noDynThreshold = true;
          return true;
        case M_MMAP_MAX:
          this.nMmapsMax = value;
          this.noDynThreshold = true;
          return true;
        case M_ARENA_TEST:
          if (value > 0) this.arenaTest = value;
          return value > 0;
        case M_ARENA_MAX:
          if (value > 0) this.arenaMax = value;
          return value > 0;
        default:
          return false;
      }
    });
  }

  /**
   * A thread ends (__malloc_arena_thread_freeres): its tcache is emptied into the arenas
   * and freed, and its arena goes on the free list once no thread is attached.
   */
  threadExit(thread: number): Promise<void> {
    return this.serialize(async () => {
      const t = this.threads.get(thread);
      if (t === undefined) return;
      await this.tcacheThreadShutdown(t);
      const a = t.arena;
      t.arena = null;
      if (a !== null && --a.attachedThreads === 0) {
        a.nextFree = this.freeList;
        this.freeList = a;
      }
      this.threads.delete(thread);
    });
  }

  /** The id of the arena `thread` is attached to (0: main), or null if it has none yet. */
  arenaFor(thread: number): number | null {
    return this.threads.get(thread)?.arena?.id ?? null;
  }

  /** malloc_usable_size */
  usableSize(mem: number): number {
    const p = this.live.get(mem);
    return p === undefined ? 0 : memsize(p.size, p.state === 'mmapped');
  }

  /** The blocks the program holds, by address. */
  blocks(): BlockInfo[] {
    const out: BlockInfo[] = [];
    for (const p of this.live.values()) {
      if (p.internal) continue;
      const mmapped = p.state === 'mmapped';
      out.push({
        mem: p.mem,
        request: p.request,
        usable: memsize(p.size, mmapped),
        thread: p.thread,
        arena: mmapped ? null : p.arena!.id,
        mmapped,
      });
    }
    return out.sort((a, b) => a.mem - b.mem);
  }

  /** The arenas, main first then in glibc's list order (newest first). */
  arenas(): ArenaDescr[] {
    const out: ArenaDescr[] = [];
    let av = this.main;
    do {
      const heaps: HeapDescr[] = [];
      for (let h = av.heap; h !== null; h = h.prev) {
        heaps.unshift({ arena: av.id, address: h.addr, size: h.size, mprotectSize: h.mprotectSize });
      }
      out.push({
        id: av.id,
        isMain: av.isMain,
        systemMem: av.systemMem,
        attachedThreads: av.attachedThreads,
        top: av.top === null ? null : { address: av.top.addr, size: av.top.size },
        heaps,
      });
      av = av.next;
    } while (av !== this.main);
    return out;
  }

  /** mallinfo2 (int_mallinfo over every arena). */
  mallinfo(): MallInfo {
    const m: MallInfo = {
      arena: 0,
      ordblks: 0,
      smblks: 0,
      hblks: this.nMmaps,
      hblkhd: this.mmappedMem,
      usmblks: 0,
      fsmblks: 0,
      uordblks: 0,
      fordblks: 0,
      keepcost: this.main.topSize,
      narenas: this.narenas,
      nheaps: this.heapsByAddr.size,
      mmapThreshold: this.mmapThreshold,
      trimThreshold: this.trimThreshold,
      maxMmappedMem: this.maxMmappedMem,
      maxNMmaps: this.maxNMmaps,
    };
    let av = this.main;
    do {
      let avail = av.topSize;
      let nblocks = 1;
      let nfast = 0;
      let fastavail = 0;
      for (const fb of av.fastbins) {
        for (const p of fb) {
          nfast++;
          fastavail += p.size;
        }
      }
      avail += fastavail;
      for (const p of av.freeAt.values()) {
        nblocks++;
        avail += p.size;
      }
      m.smblks += nfast;
      m.ordblks += nblocks;
      m.fordblks += avail;
      m.uordblks += av.systemMem - avail;
      m.arena += av.systemMem;
      m.fsmblks += fastavail;
      av = av.next;
    } while (av !== this.main);
    return m;
  }

  /**
   * Check the allocator's invariants; throws an Error naming the first violation.
   * Chunks of an arena never overlap; each heap of a non-main arena, and the main arena's
   * break area while contiguous, is tiled by chunks up to its top; free chunks are filed
   * in the right bin, never next to another free chunk or the top; mmapped chunks and
   * arena chunks are disjoint; every block's user address is 16-byte aligned.
   */
  check(): void {
    const fail = (what: string): never => {
      throw new Error(`malloc check: ${what}`);
    };
    const hex = (n: number): string => `0x${n.toString(16)}`;
    const everything: Chunk[] = [];
    let av = this.main;
    do {
      const chunks: Chunk[] = [...av.used.values(), ...av.freeAt.values()];
      if (av.top !== null) chunks.push(av.top);
      chunks.sort((a, b) => a.addr - b.addr);
      for (let i = 1; i < chunks.length; i++) {
        const a = chunks[i - 1]!;
        const b = chunks[i]!;
        if (a.addr + a.size > b.addr) fail(`arena ${av.id}: chunks at ${hex(a.addr)} and ${hex(b.addr)} overlap`);
      }
      for (const c of chunks) {
        if (c.size < (c.state === 'fence' ? CHUNK_HDR_SZ : MINSIZE) && c.state !== 'top') fail(`arena ${av.id}: chunk at ${hex(c.addr)} too small`);
        if (c.state !== 'fence' && c.mem % MALLOC_ALIGNMENT !== 0) fail(`arena ${av.id}: chunk at ${hex(c.addr)} misaligned`);
        if (c.state === 'free') {
          if (av.freeEnd.get(c.addr + c.size) !== c) fail(`arena ${av.id}: free chunk at ${hex(c.addr)} has no footer`);
          if (av.freeEnd.has(c.addr)) fail(`arena ${av.id}: free chunks meet at ${hex(c.addr)}`);
          if (av.top !== null && c.addr + c.size === av.top.addr) fail(`arena ${av.id}: free chunk before the top at ${hex(c.addr)}`);
        }
      }
      // Bin membership.
      const filed = new Set<Chunk>();
      for (let i = 1; i < NBINS; i++) {
        const bin = av.bins[i]!;
        let prevSize = Infinity;
        for (let p = bin.fd; p !== bin; p = p.fd) {
          if (p.fd.bk !== p || p.bk.fd !== p) fail(`arena ${av.id}: bin ${i} links broken at ${hex(p.addr)}`);
          if (p.state !== 'free' || av.freeAt.get(p.addr) !== p) fail(`arena ${av.id}: bin ${i} holds a chunk not free at ${hex(p.addr)}`);
          if (filed.has(p)) fail(`arena ${av.id}: chunk at ${hex(p.addr)} filed twice`);
          filed.add(p);
          if (i > 1) {
            const want = in_smallbin_range(p.size) ? smallbin_index(p.size) : largebin_index(p.size);
            if (want !== i) fail(`arena ${av.id}: chunk of ${p.size} in bin ${i}`);
            if (p.size > prevSize) fail(`arena ${av.id}: bin ${i} not sorted`);
            if (!in_smallbin_range(p.size)) prevSize = p.size;
          }
        }
      }
      if (filed.size !== av.freeAt.size || av.freeAt.size !== av.freeEnd.size) fail(`arena ${av.id}: free chunks not all filed`);
      for (let i = 0; i < NFASTBINS; i++) {
        for (const p of av.fastbins[i]!) {
          if (p.state !== 'fast' || av.used.get(p.addr) !== p || fastbin_index(p.size) !== i) fail(`arena ${av.id}: bad fastbin chunk at ${hex(p.addr)}`);
        }
      }
      // Tiling.
      const tile = (from: number, to: number, what: string): void => {
        let at = from;
        for (const c of chunks) {
          if (c.addr + c.size <= from || c.addr >= to) continue;
          if (c.addr !== at) fail(`arena ${av.id}: ${what}: gap or overlap at ${hex(at)} (next chunk ${hex(c.addr)})`);
          at = c.addr + c.size;
        }
        if (at !== to) fail(`arena ${av.id}: ${what}: chunks end at ${hex(at)}, not ${hex(to)}`);
      };
      if (av.isMain) {
        // (A failed sbrk can leave the break past the top, which sysmalloc then treats as a
        // foreign sbrk: a gap closed by fenceposts. The break area is tiled until that happens.)
        const fenced = [...av.used.values()].some((c) => c.state === 'fence');
        if (av.contiguous && av.top !== null && !fenced) tile(this.mainStart, av.top.addr + av.top.size, 'break area');
        if (av.contiguous && av.top !== null && av.top.addr + av.top.size > this.hurd.brk) {
          fail(`main top ends at ${hex(av.top.addr + av.top.size)}, past the break at ${hex(this.hurd.brk)}`);
        }
      } else {
        for (let h = av.heap; h !== null; h = h.prev) {
          if (h.arena !== av) fail(`heap ${hex(h.addr)} not of arena ${av.id}`);
          if (h.size > h.mprotectSize || h.mprotectSize > HEAP_MAX_SIZE) fail(`heap ${hex(h.addr)} sizes`);
          tile(h.firstChunk, h.addr + h.size, `heap ${hex(h.addr)}`);
        }
        if (av.top === null || this.heapFor(av.top.addr) !== av.heap) fail(`arena ${av.id}: top not in its newest heap`);
      }
      everything.push(...chunks);
      av = av.next;
    } while (av !== this.main);

    for (const p of this.live.values()) {
      if (p.state === 'mmapped') everything.push(p);
      else if (p.state !== 'inuse' || p.arena === null || p.arena.used.get(p.addr) !== p) fail(`block ${hex(p.mem)} not in use in its arena`);
      if (p.mem % MALLOC_ALIGNMENT !== 0) fail(`block ${hex(p.mem)} misaligned`);
      if (memsize(p.size, p.state === 'mmapped') < p.request) fail(`block ${hex(p.mem)} smaller than asked`);
    }
    // Arena chunks and mmapped chunks (with the bytes of their mappings before them) are disjoint.
    const ranges = everything.map((c) => [c.addr - (c.state === 'mmapped' ? c.prevSize : 0), c.addr + c.size] as const);
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i - 1]![1] > ranges[i]![0]) fail(`chunks overlap at ${hex(ranges[i]![0])}`);
    }
  }

  /* ================================================================ the lock */

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /* ================================================================ touching */

  private async touch(address: number, size: number): Promise<void> {
    if (size > 0 && this.ops.touch) await this.ops.touch(address, size);
  }

  /** The program writes its block (with touchBlocks). */
  private async touchUser(p: Chunk, bytes: number): Promise<void> {
    if (this.touchBlocks) await this.touch(p.mem, bytes);
  }

  /* ================================================================ threads, tcache */

  private thread(id: number): ThreadState {
    let t = this.threads.get(id);
    if (t === undefined) {
      t = { id, arena: null, tcache: null, tcacheShuttingDown: false };
      this.threads.set(id, t);
    }
    return t;
  }

  /** MAYBE_INIT_TCACHE / tcache_init: the thread's cache, allocated from its arena. */
  private async maybeInitTcache(t: ThreadState): Promise<void> {
    if (this.tcacheBins === 0 || t.tcache !== null || t.tcacheShuttingDown) return;
    const bytes = SIZEOF_TCACHE_PERTHREAD;
    let ar = await this.arenaGet(t, bytes);
    let victim = ar === null ? null : await this.intMalloc(ar, bytes, t);
    if (victim === null && ar !== null) {
      ar = await this.arenaGetRetry(ar, bytes, t);
      victim = ar === null ? null : await this.intMalloc(ar, bytes, t);
    }
    if (victim !== null) {
      victim.internal = true;
      victim.request = bytes;
      victim.thread = t.id;
      this.live.set(victim.mem, victim);
      t.tcache = new Tcache(victim);
      await this.touch(victim.mem, bytes); // memset
    }
  }

  /** tcache_put: the chunk stays in use as far as its arena knows. */
  private async tcachePut(t: ThreadState, p: Chunk, idx: number): Promise<void> {
    p.state = 'tcache';
    p.arena!.used.set(p.addr, p);
    t.tcache!.entries[idx]!.push(p);
    await this.touch(p.mem, 2 * SIZE_SZ); // e->next, e->key
  }

  /** tcache_get */
  private tcacheGet(t: ThreadState, idx: number): Chunk {
    const p = t.tcache!.entries[idx]!.pop()!;
    p.state = 'inuse';
    return p;
  }

  /** tcache_thread_shutdown: every cached chunk and the cache itself go back to their arenas. */
  private async tcacheThreadShutdown(t: ThreadState): Promise<void> {
    t.tcacheShuttingDown = true;
    const tc = t.tcache;
    if (tc === null) return;
    t.tcache = null;
    for (let i = 0; i < TCACHE_MAX_BINS; i++) {
      const bin = tc.entries[i]!;
      while (bin.length > 0) {
        const e = bin.pop()!;
        e.state = 'inuse';
        await this.intFree(e.arena!, e, t);
      }
    }
    this.live.delete(tc.chunk.mem);
    await this.intFree(tc.chunk.arena!, tc.chunk, t);
  }

  /* ================================================================ arenas (arena.c) */

  /** arena_get: the thread's arena, or one from arena_get2. */
  private async arenaGet(t: ThreadState, size: number): Promise<Arena | null> {
    if (t.arena !== null) return t.arena;
    return this.arenaGet2(t, size, null);
  }

  /** arena_get2 */
  private async arenaGet2(t: ThreadState, size: number, avoid: Arena | null): Promise<Arena | null> {
    const fromFree = this.getFreeList(t);
    if (fromFree !== null) return fromFree;
    if (this.narenasLimit === 0) {
      if (this.arenaMax !== 0) this.narenasLimit = this.arenaMax;
      else if (this.narenas > this.arenaTest) this.narenasLimit = narenas_from_ncores(this.cores >= 1 ? this.cores : 2);
    }
    // (size_t) 0 - 1 is no limit.
    if (this.narenasLimit === 0 || this.narenas <= this.narenasLimit - 1) {
      this.narenas++;
      const a = await this.intNewArena(t, size);
      if (a === null) this.narenas--;
      return a;
    }
    return this.reusedArena(t, avoid);
  }

  /** get_free_list */
  private getFreeList(t: ThreadState): Arena | null {
    const result = this.freeList;
    if (result === null) return null;
    this.freeList = result.nextFree;
    result.nextFree = null;
    result.attachedThreads = 1;
    this.detachArena(t.arena);
    t.arena = result;
    return result;
  }

  private detachArena(a: Arena | null): void {
    if (a !== null) a.attachedThreads--;
  }

  /**
   * reused_arena: the first arena from next_to_use whose lock can be had. Calls are
   * serialised here, so that is next_to_use itself, even when it is `avoid` (which
   * arena_get_retry has unlocked; glibc only steps past it when every trylock fails).
   */
  private reusedArena(t: ThreadState, _avoid: Arena | null): Arena {
    if (this.nextToUse === null) this.nextToUse = this.main;
    const result = this.nextToUse;
    this.detachArena(t.arena);
    // remove_from_free_list
    let prev: Arena | null = null;
    for (let p = this.freeList; p !== null; prev = p, p = p.nextFree) {
      if (p === result) {
        if (prev === null) this.freeList = p.nextFree;
        else prev.nextFree = p.nextFree;
        p.nextFree = null;
        break;
      }
    }
    result.attachedThreads++;
    t.arena = result;
    this.nextToUse = result.next;
    return result;
  }

  /** arena_get_retry */
  private async arenaGetRetry(ar: Arena, bytes: number, t: ThreadState): Promise<Arena | null> {
    if (ar !== this.main) return this.main;
    return this.arenaGet2(t, bytes, ar);
  }

  /** _int_new_arena: a new heap holding heap_info, malloc_state and the top chunk. */
  private async intNewArena(t: ThreadState, size: number): Promise<Arena | null> {
    const overhead = SIZEOF_HEAP_INFO + SIZEOF_MALLOC_STATE + MALLOC_ALIGNMENT;
    let h = await this.newHeap(size + overhead, this.topPad);
    if (h === null) {
      h = await this.newHeap(overhead, this.topPad);
      if (h === null) return null;
    }
    const a = new Arena(this.nextArenaId++, false);
    h.arena = a;
    a.heap = h;
    a.attachedThreads = 1;
    a.systemMem = a.maxSystemMem = h.size;
    let ptr = h.addr + SIZEOF_HEAP_INFO + SIZEOF_MALLOC_STATE;
    const misalign = (ptr + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
    if (misalign > 0) ptr += MALLOC_ALIGNMENT - misalign;
    h.firstChunk = ptr;
    a.top = new Chunk(ptr, h.addr + h.size - ptr, 'top', a);
    await this.touch(h.addr, ptr + CHUNK_HDR_SZ - h.addr);

    const replaced = t.arena;
    t.arena = a;
    a.next = this.main.next;
    this.main.next = a;
    this.detachArena(replaced);
    return a;
  }

  private heapFor(addr: number): HeapInfo | null {
    return this.heapsByAddr.get(addr - (addr % HEAP_MAX_SIZE)) ?? null;
  }

  /**
   * new_heap / alloc_new_heap: reserve HEAP_MAX_SIZE aligned to itself with PROT_NONE
   * mmaps (twice the size, then the excess unmapped, or the remembered aligned_heap_area),
   * and open the first size + top_pad bytes (page-rounded, at least HEAP_MIN_SIZE) RW.
   */
  private async newHeap(size: number, topPad: number): Promise<HeapInfo | null> {
    const max = HEAP_MAX_SIZE;
    const flags = MAP_ANON | MAP_PRIVATE;
    if (size + topPad < HEAP_MIN_SIZE) size = HEAP_MIN_SIZE;
    else if (size + topPad <= max) size += topPad;
    else if (size > max) return null;
    else size = max;
    size = align_up(size, PAGESIZE);

    let p2: number | null = null;
    if (this.alignedHeapArea !== 0) {
      p2 = await this.hurd.mmap(this.alignedHeapArea, max, PROT_NONE, flags);
      this.alignedHeapArea = 0;
      if (p2 !== null && p2 % max !== 0) {
        await this.hurd.munmap(p2, max);
        p2 = null;
      }
    }
    if (p2 === null) {
      const p1 = await this.hurd.mmap(0, max * 2, PROT_NONE, flags);
      if (p1 !== null) {
        p2 = align_up(p1, max);
        const ul = p2 - p1;
        if (ul !== 0) await this.hurd.munmap(p1, ul);
        else this.alignedHeapArea = p2 + max;
        await this.hurd.munmap(p2 + max, max - ul);
      } else {
        p2 = await this.hurd.mmap(0, max, PROT_NONE, flags);
        if (p2 === null) return null;
        if (p2 % max !== 0) {
          await this.hurd.munmap(p2, max);
          return null;
        }
      }
    }
    if ((await this.hurd.mprotect(p2, size, PROT_READ | PROT_WRITE)) !== 0) {
      await this.hurd.munmap(p2, max);
      return null;
    }
    const h = new HeapInfo(p2, size, size, null, p2 + SIZEOF_HEAP_INFO);
    this.heapsByAddr.set(p2, h);
    await this.touch(p2, SIZEOF_HEAP_INFO);
    return h;
  }

  /** grow_heap: mprotect RW the page-rounded slice past mprotect_size, if any. Returns: 0, -1 (full), -2 (mprotect failed). */
  private async growHeap(h: HeapInfo, diff: number): Promise<number> {
    diff = align_up(diff, PAGESIZE);
    const newSize = h.size + diff;
    if (newSize > HEAP_MAX_SIZE) return -1;
    if (newSize > h.mprotectSize) {
      if ((await this.hurd.mprotect(h.addr + h.mprotectSize, newSize - h.mprotectSize, PROT_READ | PROT_WRITE)) !== 0) return -2;
      h.mprotectSize = newSize;
    }
    h.size = newSize;
    return 0;
  }

  /**
   * shrink_heap: on the Hurd, madvise(MADV_DONTNEED) is compiled out (malloc-machine.h),
   * so only h->size changes; a secure program maps the slice back PROT_NONE instead.
   */
  private async shrinkHeap(h: HeapInfo, diff: number): Promise<number> {
    const newSize = h.size - diff;
    if (newSize < SIZEOF_HEAP_INFO) return -1;
    if (this.secure) {
      const r = await this.hurd.mmap(h.addr + newSize, diff, PROT_NONE, MAP_ANON | MAP_PRIVATE | MAP_FIXED);
      if (r === null) return -2;
      h.mprotectSize = newSize;
    }
    h.size = newSize;
    return 0;
  }

  /**
   * heap_trim: delete the arena's newest heaps while they hold nothing but the top (and
   * the previous heap has room), then shrink the top heap past trim_threshold.
   */
  private async heapTrim(heap: HeapInfo, pad: number): Promise<number> {
    const av = heap.arena!;
    let top = av.top!;
    const max = HEAP_MAX_SIZE;
    while (top.addr === heap.addr + SIZEOF_HEAP_INFO && heap.prev !== null) {
      const prevHeap = heap.prev;
      const fence = prevHeap.fence!;
      const prevEnd = prevHeap.addr + prevHeap.size;
      let start = fence.addr;
      const before = av.freeEnd.get(fence.addr);
      if (before !== undefined) start = before.addr;
      const newSize = prevEnd - start;
      if (newSize + (max - prevHeap.size) < pad + MINSIZE + PAGESIZE) break;
      av.systemMem -= heap.size;
      if (heap.addr + max === this.alignedHeapArea) this.alignedHeapArea = 0;
      this.heapsByAddr.delete(heap.addr);
      await this.hurd.munmap(heap.addr, max);
      heap = prevHeap;
      av.heap = heap;
      heap.fence = null;
      av.used.delete(fence.addr);
      if (before !== undefined) this.unlinkChunk(av, before);
      top = new Chunk(start, newSize, 'top', av);
      av.top = top;
    }

    const topSize = top.size;
    if (topSize < this.trimThreshold) return 0;
    const topArea = topSize - MINSIZE - 1;
    if (topArea < 0 || topArea <= pad) return 0;
    const extra = align_down(topArea - pad, PAGESIZE);
    if (extra === 0) return 0;
    if ((await this.shrinkHeap(heap, extra)) !== 0) return 0;
    av.systemMem -= extra;
    top.size = topSize - extra;
    return 1;
  }

  /* ================================================================ bins */

  private unlinkChunk(av: Arena, p: Chunk): void {
    p.fd.bk = p.bk;
    p.bk.fd = p.fd;
    p.fd = p.bk = p;
    av.freeAt.delete(p.addr);
    av.freeEnd.delete(p.addr + p.size);
  }

  /** File a free chunk between bck and fwd. */
  private async linkFree(av: Arena, p: Chunk, bck: Chunk, fwd: Chunk): Promise<void> {
    p.state = 'free';
    p.arena = av;
    av.used.delete(p.addr);
    p.bk = bck;
    p.fd = fwd;
    bck.fd = p;
    fwd.bk = p;
    av.freeAt.set(p.addr, p);
    av.freeEnd.set(p.addr + p.size, p);
    await this.touch(p.addr + SIZE_SZ, 3 * SIZE_SZ); // size, fd, bk
  }

  /** Insert a free chunk at the head of the unsorted list. */
  private linkUnsorted(av: Arena, p: Chunk): Promise<void> {
    const bck = av.bins[1]!;
    return this.linkFree(av, p, bck, bck.fd);
  }

  private markUsed(av: Arena, p: Chunk, state: ChunkState = 'inuse'): void {
    p.state = state;
    p.arena = av;
    av.used.set(p.addr, p);
  }

  /** Split a chunk just taken off a bin: the remainder goes to the unsorted list. */
  private async takeAndSplit(av: Arena, victim: Chunk, nb: number, advertise: boolean): Promise<Chunk> {
    const size = victim.size;
    const remainderSize = size - nb;
    this.unlinkChunk(av, victim);
    if (remainderSize >= MINSIZE) {
      victim.size = nb;
      const remainder = new Chunk(victim.addr + nb, remainderSize, 'free', av);
      await this.linkUnsorted(av, remainder);
      if (advertise) av.lastRemainder = remainder.addr;
    }
    this.markUsed(av, victim);
    return victim;
  }

  /* ================================================================ _int_malloc */

  private async intMalloc(av: Arena, bytes: number, t: ThreadState): Promise<Chunk | null> {
    const nb = checked_request2size(bytes);
    if (nb === 0) return null;
    const tcache = t.tcache;
    const tcIdx = csize2tidx(nb);

    // Fastbin: LIFO; stash the rest of the bin in the tcache.
    if (nb <= this.maxFast) {
      const fb = av.fastbins[fastbin_index(nb)]!;
      const victim = fb.pop();
      if (victim !== undefined) {
        if (tcache !== null && tcIdx < this.tcacheBins) {
          while (tcache.count(tcIdx) < this.tcacheCount && fb.length > 0) await this.tcachePut(t, fb.pop()!, tcIdx);
        }
        this.markUsed(av, victim);
        return victim;
      }
    }

    let idx: number;
    if (in_smallbin_range(nb)) {
      idx = smallbin_index(nb);
      const bin = av.bins[idx]!;
      const victim = bin.bk;
      if (victim !== bin) {
        this.unlinkChunk(av, victim);
        this.markUsed(av, victim);
        if (tcache !== null && tcIdx < this.tcacheBins) {
          while (tcache.count(tcIdx) < this.tcacheCount && bin.bk !== bin) {
            const tc = bin.bk;
            this.unlinkChunk(av, tc);
            await this.tcachePut(t, tc, tcIdx);
          }
        }
        return victim;
      }
    } else {
      idx = largebin_index(nb);
      if (av.haveFastchunks) await this.mallocConsolidate(av);
    }

    const tcacheNb = tcache !== null && tcIdx < this.tcacheBins ? nb : 0;
    let returnCached = false;
    const unsorted = av.bins[1]!;

    for (;;) {
      let iters = 0;
      let victim: Chunk;
      while ((victim = unsorted.bk) !== unsorted) {
        const size = victim.size;

        // The last remainder serves runs of small requests.
        if (in_smallbin_range(nb) && victim.bk === unsorted && victim.addr === av.lastRemainder && size > nb + MINSIZE) {
          this.unlinkChunk(av, victim);
          const remainder = new Chunk(victim.addr + nb, size - nb, 'free', av);
          await this.linkUnsorted(av, remainder);
          av.lastRemainder = remainder.addr;
          victim.size = nb;
          this.markUsed(av, victim);
          return victim;
        }

        this.unlinkChunk(av, victim);

        if (size === nb) {
          if (tcacheNb !== 0 && tcache!.count(tcIdx) < this.tcacheCount) {
            await this.tcachePut(t, victim, tcIdx);
            returnCached = true;
            continue;
          }
          this.markUsed(av, victim);
          return victim;
        }

        // File it.
        let bck: Chunk;
        let fwd: Chunk;
        if (in_smallbin_range(size)) {
          bck = av.bins[smallbin_index(size)]!;
          fwd = bck.fd;
        } else {
          const bin = av.bins[largebin_index(size)]!;
          if (bin.fd === bin) {
            bck = bin;
            fwd = bin;
          } else if (size < bin.bk.size) {
            fwd = bin;
            bck = bin.bk;
          } else {
            fwd = bin.fd;
            while (size < fwd.size) fwd = fwd.fd;
            if (size === fwd.size) fwd = fwd.fd; // always the second position
            bck = fwd.bk;
          }
        }
        await this.linkFree(av, victim, bck, fwd);
        if (++iters >= MAX_ITERS) break;
      }

      if (returnCached) return this.tcacheGet(t, tcIdx);

      // Large request: the smallest chunk that fits in its own bin.
      if (!in_smallbin_range(nb)) {
        const bin = av.bins[idx]!;
        if (bin.fd !== bin && bin.fd.size >= nb) {
          let v = bin.bk;
          while (v.size < nb) v = v.bk;
          // v is the last chunk of the smallest fitting size; go to the first of that size.
          while (v.bk !== bin && v.bk.size === v.size) v = v.bk;
          if (v !== bin.bk && v.fd.size === v.size) v = v.fd;
          return this.takeAndSplit(av, v, nb, false);
        }
      }

      // The next non-empty bin (binmap scan); its last chunk is big enough.
      for (let i = idx + 1; i < NBINS; i++) {
        const bin = av.bins[i]!;
        if (bin.bk !== bin) return this.takeAndSplit(av, bin.bk, nb, in_smallbin_range(nb));
      }

      // use_top
      const top = av.top;
      if (top !== null && top.size >= nb + MINSIZE) {
        const victim = new Chunk(top.addr, nb, 'inuse', av);
        top.addr += nb;
        top.size -= nb;
        this.markUsed(av, victim);
        await this.touch(top.addr + SIZE_SZ, SIZE_SZ); // set_head (remainder)
        return victim;
      } else if (av.haveFastchunks) {
        await this.mallocConsolidate(av);
        idx = in_smallbin_range(nb) ? smallbin_index(nb) : largebin_index(nb);
      } else {
        return this.sysmalloc(nb, av, t);
      }
    }
  }

  /* ================================================================ sysmalloc */

  /** sysmalloc_mmap: a chunk of its own mapping, 8 bytes in so that its user address is aligned. */
  private async sysmallocMmap(nb: number): Promise<Chunk | null> {
    const size = align_up(nb + SIZE_SZ + MALLOC_ALIGN_MASK, PAGESIZE);
    if (size <= nb) return null;
    const mm = await this.hurd.mmap(0, size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
    if (mm === null) return null;
    const frontMisalign = (mm + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
    const correction = frontMisalign > 0 ? MALLOC_ALIGNMENT - frontMisalign : 0;
    const p = new Chunk(mm + correction, size - correction, 'mmapped', null);
    p.prevSize = correction;
    this.nMmaps++;
    this.maxNMmaps = Math.max(this.maxNMmaps, this.nMmaps);
    this.mmappedMem += size;
    this.maxMmappedMem = Math.max(this.maxMmappedMem, this.mmappedMem);
    await this.touch(p.addr, CHUNK_HDR_SZ);
    return p;
  }

  private async sysmalloc(nb: number, av: Arena, t: ThreadState): Promise<Chunk | null> {
    let triedMmap = false;
    if (nb >= this.mmapThreshold && this.nMmaps < this.nMmapsMax) {
      const mm = await this.sysmallocMmap(nb);
      if (mm !== null) return mm;
      triedMmap = true;
    }

    const oldTop = av.top;
    let oldSize = av.topSize;
    const oldEnd = oldTop === null ? -1 : oldTop.addr + oldSize;

    if (!av.isMain) {
      const oldHeap = this.heapFor(oldTop!.addr)!;
      const oldHeapSize = oldHeap.size;
      let heap: HeapInfo | null;
      if (MINSIZE + nb - oldSize > 0 && (await this.growHeap(oldHeap, MINSIZE + nb - oldSize)) === 0) {
        av.systemMem += oldHeap.size - oldHeapSize;
        oldTop!.size = oldHeap.addr + oldHeap.size - oldTop!.addr;
      } else if ((heap = await this.newHeap(nb + MINSIZE + SIZEOF_HEAP_INFO, this.topPad)) !== null) {
        heap.arena = av;
        heap.prev = oldHeap;
        av.heap = heap;
        av.systemMem += heap.size;
        av.top = new Chunk(heap.addr + SIZEOF_HEAP_INFO, heap.size - SIZEOF_HEAP_INFO, 'top', av);
        await this.touch(heap.addr, SIZEOF_HEAP_INFO + CHUNK_HDR_SZ);
        // Fencepost at the old heap's end; what is left of the old top is freed.
        oldSize = (oldSize - MINSIZE) & ~MALLOC_ALIGN_MASK;
        const fence = new Chunk(oldTop!.addr + oldSize, oldEnd - (oldTop!.addr + oldSize), 'fence', av);
        this.markUsed(av, fence, 'fence');
        oldHeap.fence = fence;
        await this.touch(fence.addr, fence.size);
        if (oldSize >= MINSIZE) {
          const rest = new Chunk(oldTop!.addr, oldSize, 'inuse', av);
          this.markUsed(av, rest);
          await this.intFree(av, rest, t);
        }
      } else if (!triedMmap) {
        const mm = await this.sysmallocMmap(nb);
        if (mm !== null) return mm;
      }
    } else {
      let size = nb + this.topPad + MINSIZE;
      if (av.contiguous) size -= oldSize;
      size = align_up(size, PAGESIZE);
      let brk: number | null = null;
      let sndBrk: number | null = null;
      if (size > 0) brk = await this.hurd.sbrk(size);

      if (brk === null) {
        // sysmalloc_mmap_fallback
        let msize = size;
        if (av.contiguous) msize = align_up(msize + oldSize, PAGESIZE);
        if (msize < MMAP_AS_MORECORE_SIZE) msize = MMAP_AS_MORECORE_SIZE;
        if (msize > nb) {
          const mbrk = await this.hurd.mmap(0, msize, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE);
          if (mbrk !== null) {
            av.contiguous = false;
            size = msize;
            brk = mbrk;
            sndBrk = brk + size;
          }
        }
      }

      if (brk !== null) {
        if (this.sbrkBase === 0) this.sbrkBase = brk;
        av.systemMem += size;

        if (brk === oldEnd && sndBrk === null) {
          oldTop!.size = size + oldSize;
        } else if (av.contiguous && oldSize !== 0 && brk < oldEnd) {
          throw new Error('malloc: break adjusted to free malloc space');
        } else {
          let correction = 0;
          let alignedBrk = brk;
          if (av.contiguous) {
            if (oldSize !== 0) av.systemMem += brk - oldEnd;
            const frontMisalign = (brk + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
            if (frontMisalign > 0) {
              correction = MALLOC_ALIGNMENT - frontMisalign;
              alignedBrk += correction;
            }
            correction += oldSize;
            const endMisalign = brk + size + correction;
            correction += align_up(endMisalign, PAGESIZE) - endMisalign;
            sndBrk = await this.hurd.sbrk(correction);
            if (sndBrk === null) {
              correction = 0;
              sndBrk = await this.hurd.sbrk(0);
            }
          } else {
            const frontMisalign = (brk + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
            if (frontMisalign > 0) alignedBrk += MALLOC_ALIGNMENT - frontMisalign;
            if (sndBrk === null) sndBrk = await this.hurd.sbrk(0);
          }

          if (sndBrk !== null) {
            if (this.mainStart === 0) this.mainStart = alignedBrk;
            av.top = new Chunk(alignedBrk, sndBrk - alignedBrk + correction, 'top', av);
            av.systemMem += correction;
            await this.touch(alignedBrk, CHUNK_HDR_SZ);
            if (oldSize !== 0) {
              // A double fencepost at the old top, the rest of which is freed.
              oldSize = (oldSize - 2 * CHUNK_HDR_SZ) & ~MALLOC_ALIGN_MASK;
              const fence = new Chunk(oldTop!.addr + oldSize, oldEnd - (oldTop!.addr + oldSize), 'fence', av);
              this.markUsed(av, fence, 'fence');
              await this.touch(fence.addr, fence.size);
              if (oldSize >= MINSIZE) {
                const rest = new Chunk(oldTop!.addr, oldSize, 'inuse', av);
                this.markUsed(av, rest);
                await this.intFree(av, rest, t);
              }
            }
          }
        }
      }
    }

    if (av.systemMem > av.maxSystemMem) av.maxSystemMem = av.systemMem;

    const top = av.top;
    if (top !== null && top.size >= nb + MINSIZE) {
      const victim = new Chunk(top.addr, nb, 'inuse', av);
      top.addr += nb;
      top.size -= nb;
      this.markUsed(av, victim);
      await this.touch(top.addr + SIZE_SZ, SIZE_SZ);
      return victim;
    }
    return null;
  }

  /** systrim: give the top back to the system past `pad`, through sbrk. Returns: 1 if released. */
  private async systrim(pad: number, av: Arena): Promise<number> {
    const top = av.top!;
    const topSize = top.size;
    const topArea = topSize - MINSIZE - 1;
    if (topArea <= pad) return 0;
    const extra = align_down(topArea - pad, PAGESIZE);
    if (extra === 0) return 0;
    const currentBrk = await this.hurd.sbrk(0);
    if (currentBrk === top.addr + topSize) {
      await this.hurd.sbrk(-extra);
      const newBrk = await this.hurd.sbrk(0);
      if (newBrk !== null) {
        const released = currentBrk - newBrk;
        if (released !== 0) {
          av.systemMem -= released;
          top.size = topSize - released;
          return 1;
        }
      }
    }
    return 0;
  }

  /** munmap_chunk */
  private async munmapChunk(p: Chunk): Promise<void> {
    const block = p.addr - p.prevSize;
    const total = p.prevSize + p.size;
    this.nMmaps--;
    this.mmappedMem -= total;
    await this.hurd.munmap(block, total);
  }


  /* ================================================================ _int_free */

  private async intFree(av: Arena, p: Chunk, t: ThreadState): Promise<void> {
    const size = p.size;

    const tcIdx = csize2tidx(size);
    if (t.tcache !== null && tcIdx < this.tcacheBins && t.tcache.count(tcIdx) < this.tcacheCount) {
      await this.tcachePut(t, p, tcIdx);
      return;
    }

    if (size <= this.maxFast) {
      av.haveFastchunks = true;
      this.markUsed(av, p, 'fast');
      av.fastbins[fastbin_index(size)]!.push(p);
      await this.touch(p.mem, SIZE_SZ); // fd
      return;
    }

    av.used.delete(p.addr);
    let addr = p.addr;
    let sz = size;
    const prev = av.freeEnd.get(addr);
    if (prev !== undefined) {
      this.unlinkChunk(av, prev);
      addr = prev.addr;
      sz += prev.size;
    }
    const nextAddr = p.addr + size;
    const top = av.top;
    if (top !== null && nextAddr === top.addr) {
      sz += top.size;
      av.top = new Chunk(addr, sz, 'top', av);
    } else {
      const next = av.freeAt.get(nextAddr);
      if (next !== undefined) {
        this.unlinkChunk(av, next);
        sz += next.size;
      }
      await this.linkUnsorted(av, new Chunk(addr, sz, 'free', av));
    }

    if (sz >= FASTBIN_CONSOLIDATION_THRESHOLD) {
      if (av.haveFastchunks) await this.mallocConsolidate(av);
      if (av.isMain) {
        if (av.topSize >= this.trimThreshold) await this.systrim(this.topPad, av);
      } else {
        await this.heapTrim(this.heapFor(av.top!.addr)!, this.topPad);
      }
    }
  }

  /** malloc_consolidate: empty the fastbins, merging each chunk with free neighbours. */
  private async mallocConsolidate(av: Arena): Promise<void> {
    av.haveFastchunks = false;
    for (let i = 0; i < NFASTBINS; i++) {
      const fb = av.fastbins[i]!;
      const chunks = fb.splice(0, fb.length).reverse(); // from the head of the LIFO list
      for (const p of chunks) {
        av.used.delete(p.addr);
        let addr = p.addr;
        let sz = p.size;
        const prev = av.freeEnd.get(addr);
        if (prev !== undefined) {
          this.unlinkChunk(av, prev);
          addr = prev.addr;
          sz += prev.size;
        }
        const nextAddr = p.addr + p.size;
        const top = av.top;
        if (top !== null && nextAddr === top.addr) {
          av.top = new Chunk(addr, sz + top.size, 'top', av);
        } else {
          const next = av.freeAt.get(nextAddr);
          if (next !== undefined) {
            this.unlinkChunk(av, next);
            sz += next.size;
          }
          await this.linkUnsorted(av, new Chunk(addr, sz, 'free', av));
        }
      }
    }
  }

  /** mtrim: malloc_consolidate, the (no-op on the Hurd) madvise of free pages, systrim of the main arena. */
  private async mtrim(av: Arena, pad: number): Promise<number> {
    await this.mallocConsolidate(av);
    if (av.isMain && av.top !== null) return this.systrim(pad, av);
    return 0;
  }

  /* ================================================================ __libc_* */

  private async libcMalloc(bytes: number, tid: number): Promise<number> {
    const tbytes = checked_request2size(bytes);
    if (tbytes === 0) return 0;
    const t = this.thread(tid);
    const tcIdx = csize2tidx(tbytes);
    await this.maybeInitTcache(t);
    let victim: Chunk | null = null;
    if (tcIdx < this.tcacheBins && t.tcache !== null && t.tcache.count(tcIdx) > 0) {
      victim = this.tcacheGet(t, tcIdx);
    } else {
      let ar = await this.arenaGet(t, bytes);
      victim = ar === null ? null : await this.intMalloc(ar, bytes, t);
      if (victim === null && ar !== null) {
        ar = await this.arenaGetRetry(ar, bytes, t);
        victim = ar === null ? null : await this.intMalloc(ar, bytes, t);
      }
    }
    if (victim === null) return 0;
    return this.handOut(victim, bytes, tid);
  }


  private async handOut(p: Chunk, bytes: number, tid: number): Promise<number> {
    p.request = bytes;
    p.thread = tid;
    p.internal = false;
    this.live.set(p.mem, p);
    await this.touchUser(p, bytes);
    return p.mem;
  }

  private takeLive(mem: number, what: string): Chunk {
    const p = this.live.get(mem);
    if (p === undefined || p.internal) throw new Error(`${what}(): invalid pointer 0x${mem.toString(16)}`);
    this.live.delete(mem);
    return p;
  }

  private async libcFree(mem: number, tid: number): Promise<void> {
    if (mem === 0) return;
    const p = this.takeLive(mem, 'free');
    if (p.state === 'mmapped') {
      // The dynamic mmap threshold follows the largest mmapped chunk freed (up to 512 KiB).
      if (!this.noDynThreshold && (p.size | IS_MMAPPED) > this.mmapThreshold && (p.size | IS_MMAPPED) <= DEFAULT_MMAP_THRESHOLD_MAX) {
        this.mmapThreshold = p.size;
        this.trimThreshold = 2 * this.mmapThreshold;
      }
      await this.munmapChunk(p);
      return;
    }
    const t = this.thread(tid);
    await this.maybeInitTcache(t);
    await this.intFree(p.arena!, p, t);
  }

  private async libcRealloc(mem: number, bytes: number, tid: number): Promise<number> {
    if (bytes === 0 && mem !== 0) {
      await this.libcFree(mem, tid);
      return 0;
    }
    if (mem === 0) return this.libcMalloc(bytes, tid);
    const oldp = this.live.get(mem);
    if (oldp === undefined || oldp.internal) throw new Error(`realloc(): invalid pointer 0x${mem.toString(16)}`);
    const oldsize = oldp.size;
    const t = this.thread(tid);
    if (oldp.state !== 'mmapped') await this.maybeInitTcache(t);
    const nb = checked_request2size(bytes);
    if (nb === 0) return 0;

    if (oldp.state === 'mmapped') {
      if (oldsize - SIZE_SZ >= nb) {
        oldp.request = bytes;
        return mem;
      }
      const newmem = await this.libcMalloc(bytes, tid);
      if (newmem === 0) return 0;
      await this.touch(newmem, Math.min(oldsize - CHUNK_HDR_SZ, bytes)); // memcpy
      this.live.delete(mem);
      await this.munmapChunk(oldp);
      return newmem;
    }

    const ar = oldp.arena!;
    this.live.delete(mem);
    const newp = await this.intRealloc(ar, oldp, oldsize, nb, t);
    if (newp === null) {
      // Try another arena (malloc, copy, free).
      const newmem = await this.libcMalloc(bytes, tid);
      if (newmem === 0) {
        this.live.set(mem, oldp);
        return 0;
      }
      await this.touch(newmem, Math.min(memsize(oldsize, false), bytes));
      await this.intFree(ar, oldp, t);
      return newmem;
    }
    return this.handOut(newp, bytes, tid);
  }

  /** _int_realloc: grow in place into the top or a free neighbour, else malloc-copy-free; split off any excess. */
  private async intRealloc(av: Arena, oldp: Chunk, oldsize: number, nb: number, t: ThreadState): Promise<Chunk | null> {
    const nextAddr = oldp.addr + oldsize;
    let newp: Chunk;
    let newsize: number;
    if (oldsize >= nb) {
      newp = oldp;
      newsize = oldsize;
    } else {
      const top = av.top;
      const next = av.freeAt.get(nextAddr);
      if (top !== null && nextAddr === top.addr && oldsize + top.size >= nb + MINSIZE) {
        const total = oldsize + top.size;
        oldp.size = nb;
        top.addr = oldp.addr + nb;
        top.size = total - nb;
        await this.touch(top.addr + SIZE_SZ, SIZE_SZ);
        return oldp;
      } else if ((top === null || nextAddr !== top.addr) && next !== undefined && oldsize + next.size >= nb) {
        newp = oldp;
        newsize = oldsize + next.size;
        this.unlinkChunk(av, next);
      } else {
        const fresh = await this.intMalloc(av, nb - MALLOC_ALIGN_MASK, t);
        if (fresh === null) return null;
        if (fresh.addr === nextAddr) {
          av.used.delete(fresh.addr);
          newsize = fresh.size + oldsize;
          newp = oldp;
        } else {
          await this.touch(fresh.mem, memsize(oldsize, false)); // memcpy
          await this.intFree(av, oldp, t);
          return fresh;
        }
      }
    }
    const remainderSize = newsize - nb;
    if (remainderSize < MINSIZE) {
      newp.size = newsize;
    } else {
      newp.size = nb;
      const remainder = new Chunk(newp.addr + nb, remainderSize, 'inuse', av);
      this.markUsed(av, remainder);
      await this.touch(remainder.addr + SIZE_SZ, SIZE_SZ);
      await this.intFree(av, remainder, t);
    }
    this.markUsed(av, newp);
    return newp;
  }

  private async libcCalloc(n: number, elemSize: number, tid: number): Promise<number> {
    const bytes = n * elemSize;
    if (!Number.isSafeInteger(bytes) || bytes > 0xffffffff) return 0;
    const sz = bytes;
    const t = this.thread(tid);
    await this.maybeInitTcache(t);
    let av = await this.arenaGet(t, sz);
    let oldTop: Chunk | null = null;
    let oldTopAddr = -1;
    let oldTopSize = 0;
    if (av !== null) {
      oldTop = av.top;
      oldTopAddr = oldTop === null ? -1 : oldTop.addr;
      oldTopSize = av.topSize;
      if (oldTop !== null) {
        if (av.isMain) {
          // Only newly allocated memory is known to be clear.
          const fresh = this.sbrkBase + av.maxSystemMem - oldTop.addr;
          if (oldTopSize < fresh) oldTopSize = fresh;
        } else {
          const heap = this.heapFor(oldTop.addr)!;
          const fresh = heap.addr + heap.mprotectSize - oldTop.addr;
          if (oldTopSize < fresh) oldTopSize = fresh;
        }
      }
    }
    let p = av === null ? null : await this.intMalloc(av, sz, t);
    if (p === null && av !== null) {
      av = await this.arenaGetRetry(av, sz, t);
      p = av === null ? null : await this.intMalloc(av, sz, t);
    }
    if (p === null) return 0;
    const mem = await this.handOut(p, bytes, tid);
    if (p.state === 'mmapped') return mem;
    let csz = p.size;
    if (p.addr === oldTopAddr && csz > oldTopSize) csz = oldTopSize;
    await this.touch(mem, csz - SIZE_SZ); // memset of what may not be zero
    return mem;
  }
}
