import { describe, expect, it } from 'vitest';
import { Block } from './block-format.js';
import { BlockCache, FileSlots } from './block-cache.js';
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
    const f1 = cache.slotsOf(1, 4);
    const f2 = cache.slotsOf(2, 4);
    cache.insert(f1, 0, block(1000));
    cache.insert(f1, 1, block(1000));
    cache.insert(f2, 0, block(1000));
    expect(cache.get(1, 0)).toBeDefined(); // now most recent
    cache.insert(f2, 1, block(1000)); // evicts (1, 1)
    expect(cache.usage).toBeLessThanOrEqual(cache.capacity);
    expect(cache.get(1, 1)).toBeUndefined();
    expect(f1.blocks[1]).toBeUndefined(); // the reader's slot is emptied too
    expect(cache.get(1, 0)).toBeDefined();
    expect(cache.get(2, 0)).toBeDefined();
    expect(cache.get(2, 1)).toBeDefined();
    expect(cache.hits).toBe(4);
    expect(cache.misses).toBe(1);
  });

  it('admits every point read while blocks fit; once full, a block only on its second miss', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 2);
    const f = cache.slotsOf(7, 100);
    expect(cache.admitPoint(7, 0, one)).toBe(true); // room: kept without being seen before
    cache.insert(f, 0, block(1000));
    expect(cache.admitPoint(7, 1, one)).toBe(true);
    cache.insert(f, 1, block(1000));
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

  it('keys by file number and block number: equal block numbers of different tables do not collide', () => {
    const cache = new BlockCache(1 << 20);
    const a = block(100);
    const b = block(100);
    cache.insert(cache.slotsOf(1, 1), 0, a);
    cache.insert(cache.slotsOf(2, 1), 0, b);
    expect(cache.get(1, 0)).toBe(a);
    expect(cache.get(2, 0)).toBe(b);
    cache.evictFile(1);
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.get(2, 0)).toBe(b);
    expect(cache.usage).toBe(b.charge);
    cache.clear();
    expect(cache.usage).toBe(0);
  });

  it('shares the slots of a file between its readers while any of its blocks is cached, and forgets them after', () => {
    const cache = new BlockCache(1 << 20);
    const first = cache.slotsOf(7, 3);
    expect(cache.slotsOf(7, 3)).not.toBe(first); // nothing cached yet: nothing registered
    const a = block(100);
    cache.insert(first, 2, a);
    const second = cache.slotsOf(7, 3); // a second reader of file 7 sees the first one's block
    expect(second).toBe(first);
    expect(second.blocks[2]).toBe(a);
    cache.insert(first, 0, block(100));
    expect(first.live).toBe(2);
    expect(cache.fileCount).toBe(1);
    expect(cache.slotBytes).toBe(3 * FileSlots.BYTES_PER_BLOCK);
    cache.insert(cache.slotsOf(8, 5), 4, block(100));
    expect(cache.slotBytes).toBe(8 * FileSlots.BYTES_PER_BLOCK);
    cache.evictFile(8);
    cache.evictFile(7);
    expect(cache.fileCount).toBe(0);
    expect(cache.slotBytes).toBe(0);
    expect(first.blocks).toEqual([undefined, undefined, undefined]);
    expect(first.live).toBe(0);
    expect(cache.slotsOf(7, 3)).not.toBe(first);
    // A reader still holding the old slots registers them again with its next insert.
    cache.insert(first, 1, block(100));
    expect(cache.slotsOf(7, 3)).toBe(first);
    expect(cache.slotBytes).toBe(3 * FileSlots.BYTES_PER_BLOCK);
    expect(cache.get(7, 1)).toBeDefined();
  });

  it('does not keep a block larger than the whole cache; replacing a block keeps the accounting right', () => {
    const cache = new BlockCache(500);
    const f = cache.slotsOf(1, 1);
    cache.insert(f, 0, block(1000));
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.usage).toBe(0);
    cache.insert(f, 0, block(100));
    cache.insert(f, 0, block(200));
    expect(cache.usage).toBe(block(200).charge);
    expect(f.live).toBe(1);
    expect(() => new BlockCache(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('keeps blocks + what others charged within the capacity; refuses a block that what is left cannot hold', () => {
    const one = block(1000).charge;
    const cache = new BlockCache(one * 4);
    const f = cache.slotsOf(1, 8);
    for (let i = 0; i < 4; i++) cache.insert(f, i, block(1000));
    expect(cache.usage).toBe(4 * one);
    cache.charge(one + 1); // two blocks go: blocks + charged ≤ capacity
    expect(cache.charged).toBe(one + 1);
    expect(cache.size).toBe(2);
    expect(cache.usage + cache.charged).toBeLessThanOrEqual(cache.capacity);
    expect(cache.admitPoint(1, 6, one)).toBe(false); // full counting the charge: a first miss is declined
    cache.insert(f, 4, block(1000)); // evicts one more
    expect(cache.size).toBe(2);
    expect(f.blocks[4]).toBeDefined(); // never the block being inserted
    cache.charge(2 * one); // more than what is left: no block stays
    expect(cache.size).toBe(0);
    expect(cache.insert(f, 5, block(1000))).toBe(false);
    expect(f.blocks[5]).toBeUndefined();
    cache.charge(-(3 * one + 1)); // given back: room again
    expect(cache.charged).toBe(0);
    expect(cache.admitPoint(1, 7, one)).toBe(true);
    expect(cache.insert(f, 5, block(1000))).toBe(true);
    expect(cache.usage).toBe(one);
  });

  it('evicts as CLOCK over every block ever inserted would (a model), while its ring holds at most ~2× the cached blocks', () => {
    // The model: the clock as a list without holes (an eviction splices its entry out).
    const model: { key: string; charge: number; referenced: boolean }[] = [];
    let hand = 0;
    let used = 0;
    const sizes = [100, 700, 1500, 4000];
    const capacity = 60_000;
    const cache = new BlockCache(capacity);
    const files = [1, 2, 3, 4, 5].map((n) => cache.slotsOf(n, 200));
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
      const slots = files[f]!;
      const entry = model.find((e) => e.key === key);
      expect(slots.blocks[i] !== undefined).toBe(entry !== undefined);
      if (entry !== undefined) {
        cache.hit(slots, i);
        entry.referenced = true;
        continue;
      }
      const b = block(sizes[(f * 7 + i) % sizes.length]!);
      cache.insert(slots, i, b);
      model.push({ key, charge: b.charge, referenced: false });
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
    const slots = cache.slotsOf(1, 2);
    cache.insert(slots, 0, block, true);
    expect(cache.usage).toBe(4224 + 160); // the whole buffer
    // Evicted (replaced here), the recyclable block is the next spare of its class; an exposed one is not.
    const other = cache.spareBlock(3800);
    expect(other).not.toBe(block);
    cache.insert(slots, 0, new Block(new Uint8Array(8).fill(0, 0, 4).fill(1, 4, 5), 'c.sst', 0));
    expect(cache.spareBlock(3800)).toBe(block);
    cache.insert(slots, 1, block, true);
    cache.expose(slots, 1);
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
    const slots = cache.slotsOf(1, 2);
    const inserted = foreign(4096);
    cache.insert(slots, 0, inserted, true); // even marked recyclable by mistake
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
});
