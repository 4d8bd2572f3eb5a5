/**
 * Range-tombstone aggregation for reads: the range tombstones of every source an iterator
 * reads (memtables and tables), restricted to the reader's snapshot, cut into non-overlapping
 * fragments, each carrying the highest seq that covers it.
 *
 *   input   [a, k)#5   [c, e)#9   [d, m)#3
 *   output  [a, c)#5   [c, e)#9   [e, k)#5   [k, m)#3
 *
 * A point version k#t is hidden iff the fragment containing k has seq > t. Fragments let the
 * iterator answer that with one binary search — or, when keys arrive in order, by moving a
 * cursor — instead of testing every tombstone.
 */
import { compareKeys, type RangeTombstone } from '@strata-db/memtable';

export interface Fragment {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly seq: number;
}

/** Max-heap of tombstones by seq (the active set during the sweep). */
class SeqHeap {
  readonly items: RangeTombstone[] = [];
  push(t: RangeTombstone): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.seq >= a[i]!.seq) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  top(): RangeTombstone | undefined {
    return this.items[0];
  }
  pop(): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]!.seq > a[m]!.seq) m = l;
      if (r < a.length && a[r]!.seq > a[m]!.seq) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
  }
}

/** Cuts tombstones (any order, any overlap) into sorted, disjoint, maximal-seq fragments. */
export function fragment(tombstones: readonly RangeTombstone[], snapshotSeq: number): Fragment[] {
  const ts = tombstones.filter((t) => t.seq <= snapshotSeq && compareKeys(t.start, t.end) < 0);
  if (ts.length === 0) return [];
  ts.sort((a, b) => compareKeys(a.start, b.start));
  const bounds: Uint8Array[] = [];
  for (const t of ts) bounds.push(t.start, t.end);
  bounds.sort(compareKeys);
  const out: Fragment[] = [];
  const heap = new SeqHeap();
  let next = 0;
  for (let b = 0; b < bounds.length - 1; b++) {
    const lo = bounds[b]!;
    const hi = bounds[b + 1]!;
    if (compareKeys(lo, hi) === 0) continue;
    while (next < ts.length && compareKeys(ts[next]!.start, lo) <= 0) heap.push(ts[next++]!);
    // Lazily drop tombstones that end at or before this interval.
    while (heap.top() !== undefined && compareKeys(heap.top()!.end, lo) <= 0) heap.pop();
    const top = heap.top();
    if (top === undefined) continue;
    // The top of the heap may be stale (ended) only if it ends ≤ lo, which we just removed;
    // a non-top entry that has ended cannot be the max, so the top is right.
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.seq === top.seq && compareKeys(prev.end, lo) === 0) {
      out[out.length - 1] = { start: prev.start, end: hi, seq: top.seq };
    } else {
      out.push({ start: lo, end: hi, seq: top.seq });
    }
  }
  return out;
}

/**
 * The fragments of one read, with a cursor so that a scan in key order pays O(1) per key.
 */
export class RangeDelAggregator {
  private readonly frags: Fragment[];
  private cursor = 0;

  constructor(tombstones: readonly RangeTombstone[], snapshotSeq: number) {
    this.frags = fragment(tombstones, snapshotSeq);
  }

  get empty(): boolean {
    return this.frags.length === 0;
  }

  get fragments(): readonly Fragment[] {
    return this.frags;
  }

  /** Highest tombstone seq covering `key` (0 when none). */
  maxCoveringSeq(key: Uint8Array): number {
    const f = this.frags;
    if (f.length === 0) return 0;
    // Fast path: the key is in (or next to) the fragment of the previous lookup.
    let i = this.cursor;
    let cur = f[i]!;
    if (compareKeys(key, cur.start) >= 0) {
      if (compareKeys(key, cur.end) < 0) return cur.seq;
      i++;
      if (i < f.length) {
        cur = f[i]!;
        if (compareKeys(key, cur.start) < 0) return 0;
        if (compareKeys(key, cur.end) < 0) {
          this.cursor = i;
          return cur.seq;
        }
      }
    } else if (i > 0) {
      cur = f[i - 1]!;
      if (compareKeys(key, cur.end) >= 0) return 0;
      if (compareKeys(key, cur.start) >= 0) {
        this.cursor = i - 1;
        return cur.seq;
      }
    }
    // Binary search: the last fragment whose start ≤ key.
    let lo = 0;
    let hi = f.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(f[mid]!.start, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    this.cursor = lo - 1;
    cur = f[lo - 1]!;
    return compareKeys(key, cur.end) < 0 ? cur.seq : 0;
  }

  /** Whether version key#seq is deleted by a range tombstone. */
  covers(key: Uint8Array, seq: number): boolean {
    return this.frags.length !== 0 && this.maxCoveringSeq(key) > seq;
  }

  /**
   * When `key` sits in a fragment whose seq exceeds every version the sources can hold for the
   * keys of that fragment, a forward scan may skip straight to the fragment's end. Returns that
   * end if the fragment covers `key` with seq > maxSeqBelow, else undefined.
   */
  skipTarget(key: Uint8Array, maxSeqBelow: number): Uint8Array | undefined {
    if (this.frags.length === 0) return undefined;
    const seq = this.maxCoveringSeq(key);
    if (seq <= maxSeqBelow) return undefined;
    return this.frags[this.cursor]!.end;
  }
}
