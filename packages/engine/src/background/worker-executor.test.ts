/**
 * Closing the worker executor: a worker is asked to stop and left to exit by itself; only one
 * that has not exited after the grace period is terminated (worker-executor.ts, header). The
 * graceful path with the real worker is tested in test/background.test.ts. And a worker started
 * while one that ended for being idle is still exiting starts its thread only after that exit
 * (worker-executor.ts, `start`: glibc's arenas).
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

/**
 * A worker that answers each job at once with the time its thread started (`Date.now()`)
 * and exits `exitMs` after a `stop`: an idle end that takes a while.
 */
function slowExitWorker(exitMs: number): string {
  const file = join(testDir('strata-slow-exit-worker-'), 'slow-exit-worker.cjs');
  writeFileSync(
    file,
    "const { parentPort } = require('node:worker_threads');\nconst startedAt = Date.now();\n" +
      'parentPort.on(\'message\', (m) => {\n' +
      `  if (m.type === 'stop') setTimeout(() => process.exit(0), ${exitMs});\n` +
      "  else parentPort.postMessage({ type: 'compacted', id: m.id, result: { startedAt } });\n" +
      '});\n',
  );
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

describe('WorkerExecutor: a worker started while an idle one exits', () => {
  const job = { outputLevel: 1 } as unknown as CompactionJob;
  const slots = (executor: WorkerExecutor) => (executor as unknown as { slots: { worker: Worker | undefined }[] }).slots;

  /** Runs a job on a new worker and waits until that worker has ended for being idle; `exitedAt`: when its thread exits. */
  async function runThenEndIdle(executor: WorkerExecutor): Promise<{ exitedAt: Promise<number> }> {
    const done = executor.compact(job, hooks);
    const first = slots(executor)[0]!.worker!;
    const exitedAt = new Promise<number>((resolve) => {
      first.once('exit', () => {
        resolve(Date.now());
      });
    });
    await done;
    while (executor.idleWorkersEnded === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(executor.liveWorkers).toBe(0);
    return { exitedAt };
  }

  it('starts its thread only after that thread has exited, and runs the job', async () => {
    const executor = new WorkerExecutor(1, { kind: 'built', file: slowExitWorker(200) }, undefined, 20);
    const { exitedAt } = await runThenEndIdle(executor);
    const second = executor.compact(job, hooks);
    expect(slots(executor)).toHaveLength(1);
    expect(slots(executor)[0]!.worker).toBeUndefined(); // waits for the exit
    const result = (await second) as unknown as { startedAt: number };
    expect(result.startedAt).toBeGreaterThanOrEqual((await exitedAt) - 1);
    await executor.close();
  });

  it('close while such a worker waits: its job fails typed, close settles, no thread starts', async () => {
    const executor = new WorkerExecutor(1, { kind: 'built', file: slowExitWorker(200) }, undefined, 20);
    const { exitedAt } = await runThenEndIdle(executor);
    const second = executor.compact(job, hooks).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    const waiting = slots(executor)[0]!;
    await executor.close();
    await exitedAt;
    expect(await second).toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining('stopped because the database closed') });
    expect(waiting.worker).toBeUndefined();
    expect(executor.liveWorkers).toBe(0);
  });
});
