/**
 * Merged flushes (minMemtablesToMerge, flush/flush-loop.ts): a frozen memtable waits, readable,
 * for a second; both go into one L0 table holding every version of both; the edit records the
 * newer memtable's logNumber, so both memtables' WAL segments go; a memtable still waiting at
 * close is flushed alone. The model test (model.test.ts) and the power-loss and crash suites run
 * merged flushes too; this file pins down what they do.
 */
import { describe, expect, it } from 'vitest';
import { Database, type StrataEvent } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';
import { dec } from './helpers.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
const OPTIONS = { memtableSize: 4096, minMemtablesToMerge: 2, l0CompactionTrigger: 1000, l0SlowdownWritesTrigger: 1000, l0StopWritesTrigger: 1000 };

/** Puts distinct keys from `next` until the active memtable freezes; returns the next unused index. */
async function fillUntilFrozen(db: Database, next: number, frozenBefore: number): Promise<number> {
  let i = next;
  while (db.stats().memtables.frozen === frozenBefore && db.stats().levels[0]!.files === 0) await db.put(key(i++), 'v'.repeat(40));
  return i;
}

async function until(cond: () => boolean): Promise<void> {
  for (let n = 0; !cond(); n++) {
    if (n > 2000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('merged flushes (minMemtablesToMerge 2)', () => {
  it('one table holds every version of two memtables; the newer one\'s logNumber lets both WAL segments go', async () => {
    const events: StrataEvent[] = [];
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { ...OPTIONS, fs, onEvent: (e) => events.push(e) });
    events.length = 0; // the open's own edit (a flush of nothing)
    await db.put('x', 'old');
    const snap = db.snapshot();
    let i = await fillUntilFrozen(db, 0, 0);
    // One frozen memtable waits for its partner: no flush yet, and it stays readable.
    expect(db.stats().memtables.frozen).toBe(1);
    expect(events.some((e) => e.type === 'flush-begin')).toBe(false);
    expect(dec(await db.get(key(0)))).toBe('v'.repeat(40));
    await db.put('x', 'new');
    i = await fillUntilFrozen(db, i, 1);
    await until(() => db.stats().levels[0]!.files === 1 && db.stats().memtables.frozen === 0);

    const begins = events.filter((e): e is Extract<StrataEvent, { type: 'flush-begin' }> => e.type === 'flush-begin');
    expect(begins).toHaveLength(1);
    expect(begins[0]!.memtables).toBe(2);
    const table = db.stats().levels[0]!.fileList[0]!;
    // Every version of both (both of x's among them): nothing collapsed.
    expect(table.entries).toBe(begins[0]!.entries);
    expect(table.entries).toBe(i + 2);
    expect(dec(await db.get('x'))).toBe('new');
    expect(dec(await db.get('x', { snapshot: snap }))).toBe('old');
    // Segment 1 held the first memtable, 2 the second: both deleted once the table is in.
    await until(() => events.filter((e) => e.type === 'wal-deleted').length === 2);
    expect(events.flatMap((e) => (e.type === 'wal-deleted' ? [e.segment] : []))).toEqual([1, 2]);
    snap.release();
    await db.close();

    const again = await Database.open('/db', { fs });
    expect(dec(await again.get('x'))).toBe('new');
    for (let k = 0; k < i; k++) expect(dec(await again.get(key(k)))).toBe('v'.repeat(40));
    await again.close();
  });

  it('a memtable waiting for its partner is flushed alone at close, and by db.flush()', async () => {
    const events: StrataEvent[] = [];
    const fs = new MemoryFileSystem();
    let db = await Database.open('/db', { ...OPTIONS, fs, onEvent: (e) => events.push(e) });
    events.length = 0; // the open's own edit (a flush of nothing)
    const i = await fillUntilFrozen(db, 0, 0);
    expect(db.stats().memtables.frozen).toBe(1);
    await db.close();
    const begins = events.filter((e): e is Extract<StrataEvent, { type: 'flush-begin' }> => e.type === 'flush-begin');
    expect(begins.map((e) => e.memtables)).toEqual([1]);

    db = await Database.open('/db', { ...OPTIONS, fs });
    expect(db.stats().levels[0]!.files).toBe(1);
    // db.flush() freezes the active memtable too: it takes both waiting ones into one table.
    const j = await fillUntilFrozen(db, i, 0);
    await db.put('last', 'v');
    await db.flush();
    expect(db.stats().memtables.frozen).toBe(0);
    expect(db.stats().levels[0]!.files).toBe(2);
    for (let k = 0; k < j; k++) expect(dec(await db.get(key(k)))).toBe('v'.repeat(40));
    await db.close();
  });

  it('options: minMemtablesToMerge 1..16, and maxFrozenMemtables at least it (default one more)', async () => {
    const fs = new MemoryFileSystem();
    await expect(Database.open('/a', { fs, minMemtablesToMerge: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(Database.open('/a', { fs, minMemtablesToMerge: 3, maxFrozenMemtables: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Writes stop at maxFrozenMemtables frozen: the default leaves room to fill one more while two merge.
    const db = await Database.open('/a', { fs, minMemtablesToMerge: 2 });
    await db.close();
    // maxFrozenMemtables alone below the default merge: the merge follows it, no error.
    const one = await Database.open('/b', { fs, maxFrozenMemtables: 1 });
    await one.close();
  });
});
