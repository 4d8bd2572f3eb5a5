/**
 * Range tombstones of a compaction, cut into non-overlapping fragments (as Pebble's fragmenter
 * does). Overlapping tombstones `[a, m)#5` and `[c, z)#7` become `[a, c){5}`, `[c, m){7, 5}`,
 * `[m, z){7}`: within one fragment every seq covers exactly the same keys, which makes the three
 * questions compaction asks cheap and exact:
 *  - is point `k#t` hidden for every reader that can see it? (a seq `s > t` in t's stripe)
 *  - which seqs must survive? (the newest per stripe; drop stripe 0 at the bottom of the tree)
 *  - what goes into an output table covering `[lo, hi)`? (clip fragments, rejoin equal seqs)
 */
import { compareKeys, type RangeTombstone } from '@strata-db/memtable';
import type { SnapshotStripes } from './snapshot-stripes.js';

export interface Fragment {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  /** Seqs of the tombstones covering the whole fragment, newest first, without duplicates. */
  seqs: number[];
}

/** Cut `tombstones` (any order) into sorted, non-overlapping, non-empty fragments. */
export function fragmentTombstones(tombstones: Iterable<RangeTombstone>): Fragment[] {
  const list = [...tombstones].filter((t) => compareKeys(t.start, t.end) < 0);
  if (list.length === 0) return [];
  const bounds: Uint8Array[] = [];
  for (const t of list) bounds.push(t.start, t.end);
  bounds.sort(compareKeys);
  const points: Uint8Array[] = [];
  for (const b of bounds) if (points.length === 0 || compareKeys(points[points.length - 1]!, b) !== 0) points.push(b);
  list.sort((a, b) => compareKeys(a.start, b.start));

  // Sweep the elementary intervals [points[i], points[i+1]) left to right with the set of
  // tombstones that started at or before the interval and end after it.
  const out: Fragment[] = [];
  let active: RangeTombstone[] = [];
  let next = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i]!;
    const hi = points[i + 1]!;
    while (next < list.length && compareKeys(list[next]!.start, lo) <= 0) active.push(list[next++]!);
    active = active.filter((t) => compareKeys(t.end, lo) > 0);
    if (active.length === 0) continue;
    const seqs = [...new Set(active.map((t) => t.seq))].sort((a, b) => b - a);
    out.push({ start: lo, end: hi, seqs });
  }
  return out;
}

/**
 * Keep, per fragment, the newest seq of each stripe (an older tombstone in the same stripe hides
 * a subset of what the newer one hides, for exactly the same readers); drop a stripe-0 seq when
 * `olderDataBelow(start, end)` says nothing older can exist beneath the output level. Fragments
 * left with no seq are removed. Returns the surviving fragments (new objects).
 */
export function collapseFragments(
  fragments: readonly Fragment[],
  stripes: SnapshotStripes,
  olderDataBelow: (start: Uint8Array, end: Uint8Array) => boolean,
): Fragment[] {
  const out: Fragment[] = [];
  for (const f of fragments) {
    const seqs: number[] = [];
    let last = -1;
    for (const s of f.seqs) {
      const st = stripes.stripeOf(s);
      if (st === last) continue;
      last = st;
      seqs.push(s);
    }
    if (seqs.length > 0 && stripes.stripeOf(seqs[seqs.length - 1]!) === 0 && !olderDataBelow(f.start, f.end)) seqs.pop();
    if (seqs.length > 0) out.push({ start: f.start, end: f.end, seqs });
  }
  return out;
}

/**
 * A forward-only cursor answering "which fragment covers key k?" for keys given in ascending
 * order — compaction visits points in key order, so the whole pass is linear.
 */
export class FragmentCursor {
  private i = 0;
  constructor(private readonly fragments: readonly Fragment[]) {}

  /** The fragment containing `key`, if any. Keys must not decrease between calls. */
  covering(key: Uint8Array): Fragment | undefined {
    const f = this.fragments;
    while (this.i < f.length && compareKeys(f[this.i]!.end, key) <= 0) this.i++;
    const frag = f[this.i];
    return frag !== undefined && compareKeys(frag.start, key) <= 0 ? frag : undefined;
  }
}

/**
 * The tombstones an output table covering `[lo, hi)` must carry (`undefined` = unbounded):
 * every fragment clipped to the range, pieces of one seq that touch joined back into one
 * tombstone. Sorted (start ASC, seq DESC) as tables store them.
 */
export function clipFragments(fragments: readonly Fragment[], lo: Uint8Array | undefined, hi: Uint8Array | undefined): RangeTombstone[] {
  const out: RangeTombstone[] = [];
  // seq -> the index in `out` of the piece of that seq that ends where the next may begin.
  const open = new Map<number, number>();
  for (const f of fragments) {
    if (lo !== undefined && compareKeys(f.end, lo) <= 0) continue;
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
