/**
 * Small helpers over user keys shared by the compaction modules. Keys are compared bytewise
 * (`compareKeys`), the one order every package agrees on.
 */
import { compareKeys } from '@strata-db/memtable';

/**
 * The immediate successor of `key` in bytewise order: `key + 0x00`. Nothing sorts strictly
 * between `key` and `successor(key)`, so `[x, successor(key))` covers exactly the keys `x … key`
 * inclusive. The output splitter relies on this to cut range tombstones at a table boundary
 * without leaving a gap and without making two tables of one level touch.
 */
export function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}

export function minKey(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareKeys(a, b) <= 0 ? a : b;
}

export function maxKey(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareKeys(a, b) >= 0 ? a : b;
}

/** The inclusive key range of a table as the version set records it (largest may be a tombstone's exclusive end: a conservative bound). */
export interface KeyRange {
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
}

/** Do two inclusive ranges share at least one key? */
export function rangesOverlap(a: KeyRange, smallest: Uint8Array, largest: Uint8Array): boolean {
  return compareKeys(a.largestKey, smallest) >= 0 && compareKeys(a.smallestKey, largest) <= 0;
}
