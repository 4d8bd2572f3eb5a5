/**
 * The table-writing half of a compaction, shared by both executors: merge the inputs, collapse
 * versions (CompactionIterator), cut and write the output tables (OutputSplitter, OutputWriter,
 * TableBuilder), fsync them and the directory. The caller (compaction/job.ts, on the main
 * thread) made the pick and records the result in one manifest edit.
 *
 * Inputs are opened here, through a ReadaheadFileSystem and WITHOUT the block cache: each
 * table is read front to back in large windows (all of them together within a fixed budget,
 * however many L0 tables the job merges: readahead.ts, readaheadWindowBytes), and the blocks a compaction reads once never
 * push the read path's hot blocks out of the cache. Tables are closed when the job ends. The
 * table iterators read one block at a time (`readahead: false`): the layer's window is the
 * readahead, and runs of their own (up to 256 KiB each) would copy it into a second buffer per
 * input — measured on a 1M fillrandom, the worker's ArrayBuffers at the peak 15–20 → 6–8 MB
 * (with paced collections, garbage-pace.ts). Each table iterator reads its blocks into a ring of
 * BLOCK_RING recycled buffers (sstable-iterators' block-ring.ts) instead of a fresh buffer per
 * block, and rewrites one entry in place on every move (`reuseEntry`: no entry object and no
 * key copy per version): the collapse hands each version on before its input moves
 * (compaction-iterator.ts), and the output writer and the table builder copy what they keep.
 *
 * On failure every output written so far is abandoned (deleted) and the error thrown: the
 * inputs are untouched and the database unchanged.
 */
import { compareKeys, type InternalIterator, type RangeTombstone } from '@strata-db/memtable';
import { TableBuilder } from '@strata-db/sstable-builder';
import { PartitionCache, Table } from '@strata-db/sstable-core';
import { TableIterator } from '@strata-db/sstable-iterators';
import { tablePath } from '../db/filenames.js';
import { toStrataError } from '../errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { invariant } from '@strata-db/errors';
import { CompactionIterator } from '../compaction/compaction-iterator.js';
import { olderDataBelowLevels } from '../compaction/compaction.js';
import { LevelIterator } from '../compaction/level-iterator.js';
import { OutputSplitter } from '../compaction/output-splitter.js';
import { OutputWriter } from '../compaction/output-writer.js';
import { maxGrandparentOverlapBytes } from '../compaction/picker.js';
import { MergingIterator } from '../read/merging-iterator.js';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
import type { CompactionJob, CompactionJobResult } from './jobs.js';
import { ReadaheadFileSystem, readaheadWindowBytes } from './readahead.js';

/**
 * Block buffers per input table iterator (8 KiB each): a value is valid for BLOCK_RING - 1 moves
 * of its iterator, and one is enough — the collapse hands a version to the output, which copies
 * it, before its input moves (compaction-iterator.ts). 8 since session 8 (docs/performance/
 * session-08.md, "compaction"); 2 since session 21: every L0 input holds its ring for the whole
 * merge, so 8 slots were 64 KiB per L0 table (3.4 MB for the 53 inputs of one range of an
 * L0→L1 at 30M keys, twice over on a worker running both ranges), 2 are 16 KiB.
 */
const BLOCK_RING = 2;

/**
 * The bytes of unpacked index partitions one job keeps, all its inputs together. A table opened
 * without a partition cache keeps every partition it loads until it is closed, and an L0 input
 * stays open for the whole job: read front to back, each L0 table's whole index (16 partitions,
 * ~180 KB, for a 10.8 MB table of 93,000 entries) ended up resident, times the L0 tables merged (40–70 under random writes at
 * 30M–100M keys), times the ranges of a subcompaction a worker runs side by side — the job's
 * memory grew with L0 (docs/performance/session-21.md). The merge needs one partition
 * per input at a time; one cache per job, CLOCK-evicted, bounds them. 1 MiB holds the current
 * partition of ~90 inputs (an index partition of a 4 KiB `metadataBlockSize` unpacks to ~11 KB;
 * with more inputs than that, one that comes back to an evicted partition reads it again: CPU,
 * not memory). The L1+ inputs, open one at a time, share it too.
 * No filter is loaded: a merge never asks one.
 */
export const JOB_PARTITION_CACHE_BYTES = 1024 * 1024;

export interface CompactionHost {
  readonly fs: FileSystem;
  /** More output file numbers, when the ones the job came with ran out. */
  moreFileNumbers(count: number): readonly number[] | Promise<readonly number[]>;
  /** Throws to abort the job (the database is closing). */
  checkAbort(): void;
  /** Synchronous work between two calls of `yieldNow`. */
  readonly sliceMs: number;
  /** Lets other work run (setImmediate on the main thread; nothing to wait for in a worker). */
  yieldNow(): Promise<void>;
  /** A failure the job survives (an output it could not abandon): reported, not thrown. */
  readonly warn?: (message: string, err: unknown) => void;
  /** A worker's paced garbage collection, run as the job's reads allocate (garbage-pace.ts). */
  readonly collectGarbage?: () => void;
  /** The bytes of index partitions the job keeps (default JOB_PARTITION_CACHE_BYTES; tests shrink it). */
  readonly partitionCacheBytes?: number;
}

export async function mergeCompaction(job: CompactionJob, host: CompactionHost): Promise<CompactionJobResult> {
  // Open at once: every L0 input (merge children side by side) and one table per sorted level.
  let openAtOnce = 0;
  for (const input of job.inputs) openAtOnce += input.level === 0 ? input.files.length : 1;
  const readahead = new ReadaheadFileSystem(host.fs, readaheadWindowBytes(openAtOnce), host.collectGarbage);
  // Tables this job holds open. Descriptors stay bounded (maxOpenFiles, `ulimit -n`): the L0
  // inputs (merge children, overlapping) are open together, but a sorted level holds one table
  // at a time, and a table opened only for its range tombstones is closed at once.
  const opened = new Set<Table>();
  const partitions = new PartitionCache(host.partitionCacheBytes ?? JOB_PARTITION_CACHE_BYTES);
  // The outputs being built, to abandon if the job fails; once a table is finished only its
  // path is kept (to remove it then). A finished builder and its TableMeta (the properties) are
  // ~4.4 KB of heap, and an L0→L1 writes one table per 2 MiB of L1 — which grows with the tree
  // (~500 outputs at 100M keys: ~2 MB per job, held to its end).
  const building = new Set<TableBuilder>();
  const written: string[] = [];
  const numbers = [...job.fileNumbers];
  let maxSlice = 0;
  const close = (t: Table): void => {
    opened.delete(t);
    try {
      t.close();
    } catch {
      // closing an input we only read cannot fail in a way that matters
    }
  };
  // A subcompaction reads only its key range [lo, hi) of each input.
  const bounds = { ...(job.lo === undefined ? {} : { lower: job.lo }), ...(job.hi === undefined ? {} : { upper: job.hi }) };
  try {
    const open = (f: FileMetadata): Table => {
      const path = tablePath(job.dir, f.fileNumber);
      try {
        const t = Table.open(path, { fs: readahead, partitions, fileNumber: f.fileNumber });
        opened.add(t);
        return t;
      } catch (err) {
        throw toStrataError(err, `cannot open table ${path}`, path);
      }
    };
    /** For one sorted level: opens its tables in turn, closing the one before (LevelIterator only moves forward here). */
    const levelOpener = (): ((f: FileMetadata) => InternalIterator) => {
      let current: Table | undefined;
      return (f) => {
        if (current !== undefined) close(current);
        current = open(f);
        return new TableIterator(current, { ...bounds, readahead: false, blockRing: BLOCK_RING, reuseEntry: true });
      };
    };
    const children: InternalIterator[] = [];
    const tombstones: RangeTombstone[] = [];
    let sliceStart = performance.now();
    for (const input of job.inputs) {
      for (const f of input.files) {
        // L0 files overlap: one merge child each, opened now. L1+ tables open lazily as the
        // merge reaches them; their range tombstones are needed up front.
        if (input.level === 0) {
          const table = open(f);
          children.push(new TableIterator(table, { ...bounds, readahead: false, blockRing: BLOCK_RING, reuseEntry: true }));
          if (f.tombstoneCount > 0) tombstones.push(...table.rangeTombstones());
        } else if (f.tombstoneCount > 0) {
          const table = open(f);
          try {
            tombstones.push(...table.rangeTombstones());
          } finally {
            close(table);
          }
        }
        if (performance.now() - sliceStart >= host.sliceMs) {
          maxSlice = Math.max(maxSlice, performance.now() - sliceStart);
          host.checkAbort();
          await host.yieldNow();
          sliceStart = performance.now();
        }
      }
      if (input.level > 0) children.push(new LevelIterator(input.files, levelOpener()));
    }
    invariant((job.lo === undefined && job.hi === undefined) || tombstones.length === 0, 'a subcompaction has no range tombstones in its inputs');
    const sharedPrefix = inputsSharedPrefix(job);
    const iter = new CompactionIterator(new MergingIterator(children, { sharedPrefix }), tombstones, {
      snapshots: job.snapshots,
      olderDataBelow: olderDataBelowLevels([job.below]),
      sharedPrefix,
    });
    const splitter = new OutputSplitter({
      targetFileSize: job.targetFileSize,
      grandparents: job.grandparents,
      maxGrandparentOverlapBytes: maxGrandparentOverlapBytes({ targetFileSize: job.targetFileSize }),
    });
    const writer = new OutputWriter<TableBuilder, FileMetadata>(iter, splitter, {
      open: () => {
        const fileNumber = numbers.shift();
        if (fileNumber === undefined) throw new Error('internal error: a compaction ran out of output file numbers');
        const b = new TableBuilder(tablePath(job.dir, fileNumber), { fs: host.fs, fileNumber, createdAt: job.createdAt, ...job.table });
        building.add(b);
        return b;
      },
      finish: async (b) => {
        const meta = fileMetadataOf(await b.finish());
        building.delete(b);
        written.push(b.path);
        return meta;
      },
      sliceMs: host.sliceMs,
      // Every table opened takes a number: have one ready before the writer can open the next.
      yieldNow: async () => {
        if (numbers.length === 0) numbers.push(...(await host.moreFileNumbers(2)));
        await host.yieldNow();
      },
      checkAbort: () => {
        host.checkAbort();
      },
    });
    maxSlice = Math.max(maxSlice, performance.now() - sliceStart);
    const finished = await writer.run();
    // The inclusive range (output-splitter.ts): a tombstone piece cut at successor(k) ends the range at k.
    const outputs = finished.map(({ meta, range }) => fileMetadataOf(meta, range));
    if (outputs.length > 0) await host.fs.fsyncDir(job.dir);
    return { outputs, counters: iter.counters, maxSliceMs: Math.max(maxSlice, writer.maxSliceMs), reads: readahead.reads };
  } catch (err) {
    for (const b of building) {
      try {
        b.abandon();
      } catch (abandonErr) {
        // The compaction's own error is what matters; an output left behind is an orphan,
        // removed at the next open.
        host.warn?.('abandoning an unfinished compaction output failed (it is removed at the next open)', abandonErr);
      }
    }
    for (const path of written) {
      try {
        host.fs.unlinkSync(path);
      } catch (unlinkErr) {
        if ((unlinkErr as { code?: unknown } | null)?.code !== 'ENOENT') host.warn?.('removing an output of a failed compaction failed (it is removed at the next open)', unlinkErr);
      }
    }
    throw err;
  } finally {
    for (const t of [...opened]) close(t);
    readahead.release();
  }
}

/**
 * How many leading bytes every point key of the job's inputs shares: the common prefix of the
 * smallest and the largest key over all input files (every key between two keys starts with
 * their common prefix; a largest key that is a tombstone's exclusive end still bounds the
 * points). The merge compares keys after it (MergingIterator, sharedPrefix).
 */
function inputsSharedPrefix(job: CompactionJob): number {
  let lo: Uint8Array | undefined;
  let hi: Uint8Array | undefined;
  for (const input of job.inputs) {
    for (const f of input.files) {
      if (lo === undefined || compareKeys(f.smallestKey, lo) < 0) lo = f.smallestKey;
      if (hi === undefined || compareKeys(f.largestKey, hi) > 0) hi = f.largestKey;
    }
  }
  if (lo === undefined || hi === undefined) return 0;
  const n = Math.min(lo.length, hi.length);
  let i = 0;
  while (i < n && lo[i] === hi[i]) i++;
  return i;
}
