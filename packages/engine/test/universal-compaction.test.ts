/**
 * Universal compaction (compaction/universal-picker.ts) through the engine: a merge written into
 * L0 keeps a delete whose key an older L0 table (not merged) still holds, and the tree reads the
 * same before and after a reopen. The picker's rules are tested in universal-picker.test.ts and
 * the reads under random histories in compaction-model.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/db/database.js';
import type { StrataEvent } from '../src/events.js';
import { compactionsSettled, dec, tempDir } from './helpers.js';

const key = (p: string, i: number): string => `${p}${String(i).padStart(3, '0')}`;

describe('universal compaction', () => {
  it('a merge into L0 keeps a delete that hides a key of an older L0 table', async () => {
    const { dir, cleanup } = tempDir();
    const base = { compactionStyle: 'universal' as const, backgroundThreads: 0, memtableSize: 1 << 20, numLevels: 4 };
    try {
      // Four L0 tables, no compaction yet (trigger 100): the oldest holds x, the second newest deletes it.
      let db = await Database.open(dir, { ...base, l0CompactionTrigger: 100 });
      for (const [t, prefix] of ['a', 'b', 'c', 'd'].entries()) {
        for (let i = 0; i < 100; i++) await db.put(key(prefix, i), `v${t}`.padEnd(100, '.'));
        if (prefix === 'a') await db.put('x', 'old');
        if (prefix === 'c') await db.del('x');
        await db.flush();
      }
      expect(db.stats().levels[0]!.files).toBe(4);
      await db.close();

      // Trigger 3, merges of two runs at most, no full merge: the two newest tables merge, and the
      // next older run is an L0 table, so the output is one L0 table; x's delete must stay (the
      // oldest table, left below it, holds x).
      const events: StrataEvent[] = [];
      const opts = {
        ...base,
        l0CompactionTrigger: 3,
        compactionOptionsUniversal: { maxMergeWidth: 2, maxSizeAmplificationPercent: 1_000_000 },
        onEvent: (e: StrataEvent) => events.push(e),
      };
      db = await Database.open(dir, opts);
      await compactionsSettled(db);
      const intoL0 = events.filter((e) => e.type === 'compaction-end' && e.outputLevel === 0 && e.error === undefined);
      expect(intoL0.length).toBeGreaterThan(0);
      const l0 = db.stats().levels[0]!;
      expect(l0.files).toBeLessThan(4);
      expect(dec(await db.get('x'))).toBeUndefined();
      for (const [t, prefix] of ['a', 'b', 'c', 'd'].entries()) for (let i = 0; i < 100; i += 7) expect(dec(await db.get(key(prefix, i)))).toBe(`v${t}`.padEnd(100, '.'));
      const before: string[] = [];
      for await (const [k] of db.iterate()) before.push(dec(k)!);
      expect(before).not.toContain('x');
      expect(before.length).toBe(400);
      await db.close();

      db = await Database.open(dir, opts);
      expect(dec(await db.get('x'))).toBeUndefined();
      const after: string[] = [];
      for await (const [k] of db.iterate({ reverse: true })) after.push(dec(k)!);
      expect(after).toEqual(before.reverse());
      // A full compaction leaves one run, in the last level, and no delete.
      await db.compact();
      const st = db.stats();
      expect(st.levels.map((l) => l.files > 0)).toEqual([false, false, false, true]);
      expect(st.levels[3]!.fileList.reduce((n, f) => n + f.entries, 0)).toBe(400);
      await db.close();
    } finally {
      cleanup();
    }
  });

  it('rejects bad universal options with INVALID_ARGUMENT', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await expect(Database.open(dir, { compactionStyle: 'tiered' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(Database.open(dir, { compactionOptionsUniversal: { minMergeWidth: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(Database.open(dir, { compactionOptionsUniversal: { minMergeWidth: 4, maxMergeWidth: 3 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(Database.open(dir, { compactionOptionsUniversal: { sizeRatoi: 1 } as never })).rejects.toThrow(/sizeRatio/);
      await expect(Database.open(dir, { compactionOptionsUniversal: 3 as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      cleanup();
    }
  });
});
