/**
 * What an open table costs is counted: stats().memory.tableIndexAndFilter holds the table cache's
 * pinned bytes (each open table's Table.residentBytes: its top-level index and numbers in one
 * buffer, its partition-cache slots, the objects — ~1.4 KB a table with one partition, measured
 * in docs/performance/session-30.md, tables30), so it moves with the number of open tables.
 */
import { beforeEach, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-table-memory-');
});

const key = (i: number): string => `k${String(i).padStart(6, '0')}`;

it('stats().memory counts every open table: the pinned bytes grow with the tables opened, ≥ 1 KB each, and total counts them', async () => {
  // Keys written in order, L0 never compacted: disjoint L0 tables, so a get opens only the one
  // table whose range holds its key (warming off: nothing else opens them).
  const options = { backgroundThreads: 0, warmTables: 'off', memtableSize: 16 * 1024, targetFileSize: 4 * 1024, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 2000, l0StopWritesTrigger: 2000 } as const;
  const N = 4000;
  let db = await Database.open(dir, options);
  for (let i = 0; i < N; i += 100) {
    const b = db.batch();
    for (let j = i; j < i + 100; j++) b.put(key(j), 'v'.repeat(100));
    await b.write();
  }
  await db.flush();
  await db.close();
  db = await Database.open(dir, options);
  try {
    const tables = db.stats().levels[0]!.files;
    expect(tables).toBeGreaterThan(20);
    const at = (): { open: number; pinned: number; counted: number; total: number } => {
      const s = db.stats();
      return { open: s.tableCache.tables, pinned: s.tableCache.pinnedBytes, counted: s.memory.tableIndexAndFilter - s.tableCache.partitionBytes, total: s.memory.total };
    };
    const none = at();
    expect(none.open).toBe(0);
    expect(none.pinned).toBe(0);
    for (let i = 0; i < N / 2; i += 3) expect(db.getSync(key(i))).toBeDefined();
    const half = at();
    expect(half.open).toBeGreaterThan(tables / 3);
    expect(half.open).toBeLessThan((2 * tables) / 3);
    for (let i = N / 2; i < N; i += 3) expect(db.getSync(key(i))).toBeDefined();
    const all = at();
    expect(all.open).toBe(tables);
    for (const m of [half, all]) {
      expect(m.counted).toBe(m.pinned); // in stats().memory, not only in the table cache's stats
      expect(m.pinned / m.open).toBeGreaterThan(1000);
      expect(m.pinned / m.open).toBeLessThan(4000);
    }
    // The tables opened second cost as many bytes as the first (same shape): the figure is per table.
    const perFirst = half.pinned / half.open;
    const perSecond = (all.pinned - half.pinned) / (all.open - half.open);
    expect(Math.abs(perSecond - perFirst) / perFirst).toBeLessThan(0.25);
    expect(all.total - none.total).toBeGreaterThanOrEqual(all.pinned);
  } finally {
    await db.close();
  }
});
