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
});
