/**
 * Deletes that must not linger (issue 23), under the sorted-map model:
 *  - queue-shaped runs: pushes at the tail, pops of the head through a fresh
 *    `iterator({ limit: 1 })` each time (the known-empty ranges of read/empty-ranges.ts at work),
 *    some with bounds, some issued while a Put is applied but not yet visible;
 *  - delete-heavy runs: fills and mass deletes (point deletes and range deletes) that make the
 *    tables the deletion trigger marks, so that compactions for deletions run in the background
 *    while snapshots are held across them — a snapshot must still see what it saw.
 * Every pop, seek and scan is compared with the model, at the latest state and at every held
 * snapshot. Tiny memtables and a small deletion window make flushes and tombstone compactions
 * happen many times per run.
 *
 * Replay a failure with STRATA_MODEL_SEED=<seed> STRATA_MODEL_PATH=<path> npx vitest run test/deletes-model.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database, type DatabaseOptions, type StrataEvent } from '../src/index.js';
import { applyToModel, compactionsSettled, dec, holdSnapshot, type HeldSnapshot, type Model, releaseSnapshot, tempDir } from './helpers.js';

const KEYS = 400;
const k = (i: number): string => `q${String(Math.max(0, Math.min(KEYS - 1, i))).padStart(4, '0')}`;

type Op =
  | { t: 'push'; n: number }
  | { t: 'pop'; n: number; bounded: boolean }
  | { t: 'popBehindPut' }
  | { t: 'headAcrossPut'; at: number; flushFirst: boolean }
  | { t: 'seek'; at: number }
  | { t: 'fill'; from: number; count: number; tag: number }
  | { t: 'massDelete'; from: number; count: number; range: boolean }
  | { t: 'putBack'; at: number }
  | { t: 'scan'; from: number; n: number }
  | { t: 'snapshot' }
  | { t: 'release'; i: number }
  | { t: 'flush' }
  | { t: 'settle' }
  | { t: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('push' as const), n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('pop' as const), n: fc.integer({ min: 1, max: 60 }), bounded: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constant({ t: 'popBehindPut' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('headAcrossPut' as const), at: fc.nat(KEYS - 1), flushFirst: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('seek' as const), at: fc.nat(KEYS - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fill' as const), from: fc.nat(KEYS - 1), count: fc.integer({ min: 1, max: 200 }), tag: fc.nat(1000) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('massDelete' as const), from: fc.nat(KEYS - 1), count: fc.integer({ min: 1, max: 300 }), range: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('putBack' as const), at: fc.nat(KEYS - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('scan' as const), from: fc.nat(KEYS - 1), n: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'settle' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
);

const options: DatabaseOptions = {
  memtableSize: 2048,
  blockSize: 256,
  targetFileSize: 4096,
  maxBytesForLevelBase: 8192,
  l0CompactionTrigger: 3,
  deletionCompactionWindow: 16,
  deletionCompactionTrigger: 8,
};

/** The first `n` entries of `m` from `from` on (keys ≥ from), in key order. */
function modelScan(m: Model, from: string | undefined, n: number): [string, string][] {
  return [...m.entries()]
    .filter(([key]) => from === undefined || key >= from)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .slice(0, n);
}

/** The head as a queue consumer reads it: a fresh iterator, one entry. */
function head(db: Database, bounded: boolean): [string, string] | undefined {
  const it = db.iterator(bounded ? { gte: 'q', lt: 'r', limit: 1 } : { limit: 1 });
  try {
    const e = it.next();
    return e === undefined ? undefined : [dec(e[0])!, dec(e[1])!];
  } finally {
    it.close();
  }
}

async function runSequence(ops: Op[]): Promise<{ deletionCompactions: number }> {
  const { dir, cleanup } = tempDir('strata-deletes-model-');
  let deletionCompactions = 0;
  const onEvent = (e: StrataEvent): void => {
    if (e.type === 'compaction-begin' && e.reason === 'deletions') deletionCompactions++;
  };
  let db = await Database.open(dir, { ...options, onEvent });
  const model: Model = new Map();
  let snaps: HeldSnapshot[] = [];
  let tail = 0;
  let version = 0;
  const write = async (w: { t: 'put'; k: string; v: string } | { t: 'del'; k: string } | { t: 'range'; s: string; e: string }): Promise<void> => {
    if (w.t === 'put') await db.put(w.k, w.v);
    else if (w.t === 'del') await db.delete(w.k);
    else await db.deleteRange(w.s, w.e);
    applyToModel(model, w);
  };
  /** Every held snapshot still reads as it did when taken. */
  const checkSnapshots = (from: number, n: number): void => {
    for (const s of snaps) {
      const got: [string, string][] = [];
      const it = db.iterator({ gte: k(from), limit: n, snapshot: s.snap });
      for (let e = it.next(); e !== undefined; e = it.next()) got.push([dec(e[0])!, dec(e[1])!]);
      it.close();
      expect(got, `scan of ${n} from ${k(from)} at a held snapshot`).toEqual(modelScan(s.model, k(from), n));
      const probe = k(from);
      expect(dec(db.getSync(probe, { snapshot: s.snap })), `get ${probe} at a held snapshot`).toBe(s.model.get(probe));
    }
  };
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'push':
          for (let i = 0; i < op.n && tail < KEYS; i++, tail++) await write({ t: 'put', k: k(tail), v: `job${tail}.${version++}` });
          break;
        case 'pop':
          for (let i = 0; i < op.n; i++) {
            const got = head(db, op.bounded);
            expect(got, 'queue head').toEqual(modelScan(model, undefined, 1)[0]);
            if (got === undefined) break;
            await write({ t: 'del', k: got[0] });
          }
          break;
        case 'popBehindPut': {
          // A Put applied to the memtable but not yet visible (its WAL write is in flight): the
          // head read meanwhile must not see it, and must not teach later readers that its key is empty.
          const key = k(Math.max(0, tail - 1 - (version % 7)));
          const value = `late${version++}`;
          const pending = db.put(key, value);
          expect(head(db, false), 'head while a put is in flight').toEqual(modelScan(model, undefined, 1)[0]);
          await pending;
          applyToModel(model, { t: 'put', k: key, v: value });
          expect(head(db, false), 'head after it').toEqual(modelScan(model, undefined, 1)[0]);
          break;
        }
        case 'headAcrossPut': {
          // An iterator created before a Put and read after it: it reads its snapshot, and what
          // its walk found empty must not hide the Put from the readers after it.
          const it = db.iterator({ limit: 1 });
          const before = modelScan(model, undefined, 1)[0];
          // After a flush the Put lands in a memtable the iterator does not read.
          if (op.flushFirst) await db.flush();
          await write({ t: 'put', k: k(op.at), v: `across${version++}` });
          const e = it.next();
          it.close();
          expect(e === undefined ? undefined : [dec(e[0]), dec(e[1])], 'head at the older snapshot').toEqual(before);
          expect(head(db, false), 'head after the put').toEqual(modelScan(model, undefined, 1)[0]);
          break;
        }
        case 'seek': {
          const it = db.iterator({ limit: 3 });
          it.seek(k(op.at));
          const got: [string, string][] = [];
          for (let e = it.next(); e !== undefined; e = it.next()) got.push([dec(e[0])!, dec(e[1])!]);
          it.close();
          expect(got, `seek ${k(op.at)}`).toEqual(modelScan(model, k(op.at), 3));
          break;
        }
        case 'fill': {
          const b = db.batch();
          const writes: { t: 'put'; k: string; v: string }[] = [];
          for (let i = op.from; i < Math.min(KEYS, op.from + op.count); i++) writes.push({ t: 'put', k: k(i), v: `f${op.tag}.${version++}` });
          for (const w of writes) b.put(w.k, w.v);
          await b.write();
          for (const w of writes) applyToModel(model, w);
          break;
        }
        case 'massDelete': {
          const end = Math.min(KEYS, op.from + op.count);
          if (op.range) {
            await write({ t: 'range', s: k(op.from), e: end >= KEYS ? 'r' : k(end) });
          } else {
            const b = db.batch();
            for (let i = op.from; i < end; i++) b.delete(k(i));
            await b.write();
            for (let i = op.from; i < end; i++) applyToModel(model, { t: 'del', k: k(i) });
          }
          break;
        }
        case 'putBack':
          // A put into a stretch that earlier reads found empty.
          await write({ t: 'put', k: k(op.at), v: `back${version++}` });
          expect(head(db, true), 'head after a put back').toEqual(modelScan(model, undefined, 1)[0]);
          break;
        case 'scan': {
          const got: [string, string][] = [];
          for await (const [key, value] of db.iterate({ gte: k(op.from), limit: op.n })) got.push([dec(key)!, dec(value)!]);
          expect(got, `scan of ${op.n} from ${k(op.from)}`).toEqual(modelScan(model, k(op.from), op.n));
          checkSnapshots(op.from, op.n);
          break;
        }
        case 'snapshot':
          holdSnapshot(snaps, db, model, 4);
          break;
        case 'release':
          releaseSnapshot(snaps, op.i);
          break;
        case 'flush':
          await db.flush();
          break;
        case 'settle':
          // Background compactions (for size and for deletions) run to the end with snapshots held.
          await db.flush();
          await compactionsSettled(db);
          await new Promise((r) => setTimeout(r, 5));
          checkSnapshots(0, KEYS);
          break;
        case 'reopen':
          for (const s of snaps) s.snap.release();
          snaps = [];
          await db.close();
          db = await Database.open(dir, { ...options, onEvent });
          break;
      }
    }
    checkSnapshots(0, KEYS);
    const all: [string, string][] = [];
    for await (const [key, value] of db.iterate()) all.push([dec(key)!, dec(value)!]);
    expect(all).toEqual(modelScan(model, undefined, KEYS + 1));
  } finally {
    for (const s of snaps) s.snap.release();
    await db.close();
    cleanup();
  }
  return { deletionCompactions };
}

describe('deletes against a sorted-map model', () => {
  it('queue-shaped and delete-heavy runs with snapshots held across tombstone compactions', async () => {
    const seed = process.env['STRATA_MODEL_SEED'];
    const path = process.env['STRATA_MODEL_PATH'];
    let deletionCompactions = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 120 }), async (ops) => {
        deletionCompactions += (await runSequence(ops)).deletionCompactions;
      }),
      {
        numRuns: Number(process.env['STRATA_MODEL_RUNS'] ?? 25),
        ...(seed !== undefined ? { seed: Number(seed) } : {}),
        ...(path !== undefined ? { path } : {}),
        endOnFailure: process.env['STRATA_MODEL_SHRINK'] === '0',
      },
    );
    // The runs did exercise what they are about.
    expect(deletionCompactions).toBeGreaterThan(0);
  }, 240_000);
});
