/**
 * Starting the worker from the TypeScript sources: `prepareWorker` bundles them ahead of the
 * first start, off the event loop, so that the start itself builds nothing synchronously.
 */
import { describe, expect, it } from 'vitest';
import type { FromWorker } from './protocol.js';
import { prepareWorker, startWorker, workerReady, workerSource } from './worker-loader.js';

describe('the worker loader, from the sources', () => {
  it('prepareWorker bundles off the event loop; the first start then needs no synchronous build, and the worker comes up', async () => {
    const source = workerSource();
    expect(source.kind).toBe('source');
    expect(workerReady(source)).toBe(false); // nothing in this file started a worker yet
    const preparing = prepareWorker(source);
    expect(workerReady(source)).toBe(false); // the build runs in esbuild's process meanwhile
    await Promise.all([preparing, prepareWorker(source)]);
    expect(workerReady(source)).toBe(true);
    const worker = startWorker(source);
    try {
      const first = await new Promise<FromWorker>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(first.type).toBe('ready');
    } finally {
      await worker.terminate();
    }
  });
});
