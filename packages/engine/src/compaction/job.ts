/**
 * Runs one Compaction: merge the inputs, collapse versions, write the outputs, make them
 * durable, and swap them for the inputs in one manifest edit.
 *
 * Order of durability (the shared README's rules):
 *   1. every output table is fsynced (TableBuilder.finish), then the directory is fsynced —
 *      the files exist durably before anything refers to them;
 *   2. one VersionEdit deletes the inputs and adds the outputs; logAndApply makes it durable
 *      before installing the new Version;
 *   3. the inputs' files are deleted by the version set only when no live Version lists them
 *      (the Version this job read from is pinned by the caller until the job ends, and
 *      iterators pin theirs), i.e. after the edit is durable and no reader uses them.
 * A crash before 2 leaves outputs no manifest names: deleted as orphans at the next open. A
 * failure before 2 (a corrupt input, an I/O error) abandons the outputs and keeps the inputs,
 * so the database is unchanged. A failure in 2 deletes nothing: whether the edit reached the
 * disk is unknown, and the version set turns the database read-only until it is reopened.
 */
import type { InternalIterator, RangeTombstone } from '@strata-db/memtable';
import { TableBuilder, type TableMeta } from '@strata-db/sstable-builder';
import type { CompressionName, Table } from '@strata-db/sstable-core';
import { tablePath } from '../db/filenames.js';
import type { FileSystem } from '@strata-db/vfs';
import { MergingIterator } from '../read/merging-iterator.js';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';
import type { Version } from '../version/version.js';
import { CompactionIterator, type CollapseCounters } from './compaction-iterator.js';
import { compressionFor } from '../options.js';
import { inputFiles, isBottommost, olderDataBelow, totalBytes, type Compaction } from './compaction.js';
import { LevelIterator } from './level-iterator.js';
import { OutputSplitter } from './output-splitter.js';
import { OutputWriter } from './output-writer.js';
import { maxGrandparentOverlapBytes } from './picker.js';

export interface CompactionJobEnv {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly versions: {
    logAndApply(edit: VersionEdit): Promise<unknown>;
    newFileNumber(): number;
  };
  /** Open tables by file number (the engine's table cache). */
  table(fileNumber: number): Table;
  /** An iterator over every version of a table. */
  tableIterator(table: Table): InternalIterator;
  /** Live snapshot sequence numbers, read once when the job starts. */
  snapshots(): Iterable<number>;
  readonly targetFileSize: number;
  readonly blockSize: number;
  readonly bloomBitsPerKey: number;
  /** Codec per output level, and for bottommost outputs (options.ts). */
  readonly compression: readonly CompressionName[];
  readonly bottommostCompression: CompressionName | undefined;
  /** Synchronous work between two yields to the event loop (ms). */
  readonly sliceMs: number;
  /** Throws to abort the job (the database is closing); checked between slices. */
  checkAbort?(): void;
  /** A failure the job survives (an output it could not abandon): reported, not thrown. */
  warn?(message: string, err: unknown): void;
}

export interface CompactionResult {
  readonly compaction: Compaction;
  readonly trivialMove: boolean;
  /** Bytes of input tables, by level. */
  readonly bytesReadByLevel: ReadonlyMap<number, number>;
  readonly bytesWritten: number;
  readonly outputs: readonly FileMetadata[];
  readonly counters: CollapseCounters | undefined;
  readonly durationMs: number;
  /** Longest synchronous stretch of the merge between two yields to the event loop, ms. */
  readonly maxSliceMs: number;
}

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/**
 * Runs `c`, picked from `version`, which the caller keeps pinned until this resolves.
 * Rejects with the cause when the compaction fails; the inputs are then left as they were.
 */
export async function runCompaction(c: Compaction, version: Version, env: CompactionJobEnv): Promise<CompactionResult> {
  const started = performance.now();
  const edit = new VersionEdit();
  for (const input of c.inputs) for (const f of input.files) edit.deleteFile(input.level, f.fileNumber);

  if (c.trivialMove) {
    // One file, nothing under it at the output level: re-parent it, no bytes move.
    const f = c.inputs[0]!.files[0]!;
    edit.addFile(c.outputLevel, f);
    await env.versions.logAndApply(edit);
    return { compaction: c, trivialMove: true, bytesReadByLevel: new Map(), bytesWritten: 0, outputs: [f], counters: undefined, durationMs: performance.now() - started, maxSliceMs: 0 };
  }

  const builders: TableBuilder[] = [];
  let outputs: FileMetadata[];
  let iter: CompactionIterator;
  let maxSliceMs: number;
  let maxSlice = 0;
  try {
    const setupStart = performance.now();
    const children: InternalIterator[] = [];
    const tombstones: RangeTombstone[] = [];
    const open = (f: FileMetadata): InternalIterator => env.tableIterator(env.table(f.fileNumber));
    let sliceStart = setupStart;
    for (const input of c.inputs) {
      for (const f of input.files) {
        // Opening a table reads its index and filter synchronously: open only the tables needed
        // now — L0 files (one merge child each: they overlap) and those with range tombstones;
        // the rest open lazily as the merge reaches them — and yield between them: a full
        // compaction may have hundreds of inputs.
        if (input.level === 0) children.push(open(f));
        if (f.tombstoneCount > 0) for (const t of env.table(f.fileNumber).rangeTombstones()) tombstones.push(t);
        if (performance.now() - sliceStart >= env.sliceMs) {
          maxSlice = Math.max(maxSlice, performance.now() - sliceStart);
          await yieldNow();
          sliceStart = performance.now();
        }
      }
      // A sorted level (L1+) is one concatenated child.
      if (input.level > 0) children.push(new LevelIterator(input.files, open));
    }
    iter = new CompactionIterator(new MergingIterator(children), tombstones, {
      snapshots: env.snapshots(),
      olderDataBelow: olderDataBelow(version, c.outputLevel),
    });
    const splitter = new OutputSplitter({
      targetFileSize: env.targetFileSize,
      grandparents: c.grandparents,
      maxGrandparentOverlapBytes: maxGrandparentOverlapBytes({ targetFileSize: env.targetFileSize }),
    });
    // Blocks are compressed one at a time as the builder writes them, inside the slices below.
    const compression = compressionFor(env, c.outputLevel, isBottommost(c, version));
    const writer = new OutputWriter<TableBuilder, TableMeta>(iter, splitter, {
      open: () => {
        const fileNumber = env.versions.newFileNumber();
        const b = new TableBuilder(tablePath(env.dir, fileNumber), {
          fs: env.fs,
          fileNumber,
          blockSize: env.blockSize,
          bloomBitsPerKey: env.bloomBitsPerKey,
          compression,
        });
        builders.push(b);
        return b;
      },
      finish: (b) => b.finish(),
      sliceMs: env.sliceMs,
      yieldNow,
      ...(env.checkAbort === undefined ? {} : { checkAbort: () => { env.checkAbort?.(); } }),
    });
    maxSliceMs = Math.max(maxSlice, performance.now() - sliceStart);
    const finished = await writer.run();
    maxSliceMs = Math.max(maxSliceMs, writer.maxSliceMs);
    // The inclusive range (output-splitter.ts): a tombstone piece cut at successor(k) ends the range at k.
    outputs = finished.map(({ meta, range }) => fileMetadataOf(meta, range));
    if (outputs.length > 0) await env.fs.fsyncDir(env.dir);
  } catch (err) {
    for (const b of builders) {
      try {
        b.abandon();
      } catch (abandonErr) {
        // The compaction's own error is what matters; an output left behind is an orphan,
        // removed at the next open.
        env.warn?.('abandoning an unfinished compaction output failed (it is removed at the next open)', abandonErr);
      }
    }
    throw err;
  }

  for (const f of outputs) edit.addFile(c.outputLevel, f);
  // Past this point nothing is abandoned: see the header.
  await env.versions.logAndApply(edit);

  const bytesReadByLevel = new Map<number, number>();
  for (const input of c.inputs) bytesReadByLevel.set(input.level, (bytesReadByLevel.get(input.level) ?? 0) + totalBytes(input.files));
  return {
    compaction: c,
    trivialMove: false,
    bytesReadByLevel,
    bytesWritten: totalBytes(outputs),
    outputs,
    counters: iter.counters,
    durationMs: performance.now() - started,
    maxSliceMs,
  };
}

export function describeCompaction(c: Compaction): string {
  const ins = c.inputs.map((i) => `L${i.level}×${i.files.length}`).join(' + ');
  return `${c.reason} compaction ${ins} → L${c.outputLevel} (${totalBytes(inputFiles(c))} bytes)`;
}
