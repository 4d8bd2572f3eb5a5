/**
 * A reader held for a long time keeps what it needs and no more: the tables of the Version it
 * reads stay on disk (and are reported in stats().memory.pinned) while compaction replaces them,
 * and are deleted as soon as the reader lets go.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-readers-');
});

const tables = (): number => readdirSync(dir).filter((f) => f.endsWith('.sst')).length;

describe('long-lived readers', () => {
  it('an open iterator pins the tables it reads across compactions, and releasing it gives the disk back', async () => {
    const db = await Database.open(dir, { memtableSize: 8 * 1024, targetFileSize: 8 * 1024, l0CompactionTrigger: 100, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 });
    const write = async (round: number): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const b = db.batch();
        for (let j = 0; j < 20; j++) b.put(`k${String(j * 20 + i).padStart(5, '0')}`, `r${round}-`.padEnd(100, 'x'));
        await b.write();
      }
      await db.flush();
    };
    await write(1);
    const it = db.iterator();
    expect(db.stats().memory.pinned.obsoleteTables).toBe(0);
    const before = db.stats().levels.reduce((s, l) => s + l.bytes, 0);

    await write(2);
    await db.compact();
    const held = db.stats();
    // Every table the iterator reads was compacted away, and none is deleted while it reads.
    expect(held.memory.pinned.versions).toBeGreaterThanOrEqual(1);
    expect(held.memory.pinned.obsoleteTableBytes).toBeGreaterThanOrEqual(before);
    expect(tables()).toBeGreaterThan(held.levels.reduce((s, l) => s + l.files, 0));
    // The iterator still sees round 1, whole.
    let n = 0;
    for (let e = it.next(); e !== undefined; e = it.next()) {
      expect(dec(e[1])!.startsWith('r1-')).toBe(true);
      n++;
    }
    expect(n).toBe(400);

    it.close();
    await db.flush(); // lets the background deletions run
    const after = db.stats();
    expect(after.memory.pinned).toEqual({ memtables: 0, memtableBytes: 0, versions: 0, obsoleteTables: 0, obsoleteTableBytes: 0 });
    await db.close();
    expect(tables()).toBe(after.levels.reduce((s, l) => s + l.files, 0));
  });

  it('an open iterator keeps the memtables it reads after they are flushed; their memory goes to a new memtable only once it closes', async () => {
    const db = await Database.open(dir, { memtableSize: 16 * 1024 });
    const value = (round: number): string => `r${round}-`.padEnd(200, 'x');
    for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(3, '0')}`, value(1));
    const it = db.iterator();
    const reusedBefore = db.stats().memtables.reused;
    // Many memtables later: each is flushed, and without the pin the first one's memory would have been reused.
    for (let round = 2; round < 8; round++) {
      for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(3, '0')}`, value(round));
      await db.flush();
    }
    const held = db.stats();
    expect(held.memory.pinned.memtables).toBe(1);
    expect(held.memory.pinned.memtableBytes).toBeGreaterThan(50 * 200);
    expect(held.memtables.reused).toBeGreaterThan(reusedBefore); // the others' memory was reused meanwhile
    let n = 0;
    for (let e = it.next(); e !== undefined; e = it.next()) {
      expect(dec(e[1])).toBe(value(1));
      n++;
    }
    expect(n).toBe(50);
    it.close();
    const after = db.stats();
    expect(after.memory.pinned.memtables).toBe(0);
    expect(after.memory.pinned.memtableBytes).toBe(0);
    expect(after.memory.memtableReserve).toBeGreaterThan(0);
    await db.close();
  });

  it('stats().memory adds up its parts and stays within its bounds', async () => {
    const db = await Database.open(dir, { memtableSize: 16 * 1024, blockCacheSize: 64 * 1024, maxOpenFiles: 14, tableCacheSize: 16 * 1024 });
    for (let i = 0; i < 2000; i++) await db.put(`k${String((i * 7919) % 2000).padStart(5, '0')}`, 'v'.repeat(100));
    await db.flush();
    for (let i = 0; i < 2000; i += 3) db.getSync(`k${String(i).padStart(5, '0')}`);
    const m = db.stats().memory;
    expect(m.total).toBe(m.memtables + m.memtableReserve + m.pinned.memtableBytes + m.blockCache + m.blockCacheIndex + m.tableIndexAndFilter + m.tableRecords + m.writeQueueCopies + m.walBuffers);
    // After flushes, flushed memtables' memory waits for the next ones (at most 1 + maxFrozenMemtables
    // memtables', each up to twice memtableSize with its allocation slack).
    expect(m.memtableReserve).toBeGreaterThan(0);
    expect(m.memtableReserve).toBeLessThanOrEqual((1 + 2) * 2 * 16 * 1024);
    expect(m.walBuffers).toBeGreaterThan(0);
    expect(m.walBuffers).toBeLessThanOrEqual(68 * 1024); // 64 KiB staging + 4 KiB scratch: no huge batch waits
    expect(m.blockCache).toBeLessThanOrEqual(64 * 1024);
    // The block cache's index: sized by the blocks it holds (a few per KiB of capacity), not by the tables.
    expect(m.blockCacheIndex).toBe(db.stats().blockCache.indexBytes);
    expect(m.blockCacheIndex).toBeGreaterThan(0);
    expect(m.blockCacheIndex).toBeLessThanOrEqual(16 * 1024); // the clock ring may hold up to 1,024 holes
    expect(m.tableIndexAndFilter).toBeGreaterThan(0);
    expect(m.tableIndexAndFilter).toBeLessThanOrEqual(16 * 1024);
    expect(db.stats().tableCache.openFiles).toBeLessThanOrEqual(4);
    await db.close();
  });

  it('with cacheIndexAndFilterBlocks, table metadata (partitions, pinned bytes) is charged to the block cache: blocks get what it leaves', async () => {
    // Small partitions (metadataBlockSize 256) and a block cache that the data overfills, read
    // twice: without the option the blocks alone fill the block cache beside the metadata.
    const fill = async (charge: boolean): Promise<Database> => {
      const d = await Database.open(join(dir, String(charge)), { memtableSize: 16 * 1024, blockCacheSize: 64 * 1024, metadataBlockSize: 256, cacheIndexAndFilterBlocks: charge });
      for (let i = 0; i < 3000; i++) await d.put(`k${String((i * 7919) % 3000).padStart(5, '0')}`, `v${i}`.padEnd(100, '.'));
      await d.flush();
      for (let round = 0; round < 2; round++) for (let i = 0; i < 3000; i += 3) expect(d.getSync(`k${String(i).padStart(5, '0')}`)).toBeDefined();
      return d;
    };
    const plain = await fill(false);
    const p = plain.stats();
    expect(p.blockCache.charged).toBe(0);
    expect(p.blockCache.usage + p.tableCache.partitionBytes).toBeGreaterThan(64 * 1024);
    await plain.close();
    const db = await fill(true);
    const s = db.stats();
    expect(s.tableCache.partitionBytes).toBeGreaterThan(0);
    expect(s.blockCache.charged).toBe(s.tableCache.residentBytes); // partitions and the tables' pinned bytes
    expect(s.blockCache.usage).toBeGreaterThan(0);
    expect(s.blockCache.usage + s.blockCache.charged).toBeLessThanOrEqual(64 * 1024);
    // memory counts each byte once: blocks in blockCache, partitions in tableIndexAndFilter.
    expect(s.memory.blockCache).toBe(s.blockCache.usage);
    expect(s.memory.tableIndexAndFilter).toBe(s.tableCache.residentBytes);
    const m = s.memory;
    expect(m.total).toBe(m.memtables + m.memtableReserve + m.pinned.memtableBytes + m.blockCache + m.blockCacheIndex + m.tableIndexAndFilter + m.tableRecords + m.writeQueueCopies + m.walBuffers);
    await db.close();
  });
});
