// A plain sorted-array model of a table, and fast-check generators of valid table input.
import fc from 'fast-check';
import { compareEntries, compareKeys, compareTombstones, EntryKind, type PointEntry, type RangeTombstone } from '@strata-db/memtable';

export interface TableInput {
  readonly entries: PointEntry[];
  readonly tombstones: RangeTombstone[];
}

const smallKey = fc.uint8Array({ minLength: 0, maxLength: 12, max: 7 }); // tiny alphabet: shared prefixes, collisions
const anyKey = fc.oneof(
  { weight: 20, arbitrary: smallKey },
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 65536 }) },
);
const value = fc.oneof(
  { weight: 10, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 5000 }) },
);

/** Sorted, valid table input: unique keys, 1–4 versions each (puts, deletes, empty values), tombstones. */
export function tableInput(opts: { maxKeys?: number; bigKeys?: boolean } = {}): fc.Arbitrary<TableInput> {
  const key = opts.bigKeys === false ? smallKey : anyKey;
  const version = fc.record({ seq: fc.integer({ min: 0, max: 200 }), del: fc.boolean(), value });
  const keyed = fc.record({ key, versions: fc.uniqueArray(version, { minLength: 1, maxLength: 4, selector: (v) => v.seq }) });
  const tomb = fc.record({ a: key, b: key, seq: fc.integer({ min: 0, max: 200 }) });
  return fc
    .record({
      keys: fc.uniqueArray(keyed, { minLength: 0, maxLength: opts.maxKeys ?? 200, selector: (k) => Buffer.from(k.key).toString('hex') }),
      tombs: fc.array(tomb, { maxLength: 6 }),
    })
    .map(({ keys, tombs }) => {
      const entries: PointEntry[] = [];
      for (const k of keys) {
        for (const v of k.versions) {
          entries.push({ key: k.key, seq: v.seq, kind: v.del ? EntryKind.Delete : EntryKind.Put, value: v.del ? new Uint8Array(0) : v.value });
        }
      }
      entries.sort(compareEntries);
      const tombstones: RangeTombstone[] = [];
      const seen = new Set<string>();
      for (const t of tombs) {
        const c = compareKeys(t.a, t.b);
        if (c === 0) continue;
        const [start, end] = c < 0 ? [t.a, t.b] : [t.b, t.a];
        const id = `${Buffer.from(start).toString('hex')}#${t.seq}`;
        if (seen.has(id)) continue;
        seen.add(id);
        tombstones.push({ start, end, seq: t.seq });
      }
      tombstones.sort(compareTombstones);
      return { entries, tombstones };
    })
    .filter((t) => t.entries.length + t.tombstones.length > 0);
}

/** Newest version of `key` with seq ≤ snap (tombstones not applied). */
export function modelGet(entries: readonly PointEntry[], key: Uint8Array, snap: number): PointEntry | undefined {
  for (const e of entries) if (compareKeys(e.key, key) === 0 && e.seq <= snap) return e;
  return undefined;
}

export function modelMaxCovering(tombstones: readonly RangeTombstone[], key: Uint8Array, snap: number): number {
  let max = 0;
  for (const t of tombstones) if (t.seq <= snap && compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0) max = Math.max(max, t.seq);
  return max;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** A comparable summary of an entry. */
export const show = (e: PointEntry): string => `${hex(e.key)}#${e.seq}:${e.kind}=${hex(e.value)}`;
