/**
 * EIO and ENOSPC at every file operation, once and from then on. Every failure must reach the
 * caller as a typed error, no promise may hang, nothing may escape as an unhandled rejection, no
 * descriptor may leak, a failed sync must leave the database refusing writes (READ_ONLY), and
 * reopening must give a prefix state holding everything acknowledged.
 */
import { describe, expect, it } from 'vitest';
import { TINY } from './support/db-driver.js';
import { ioFaultSweep, recoveryFaultSweep } from './support/io-faults.js';
import { captureCuts } from './support/power-loss.js';
import { History } from './support/model.js';
import { seeds } from './support/seeds.js';
import { makeWorkload } from './support/workload.js';

describe('I/O errors', () => {
  for (const seed of seeds('io-errors', [1])) {
    const steps = makeWorkload(seed, { steps: 40 });
    const history = new History(steps);
    for (const persistent of [false, true]) {
      it(`seed ${seed}: a fault at each call (${persistent ? 'from then on' : 'once'}) is typed, contained and recoverable`, async () => {
        const r = await ioFaultSweep({ seed, steps, history, dbOptions: TINY, stride: persistent ? 2 : 1, persistent, maxFailures: 5 });
        expect(r.failures, r.failures.join('\n\n')).toEqual([]);
        expect(r.faultsTried).toBeGreaterThanOrEqual(Math.floor(r.totalOps / (persistent ? 2 : 1)));
        // Background timing moves a few calls around, so a run may end before its k-th call.
        expect(r.faultsInjected).toBeGreaterThan(r.faultsTried * 0.95);
        expect(r.readOnlyChecks, 'failed syncs checked for READ_ONLY').toBeGreaterThan(0);
      });
    }
  }
});

describe('I/O errors during recovery', () => {
  it('a fault at each call of a recovery (once, and from then on) is typed, leaks nothing, and a later open recovers', async () => {
    const steps = makeWorkload(11, { steps: 60 });
    const history = new History(steps);
    // A crashed database with WAL records to replay: the power cut two thirds into the run.
    const capture = await captureCuts({ steps, dbOptions: TINY, mode: 'drop', seed: 11, stride: 1 });
    const cut = capture.cuts[Math.floor((capture.cuts.length * 2) / 3)]!;
    for (const persistent of [false, true]) {
      const r = await recoveryFaultSweep(cut.image, capture.path, { steps, history, dbOptions: TINY, atLeast: cut.syncAcked, atMost: cut.issued, persistent, seed: 11 });
      expect(r.recoveryOps).toBeGreaterThan(20);
      expect(r.faultsTried).toBe(r.recoveryOps);
      expect(r.openFailures, 'faults made some opens fail').toBeGreaterThan(0);
    }
  });
});
