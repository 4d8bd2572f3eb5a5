/**
 * The range deletions one read (an iterator) must respect, over every source it reads. Nothing
 * is copied or fragmented per read: each source keeps its own fragmented list (the memtable's
 * fragmenter) — a memtable its live one, a table one built when first needed and kept while
 * the table is open — and the aggregator only holds a cursor into each, consulted lazily for the
 * keys the read visits. Creating one costs O(sources), whatever the number of tombstones.
 *
 * A point version k#u is hidden iff some source has a tombstone [s, e)#t with s ≤ k < e and
 * u < t ≤ snapshot. Sources are checked one by one; a source whose tombstones are all no newer
 * than u (its `maxSeq`) is skipped without a lookup — the common case for versions newer than
 * every range deletion.
 *
 * Invariant relied on (tables of one level): a table's tombstones lie within its
 * [smallestKey, largestKey] range, where largestKey may be a tombstone's exclusive end; so at
 * most two tables of a level can hold tombstones covering a key — the one whose range reaches
 * it and, when that range ends exactly at the key, the next one.
 */
import { FragmentCursor, compareKeys, type FragmentedRangeTombstones } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import { Version } from '../version/version.js';

/** The fragmented tombstones of one source, and a bound on their seqs. */
interface TombstoneSource {
  /** No tombstone of this source has a larger seq. */
  readonly maxSeq: number;
  /** Largest seq ≤ the snapshot among this source's tombstones covering `key`; 0 if none. */
  maxCoveringSeq(key: Uint8Array): number;
}

/** One list: a memtable's (active or frozen). */
class ListSource implements TombstoneSource {
  private readonly cursor: FragmentCursor;

  constructor(
    private readonly fragments: FragmentedRangeTombstones,
    snapshotSeq: number,
  ) {
    this.cursor = new FragmentCursor(fragments, snapshotSeq);
  }

  /** Read live: the active memtable's list grows (with tombstones above the snapshot, which it ignores). */
  get maxSeq(): number {
    return this.fragments.maxSeq;
  }

  maxCoveringSeq(key: Uint8Array): number {
    return this.cursor.maxCoveringSeq(key);
  }
}

/**
 * Tables with disjoint ranges, sorted by key (one L0 table, or the tables of a sorted level that
 * hold tombstones). A table's list is asked for only when a visited key falls in its range.
 */
class TablesSource implements TombstoneSource {
  readonly maxSeq: number;
  /** Index in `files` of the table `cursor` reads, -1 before the first lookup. */
  private at = -1;
  private cursor: FragmentCursor | undefined;
  /** For the second candidate table (a key equal to a largestKey that is an exclusive end). */
  private nextCursor: FragmentCursor | undefined;

  constructor(
    private readonly files: readonly FileMetadata[],
    private readonly fragmentsOf: (f: FileMetadata) => FragmentedRangeTombstones,
    private readonly snapshotSeq: number,
  ) {
    let max = 0;
    for (const f of files) if (f.maxSeq > max) max = f.maxSeq;
    this.maxSeq = max;
  }

  maxCoveringSeq(key: Uint8Array): number {
    const files = this.files;
    const i = this.locate(key);
    if (i >= files.length) return 0;
    const f = files[i]!;
    if (compareKeys(key, f.smallestKey) < 0) return 0;
    this.cursor ??= new FragmentCursor(this.fragmentsOf(f), this.snapshotSeq);
    const seq = this.cursor.maxCoveringSeq(key);
    const after = files[i + 1];
    if (after === undefined || compareKeys(key, f.largestKey) !== 0 || compareKeys(after.smallestKey, key) > 0) return seq;
    this.nextCursor ??= new FragmentCursor(this.fragmentsOf(after), this.snapshotSeq);
    return Math.max(seq, this.nextCursor.maxCoveringSeq(key));
  }

  /** Index of the first file whose largestKey is ≥ `key` (`files.length` if none); moves the cursors there. */
  private locate(key: Uint8Array): number {
    const files = this.files;
    const at = this.at;
    // Keys mostly arrive in order: the current file, then the next one, before a search.
    let i: number;
    if (at >= 0 && compareKeys(key, files[at]!.largestKey) <= 0) {
      if (at === 0 || compareKeys(key, files[at - 1]!.largestKey) > 0) return at;
      i = Version.findFile(files, key);
    } else if (at >= 0 && at + 1 < files.length && compareKeys(key, files[at + 1]!.largestKey) <= 0) {
      i = at + 1;
    } else {
      i = Version.findFile(files, key);
    }
    if (i < files.length && i !== at) {
      this.at = i;
      this.cursor = undefined;
      this.nextCursor = undefined;
    }
    return i;
  }
}

export class RangeDelAggregator {
  private readonly sources: TombstoneSource[] = [];

  constructor(readonly snapshotSeq: number) {}

  /**
   * A memtable's list (its `fragmentedTombstones()`). An empty one is left out: tombstones the
   * active memtable takes later are above this read's snapshot.
   */
  addList(fragments: FragmentedRangeTombstones): void {
    if (fragments.length > 0) this.sources.push(new ListSource(fragments, this.snapshotSeq));
  }

  /**
   * Tables sorted by key with disjoint ranges (a level; or one L0 table alone). Only those
   * holding tombstones visible at the snapshot are kept; `fragmentsOf` is called the first time
   * a visited key falls in a table's range.
   */
  addTables(files: readonly FileMetadata[], fragmentsOf: (f: FileMetadata) => FragmentedRangeTombstones): void {
    const withTombstones = files.filter((f) => f.tombstoneCount > 0 && f.minSeq <= this.snapshotSeq);
    if (withTombstones.length > 0) this.sources.push(new TablesSource(withTombstones, fragmentsOf, this.snapshotSeq));
  }

  get empty(): boolean {
    return this.sources.length === 0;
  }

  /** Whether version key#seq is deleted by a range tombstone visible at the snapshot. */
  covers(key: Uint8Array, seq: number): boolean {
    const sources = this.sources;
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]!;
      if (s.maxSeq > seq && s.maxCoveringSeq(key) > seq) return true;
    }
    return false;
  }
}
