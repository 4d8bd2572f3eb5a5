/**
 * `db.stats()`: what an operator (or a benchmark computing write amplification) wants to know.
 *
 * Write amplification = (walBytesWritten + flushBytesWritten + compactionBytesWritten) /
 * userBytesWritten, all counted since open.
 */
import { compareKeys } from '@strata-db/memtable';
import type { WorkerMemory } from './background/protocol.js';
import type { CompactionStats } from './compaction/compaction-stats.js';
import type { Counters } from './counters.js';
import type { LevelFilterStats } from './read/filter-skipping.js';
import type { DbCore } from './db/core.js';
import type { TableCacheStats } from './version/table-cache.js';
import type { WarmingStats } from './version/table-warmer.js';

export interface LevelFileStats {
  readonly fileNumber: number;
  readonly size: number;
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
  readonly minSeq: number;
  readonly maxSeq: number;
  readonly entries: number;
  readonly tombstones: number;
}

export interface LevelStats {
  readonly level: number;
  readonly files: number;
  readonly bytes: number;
  /** Smallest and largest key of the level (undefined when empty). */
  readonly smallestKey: Uint8Array | undefined;
  readonly largestKey: Uint8Array | undefined;
  readonly fileList: readonly LevelFileStats[];
}

export interface DatabaseStats {
  /** Highest sequence number assigned (the next write gets lastSequence + 1). */
  readonly lastSequence: number;
  /** Highest sequence number visible to new reads. */
  readonly visibleSequence: number;
  readonly levels: readonly LevelStats[];
  readonly memtables: {
    readonly activeBytes: number;
    readonly activeEntries: number;
    readonly frozen: number;
    readonly frozenBytes: number;
    /** Memtables built on the memory of a released one (no allocation) since open. */
    readonly reused: number;
    /** Bytes at which the active memtable is frozen: memtableSize, or up to maxMemtableSize with a big L1 (write/freeze-size.ts). */
    readonly freezeSize: number;
  };
  readonly snapshots: number;
  readonly openIterators: number;
  readonly liveVersions: number;
  readonly walSegment: number;
  readonly manifest: { readonly fileNumber: number; readonly bytes: number };
  /**
   * `indexBytes`: the cache's own index of its blocks (a hash table keyed by file and block,
   * with each block's bookkeeping; ~2% of the capacity with 4 KiB blocks, sized by the most
   * blocks cached at once, not by the tables; sstable-core's block-cache.ts; `memory.blockCacheIndex`).
   * `usage`: bytes of cached data blocks; `charged`: bytes of the capacity charged by table
   * metadata (cacheIndexAndFilterBlocks: `tableCache.residentBytes`; else 0) — usage + charged ≤ capacity.
   */
  readonly blockCache: { readonly capacity: number; readonly usage: number; readonly charged: number; readonly hits: number; readonly misses: number; readonly indexBytes: number };
  /** Open tables, their resident metadata (≤ tableCacheSize) and table file descriptors (≤ maxOpenFiles − 10 − 4 × backgroundThreads: options.ts, tableDescriptors). */
  readonly tableCache: TableCacheStats;
  /**
   * Idle warming of table metadata (the `warmTables` option, version/table-warmer.ts): its state,
   * the tables it opened and partitions it loaded since open (counted in `tableCache` too), and
   * the turns of the event loop it took.
   */
  readonly warming: WarmingStats;
  /** Memory held by the database, by component (bytes), and what long-lived readers hold. */
  readonly memory: MemoryStats;
  /** Write stall state right now. */
  readonly writeStall: 'none' | 'slowdown' | 'stop';
  /** The error that made the database read-only, if any. */
  readonly backgroundError: string | undefined;
  /**
   * Where flushes and compactions run: `threads` is the `backgroundThreads` option (0: on the
   * main thread), `workers` the worker threads alive now (started on first use), `idleEnded`
   * the workers that have ended after `backgroundThreadIdleMs` without a job (a later job
   * started another).
   */
  readonly background: { readonly threads: number; readonly workers: number; readonly idleEnded: number };
  readonly counters: Readonly<Counters>;
  /**
   * Point reads' bloom filters, per level (read/filter-skipping.ts, skipUnhelpfulFilters): table
   * probes that asked the level's filters and how many the filters rejected, probes that skipped
   * them, and whether the level skips them now — a level whose filters rarely reject (the bottom
   * level under gets of keys that exist) skips them but for one probe in 32.
   */
  readonly filters: readonly LevelFilterStats[];
  /** (wal + flush + compaction bytes) / user bytes; 0 before any write. */
  readonly writeAmplification: number;
  /** Leveled compaction: runs, bytes read/written per level, level scores, backlog. */
  readonly compaction: CompactionStats | undefined;
}

/**
 * What the database holds in memory, by component. Bounded by construction: memtables and
 * memtableReserve together by the most memtables alive at once — the active one, up to
 * maxFrozenMemtables frozen, and one flushed but not yet released: M × (2 + maxFrozenMemtables)
 * plus allocation slack, M the largest freeze size (`memtables.freezeSize`: memtableSize, up to
 * maxMemtableSize once L1 is big, write/freeze-size.ts) — because a new memtable is built on reserved
 * memory whenever some is held (the reserve keeps at most 1 + maxFrozenMemtables released
 * memtables, also after readers let go of memtables they pinned), the block cache by blockCacheSize, the table cache's
 * table metadata (pinned top-level indexes and cached index and filter partitions) by tableCacheSize. A reader adds to this only what
 * it pins: the memtables and the tables of the Version it reads (`pinned`).
 *
 * The whole process, computable from the options (README, "Bounded resources"): peak RSS ≤
 * maxMemtableSize × (1 + maxFrozenMemtables) + blockCacheSize + tableCacheSize + F (with
 * cacheIndexAndFilterBlocks the table metadata is charged to the block cache — blockCache +
 * tableIndexAndFilter ≤ blockCacheSize — and the tableCacheSize term goes), where F — what
 * lies outside `total`: node itself (~42 MB), the engine's code, the main thread's V8 heap, each
 * worker's isolate (`workers`: gone once a worker has ended, after backgroundThreadIdleMs),
 * allocator slack (chiefly other threads' glibc malloc arenas — the ended workers' and V8's own
 * threads': 19–31 MB at the end of a 10M round's reads, session 27; `MALLOC_ARENA_MAX=1` gives
 * them back, README)
 * — measured 130–150 MB during fills and ~200 MB
 * during gets and scans at 10M keys on Linux x64 / Node 20 (`npm run bench -- scale`, plain node;
 * classic-level's equivalent during fills in the same runs: ~130 MB).
 * During a fill the block and table caches stay empty, so a fill's peak also stays under the
 * issue's memtables + blockCacheSize + 64 MB (240 MB by default with memtables at
 * maxMemtableSize, 204 while they are memtableSize); F itself is not 64 MB.
 */
export interface MemoryStats {
  /** The active and frozen memtables. */
  readonly memtables: number;
  /** Released memtables' memory held for the next active memtables (at most 1 + maxFrozenMemtables memtables'). */
  readonly memtableReserve: number;
  readonly blockCache: number;
  /**
   * The block cache's index of its blocks (`blockCache.indexBytes`): outside blockCacheSize, ~2%
   * of it with 4 KiB blocks — it grows with the most blocks cached at once, not with the tables.
   */
  readonly blockCacheIndex: number;
  /**
   * Table metadata in memory (≤ tableCacheSize): what the open tables pin — top-level indexes,
   * range tombstones, partition-cache slots — plus the cached index and filter partitions
   * (`tableCache.pinnedBytes` + `tableCache.partitionBytes`).
   */
  readonly tableIndexAndFilter: number;
  /**
   * What the engine keeps per table file outside every cache's bound, so it grows with the
   * number of tables (~0.9 KB a table: ~5.5 MB for the 6,400 tables of 100M keys): the live
   * Versions' records of their files — keys, sizes, sequence numbers (VersionSet.memoryBytes) —
   * and the table cache's descriptor record of every table opened and not deleted
   * (`tableCache.descriptorBytes`).
   */
  readonly tableRecords: number;
  /** Keys and values of the writes not applied yet — waiting, or being logged (their own buffers or copies). */
  readonly writeQueue: number;
  /** Of writeQueue, the copies the write path made (≤ writeQueueSize). */
  readonly writeQueueCopies: number;
  /** The WAL writer's buffers: records framed but not yet written (64 KiB unless one huge batch waits). */
  readonly walBuffers: number;
  /**
   * The background worker threads' own memory, bytes, summed over the live workers as each
   * reported it after its last job: V8 heap committed and ArrayBuffers (blocks, table builders'
   * buffers — live or not yet collected), now and the most seen, and `windowPool`, the bytes of
   * compaction's readahead windows each keeps for its next job (outside malloc and the V8 heap:
   * background/window-pool.ts; at most 8 MiB a thread, given back when the worker ends). Not in
   * `total`: it is the workers' memory, not the database's data structures (the frozen memtables
   * a worker reads are shared memory, counted in `memtables`). Zeros without workers, but for
   * `windowPool`: with `backgroundThreads: 0` the main thread's own pool. Bounded: a worker's
   * young generation is capped at 2 MiB (WORKER_RESOURCE_LIMITS) and it collects whenever its
   * ArrayBuffers grew 4 MiB since its last collection (`collections` counts those).
   */
  readonly workers: WorkerMemory;
  /** memtables + memtableReserve + pinned.memtableBytes + blockCache + blockCacheIndex + tableIndexAndFilter + tableRecords + writeQueueCopies + walBuffers: what the engine allocated. */
  readonly total: number;
  /**
   * Held by iterators on what the database has moved past. (A snapshot alone pins no memory:
   * it keeps old versions in tables, on disk, which `levels` and `obsoleteTableBytes` show.)
   */
  readonly pinned: {
    /** Memtables flushed to tables but still read by open iterators. */
    readonly memtables: number;
    readonly memtableBytes: number;
    /** Versions other than the current one, kept alive by readers. */
    readonly versions: number;
    /** Tables compacted away but not yet deleted because such a Version still lists them. */
    readonly obsoleteTables: number;
    readonly obsoleteTableBytes: number;
  };
}

/** The report of `db.stats()`, read from the core's accessors and the write path's queue (nothing is changed). */
export function collectStats(core: DbCore, queue: { readonly queued: number; readonly copies: number }): DatabaseStats {
  const v = core.versions.current;
  const levels: LevelStats[] = [];
  for (let level = 0; level < v.numLevels; level++) {
    const files = v.files(level);
    let bytes = 0;
    let smallest: Uint8Array | undefined;
    let largest: Uint8Array | undefined;
    for (const f of files) {
      bytes += f.fileSize;
      if (smallest === undefined || compareKeys(f.smallestKey, smallest) < 0) smallest = f.smallestKey;
      if (largest === undefined || compareKeys(f.largestKey, largest) > 0) largest = f.largestKey;
    }
    levels.push({
      level,
      files: files.length,
      bytes,
      smallestKey: smallest,
      largestKey: largest,
      fileList: files.map((f) => ({
        fileNumber: f.fileNumber,
        size: f.fileSize,
        smallestKey: f.smallestKey,
        largestKey: f.largestKey,
        minSeq: f.minSeq,
        maxSeq: f.maxSeq,
        entries: f.entryCount,
        tombstones: f.tombstoneCount,
      })),
    });
  }
  const c = { ...core.counters, walBytesWritten: core.walBytesWritten };
  const amplified = c.walBytesWritten + c.flushBytesWritten + c.compactionBytesWritten;
  const bc = core.tables.blockCache;
  const active = core.activeMemtable;
  const tableCache = core.tables.stats();
  const memtableBytes = active.approximateBytes() + core.frozenBytes();
  const reserve = core.memtableReserve;
  const pinnedMemtables = core.pinnedMemtables();
  const obsolete = core.versions.pinnedObsoleteTables();
  const tableRecords = core.versions.memoryBytes + tableCache.descriptorBytes;
  return {
    lastSequence: core.lastSequence,
    visibleSequence: core.visibleSequence,
    levels,
    memtables: {
      activeBytes: active.approximateBytes(),
      activeEntries: active.entryCount,
      frozen: core.frozenCount,
      frozenBytes: core.frozenBytes(),
      reused: reserve.reused,
      freezeSize: core.freezeSize,
    },
    snapshots: core.snapshots.size,
    openIterators: core.iterators.size,
    liveVersions: core.versions.liveVersionCount,
    walSegment: core.walSegment,
    manifest: { fileNumber: core.versions.manifestFileNumber, bytes: core.versions.manifestSize },
    blockCache: { capacity: bc.capacity, usage: bc.usage, charged: bc.charged, hits: bc.hits, misses: bc.misses, indexBytes: bc.indexBytes },
    tableCache,
    warming: core.warmer.stats(),
    memory: {
      memtables: memtableBytes,
      memtableReserve: reserve.bytes,
      blockCache: bc.usage,
      blockCacheIndex: bc.indexBytes,
      tableIndexAndFilter: tableCache.residentBytes,
      tableRecords,
      writeQueue: queue.queued,
      writeQueueCopies: queue.copies,
      walBuffers: core.walBufferBytes,
      workers: core.executor.memory,
      total: memtableBytes + reserve.bytes + pinnedMemtables.bytes + bc.usage + bc.indexBytes + tableCache.residentBytes + tableRecords + queue.copies + core.walBufferBytes,
      pinned: {
        memtables: pinnedMemtables.count,
        memtableBytes: pinnedMemtables.bytes,
        versions: core.versions.liveVersionCount - 1,
        obsoleteTables: obsolete.files,
        obsoleteTableBytes: obsolete.bytes,
      },
    },
    writeStall: core.stallState(),
    backgroundError: core.backgroundError?.message,
    background: { threads: core.executor.threads, workers: core.executor.liveWorkers, idleEnded: core.executor.idleWorkersEnded },
    counters: c,
    filters: core.filters.stats(),
    writeAmplification: c.userBytesWritten === 0 ? 0 : amplified / c.userBytesWritten,
    compaction: core.compactor.stats(),
  };
}
