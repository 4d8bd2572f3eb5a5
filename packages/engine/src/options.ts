/**
 * Database options: the documented defaults, and validation that turns a bad option into an
 * INVALID_ARGUMENT at open time instead of a strange failure later.
 */
import { availableParallelism } from 'node:os';
import { COMPRESSION_NAMES, isCompressionName, type CompressionName } from '@strata-db/sstable-core';
import type { DeletionTrigger } from '@strata-db/sstable-builder';
import { StrataError } from './errors.js';
import type { Logger, StrataEvent } from './events.js';
import { crossesThreads, nodeFileSystem, type FileSystem } from '@strata-db/vfs';
import { rejectUnknownOptions } from './option-names.js';
import { defaultMaxOpenFiles } from './descriptor-limit.js';
import { WARM_TABLES_MODES, type WarmTables } from './version/table-warmer.js';
import { COMPACTION_PRIORITIES, DEFAULT_COMPACTION_PRIORITY, type CompactionPriority } from './compaction/picker.js';
import { DEFAULT_UNIVERSAL_OPTIONS, type UniversalOptions } from './compaction/universal-picker.js';

/** RocksDB's compaction_style, the two Strata implements: see `DatabaseOptions.compactionStyle`. */
export type CompactionStyle = 'level' | 'universal';
export const COMPACTION_STYLES: readonly CompactionStyle[] = ['level', 'universal'];

/** RocksDB's compaction_options_universal, by its names (camelCase) and defaults. */
export interface UniversalCompactionOptions {
  /**
   * Percent (default 1): a run joins a merge of the runs newer than it while its bytes are at
   * most (100 + sizeRatio) % of theirs together.
   */
  readonly sizeRatio?: number;
  /** Fewest runs merged for size ratio (default 2; at least 2). */
  readonly minMergeWidth?: number;
  /** Most runs merged at once for size ratio or run count (default unbounded, 2^31 − 1). */
  readonly maxMergeWidth?: number;
  /**
   * When the runs newer than the oldest hold at least this percent of its bytes (default 200),
   * everything is merged into one run: the space old versions take is bounded.
   */
  readonly maxSizeAmplificationPercent?: number;
}

export type WalRecoveryMode = 'tolerate-corrupted-tail' | 'absolute-consistency' | 'point-in-time' | 'skip-any-corrupted';

export interface DatabaseOptions {
  /**
   * Open for reading only (default false): no lock is taken and nothing in the directory is
   * created, written, renamed or deleted — the WAL is replayed into memory only. Works while
   * another process has the database open for writing: it sees one consistent point of it, the
   * one at open until `db.catchUp()` (db/follower.ts). Writes,
   * flush and compact are refused with READ_ONLY. createIfMissing and errorIfExists must not be set.
   */
  readonly readOnly?: boolean;
  /**
   * With readOnly: catch up with the writer every this many milliseconds (default 0: only when
   * `db.catchUp()` is called). The timer does not keep the process alive; close stops it.
   */
  readonly followInterval?: number;
  /** Create the directory and an empty database when none exists (default true). */
  readonly createIfMissing?: boolean;
  /** Fail with EXISTS when a database already exists (default false). */
  readonly errorIfExists?: boolean;
  /** Active memtable size, in bytes, at which it is frozen and flushed (default 4 MiB). */
  readonly memtableSize?: number;
  /**
   * The largest the active memtable grows to (default 4 × memtableSize). The freeze size starts
   * at memtableSize and doubles, up to this, while L1 holds more than l0SlowdownWritesTrigger
   * memtables' bytes — a big tree then flushes larger L0 tables, so each L0→L1 compaction
   * rewrites L1 for more flushed bytes (write/freeze-size.ts). Memtables then take up to
   * maxMemtableSize × (1 + maxFrozenMemtables). Equal to memtableSize: memtables never grow.
   */
  readonly maxMemtableSize?: number;
  /** Default for writes: fdatasync the WAL before the promise resolves (default false). */
  readonly sync?: boolean;
  /** What to do with a damaged WAL at open (default 'tolerate-corrupted-tail'). */
  readonly walRecovery?: WalRecoveryMode;
  /** Target uncompressed data block size of tables (default 4 KiB). */
  readonly blockSize?: number;
  /**
   * Entries between restart points in a table's data blocks (default 16, LevelDB's
   * block_restart_interval): a point lookup scans at most this many entries of a block after
   * choosing the interval from the block's restart summary. Tables written with another interval
   * read as before (the restart array is in the block).
   */
  readonly blockRestartInterval?: number;
  /**
   * Block compression of the tables written to each level: one codec for every level, or one per
   * level — entry i for level i, the last entry for every level below it (RocksDB's
   * compression_per_level). Codecs: 'none', 'lz4', 'deflate', 'snappy'. Default ['none', 'lz4']:
   * flushes (L0, on the write path and compacted away soon) raw, every other level lz4. A block
   * that does not shrink by 1/8 is stored raw; after 8 of those in a row, a table builder tries
   * one block in 16 until one shrinks (README, "Compression"). Changing it later is safe: each
   * block records its codec, so tables written before read as before, and compaction rewrites
   * them with the new choice as it reaches them.
   */
  readonly compression?: CompressionName | readonly CompressionName[];
  /**
   * Codec of the tables a compaction writes where nothing older lies below them — the
   * bottommost data, where most of a settled database rests (RocksDB's bottommost_compression).
   * Default: the codec `compression` gives that level. 'deflate' here stores JSON in ~0.8× of
   * lz4's bytes at ~1.5× the CPU of a fill and full compaction (README, "Compression").
   */
  readonly bottommostCompression?: CompressionName;
  /** Bloom filter bits per key; 0 disables filters (default 10, ≈1% false positives). */
  readonly bloomBitsPerKey?: number;
  /**
   * Size of a table's index partitions, bytes (default 4096, RocksDB's metadata_block_size): a
   * table's index and filter are cut into partitions of ~170 data blocks (~680 KiB of data), read
   * when a lookup needs them and kept in the table cache (`tableCacheSize`). Smaller partitions
   * make a lookup that misses that cache cheaper; the per-table top-level index grows.
   */
  readonly metadataBlockSize?: number;
  /**
   * Bytes of checksum-verified blocks kept in the shared block cache (CLOCK; default 128 MiB).
   * Every miss is a `readSync` of the block plus a CRC check — tables are not mmapped — so this
   * cache plays the part that the OS page cache plays for LevelDB's mmapped tables (whose
   * touched pages count in LevelDB's RSS as this cache counts in Strata's). The cache fills only
   * as blocks are read: a database smaller than it costs its own size, not the whole default.
   */
  readonly blockCacheSize?: number;
  /** Number of L0 files that makes L0 eligible for compaction (default 4). */
  readonly l0CompactionTrigger?: number;
  /** Number of L0 files at which each write is delayed by ~1 ms (default 40; RocksDB's 20 until 2026-11-29). */
  readonly l0SlowdownWritesTrigger?: number;
  /** Number of L0 files at which writes wait for compaction (default 72; RocksDB's 36 until 2026-11-29). */
  readonly l0StopWritesTrigger?: number;
  /**
   * Frozen memtables waiting for flush at which writes wait (default minMemtablesToMerge + 1: 2,
   * or 3 when two memtables are merged). At least minMemtablesToMerge.
   */
  readonly maxFrozenMemtables?: number;
  /**
   * Frozen memtables a flush writes into one L0 table (RocksDB's min_write_buffer_number_to_merge;
   * default 1). With 2, a flush waits for a second frozen memtable and merges both — every version
   * of both, nothing collapsed — into a table twice the size, so an L0→L1 compaction rewrites half
   * the L1 bytes per L0 byte. A flush still takes fewer when writes wait for it, at `db.flush()`
   * and at close. A frozen memtable stays readable until its table is installed either way.
   */
  readonly minMemtablesToMerge?: number;
  /**
   * Bytes of keys and values the write path copies for writes not applied yet — waiting behind
   * a stall or the group being logged, or being logged (default 16 MiB). Past it, such writes
   * hold the caller's own buffers uncopied (as LevelDB's writers do), so callers that do not
   * await add no engine memory (README, "Bounded resources").
   */
  readonly writeQueueSize?: number;
  /** Estimated compaction backlog (bytes) at which each write is delayed (default 64 GiB, as RocksDB). */
  readonly softPendingCompactionBytesLimit?: number;
  /** Estimated compaction backlog (bytes) at which writes wait for compaction (default 256 GiB, as RocksDB). */
  readonly hardPendingCompactionBytesLimit?: number;
  /** Size ratio between consecutive levels L(n+1)/L(n) (default 10). */
  readonly levelSizeMultiplier?: number;
  /** Target size of L1 in bytes (default 10 × targetFileSize). */
  readonly maxBytesForLevelBase?: number;
  /** Target size of a table written by compaction (default 2 MiB). */
  readonly targetFileSize?: number;
  /**
   * Which file of a level (L1 and below) a size compaction takes first (RocksDB's compaction_pri):
   * 'min-overlapping-ratio' (default, RocksDB's since 6.x) — the one whose overlap in the next
   * level over its own size (deletes counting extra) is least, so each compaction moves the most
   * bytes down for the fewest rewritten; 'round-robin' — LevelDB's rotation through the key space.
   * Measured: docs/performance/session-24.md (5–7.5% fewer bytes compacted in a 30M fill).
   */
  readonly compactionPriority?: CompactionPriority;
  /**
   * How tables are compacted (RocksDB's compaction_style). 'level' (default): leveled
   * compaction, LevelDB's — each level ~levelSizeMultiplier × the one above, a byte rewritten
   * once per level it passes. 'universal' (RocksDB's kCompactionStyleUniversal, tiered): each
   * L0 table and each non-empty level is a sorted run, and whole runs of similar size are merged
   * (compaction/universal-picker.ts) — fewer bytes written per byte flushed as the database
   * grows, at the cost of more runs for a read to look in (up to about l0CompactionTrigger plus
   * log(size) of them) and up to maxSizeAmplificationPercent % more space between full merges.
   * With 'universal', l0CompactionTrigger, l0SlowdownWritesTrigger and l0StopWritesTrigger count
   * sorted runs, not L0 tables; the level sizes, compactionPriority and the compactions for
   * deletions and reads do not apply. A database may be reopened with either style.
   */
  readonly compactionStyle?: CompactionStyle;
  /** Universal compaction's knobs (RocksDB's compaction_options_universal; see `UniversalCompactionOptions`). */
  readonly compactionOptionsUniversal?: UniversalCompactionOptions;
  /**
   * Compaction triggered by deletions (RocksDB's CompactOnDeletionCollector): a table in which
   * some `deletionCompactionWindow` consecutive entries (default 128) hold at least
   * `deletionCompactionTrigger` point deletes (default 64) is marked when written, and
   * compaction takes it as soon as no level needs compacting for size — so deleted keys stop
   * costing readers a step each and give their space back without a manual compact(). 0
   * disables the trigger. Tables whose entries are mostly deletes (≥ 1/2, counting range
   * tombstones), at least `deletionCompactionTrigger` of them, are taken as well.
   */
  readonly deletionCompactionTrigger?: number;
  /** The window of `deletionCompactionTrigger`, in table entries (default 128). */
  readonly deletionCompactionWindow?: number;
  /**
   * Read-triggered compaction (LevelDB's seek compaction): every table has an allowance of point
   * reads that looked in it without finding their key and then had to look in another table —
   * its size / `readCompactionBytesPerSeek`, at least `readCompactionMinSeeks`. A `get` that
   * probes more than one table charges the first one it probed; a table whose allowance runs out
   * is compacted into the next level as soon as no level needs compacting for size, so a long
   * read-heavy workload after a fill stops paying for the L0 tables every get passes through.
   * Default 0: off. On cached tables a wasted probe costs ~0.2 µs and a compaction for reads
   * tens of MB of writing (its L1→L2 follow-ups included), so it pays back only after millions
   * of gets (docs/performance/session-14.md: with 1 — a table compacted after as many wasted
   * probes as it has bytes — 4.2M gets after a fill that left 3 L0 tables cost 12% more CPU than
   * without; the gets after the compaction were 10–15% cheaper each, which draws level only ~8M
   * gets later, by extrapolation). 1 suits a
   * long read-heavy phase over cached tables; LevelDB's 16384 assumes a wasted probe is a disk
   * seek (tables far larger than memory on a slow disk).
   */
  readonly readCompactionBytesPerSeek?: number;
  /** The least allowance of a table for read-triggered compaction (default 100, as LevelDB). */
  readonly readCompactionMinSeeks?: number;
  /** Number of levels, L0 included (default 7). */
  readonly numLevels?: number;
  /** A MANIFEST larger than this is rewritten as a fresh snapshot (default 4 MiB). */
  readonly maxManifestFileSize?: number;
  /**
   * Most file descriptors the database holds at once (LevelDB's `max_open_files`). Ten are kept
   * for the WAL, the manifest, the LOCK, directory syncs and the tables being written, and 4 for
   * each background thread (DESCRIPTORS_PER_WORKER); the rest bound the table cache: that many
   * tables stay open, the least recently used are closed and reopened on demand (an open and a
   * close per block-cache miss on a closed table). Default: half the process's soft descriptor
   * limit, at most 10,000, where the limit can be read (Linux); 128 elsewhere (descriptor-limit.ts,
   * which says why). A process that runs out of descriptors before the database holds this many
   * does not fail its reads: the table files give some back and keep fewer open (a warning).
   */
  readonly maxOpenFiles?: number;
  /**
   * Bytes of table metadata kept in memory (default 64 MiB): the open tables' resident part (top-
   * level index, range tombstones, partition-cache slots: ~4 KB per 2 MiB table, held to at most half the
   * budget) and, in the rest, the index and filter partitions that lookups loaded (~80 KB per
   * 2 MiB table, ~2.5% of the data with the default block size: every partition of a ~1.5 GiB
   * database). Past it the least recently used partitions are dropped and re-read — one
   * partition, ~12 KB, per lookup that misses — so a larger database costs speed, not memory.
   * Counted in stats().memory.tableIndexAndFilter.
   */
  readonly tableCacheSize?: number;
  /**
   * Charge the table metadata — the cached index and filter partitions and what the open tables
   * pin (top-level indexes, range tombstones, partition-cache slots) — to the block cache as well
   * (RocksDB's cache_index_and_filter_blocks; default false, as there). It still stays within
   * tableCacheSize, but the block cache then keeps only blockCacheSize minus it of data blocks:
   * one budget, so peak memory is memtables + blockCacheSize + the process's fixed part, not
   * + tableCacheSize besides. Metadata is never evicted for data blocks (a scan cannot push it
   * out). It saves no memory that a smaller blockCacheSize would not: at 10M keys (41–44 MB of
   * metadata) the 128 MiB default then keeps ~84–87 MiB of blocks — 40 MB less RSS, 3.6% more
   * block reads per random get (docs/performance/session-12.md). What it buys is one
   * number to size: blockCacheSize bounds blocks and metadata together.
   */
  readonly cacheIndexAndFilterBlocks?: boolean;
  /**
   * Skip a level's bloom filters while they rarely reject (default true; read/filter-skipping.ts).
   * Point reads count, per level, how often the tables' filters rule a key out; a level whose
   * filters reject fewer than 1 probe in 16 — the bottom level under gets of keys that exist —
   * stops asking them (no probe, no filter partition loaded into the table cache), still asks
   * one probe in 32 to keep the estimate current, and asks again as soon as those reject 1 in 8
   * (gets of absent keys). Always correct: a filter only prunes. false: every probe asks the
   * filter (`stats().filters` still counts).
   */
  readonly skipUnhelpfulFilters?: boolean;
  /**
   * Warming of table metadata (version/table-warmer.ts). 'idle' (the default): while the
   * database is idle — no write for a quarter of a second and no flush or compaction running —
   * the current version's tables are opened and their filter and index partitions loaded, filters
   * and upper levels first, in slices of ~1 ms a turn of the event loop, within tableCacheSize and
   * maxOpenFiles and only into free room (nothing lookups loaded is pushed out); the first write
   * stops it. So the first gets after a bulk load or a restart neither open tables nor load
   * partitions (at 10M keys, ~635 tables and ~4,900 partitions: ~1 s of CPU the first 200k random
   * gets paid: docs/performance/session-21.md). 'off': tables are opened and
   * partitions loaded only by the lookups that need them. `stats().warming` reports it.
   */
  readonly warmTables?: WarmTables;
  /** The file layer; every file operation goes through it (default: node:fs). */
  readonly fs?: FileSystem;
  /**
   * Called synchronously with each background event (flush, compaction, tables and WAL segments
   * created and deleted, write stalls, background errors, survived failures): see events.ts.
   */
  readonly onEvent?: (event: StrataEvent) => void;
  /** Receives one line per notable event and every failure the engine survives (e.g. `console`). */
  readonly logger?: Logger;
  /**
   * Worker threads that run flushes and compactions, at most (default with the real file
   * system: 2 where os.availableParallelism() ≥ 2, else 1; 0 with any other `fs`). 0 runs them
   * on the main thread in ~4 ms slices; ≥ 1 needs the real file system (`nodeFileSystem`), which
   * a worker thread can recreate — an injected layer (in-memory, fault-injecting) lives in this
   * thread only. The first worker takes flushes and compactions; the others are started only
   * while compaction is behind (writes slowed for compaction — L0 at l0SlowdownWritesTrigger or
   * the backlog past softPendingCompactionBytesLimit — or the backlog past
   * `parallelCompactionBytes`: scheduler.ts, `behind()`), at a lower CPU priority, and end after
   * backgroundThreadIdleMs without a job (README, "Background threads").
   */
  readonly backgroundThreads?: number;
  /**
   * How long, ms, a background worker thread with no job waits before it ends (default 2000);
   * the next flush or compaction starts a new one (~50 ms of CPU on that thread). An idle
   * worker's isolate is ~11 MB of RSS that a database only read, or left open and unused, gives
   * back (its thread's malloc arena stays with the allocator, for the next worker). 2^31 − 1
   * keeps workers until close.
   */
  readonly backgroundThreadIdleMs?: number;
  /**
   * Compaction debt (estimated pending compaction bytes, `stats().compaction`) from which
   * automatic compactions use every background thread: cut into ranges (`maxSubcompactions`)
   * and given to more than the first worker (as they also are while writes are slowed for
   * compaction: scheduler.ts, `behind()`). Otherwise one worker does all the background work,
   * so a small or settled database holds one thread's memory (a second costs ~20 MB). Default
   * 256 MiB; 0 = always. Manual compactions (`compact()`) always use every thread.
   */
  readonly parallelCompactionBytes?: number;
  /**
   * Key ranges one compaction may be cut into and merged side by side, each in a worker thread
   * of its own (default: backgroundThreads, at least 1; 1 never cuts). A large L0→L1
   * compaction then takes a fraction of the time on as many cores. The in-thread executor runs
   * the ranges one after the other and writes the same tables as the workers for the same options.
   */
  readonly maxSubcompactions?: number;
  /**
   * Compactions that may run at the same time, on disjoint inputs (RocksDB's
   * max_background_compactions; default: 1 with backgroundThreads 0, else backgroundThreads and
   * at least 2). An L0→L1 compaction then runs beside deeper ones instead of waiting behind
   * them, and one worker merges one compaction while another waits for its fsyncs and its
   * manifest edit.
   */
  readonly maxBackgroundCompactions?: number;
}

/**
 * How long a background worker may stay idle before it ends, ms (`backgroundThreadIdleMs`).
 * A start costs ~50 ms of CPU, mostly on the new thread (measured: 42–54 ms at load 8); while writes go on, flushes come every fraction
 * of a second and the worker never idles this long, so a restart is paid at most once per pause
 * of the writers (worker-executor.ts).
 */
export const DEFAULT_BACKGROUND_THREAD_IDLE_MS = 2000;

/** Descriptors of maxOpenFiles kept for what is not a table being read (LevelDB keeps 10 too). */
export const NON_TABLE_FILES = 10;

/**
 * Descriptors of maxOpenFiles kept for each background worker thread: its own event loop (epoll,
 * eventfd and the like: 3, measured in test/open-files.test.ts's fixture) and the one compaction
 * input it has open while a readahead window is read (readahead.ts opens and closes it per read).
 * Table outputs are within NON_TABLE_FILES. Without this a second worker pushed a process capped
 * at 64 descriptors with maxOpenFiles 32 over its cap (EMFILE, docs/performance/session-08.md).
 */
export const DESCRIPTORS_PER_WORKER = 4;

/**
 * Table descriptors the table cache may hold open: maxOpenFiles less the other files' and those
 * of `workers` background threads (a read-only open runs none). At least 1: a maxOpenFiles too
 * small for the workers (validation asks only NON_TABLE_FILES + 1) keeps one table open and may
 * then exceed its bound by their descriptors.
 */
export function tableDescriptors(maxOpenFiles: number, workers: number): number {
  return Math.max(1, maxOpenFiles - NON_TABLE_FILES - DESCRIPTORS_PER_WORKER * workers);
}

/**
 * The default of `backgroundThreads` with the real file system: 2 where there are two cores or
 * more, else 1. The first worker does every flush and, while the tree keeps up, every compaction;
 * the second starts only while compaction is behind (scheduler.ts, RocksDB's speed-up rule) and
 * ends after backgroundThreadIdleMs without a job, so a database that keeps up never starts it.
 */
function defaultBackgroundThreads(): number {
  return availableParallelism() >= 2 ? 2 : 1;
}

export interface ResolvedOptions {
  readonly readOnly: boolean;
  /** Milliseconds between a follower's catch-ups; 0: none (db/follower.ts). */
  readonly followInterval: number;
  readonly createIfMissing: boolean;
  readonly errorIfExists: boolean;
  readonly memtableSize: number;
  /** ≥ memtableSize (write/freeze-size.ts). */
  readonly maxMemtableSize: number;
  readonly sync: boolean;
  readonly walRecovery: WalRecoveryMode;
  readonly blockSize: number;
  readonly blockRestartInterval: number;
  /** The codec for each level, numLevels entries. */
  readonly compression: readonly CompressionName[];
  /** The codec of bottommost compaction outputs; undefined: that of their level. */
  readonly bottommostCompression: CompressionName | undefined;
  readonly bloomBitsPerKey: number;
  readonly metadataBlockSize: number;
  readonly blockCacheSize: number;
  readonly l0CompactionTrigger: number;
  readonly l0SlowdownWritesTrigger: number;
  readonly l0StopWritesTrigger: number;
  readonly maxFrozenMemtables: number;
  readonly minMemtablesToMerge: number;
  readonly writeQueueSize: number;
  readonly softPendingCompactionBytesLimit: number;
  readonly hardPendingCompactionBytesLimit: number;
  readonly levelSizeMultiplier: number;
  readonly maxBytesForLevelBase: number;
  readonly targetFileSize: number;
  readonly compactionPriority: CompactionPriority;
  readonly compactionStyle: CompactionStyle;
  readonly universal: UniversalOptions;
  /** Undefined: tables are never marked for compaction by their deletes. */
  readonly deletionTrigger: DeletionTrigger | undefined;
  /** 0: no read-triggered compaction. */
  readonly readCompactionBytesPerSeek: number;
  readonly readCompactionMinSeeks: number;
  readonly numLevels: number;
  readonly maxManifestFileSize: number;
  readonly maxOpenFiles: number;
  readonly tableCacheSize: number;
  readonly cacheIndexAndFilterBlocks: boolean;
  readonly skipUnhelpfulFilters: boolean;
  readonly warmTables: WarmTables;
  readonly fs: FileSystem;
  readonly onEvent: ((event: StrataEvent) => void) | undefined;
  readonly logger: Logger | undefined;
  readonly backgroundThreads: number;
  readonly backgroundThreadIdleMs: number;
  readonly parallelCompactionBytes: number;
  readonly maxSubcompactions: number;
  readonly maxBackgroundCompactions: number;
}

/**
 * Every name DatabaseOptions has: `Database.open` rejects any other (option-names.ts). Adding
 * an option to DatabaseOptions without listing it here fails typecheck (see below).
 */
export const DATABASE_OPTION_NAMES = [
  'readOnly',
  'followInterval',
  'createIfMissing',
  'errorIfExists',
  'memtableSize',
  'maxMemtableSize',
  'sync',
  'walRecovery',
  'blockSize',
  'blockRestartInterval',
  'compression',
  'bottommostCompression',
  'bloomBitsPerKey',
  'metadataBlockSize',
  'blockCacheSize',
  'l0CompactionTrigger',
  'l0SlowdownWritesTrigger',
  'l0StopWritesTrigger',
  'maxFrozenMemtables',
  'minMemtablesToMerge',
  'writeQueueSize',
  'softPendingCompactionBytesLimit',
  'hardPendingCompactionBytesLimit',
  'levelSizeMultiplier',
  'maxBytesForLevelBase',
  'targetFileSize',
  'compactionPriority',
  'compactionStyle',
  'compactionOptionsUniversal',
  'deletionCompactionTrigger',
  'deletionCompactionWindow',
  'readCompactionBytesPerSeek',
  'readCompactionMinSeeks',
  'numLevels',
  'maxManifestFileSize',
  'maxOpenFiles',
  'tableCacheSize',
  'cacheIndexAndFilterBlocks',
  'skipUnhelpfulFilters',
  'warmTables',
  'fs',
  'onEvent',
  'logger',
  'backgroundThreads',
  'backgroundThreadIdleMs',
  'parallelCompactionBytes',
  'maxSubcompactions',
  'maxBackgroundCompactions',
] as const satisfies readonly (keyof DatabaseOptions)[];
// A compile-time check that the list is complete: typecheck names any option missing from it.
type UnlistedOption = Exclude<keyof DatabaseOptions, (typeof DATABASE_OPTION_NAMES)[number]>;
const _everyOptionListed: [UnlistedOption] extends [never] ? true : UnlistedOption = true;

const RECOVERY_MODES: readonly WalRecoveryMode[] = ['tolerate-corrupted-tail', 'absolute-consistency', 'point-in-time', 'skip-any-corrupted'];

function int(name: string, v: unknown, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new StrataError('INVALID_ARGUMENT', `option ${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

function describe(v: unknown): string {
  return typeof v === 'object' && v !== null ? 'an object' : typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * The default codecs, chosen by measurement (README, "Compression"): lz4 is several times faster
 * than snappyjs both ways at the same ratio, and fails fast on incompressible data; deflate
 * shrinks JSON by another 20% but costs ~4× lz4's CPU to write, and ~10× to attempt on
 * incompressible data. L0 stays raw: flushes are on the write path and L0 is compacted soon.
 */
export const DEFAULT_COMPRESSION: readonly CompressionName[] = ['none', 'lz4'];

/** minMemtablesToMerge's default (README, "Write path, stalls and flush": why). */
const DEFAULT_MIN_MEMTABLES_TO_MERGE = 1;

function codec(name: string, v: unknown): CompressionName {
  if (!isCompressionName(v)) throw new StrataError('INVALID_ARGUMENT', `option ${name} must be one of ${COMPRESSION_NAMES.join(', ')}, got ${describe(v)}`);
  return v;
}

function compressionPerLevel(v: unknown, numLevels: number): CompressionName[] {
  if (v === undefined) return compressionPerLevel(DEFAULT_COMPRESSION, numLevels);
  if (typeof v === 'string') {
    const name = codec('compression', v);
    return Array.from({ length: numLevels }, () => name);
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > numLevels) {
    throw new StrataError('INVALID_ARGUMENT', `option compression must be a codec name or an array of 1 to numLevels (${numLevels}) of them, got ${describe(v)}`);
  }
  const names = v.map((n: unknown, level) => codec(`compression[${level}]`, n));
  const last = names.at(-1)!;
  return Array.from({ length: numLevels }, (_, level) => names[level] ?? last);
}

/**
 * The codec of a table written to `level`; `bottommost`: by a compaction with nothing older
 * below its output (flushes never are: L0 is not where data rests).
 */
export function compressionFor(opts: Pick<ResolvedOptions, 'compression' | 'bottommostCompression'>, level: number, bottommost: boolean): CompressionName {
  if (bottommost && opts.bottommostCompression !== undefined) return opts.bottommostCompression;
  return opts.compression[Math.min(level, opts.compression.length - 1)]!;
}

function oneOf<T extends string>(name: string, v: unknown, valid: readonly T[], def: T): T {
  if (v === undefined) return def;
  if (!valid.includes(v as T)) throw new StrataError('INVALID_ARGUMENT', `option ${name} must be one of ${valid.join(', ')}, got ${describe(v)}`);
  return v as T;
}

function bool(name: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new StrataError('INVALID_ARGUMENT', `option ${name} must be a boolean, got ${describe(v)}`);
  return v;
}

function deletionTriggerOf(opts: DatabaseOptions): DeletionTrigger | undefined {
  const windowSize = int('deletionCompactionWindow', opts.deletionCompactionWindow, 128, 1, 1 << 20);
  const deletions = int('deletionCompactionTrigger', opts.deletionCompactionTrigger, Math.min(64, windowSize), 0, windowSize);
  return deletions === 0 ? undefined : { windowSize, deletions };
}

const UNIVERSAL_OPTION_NAMES = ['sizeRatio', 'minMergeWidth', 'maxMergeWidth', 'maxSizeAmplificationPercent'];

function universalOptionsOf(v: UniversalCompactionOptions | undefined): UniversalOptions {
  if (v === undefined) return DEFAULT_UNIVERSAL_OPTIONS;
  const raw: unknown = v;
  if (typeof raw !== 'object' || raw === null) throw new StrataError('INVALID_ARGUMENT', `option compactionOptionsUniversal must be an object, got ${describe(raw)}`);
  rejectUnknownOptions(v, UNIVERSAL_OPTION_NAMES, 'compactionOptionsUniversal');
  const d = DEFAULT_UNIVERSAL_OPTIONS;
  const minMergeWidth = int('compactionOptionsUniversal.minMergeWidth', v.minMergeWidth, d.minMergeWidth, 2, 2 ** 31 - 1);
  const maxMergeWidth = int('compactionOptionsUniversal.maxMergeWidth', v.maxMergeWidth, d.maxMergeWidth, 2, 2 ** 31 - 1);
  if (maxMergeWidth < minMergeWidth) {
    throw new StrataError('INVALID_ARGUMENT', `option compactionOptionsUniversal.maxMergeWidth (${maxMergeWidth}) must be at least minMergeWidth (${minMergeWidth})`);
  }
  return {
    sizeRatio: int('compactionOptionsUniversal.sizeRatio', v.sizeRatio, d.sizeRatio, 0, 1_000_000),
    minMergeWidth,
    maxMergeWidth,
    maxSizeAmplificationPercent: int('compactionOptionsUniversal.maxSizeAmplificationPercent', v.maxSizeAmplificationPercent, d.maxSizeAmplificationPercent, 0, 1_000_000),
  };
}

export function resolveOptions(o: DatabaseOptions | undefined): ResolvedOptions {
  const raw: unknown = o;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) {
    throw new StrataError('INVALID_ARGUMENT', 'options must be an object');
  }
  const opts = o ?? {};
  rejectUnknownOptions(opts, DATABASE_OPTION_NAMES, 'Database.open options');
  const walRecovery = oneOf('walRecovery', opts.walRecovery, RECOVERY_MODES, 'tolerate-corrupted-tail');
  const fs = opts.fs ?? nodeFileSystem;
  if (typeof fs !== 'object' || typeof (fs as Partial<FileSystem>).openSync !== 'function') {
    throw new StrataError('INVALID_ARGUMENT', 'option fs must implement the FileSystem interface');
  }
  if (opts.onEvent !== undefined && typeof opts.onEvent !== 'function') throw new StrataError('INVALID_ARGUMENT', `option onEvent must be a function, got ${describe(opts.onEvent)}`);
  const logger: unknown = opts.logger;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || !(['info', 'warn', 'error'] as const).every((m) => typeof (logger as Record<string, unknown>)[m] === 'function'))) {
    throw new StrataError('INVALID_ARGUMENT', 'option logger must have info, warn and error methods (console does)');
  }
  const backgroundThreads = int('backgroundThreads', opts.backgroundThreads, crossesThreads(fs) ? defaultBackgroundThreads() : 0, 0, 64);
  if (backgroundThreads > 0 && !crossesThreads(fs)) {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `option backgroundThreads must be 0 with a custom fs: worker threads recreate the real file system (nodeFileSystem) and cannot use one that lives in this thread, got ${backgroundThreads}`,
    );
  }
  const targetFileSize = int('targetFileSize', opts.targetFileSize, 2 * 1024 * 1024, 1024);
  const l0CompactionTrigger = int('l0CompactionTrigger', opts.l0CompactionTrigger, 4, 1, 1000);
  // 40 / 72, twice RocksDB's 20 / 36 (README, "Write path, stalls and flush"): L0 absorbs
  // bursts, and an L0→L1 compaction, which under random keys rewrites all of L1, takes more L0
  // bytes at once — and Strata's L0 tables (4 MiB memtables) hold a sixteenth of RocksDB's.
  const l0SlowdownWritesTrigger = int('l0SlowdownWritesTrigger', opts.l0SlowdownWritesTrigger, Math.max(40, l0CompactionTrigger * 2), 1, 10_000);
  const numLevels = int('numLevels', opts.numLevels, 7, 2, 20);
  const l0StopWritesTrigger = int('l0StopWritesTrigger', opts.l0StopWritesTrigger, Math.max(72, l0SlowdownWritesTrigger + 4), 1, 10_000);
  let minMemtablesToMerge = int('minMemtablesToMerge', opts.minMemtablesToMerge, DEFAULT_MIN_MEMTABLES_TO_MERGE, 1, 16);
  // Writes wait at maxFrozenMemtables frozen: below minMemtablesToMerge a flush would wait for
  // memtables that never come, and at it every merged flush stops writes for its whole length.
  const maxFrozenMemtables = int('maxFrozenMemtables', opts.maxFrozenMemtables, minMemtablesToMerge + 1, 1, 64);
  if (maxFrozenMemtables < minMemtablesToMerge) {
    if (opts.minMemtablesToMerge !== undefined) {
      throw new StrataError('INVALID_ARGUMENT', `option maxFrozenMemtables (${maxFrozenMemtables}) must be at least minMemtablesToMerge (${minMemtablesToMerge}): writes wait at maxFrozenMemtables frozen memtables, a flush for minMemtablesToMerge`);
    }
    // Only maxFrozenMemtables given: the default merges no more than it allows (as RocksDB sanitizes).
    minMemtablesToMerge = maxFrozenMemtables;
  }
  const memtableSize = int('memtableSize', opts.memtableSize, 4 * 1024 * 1024, 1024, 2 ** 31);
  const maxMemtableSize = int('maxMemtableSize', opts.maxMemtableSize, Math.min(4 * memtableSize, 2 ** 31), 1024, 2 ** 31);
  if (maxMemtableSize < memtableSize) {
    throw new StrataError('INVALID_ARGUMENT', `option maxMemtableSize (${maxMemtableSize}) must be at least memtableSize (${memtableSize}): memtables start at memtableSize and grow up to it`);
  }
  const readOnly = bool('readOnly', opts.readOnly, false);
  const followInterval = int('followInterval', opts.followInterval, 0, 0, 2 ** 31 - 1);
  if (followInterval > 0 && !readOnly) throw new StrataError('INVALID_ARGUMENT', 'option followInterval needs readOnly: true (a follower reads what another process writes)');
  if (readOnly && (opts.createIfMissing === true || opts.errorIfExists === true)) {
    throw new StrataError('INVALID_ARGUMENT', `option ${opts.createIfMissing === true ? 'createIfMissing' : 'errorIfExists'} cannot be combined with readOnly: a read-only open creates nothing`);
  }
  return {
    readOnly,
    followInterval,
    createIfMissing: !readOnly && bool('createIfMissing', opts.createIfMissing, true),
    errorIfExists: bool('errorIfExists', opts.errorIfExists, false),
    memtableSize,
    maxMemtableSize,
    sync: bool('sync', opts.sync, false),
    walRecovery,
    blockSize: int('blockSize', opts.blockSize, 4096, 256, 16 * 1024 * 1024),
    blockRestartInterval: int('blockRestartInterval', opts.blockRestartInterval, 16, 1, 1024),
    compression: compressionPerLevel(opts.compression, numLevels),
    bottommostCompression: opts.bottommostCompression === undefined ? undefined : codec('bottommostCompression', opts.bottommostCompression),
    bloomBitsPerKey: int('bloomBitsPerKey', opts.bloomBitsPerKey, 10, 0, 64),
    metadataBlockSize: int('metadataBlockSize', opts.metadataBlockSize, 4096, 1, 16 * 1024 * 1024),
    blockCacheSize: int('blockCacheSize', opts.blockCacheSize, 128 * 1024 * 1024, 0),
    l0CompactionTrigger,
    l0SlowdownWritesTrigger,
    l0StopWritesTrigger,
    maxFrozenMemtables,
    minMemtablesToMerge,
    writeQueueSize: int('writeQueueSize', opts.writeQueueSize, 16 * 1024 * 1024, 0),
    softPendingCompactionBytesLimit: int('softPendingCompactionBytesLimit', opts.softPendingCompactionBytesLimit, 64 * 2 ** 30, 1),
    hardPendingCompactionBytesLimit: int('hardPendingCompactionBytesLimit', opts.hardPendingCompactionBytesLimit, 256 * 2 ** 30, 1),
    levelSizeMultiplier: int('levelSizeMultiplier', opts.levelSizeMultiplier, 10, 2, 1000),
    maxBytesForLevelBase: int('maxBytesForLevelBase', opts.maxBytesForLevelBase, 10 * targetFileSize, 1024),
    targetFileSize,
    compactionPriority: oneOf('compactionPriority', opts.compactionPriority, COMPACTION_PRIORITIES, DEFAULT_COMPACTION_PRIORITY),
    compactionStyle: oneOf('compactionStyle', opts.compactionStyle, COMPACTION_STYLES, 'level'),
    universal: universalOptionsOf(opts.compactionOptionsUniversal),
    deletionTrigger: deletionTriggerOf(opts),
    readCompactionBytesPerSeek: int('readCompactionBytesPerSeek', opts.readCompactionBytesPerSeek, 0, 0),
    readCompactionMinSeeks: int('readCompactionMinSeeks', opts.readCompactionMinSeeks, 100, 1, 2 ** 31 - 1),
    numLevels,
    maxManifestFileSize: int('maxManifestFileSize', opts.maxManifestFileSize, 4 * 1024 * 1024, 1024),
    // The default reads /proc/self/limits: only when it is needed.
    maxOpenFiles: int('maxOpenFiles', opts.maxOpenFiles, opts.maxOpenFiles === undefined ? defaultMaxOpenFiles(NON_TABLE_FILES + 1) : 0, NON_TABLE_FILES + 1),
    tableCacheSize: int('tableCacheSize', opts.tableCacheSize, 64 * 1024 * 1024, 0),
    cacheIndexAndFilterBlocks: bool('cacheIndexAndFilterBlocks', opts.cacheIndexAndFilterBlocks, false),
    skipUnhelpfulFilters: bool('skipUnhelpfulFilters', opts.skipUnhelpfulFilters, true),
    warmTables: oneOf('warmTables', opts.warmTables, WARM_TABLES_MODES, 'idle'),
    fs,
    onEvent: opts.onEvent,
    logger: opts.logger,
    backgroundThreads,
    backgroundThreadIdleMs: int('backgroundThreadIdleMs', opts.backgroundThreadIdleMs, DEFAULT_BACKGROUND_THREAD_IDLE_MS, 0, 2 ** 31 - 1),
    parallelCompactionBytes: int('parallelCompactionBytes', opts.parallelCompactionBytes, 256 * 1024 * 1024, 0),
    maxSubcompactions: int('maxSubcompactions', opts.maxSubcompactions, Math.max(1, backgroundThreads), 1, 64),
    maxBackgroundCompactions: int('maxBackgroundCompactions', opts.maxBackgroundCompactions, backgroundThreads === 0 ? 1 : Math.max(2, backgroundThreads), 1, 64),
  };
}
