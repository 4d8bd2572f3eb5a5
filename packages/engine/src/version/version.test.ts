import fc from 'fast-check';
import { compareKeys } from '@strata-db/memtable';
import { describe, expect, it } from 'vitest';
import type { FileMetadata } from './file-metadata.js';
import { ABOVE, BELOW, LevelSearch } from './level-search.js';
import { Version } from './version.js';

const file = (n: number, smallestKey: Uint8Array, largestKey: Uint8Array): FileMetadata => ({
  fileNumber: n,
  fileSize: 1,
  smallestKey,
  largestKey,
  minSeq: 1,
  maxSeq: 1,
  entryCount: 1,
  deleteCount: 0,
  tombstoneCount: 0,
  markedForCompaction: false,
});

/** Keys over a tiny alphabet with a long shared prefix or none, of varied lengths. */
const keyArb = fc.tuple(fc.constantFrom(new Uint8Array(0), Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7, 7)), fc.uint8Array({ max: 3, maxLength: 9 })).map(([p, s]) => {
  const k = new Uint8Array(p.length + s.length);
  k.set(p);
  k.set(s, p.length);
  return k;
});

describe('Version.findFileFast', () => {
  it('finds the same file as the plain binary search, whatever the keys share', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { minLength: 1, maxLength: 40, selector: (k) => Buffer.from(k).toString('hex') }), fc.array(keyArb, { maxLength: 30 }), (keys, probes) => {
        const sorted = [...keys].sort(compareKeys);
        // Each file is one key (smallest = largest): disjoint and sorted.
        const files = sorted.map((k, i) => file(i + 1, k, k));
        const v = new Version([[], files]);
        for (const p of [...probes, ...sorted]) expect(v.findFileFast(1, p)).toBe(Version.findFile(files, p));
      }),
      { numRuns: 500 },
    );
  });
});

describe('LevelSearch', () => {
  it('decides key-range checks as compareKeys does, for overlapping (L0) files too', () => {
    const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, keyArb), { minLength: 1, maxLength: 12 }), fc.array(keyArb, { maxLength: 30 }), (ranges, probes) => {
        // Any ranges, overlapping as L0's do: smallest ≤ largest each.
        const files = ranges.map(([a, b], i) => (compareKeys(a, b) <= 0 ? file(i + 1, a, b) : file(i + 1, b, a)));
        const s = new LevelSearch(files);
        for (const p of probes) {
          const target = s.keyPosition(p);
          const below = files.every((f) => compareKeys(p, f.smallestKey) < 0);
          const above = files.every((f) => compareKeys(p, f.largestKey) > 0);
          if (target === BELOW) expect(below).toBe(true);
          else if (target === ABOVE) expect(above).toBe(true);
          else {
            expect(target).toBeGreaterThanOrEqual(0);
            files.forEach((f, i) => {
              expect(sign(s.compareSmallest(i, p, target))).toBe(sign(compareKeys(p, f.smallestKey)));
              expect(sign(s.compareLargest(i, p, target))).toBe(sign(compareKeys(p, f.largestKey)));
              expect(s.fileNumber(i)).toBe(f.fileNumber);
            });
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
