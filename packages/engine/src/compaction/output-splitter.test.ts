import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '@strata-db/memtable';
import { grandparentBoundaries, OutputSplitter, type SizedRange } from './output-splitter.js';

// Fixed-width keys, so that key order is number order.
const key = (i: number): Uint8Array => Buffer.from(`k${String(i).padStart(6, '0')}`);

/**
 * The splitter as it was before it read grandparent boundaries (session 21): the files
 * themselves, in a list. The boundaries must make every decision this one makes.
 */
class FileSplitter {
  private gpIndex = 0;
  private seenKey = false;
  private overlappedBytes = 0;
  constructor(
    private readonly targetFileSize: number,
    private readonly grandparents: readonly SizedRange[],
    private readonly maxGrandparentOverlapBytes: number,
  ) {}
  shouldCutBefore(k: Uint8Array, currentSize: number): boolean {
    const gp = this.grandparents;
    while (this.gpIndex < gp.length && compareKeys(k, gp[this.gpIndex]!.largestKey) > 0) {
      if (this.seenKey) this.overlappedBytes += gp[this.gpIndex]!.fileSize;
      this.gpIndex++;
    }
    this.seenKey = true;
    if (currentSize === 0) return false;
    if (currentSize >= this.targetFileSize || this.overlappedBytes > this.maxGrandparentOverlapBytes) {
      this.overlappedBytes = 0;
      return true;
    }
    return false;
  }
}

/** Sorted, disjoint grandparents over [0, 1000) with random sizes (keys of varying length: some files end on a longer key). */
const grandparentsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 999 }), { maxLength: 60, size: 'max' })
  .chain((points) => fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: points.length, maxLength: points.length }).map((sizes) => ({ points, sizes })))
  .map(({ points, sizes }) => {
    const sorted = [...points].sort((a, b) => a - b);
    const files: SizedRange[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      const largest = sizes[i]! % 3 === 0 ? Buffer.concat([key(sorted[i + 1]!), Buffer.from('x')]) : key(sorted[i + 1]!);
      files.push({ smallestKey: key(sorted[i]!), largestKey: largest, fileSize: sizes[i]! });
    }
    return files;
  });

/**
 * What a writer asks: ascending user keys — any, and the grandparents' own bounds (a key equal
 * to a largest key is still inside that grandparent) — each with the size of the table being
 * written then.
 */
function keysArb(gp: readonly SizedRange[]): fc.Arbitrary<{ key: Uint8Array; size: number }[]> {
  const candidates = [...Array.from({ length: 1100 }, (_, i) => key(i)), ...gp.flatMap((f) => [f.smallestKey, f.largestKey])];
  candidates.sort(compareKeys);
  const unique = candidates.filter((k, i) => i === 0 || compareKeys(candidates[i - 1]!, k) !== 0);
  return fc.uniqueArray(fc.integer({ min: 0, max: unique.length - 1 }), { maxLength: 300, size: 'max' }).chain((picked) =>
    fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: picked.length, maxLength: picked.length }).map((sizes) =>
      [...picked].sort((a, b) => a - b).map((at, i) => ({ key: unique[at]!, size: i === 0 ? 0 : sizes[i]! })),
    ),
  );
}

describe('OutputSplitter', () => {
  it('cuts where the grandparents say: a table that overlaps more than the limit of them ends before the next key', () => {
    const gp: SizedRange[] = [0, 1, 2, 3].map((i) => ({ smallestKey: key(i * 100), largestKey: key(i * 100 + 50), fileSize: 1000 }));
    const s = new OutputSplitter({ targetFileSize: 1e9, grandparents: grandparentBoundaries(gp), maxGrandparentOverlapBytes: 1500 });
    expect(s.shouldCutBefore(key(10), 0)).toBe(false);
    expect(s.shouldCutBefore(key(120), 10)).toBe(false); // passed one grandparent: 1000 bytes
    expect(s.shouldCutBefore(key(260), 20)).toBe(true); // passed two: 2000 > 1500
    expect(s.shouldCutBefore(key(270), 5)).toBe(false); // counted afresh in the new table
  });

  it('makes every decision the list of grandparent files made (property)', () => {
    fc.assert(
      fc.property(grandparentsArb.chain((gp) => fc.tuple(fc.constant(gp), keysArb(gp))), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 0, max: 12_000 }), ([gp, keys], target, maxOverlap) => {
        const files = new FileSplitter(target, gp, maxOverlap);
        const boundaries = new OutputSplitter({ targetFileSize: target, grandparents: grandparentBoundaries(gp), maxGrandparentOverlapBytes: maxOverlap });
        for (const { key: k, size } of keys) expect(boundaries.shouldCutBefore(k, size)).toBe(files.shouldCutBefore(k, size));
      }),
      { numRuns: 500 },
    );
  });

  it('boundaries survive a structured clone (a worker thread reads them as sent), each array with a buffer of its own', () => {
    const gp: SizedRange[] = Array.from({ length: 2000 }, (_, i) => ({ smallestKey: key(i * 3), largestKey: key(i * 3 + 1), fileSize: 2_000_000 + i }));
    const b = grandparentBoundaries(gp);
    expect(b.keys.byteLength).toBe(b.keys.buffer.byteLength);
    expect(b.keyEnds.byteLength).toBe(b.keyEnds.buffer.byteLength);
    expect(b.sizes.byteLength).toBe(b.sizes.buffer.byteLength);
    const copy = structuredClone(b);
    expect(copy).toEqual(b);
    // 7-byte keys + 4 + 8 bytes a grandparent, where the files' metadata took an object and two keys each.
    expect(copy.keys.byteLength + copy.keyEnds.byteLength + copy.sizes.byteLength).toBe(2000 * (7 + 4 + 8));
  });
});
