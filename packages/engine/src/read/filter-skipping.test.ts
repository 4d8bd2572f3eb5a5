import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FilterSkipping, RESUME_AT, SAMPLE, SKIP_BELOW, WINDOW } from './filter-skipping.js';

/** One table probe at `level`, as read/get.ts makes it: returns whether the filter was asked. */
function probe(f: FilterSkipping, level: number, wouldReject: boolean): boolean {
  if (!f.probeFilter(level)) return false;
  f.record(level, wouldReject);
  return true;
}

describe('FilterSkipping', () => {
  it('starts probing, skips once a window rejects below SKIP_BELOW, and keeps other levels probing', () => {
    const f = new FilterSkipping(3);
    for (let i = 0; i < WINDOW - 1; i++) expect(probe(f, 2, false)).toBe(true);
    expect(f.isSkipping(2)).toBe(false); // not before the window is full
    expect(probe(f, 2, false)).toBe(true);
    expect(f.isSkipping(2)).toBe(true);
    // Level 1 rejects every probe: it keeps its filters.
    for (let i = 0; i < 4 * WINDOW; i++) expect(probe(f, 1, true)).toBe(true);
    expect(f.isSkipping(1)).toBe(false);
    expect(f.stats()[1]).toEqual({ level: 1, probes: 4 * WINDOW, rejects: 4 * WINDOW, skipped: 0, skipping: false });
  });

  it('keeps probing at a reject rate at or above SKIP_BELOW', () => {
    const f = new FilterSkipping(1);
    const every = Math.round(1 / SKIP_BELOW); // exactly SKIP_BELOW of the probes rejected
    for (let i = 0; i < 10 * WINDOW; i++) expect(probe(f, 0, i % every === 0)).toBe(true);
    expect(f.isSkipping(0)).toBe(false);
  });

  it('while skipping, asks the filter one probe in SAMPLE, and counts the others as skipped', () => {
    const f = new FilterSkipping(1);
    for (let i = 0; i < WINDOW; i++) probe(f, 0, false);
    expect(f.isSkipping(0)).toBe(true);
    let asked = 0;
    for (let i = 0; i < 100 * SAMPLE; i++) if (probe(f, 0, false)) asked++;
    expect(asked).toBe(100);
    const s = f.stats()[0]!;
    expect(s.skipped).toBe(100 * (SAMPLE - 1));
    expect(s.probes).toBe(WINDOW + 100);
    expect(f.isSkipping(0)).toBe(true); // the samples rejected nothing
  });

  it('resumes as soon as the samples reject RESUME_AT of a window (a workload of absent keys starts)', () => {
    const f = new FilterSkipping(1);
    for (let i = 0; i < WINDOW; i++) probe(f, 0, false);
    expect(f.isSkipping(0)).toBe(true);
    let n = 0;
    for (; f.isSkipping(0) && n < 100 * WINDOW * SAMPLE; n++) probe(f, 0, true);
    // RESUME_AT × WINDOW sampled rejects, one per SAMPLE probes: long before a window of samples.
    expect(n).toBe(RESUME_AT * WINDOW * SAMPLE);
    // Probing again: every probe asks the filter.
    for (let i = 0; i < 10; i++) expect(probe(f, 0, true)).toBe(true);
  });

  it("'always' never skips and 'never' always does; both still count", () => {
    const always = new FilterSkipping(1, 'always');
    for (let i = 0; i < 10 * WINDOW; i++) expect(probe(always, 0, false)).toBe(true);
    expect(always.stats()[0]).toMatchObject({ probes: 10 * WINDOW, skipped: 0, skipping: false });
    const never = new FilterSkipping(1, 'never');
    for (let i = 0; i < 10 * WINDOW; i++) expect(probe(never, 0, true)).toBe(false);
    expect(never.stats()[0]).toMatchObject({ probes: 0, skipped: 10 * WINDOW, skipping: true });
    never.mode = 'adaptive';
    expect(never.isSkipping(0)).toBe(false);
    expect(probe(never, 0, true)).toBe(true);
  });

  it('follows a changing reject rate: skips only after low-reject windows, resumes only after high-reject samples (model)', () => {
    // Phases of a reject rate; in each, a level that reached a steady state must be skipping
    // when the rate is below SKIP_BELOW / 2 and probing when above 2 × RESUME_AT.
    fc.assert(
      fc.property(fc.array(fc.record({ rate: fc.constantFrom(0, 0.01, 0.3, 0.6, 1), probes: fc.integer({ min: 1, max: 40_000 }) }), { minLength: 1, maxLength: 8 }), fc.integer(), (phases, seed) => {
        const f = new FilterSkipping(1);
        let x = seed >>> 0 || 1;
        const rand = (): number => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return (x >>> 0) / 2 ** 32;
        };
        let asked = 0;
        let skipped = 0;
        for (const { rate, probes } of phases) {
          for (let i = 0; i < probes; i++) {
            if (probe(f, 0, rand() < rate)) asked++;
            else skipped++;
          }
          // Long enough to settle: two windows of samples.
          if (probes >= 2 * WINDOW * SAMPLE) {
            if (rate < SKIP_BELOW / 2) expect(f.isSkipping(0)).toBe(true);
            if (rate > 2 * RESUME_AT) expect(f.isSkipping(0)).toBe(false);
          }
          // A high reject rate never leaves a level skipping for more than ~RESUME_AT × WINDOW samples.
          if (rate >= 0.6 && probes >= 4 * RESUME_AT * WINDOW * SAMPLE) expect(f.isSkipping(0)).toBe(false);
        }
        const s = f.stats()[0]!;
        expect(s.probes).toBe(asked);
        expect(s.skipped).toBe(skipped);
      }),
      { numRuns: 60 },
    );
  });
});
