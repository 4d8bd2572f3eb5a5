/**
 * The memtable's range tombstones: a structure of their own, never mixed into the point
 * skiplist (docs/design-rules.md#r2). Points and tombstones meet only in readers.
 *
 * Two representations, each for one kind of reader:
 *  - `sorted`     every tombstone exactly as written, (start ASC, seq DESC): what flush hands
 *                 to the table builder, and what `rangeTombstones()` returns.
 *  - `fragments`  the same tombstones fragmented (fragmenter.ts): spans carrying every covering
 *                 seq, which answer "newest tombstone covering k at snapshot s" for any snapshot
 *                 in O(log spans). Kept up to date incrementally (`addNewest`), never rebuilt:
 *                 every reader of the memtable — gets, scans, the engine's iterators — shares
 *                 this one list, and a frozen memtable keeps it as it was at the freeze.
 *
 * Invariant relied on: tombstones arrive in strictly increasing seq order (the memtable
 * rejects anything else), so a new tombstone is newer than everything already fragmented.
 */
import { FragmentedRangeTombstones } from './fragmenter.js';
import { compareTombstones, type RangeTombstone } from './types.js';

/** Rough per-tombstone cost beyond its key bytes: the object, two copies' headers, list slots. */
export const TOMBSTONE_OVERHEAD_BYTES = 200;
/** Rough cost of one span of the fragmented list: the object, its seqs array header, a list slot. */
const SPAN_OVERHEAD_BYTES = 100;

export class RangeTombstoneSet {
  /** (start ASC, seq DESC). */
  private readonly sorted: RangeTombstone[] = [];
  /** A copy of `sorted` handed to readers; dropped on the next add (readers keep theirs). */
  private sortedCopy: readonly RangeTombstone[] | undefined;
  /** Every tombstone, fragmented; grown in place by `add` (see fragmenter.ts on readers). */
  readonly fragments = FragmentedRangeTombstones.growable();
  /** Key bytes held plus per-tombstone and per-seq-slot overhead. */
  bytes = 0;

  get count(): number {
    return this.sorted.length;
  }

  /** Seq of the newest tombstone; 0 when there is none. */
  get maxSeq(): number {
    return this.fragments.maxSeq;
  }

  /** Adds `[start, end)#seq`. Caller guarantees start < end and seq > every seq here. */
  add(start: Uint8Array, end: Uint8Array, seq: number): void {
    // Copies: the caller may reuse its buffers; the copies are never written again.
    // (`new Uint8Array(x)`, not `x.slice()`: a Buffer's slice() is a view, not a copy.)
    const t: RangeTombstone = { start: new Uint8Array(start), end: new Uint8Array(end), seq };
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
    const spansBefore = this.fragments.length;
    const covered = this.fragments.addNewest(t);
    // Each span t covers holds one more seq; splits and gaps add spans.
    this.bytes += start.length + end.length + TOMBSTONE_OVERHEAD_BYTES + 8 * covered + SPAN_OVERHEAD_BYTES * (this.fragments.length - spansBefore);
  }

  /** Every tombstone in arrival (= seq ASC) order: re-adding them in this order rebuilds the set. */
  inArrivalOrder(): readonly RangeTombstone[] {
    return this.sorted.slice().sort((a, b) => a.seq - b.seq);
  }

  /** Every tombstone as written, (start ASC, seq DESC). The array is never mutated later. */
  all(): readonly RangeTombstone[] {
    this.sortedCopy ??= Object.freeze(this.sorted.slice());
    return this.sortedCopy;
  }

  /** Largest seq ≤ `snapshotSeq` of a tombstone covering `key`; 0 if none. */
  maxCoveringSeq(key: Uint8Array, snapshotSeq: number): number {
    return this.fragments.maxCoveringSeq(key, snapshotSeq);
  }
}
