/**
 * Database.repair(path): the manifest is rebuilt from the tables and WAL segments found.
 *
 * A database written with overwrites, deletes and range deletes across flushes and compactions
 * (tables in several levels, acknowledged writes still only in the WAL) loses its manifest and
 * CURRENT; after repair it opens with exactly the contents it had. A damaged table is reported
 * and set aside in lost/, never silently dropped; a foreign WAL segment likewise.
 */
import { existsSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EntryKind } from '@strata-db/memtable';
import { TableBuilder } from '@strata-db/sstable-builder';
import { Database, StrataError } from '../src/index.js';
import { applyToModel, dec, tempDir, type Model, type ModelWrite } from './helpers.js';

const { dir: root, cleanup } = tempDir('strata-repair-');
afterAll(cleanup);

const key = (i: number): string => `k${String(i % 400).padStart(4, '0')}`;

function op(i: number): ModelWrite {
  if (i % 29 === 0) {
    const [s, e] = [key(i), key(i + 9)].sort();
    return { t: 'range', s: s!, e: e! };
  }
  if (i % 7 === 0) return { t: 'del', k: key(i * 3) };
  return { t: 'put', k: key(i * 17), v: `v${i}-${'y'.repeat(i % 50)}` };
}

async function write(db: Database, o: ModelWrite): Promise<void> {
  if (o.t === 'put') await db.put(o.k, o.v);
  else if (o.t === 'del') await db.delete(o.k);
  else await db.deleteRange(o.s, o.e);
}

async function contents(db: Database): Promise<Model> {
  const m: Model = new Map();
  for await (const [k, v] of db.iterate()) m.set(dec(k)!, dec(v)!);
  return m;
}

function removeManifest(dir: string): void {
  for (const n of readdirSync(dir)) if (n.startsWith('MANIFEST-') || n === 'CURRENT') unlinkSync(join(dir, n));
}

/** A database with tables in several levels and acknowledged writes only in the WAL. */
async function build(dir: string, writes: number): Promise<Model> {
  const model: Model = new Map();
  const db = await Database.open(dir, { memtableSize: 16 * 1024, l0CompactionTrigger: 2 });
  for (let i = 1; i <= writes; i++) {
    const o = op(i);
    await write(db, o);
    applyToModel(model, o);
    if (i === Math.floor(writes / 2)) await db.compact();
  }
  // The last writes stay in the WAL: no flush after them.
  for (let i = 0; i < 20; i++) {
    const o: ModelWrite = { t: 'put', k: `wal-only-${i}`, v: `w${i}` };
    await write(db, o);
    applyToModel(model, o);
  }
  await db.close();
  return model;
}

describe('Database.repair', () => {
  it('a database without MANIFEST and CURRENT: every table and every acknowledged WAL write is back', async () => {
    const dir = join(root, 'no-manifest');
    const model = await build(dir, 3000);
    const tablesBefore = readdirSync(dir).filter((n) => n.endsWith('.sst'));
    expect(tablesBefore.length).toBeGreaterThan(2);
    removeManifest(dir);
    await expect(Database.open(dir, { createIfMissing: false })).rejects.toBeInstanceOf(StrataError);

    const report = await Database.repair(dir);
    expect(report.tables.map((t) => t.file.slice(-10)).sort()).toEqual(tablesBefore.sort());
    for (const t of report.tables) {
      expect(t.entryCount + t.tombstoneCount).toBeGreaterThan(0);
      expect(Buffer.compare(t.smallestKey, t.largestKey)).toBeLessThanOrEqual(0);
      expect(t.minSeq).toBeLessThanOrEqual(t.maxSeq);
    }
    expect(report.lost.filter((l) => l.kind !== 'manifest')).toEqual([]);
    expect(report.walRecords).toBeGreaterThanOrEqual(20);
    expect(report.identity.source).toBe('identity');
    expect(report.lastSequence).toBeGreaterThanOrEqual(3020);

    const db = await Database.open(dir, { createIfMissing: false });
    try {
      expect(await contents(db)).toEqual(model);
      // A sequence number is never reused: the next write is newer than everything recovered.
      await db.put('after', 'repair');
      expect(dec(await db.get('after'))).toBe('repair');
    } finally {
      await db.close();
    }
  });

  it('a manifest whose records are damaged is set aside in lost/ and rebuilt', async () => {
    const dir = join(root, 'damaged-manifest');
    const model = await build(dir, 800);
    const current = readFileSync(join(dir, 'CURRENT'), 'latin1').trim();
    const bytes = readFileSync(join(dir, current));
    bytes.fill(0x5a, 12, bytes.length); // every record gone, the magic left
    writeFileSync(join(dir, current), bytes);
    const report = await Database.repair(dir);
    expect(report.lost).toContainEqual(expect.objectContaining({ kind: 'manifest', file: join(dir, current) }));
    expect(existsSync(join(dir, 'lost', current))).toBe(true);
    const db = await Database.open(dir);
    try {
      expect(await contents(db)).toEqual(model);
    } finally {
      await db.close();
    }
  });

  it('tables from different levels whose key and sequence ranges overlap are compacted, so a newer version wins', async () => {
    // What a deep compaction leaves: an L2 table [a..z] holding k@1 whose seqs reach 5 (m@5 came
    // down from L1 later), and an L1 table holding k@3. In L0 by maxSeq the L2 table would be
    // read first and answer k = old.
    const dir = join(root, 'levels');
    const db = await Database.open(dir);
    await db.close();
    removeManifest(dir);
    const table = async (n: number, entries: [string, number, string][]): Promise<void> => {
      const b = new TableBuilder(join(dir, `${String(n).padStart(6, '0')}.sst`), { fileNumber: n });
      for (const [k, seq, v] of entries) b.add({ key: Buffer.from(k), seq, kind: EntryKind.Put, value: Buffer.from(v) });
      await b.finish();
    };
    await table(10, [
      ['a', 2, '1'],
      ['k', 1, 'old'],
      ['m', 5, 'x'],
      ['z', 4, '1'],
    ]);
    await table(11, [['k', 3, 'new']]);

    const report = await Database.repair(dir);
    expect(report.compacted).toBe(true);
    expect(report.lastSequence).toBe(5);
    const again = await Database.open(dir);
    try {
      expect(dec(await again.get('k'))).toBe('new');
      expect(await contents(again)).toEqual(
        new Map([
          ['a', '1'],
          ['k', 'new'],
          ['m', 'x'],
          ['z', '1'],
        ]),
      );
    } finally {
      await again.close();
    }
  });

  it('a damaged table is reported and moved to lost/, not silently dropped; a foreign WAL segment too', async () => {
    const dir = join(root, 'bad-table');
    await build(dir, 1500);
    removeManifest(dir);
    const tables = readdirSync(dir)
      .filter((n) => n.endsWith('.sst'))
      .sort();
    const victim = tables[0]!;
    const bytes = readFileSync(join(dir, victim));
    for (let i = 100; i < 140; i++) bytes[i] = bytes[i]! ^ 0xff; // inside the first data block
    writeFileSync(join(dir, victim), bytes);
    const other = join(root, 'other');
    const o = await Database.open(other);
    await o.put('x', 'y');
    await o.close();
    const foreign = readdirSync(other).find((n) => n.endsWith('.wal'))!;
    writeFileSync(join(dir, '999999.wal'), readFileSync(join(other, foreign)));

    const report = await Database.repair(dir);
    const lostTable = report.lost.find((l) => l.kind === 'table');
    expect(lostTable).toMatchObject({ file: join(dir, victim), movedTo: join(dir, 'lost', victim) });
    expect(lostTable!.reason).toMatch(/checksum|corrupt|damaged|CORRUPTION/i);
    expect(readFileSync(join(dir, 'lost', victim))).toEqual(bytes);
    expect(report.lost).toContainEqual(expect.objectContaining({ kind: 'wal', file: join(dir, '999999.wal') }));
    expect(report.tables.map((t) => t.file)).not.toContain(join(dir, victim));
    expect(report.tables).toHaveLength(tables.length - 1);
    const db = await Database.open(dir);
    try {
      expect(dec(await db.get('wal-only-19'))).toBe('w19');
      expect(await db.get('x')).toBeUndefined();
    } finally {
      await db.close();
    }
    rmSync(other, { recursive: true, force: true });
  });

  it('refuses an open database (LOCKED), a missing one (NOT_FOUND) and another engine’s directory', async () => {
    const dir = join(root, 'open');
    const db = await Database.open(dir);
    await expect(Database.repair(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await db.close();
    await expect(Database.repair(join(root, 'nothing-here'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const foreign = join(root, 'leveldb');
    rmSync(foreign, { recursive: true, force: true });
    await import('node:fs').then((fs) => {
      fs.mkdirSync(foreign);
      fs.writeFileSync(join(foreign, 'LOG'), 'leveldb');
      fs.writeFileSync(join(foreign, '000003.log'), 'x');
    });
    await expect(Database.repair(foreign)).rejects.toMatchObject({ code: 'NOT_A_DATABASE' });
    expect(readdirSync(foreign).sort()).toEqual(['000003.log', 'LOG']);
  });
});
