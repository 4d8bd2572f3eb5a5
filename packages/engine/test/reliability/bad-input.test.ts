/**
 * Bad input: every public method with wrong types, the empty key, keys and values at and over
 * the documented limits, use after close, concurrent close. Each must fail with a typed error
 * (INVALID_ARGUMENT, NOT_OPEN) — thrown or rejected, never a TypeError from deep inside — and
 * must leave the database usable with nothing lost.
 */
import { describe, expect, it } from 'vitest';
import { Database, MAX_KEY_SIZE, MAX_VALUE_SIZE, StrataError } from '../../src/index.js';
import { MemoryFileSystem } from '../../src/testing/index.js';
import { readState, TINY } from './support/db-driver.js';

const td = new TextDecoder();

/** The code of what `f` throws or rejects with ('ok' if it succeeds; 'UNTYPED …' if not a StrataError). */
async function outcome(f: () => unknown): Promise<string> {
  try {
    await Promise.resolve(f());
    return 'ok';
  } catch (err) {
    return err instanceof StrataError ? err.code : `UNTYPED ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
}

const WRONG: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['NaN', Number.NaN],
  ['a boolean', true],
  ['an object', { a: 1 }],
  ['an array', [1, 2]],
  ['a function', () => 1],
  ['an ArrayBuffer', new ArrayBuffer(4)],
  ['a DataView', new DataView(new ArrayBuffer(4))],
  ['a symbol', Symbol('k')],
  ['a bigint', 10n],
];

async function fresh(): Promise<{ db: Database; fs: MemoryFileSystem }> {
  const fs = new MemoryFileSystem();
  const db = await Database.open('/bad/db', { ...TINY, fs });
  await db.put('keep', 'me', { sync: true });
  return { db, fs };
}

/** The database still works, and holds what it held, now and after a reopen. */
async function stillWhole(db: Database, fs: MemoryFileSystem, extra: [string, string][] = []): Promise<void> {
  await db.put('after', 'bad input');
  const want = [['after', 'bad input'], ['keep', 'me'], ...extra].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  expect(await readState(db)).toEqual(want);
  await db.close();
  const again = await Database.open('/bad/db', { ...TINY, fs });
  expect(await readState(again)).toEqual(want);
  await again.close();
}

describe('bad input', () => {
  it('wrong types for keys, values, ranges and options are INVALID_ARGUMENT, and nothing is lost', async () => {
    const { db, fs } = await fresh();
    const snap = db.snapshot();
    const calls: [string, (v: any) => unknown][] = [
      ['put key', (v) => db.put(v, 'x')],
      ['put value', (v) => db.put('k', v)],
      ['get key', (v) => db.get(v)],
      ['getSync key', (v) => db.getSync(v)],
      ['delete key', (v) => db.delete(v)],
      ['deleteRange start', (v) => db.deleteRange(v, 'z')],
      ['deleteRange end', (v) => db.deleteRange('a', v)],
      ['batch put key', (v) => db.batch().put(v, 'x')],
      ['batch put value', (v) => db.batch().put('k', v)],
      ['batch delete', (v) => db.batch().delete(v)],
      ['batch deleteRange', (v) => db.batch().deleteRange('a', v)],
      ['iterate gte', (v) => db.iterate({ gte: v }).next()],
      ['iterator lt', (v) => db.iterator({ lt: v })],
    ];
    const optionCalls: [string, (v: any) => unknown][] = [
      ['put options', (v) => db.put('k', 'v', v)],
      ['put sync', (v) => db.put('k', 'v', { sync: v })],
      ['delete options', (v) => db.delete('k', v)],
      ['batch write options', (v) => db.batch().put('k', 'v').write(v)],
      ['get options', (v) => db.get('k', v)],
      ['get snapshot', (v) => db.get('k', { snapshot: v })],
      ['iterate options', (v) => db.iterate(v).next()],
      ['iterate reverse', (v) => db.iterate({ reverse: v }).next()],
      ['iterate limit', (v) => db.iterate({ limit: v }).next()],
      ['iterate snapshot', (v) => db.iterate({ snapshot: v }).next()],
    ];
    const problems: string[] = [];
    for (const [name, call] of calls) {
      for (const [what, v] of WRONG) {
        const got = await outcome(() => call(v));
        // undefined is a legal bound for iterators (no bound)
        if (name.startsWith('iter') && v === undefined) continue;
        if (got !== 'INVALID_ARGUMENT') problems.push(`${name} with ${what}: ${got}`);
      }
    }
    const bags = new Set(['put options', 'delete options', 'batch write options', 'get options', 'iterate options']);
    const valid: Record<string, (v: unknown) => boolean> = {
      'put sync': (v) => typeof v === 'boolean',
      'iterate reverse': (v) => typeof v === 'boolean',
      'iterate limit': (v) => v === 42,
    };
    for (const [name, call] of optionCalls) {
      for (const [what, v] of WRONG) {
        // Absent is fine: undefined everywhere, and null for a field inside an options object.
        if (v === undefined || (v === null && !bags.has(name))) continue;
        // Any object is an options bag (unknown fields are ignored); only non-objects are wrong.
        if (bags.has(name) && v !== null && (typeof v === 'object' || typeof v === 'function')) continue;
        if (valid[name]?.(v) === true) continue;
        const got = await outcome(() => call(v));
        if (got !== 'INVALID_ARGUMENT') problems.push(`${name} with ${what}: ${got}`);
      }
    }
    // Values that are the right type but wrong.
    const more: [string, () => unknown, string][] = [
      ['deleteRange start > end', () => db.deleteRange('b', 'a'), 'INVALID_ARGUMENT'],
      ['batch deleteRange start > end', () => db.batch().deleteRange('b', 'a'), 'INVALID_ARGUMENT'],
      ['iterate gt and gte', () => db.iterate({ gt: 'a', gte: 'a' }).next(), 'INVALID_ARGUMENT'],
      ['iterate lt and lte', () => db.iterate({ lt: 'a', lte: 'a' }).next(), 'INVALID_ARGUMENT'],
      ['iterate limit 1.5', () => db.iterate({ limit: 1.5 }).next(), 'INVALID_ARGUMENT'],
      ['a batch written twice', async () => {
        const b = db.batch().put('twice', 'x');
        await b.write();
        await b.write();
      }, 'INVALID_ARGUMENT'],
      ['a released snapshot', () => {
        const s = db.snapshot();
        s.release();
        return db.get('k', { snapshot: s });
      }, 'INVALID_ARGUMENT'],
    ];
    for (const [name, call, want] of more) {
      const got = await outcome(call);
      if (got !== want) problems.push(`${name}: ${got} (want ${want})`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
    snap.release();
    await stillWhole(db, fs, [['twice', 'x']]);
  });

  it('Database.open with a bad path or bad options is INVALID_ARGUMENT', async () => {
    const fs = new MemoryFileSystem();
    const bad: [string, () => Promise<unknown>][] = [
      ['empty path', () => Database.open('', { fs })],
      ['numeric path', () => Database.open(42 as any, { fs })],
      ['options not an object', () => Database.open('/o/db', 5 as any)],
      ['negative memtableSize', () => Database.open('/o/db', { fs, memtableSize: -1 })],
      ['fractional blockSize', () => Database.open('/o/db', { fs, blockSize: 4096.5 })],
      ['string sync', () => Database.open('/o/db', { fs, sync: 'yes' as any })],
      ['unknown walRecovery', () => Database.open('/o/db', { fs, walRecovery: 'best-effort' as any })],
      ['fs that is not a file layer', () => Database.open('/o/db', { fs: {} as any })],
    ];
    const problems: string[] = [];
    for (const [name, call] of bad) {
      const got = await outcome(call);
      if (got !== 'INVALID_ARGUMENT') problems.push(`${name}: ${got}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
    expect(fs.listFiles(), 'a refused open leaves no files behind').toEqual([]);
  });

  it('the empty key is a key like any other (documented: allowed, sorts first)', async () => {
    const { db, fs } = await fresh();
    await db.put('', 'empty', { sync: true });
    expect(td.decode((await db.get('')))).toBe('empty');
    expect((await readState(db))[0]).toEqual(['', 'empty']);
    await db.flush();
    expect(td.decode((await db.get(new Uint8Array(0))))).toBe('empty');
    await db.deleteRange('', 'a');
    expect(await db.get('')).toBeUndefined();
    await db.put('', 'again');
    await db.delete('');
    expect(await db.get('')).toBeUndefined();
    await stillWhole(db, fs);
  });

  it('keys and values at the documented maximum work; one byte over is INVALID_ARGUMENT', async () => {
    const { db, fs } = await fresh();
    const bigKey = new Uint8Array(MAX_KEY_SIZE).fill(0x6b);
    const bigValue = new Uint8Array(MAX_VALUE_SIZE).fill(0x76);
    await db.put(bigKey, 'v', { sync: true });
    await db.put('bigvalue', bigValue);
    expect(await outcome(() => db.put(new Uint8Array(MAX_KEY_SIZE + 1), 'v'))).toBe('INVALID_ARGUMENT');
    expect(await outcome(() => db.get(new Uint8Array(MAX_KEY_SIZE + 1)))).toBe('INVALID_ARGUMENT');
    expect(await outcome(() => db.put('k', new Uint8Array(MAX_VALUE_SIZE + 1)))).toBe('INVALID_ARGUMENT');
    expect(await outcome(() => db.batch().put('k', new Uint8Array(MAX_VALUE_SIZE + 1)))).toBe('INVALID_ARGUMENT');
    expect(await outcome(() => db.deleteRange(new Uint8Array(MAX_KEY_SIZE + 1), 'z'))).toBe('INVALID_ARGUMENT');
    // A multi-byte character can push a string key over the limit in bytes though not in length.
    expect(await outcome(() => db.put('é'.repeat(MAX_KEY_SIZE / 2 + 1), 'v'))).toBe('INVALID_ARGUMENT');
    await db.flush();
    expect(td.decode((await db.get(bigKey)))).toBe('v');
    const got = (await db.get('bigvalue'))!;
    expect(got.length).toBe(MAX_VALUE_SIZE);
    expect(got[0] === 0x76 && got[MAX_VALUE_SIZE - 1] === 0x76).toBe(true);
    await db.close();
    const again = await Database.open('/bad/db', { ...TINY, fs });
    expect((await again.get('bigvalue'))!.length).toBe(MAX_VALUE_SIZE);
    expect(td.decode((await again.get(bigKey)))).toBe('v');
    await again.close();
  }, 120_000);

  it('every method after close is NOT_OPEN; close again is fine', async () => {
    const { db } = await fresh();
    await db.close();
    const calls: [string, () => unknown][] = [
      ['put', () => db.put('k', 'v')],
      ['get', () => db.get('keep')],
      ['getSync', () => db.getSync('keep')],
      ['delete', () => db.delete('k')],
      ['deleteRange', () => db.deleteRange('a', 'b')],
      ['batch write', () => db.batch().put('k', 'v').write()],
      ['iterate', () => db.iterate().next()],
      ['iterator', () => db.iterator()],
      ['snapshot', () => db.snapshot()],
      ['flush', () => db.flush()],
      ['compact', () => db.compact()],
      ['stats', () => db.stats()],
      ['verify', () => db.verify()],
    ];
    const problems: string[] = [];
    for (const [name, call] of calls) {
      const got = await outcome(call);
      if (got !== 'NOT_OPEN') problems.push(`${name}: ${got}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
    await expect(db.close()).resolves.toBeUndefined();
  });

  it('concurrent close with writes in flight: one close, typed refusals, every acknowledged write kept', async () => {
    const fs = new MemoryFileSystem();
    const db = await Database.open('/bad/db', { ...TINY, fs });
    const acked: string[] = [];
    const refused: string[] = [];
    const writes = Array.from({ length: 40 }, (_, i) =>
      db.put(`c${String(i).padStart(2, '0')}`, 'x'.repeat(200), { sync: i % 2 === 0 }).then(
        () => acked.push(`c${String(i).padStart(2, '0')}`),
        (err: unknown) => refused.push(err instanceof StrataError ? err.code : `UNTYPED ${String(err)}`),
      ),
    );
    const it = db.iterator();
    const closes = [db.close(), db.close(), db.close()];
    await Promise.all(closes);
    await Promise.all(writes);
    expect(refused.filter((c) => c !== 'NOT_OPEN')).toEqual([]);
    expect(acked.length + refused.length).toBe(40);
    expect(it.isClosed).toBe(true);
    const again = await Database.open('/bad/db', { ...TINY, fs: fs.powerCut() });
    const keys = (await readState(again)).map(([k]) => k);
    for (const k of acked) expect(keys, `acknowledged ${k}`).toContain(k);
    await again.close();
  });
});
