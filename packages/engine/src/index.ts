/**
 * @strata-db/engine — an embedded, durable, ordered key-value store (LSM tree) for Node.js.
 * The public face only; see README.md for the API, the guarantees and the on-disk formats.
 */
export { Database, type IteratorOptions, type ReadOptions } from './db/database.js';
export type { RecoveryInfo } from './db/open.js';
export type { CatchUpResult } from './db/follower.js';
export type { CheckpointReport } from './db/checkpoint.js';
export type { DestroyReport } from './db/destroy.js';
export type { LostFile, RepairReport, RepairedTable } from './db/repair.js';
export { StrataError, type StrataErrorCode } from './errors.js';
export { tableFileName } from './db/filenames.js';
export type { Logger, StrataEvent, StrataEventType, TableReason } from './events.js';
export { nodeFileSystem, type FileSystem, type OpenFlags } from '@strata-db/vfs';
export { MAX_BATCH_SIZE, MAX_KEY_SIZE, MAX_VALUE_SIZE } from './keys.js';
export { readManifestHistory, type ManifestHistory, type ManifestRecord } from './manifest/history.js';
export { DATABASE_OPTION_NAMES, type CompactionStyle, type DatabaseOptions, type UniversalCompactionOptions, type WalRecoveryMode } from './options.js';
export type { CompressionName } from '@strata-db/sstable-core';
// For adapters that mix their own options with the engine's (@strata-db/level).
export { rejectMisspeltOptions } from './option-names.js';
export type { FileMetadata } from './version/file-metadata.js';
export type { DbIterator, Entry } from './read/db-iterator.js';
export { Snapshot } from './snapshots.js';
export type { Counters } from './counters.js';
export type { DatabaseStats, LevelFileStats, LevelStats, MemoryStats } from './stats.js';
export type { WorkerMemory } from './background/protocol.js';
export type { TableCacheStats } from './version/table-cache.js';
export type { WarmTables, WarmingStats } from './version/table-warmer.js';
export type { CompactionPriority } from './compaction/picker.js';
export type { LevelFilterStats } from './read/filter-skipping.js';
export { WriteBatch, type KeyLike, type WriteOptions } from './write/write-batch.js';
export type { DamagedFile, VerifiedFileKind, VerifyOptions, VerifyProgress, VerifyReport } from './verify.js';
