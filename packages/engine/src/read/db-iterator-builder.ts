/**
 * The iterator tree under a DbIterator, assembled from one ReadView at one snapshot:
 *
 *   MergingIterator
 *     ├─ active memtable
 *     ├─ frozen memtables (newest first)
 *     ├─ each L0 table (their key ranges overlap: one child per table)
 *     └─ one LevelIterator per non-empty L1+ level (disjoint, sorted: opened lazily)
 *   RangeDelAggregator: a cursor into each source's own fragmented range tombstones (the
 *   memtables' live lists, each table's list built once and kept while it is open), read
 *   lazily around the keys visited — nothing copied or fragmented per iterator.
 *
 * Only the tables overlapping the bounds are read, and of those only the ones holding data
 * old enough to be visible at the snapshot (a table whose minSeq is above it shows nothing).
 * The caller pins `version` for as long as the tree is read.
 *
 * `openDbIterator` wraps the tree in the user's DbIterator and gives it what keeps its snapshot
 * readable: a reference on the Version and, unless the user passed a Snapshot (which holds it
 * already), a registration of its sequence number among the live snapshots.
 */
import { RunBuffers, TableIterator, type TableIteratorOptions } from '@strata-db/sstable-iterators';
import type { FragmentedRangeTombstones, InternalIterator } from '@strata-db/memtable';
import { LevelIterator } from '../compaction/level-iterator.js';
import type { FileMetadata } from '../version/file-metadata.js';
import type { TableCache } from '../version/table-cache.js';
import type { Version } from '../version/version.js';
import type { DbCore } from '../db/core.js';
import { DbIterator, type Bounds } from './db-iterator.js';
import { MergingIterator } from './merging-iterator.js';
import { RangeDelAggregator } from './range-del-aggregator.js';
import type { ReadView } from './read-view.js';

export interface IteratorTree {
  /** Every version of every key, key ASC / seq DESC. */
  readonly points: MergingIterator;
  /** The range tombstones visible at the snapshot. */
  readonly rangeDel: RangeDelAggregator;
  /**
   * Every version within the bounds is under `points`, also those newer than the snapshot:
   * no table was left out for holding only newer data. Only then may a walk tell later readers
   * what it did not find (read/empty-ranges.ts).
   */
  readonly complete: boolean;
}

/**
 * `view` supplies the memtables, `version` (pinned by the caller; the view's Version) the
 * tables. Throws what opening a table throws (CORRUPTION, IO_ERROR). `recycleRuns`: the table
 * iterators read scans into buffers they share and refill (RunBuffers) and rewrite one entry
 * each (`reuseEntry`), so an entry under `points` (key and value) is valid only until its source
 * moves — for a consumer that copies what it keeps first.
 */
export function buildIteratorTree(view: ReadView, version: Version, tables: TableCache, seq: number, bounds: Bounds, recycleRuns = false): IteratorTree {
  const children: InternalIterator[] = [view.active.iterator()];
  const rangeDel = new RangeDelAggregator(seq);
  rangeDel.addList(view.active.fragmentedTombstones());
  for (const f of view.frozen) {
    children.push(f.iterator());
    rangeDel.addList(f.fragmentedTombstones());
  }
  const fragmentsOf = (f: FileMetadata): FragmentedRangeTombstones => tables.get(f.fileNumber).fragmentedTombstones();
  let complete = true;
  const tableOptions: TableIteratorOptions = recycleRuns ? { runBuffers: new RunBuffers(), reuseEntry: true } : {};
  for (let level = 0; level < version.numLevels; level++) {
    // Files whose data is all newer than the snapshot cannot show anything.
    const overlapping = version.overlappingFiles(level, bounds.lower, bounds.upper);
    const files = overlapping.filter((f) => f.minSeq <= seq);
    if (files.length !== overlapping.length) complete = false;
    if (level === 0) {
      for (const f of files) {
        children.push(new TableIterator(tables.get(f.fileNumber), tableOptions));
        rangeDel.addTables([f], fragmentsOf); // L0 tables overlap: one source each
      }
    } else if (files.length > 0) {
      // A sorted level is one child that opens its tables as the cursor reaches them.
      children.push(new LevelIterator(files, (f) => new TableIterator(tables.get(f.fileNumber), tableOptions)));
      rangeDel.addTables(files, fragmentsOf);
    }
  }
  return { points: new MergingIterator(children), rangeDel, complete };
}

/**
 * A DbIterator over the database as of now, at sequence `seq`. `snapshotHeld`: the user passed a
 * Snapshot for `seq` (it keeps `seq` live); otherwise the iterator registers its own.
 */
export function openDbIterator(core: DbCore, seq: number, snapshotHeld: boolean, bounds: Bounds, reverse: boolean, limit: number): DbIterator {
  const view = core.readView();
  const version = core.versions.pinCurrent();
  try {
    // Forward: DbIterator copies a value before it moves on (findNext), so runs can be recycled;
    // reverse holds a key's newest version while it steps over the older ones.
    const tree = buildIteratorTree(view, version, core.tables, seq, bounds, !reverse);
    if (!snapshotHeld) core.snapshots.add(seq);
    // The tree reads the view's memtables until closed: their memory must not go to a new memtable before.
    const unpinMemtables = core.pinMemtables(view);
    const release = (): void => {
      if (core.state === 'closed') return; // everything was released by close()
      unpinMemtables();
      version.unref();
      if (!snapshotHeld) core.snapshots.remove(seq);
    };
    // Forward iterators use the known-empty ranges (read/empty-ranges.ts), and extend them when their view is complete.
    const known = core.emptyRanges;
    const emptyRanges = reverse || known === undefined ? undefined : { ranges: known, ticket: tree.complete ? known.ticket(seq) : undefined };
    const it = core.iterators.track(release, (onClose) => new DbIterator(tree.points, tree.rangeDel, seq, bounds, reverse, limit, onClose, (err, what) => core.readFailure(err, what), emptyRanges));
    core.counters.iterators++;
    return it;
  } catch (err) {
    version.unref();
    throw core.readFailure(err, 'cannot create an iterator');
  }
}
