/**
 * warmNewTables: tables a flush or a compaction installs are opened and their index and filter
 * partitions loaded right away (version/warm-new-tables.ts), within the table cache's budget:
 * the first lookups after a bulk load then find them in memory. Off by default.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-warm-new-tables-');
});

const key = (i: number): Uint8Array => new TextEncoder().encode(`key${String(i).padStart(6, '0')}`);
const value = (i: number): Uint8Array => new TextEncoder().encode(`value-${i}-`.repeat(4));

describe('new tables warmed when installed', () => {
  it('a flush, then a compaction: each table installed is open with every partition cached before any read, and the reads load none', async () => {
    // Small partitions (metadataBlockSize), so each table has several.
    const db = await Database.open(dir, { backgroundThreads: 0, blockSize: 256, metadataBlockSize: 128, warmNewTables: true });
    try {
      for (let i = 0; i < 2000; i += 2) await db.put(key(i), value(i));
      await db.flush();
      let st = db.stats();
      expect(st.levels[0]!.files).toBe(1);
      expect(st.tableCache.tables).toBe(1);
      expect(st.tableCache.tableOpens).toBe(1);
      // Several partitions, an index and a filter each, and no read has run.
      expect(st.tableCache.partitions).toBeGreaterThan(4);
      expect(st.tableCache.partitions % 2).toBe(0);
      expect(st.tableCache.partitionLoads).toBe(st.tableCache.partitions);
      expect(st.tableCache.partitionHits).toBe(0);

      for (let i = 1; i < 2000; i += 2) await db.put(key(i), value(i));
      await db.flush();
      await db.compact();
      st = db.stats();
      const loadsAfterCompaction = st.tableCache.partitionLoads;
      expect(st.levels.slice(1).reduce((n, l) => n + l.files, 0)).toBeGreaterThan(0);
      // Only the compaction's outputs are left, each open, with all its partitions.
      expect(st.tableCache.tables).toBe(st.levels.reduce((n, l) => n + l.files, 0));
      const opensBefore = st.tableCache.tableOpens;
      for (let i = 0; i < 2000; i++) expect(db.getSync(key(i))).toEqual(value(i));
      st = db.stats();
      expect(st.tableCache.partitionLoads).toBe(loadsAfterCompaction);
      expect(st.tableCache.tableOpens).toBe(opensBefore);
      expect(st.tableCache.partitionHits).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it('off by default: a flush opens nothing and loads no partition until a read', async () => {
    const db = await Database.open(dir, { backgroundThreads: 0, blockSize: 256, metadataBlockSize: 128 });
    try {
      for (let i = 0; i < 2000; i += 2) await db.put(key(i), value(i));
      await db.flush();
      expect(db.stats().tableCache.tables).toBe(0);
      expect(db.stats().tableCache.partitionLoads).toBe(0);
      expect(db.getSync(key(0))).toEqual(value(0));
      expect(db.stats().tableCache.tableOpens).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('warming stays within tableCacheSize and leaves lookups correct when the partitions do not all fit', async () => {
    const db = await Database.open(dir, { backgroundThreads: 0, blockSize: 256, metadataBlockSize: 128, tableCacheSize: 4096, warmNewTables: true });
    try {
      for (let i = 0; i < 4000; i++) await db.put(key(i), value(i));
      await db.flush();
      const st = db.stats();
      expect(st.tableCache.residentBytes).toBeLessThanOrEqual(Math.max(4096, st.tableCache.pinnedBytes));
      expect(st.tableCache.partitionBytes).toBeLessThanOrEqual(Math.max(0, 4096 - st.tableCache.pinnedBytes));
      for (let i = 0; i < 4000; i += 7) expect(db.getSync(key(i))).toEqual(value(i));
    } finally {
      await db.close();
    }
  });
});
