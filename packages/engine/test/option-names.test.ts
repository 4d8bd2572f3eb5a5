/**
 * A misspelt option name is INVALID_ARGUMENT naming it and the closest valid name, on every
 * public entry point that takes options — before anything is done (no directory created, no
 * batch consumed).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database, DATABASE_OPTION_NAMES, rejectMisspeltOptions, StrataError } from '../src/index.js';
import { closestName, editDistance, rejectUnknownOptions } from '../src/option-names.js';
import { dec, rejection, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir();
});


async function expectTypo(p: Promise<unknown> | (() => unknown), typo: string, meant: string): Promise<void> {
  const err = await rejection(p);
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message).toContain(`"${typo}"`);
  expect(err.message).toContain(`"${meant}"`);
}

describe('edit distance', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps, ignoring case', () => {
    expect(editDistance('memtabelSize', 'memtableSize')).toBe(1);
    expect(editDistance('snyc', 'sync')).toBe(1);
    expect(editDistance('sync', 'sync')).toBe(0);
    expect(editDistance('Sync', 'sync')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('blockcache', 'blockCacheSize')).toBe(4);
    expect(closestName('bloomBitsPerkeys', DATABASE_OPTION_NAMES)).toEqual({ name: 'bloomBitsPerKey', distance: 1 });
  });

  it('a name far from every valid one lists the valid names', () => {
    const err = (() => {
      try {
        rejectUnknownOptions({ zzzzzzzzzzzz: 1 }, ['sync'], 'write options');
      } catch (e) {
        return e as StrataError;
      }
      throw new Error('no error');
    })();
    expect(err.message).toBe('unknown option "zzzzzzzzzzzz" in write options: the closest valid name is "sync"; valid names: sync');
  });
});

describe('near misses (for adapters whose host passes userland options along)', () => {
  it('rejects a misspelling of a valid name and lets other names pass', () => {
    const valid = ['sync', 'memtableSize', 'fs'];
    expect(() => {
      rejectMisspeltOptions({ snyc: true }, valid, 'put options');
    }).toThrow('unknown option "snyc" in put options: did you mean "sync"?');
    expect(() => {
      rejectMisspeltOptions({ memtabelSize: 1 }, valid, 'options');
    }).toThrow(/"memtableSize"/);
    expect(() => {
      rejectMisspeltOptions({ FS: {} }, valid, 'options');
    }).toThrow(/"fs"/);
    for (const userland of [{ userland: 123 }, { custom: 1 }, { sublevel: 'x' }, { ts: 1 }, { sink: true }, { sync: true, fs: undefined }]) {
      expect(() => {
        rejectMisspeltOptions(userland, valid, 'options');
      }).not.toThrow();
    }
  });
});

describe('every public entry point rejects an unknown option name', () => {
  it('Database.open — before it creates anything', async () => {
    const path = join(dir, 'new');
    await expectTypo(Database.open(path, { memtabelSize: 1 << 20 } as never), 'memtabelSize', 'memtableSize');
    await expectTypo(Database.open(path, { createIfMising: true } as never), 'createIfMising', 'createIfMissing');
    await expectTypo(Database.open(path, { walrecovery: 'point-in-time' } as never), 'walrecovery', 'walRecovery');
    // Explicitly undefined is still a misspelt name.
    await expectTypo(Database.open(path, { blocksize: undefined } as never), 'blocksize', 'blockSize');
    expect(existsSync(path)).toBe(false);
    // Every valid name is accepted.
    const db = await Database.open(path, Object.fromEntries(DATABASE_OPTION_NAMES.map((n) => [n, undefined])));
    await db.close();
  });

  it('reads, iterators, writes, batches and compact', async () => {
    const db = await Database.open(dir);
    await db.put('a', '1');
    const snapshot = db.snapshot();
    await expectTypo(db.get('a', { snapshoot: snapshot } as never), 'snapshoot', 'snapshot');
    await expectTypo(() => db.getSync('a', { snapsot: snapshot } as never), 'snapsot', 'snapshot');
    await expectTypo(() => db.iterator({ gtee: 'a' } as never), 'gtee', 'gte');
    await expectTypo(() => db.iterate({ revers: true } as never), 'revers', 'reverse');
    await expectTypo(() => db.iterator({ limt: 1 } as never), 'limt', 'limit');
    await expectTypo(db.put('b', '2', { snyc: true } as never), 'snyc', 'sync');
    await expectTypo(db.delete('a', { Sync: true } as never), 'Sync', 'sync');
    await expectTypo(db.del('a', { syncc: true } as never), 'syncc', 'sync');
    await expectTypo(db.deleteRange('a', 'z', { sycn: true } as never), 'sycn', 'sync');
    await expectTypo(db.compact({ strat: 'a' } as never), 'strat', 'start');
    // A batch whose write() options are misspelt is not consumed: it can be written correctly.
    const batch = db.batch().put('c', '3');
    await expectTypo(batch.write({ snyc: true } as never), 'snyc', 'sync');
    await batch.write({ sync: true });
    // Nothing of the rejected calls happened.
    expect(dec(db.getSync('a'))).toBe('1');
    expect(db.getSync('b')).toBeUndefined();
    expect(dec(db.getSync('c'))).toBe('3');
    snapshot.release();
    await db.close();
  });
});
