import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CompressionSkip, PROBE_INTERVAL } from './compression-skip.js';

/**
 * Runs the rule over blocks whose would-be outcome is `shrinks[i]`; returns which were tried.
 * The builder does exactly this per data block (table-builder.ts, flushDataBlock).
 */
function run(shrinks: readonly boolean[], skip = new CompressionSkip()): boolean[] {
  return shrinks.map((s) => {
    const tried = skip.attempt();
    if (tried) skip.record(s);
    return tried;
  });
}

/**
 * The model, stated another way: block i is tried when fewer than 8 of the attempts since the
 * last one that shrank (or the table's start) were refused, or when i is a multiple of 16.
 */
function model(shrinks: readonly boolean[]): boolean[] {
  const tried: boolean[] = [];
  const attempted: number[] = [];
  for (let i = 0; i < shrinks.length; i++) {
    const lastShrank = attempted.findLastIndex((j) => shrinks[j]);
    const refusedSince = attempted.length - 1 - lastShrank;
    tried[i] = refusedSince < 8 || i % 16 === 0;
    if (tried[i]) attempted.push(i);
  }
  return tried;
}

// Runs of one kind, as tables hold them: a table's data is mostly of one kind, with turns.
const outcomes = fc
  .array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 300 })), { maxLength: 12 })
  .map((runs) => runs.flatMap(([s, n]) => Array<boolean>(n).fill(s)));
const anyOutcomes = fc.oneof(outcomes, fc.array(fc.boolean(), { maxLength: 600 }));

describe('CompressionSkip', () => {
  it('tries exactly the blocks the model says, and counts them', () => {
    fc.assert(
      fc.property(anyOutcomes, (shrinks) => {
        const skip = new CompressionSkip();
        const tried = run(shrinks, skip);
        expect(tried).toEqual(model(shrinks));
        expect(skip.attempts).toBe(tried.filter(Boolean).length);
        expect(skip.skipped).toBe(tried.length - skip.attempts);
      }),
    );
  });

  it('data that compresses is tried block by block, as without the rule; fewer than 8 refusals in a row never skip', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 600 }), (raw) => {
        // No eight refusals in a row: a refusal after seven is turned into a success.
        let inRow = 0;
        const shrinks = raw.map((s) => {
          const v = s || inRow === 7;
          inRow = v ? 0 : inRow + 1;
          return v;
        });
        expect(run(shrinks).every(Boolean)).toBe(true);
      }),
    );
  });

  it('incompressible data: attempts fall to about one block in 16', () => {
    const attempts = (n: number): number => run(Array<boolean>(n).fill(false)).filter(Boolean).length;
    // A 2 MiB table of 4 KiB blocks: ~512 data blocks. Blocks 0-7, then 16, 32, … 496.
    expect(attempts(512)).toBe(39);
    expect(attempts(10_000) / 10_000).toBeLessThan(1 / 15);
  });

  it('after data turns compressible, the first block tried comes within PROBE_INTERVAL - 1 blocks and every later block is tried', () => {
    fc.assert(
      fc.property(anyOutcomes, fc.integer({ min: PROBE_INTERVAL, max: 400 }), (before, n) => {
        const tried = run([...before, ...Array<boolean>(n).fill(true)]).slice(before.length);
        const first = tried.indexOf(true);
        expect(first).toBeGreaterThanOrEqual(0);
        expect(first).toBeLessThanOrEqual(PROBE_INTERVAL - 1);
        expect(tried.slice(first).every(Boolean)).toBe(true);
      }),
    );
  });

  it('the same outcomes give the same decisions (no clock, no randomness)', () => {
    fc.assert(
      fc.property(anyOutcomes, (shrinks) => {
        expect(run(shrinks)).toEqual(run(shrinks));
      }),
    );
  });
});
