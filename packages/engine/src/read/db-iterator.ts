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
 * Deleted stretches (forward only): positioning asks the database's EmptyRanges whether the
 * stretch from the start key on is known to hold nothing visible at this snapshot, and seeks
 * past it; the walk from a position to the first visible key (or the end) is reported back
 * as such a stretch. A job queue's head then costs a seek, not a step per earlier pop.
 *
 * The iterator owns what keeps its snapshot readable: a reference on the Version (its tables
 * cannot be deleted), the memtables it read (plain references), and a registration of its
 * sequence number among the live snapshots (compaction keeps what it needs). `close()` releases
 * them; the database closes iterators still open when it closes.
 */
import { EntryKind, compareKeys, type InternalIterator, type PointEntry } from '@strata-db/memtable';
import { StrataError } from '../errors.js';
import { copyOf, lookupKeyArg } from '../keys.js';
import { keySuccessor, type EmptyRanges, type EmptyRangeTicket } from './empty-ranges.js';
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

/**
 * The database's known-empty ranges and what this iterator took from them when created; no
 * ticket: it may use them but not record (its view left out sources: db-iterator-builder.ts).
 */
export interface EmptyRangesUse {
  readonly ranges: EmptyRanges;
  readonly ticket: EmptyRangeTicket | undefined;
}

export class DbIterator {
  private started = false;
  private closed = false;
  private count = 0;
  /** Forward: the start of the walk since the last position, while nothing visible was found yet. */
  private walkFrom: { readonly start: Uint8Array | undefined } | undefined;
  /** Forward: a known-empty range reached to the end of the key space; nothing more to read. */
  private atEnd = false;

  constructor(
    private readonly it: MergingIterator,
    private readonly rangeDel: RangeDelAggregator,
    readonly snapshotSeq: number,
    private readonly bounds: Bounds,
    readonly reverse: boolean,
    private readonly limit: number,
    private readonly onClose: (it: DbIterator) => void,
    /** The error the caller sees for a failed step or seek (DbCore.readFailure). */
    private readonly readFailure: (err: unknown, what: string) => StrataError,
    private readonly emptyRanges?: EmptyRangesUse,
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
      throw this.readFailure(err, 'iteration failed');
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
      throw this.readFailure(err, 'iterator seek failed');
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
      const start = excl ? keySuccessor(k!) : k;
      this.atEnd = false;
      this.walkFrom = undefined;
      const known = this.emptyRanges;
      if (known !== undefined) {
        if (known.ticket !== undefined) this.walkFrom = { start };
        const skip = known.ranges.find(start, this.snapshotSeq);
        if (skip !== undefined) {
          if (skip.end === undefined) this.atEnd = true;
          else it.seek(skip.end);
          return;
        }
      }
      if (start === undefined) it.seekToFirst();
      else it.seek(start);
    } else {
      let k = upper;
      let excl = upper !== undefined && !upperInclusive;
      if (target !== undefined && (k === undefined || compareKeys(target, k) < 0)) {
        k = target;
        excl = false;
      }
      if (k === undefined) it.seekToLast();
      else it.seekForPrev(k);
      if (excl) skipBackPast(it, k!);
    }
  }

  private findNext(): Entry | undefined {
    if (this.atEnd) return undefined;
    const it = this.it;
    const snap = this.snapshotSeq;
    const { upper, upperInclusive } = this.bounds;
    while (it.valid()) {
      const e = it.entry();
      if (upper !== undefined) {
        const c = compareKeys(e.key, upper);
        if (c > 0 || (c === 0 && !upperInclusive)) {
          // Only up to the bound: tables beyond it were left out of this iterator.
          this.walked(upperInclusive ? keySuccessor(upper) : upper);
          return undefined;
        }
      }
      if (e.seq > snap) {
        // A Put newer than the snapshot: later readers may see it, so the empty stretch ends here.
        if (e.kind === EntryKind.Put) this.walked(e.key);
        it.next();
        continue;
      }
      if (visible(e, this.rangeDel)) {
        // Copied before the older versions are skipped: a table iterator reading this scan's
        // runs into recycled buffers (db-iterator-builder.ts) overwrites the value once it moves.
        const found = entryOf(copyOf(e.key), copyOf(e.value));
        skipVersionsOf(it, found[0]);
        this.walked(found[0]);
        return found;
      }
      // A copy: under a forward scan a table's entry is rewritten when its iterator moves
      // (`reuseEntry`, db-iterator-builder.ts), and skipVersionsOf moves it.
      skipVersionsOf(it, copyOf(e.key));
    }
    this.walked(upper === undefined ? undefined : upperInclusive ? keySuccessor(upper) : upper);
    return undefined;
  }

  /** The walk since the last position met nothing visible before `end` (absent: the end of the keys). */
  private walked(end: Uint8Array | undefined): void {
    const from = this.walkFrom;
    if (from === undefined) return;
    this.walkFrom = undefined;
    // `end` may be a view into a block or the arena (or the user's entry): the range keeps its own copy.
    const known = this.emptyRanges!;
    known.ranges.record(known.ticket!, from.start, end === undefined ? undefined : copyOf(end), this.snapshotSeq);
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
      if (best !== undefined && visible(best, this.rangeDel)) return entryOf(copyOf(best.key), copyOf(best.value));
    }
    return undefined;
  }
}

/**
 * The `[key, value]` pair handed out, made by the Array constructor and not an array literal. V8
 * gives a literal an allocation site and, when a GC finds ≥ 100 objects the site made since the
 * last GC and ≥ 85% of them alive, allocates everything it makes from then on in the old
 * generation ("pretenuring"; the decision is final). A scan's entries live only until the caller
 * drops them, but a batch of `nextv(256)` holds up to 256 at once (and a mark-compact that ends
 * incremental marking counts as alive what was stored into a live object while it marked): a GC
 * early in a scan could find nearly all of them alive. The site was then tenured, every later
 * entry was born old, dead a moment later, and kept its two young views alive through every
 * scavenge until the next mark-compact — 50–76% of what a scavenge saw survived, and a 1M scan
 * after 100k gets peaked at 264–279 MB instead of 212–215 in 3–5 runs of 10 (a 10M one at
 * 372–420 instead of 280–288). `new Array(2)` carries no allocation memento, so no GC decides it.
 */
function entryOf(key: Uint8Array, value: Uint8Array): Entry {
  const e = new Array(2) as unknown as Entry;
  e[0] = key;
  e[1] = value;
  return e;
}

function visible(e: PointEntry, rangeDel: RangeDelAggregator): boolean {
  return e.kind === EntryKind.Put && !rangeDel.covers(e.key, e.seq);
}

/**
 * Forward, from a version of `key` (the iterator is on it): past it and every older version. The
 * entry it is on is stepped over without comparing its key with `key`, a copy of that same key.
 */
function skipVersionsOf(it: InternalIterator, key: Uint8Array): void {
  do it.next();
  while (it.valid() && compareKeys(it.entry().key, key) === 0);
}

/** Backward, from wherever a seekForPrev(key) left the iterator: past every version of `key`. */
function skipBackPast(it: InternalIterator, key: Uint8Array): void {
  while (it.valid() && compareKeys(it.entry().key, key) === 0) it.prev();
}
