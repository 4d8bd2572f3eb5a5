/**
 * The body of a background worker thread (see worker-executor.ts): runs flush and compaction
 * jobs on the real file system, as the main thread asks, and answers with table metadata or a
 * serialised error. Holds no state between jobs but the open message port.
 *
 * Flushes never yield: they are short and nothing else is urgent here. A compaction yields to
 * this thread's event loop every few milliseconds, so that a flush asked for meanwhile runs
 * in between (as LevelDB flushes an immutable memtable in the middle of a long compaction):
 * one worker serves both without making writers wait for a whole compaction.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { FrozenMemtable } from '@strata-db/memtable';
import { nodeFileSystem } from '@strata-db/vfs';
import { mergeCompaction } from './compaction-merge.js';
import { GarbagePacer, garbageCollector } from './garbage-pace.js';
import { writeFlushTable } from './flush-table.js';
import { serializeError } from './job-errors.js';
import { unbrokenPace } from './pace.js';
import type { FromWorker, ToWorker, WorkerStart } from './protocol.js';
import { threadWindowPool } from './window-pool.js';

/** Compaction work between two turns of this thread's event loop, ms. */
const COMPACTION_SLICE_MS = 10;

class JobAborted extends Error {
  constructor() {
    super('background job aborted: the database is closing');
  }
}

/** How much lower a low-priority worker runs than the process: nice +10, a tenth of a core's share against the user's thread. */
const LOW_PRIORITY_NICE = 10;

/**
 * Lowers this thread's CPU priority. Linux keeps a nice value per thread and takes a thread id
 * where setpriority(2) takes a process id; /proc/thread-self names this thread's. Elsewhere (no
 * /proc) the worker runs at the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + LOW_PRIORITY_NICE));
  } catch {
    // not Linux, or not permitted: the same work at the process's priority
  }
}
if ((workerData as WorkerStart | undefined)?.lowPriority === true) lowerPriority();

const memory = { heapTotal: 0, peakHeapTotal: 0, arrayBuffers: 0, peakArrayBuffers: 0, collections: 0, windowPool: 0 };
/** Samples this thread's memory (at each paced collection, just before it, and after each job). */
function sampleMemory(): void {
  const m = process.memoryUsage();
  memory.heapTotal = m.heapTotal;
  memory.arrayBuffers = m.arrayBuffers;
  memory.peakHeapTotal = Math.max(memory.peakHeapTotal, m.heapTotal);
  memory.peakArrayBuffers = Math.max(memory.peakArrayBuffers, m.arrayBuffers);
  memory.collections = pacer?.collections ?? 0;
  memory.windowPool = threadWindowPool.residentBytes;
}

/** This worker's paced collection of the garbage its jobs make (garbage-pace.ts). */
const gc = garbageCollector();
const pacer =
  gc === undefined
    ? undefined
    : new GarbagePacer(() => {
        sampleMemory();
        gc();
      });
const collectGarbage =
  pacer === undefined
    ? undefined
    : (): void => {
        pacer.check();
      };

const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');
const post = (m: FromWorker): void => {
  if (m.type === 'flushed' || m.type === 'compacted' || m.type === 'failed') {
    collectGarbage?.();
    sampleMemory();
    port.postMessage({ type: 'memory', memory: { ...memory } } satisfies FromWorker);
  }
  port.postMessage(m);
};
const numberWaiters = new Map<number, (numbers: readonly number[]) => void>();
const warner =
  (id: number) =>
  (message: string, err: unknown): void => {
    post({ type: 'warn', id, message, error: serializeError(err) });
  };

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'flush':
      writeFlushTable(
        m.images.map((image) => FrozenMemtable.fromImage(image)),
        m.job, nodeFileSystem, unbrokenPace, warner(m.id)).then(
        (meta) => {
          post({ type: 'flushed', id: m.id, meta });
        },
        (err: unknown) => {
          post({ type: 'failed', id: m.id, error: serializeError(err) });
        },
      );
      return;
    case 'compact': {
      const { id, abort } = m;
      mergeCompaction(m.job, {
        fs: nodeFileSystem,
        moreFileNumbers: (count) =>
          new Promise((resolve) => {
            numberWaiters.set(id, resolve);
            post({ type: 'needNumbers', id, count });
          }),
        checkAbort: () => {
          if (Atomics.load(abort, 0) !== 0) throw new JobAborted();
        },
        sliceMs: COMPACTION_SLICE_MS,
        yieldNow: () =>
          new Promise((resolve) => {
            collectGarbage?.();
            setImmediate(resolve);
          }),
        warn: warner(id),
        ...(collectGarbage === undefined ? {} : { collectGarbage }),
      }).then(
        (result) => {
          post({ type: 'compacted', id, result });
        },
        (err: unknown) => {
          post({ type: 'failed', id, error: serializeError(err, err instanceof JobAborted) });
        },
      );
      return;
    }
    case 'numbers': {
      const resolve = numberWaiters.get(m.id);
      numberWaiters.delete(m.id);
      resolve?.(m.numbers);
      return;
    }
    case 'stop':
      // The thread ends on its own (see WorkerExecutor.close): a last full collection first, so
      // that no incremental marking of this heap is under way when Node tears the isolate down,
      // then the port closes and the event loop, with nothing left in it, empties. Deno's
      // `parentPort` (2.x) has no `close()`; there `process.exit`, which in a worker thread ends
      // that thread only (Node, Bun and Deno alike), is the way out.
      gc?.();
      if (typeof port.close === 'function') port.close();
      else process.exit(0);
      return;
  }
});
post({ type: 'ready' });
