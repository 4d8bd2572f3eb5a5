import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareEntries, compareKeys, EntryKind, type PointEntry } from '@strata-db/memtable';
import { Block, BlockBuilder } from '@strata-db/sstable-core';
import { DataBlockIterator } from './index.js';
import { scanBackward, scanForward } from './test-support/tables.js';
import { show } from './test-support/model.js';

const entries = fc
  .array(
    fc.record({
      key: fc.uint8Array({ maxLength: 8, max: 3 }),
      seq: fc.integer({ min: 0, max: 50 }),
      kind: fc.constantFrom(EntryKind.Put, EntryKind.Delete),
      value: fc.uint8Array({ maxLength: 10 }),
    }),
    { maxLength: 60 },
  )
  .map((raw) =>
    raw
      .map((e): PointEntry => (e.kind === EntryKind.Delete ? { ...e, value: new Uint8Array(0) } : e))
      .sort(compareEntries)
      .filter((e, i, a) => i === 0 || compareEntries(a[i - 1]!, e) !== 0),
  );

function blockOf(list: readonly PointEntry[], interval: number): Block {
  const b = new BlockBuilder(interval);
  for (const e of list) b.add(e.key, e.seq, e.kind, e.value);
  return new Block(b.finish().slice(), 'block.sst', 0);
}

describe('DataBlockIterator', () => {
  it('scans, seeks and seeksForPrev like the model, then moves both ways from there', () => {
    fc.assert(
      fc.property(entries, fc.integer({ min: 1, max: 6 }), fc.array(fc.uint8Array({ maxLength: 8, max: 3 }), { maxLength: 10 }), (list, interval, targets) => {
        const it = new DataBlockIterator(blockOf(list, interval));
        expect(scanForward(it).map(show)).toEqual(list.map(show));
        expect(scanBackward(it).map(show)).toEqual(list.map(show).reverse());
        for (const t of targets) {
          it.seek(t);
          const i = list.findIndex((e) => compareKeys(e.key, t) >= 0);
          expect(it.valid()).toBe(i >= 0);
          if (i >= 0) {
            expect(show(it.entry())).toBe(show(list[i]!));
            it.prev();
            expect(it.valid()).toBe(i > 0);
            if (i > 0) expect(show(it.entry())).toBe(show(list[i - 1]!));
          }
          it.seekForPrev(t);
          const j = list.findLastIndex((e) => compareKeys(e.key, t) <= 0);
          expect(it.valid()).toBe(j >= 0);
          if (j >= 0) {
            expect(show(it.entry())).toBe(show(list[j]!));
            it.next();
            expect(it.valid()).toBe(j + 1 < list.length);
            if (j + 1 < list.length) expect(show(it.entry())).toBe(show(list[j + 1]!));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('entry() while not positioned is a typed error; an entry outlives the move', () => {
    const list: PointEntry[] = [
      { key: new Uint8Array([1]), seq: 2, kind: EntryKind.Put, value: new Uint8Array([9]) },
      { key: new Uint8Array([1, 2]), seq: 1, kind: EntryKind.Put, value: new Uint8Array([8]) },
    ];
    const it = new DataBlockIterator(blockOf(list, 16));
    expect(() => it.entry()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    it.seekToFirst();
    const first = it.entry();
    it.next();
    expect([...first.key]).toEqual([1]);
    expect([...it.entry().key]).toEqual([1, 2]);
  });
});
