import type { EventBus } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import type { BackgroundExecutor } from './executor.js';
import { InThreadExecutor } from './in-thread-executor.js';
import { WORKER_RESOURCE_LIMITS, WorkerExecutor } from './worker-executor.js';
import { prepareWorker, workerSource, type WorkerSource } from './worker-loader.js';

/**
 * The executor `backgroundThreads` asks for (options.ts checked it fits the file layer). Where
 * the worker's code cannot be found — the engine bundled into an application without its
 * `worker-entry` file — the database still works: the jobs run on the main thread, and the
 * logger / onEvent hear why (a warning), so that it is never silent.
 */
export async function createExecutor(opts: ResolvedOptions, events: EventBus): Promise<BackgroundExecutor> {
  if (opts.backgroundThreads === 0) return new InThreadExecutor(opts.fs);
  let source: WorkerSource;
  try {
    source = workerSource();
  } catch (err) {
    events.warn('the background worker cannot start here: flushes and compactions run on the main thread (as with backgroundThreads: 0)', err);
    return new InThreadExecutor(opts.fs);
  }
  await prepareWorker(source);
  return new WorkerExecutor(opts.backgroundThreads, source, WORKER_RESOURCE_LIMITS, opts.backgroundThreadIdleMs);
}
