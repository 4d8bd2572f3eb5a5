/**
 * The sequence number the manifest records (VersionSet.visibleSequence, at the top of
 * version-set.ts): what was written, never numbers merely handed out — and never less than a
 * table it lists holds, so no number in a table is ever handed out again after a reopen.
 */
import { describe, expect, it } from 'vitest';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { tablePath } from '../db/filenames.js';
import { fileMeta } from '../compaction/test-support/file-metadata.js';
import { VersionEdit } from './version-edit.js';
import { VersionSet } from './version-set.js';

const DIR = '/db';

async function fresh(): Promise<{ fs: MemoryFileSystem; open: () => VersionSet; versions: VersionSet }> {
  const fs = new MemoryFileSystem({ syncDelay: () => Promise.resolve() });
  fs.mkdirSync(DIR, { recursive: true });
  const open = (): VersionSet => new VersionSet({ fs, dir: DIR, numLevels: 4, maxManifestFileSize: 1 << 20 });
  const versions = open();
  await versions.create('db');
  return { fs, open, versions };
}

/** The last sequence a fresh VersionSet recovers from what is on disk. */
async function recovered(open: () => VersionSet): Promise<number> {
  const reopened = open();
  await reopened.recover('db');
  return reopened.lastSequence;
}

/** An L0 table (an empty file is enough: recovery checks that listed tables exist) holding sequences up to `maxSeq`. */
function table(fs: MemoryFileSystem, versions: VersionSet, maxSeq: number) {
  const f = fileMeta('a', 'z', 100, { fileNumber: versions.newFileNumber(), minSeq: 1, maxSeq });
  fs.closeSync(fs.openSync(tablePath(DIR, f.fileNumber), 'w'));
  return f;
}

describe('the sequence number a manifest records', () => {
  it('is the visible sequence, not the numbers handed to writes still in flight', async () => {
    const { fs, open, versions } = await fresh();
    versions.lastSequence = 120; // handed out
    versions.visibleSequence = 100; // written
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 90)));
    expect(await recovered(open)).toBe(100);
  });

  it('is at least the newest sequence in a table the edit adds (the safety net: before the write path logged first, a batch whose WAL write failed was in the memtable it flushed)', async () => {
    const { fs, open, versions } = await fresh();
    versions.lastSequence = 120;
    versions.visibleSequence = 100;
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 110)));
    expect(await recovered(open)).toBe(110);
  });

  it('in a new manifest (a rollover) too', async () => {
    const { fs, open } = await fresh();
    const small = new VersionSet({ fs, dir: DIR, numLevels: 4, maxManifestFileSize: 1 });
    await small.recover('db');
    small.lastSequence = 50;
    small.visibleSequence = 40;
    await small.logAndApply(new VersionEdit().addFile(0, table(fs, small, 45)));
    expect(await recovered(open)).toBe(45);
  });
});
