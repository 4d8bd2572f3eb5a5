/**
 * db.verify(): every checksum of every live file, re-read from disk. An intact database verifies
 * clean; a byte flipped in any kind of live file (while the database is open and serving) is
 * reported, naming the file — all damaged files at once, not just the first.
 */
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database, StrataError } from '../../src/index.js';
import { MemoryFileSystem } from '../../src/testing/index.js';
import { applyStep, TINY } from './support/db-driver.js';
import { fileKind, tableRegions } from './support/file-kinds.js';
import { makeWorkload } from './support/workload.js';

// A memtable that never fills by itself: tables come from explicit flushes only, so no
// background flush changes the file set while a test looks at it.
const OPTIONS = { ...TINY, memtableSize: 1 << 20, bloomBitsPerKey: 10, l0CompactionTrigger: 1000 };

async function openWithData(): Promise<{ db: Database; fs: MemoryFileSystem }> {
  const fs = new MemoryFileSystem();
  const db = await Database.open('/v/db', { ...OPTIONS, fs });
  const steps = makeWorkload(3, { steps: 90 });
  for (const [i, s] of steps.entries()) {
    await applyStep(db, s);
    if (i % 20 === 19 && i < 80) await db.flush();
  }
  // the last steps stay in the WAL (and the memtable)
  return { db, fs };
}

function flip(fs: MemoryFileSystem, path: string, offset: number): void {
  fs.editDurably(path, (b) => {
    b[offset] = b[offset]! ^ 0x24;
    return b;
  });
}

const liveTables = (db: Database): string[] => db.stats().levels.flatMap((l) => l.fileList.map((f) => `/v/db/${String(f.fileNumber).padStart(6, '0')}.sst`));

describe('db.verify()', () => {
  it('checks every block, record and segment of an intact database and finds nothing', async () => {
    const { db } = await openWithData();
    const r = await db.verify();
    expect(r.damaged).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.tables).toBe(liveTables(db).length);
    expect(r.tables).toBeGreaterThan(2);
    expect(r.tableBlocks).toBeGreaterThan(r.tables * 5); // data, filter, range-del, properties, meta-index, index
    expect(r.manifestRecords).toBeGreaterThan(1);
    expect(r.walSegments).toBeGreaterThan(0);
    expect(r.walBatches).toBeGreaterThan(0);
    await db.close();
  });

  const tableCases = ['data', 'filter-partition', 'index-partition', 'properties', 'meta-index', 'top-level-index', 'footer'] as const;
  it.each(tableCases)('reports a flipped byte in a table %s block, naming the table', async (region) => {
    const { db, fs } = await openWithData();
    const table = liveTables(db)[0]!;
    const r0 = tableRegions(fs.readFileSync(table), table).find((r) => r.name === region)!;
    flip(fs, table, r0.start + Math.floor((r0.end - r0.start) / 2));
    const r = await db.verify();
    expect(r.ok).toBe(false);
    expect(r.damaged.map((d) => [d.kind, d.file, d.code])).toEqual([['table', table, 'CORRUPTION']]);
    await db.close();
  });

  it('reports a damaged manifest record, CURRENT, and WAL record', async () => {
    const { db, fs } = await openWithData();
    const files = fs.listFiles();
    const manifest = files.find((p) => posix.basename(p).startsWith('MANIFEST-'))!;
    const wal = files.filter((p) => fileKind(posix.basename(p)) === 'wal').sort().at(-1)!;
    flip(fs, manifest, fs.readFileSync(manifest).length - 3);
    flip(fs, '/v/db/CURRENT', 2);
    flip(fs, wal, 60);
    const r = await db.verify();
    expect(r.ok).toBe(false);
    expect(r.damaged.map((d) => d.kind).sort()).toEqual(['current', 'manifest', 'wal']);
    for (const d of r.damaged) expect(d.code, d.message).toBe('CORRUPTION');
    expect(r.damaged.find((d) => d.kind === 'manifest')!.file).toBe(manifest);
    expect(r.damaged.find((d) => d.kind === 'wal')!.file).toBe(wal);
    await db.close();
  });

  it('lists every damaged table, not just the first, and leaves the database open for writes', async () => {
    const { db, fs } = await openWithData();
    const tables = liveTables(db);
    expect(tables.length).toBeGreaterThan(2);
    for (const t of tables) flip(fs, t, fs.readFileSync(t).length - 1); // the magic's last byte
    const r = await db.verify();
    expect(r.damaged.map((d) => d.file).sort()).toEqual([...tables].sort());
    expect(db.isOpen).toBe(true);
    await db.put('after-verify', 'ok');
    expect(new TextDecoder().decode(await db.get('after-verify'))).toBe('ok');
    await db.close();
  });

  it('is NOT_OPEN after close', async () => {
    const { db } = await openWithData();
    await db.close();
    await expect(db.verify()).rejects.toSatisfy((e: unknown) => e instanceof StrataError && e.code === 'NOT_OPEN');
  });
});
