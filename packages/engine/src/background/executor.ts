/**
 * The background executor: where flush and compaction jobs (jobs.ts) run. Two first-class
 * implementations, chosen by the `backgroundThreads` option:
 *
 *  - `InThreadExecutor` (backgroundThreads: 0): on the main thread, in slices of ~4 ms with a
 *    yield to the event loop between them. Works with any file layer, including those that
 *    cannot be recreated in another thread (the in-memory, power-cut one of the tests).
 *  - `WorkerExecutor` (backgroundThreads ≥ 1, the default with the real file system): in
 *    `worker_threads` workers, i.e. on another core; the frozen memtables cross without a copy
 *    (shared memory) and nothing of the job runs on the event loop.
 *
 * Both run the same code (flush-table.ts, compaction-merge.ts) on the same inputs, so their
 * tables are byte-identical. A failed job rejects with a StrataError (CORRUPTION with file and
 * offset, IO_ERROR with the OS code as cause, …); the caller turns it into the database's
 * background error.
 */
import type { FrozenMemtable } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import type { CompactionJob, CompactionJobResult, FlushJob } from './jobs.js';
import type { WorkerMemory } from './protocol.js';

/** What a running job may ask of the main thread. */
export interface JobHooks {
  /** More output file numbers (compaction). */
  moreFileNumbers(count: number): readonly number[];
  /** Throws when the job must stop (the database is closing); polled while it runs. */
  checkAbort(): void;
  /** A failure the job survives (an output it could not abandon): reported, not thrown. */
  readonly warn?: (message: string, err: unknown) => void;
}

/** What a running flush may ask of the main thread. */
export type FlushHooks = Pick<JobHooks, 'warn'>;

export interface FlushJobResult {
  readonly meta: FileMetadata;
  /** Longest stretch of work on the main thread without a yield, ms (0 for a worker). */
  readonly maxSliceMs: number;
}

export interface BackgroundExecutor {
  /** Worker threads used at most; 0 for the in-thread executor. */
  readonly threads: number;
  /** Worker threads alive now. */
  readonly liveWorkers: number;
  /** Workers that ended for being idle (`backgroundThreadIdleMs`); 0 for the in-thread executor. */
  readonly idleWorkersEnded: number;
  /** The worker threads' own memory (protocol.ts); zeros for the in-thread executor. */
  readonly memory: WorkerMemory;
  /**
   * Writes `mems` (oldest first; more than one: merged, flush-table.ts) to one L0 table as `job`
   * says; the memtables must stay alive until this settles.
   */
  flush(mems: readonly FrozenMemtable[], job: FlushJob, hooks?: FlushHooks): Promise<FlushJobResult>;
  /** `threads`: the worker threads this job may be given to, at most `threads` of the executor (default all). */
  compact(job: CompactionJob, hooks: JobHooks, threads?: number): Promise<CompactionJobResult>;
  /**
   * A flush is near (the active memtable is half full): start the thread that will take it now,
   * if none is alive, so that its start overlaps the writes that fill the memtable instead of
   * delaying the flush they will wait for (asked once a memtable). Nothing for the in-thread
   * executor. A worker started so and given no job ends after `backgroundThreadIdleMs`.
   */
  prepareForFlush(): void;
  /** Ends the workers idle longer than `backgroundThreadIdleMs` whose timer has not fired (cheap; from the read path). */
  endIdleWorkers(): void;
  /** `listener` runs whenever the last live worker has ended for being idle (never for the in-thread executor). */
  onAllIdle(listener: () => void): void;
  /** Waits for nothing: jobs still running are aborted or abandoned; frees threads. Idempotent. */
  close(): Promise<void>;
}
