import { compareKeys, fragmentTombstones, type RangeTombstone } from '@strata-db/memtable';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileMetadata } from '../version/file-metadata.js';
import { RangeDelAggregator } from './range-del-aggregator.js';

const k = (i: number): Uint8Array => Uint8Array.of(i);

const tombArb = fc
  .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 3 }))
  .map(([s, len, source]) => ({ start: k(s), end: k(s + len), source }));

/** The brute-force answer: is key#seq hidden by a tombstone with seq ≤ snapshot? */
function naiveCovers(ts: readonly RangeTombstone[], key: Uint8Array, seq: number, snap: number): boolean {
  return ts.some((t) => t.seq <= snap && t.seq > seq && compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0);
}

describe('RangeDelAggregator', () => {
  it('over memtable lists, single tables and a level cut into tables, answers like a brute-force scan, for keys in any order', () => {
    fc.assert(
      fc.property(
        fc.array(tombArb, { maxLength: 24 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 44 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 45 }), fc.integer({ min: 0, max: 30 })), { maxLength: 60 }),
        (raw, cuts, snap, probes) => {
          const ts: RangeTombstone[] = raw.map((t, i) => ({ start: t.start, end: t.end, seq: i + 1 }));
          const bySource = (n: number): RangeTombstone[] => ts.filter((_, i) => raw[i]!.source === n);
          const agg = new RangeDelAggregator(snap);
          // Sources 0 and 1: memtables (one list each). Source 2: an L0 table. Source 3: a level
          // whose tables are cut at `cuts`, each holding its tombstones' pieces in its range.
          agg.addList(fragmentTombstones(bySource(0)));
          agg.addList(fragmentTombstones(bySource(1)));
          const tables = new Map<number, RangeTombstone[]>();
          const meta = (n: number, pieces: RangeTombstone[]): FileMetadata => {
            tables.set(n, pieces);
            let smallest = pieces[0]!.start;
            let largest = pieces[0]!.end;
            for (const p of pieces) {
              if (compareKeys(p.start, smallest) < 0) smallest = p.start;
              // The exclusive end as the (conservative) inclusive largest key, as tables record it.
              if (compareKeys(p.end, largest) > 0) largest = p.end;
            }
            const seqs = pieces.map((p) => p.seq);
            return { fileNumber: n, fileSize: 1, smallestKey: smallest, largestKey: largest, minSeq: Math.min(...seqs), maxSeq: Math.max(...seqs), entryCount: 0, deleteCount: 0, tombstoneCount: pieces.length, markedForCompaction: false };
          };
          const fragmentsOf = (f: FileMetadata) => fragmentTombstones(tables.get(f.fileNumber)!);
          const l0 = bySource(2);
          if (l0.length > 0) agg.addTables([meta(100, l0)], fragmentsOf);
          const level = fragmentTombstones(bySource(3));
          const bounds = [undefined, ...[...cuts].sort((a, b) => a - b).map(k), undefined];
          const files: FileMetadata[] = [];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const pieces = level.clip(bounds[i], bounds[i + 1]);
            if (pieces.length > 0) files.push(meta(200 + i, pieces));
          }
          agg.addTables(files, fragmentsOf);
          // Keys at the cuts too: where a table's largestKey is a tombstone's exclusive end and
          // the next table starts, both tables must be asked.
          const keys = [...probes, ...cuts.map((c): [number, number] => [c, 0])];
          for (const [key, seq] of [...keys, ...[...keys].sort((a, b) => a[0] - b[0])]) {
            expect(agg.covers(k(key), seq), `key ${key} seq ${seq} snapshot ${snap}`).toBe(naiveCovers(ts, k(key), seq, snap));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('costs nothing to create: no source list is read until a key is asked about', () => {
    let opened = 0;
    const agg = new RangeDelAggregator(100);
    const f: FileMetadata = { fileNumber: 1, fileSize: 1, smallestKey: k(10), largestKey: k(20), minSeq: 1, maxSeq: 9, entryCount: 0, deleteCount: 0, tombstoneCount: 1, markedForCompaction: false };
    agg.addTables([f], () => {
      opened++;
      return fragmentTombstones([{ start: k(10), end: k(20), seq: 9 }]);
    });
    expect(opened).toBe(0);
    expect(agg.covers(k(5), 1)).toBe(false);
    expect(agg.covers(k(30), 1)).toBe(false);
    expect(opened).toBe(0);
    expect(agg.covers(k(15), 1)).toBe(true);
    expect(agg.covers(k(15), 9)).toBe(false);
    expect(opened).toBe(1);
  });
});
