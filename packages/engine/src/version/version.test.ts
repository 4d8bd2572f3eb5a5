import fc from 'fast-check';
import { compareKeys } from '@strata-db/memtable';
import { describe, expect, it } from 'vitest';
import type { FileMetadata } from './file-metadata.js';
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

describe('Version.findFileFast', () => {
  it('finds the same file as the plain binary search, whatever the keys share', () => {
    // Keys over a tiny alphabet with a long shared prefix or none, of varied lengths.
    const keyArb = fc.tuple(fc.constantFrom(new Uint8Array(0), Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7, 7)), fc.uint8Array({ max: 3, maxLength: 9 })).map(([p, s]) => {
      const k = new Uint8Array(p.length + s.length);
      k.set(p);
      k.set(s, p.length);
      return k;
    });
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
