/**
 * Read-only open (`readOnly: true`): reads what a writer acknowledged, from another process
 * holding the database open (and its lock), while that writer is idle and while it writes,
 * flushes and compacts; changes nothing in the directory; refuses writes with READ_ONLY.
 */
import { readdirSync, statSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { dec, errorCode, writeBoth, type Model, type ModelWrite } from './helpers.js';
import { perTestCleanup, startLineChild, type LineChild } from './support/line-child.js';

const { defer, fresh } = perTestCleanup('strata-readonly-');

/** Every file's name, size, mode and mtime (ns): what "nothing in the directory changes" means. */
function snapshotDir(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const s = statSync(join(dir, name), { bigint: true });
      return `${name} ${s.size} ${s.mode} ${s.mtimeNs}`;
    });
}

const code = async (p: Promise<unknown>): Promise<string> => (await errorCode(p)) ?? 'ok';

function startWriter(dir: string, count: number): LineChild {
  const w = startLineChild(join(import.meta.dirname, 'fixtures', 'held-writer.ts'), [dir, String(count)]);
  defer(() => w.stop());
  return w;
}

describe('read-only open', () => {
  it('reads what another process holding the database acknowledged, and changes nothing in the directory', async () => {
    const dir = fresh();
    const n = 1500;
    const w = startWriter(dir, n);
    await w.waitFor((l) => l.includes('ready'));
    expect(await code(Database.open(dir))).toBe('LOCKED'); // the writer holds the lock
    // The writer is idle once its background deletions are done: the directory stops changing.
    let before = snapshotDir(dir);
    for (;;) {
      await new Promise((r) => setTimeout(r, 300));
      const again = snapshotDir(dir);
      if (JSON.stringify(again) === JSON.stringify(before)) break;
      before = again;
    }
    const db = await Database.open(dir, { readOnly: true });
    expect(db.stats().levels.some((l) => l.level > 0 && l.files > 0)).toBe(true); // flushed and compacted data
    for (const i of [0, 2, 9, 20, 99, 200, 999]) expect(dec(await db.get(`p${i}`))).toBe(`v${i}`);
    for (const i of [1, 10, 19, 100, 1999]) expect(await db.get(`p${i}`)).toBeUndefined();
    let count = 0;
    for await (const _ of db.iterate()) count++;
    expect(count).toBe(n - 1 - 10 - 100 - 500); // p1, p10…p19, p100…p199, p1000…p1499 deleted
    expect((await db.verify()).ok).toBe(true);
    // Writes, flush and compact are refused; reads go on.
    expect(await code(db.put('x', 'y'))).toBe('READ_ONLY');
    expect(await code(db.delete('p0'))).toBe('READ_ONLY');
    expect(await code(db.deleteRange('a', 'b'))).toBe('READ_ONLY');
    expect(await code(db.batch().put('x', 'y').write())).toBe('READ_ONLY');
    expect(await code(db.flush())).toBe('READ_ONLY');
    expect(await code(db.compact())).toBe('READ_ONLY');
    expect(dec(await db.get('p0'))).toBe('v0');
    await db.close();
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('opens again and again while the writer writes, flushes and compacts, each time seeing every write acknowledged before it', async () => {
    const dir = fresh();
    const w = startWriter(dir, 10);
    await w.waitFor((l) => l.includes('ready'));
    w.send('write');
    const acked = (): number => w.lines.filter((l) => l.startsWith('ack ')).length;
    let opens = 0;
    while (opens < 8) {
      const k = acked();
      if (k === 0) {
        await w.waitFor(() => acked() > 0);
        continue;
      }
      const db = await Database.open(dir, { readOnly: true });
      opens++;
      for (const i of [0, Math.floor(k / 2), k - 1]) expect(dec(await db.get(`q${i}`)), `q${i} of ${k} acknowledged`).toBe(`w${i}`);
      // A prefix: no hole below the newest write it sees.
      let seen = 0;
      for await (const [key] of db.iterate({ gte: 'q', lt: 'r' })) if (dec(key)!.startsWith('q')) seen++;
      for (let i = 0; i < seen; i++) expect(await db.get(`q${i}`)).toBeDefined();
      await db.close();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(acked()).toBeGreaterThan(200); // the writer went through several memtables meanwhile
  });

  it('leaves a torn WAL tail on disk as it is, and drops it in memory only', async () => {
    const dir = fresh();
    const db = await Database.open(dir);
    await db.put('a', '1');
    await db.put('b', '2');
    await db.close();
    // Reopen with writes that stay in the WAL, then tear its last record.
    const w = await Database.open(dir);
    await w.put('c', '3');
    await w.put('d', '4');
    await w.close();
    const seg = readdirSync(dir).filter((f) => f.endsWith('.wal')).sort().at(-1)!;
    const bytes = readFileSync(join(dir, seg));
    writeFileSync(join(dir, seg), bytes.subarray(0, bytes.length - 3));
    const before = snapshotDir(dir);
    const ro = await Database.open(dir, { readOnly: true });
    expect(dec(await ro.get('c'))).toBe('3');
    expect(await ro.get('d')).toBeUndefined();
    expect(ro.recovery.walDropped).toHaveLength(1);
    await ro.close();
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('creates nothing: a missing database is NOT_FOUND, createIfMissing and errorIfExists are refused', async () => {
    const dir = join(fresh(), 'nothing-here');
    expect(await code(Database.open(dir, { readOnly: true }))).toBe('NOT_FOUND');
    expect(existsSync(dir)).toBe(false);
    expect(await code(Database.open(dir, { readOnly: true, createIfMissing: true }))).toBe('INVALID_ARGUMENT');
    expect(await code(Database.open(dir, { readOnly: true, errorIfExists: true }))).toBe('INVALID_ARGUMENT');
    expect(existsSync(dir)).toBe(false);
    // Another engine's files (here a stray CURRENT and LOG): refused as by a writing open, untouched.
    const foreign = fresh();
    writeFileSync(join(foreign, 'CURRENT'), 'MANIFEST-000001\n');
    writeFileSync(join(foreign, 'LOG'), 'leveldb log\n');
    const before = snapshotDir(foreign);
    expect(await code(Database.open(foreign, { readOnly: true }))).toBe('NOT_A_DATABASE');
    expect(snapshotDir(foreign)).toEqual(before);
  });

  it('model: after any writes, flushes and compactions, a read-only open beside the open writer reads what the model holds', async () => {
    const key = fc.integer({ min: 0, max: 40 }).map((i) => `k${String(i).padStart(2, '0')}`);
    const write: fc.Arbitrary<ModelWrite | { t: 'flush' } | { t: 'compact' }> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: fc.string({ maxLength: 30 }) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
      { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => ({ t: 'range' as const, s: a < b ? a : b, e: a < b ? b : a })) },
      { weight: 1, arbitrary: fc.constant({ t: 'flush' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'compact' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 60 }), async (ops) => {
        const dir = fresh();
        const db = await Database.open(dir, { memtableSize: 2048 });
        const model: Model = new Map();
        try {
          for (const op of ops) {
            if (op.t === 'flush') await db.flush();
            else if (op.t === 'compact') await db.compact();
            else await writeBoth(db, model, op);
          }
          const ro = await Database.open(dir, { readOnly: true });
          try {
            const got: [string, string][] = [];
            for await (const [k, v] of ro.iterate()) got.push([dec(k)!, dec(v)!]);
            expect(got).toEqual([...model].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
            for (const [k, v] of model) expect(dec(ro.getSync(k))).toBe(v);
          } finally {
            await ro.close();
          }
        } finally {
          await db.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
