/**
 * Fragmenting range tombstones: turning overlapping `[start, end)#seq` ranges into spans that
 * do not overlap, each carrying the largest seq of the tombstones covering it.
 *
 * Why: a key can sit under thousands of overlapping tombstones, and a reader asks one
 * question of them — "what is the newest tombstone covering this key at my snapshot?". Over
 * the raw list that is a scan of every tombstone whose start is ≤ the key (RocksDB users saw
 * scans crawl exactly here). Over fragments it is one binary search, and a merging reader can
 * walk the spans in key order alongside the points.
 *
 * Only the maximum seq per span is kept, not every covering seq: a view is built FOR one
 * snapshot (tombstones above it are left out before fragmenting), so the maximum is all a
 * reader at that snapshot needs, and the view stays O(n) in size however deep the overlap.
 */
import { compareKeys, compareTombstones, type RangeTombstone } from './types.js';

/**
 * Non-overlapping spans, sorted by start (and therefore by end), each `[start, end)#seq`
 * meaning: the newest tombstone covering any key of this span has sequence number `seq`.
 * Keys in no span are covered by no tombstone. Adjacent spans never share a seq (they
 * would have been one span). Immutable.
 */
export class FragmentedRangeTombstones {
  static readonly EMPTY = new FragmentedRangeTombstones([]);

  /** @param spans non-overlapping, sorted by start; taken over, not copied. */
  constructor(readonly spans: readonly RangeTombstone[]) {}

  get length(): number {
    return this.spans.length;
  }

  /** Largest seq of a tombstone covering `key` in this view; 0 if none. O(log spans). */
  maxCoveringSeq(key: Uint8Array): number {
    const spans = this.spans;
    const i = this.seek(key);
    if (i === spans.length) return 0;
    const span = spans[i]!;
    return compareKeys(span.start, key) <= 0 ? span.seq : 0;
  }

  /**
   * Index of the first span whose end is > `key` — the span covering `key` if there is one,
   * else the next span to the right. `length` if none.
   */
  seek(key: Uint8Array): number {
    const spans = this.spans;
    let lo = 0;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(spans[mid]!.end, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Fragments `tombstones` (any order, overlaps allowed), ignoring those with seq above
 * `snapshotSeq`. A sweep over the sorted boundary keys with a max-heap of the tombstones
 * open at each boundary: O(n log n).
 */
export function fragmentTombstones(
  tombstones: readonly RangeTombstone[],
  snapshotSeq = Number.MAX_SAFE_INTEGER
): FragmentedRangeTombstones {
  const open = tombstones.filter((t) => t.seq <= snapshotSeq).sort(compareTombstones);
  if (open.length === 0) return FragmentedRangeTombstones.EMPTY;

  const bounds: Uint8Array[] = [];
  for (const t of open) bounds.push(t.start, t.end);
  bounds.sort(compareKeys);

  const spans: RangeTombstone[] = [];
  const heap = new MaxSeqHeap();
  let next = 0;
  for (let b = 0; b < bounds.length - 1; b++) {
    const at = bounds[b]!;
    const to = bounds[b + 1]!;
    if (compareKeys(at, to) === 0) continue; // duplicate boundary: an empty span
    // Every start ≤ `at` is a boundary ≤ `at`, so this admits exactly the tombstones starting here.
    while (next < open.length && compareKeys(open[next]!.start, at) <= 0) heap.push(open[next++]!);
    // Tombstones that ended at or before `at` leave lazily: only the top matters.
    while (heap.size > 0 && compareKeys(heap.top().end, at) <= 0) heap.pop();
    if (heap.size === 0) continue;
    const seq = heap.top().seq;
    const last = spans[spans.length - 1];
    if (last?.seq === seq && compareKeys(last.end, at) === 0) {
      spans[spans.length - 1] = { start: last.start, end: to, seq };
    } else {
      spans.push({ start: at, end: to, seq });
    }
  }
  return new FragmentedRangeTombstones(spans);
}

/** A binary max-heap of tombstones by seq (seqs are unique, so no ties). */
class MaxSeqHeap {
  private readonly items: RangeTombstone[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): RangeTombstone {
    return this.items[0]!;
  }

  push(t: RangeTombstone): void {
    const items = this.items;
    let i = items.length;
    items.push(t);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (items[parent]!.seq >= t.seq) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = t;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop()!;
    const n = items.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && items[r]!.seq > items[l]!.seq ? r : l;
      if (items[c]!.seq <= last.seq) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = last;
  }
}
