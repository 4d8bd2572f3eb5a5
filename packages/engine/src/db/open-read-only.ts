/**
 * The read-only open (`readOnly: true`): the database as it is on disk, for reading, without
 * changing a byte — no LOCK, no new WAL segment, no manifest, no IDENTITY or CURRENT, no
 * truncated tail, no deleted orphan. So it works while another process has the database open
 * for writing, and an inspection tool can never damage what it inspects.
 *
 *   1. The directory must be a Strata database (directory-owner.ts: another engine's files are
 *      NOT_A_DATABASE); nothing is created, so a missing or unfinished one is NOT_FOUND.
 *   2. CURRENT → manifest → Version (VersionSet.load: the checks recovery makes, nothing written).
 *   3. Every live table is opened now: while its descriptor stays open (up to maxOpenFiles of
 *      them), a table a writer's compaction deletes later stays readable here.
 *   4. The WAL from the manifest's logNumber is replayed into the active memtable, in memory
 *      only (replay's readOnly: damage the recovery mode tolerates is dropped in memory, the
 *      file is left as it is — a writer may be appending to it right now).
 *   5. Writes, flush and compact get READ_ONLY (DbCore.readOnly); no background work runs.
 *
 * A writer that moves on while this reads (rolls the manifest over, appends an edit and deletes
 * the WAL segments it flushed) can make a step fail: CURRENT names a manifest just deleted, a
 * segment is gone. Such a failure is retried from the start when CURRENT or the manifest's size
 * changed meanwhile; the state read is then a later one — each attempt reads one consistent
 * point: the manifest's version plus every WAL record after it. What this open does not do is
 * follow the writer afterwards: a table the writer's compaction deletes later, once this
 * database's table cache has let its descriptor go (maxOpenFiles), cannot be read again
 * (IO_ERROR naming it) — reopen to see the newer state (the follower of issue 16 will catch up
 * instead).
 */
import { EventBus } from '../events.js';
import { join } from 'node:path';
import { Memtable } from '@strata-db/memtable';
import { replay } from '@strata-db/wal';
import { LeveledCompactor } from '../compaction/scheduler.js';
import { FlushLoop } from '../flush/flush-loop.js';
import { StrataError, toStrataError } from '../errors.js';
import { NON_TABLE_FILES, type ResolvedOptions } from '../options.js';
import { TableCache } from '../version/table-cache.js';
import { VersionSet } from '../version/version-set.js';
import { DbCore } from './core.js';
import { CURRENT_FILE } from './filenames.js';
import { inspectDirectory } from './directory-owner.js';
import { readIdentity } from './identity.js';
import type { Opened } from './open.js';

/**
 * A busy writer can move the database on (a manifest edit, then deleting the WAL segments it made
 * redundant) between two of our reads, at every flush; each retry starts from a fresh CURRENT.
 * Bounded, with a short growing pause, so a reader against a writer flushing constantly gets a
 * consistent view instead of a spurious CORRUPTION after a handful of unlucky races.
 */
const ATTEMPTS = 100;

/** What a concurrent writer changes when it moves the database on: CURRENT and the manifest's size. */
function writerStamp(opts: ResolvedOptions, dir: string): string {
  try {
    const current = Buffer.from(opts.fs.readFileSync(join(dir, CURRENT_FILE))).toString('latin1');
    const fd = opts.fs.openSync(join(dir, current.trim()), 'r');
    try {
      return `${current}:${opts.fs.fstatSync(fd).size}`;
    } finally {
      opts.fs.closeSync(fd);
    }
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

export async function openReadOnly(dir: string, opts: ResolvedOptions): Promise<Opened> {
  for (let attempt = 1; ; attempt++) {
    const before = writerStamp(opts, dir);
    try {
      // Another engine's directory, a stray CURRENT…: NOT_A_DATABASE, as for a writing open (reads only).
      const found = inspectDirectory(opts.fs, dir);
      if (found.kind !== 'database' && !(found.kind === 'unfinished' && opts.fs.existsSync(join(dir, CURRENT_FILE)))) {
        throw new StrataError('NOT_FOUND', `no database at ${dir} (${found.kind === 'missing' ? 'the directory does not exist' : 'no CURRENT file'}); a read-only open creates nothing`, {
          file: dir,
        });
      }
      return await attemptOpen(dir, opts);
    } catch (err) {
      if (attempt >= ATTEMPTS || writerStamp(opts, dir) === before) throw toStrataError(err, `cannot open the database at ${dir} read-only`);
      await new Promise((r) => setTimeout(r, Math.min(attempt, 20)));
    }
  }
}

async function attemptOpen(dir: string, opts: ResolvedOptions): Promise<Opened> {
  const fs = opts.fs;
  const uuid = readIdentity(fs, dir);
  if (uuid === undefined) {
    throw new StrataError('CORRUPTION', `${join(dir, 'IDENTITY')} is missing although ${join(dir, CURRENT_FILE)} exists; restore it from a backup`, {
      file: join(dir, 'IDENTITY'),
    });
  }
  // A read-only open creates and deletes nothing, so the only events it can give are warnings
  // and background errors; the listener still gets them.
  const events = new EventBus(opts.onEvent, opts.logger, dir);
  const tables = new TableCache(fs, dir, opts.blockCacheSize, opts.maxOpenFiles - NON_TABLE_FILES, opts.tableCacheSize, events);
  const versions = new VersionSet({ fs, dir, numLevels: opts.numLevels, maxManifestFileSize: opts.maxManifestFileSize, events });
  try {
    versions.load(uuid); // checks that every live table exists
    for (const { file } of versions.current.allFiles()) tables.get(file.fileNumber);

    const mem = new Memtable();
    const result = await replay(
      dir,
      { uuid, recovery: opts.walRecovery, fs, readOnly: true, ...(versions.logNumber > 0 ? { fromSegment: versions.logNumber } : {}) },
      (b) => {
        mem.apply(b.ops, b.firstLsn);
      },
    );
    const lastSeq = Math.max(versions.lastSequence, result.maxLsn, mem.maxLsn());
    mem.injectMaxLsn(lastSeq);
    versions.lastSequence = lastSeq;

    const core = new DbCore({
      dir,
      opts,
      versions,
      tables,
      lock: undefined,
      wal: undefined,
      events,
      active: mem,
      walSegment: result.lastSegment,
      lastSequence: lastSeq,
      newFlusher: (c) => new FlushLoop(c),
      // For stats() (scores, pending bytes) only: maybeScheduleCompaction never runs it read-only.
      newCompactor: (c) => new LeveledCompactor(c),
    });
    core.markOpen();
    return {
      core,
      recovery: {
        created: false,
        walBatchesReplayed: result.batches,
        walSegmentsReplayed: result.segments,
        walDropped: result.dropped.map((d) => ({ file: d.file, offset: d.offset, length: d.length, reason: d.reason })),
        orphansRemoved: [],
      },
    };
  } catch (err) {
    versions.close();
    tables.close();
    throw err;
  }
}
