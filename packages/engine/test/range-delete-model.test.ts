/**
 * Model test heavy in range deletions: thousands of them per run — nested, overlapping, small
 * and disjoint, wide — spread over the active memtable, frozen memtables (reads issued while a
 * flush is in flight), and tables at several levels (tiny memtables and tables, compactions of
 * part of the key space), with snapshots held across all of it. Every read is compared with a
 * sorted-map model: gets and short scans (forward and reverse) at the latest state and at every
 * held snapshot, iterators left open across writes, and full scans.
 *
 * Replay a failure with STRATA_MODEL_SEED=<seed> STRATA_MODEL_PATH=<path> npx vitest run test/range-delete-model.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database, type DbIterator, type Snapshot } from '../src/index.js';
import { applyFilterCase, applyToModel, dec, type FilterCase, filterCaseOptions, holdSnapshot, type HeldSnapshot, type Model, releaseSnapshot, skippedFilterProbes, tempDir } from './helpers.js';

const KEYS = 1500;
const k = (i: number): string => `k${String(Math.max(0, Math.min(KEYS, i))).padStart(4, '0')}`;

type RangeShape = 'nested' | 'overlapping' | 'small' | 'wide';
type Op =
  | { t: 'fill'; from: number; count: number; tag: number }
  | { t: 'ranges'; shape: RangeShape; at: number; n: number; seed: number }
  | { t: 'check'; seed: number }
  | { t: 'snapshot' }
  | { t: 'release'; i: number }
  | { t: 'flush'; readDuring: boolean; seed: number }
  | { t: 'compact'; from: number; len: number | undefined }
  | { t: 'iterOpen'; from: number; reverse: boolean }
  | { t: 'iterRead'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('fill' as const), from: fc.nat(KEYS - 1), count: fc.integer({ min: 1, max: 400 }), tag: fc.nat(1000) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('ranges' as const),
      shape: fc.constantFrom<RangeShape>('nested', 'overlapping', 'small', 'wide'),
      at: fc.nat(KEYS - 1),
      n: fc.integer({ min: 1, max: 600 }),
      seed: fc.nat(),
    }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('check' as const), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ t: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('flush' as const), readDuring: fc.boolean(), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const), from: fc.nat(KEYS - 1), len: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('iterOpen' as const), from: fc.nat(KEYS - 1), reverse: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('iterRead' as const), n: fc.integer({ min: 1, max: 30 }) }) },
);

/** A small deterministic generator, so that an op's ranges are a function of its fields. */
function rng(seed: number): () => number {
  let s = seed | 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** The ranges an op deletes, as [start, end) key pairs (start < end). */
function rangesOf(op: Extract<Op, { t: 'ranges' }>): [string, string][] {
  const r = rng(op.seed);
  const out: [string, string][] = [];
  for (let i = 0; i < op.n; i++) {
    let s: number;
    let e: number;
    switch (op.shape) {
      case 'nested': // [at - i, at + i + 1): every one inside the next (newer ones wider)
        s = op.at - i;
        e = op.at + i + 1;
        break;
      case 'overlapping': // random short ranges around `at`: piles of partial overlaps
        s = op.at + Math.floor(r() * 200) - 100;
        e = s + 1 + Math.floor(r() * 40);
        break;
      case 'small': // one key each, spread over the key space; half of them between keys
        s = Math.floor(r() * KEYS);
        e = s + 1;
        if (r() < 0.5) {
          out.push([`${k(s)}a`, `${k(s)}b`]);
          continue;
        }
        break;
      case 'wide':
        s = Math.floor(r() * KEYS);
        e = s + 1 + Math.floor(r() * 300);
        break;
    }
    if (k(s) < k(e)) out.push([k(s), k(e)]);
  }
  return out;
}

// readCompactionMinSeeks 2: tables are also compacted for reads (two gets that probed them in
// vain), between the gets at snapshots and the range deletes.
const dbOptions = { readCompactionBytesPerSeek: 2 ** 30, readCompactionMinSeeks: 2, memtableSize: 16 * 1024, blockSize: 256, l0CompactionTrigger: 2, targetFileSize: 4 * 1024, maxBytesForLevelBase: 16 * 1024, levelSizeMultiplier: 4 };

function scanModel(m: Model, from: string, reverse: boolean, limit: number): [string, string][] {
  let keys = [...m.keys()].sort();
  keys = reverse ? keys.filter((x) => x <= from).reverse() : keys.filter((x) => x >= from);
  return keys.slice(0, limit).map((x) => [x, m.get(x)!]);
}

function scanDb(db: Database, from: string, reverse: boolean, limit: number, snapshot?: Snapshot): [string, string][] {
  const it = db.iterator({ ...(reverse ? { lte: from } : { gte: from }), reverse, limit, ...(snapshot ? { snapshot } : {}) });
  try {
    return it.nextv(limit).map(([kk, v]) => [dec(kk)!, dec(v)!]);
  } finally {
    it.close();
  }
}

/** Gets and short scans at the latest state and at every held snapshot. */
function check(db: Database, model: Model, snaps: readonly HeldSnapshot[], seed: number): void {
  const r = rng(seed);
  const views: { snapshot: Snapshot | undefined; model: Model }[] = [{ snapshot: undefined, model }, ...snaps.map((s) => ({ snapshot: s.snap, model: s.model }))];
  for (const v of views) {
    const opts = v.snapshot ? { snapshot: v.snapshot } : undefined;
    for (let i = 0; i < 25; i++) {
      const key = k(Math.floor(r() * KEYS));
      expect(dec(db.getSync(key, opts)), `get ${key}${v.snapshot ? ' at a snapshot' : ''}`).toBe(v.model.get(key));
    }
    // getMany: unsorted keys with repeats, some in runs (sharing blocks), at the same view.
    const many = Array.from({ length: 40 }, (_, i) => k(i % 3 === 0 ? Math.floor(r() * KEYS) : Math.floor(r() * 8) * 180 + i));
    many.push(many[0]!);
    expect(db.getManySync(many, opts).map(dec), `getMany${v.snapshot ? ' at a snapshot' : ''}`).toEqual(many.map((x) => v.model.get(x)));
    for (let i = 0; i < 6; i++) {
      const from = k(Math.floor(r() * KEYS));
      const reverse = r() < 0.4;
      expect(scanDb(db, from, reverse, 20, v.snapshot), `scan of 20 from ${from}${reverse ? ' reverse' : ''}${v.snapshot ? ' at a snapshot' : ''}`).toEqual(
        scanModel(v.model, from, reverse, 20),
      );
    }
  }
}

async function runSequence(ops: Op[], filters: FilterCase): Promise<{ tombstones: number; deepest: number; frozenReads: number; skipped: number }> {
  const { dir, cleanup } = tempDir('strata-rangedel-model-');
  const db = await Database.open(dir, { ...dbOptions, ...filterCaseOptions(filters) });
  applyFilterCase(db, filters);
  const model: Model = new Map();
  const snaps: HeldSnapshot[] = [];
  let iter: { it: DbIterator; expected: [string, string][]; pos: number } | undefined;
  let tombstones = 0;
  let deepest = 0;
  let frozenReads = 0;
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'fill': {
          const b = db.batch();
          for (let i = op.from; i < Math.min(KEYS, op.from + op.count); i++) {
            // ~100-byte values: enough data for several levels of 4 KiB tables.
            const v = `v${op.tag}-${i}-`.padEnd(100, 'x');
            b.put(k(i), v);
            applyToModel(model, { t: 'put', k: k(i), v });
          }
          await b.write();
          break;
        }
        case 'ranges':
          for (const [s, e] of rangesOf(op)) {
            await db.deleteRange(s, e);
            applyToModel(model, { t: 'range', s, e });
            tombstones++;
          }
          break;
        case 'check':
          check(db, model, snaps, op.seed);
          break;
        case 'snapshot':
          holdSnapshot(snaps, db, model, 3);
          break;
        case 'release':
          releaseSnapshot(snaps, op.i);
          break;
        case 'flush': {
          const flushed = db.flush();
          // Reads while the memtable is frozen and its flush in flight.
          if (op.readDuring) {
            if (db.stats().memtables.frozen > 0) frozenReads++;
            check(db, model, snaps, op.seed);
          }
          await flushed;
          break;
        }
        case 'compact':
          await db.compact(op.len === undefined ? undefined : { start: k(op.from), end: k(op.from + op.len) });
          break;
        case 'iterOpen':
          iter?.it.close();
          iter = {
            it: db.iterator(op.reverse ? { lte: k(op.from), reverse: true } : { gte: k(op.from) }),
            expected: scanModel(model, k(op.from), op.reverse, KEYS),
            pos: 0,
          };
          break;
        case 'iterRead': {
          if (iter === undefined) break;
          const got = iter.it.nextv(op.n).map(([kk, v]) => [dec(kk)!, dec(v)!]);
          expect(got, `open iterator at entry ${iter.pos}`).toEqual(iter.expected.slice(iter.pos, iter.pos + op.n));
          iter.pos += got.length;
          break;
        }
      }
      const levels = db.stats().levels;
      for (let l = levels.length - 1; l > deepest; l--) if (levels[l]!.files > 0) deepest = l;
    }
    check(db, model, snaps, 1);
    const all: [string, string][] = [];
    for await (const [kk, v] of db.iterate()) all.push([dec(kk)!, dec(v)!]);
    expect(all).toEqual([...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    return { tombstones, deepest, frozenReads, skipped: skippedFilterProbes(db) };
  } finally {
    iter?.it.close();
    for (const s of snaps) s.snap.release();
    await db.close();
    cleanup();
  }
}

describe('engine against a sorted-map model, heavy in range deletions', () => {
  it('thousands of nested, overlapping, small and wide range deletes in memtables, frozen memtables and tables at several levels, snapshots held', async () => {
    const seed = process.env['STRATA_MODEL_SEED'];
    const path = process.env['STRATA_MODEL_PATH'];
    let totalTombstones = 0;
    let maxDeepest = 0;
    let frozenReads = 0;
    let skipped = 0;
    await fc.assert(
      // Point reads through every level's filters, skipping them all (the test hook), or
      // skipping and resuming as the reject rate moves (helpers.ts, FilterCase).
      fc.asyncProperty(fc.array(opArb, { minLength: 15, maxLength: 45 }), fc.constantFrom<FilterCase>('adaptive', 'always', 'never', 'eager'), async (ops, filters) => {
        const r = await runSequence(ops, filters);
        skipped += r.skipped;
        totalTombstones += r.tombstones;
        maxDeepest = Math.max(maxDeepest, r.deepest);
        frozenReads += r.frozenReads;
      }),
      {
        numRuns: Number(process.env['STRATA_MODEL_RUNS'] ?? 10),
        ...(seed !== undefined ? { seed: Number(seed) } : {}),
        ...(path !== undefined ? { path } : {}),
        endOnFailure: process.env['STRATA_MODEL_SHRINK'] === '0',
      },
    );
    // The workload really is what it says: thousands of tombstones, several levels, reads of frozen memtables.
    if (seed === undefined) {
      expect(totalTombstones).toBeGreaterThan(5000);
      expect(maxDeepest).toBeGreaterThanOrEqual(2);
      expect(frozenReads).toBeGreaterThan(0);
      expect(skipped).toBeGreaterThan(0);
    }
  }, 300_000);
});
