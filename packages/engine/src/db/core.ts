/**
 * DbCore: the state shared by the write path, flush, reads, compaction and the public
 * Database object — and the one place that schedules background work.
 *
 * Its state is private; the other modules change it through the named operations below, and
 * each field says who may call what touches it (in the manner of LevelDB's DBImpl, where each
 * member says what protects it). JavaScript runs one task at a time, so "protected" here means
 * "changed only by these callers, each change complete within one synchronous step".
 *
 * Memtables: `active` takes writes; when it reaches its freeze size (memtableSize, doubled up
 * to maxMemtableSize while L1 is big: write/freeze-size.ts) it is frozen and pushed on
 * `frozen` (newest first) together with the number of the WAL segment that starts right after
 * it (its data lives only in older segments), and the WAL rotates. Flush (flush/flush-loop.ts)
 * takes the OLDEST frozen memtable (or the oldest minMemtablesToMerge, merged into one table),
 * writes it to an L0 table, and records `logNumber = that segment` (the newest one's) so the
 * older segments can be deleted. Flushes run one at a time, in order.
 *
 * Background work (flush, compaction) is tracked so that close() can wait for it. A failure in
 * it — or in any WAL/manifest fsync — sets the background error: writes are refused with
 * READ_ONLY from then on, reads go on, and reopening recovers from what is durable.
 *
 * The flush loop and the compactor are plugged in at construction (open.ts passes their
 * factories): they depend on the core, the core only on their interfaces — no import cycle.
 */
import { StrataAssertionError, invariant } from '@strata-db/errors';
import { Memtable, MemtableMemory, type FrozenMemtable, type MemtableReader, type MemtableSize } from '@strata-db/memtable';
import type { WalWriter } from '@strata-db/wal';
import type { CompactionStats } from '../compaction/compaction-stats.js';
import { sortedRunCount } from '../compaction/universal-picker.js';
import { newCounters, type Counters } from '../counters.js';
import { FilterSkipping } from '../read/filter-skipping.js';
import { StrataError, toStrataError } from '../errors.js';
import { EventBus } from '../events.js';
import type { FileSystem } from '@strata-db/vfs';
import type { ResolvedOptions } from '../options.js';
import { EmptyRanges } from '../read/empty-ranges.js';
import { OpenIterators } from '../read/open-iterators.js';
import type { ReadView } from '../read/read-view.js';
import { SnapshotList } from '../snapshots.js';
import { flushMergeBytes, freezeSize } from '../write/freeze-size.js';
import type { TableCache } from '../version/table-cache.js';
import { ReadAllowances } from '../version/read-allowances.js';
import { TableWarmer } from '../version/table-warmer.js';
import type { VersionSet } from '../version/version-set.js';
import type { DirectoryLock } from './lock.js';
import type { BackgroundExecutor } from '../background/executor.js';

export interface FrozenEntry {
  readonly mem: FrozenMemtable;
  /** First WAL segment NOT holding this memtable's data: the logNumber once it is flushed. */
  readonly nextLogNumber: number;
  /** Settles when the WAL has switched to segment nextLogNumber (a failure sets the background error). */
  readonly rotated: Promise<void>;
}

/**
 * What the compaction module plugs in (compaction/scheduler.ts). `maybeSchedule` is called
 * after every flush and compaction and at open; it starts background work through
 * `core.runBackground` if the version needs it.
 */
export interface Compactor {
  maybeSchedule(): void;
  /** Compacts the tables overlapping [lo, hi] (inclusive; absent = unbounded) into the bottom level. */
  compactRange(lo: Uint8Array | undefined, hi: Uint8Array | undefined): Promise<void>;
  /** Estimated bytes compaction must still rewrite (write stalls use it). */
  pendingCompactionBytes(): number;
  stats(): CompactionStats;
  /** Called by close() after background work drained. */
  close(): void;
}

/** What the flush module plugs in (flush/flush-loop.ts). */
export interface Flusher {
  /** Starts flushing the frozen memtables, oldest first, unless a flush is already running. */
  schedule(): void;
  /** Resolves once every memtable frozen so far is in a table; rejects with the background error. */
  waitForFlushes(): Promise<void>;
  /** A flush is running. */
  readonly running: boolean;
}

export type StallState = 'none' | 'slowdown' | 'stop';

export type CoreState = 'opening' | 'open' | 'closing' | 'closed';

/** Everything open.ts recovered or created, handed to the core once. */
export interface CoreParts {
  readonly dir: string;
  readonly opts: ResolvedOptions;
  readonly versions: VersionSet;
  readonly tables: TableCache;
  /** Undefined for a read-only open (open-read-only.ts), which takes no lock. */
  readonly lock: DirectoryLock | undefined;
  /** Opened at segment `walSegment`. Undefined for a read-only open: writes are refused. */
  readonly wal: WalWriter | undefined;
  /** A read-only open's memtable, replayed from the WAL (default: a new, empty one). */
  readonly active?: Memtable;
  readonly walSegment: number;
  /** The last sequence number recovered: everything up to it is visible. */
  readonly lastSequence: number;
  readonly newFlusher: (core: DbCore) => Flusher;
  readonly newCompactor: (core: DbCore) => Compactor;
  /** Created before recovery, so that what recovery does is reported too. */
  readonly events: EventBus;
  /** Where flush and compaction jobs run (this thread or worker threads); closed by close(). */
  readonly executor: BackgroundExecutor;
  /**
   * A read-only open's explanation of a read that failed for a reason of its own (a table the
   * writer deleted: follower.ts), or undefined to report the failure as it is.
   */
  readonly explainReadFailure?: (err: unknown) => StrataError | undefined;
}

export class DbCore {
  readonly dir: string;
  readonly opts: ResolvedOptions;
  /**
   * The Versions (the tables of each level) and the manifest. Its own class guards its state;
   * `lastSequence` there is advanced only through `assignSequences` (the write path) and by
   * recovery (open.ts, before the core exists).
   */
  readonly versions: VersionSet;
  readonly tables: TableCache;
  /** Live snapshots: the read path and Snapshot objects add and remove; compaction reads. */
  readonly snapshots = new SnapshotList();
  /** Key ranges known to hold nothing visible: the write path reports Puts, forward iterators read and record. */
  readonly emptyRanges: EmptyRanges | undefined;
  /** Open iterators: added by read/db-iterator-builder.ts; closed by close(). */
  readonly iterators = new OpenIterators();
  /** Background events and survived failures go here (events.ts); any module may emit. */
  readonly events: EventBus;
  /** See CoreParts.explainReadFailure; used only through `readFailure`. */
  private readonly explainReadFailure: ((err: unknown) => StrataError | undefined) | undefined;
  /** Each counter group has one writer, named in counters.ts. */
  readonly counters: Counters = newCounters();
  /** Plugged in at construction, never replaced. */
  readonly compactor: Compactor;
  /** Runs the table-writing half of flushes and compactions; ended by close(). */
  readonly executor: BackgroundExecutor;
  private readonly flusher: Flusher;
  /** Held from open to the end of close(); released by close() only. None when read-only. */
  private readonly lock: DirectoryLock | undefined;

  /** Appended to by the write path; segments deleted by flush; closed by close(). None when read-only. */
  private readonly log: WalWriter | undefined;
  /**
   * The memory of released memtables, which `freezeMemtable` builds the next active one on:
   * a fill allocates no memtable memory once the first flush is done. Given by `release`
   * (retireFrozen, and the unpin of the last iterator over a retired memtable). It keeps up to
   * 1 + maxFrozenMemtables released memtables: flushes can finish back to back between two
   * freezes (writes stopped for L0), and a memtable dropped then is fresh memory later.
   */
  private readonly memtableMemory: MemtableMemory;
  /** How large the last memtable frozen grew (`shedIdleActive` sizes a replacement like it). */
  private lastFrozenSize: MemtableSize | undefined;
  /** `lastSequence` at the read path's previous `readTick` (-1: none yet). */
  private lastSequenceAtReadTick = -1;
  /**
   * Invariant: exactly one writable memtable, this one. Only the write path writes into it
   * (through `activeMemtable`, taken anew at every apply); it is replaced by `freezeMemtable`,
   * by `shedIdleActive` (only while it is empty) and by a follower's `installFollowed`.
   */
  private active: Memtable;
  /**
   * The active memtable's freeze size (write/freeze-size.ts): memtableSize, or a power-of-two
   * multiple of it up to maxMemtableSize once L1 is big. Chosen when a memtable becomes the active
   * one (here and in freezeMemtable), so the write path compares against a number.
   */
  private freezeAt: number;
  /**
   * Newest first. Invariant: a frozen memtable is immutable and stays readable, in this list,
   * until the Version holding its table is installed — `retireFrozen` (flush) removes it in that
   * same synchronous step. Pushed only by `freezeMemtable`.
   */
  private readonly frozen: FrozenEntry[] = [];
  /**
   * Memtables retired by flush while pinned by iterators (`pinMemtables`): their memory is
   * released when the last such iterator closes. Added to and pruned of released ones only by
   * retireFrozen (an unpin holds the active memtable's `Memtable`, this set its `FrozenMemtable`).
   */
  private readonly retiredPinned = new Set<MemtableReader>();
  /** Segment the next append goes to (rotations are queued in the WAL in call order). Advanced only by `freezeMemtable`. */
  private segment: number;
  /** The first background/fsync failure; set once by `setBackgroundError`, never cleared. */
  private bgError: StrataError | undefined;
  /** opening → open (`markOpen`, open.ts) → closing (`beginClose`) → closed (`close`). */
  private lifecycle: CoreState = 'opening';
  /** Cache of `readView()`: dropped by the memtable operations, rebuilt when the Version changed. */
  private view: ReadView | undefined;
  /** Background tasks in flight (flush loop, compactions): `runBackground` adds, close() waits. */
  private readonly tasks = new Set<Promise<void>>();
  /**
   * Read-triggered compaction's allowances per table (version/read-allowances.ts), charged by
   * `get`; none when read-only (nothing compacts) or readCompactionBytesPerSeek is 0.
   */
  readonly readAllowances: ReadAllowances | undefined;
  /**
   * Per level, whether point reads probe the tables' bloom filters (read/filter-skipping.ts,
   * skipUnhelpfulFilters): written by read/get.ts only, read by stats().
   */
  readonly filters: FilterSkipping;
  /** Called when background work made progress (stalled writers re-check). Registered once by the write path. */
  private readonly progressListeners: (() => void)[] = [];
  /**
   * Idle warming of the tables (warmTables, version/table-warmer.ts): woken by `markOpen`,
   * `maybeScheduleCompaction` (after each flush and compaction) and `installFollowed`; stopped by
   * `beginClose` (and `close`, for a database closed before it opened).
   */
  readonly warmer: TableWarmer;

  constructor(parts: CoreParts) {
    this.dir = parts.dir;
    this.opts = parts.opts;
    this.events = parts.events;
    this.versions = parts.versions;
    this.tables = parts.tables;
    this.lock = parts.lock;
    this.log = parts.wal;
    this.memtableMemory = new MemtableMemory(1 + parts.opts.maxFrozenMemtables);
    this.active = parts.active ?? new Memtable({ memory: this.memtableMemory });
    this.freezeAt = this.nextFreezeSize(parts.opts.memtableSize);
    this.segment = parts.walSegment;
    this.versions.visibleSequence = parts.lastSequence;
    this.executor = parts.executor;
    // Background work idle for backgroundThreadIdleMs (no flush, no compaction): writes have
    // stopped or slowed, and the released memtables' memory kept for the next memtables
    // (freeze size × (1 + maxFrozenMemtables) and slack: 14 MB by default while L1 is small, up to
    // maxMemtableSize × (1 + maxFrozenMemtables), 50 MB, once it is big) would stay through whatever
    // the process does next: the scale bench's reads after its fill held it throughout.
    this.executor.onAllIdle(() => {
      this.memtableMemory.clear();
    });
    this.explainReadFailure = parts.explainReadFailure;
    // None when read-only: a follower applies the writer's records behind the write path's back,
    // at sequence numbers the manifest may have announced before (read/empty-ranges.ts). Given the
    // visible sequence as its "last applied": numbers handed to a group still in the WAL are not
    // published yet (a pipelined group is in the memtable already, noted by noteWrite:
    // write/write-path.ts), and must not look like writes it never saw.
    this.emptyRanges = parts.wal === undefined ? undefined : new EmptyRanges(parts.lastSequence, () => this.versions.visibleSequence);
    // Scheduled from a microtask: the get that ran a table's allowance out returns first (a pick
    // and a job's start do not belong inside a read).
    const o = parts.opts;
    this.filters = new FilterSkipping(o.numLevels, o.skipUnhelpfulFilters ? 'adaptive' : 'always');
    this.readAllowances =
      // Universal compaction never compacts a table alone (universal-picker.ts): no allowances.
      parts.wal === undefined || o.readCompactionBytesPerSeek === 0 || o.compactionStyle === 'universal'
        ? undefined
        : new ReadAllowances(o.readCompactionBytesPerSeek, o.readCompactionMinSeeks, () => {
            queueMicrotask(() => {
              this.maybeScheduleCompaction();
            });
          });
    this.warmer = new TableWarmer(this, this.versions, this.tables, this.events, parts.opts.warmTables);
    // Last: the plug-ins may read the fields above.
    this.flusher = parts.newFlusher(this);
    this.compactor = parts.newCompactor(this);
  }

  get fs(): FileSystem {
    return this.opts.fs;
  }

  /**
   * The error a caller sees for a read (get, getMany, an iterator's step or seek) that failed:
   * every read path asks here, so the same failure reads the same whichever path met it.
   */
  readFailure(err: unknown, what: string): StrataError {
    return this.explainReadFailure?.(err) ?? toStrataError(err, what);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  get state(): CoreState {
    return this.lifecycle;
  }

  /** open.ts, once recovery is complete. */
  markOpen(): void {
    this.lifecycle = 'open';
    this.warmer.wake();
  }

  checkOpen(): void {
    if (this.lifecycle !== 'open') throw new StrataError('NOT_OPEN', 'the database is not open (closed, or not yet opened); open it with Database.open()');
  }

  /** Opened with readOnly: no lock, no WAL writer, no background work; writes are refused. */
  get readOnly(): boolean {
    return this.log === undefined;
  }

  checkWritable(): void {
    this.checkOpen();
    if (this.log === undefined) {
      throw new StrataError('READ_ONLY', `the database at ${this.dir} was opened read-only; open it without readOnly to write, flush or compact`);
    }
    if (this.bgError) {
      throw new StrataError('READ_ONLY', `the database refuses writes after an earlier failure (${this.bgError.message}); reads still work — close and reopen it to recover`, {
        cause: this.bgError,
        file: this.bgError.file,
      });
    }
  }

  /**
   * The first step of closing: from now on NOT_OPEN for new calls, and background work stops
   * starting. False if the database is not open (closing twice, or never opened).
   */
  beginClose(): boolean {
    if (this.lifecycle !== 'open') return false;
    this.lifecycle = 'closing';
    this.warmer.stop();
    // A frozen memtable waiting for a second to merge with (minMemtablesToMerge) is flushed now,
    // as it would have been without merging: close() waits for it.
    if (this.log !== undefined && this.bgError === undefined) this.flusher.schedule();
    return true;
  }

  /**
   * After `beginClose`: waits for background work, closes open iterators, syncs and closes the
   * WAL, releases the lock. Throws the first failure (after doing all of it).
   */
  async close(): Promise<void> {
    this.warmer.stop();
    let firstError: unknown;
    try {
      await this.drainBackground();
      await this.versions.drain();
    } catch (err) {
      firstError ??= err;
    }
    this.compactor.close();
    // No job runs any more (drained above): end the worker threads.
    await this.executor.close();
    this.iterators.closeAll();
    try {
      await this.log?.close();
    } catch (err) {
      // A WAL that failed earlier rejects close with READ_ONLY: the failure was reported then.
      if (this.bgError === undefined) firstError ??= err;
    }
    this.versions.close();
    this.tables.close();
    // Obsolete tables being deleted in the background are gone before the LOCK is released.
    await this.versions.settleDeletions();
    this.lock?.release();
    this.lifecycle = 'closed';
    if (firstError !== undefined) throw toStrataError(firstError, 'closing the database failed');
  }

  // ---- background error ----------------------------------------------------------------------

  get backgroundError(): StrataError | undefined {
    return this.bgError;
  }

  /** Records the first background/fsync failure; the database turns read-only. */
  setBackgroundError(err: unknown, what: string): StrataError {
    const e = toStrataError(err, what);
    if (this.bgError === undefined) {
      this.bgError = e;
      this.events.emit({ type: 'background-error', operation: what, error: e });
    }
    this.notifyProgress();
    return e;
  }

  // ---- sequence numbers and the WAL ---------------------------------------------------------

  /** Highest sequence number assigned. */
  get lastSequence(): number {
    return this.versions.lastSequence;
  }

  /** The write path: takes `n` sequence numbers and returns the first. */
  assignSequences(n: number): number {
    const first = this.versions.lastSequence + 1;
    this.versions.lastSequence = first + n - 1;
    return first;
  }

  /** Highest sequence number visible to new reads (VersionSet.visibleSequence: also what edits record). */
  get visibleSequence(): number {
    return this.versions.visibleSequence;
  }

  /**
   * The write path, once the WAL write (and fdatasync) of the group ending at `last` completed and
   * the group is in the memtable. The only way past a group (a pipelined one is in the memtable
   * before its WAL write completed: write/write-path.ts).
   */
  publishSequence(last: number): void {
    if (last > this.versions.visibleSequence) this.versions.visibleSequence = last;
  }

  /** The WAL writer; only after `checkWritable` (a read-only database has none). */
  get wal(): WalWriter {
    if (this.log === undefined) throw new StrataError('READ_ONLY', `the database at ${this.dir} was opened read-only; it has no WAL writer`);
    return this.log;
  }

  /** Bytes appended to the WAL since open (0 when read-only). */
  get walBytesWritten(): number {
    return this.log?.bytesWritten ?? 0;
  }

  /** Bytes of the WAL writer's buffers (0 when read-only). */
  get walBufferBytes(): number {
    return this.log?.bufferBytes ?? 0;
  }

  /** Segment the next append goes to. */
  get walSegment(): number {
    return this.segment;
  }

  // ---- memtables -----------------------------------------------------------------------------

  /** The writable memtable. Only the write path writes into it. */
  get activeMemtable(): Memtable {
    return this.active;
  }

  get frozenCount(): number {
    return this.frozen.length;
  }

  /** The `n` oldest frozen memtables (fewer if fewer wait), oldest first: the next flush's (the flush loop). */
  oldestFrozen(n: number): FrozenEntry[] {
    const f = this.frozen;
    const out: FrozenEntry[] = [];
    for (let i = f.length - 1; i >= 0 && out.length < n; i--) out.push(f[i]!);
    return out;
  }

  /** Bytes held by frozen memtables (stats). */
  frozenBytes(): number {
    let n = 0;
    for (const f of this.frozen) n += f.mem.approximateBytes();
    return n;
  }

  /**
   * Freezes the active memtable, rotates the WAL and schedules its flush. Only the write path
   * calls it (when the memtable is full; `WritePath.freeze` for `db.flush()`), and only between
   * two groups — no batch is in the WAL queue unpublished — so the segments before the rotation
   * hold exactly the records of this memtable and of older ones, and it holds only published
   * versions (never after a WAL failure: the write path refuses, see write/write-path.ts). Nothing to do for an empty memtable.
   */
  freezeMemtable(): void {
    if (this.active.entryCount === 0 && this.active.rangeTombstoneCount === 0) return;
    const mem = this.active.freeze();
    this.lastFrozenSize = mem.size();
    // On the last released memtable's memory if there is one, else sized like this one.
    this.active = new Memtable({ memory: this.memtableMemory, like: this.lastFrozenSize });
    this.freezeAt = this.nextFreezeSize(this.freezeAt);
    this.view = undefined;
    const expected = ++this.segment;
    const rotated = this.wal.rotate().then(
      (n) => {
        if (n !== expected) this.setBackgroundError(new StrataAssertionError(`WAL rotated to segment ${n}, expected ${expected}`), 'internal error');
        else this.events.emit({ type: 'wal-created', segment: n });
      },
      (err: unknown) => {
        this.setBackgroundError(err, 'rotating the WAL failed');
      },
    );
    this.frozen.unshift({ mem, nextLogNumber: expected, rotated });
    this.flusher.schedule();
  }

  /** Bytes at which the active memtable is frozen (the write path's test; stats). */
  get freezeSize(): number {
    return this.freezeAt;
  }

  /** The freeze size for the memtable becoming the active one, from the bytes a flush merges into now (L1, or the tree for universal) and `current` (its hysteresis). */
  private nextFreezeSize(current: number): number {
    const o = this.opts;
    return freezeSize(o.memtableSize, o.maxMemtableSize, o.l0SlowdownWritesTrigger, flushMergeBytes(this.versions.current, o.compactionStyle), current);
  }

  /**
   * A follower's catch-up (db/follower.ts), in the same synchronous step as its
   * VersionSet.installFollowed: the memtables replayed from the WAL segments the current Version
   * does not cover (`frozen` newest first) and the sequence number up to which all is readable.
   */
  installFollowed(active: Memtable, frozen: readonly FrozenMemtable[], visible: number, segment: number): void {
    invariant(this.log === undefined, 'only a read-only database follows a writer');
    this.active = active;
    this.frozen.splice(0, this.frozen.length, ...frozen.map((mem) => ({ mem, nextLogNumber: segment, rotated: Promise.resolve() })));
    this.segment = segment;
    if (visible > this.versions.lastSequence) this.versions.lastSequence = visible;
    if (visible > this.versions.visibleSequence) this.versions.visibleSequence = visible;
    this.view = undefined;
    this.warmer.wake();
  }

  /**
   * Flush, in the same synchronous step as the install of the Version holding `entry`'s table.
   * Drops the core's reference to the memtable: its memory goes to the next memtable now, or
   * when the last iterator pinning it closes. Relied on: the flush that read it (in this thread
   * or a worker) has finished — this runs only after the executor's flush settled successfully,
   * and a worker answers only once its table is written — and no read besides iterators
   * outlives the synchronous step it started in (gets copy what they return).
   */
  retireFrozen(entry: FrozenEntry): void {
    const i = this.frozen.indexOf(entry);
    if (i >= 0) this.frozen.splice(i, 1);
    this.view = undefined;
    for (const m of this.retiredPinned) if (m.released) this.retiredPinned.delete(m);
    if (!entry.mem.release()) this.retiredPinned.add(entry.mem);
  }

  /**
   * Pins the memtables of `view` for a reader that outlives this synchronous step (an iterator);
   * the returned function unpins them, once. A retired memtable whose last pin goes is released.
   */
  pinMemtables(view: ReadView): () => void {
    const mems: MemtableReader[] = [view.active, ...view.frozen];
    for (const m of mems) m.retain();
    let pinned = true;
    return () => {
      if (!pinned) return;
      pinned = false;
      for (const m of mems) m.release();
    };
  }

  /** Retired memtables still pinned by iterators: how many, and their bytes (stats). */
  pinnedMemtables(): { readonly count: number; readonly bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const m of this.retiredPinned) {
      if (m.released) continue;
      count++;
      bytes += m.approximateBytes();
    }
    return { count, bytes };
  }

  /**
   * Called by the read path every few thousand gets (Database.getSync). Ends the workers idle
   * past `backgroundThreadIdleMs` (their timers may never run under a loop of awaited gets:
   * worker-executor.ts), and drops the memtable reserve when no write took a sequence number
   * since the previous call: reads are running and writes have stopped, so the reserve (up to
   * freeze size × (1 + maxFrozenMemtables) and slack: 14 MB by default, up to ~50 MB once L1 is
   * big and memtables grew: write/freeze-size.ts) would be kept for a
   * memtable that is not coming. Before, only the worker's idle end dropped it — 2 s after the
   * last flush or compaction, and only once the read path noticed — so the scale bench's gets
   * after its fill held it through their peak. Nothing is added to the write path: the sequence
   * number is what a write advances anyway. Writes that resume allocate a memtable afresh once.
   */
  readTick(): void {
    this.executor.endIdleWorkers();
    const seq = this.versions.lastSequence;
    if (seq === this.lastSequenceAtReadTick) {
      if (this.memtableMemory.bytes > 0) this.memtableMemory.clear();
      this.shedIdleActive();
    }
    this.lastSequenceAtReadTick = seq;
  }

  /**
   * Writes have stopped (`readTick`): an empty active memtable that `freezeMemtable` started on a
   * released one's buffers holds all of them — its arrays zeroed (so written, resident) and the
   * released arena's chunks as spares — for writes that may not come: ~9 MB after the scale
   * bench's 10M fill (1.5 MB of nodes, 1 MB of key index, 0.9 MB of others, 6 MB of arena
   * chunks), which no figure counted (`approximateBytes` counts what a memtable uses, and the
   * reserve had handed them over). It is replaced by an empty memtable sized like the last one
   * frozen: its arrays allocated but not written, no arena chunk until the first write. Only an
   * empty one: no reader can miss an entry, and the write path takes `activeMemtable` anew at
   * every apply (write-path.ts). An iterator that pinned the old one keeps it until it closes;
   * nothing else holds it, and its buffers go to the collector (not to the reserve: its last
   * pin is never released).
   */
  private shedIdleActive(): void {
    const a = this.active;
    const like = this.lastFrozenSize;
    if (!a.onReleasedMemory || a.entryCount !== 0 || a.rangeTombstoneCount !== 0 || like === undefined) return;
    this.active = new Memtable({ memory: this.memtableMemory, like });
    this.view = undefined;
  }

  /** Bytes of released memtables held for the next one, and how many memtables were built on such memory (stats). */
  get memtableReserve(): { readonly bytes: number; readonly reused: number } {
    return { bytes: this.memtableMemory.bytes, reused: this.memtableMemory.reused };
  }

  /**
   * The sources of a read, as of now. Cached: point reads must not allocate. The cache is
   * dropped when the memtables change (freezeMemtable, retireFrozen) and rebuilt when the
   * current Version changed (flush, compaction). Relies on the memtable invariants above: only
   * freezeMemtable and retireFrozen change which memtables exist, and a frozen one never changes.
   */
  readView(): ReadView {
    const v = this.view;
    if (v !== undefined && v.version === this.versions.current) return v;
    return (this.view = { active: this.active, frozen: this.frozen.map((f) => f.mem), version: this.versions.current });
  }

  // ---- background work -----------------------------------------------------------------------

  stallState(): StallState {
    return this.frozen.length >= this.opts.maxFrozenMemtables ? 'stop' : this.compactionStall();
  }

  /**
   * The part of `stallState()` that compaction's backlog asks for, frozen memtables aside: L0's
   * triggers and the pending compaction bytes. Also what makes compaction "behind" for the
   * scheduler (scheduler.ts, `behind()`: RocksDB's NeedSpeedupCompaction asks the same write
   * controller).
   */
  compactionStall(): StallState {
    const l0 = this.stallRuns();
    if (l0 >= this.opts.l0StopWritesTrigger) return 'stop';
    // A compaction backlog below L0 (RocksDB's pending compaction bytes) stalls writes too.
    const pending = this.compactor.pendingCompactionBytes();
    if (pending >= this.opts.hardPendingCompactionBytesLimit) return 'stop';
    if (l0 >= this.opts.l0SlowdownWritesTrigger || pending >= this.opts.softPendingCompactionBytesLimit) return 'slowdown';
    return 'none';
  }

  /**
   * What the L0 write-stall triggers count: L0 tables, or with universal compaction every sorted
   * run (RocksDB's l0_delay_trigger_count: universal-picker.ts).
   */
  private stallRuns(): number {
    const v = this.versions.current;
    return this.opts.compactionStyle === 'universal' ? sortedRunCount(v) : v.files(0).length;
  }

  /** Why `stallState()` is not 'none' (the write-stall-begin event); the first matching rule, in its order. */
  stallCause(): 'memtables' | 'l0-files' | 'pending-compaction-bytes' {
    if (this.frozen.length >= this.opts.maxFrozenMemtables) return 'memtables';
    const l0 = this.stallRuns();
    if (l0 >= this.opts.l0StopWritesTrigger) return 'l0-files';
    if (this.compactor.pendingCompactionBytes() >= this.opts.hardPendingCompactionBytesLimit) return 'pending-compaction-bytes';
    return l0 >= this.opts.l0SlowdownWritesTrigger ? 'l0-files' : 'pending-compaction-bytes';
  }

  onProgress(fn: () => void): void {
    this.progressListeners.push(fn);
  }

  /** Flush and compaction, after each step; setBackgroundError. */
  notifyProgress(): void {
    for (const fn of this.progressListeners) fn();
  }

  /** Runs `work` in the background, tracked for close(); a failure sets the background error. */
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

  /** Starts the flush loop if memtables wait for it. */
  scheduleFlush(): void {
    this.flusher.schedule();
  }

  /**
   * A flush or compaction is running (or a task of theirs: deleting what a compaction replaced),
   * or a frozen memtable waits for its flush: idle warming waits (table-warmer.ts).
   */
  get backgroundBusy(): boolean {
    return this.tasks.size > 0 || this.frozen.length > 0;
  }

  /** A flush is running. */
  get flushing(): boolean {
    return this.flusher.running;
  }

  /** Resolves once every memtable frozen so far is in a table. */
  waitForFlushes(): Promise<void> {
    return this.flusher.waitForFlushes();
  }

  /**
   * The single call point for compaction scheduling: after every flush, after every
   * compaction, at open, and when a table's read allowance runs out (readAllowances).
   */
  maybeScheduleCompaction(): void {
    if (this.lifecycle === 'closed' || this.lifecycle === 'closing') return;
    // A new version may have tables to warm (once the compaction this may start has finished).
    this.warmer.wake();
    if (this.bgError !== undefined || this.log === undefined) return;
    this.compactor.maybeSchedule();
  }

  /** Waits until no background task is running (new ones may start while waiting). */
  private async drainBackground(): Promise<void> {
    while (this.tasks.size > 0) {
      await Promise.allSettled([...this.tasks]);
    }
  }
}
