/**
 * Point lookup: sources newest first — active memtable, frozen memtables (newest first), L0
 * tables (newest first), then one file per deeper level found by binary search on key ranges.
 *
 * The first source holding a version of the key visible at the snapshot decides, unless a range
 * tombstone seen so far (in this source or a newer one) has a higher seq. The running maximum
 * covering-tombstone seq carries across sources because a table's tombstone may cover a key
 * the table holds no version of. Tables are skipped by key range first, then (inside
 * `Table.find`) by bloom filter — unless the level skips its filters now because they rarely
 * reject (read/filter-skipping.ts); a table's tombstones are only consulted when it has any.
 * A memtable's own answer is final (its tombstones are newer than everything older sources
 * hold), which the memtable's `get` already applies.
 *
 * `getManyFromView` answers many keys at one snapshot (one view, so the answers are consistent
 * with each other): each memtable is asked per key, then the undecided keys, sorted, walk the
 * tables level by level — each L0 table and each file of a sorted level is taken from the table
 * cache once and probed for its keys in key order, so keys sharing a block read it once and
 * consecutive probes stay in the same part of the index. The running maximum covering seq and the
 * bloom hash are per key.
 */
import { EntryKind, compareKeys } from '@strata-db/memtable';
import { bloomHash, FILTER_REJECTED, type Table } from '@strata-db/sstable-core';
import type { FileMetadata } from '../version/file-metadata.js';
import type { TableCache } from '../version/table-cache.js';
import { copyOf, copyRange } from '../keys.js';
import type { ReadAllowances } from '../version/read-allowances.js';
import type { Version } from '../version/version.js';
import type { ReadView } from './read-view.js';
import type { FilterSkipping } from './filter-skipping.js';

export interface GetCounters {
  /** Table probes that reached Table.get (after the key-range check). */
  tableProbes: number;
}

/**
 * The database's filter-skipping controller (read/filter-skipping.ts), set by `getFromView` and
 * `getManyFromView` for the lookup in progress: module state for the reason maxCov is.
 */
let filters: FilterSkipping;

/**
 * The running maximum covering-tombstone seq of the lookup in progress. Module state instead of
 * a per-call closure: `getFromView` is synchronous and not re-entrant, and allocating the
 * closure on every point read cost ~4% of `getSync` (more under tsx, which wraps each closure
 * creation in a `__name` call).
 */
let maxCov = 0;
/** The key's bloom hash, computed at the first table probe of the lookup (-1: not yet). */
let keyHash = -1;

/** Probe outcomes: no answer from the table (ask older sources), the key is absent (deleted or covered), found. */
const NO_ANSWER = -1;
const ABSENT = 0;
const FOUND = 1;
/** The table the last FOUND probe found the value in (its `found*` fields describe the value). */
let foundTable: Table | undefined;

/**
 * Asks table `fileNumber` of `level` (with its FileMetadata's minSeq and tombstoneCount) for
 * `key`, through its bloom filter unless the level skips its filters now (`filters`): skipping
 * is always correct, a filter only prunes (Table.find).
 */
function probe(level: number, fileNumber: number, minSeq: number, tombstoneCount: number, tables: TableCache, key: Uint8Array, snapshotSeq: number, counters: GetCounters): number {
  if (minSeq > snapshotSeq) return NO_ANSWER; // everything in it is newer than the snapshot
  counters.tableProbes++;
  const t: Table = tables.get(fileNumber);
  if (tombstoneCount > 0) {
    const c = t.maxCoveringTombstoneSeq(key, snapshotSeq);
    if (c > maxCov) maxCov = c;
  }
  let kind: number;
  if (t.hasFilter && filters.probeFilter(level)) {
    if (keyHash < 0) keyHash = bloomHash(key);
    kind = t.find(key, snapshotSeq, keyHash);
    filters.record(level, kind === FILTER_REJECTED);
  } else {
    kind = t.find(key, snapshotSeq, 0, false);
  }
  if (kind < 0) return NO_ANSWER;
  if (kind !== EntryKind.Put || t.foundSeq < maxCov) return ABSENT;
  foundTable = t;
  return FOUND;
}

/**
 * Read-triggered compaction (version/read-allowances.ts): the first table the lookup in progress
 * probed, as its level and index in the level's search arrays (-1: none yet; firstIndex -1 once
 * charged). Module state for the reason maxCov is: no object per get.
 */
let firstLevel = -1;
let firstIndex = -1;

/** The lookup probes table `i` of `level`: the second probe of a lookup charges the first table. */
function noteProbe(version: Version, level: number, i: number, reads: ReadAllowances): void {
  if (firstLevel < 0) {
    firstLevel = level;
    firstIndex = i;
  } else if (firstIndex >= 0) {
    reads.charge(firstLevel, version.search(firstLevel).files[firstIndex]!);
    firstIndex = -1;
  }
}

/** A copy the caller owns of the value the last FOUND probe found (straight out of the block). */
function copyFound(): Uint8Array {
  const t = foundTable!;
  foundTable = undefined; // do not keep the table reachable from here
  return copyRange(t.foundData, t.foundValueOffset, t.foundValueLength);
}

/**
 * Values of `keys` at `snapshotSeq` (undefined where absent), in the order of `keys`; each found
 * value is already a copy the caller owns (a table's found value is a view into a block that the
 * next probe may replace, so it is copied at once).
 */
export function getManyFromView(view: ReadView, tables: TableCache, filterSkipping: FilterSkipping, keys: readonly Uint8Array[], snapshotSeq: number, counters: GetCounters): (Uint8Array | undefined)[] {
  const n = keys.length;
  const out = new Array<Uint8Array | undefined>(n).fill(undefined);
  let pending: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    let m = view.active.get(key, snapshotSeq);
    for (let f = 0; m === undefined && f < view.frozen.length; f++) m = view.frozen[f]!.get(key, snapshotSeq);
    if (m === undefined) pending.push(i);
    else if (m.kind === 'put') out[i] = copyOf(m.value);
  }
  if (pending.length === 0) return out;
  filters = filterSkipping;
  pending.sort((a, b) => compareKeys(keys[a]!, keys[b]!) || a - b);
  const covs = new Float64Array(n);
  const hashes = new Float64Array(n).fill(-1);
  const decided = new Uint8Array(n);
  /** Probes key `i` in table `f`; true when the key is decided (its answer, if any, in `out`). */
  const probeKey = (level: number, f: FileMetadata, i: number): boolean => {
    maxCov = covs[i]!;
    keyHash = hashes[i]!;
    const r = probe(level, f.fileNumber, f.minSeq, f.tombstoneCount, tables, keys[i]!, snapshotSeq, counters);
    covs[i] = maxCov;
    hashes[i] = keyHash;
    if (r === NO_ANSWER) return false;
    if (r === FOUND) out[i] = copyFound();
    decided[i] = 1;
    return true;
  };
  const levels = view.version.levels;
  for (let level = 0; level < levels.length && pending.length > 0; level++) {
    const files = levels[level]!;
    if (files.length === 0) continue;
    let resolved = 0;
    if (level === 0) {
      for (const f of files) {
        // The first pending key ≥ the file's smallest key, then every one up to its largest.
        let lo = 0;
        let hi = pending.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareKeys(keys[pending[mid]!]!, f.smallestKey) < 0) lo = mid + 1;
          else hi = mid;
        }
        for (let p = lo; p < pending.length; p++) {
          const i = pending[p]!;
          if (compareKeys(keys[i]!, f.largestKey) > 0) break;
          if (decided[i] === 0 && probeKey(level, f, i)) resolved++;
        }
      }
    } else {
      // Keys and files both ascend: the file search resumes where the previous key's ended.
      let from = 0;
      for (const i of pending) {
        const key = keys[i]!;
        while (from < files.length && compareKeys(files[from]!.largestKey, key) < 0) from++;
        if (from === files.length) break;
        for (let j = from; j < files.length; j++) {
          const f = files[j]!;
          if (compareKeys(key, f.smallestKey) < 0) break;
          if (probeKey(level, f, i)) {
            resolved++;
            break;
          }
        }
      }
    }
    if (resolved > 0) pending = pending.filter((i) => decided[i] === 0);
  }
  return out;
}

/**
 * The value of `key` at `snapshotSeq`, as a copy the caller owns (a memtable's value lives in its
 * arena, a table's in a cached block whose buffer may be recycled), or undefined.
 */
export function getFromView(view: ReadView, tables: TableCache, filterSkipping: FilterSkipping, key: Uint8Array, snapshotSeq: number, counters: GetCounters, reads?: ReadAllowances): Uint8Array | undefined {
  const m = view.active.get(key, snapshotSeq);
  if (m !== undefined) return m.kind === 'put' ? copyOf(m.value) : undefined;
  for (const f of view.frozen) {
    const r = f.get(key, snapshotSeq);
    if (r !== undefined) return r.kind === 'put' ? copyOf(r.value) : undefined;
  }
  maxCov = 0;
  keyHash = -1;
  filters = filterSkipping;
  const version = view.version;
  const levels = version.levels;
  firstLevel = -1;
  firstIndex = -1;
  for (let level = 0; level < levels.length; level++) {
    if (levels[level]!.length === 0) continue;
    // The level's flat search arrays (Version.search): the key-range checks compare numbers, and
    // the FileMetadata objects stay untouched.
    const s = version.search(level);
    const target = s.keyPosition(key);
    if (target < 0) continue; // below or above every key of the level
    if (level === 0) {
      // Overlapping, newest first: every file whose range holds the key, in order.
      for (let i = 0; i < s.count; i++) {
        if (s.compareSmallest(i, key, target) < 0 || s.compareLargest(i, key, target) > 0) continue;
        if (reads !== undefined) noteProbe(version, level, i, reads);
        const r = probe(level, s.fileNumber(i), s.minSeq(i), s.tombstoneCount(i), tables, key, snapshotSeq, counters);
        if (r !== NO_ANSWER) return r === FOUND ? copyFound() : undefined;
      }
      continue;
    }
    // Usually one candidate; two when a file's largest key is a tombstone's exclusive end equal
    // to `key` and the next file starts at `key`.
    for (let i = s.firstLargestAtLeast(key, target); i < s.count; i++) {
      if (s.compareSmallest(i, key, target) < 0) break;
      if (reads !== undefined) noteProbe(version, level, i, reads);
      const r = probe(level, s.fileNumber(i), s.minSeq(i), s.tombstoneCount(i), tables, key, snapshotSeq, counters);
      if (r !== NO_ANSWER) return r === FOUND ? copyFound() : undefined;
    }
  }
  return undefined;
}
