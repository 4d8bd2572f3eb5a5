// StrataLevel against memory-level, through the abstract-level interface only: random puts,
// deletes, batches, range clears (with and without limit), snapshots, reopen, and reads by
// get/getSync/getMany/has and by iterators with random ranges, directions, limits and seeks.
// Small memtables so that flushes and compactions happen under the reads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { afterAll, describe, expect, it } from 'vitest';
import { StrataLevel } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'strata-level-model-'));
let count = 0;
let flushes = 0;
let compactions = 0;
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const keyArb = fc.integer({ min: 0, max: 60 }).map((i) => `k${String(i).padStart(2, '0')}`);
const valueArb = fc.string({ maxLength: 40 });
const rangeArb = fc.record(
  {
    gt: keyArb,
    gte: keyArb,
    lt: keyArb,
    lte: keyArb,
    reverse: fc.boolean(),
    limit: fc.integer({ min: -1, max: 20 }),
  },
  { requiredKeys: [] },
);

type BatchOp = { type: 'put'; key: string; value: string; valueEncoding?: 'utf8' } | { type: 'del'; key: string };
/**
 * How a batch is written: `plain` takes StrataLevel's fast path (no options, plain operations),
 * `options` abstract-level's (an options argument), `chained` db.batch().put().del().write();
 * operations that name an encoding send a `plain` batch to abstract-level's path midway.
 */
type BatchVia = 'plain' | 'options' | 'chained';

type Op =
  | { t: 'put'; k: string; v: string }
  | { t: 'del'; k: string }
  | { t: 'batch'; ops: BatchOp[]; via: BatchVia }
  | { t: 'clear'; range: Record<string, unknown> }
  | { t: 'snapshot' }
  | { t: 'reopen' }
  | { t: 'compact' }
  | { t: 'read'; keys: string[] }
  | { t: 'iterate'; range: Record<string, unknown>; seek: string | undefined; atSnapshot: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('put' as const), k: keyArb, v: valueArb }), weight: 8 },
  { arbitrary: fc.record({ t: fc.constant('del' as const), k: keyArb }), weight: 3 },
  {
    arbitrary: fc.record({
      t: fc.constant('batch' as const),
      ops: fc.array(
        fc.oneof(
          fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }),
          fc.record({ type: fc.constant('del' as const), key: keyArb }),
          fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb, valueEncoding: fc.constant('utf8' as const) }),
        ),
        { minLength: 1, maxLength: 30 },
      ),
      via: fc.constantFrom<BatchVia>('plain', 'plain', 'options', 'chained'),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('clear' as const), range: rangeArb }), weight: 2 },
  { arbitrary: fc.constant({ t: 'snapshot' as const }), weight: 1 },
  { arbitrary: fc.constant({ t: 'reopen' as const }), weight: 1 },
  { arbitrary: fc.constant({ t: 'compact' as const }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('read' as const), keys: fc.array(keyArb, { minLength: 1, maxLength: 5 }) }), weight: 3 },
  {
    arbitrary: fc.record({ t: fc.constant('iterate' as const), range: rangeArb, seek: fc.option(keyArb, { nil: undefined }), atSnapshot: fc.boolean() }),
    weight: 4,
  },
);

async function runModel(ops: Op[]): Promise<void> {
  const location = join(root, `db-${++count}`);
  const strata = new StrataLevel(location, { memtableSize: 2048, targetFileSize: 4096, l0CompactionTrigger: 2 });
  const model = new MemoryLevel();
  // Explicit snapshots taken at the same moment on both sides.
  let snaps: [Awaited<ReturnType<typeof strata.snapshot>>, Awaited<ReturnType<typeof model.snapshot>>] | null = null;
  await strata.open();
  await model.open();
  try {
    for (const op of ops) {
      switch (op.t) {
        case 'put':
          await strata.put(op.k, op.v);
          await model.put(op.k, op.v);
          break;
        case 'del':
          await strata.del(op.k);
          await model.del(op.k);
          break;
        case 'batch':
          if (op.via === 'chained') {
            const chained = strata.batch();
            for (const o of op.ops) {
              if (o.type === 'put') chained.put(o.key, o.value);
              else chained.del(o.key);
            }
            await chained.write();
          } else if (op.via === 'options') await strata.batch(op.ops, { sync: false });
          else await strata.batch(op.ops);
          await model.batch(op.ops);
          break;
        case 'clear':
          await strata.clear(op.range);
          await model.clear(op.range);
          break;
        case 'snapshot':
          if (snaps !== null) await Promise.all([snaps[0].close(), snaps[1].close()]);
          snaps = [strata.snapshot(), model.snapshot()];
          break;
        case 'reopen':
          if (snaps !== null) await Promise.all([snaps[0].close(), snaps[1].close()]);
          snaps = null;
          await strata.close();
          await strata.open();
          break;
        case 'compact':
          await strata.compactRange('k', 'l');
          break;
        case 'read': {
          for (const k of op.keys) {
            const want = await model.get(k);
            expect(await strata.get(k)).toBe(want);
            expect(strata.getSync(k)).toBe(want);
            expect(await strata.has(k)).toBe(want !== undefined);
            if (snaps !== null) expect(strata.getSync(k, { snapshot: snaps[0] })).toBe(await model.get(k, { snapshot: snaps[1] }));
          }
          expect(await strata.getMany(op.keys)).toEqual(await model.getMany(op.keys));
          if (snaps !== null) expect(await strata.getMany(op.keys, { snapshot: snaps[0] })).toEqual(await model.getMany(op.keys, { snapshot: snaps[1] }));
          expect(await strata.hasMany(op.keys)).toEqual(await model.hasMany(op.keys));
          break;
        }
        case 'iterate': {
          const useSnap = op.atSnapshot && snaps !== null;
          const a = strata.iterator(useSnap ? { ...op.range, snapshot: snaps![0] } : op.range);
          const b = model.iterator(useSnap ? { ...op.range, snapshot: snaps![1] } : op.range);
          if (op.seek !== undefined) {
            a.seek(op.seek);
            b.seek(op.seek);
          }
          const first = await a.next();
          expect(first).toEqual(await b.next());
          expect(await a.all()).toEqual(await b.all());
          break;
        }
      }
    }
    expect(await strata.iterator().all()).toEqual(await model.iterator().all());
    const stats = strata.engine.stats();
    flushes += stats.counters.flushes;
    compactions += stats.counters.compactions;
    if (snaps !== null) await Promise.all([snaps[0].close(), snaps[1].close()]);
    await strata.close();
    await strata.open();
    expect(await strata.iterator().all()).toEqual(await model.iterator().all());
  } finally {
    await strata.close();
    await model.close();
  }
}

describe('StrataLevel vs memory-level (model)', () => {
  it('agrees on random workloads through the abstract-level interface', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 150 }), async (ops) => {
        await runModel(ops);
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 60) },
    );
    // The workloads are meant to reach tables, not only memtables.
    expect(flushes).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
    // Each reopen starts the engine's background worker thread again (~0.1 s, seconds on a loaded machine).
  }, 300_000);
});
