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
/**
 * Tables (flush, compaction) sync slowly, the WAL quickly: memtables fill faster than flushes
 * empty them, whatever the machine's load — a WAL rotation, which writes wait behind, costs
 * little next to a flush.
 */
const slowTables = (path: string): Promise<void> => new Promise((r) => (path.endsWith('.sst') ? setTimeout(r, 20) : setImmediate(r)));
/**
 * Lets the event loop turn. Writes issued in one synchronous loop form one group (the first is
 * logged alone, all the others join the next group), and the pressure is checked between
 * groups: the loops below pause every few writes so that memtables fill one after another.
 */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('write stalls', () => {
  it('too many frozen memtables: writes wait for the flush, in order, and all succeed', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowTables });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    const writes: Promise<void>[] = [];
    // Not awaited one by one: they pile up behind the stall and must keep their order.
    for (let i = 0; i < 400; i++) {
      writes.push(db.put(`k${i % 50}`, `v${i}`));
      if (i % 20 === 19) await turn();
    }
    await Promise.all(writes);
    const s = db.stats();
    expect(s.counters.stalls).toBeGreaterThan(0);
    expect(s.counters.stallMs).toBeGreaterThan(0);
    for (let k = 0; k < 50; k++) expect(dec(db.getSync(`k${k}`))).toBe(`v${350 + k}`);
    expect(s.lastSequence).toBe(400);
    await db.close();
  });

  it('too many L0 files: writes are slowed down, then stopped until compaction catches up', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowTables });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 8, l0CompactionTrigger: 2, l0SlowdownWritesTrigger: 3, l0StopWritesTrigger: 5 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) {
      writes.push(db.put(`k${String(i).padStart(4, '0')}`, 'x'.repeat(40)));
      // A wave at a time: a write behind a WAL rotation waits for it, and so would everything
      // issued meanwhile, forming one group (one memtable) however many writes it holds.
      if (i % 10 === 9) await Promise.all(writes.slice(-10));
    }
    await Promise.all(writes);
    const s = db.stats();
    expect(s.counters.slowdowns + s.counters.stalls).toBeGreaterThan(0);
    let n = 0;
    for await (const _ of db.iterate()) n++;
    expect(n).toBe(600);
    await db.close();
  });

  it('a stalled write keeps its own copy of the caller\'s bytes', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowTables });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1 });
    const key = Buffer.alloc(8);
    const value = Buffer.alloc(64);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      key.write(`k${String(i).padStart(7, '0')}`);
      value.fill(i % 256);
      writes.push(db.put(key, value)); // the same buffers, rewritten right after each call
      if (i % 20 === 19) await turn();
    }
    await Promise.all(writes);
    expect(db.stats().counters.stalls).toBeGreaterThan(0);
    for (let i = 0; i < 300; i++) expect(db.getSync(`k${String(i).padStart(7, '0')}`)).toEqual(new Uint8Array(64).fill(i % 256));
    await db.close();
  });

  it('the write queue copies at most writeQueueSize bytes; past it writes wait uncopied, and all commit in call order', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const cap = 4096;
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1, writeQueueSize: cap, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    const writes: Promise<void>[] = [];
    let mostCopied = 0;
    let mostQueued = 0;
    // Issued without awaiting, in one synchronous loop: every write after the first waits (the
    // first one's WAL write completes only after the loop), whether it is copied or not.
    for (let i = 0; i < 1000; i++) {
      writes.push(db.put(`k${String(i % 300).padStart(4, '0')}`, Buffer.alloc(100, i % 256)));
      const m = db.stats().memory;
      mostCopied = Math.max(mostCopied, m.writeQueueCopies);
      mostQueued = Math.max(mostQueued, m.writeQueue);
      expect(m.writeQueueCopies).toBeLessThanOrEqual(cap);
      expect(m.total).toBe(m.memtables + m.blockCache + m.blockCacheIndex + m.tableIndexAndFilter + m.tableRecords + m.writeQueueCopies + m.walBuffers);
    }
    expect(mostQueued).toBeGreaterThan(20 * cap); // the writes really piled up past the cap…
    expect(mostCopied).toBeGreaterThan(cap - 105); // …and the queue copied right up to it
    await Promise.all(writes);
    const m = db.stats().memory;
    expect([m.writeQueue, m.writeQueueCopies]).toEqual([0, 0]);
    for (let k = 0; k < 300; k++) {
      const last = k + 900 < 1000 ? k + 900 : k + 600;
      expect(db.getSync(`k${String(k).padStart(4, '0')}`)).toEqual(new Uint8Array(100).fill(last % 256));
    }
    expect(db.stats().lastSequence).toBe(1000);
    await db.close();
  });

  it('a waiting write copies only the fields that are still the caller\'s buffers (strings were encoded by the engine), and the copies hold', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const db = await Database.open('/db', { fs, writeQueueSize: 1 << 20 });
    const copies = (): number => db.stats().memory.writeQueueCopies;
    const writes: Promise<void>[] = [db.put('first', 'in flight: the others wait behind it'), db.put('r3', 'x'), db.put('q5', 'x')];
    const key = Buffer.from('buffer-key');
    const value = Buffer.alloc(100, 7);
    const start = Buffer.from('r0');
    const end = Buffer.from('r5');
    const steps: [() => Promise<void>, number][] = [
      [() => db.put('string-key', value), value.length],
      [() => db.put(key, 'string value'), key.length],
      [() => db.put(key, value), key.length + value.length],
      [() => db.put('both', 'strings'), 0],
      [() => db.delete(key), key.length],
      [() => db.delete('string-key-2'), 0],
      [() => db.deleteRange('a0', 'a5'), 0],
      [() => db.deleteRange(start, 'r9'), start.length],
      [() => db.deleteRange('q', end), end.length],
    ];
    for (const [write, copied] of steps) {
      const before = copies();
      writes.push(write());
      expect(copies() - before).toBe(copied);
    }
    // The caller reuses its buffers at once: what was written is what they held at the call.
    key.fill(0x5a);
    value.fill(9);
    start.fill(0x7a);
    end.fill(0);
    await Promise.all(writes);
    expect(copies()).toBe(0);
    expect(db.getSync('string-key')).toEqual(new Uint8Array(100).fill(7));
    expect(db.getSync('buffer-key')).toBeUndefined(); // put twice, then deleted — by the key as it was
    expect(db.getSync('r3')).toBeUndefined(); // [r0, r9): the start as it was
    expect(db.getSync('q5')).toBeUndefined(); // [q, r5): the end as it was
    expect(dec(db.getSync('both'))).toBe('strings');
    await db.close();
  });

  it('writeQueueSize 0: no waiting write is copied, and a WriteBatch waits as it is', async () => {
    const fs = new MemoryFileSystem({ syncDelay: slowSync });
    const db = await Database.open('/db', { fs, memtableSize: 1024, maxFrozenMemtables: 1, writeQueueSize: 0 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      writes.push(i % 2 === 0 ? db.put(`k${i}`, 'v'.repeat(50)) : db.batch().put(`k${i}`, 'w'.repeat(50)).write());
      expect(db.stats().memory.writeQueueCopies).toBe(0);
    }
    expect(db.stats().memory.writeQueue).toBeGreaterThan(0);
    await Promise.all(writes);
    for (let i = 0; i < 200; i++) expect(dec(db.getSync(`k${i}`))).toBe((i % 2 === 0 ? 'v' : 'w').repeat(50));
    await db.close();
  });
});
