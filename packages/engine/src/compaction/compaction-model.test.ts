/**
 * The engine's model test, compaction variant: memtables and tables of about a kilobyte, an L1
 * target of a few KiB and a level multiplier of 2, so that a few hundred operations run dozens
 * of background compactions through every level — with up to five snapshots held across them.
 * After every write and at the end, EVERY key is read at EVERY held snapshot (and at the
 * latest) and compared with the model. Each history runs with one of the executors (in this
 * thread, one worker, two workers) and with one or up to three compactions side by side
 * (maxBackgroundCompactions): the picker's rules for compactions that run together (picker.ts)
 * are what keeps the reads right when they do.
 *
 * Replay a failure: STRATA_MODEL_SEED=<seed> STRATA_MODEL_PATH=<path> npx vitest run src/compaction/compaction-model.test.ts
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../db/database.js';
import type { Snapshot } from '../snapshots.js';
import type { StrataEvent } from '../events.js';
import type { CompactionPriority } from './picker.js';
import type { CompactionStyle } from '../options.js';
import { threadWindowPool } from '../background/window-pool.js';
import { compactionsSettled, dec, type Model, type ModelWrite, tempDir, writeBoth } from '../../test/helpers.js';

/** The keys of a history and what it does with them; every key is read back at every check. */
function keysOf(count: number): string[] {
  const width = String(count + 1).length;
  return Array.from({ length: count }, (_, i) => `k${String(i).padStart(width, '0')}`);
}

type Write = ModelWrite;
type Op =
  | Write
  | { t: 'batch'; ops: Write[] }
  | { t: 'snapshot' }
  | { t: 'release'; i: number }
  | { t: 'settle' }
  | { t: 'compact'; s: string | undefined; e: string | undefined }
  | { t: 'reopen' };

/** Operations over `keys`; `batchMax` bounds a batch, `batchWeight` their share (large, frequent batches pile up compaction debt). */
function opsOver(keys: readonly string[], batchMax: number, batchWeight = 4, settleWeight = 3): fc.Arbitrary<Op> {
  const width = keys[0]!.length - 1;
  const keyArb = fc.integer({ min: 0, max: keys.length - 1 }).map((i) => keys[i]!);
  const boundArb = fc.integer({ min: 0, max: keys.length + 1 }).map((i) => `k${String(i).padStart(width, '0')}`);
  const putArb = fc.record({ t: fc.constant('put' as const), k: keyArb, v: fc.integer({ min: 0, max: 1e6 }).map((n) => `v${n}`.padEnd(60, '.')) });
  const delArb = fc.record({ t: fc.constant('del' as const), k: keyArb });
  // Narrow range deletes when batches are large: a table's range covers its tombstones', and
  // compactions over wide ones overlap everything.
  const rangeArb =
    batchWeight > 4
      ? fc.tuple(fc.integer({ min: 0, max: keys.length - 1 }), fc.integer({ min: 1, max: 8 })).map(([i, n]) => ({ t: 'range' as const, s: keys[i]!, e: `k${String(i + n).padStart(width, '0')}` }))
      : fc.tuple(boundArb, boundArb).map(([a, b]) => ({ t: 'range' as const, s: a < b ? a : b, e: a < b ? b : a }));
  return fc.oneof(
    { weight: 40, arbitrary: putArb },
    { weight: 8, arbitrary: delArb },
    { weight: 3, arbitrary: rangeArb },
    { weight: batchWeight, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(fc.oneof(putArb, putArb, putArb, delArb, rangeArb), { minLength: 1, maxLength: batchMax }) }) },
    { weight: 3, arbitrary: fc.constant({ t: 'snapshot' as const }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(4) }) },
    { weight: settleWeight, arbitrary: fc.constant({ t: 'settle' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.constant('compact' as const), s: fc.option(boundArb, { nil: undefined }), e: fc.option(boundArb, { nil: undefined }) }).map((o) =>
        o.s !== undefined && o.e !== undefined && o.s > o.e ? { ...o, s: o.e, e: o.s } : o,
      ),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  );
}

const dbOptions = {
  memtableSize: 1024,
  blockSize: 256,
  targetFileSize: 1024,
  maxBytesForLevelBase: 4096,
  levelSizeMultiplier: 2,
  l0CompactionTrigger: 2,
  numLevels: 5,
};


/**
 * How compaction runs, drawn per history: leveled with either priority (which Ln file goes
 * first: picker.ts), or universal (universal-picker.ts) with 2–4 runs as its trigger and 3 or
 * 5 levels: with 3, a merge whose next older run is L1 goes into L0 (as one table), so that path
 * runs too, not only when a busy L0 table is next; and in some histories merges of two runs at
 * most and no full merge before 4× amplification, so merges of the newest L0 tables go into L0
 * above older L0 tables (whose keys their deletes must keep hiding).
 */
interface CompactionChoice {
  readonly compactionPriority: CompactionPriority;
  readonly compactionStyle: CompactionStyle;
  readonly l0CompactionTrigger: number;
  readonly numLevels: number;
  readonly compactionOptionsUniversal?: { readonly maxMergeWidth: number; readonly maxSizeAmplificationPercent: number };
}
const priorityArb: fc.Arbitrary<CompactionChoice> = fc.oneof(
  fc.constantFrom<CompactionPriority>('min-overlapping-ratio', 'round-robin').map((p) => ({ compactionPriority: p, compactionStyle: 'level' as const, l0CompactionTrigger: 2, numLevels: 5 })),
  fc.tuple(fc.integer({ min: 2, max: 4 }), fc.constantFrom(3, 5), fc.boolean()).map(([t, n, narrow]) => ({
    compactionPriority: 'min-overlapping-ratio' as const,
    compactionStyle: 'universal' as const,
    l0CompactionTrigger: t,
    numLevels: n,
    ...(narrow ? { compactionOptionsUniversal: { maxMergeWidth: 2, maxSizeAmplificationPercent: 400 } } : {}),
  })),
);

let totalCompactions = 0;
let totalTrivialMoves = 0;
/** Compactions that began while another one was running. */
let sideBySide = 0;
/** Universal merges written into L0 (universal-picker.ts: the next older run was an L0 table). */
let intoL0 = 0;
/** Universal merges installed after another (universal-picker.ts, rule 4: the next older run was busy). */
let afterAnother = 0;

async function run(keys: readonly string[], ops: Op[], backgroundThreads: number, maxBackgroundCompactions: number, compaction: CompactionChoice): Promise<void> {
  const { dir, cleanup } = tempDir();
  let compacting = 0;
  const options = {
    ...dbOptions,
    backgroundThreads,
    maxBackgroundCompactions,
    ...compaction,
    onEvent: (e: StrataEvent): void => {
      if (e.type === 'compaction-begin' && compacting++ > 0) sideBySide++;
      if (e.type === 'compaction-begin' && e.outputLevel === 0) intoL0++;
      if (e.type === 'compaction-begin' && e.after !== undefined) afterAnother++;
      if (e.type === 'compaction-end') compacting--;
    },
  };
  let db = await Database.open(dir, options);
  const model: Model = new Map();
  let snaps: { snap: Snapshot; model: Model }[] = [];
  const countStats = (): void => {
    const c = db.stats().compaction!;
    totalCompactions += c.compactions;
    totalTrivialMoves += c.trivialMoves;
  };
  const checkAll = async (): Promise<void> => {
    for (const k of keys) {
      expect(dec(await db.get(k)), `get ${k}`).toBe(model.get(k));
      for (const [i, s] of snaps.entries()) expect(dec(db.getSync(k, { snapshot: s.snap })), `get ${k} at snapshot #${i}`).toBe(s.model.get(k));
    }
    for (const s of [undefined, ...snaps]) {
      const got: [string, string][] = [];
      for await (const [k, v] of db.iterate(s ? { snapshot: s.snap } : {})) got.push([dec(k)!, dec(v)!]);
      const want = [...(s ? s.model : model).entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      expect(got).toEqual(want);
      const back: [string, string][] = [];
      for await (const [k, v] of db.iterate({ ...(s ? { snapshot: s.snap } : {}), reverse: true })) back.push([dec(k)!, dec(v)!]);
      expect(back).toEqual(want.reverse());
    }
  };
  // Compactions give their readahead windows back to the thread's pool (window-pool.ts), which
  // stats report: this thread's with backgroundThreads 0, the workers' otherwise.
  const checkWindows = (): void => {
    const pooled = db.stats().memory.workers.windowPool;
    if (backgroundThreads === 0) {
      expect(threadWindowPool.inUseBytes).toBe(0);
      expect(pooled).toBe(threadWindowPool.residentBytes);
    } else {
      expect(pooled % (512 * 1024)).toBe(0);
      expect(pooled).toBeLessThanOrEqual(backgroundThreads * 8 * 1024 * 1024);
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
          checkWindows();
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
          db = await Database.open(dir, options);
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
    checkWindows();
    countStats();
  } finally {
    await db.close();
    cleanup();
  }
}

describe('engine model test with tiny tables: many compactions, snapshots held across them', () => {
  afterAll(() => {
    // Visible in the test log: how much compaction the properties exercised.
    console.log(`compaction model test: ${totalCompactions} compactions (${totalTrivialMoves} trivial moves), ${sideBySide} begun beside another, ${intoL0} universal merges into L0, ${afterAnother} installed after another`);
  });
  const seed = process.env['STRATA_MODEL_SEED'];
  const path = process.env['STRATA_MODEL_PATH'];
  const replay = { ...(seed !== undefined ? { seed: Number(seed) } : {}), ...(path !== undefined ? { path } : {}) };
  /**
   * Histories of 150–250 operations over `keys`, each run with 0 or 2 background threads, 3
   * compactions at a time and the options `optionsArb` draws, checked against the model. A path
   * that only timing makes run (`ran`, false until it has): without a seed to replay, up to four
   * sets of `numRuns` histories are drawn until it has — none ran in 12 histories in one CI run of
   * session 29.
   */
  async function checkSideBySide(keys: readonly string[], optionsArb: fc.Arbitrary<CompactionChoice>, numRuns: number, ran: () => boolean): Promise<void> {
    for (let set = 0; set < (seed === undefined ? 4 : 1) && (set === 0 || !ran()); set++) {
      await fc.assert(
        fc.asyncProperty(fc.array(opsOver(keys, 12, 40, 1), { minLength: 150, maxLength: 250 }), fc.constantFrom(0, 2), optionsArb, async (ops, threads, options) => {
          await run(keys, ops, threads, 3, options);
        }),
        { numRuns: Number(process.env['STRATA_COMPACTION_MODEL_RUNS'] ?? numRuns), ...replay },
      );
    }
  }

  it('every read at every snapshot agrees with the model', async () => {
    const keys = keysOf(80);
    await fc.assert(
      fc.asyncProperty(fc.array(opsOver(keys, 10), { minLength: 50, maxLength: 400 }), fc.constantFrom(0, 1, 2), fc.constantFrom(1, 3), priorityArb, async (ops, threads, parallel, priority) => {
        await run(keys, ops, threads, parallel, priority);
      }),
      { numRuns: Number(process.env['STRATA_COMPACTION_MODEL_RUNS'] ?? 40), ...replay },
    );
    expect(totalCompactions).toBeGreaterThan(300);
  }, 120_000);

  // 80 keys make every compaction span the whole key space, so two never run together; over
  // 1000 keys, with batches most of the writes and narrow range deletes, L0→L1 runs beside
  // L2→L3, L1→L2 beside L2→L3, and so on (a few times per history: most histories are short).
  it('compactions side by side (maxBackgroundCompactions 3): every read at every snapshot agrees with the model', async () => {
    const keys = keysOf(1000);
    const before = sideBySide;
    await checkSideBySide(keys, priorityArb, 16, () => sideBySide > before);
    // That the path ran at all: how often depends on the histories drawn and on timing (3 at
    // load 14 in one run, more on a quiet machine), and a bound above 0 made the test flaky.
    console.log(`side by side: ${sideBySide - before} compactions begun beside another`);
    if (seed === undefined) expect(sideBySide - before).toBeGreaterThan(0);
    // Over both tests (merges into L0 need runs that do not merge by size: 3 levels, busy tables).
    if (seed === undefined) expect(intoL0).toBeGreaterThan(0);
  }, 180_000);

  // Universal only, side by side: while a long merge holds the older runs, merges of the newest
  // L0 tables go just above its output and are installed after it (universal-picker.ts, rule 4);
  // reads in between must not see them (they would lie below older data still in L0).
  it('universal merges installed after another (maxBackgroundCompactions 3): every read at every snapshot agrees with the model', async () => {
    const keys = keysOf(1000);
    const before = afterAnother;
    const universalArb = fc.tuple(fc.integer({ min: 2, max: 3 }), fc.boolean()).map(([t, narrow]) => ({
      compactionPriority: 'min-overlapping-ratio' as const,
      compactionStyle: 'universal' as const,
      l0CompactionTrigger: t,
      numLevels: 5,
      ...(narrow ? { compactionOptionsUniversal: { maxMergeWidth: 2, maxSizeAmplificationPercent: 400 } } : {}),
    }));
    // Whether a merge is installed after another depends on timing as well as on the histories drawn.
    await checkSideBySide(keys, universalArb, 12, () => afterAnother > before);
    console.log(`universal: ${afterAnother - before} merges installed after another`);
    if (seed === undefined) expect(afterAnother - before).toBeGreaterThan(0);
  }, 180_000);
});
