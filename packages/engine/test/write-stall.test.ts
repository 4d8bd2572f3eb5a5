/**
 * Write stalls: when flushes (or compaction) fall behind, writes slow down and then wait — they
 * never fail — and stats() counts it. Syncs are made slow (MemoryFileSystem's syncDelay) so the
 * frozen memtables pile up.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';
import { dec } from './helpers.js';

const slowSync = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('write stalls', () => {
  it('too many frozen memtables: writes wait for the flush, in order, and all succeed', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    const writes: Promise<void>[] = [];
    // Not awaited one by one: they pile up behind the stall and must keep their order.
    for (let i = 0; i < 400; i++) writes.push(db.put(`k${i % 50}`, `v${i}`));
    await Promise.all(writes);
    const s = db.stats();
    expect(s.counters.stalls).toBeGreaterThan(0);
    expect(s.counters.stallMs).toBeGreaterThan(0);
    for (let k = 0; k < 50; k++) expect(dec(db.getSync(`k${k}`))).toBe(`v${350 + k}`);
    expect(s.lastSequence).toBe(400);
    await db.close();
  });

  it('too many L0 files: writes are slowed down, then stopped until compaction catches up', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 8, l0CompactionTrigger: 2, l0SlowdownWritesTrigger: 3, l0StopWritesTrigger: 5 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) writes.push(db.put(`k${String(i).padStart(4, '0')}`, 'x'.repeat(40)));
    await Promise.all(writes);
    const s = db.stats();
    expect(s.counters.slowdowns + s.counters.stalls).toBeGreaterThan(0);
    let n = 0;
    for await (const _ of db.iterate()) n++;
    expect(n).toBe(600);
    await db.close();
  });

  it('a stalled write keeps its own copy of the caller\'s bytes', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1 });
    const key = Buffer.alloc(8);
    const value = Buffer.alloc(64);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      key.write(`k${String(i).padStart(7, '0')}`);
      value.fill(i % 256);
      writes.push(db.put(key, value)); // the same buffers, rewritten right after each call
    }
    await Promise.all(writes);
    expect(db.stats().counters.stalls).toBeGreaterThan(0);
    for (let i = 0; i < 300; i++) expect(db.getSync(`k${String(i).padStart(7, '0')}`)).toEqual(new Uint8Array(64).fill(i % 256));
    await db.close();
  });
});
