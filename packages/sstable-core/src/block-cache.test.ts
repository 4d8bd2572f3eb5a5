import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Block, BLOCK_OVERHEAD } from './block-format.js';
import { BlockCache } from './block-cache.js';
import { allocUnsharedBytes } from './buffer-pool.js';

const block = (size: number): Block => {
  const data = new Uint8Array(Math.max(8, size));
  data[data.length - 4] = 1; // one restart point at 0
  return new Block(data.subarray(0, data.length), 'c.sst', 0);
};

describe('BlockCache', () => {
  it('stays within its byte budget, evicting the least recently used', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 3);
    cache.insert(1, 0, block(1000));
    cache.insert(1, 1, block(1000));
    cache.insert(2, 0, block(1000));
    expect(cache.get(1, 0)).toBeDefined(); // now most recent
    cache.insert(2, 1, block(1000)); // evicts (1, 1)
    expect(cache.usage).toBeLessThanOrEqual(cache.capacity);
    expect(cache.get(1, 1)).toBeUndefined();
    expect(cache.get(1, 0)).toBeDefined();
    expect(cache.get(2, 0)).toBeDefined();
    expect(cache.get(2, 1)).toBeDefined();
    expect(cache.hits).toBe(4);
    expect(cache.misses).toBe(1);
    expect(cache.size).toBe(3);
  });

  it('admits every point read while blocks fit; once full, a block only on its second miss', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 2);
    expect(cache.admitPoint(7, 0, one)).toBe(true); // room: kept without being seen before
    cache.insert(7, 0, block(1000));
    expect(cache.admitPoint(7, 1, one)).toBe(true);
    cache.insert(7, 1, block(1000));
    // Full: the first miss of a block is declined, the second admitted; other blocks are not.
    expect(cache.admitPoint(7, 2, one)).toBe(false);
    expect(cache.admitPoint(8, 2, one)).toBe(false); // same block number, another file
    expect(cache.admitPoint(7, 3, one)).toBe(false);
    expect(cache.admitPoint(7, 2, one)).toBe(true);
    expect(cache.admitPoint(8, 2, one)).toBe(true);
    expect(cache.declined).toBe(3);
    // Most of 1,000 blocks each missed once are declined (the ghost has 256 entries here).
    let admitted = 0;
    for (let i = 1000; i < 2000; i++) if (cache.admitPoint(9, i, one)) admitted++;
    expect(admitted).toBeLessThan(10);
    expect(cache.usage).toBe(2 * one); // admission inserts nothing by itself
  });

  it('lets a hot set in once full of other blocks: a new block is swept last, a whole turn after its insert', () => {
    // Point reads as Table.find makes them: a hit, or a miss, admitPoint and (if admitted) insert.
    // Blocks are read at random from one set at a time: a cold set far larger than the cache, then
    // hot sets that fit (a fifth and a third of it). Appending new entries at the ring's end put
    // them only a few inserts ahead of the hand once it neared the end: the hot sets stayed at
    // 22% and 90% misses on session 32's 10M-key probe (here the first at 32%), older blocks kept.
    const one = block(1000).charge;
    const blocks = 1000;
    const cache = new BlockCache(one * blocks);
    let s = 7;
    const read = (file: number, set: number, n: number): number => {
      let misses = 0;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const b = (s >>> 8) % set;
        if (cache.get(file, b) !== undefined) continue;
        misses++;
        if (cache.admitPoint(file, b, one)) cache.insert(file, b, block(1000));
      }
      return misses / n;
    };
    read(1, 20 * blocks, 40 * blocks);
    read(2, 200, 20 * blocks);
    expect(read(2, 200, 5 * blocks)).toBeLessThan(0.01);
    read(3, 333, 20 * blocks);
    expect(read(3, 333, 5 * blocks)).toBeLessThan(0.01);
    expect(cache.usage).toBeLessThanOrEqual(cache.capacity);
  });

  it('keys by file number and block number: equal block numbers of different tables do not collide', () => {
    const cache = new BlockCache(1 << 20);
    const a = block(100);
    const b = block(100);
    cache.insert(1, 0, a);
    cache.insert(2, 0, b);
    expect(cache.get(1, 0)).toBe(a);
    expect(cache.get(2, 0)).toBe(b);
    cache.evictFile(1);
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.get(2, 0)).toBe(b);
    expect(cache.usage).toBe(b.charge);
    cache.clear();
    expect(cache.usage).toBe(0);
  });

  it('keeps colliding keys apart, finds every key after deletions in the middle of a probe run, and grows its index with the blocks it holds', () => {
    const cache = new BlockCache(1 << 30);
    expect(cache.entryCapacity).toBe(256);
    const before = cache.indexBytes;
    // 3,000 blocks of 40 files (more than the 256 entries it starts with): many probe runs.
    const blocks = new Map<string, Block>();
    for (let f = 1; f <= 40; f++) {
      for (let i = 0; i < 75; i++) {
        const b = block(8);
        blocks.set(`${f}:${i}`, b);
        cache.insert(f * 1_000_003, i, b); // large file numbers: the key is the pair, not a sum
      }
    }
    expect(cache.size).toBe(3000);
    expect(cache.entryCapacity).toBe(4096);
    expect(cache.indexBytes).toBeGreaterThan(before);
    cache.evictFile(-1); // no such file: nothing goes
    expect(cache.size).toBe(3000);
    // Replace every third block (a removal and an insert each) and drop one whole file:
    // backward-shift deletion keeps every probe run whole.
    for (let f = 1; f <= 40; f++) {
      for (let i = 0; i < 75; i += 3) {
        const b = block(8);
        cache.insert(f * 1_000_003, i, b);
        blocks.set(`${f}:${i}`, b);
      }
    }
    cache.evictFile(7 * 1_000_003);
    const removed = 75;
    for (let f = 1; f <= 40; f++) {
      for (let i = 0; i < 75; i++) {
        const got = cache.get(f * 1_000_003, i);
        if (f === 7) expect(got).toBeUndefined();
        else expect(got).toBe(blocks.get(`${f}:${i}`));
      }
    }
    expect(cache.size).toBe(3000 - removed);
    expect(cache.usage).toBe((3000 - removed) * block(8).charge);
    // Equal block numbers of files 2^32 apart alias (file numbers are kept as Int32); others never.
    expect(cache.get(41 * 1_000_003, 0)).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.usage).toBe(0);
    expect(cache.entryCapacity).toBe(4096); // it never shrinks: bounded by the most blocks held at once
  });

  it('evicts with a full index: entries freed by eviction are reused, the index does not grow past the blocks the capacity holds', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 200);
    for (let i = 0; i < 20_000; i++) cache.insert(1 + (i % 97), i, block(1000));
    expect(cache.size).toBe(200);
    expect(cache.entryCapacity).toBe(256);
    expect(cache.usage).toBe(200 * one);
    for (let i = 20_000 - 200; i < 20_000; i++) expect(cache.get(1 + (i % 97), i)).toBeDefined(); // the newest 200
    expect(cache.get(1, 0)).toBeUndefined();
  });

  it('does not keep a block larger than the whole cache; replacing a block keeps the accounting right', () => {
    const cache = new BlockCache(1000);
    cache.insert(1, 0, block(2000));
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.usage).toBe(0);
    cache.insert(1, 0, block(100));
    cache.insert(1, 0, block(200));
    expect(cache.usage).toBe(block(200).charge);
    expect(cache.size).toBe(1);
    expect(() => new BlockCache(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('keeps blocks + what others charged within the capacity; refuses a block that what is left cannot hold', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 4);
    for (let i = 0; i < 4; i++) cache.insert(1, i, block(1000));
    expect(cache.usage).toBe(4 * one);
    cache.charge(one + 1); // two blocks go: blocks + charged ≤ capacity
    expect(cache.charged).toBe(one + 1);
    expect(cache.size).toBe(2);
    expect(cache.usage + cache.charged).toBeLessThanOrEqual(cache.capacity);
    expect(cache.admitPoint(1, 6, one)).toBe(false); // full counting the charge: a first miss is declined
    cache.insert(1, 4, block(1000)); // evicts one more
    expect(cache.size).toBe(2);
    expect(cache.get(1, 4)).toBeDefined(); // never the block being inserted
    cache.charge(2 * one); // more than what is left: no block stays
    expect(cache.size).toBe(0);
    expect(cache.insert(1, 5, block(1000))).toBe(false);
    expect(cache.get(1, 5)).toBeUndefined();
    cache.charge(-(3 * one + 1)); // given back: room again
    expect(cache.charged).toBe(0);
    expect(cache.admitPoint(1, 7, one)).toBe(true);
    expect(cache.insert(1, 5, block(1000))).toBe(true);
    expect(cache.usage).toBe(one);
  });

  it('evicts as CLOCK over every block ever inserted would (a model), while its ring holds at most ~2× the cached blocks', () => {
    // The model: the clock as a list without holes (an eviction splices its entry out). A new
    // entry goes just behind the hand when the last sweep step evicted (the ring fills that
    // hole), else at the end (clock-ring.ts, `push`).
    const model: { key: string; charge: number; referenced: boolean }[] = [];
    let hand = 0;
    let holeBehind = false;
    let used = 0;
    const sizes = [100, 700, 1500, 4000];
    const capacity = 60_000;
    const cache = new BlockCache(capacity);
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let maxRing = 0;
    for (let op = 0; op < 30_000; op++) {
      // Mostly a small hot set (hits), else anywhere (misses).
      const f = rand(10) < 7 ? rand(2) : rand(5);
      const i = rand(10) < 7 ? rand(20) : rand(200);
      const key = `${f}:${i}`;
      const entry = model.find((e) => e.key === key);
      expect(cache.get(f, i) !== undefined).toBe(entry !== undefined); // a hit marks it referenced
      if (entry !== undefined) {
        entry.referenced = true;
        continue;
      }
      const b = block(sizes[(f * 7 + i) % sizes.length]!);
      cache.insert(f, i, b);
      const added = { key, charge: b.charge, referenced: false };
      if (holeBehind) model.splice(hand++, 0, added);
      else model.push(added);
      holeBehind = false;
      used += b.charge;
      while (used > capacity) {
        if (hand >= model.length) hand = 0;
        const e = model[hand]!;
        if (e.referenced) {
          e.referenced = false;
          hand++;
        } else {
          model.splice(hand, 1);
          used -= e.charge;
          holeBehind = true;
        }
      }
      expect(cache.usage).toBe(used);
      expect(cache.size).toBe(model.length);
      maxRing = Math.max(maxRing, cache.ringLength);
    }
    expect(cache.misses + cache.hits).toBeGreaterThan(0);
    expect(maxRing).toBeLessThanOrEqual(2 * cache.size + 1024 + 2);
  });

  it('recycles a spare block (its buffer, view and object) for a block up to 512 bytes smaller, charging the whole buffer; not for a larger one', () => {
    const cache = new BlockCache(1 << 20);
    const spare = cache.spareBlock(4200); // a 4,224-byte buffer (64-byte classes)
    expect(spare.data.byteLength).toBe(4224);
    expect(cache.recycled).toBe(0);
    cache.recycle(spare);
    expect(cache.spareBlock(4300)).not.toBe(spare); // larger: a fresh one
    const smaller = cache.spareBlock(3800); // 3,840-byte class: 384 bytes of slack, reused
    expect(smaller).toBe(spare);
    expect(cache.recycled).toBe(1);
    cache.recycle(smaller);
    expect(cache.spareBlock(3000)).not.toBe(spare); // 1,224 bytes of slack: too much
    const block = cache.spareBlock(3800);
    expect(block).toBe(spare);
    block.data.fill(0);
    block.data[3800 - 4] = 1; // one restart point at 0, at the end of the 3,800 bytes
    block.reparse(3800, 'c.sst', 0);
    expect(block).toMatchObject({ numRestarts: 1, restartsOffset: 3800 - 8, file: 'c.sst' });
    cache.insert(1, 0, block, true);
    expect(cache.usage).toBe(4224 + BLOCK_OVERHEAD); // the whole buffer
    // Evicted (replaced here), the recyclable block is the next spare of its class; an exposed one is not.
    const other = cache.spareBlock(3800);
    expect(other).not.toBe(block);
    cache.insert(1, 0, new Block(new Uint8Array(8).fill(0, 0, 4).fill(1, 4, 5), 'c.sst', 0));
    expect(cache.spareBlock(3800)).toBe(block);
    cache.insert(1, 1, block, true);
    expect(cache.get(1, 1)).toBe(block); // a point read's hit leaves it recyclable …
    cache.evictFile(1);
    expect(cache.spareBlock(3800)).toBe(block); // … so its eviction recycles it
    cache.insert(1, 1, block, true);
    expect(cache.get(1, 1, true)).toBe(block); // exposed: a reader may keep views into it
    cache.evictFile(1);
    expect(cache.spareBlock(3800)).not.toBe(block);
  });

  it('never hands out a buffer it did not allocate, even one of a whole size class (a decompressed block, a compaction ring slot, a caller\'s)', () => {
    const cache = new BlockCache(1 << 20);
    // Each of these is a whole ArrayBuffer of a whole 64-byte class: what a size check alone accepts.
    const foreign = (bytes: number): Block => {
      const data = allocUnsharedBytes(bytes); // as the compaction ring's slots and a decoder's output are
      data.fill(0);
      data[bytes - 4] = 1; // one restart point at 0
      return new Block(data, 'c.sst', 0);
    };
    const given = foreign(4160);
    cache.recycle(given);
    expect(cache.freeBufferBytes).toBe(0);
    const inserted = foreign(4096);
    cache.insert(1, 0, inserted, true); // even marked recyclable by mistake
    cache.evictFile(1);
    expect(cache.freeBufferBytes).toBe(0);
    const a = cache.spareBlock(4160);
    const b = cache.spareBlock(4096);
    for (const s of [a, b]) {
      expect(s).not.toBe(given);
      expect(s).not.toBe(inserted);
      expect(s.data.buffer).not.toBe(given.data.buffer);
      expect(s.data.buffer).not.toBe(inserted.data.buffer);
    }
    expect(cache.recycled).toBe(0);
    // The cache's own spare blocks still go round.
    cache.recycle(a);
    expect(cache.freeBufferBytes).toBe(4160);
    expect(cache.spareBlock(4100)).toBe(a);
    expect(cache.recycled).toBe(1);
  });

  it('behaves as a model (a map of blocks under a byte bound) through inserts, lookups, charges, file evictions and clears', () => {
    type Op =
      | { op: 'insert'; file: number; index: number; size: number; recyclable: boolean }
      | { op: 'get'; file: number; index: number; expose: boolean }
      | { op: 'charge'; bytes: number }
      | { op: 'evictFile'; file: number }
      | { op: 'clear' };
    const key = fc.record({ file: fc.integer({ min: 0, max: 6 }), index: fc.integer({ min: 0, max: 40 }) });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), size: fc.constantFrom(8, 100, 900, 3000), recyclable: fc.boolean() }).chain((o) => key.map((k) => ({ ...o, ...k }))) },
      { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), expose: fc.boolean() }).chain((o) => key.map((k) => ({ ...o, ...k }))) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('charge' as const), bytes: fc.integer({ min: -3000, max: 3000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('evictFile' as const), file: fc.integer({ min: 0, max: 6 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.array(op, { maxLength: 400 }), (capacity, ops) => {
        const cache = new BlockCache(capacity);
        // The model: what is cached, by key. Eviction order is CLOCK's (tested above against a
        // clock model); here: nothing cached that was not inserted, the newest insert of a key
        // wins, evicted keys stay gone, hits and misses counted, the byte bound held.
        const model = new Map<string, Block>();
        let charged = 0;
        let hits = 0;
        let misses = 0;
        for (const o of ops) {
          if (o.op === 'insert') {
            const b = o.recyclable ? cache.spareBlock(o.size) : block(o.size);
            if (o.recyclable) {
              b.data.fill(0);
              b.data[o.size - 4] = 1;
              b.reparse(o.size, 'c.sst', 0);
            }
            const kept = cache.insert(o.file, o.index, b, o.recyclable);
            expect(kept).toBe(b.charge <= capacity - charged);
            if (kept) model.set(`${o.file}:${o.index}`, b);
            else if (o.recyclable) cache.recycle(b);
          } else if (o.op === 'get') {
            const got = cache.get(o.file, o.index, o.expose);
            const want = model.get(`${o.file}:${o.index}`);
            if (got === undefined) {
              misses++;
              model.delete(`${o.file}:${o.index}`); // evicted since
            } else {
              hits++;
              expect(got).toBe(want);
            }
          } else if (o.op === 'charge') {
            const bytes = Math.max(o.bytes, -charged);
            cache.charge(bytes);
            charged += bytes;
          } else if (o.op === 'evictFile') {
            cache.evictFile(o.file);
            for (const k of [...model.keys()]) if (k.startsWith(`${o.file}:`)) model.delete(k);
          } else {
            cache.clear();
            model.clear();
          }
          expect(cache.size).toBeLessThanOrEqual(model.size);
          expect(cache.usage + cache.charged).toBeLessThanOrEqual(Math.max(capacity, cache.charged));
          expect(cache.charged).toBe(charged);
        }
        // Everything the cache still holds is what the model last put there, and its bytes add up.
        let usage = 0;
        let size = 0;
        for (const [k, want] of model) {
          const [f, i] = k.split(':').map(Number) as [number, number];
          const got = cache.get(f, i);
          if (got === undefined) {
            misses++;
            continue;
          }
          hits++;
          expect(got).toBe(want);
          usage += got.charge;
          size++;
        }
        expect(cache.usage).toBe(usage);
        expect(cache.size).toBe(size);
        expect(cache.hits).toBe(hits);
        expect(cache.misses).toBe(misses);
      }),
      { numRuns: 300 },
    );
  });
});
