/**
 * The read-only open (`readOnly: true`): the database as it is on disk, for reading, without
 * changing a byte — no LOCK, no new WAL segment, no manifest, no IDENTITY or CURRENT, no
 * truncated tail, no deleted orphan. So it works while another process has the database open
 * for writing, and an inspection tool can never damage what it inspects.
 *
 *   1. The directory must be a Strata database (directory-owner.ts: another engine's files are
 *      NOT_A_DATABASE); nothing is created, so a missing or unfinished one is NOT_FOUND.
 *   2. The state is read by the first catch-up of a follower (follower.ts): CURRENT → manifest
 *      → Version, every live table opened, the WAL from the manifest's logNumber replayed into
 *      memtables, in memory only. It is one consistent point of the writer's sequence even
 *      while the writer flushes, compacts and rolls its manifest over: a file found gone is
 *      looked for in the manifest's newer records, never retried blindly.
 *   3. Writes, flush and compact get READ_ONLY (DbCore.readOnly); no background work runs.
 *      `db.catchUp()` (or the `followInterval` option) moves the database on to the writer's
 *      newer state.
 */
import { EventBus } from '../events.js';
import { join } from 'node:path';
import { LeveledCompactor } from '../compaction/scheduler.js';
import { FlushLoop } from '../flush/flush-loop.js';
import { StrataError } from '../errors.js';
import { tableDescriptors, type ResolvedOptions } from '../options.js';
import { TableCache } from '../version/table-cache.js';
import { VersionSet } from '../version/version-set.js';
import { DbCore } from './core.js';
import { InThreadExecutor } from '../background/in-thread-executor.js';
import { CURRENT_FILE } from './filenames.js';
import { inspectDirectory } from './directory-owner.js';
import { Follower } from './follower.js';
import { readIdentity } from './identity.js';
import type { Opened } from './open.js';

export async function openReadOnly(dir: string, opts: ResolvedOptions): Promise<Opened & { readonly follower: Follower }> {
  const fs = opts.fs;
  // Another engine's directory, a stray CURRENT…: NOT_A_DATABASE, as for a writing open (reads only).
  const found = inspectDirectory(fs, dir);
  if (found.kind !== 'database' && !(found.kind === 'unfinished' && fs.existsSync(join(dir, CURRENT_FILE)))) {
    throw new StrataError('NOT_FOUND', `no database at ${dir} (${found.kind === 'missing' ? 'the directory does not exist' : 'no CURRENT file'}); a read-only open creates nothing`, {
      file: dir,
    });
  }
  const uuid = readIdentity(fs, dir);
  if (uuid === undefined) {
    throw new StrataError('CORRUPTION', `${join(dir, 'IDENTITY')} is missing although ${join(dir, CURRENT_FILE)} exists; restore it from a backup`, {
      file: join(dir, 'IDENTITY'),
    });
  }
  // A read-only open creates and deletes nothing, so the only events it can give are warnings
  // and background errors; the listener still gets them.
  const events = new EventBus(opts.onEvent, opts.logger, dir);
  const tables = new TableCache(fs, dir, opts.blockCacheSize, tableDescriptors(opts.maxOpenFiles, 0), opts.tableCacheSize, events, opts.cacheIndexAndFilterBlocks);
  const versions = new VersionSet({
    fs,
    dir,
    numLevels: opts.numLevels,
    maxManifestFileSize: opts.maxManifestFileSize,
    events,
    // The writer owns the files: a table this database stops listing is closed, not deleted.
    deletesObsoleteFiles: false,
    onFileDeleted: (n) => {
      tables.evict(n);
    },
  });
  versions.dbId = uuid;
  const follower = new Follower(dir, opts, uuid, versions, tables);
  const core = new DbCore({
    dir,
    opts,
    versions,
    tables,
    lock: undefined,
    wal: undefined,
    events,
    walSegment: 0,
    lastSequence: 0,
    newFlusher: (c) => new FlushLoop(c),
    // For stats() (scores, pending bytes) only: maybeScheduleCompaction never runs it read-only.
    newCompactor: (c) => new LeveledCompactor(c),
    // Nothing is flushed or compacted: no worker thread is ever started for a read-only open.
    executor: new InThreadExecutor(fs),
    explainReadFailure: (err) => follower.explainMissingTable(err),
  });
  follower.attach(core);
  try {
    const first = await follower.catchUp();
    core.markOpen();
    const figures = follower.openFigures(first);
    if (opts.followInterval > 0) follower.follow(opts.followInterval);
    return {
      core,
      follower,
      recovery: {
        created: false,
        walBatchesReplayed: figures.walBatches,
        walSegmentsReplayed: figures.walSegments,
        walDropped: figures.walDropped,
        orphansRemoved: [],
      },
    };
  } catch (err) {
    await follower.stop();
    versions.close();
    tables.close();
    throw err;
  }
}
