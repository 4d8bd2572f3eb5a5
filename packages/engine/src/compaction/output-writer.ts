/**
 * Drains a CompactionIterator into output tables: cuts tables where the OutputSplitter says,
 * gives each table the tombstone pieces of its key range, and yields to the event loop every
 * few milliseconds so that a long compaction never holds it (the merge itself is synchronous:
 * page-cache reads and in-memory block building).
 */
import { invariant } from '@strata-db/errors';
import type { PointEntry, RangeTombstone } from '@strata-db/memtable';
import type { CompactionIterator } from './compaction-iterator.js';
import { successor, type KeyRange } from './key-range.js';
import { outputTableRange, type OutputSplitter } from './output-splitter.js';

/** What the writer needs of a table being built (TableBuilder in production, memory in tests). */
export interface TableSink {
  add(entry: PointEntry): void;
  addTombstone(tombstone: RangeTombstone): void;
  readonly estimatedSize: number;
  /**
   * The user key of the last entry added (undefined before the first): a copy. Read once per
   * table, at its cut: the sink keeps its last key anyway (the builder, for its order check and
   * prefix compression), so the writer does not copy every user key a second time.
   */
  readonly lastUserKey: Uint8Array | undefined;
}

export interface FinishedOutput<M> {
  /** What the sink's finish returned (the table's metadata). */
  readonly meta: M;
  /** The inclusive key range to record in the version (see output-splitter.ts). */
  readonly range: KeyRange;
  readonly entryCount: number;
  readonly tombstoneCount: number;
}

export interface OutputWriterOptions<S extends TableSink, M> {
  /** Open the next output table. */
  open(): S;
  /**
   * Complete a table (write, fsync); called with every table opened, in order. The writer goes
   * on with the next table while the returned promise (the fsync) is pending: up to
   * MAX_PENDING_FINISHES tables are in flight; run() resolves once all of them have.
   */
  finish(sink: S): Promise<M>;
  /** Stop writing for a moment after this many ms of synchronous work. */
  readonly sliceMs: number;
  /** Resolves after letting other work run (setImmediate in production). */
  yieldNow(): Promise<void>;
  /** Checked between slices: throw to abort (database closing). */
  checkAbort?(): void;
}

/**
 * Finished tables whose fsync may be in flight at once. The merge does not wait for a table's
 * fsync before building the next one (it waited for each one before: 10–50 ms per 2 MiB output
 * on a busy disk, serialised with the merge — compaction throughput, hence write stalls).
 */
const MAX_PENDING_FINISHES = 4;

interface PendingOutput<M> {
  readonly meta: Promise<M>;
  readonly range: KeyRange;
  readonly entryCount: number;
  readonly tombstoneCount: number;
}

export class OutputWriter<S extends TableSink, M> {
  readonly outputs: FinishedOutput<M>[] = [];
  private readonly pending: PendingOutput<M>[] = [];
  /** Longest stretch of synchronous merge work between two yields, ms (stats: event-loop cost). */
  maxSliceMs = 0;
  private current: S | undefined;
  private currentFirst: Uint8Array | undefined;
  private currentEntries = 0;
  /** Lower bound (inclusive) of the current table's tombstone pieces; undefined = unbounded. */
  private lo: Uint8Array | undefined;

  constructor(
    private readonly iter: CompactionIterator,
    private readonly splitter: OutputSplitter,
    private readonly options: OutputWriterOptions<S, M>,
  ) {}

  /** The table being written, if any (so the caller can abandon it on failure). */
  get open(): S | undefined {
    return this.current;
  }

  async run(): Promise<FinishedOutput<M>[]> {
    try {
      return await this.merge();
    } catch (err) {
      // Nothing of ours is in flight when the caller abandons the tables.
      await Promise.allSettled(this.pending.map((x) => x.meta));
      throw err;
    }
  }

  private async merge(): Promise<FinishedOutput<M>[]> {
    const { sliceMs } = this.options;
    let sliceStart = performance.now();
    // Work units since the last clock check: one per version written, 64 per `null` (a
    // stretch of input that was dropped whole) — the clock is read every 64 units.
    let n = 0;
    for (let e = this.iter.next(); e !== undefined; e = this.iter.next()) {
      if (e === null) {
        n += 64;
      } else {
        const current = this.current;
        if (current === undefined || this.iter.firstOfKey) {
          if (this.splitter.shouldCutBefore(e.key, current?.estimatedSize ?? 0) && current !== undefined) {
            // The sink's last key is the table's: a copy, made once a table (successor copies too).
            await this.finishCurrent(successor(current.lastUserKey!), sliceStart);
            sliceStart = performance.now();
          }
          // A copy: the entry is valid only until the iterator's next call (compaction-iterator.ts).
          this.currentFirst ??= new Uint8Array(e.key);
        }
        this.current ??= this.options.open();
        this.current.add(e);
        this.currentEntries++;
        n++;
      }
      if (n >= 64) {
        n = 0;
        if (performance.now() - sliceStart >= sliceMs) {
          this.noteSlice(sliceStart);
          this.options.checkAbort?.();
          await this.options.yieldNow();
          sliceStart = performance.now();
        }
      }
    }
    // The last table takes the remaining tombstone pieces, unbounded above; a compaction whose
    // points all vanished may still owe the level its tombstones.
    if (this.current !== undefined || this.iter.keptFragments.clip(this.lo, undefined).length > 0) {
      await this.finishCurrent(undefined, sliceStart);
    }
    await this.settle(0);
    return this.outputs;
  }

  /**
   * Waits until at most `max` finishes are in flight, oldest first. A failure is thrown only
   * once nothing is in flight any more (allSettled), so the caller can abandon every table
   * without closing a descriptor under a running fsync.
   */
  private async settle(max: number): Promise<void> {
    while (this.pending.length > max) {
      const p = this.pending[0]!;
      let meta: M;
      try {
        meta = await p.meta;
      } catch (err) {
        await Promise.allSettled(this.pending.map((x) => x.meta));
        throw err;
      }
      this.pending.shift();
      this.outputs.push({ meta, range: p.range, entryCount: p.entryCount, tombstoneCount: p.tombstoneCount });
    }
  }

  private noteSlice(sliceStart: number): void {
    const elapsed = performance.now() - sliceStart;
    if (elapsed > this.maxSliceMs) this.maxSliceMs = elapsed;
  }

  /** `sliceStart`: when the current slice of synchronous work began (the finish belongs to it). */
  private async finishCurrent(hi: Uint8Array | undefined, sliceStart: number): Promise<void> {
    const sink = (this.current ??= this.options.open());
    const tombstones = this.iter.keptFragments.clip(this.lo, hi);
    for (const t of tombstones) sink.addTombstone(t);
    const range = outputTableRange(this.currentFirst, sink.lastUserKey, tombstones);
    // A sink is only opened with an entry or a tombstone to write, so the range exists.
    invariant(range !== undefined, 'a compaction output table holds an entry or a tombstone');
    // The synchronous part of finish (last block, filter, index, footer, writes) ends the slice.
    const meta = this.options.finish(sink);
    this.noteSlice(sliceStart);
    meta.catch(() => undefined); // observed by settle(); never an unhandled rejection meanwhile
    this.pending.push({ meta, range, entryCount: this.currentEntries, tombstoneCount: tombstones.length });
    this.current = undefined;
    this.currentFirst = undefined;
    this.currentEntries = 0;
    this.lo = hi;
    this.options.checkAbort?.();
    await this.options.yieldNow();
    await this.settle(MAX_PENDING_FINISHES - 1);
  }
}
