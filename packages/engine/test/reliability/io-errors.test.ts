/**
 * EIO and ENOSPC at every file operation, once and from then on. Every failure must reach the
 * caller as a typed error, no promise may hang, nothing may escape as an unhandled rejection, no
 * descriptor may leak, a failed sync must leave the database refusing writes (READ_ONLY), and
 * reopening must give a prefix state holding everything acknowledged.
 */
import { describe, expect, it } from 'vitest';
import { TINY } from './support/db-driver.js';
import { ioFaultSweep } from './support/io-faults.js';
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
