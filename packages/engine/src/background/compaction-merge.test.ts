/**
 * The merge's own bounds (compaction-merge.ts): the index partitions a job keeps are one cache
 * for all its inputs, bounded in bytes, and a merge whose partitions are evicted under it as it
 * reads writes the same tables as one that keeps them all.
 */
import { describe, expect, it } from 'vitest';
import { EntryKind, compareEntries, type PointEntry } from '@strata-db/memtable';
import { TableBuilder } from '@strata-db/sstable-builder';
import { TableIterator } from '@strata-db/sstable-iterators';
import { Table } from '@strata-db/sstable-core';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { tablePath } from '../db/filenames.js';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
import { mergeCompaction, type CompactionHost } from './compaction-merge.js';
import { threadWindowPool } from './window-pool.js';
import type { CompactionJob } from './jobs.js';
import { NO_GRANDPARENTS } from '../compaction/output-splitter.js';

const DIR = '/db';
const key = (i: number): Uint8Array => new Uint8Array(Buffer.from(`key${String(i).padStart(6, '0')}`));

/** `tables` L0 tables of interleaved keys (table t holds keys ≡ t mod tables), small partitions: many per table. */
async function l0Tables(fs: MemoryFileSystem, tables: number, keysEach: number): Promise<FileMetadata[]> {
  const out: FileMetadata[] = [];
  for (let t = 0; t < tables; t++) {
    const n = t + 1;
    const b = new TableBuilder(tablePath(DIR, n), { fs, fileNumber: n, blockSize: 256, metadataBlockSize: 128, compression: 'none' });
    const entries: PointEntry[] = [];
    for (let i = 0; i < keysEach; i++) {
      entries.push({ key: key(i * tables + t), seq: t * keysEach + i + 1, kind: EntryKind.Put, value: new Uint8Array(20).fill(t) });
    }
    for (const e of entries.sort(compareEntries)) b.add(e);
    out.push(fileMetadataOf(await b.finish()));
  }
  return out.reverse(); // L0 newest first
}

function job(files: readonly FileMetadata[], first: number): CompactionJob {
  return {
    dir: DIR,
    inputs: [{ level: 0, files }],
    outputLevel: 1,
    grandparents: NO_GRANDPARENTS,
    below: [],
    snapshots: [],
    fileNumbers: Array.from({ length: 8 }, (_, i) => first + i),
    targetFileSize: 1 << 30,
    table: { blockSize: 256, bloomBitsPerKey: 10, metadataBlockSize: 128, compression: 'none' },
    createdAt: 1,
  };
}

const host = (fs: MemoryFileSystem, partitionCacheBytes?: number): CompactionHost => ({
  fs,
  moreFileNumbers: () => {
    throw new Error('unexpected');
  },
  checkAbort: () => {},
  sliceMs: 1e9,
  yieldNow: () => Promise.resolve(),
  ...(partitionCacheBytes === undefined ? {} : { partitionCacheBytes }),
});

describe('a compaction job’s index partitions', () => {
  it('evicted under a merge of many inputs (a cache smaller than one partition), it writes the same table as with every partition kept', async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirSync(DIR, { recursive: true });
    const tables = 12;
    const keysEach = 600;
    const files = await l0Tables(fs, tables, keysEach);
    // Many partitions per input: a bounded cache must evict while the merge still reads the table.
    const probe = Table.open(tablePath(DIR, files[0]!.fileNumber), { fs });
    expect(probe.layout().partitions.length).toBeGreaterThan(8);
    probe.close();

    const kept = await mergeCompaction(job(files, 1000), host(fs, Number.MAX_SAFE_INTEGER));
    const starved = await mergeCompaction(job(files, 2000), host(fs, 1));
    const bounded = await mergeCompaction(job(files, 3000), host(fs));
    expect(kept.outputs.length).toBe(1);
    expect(threadWindowPool.inUseBytes).toBe(0); // every job gave its readahead windows back
    const bytes = (f: FileMetadata): Uint8Array => fs.readFileSync(tablePath(DIR, f.fileNumber));
    // Byte-identical but for the file number recorded in the properties: compare what they hold.
    const read = (f: FileMetadata): string[] => {
      const t = Table.open(tablePath(DIR, f.fileNumber), { fs });
      const it = new TableIterator(t);
      const out: string[] = [];
      it.seekToFirst();
      while (it.valid()) {
        out.push(`${Buffer.from(it.entry().key).toString()}@${it.entry().seq}`);
        it.next();
      }
      t.close();
      return out;
    };
    const expected = read(kept.outputs[0]!);
    expect(expected.length).toBe(tables * keysEach);
    expect(read(starved.outputs[0]!)).toEqual(expected);
    expect(read(bounded.outputs[0]!)).toEqual(expected);
    expect(bytes(starved.outputs[0]!).length).toBe(bytes(kept.outputs[0]!).length);
  });
});

describe('a compaction job that fails', () => {
  /** `fs` but for `fsync` (the n-th call fails) or `fsyncDir` (fails). */
  function failing(fs: MemoryFileSystem, what: 'fsync' | 'fsyncDir', nth = 1): MemoryFileSystem {
    const f = Object.create(fs) as MemoryFileSystem;
    let calls = 0;
    const fail = (): boolean => ++calls === nth;
    if (what === 'fsync') f.fsync = (fd) => (fail() ? Promise.reject(new Error('fsync failed (injected)')) : fs.fsync(fd));
    else f.fsyncDir = (dir) => (fail() ? Promise.reject(new Error('fsyncDir failed (injected)')) : fs.fsyncDir(dir));
    return f;
  }

  for (const [what, nth] of [['fsyncDir', 1], ['fsync', 4]] as const) {
    it(`leaves none of the outputs it wrote, finished or not (${what} #${nth} fails)`, async () => {
      const fs = new MemoryFileSystem();
      fs.mkdirSync(DIR, { recursive: true });
      const files = await l0Tables(fs, 4, 600);
      const inputs = fs.readdirSync(DIR).sort();
      let next = 100;
      const j = { ...job(files, 50), targetFileSize: 8 * 1024 };
      const h: CompactionHost = { ...host(failing(fs, what, nth)), moreFileNumbers: (n) => Array.from({ length: n }, () => next++) };
      await expect(mergeCompaction(j, h)).rejects.toThrow(/fsync/);
      expect(threadWindowPool.inUseBytes).toBe(0); // a failed job gives its windows back too
      expect(fs.readdirSync(DIR).sort()).toEqual(inputs);
      // It did write several tables before failing (the fsyncs before the failing one, or all of them).
      const ok = await mergeCompaction({ ...j, fileNumbers: [900] }, { ...host(fs), moreFileNumbers: (n) => Array.from({ length: n }, () => next++) });
      expect(ok.outputs.length).toBeGreaterThan(nth);
    });
  }
});
