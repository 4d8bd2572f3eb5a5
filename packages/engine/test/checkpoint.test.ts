/**
 * checkpoint(dir) and Database.destroy(path).
 *
 * A checkpoint taken while writes, flushes and compactions run opens with exactly the state of
 * the writer after some number k of its writes, k ≥ the writes acknowledged before the call (a
 * model replays the first k writes). On the real file system the tables are hard links.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';
import { dec } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'strata-checkpoint-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const key = (i: number): string => `k${String(i % 300).padStart(4, '0')}`;

/** Write i of the workload: puts mostly, some deletes and range deletes. */
type Op = { t: 'put'; k: string; v: string } | { t: 'del'; k: string } | { t: 'range'; s: string; e: string };
function op(i: number): Op {
  if (i % 23 === 0) {
    const [s, e] = [key(i), key(i + 7)].sort();
    return { t: 'range', s: s!, e: e! };
  }
  if (i % 5 === 0) return { t: 'del', k: key(i * 7) };
  return { t: 'put', k: key(i * 13), v: `v${i}-${'x'.repeat(i % 40)}` };
}

function applyOp(model: Map<string, string>, o: Op): void {
  if (o.t === 'put') model.set(o.k, o.v);
  else if (o.t === 'del') model.delete(o.k);
  else for (const k of [...model.keys()]) if (k >= o.s && k < o.e) model.delete(k);
}

async function contents(db: Database): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for await (const [k, v] of db.iterate()) m.set(dec(k)!, dec(v)!);
  return m;
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

async function write(db: Database, o: Op): Promise<void> {
  if (o.t === 'put') await db.put(o.k, o.v);
  else if (o.t === 'del') await db.delete(o.k);
  else await db.deleteRange(o.s, o.e);
}

describe('checkpoint', () => {
  it('during writes, flushes and compactions: opens at the state after k writes, k ≥ those acknowledged before the call', async () => {
    const dir = join(root, 'live');
    const db = await Database.open(dir, { memtableSize: 4096, l0CompactionTrigger: 2, targetFileSize: 4096, maxBytesForLevelBase: 16 * 1024 });
    const TOTAL = 3000;
    let acked = 0;
    const checkpoints: { dir: string; ackedBefore: number }[] = [];
    const writer = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        await write(db, op(i));
        acked = i + 1;
      }
    })();
    for (let c = 0; c < 4; c++) {
      await new Promise((r) => setTimeout(r, 15 + c * 20));
      const target = join(root, `cp-${c}`);
      const ackedBefore = acked;
      const report = await db.checkpoint(target);
      expect(report.tables).toBe(report.linked + report.copied);
      expect(report.linked).toBe(report.tables); // one file system: hard links only
      checkpoints.push({ dir: target, ackedBefore });
    }
    await writer;
    // The checkpoints were taken while the writes ran, not before or after all of them.
    expect(checkpoints.filter((c) => c.ackedBefore > 0 && c.ackedBefore < TOTAL).length).toBeGreaterThanOrEqual(2);
    expect(db.stats().counters.compactions).toBeGreaterThan(0);
    await db.close();

    for (const cp of checkpoints) {
      const copy = await Database.open(cp.dir, { createIfMissing: false });
      const got = await contents(copy);
      await copy.close();
      const model = new Map<string, string>();
      for (let i = 0; i < cp.ackedBefore; i++) applyOp(model, op(i));
      let k = cp.ackedBefore;
      let found = sameMap(got, model);
      while (!found && k < TOTAL) {
        applyOp(model, op(k++));
        found = sameMap(got, model);
      }
      expect(found, `checkpoint ${cp.dir} (acked before: ${cp.ackedBefore}) matches no prefix of the writes`).toBe(true);
    }
  });

  it('tables are hard links of the live ones (same inode); the copy is independent of the original afterwards', async () => {
    const dir = join(root, 'links');
    const db = await Database.open(dir);
    for (let i = 0; i < 100; i++) await db.put(key(i), `a${i}`);
    await db.flush();
    await db.put('tail', 'in the WAL only');
    const target = join(root, 'links-cp');
    const report = await db.checkpoint(target);
    expect(report.tables).toBe(1);
    const table = readdirSync(target).find((n) => n.endsWith('.sst'))!;
    expect(statSync(join(target, table)).ino).toBe(statSync(join(dir, table)).ino);
    // The original moves on; the copy does not.
    await db.put('after', 'x');
    await db.compact();
    await db.close();
    const copy = await Database.open(target, { createIfMissing: false });
    expect(dec(copy.getSync('tail'))).toBe('in the WAL only');
    expect(copy.getSync('after')).toBeUndefined();
    expect(dec(copy.getSync(key(5)))).toBe('a5');
    await copy.put('mine', '1');
    await copy.close();
    const again = await Database.open(dir);
    expect(again.getSync('mine')).toBeUndefined();
    await again.close();
  });

  it('a file layer without hard links gets copies; an existing target is EXISTS', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open('/db', { fs });
    for (let i = 0; i < 50; i++) await db.put(key(i), `m${i}`);
    await db.flush();
    const report = await db.checkpoint('/backups/one');
    expect(report).toMatchObject({ tables: 1, linked: 0, copied: 1 });
    expect(report.bytesCopied).toBe(db.stats().levels[0]!.bytes);
    await expect(db.checkpoint('/backups/one')).rejects.toMatchObject({ code: 'EXISTS' });
    await expect(db.checkpoint('/db')).rejects.toMatchObject({ code: 'EXISTS' });
    await db.close();
    const copy = await Database.open('/backups/one', { fs, createIfMissing: false });
    expect(dec(copy.getSync(key(7)))).toBe('m7');
    await copy.close();
    await expect(db.checkpoint('/x')).rejects.toMatchObject({ code: 'NOT_OPEN' });
  });
});

describe('Database.destroy', () => {
  it('deletes a database (not open), and refuses a directory that is not one', async () => {
    const dir = join(root, 'doomed');
    const db = await Database.open(dir);
    await db.put('a', '1');
    await db.flush();
    await expect(Database.destroy(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await db.close();
    const report = await Database.destroy(dir);
    expect(report.deleted).toEqual(expect.arrayContaining(['CURRENT', 'IDENTITY']));
    expect(report.deleted.some((n) => n.endsWith('.sst'))).toBe(true);
    expect(report.directoryRemoved).toBe(true);
    expect(existsSync(dir)).toBe(false);
    // A missing directory: nothing to do.
    expect((await Database.destroy(dir)).deleted).toEqual([]);

    const foreign = join(root, 'not-a-db');
    rmSync(foreign, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'precious.txt'), 'keep me');
    writeFileSync(join(foreign, '000001.sst'), 'looks like a table');
    await expect(Database.destroy(foreign)).rejects.toMatchObject({ code: 'NOT_A_DATABASE' });
    expect(readdirSync(foreign).sort()).toEqual(['000001.sst', 'precious.txt']);
  });

  it('in a database directory, keeps files Strata did not write, and the directory with them', async () => {
    const dir = join(root, 'mixed');
    const db = await Database.open(dir);
    await db.put('a', '1');
    await db.close();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const report = await Database.destroy(dir);
    expect(report.kept).toEqual(['notes.txt']);
    expect(report.directoryRemoved).toBe(false);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});
