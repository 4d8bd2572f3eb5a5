import { describe, expect, it } from 'vitest';
import { BloomFilter, BloomFilterBuilder } from './bloom.js';
import { PartitionCache } from './partition-cache.js';

/** A filter block's contents (bits + probe count) for `n` keys. */
function filterContents(n: number): Uint8Array {
  const b = new BloomFilterBuilder(10);
  for (let i = 0; i < n; i++) b.addKey(new TextEncoder().encode(`key-${i}`));
  return b.finish();
}

/** Loads `count` filters of 64 keys into slot 0.. of table 1, each evicting the one before (capacity: one filter). */
function churn(cache: PartitionCache, place: (contents: Uint8Array) => Uint8Array, count: number): void {
  const slots = cache.slotsOf(1, 2 * count);
  for (let p = 0; p < count; p++) cache.insertFilter(slots, p, new BloomFilter(place(filterContents(64)), 'f.sst', 0));
}

describe('PartitionCache buffers', () => {
  it('recycles an evicted filter read into a buffer it handed out', () => {
    const cache = new PartitionCache(200);
    churn(cache, (c) => {
      const buf = cache.buffer(c.length);
      buf.set(c);
      return buf.subarray(0, c.length);
    }, 3);
    expect(cache.freeBufferBytes).toBeGreaterThan(0);
    expect(cache.buffer(filterContents(64).length).byteLength).toBeGreaterThan(0);
    expect(cache.recycled).toBe(2); // the third load took the first's buffer, and this call the second's
  });

  it('never hands out a buffer it did not allocate (a filter decoded into a slice of Buffer\'s shared pool)', () => {
    const cache = new PartitionCache(200);
    const pooled: ArrayBufferLike[] = [];
    churn(cache, (c) => {
      // What a decompressor's small Buffer is: a view into the 8 KiB pool other Buffers share.
      const b = Buffer.allocUnsafe(c.length);
      expect(b.buffer.byteLength).toBe(Buffer.poolSize);
      b.set(c);
      pooled.push(b.buffer);
      return new Uint8Array(b.buffer, b.byteOffset, c.length);
    }, 3);
    expect(cache.freeBufferBytes).toBe(0);
    const next = cache.buffer(64);
    expect(pooled).not.toContain(next.buffer);
    expect(cache.recycled).toBe(0);
  });
});
