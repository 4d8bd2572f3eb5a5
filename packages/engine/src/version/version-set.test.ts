/**
 * The sequence number the manifest records (VersionSet.visibleSequence, at the top of
 * version-set.ts): what was written, never numbers merely handed out — and never less than a
 * table it lists holds, so no number in a table is ever handed out again after a reopen.
 */
import { describe, expect, it } from 'vitest';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { join } from 'node:path';
import { tableFileName, tablePath } from '../db/filenames.js';
import { ManifestWriter, readCurrent } from '../manifest/manifest.js';
import { fileMeta } from '../compaction/test-support/file-metadata.js';
import { VersionEdit } from './version-edit.js';
import { VersionSet } from './version-set.js';
import { DIR, freshVersionSet } from './test-support/fresh-version-set.js';

const fresh = freshVersionSet;

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

  it('is never less than a table the edit adds holds: such an edit is refused, and the manifest keeps what it had', async () => {
    const { fs, open, versions } = await fresh();
    versions.lastSequence = 120;
    versions.visibleSequence = 100;
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 90)));
    await expect(versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 110)))).rejects.toMatchObject({ code: 'ASSERTION' });
    const reopened = open();
    await reopened.recover('db');
    expect(reopened.lastSequence).toBe(100);
    expect(reopened.current.files(0)).toHaveLength(1);
  });

  it('at load, is at least the newest sequence of every listed table (manifests written before the WAL-first write order recorded less)', async () => {
    const { fs, open, versions } = await fresh();
    versions.visibleSequence = 100;
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 90)));
    // An edit as such a manifest holds it: a table with sequences up to 110, recorded as 100.
    const cur = readCurrent(fs, DIR);
    const path = join(DIR, cur.name);
    const old = ManifestWriter.reopen(fs, path, cur.number, fs.readFileSync(path).length);
    const f = table(fs, versions, 110);
    const edit = new VersionEdit().addFile(0, f);
    edit.lastSequence = 100;
    edit.nextFileNumber = f.fileNumber + 1;
    await old.append(edit);
    expect(await recovered(open)).toBe(110);
  });

  it('in a new manifest (a rollover) too', async () => {
    const { fs, open } = await fresh();
    const small = new VersionSet({ fs, dir: DIR, numLevels: 4, maxManifestFileSize: 1 });
    await small.recover('db');
    small.lastSequence = 50;
    small.visibleSequence = 45;
    await small.logAndApply(new VersionEdit().addFile(0, table(fs, small, 40)));
    expect(await recovered(open)).toBe(45);
  });
});

describe('file numbers after a reopen', () => {
  it('are past every table and manifest in the directory, also those no manifest lists (a dead process’s unfinished output)', async () => {
    const { fs, open, versions } = await fresh();
    versions.lastSequence = versions.visibleSequence = 1;
    await versions.logAndApply(new VersionEdit().addFile(0, table(fs, versions, 1)));
    const orphan = versions.nextFileNumber + 7; // a number handed to a job the manifest never heard of
    fs.closeSync(fs.openSync(tablePath(DIR, orphan), 'w'));
    const reopened = open();
    await reopened.recover('db');
    expect(reopened.newFileNumber()).toBeGreaterThan(orphan);
    expect(reopened.deleteOrphans()).toContain(tableFileName(orphan));
  });
});
