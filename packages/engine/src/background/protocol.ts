/**
 * Messages between the main thread (worker-executor.ts) and a background worker
 * (worker-entry.ts). Every message is structured-cloned; the memtable image's typed arrays are
 * over SharedArrayBuffers and so are shared, not copied (see @strata-db/memtable).
 */
import type { SharedMemtableImage } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import type { SerializedError } from './job-errors.js';
import type { CompactionJob, CompactionJobResult, FlushJob } from './jobs.js';

/** What a worker is started with (its `workerData`). */
export interface WorkerStart {
  /** Run at a lower CPU priority than the process (worker-entry.ts): a worker started beside another. */
  readonly lowPriority: boolean;
}

export type ToWorker =
  /** `images`: the frozen memtables to write into one table, oldest first. */
  | { readonly type: 'flush'; readonly id: number; readonly job: FlushJob; readonly images: readonly SharedMemtableImage[] }
  /** `abort[0]` becomes non-zero when the job must stop (the database is closing). */
  | { readonly type: 'compact'; readonly id: number; readonly job: CompactionJob; readonly abort: Int32Array }
  /** The answer to a `needNumbers`. */
  | { readonly type: 'numbers'; readonly id: number; readonly numbers: readonly number[] }
  /** The database is closing and no job is in flight: end the thread by letting its event loop empty. */
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'flushed'; readonly id: number; readonly meta: FileMetadata }
  | { readonly type: 'compacted'; readonly id: number; readonly result: CompactionJobResult }
  | { readonly type: 'failed'; readonly id: number; readonly error: SerializedError }
  /** A failure the job survived (an output it could not abandon), for the database's logger. */
  | { readonly type: 'warn'; readonly id: number; readonly message: string; readonly error: SerializedError }
  /** A compaction ran out of output file numbers. */
  | { readonly type: 'needNumbers'; readonly id: number; readonly count: number }
  /** The worker's own memory, sent before each job's answer (stats().memory.workers). */
  | { readonly type: 'memory'; readonly memory: WorkerMemory };

/** A worker thread's own memory, bytes: its V8 heap and its ArrayBuffers (not the shared memtables it reads). */
export interface WorkerMemory {
  /** V8 heap committed now, and the most seen. */
  readonly heapTotal: number;
  readonly peakHeapTotal: number;
  /** ArrayBuffers held now (read windows, blocks, table builders' buffers — live or not yet collected), and the most seen. */
  readonly arrayBuffers: number;
  readonly peakArrayBuffers: number;
  /** Paced full collections the worker ran (garbage-pace.ts), since it started. */
  readonly collections: number;
  /**
   * Bytes of the thread's readahead window pool (window-pool.ts) ever handed out: resident
   * memory outside the V8 heap and outside malloc, kept for the next job's windows until the
   * thread ends. Not in `arrayBuffers`.
   */
  readonly windowPool: number;
}
