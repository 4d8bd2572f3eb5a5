import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { POOL_SUPERBLOCK, POOL_UNIT, WindowPool } from './window-pool.js';

const SIZES = [POOL_UNIT, 2 * POOL_UNIT, 4 * POOL_UNIT, POOL_SUPERBLOCK];

describe('WindowPool', () => {
  it('hands a block given back to the next taker of its size, without growing', () => {
    const pool = new WindowPool(4 * POOL_SUPERBLOCK);
    const a = pool.take(POOL_SUPERBLOCK)!;
    expect(a.length).toBe(POOL_SUPERBLOCK);
    expect(pool.residentBytes).toBe(POOL_SUPERBLOCK);
    pool.give(a);
    const b = pool.take(POOL_SUPERBLOCK)!;
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(pool.residentBytes).toBe(POOL_SUPERBLOCK);
  });

  it('splits a superblock into small blocks and merges them back when all are given back', () => {
    const pool = new WindowPool(4 * POOL_SUPERBLOCK);
    const small = Array.from({ length: POOL_SUPERBLOCK / POOL_UNIT }, () => pool.take(POOL_UNIT)!);
    expect(pool.residentBytes).toBe(POOL_SUPERBLOCK); // eight 64 KiB blocks from one superblock
    for (const s of small) pool.give(s);
    expect(pool.inUseBytes).toBe(0);
    const whole = pool.take(POOL_SUPERBLOCK)!;
    expect(whole.byteOffset).toBe(0); // the buddies merged: no second superblock
    expect(pool.residentBytes).toBe(POOL_SUPERBLOCK);
  });

  it('stays within its bound: undefined when full, blocks again once given back', () => {
    const pool = new WindowPool(2 * POOL_SUPERBLOCK);
    const a = pool.take(POOL_SUPERBLOCK)!;
    const b = pool.take(POOL_SUPERBLOCK)!;
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(pool.take(POOL_UNIT)).toBeUndefined();
    pool.give(b);
    expect(pool.take(POOL_UNIT)).toBeDefined();
    expect(pool.residentBytes).toBe(2 * POOL_SUPERBLOCK);
  });

  it('answers undefined for a size that is not one of its blocks', () => {
    const pool = new WindowPool();
    for (const n of [0, 1024, POOL_UNIT + 4096, 3 * POOL_UNIT, 2 * POOL_SUPERBLOCK]) expect(pool.take(n)).toBeUndefined();
    expect(pool.residentBytes).toBe(0);
  });

  it('refuses a block given back twice, or one it did not hand out', () => {
    const pool = new WindowPool(POOL_SUPERBLOCK);
    const a = pool.take(POOL_UNIT)!;
    pool.give(a);
    expect(() => { pool.give(a); }).toThrow(/given back/);
    expect(() => { pool.give(new Uint8Array(POOL_UNIT)); }).toThrow(/given back/);
    expect(pool.owns(new Uint8Array(POOL_UNIT))).toBe(false);
  });

  it('never hands out overlapping blocks: what a taker writes stays its own (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(3), fc.nat(40)), { maxLength: 80 }), (ops) => {
        const pool = new WindowPool(6 * POOL_SUPERBLOCK);
        const held: { buf: Uint8Array; mark: number }[] = [];
        let mark = 0;
        for (const [take, sizeIndex, pick] of ops) {
          if (take || held.length === 0) {
            const buf = pool.take(SIZES[sizeIndex]!);
            if (buf === undefined) {
              // Full: only once every superblock the bound allows is carved.
              expect(pool.residentBytes).toBe(6 * POOL_SUPERBLOCK);
              continue;
            }
            expect(buf.length).toBe(SIZES[sizeIndex]);
            mark = (mark % 250) + 1;
            buf.fill(mark);
            held.push({ buf, mark });
          } else {
            const [h] = held.splice(pick % held.length, 1);
            pool.give(h!.buf);
          }
          // Every block still held has only its own taker's bytes: no two overlap.
          for (const h of held) {
            expect(h.buf[0]).toBe(h.mark);
            expect(h.buf[h.buf.length - 1]).toBe(h.mark);
            expect(h.buf[h.buf.length >> 1]).toBe(h.mark);
          }
          expect(pool.inUseBytes).toBe(held.reduce((n, h) => n + h.buf.length, 0));
          expect(pool.residentBytes).toBeLessThanOrEqual(6 * POOL_SUPERBLOCK);
        }
        for (const h of held) pool.give(h.buf);
        // Everything given back merges into whole superblocks again.
        const wholes = Array.from({ length: pool.residentBytes / POOL_SUPERBLOCK }, () => pool.take(POOL_SUPERBLOCK));
        expect(wholes.every((w) => w !== undefined)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
