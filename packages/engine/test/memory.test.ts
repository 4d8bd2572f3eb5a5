/**
 * A fill allocates no memtable memory once the first few memtables exist: every flushed
 * memtable's memory goes to a later one, also when flushes finish several at a time (two frozen
 * memtables flushed back to back before the next freeze). Memtable memory is SharedArrayBuffers,
 * which V8 (Node 20) does not count towards its collection limits, so a released memtable whose
 * memory is dropped instead of reused stays resident until some other cause collects it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('strata-memtable-memory-'));
});
afterEach(() => {
  cleanup();
});

describe('memtable memory', () => {
  for (const backgroundThreads of [0, 1]) {
    it(`a fill builds every memtable after the first 2 + maxFrozenMemtables on released memory (backgroundThreads ${backgroundThreads})`, async () => {
      const maxFrozenMemtables = 2;
      const db = await Database.open(dir, { memtableSize: 64 * 1024, maxFrozenMemtables, backgroundThreads, l0CompactionTrigger: 2, l0SlowdownWritesTrigger: 3, l0StopWritesTrigger: 4 });
      try {
        // Pairs of batches at once, and L0 triggers low enough that writes stop for compaction:
        // meanwhile flushes finish back to back, so several memtables are released between two
        // freezes (before each of them was kept: 36 and 11 of 152 memtables got fresh memory).
        for (let round = 0; round < 100; round++) {
          const writes: Promise<void>[] = [];
          for (let i = round * 2; i < round * 2 + 2; i++) {
            const b = db.batch();
            for (let j = 0; j < 200; j++) b.put(`k${String((i * 7919 + j * 104729) % 1_000_003).padStart(8, '0')}`, `v${i}`.padEnd(100, 'x'));
            writes.push(b.write());
          }
          await Promise.all(writes);
        }
        await db.flush();
        const s = db.stats();
        const made = s.counters.flushes + 1; // every flushed memtable, and the active one
        expect(s.counters.flushes).toBeGreaterThan(60);
        // Fresh memory only for as many memtables as are alive at once: the active one, the
        // frozen ones, and one whose flush is done but whose release has not come yet.
                expect(made - s.memtables.reused).toBeLessThanOrEqual(2 + maxFrozenMemtables);
        // What is held for reuse is accounted, and bounded by that many memtables.
        expect(s.memory.memtableReserve).toBeLessThanOrEqual((1 + maxFrozenMemtables) * 2 * 64 * 1024);
      } finally {
        await db.close();
      }
    });
  }
});
