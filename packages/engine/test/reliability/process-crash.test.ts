/**
 * kill -9 at random moments, many rounds on one directory: acknowledged writes survive, batches
 * are atomic, the sequence never goes back, reopening never fails. Real files, real processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashLoop } from './support/crash-loop.js';
import { seeds } from './support/seeds.js';

describe('process crash', () => {
  for (const seed of seeds('process-crash', [1])) {
    it(`seed ${seed}: survives SIGKILL rounds with every acknowledged write`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'strata-crash-'));
      let ok = false;
      try {
        const r = await crashLoop({ dir: join(dir, 'db'), seed, rounds: 6, minDelayMs: 50, maxDelayMs: 600 });
        expect(r.kills).toBe(6);
        expect(r.opsAcked, 'the children got writes acknowledged before dying').toBeGreaterThan(20);
        ok = true;
      } finally {
        if (ok) rmSync(dir, { recursive: true, force: true });
        else console.log(`KEPT ${dir}`);
      }
    }, 120_000);
  }

  // The loop's own bookkeeping: a parent that cannot read while the child runs (a loaded machine)
  // must still learn every operation the child started. With the protocol on a stdout pipe the
  // child's last lines were lost at the kill, and keys that a later, unheard operation deleted
  // were reported as acknowledged writes lost: this failed 4 of 4 seeds that way.
  it('learns every operation of the child even when it cannot read at the kill', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-crash-busy-'));
    let ok = false;
    try {
      const r = await crashLoop({ dir: join(dir, 'db'), seed: 100, rounds: 2, minDelayMs: 200, maxDelayMs: 400, busyAtKillMs: 1500 });
      expect(r.kills).toBe(2);
      expect(r.opsAcked).toBeGreaterThan(20);
      ok = true;
    } finally {
      if (ok) rmSync(dir, { recursive: true, force: true });
      else console.log(`KEPT ${dir}`);
    }
  }, 120_000);
});
