/** stats, approxsize, compact, verify through the built binary, checked against the engine. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, type DatabaseStats } from '@strata-db/engine';
import { makeDatabase, strata, tempDir } from './strata.js';

const { dir, cleanup } = tempDir();
beforeAll(async () => {
  await makeDatabase(dir);
});
afterAll(cleanup);

async function engineStats(d = dir): Promise<DatabaseStats> {
  const db = await Database.open(d, { readOnly: true });
  const s = db.stats();
  await db.close();
  return s;
}

const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

describe('stats and approxsize', () => {
  it('stats --json is the engine\'s stats: levels, files, key ranges, scores; the table shows each level', async () => {
    const want = await engineStats();
    const r = await strata(['--db', dir, 'stats', '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { levels: { level: number; files: number; bytes: number; smallestKey?: string; largestKey?: string; fileList: { fileNumber: number }[] }[]; lastSequence: number; compaction: { scores: { level: number; score: number }[]; pendingCompactionBytes: number } };
    expect(got.lastSequence).toBe(want.lastSequence);
    expect(got.levels.map((l) => [l.level, l.files, l.bytes, l.smallestKey, l.largestKey])).toEqual(want.levels.map((l) => [l.level, l.files, l.bytes, hex(l.smallestKey), hex(l.largestKey)]));
    expect(got.levels.flatMap((l) => l.fileList.map((f) => f.fileNumber))).toEqual(want.levels.flatMap((l) => l.fileList.map((f) => f.fileNumber)));
    expect(got.compaction.scores).toEqual(want.compaction!.scores);
    expect(want.levels.filter((l) => l.files > 0).length).toBeGreaterThan(1); // a real tree

    const text = await strata(['--db', dir, 'stats']);
    expect(text.code).toBe(0);
    for (const l of want.levels) {
      const row = text.stdout.split('\n').find((line) => line.startsWith(`│ L${l.level} `));
      expect(row, `row of L${l.level}`).toBeDefined();
      expect(row!.split('│').map((c) => c.trim())[2]).toBe(String(l.files));
    }
    expect(text.stdout).toContain('pending compaction bytes');
    expect(text.stdout).toContain('write amplification');
  });

  it('approxsize: everything = the bytes of all tables; a sub-range less, growing with the range; from > to is a usage error', async () => {
    const want = await engineStats();
    const total = want.levels.reduce((n, l) => n + l.bytes, 0);
    const all = JSON.parse((await strata(['--db', dir, 'approxsize', '--json'])).stdout) as { bytes: number; tables: number };
    expect(all).toEqual({ bytes: total, tables: want.levels.reduce((n, l) => n + l.files, 0) });
    const sizes: number[] = [];
    for (const to of ['k0500', 'k1000', 'k1500']) {
      const r = JSON.parse((await strata(['--db', dir, 'approxsize', '--from', 'k0000', '--to', to, '--json'])).stdout) as { bytes: number };
      sizes.push(r.bytes);
    }
    expect(sizes[0]).toBeGreaterThan(0);
    expect(sizes[0]).toBeLessThan(sizes[1]!);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
    expect(sizes[2]).toBeLessThan(total);
    // Roughly proportional: [k0000, k1000) holds about half of the 2,000 keys.
    expect(sizes[1]! / total).toBeGreaterThan(0.3);
    expect(sizes[1]! / total).toBeLessThan(0.7);
    expect((await strata(['--db', dir, 'approxsize', '--from', 'z', '--to', 'a'])).code).toBe(2);
  });
});

describe('compact and verify', () => {
  it('verify: ok with progress lines (stdout is not a terminal); a flipped byte in a table exits 1 naming the file', async () => {
    const { dir: d, cleanup: c } = tempDir();
    try {
      await makeDatabase(d);
      const ok = await strata(['--db', d, 'verify']);
      expect(ok.code).toBe(0);
      const lines = ok.stdout.trim().split('\n');
      expect(lines.filter((l) => /^verify: .* \/ .* \(\d+%\), .*\/s, ETA /.test(l)).length).toBeGreaterThanOrEqual(1);
      expect(lines.at(-1)).toBe('ok: no damage found');
      const json = JSON.parse((await strata(['--db', d, 'verify', '--json'])).stdout) as { ok: boolean; tables: number };
      const db = await Database.open(d, { readOnly: true });
      const want = await db.verify();
      await db.close();
      expect(json).toEqual(JSON.parse(JSON.stringify(want)));
      // Damage one table.
      const sst = readdirSync(d).filter((f) => f.endsWith('.sst')).sort()[0]!;
      const bytes = readFileSync(join(d, sst));
      bytes[10] = bytes[10]! ^ 0xff;
      writeFileSync(join(d, sst), bytes);
      const bad = await strata(['--db', d, 'verify']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`DAMAGED table ${join(d, sst)}`);
      expect(bad.stderr).toMatch(/^strata: CORRUPTION: 1 damaged file/);
    } finally {
      c();
    }
  });

  it('compact: everything ends in one level with the same contents; --from/--to compacts only what overlaps', async () => {
    const { dir: d, cleanup: c } = tempDir();
    try {
      await makeDatabase(d);
      const scan = async (): Promise<string> => (await strata(['--db', d, 'scan', '--json'])).stdout;
      const before = await scan();
      const part = await strata(['--db', d, 'compact', '--from', 'k0000', '--to', 'k0300', '--json']);
      expect(part.code).toBe(0);
      expect(await scan()).toBe(before);
      const r = await strata(['--db', d, 'compact']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^compact: /m);
      expect(r.stdout).toMatch(/compacted in \d+ ms: \d+ tables, .* -> \d+ tables/);
      expect(await scan()).toBe(before);
      const s = await engineStats(d);
      expect(s.levels.filter((l) => l.files > 0)).toHaveLength(1); // one sorted run, no overlap left
      expect(s.memtables.activeEntries).toBe(0);
    } finally {
      c();
    }
  });
});
