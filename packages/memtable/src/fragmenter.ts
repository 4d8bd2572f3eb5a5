/**
 * THE range-tombstone fragmenter (Pebble's keyspan.Fragmenter is the model): turns overlapping
 * `[start, end)#seq` tombstones into spans that do not overlap, each carrying the seqs of ALL the
 * tombstones covering it, newest first.
 *
 *   input   [a, k)#5   [c, e)#9   [d, m)#3
 *   spans   [a, c){5}  [c, d){9, 5}  [d, e){9, 5, 3}  [e, k){5, 3}  [k, m){3}
 *
 * Every consumer asks its question of the spans instead of the raw list, each through a view:
 *  - readers (memtable get and scan, table get, the engine's iterators): "the newest seq ≤ my
 *    snapshot covering key k" — `maxCoveringSeq(k, snapshot)`, a binary search, or
 *    `FragmentCursor` when keys arrive in order (O(1) per key);
 *  - compaction: which seqs cover point k (`FragmentCursor.covering`), which survive (it builds
 *    new spans from these), and "the tombstones an output table cut to [lo, hi) must carry"
 *    (`clip`).
 * Keeping every seq (not just the newest) is what lets one list serve every snapshot: a view is
 * never built per snapshot, so a source — a table, a frozen memtable — fragments its tombstones
 * once and every reader at any snapshot shares the result.
 *
 * Size: a span has one seq per tombstone covering it, so n tombstones nested inside each other
 * give 2n spans with n/2 seqs on average; n disjoint ones give n spans of one seq.
 *
 * Mutation (the active memtable only): `addNewest` inserts a tombstone newer than every one
 * already in, in place — O(log spans + spans it covers + splice). A reader at a snapshot below
 * the new seq gets exactly the answers it got before (the new seq is above its snapshot), so
 * readers keep working across additions; `FragmentCursor` notices the change (`changes`) and
 * re-seeks instead of trusting a stale index. Span objects themselves are never mutated.
 */
import { keyWord } from './skiplist.js';
import { compareKeys, type RangeTombstone } from './types.js';

/** `[start, end)` covered by the tombstones whose seqs are `seqs` (newest first, no duplicates, never empty). */
export interface TombstoneSpan {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly seqs: readonly number[];
}

/** The newest seq in `seqs` (DESC) that is ≤ `snapshotSeq`; 0 if none. */
export function visibleSeq(seqs: readonly number[], snapshotSeq: number): number {
  const newest = seqs[0]!;
  if (newest <= snapshotSeq) return newest; // the usual case: the reader sees every tombstone
  let lo = 1;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! > snapshotSeq) lo = mid + 1;
    else hi = mid;
  }
  return lo < seqs.length ? seqs[lo]! : 0;
}

/**
 * Sorted, non-overlapping, non-empty spans. Keys in no span are covered by no tombstone.
 * Immutable unless made by `FragmentedRangeTombstones.growable()` (see the file header).
 */
export class FragmentedRangeTombstones {
  static readonly EMPTY = new FragmentedRangeTombstones([]);

  /** Bumped by every `addNewest`: a cursor holding an index re-seeks when it moved. */
  changes = 0;
  /** Largest seq of any span; 0 when empty. */
  maxSeq: number;
  private list: TombstoneSpan[];
  /** The spans summarised for lookups; dropped by `addNewest`, rebuilt once lookups have paid for it. */
  private index: SpanIndex | undefined;
  /** Lookups since the last change (or construction) without `index`. */
  private plainLookups = 0;

  /** @param spans sorted, non-overlapping; taken over, not copied. */
  constructor(spans: TombstoneSpan[]) {
    this.list = spans;
    let max = 0;
    for (const s of spans) if (s.seqs[0]! > max) max = s.seqs[0]!;
    this.maxSeq = max;
  }

  /** An empty list that `addNewest` may grow. */
  static growable(): FragmentedRangeTombstones {
    return new FragmentedRangeTombstones([]);
  }

  get spans(): readonly TombstoneSpan[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  /**
   * Index of the first span whose end is > `key` — the span covering `key` if there is one,
   * else the next span to the right. `length` if none.
   */
  seek(key: Uint8Array): number {
    const index = this.indexed();
    if (index !== undefined) return index.seek(key);
    const spans = this.list;
    let lo = 0;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(spans[mid]!.end, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The index, once lookups have paid for building it (O(spans)): always soon for tables and
   * frozen memtables; for the active memtable once reads outnumber range deletions; never for a
   * list that changes between every few reads.
   */
  private indexed(): SpanIndex | undefined {
    if (this.index === undefined && ++this.plainLookups > (this.list.length >>> 3) + 16) this.index = new SpanIndex(this.list);
    return this.index;
  }

  /** The span covering `key`, if any. O(log spans). */
  covering(key: Uint8Array): TombstoneSpan | undefined {
    const span = this.list[this.seek(key)];
    return span !== undefined && compareKeys(span.start, key) <= 0 ? span : undefined;
  }

  /** Largest seq ≤ `snapshotSeq` of a tombstone covering `key`; 0 if none. O(log spans + log depth). */
  maxCoveringSeq(key: Uint8Array, snapshotSeq = Number.MAX_SAFE_INTEGER): number {
    const index = this.indexed();
    if (index !== undefined) return index.maxCoveringSeq(key, snapshotSeq);
    const span = this.covering(key);
    return span === undefined ? 0 : visibleSeq(span.seqs, snapshotSeq);
  }

  /**
   * The tombstones an output table covering `[lo, hi)` must carry (`undefined` = unbounded):
   * the spans clipped to the range, and the pieces of one seq that touch joined back into one
   * tombstone. Sorted (start ASC, seq DESC), as tables store them.
   */
  clip(lo: Uint8Array | undefined, hi: Uint8Array | undefined): RangeTombstone[] {
    const out: RangeTombstone[] = [];
    // seq -> index in `out` of that seq's latest piece, which the next piece may extend.
    const open = new Map<number, number>();
    const spans = this.list;
    for (let i = lo === undefined ? 0 : this.seek(lo); i < spans.length; i++) {
      const f = spans[i]!;
      if (hi !== undefined && compareKeys(f.start, hi) >= 0) break;
      const start = lo !== undefined && compareKeys(f.start, lo) < 0 ? lo : f.start;
      const end = hi !== undefined && compareKeys(f.end, hi) > 0 ? hi : f.end;
      if (compareKeys(start, end) >= 0) continue;
      for (const seq of f.seqs) {
        const at = open.get(seq);
        const prev = at === undefined ? undefined : out[at];
        if (prev !== undefined && compareKeys(prev.end, start) === 0) {
          out[at!] = { start: prev.start, end, seq };
        } else {
          open.set(seq, out.length);
          out.push({ start, end, seq });
        }
      }
    }
    return out.sort((a, b) => compareKeys(a.start, b.start) || b.seq - a.seq);
  }

  /**
   * Adds `t`, whose seq must be above every seq already here (the memtable's invariant: seqs
   * strictly increase). Spans it covers get `t.seq` in front; spans it cuts are split at its
   * bounds; its gaps become spans of `t.seq` alone. Returns how many spans `t` now covers.
   */
  addNewest(t: RangeTombstone): number {
    const spans = this.list;
    const from = this.seek(t.start);
    // First span starting at or after t.end: the first past t.
    let lo = from;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(spans[mid]!.start, t.end) < 0) lo = mid + 1;
      else hi = mid;
    }
    const to = lo;
    const seq = t.seq;
    const out: TombstoneSpan[] = [];
    let at = t.start;
    for (let i = from; i < to; i++) {
      const s = spans[i]!;
      if (compareKeys(s.start, at) < 0) {
        out.push({ start: s.start, end: at, seqs: s.seqs }); // the part left of t (first span only)
      } else if (compareKeys(at, s.start) < 0) {
        out.push({ start: at, end: s.start, seqs: [seq] }); // a gap t alone covers
        at = s.start;
      }
      const cut = compareKeys(s.end, t.end) > 0;
      const end = cut ? t.end : s.end;
      out.push({ start: at, end, seqs: [seq, ...s.seqs] });
      at = end;
      if (cut) out.push({ start: end, end: s.end, seqs: s.seqs }); // the part right of t (last span only)
    }
    if (compareKeys(at, t.end) < 0) out.push({ start: at, end: t.end, seqs: [seq] });
    let covered = 0;
    for (const s of out) if (s.seqs[0] === seq) covered++;
    if (out.length < 4096) {
      spans.splice(from, to - from, ...out);
    } else {
      // A spread of this many arguments could overflow the stack.
      this.list = spans.slice(0, from).concat(out, spans.slice(to));
    }
    this.maxSeq = seq;
    this.changes++;
    this.index = undefined;
    this.plainLookups = 0;
    return covered;
  }
}

/**
 * The spans as lookups want them, in typed arrays: the bytes every key of the list shares
 * (`shared`, at most 32), then for each span its start's and its end's next 8 bytes as two
 * order-preserving int32 words each (the skiplist's `keyWord`), and its newest seq. A binary
 * search step compares numbers in one contiguous array instead of loading a span, its key object
 * and that key's bytes — the cache misses, not the comparisons, made a lookup in 10,000 spans
 * cost µs — and a key no span covers (the usual answer) is settled without loading any span.
 * Full keys are compared only where both words are equal.
 */
class SpanIndex {
  private readonly shared: number;
  /** Per span: start word 1, start word 2, end word 1, end word 2. */
  private readonly words: Int32Array;
  /** Per span: its newest seq. */
  private readonly newest: Float64Array;
  /** The key words of the last `seek`, for `maxCoveringSeq` (unset when `belowAll`). */
  private w1 = 0;
  private w2 = 0;
  /** Whether the last `seek` found the key below the shared head, hence below every key here. */
  private belowAll = false;

  constructor(private readonly spans: readonly TombstoneSpan[]) {
    const n = spans.length;
    let shared = 0;
    if (n > 0) {
      // Every key of the list lies between the first start and the last end, so shares what they share.
      const a = spans[0]!.start;
      const b = spans[n - 1]!.end;
      const max = Math.min(a.length, b.length, 32);
      while (shared < max && a[shared] === b[shared]) shared++;
    }
    this.shared = shared;
    const words = new Int32Array(4 * n);
    const newest = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const { start, end, seqs } = spans[i]!;
      words[4 * i] = keyWord(start, 0, start.length, shared);
      words[4 * i + 1] = keyWord(start, 0, start.length, shared + 4);
      words[4 * i + 2] = keyWord(end, 0, end.length, shared);
      words[4 * i + 3] = keyWord(end, 0, end.length, shared + 4);
      newest[i] = seqs[0]!;
    }
    this.words = words;
    this.newest = newest;
  }

  /** `FragmentedRangeTombstones.seek`. */
  seek(key: Uint8Array): number {
    const spans = this.spans;
    const n = spans.length;
    if (n === 0) return 0;
    const shared = this.shared;
    const head = spans[0]!.start;
    this.belowAll = true;
    for (let i = 0; i < shared; i++) {
      // Every key here starts with head[0, shared): a key below that is below all, above it above all.
      if (i >= key.length) return 0;
      const d = key[i]! - head[i]!;
      if (d < 0) return 0;
      if (d > 0) return n;
    }
    this.belowAll = false;
    const w1 = (this.w1 = keyWord(key, 0, key.length, shared));
    const w2 = (this.w2 = keyWord(key, 0, key.length, shared + 4));
    const words = this.words;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = words[4 * mid + 2]!;
      let endAfterKey: boolean;
      if (a !== w1) endAfterKey = a > w1;
      else {
        const b = words[4 * mid + 3]!;
        endAfterKey = b !== w2 ? b > w2 : compareKeys(spans[mid]!.end, key) > 0;
      }
      if (endAfterKey) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** `maxCoveringSeq`: the span `seek` finds, if its start is ≤ key, and the newest seq of it visible. */
  maxCoveringSeq(key: Uint8Array, snapshotSeq: number): number {
    const i = this.seek(key);
    if (i === this.spans.length || this.belowAll) return 0;
    const words = this.words;
    const a = words[4 * i]!;
    let startAfterKey: boolean;
    if (a !== this.w1) startAfterKey = a > this.w1;
    else {
      const b = words[4 * i + 1]!;
      startAfterKey = b !== this.w2 ? b > this.w2 : compareKeys(this.spans[i]!.start, key) > 0;
    }
    if (startAfterKey) return 0;
    const newest = this.newest[i]!;
    return newest <= snapshotSeq ? newest : visibleSeq(this.spans[i]!.seqs, snapshotSeq);
  }
}

/**
 * Fragments `tombstones` (any order, overlaps and duplicates allowed). A sweep over the sorted
 * boundary keys, keeping the tombstones open at the current boundary sorted by seq DESC:
 * O(n log n + the size of the output).
 */
export function fragmentTombstones(tombstones: Iterable<RangeTombstone>): FragmentedRangeTombstones {
  const list: RangeTombstone[] = [];
  for (const t of tombstones) if (compareKeys(t.start, t.end) < 0) list.push(t);
  if (list.length === 0) return FragmentedRangeTombstones.EMPTY;
  list.sort((a, b) => compareKeys(a.start, b.start));
  const bounds: Uint8Array[] = [];
  for (const t of list) bounds.push(t.start, t.end);
  bounds.sort(compareKeys);

  const spans: TombstoneSpan[] = [];
  let open: RangeTombstone[] = []; // seq DESC
  let next = 0;
  for (let b = 0; b + 1 < bounds.length; b++) {
    const at = bounds[b]!;
    const to = bounds[b + 1]!;
    if (compareKeys(at, to) === 0) continue; // a repeated boundary: an empty interval
    // Every start ≤ `at` is a boundary ≤ `at`: this admits exactly the tombstones starting here.
    while (next < list.length && compareKeys(list[next]!.start, at) <= 0) insertBySeq(open, list[next++]!);
    // Each tombstone leaves once, at its end: the scan below costs no more than the output.
    if (open.some((t) => compareKeys(t.end, at) <= 0)) open = open.filter((t) => compareKeys(t.end, at) > 0);
    if (open.length === 0) continue;
    const seqs: number[] = [];
    for (const t of open) if (seqs[seqs.length - 1] !== t.seq) seqs.push(t.seq);
    spans.push({ start: at, end: to, seqs });
  }
  return new FragmentedRangeTombstones(spans);
}

function insertBySeq(open: RangeTombstone[], t: RangeTombstone): void {
  let lo = 0;
  let hi = open.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (open[mid]!.seq > t.seq) lo = mid + 1;
    else hi = mid;
  }
  open.splice(lo, 0, t);
}

/**
 * A position in one fragmented list for a reader whose keys mostly arrive in order (a scan, a
 * compaction): each lookup first looks at the span of the previous one and its neighbours, and
 * binary-searches only on a jump. Answers are exactly those of the list's own methods.
 */
export class FragmentCursor {
  private i = 0;
  private seenChanges: number;

  constructor(
    readonly fragments: FragmentedRangeTombstones,
    /** The reader's snapshot: seqs above it are invisible to `maxCoveringSeq`. */
    readonly snapshotSeq = Number.MAX_SAFE_INTEGER,
  ) {
    this.seenChanges = fragments.changes;
  }

  /** The span covering `key`, if any. */
  covering(key: Uint8Array): TombstoneSpan | undefined {
    const f = this.fragments;
    const spans = f.spans;
    const n = spans.length;
    if (n === 0) return undefined;
    const i = this.i;
    if (this.seenChanges !== f.changes) {
      this.seenChanges = f.changes; // the list changed under us: `i` means nothing now, search
    } else if (i < n) {
      const cur = spans[i]!;
      if (compareKeys(key, cur.start) >= 0) {
        if (compareKeys(key, cur.end) < 0) return cur;
        const after = spans[i + 1];
        if (after === undefined) return undefined;
        if (compareKeys(key, after.start) < 0) return undefined; // in the gap just after
        if (compareKeys(key, after.end) < 0) {
          this.i = i + 1;
          return after;
        }
      } else {
        const before = spans[i - 1];
        if (before === undefined || compareKeys(key, before.end) >= 0) return undefined; // in the gap just before
        if (compareKeys(key, before.start) >= 0) {
          this.i = i - 1;
          return before;
        }
      }
    }
    const at = f.seek(key);
    this.i = at < n ? at : n - 1;
    const span = spans[at];
    return span !== undefined && compareKeys(span.start, key) <= 0 ? span : undefined;
  }

  /** Largest seq ≤ the snapshot of a tombstone covering `key`; 0 if none. */
  maxCoveringSeq(key: Uint8Array): number {
    const span = this.covering(key);
    return span === undefined ? 0 : visibleSeq(span.seqs, this.snapshotSeq);
  }
}
