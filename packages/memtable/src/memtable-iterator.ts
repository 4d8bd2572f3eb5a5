/**
 * The raw iterator over a memtable's point entries: every version, (key ASC, seq DESC), no
 * snapshot filtering and no tombstones — the `InternalIterator` that merging readers combine
 * with the iterators of frozen memtables and tables.
 *
 * Over an active memtable, entries inserted while the iterator is open may or may not be
 * seen depending on where they land relative to the cursor; readers filter by seq anyway, and
 * every new entry has a seq above any snapshot taken before it.
 */
import { NIL, type PointSkiplist } from './skiplist.js';
import type { InternalIterator, PointEntry } from './types.js';

export class MemtableIterator implements InternalIterator {
  private node = NIL;
  /** `entry()` of the current node, built at most once per position. */
  private cached: PointEntry | undefined;

  constructor(private readonly list: PointSkiplist) {}

  valid(): boolean {
    return this.node !== NIL;
  }

  entry(): PointEntry {
    if (this.node === NIL) throw new RangeError('MemtableIterator.entry() called while not valid()');
    this.cached ??= this.list.entryOf(this.node);
    return this.cached;
  }

  seekToFirst(): void {
    this.moveTo(this.list.first());
  }

  seekToLast(): void {
    this.moveTo(this.list.last());
  }

  seek(key: Uint8Array): void {
    this.moveTo(this.list.seekGE(key, Number.MAX_SAFE_INTEGER));
  }

  seekForPrev(key: Uint8Array): void {
    this.moveTo(this.list.seekLE(key));
  }

  next(): void {
    if (this.node !== NIL) this.moveTo(this.list.next(this.node));
  }

  prev(): void {
    if (this.node !== NIL) this.moveTo(this.list.prev(this.node));
  }

  private moveTo(node: number): void {
    this.node = node;
    this.cached = undefined;
  }
}
