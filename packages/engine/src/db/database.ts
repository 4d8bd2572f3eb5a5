/**
 * Database: the public face of the engine (API pinned in docs/contracts.md).
 *
 * Every method checks its arguments first — bad input is an INVALID_ARGUMENT and the database
 * stays usable — and that the database is open (NOT_OPEN otherwise). The work is done by the
 * modules under db/, write/, read/, flush/ and version/; this class only wires them.
 */
import type { BatchRecord } from '@strata-db/wal';
import { compareKeys } from '@strata-db/memtable';
import { StrataError, toStrataError } from '../errors.js';
import { keyArg, lookupKeyArg, optionsObject, valueArg } from '../keys.js';
import { nodeFileSystem, type FileSystem } from '@strata-db/vfs';
import { resolveOptions, type DatabaseOptions } from '../options.js';
import type { Bounds, DbIterator, Entry } from '../read/db-iterator.js';
import { openDbIterator } from '../read/db-iterator-builder.js';
import { getFromView, getManyFromView } from '../read/get.js';
import { Snapshot } from '../snapshots.js';
import { getProperty } from '../properties.js';
import { collectStats, type DatabaseStats } from '../stats.js';
import { approximateSize } from '../version/approximate-size.js';
import { WRITE_OPTION_NAMES, WriteBatch, type KeyLike, type WriteOptions } from '../write/write-batch.js';
import { CallerOwns, WritePath } from '../write/write-path.js';
import { verifyFiles, type VerifyOptions, type VerifyReport } from '../verify.js';
import { createCheckpoint, type CheckpointReport } from './checkpoint.js';
import type { DbCore } from './core.js';
import { destroyDatabase, type DestroyReport } from './destroy.js';
import type { CatchUpResult, Follower } from './follower.js';
import { openReadOnly } from './open-read-only.js';
import { openCore, type RecoveryInfo } from './open.js';
import { repairDatabase, type RepairReport } from './repair.js';

export interface ReadOptions {
  /** Read at this snapshot (default: the latest visible write). */
  readonly snapshot?: Snapshot;
}

export interface IteratorOptions {
  readonly gt?: KeyLike;
  readonly gte?: KeyLike;
  readonly lt?: KeyLike;
  readonly lte?: KeyLike;
  /** Largest key first (default false). */
  readonly reverse?: boolean;
  /** Stop after this many entries; a negative number or Infinity means no limit (default). */
  readonly limit?: number;
  readonly snapshot?: Snapshot;
}

// The names each options argument takes; any other is INVALID_ARGUMENT (keys.ts optionsObject).
const READ_OPTION_NAMES = ['snapshot'] as const satisfies readonly (keyof ReadOptions)[];
const ITERATOR_OPTION_NAMES = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit', 'snapshot'] as const satisfies readonly (keyof IteratorOptions)[];

export class Database {
  private readonly writer: WritePath;
  private closing: Promise<void> | undefined;
  /** A follower's explicit snapshots and the compaction epoch each was taken in (db/follower.ts). */
  private readonly snapshotEpochs = new WeakMap<Snapshot, number>();

  private constructor(
    /** The database directory. */
    readonly location: string,
    private readonly core: DbCore,
    /** What recovery found and did at open. */
    readonly recovery: RecoveryInfo,
    /** A read-only database's follower: catchUp() and followInterval (db/follower.ts). */
    private readonly follower: Follower | undefined,
  ) {
    this.writer = new WritePath(core);
  }

  /**
   * Opens (by default creating) the database in directory `path`.
   * Errors: LOCKED, NOT_FOUND, EXISTS, CORRUPTION, FOREIGN_FILE, IO_ERROR, INVALID_ARGUMENT.
   */
  static async open(path: string, options?: DatabaseOptions): Promise<Database> {
    if (typeof path !== 'string' || path.length === 0) throw new StrataError('INVALID_ARGUMENT', 'Database.open(path): path must be a non-empty string');
    const opts = resolveOptions(options);
    try {
      // A read-only open (db/open-read-only.ts) takes no lock and writes nothing.
      if (opts.readOnly) {
        const { core, recovery, follower } = await openReadOnly(path, opts);
        return new Database(path, core, recovery, follower);
      }
      const { core, recovery } = await openCore(path, opts);
      return new Database(path, core, recovery, undefined);
    } catch (err) {
      throw toStrataError(err, `cannot open the database at ${path}`, path);
    }
  }

  /**
   * Deletes the database in directory `path` — only if it is a Strata database (INVALID_ARGUMENT
   * otherwise) and not open (LOCKED). Only files Strata writes are deleted; the directory goes
   * too when nothing else is left in it. A missing directory is not an error.
   */
  static async destroy(path: string, options?: { readonly fs?: FileSystem }): Promise<DestroyReport> {
    if (typeof path !== 'string' || path.length === 0) throw new StrataError('INVALID_ARGUMENT', 'Database.destroy(path): path must be a non-empty string');
    const fs = optionsObject(options, 'destroy options', ['fs']).fs ?? nodeFileSystem;
    try {
      return await destroyDatabase(fs, path);
    } catch (err) {
      throw toStrataError(err, `cannot destroy the database at ${path}`, path);
    }
  }

  /**
   * Rebuilds the manifest of the database in `path` from the tables and WAL segments found there
   * (LevelDB's RepairDB): for a database whose manifest or CURRENT is lost or damaged. Every
   * intact table is kept (in L0), every intact WAL batch recovered with its sequence number;
   * unreadable tables, segments and the old manifests are moved to `path/lost/` and reported,
   * never deleted. The repaired database is opened once with `options` (compacted when tables
   * from different levels overlap, see db/repair.ts) and closed. LOCKED while it is open.
   */
  static async repair(path: string, options?: DatabaseOptions): Promise<RepairReport> {
    if (typeof path !== 'string' || path.length === 0) throw new StrataError('INVALID_ARGUMENT', 'Database.repair(path): path must be a non-empty string');
    const opts = resolveOptions(options);
    if (opts.readOnly) throw new StrataError('INVALID_ARGUMENT', 'Database.repair: readOnly cannot be set; repair rewrites the manifest');
    try {
      return await repairDatabase(opts.fs, path, async (compact) => {
        const db = await Database.open(path, { ...options, createIfMissing: false, errorIfExists: false });
        try {
          if (compact) await db.compact();
          return db.core.lastSequence;
        } finally {
          await db.close();
        }
      });
    } catch (err) {
      throw toStrataError(err, `cannot repair the database at ${path}`, path);
    }
  }

  get isOpen(): boolean {
    return this.core.state === 'open';
  }

  // ---- writes ------------------------------------------------------------------------------

  /*
   * `put` and `delete` are plain functions returning the write path's own promise, not `async`
   * ones awaiting it: an async function is a resumable frame around an implicit try, which V8's
   * optimizing compiler builds for every call inlined into it — the largest job it compiled on
   * a cold process's durable-put path (engine README, "durable puts in a fresh process"). Bad
   * input still rejects, never throws.
   */
  put(key: KeyLike, value: KeyLike, options?: WriteOptions): Promise<void> {
    try {
      // Not copied here: WritePath.write copies the caller's buffers (strings are encoded into new ones).
      const k = lookupKeyArg(key);
      const v = valueArg(value, false);
      const owns = (typeof key === 'string' ? 0 : CallerOwns.first) | (typeof value === 'string' ? 0 : CallerOwns.second);
      return this.writer.write([{ type: 'put', key: k, value: v }], this.syncOf(options), k.length + v.length, owns);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  delete(key: KeyLike, options?: WriteOptions): Promise<void> {
    try {
      const k = lookupKeyArg(key);
      return this.writer.write([{ type: 'del', key: k }], this.syncOf(options), k.length, typeof key === 'string' ? CallerOwns.none : CallerOwns.first);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Alias of `delete`. */
  del(key: KeyLike, options?: WriteOptions): Promise<void> {
    return this.delete(key, options);
  }

  /** Removes every key in [start, end). start > end is INVALID_ARGUMENT; start = end does nothing. */
  async deleteRange(start: KeyLike, end: KeyLike, options?: WriteOptions): Promise<void> {
    const s = lookupKeyArg(start, 'start');
    const e = lookupKeyArg(end, 'end');
    const c = compareKeys(s, e);
    if (c > 0) throw new StrataError('INVALID_ARGUMENT', 'deleteRange: start must not be greater than end');
    const sync = this.syncOf(options);
    if (c === 0) {
      this.core.checkWritable();
      return;
    }
    const owns = (typeof start === 'string' ? 0 : CallerOwns.first) | (typeof end === 'string' ? 0 : CallerOwns.second);
    await this.writer.write([{ type: 'deleteRange', start: s, end: e }], sync, s.length + e.length, owns);
  }

  /** An atomic batch: `db.batch().put(k, v).delete(k).deleteRange(s, e).write({ sync })`. */
  batch(): WriteBatch {
    return new WriteBatch({
      commitBatch: async (record: BatchRecord, userBytes: number, options: WriteOptions | undefined) => {
        await this.writer.writeRecord(record, this.syncOf(options), userBytes);
      },
    });
  }

  private syncOf(options: WriteOptions | undefined): boolean {
    if (options === undefined) return this.core.opts.sync;
    const sync: unknown = optionsObject(options, 'write options', WRITE_OPTION_NAMES).sync;
    if (sync === undefined) return this.core.opts.sync;
    if (typeof sync !== 'boolean') throw new StrataError('INVALID_ARGUMENT', 'option sync must be a boolean');
    return sync;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The value of `key`, or undefined. Reads are synchronous underneath; see `getSync`. */
  get(key: KeyLike, options?: ReadOptions): Promise<Uint8Array | undefined> {
    try {
      return Promise.resolve(this.getSync(key, options));
    } catch (err) {
      return Promise.reject(toStrataError(err, 'get failed'));
    }
  }

  /** Synchronous `get`: memtables and tables (page cache + block cache) are read synchronously. */
  getSync(key: KeyLike, options?: ReadOptions): Uint8Array | undefined {
    const k = lookupKeyArg(key);
    const seq = this.snapshotSeqOf(optionsObject(options, 'read options', READ_OPTION_NAMES).snapshot);
    this.core.checkOpen();
    const c = this.core.counters;
    // Every 4096 gets: idle workers end, and the memtable reserve goes if writes have stopped (core.ts).
    if ((++c.gets & 4095) === 0) this.core.readTick();
    try {
      // A copy (see getFromView): a caller writing into it cannot change what other readers see.
      return getFromView(this.core.readView(), this.core.tables, this.core.filters, k, seq, c, this.core.readAllowances);
    } catch (err) {
      throw this.core.readFailure(err, 'get failed');
    }
  }

  /**
   * The values of many keys (undefined where absent), in the order given, all read at one
   * snapshot. Cheaper than one `get` per key: the keys are sorted and each table is walked once,
   * in key order. Reads are synchronous underneath; see `getManySync`.
   */
  getMany(keys: readonly KeyLike[], options?: ReadOptions): Promise<(Uint8Array | undefined)[]> {
    try {
      return Promise.resolve(this.getManySync(keys, options));
    } catch (err) {
      return Promise.reject(toStrataError(err, 'getMany failed'));
    }
  }

  /** Synchronous `getMany`. */
  getManySync(keys: readonly KeyLike[], options?: ReadOptions): (Uint8Array | undefined)[] {
    if (!Array.isArray(keys)) throw new StrataError('INVALID_ARGUMENT', 'getMany(keys): keys must be an array');
    const ks = new Array<Uint8Array>(keys.length);
    for (let i = 0; i < keys.length; i++) ks[i] = lookupKeyArg(keys[i], `key ${i}`);
    const seq = this.snapshotSeqOf(optionsObject(options, 'read options', READ_OPTION_NAMES).snapshot);
    this.core.checkOpen();
    const c = this.core.counters;
    c.gets += ks.length;
    try {
      return getManyFromView(this.core.readView(), this.core.tables, this.core.filters, ks, seq, c);
    } catch (err) {
      throw this.core.readFailure(err, 'getMany failed');
    }
  }

  private snapshotSeqOf(snapshot: unknown): number {
    if (snapshot === undefined) return this.core.visibleSequence;
    if (!(snapshot instanceof Snapshot)) throw new StrataError('INVALID_ARGUMENT', 'option snapshot must come from db.snapshot()');
    const seq = snapshot.check(this);
    if (this.follower !== undefined && (this.snapshotEpochs.get(snapshot) ?? 0) < this.follower.compactionEpoch) {
      throw new StrataError(
        'INVALID_ARGUMENT',
        "the snapshot was taken before a catchUp() that installed the writer's compaction, which keeps only the versions the writer's snapshots need; take a new snapshot",
      );
    }
    return seq;
  }

  /** Pins the current state: reads given `{ snapshot }` see exactly the writes up to now. */
  snapshot(): Snapshot {
    this.core.checkOpen();
    const s = new Snapshot(this.core.visibleSequence, this.core.snapshots, this);
    if (this.follower !== undefined) this.snapshotEpochs.set(s, this.follower.compactionEpoch);
    return s;
  }

  /**
   * A read-only database: reads what the writer (another process, or another Database in this
   * one) did since the open or the last catch-up — new manifest edits and the WAL's new records —
   * and makes it visible in one step, at a prefix of the writer's sequence: every write it
   * acknowledged before the call, and nothing it never wrote (db/follower.ts; RocksDB's
   * TryCatchUpWithPrimary). Concurrent calls share one catch-up. INVALID_ARGUMENT on a database
   * opened for writing (it is always current).
   */
  async catchUp(): Promise<CatchUpResult> {
    this.core.checkOpen();
    if (this.follower === undefined) {
      throw new StrataError('INVALID_ARGUMENT', 'catchUp() is for a database opened with readOnly: true; one opened for writing is always current');
    }
    try {
      return await this.follower.catchUp();
    } catch (err) {
      throw toStrataError(err, `catching up with the writer of ${this.location} failed; the database still serves the state of the last catch-up`, this.location);
    }
  }

  /**
   * A synchronous cursor over one consistent snapshot (taken now): `next()`, `nextv(n)`,
   * `seek(key)`, `close()`. Close it when done: it keeps the tables it reads alive.
   */
  iterator(options?: IteratorOptions): DbIterator {
    const o = optionsObject(options, 'iterator options', ITERATOR_OPTION_NAMES);
    const bounds = parseBounds(o);
    const reverse = o.reverse ?? false;
    if (typeof reverse !== 'boolean') throw new StrataError('INVALID_ARGUMENT', 'option reverse must be a boolean');
    let limit = o.limit ?? -1;
    if (typeof limit !== 'number' || Number.isNaN(limit) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
      throw new StrataError('INVALID_ARGUMENT', 'option limit must be an integer (negative or Infinity: no limit)');
    }
    if (limit < 0) limit = Number.POSITIVE_INFINITY;
    const explicit = o.snapshot;
    const seq = this.snapshotSeqOf(explicit);
    this.core.checkOpen();
    return openDbIterator(this.core, seq, explicit !== undefined, bounds, reverse, limit);
  }

  /** `for await (const [key, value] of db.iterate({ gte, lt, reverse, limit, snapshot }))`. */
  iterate(options?: IteratorOptions): AsyncIterableIterator<Entry> {
    const it = this.iterator(options); // the snapshot is taken now, not at the first next()
    let buf: Entry[] = [];
    let i = 0;
    // A long scan hands the event loop a turn every few ms, so I/O and timers are not starved
    // by a for-await loop that would otherwise only ever run microtasks.
    let lastYield = performance.now();
    const done = (): IteratorResult<Entry> => {
      it.close();
      return { done: true, value: undefined };
    };
    const self: AsyncIterableIterator<Entry> = {
      next: () => {
        try {
          if (i >= buf.length) {
            if (it.isClosed) return Promise.resolve(done());
            buf = it.nextv(256);
            i = 0;
            if (buf.length === 0) return Promise.resolve(done());
            const now = performance.now();
            if (now - lastYield > 4) {
              lastYield = now;
              const value = buf[i++]!;
              return new Promise((resolve) =>
                setImmediate(() => {
                  resolve(new EntryResult(value));
                }),
              );
            }
          }
          const value = buf[i++]!;
          return Promise.resolve(new EntryResult(value));
        } catch (err) {
          it.close();
          return Promise.reject(toStrataError(err, 'iteration failed'));
        }
      },
      return: () => Promise.resolve(done()),
      [Symbol.asyncIterator]: () => self,
    };
    return self;
  }

  // ---- maintenance -------------------------------------------------------------------------

  /** Writes every memtable to L0 (the active one included). Resolves when they are durable. */
  async flush(): Promise<void> {
    this.core.checkWritable();
    await this.writer.freeze();
    await this.core.waitForFlushes();
  }

  /**
   * Flushes, then compacts the whole key space — or the tables overlapping [start, end]
   * (inclusive) — into the bottom level: without snapshots, exactly one version of each live
   * key remains there and no tombstone.
   */
  async compact(range?: { readonly start?: KeyLike; readonly end?: KeyLike }): Promise<void> {
    const r = optionsObject(range, 'compact range', ['start', 'end']);
    const lo = r.start === undefined ? undefined : keyArg(r.start, 'start');
    const hi = r.end === undefined ? undefined : keyArg(r.end, 'end');
    if (lo !== undefined && hi !== undefined && compareKeys(lo, hi) > 0) throw new StrataError('INVALID_ARGUMENT', 'compact: start must not be greater than end');
    await this.flush();
    await this.core.compactor.compactRange(lo, hi);
    const err = this.core.backgroundError;
    if (err) throw err;
    // The space is given back when compact() resolves: input tables no reader holds are deleted.
    await this.core.versions.settleDeletions();
  }

  /**
   * Re-reads every live file from disk (no caches) and checks every checksum: each block of each
   * table, each record of the manifest and of the live WAL segments, CURRENT and IDENTITY.
   * Resolves with what is damaged (`ok: false` and a list naming each file) rather than throwing;
   * the database keeps serving meanwhile. NOT_OPEN after close. `onProgress` is called after
   * each table with the table bytes checked so far and their total.
   */
  async verify(options?: VerifyOptions): Promise<VerifyReport> {
    const onProgress: unknown = optionsObject(options, 'verify options', ['onProgress']).onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new StrataError('INVALID_ARGUMENT', 'option onProgress must be a function');
    this.core.checkOpen();
    const core = this.core;
    const version = core.versions.pinCurrent();
    try {
      return await verifyFiles({
        fs: core.fs,
        dir: core.dir,
        version,
        manifestFileNumber: core.versions.manifestFileNumber,
        logNumber: () => core.versions.logNumber,
        onProgress: onProgress as VerifyOptions['onProgress'],
      });
    } finally {
      version.unref();
    }
  }

  /**
   * Bytes of table files holding keys in [start, end) — LevelDB's GetApproximateSizes: to
   * data-block granularity, memtables not counted, compressed bytes as on disk. start ≥ end: 0.
   */
  approximateSize(start: KeyLike, end: KeyLike): Promise<number> {
    try {
      return Promise.resolve(this.approximateSizeSync(start, end));
    } catch (err) {
      return Promise.reject(toStrataError(err, 'approximateSize failed'));
    }
  }

  /** Synchronous `approximateSize` (it reads table indexes, which the table cache keeps in memory). */
  approximateSizeSync(start: KeyLike, end: KeyLike): number {
    const s = keyArg(start, 'start');
    const e = keyArg(end, 'end');
    this.core.checkOpen();
    const version = this.core.versions.pinCurrent();
    try {
      return approximateSize(version, (n) => this.core.tables.get(n), s, e);
    } finally {
      version.unref();
    }
  }

  /**
   * A property of the database as a string (undefined for an unknown name): LevelDB's
   * `leveldb.num-files-at-level<N>`, `leveldb.stats`, `leveldb.sstables`,
   * `leveldb.approximate-memory-usage`, and Strata's `strata.*` (see properties.ts).
   */
  getProperty(name: string): string | undefined {
    if (typeof name !== 'string') throw new StrataError('INVALID_ARGUMENT', 'getProperty(name): name must be a string');
    this.core.checkOpen();
    return getProperty(this.core, name, () => this.stats());
  }

  /**
   * Writes an openable, consistent copy of the database to the new directory `dir` while it
   * keeps serving: tables hard-linked (copied across file systems), a fresh manifest, IDENTITY
   * and the live WAL segments copied. It opens at the state after some write at or after the
   * last one acknowledged before the call (db/checkpoint.ts). EXISTS if `dir` exists.
   */
  async checkpoint(dir: string): Promise<CheckpointReport> {
    if (typeof dir !== 'string' || dir.length === 0) throw new StrataError('INVALID_ARGUMENT', 'checkpoint(dir): dir must be a non-empty string');
    this.core.checkOpen();
    return createCheckpoint(this.core, dir);
  }

  stats(): DatabaseStats {
    this.core.checkOpen();
    return collectStats(this.core, this.writer.memory);
  }

  /**
   * Waits for background work (a flush or compaction in progress), closes open iterators,
   * syncs and closes the WAL and releases the lock. Later calls get NOT_OPEN. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (!this.core.beginClose()) return;
    await this.follower?.stop();
    this.writer.abort(new StrataError('NOT_OPEN', 'the database was closed before this write could be logged; nothing of it was written'));
    await this.core.close();
  }
}

function parseBounds(o: Partial<IteratorOptions>): Bounds {
  const b = (v: KeyLike | undefined, name: string): Uint8Array | undefined => (v === undefined ? undefined : keyArg(v, name));
  const gt = b(o.gt, 'gt');
  const gte = b(o.gte, 'gte');
  const lt = b(o.lt, 'lt');
  const lte = b(o.lte, 'lte');
  if (gt !== undefined && gte !== undefined) throw new StrataError('INVALID_ARGUMENT', 'give at most one of gt and gte');
  if (lt !== undefined && lte !== undefined) throw new StrataError('INVALID_ARGUMENT', 'give at most one of lt and lte');
  return {
    lower: gte ?? gt,
    lowerInclusive: gte !== undefined,
    upper: lte ?? lt,
    upperInclusive: lte !== undefined,
  };
}

/**
 * `iterate()`'s result for an entry, made by a constructor and not an object literal, for the
 * reason its entries are (entryOf in read/db-iterator.ts): V8 may allocate every later object of
 * a literal in the old generation once a GC finds ≥ 85% of those it made since the last GC alive,
 * and a mark-compact that ends incremental marking counts as alive what was stored into a live
 * object while it marked (a result is, in the consumer's suspended `for await`). Born old, each
 * result would keep its young entry alive through scavenges until the next mark-compact.
 */
class EntryResult implements IteratorYieldResult<Entry> {
  readonly done = false;
  readonly value: Entry;

  constructor(value: Entry) {
    this.value = value;
  }
}
