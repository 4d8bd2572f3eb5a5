/** checkpoint and repair through the built binary, checked against the engine. */
import { existsSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '@strata-db/engine';
import { makeDatabase, strata, tempDir } from './strata.js';

const { dir: root, cleanup } = tempDir();
afterAll(cleanup);

async function scan(d: string): Promise<string> {
  const r = await strata(['--db', d, 'scan', '--json']);
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('checkpoint', () => {
  it('writes a copy that opens with the same contents; tables are hard links; an existing target is refused', async () => {
    const db = join(root, 'cp-src');
    const copy = join(root, 'cp-copy');
    await makeDatabase(db);
    const r = await strata(['--db', db, 'checkpoint', copy, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { dir: string; tables: number; linked: number; walSegments: number[] };
    expect(report.dir).toBe(copy);
    expect(report.tables).toBeGreaterThan(1);
    expect(report.linked).toBe(report.tables);
    const sst = readdirSync(copy).find((n) => n.endsWith('.sst'))!;
    expect(statSync(join(copy, sst)).ino).toBe(statSync(join(db, sst)).ino);
    expect(await scan(copy)).toBe(await scan(db));

    const again = await strata(['--db', db, 'checkpoint', copy]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^strata: EXISTS: /);
    const text = await strata(['--db', db, 'checkpoint', join(root, 'cp-copy-2')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^checkpoint .*cp-copy-2: \d+ tables \(\d+ linked, 0 copied/);
  });

  it('a usage error without <dir>; LOCKED while another process has the database open', async () => {
    const db = join(root, 'cp-locked');
    await makeDatabase(db);
    expect((await strata(['--db', db, 'checkpoint'])).code).toBe(2);
    const open = await Database.open(db);
    try {
      const r = await strata(['--db', db, 'checkpoint', join(root, 'cp-locked-copy')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^strata: LOCKED: /);
      expect(existsSync(join(root, 'cp-locked-copy'))).toBe(false);
    } finally {
      await open.close();
    }
  });
});

describe('repair', () => {
  it('a database whose MANIFEST and CURRENT were deleted opens again with every table and WAL write', async () => {
    const db = join(root, 'rp');
    await makeDatabase(db);
    const before = await scan(db);
    for (const n of readdirSync(db)) if (n.startsWith('MANIFEST-') || n === 'CURRENT') unlinkSync(join(db, n));
    expect((await strata(['--db', db, 'scan'])).code).toBe(1);

    const r = await strata(['--db', db, 'repair', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tables: { file: string; entryCount: number; smallestKey: string }[]; lost: { kind: string }[]; walRecords: number; lastSequence: number };
    expect(report.tables.length).toBeGreaterThan(1);
    expect(report.tables.every((t) => /^[0-9a-f]*$/.test(t.smallestKey))).toBe(true);
    expect(report.lost.filter((l) => l.kind !== 'manifest')).toEqual([]);
    expect(report.walRecords).toBe(10); // w0…w9 were only in the WAL
    expect(await scan(db)).toBe(before);
  });

  it('a damaged table: listed as lost, moved to lost/, exit 1; the rest opens', async () => {
    const db = join(root, 'rp-bad');
    await makeDatabase(db);
    for (const n of readdirSync(db)) if (n.startsWith('MANIFEST-') || n === 'CURRENT') unlinkSync(join(db, n));
    const victim = readdirSync(db)
      .filter((n) => n.endsWith('.sst'))
      .sort()[0]!;
    const bytes = readFileSync(join(db, victim));
    for (let i = 64; i < 96; i++) bytes[i] = bytes[i]! ^ 0xa5;
    writeFileSync(join(db, victim), bytes);

    const r = await strata(['--db', db, 'repair']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^kept {2}table .*\.sst: \d+ entries/m);
    expect(r.stdout).toContain(`lost  table ${join(db, victim)} -> ${join(db, 'lost', victim)}`);
    expect(r.stdout).toMatch(/^repaired: \d+ tables, 10 WAL records/m);
    expect(r.stderr).toMatch(/^strata: CORRUPTION: .*1 damaged file/);
    expect(existsSync(join(db, 'lost', victim))).toBe(true);
    const get = await strata(['--db', db, 'get', 'w9']);
    expect(get.stdout.trim()).toBe('x9');
  });
});
