/**
 * Filters that pay for themselves (read/filter-skipping.ts), end to end: gets of keys that exist
 * make the level they live in skip its filters (stats().filters says so), gets of absent keys make
 * it probe them again, and skipUnhelpfulFilters false keeps every filter. The answers themselves
 * are checked against a model in model.test.ts and range-delete-model.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { SAMPLE, WINDOW } from '../src/read/filter-skipping.js';
import { dec, tempDir } from './helpers.js';

const N = 4000;
const key = (i: number): string => `key${String(i).padStart(6, '0')}`;

async function filled(options: { skipUnhelpfulFilters?: boolean }): Promise<{ db: Database; level: number; cleanup: () => void }> {
  const { dir, cleanup } = tempDir('strata-filter-skipping-');
  const db = await Database.open(dir, { memtableSize: 64 * 1024, ...options });
  const b = db.batch();
  for (let i = 0; i < N; i++) b.put(key(i), `value-${i}`);
  await b.write();
  await db.compact(); // every key in one level
  const level = db.stats().levels.findIndex((l) => l.files > 0);
  expect(level).toBeGreaterThan(0);
  expect(db.stats().levels.filter((l) => l.files > 0)).toHaveLength(1);
  return { db, level, cleanup };
}

describe('skipping filters that rarely reject', () => {
  it('skips the filters of the level that holds the keys while gets find them, and probes again once gets miss', async () => {
    const { db, level, cleanup } = await filled({});
    try {
      for (let i = 0; i < 2 * WINDOW; i++) expect(dec(db.getSync(key((i * 7919) % N)))).toBe(`value-${(i * 7919) % N}`);
      let s = db.stats().filters[level]!;
      expect(s.skipping).toBe(true);
      expect(s.rejects).toBe(0);
      expect(s.skipped).toBeGreaterThan(WINDOW / 2);
      // Absent keys (between present ones): the sampled probes reject, and the level resumes.
      for (let i = 0; i < 4 * WINDOW * SAMPLE && db.stats().filters[level]!.skipping; i++) expect(db.getSync(`${key(i % N)}x`)).toBeUndefined();
      s = db.stats().filters[level]!;
      expect(s.skipping).toBe(false);
      expect(s.rejects).toBeGreaterThan(0);
      // Probing now: the filter rejects absent keys without the table being searched.
      const before = s.rejects;
      for (let i = 0; i < 100; i++) expect(db.getSync(`${key(i)}y`)).toBeUndefined();
      expect(db.stats().filters[level]!.rejects).toBeGreaterThan(before + 90);
      // getMany counts as gets do.
      const many = db.getManySync(Array.from({ length: 50 }, (_, i) => `${key(i)}z`));
      expect(many.every((v) => v === undefined)).toBe(true);
      expect(db.stats().filters[level]!.rejects).toBeGreaterThan(before + 140);
    } finally {
      await db.close();
      cleanup();
    }
  });

  it('with skipUnhelpfulFilters false, asks every filter', async () => {
    const { db, level, cleanup } = await filled({ skipUnhelpfulFilters: false });
    try {
      for (let i = 0; i < 4 * WINDOW; i++) expect(dec(db.getSync(key(i)))).toBe(`value-${i}`);
      const s = db.stats().filters[level]!;
      expect(s).toMatchObject({ skipping: false, skipped: 0, rejects: 0 });
      expect(s.probes).toBe(4 * WINDOW);
    } finally {
      await db.close();
      cleanup();
    }
  });
});
