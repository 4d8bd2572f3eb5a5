/**
 * The version set's records of its tables (TableRecord, file-metadata.ts): what a Version holds
 * per table grows with the tables, so each record's keys are one allocation of their own size —
 * not views into whatever buffer they arrived in — and what the records take is counted
 * (VersionSet.memoryBytes, in stats().memory.tableRecords).
 */
import { describe, expect, it } from 'vitest';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { compareKeys } from '@strata-db/memtable';
import { tablePath } from '../db/filenames.js';
import { fileMeta } from '../compaction/test-support/file-metadata.js';
import { TableRecord, recordBytes, type FileMetadata } from './file-metadata.js';
import { VersionEdit } from './version-edit.js';
import type { VersionSet } from './version-set.js';
import { DIR, freshVersionSet } from './test-support/fresh-version-set.js';

async function fresh(): ReturnType<typeof freshVersionSet> {
  const r = await freshVersionSet();
  r.versions.lastSequence = r.versions.visibleSequence = 1000;
  return r;
}

/** A table file (empty: recovery checks only that it exists) and its metadata, keys as views into a larger buffer. */
function table(fs: MemoryFileSystem, versions: VersionSet, smallest: string, largest: string): FileMetadata {
  const f = fileMeta(smallest, largest, 100, { fileNumber: versions.newFileNumber(), minSeq: 1, maxSeq: 1 });
  fs.closeSync(fs.openSync(tablePath(DIR, f.fileNumber), 'w'));
  return f;
}

function expectPacked(f: FileMetadata, smallest: string, largest: string): void {
  expect(f).toBeInstanceOf(TableRecord);
  expect(Buffer.from(f.smallestKey).toString()).toBe(smallest);
  expect(Buffer.from(f.largestKey).toString()).toBe(largest);
  // Both keys in one ArrayBuffer of exactly their size: no view keeps a larger buffer alive.
  expect(f.smallestKey.buffer).toBe(f.largestKey.buffer);
  expect(f.smallestKey.buffer.byteLength).toBe(smallest.length + largest.length);
}

describe('a Version’s records of its tables', () => {
  it('hold both keys in one buffer of their size, for tables an edit adds and tables loaded from the manifest', async () => {
    const { fs, open, versions } = await fresh();
    const a = table(fs, versions, 'apple', 'apricot');
    const b = table(fs, versions, 'banana', 'blueberry');
    // As a worker's result or a manifest's record brings them: views into a buffer larger than the key.
    expect(a.smallestKey.buffer.byteLength).toBeGreaterThan(a.smallestKey.length);
    await versions.logAndApply(new VersionEdit().addFile(1, a).addFile(1, b));
    expectPacked(versions.current.files(1)[0]!, 'apple', 'apricot');
    expectPacked(versions.current.files(1)[1]!, 'banana', 'blueberry');
    const reopened = open();
    reopened.load('db');
    expectPacked(reopened.current.files(1)[0]!, 'apple', 'apricot');
    expectPacked(reopened.current.files(1)[1]!, 'banana', 'blueberry');
    expect(compareKeys(reopened.current.files(1)[0]!.largestKey, reopened.current.files(1)[1]!.smallestKey)).toBeLessThan(0);
  });

  it('keep every other field', async () => {
    const { fs, versions } = await fresh();
    const f = { ...table(fs, versions, 'k1', 'k9'), entryCount: 7, deleteCount: 3, tombstoneCount: 2, markedForCompaction: true, minSeq: 5, maxSeq: 9, fileSize: 4321 };
    await versions.logAndApply(new VersionEdit().addFile(0, f));
    const r = versions.current.files(0)[0]!;
    expect({ ...r, smallestKey: undefined, largestKey: undefined }).toEqual({ ...f, smallestKey: undefined, largestKey: undefined });
  });

  it('are kept, not copied again, when a file moves to another level', async () => {
    const { fs, versions } = await fresh();
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 'a', 'c')));
    const r = versions.current.files(0)[0]!;
    await versions.logAndApply(new VersionEdit().deleteFile(0, r.fileNumber).addFile(1, r));
    expect(versions.current.files(1)[0]).toBe(r);
  });

  it('are counted in memoryBytes while a live Version lists them, once however many do', async () => {
    const { fs, versions } = await fresh();
    const empty = versions.memoryBytes;
    const edit = new VersionEdit();
    for (let i = 0; i < 10; i++) edit.addFile(1, table(fs, versions, `key${i}a`, `key${i}z`));
    await versions.logAndApply(edit);
    const records = versions.current.files(1).reduce((n, f) => n + recordBytes(f), 0);
    expect(records).toBeGreaterThanOrEqual(10 * 672);
    const ten = versions.memoryBytes;
    expect(ten - empty).toBeGreaterThanOrEqual(records);
    // A reader pins this Version while the next drops a file: the records are counted once, the arrays per Version.
    const pinned = versions.pinCurrent();
    const dropped = versions.current.files(1)[0]!;
    await versions.logAndApply(new VersionEdit().deleteFile(1, dropped.fileNumber));
    expect(versions.memoryBytes - ten).toBeLessThan(records / 10);
    pinned.unref();
    expect(versions.memoryBytes).toBeLessThan(ten - recordBytes(dropped) + 16);
    const rest = new VersionEdit();
    for (const f of versions.current.files(1)) rest.deleteFile(1, f.fileNumber);
    await versions.logAndApply(rest);
    expect(versions.memoryBytes).toBe(empty);
  });
});
