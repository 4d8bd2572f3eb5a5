/**
 * Background jobs racing each other on a disk where some syncs are slow. A WAL whose fdatasync
 * takes longer than a whole memtable flush must not turn the database read-only: the flush has
 * to wait for the WAL rotation it depends on, not trip over it.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/index.js';
import { MemoryFileSystem } from '../../src/testing/index.js';
import { readState, TINY } from './support/db-driver.js';
import { withTimeout } from './support/timeout.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('slow disk', () => {
  it('concurrent writers with a slow WAL sync: no background error, nothing lost', async () => {
    const fs = new MemoryFileSystem({ syncDelay: (path) => (path.endsWith('.wal') ? sleep(15) : Promise.resolve()) });
    // No compaction: this test is about flush against WAL rotation alone.
    const options = { ...TINY, l0CompactionTrigger: 1000 };
    const db = await Database.open('/slow/db', { ...options, fs });
    const written = new Map<string, string>();
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        const key = `w${w}-${String(i).padStart(3, '0')}`;
        const value = `${key}:${'x'.repeat(100)}`;
        await withTimeout(`put ${key}`, db.put(key, value, { sync: i % 3 === 0 }));
        written.set(key, value);
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    expect(db.stats().backgroundError).toBeUndefined();
    await db.close();
    const again = await Database.open('/slow/db', { ...options, fs: fs.powerCut() });
    expect(new Map(await readState(again))).toEqual(written);
    await again.close();
  });
});
