/**
 * A Version: the set of table files that make up the database at one moment, per level.
 * Immutable once installed — a reader that holds one (see `ref`/`unref`) sees the same files
 * for as long as it likes, while flushes and compactions install newer Versions beside it.
 *
 *   levels[0]   L0: files may overlap; ordered newest first (by maxSeq, then file number)
 *   levels[n]   L1+: sorted by smallestKey, non-overlapping
 *
 * The reference count keeps files alive: a file is deleted only when no live Version lists it
 * (VersionSet.collectObsoleteFiles).
 */
import { invariant } from '@strata-db/errors';
import { compareKeys } from '@strata-db/memtable';
import { prefixNumber } from '@strata-db/sstable-core';
import type { FileMetadata } from './file-metadata.js';

export class Version {
  /** Number of holders: the VersionSet while current, plus each iterator/reader that pinned it. */
  private refs = 0;
  /** @internal called when refs drops to 0. */
  onUnreferenced: ((v: Version) => void) | undefined;

  /**
   * Per sorted level, built on a point read's first search of it (the Version is immutable): the
   * files' largest keys as numbers for `findFileFast`. Touched only by `findFileFast`.
   */
  private readonly bounds: (LevelBounds | undefined)[] = [];

  constructor(readonly levels: readonly (readonly FileMetadata[])[]) {}

  ref(): void {
    this.refs++;
  }

  unref(): void {
    invariant(this.refs > 0, 'Version.unref without a matching ref');
    if (--this.refs === 0) this.onUnreferenced?.(this);
  }

  get refCount(): number {
    return this.refs;
  }

  get numLevels(): number {
    return this.levels.length;
  }

  files(level: number): readonly FileMetadata[] {
    return this.levels[level] ?? [];
  }

  levelBytes(level: number): number {
    let n = 0;
    for (const f of this.files(level)) n += f.fileSize;
    return n;
  }

  *allFiles(): Iterable<{ level: number; file: FileMetadata }> {
    for (let level = 0; level < this.levels.length; level++) {
      for (const file of this.levels[level]!) yield { level, file };
    }
  }

  /**
   * In a sorted level (L1+), the index of the first file whose largestKey ≥ key
   * (files.length when none): the only file that may contain `key`.
   */
  static findFile(files: readonly FileMetadata[], key: Uint8Array): number {
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(files[mid]!.largestKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * `findFile` on sorted level `level` over precomputed boundaries: the largest keys' common
   * prefix is compared once, then a binary search compares the next (up to) 6 bytes of each
   * largest key as one number (sstable-core's prefixNumber, as the table index does), falling
   * back to the byte comparison only on equal numbers. Point reads search every level per key,
   * and FileMetadata keys are scattered objects; these are two flat arrays.
   */
  findFileFast(level: number, key: Uint8Array): number {
    const files = this.levels[level]!;
    const n = files.length;
    if (n === 0) return 0;
    const b = (this.bounds[level] ??= levelBounds(files));
    const lcp = b.lcp;
    const ref = files[0]!.largestKey;
    const klen = key.length;
    let d = 0;
    for (let i = 0; i < lcp && d === 0; i++) d = i < klen ? key[i]! - ref[i]! : -1;
    if (d < 0) return 0; // below the common prefix: below every largest key
    if (d > 0) return n; // above every largest key
    const target = prefixNumber(key, lcp, klen);
    const nums = b.nums;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const num = nums[mid]!;
      const c = num !== target ? num - target : compareKeys(files[mid]!.largestKey, key);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Files of `level` whose range intersects [lo, hi] (bounds inclusive, either may be absent). */
  overlappingFiles(level: number, lo: Uint8Array | undefined, hi: Uint8Array | undefined): FileMetadata[] {
    const files = this.files(level);
    const out: FileMetadata[] = [];
    if (level === 0) {
      for (const f of files) {
        if (lo !== undefined && compareKeys(f.largestKey, lo) < 0) continue;
        if (hi !== undefined && compareKeys(f.smallestKey, hi) > 0) continue;
        out.push(f);
      }
      return out;
    }
    for (let i = lo === undefined ? 0 : Version.findFile(files, lo); i < files.length; i++) {
      const f = files[i]!;
      if (hi !== undefined && compareKeys(f.smallestKey, hi) > 0) break;
      out.push(f);
    }
    return out;
  }
}

/** L0 order: newest data first. Flushes are sequential, so maxSeq order is file-number order. */
export function compareL0(a: FileMetadata, b: FileMetadata): number {
  return b.maxSeq - a.maxSeq || b.fileNumber - a.fileNumber;
}

export function compareBySmallest(a: FileMetadata, b: FileMetadata): number {
  return compareKeys(a.smallestKey, b.smallestKey) || a.fileNumber - b.fileNumber;
}

/** A sorted level's largest keys, for `Version.findFileFast`. */
interface LevelBounds {
  /** Bytes every largest key of the level starts with. */
  readonly lcp: number;
  /** For each file, prefixNumber of its largest key's bytes after the common prefix. */
  readonly nums: Float64Array;
}

function levelBounds(files: readonly FileMetadata[]): LevelBounds {
  // Sorted, non-overlapping: the common prefix of all largest keys is that of the first and last.
  const a = files[0]!.largestKey;
  const z = files[files.length - 1]!.largestKey;
  const max = Math.min(a.length, z.length);
  let lcp = 0;
  while (lcp < max && a[lcp] === z[lcp]) lcp++;
  const nums = new Float64Array(files.length);
  for (let i = 0; i < files.length; i++) {
    const k = files[i]!.largestKey;
    nums[i] = prefixNumber(k, lcp, k.length);
  }
  return { lcp, nums };
}
