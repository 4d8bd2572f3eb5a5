/**
 * What a flush of several frozen memtables writes (minMemtablesToMerge, RocksDB's
 * min_write_buffer_number_to_merge): the union of their versions in table order — point
 * entries (key ASC, seq DESC), range tombstones (start ASC, seq DESC) — each stream the merge of
 * the memtables' own `flushEntries` / `flushTombstones`, in the memtable's own types.
 *
 * Nothing is collapsed (docs/design-rules.md#r1: flush collapses nothing): a key written in both
 * memtables keeps every version of both, the newer memtable's first (its sequence numbers are
 * all larger, never reused). Points and tombstones stay two streams, as in the memtables.
 */
import { compareEntries, compareTombstones, type MemtableReader, type PointEntry, type RangeTombstone } from '@strata-db/memtable';

/** Every point version of `mems`, (key ASC, seq DESC). One memtable: its own stream. */
export function mergedFlushEntries(mems: readonly MemtableReader[]): Iterable<PointEntry> {
  return mems.length === 1 ? mems[0]!.flushEntries() : mergeSorted(mems.map((m) => m.flushEntries()), compareEntries);
}

/** Every range tombstone of `mems` as written, (start ASC, seq DESC). */
export function mergedFlushTombstones(mems: readonly MemtableReader[]): Iterable<RangeTombstone> {
  return mems.length === 1 ? mems[0]!.flushTombstones() : mergeSorted(mems.map((m) => m.flushTombstones()), compareTombstones);
}

/**
 * The merge of sorted streams (a flush merges two or a few: a linear pick of the least head
 * costs less than a heap). Ties, which distinct sequence numbers rule out, go to the earlier stream.
 */
function* mergeSorted<T>(sources: readonly Iterator<T>[], cmp: (a: T, b: T) => number): Generator<T, void, undefined> {
  const heads: (T | undefined)[] = [];
  const live: Iterator<T>[] = [];
  for (const s of sources) {
    const r = s.next();
    if (r.done !== true) {
      heads.push(r.value);
      live.push(s);
    }
  }
  while (live.length > 0) {
    let min = 0;
    for (let i = 1; i < live.length; i++) if (cmp(heads[i]!, heads[min]!) < 0) min = i;
    yield heads[min]!;
    const r = live[min]!.next();
    if (r.done === true) {
      heads.splice(min, 1);
      live.splice(min, 1);
    } else {
      heads[min] = r.value;
    }
  }
}
