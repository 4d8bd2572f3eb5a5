/**
 * `db.approximateSize(start, end)`: the bytes of table files that hold keys in [start, end), as
 * LevelDB's GetApproximateSizes computes them — per table, the file offset where `end` would be
 * minus the offset where `start` would be, to data-block granularity. Memtables and the WAL are
 * not counted (as in LevelDB); compressed tables count their compressed bytes.
 *
 * A table entirely inside the range counts its whole file without being opened; one that only
 * overlaps is opened (table cache) and its index is searched.
 */
import { compareKeys } from '@strata-db/memtable';
import { MAX_SEQ, type Table } from '@strata-db/sstable-core';
import type { FileMetadata } from './file-metadata.js';
import type { Version } from './version.js';

/**
 * Offset in the table's file of the first entry ≥ `key`: the start of the data block that
 * would hold it, or the end of the data blocks when every key is smaller.
 */
export function approximateOffsetOf(table: Table, key: Uint8Array): number {
  const n = table.blockCount;
  if (n === 0) return 0;
  const b = table.findBlock(key, MAX_SEQ);
  if (b < n) return table.blockHandle(b).offset;
  const last = table.blockHandle(n - 1);
  return last.offset + last.size;
}

/** Bytes of `version`'s tables holding keys in [start, end) (start ≥ end: 0). */
export function approximateSize(version: Version, table: (fileNumber: number) => Table, start: Uint8Array, end: Uint8Array): number {
  if (compareKeys(start, end) >= 0) return 0;
  let total = 0;
  for (const { file } of version.allFiles()) total += fileBytesIn(file, table, start, end);
  return total;
}

function fileBytesIn(f: FileMetadata, table: (fileNumber: number) => Table, start: Uint8Array, end: Uint8Array): number {
  // Entirely outside: [smallest, largest] ∩ [start, end) is empty.
  if (compareKeys(f.largestKey, start) < 0 || compareKeys(f.smallestKey, end) >= 0) return 0;
  // Entirely inside.
  if (compareKeys(f.smallestKey, start) >= 0 && compareKeys(f.largestKey, end) < 0) return f.fileSize;
  const t = table(f.fileNumber);
  const lo = compareKeys(f.smallestKey, start) >= 0 ? 0 : approximateOffsetOf(t, start);
  const hi = compareKeys(f.largestKey, end) < 0 ? f.fileSize : approximateOffsetOf(t, end);
  return Math.max(0, hi - lo);
}
