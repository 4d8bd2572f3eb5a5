/**
 * Block compression through the engine: the option and its validation, which codec each table
 * is written with (per level, bottommost), a database whose tables were written under several
 * settings of the option, and damage to compressed blocks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPRESSION_NAMES, Table, type CompressionName } from '@strata-db/sstable-core';
import { Database, type DatabaseOptions } from '../src/index.js';
import { tablePath } from '../src/db/filenames.js';
import { dec, testDir } from './helpers.js';

const dir = (): string => testDir('strata-compression-');

const doc = (i: number): string =>
  JSON.stringify({ id: i, name: `user ${i % 97}`, email: `user.${i}@example.com`, active: i % 3 === 0, tags: ['a', 'b'].slice(0, (i % 2) + 1) });
const key = (i: number): string => `doc:${String(i).padStart(6, '0')}`;

async function code(p: Promise<unknown>): Promise<unknown> {
  try {
    const db = (await p) as Database;
    await db.close();
    return undefined;
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
}

/** Codec of every data block of every live table: file number → codec names (from the trailers). */
function blockCodecs(db: Database, location: string): Map<number, Set<CompressionName>> {
  const out = new Map<number, Set<CompressionName>>();
  for (const level of db.stats().levels) {
    for (const f of level.fileList) {
      const path = tablePath(location, f.fileNumber);
      const bytes = readFileSync(path);
      const t = Table.open(path);
      const codecs = new Set<CompressionName>();
      for (let i = 0; i < t.blockCount; i++) {
        const h = t.blockHandle(i);
        codecs.add(COMPRESSION_NAMES[bytes[h.offset + h.size]!]!);
      }
      t.close();
      out.set(f.fileNumber, codecs);
    }
  }
  return out;
}

async function fill(db: Database, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const b = db.batch();
    for (let j = i; j < Math.min(to, i + 100); j++) b.put(key(j), doc(j));
    await b.write();
  }
}

async function expectAll(db: Database, n: number): Promise<void> {
  for (let i = 0; i < n; i += 7) expect(dec(await db.get(key(i))), key(i)).toBe(doc(i));
  let count = 0;
  for await (const [k, v] of db.iterate()) {
    expect(dec(v)).toBe(doc(Number(dec(k)!.slice(4))));
    count++;
  }
  expect(count).toBe(n);
}

describe('compression option', () => {
  it('rejects what is not a codec, or a per-level list longer than the levels', async () => {
    const d = dir();
    for (const bad of [
      { compression: 'zstd' },
      { compression: true },
      { compression: [] },
      { compression: ['lz4', 'gzip'] },
      { compression: ['none', 'lz4', 'lz4'], numLevels: 2 },
      { bottommostCompression: 'LZ4' },
      { bottommostCompression: ['lz4'] },
    ]) {
      expect(await code(Database.open(d, bad as DatabaseOptions)), JSON.stringify(bad)).toBe('INVALID_ARGUMENT');
    }
  });

  it('is on by default: flushes (L0) raw, every other level lz4; JSON shrinks', async () => {
    const location = dir();
    const db = await Database.open(location, { memtableSize: 64 * 1024 });
    await fill(db, 0, 3000);
    await db.flush();
    const flushed = blockCodecs(db, location);
    expect(flushed.size).toBeGreaterThan(0);
    for (const codecs of flushed.values()) expect([...codecs]).toEqual(['none']);
    await db.compact();
    const compacted = blockCodecs(db, location);
    for (const codecs of compacted.values()) expect([...codecs]).toEqual(['lz4']);
    const bytes = db.stats().levels.reduce((n, l) => n + l.bytes, 0);
    const raw = Array.from({ length: 3000 }, (_, i) => key(i).length + doc(i).length).reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThan(raw / 2);
    await expectAll(db, 3000);
    await db.close();
  });

  it('bottommostCompression: outputs with nothing older below get it, the levels above keep theirs', async () => {
    const location = dir();
    const db = await Database.open(location, { memtableSize: 64 * 1024, bottommostCompression: 'deflate' });
    await fill(db, 0, 3000);
    await db.flush();
    for (const codecs of blockCodecs(db, location).values()) expect([...codecs]).toEqual(['none']);
    await db.compact();
    for (const codecs of blockCodecs(db, location).values()) expect([...codecs]).toEqual(['deflate']);
    await expectAll(db, 3000);
    await db.close();
  });

  it('per level: entry i for level i, the last for the levels below; bottommost follows them unless set', async () => {
    const location = dir();
    const db = await Database.open(location, { memtableSize: 64 * 1024, compression: ['none', 'snappy'] });
    await fill(db, 0, 2000);
    await db.flush();
    for (const codecs of blockCodecs(db, location).values()) expect([...codecs]).toEqual(['none']);
    await db.compact(); // to the bottom level: the last entry, snappy
    for (const codecs of blockCodecs(db, location).values()) expect([...codecs]).toEqual(['snappy']);
    await db.close();
  });

  it('a database written under every setting of the option, one after another, reads back whole', async () => {
    const location = dir();
    const settings: DatabaseOptions[] = [
      { compression: 'none' },
      { compression: 'lz4' },
      { compression: 'snappy' },
      { compression: 'deflate' },
      {},
      { compression: ['none', 'none'], bottommostCompression: 'lz4' },
    ];
    let n = 0;
    const seen = new Set<CompressionName>();
    for (const s of settings) {
      const db = await Database.open(location, { memtableSize: 32 * 1024, l0CompactionTrigger: 100, ...s });
      await fill(db, n, n + 500);
      n += 500;
      await db.flush();
      for (const codecs of blockCodecs(db, location).values()) for (const c of codecs) seen.add(c);
      await expectAll(db, n);
      await db.close();
    }
    // Tables of every codec side by side in L0 (nothing compacted them yet).
    expect([...seen].sort()).toEqual([...COMPRESSION_NAMES].sort());
    const db = await Database.open(location, { compression: 'lz4', bottommostCompression: 'snappy' });
    await expectAll(db, n);
    expect((await db.verify()).ok).toBe(true);
    await db.compact(); // reads every codec, writes snappy
    for (const codecs of blockCodecs(db, location).values()) expect([...codecs]).toEqual(['snappy']);
    await expectAll(db, n);
    await db.close();
  });

  it.each(COMPRESSION_NAMES.filter((c) => c !== 'none'))('a flipped byte in a %s data block is CORRUPTION naming the table, never wrong data', async (compression) => {
    const location = dir();
    let db = await Database.open(location, { compression, blockCacheSize: 0 });
    await fill(db, 0, 1000);
    await db.flush();
    const file = db.stats().levels[0]!.fileList[0]!.fileNumber;
    await db.close();
    const path = tablePath(location, file);
    const bytes = readFileSync(path);
    const t = Table.open(path);
    const h = t.blockHandle(1);
    t.close();
    expect(COMPRESSION_NAMES[bytes[h.offset + h.size]!]).toBe(compression);
    bytes[h.offset + (h.size >> 1)]! ^= 0x10;
    writeFileSync(path, bytes);
    db = await Database.open(location, { compression, blockCacheSize: 0 });
    let caught: unknown;
    try {
      for await (const [k, v] of db.iterate()) expect(dec(v)).toBe(doc(Number(dec(k)!.slice(4))));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'CORRUPTION' });
    expect((caught as Error).message).toContain(path.slice(location.length + 1));
    const report = await db.verify();
    expect(report.ok).toBe(false);
    await db.close();
  });
});
