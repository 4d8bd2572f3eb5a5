/**
 * Where a compaction cuts its output into tables.
 *
 * Cuts fall only between user keys (never between two versions of one key), so at L1 and below
 * every user key lives in exactly one table of a level, and a point read consults one table per
 * level. A cut happens before a new user key when the table being written has reached
 * `targetFileSize`, or — as LevelDB does — when the keys written so far overlap more than
 * `maxGrandparentOverlapBytes` of the level below the output: a table that overlaps too much of
 * its grandparents makes the next compaction of it expensive.
 *
 * What the splitter reads of the grandparents is, in key order, each one's largest key and its
 * size — nothing else (not its smallest key, not its number). A compaction job is sent to a
 * worker thread as a structured-cloned message, and under random writes an L0→L1 job's
 * grandparents are every file of L2 (~2,000 at 100M keys): sent as file metadata they were an
 * object and two key buffers each in the worker's heap. They go as `GrandparentBoundaries`
 * instead, three typed arrays (~28 bytes a grandparent with 16-byte keys, no object per file),
 * from which the splitter reads exactly the sequence it read of the files: the same cuts.
 *
 * Range tombstones are cut with the tables: a table whose last user key is `a` carries its
 * tombstone pieces up to `successor(a)` (exclusive) and the next table carries them from
 * `successor(a)`. Nothing sorts between `a` and `successor(a)`, so the pieces leave no gap, and
 * the first table covers exactly the keys `≤ a`: its inclusive largest key is `a`, the next
 * table's smallest is `≥ successor(a) > a`. Tables of one level therefore never touch
 * (see `inclusiveUpperBound`).
 */
import { compareKeys, type RangeTombstone } from '@strata-db/memtable';
import type { KeyRange } from './key-range.js';

export interface SizedRange extends KeyRange {
  readonly fileSize: number;
}

/**
 * The grandparents as the splitter reads them (see the header): in key order, the i-th one's
 * largest key is `keys[keyEnds[i - 1] … keyEnds[i])` (from 0 for the first) and its size
 * `sizes[i]`. Each array has a buffer of its own (a structured clone copies a view's whole buffer).
 */
export interface GrandparentBoundaries {
  readonly keys: Uint8Array;
  readonly keyEnds: Uint32Array;
  readonly sizes: Float64Array;
}

/** `files` (sorted, disjoint) as the splitter reads them. */
export function grandparentBoundaries(files: readonly SizedRange[]): GrandparentBoundaries {
  let keyBytes = 0;
  for (const f of files) keyBytes += f.largestKey.length;
  const keys = new Uint8Array(keyBytes);
  const keyEnds = new Uint32Array(files.length);
  const sizes = new Float64Array(files.length);
  let at = 0;
  files.forEach((f, i) => {
    keys.set(f.largestKey, at);
    at += f.largestKey.length;
    keyEnds[i] = at;
    sizes[i] = f.fileSize;
  });
  return { keys, keyEnds, sizes };
}

export const NO_GRANDPARENTS: GrandparentBoundaries = grandparentBoundaries([]);

export interface OutputSplitterOptions {
  readonly targetFileSize: number;
  /** Tables of the level below the output level, sorted, non-overlapping. */
  readonly grandparents: GrandparentBoundaries;
  readonly maxGrandparentOverlapBytes: number;
}

export class OutputSplitter {
  private gpIndex = 0;
  /** The largest key of grandparent `gpIndex` (a view of `keys`), made when first compared. */
  private gpKey: Uint8Array | undefined;
  private seenKey = false;
  private overlappedBytes = 0;

  constructor(private readonly options: OutputSplitterOptions) {}

  /**
   * Called once per user key, in ascending order, before the key's first version is written.
   * `currentSize` is the estimated size of the table being written (0 when none is open).
   * Returns true when the current table should be finished before this key.
   */
  shouldCutBefore(key: Uint8Array, currentSize: number): boolean {
    const { keys, keyEnds, sizes } = this.options.grandparents;
    // Account for the grandparent tables wholly before `key`: the table being written spans them.
    while (this.gpIndex < sizes.length) {
      this.gpKey ??= keys.subarray(this.gpIndex === 0 ? 0 : keyEnds[this.gpIndex - 1], keyEnds[this.gpIndex]);
      if (compareKeys(key, this.gpKey) <= 0) break;
      if (this.seenKey) this.overlappedBytes += sizes[this.gpIndex]!;
      this.gpIndex++;
      this.gpKey = undefined;
    }
    this.seenKey = true;
    if (currentSize === 0) return false;
    if (currentSize >= this.options.targetFileSize || this.overlappedBytes > this.options.maxGrandparentOverlapBytes) {
      this.overlappedBytes = 0;
      return true;
    }
    return false;
  }
}

/**
 * The smallest key `x` such that the keys `< end` are exactly the keys `≤ x` — when one exists:
 * for `end = successor(a)` that is `a`. Otherwise `end` itself, a conservative inclusive bound.
 */
export function inclusiveUpperBound(end: Uint8Array): Uint8Array {
  return end.length > 0 && end[end.length - 1] === 0 ? end.subarray(0, end.length - 1) : end;
}

/**
 * The inclusive key range of an output table holding points `firstKey … lastKey` (absent when it
 * holds none) and `tombstones` — the range the version set records and every overlap test uses.
 */
export function outputTableRange(
  firstKey: Uint8Array | undefined,
  lastKey: Uint8Array | undefined,
  tombstones: readonly RangeTombstone[],
): KeyRange | undefined {
  let smallest = firstKey;
  let largest = lastKey;
  for (const t of tombstones) {
    if (smallest === undefined || compareKeys(t.start, smallest) < 0) smallest = t.start;
    const upper = inclusiveUpperBound(t.end);
    if (largest === undefined || compareKeys(upper, largest) > 0) largest = upper;
  }
  return smallest === undefined || largest === undefined ? undefined : { smallestKey: smallest, largestKey: largest };
}
