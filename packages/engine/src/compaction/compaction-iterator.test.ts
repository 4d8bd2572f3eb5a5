import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryKind, compareEntries, compareKeys, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { CompactionIterator, type OlderDataBelow } from './compaction-iterator.js';
import { NO_GRANDPARENTS, OutputSplitter } from './output-splitter.js';
import { OutputWriter, type TableSink } from './output-writer.js';
import { SnapshotStripes } from './snapshot-stripes.js';
import { ArrayIterator } from './test-support/array-iterator.js';
import { modelRead } from './test-support/model.js';

// Keys include k and k+0x00 pairs: the successor-based table cut must not lose either.
const KEYS = ['', 'a', 'a\0', 'b', 'b\0', 'b\0\0', 'c', 'cc', 'd', 'e'].map((s) => Buffer.from(s, 'latin1'));
const key = (i: number): Uint8Array => KEYS[i % KEYS.length]!;

interface Op {
  readonly t: 'put' | 'del' | 'range';
  readonly a: number;
  readonly b: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  t: fc.constantFrom<Op['t']>('put', 'put', 'del', 'range'),
  a: fc.nat(KEYS.length - 1),
  b: fc.nat(KEYS.length - 1),
});

function build(ops: readonly Op[], firstSeq: number): { points: PointEntry[]; tombstones: RangeTombstone[] } {
  const points: PointEntry[] = [];
  const tombstones: RangeTombstone[] = [];
  ops.forEach((op, i) => {
    const seq = firstSeq + i;
    if (op.t === 'range') {
      const [lo, hi] = compareKeys(key(op.a), key(op.b)) <= 0 ? [key(op.a), key(op.b)] : [key(op.b), key(op.a)];
      if (compareKeys(lo, hi) < 0) tombstones.push({ start: lo, end: hi, seq });
    } else {
      const kind = op.t === 'put' ? EntryKind.Put : EntryKind.Delete;
      points.push({ key: key(op.a), seq, kind, value: kind === EntryKind.Put ? Buffer.from([seq & 255, seq >> 8]) : new Uint8Array(0) });
    }
  });
  return { points, tombstones };
}

/**
 * An input that rewrites one entry in place on every move, as compaction's table iterators do
 * (`reuseEntry`): the entry, its key and its value are valid only until the input moves. A move
 * overwrites the bytes the last entry showed (0xee) before the next entry is written, so a
 * consumer that kept anything without copying it sees garbage.
 */
class ReusedEntries extends ArrayIterator {
  private readonly keyBuf = new Uint8Array(64);
  private readonly valueBuf = new Uint8Array(64);
  private readonly reused: { key: Uint8Array; seq: number; kind: EntryKind; value: Uint8Array } = {
    key: new Uint8Array(0),
    seq: 0,
    kind: EntryKind.Put,
    value: new Uint8Array(0),
  };
  private stale = true;
  override entry(): PointEntry {
    if (this.stale) {
      const real = super.entry();
      this.keyBuf.set(real.key);
      this.valueBuf.set(real.value);
      const e = this.reused;
      e.key = this.keyBuf.subarray(0, real.key.length);
      e.seq = real.seq;
      e.kind = real.kind;
      e.value = this.valueBuf.subarray(0, real.value.length);
      this.stale = false;
    }
    return this.reused;
  }
  override seekToFirst(): void {
    this.clobber();
    super.seekToFirst();
  }
  override next(): void {
    this.clobber();
    super.next();
  }
  private clobber(): void {
    this.keyBuf.fill(0xee);
    this.valueBuf.fill(0xee);
    this.reused.seq = -1;
    this.stale = true;
  }
}

class MemorySink implements TableSink {
  readonly points: PointEntry[] = [];
  readonly tombstones: RangeTombstone[] = [];
  add(e: PointEntry): void {
    // The table builder copies the key and the value when they are added: so does this sink.
    this.points.push({ ...e, key: Buffer.isBuffer(e.key) ? Buffer.from(e.key) : new Uint8Array(e.key), value: Buffer.isBuffer(e.value) ? Buffer.from(e.value) : new Uint8Array(e.value) });
  }
  addTombstone(t: RangeTombstone): void {
    this.tombstones.push(t);
  }
  get estimatedSize(): number {
    return this.points.length * 10;
  }
  get lastUserKey(): Uint8Array | undefined {
    const last = this.points.at(-1);
    return last === undefined ? undefined : new Uint8Array(last.key);
  }
}

async function compact(
  inputPoints: PointEntry[],
  inputTombstones: RangeTombstone[],
  snapshots: number[],
  below: OlderDataBelow,
  targetFileSize: number,
  inputBudget?: number,
  reuse = false,
): Promise<{ iter: CompactionIterator; tables: { sink: MemorySink; smallest: Uint8Array; largest: Uint8Array }[] }> {
  const input = reuse ? new ReusedEntries(inputPoints) : new ArrayIterator(inputPoints);
  const iter = new CompactionIterator(input, inputTombstones, {
    snapshots,
    olderDataBelow: below,
    ...(inputBudget === undefined ? {} : { inputBudget }),
  });
  const splitter = new OutputSplitter({ targetFileSize, grandparents: NO_GRANDPARENTS, maxGrandparentOverlapBytes: Infinity });
  const writer = new OutputWriter<MemorySink, MemorySink>(iter, splitter, {
    open: () => new MemorySink(),
    finish: (s) => Promise.resolve(s),
    sliceMs: 1000,
    yieldNow: () => Promise.resolve(),
  });
  const outs = await writer.run();
  return { iter, tables: outs.map((o) => ({ sink: o.meta, smallest: o.range.smallestKey, largest: o.range.largestKey })) };
}

describe('CompactionIterator + OutputWriter against a brute-force model', () => {
  it('every read at every snapshot is unchanged, output tables are disjoint, one version per stripe', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 12 }), // older data below the output level
        fc.array(opArb, { minLength: 1, maxLength: 40 }), // the compaction's inputs
        fc.array(fc.nat(70), { maxLength: 4 }),
        fc.integer({ min: 10, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (belowOps, inputOps, snapshots, target, budget, reuse) => {
          const below = build(belowOps, 1); // seqs 1..12: older than every input
          const input = build(inputOps, 20);
          const olderDataBelow: OlderDataBelow = {
            key: (k) => below.points.some((p) => compareKeys(p.key, k) === 0) || below.tombstones.some((t) => compareKeys(t.start, k) <= 0 && compareKeys(k, t.end) < 0),
            range: (s, e) =>
              below.points.some((p) => compareKeys(s, p.key) <= 0 && compareKeys(p.key, e) < 0) ||
              below.tombstones.some((t) => compareKeys(t.start, e) < 0 && compareKeys(s, t.end) < 0),
          };
          // A tiny input budget makes next() stop mid-key and return null often: the resumable path.
          // An input that rewrites its one entry on every move (compaction's table iterators) must
          // not change a byte of the output.
          const { tables } = await compact(input.points, input.tombstones, snapshots, olderDataBelow, target, budget, reuse);
          const outPoints = tables.flatMap((t) => t.sink.points);
          const outTombstones = tables.flatMap((t) => t.sink.tombstones);

          const readers = [...snapshots, Number.MAX_SAFE_INTEGER];
          const probes = [...KEYS, Buffer.from('zz')];
          for (const r of readers) {
            for (const k of probes) {
              const before = modelRead([...below.points, ...input.points], [...below.tombstones, ...input.tombstones], k, r);
              const after = modelRead([...below.points, ...outPoints], [...below.tombstones, ...outTombstones], k, r);
              expect(after, `key ${Buffer.from(k).toString('latin1')} at ${r}`).toBe(before);
            }
          }
          // Output ordered, tables disjoint (inclusive ranges), tombstones inside their table's range.
          for (let i = 0; i < tables.length; i++) {
            const t = tables[i]!;
            expect(compareKeys(t.smallest, t.largest)).toBeLessThanOrEqual(0);
            if (i > 0) expect(compareKeys(tables[i - 1]!.largest, t.smallest)).toBeLessThan(0);
            for (const p of t.sink.points) expect(compareKeys(p.key, t.smallest) >= 0 && compareKeys(p.key, t.largest) <= 0).toBe(true);
            for (const x of t.sink.tombstones) expect(compareKeys(x.start, t.smallest)).toBeGreaterThanOrEqual(0);
          }
          // No user key split across tables.
          const seen = new Set<string>();
          for (const t of tables) {
            const keys = new Set(t.sink.points.map((p) => Buffer.from(p.key).toString('hex')));
            for (const k of keys) {
              expect(seen.has(k)).toBe(false);
              seen.add(k);
            }
          }
          // Nothing needed by no reader survives when nothing is below and no snapshot is held.
          if (snapshots.length === 0 && belowOps.length === 0) {
            expect(outTombstones).toEqual([]);
            expect(outPoints.every((p) => p.kind === EntryKind.Put)).toBe(true);
            const keys = outPoints.map((p) => Buffer.from(p.key).toString('hex'));
            expect(new Set(keys).size).toBe(keys.length);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('CompactionIterator: the exact output', () => {
  /** The collapse as specified: each key's versions whole (rules 1 and 2), then its trailing deletes dropped (rule 3). */
  function collapseWhole(points: readonly PointEntry[], tombstones: readonly RangeTombstone[], snapshots: number[], below: OlderDataBelow): PointEntry[] {
    const stripes = new SnapshotStripes(snapshots);
    const sorted = [...points].sort(compareEntries);
    const out: PointEntry[] = [];
    for (let i = 0; i < sorted.length; ) {
      const k = sorted[i]!.key;
      const kept: PointEntry[] = [];
      let last = -1;
      for (; i < sorted.length && compareKeys(sorted[i]!.key, k) === 0; i++) {
        const e = sorted[i]!;
        const stripe = stripes.stripeOf(e.seq);
        if (stripe === last) continue;
        last = stripe;
        const hidden = tombstones.some(
          (t) => compareKeys(t.start, k) <= 0 && compareKeys(k, t.end) < 0 && t.seq > e.seq && stripes.stripeOf(t.seq) === stripe,
        );
        if (!hidden) kept.push(e);
      }
      if (kept.length > 0 && kept[kept.length - 1]!.kind === EntryKind.Delete && !below.key(k)) {
        while (kept.length > 0 && kept[kept.length - 1]!.kind === EntryKind.Delete) kept.pop();
      }
      out.push(...kept);
    }
    return out;
  }
  const show = (e: PointEntry): string => `${Buffer.from(e.key).toString('hex')}#${e.seq}:${e.kind}=${Buffer.from(e.value).toString('hex')}`;

  it('hands out exactly the versions of the whole-key collapse, in order, from an input that rewrites its entry on every move', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(90), { maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<'none' | 'all' | 'even'>('none', 'all', 'even'),
        fc.uint8Array({ maxLength: 3 }),
        (ops, snapshots, budget, belowKind, prefix) => {
          // Every key behind one prefix, which the collapse is told of (sharedPrefix: its key copy skips it).
          const pre = (k: Uint8Array): Buffer => Buffer.concat([prefix, k]);
          const built = build(ops, 20);
          const input = {
            points: built.points.map((e) => ({ ...e, key: pre(e.key) })),
            tombstones: built.tombstones.map((t) => ({ ...t, start: pre(t.start), end: pre(t.end) })),
          };
          const below: OlderDataBelow = {
            key: (k) => belowKind === 'all' || (belowKind === 'even' && k.length % 2 === 0),
            range: () => belowKind !== 'none',
          };
          const iter = new CompactionIterator(new ReusedEntries(input.points), input.tombstones, {
            snapshots,
            olderDataBelow: below,
            inputBudget: budget,
            sharedPrefix: prefix.length,
          });
          const got: string[] = [];
          const firsts: boolean[] = [];
          for (let e = iter.next(); e !== undefined; e = iter.next()) {
            if (e === null) continue;
            got.push(show(e)); // the entry is valid until the next call: copied now
            firsts.push(iter.firstOfKey);
          }
          const want = collapseWhole(input.points, input.tombstones, snapshots, below);
          expect(got).toEqual(want.map(show));
          expect(firsts).toEqual(want.map((e, i) => i === 0 || compareKeys(want[i - 1]!.key, e.key) !== 0));
          expect(iter.counters.entriesOut).toBe(want.length);
          const c = iter.counters;
          expect(c.entriesIn).toBe(input.points.length);
          expect(c.entriesOut + c.droppedShadowed + c.droppedByRangeTombstone + c.droppedDeletes).toBe(c.entriesIn);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('targeted cases', () => {
  const none: OlderDataBelow = { key: () => false, range: () => false };
  const all: OlderDataBelow = { key: () => true, range: () => true };
  const put = (k: string, seq: number, v = k): PointEntry => ({ key: Buffer.from(k), seq, kind: EntryKind.Put, value: Buffer.from(v) });
  const del = (k: string, seq: number): PointEntry => ({ key: Buffer.from(k), seq, kind: EntryKind.Delete, value: new Uint8Array(0) });

  it('hands control back (null) while dropping a long run, and while reading a key with many versions', () => {
    const pts: PointEntry[] = [];
    for (let i = 0; i < 5000; i++) pts.push(put(`k${String(i).padStart(5, '0')}`, 10 + i));
    for (let s = 0; s < 3000; s++) pts.push(put('zz', 20_000 + s, `v${s}`));
    const tomb: RangeTombstone = { start: Buffer.from('k'), end: Buffer.from('l'), seq: 19_000 };
    const iter = new CompactionIterator(new ArrayIterator(pts), [tomb], { snapshots: [], olderDataBelow: none });
    let nulls = 0;
    const out: PointEntry[] = [];
    for (let e = iter.next(); e !== undefined; e = iter.next()) {
      if (e === null) nulls++;
      else out.push(e);
    }
    expect(out).toEqual([put('zz', 22_999, 'v2999')]);
    expect(nulls).toBeGreaterThanOrEqual(Math.floor(8000 / 512) - 1);
    expect(iter.counters.entriesIn).toBe(8000);
  });

  it('keeps a delete that shadows an older put in a deeper level', async () => {
    const { tables } = await compact([del('k', 9)], [], [], all, 1000);
    expect(tables.flatMap((t) => t.sink.points)).toEqual([del('k', 9)]);
  });

  it('drops a delete and what it shadows at the bottom of the tree', async () => {
    const { tables } = await compact([del('k', 9), put('k', 3)], [], [], none, 1000);
    expect(tables).toEqual([]);
  });

  it('keeps the version an older snapshot reads after an overwrite', async () => {
    const { tables } = await compact([put('k', 9, 'new'), put('k', 5, 'old'), put('k', 2, 'older')], [], [6], none, 1000);
    expect(tables.flatMap((t) => t.sink.points)).toEqual([put('k', 9, 'new'), put('k', 5, 'old')]);
  });

  it('carries a range tombstone into every output table it spans, each piece inside its table', async () => {
    const pts: PointEntry[] = [];
    for (let i = 0; i < 50; i++) pts.push(put(`k${String(i).padStart(2, '0')}`, 100 + i));
    const tomb: RangeTombstone = { start: Buffer.from('a'), end: Buffer.from('z'), seq: 99 };
    const { tables } = await compact(pts, [tomb], [], all, 100);
    expect(tables.length).toBeGreaterThan(3);
    for (const t of tables) expect(t.sink.tombstones.length).toBe(1);
    // Pieces tile [a, z) without gaps.
    const pieces = tables.map((t) => t.sink.tombstones[0]!);
    expect(Buffer.from(pieces[0]!.start).toString()).toBe('a');
    expect(Buffer.from(pieces[pieces.length - 1]!.end).toString()).toBe('z');
    for (let i = 1; i < pieces.length; i++) expect(compareKeys(pieces[i - 1]!.end, pieces[i]!.start)).toBe(0);
  });

  it('drops versions a same-stripe range tombstone hides, keeps those an older snapshot sees', async () => {
    const tomb: RangeTombstone = { start: Buffer.from('a'), end: Buffer.from('z'), seq: 10 };
    const { tables } = await compact([put('b', 4), put('c', 8)], [tomb], [5], all, 1000);
    expect(tables.flatMap((t) => t.sink.points)).toEqual([put('b', 4)]);
    expect(tables.flatMap((t) => t.sink.tombstones)).toEqual([tomb]);
  });
});
