/** dump-wal, dump-sst, dump-manifest through the built binary, checked against the packages' readers. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestHistory } from '@strata-db/engine';
import { Table } from '@strata-db/sstable-core';
import { jsonLines, makeDatabase, strata, tempDir } from './strata.js';

const { dir, cleanup } = tempDir();
beforeAll(async () => {
  await makeDatabase(dir);
});
afterAll(cleanup);

describe('dump-wal', () => {
  it('lists the WAL records with their LSNs and ops; --only-gaps finds none in a whole log and the damage in a torn one', async () => {
    const r = await strata(['--db', dir, 'dump-wal', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout) as { type: string; firstLsn?: number; ops?: { op: string; key: string; value: string }[] }[];
    const batches = lines.filter((l) => l.type === 'batch');
    expect(batches.map((b) => b.ops![0])).toEqual(Array.from({ length: 10 }, (_, i) => ({ op: 'put', key: `w${i}`, value: `x${i}` })));
    for (let i = 1; i < batches.length; i++) expect(batches[i]!.firstLsn).toBe(batches[i - 1]!.firstLsn! + 1);
    expect((await strata(['--db', dir, 'dump-wal', '--only-gaps'])).stdout).toBe('no gaps\n');
    const text = await strata(['dump-wal', dir]);
    expect(text.stdout).toContain('    put w9 = x9');

    const { dir: d, cleanup: c } = tempDir();
    try {
      await makeDatabase(d);
      const seg = readdirSync(d).filter((f) => f.endsWith('.wal')).sort().at(-1)!;
      const bytes = readFileSync(join(d, seg));
      writeFileSync(join(d, seg), bytes.subarray(0, bytes.length - 2));
      const gaps = jsonLines((await strata(['dump-wal', join(d, seg), '--only-gaps', '--json'])).stdout) as { type: string; what: string }[];
      expect(gaps).toHaveLength(1);
      expect(gaps[0]).toMatchObject({ type: 'gap' });
      expect(gaps[0]!.what).toMatch(/^damaged: /);
      expect(readFileSync(join(d, seg)).length).toBe(bytes.length - 2); // looked at, not repaired
    } finally {
      c();
    }
  });
});

describe('dump-sst', () => {
  it('--json gives the properties, the block layout, the filter and the range tombstones the table reader sees; --scan its entries', async () => {
    const history = readManifestHistory(dir);
    const live = new Map<number, number>();
    for (const rec of history.records) {
      for (const del of rec.deleted) live.delete(del.fileNumber);
      for (const a of rec.added) live.set(a.file.fileNumber, a.level);
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.sst')).sort();
    expect(files.length).toBe(live.size);
    let sawTombstones = false;
    for (const f of files) {
      const r = await strata(['dump-sst', join(dir, f), '--json', '--scan']);
      expect(r.code).toBe(0);
      const got = JSON.parse(r.stdout) as {
        fileSize: number;
        properties: { entryCount: number; smallestKey: string };
        layout: {
          dataBlocks: { offset: number; size: number }[];
          partitions: { index: { offset: number }; firstBlock: number; blockCount: number; separatorKey: string }[];
          metaBlocks: { name: string }[];
          filter: { probes: number };
          footer: { version: number };
        };
        rangeTombstones: { start: string; end: string; seq: number }[];
        entries: { key: string; seq: number; kind: string }[];
      };
      const t = Table.open(join(dir, f));
      const layout = t.layout();
      expect(got.fileSize).toBe(t.fileSize);
      expect(got.properties.entryCount).toBe(t.readProperties().entryCount);
      expect(got.properties.smallestKey).toBe(Buffer.from(t.readProperties().smallestKey).toString('hex'));
      expect(got.layout.dataBlocks.map((b) => [b.offset, b.size])).toEqual(layout.dataBlocks.map((b) => [b.handle.offset, b.handle.size]));
      expect(got.layout.metaBlocks.map((m) => m.name)).toEqual(layout.metaBlocks.map((m) => m.name));
      expect(got.layout.footer.version).toBe(2);
      expect(got.layout.partitions.map((q) => [q.index.offset, q.firstBlock, q.blockCount, q.separatorKey])).toEqual(
        layout.partitions.map((q) => [q.index.offset, q.firstBlock, q.blockCount, Buffer.from(q.separatorKey).toString()]),
      );
      expect(got.layout.filter.probes).toBe(layout.filter!.probes);
      expect(got.rangeTombstones).toEqual(t.rangeTombstones().map((x) => ({ start: Buffer.from(x.start).toString(), end: Buffer.from(x.end).toString(), seq: x.seq })));
      expect(got.entries.length).toBe(t.readProperties().entryCount);
      t.close();
      if (got.rangeTombstones.length > 0) sawTombstones = true;
    }
    expect(sawTombstones).toBe(true);
    const text = await strata(['dump-sst', join(dir, files[0]!)]);
    expect(text.stdout).toMatch(/data 0 +│ +0 │/);
    expect(text.stdout).toMatch(/format version 2; \d+ index partitions?/);
    expect(text.stdout).toMatch(/index partition 0 +│ +\d+ │ +\d+ │ blocks 0–\d+, last /);
    expect(text.stdout).toContain('top-level index');
    expect(text.stdout).toContain('footer');
    expect(text.stdout).toMatch(/filter: bloom, \d+ bytes, \d+ probes/);
    const missing = await strata(['dump-sst', join(dir, 'nope.sst')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^strata: IO_ERROR: /);
  });
});

describe('dump-manifest', () => {
  it('--json lists the edits readManifestHistory reads; the text form shows adds and deletes', async () => {
    const r = await strata(['--db', dir, 'dump-manifest', '--json']);
    expect(r.code).toBe(0);
    const got = jsonLines(r.stdout) as { index: number; offset: number; added: { level: number; file: { fileNumber: number } }[]; deleted: { fileNumber: number }[] }[];
    const want = readManifestHistory(dir);
    expect(got.map((e) => [e.offset, e.added.map((a) => [a.level, a.file.fileNumber]), e.deleted.map((d) => d.fileNumber)])).toEqual(
      want.records.map((e) => [e.offset, e.added.map((a) => [a.level, a.file.fileNumber]), e.deleted.map((d) => d.fileNumber)]),
    );
    const text = await strata(['--db', dir, 'dump-manifest']);
    expect(text.stdout).toMatch(/^edit 0 @12 \(snapshot\): dbId /m);
    expect(text.stdout).toMatch(/^ {2}\+ L\d #\d+ /m);
  });
});
