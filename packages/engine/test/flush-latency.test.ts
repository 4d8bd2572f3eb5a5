/**
 * Flush must not freeze the event loop: the table builder is fed in ~4 ms slices with a yield
 * (setImmediate) between them. Measured here with perf_hooks.monitorEventLoopDelay and a 1 ms
 * ticker while a large memtable (8 MiB) is flushed, with reads and writes going on meanwhile.
 * The figures are printed; what is asserted is that reads and writes made progress *during* the
 * flush (the flush yields). How long the loop waits is a speed figure: it lives in the
 * responsiveness benchmark (`npm run bench -- responsiveness`), not in a timed test on a shared machine.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-flush-');
});

describe('flush and the event loop', () => {
  it('keeps serving reads and writes while an 8 MiB memtable is flushed', async () => {
    const db = await Database.open(dir, { memtableSize: 64 * 1024 * 1024 });
    const value = Buffer.alloc(100, 7);
    const key = (i: number): Buffer => {
      const b = Buffer.alloc(16);
      b.writeUInt32BE(i, 12);
      return b;
    };
    const N = 70_000; // ≈ 8.4 MiB of keys and values
    for (let start = 0; start < N; start += 1000) {
      const b = db.batch();
      for (let i = start; i < start + 1000; i++) b.put(key(i), value);
      await b.write();
    }
    const h = monitorEventLoopDelay({ resolution: 1 });
    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 1);
    h.enable();
    const t0 = performance.now();
    let flushed = false;
    const flushing = db.flush().then(() => {
      flushed = true;
    });
    // Reads and writes during the flush.
    let ops = 0;
    while (!flushed) {
      await db.put(key(N + ops), value);
      expect(db.getSync(key(ops % N))).toBeDefined();
      ops++;
      if (ops % 64 === 0) await new Promise((r) => setImmediate(r));
    }
    await flushing;
    const flushMs = performance.now() - t0;
    h.disable();
    clearInterval(ticker);
    const s = db.stats();
    const report = {
      flushMs: Math.round(flushMs),
      opsDuringFlush: ops,
      eventLoopDelayP50ms: +(h.percentile(50) / 1e6).toFixed(2),
      eventLoopDelayP99ms: +(h.percentile(99) / 1e6).toFixed(2),
      eventLoopDelayMaxMs: +(h.max / 1e6).toFixed(2),
      tickerMaxGapMs: +maxGap.toFixed(2),
      longestFlushSliceMs: +s.counters.flushMaxSliceMs.toFixed(2),
      l0Files: s.levels[0]!.files,
    };
    console.log(`flush event-loop figures: ${JSON.stringify(report)}`);
    expect(s.levels[0]!.files + s.levels[1]!.files).toBeGreaterThan(0);
    expect(ops).toBeGreaterThan(10);
    expect(dec(db.getSync(key(5)))).toBe(value.toString());
    await db.close();
  }, 60_000);
});
