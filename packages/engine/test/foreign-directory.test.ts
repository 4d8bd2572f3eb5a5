/**
 * "Never touch what is not ours": a directory Strata did not write — a LevelDB database made by
 * the real classic-level (closed, and open in this very process), a RocksDB-like one, an LMDB
 * environment made by the real lmdb, a stray CURRENT, unrelated files — is refused with
 * NOT_A_DATABASE, and afterwards every file and the directory itself are identical: names,
 * sizes, modes, mtimes, inodes, contents. The other engine still opens and reads its data.
 * Damage to files provably Strata's is still CORRUPTION; a Strata LOCK left by a dead process
 * is still taken over (api.test.ts); and the documented migration recipe copies a LevelDB
 * database into Strata entry for entry.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';
import { beforeEach, describe, expect, it } from 'vitest';
import { Database, StrataError } from '../src/index.js';
import { dec, testDir } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = testDir('strata-foreign-');
});

/** Every entry under `root` (and root itself): kind, size, mode, mtime (ns), inode, content hash. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string, name: string): void => {
    const s = statSync(path, { bigint: true });
    const content = s.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'dir';
    out[name] = `size=${s.size} mode=${s.mode.toString(8)} mtime=${s.mtimeNs} ctime=${s.ctimeNs} ino=${s.ino} ${content}`;
    if (s.isDirectory()) for (const child of readdirSync(path).sort()) visit(join(path, child), `${name}/${child}`);
  };
  visit(root, '.');
  return out;
}

async function openError(path: string, options?: Parameters<typeof Database.open>[1]): Promise<StrataError> {
  try {
    const db = await Database.open(path, options);
    await db.close();
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error(`Database.open(${path}) succeeded`);
}

/** Refused with NOT_A_DATABASE whatever the open options, and nothing in `path` changed. */
async function expectRefusedUntouched(path: string, found: RegExp): Promise<void> {
  const before = snapshot(path);
  for (const options of [undefined, { createIfMissing: false }, { errorIfExists: true }]) {
    const err = await openError(path, options);
    expect(err.code).toBe('NOT_A_DATABASE');
    expect(err.message).toMatch(found);
    expect(err.message).toMatch(/choose an empty directory/);
    expect(err.message).toMatch(/Migrating from LevelDB/);
  }
  expect(snapshot(path)).toEqual(before);
}

const key = (i: number): string => `key-${String(i).padStart(5, '0')}`;

async function makeLevelDb(path: string, n: number): Promise<void> {
  const db = new ClassicLevel<string, string>(path);
  await db.open();
  for (let i = 0; i < n; i += 100) {
    await db.batch(Array.from({ length: Math.min(100, n - i) }, (_, j) => ({ type: 'put' as const, key: key(i + j), value: `value ${i + j}` })));
  }
  await db.close();
}

async function expectLevelDbReads(path: string, n: number): Promise<void> {
  const db = new ClassicLevel<string, string>(path, { createIfMissing: false });
  await db.open();
  expect(await db.get(key(0))).toBe('value 0');
  expect(await db.get(key(n - 1))).toBe(`value ${n - 1}`);
  expect((await db.keys().all()).length).toBe(n);
  await db.close();
}

describe('another engine’s directory is refused, untouched', () => {
  it('a LevelDB database made by classic-level, closed', async () => {
    await makeLevelDb(dir, 1000);
    // LevelDB's own files: the test means what it says.
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['CURRENT', 'LOCK', 'LOG']));
    await expectRefusedUntouched(dir, /LevelDB/);
    await expectLevelDbReads(dir, 1000);
  });

  it('a LevelDB database while classic-level has it open in this process', async () => {
    const level = new ClassicLevel<string, string>(dir);
    await level.open();
    await level.put('before', 'strata');
    await expectRefusedUntouched(dir, /LevelDB/);
    // LevelDB's LOCK (its fcntl lock lives on that inode) is still in place: it keeps working.
    await level.put('after', 'strata');
    expect(await level.get('before')).toBe('strata');
    await level.close();
    const again = new ClassicLevel<string, string>(dir, { createIfMissing: false });
    await again.open();
    expect(await again.get('after')).toBe('strata');
    await again.close();
  });

  it('a RocksDB-like directory (OPTIONS, an IDENTITY of its own format, CURRENT → a non-Strata manifest)', async () => {
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000005\n');
    writeFileSync(join(dir, 'MANIFEST-000005'), Buffer.from('0a1b2c3d0010000101', 'hex'));
    writeFileSync(join(dir, 'IDENTITY'), randomUUID()); // RocksDB: no newline
    writeFileSync(join(dir, 'OPTIONS-000007'), '[Version]\n  rocksdb_version=8.1.1\n');
    writeFileSync(join(dir, '000004.log'), Buffer.alloc(100, 1));
    writeFileSync(join(dir, '000008.sst'), Buffer.alloc(300, 2));
    writeFileSync(join(dir, 'LOCK'), '');
    writeFileSync(join(dir, 'LOG'), 'RocksDB version: 8.1.1\n');
    await expectRefusedUntouched(dir, /RocksDB/);
  });

  it('an LMDB environment made by lmdb', async () => {
    const path = join(dir, 'env');
    const env = openLmdb({ path });
    await env.put('k', 'v');
    await env.close();
    expect(readdirSync(path)).toEqual(expect.arrayContaining(['data.mdb', 'lock.mdb']));
    await expectRefusedUntouched(path, /LMDB/);
    const reopened = openLmdb({ path });
    expect(reopened.get('k')).toBe('v');
    await reopened.close();
  });

  it('a stray CURRENT (naming a manifest, or not)', async () => {
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000001\n');
    await expectRefusedUntouched(dir, /CURRENT file naming MANIFEST-000001/);
    writeFileSync(join(dir, 'CURRENT'), 'hello\n');
    await expectRefusedUntouched(dir, /CURRENT file that Strata did not write/);
  });

  it('unrelated files, a subdirectory, a lone table-like file, a LOCK Strata did not write', async () => {
    writeFileSync(join(dir, 'README.md'), '# my notes\n');
    mkdirSync(join(dir, 'photos'));
    writeFileSync(join(dir, 'photos', 'a.jpg'), Buffer.alloc(10));
    await expectRefusedUntouched(dir, /files that Strata did not write \(README\.md, photos\)/);

    const other = join(dir, 'photos');
    unlinkSync(join(other, 'a.jpg'));
    writeFileSync(join(other, '000001.sst'), Buffer.alloc(64));
    await expectRefusedUntouched(other, /000001\.sst/);
    unlinkSync(join(other, '000001.sst'));
    // What LevelDB leaves after a failed open (classic-level with createIfMissing: false on an
    // empty directory): its LOG and an empty LOCK. The LOCK is not taken over.
    writeFileSync(join(other, 'LOCK'), '');
    writeFileSync(join(other, 'LOG'), '2026/11/28-04:00:00.000000 7f00 Delete type=3 #1\n');
    await expectRefusedUntouched(other, /LevelDB database \(as classic-level.*\(LOCK, LOG\)/);
    // A LOCK that holds something other than Strata's line, alone, is not Strata's either.
    unlinkSync(join(other, 'LOG'));
    writeFileSync(join(other, 'LOCK'), 'locked by my backup script\n');
    await expectRefusedUntouched(other, /files that Strata did not write \(LOCK\)/);
    // An IDENTITY that is not in Strata's format does not make a directory Strata's.
    unlinkSync(join(other, 'LOCK'));
    writeFileSync(join(other, 'IDENTITY'), 'not-a-uuid\n');
    await expectRefusedUntouched(other, /IDENTITY/);
  });

  it('classic-level’s own leftovers of a failed open are refused untouched', async () => {
    const level = new ClassicLevel(dir, { createIfMissing: false });
    await expect(level.open()).rejects.toThrow();
    expect(readdirSync(dir)).toContain('LOCK');
    await expectRefusedUntouched(dir, /LevelDB/);
  });

  it('a path that is a file', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const before = snapshot(dir);
    const err = await openError(file);
    expect(err.code).toBe('NOT_A_DATABASE');
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('what Strata still opens', () => {
  it('an empty directory, or one holding only file-browser and version-control placeholders', async () => {
    writeFileSync(join(dir, '.DS_Store'), Buffer.alloc(6148, 0));
    writeFileSync(join(dir, '.gitkeep'), '');
    const placeholder = snapshot(dir)['./.DS_Store'];
    const db = await Database.open(dir);
    await db.put('k', 'v');
    await db.close();
    expect(snapshot(dir)['./.DS_Store']).toBe(placeholder);
    const again = await Database.open(dir, { createIfMissing: false });
    expect(dec(await again.get('k'))).toBe('v');
    await again.close();
  });

  it('a directory holding only a LOCK cut short: a Strata creator killed between create and write', async () => {
    for (const content of ['', '{"pid":12', '{"pi']) {
      writeFileSync(join(dir, 'LOCK'), content);
      const db = await Database.open(dir);
      await db.close();
      expect(readdirSync(dir)).not.toContain('LOCK');
    }
  });

  it('its own database with an empty LOCK (a creator cut off before its lock line reached the disk)', async () => {
    const db = await Database.open(dir);
    await db.put('k', 'v', { sync: true });
    await db.close();
    writeFileSync(join(dir, 'LOCK'), '');
    const again = await Database.open(dir);
    expect(dec(await again.get('k'))).toBe('v');
    await again.close();
  });

  it('damage to files provably Strata’s is CORRUPTION, not NOT_A_DATABASE', async () => {
    const db = await Database.open(dir);
    await db.put('k', 'v', { sync: true });
    await db.close();
    const identity = readFileSync(join(dir, 'IDENTITY'));
    unlinkSync(join(dir, 'IDENTITY'));
    expect((await openError(dir)).code).toBe('CORRUPTION'); // CURRENT → a Strata manifest
    writeFileSync(join(dir, 'IDENTITY'), identity);
    writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-00000x\n');
    expect((await openError(dir)).code).toBe('CORRUPTION'); // IDENTITY is Strata's
  });
});

describe('migrating from LevelDB (the recipe of the engine README)', () => {
  it('copies every entry of a classic-level database, binary keys and values included', async () => {
    const from = join(dir, 'leveldb');
    const to = join(dir, 'strata');
    const expected = new Map<string, Buffer>();
    {
      const level = new ClassicLevel<Buffer, Buffer>(from, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await level.open();
      let seed = 7;
      const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
      const ops = [];
      for (let i = 0; i < 3000; i++) {
        const k = Buffer.from(Array.from({ length: 1 + (rand() % 24) }, () => rand() % 256));
        const v = Buffer.from(Array.from({ length: rand() % 200 }, () => rand() % 256));
        ops.push({ type: 'put' as const, key: k, value: v });
        expected.set(k.toString('hex'), v);
      }
      await level.batch(ops);
      await level.close();
    }

    // --- the recipe ---
    const source = new ClassicLevel<Uint8Array, Uint8Array>(from, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
    const target = await Database.open(to, { errorIfExists: true });
    let batch = target.batch();
    let count = 0;
    for await (const [k, v] of source.iterator()) {
      batch.put(k, v);
      if (++count % 1000 === 0) {
        await batch.write();
        batch = target.batch();
      }
    }
    await batch.write({ sync: true });
    await source.close();
    // --- end of the recipe ---

    const copied = new Map<string, Buffer>();
    for await (const [k, v] of target.iterate()) copied.set(Buffer.from(k).toString('hex'), Buffer.from(v));
    await target.close();
    expect(copied.size).toBe(expected.size);
    expect(copied).toEqual(expected);
  });
});
