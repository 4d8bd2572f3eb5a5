/**
 * Compaction for deletions through the public API: a table dense with deletes is picked on its
 * own — no compact(), no size pressure — and its space comes back; a snapshot that still needs
 * the deleted data keeps it readable across the compactions for deletions.
 */
import { describe, expect, it } from 'vitest';
import { Database, type DatabaseOptions, type StrataEvent } from '../src/index.js';
import { dec, testDir, until } from './helpers.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
const val = (i: number): string => `value-${i}`.padEnd(100, '.');
const N = 2000;

async function open(extra: DatabaseOptions = {}): Promise<{ db: Database; reasons: string[] }> {
  const dir = testDir('strata-deletion-compaction-');
  const reasons: string[] = [];
  const onEvent = (e: StrataEvent): void => {
    if (e.type === 'compaction-begin') reasons.push(e.reason);
  };
  const db = await Database.open(dir, { memtableSize: 1024 * 1024, compression: 'none', onEvent, ...extra });
  return { db, reasons };
}

const tableBytes = (db: Database): number => db.stats().levels.reduce((n, l) => n + l.bytes, 0);


async function fillAndDeleteAll(db: Database): Promise<void> {
  for (let i = 0; i < N; i += 500) {
    const b = db.batch();
    for (let j = i; j < i + 500; j++) b.put(key(j), val(j));
    await b.write();
  }
  await db.compact(); // the data rests in a table below L0
  const b = db.batch();
  for (let i = 0; i < N; i++) b.delete(key(i));
  await b.write();
  await db.flush(); // one L0 table of deletes: below l0CompactionTrigger, no level over its target
}

describe('compaction for deletions', () => {
  it('picks a delete-heavy table by itself and gives the space back', async () => {
    const { db, reasons } = await open();
    await fillAndDeleteAll(db);
    await until(() => tableBytes(db) === 0);
    expect(reasons).toContain('deletions');
    expect(db.stats().levels.every((l) => l.files === 0)).toBe(true);
    expect(db.iterator().next()).toBeUndefined();
    await db.close();
  });

  it('does nothing of the kind when the trigger is off', async () => {
    const { db, reasons } = await open({ deletionCompactionTrigger: 0 });
    await fillAndDeleteAll(db);
    await new Promise((r) => setTimeout(r, 300));
    expect(reasons).not.toContain('deletions');
    expect(tableBytes(db)).toBeGreaterThan(100 * N);
    await db.close();
  });

  it('keeps what a held snapshot sees across the compactions for deletions', async () => {
    const { db, reasons } = await open();
    for (let i = 0; i < N; i += 500) {
      const b = db.batch();
      for (let j = i; j < i + 500; j++) b.put(key(j), val(j));
      await b.write();
    }
    await db.compact();
    const snap = db.snapshot();
    const b = db.batch();
    for (let i = 0; i < N; i++) b.delete(key(i));
    await b.write();
    await db.flush();
    // The deletes meet the data (a compaction for deletions), but the snapshot needs both.
    await until(() => reasons.includes('deletions') && db.stats().compaction?.running === false);
    await new Promise((r) => setTimeout(r, 200));
    expect(db.iterator().next()).toBeUndefined();
    expect(dec(db.getSync(key(7), { snapshot: snap }))).toBe(val(7));
    let seen = 0;
    const it = db.iterator({ snapshot: snap });
    for (const [k, v] of it.nextv(N + 1)) {
      expect(dec(v)).toBe(val(Number(dec(k)!.slice(1))));
      seen++;
    }
    it.close();
    expect(seen).toBe(N);
    expect(tableBytes(db)).toBeGreaterThan(100 * N);
    snap.release();
    await db.close();
  });
});
