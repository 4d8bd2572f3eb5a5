import { describe, expect, it } from 'vitest';
import { BUFFER_CLASS, BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('takes a free buffer up to MAX_SLACK_CLASSES classes larger by default, up to 1/slackFraction larger when given one', () => {
    const fixed = BufferPool.ofBytes();
    const big = fixed.take(10_048);
    fixed.give(big);
    expect(fixed.take(9_000)).not.toBe(big); // 1,048 bytes of slack: more than 8 classes
    expect(fixed.take(9_600)).toBe(big); // 448 bytes: within 8 classes

    const eighth = BufferPool.ofBytes(8);
    const b = eighth.take(10_048);
    eighth.give(b);
    expect(eighth.take(8_000)).not.toBe(b); // 2,048 bytes: more than 1/8 of the request
    expect(eighth.take(9_000)).toBe(b); // 1,048 bytes: within 1/8 (17 classes of 64 bytes)
    expect(eighth.recycled).toBe(1);
  });

  it('makes room on a full free list by dropping the oldest buffers of its largest pile, so that what is given back now is kept', () => {
    const pool = BufferPool.ofBytes();
    const filters: Uint8Array[] = [];
    for (let i = 0; i < 170; i++) filters.push(pool.take(6_144));
    for (const f of filters) expect(pool.give(f)).toBe(true); // 170 × 6 KiB: 1,044,480 of the 1 MiB
    const index = new Uint8Array(pool.take(10_048).buffer); // a whole buffer of the pool's
    expect(pool.give(index)).toBe(true); // kept: the oldest filter buffer dropped for it (4,096 + 6,144 bytes of room)
    expect(pool.dropped).toBe(1);
    expect(pool.freeBufferBytes).toBe(1_044_480 - 6_144 + 10_048);
    expect(pool.freeBufferBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(pool.take(10_000)).toBe(index);
    // The newest filter buffer is still there; the oldest is the one dropped.
    expect(pool.take(6_144)).toBe(filters[filters.length - 1]);
    const left = new Set<Uint8Array>();
    for (let i = 0; i < 168; i++) left.add(pool.take(6_144));
    expect(left.has(filters[0]!)).toBe(false);
    expect(left.has(filters[1]!)).toBe(true);
  });

  it('never takes back a buffer it did not allocate, or a view of part of one', () => {
    const pool = BufferPool.ofBytes(8);
    expect(pool.give(new Uint8Array(4_096))).toBe(false);
    const own = pool.take(4_096);
    expect(own.byteLength % BUFFER_CLASS).toBe(0);
    expect(pool.give(own.subarray(64))).toBe(false);
    expect(pool.freeBufferBytes).toBe(0);
  });
});
