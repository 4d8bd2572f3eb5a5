import { Memtable, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergedFlushEntries, mergedFlushTombstones } from './memtable-merge.js';

type Write = { t: 'put'; k: number; v: number } | { t: 'del'; k: number } | { t: 'range'; s: number; n: number };

const key = (k: number): Uint8Array => Buffer.from(`k${String(k).padStart(2, '0')}`);
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: fc.nat(20), v: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('range' as const), s: fc.nat(20), n: fc.integer({ min: 1, max: 5 }) }) },
);

/**
 * The model: a flush of several memtables writes the union of their versions — every one, as
 * written (nothing collapsed) — in table order: (key ASC, seq DESC) and (start ASC, seq DESC).
 */
const asPoint = (e: PointEntry): string => `${Buffer.from(e.key).toString()}@${e.seq}:${e.kind}:${Buffer.from(e.value).toString()}`;
const asTomb = (t: RangeTombstone): string => `${Buffer.from(t.start).toString()}-${Buffer.from(t.end).toString()}@${t.seq}`;
const cmp = (a: string, b: string): number => {
  const [ka, sa] = a.split('@') as [string, string];
  const [kb, sb] = b.split('@') as [string, string];
  const ska = ka.split('-')[0]!;
  const skb = kb.split('-')[0]!;
  return ska < skb ? -1 : ska > skb ? 1 : Number.parseInt(sb, 10) - Number.parseInt(sa, 10);
};

describe('merged flush of several frozen memtables', () => {
  it('writes every version of every memtable, in table order, points and tombstones apart', () => {
    fc.assert(
      fc.property(fc.array(fc.array(writeArb, { maxLength: 60 }), { minLength: 1, maxLength: 4 }), (perMemtable) => {
        let seq = 1;
        const mems = perMemtable.map((writes) => {
          const m = new Memtable();
          for (const w of writes) {
            if (w.t === 'put') m.put(key(w.k), Buffer.from(`v${w.v}`), seq++);
            else if (w.t === 'del') m.delete(key(w.k), seq++);
            else m.deleteRange(key(w.s), key(w.s + w.n), seq++);
          }
          return m.freeze();
        });
        const points = [...mergedFlushEntries(mems)].map(asPoint);
        const tombs = [...mergedFlushTombstones(mems)].map(asTomb);
        const wantPoints = mems.flatMap((m) => [...m.flushEntries()].map(asPoint)).sort(cmp);
        const wantTombs = mems.flatMap((m) => [...m.flushTombstones()].map(asTomb)).sort(cmp);
        expect(points).toEqual(wantPoints);
        expect(tombs).toEqual(wantTombs);
        // Nothing collapsed: as many as were written.
        expect(points.length + tombs.length).toBe(seq - 1);
      }),
      { numRuns: 300 },
    );
  });
});
