/**
 * The table's range tombstones, (start ASC, seq DESC), optionally limited to those that overlap
 * [lower, upper). They were loaded (and checksum-verified) when the table was opened, so this
 * never touches the file.
 */
import { compareKeys, type RangeTombstone } from '@strata-db/memtable';
import { StrataError } from '@strata-db/errors';
import { type Table } from '@strata-db/sstable-core';
import type { TableIteratorOptions } from './table-iterator.js';

export class TombstoneIterator implements Iterable<RangeTombstone> {
  private readonly tombstones: readonly RangeTombstone[];
  private i = -1;

  constructor(tombstones: readonly RangeTombstone[]) {
    this.tombstones = tombstones;
  }

  get length(): number {
    return this.tombstones.length;
  }

  valid(): boolean {
    return this.i >= 0 && this.i < this.tombstones.length;
  }

  tombstone(): RangeTombstone {
    const t = this.tombstones[this.i];
    if (t === undefined) throw new StrataError('INVALID_ARGUMENT', 'tombstone iterator is not positioned: call tombstone() only while valid()');
    return t;
  }

  seekToFirst(): void {
    this.i = 0;
  }

  seekToLast(): void {
    this.i = this.tombstones.length - 1;
  }

  /** First tombstone whose start ≥ `key`. */
  seek(key: Uint8Array): void {
    let lo = 0;
    let hi = this.tombstones.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.tombstones[mid]!.start, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.i = lo;
  }

  next(): void {
    this.i++;
  }

  prev(): void {
    this.i--;
  }

  [Symbol.iterator](): Iterator<RangeTombstone> {
    return this.tombstones[Symbol.iterator]();
  }
}

/** An iterator over `table`'s range tombstones that overlap [lower, upper) (all without bounds). */
export function tableTombstones(table: Table, options: TableIteratorOptions = {}): TombstoneIterator {
  const { lower, upper } = options;
  let ts = table.rangeTombstones();
  if (lower !== undefined || upper !== undefined) {
    ts = ts.filter((t) => (lower === undefined || compareKeys(t.end, lower) > 0) && (upper === undefined || compareKeys(t.start, upper) < 0));
  }
  return new TombstoneIterator(ts);
}
