/**
 * Fairness of awaited writes to the event loop (write-path.ts, "Fairness to the event loop"): a
 * caller awaiting write after write, each completing in a microtask, must still let the loop
 * go round — timers, I/O and background slices run between iterations. The clock is the test's
 * (performance.now, which the write path reads), so the assertion is about the rule, not about
 * how fast this machine is: each write "takes" 3 ms against a turn of 4 ms.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Database } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';
import { testDir } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Awaits `writes` writes one after the other, each "taking" 3 ms; returns the most resolved in one iteration of the loop, and the iterations. */
async function chainOfWrites(db: Database, writes: number, sync: boolean): Promise<{ most: number; iterations: number }> {
  let clock = 1_000_000;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
  // One immediate per iteration of the loop (queued from the check phase, it runs in the next).
  let resolvedThisIteration = 0;
  let most = 0;
  let iterations = 0;
  let going = true;
  const iteration = (): void => {
    most = Math.max(most, resolvedThisIteration);
    resolvedThisIteration = 0;
    iterations++;
    if (going) setImmediate(iteration);
  };
  setImmediate(iteration);
  for (let i = 0; i < writes; i++) {
    clock += 3;
    await db.put(`key-${i}`, `value-${i}`, { sync });
    resolvedThisIteration++;
  }
  going = false;
  vi.restoreAllMocks();
  return { most, iterations };
}

describe('awaited writes and the event loop', () => {
  it('durable writes on the real disk: one per iteration of the loop, with no turn of their own', async () => {
    // Their completions are fdatasync callbacks, so they start no turn (write-path.ts,
    // turnUnderWayTooLong): what keeps the loop going round is the I/O itself.
    const db = await Database.open(testDir('strata-turns-sync-'), { backgroundThreads: 0 });
    try {
      const WRITES = 100;
      const { most, iterations } = await chainOfWrites(db, WRITES, true);
      expect(most).toBe(1);
      expect(iterations).toBeGreaterThanOrEqual(WRITES);
    } finally {
      await db.close();
    }
  });

  it('durable writes on a file system whose fdatasync resolves in a microtask take turns like any write', async () => {
    const db = await Database.open('/db', { fs: new MemoryFileSystem({ syncDelay: () => Promise.resolve() }), backgroundThreads: 0 });
    try {
      const WRITES = 300;
      const { most, iterations } = await chainOfWrites(db, WRITES, true);
      expect(most).toBeLessThanOrEqual(2);
      expect(iterations).toBeGreaterThanOrEqual(WRITES / 2 - 1);
    } finally {
      await db.close();
    }
  });

  it('a chain of writes lets the loop go round after at most one write past the turn', async () => {
    const db = await Database.open(testDir('strata-turns-'), { backgroundThreads: 0 });
    try {
      const WRITES = 300;
      const { most, iterations } = await chainOfWrites(db, WRITES, false);
      // 4 ms turns of 3 ms writes: the write that starts a turn and the one that ends it, then
      // the loop goes round. (Counting the turn from the first write completed after a deferred
      // one let three through: a second turn's worth before the timers.)
      expect(most).toBeLessThanOrEqual(2);
      expect(iterations).toBeGreaterThanOrEqual(WRITES / 2 - 1);
    } finally {
      vi.restoreAllMocks();
      await db.close();
    }
  });
});
