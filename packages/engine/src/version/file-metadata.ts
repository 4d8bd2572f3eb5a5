/**
 * What the version set knows about one table file, without opening it. Recorded in the
 * manifest (manifest/format.ts) when the file is added to a level.
 *
 * smallestKey/largestKey cover the file's range tombstones too; a tombstone's exclusive end may
 * be the largest key, so `largestKey` is an inclusive bound for points and a conservative
 * bound for tombstones.
 *
 * What a Version holds per table grows with the number of tables, outside every cache's bound
 * (6,400 tables at 100M keys), so the version set keeps its records small (`TableRecord`): the
 * two keys in one allocation, one object shape. Each key as it arrives is a Uint8Array with an
 * ArrayBuffer of its own — a worker's result is structured-cloned, one ArrayBuffer per key; a
 * manifest's keys are views into the whole file read at open, which they kept in memory (up to
 * maxManifestFileSize) until the last table recorded in it was deleted.
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

/**
 * The version set's own record of a table (VersionSet.applyEdit makes one for every file an edit
 * adds): the fields of `f`, its two keys copied into one ArrayBuffer (smallest, then largest)
 * and viewed there. Measured with 24-byte keys, 400,000 records as a worker's message brings
 * them (node 20, Linux x64; /tmp scripts in docs/performance/session-29.md): 975 bytes
 * of RSS a record as they arrive (two views, two ArrayBuffers, two backing stores with their
 * malloc'd bookkeeping), 712 as a TableRecord — V8 heap 500 → 396 bytes; with 100-byte keys
 * 1,138 → 848. Tried and not kept: keys of at most 64 bytes in on-heap Uint8Arrays (no backing
 * store) saved ~50 bytes of RSS more but took ~170 more of V8 heap; views into one buffer shared
 * by many tables (an edit's outputs) ~250 fewer, but such a buffer lives until the last of its
 * tables is deleted.
 */
export class TableRecord implements FileMetadata {
  readonly fileNumber: number;
  readonly fileSize: number;
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
  readonly minSeq: number;
  readonly maxSeq: number;
  readonly entryCount: number;
  readonly deleteCount: number;
  readonly tombstoneCount: number;
  readonly markedForCompaction: boolean;

  private constructor(f: FileMetadata) {
    const s = f.smallestKey.length;
    const keys = new Uint8Array(new ArrayBuffer(s + f.largestKey.length));
    keys.set(f.smallestKey, 0);
    keys.set(f.largestKey, s);
    this.fileNumber = f.fileNumber;
    this.fileSize = f.fileSize;
    this.smallestKey = keys.subarray(0, s);
    this.largestKey = keys.subarray(s);
    this.minSeq = f.minSeq;
    this.maxSeq = f.maxSeq;
    this.entryCount = f.entryCount;
    this.deleteCount = f.deleteCount;
    this.tombstoneCount = f.tombstoneCount;
    this.markedForCompaction = f.markedForCompaction;
  }

  /** `f` itself when it is one already (a file moved to another level keeps its record), else a packed copy. */
  static of(f: FileMetadata): TableRecord {
    return f instanceof TableRecord ? f : new TableRecord(f);
  }
}

/**
 * Bytes of memory a file's TableRecord takes, for stats().memory: its keys and RECORD_OVERHEAD
 * (the object, two views, the ArrayBuffer and its backing store's bookkeeping).
 */
export function recordBytes(f: FileMetadata): number {
  return RECORD_OVERHEAD + ((f.smallestKey.length + f.largestKey.length + 15) & ~15);
}

/** See TableRecord: 712 bytes of RSS a record measured with 48 bytes of keys, 848 with 200. */
const RECORD_OVERHEAD = 672;

/** Whether the file's key range intersects [lo, hi] (either bound may be absent). */
export function overlapsRange(f: FileMetadata, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean {
  if (lo !== undefined && compareKeys(f.largestKey, lo) < 0) return false;
  if (hi !== undefined && compareKeys(f.smallestKey, hi) > 0) return false;
  return true;
}

export function containsKey(f: FileMetadata, key: Uint8Array): boolean {
  return compareKeys(key, f.smallestKey) >= 0 && compareKeys(key, f.largestKey) <= 0;
}
