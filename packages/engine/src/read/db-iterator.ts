/**
 * The user-facing iterator: a synchronous cursor over the keys visible at one snapshot, within
 * bounds, forward or reverse, with an optional limit.
 *
 * Under it: a MergingIterator over every source's InternalIterator (all versions, key ASC /
 * seq DESC) and a RangeDelAggregator holding a cursor into every source's fragmented range
 * tombstones. For each user key it yields the newest version with seq ≤ snapshot, unless that
 * version is a Delete or a range tombstone with a higher seq (≤ snapshot) covers it.
 *
 *   forward: the first entry of a key with seq ≤ snapshot is its newest visible version; the
 *            rest of the key's versions are skipped.
 *   reverse: a key's versions arrive oldest first; the last one with seq ≤ snapshot before the
 *            key changes is the newest visible.
 *
 * The iterator owns what keeps its snapshot readable: a reference on the Version (its tables
 * cannot be deleted), the memtables it read (plain references), and a registration of its
 * sequence number among the live snapshots (compaction keeps what it needs). `close()` releases
 * them; the database closes iterators still open when it closes.
 */
import { EntryKind, compareKeys, type InternalIterator, type PointEntry } from '@strata-db/memtable';
import { StrataError, toStrataError } from '../errors.js';
import { copyOf, lookupKeyArg } from '../keys.js';
import type { MergingIterator } from './merging-iterator.js';
import type { RangeDelAggregator } from './range-del-aggregator.js';

/** A key and its value, both copies the caller owns. */
export type Entry = [key: Uint8Array, value: Uint8Array];

export interface Bounds {
  readonly lower: Uint8Array | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: Uint8Array | undefined;
  readonly upperInclusive: boolean;
}

export class DbIterator {
  private started = false;
  private closed = false;
  private count = 0;

  constructor(
    private readonly it: MergingIterator,
    private readonly rangeDel: RangeDelAggregator,
    readonly snapshotSeq: number,
    private readonly bounds: Bounds,
    readonly reverse: boolean,
    private readonly limit: number,
    private readonly onClose: (it: DbIterator) => void,
  ) {}

  /** The next entry, or undefined at the end (or once `limit` entries were returned). */
  next(): Entry | undefined {
    if (this.closed) throw new StrataError('NOT_OPEN', 'the iterator is closed');
    if (this.count >= this.limit) return undefined;
    try {
      if (!this.started) {
        this.started = true;
        this.position(undefined);
      }
      const e = this.reverse ? this.findPrev() : this.findNext();
      if (e !== undefined) this.count++;
      return e;
    } catch (err) {
      throw toStrataError(err, 'iteration failed');
    }
  }

  /** Up to `n` entries (fewer at the end). */
  nextv(n: number): Entry[] {
    if (!Number.isInteger(n) || n < 0) throw new StrataError('INVALID_ARGUMENT', `nextv(n) needs a non-negative integer, got ${String(n)}`);
    const out: Entry[] = [];
    while (out.length < n) {
      const e = this.next();
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Moves the cursor: the next `next()` returns the first visible entry ≥ key (forward) or
   * ≤ key (reverse), still within the iterator's bounds. Does not reset the limit count.
   */
  seek(key: Uint8Array | string): void {
    if (this.closed) throw new StrataError('NOT_OPEN', 'the iterator is closed');
    const k = lookupKeyArg(key, 'seek target');
    this.started = true;
    try {
      this.position(k);
    } catch (err) {
      throw toStrataError(err, 'iterator seek failed');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private position(target: Uint8Array | undefined): void {
    const { lower, lowerInclusive, upper, upperInclusive } = this.bounds;
    const it = this.it;
    if (!this.reverse) {
      let k = lower;
      let excl = lower !== undefined && !lowerInclusive;
      if (target !== undefined && (k === undefined || compareKeys(target, k) > 0)) {
        k = target;
        excl = false;
      }
      if (k === undefined) it.seekToFirst();
      else it.seek(k);
      if (excl) skipKey(it, k!, true);
    } else {
      let k = upper;
      let excl = upper !== undefined && !upperInclusive;
      if (target !== undefined && (k === undefined || compareKeys(target, k) < 0)) {
        k = target;
        excl = false;
      }
      if (k === undefined) it.seekToLast();
      else it.seekForPrev(k);
      if (excl) skipKey(it, k!, false);
    }
  }

  private findNext(): Entry | undefined {
    const it = this.it;
    const snap = this.snapshotSeq;
    const { upper, upperInclusive } = this.bounds;
    while (it.valid()) {
      const e = it.entry();
      if (upper !== undefined) {
        const c = compareKeys(e.key, upper);
        if (c > 0 || (c === 0 && !upperInclusive)) return undefined;
      }
      if (e.seq > snap) {
        it.next();
        continue;
      }
      skipKey(it, e.key, true);
      if (visible(e, this.rangeDel)) return [copyOf(e.key), copyOf(e.value)];
    }
    return undefined;
  }

  private findPrev(): Entry | undefined {
    const it = this.it;
    const snap = this.snapshotSeq;
    const { lower, lowerInclusive } = this.bounds;
    while (it.valid()) {
      const first = it.entry();
      if (lower !== undefined) {
        const c = compareKeys(first.key, lower);
        if (c < 0 || (c === 0 && !lowerInclusive)) return undefined;
      }
      const key = first.key;
      let best: PointEntry | undefined;
      do {
        const x = it.entry();
        if (x.seq <= snap) best = x;
        it.prev();
      } while (it.valid() && compareKeys(it.entry().key, key) === 0);
      if (best !== undefined && visible(best, this.rangeDel)) return [copyOf(best.key), copyOf(best.value)];
    }
    return undefined;
  }
}

function visible(e: PointEntry, rangeDel: RangeDelAggregator): boolean {
  return e.kind === EntryKind.Put && !rangeDel.covers(e.key, e.seq);
}

/** Moves past every version of `key` in the given direction. */
function skipKey(it: InternalIterator, key: Uint8Array, forward: boolean): void {
  if (forward) {
    while (it.valid() && compareKeys(it.entry().key, key) === 0) it.next();
  } else {
    while (it.valid() && compareKeys(it.entry().key, key) === 0) it.prev();
  }
}
