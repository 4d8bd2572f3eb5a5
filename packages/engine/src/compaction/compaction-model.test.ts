/**
 * The engine's model test, compaction variant: memtables and tables of about a kilobyte, an L1
 * target of a few KiB and a level multiplier of 2, so that a few hundred operations run dozens
 * of background compactions through every level — with up to five snapshots held across them.
 * After every write and at the end, EVERY key is read at EVERY held snapshot (and at the
 * latest) and compared with the model.
 *
 * Replay a failure: STRATA_MODEL_SEED=<seed> STRATA_MODEL_PATH=<path> npx vitest run src/compaction/compaction-model.test.ts
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import type { Snapshot } from '../snapshots.js';
import { compactionsSettled, dec, type Model, type ModelWrite, tempDir, writeBoth } from '../../test/helpers.js';

const KEYS = Array.from({ length: 80 }, (_, i) => `k${String(i).padStart(2, '0')}`);
const keyArb = fc.integer({ min: 0, max: KEYS.length - 1 }).map((i) => KEYS[i]!);
const boundArb = fc.integer({ min: 0, max: KEYS.length + 1 }).map((i) => `k${String(i).padStart(2, '0')}`);

type Write = ModelWrite;
type Op =
  | Write
  | { t: 'batch'; ops: Write[] }
  | { t: 'snapshot' }
  | { t: 'release'; i: number }
  | { t: 'settle' }
  | { t: 'compact'; s: string | undefined; e: string | undefined }
  | { t: 'reopen' };

const putArb = fc.record({ t: fc.constant('put' as const), k: keyArb, v: fc.integer({ min: 0, max: 1e6 }).map((n) => `v${n}`.padEnd(60, '.')) });
const delArb = fc.record({ t: fc.constant('del' as const), k: keyArb });
const rangeArb = fc.tuple(boundArb, boundArb).map(([a, b]) => ({ t: 'range' as const, s: a < b ? a : b, e: a < b ? b : a }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 40, arbitrary: putArb },
  { weight: 8, arbitrary: delArb },
  { weight: 3, arbitrary: rangeArb },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.oneof(putArb, putArb, delArb, rangeArb), { minLength: 1, maxLength: 10 }) }) },
  { weight: 3, arbitrary: fc.constant({ t: 'snapshot' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(4) }) },
  { weight: 3, arbitrary: fc.constant({ t: 'settle' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('compact' as const), s: fc.option(boundArb, { nil: undefined }), e: fc.option(boundArb, { nil: undefined }) }).map((o) =>
      o.s !== undefined && o.e !== undefined && o.s > o.e ? { ...o, s: o.e, e: o.s } : o,
    ),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
);

const dbOptions = {
  memtableSize: 1024,
  blockSize: 256,
  targetFileSize: 1024,
  maxBytesForLevelBase: 4096,
  levelSizeMultiplier: 2,
  l0CompactionTrigger: 2,
  numLevels: 5,
};


let totalCompactions = 0;
let totalTrivialMoves = 0;

async function run(ops: Op[]): Promise<void> {
  const { dir, cleanup } = tempDir();
  let db = await Database.open(dir, dbOptions);
  const model: Model = new Map();
  let snaps: { snap: Snapshot; model: Model }[] = [];
  const countStats = (): void => {
    const c = db.stats().compaction!;
    totalCompactions += c.compactions;
    totalTrivialMoves += c.trivialMoves;
  };
  const checkAll = async (): Promise<void> => {
    for (const k of KEYS) {
      expect(dec(await db.get(k)), `get ${k}`).toBe(model.get(k));
      for (const [i, s] of snaps.entries()) expect(dec(db.getSync(k, { snapshot: s.snap })), `get ${k} at snapshot #${i}`).toBe(s.model.get(k));
    }
    for (const s of [undefined, ...snaps]) {
      const got: [string, string][] = [];
      for await (const [k, v] of db.iterate(s ? { snapshot: s.snap } : {})) got.push([dec(k)!, dec(v)!]);
      expect(got).toEqual([...(s ? s.model : model).entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    }
  };
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'put':
        case 'del':
        case 'range':
        case 'batch':
          await writeBoth(db, model, op);
          break;
        case 'snapshot':
          snaps.push({ snap: db.snapshot(), model: new Map(model) });
          if (snaps.length > 5) snaps.shift()!.snap.release();
          break;
        case 'release': {
          const s = snaps[op.i];
          if (s) {
            s.snap.release();
            snaps.splice(op.i, 1);
          }
          break;
        }
        case 'settle':
          await compactionsSettled(db);
          await checkAll();
          break;
        case 'compact':
          await db.compact({ ...(op.s === undefined ? {} : { start: op.s }), ...(op.e === undefined ? {} : { end: op.e }) });
          await checkAll();
          break;
        case 'reopen':
          countStats();
          for (const s of snaps) s.snap.release();
          snaps = [];
          await db.close();
          db = await Database.open(dir, dbOptions);
          break;
      }
    }
    await compactionsSettled(db);
    await checkAll();
    // Full compaction with no snapshot: one version per live key, no tombstone anywhere.
    for (const s of snaps) s.snap.release();
    snaps = [];
    await db.compact();
    await checkAll();
    const st = db.stats();
    const files = st.levels.flatMap((l) => l.fileList);
    expect(files.reduce((n, f) => n + f.entries, 0)).toBe(model.size);
    expect(files.reduce((n, f) => n + f.tombstones, 0)).toBe(0);
    expect(st.backgroundError).toBeUndefined();
    countStats();
  } finally {
    await db.close();
    cleanup();
  }
}

describe('engine model test with tiny tables: many compactions, snapshots held across them', () => {
  afterAll(() => {
    // Visible in the test log: how much compaction the property exercised.
    console.log(`compaction model test: ${totalCompactions} compactions (${totalTrivialMoves} trivial moves)`);
  });

  it('every read at every snapshot agrees with the model', async () => {
    const seed = process.env['STRATA_MODEL_SEED'];
    const path = process.env['STRATA_MODEL_PATH'];
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 50, maxLength: 400 }), async (ops) => {
        await run(ops);
      }),
      {
        numRuns: Number(process.env['STRATA_COMPACTION_MODEL_RUNS'] ?? 40),
        ...(seed !== undefined ? { seed: Number(seed) } : {}),
        ...(path !== undefined ? { path } : {}),
      },
    );
    expect(totalCompactions).toBeGreaterThan(300);
  }, 120_000);
});
