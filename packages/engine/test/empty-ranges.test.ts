/**
 * The empty ranges iterators learn (read/empty-ranges.ts) end at the key of a later Put. That
 * key arrives as the caller's buffer (a lone put, which the caller may reuse once it resolves)
 * or as a view into a batch's record (whose buffer the next batch reuses): a range that kept
 * it instead of a copy would change its end when those bytes change, and a later iterator
 * would skip a visible key.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, testDir } from './helpers.js';

async function firstKey(db: Database): Promise<string | undefined> {
  for await (const [k] of db.iterate({ limit: 1 })) return dec(k);
  return undefined;
}

/** A database whose iterators have learnt that nothing is visible before 'z' (a deleted 'b' walked over). */
async function withEmptyRange(): Promise<Database> {
  const db = await Database.open(testDir());
  await db.put('b', '1');
  await db.delete('b');
  await db.put('z', '1');
  expect(await firstKey(db)).toBe('z'); // walks over 'b': records [first key, 'z') as empty
  expect(await firstKey(db)).toBe('z'); // and uses it
  return db;
}

describe('empty ranges keep copies of the keys that cut them', () => {
  it("a lone put's key buffer, changed after the put resolved", async () => {
    const db = await withEmptyRange();
    const key = Buffer.from('c');
    await db.put(key, 'v');
    key.write('y'); // the caller's to reuse
    expect(await firstKey(db)).toBe('c');
    await db.close();
  });

  it("a batch's record, its buffer reused by the next batch", async () => {
    const db = await withEmptyRange();
    const big = Buffer.alloc(2_000, 1); // records past Node's Buffer pool: recycled
    const b1 = db.batch();
    b1.put('c', big);
    for (let i = 0; i < 5; i++) b1.put(`zz${i}`, big);
    await b1.write();
    const b2 = db.batch();
    b2.put('y', big); // 'y' where 'c' was in the record
    for (let i = 0; i < 5; i++) b2.put(`zz${i}`, big);
    await b2.write();
    expect(await firstKey(db)).toBe('c');
    await db.close();
  });
});
