/** get, put, delete, delete-range, scan through the built binary, checked against the engine. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '@strata-db/engine';
import { jsonLines, makeDatabase, strata, tempDir } from './strata.js';

const { dir, cleanup } = tempDir();
beforeAll(async () => {
  await makeDatabase(dir);
});
afterAll(cleanup);

async function engineScan(options: Parameters<Database['iterate']>[0] = {}): Promise<[string, string][]> {
  const db = await Database.open(dir, { readOnly: true });
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterate(options)) out.push([Buffer.from(k).toString(), Buffer.from(v).toString()]);
  await db.close();
  return out;
}

describe('data commands', () => {
  it('get prints the value; a missing key exits 1 with KEY_NOT_FOUND; --json gives key and value', async () => {
    const r = await strata(['--db', dir, 'get', 'k0042']);
    expect(r).toMatchObject({ code: 0, stdout: `${'v42'.padEnd(40, '.')}\n`, stderr: '' });
    const miss = await strata(['--db', dir, 'get', 'k0150']); // inside the deleted range
    expect(miss.code).toBe(1);
    expect(miss.stderr).toMatch(/^strata: KEY_NOT_FOUND: /);
    expect(miss.stderr.trim().split('\n')).toHaveLength(1);
    const j = await strata(['--db', dir, 'get', 'w3', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ key: 'w3', value: 'x3' }); // only in the WAL
    const hex = await strata(['--db', dir, 'get', Buffer.from('w3').toString('hex'), '--key-format', 'hex', '--value-format', 'base64', '--json']);
    expect(JSON.parse(hex.stdout)).toEqual({ key: Buffer.from('w3').toString('hex'), value: Buffer.from('x3').toString('base64') });
  });

  it('scan --json lists exactly what the engine iterates, with --from/--to, --prefix, --limit, --reverse, --keys-only', async () => {
    const all = jsonLines((await strata(['--db', dir, 'scan', '--json'])).stdout) as { key: string; value: string }[];
    expect(all.map((e) => [e.key, e.value])).toEqual(await engineScan());
    expect(all.length).toBe(2000 - 100 - 1 + 10);

    const range = jsonLines((await strata(['--db', dir, 'scan', '--from', 'k0090', '--to', 'k0210', '--json'])).stdout) as { key: string }[];
    expect(range.map((e) => e.key)).toEqual((await engineScan({ gte: 'k0090', lt: 'k0210' })).map(([k]) => k));
    expect(range.map((e) => e.key)).toContain('k0200');
    expect(range.map((e) => e.key)).not.toContain('k0150');

    const prefix = jsonLines((await strata(['--db', dir, 'scan', '--prefix', 'k19', '--json', '--keys-only'])).stdout);
    expect(prefix).toEqual(Array.from({ length: 100 }, (_, i) => ({ key: `k19${String(i).padStart(2, '0')}` })));

    const rev = await strata(['--db', dir, 'scan', '--reverse', '--limit', '3', '--keys-only']);
    expect(rev.stdout).toBe('w9\nw8\nw7\n');
    const text = await strata(['--db', dir, 'scan', '--prefix', 'w', '--limit', '2']);
    expect(text.stdout).toBe('w0\tx0\nw1\tx1\n');
  });

  it('put, delete and delete-range write what the engine then reads; json values round-trip', async () => {
    const { dir: d2, cleanup: c2 } = tempDir();
    try {
      expect((await strata(['--db', d2, 'put', 'a', '1'])).code).toBe(1); // no database, no --create
      expect((await strata(['--db', d2, 'put', 'a', '1', '--create'])).code).toBe(0);
      expect((await strata(['--db', d2, 'put', 'doc', '{"n": [1, 2]}', '--value-format', 'json', '--sync'])).code).toBe(0);
      expect((await strata(['--db', d2, 'put', '00ff', 'beef', '--key-format', 'hex', '--value-format', 'hex'])).code).toBe(0);
      for (const k of ['b', 'c', 'd', 'e']) expect((await strata(['--db', d2, 'put', k, k])).code).toBe(0);
      expect((await strata(['--db', d2, 'delete', 'b'])).code).toBe(0);
      expect((await strata(['--db', d2, 'delete-range', 'c', 'd'])).code).toBe(0);
      const db = await Database.open(d2, { readOnly: true });
      const got: [string, string][] = [];
      for await (const [k, v] of db.iterate()) got.push([Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]);
      await db.close();
      const hex = (s: string): string => Buffer.from(s).toString('hex');
      expect(got).toEqual([
        ['00ff', 'beef'],
        [hex('a'), hex('1')],
        [hex('d'), hex('d')],
        [hex('doc'), hex('{"n":[1,2]}')],
        [hex('e'), hex('e')],
      ]);
      const j = await strata(['--db', d2, 'get', 'doc', '--value-format', 'json', '--json']);
      expect(JSON.parse(j.stdout)).toEqual({ key: 'doc', value: { n: [1, 2] } });
    } finally {
      c2();
    }
  });

  it('bad arguments exit 2 with that command\'s usage', async () => {
    const cases: string[][] = [
      ['--db', dir, 'scan', '--limit', 'x'],
      ['--db', dir, 'scan', '--prefix', 'a', '--from', 'b'],
      ['--db', dir, 'get', 'zz', '--key-format', 'hex'],
      ['--db', dir, 'get', 'a', '--key-format', 'rot13'],
      ['--db', dir, 'put', 'a'],
      ['--db', dir, 'delete-range', 'b', 'a'],
    ];
    for (const args of cases) {
      const r = await strata(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^strata: USAGE: /);
      expect(r.stderr, args.join(' ')).toContain(`Usage: strata ${args[2]!} [options]`);
      expect(r.stdout).toBe('');
    }
  });
});
