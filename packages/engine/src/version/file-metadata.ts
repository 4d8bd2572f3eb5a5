/**
 * What the version set knows about one table file, without opening it. Recorded in the
 * manifest (manifest/format.ts) when the file is added to a level.
 *
 * smallestKey/largestKey cover the file's range tombstones too; a tombstone's exclusive end may
 * be the largest key, so `largestKey` is an inclusive bound for points and a conservative
 * bound for tombstones.
 */
import { compareKeys } from '@strata-db/memtable';
import type { TableMeta } from '@strata-db/sstable-builder';

export interface FileMetadata {
  readonly fileNumber: number;
  readonly fileSize: number;
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
  readonly minSeq: number;
  readonly maxSeq: number;
  /** Point entries, every version (puts and deletes). */
  readonly entryCount: number;
  /** Point entries that are Deletes (0 for tables recorded before the manifest kept it). */
  readonly deleteCount: number;
  /** Range tombstones. */
  readonly tombstoneCount: number;
  /** The table builder's deletion trigger fired: a stretch dense with Deletes (picker.ts). */
  readonly markedForCompaction: boolean;
}

/**
 * The version set's record of a table: the builder's `TableMeta` of a table it just finished, or
 * what repair read from a table it found; only the recorded fields are kept. `range` overrides the
 * table's own bounds where the writer knows a tighter inclusive range (compaction outputs whose last
 * tombstone piece ends at successor(k) cover up to k).
 */
export function fileMetadataOf(
  t: TableMeta | FileMetadata,
  range: { readonly smallestKey: Uint8Array; readonly largestKey: Uint8Array } = t,
): FileMetadata {
  return {
    fileNumber: t.fileNumber,
    fileSize: t.fileSize,
    smallestKey: range.smallestKey,
    largestKey: range.largestKey,
    minSeq: t.minSeq,
    maxSeq: t.maxSeq,
    entryCount: t.entryCount,
    deleteCount: t.deleteCount,
    tombstoneCount: t.tombstoneCount,
    markedForCompaction: t.markedForCompaction,
  };
}

/** Whether the file's key range intersects [lo, hi] (either bound may be absent). */
export function overlapsRange(f: FileMetadata, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean {
  if (lo !== undefined && compareKeys(f.largestKey, lo) < 0) return false;
  if (hi !== undefined && compareKeys(f.smallestKey, hi) > 0) return false;
  return true;
}

export function containsKey(f: FileMetadata, key: Uint8Array): boolean {
  return compareKeys(key, f.smallestKey) >= 0 && compareKeys(key, f.largestKey) <= 0;
}
