/**
 * A level's files as flat arrays for point reads (Version.search): the key-range checks and the
 * fields a probe needs, without touching the FileMetadata objects.
 */
import { compareKeys } from '@strata-db/memtable';
import { prefixNumber } from '@strata-db/sstable-core';
import type { FileMetadata } from './file-metadata.js';

/** `LevelSearch.keyPosition` of a key below / above every key of the level (else its prefix number, ≥ 0). */
export const BELOW = -1;
export const ABOVE = -2;

/** Fields of `LevelSearch.info` (offsets from 4·file). */
const SMALLEST = 0;
const FILE_NUMBER = 1;
const MIN_SEQ = 2;
const TOMBSTONES = 3;

/**
 * One level's files as flat arrays, for point reads. Every smallest and largest key of the level
 * starts with the same `lcp` bytes (the level's common prefix); the next (up to) 6 bytes of each
 * are one number (sstable-core's prefixNumber, as the table index does) that orders like the
 * bytes, so a key-range check compares two numbers, and the keys themselves only when the numbers
 * are equal. A probe reads the file's number, minSeq and tombstone count from here too: the
 * FileMetadata object is touched only on such a tie.
 */
export class LevelSearch {
  readonly count: number;
  /** Bytes every smallest and largest key of the level starts with. */
  private readonly lcp: number;
  /** A key with that prefix (the level's smallest). */
  private readonly ref: Uint8Array;
  /** Per file, its largest key's number (searched alone: a compact array). */
  private readonly largest: Float64Array;
  /**
   * Per file i, four numbers side by side at 4i (one CPU cache line, not four arrays' worth: the
   * level's files are cold on random gets over a large database): its smallest key's number, its
   * file number, minSeq and tombstone count.
   */
  private readonly info: Float64Array;

  constructor(readonly files: readonly FileMetadata[]) {
    const n = files.length;
    this.count = n;
    this.largest = new Float64Array(n);
    this.info = new Float64Array(4 * n);
    if (n === 0) {
      this.lcp = 0;
      this.ref = new Uint8Array(0);
      return;
    }
    // The common prefix of a set of keys is that of its least and greatest (L0's files overlap:
    // found by comparing; a sorted level's are its first smallest and last largest).
    let lo = files[0]!.smallestKey;
    let hi = files[n - 1]!.largestKey;
    for (const f of files) {
      if (compareKeys(f.smallestKey, lo) < 0) lo = f.smallestKey;
      if (compareKeys(f.largestKey, hi) > 0) hi = f.largestKey;
    }
    const max = Math.min(lo.length, hi.length);
    let lcp = 0;
    while (lcp < max && lo[lcp] === hi[lcp]) lcp++;
    this.lcp = lcp;
    this.ref = lo;
    for (let i = 0; i < n; i++) {
      const f = files[i]!;
      this.largest[i] = prefixNumber(f.largestKey, lcp, f.largestKey.length);
      this.info[4 * i + SMALLEST] = prefixNumber(f.smallestKey, lcp, f.smallestKey.length);
      this.info[4 * i + FILE_NUMBER] = f.fileNumber;
      this.info[4 * i + MIN_SEQ] = f.minSeq;
      this.info[4 * i + TOMBSTONES] = f.tombstoneCount;
    }
  }

  /**
   * Bytes of memory this takes: the object, its two Float64Arrays (a view, an ArrayBuffer and
   * its backing store's bookkeeping each, ~300 bytes) and 40 bytes a file.
   */
  get bytes(): number {
    return 128 + 2 * 300 + 40 * this.count;
  }

  /** BELOW or ABOVE every key of the level, else `key`'s prefix number (for the other methods). */
  keyPosition(key: Uint8Array): number {
    const lcp = this.lcp;
    const ref = this.ref;
    const klen = key.length;
    let d = 0;
    for (let i = 0; i < lcp && d === 0; i++) d = i < klen ? key[i]! - ref[i]! : -1;
    if (d < 0) return BELOW;
    if (d > 0) return ABOVE;
    return prefixNumber(key, lcp, klen);
  }

  /** Sign of key − file i's smallest key; `target` is `keyPosition(key)` (≥ 0). */
  compareSmallest(i: number, key: Uint8Array, target: number): number {
    const num = this.info[4 * i + SMALLEST]!;
    return num !== target ? target - num : compareKeys(key, this.files[i]!.smallestKey);
  }

  /** Sign of key − file i's largest key; `target` is `keyPosition(key)` (≥ 0). */
  compareLargest(i: number, key: Uint8Array, target: number): number {
    const num = this.largest[i]!;
    return num !== target ? target - num : compareKeys(key, this.files[i]!.largestKey);
  }

  /** File i's number. */
  fileNumber(i: number): number {
    return this.info[4 * i + FILE_NUMBER]!;
  }

  /** File i's minSeq. */
  minSeq(i: number): number {
    return this.info[4 * i + MIN_SEQ]!;
  }

  /** File i's range tombstones. */
  tombstoneCount(i: number): number {
    return this.info[4 * i + TOMBSTONES]!;
  }

  /** Sorted levels: the first file whose largest key is ≥ key (`count` when none). */
  firstLargestAtLeast(key: Uint8Array, target: number): number {
    const nums = this.largest;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const num = nums[mid]!;
      const c = num !== target ? num - target : compareKeys(this.files[mid]!.largestKey, key);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
