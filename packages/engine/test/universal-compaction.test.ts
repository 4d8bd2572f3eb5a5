/**
 * Universal compaction (compaction/universal-picker.ts) through the engine: a merge written into
 * L0 keeps a delete whose key an older L0 table (not merged) still holds, and the tree reads the
 * same before and after a reopen. The picker's rules are tested in universal-picker.test.ts and
 * the reads under random histories in compaction-model.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/db/database.js';
import type { StrataEvent } from '../src/events.js';
import { MemoryFileSystem } from '../src/testing/index.js';
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

  // universal-picker.ts, rule 4: a merge whose next older run is held by a running merge into
  // the last level goes just above it and is installed only after it. Here that merge (M) is held
  // at its output's fsync; the newer merge runs, writes its output, and must stay invisible: its
  // keys' older versions are still in L0 (M's inputs), above the level it writes.
  it('a merge installed after a held one stays invisible until that one is installed', async () => {
    let armed = false;
    let held: (() => void) | undefined;
    let onHeld: () => void = () => undefined;
    const heldNow = new Promise<void>((resolve) => {
      onHeld = resolve;
    });
    const fs = new MemoryFileSystem({
      syncDelay: (path) => {
        // The first table fsync after M began is M's output (nothing else writes a table then).
        if (!armed || held !== undefined || !path.endsWith('.sst')) return Promise.resolve();
        return new Promise<void>((resolve) => {
          held = resolve;
          onHeld();
        });
      },
    });
    const base = { fs, compactionStyle: 'universal' as const, backgroundThreads: 0, memtableSize: 1 << 20, numLevels: 5 };
    const val = (t: string, n: number): string => t.repeat(n);
    // Oldest first: A and B (similar sizes, B a little larger) and a small C.
    let db = await Database.open('/db', { ...base, l0CompactionTrigger: 100 });
    for (let i = 0; i < 200; i++) await db.put(key('a', i), val('A', 50));
    await db.flush();
    for (let i = 0; i < 200; i++) await db.put(key('a', i), val('B', 51));
    await db.flush();
    await db.put('x', 'C');
    await db.flush();
    await db.close();

    const events: StrataEvent[] = [];
    const opts = {
      ...base,
      l0CompactionTrigger: 3,
      maxBackgroundCompactions: 2,
      compactionOptionsUniversal: { maxSizeAmplificationPercent: 1_000_000 },
      onEvent: (e: StrataEvent) => {
        events.push(e);
        // M: B + A, the oldest runs, into the last level (C does not match them by size).
        if (e.type === 'compaction-begin' && e.outputLevel === 4) armed = true;
      },
    };
    db = await Database.open('/db', opts);
    await heldNow;
    const m = events.find((e) => e.type === 'compaction-begin' && e.outputLevel === 4)!;
    // D: newer versions of keys M holds, the size of C: C + D merge, their next older run (B) is M's.
    await db.put(key('a', 0), 'D');
    await db.put('x', 'D');
    await db.flush();
    const tables = (): number => fs.readdirSync('/db').filter((n) => n.endsWith('.sst')).length;
    // A, B, C, M's output (held), D, and the waiting merge's output once it is written.
    const written = 6;
    let waits: StrataEvent | undefined;
    for (let i = 0; i < 2000 && (waits === undefined || tables() < written); i++) {
      await new Promise((r) => setTimeout(r, 2));
      waits = events.find((e) => e.type === 'compaction-begin' && e.after !== undefined);
      // Reads never see an older version while the newer merge waits.
      expect(dec(await db.get(key('a', 0)))).toBe('D');
      expect(dec(await db.get('x'))).toBe('D');
    }
    expect(waits).toMatchObject({ outputLevel: 3, after: m.type === 'compaction-begin' ? m.jobId : -1 });
    // Its output is written (one more table on disk) but not installed: L3 is empty, C and D still in L0.
    expect(tables()).toBe(written);
    expect(db.stats().levels[3]!.files).toBe(0);
    expect(dec(await db.get(key('a', 0)))).toBe('D');
    held!();
    await compactionsSettled(db);
    const st = db.stats();
    expect(st.levels[3]!.files).toBeGreaterThan(0);
    expect(st.levels[4]!.files).toBeGreaterThan(0);
    expect(dec(await db.get(key('a', 0)))).toBe('D');
    expect(dec(await db.get(key('a', 1)))).toBe(val('B', 51));
    expect(dec(await db.get('x'))).toBe('D');
    expect(st.backgroundError).toBeUndefined();
    await db.close();
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
