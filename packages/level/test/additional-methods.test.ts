/**
 * classic-level's own tests of its additional methods — test/approximate-size-test.js,
 * test/getproperty-test.js and test/compact-range-test.js of classic-level — ported case by case
 * to vitest and run against StrataLevel, so code written for classic-level runs unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StrataLevel } from '../src/index.js';
import type { StrataLevelOptions } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'strata-level-additional-'));
let count = 0;
// classic-level's testCommon.factory(): a fresh database in a fresh directory.
const factory = (options?: StrataLevelOptions): StrataLevel => new StrataLevel(join(root, `db-${++count}`), options);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return (await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  )) as Error & { code?: string };
}

/** A key encoding that records what it encodes (encoding-down's test). */
function recordingEncoding(): { calls: unknown[]; keyEncoding: { name: string; format: 'utf8'; encode(key: string): string; decode(v: string): string } } {
  const calls: unknown[] = [];
  return {
    calls,
    keyEncoding: {
      name: 'test',
      format: 'utf8',
      encode(key: string) {
        calls.push(key);
        return key;
      },
      decode: (v: string) => v,
    },
  };
}

/**
 * The cases classic-level's approximate-size and compact-range tests share: both methods take
 * (start, end[, options]), encode them, refuse a closed database and wait for an opening one.
 */
function rangeMethodCases(method: 'approximateSize' | 'compactRange'): void {
  const call = (db: StrataLevel, ...args: unknown[]): Promise<unknown> => (db[method] as (...a: unknown[]) => Promise<unknown>).apply(db, args);

  it('throws if arguments are missing', async () => {
    const db = factory();
    await db.open();
    for (const args of [[], ['foo']]) {
      const err = await rejection(call(db, ...args));
      expect(err.name).toBe('TypeError');
      expect(err.message).toBe("The arguments 'start' and 'end' are required");
    }
    await db.close();
  });

  it('yields LEVEL_DATABASE_NOT_OPEN if the db is closed, and is deferred while opening', async () => {
    const db = factory();
    await db.open();
    await db.close();
    expect((await rejection(call(db, 'foo', 'foo'))).code).toBe('LEVEL_DATABASE_NOT_OPEN');
    const opening = db.open().then(() => 'opening');
    const deferred = call(db, 'a', 'b').then(() => 'deferred');
    expect(await Promise.race([opening, deferred])).toBe('opening');
    expect(await Promise.all([opening, deferred])).toEqual(['opening', 'deferred']);
    await db.close();
  });

  it('encodes start and end (database key encoding)', async () => {
    const { calls, keyEncoding } = recordingEncoding();
    const db = factory({ keyEncoding });
    await db.open();
    await call(db, 'a', 'b');
    expect(calls).toEqual(['a', 'b']);
    await db.close();
  });

  it('encodes start and end (custom encoding for the call)', async () => {
    const { calls, keyEncoding } = recordingEncoding();
    const db = factory();
    await db.open();
    await call(db, 'a', 'b', { keyEncoding });
    expect(calls).toEqual(['a', 'b']);
    await db.close();
  });
}

describe('approximateSize() (classic-level approximate-size-test.js)', () => {
  rangeMethodCases('approximateSize');

  it('reports a reasonable size once the data is in a table', async () => {
    const db = factory();
    await db.open();
    const data = 'aaaaaaaaaa'.repeat(10000);
    await db.batch(Array.from({ length: 10 }, (_, i) => ({ type: 'put' as const, key: `foo${i}`, value: data })));
    // cycle open/close to ensure a pack to .sst
    await db.close();
    await db.open();
    const size = await db.approximateSize('!', '~');
    expect(typeof size).toBe('number');
    // classic-level's bound, which allows for compression (the original is ~100000 bytes).
    expect(size).toBeGreaterThan(40000);
    await db.close();
  });

  it('is listed in the manifest', () => {
    expect(factory().supports.additionalMethods.approximateSize).toBe(true);
  });
});

describe('getProperty() (classic-level getproperty-test.js)', () => {
  it('argument-less and non-string calls throw TypeError', async () => {
    const db = factory();
    await db.open();
    const get = db.getProperty.bind(db) as (...args: unknown[]) => string;
    for (const args of [[], [{}]]) {
      expect(() => get(...args)).toThrow(TypeError);
      expect(() => get(...args)).toThrow("The first argument 'property' must be a string");
    }
    await db.close();
  });

  it('an invalid property returns the empty string', async () => {
    const db = factory();
    await db.open();
    expect(db.getProperty('foo')).toBe('');
    expect(db.getProperty('leveldb.foo')).toBe('');
    await db.close();
  });

  it('"leveldb.num-files-at-levelN" returns numbers', async () => {
    const db = factory();
    await db.open();
    for (let i = 0; i < 7; i++) expect(db.getProperty(`leveldb.num-files-at-level${i}`)).toBe('0');
    await db.close();
  });

  it('"leveldb.stats" has more than 3 lines', async () => {
    const db = factory();
    await db.open();
    expect(db.getProperty('leveldb.stats').split('\n').length).toBeGreaterThan(3);
    await db.close();
  });

  it('"leveldb.sstables" lists the 7 levels of an empty database', async () => {
    const db = factory();
    await db.open();
    const expected = `${[0, 1, 2, 3, 4, 5, 6].map((l) => `--- level ${l} ---`).join('\n')}\n`;
    expect(db.getProperty('leveldb.sstables')).toBe(expected);
    await db.close();
  });

  it('throws LEVEL_DATABASE_NOT_OPEN if the db is closed', async () => {
    const db = factory();
    await db.open();
    await db.close();
    expect(() => db.getProperty('leveldb.stats')).toThrow(expect.objectContaining({ code: 'LEVEL_DATABASE_NOT_OPEN' }) as Error);
  });

  it("Strata's own properties come through", async () => {
    const db = factory();
    await db.open();
    await db.put('a', 'b');
    expect(db.getProperty('strata.last-sequence')).toBe('1');
    expect(JSON.parse(db.getProperty('strata.memory'))).toMatchObject({ total: db.engine.stats().memory.total });
    await db.close();
  });
});

describe('compactRange() (classic-level compact-range-test.js)', () => {
  rangeMethodCases('compactRange');

  it('frees disk space after key deletion', async () => {
    const db = factory();
    await db.open();
    const key1 = '000000';
    const key2 = '000001';
    const val1 = Buffer.allocUnsafe(64).fill(1);
    const val2 = Buffer.allocUnsafe(64).fill(1);
    await db.batch().put(key1, val1 as never).put(key2, val2 as never).write();
    await db.compactRange(key1, key2);
    const sizeAfterPuts = await db.approximateSize('0', 'z');
    await db.batch().del(key1).del(key2).write();
    await db.compactRange(key1, key2);
    const sizeAfterCompact = await db.approximateSize('0', 'z');
    expect(sizeAfterCompact).toBeLessThan(sizeAfterPuts);
    await db.close();
  });

});
