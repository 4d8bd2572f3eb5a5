/**
 * Closing the worker executor: a worker is asked to stop and left to exit by itself; only one
 * that has not exited after the grace period is terminated (worker-executor.ts, header). The
 * graceful path with the real worker is tested in test/background.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../test/helpers.js';
import type { JobHooks } from './executor.js';
import type { CompactionJob } from './jobs.js';
import { WorkerExecutor } from './worker-executor.js';

/** A worker that takes every message and answers none, `stop` included: a hung thread. */
function hungWorker(): string {
  const file = join(testDir('strata-hung-worker-'), 'hung-worker.cjs');
  writeFileSync(file, "require('node:worker_threads').parentPort.on('message', () => {});\n");
  return file;
}

const hooks: JobHooks = { checkAbort: () => undefined, moreFileNumbers: () => [] };

describe('WorkerExecutor.close', () => {
  it('terminates a worker that has not exited after the grace period, and fails its job typed', async () => {
    const executor = new WorkerExecutor(1, { kind: 'built', file: hungWorker() });
    // The hung worker never looks at the job: a placeholder is enough to start one.
    const job = executor.compact({ outputLevel: 1 } as unknown as CompactionJob, hooks);
    const outcome = job.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    const worker = (executor as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
    const exitCode = new Promise<number>((resolve) => worker.once('exit', resolve));
    const started = performance.now();
    await executor.close(300);
    const waited = performance.now() - started;
    expect(await outcome).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('stopped because the database closed') });
    expect(await exitCode).toBe(1); // terminated, not exited by itself
    expect(waited).toBeGreaterThanOrEqual(290); // it was given the grace period first
    expect(executor.liveWorkers).toBe(0);
  });

  it('a closed executor refuses new jobs with NOT_OPEN', async () => {
    const executor = new WorkerExecutor(1, { kind: 'built', file: hungWorker() });
    await executor.close();
    await expect(executor.compact({ outputLevel: 1 } as unknown as CompactionJob, hooks)).rejects.toMatchObject({ code: 'NOT_OPEN' });
  });
});
