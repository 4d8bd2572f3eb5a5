import { compareKeys, type RangeTombstone } from '@strata-db/memtable';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeDelAggregator, fragment } from './range-del-aggregator.js';

const k = (i: number): Uint8Array => Uint8Array.of(i);

const tombArb = fc
  .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 50 }))
  .map(([s, len, seq]): RangeTombstone => ({ start: k(s), end: k(s + len), seq }));

/** The brute-force answer: the highest seq ≤ snapshot among tombstones covering key. */
function naive(ts: readonly RangeTombstone[], key: Uint8Array, snap: number): number {
  let m = 0;
  for (const t of ts) if (t.seq <= snap && compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0 && t.seq > m) m = t.seq;
  return m;
}

describe('range-tombstone fragments', () => {
  it('example from the file header', () => {
    const f = fragment(
      [
        { start: k(1), end: k(11), seq: 5 },
        { start: k(3), end: k(5), seq: 9 },
        { start: k(4), end: k(13), seq: 3 },
      ],
      100,
    );
    expect(f.map((x) => [x.start[0], x.end[0], x.seq])).toEqual([
      [1, 3, 5],
      [3, 5, 9],
      [5, 11, 5],
      [11, 13, 3],
    ]);
  });

  it('answers like a brute-force scan, for keys in any order (the cursor)', () => {
    fc.assert(
      fc.property(fc.array(tombArb, { maxLength: 12 }), fc.integer({ min: 0, max: 60 }), fc.array(fc.integer({ min: 0, max: 45 }), { maxLength: 60 }), (ts, snap, keys) => {
        const agg = new RangeDelAggregator(ts, snap);
        const frags = agg.fragments;
        for (let i = 1; i < frags.length; i++) expect(compareKeys(frags[i - 1]!.end, frags[i]!.start)).toBeLessThanOrEqual(0);
        for (const key of [...keys, ...[...keys].sort((a, b) => a - b)]) expect(agg.maxCoveringSeq(k(key))).toBe(naive(ts, k(key), snap));
      }),
      { numRuns: 300 },
    );
  });
});
