import { describe, expect, it } from 'vitest';
import { BloomFilter, BloomFilterBuilder } from './bloom.js';
import { BlockCache } from './block-cache.js';
import { Block } from './block-format.js';
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

describe('PartitionCache charged to a block cache', () => {
  it('charges the block cache exactly its usage through inserts, evictions, a file\'s eviction and clear, evicting blocks, never its partitions for blocks', () => {
    const data = (): Block => {
      const d = new Uint8Array(1000);
      d[d.length - 4] = 1; // one restart point at 0
      return new Block(d, 'b.sst', 0);
    };
    const blocks = new BlockCache(14 * data().charge); // full at 14 blocks, with no room to spare
    for (let i = 0; i < 20; i++) blocks.insert(9, i, data());
    const full = blocks.size;
    const cache = new PartitionCache(3_000, blocks);
    const one = new BloomFilter(filterContents(64), 'f.sst', 0).charge;
    const a = cache.slotsOf(1, 8);
    const b = cache.slotsOf(2, 8);
    for (let p = 0; p < 4; p++) {
      cache.insertFilter(a, p, new BloomFilter(filterContents(64), 'f.sst', 0));
      expect(blocks.charged).toBe(cache.usage);
      expect(blocks.usage + blocks.charged).toBeLessThanOrEqual(blocks.capacity);
    }
    expect(cache.usage).toBeLessThanOrEqual(3_000); // its own bound still holds
    expect(blocks.size).toBeLessThan(full); // blocks made room
    for (let i = 20; i < 40; i++) blocks.insert(9, i, data()); // a scan of blocks
    expect(cache.usage).toBeGreaterThanOrEqual(one); // partitions stay
    expect(blocks.usage + blocks.charged).toBeLessThanOrEqual(blocks.capacity);
    cache.insertFilter(b, 0, new BloomFilter(filterContents(64), 'f.sst', 0));
    expect(blocks.charged).toBe(cache.usage);
    cache.evictFile(2);
    expect(blocks.charged).toBe(cache.usage);
    cache.clear();
    expect(cache.usage).toBe(0);
    expect(blocks.charged).toBe(0);
  });
});

describe('PartitionCache room (what idle warming may fill)', () => {
  it('is what the capacity leaves, and, charged to a block cache, no more than that cache has free; a discarded buffer is recycled', () => {
    const cache = new PartitionCache(10_000);
    expect(cache.room).toBe(10_000);
    const slots = cache.slotsOf(1, 4);
    const f = new BloomFilter(filterContents(64), 'f.sst', 0);
    cache.insertFilter(slots, 0, f);
    expect(cache.room).toBe(10_000 - f.charge);

    const blocks = new BlockCache(5_000);
    const charged = new PartitionCache(10_000, blocks);
    expect(charged.room).toBe(5_000);
    const d = new Uint8Array(1000);
    d[d.length - 4] = 1;
    blocks.insert(9, 0, new Block(d, 'b.sst', 0));
    expect(charged.room).toBe(5_000 - blocks.usage);
    charged.insertFilter(charged.slotsOf(2, 2), 0, new BloomFilter(filterContents(64), 'f.sst', 0));
    expect(charged.room).toBe(5_000 - blocks.usage - blocks.charged);

    // A partition loaded but not kept (it did not fit): its buffer serves the next load.
    const buf = cache.buffer(700);
    cache.discard(buf);
    expect(cache.freeBufferBytes).toBe(buf.byteLength);
    expect(cache.buffer(700)).toBe(buf);
  });
});

describe('PartitionCache files', () => {
  const filter = (): BloomFilter => new BloomFilter(filterContents(64), 'f.sst', 0);

  it('keeps a file whose partitions were all evicted registered (its slots found again) and drops idle files at once when over 1,024 and half the map', () => {
    const cache = new PartitionCache(4 * filter().charge); // room for four filters
    let most = 0;
    let drops = 0;
    for (let f = 1; f <= 3000; f++) {
      const before = cache.registeredFiles;
      cache.insertFilter(cache.slotsOf(f, 2), 0, filter()); // evicts the oldest file's filter once full
      if (cache.registeredFiles < before) drops++;
      most = Math.max(most, cache.registeredFiles);
      expect(cache.size).toBeLessThanOrEqual(4);
    }
    expect(drops).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(1024 + 1 + 4); // idle ≤ 1,025 before a drop, beside four live
    // Churn over a few files: each keeps its one slots object, and the map does not grow.
    const few = [1, 2, 3, 4, 5, 6].map((f) => cache.slotsOf(10_000 + f, 2));
    for (const s of few) cache.insertFilter(s, 0, filter());
    const size = cache.registeredFiles;
    for (let round = 0; round < 50; round++) {
      for (const s of few) {
        expect(cache.slotsOf(s.fileNumber, 2)).toBe(s);
        if (s.at(1) === undefined) cache.insertFilter(s, 0, filter());
      }
    }
    expect(cache.registeredFiles).toBe(size);
    // An idle file's eviction (its table file deleted) unregisters it.
    const idle = few.find((s) => s.live === 0)!;
    expect(idle).toBeDefined();
    cache.evictFile(idle.fileNumber);
    expect(cache.registeredFiles).toBe(size - 1);
    expect(cache.slotsOf(idle.fileNumber, 2)).not.toBe(idle);
    // A live file's eviction drops its partitions and unregisters it.
    const live = few.find((s) => s.live > 0)!;
    const cached = cache.size;
    cache.evictFile(live.fileNumber);
    expect(cache.size).toBe(cached - 1);
    expect(cache.registeredFiles).toBe(size - 2);
  });
});
