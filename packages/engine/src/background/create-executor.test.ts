/**
 * Where the worker's code cannot be found (the engine bundled into an application without its
 * worker-entry file), the database does not fail later at its first flush: the jobs run on the
 * main thread, and a warning says why.
 */
import { describe, expect, it, vi } from 'vitest';
import { nodeFileSystem } from '@strata-db/vfs';
import { EventBus, type StrataEvent } from '../events.js';
import { resolveOptions } from '../options.js';
import { createExecutor } from './create-executor.js';
import { InThreadExecutor } from './in-thread-executor.js';
import { WorkerExecutor } from './worker-executor.js';

vi.mock('./worker-loader.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./worker-loader.js')>();
  return {
    ...original,
    workerSource: vi.fn(original.workerSource),
  };
});
const loader = await import('./worker-loader.js');

describe('createExecutor', () => {
  it('backgroundThreads 0: the in-thread executor; ≥ 1 with the worker found: the worker executor (no thread started yet)', async () => {
    const events = new EventBus(undefined, undefined, '/db');
    expect(await createExecutor(resolveOptions({ backgroundThreads: 0 }), events)).toBeInstanceOf(InThreadExecutor);
    const w = await createExecutor(resolveOptions({ fs: nodeFileSystem }), events);
    expect(w).toBeInstanceOf(WorkerExecutor);
    expect(w.liveWorkers).toBe(0);
  });

  it('the worker file missing: the in-thread executor and a warning naming the cause', async () => {
    const seen: StrataEvent[] = [];
    const warned: string[] = [];
    const events = new EventBus((e) => seen.push(e), { info: () => undefined, warn: (m) => warned.push(m), error: () => undefined }, '/db');
    vi.mocked(loader.workerSource).mockImplementationOnce(() => {
      throw new Error('worker-entry.js is missing next to /app/bundle.js');
    });
    const ex = await createExecutor(resolveOptions({ backgroundThreads: 2 }), events);
    expect(ex).toBeInstanceOf(InThreadExecutor);
    expect(ex.threads).toBe(0);
    expect(seen).toMatchObject([{ type: 'warning', message: expect.stringMatching(/main thread/), error: { message: expect.stringMatching(/worker-entry\.js is missing/) } }]);
    expect(warned.join('\n')).toMatch(/main thread/);
  });
});
