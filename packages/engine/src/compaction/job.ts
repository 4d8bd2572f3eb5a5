/**
 * Runs one Compaction: merge the inputs, collapse versions, write the outputs, make them
 * durable, and swap them for the inputs in one manifest edit.
 *
 * The merge and the writing of the outputs run in the background executor (this thread or a
 * worker thread: background/compaction-merge.ts); the pick, the file numbers and the manifest
 * edit stay here, on the main thread.
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
import type { BackgroundExecutor } from '../background/executor.js';
import { initialOutputNumbers, type CompactionJob, type TableSettings } from '../background/jobs.js';
import type { FileMetadata } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';
import type { Version } from '../version/version.js';
import type { CollapseCounters } from './compaction-iterator.js';
import { inputFiles, isBottommost, levelsBelow, totalBytes, type Compaction } from './compaction.js';

export interface CompactionJobEnv {
  readonly dir: string;
  readonly versions: {
    logAndApply(edit: VersionEdit): Promise<unknown>;
    newFileNumber(): number;
  };
  /** Live snapshot sequence numbers, read once when the job starts. */
  snapshots(): Iterable<number>;
  readonly targetFileSize: number;
  /** The TableBuilder settings for outputs at `level` (compression per level, bottommost codec). */
  tableSettings(level: number, bottommost: boolean): TableSettings;
  /** Runs the merge: in this thread, or in a worker thread. */
  readonly executor: BackgroundExecutor;
  /** Throws to abort the job (the database is closing); polled while it runs. */
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

  const numbers: number[] = [];
  const count = initialOutputNumbers(totalBytes(inputFiles(c)), env.targetFileSize);
  for (let i = 0; i < count; i++) numbers.push(env.versions.newFileNumber());
  const job: CompactionJob = {
    dir: env.dir,
    inputs: c.inputs,
    outputLevel: c.outputLevel,
    grandparents: c.grandparents,
    below: levelsBelow(version, c.outputLevel),
    snapshots: [...env.snapshots()],
    fileNumbers: numbers,
    targetFileSize: env.targetFileSize,
    // Blocks are compressed one at a time as the builder writes them (in the executor).
    table: env.tableSettings(c.outputLevel, isBottommost(c, version)),
    createdAt: Date.now(),
  };
  const merged = await env.executor.compact(job, {
    moreFileNumbers: (n) => Array.from({ length: n }, () => env.versions.newFileNumber()),
    checkAbort: () => env.checkAbort?.(),
    warn: (message, err) => env.warn?.(message, err),
  });
  const outputs = merged.outputs;

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
    counters: merged.counters,
    durationMs: performance.now() - started,
    maxSliceMs: merged.maxSliceMs,
  };
}

export function describeCompaction(c: Compaction): string {
  const ins = c.inputs.map((i) => `L${i.level}×${i.files.length}`).join(' + ');
  return `${c.reason} compaction ${ins} → L${c.outputLevel} (${totalBytes(inputFiles(c))} bytes)`;
}
