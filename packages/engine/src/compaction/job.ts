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
import type { BackgroundExecutor, JobHooks } from '../background/executor.js';
import { initialOutputNumbers, type CompactionJob, type CompactionJobResult, type TableSettings } from '../background/jobs.js';
import type { FileSystem } from '@strata-db/vfs';
import { tablePath } from '../db/filenames.js';
import type { FileMetadata } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';
import type { Version } from '../version/version.js';
import type { CollapseCounters } from './compaction-iterator.js';
import { inputFiles, isBottommost, jobLevelsBelow, keyRangeOf, totalBytes, type Compaction } from './compaction.js';
import { maxKey, minKey } from './key-range.js';
import { subcompactionsOf } from './subcompactions.js';

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
  /** Where the outputs of a cut compaction's finished ranges are removed when another range fails. */
  readonly fs: Pick<FileSystem, 'unlinkSync'>;
  /** Key ranges a compaction may be cut into, merged side by side (subcompactions.ts); default 1. */
  readonly maxSubcompactions?: number;
  /** Worker threads the compaction's ranges may be given to (default: the executor's all). */
  readonly threads?: number;
  /** Throws to abort the job (the database is closing); polled while it runs. */
  checkAbort?(): void;
  /** A failure the job survives (an output it could not abandon): reported, not thrown. */
  warn?(message: string, err: unknown): void;
  /**
   * Resolves when the edit may be installed: for a universal merge `after` another
   * (compaction.ts), once that one's edit is; rejects when it never will be (it failed or was
   * aborted), and the job then abandons its outputs.
   */
  beforeInstall?(): Promise<void>;
}

export interface CompactionResult {
  readonly compaction: Compaction;
  readonly trivialMove: boolean;
  /** Bytes of input tables, by level. */
  readonly bytesReadByLevel: ReadonlyMap<number, number>;
  readonly bytesWritten: number;
  readonly outputs: readonly FileMetadata[];
  readonly counters: CollapseCounters | undefined;
  /** Key ranges the compaction was cut into and merged side by side (1: not cut). */
  readonly subcompactions: number;
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
    return { compaction: c, trivialMove: true, bytesReadByLevel: new Map(), bytesWritten: 0, outputs: [f], counters: undefined, subcompactions: 1, durationMs: performance.now() - started, maxSliceMs: 0 };
  }

  // Numbers for every range up front, in key order: the ranges (subcompactions.ts) then
  // number their outputs alike whichever executor runs them, and side by side or one by one.
  // An output into L0 (universal compaction's merge of L0 files: universal-picker.ts) is ONE
  // table — each L0 file is a sorted run — so it is neither cut into ranges nor split by size.
  const targetFileSize = c.outputLevel === 0 ? Number.MAX_SAFE_INTEGER : env.targetFileSize;
  const subs = subcompactionsOf(c, c.outputLevel === 0 ? 1 : (env.maxSubcompactions ?? 1), env.targetFileSize);
  const common = {
    dir: env.dir,
    outputLevel: c.outputLevel,
    snapshots: [...env.snapshots()],
    targetFileSize,
    // Blocks are compressed one at a time as the builder writes them (in the executor).
    table: env.tableSettings(c.outputLevel, isBottommost(c, version)),
    createdAt: Date.now(),
  };
  const jobs: CompactionJob[] = subs.map((sub) => {
    const numbers: number[] = [];
    const count = initialOutputNumbers(sub.inputBytes, targetFileSize);
    for (let i = 0; i < count; i++) numbers.push(env.versions.newFileNumber());
    const bounds = subs.length === 1 ? {} : { ...(sub.lo === undefined ? {} : { lo: sub.lo }), ...(sub.hi === undefined ? {} : { hi: sub.hi }) };
    // The deeper levels and grandparents this range's keys can meet, not the whole levels.
    const range = keyRangeOf(sub.inputs.flatMap((input) => input.files))!;
    const smallest = sub.lo === undefined ? range.smallest : maxKey(sub.lo, range.smallest);
    const largest = sub.hi === undefined ? range.largest : minKey(sub.hi, range.largest);
    const { below, grandparents } = jobLevelsBelow(version, c, smallest, largest);
    return { ...common, ...bounds, grandparents, below, inputs: sub.inputs, fileNumbers: numbers };
  });
  const hooks = {
    moreFileNumbers: (n: number) => Array.from({ length: n }, () => env.versions.newFileNumber()),
    checkAbort: () => env.checkAbort?.(),
    warn: (message: string, err: unknown) => env.warn?.(message, err),
  };
  const merged = await runJobs(env, jobs, hooks);
  const outputs = merged.outputs;
  if (env.beforeInstall !== undefined) {
    try {
      await env.beforeInstall();
      env.checkAbort?.();
    } catch (err) {
      abandon(env, outputs);
      throw err;
    }
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
    counters: merged.counters,
    subcompactions: jobs.length,
    durationMs: performance.now() - started,
    maxSliceMs: merged.maxSliceMs,
  };
}

/**
 * Runs the ranges of one compaction: side by side when the executor has threads (each range is
 * a job of its own; the worker executor gives each to the least busy worker), one after the
 * other in this thread. Their outputs, in key order, make one result. When a range fails, the
 * first failure is thrown once every range has settled, and the outputs of the ranges that
 * finished are removed (as a failed range removes its own): the compaction leaves nothing.
 */
async function runJobs(env: CompactionJobEnv, jobs: readonly CompactionJob[], hooks: JobHooks): Promise<CompactionJobResult> {
  const executor = env.executor;
  if (jobs.length === 1) return executor.compact(jobs[0]!, hooks, env.threads);
  const results: CompactionJobResult[] = [];
  let failure: { err: unknown } | undefined;
  if (executor.threads === 0) {
    for (const job of jobs) {
      try {
        results.push(await executor.compact(job, hooks));
      } catch (err) {
        failure = { err };
        break;
      }
    }
  } else {
    for (const r of await Promise.allSettled(jobs.map((job) => executor.compact(job, hooks, env.threads)))) {
      if (r.status === 'fulfilled') results.push(r.value);
      else failure ??= { err: r.reason };
    }
  }
  if (failure !== undefined) {
    abandon(env, results.flatMap((r) => r.outputs));
    throw failure.err;
  }
  const counters = { ...results[0]!.counters };
  for (const r of results.slice(1)) for (const k of Object.keys(counters) as (keyof CollapseCounters)[]) counters[k] += r.counters[k];
  return {
    outputs: results.flatMap((r) => r.outputs),
    counters,
    maxSliceMs: Math.max(...results.map((r) => r.maxSliceMs)),
    reads: results.reduce((n, r) => n + r.reads, 0),
  };
}

/** Removes the outputs of a compaction that will not be installed (what is left is removed at the next open). */
function abandon(env: CompactionJobEnv, outputs: readonly FileMetadata[]): void {
  for (const f of outputs) {
    try {
      env.fs.unlinkSync(tablePath(env.dir, f.fileNumber));
    } catch (err) {
      env.warn?.('removing an output of a failed compaction failed (it is removed at the next open)', err);
    }
  }
}

export function describeCompaction(c: Compaction): string {
  const ins = c.inputs.map((i) => `L${i.level}×${i.files.length}`).join(' + ');
  return `${c.reason} compaction ${ins} → L${c.outputLevel} (${totalBytes(inputFiles(c))} bytes)`;
}
