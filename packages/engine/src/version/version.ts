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
import type { FileMetadata } from './file-metadata.js';
import { ABOVE, BELOW, LevelSearch } from './level-search.js';

/** A Version's object and its arrays of levels and searches, bytes (rounded up). */
const VERSION_OVERHEAD = 256;
/** A level's array beside its pointers, bytes. */
const LEVEL_OVERHEAD = 32;

export class Version {
  /** Number of holders: the VersionSet while current, plus each iterator/reader that pinned it. */
  private refs = 0;
  /** @internal called when refs drops to 0. */
  onUnreferenced: ((v: Version) => void) | undefined;

  /**
   * Per level, built on a point read's first search of it (the Version is immutable): the flat
   * arrays a point read searches instead of the FileMetadata objects (see `LevelSearch`).
   * Touched only by `search`.
   */
  private readonly searches: (LevelSearch | undefined)[] = [];

  constructor(readonly levels: readonly (readonly FileMetadata[])[]) {}

  /**
   * Bytes of memory this Version takes beside its files' records (which Versions share:
   * VersionSet.memoryBytes counts those once): the object, its level arrays (a pointer a file)
   * and the point-read search arrays built so far (LevelSearch.bytes).
   */
  get bytes(): number {
    let n = VERSION_OVERHEAD;
    for (const files of this.levels) n += LEVEL_OVERHEAD + 8 * files.length;
    for (const s of this.searches) if (s !== undefined) n += s.bytes;
    return n;
  }

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
   * Level `level`'s point-read search arrays (`LevelSearch`), built on first use. Point reads
   * search every level per key, and FileMetadata keys are scattered objects: on random gets over
   * a 10M-key database (525 tables) the key-range checks and the probe's fields were cold cache
   * lines of their own, three or four per level searched. These are a few flat arrays per level.
   */
  search(level: number): LevelSearch {
    return (this.searches[level] ??= new LevelSearch(this.levels[level]!));
  }

  /**
   * In a sorted level (L1+), `findFile` over the level's search arrays: the index of the first
   * file whose largestKey ≥ key (files.length when none).
   */
  findFileFast(level: number, key: Uint8Array): number {
    const s = this.search(level);
    const p = s.keyPosition(key);
    if (p === BELOW) return 0;
    if (p === ABOVE) return s.count;
    return s.firstLargestAtLeast(key, p);
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
