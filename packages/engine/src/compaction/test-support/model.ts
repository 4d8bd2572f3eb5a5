import { EntryKind, compareKeys, type PointEntry, type RangeTombstone } from '@strata-db/memtable';

/** What a reader at `snapshot` sees for `key` among `points` and `tombstones` (the contract's rule). */
export function modelRead(
  points: readonly PointEntry[],
  tombstones: readonly RangeTombstone[],
  key: Uint8Array,
  snapshot: number,
): string | undefined {
  let newest: PointEntry | undefined;
  for (const p of points) {
    if (compareKeys(p.key, key) === 0 && p.seq <= snapshot && (newest === undefined || p.seq > newest.seq)) newest = p;
  }
  if (newest === undefined || newest.kind === EntryKind.Delete) return undefined;
  for (const t of tombstones) {
    if (compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0 && t.seq > newest.seq && t.seq <= snapshot) return undefined;
  }
  return Buffer.from(newest.value).toString('hex');
}
