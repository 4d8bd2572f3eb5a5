/**
 * The two kinds of background job, described as plain data so that either executor can run
 * them — the in-thread one (in-thread-executor.ts) and a worker thread (worker-executor.ts,
 * worker-entry.ts) — and get byte-identical tables.
 *
 * A job is only the part of a flush or compaction that reads and writes table files: build
 * the tables, fsync them, fsync the directory. Everything that must be serialised stays with
 * the caller on the main thread: picking, file numbers, the manifest edit, installing the
 * Version, deleting files, write stalls.
 */
import type { DeletionTrigger } from '@strata-db/sstable-builder';
import type { CompressionName } from '@strata-db/sstable-core';
import type { CollapseCounters } from '../compaction/compaction-iterator.js';
import type { CompactionInput } from '../compaction/compaction.js';
import type { KeyRange } from '../compaction/key-range.js';
import type { GrandparentBoundaries } from '../compaction/output-splitter.js';
import { compressionFor, type ResolvedOptions } from '../options.js';
import type { FileMetadata } from '../version/file-metadata.js';

/** How tables are written: the TableBuilder settings, serialisable. */
export interface TableSettings {
  readonly blockSize: number;
  /** Entries between a data block's restart points; absent: the builder's default (16). */
  readonly restartInterval?: number;
  readonly bloomBitsPerKey: number;
  readonly metadataBlockSize: number;
  readonly compression: CompressionName;
  /** Marks tables dense with deletes (options.ts, deletionCompactionTrigger); absent: never. */
  readonly deletionTrigger?: DeletionTrigger;
}

/**
 * The settings for a table written at `level`: the codec follows `compression` (per level) and
 * `bottommostCompression` (where the data comes to rest), as compressionFor says.
 */
export function tableSettingsOf(opts: ResolvedOptions, level: number, bottommost: boolean): TableSettings {
  const settings = {
    blockSize: opts.blockSize,
    restartInterval: opts.blockRestartInterval,
    bloomBitsPerKey: opts.bloomBitsPerKey,
    metadataBlockSize: opts.metadataBlockSize,
    compression: compressionFor(opts, level, bottommost),
  };
  return opts.deletionTrigger === undefined ? settings : { ...settings, deletionTrigger: opts.deletionTrigger };
}

/** Flush: one frozen memtable → one L0 table (every version, nothing collapsed). */
export interface FlushJob {
  readonly dir: string;
  readonly fileNumber: number;
  readonly table: TableSettings;
  /** Recorded in the table's properties (ms since the epoch): an input, so both executors agree. */
  readonly createdAt: number;
}

/** The merge of a compaction: inputs → collapsed output tables, written and fsynced. */
export interface CompactionJob {
  readonly dir: string;
  readonly inputs: readonly CompactionInput[];
  /**
   * A subcompaction (compaction/subcompactions.ts) merges only user keys in [lo, hi) (absent:
   * unbounded); its inputs then hold no range tombstones.
   */
  readonly lo?: Uint8Array;
  readonly hi?: Uint8Array;
  readonly outputLevel: number;
  /**
   * Files of outputLevel + 1 overlapping the job's keys (output tables are cut to limit
   * overlap), as the splitter reads them: largest keys and sizes (output-splitter.ts).
   */
  readonly grandparents: GrandparentBoundaries;
  /**
   * What lies below the output level, for "may older data exist below?": sorted, disjoint key
   * spans (compaction.ts, jobLevelsBelow: the union of the deeper levels' files within the job's
   * range); empty when nothing does.
   */
  readonly below: readonly KeyRange[];
  /** Live snapshot sequence numbers, read when the job started. */
  readonly snapshots: readonly number[];
  /** File numbers for the outputs, allocated by the caller; more are asked for when they run out. */
  readonly fileNumbers: readonly number[];
  readonly targetFileSize: number;
  readonly table: TableSettings;
  /** Recorded in every output's properties (ms since the epoch). */
  readonly createdAt: number;
}

export interface CompactionJobResult {
  /** Output tables, in key order, durable (file and directory fsynced). */
  readonly outputs: readonly FileMetadata[];
  readonly counters: CollapseCounters;
  /** Longest stretch of synchronous work between two yields (0 in a worker: it never yields). */
  readonly maxSliceMs: number;
  /** Read calls that reached the file layer (readahead: one per window, not per block). */
  readonly reads: number;
}

/**
 * File numbers a compaction gets up front: one per `targetFileSize` of input, plus one (the
 * outputs are cut at the target, or earlier to limit grandparent overlap; when they run out
 * the job asks for more). The same for both executors, so they number outputs alike.
 */
export function initialOutputNumbers(inputBytes: number, targetFileSize: number): number {
  return Math.ceil(inputBytes / targetFileSize) + 1;
}
