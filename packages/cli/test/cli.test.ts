/**
 * The command line as a whole through the built binary: help, version, exit codes, one-line
 * errors with the stack only under --verbose, a database held by another process (read-only
 * commands still work; writing commands name the holder), and bench.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '@strata-db/engine';
import { makeDatabase, strata, tempDir } from './strata.js';

const { dir, cleanup } = tempDir();
beforeAll(async () => {
  await makeDatabase(dir);
});
afterAll(cleanup);

describe('strata', () => {
  it('--help lists every command; <cmd> --help shows its options; no arguments prints help and exits 2', async () => {
    const h = await strata(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['get', 'put', 'delete', 'delete-range', 'scan', 'stats', 'approxsize', 'compact', 'verify', 'dump-wal', 'dump-sst', 'dump-manifest', 'lsm', 'bench']) {
      expect(h.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
    const scan = await strata(['scan', '--help']);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain('Usage: strata scan [options]');
    for (const o of ['--from', '--to', '--prefix', '--limit', '--reverse', '--keys-only', '--key-format', '--json']) expect(scan.stdout).toContain(o);
    expect((await strata([])).code).toBe(2);
    expect((await strata(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('errors: one line with the code and what to do, exit 1; the stack only with --verbose', async () => {
    const missing = join(dir, 'no-such-db');
    const r = await strata(['--db', missing, 'stats']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^strata: NOT_FOUND: .*no database at/);
    expect(existsSync(missing)).toBe(false); // a read-only command created nothing
    const v = await strata(['--db', missing, 'stats', '--verbose']);
    expect(v.code).toBe(1);
    expect(v.stderr.split('\n').length).toBeGreaterThan(3);
    expect(v.stderr).toMatch(/\n\s+at /);
    const noDb = await strata(['stats'], { STRATA_DB: '' });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('--db');
  });

  it('a database open for writing elsewhere: looking commands work and change nothing, writing ones get LOCKED naming the process', async () => {
    const db = await Database.open(dir); // this test process holds the lock
    try {
      await db.put('held', 'yes');
      const get = await strata(['--db', dir, 'get', 'held']);
      expect(get).toMatchObject({ code: 0, stdout: 'yes\n' });
      expect((await strata(['--db', dir, 'stats', '--json'])).code).toBe(0);
      expect((await strata(['--db', dir, 'verify'])).code).toBe(0);
      const put = await strata(['--db', dir, 'put', 'x', 'y']);
      expect(put.code).toBe(1);
      expect(put.stderr).toMatch(new RegExp(`^strata: LOCKED: .*locked by process ${process.pid}`));
      expect((await strata(['--db', dir, 'compact'])).code).toBe(1);
      await db.put('after', 'ok'); // the holder is unaffected
    } finally {
      await db.close();
    }
  });

  it('bench: runs the workloads on Strata and the installed peers; --json and --svg', async () => {
    const svg = join(dir, 'bench.svg');
    const r = await strata(['bench', '--n', '3000', '--reads', '2000', '--rounds', '1', '--json', '--svg', svg]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { engines: string[]; opsPerSecond: Record<string, Record<string, number>> };
    expect(result.engines).toEqual(['strata', 'classic-level', 'lmdb']); // both peers are devDependencies of the repo
    expect(Object.keys(result.opsPerSecond)).toEqual(['fillseq', 'fillrandom', 'readrandom', 'readseq']);
    for (const byEngine of Object.values(result.opsPerSecond)) for (const e of result.engines) expect(byEngine[e]).toBeGreaterThan(0);
    const chart = readFileSync(svg, 'utf8');
    expect(chart).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(chart.match(/ops\/s<\/text>/g)).toHaveLength(12);
    const table = await strata(['bench', '--n', '1000', '--reads', '1000', '--rounds', '1', '--engines', 'strata,lmdb', '--workloads', 'fillseq']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ fillseq +│ +[\d,]+ │ +[\d,]+ │ +[\d.]+x │/);
    expect((await strata(['bench', '--engines', 'rocksdb'])).code).toBe(2);
  });
});
