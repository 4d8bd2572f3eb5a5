/**
 * A cursor over what a reader at one snapshot sees in ONE memtable: for each key, its newest
 * version with seq ≤ snapshot, provided that version is a Put and no tombstone of this
 * memtable visible at the snapshot is newer than it. Deleted and hidden keys are skipped.
 *
 * This is the view for the memtable's own users (tests, tools, a memtable-only store). The
 * engine, which merges several sources, uses the raw `iterator()` plus `fragmentedTombstones()`
 * instead, because a tombstone here may hide keys that live in older sources.
 *
 * Invariant relied on: entries added while the cursor is open have seqs above the snapshot
 * (the engine hands out snapshots ≤ the last assigned seq), so they never change what it sees.
 */
import type { FragmentedRangeTombstones } from './fragmenter.js';
import { NIL, type PointSkiplist } from './skiplist.js';
import { EntryKind } from './types.js';

export class VisibleIterator {
  /** The node of the version being shown, or NIL when not valid. */
  private node = NIL;

  constructor(private readonly list: PointSkiplist, private readonly tombstones: FragmentedRangeTombstones, readonly snapshotSeq: number) {}

  valid(): boolean {
    return this.node !== NIL;
  }

  /** Only while `valid()`. A view of arena bytes: read-only, valid forever. */
  key(): Uint8Array {
    this.assertValid();
    return this.list.keyOf(this.node);
  }

  /** Only while `valid()`. A view of arena bytes: read-only, valid forever. */
  value(): Uint8Array {
    this.assertValid();
    return this.list.valueOf(this.node);
  }

  /** Seq of the version shown. Only while `valid()`. */
  seq(): number {
    this.assertValid();
    return this.list.seqOf(this.node);
  }

  seekToFirst(): void {
    this.settleForward(this.list.first());
  }

  seekToLast(): void {
    this.settleBackward(this.list.last());
  }

  /** First visible key ≥ `key`. */
  seek(key: Uint8Array): void {
    this.settleForward(this.list.seekGE(key, Number.MAX_SAFE_INTEGER));
  }

  /** Last visible key ≤ `key`. */
  seekForPrev(key: Uint8Array): void {
    this.settleBackward(this.list.seekLE(key));
  }

  next(): void {
    if (this.node === NIL) return;
    const list = this.list;
    let n = this.node;
    // Skip the older versions of the current key.
    while (list.next(n) !== NIL && list.sameKey(list.next(n), n)) n = list.next(n);
    this.settleForward(list.next(n));
  }

  prev(): void {
    if (this.node === NIL) return;
    const list = this.list;
    let n = this.node;
    // Skip the newer versions of the current key.
    while (list.prev(n) !== NIL && list.sameKey(list.prev(n), n)) n = list.prev(n);
    this.settleBackward(list.prev(n));
  }

  /** From `n`, the newest version of some key, moves forward to the first visible key. */
  private settleForward(n: number): void {
    const list = this.list;
    const snapshot = this.snapshotSeq;
    while (n !== NIL) {
      // Versions run newest first: the first with seq ≤ snapshot is the one this reader sees.
      let v = n;
      while (list.seqOf(v) > snapshot) {
        const after = list.next(v);
        if (after === NIL || !list.sameKey(after, v)) break;
        v = after;
      }
      if (list.seqOf(v) <= snapshot && this.shows(v)) {
        this.node = v;
        return;
      }
      while (list.next(v) !== NIL && list.sameKey(list.next(v), v)) v = list.next(v);
      n = list.next(v);
    }
    this.node = NIL;
  }

  /** From `n`, the oldest version of some key, moves backward to the last visible key. */
  private settleBackward(n: number): void {
    const list = this.list;
    const snapshot = this.snapshotSeq;
    while (n !== NIL) {
      // Going backward, versions get newer: the last one with seq ≤ snapshot is the one seen.
      let seen = NIL;
      let v = n;
      for (;;) {
        if (list.seqOf(v) <= snapshot) seen = v;
        const before = list.prev(v);
        if (before === NIL || !list.sameKey(before, v)) break;
        v = before;
      }
      if (seen !== NIL && this.shows(seen)) {
        this.node = seen;
        return;
      }
      n = list.prev(v);
    }
    this.node = NIL;
  }

  /** A visible version is shown iff it is a Put no visible tombstone of this memtable hides. */
  private shows(node: number): boolean {
    const list = this.list;
    if (list.kindOf(node) !== EntryKind.Put) return false;
    // A binary search per key, no cursor: the active memtable's list may grow while this is open.
    return this.tombstones.length === 0 || list.seqOf(node) > this.tombstones.maxCoveringSeq(list.keyOf(node), this.snapshotSeq);
  }

  private assertValid(): void {
    if (this.node === NIL) throw new RangeError('VisibleIterator used while not valid()');
  }
}
