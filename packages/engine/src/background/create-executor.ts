import type { ResolvedOptions } from '../options.js';
import type { BackgroundExecutor } from './executor.js';
import { InThreadExecutor } from './in-thread-executor.js';
import { WorkerExecutor } from './worker-executor.js';

/** The executor `backgroundThreads` asks for (options.ts checked it fits the file layer). */
export function createExecutor(opts: ResolvedOptions): BackgroundExecutor {
  return opts.backgroundThreads > 0 ? new WorkerExecutor(opts.backgroundThreads) : new InThreadExecutor(opts.fs);
}
