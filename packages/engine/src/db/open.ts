/**
 * Opening a database: create or recover.
 *
 *   0. Whose directory (directory-owner.ts), before anything is created or changed: another
 *      engine's database, a stray CURRENT, unrelated files → NOT_A_DATABASE, nothing touched.
 *   1. Directory: created when missing (createIfMissing), else NOT_FOUND.
 *   2. LOCK (lock.ts): a second opener gets LOCKED; a lock of a dead process is taken over.
 *      The directory is inspected again under the lock (another process may have created a
 *      database, or something else, in between).
 *   3. A database exists iff CURRENT exists. errorIfExists → EXISTS. A new database gets its
 *      IDENTITY (UUID) and MANIFEST-000001 + CURRENT. An existing one must have an IDENTITY.
 *      (IDENTITY without CURRENT is a creation interrupted by a crash: creation resumes with it.)
 *      CORRUPTION is reported only here and later, i.e. for files provably Strata's.
 *   4. Version set: CURRENT → manifest → Version; a fresh manifest snapshot is written.
 *   5. WAL replay (docs/design-rules.md#r7): every live segment (≥ the manifest's logNumber) is checked —
 *      this database's UUID, no gap, LSNs increasing — and replayed into a fresh memtable per
 *      the recovery mode. Then `memtable.injectMaxLsn(maxLsn)`; the last sequence is the larger
 *      of that and the manifest's (docs/design-rules.md#r4), so a sequence number is never reused.
 *   6. A new WAL segment is started after every replayed one. If anything was replayed, the
 *      memtable is flushed to L0 now and logNumber advanced past the old segments, which are
 *      then deleted — so a damaged segment that recovery tolerated is never read again, and
 *      new writes never land behind it.
 *   7. Orphans (tables no Version lists, old manifests, *.tmp) are removed.
 */
import { dirname, join, resolve } from 'node:path';
import { Memtable } from '@strata-db/memtable';
import { openWal, replay, type WalWriter } from '@strata-db/wal';
import { StrataError, toStrataError } from '../errors.js';
import { EventBus } from '../events.js';
import { tableDescriptors, type ResolvedOptions } from '../options.js';
import { TableCache } from '../version/table-cache.js';
import { VersionSet } from '../version/version-set.js';
import { DbCore } from './core.js';
import { CURRENT_FILE } from './filenames.js';
import { flushMemtable } from '../flush/flush.js';
import { FlushLoop } from '../flush/flush-loop.js';
import { LeveledCompactor } from '../compaction/scheduler.js';
import { createExecutor } from '../background/create-executor.js';
import type { BackgroundExecutor } from '../background/executor.js';
import { createIdentity, readIdentity } from './identity.js';
import { inspectDirectory } from './directory-owner.js';
import { DirectoryLock } from './lock.js';

export interface RecoveryInfo {
  /** Whether the database was created by this open. */
  readonly created: boolean;
  readonly walBatchesReplayed: number;
  readonly walSegmentsReplayed: readonly number[];
  /** Damaged WAL ranges that were not replayed (per the recovery mode). */
  readonly walDropped: readonly { readonly file: string; readonly offset: number; readonly length: number; readonly reason: string }[];
  readonly orphansRemoved: readonly string[];
}

export interface Opened {
  /** Owns the lock from here on: released by its close(). */
  readonly core: DbCore;
  readonly recovery: RecoveryInfo;
}

export async function openCore(dir: string, opts: ResolvedOptions): Promise<Opened> {
  const fs = opts.fs;
  const found = inspectDirectory(fs, dir);
  if (found.kind === 'missing') {
    if (!opts.createIfMissing) {
      throw new StrataError('NOT_FOUND', `no database at ${dir} (the directory does not exist); pass createIfMissing: true to create one`, { file: dir });
    }
    try {
      // The directories created, outermost first: each one's entry in its parent must be made
      // durable, or a power cut could take the whole new database with it.
      const created: string[] = [];
      for (let d = resolve(dir); !fs.existsSync(d); d = dirname(d)) {
        created.unshift(d);
        if (dirname(d) === d) break;
      }
      fs.mkdirSync(dir, { recursive: true });
      for (const d of created) await fs.fsyncDir(dirname(d));
    } catch (err) {
      throw toStrataError(err, `cannot create the database directory ${dir}`, dir);
    }
  }
  let lock: DirectoryLock;
  try {
    const strataDirectory = found.kind === 'database' || found.kind === 'unfinished' || (found.kind === 'empty' && found.lockCutShort);
    lock = DirectoryLock.acquire(fs, dir, strataDirectory);
  } catch (err) {
    // Creating LOCK writes and closes a file: an EIO/ENOSPC there must come out typed too.
    throw toStrataError(err, `cannot lock the database at ${dir}`, join(dir, 'LOCK'));
  }
  let versions: VersionSet | undefined;
  let tables: TableCache | undefined;
  let wal: WalWriter | undefined;
  const events = new EventBus(opts.onEvent, opts.logger, dir);
  let executor: BackgroundExecutor | undefined;
  try {
    // Under the lock: an empty directory may have been filled since the first look (a Strata
    // database found then stays one: nothing but Strata writes a STRATAMF manifest into it).
    if (found.kind === 'missing' || found.kind === 'empty') inspectDirectory(fs, dir, true);
    const tableCache = new TableCache(fs, dir, opts.blockCacheSize, tableDescriptors(opts.maxOpenFiles, opts.backgroundThreads), opts.tableCacheSize, events, opts.cacheIndexAndFilterBlocks);
    tables = tableCache;
    versions = new VersionSet({
      fs,
      dir,
      numLevels: opts.numLevels,
      maxManifestFileSize: opts.maxManifestFileSize,
      onFileDeleted: (n) => {
        tableCache.evict(n);
      },
      events,
    });
    const exists = fs.existsSync(join(dir, CURRENT_FILE));
    let uuid: string;
    if (exists) {
      if (opts.errorIfExists) throw new StrataError('EXISTS', `a database already exists at ${dir} (errorIfExists is set)`, { file: dir });
      const id = readIdentity(fs, dir);
      if (id === undefined) {
        throw new StrataError('CORRUPTION', `${join(dir, 'IDENTITY')} is missing although ${join(dir, CURRENT_FILE)} exists; restore it from a backup`, {
          file: join(dir, 'IDENTITY'),
        });
      }
      uuid = id;
      await versions.recover(uuid);
    } else {
      if (!opts.createIfMissing) {
        throw new StrataError('NOT_FOUND', `no database at ${dir} (no CURRENT file); pass createIfMissing: true to create one`, { file: dir });
      }
      uuid = readIdentity(fs, dir) ?? (await createIdentity(fs, dir));
      await versions.create(uuid);
    }

    // WAL replay into a fresh memtable.
    const mem = new Memtable();
    const result = await replay(dir, { uuid, recovery: opts.walRecovery, fs, ...(versions.logNumber > 0 ? { fromSegment: versions.logNumber } : {}) }, (b) => {
      mem.apply(b.ops, b.firstLsn);
    });
    const lastSeq = Math.max(versions.lastSequence, result.maxLsn, mem.maxLsn());
    mem.injectMaxLsn(lastSeq);
    versions.lastSequence = lastSeq;

    const segment = Math.max(result.nextSegment, versions.logNumber, 1);
    // Preallocated as it is created: the first durable write does not pay for the zeros (wal/writer.ts).
    wal = await openWal(dir, { uuid, segment, firstLsn: lastSeq + 1, fs, preallocate: true });
    events.emit({ type: 'wal-created', segment });
    executor = await createExecutor(opts, events);
    const core = new DbCore({
      dir,
      opts,
      versions,
      tables: tableCache,
      lock,
      wal,
      walSegment: segment,
      lastSequence: lastSeq,
      newFlusher: (c) => new FlushLoop(c),
      newCompactor: (c) => new LeveledCompactor(c),
      events,
      executor,
    });
    if (mem.entryCount > 0 || mem.rangeTombstoneCount > 0 || versions.logNumber !== segment) {
      // Flush what was replayed (or just advance logNumber) before accepting writes.
      await flushMemtable(core, { mem: mem.freeze(), nextLogNumber: segment, rotated: Promise.resolve() });
    }
    // A failure here (its directory fsync, say) fails the open: a failed sync is never ignored.
    for (const n of await wal.deleteSegmentsBefore(segment)) events.emit({ type: 'wal-deleted', segment: n });
    if (core.backgroundError !== undefined) throw core.backgroundError;
    const orphansRemoved = versions.deleteOrphans();
    core.markOpen();
    core.maybeScheduleCompaction();
    return {
      core,
      recovery: {
        created: !exists,
        walBatchesReplayed: result.batches,
        walSegmentsReplayed: result.segments,
        walDropped: result.dropped.map((d) => ({ file: d.file, offset: d.offset, length: d.length, reason: d.reason })),
        orphansRemoved,
      },
    };
  } catch (err) {
    if (wal !== undefined) {
      try {
        await wal.close();
      } catch (closeErr) {
        // The open is failing with `err`, which is what the caller must see.
        events.warn(`closing the WAL of a failed open of ${dir} failed too`, closeErr);
      }
    }
    await executor?.close();
    versions?.close();
    tables?.close();
    lock.release();
    throw toStrataError(err, `cannot open the database at ${dir}`);
  }
}
