/**
 * Background jobs on the main thread, in slices of ~4 ms of synchronous work with a
 * `setImmediate` between them, so the event loop keeps serving reads and writes. The executor
 * for file layers that cannot cross to a worker thread, and for `backgroundThreads: 0`.
 */
import type { FrozenMemtable } from '@strata-db/memtable';
import type { FileSystem } from '@strata-db/vfs';
import { mergeCompaction } from './compaction-merge.js';
import type { BackgroundExecutor, FlushHooks, FlushJobResult, JobHooks } from './executor.js';
import { writeFlushTable } from './flush-table.js';
import type { CompactionJob, CompactionJobResult, FlushJob } from './jobs.js';
import { slicedPace } from './pace.js';
import type { WorkerMemory } from './protocol.js';
import { threadWindowPool } from './window-pool.js';

/** Synchronous work between two yields to the event loop, ms. */
export const SLICE_MS = 4;

const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

export class InThreadExecutor implements BackgroundExecutor {
  readonly threads = 0;
  readonly liveWorkers = 0;
  readonly idleWorkersEnded = 0;
  prepareForFlush(): void {
    // a flush runs here, in slices: nothing to start
  }
  endIdleWorkers(): void {
    // no workers
  }
  onAllIdle(): void {
    // no workers: never idle in that sense
  }
  /** Its memory is the main thread's: nothing of its own to report but the thread's window pool, which its compactions fill (window-pool.ts). */
  get memory(): WorkerMemory {
    return { heapTotal: 0, peakHeapTotal: 0, arrayBuffers: 0, peakArrayBuffers: 0, collections: 0, windowPool: threadWindowPool.residentBytes };
  }

  constructor(
    private readonly fs: FileSystem,
    private readonly sliceMs = SLICE_MS,
  ) {}

  async flush(mems: readonly FrozenMemtable[], job: FlushJob, hooks?: FlushHooks): Promise<FlushJobResult> {
    const pace = slicedPace(this.sliceMs);
    const meta = await writeFlushTable(mems, job, this.fs, pace, hooks?.warn);
    return { meta, maxSliceMs: pace.maxSliceMs };
  }

  compact(job: CompactionJob, hooks: JobHooks): Promise<CompactionJobResult> {
    return mergeCompaction(job, {
      fs: this.fs,
      moreFileNumbers: (n) => hooks.moreFileNumbers(n),
      checkAbort: () => {
        hooks.checkAbort();
      },
      sliceMs: this.sliceMs,
      yieldNow,
      ...(hooks.warn === undefined ? {} : { warn: hooks.warn }),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
