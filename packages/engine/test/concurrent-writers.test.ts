/**
 * Many writers at once, against the sorted-map model. Each round issues dozens to hundreds of
 * writes together (puts, deletes, range deletes, batches; some `sync`) without awaiting between
 * them, while a tiny memtable and low L0 triggers keep flushes, slowdowns and stops (write
 * groups) coming. Writes are sequenced in call order, so:
 *   - after each round the database equals the model with the round applied in call order;
 *   - a snapshot taken between two calls of a round sees exactly a prefix of the writes issued so
 *     far (the ones acknowledged by then, at least), batches whole or not at all.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database, type Snapshot } from '../src/index.js';
import { applyToModel, dec, type Model, type ModelWrite, testDir } from './helpers.js';

type Write = { w: ModelWrite | { t: 'batch'; ops: ModelWrite[] }; sync: boolean };

const key = fc.integer({ min: 0, max: 60 }).map((i) => `k${String(i).padStart(3, '0')}`);
const single: fc.Arbitrary<ModelWrite> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: fc.string({ minLength: 1, maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
  {
    weight: 1,
    arbitrary: fc.tuple(key, key).filter(([a, b]) => a !== b).map(([a, b]) => ({ t: 'range' as const, s: a < b ? a : b, e: a < b ? b : a })),
  },
);
const write: fc.Arbitrary<Write> = fc.record({
  w: fc.oneof({ weight: 5, arbitrary: single }, { weight: 1, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(single, { minLength: 1, maxLength: 8 }) }) }),
  sync: fc.boolean().map((b) => b && Math.random() < 0.2),
});
const round = fc.record({ writes: fc.array(write, { minLength: 1, maxLength: 300 }), snapshotsAt: fc.array(fc.nat(300), { maxLength: 4 }) });

function issue(db: Database, { w, sync }: Write): Promise<void> {
  switch (w.t) {
    case 'put':
      return db.put(w.k, w.v, { sync });
    case 'del':
      return db.delete(w.k, { sync });
    case 'range':
      return db.deleteRange(w.s, w.e, { sync });
    case 'batch': {
      const b = db.batch();
      for (const op of w.ops) {
        if (op.t === 'put') b.put(op.k, op.v);
        else if (op.t === 'del') b.delete(op.k);
        else b.deleteRange(op.s, op.e);
      }
      return b.write({ sync });
    }
  }
}

function apply(m: Model, { w }: Write): void {
  if (w.t === 'batch') for (const op of w.ops) applyToModel(m, op);
  else applyToModel(m, w);
}

async function contents(db: Database, snapshot?: Snapshot): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterate(snapshot === undefined ? {} : { snapshot })) out.push([dec(k)!, dec(v)!]);
  return out;
}
const sorted = (m: Model): [string, string][] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

let dir: string;
beforeEach(() => {
  dir = testDir('strata-writers-');
});

describe('concurrent writers', () => {
  it('rounds of writes issued together equal the model in call order; snapshots see prefixes', async () => {
    let runs = 0;
    let stalls = 0;
    let slowdowns = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 6 }), async (rounds) => {
        const path = `${dir}/run-${runs++}`;
        const db = await Database.open(path, {
          memtableSize: 2048,
          maxFrozenMemtables: 1,
          l0CompactionTrigger: 2,
          l0SlowdownWritesTrigger: 3,
          l0StopWritesTrigger: 5,
          targetFileSize: 4096,
          blockSize: 256,
        });
        try {
          const model: Model = new Map();
          for (const r of rounds) {
            // The model after each prefix of this round (prefixes[i]: the first i writes applied).
            const prefixes: [string, string][][] = [sorted(model)];
            const pending: Promise<void>[] = [];
            const snaps: { snap: Snapshot; issued: number; acked: number }[] = [];
            let acked = 0;
            for (let i = 0; i < r.writes.length; i++) {
              if (r.snapshotsAt.includes(i)) snaps.push({ snap: db.snapshot(), issued: i, acked });
              const w = r.writes[i]!;
              pending.push(
                issue(db, w).then(() => {
                  acked = Math.max(acked, i + 1); // resolved in order
                }),
              );
              apply(model, w);
              prefixes.push(sorted(model));
            }
            await Promise.all(pending);
            expect(await contents(db)).toEqual(sorted(model));
            for (const { snap, issued, acked: ackedThen } of snaps) {
              const seen = await contents(db, snap);
              snap.release();
              const k = prefixes.findIndex((p, i) => i >= ackedThen && i <= issued && JSON.stringify(p) === JSON.stringify(seen));
              expect(k, `a snapshot taken after ${issued} writes (${ackedThen} acknowledged) sees no prefix of them`).toBeGreaterThanOrEqual(0);
            }
          }
          const c = db.stats().counters;
          stalls += c.stalls;
          slowdowns += c.slowdowns;
        } finally {
          await db.close();
        }
      }),
      { numRuns: 25 },
    );
    // The workload did reach the grouped paths.
    expect(stalls + slowdowns).toBeGreaterThan(0);
  }, 300_000);
});
