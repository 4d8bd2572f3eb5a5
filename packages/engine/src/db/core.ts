/**
 * DbCore: the state shared by the write path, flush, reads, compaction and the public
 * Database object — and the one place that schedules background work.
 *
 * Memtables: `active` takes writes; when it reaches memtableSize it is frozen and pushed on
 * `frozen` (newest first) together with the number of the WAL segment that starts right after
 * it (its data lives only in older segments), and the WAL rotates. Flush takes the OLDEST
 * frozen memtable, writes it to an L0 table, and records `logNumber = that segment` so the
 * older segments can be deleted. Flushes run one at a time, in order.
 *
 * Background work (flush, compaction) is tracked so that close() can wait for it. A failure in
 * it — or in any WAL/manifest fsync — sets `bgError`: writes are refused with READ_ONLY from
 * then on, reads go on, and reopening recovers from what is durable.
 */
import { Memtable, type FrozenMemtable } from '@strata-db/memtable';
import type { WalWriter } from '@strata-db/wal';
import { StrataError, toStrataError } from '../errors.js';
import type { FileSystem } from '../file-system.js';
import type { ResolvedOptions } from '../options.js';
import type { ReadView } from '../read/read-view.js';
import { SnapshotList } from '../snapshots.js';
import { newCounters, type Counters } from '../stats.js';
import type { TableCache } from '../version/table-cache.js';
import type { VersionSet } from '../version/version-set.js';
import { flushMemtable } from '../flush/flush.js';
import type { CompactionStats } from '../compaction/compaction-stats.js';

export interface FrozenEntry {
  readonly mem: FrozenMemtable;
  /** First WAL segment NOT holding this memtable's data: the logNumber once it is flushed. */
  readonly nextLogNumber: number;
  /** Settles when the WAL has switched to segment nextLogNumber (a failure sets bgError). */
  readonly rotated: Promise<void>;
}

/**
 * What the compaction module plugs in (src/compaction/**). `maybeSchedule` is called after
 * every flush and compaction and at open; it starts background work through
 * `core.runBackground` if the version needs it. `compactAll` serves `db.compact()`.
 */
export interface Compactor {
  maybeSchedule(): void;
  compactAll(): Promise<void>;
  /** Compacts the tables overlapping [lo, hi] (inclusive; absent = unbounded) into the bottom level. */
  compactRange?(lo: Uint8Array | undefined, hi: Uint8Array | undefined): Promise<void>;
  /** Estimated bytes compaction must still rewrite (write stalls use it). */
  pendingCompactionBytes?(): number;
  stats?(): CompactionStats;
  /** Called by close() after background work drained. */
  close?(): void;
}

export type StallState = 'none' | 'slowdown' | 'stop';

export class DbCore {
  active: Memtable = new Memtable();
  frozen: FrozenEntry[] = [];
  wal!: WalWriter;
  /** Segment the next append goes to (rotations are queued in the WAL in call order). */
  walSegment = 0;
  /** Highest sequence number visible to new reads (its WAL write completed). */
  visibleSequence = 0;
  readonly snapshots = new SnapshotList();
  readonly counters: Counters = newCounters();
  bgError: StrataError | undefined;
  state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  compactor: Compactor | undefined;

  private view: ReadView | undefined;
  /** Background tasks in flight (flush loop, compactions). */
  private readonly tasks = new Set<Promise<void>>();
  private flushing = false;
  /** Called when background work made progress (stalled writers re-check). */
  private readonly progressListeners: (() => void)[] = [];
  /** Resolvers of `flush()` callers, fired when the flush loop has emptied `frozen`. */
  private flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    readonly dir: string,
    readonly opts: ResolvedOptions,
    readonly versions: VersionSet,
    readonly tables: TableCache,
  ) {}

  get fs(): FileSystem {
    return this.opts.fs;
  }

  /** Highest sequence number assigned. */
  get lastSequence(): number {
    return this.versions.lastSequence;
  }

  /**
   * The sources of a read, as of now. Cached: point reads must not allocate. The cache is
   * dropped when the memtables change (rotateMemtable, retireFrozen) and rebuilt when the
   * current Version changed (flush, compaction).
   */
  readView(): ReadView {
    const v = this.view;
    if (v !== undefined && v.version === this.versions.current) return v;
    return (this.view = { active: this.active, frozen: this.frozen.map((f) => f.mem), version: this.versions.current });
  }

  /** Called by flush in the same synchronous step as the install of its Version. */
  retireFrozen(entry: FrozenEntry): void {
    const i = this.frozen.indexOf(entry);
    if (i >= 0) this.frozen.splice(i, 1);
    this.view = undefined;
  }

  checkOpen(): void {
    if (this.state !== 'open') throw new StrataError('NOT_OPEN', 'the database is not open (closed, or not yet opened); open it with Database.open()');
  }

  checkWritable(): void {
    this.checkOpen();
    if (this.bgError) {
      throw new StrataError('READ_ONLY', `the database refuses writes after an earlier failure (${this.bgError.message}); reads still work — close and reopen it to recover`, {
        cause: this.bgError,
        file: this.bgError.file,
      });
    }
  }

  /** Records the first background/fsync failure; the database turns read-only. */
  setBackgroundError(err: unknown, what: string): StrataError {
    const e = toStrataError(err, what);
    this.bgError ??= e;
    this.notifyProgress();
    return e;
  }

  stallState(): StallState {
    const l0 = this.versions.current.files(0).length;
    if (this.frozen.length >= this.opts.maxFrozenMemtables || l0 >= this.opts.l0StopWritesTrigger) return 'stop';
    // A compaction backlog below L0 (RocksDB's pending compaction bytes) stalls writes too.
    const pending = this.compactor?.pendingCompactionBytes?.() ?? 0;
    if (pending >= this.opts.hardPendingCompactionBytesLimit) return 'stop';
    if (l0 >= this.opts.l0SlowdownWritesTrigger || pending >= this.opts.softPendingCompactionBytesLimit) return 'slowdown';
    return 'none';
  }

  onProgress(fn: () => void): void {
    this.progressListeners.push(fn);
  }

  notifyProgress(): void {
    for (const fn of this.progressListeners) fn();
  }

  /** Freezes the active memtable, rotates the WAL and schedules its flush. */
  rotateMemtable(): void {
    if (this.active.entryCount === 0 && this.active.rangeTombstoneCount === 0) return;
    const mem = this.active.freeze();
    this.active = new Memtable();
    this.view = undefined;
    const expected = ++this.walSegment;
    const rotated = this.wal.rotate().then(
      (n) => {
        if (n !== expected) this.setBackgroundError(new Error(`WAL rotated to segment ${n}, expected ${expected}`), 'internal error');
      },
      (err: unknown) => {
        this.setBackgroundError(err, 'rotating the WAL failed');
      },
    );
    this.frozen.unshift({ mem, nextLogNumber: expected, rotated });
    this.scheduleFlush();
  }

  /** Runs `work` in the background, tracked for close(); a failure sets bgError. */
  runBackground(what: string, work: () => Promise<void>): Promise<void> {
    const p = (async () => {
      try {
        await work();
      } catch (err) {
        this.setBackgroundError(err, `${what} failed`);
      }
    })();
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
    return p;
  }

  /** The flush loop: one at a time, oldest frozen memtable first. */
  scheduleFlush(): void {
    if (this.flushing || this.frozen.length === 0) {
      if (this.frozen.length === 0) this.resolveFlushWaiters();
      return;
    }
    this.flushing = true;
    void this.runBackground('flush', async () => {
      try {
        while (this.frozen.length > 0 && this.bgError === undefined && this.state !== 'closed') {
          const entry = this.frozen[this.frozen.length - 1]!;
          await flushMemtable(this, entry);
          this.notifyProgress();
          this.maybeScheduleCompaction();
        }
      } finally {
        this.flushing = false;
        if (this.bgError !== undefined) this.rejectFlushWaiters(this.bgError);
        else if (this.frozen.length > 0) this.scheduleFlush();
        else this.resolveFlushWaiters();
      }
    });
  }

  /** Resolves once every memtable frozen so far is in a table. */
  waitForFlushes(): Promise<void> {
    if (this.frozen.length === 0) return Promise.resolve();
    if (this.bgError) return Promise.reject(this.bgError);
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  private resolveFlushWaiters(): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const x of w) x.resolve();
  }

  private rejectFlushWaiters(err: unknown): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const x of w) x.reject(err);
  }

  /**
   * The single call point for compaction scheduling: after every flush, after every
   * compaction, and at open. Delegates to the compaction module when one is plugged in.
   */
  maybeScheduleCompaction(): void {
    if (this.state === 'closed' || this.state === 'closing' || this.bgError !== undefined) return;
    this.compactor?.maybeSchedule();
  }

  /** Waits until no background task is running (new ones may start while waiting). */
  async drainBackground(): Promise<void> {
    while (this.tasks.size > 0) {
      await Promise.allSettled([...this.tasks]);
    }
  }
}
