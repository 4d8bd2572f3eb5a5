/**
 * Targeted compaction cases through the public Database API (issue 7's list), each set up so
 * that the dangerous shortcut would be visible: data placed at a deeper level first, then the
 * compaction above it examined.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Database } from '../db/database.js';
import { compactionsSettled, dec, testDir } from '../../test/helpers.js';

const options = {
  memtableSize: 64 * 1024,
  blockSize: 256,
  targetFileSize: 1024,
  maxBytesForLevelBase: 4096,
  levelSizeMultiplier: 4,
  l0CompactionTrigger: 2,
  numLevels: 5,
  // The cases place data by size (a level's target in raw bytes of these dot-padded values);
  // compressed, the values would shrink ~10× and land elsewhere. Compression has its own tests.
  compression: 'none',
} as const;
const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
const val = (tag: string, i: number): string => `${tag}-${i}`.padEnd(100, '.');

async function open(): Promise<{ db: Database; dir: string }> {
  const dir = testDir();
  return { db: await Database.open(dir, options), dir };
}
const filesAt = (db: Database): number[] => db.stats().levels.map((l) => l.files);
const deepestLevel = (db: Database): number => db.stats().levels.reduce((d, l) => (l.files > 0 ? l.level : d), -1);

describe('compaction through the database', () => {
  it('keeps a delete above an older put in a deeper level (not dropped early)', async () => {
    const { db } = await open();
    for (let i = 0; i < 100; i++) await db.put(key(i), val('old', i));
    await db.compact();
    const bottom = deepestLevel(db);
    expect(bottom).toBeGreaterThanOrEqual(2); // 10 KB > L1's 4 KiB target: placed deeper
    // Two overlapping L0 tables → a real L0→L1 merge (not a trivial move), above the old put.
    await db.delete(key(50));
    await db.put(key(10), val('new', 10));
    await db.flush();
    await db.put(key(90), val('new', 90));
    await db.put(key(20), val('new', 20));
    await db.flush();
    await compactionsSettled(db);
    const st = db.stats();
    expect(st.compaction!.compactions).toBeGreaterThan(1);
    expect(filesAt(db)[0]).toBe(0);
    expect(await db.get(key(50))).toBeUndefined();
    expect(dec(await db.get(key(51)))).toBe(val('old', 51));
    // Only the compaction into the bottom level may drop it.
    await db.compact();
    expect(await db.get(key(50))).toBeUndefined();
    const files = db.stats().levels.flatMap((l) => l.fileList);
    expect(files.reduce((n, f) => n + f.entries, 0)).toBe(99);
    await db.close();
  });

  it('a range tombstone spanning several output tables still hides what it must', async () => {
    const { db } = await open();
    for (let i = 0; i < 200; i++) await db.put(key(i), val('old', i));
    await db.compact();
    await db.deleteRange(key(50), key(150));
    for (let i = 60; i < 140; i += 2) await db.put(key(i), val('new', i));
    await db.flush();
    await db.put(key(199), val('new', 199));
    await db.put(key(0), val('new', 0));
    await db.flush();
    await compactionsSettled(db);
    // The tombstone went down with the new puts, cut into pieces across several L1+ tables.
    const withPieces = db
      .stats()
      .levels.filter((l) => l.level > 0 && l.level < deepestLevel(db))
      .flatMap((l) => l.fileList)
      .filter((f) => f.tombstones > 0);
    expect(withPieces.length).toBeGreaterThan(1);
    const check = async (): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const want = i === 0 || i === 199 ? val('new', i) : i >= 50 && i < 150 ? (i >= 60 && i < 140 && i % 2 === 0 ? val('new', i) : undefined) : val('old', i);
        expect(dec(await db.get(key(i))), key(i)).toBe(want);
      }
      const scanned: string[] = [];
      for await (const [k] of db.iterate({ gte: key(40), lt: key(160) })) scanned.push(dec(k)!);
      expect(scanned.length).toBe(10 + 40 + 10);
    };
    await check();
    await db.compact({ start: key(100), end: key(120) }); // a part of the range only
    await check();
    await db.compact();
    await check();
    expect(db.stats().levels.flatMap((l) => l.fileList).reduce((n, f) => n + f.tombstones, 0)).toBe(0);
    await db.close();
  });

  it('a snapshot taken before an overwrite still reads the old value after full compaction', async () => {
    const { db } = await open();
    await db.put('k', 'v1');
    const s1 = db.snapshot();
    await db.put('k', 'v2');
    const s2 = db.snapshot();
    await db.delete('k');
    const s3 = db.snapshot();
    await db.put('k', 'v3');
    await db.deleteRange('a', 'z');
    await db.compact();
    expect(dec(await db.get('k', { snapshot: s1 }))).toBe('v1');
    expect(dec(await db.get('k', { snapshot: s2 }))).toBe('v2');
    expect(await db.get('k', { snapshot: s3 })).toBeUndefined();
    expect(await db.get('k')).toBeUndefined();
    s1.release();
    s2.release();
    s3.release();
    await db.compact();
    const files = db.stats().levels.flatMap((l) => l.fileList);
    expect(files).toEqual([]);
    await db.close();
  });

  it('after a full compaction without snapshots: entries = live keys, no tombstones, deleteRange space given back', async () => {
    const { db, dir } = await open();
    for (let round = 0; round < 3; round++) for (let i = 0; i < 300; i++) await db.put(key(i), val(`r${round}`, i));
    for (let i = 0; i < 300; i += 3) await db.delete(key(i));
    await db.deleteRange(key(200), key(250));
    await db.compact();
    const live = 300 - 100 - (50 - 17); // every third deleted; [200, 250) minus the third already gone
    let st = db.stats();
    let files = st.levels.flatMap((l) => l.fileList);
    expect(files.reduce((n, f) => n + f.entries, 0)).toBe(live);
    expect(files.reduce((n, f) => n + f.tombstones, 0)).toBe(0);
    const fullBytes = st.levels.reduce((n, l) => n + l.bytes, 0);
    expect(fullBytes).toBeGreaterThan(live * 100);

    await db.deleteRange(key(0), key(300));
    await db.compact();
    st = db.stats();
    files = st.levels.flatMap((l) => l.fileList);
    expect(files).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.sst'))).toEqual([]);
    expect(st.compaction!.bytesWritten).toBeGreaterThan(0);
    expect(st.compaction!.levels.some((l) => l.bytesRead > 0)).toBe(true);
    await db.close();
  });

  it('input tables stay on disk while an iterator reads them, and go once it closes', async () => {
    const { db, dir } = await open();
    for (let i = 0; i < 100; i++) await db.put(key(i), val('a', i));
    await db.flush();
    const it = db.iterator();
    const before = readdirSync(dir).filter((n) => n.endsWith('.sst'));
    await db.compact();
    const during = readdirSync(dir).filter((n) => n.endsWith('.sst'));
    for (const f of before) expect(during).toContain(f);
    let n = 0;
    while (it.next() !== undefined) n++;
    expect(n).toBe(100);
    it.close();
    // Deleted off the JS thread (FileSystem.unlink) right after the close: gone within moments.
    await vi.waitFor(() => {
      const after = readdirSync(dir).filter((f) => f.endsWith('.sst'));
      for (const f of before) expect(after).not.toContain(f);
    });
    await db.close();
  });

  it('exposes scores, per-level bytes and write amplification in stats()', async () => {
    const { db } = await open();
    for (let i = 0; i < 400; i++) {
      await db.put(key(i % 150), val('x', i));
      if (i % 100 === 99) await db.flush();
    }
    await compactionsSettled(db);
    const st = db.stats();
    const c = st.compaction!;
    expect(c.scores.length).toBe(options.numLevels - 1);
    expect(c.scores.every((s) => s.score < 1)).toBe(true);
    expect(c.compactions).toBeGreaterThan(0);
    expect(c.levels.length).toBe(options.numLevels);
    expect(st.counters.compactionBytesWritten).toBe(c.bytesWritten);
    expect(st.writeAmplification).toBeGreaterThan(1);
    await db.close();
  });
});
