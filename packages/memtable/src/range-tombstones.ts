/**
 * The memtable's range tombstones: a structure of their own, never mixed into the point
 * skiplist (docs/design-rules.md#r2). Points and tombstones meet only in readers.
 *
 * Three representations, each for one kind of reader:
 *  - `sorted`    every tombstone exactly as written, (start ASC, seq DESC): what flush hands
 *                to the table builder, and what `rangeTombstones()` returns.
 *  - `live`      the coverage of ALL tombstones, fragmented: non-overlapping spans each with
 *                the newest covering seq. Maintained incrementally (see `paint`), it answers
 *                point reads at a snapshot that sees every tombstone — the common case — in
 *                O(log spans), however many tombstones overlap.
 *  - `views`     immutable fragmented views for older snapshots, built on demand and cached.
 *
 * Invariant relied on: tombstones arrive in strictly increasing seq order (the memtable
 * rejects anything else). Hence (1) the tombstones a snapshot sees are a PREFIX of arrival
 * order, so a view is identified by that prefix's length and never goes stale; and (2) a new
 * tombstone is newer than everything already painted, so adding it to `live` is a plain
 * overwrite of its range.
 */
import { FragmentedRangeTombstones, fragmentTombstones } from './fragmenter.js';
import { compareKeys, compareTombstones, type RangeTombstone } from './types.js';

/** Rough per-tombstone cost beyond its key bytes: the object, two copies' headers, list slots. */
export const TOMBSTONE_OVERHEAD_BYTES = 200;

/** Views kept for older snapshots; a handful of long-lived snapshots is the usual load. */
const MAX_CACHED_VIEWS = 8;

export class RangeTombstoneSet {
  /** (start ASC, seq DESC). */
  private readonly sorted: RangeTombstone[] = [];
  /** Arrival order, which is seq ASC. */
  private readonly arrivals: RangeTombstone[] = [];
  /** Fragmented coverage of every tombstone; mutated in place by `paint`. */
  private readonly live: RangeTombstone[] = [];
  /** A copy of `sorted` handed to readers; dropped on the next add (readers keep theirs). */
  private sortedCopy: readonly RangeTombstone[] | undefined;
  /** Fragmented views keyed by how many tombstones (in arrival order) they include. */
  private readonly views = new Map<number, FragmentedRangeTombstones>();
  /** Key bytes held plus per-tombstone overhead. */
  bytes = 0;

  get count(): number {
    return this.arrivals.length;
  }

  /** Seq of the newest tombstone; 0 when there is none. */
  get maxSeq(): number {
    return this.arrivals[this.arrivals.length - 1]?.seq ?? 0;
  }

  /** Adds `[start, end)#seq`. Caller guarantees start < end and seq > every seq here. */
  add(start: Uint8Array, end: Uint8Array, seq: number): void {
    // Copies: the caller may reuse its buffers; the copies are never written again.
    // (`new Uint8Array(x)`, not `x.slice()`: a Buffer's slice() is a view, not a copy.)
    const t: RangeTombstone = { start: new Uint8Array(start), end: new Uint8Array(end), seq };
    this.arrivals.push(t);
    // Seq is the newest, so among equal starts it goes first: insert before the first
    // tombstone whose start is ≥ ours.
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareTombstones(sorted[mid]!, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 0, t);
    this.sortedCopy = undefined;
    this.paint(t);
    this.bytes += start.length + end.length + TOMBSTONE_OVERHEAD_BYTES;
  }

  /** Every tombstone in arrival (= seq ASC) order: re-adding them in this order rebuilds the set. */
  inArrivalOrder(): readonly RangeTombstone[] {
    return this.arrivals.slice();
  }

  /** Every tombstone as written, (start ASC, seq DESC). The array is never mutated later. */
  all(): readonly RangeTombstone[] {
    this.sortedCopy ??= Object.freeze(this.sorted.slice());
    return this.sortedCopy;
  }

  /** Largest seq ≤ `snapshotSeq` of a tombstone covering `key`; 0 if none. */
  maxCoveringSeq(key: Uint8Array, snapshotSeq: number): number {
    const n = this.arrivals.length;
    if (n === 0) return 0;
    if (snapshotSeq >= this.arrivals[n - 1]!.seq) return liveCoveringSeq(this.live, key);
    return this.fragmented(snapshotSeq).maxCoveringSeq(key);
  }

  /** The fragmented coverage a reader at `snapshotSeq` sees. Immutable. */
  fragmented(snapshotSeq: number): FragmentedRangeTombstones {
    const visible = this.visibleCount(snapshotSeq);
    if (visible === 0) return FragmentedRangeTombstones.EMPTY;
    let view = this.views.get(visible);
    if (view !== undefined) return view;
    view =
      visible === this.arrivals.length
        ? new FragmentedRangeTombstones(this.live.slice())
        : fragmentTombstones(this.arrivals.slice(0, visible));
    if (this.views.size >= MAX_CACHED_VIEWS) this.views.delete(this.views.keys().next().value!);
    this.views.set(visible, view);
    return view;
  }

  /** How many tombstones have seq ≤ `snapshotSeq` (a prefix of arrival order). */
  private visibleCount(snapshotSeq: number): number {
    const arrivals = this.arrivals;
    let lo = 0;
    let hi = arrivals.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arrivals[mid]!.seq <= snapshotSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Overwrites `live` over [t.start, t.end) with t.seq. Correct because t is newer than every
   * painted span, so it is the newest cover of each key in its range. Cost: two binary
   * searches plus the spans it swallows (each span is swallowed at most once) plus the splice.
   */
  private paint(t: RangeTombstone): void {
    const live = this.live;
    // First span ending after t.start: the first that can overlap t.
    let lo = 0;
    let hi = live.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(live[mid]!.end, t.start) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const from = lo;
    // First span starting at or after t.end: the first past t.
    hi = live.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(live[mid]!.start, t.end) < 0) lo = mid + 1;
      else hi = mid;
    }
    const to = lo;
    const replacement: RangeTombstone[] = [];
    if (from < to) {
      const left = live[from]!;
      if (compareKeys(left.start, t.start) < 0) replacement.push({ start: left.start, end: t.start, seq: left.seq });
    }
    replacement.push(t);
    if (from < to) {
      const right = live[to - 1]!;
      if (compareKeys(right.end, t.end) > 0) replacement.push({ start: t.end, end: right.end, seq: right.seq });
    }
    live.splice(from, to - from, ...replacement);
  }
}

/** Binary search over `live` (non-overlapping, sorted) for the span covering `key`. */
function liveCoveringSeq(live: readonly RangeTombstone[], key: Uint8Array): number {
  let lo = 0;
  let hi = live.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(live[mid]!.end, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  const span = live[lo];
  return span !== undefined && compareKeys(span.start, key) <= 0 ? span.seq : 0;
}
