/**
 * Read-triggered compaction through the public API: a read-heavy workload after writes that left
 * overlapping L0 tables (below l0CompactionTrigger: nothing due for size) charges the tables its
 * gets probe in vain, and compaction merges L0 away — on both executors — while what the current
 * view and an older snapshot read (overwrites, a range delete between them) stays as it was.
 * By default (the option 0: off), L0 stays.
 */
import { describe, expect, it } from 'vitest';
import { Database, type DatabaseOptions, type StrataEvent } from '../src/index.js';
import { dec, testDir, until } from './helpers.js';

const key = (i: number): string => `k${String(i).padStart(5, '0')}`;
const N = 3000;


/**
 * Four overlapping L0 tables (l0CompactionTrigger 5: nothing due for size): table r < 3 holds the
 * keys i ≡ r (mod 3), so a get of any key probes the newer tables in vain first; then a snapshot,
 * and a fourth table overwriting the keys ≡ 0 and range-deleting [k00100, k00200).
 */
async function overlappingL0(extra: DatabaseOptions) {
  const reasons: string[] = [];
  const onEvent = (e: StrataEvent): void => {
    if (e.type === 'compaction-begin') reasons.push(e.reason);
  };
  const db = await Database.open(testDir('strata-read-compaction-'), { memtableSize: 4 * 1024 * 1024, compression: 'none', l0CompactionTrigger: 5, onEvent, ...extra });
  for (let r = 0; r < 3; r++) {
    const b = db.batch();
    for (let i = r; i < N; i += 3) b.put(key(i), `v${i}`);
    await b.write();
    await db.flush();
  }
  const snap = db.snapshot();
  const b = db.batch();
  for (let i = 0; i < N; i += 3) b.put(key(i), `new${i}`);
  b.deleteRange(key(100), key(200));
  await b.write();
  await db.flush();
  expect(db.stats().levels[0]!.files).toBe(4);
  return { db, reasons, snap };
}

/** Every key read `rounds` times with getSync, the event loop let through between rounds. */
async function readHeavy(db: Database, rounds: number): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < N; i++) db.getSync(key(i));
    await new Promise((res) => setImmediate(res));
  }
}

function expectContents(db: Database, snap: ReturnType<Database['snapshot']>): void {
  for (let i = 0; i < N; i++) {
    const now = i >= 100 && i < 200 ? undefined : i % 3 === 0 ? `new${i}` : `v${i}`;
    expect(dec(db.getSync(key(i)))).toBe(now);
    expect(dec(db.getSync(key(i), { snapshot: snap }))).toBe(`v${i}`);
  }
}

describe.each([0, 1])('read-triggered compaction, backgroundThreads %i', (backgroundThreads) => {
  const tiny: DatabaseOptions = { backgroundThreads, readCompactionBytesPerSeek: 2 ** 30, readCompactionMinSeeks: 50 };

  it('a read-heavy workload empties L0; the current view and an older snapshot read as before', async () => {
    const { db, reasons, snap } = await overlappingL0(tiny);
    expectContents(db, snap);
    await readHeavy(db, 3);
    await until(() => db.stats().levels[0]!.files === 0 && !db.stats().compaction!.running);
    expect(reasons).toContain('reads');
    expect(db.stats().compaction!.readTriggeredCompactions).toBeGreaterThan(0);
    expectContents(db, snap);
    snap.release();
    await db.close();
  });

  it('leaves L0 alone by default (readCompactionBytesPerSeek 0)', async () => {
    const { db, reasons, snap } = await overlappingL0({ backgroundThreads, readCompactionMinSeeks: 50 });
    await readHeavy(db, 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(db.stats().levels[0]!.files).toBe(4);
    expect(reasons).not.toContain('reads');
    expect(db.stats().compaction!.readTriggeredCompactions).toBe(0);
    snap.release();
    await db.close();
  });
});
