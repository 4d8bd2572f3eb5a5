/**
 * approximateSize and getProperty: LevelDB's semantics (sizes of table bytes in a range, to data
 * block granularity; the property names classic-level users know) plus Strata's own properties.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';
import { MemoryFileSystem } from '../src/testing/index.js';

const key = (i: number): string => `k${String(i).padStart(6, '0')}`;

async function filled(n: number, valueBytes: number): Promise<Database> {
  // Uncompressed: the assertions compare table bytes with the raw data size.
  const db = await Database.open('/db', { fs: new MemoryFileSystem(), blockSize: 1024, l0CompactionTrigger: 1000, compression: 'none' });
  const batch = db.batch();
  for (let i = 0; i < n; i++) batch.put(key(i), `${i}`.padEnd(valueBytes, 'x'));
  await batch.write();
  return db;
}

describe('approximateSize', () => {
  it('counts table bytes only, monotone in the range, additive over adjacent ranges, close to the data size', async () => {
    const db = await filled(2000, 200);
    // Memtables are not counted (as in LevelDB).
    expect(await db.approximateSize(key(0), key(2000))).toBe(0);
    await db.flush();
    const total = db.stats().levels[0]!.bytes;
    const all = await db.approximateSize('', '\xff');
    expect(all).toBe(total);
    expect(all).toBeGreaterThan(2000 * 200);
    // Half the keys ≈ half the bytes (to block granularity: 1 KiB blocks).
    const half = await db.approximateSize(key(0), key(1000));
    expect(Math.abs(half - all / 2)).toBeLessThan(all / 20);
    // Adjacent ranges add up exactly (the offsets are the same cut points).
    const a = await db.approximateSize(key(0), key(700));
    const b = await db.approximateSize(key(700), key(1500));
    const c = await db.approximateSize(key(0), key(1500));
    expect(a + b).toBe(c);
    // Monotone.
    let prev = 0;
    for (let i = 0; i <= 2000; i += 250) {
      const s = await db.approximateSize(key(0), key(i));
      expect(s).toBeGreaterThanOrEqual(prev);
      prev = s;
    }
    // Empty and reversed ranges, and ranges outside every table.
    expect(await db.approximateSize(key(5), key(5))).toBe(0);
    expect(await db.approximateSize(key(9), key(5))).toBe(0);
    expect(await db.approximateSize('a', 'b')).toBe(0);
    expect(await db.approximateSize('z', 'zz')).toBe(0);
    expect(db.approximateSizeSync(key(0), key(1000))).toBe(half);
    await db.close();
  });

  it('sums over every level after a compaction, and shrinks when data is deleted and compacted', async () => {
    const db = await filled(3000, 100);
    await db.compact();
    const before = await db.approximateSize(key(0), key(3000));
    expect(before).toBeGreaterThan(3000 * 100);
    await db.deleteRange(key(0), key(1500));
    await db.compact();
    const after = await db.approximateSize(key(0), key(3000));
    expect(after).toBeLessThan(before * 0.6);
    expect(await db.approximateSize(key(0), key(1500))).toBeLessThan(before / 20);
    await db.close();
  });

  it('bad arguments are INVALID_ARGUMENT; a closed database NOT_OPEN', async () => {
    const db = await filled(1, 1);
    await expect(db.approximateSize(undefined as never, 'a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await db.close();
    await expect(db.approximateSize('a', 'b')).rejects.toMatchObject({ code: 'NOT_OPEN' });
  });
});

describe('getProperty', () => {
  it('leveldb.num-files-at-levelN, leveldb.sstables and leveldb.stats follow the tables', async () => {
    const db = await filled(500, 50);
    for (let l = 0; l < 7; l++) expect(db.getProperty(`leveldb.num-files-at-level${l}`)).toBe('0');
    expect(db.getProperty('leveldb.num-files-at-level7')).toBeUndefined();
    expect(db.getProperty('leveldb.num-files-at-levelx')).toBeUndefined();
    expect(db.getProperty('leveldb.sstables')).toBe([0, 1, 2, 3, 4, 5, 6].map((l) => `--- level ${l} ---\n`).join(''));
    await db.flush();
    await db.put(key(1), 'again');
    await db.flush();
    expect(db.getProperty('leveldb.num-files-at-level0')).toBe('2');
    const files = db.stats().levels[0]!.fileList;
    const sst = db.getProperty('leveldb.sstables')!;
    for (const f of files) expect(sst).toContain(` ${f.fileNumber}:${f.size}['`);
    expect(sst.split('\n')[1]).toMatch(/^ \d+:\d+\['k\d{6}' @ \d+ \.\. 'k\d{6}' @ \d+\]$/);
    await db.compact();
    const bottom = db.stats().levels.findIndex((l) => l.files > 0);
    expect(db.getProperty('leveldb.num-files-at-level0')).toBe('0');
    expect(db.getProperty(`leveldb.num-files-at-level${bottom}`)).toBe(String(db.stats().levels[bottom]!.files));
    const stats = db.getProperty('leveldb.stats')!.split('\n');
    expect(stats.length).toBeGreaterThan(3);
    expect(stats[1]).toBe('Level  Files Size(MB) Time(sec) Read(MB) Write(MB)');
    expect(stats.some((l) => l.trim().startsWith(`${bottom} `))).toBe(true);
    await db.close();
  });

  it("Strata's own properties and unknown names", async () => {
    const db = await filled(100, 10);
    const memory = JSON.parse(db.getProperty('strata.memory')!) as { memtables: number; total: number };
    expect(memory.memtables).toBeGreaterThan(100 * 10);
    expect(memory.total).toBe(db.stats().memory.total);
    expect(db.getProperty('leveldb.approximate-memory-usage')).toBe(String(db.stats().memory.total));
    expect(db.getProperty('strata.last-sequence')).toBe('100');
    expect(db.getProperty('strata.write-stall')).toBe('none');
    expect(db.getProperty('strata.background-error')).toBe('');
    await db.flush();
    expect(db.getProperty('strata.num-files')).toBe('1');
    expect(db.getProperty('strata.total-table-size')).toBe(String(db.stats().levels[0]!.bytes));
    expect(Number(db.getProperty('strata.pending-compaction-bytes'))).toBeGreaterThanOrEqual(0);
    const all = JSON.parse(db.getProperty('strata.stats')!) as { lastSequence: number; levels: { fileList: { smallestKey: string }[] }[] };
    expect(all.lastSequence).toBe(100);
    expect(all.levels[0]!.fileList[0]!.smallestKey).toBe(Buffer.from(key(0)).toString('hex'));
    expect(db.getProperty('foo')).toBeUndefined();
    expect(db.getProperty('leveldb.foo')).toBeUndefined();
    expect(() => db.getProperty(1 as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    await db.close();
    expect(() => db.getProperty('leveldb.stats')).toThrow(expect.objectContaining({ code: 'NOT_OPEN' }) as Error);
  });
});
