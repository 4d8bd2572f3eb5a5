import { describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import { compactionsSettled, testDir } from '../../test/helpers.js';
import { readManifestHistory } from './history.js';

describe('readManifestHistory', () => {
  it('folds to the live version the database reports, with the records in file order', async () => {
    const dir = testDir();
    const db = await Database.open(dir, { memtableSize: 4096, targetFileSize: 1024, maxBytesForLevelBase: 4096, l0CompactionTrigger: 2 });
    for (let i = 0; i < 400; i++) await db.put(`k${String((i * 37) % 400).padStart(4, '0')}`, 'v'.repeat(40));
    await db.flush();
    await compactionsSettled(db);
    const history = readManifestHistory(dir);
    expect(history.records.length).toBeGreaterThan(3);
    expect(history.validSize).toBe(history.fileSize);
    expect(history.records[0]!.dbId).toMatch(/^[0-9a-f-]{36}$/);
    for (let i = 1; i < history.records.length; i++) expect(history.records[i]!.offset).toBeGreaterThan(history.records[i - 1]!.offset);
    const live = new Map<number, number>();
    for (const r of history.records) {
      for (const d of r.deleted) live.delete(d.fileNumber);
      for (const a of r.added) live.set(a.file.fileNumber, a.level);
    }
    const want = new Map<number, number>();
    for (const l of db.stats().levels) for (const f of l.fileList) want.set(f.fileNumber, l.level);
    expect([...live].sort((a, b) => a[0] - b[0])).toEqual([...want].sort((a, b) => a[0] - b[0]));
    await db.close();
  });
});
