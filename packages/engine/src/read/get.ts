/**
 * Point lookup: sources newest first — active memtable, frozen memtables (newest first), L0
 * tables (newest first), then one file per deeper level found by binary search on key ranges.
 *
 * The first source holding a version of the key visible at the snapshot decides, unless a range
 * tombstone seen so far (in this source or a newer one) has a higher seq. The running maximum
 * covering-tombstone seq carries across sources because a table's tombstone may cover a key
 * the table holds no version of. Tables are skipped by key range first, then (inside
 * `Table.get`) by bloom filter; a table's tombstones are only consulted when it has any.
 * A memtable's own answer is final (its tombstones are newer than everything older sources
 * hold), which the memtable's `get` already applies.
 */
import { EntryKind, compareKeys } from '@strata-db/memtable';
import { bloomHash, type Table } from '@strata-db/sstable-core';
import type { FileMetadata } from '../version/file-metadata.js';
import type { TableCache } from '../version/table-cache.js';
import { Version } from '../version/version.js';
import type { ReadView } from './read-view.js';

export interface GetCounters {
  /** Table probes that reached Table.get (after the key-range check). */
  tableProbes: number;
}

/**
 * The running maximum covering-tombstone seq of the lookup in progress. Module state instead of
 * a per-call closure: `getFromView` is synchronous and not re-entrant, and allocating the
 * closure on every point read cost ~4% of `getSync` (more under tsx, which wraps each closure
 * creation in a `__name` call).
 */
let maxCov = 0;
/** The key's bloom hash, computed at the first table probe of the lookup (-1: not yet). */
let keyHash = -1;

function probe(meta: FileMetadata, tables: TableCache, key: Uint8Array, snapshotSeq: number, counters: GetCounters): Uint8Array | undefined | null {
  if (meta.minSeq > snapshotSeq) return null; // everything in it is newer than the snapshot
  counters.tableProbes++;
  const t: Table = tables.get(meta.fileNumber);
  if (meta.tombstoneCount > 0) {
    const c = t.maxCoveringTombstoneSeq(key, snapshotSeq);
    if (c > maxCov) maxCov = c;
  }
  if (keyHash < 0) keyHash = bloomHash(key);
  const kind = t.find(key, snapshotSeq, keyHash);
  if (kind < 0) return null; // no answer from this table
  if (t.foundSeq < maxCov) return undefined;
  return kind === EntryKind.Put ? t.foundValue() : undefined;
}

export function getFromView(view: ReadView, tables: TableCache, key: Uint8Array, snapshotSeq: number, counters: GetCounters): Uint8Array | undefined {
  const m = view.active.get(key, snapshotSeq);
  if (m !== undefined) return m.kind === 'put' ? m.value : undefined;
  for (const f of view.frozen) {
    const r = f.get(key, snapshotSeq);
    if (r !== undefined) return r.kind === 'put' ? r.value : undefined;
  }
  maxCov = 0;
  keyHash = -1;
  const levels = view.version.levels;
  const l0 = levels[0]!;
  for (let i = 0; i < l0.length; i++) {
    const f = l0[i]!;
    if (compareKeys(key, f.smallestKey) < 0 || compareKeys(key, f.largestKey) > 0) continue;
    const r = probe(f, tables, key, snapshotSeq, counters);
    if (r !== null) return r;
  }
  for (let level = 1; level < levels.length; level++) {
    const files = levels[level]!;
    if (files.length === 0) continue;
    // Usually one candidate; two when a file's largest key is a tombstone's exclusive end equal
    // to `key` and the next file starts at `key`.
    for (let i = Version.findFile(files, key); i < files.length; i++) {
      const f = files[i]!;
      if (compareKeys(key, f.smallestKey) < 0) break;
      const r = probe(f, tables, key, snapshotSeq, counters);
      if (r !== null) return r;
    }
  }
  return undefined;
}
