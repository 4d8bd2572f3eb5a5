import { describe, expect, it } from 'vitest';
import { Memtable } from './memtable.js';
import { sharedAllocationBallasts } from './shared-memory.js';

describe('shared memory of dead memtables', () => {
  it('is collected at the pace it is allocated: ArrayBuffer memory stays bounded through 400 MB of memtables', async () => {
    // V8 does not count SharedArrayBuffers as external memory; without the ballast of
    // shared-memory.ts, dead memtables pile up until something else triggers a collection.
    const value = new Uint8Array(200).fill(7);
    const key = new Uint8Array(16);
    const view = new DataView(key.buffer);
    const before = sharedAllocationBallasts();
    let most = 0;
    let seq = 1;
    for (let m = 0; m < 120; m++) {
      const mem = new Memtable();
      for (let i = 0; i < 12_000; i++) {
        view.setUint32(12, i * 2654435761);
        mem.put(key, value, seq++);
      }
      mem.freeze();
      most = Math.max(most, process.memoryUsage().arrayBuffers);
      if (m % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(sharedAllocationBallasts() - before).toBeGreaterThan(10);
    expect(most).toBeLessThan(200 * 2 ** 20);
  }, 60_000);
});
