/**
 * Model tests: random programs of puts, deletes, range deletes and batches at increasing
 * (sometimes gapped) seqs, checked against the brute-force `Model` at random snapshots —
 * point reads, raw and visible iteration (including random cursor walks), fragmented
 * tombstones and the flush iterators.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrozenMemtable, Memtable, type MemtableReader } from './index.js';
import type { PointSkiplist } from './skiplist.js';
import { Model, checkSpans, probeKeys } from './test-support/model.js';
import { compareKeys, type BatchOp, type PointEntry, type RangeTombstone } from './types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const showEntry = (e: PointEntry): string => `${hex(e.key)}#${e.seq}:${e.kind}:${hex(e.value)}`;
const showTombstone = (t: RangeTombstone): string => `[${hex(t.start)},${hex(t.end)})#${t.seq}`;
const showVisible = (e: { key: Uint8Array; value: Uint8Array; seq: number }): string => `${hex(e.key)}#${e.seq}=${hex(e.value)}`;

/** 20 shared bytes: keys past the skiplist's 16-byte JS loop, compared natively. */
const LONG = enc('long-shared-prefix--');

/**
 * Keys that collide often, share 4-byte prefixes (the skiplist's fast path), are shorter than
 * 4 bytes, or share more than 16 bytes.
 */
const keyArb = fc.oneof(
  { weight: 1, arbitrary: fc.array(fc.constantFrom(0, 1, 0xff), { maxLength: 3 }).map((a) => Uint8Array.of(...LONG, ...a)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdf', 'abce', 'b'].map(enc),
      Uint8Array.of(0),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0)
    ),
  },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), { maxLength: 6 }).map((a) => Uint8Array.from(a)) }
);
const valueArb = fc.uint8Array({ maxLength: 6 });

const opsOver = (keyArb: fc.Arbitrary<Uint8Array>): fc.Arbitrary<BatchOp> => fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('del' as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.tuple(keyArb, keyArb).map(([a, b]): BatchOp => {
      const c = compareKeys(a, b);
      if (c === 0) return { type: 'deleteRange', start: a, end: Uint8Array.of(...a, 0) };
      return c < 0 ? { type: 'deleteRange', start: a, end: b } : { type: 'deleteRange', start: b, end: a };
    }),
  }
);
const opArb = opsOver(keyArb);

interface Step {
  ops: BatchOp[];
  gap: number;
  single: boolean;
}
const stepsOver = (opArb: fc.Arbitrary<BatchOp>): fc.Arbitrary<Step> =>
  fc.record({
    ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
    gap: fc.integer({ min: 1, max: 3 }),
    single: fc.boolean(),
  });
const stepArb = stepsOver(opArb);

/**
 * Programs whose keys all start with one head — the skiplist then caches the 8 bytes after the
 * shared head rather than the first 8 — except a rare key that leaves the head part-way (the
 * shared length drops and every cached prefix is recomputed). Heads: none, shorter than a
 * word, db_bench's zero-padded decimals, longer than the 32 bytes the skiplist skips at most.
 */
const headedProgramArb = fc
  .constantFrom(enc(''), enc('t:'), enc('0000000000'), enc('tenant-0042/table-users/index-by-name/'))
  .chain((head) => {
    const suffix = fc.array(fc.constantFrom(0, 0x30, 0x31, 0x7f, 0x80, 0xff), { maxLength: 12 });
    const key = fc.oneof(
      { weight: 15, arbitrary: suffix.map((s) => Uint8Array.of(...head, ...s)) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.nat(head.length), fc.constantFrom(0, 0x2f, 0x31, 0xff), suffix)
          .map(([cut, b, s]) => Uint8Array.of(...head.subarray(0, cut), b, ...s)),
      }
    );
    return fc.record({ head: fc.constant(head), steps: fc.array(stepsOver(opsOver(key)), { minLength: 1, maxLength: 40 }) });
  });

/** Keys around a head: inside, before and after every key that has it, and cut short. */
function probesAround(head: Uint8Array): Uint8Array[] {
  const keys = [head, Uint8Array.of(...head, 0x30)];
  for (let cut = 0; cut < head.length; cut++) {
    keys.push(head.subarray(0, cut));
    if (head[cut]! > 0) keys.push(Uint8Array.of(...head.subarray(0, cut), head[cut]! - 1, 0xff));
    if (head[cut]! < 0xff) keys.push(Uint8Array.of(...head.subarray(0, cut), head[cut]! + 1));
  }
  return keys;
}

function write(m: Memtable, step: Step, firstSeq: number): void {
  const op = step.ops[0]!;
  if (!step.single || step.ops.length !== 1) m.apply(step.ops, firstSeq);
  else if (op.type === 'put') m.put(op.key, op.value, firstSeq);
  else if (op.type === 'del') m.delete(op.key, firstSeq);
  else m.deleteRange(op.start, op.end, firstSeq);
}

function checkReads(m: MemtableReader, model: Model, snapshots: readonly number[], probes: readonly Uint8Array[]): void {
  for (const snap of snapshots) {
    for (const key of probes) {
      const where = `key ${hex(key)} at snapshot ${snap}`;
      expect(m.get(key, snap), where).toEqual(model.get(key, snap));
      const raw = m.newestVisible(key, snap);
      const expected = model.newestVisible(key, snap);
      expect(raw && showEntry(raw), where).toBe(expected && showEntry(expected));
      expect(m.maxCoveringTombstoneSeq(key, snap), where).toBe(model.maxCovering(key, snap));
    }
    const visible = model.visible(snap).map(showVisible);
    expect([...m.scan(snap)].map(showVisible), `scan at ${snap}`).toEqual(visible);
    expect([...m.scan(snap, { reverse: true })].map(showVisible), `reverse scan at ${snap}`).toEqual([...visible].reverse());

    const fragments = m.fragmentedTombstones();
    for (const key of probes)
      expect(fragments.maxCoveringSeq(key, snap), `fragments at ${snap}, key ${hex(key)}`).toBe(model.maxCovering(key, snap));
    checkSpans(fragments.spans);
  }
}


function checkContents(m: MemtableReader, model: Model): void {
  const points = model.sortedPoints().map(showEntry);
  expect([...m.flushEntries()].map(showEntry)).toEqual(points);
  const cur = m.iterator();
  const forward: string[] = [];
  cur.seekToFirst();
  while (cur.valid()) {
    forward.push(showEntry(cur.entry()));
    cur.next();
  }
  expect(forward).toEqual(points);
  const backward: string[] = [];
  cur.seekToLast();
  while (cur.valid()) {
    backward.push(showEntry(cur.entry()));
    cur.prev();
  }
  expect(backward).toEqual([...points].reverse());
  const tombstones = model.sortedTombstones().map(showTombstone);
  expect([...m.flushTombstones()].map(showTombstone)).toEqual(tombstones);
  expect(m.rangeTombstones().map(showTombstone)).toEqual(tombstones);
  expect(m.entryCount).toBe(model.points.length);
  expect(m.rangeTombstoneCount).toBe(model.tombstones.length);
}

describe('Memtable against a brute-force model', () => {
  it('point reads, scans, fragments and flush agree at random snapshots, during and after writes', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), fc.array(fc.nat(150), { maxLength: 3 }), fc.nat(), (steps, sampled, midpoint) => {
        const m = new Memtable();
        const model = new Model();
        const probes = probeKeys(steps.flatMap((s) => s.ops));
        let opened: { cursor: ReturnType<Memtable['visibleIterator']>; snap: number; first: string[] } | undefined;
        steps.forEach((step, i) => {
          const first = m.maxLsn() + step.gap;
          write(m, step, first);
          model.apply(step.ops, first);
          expect(m.maxLsn()).toBe(model.maxSeq);
          if (i === midpoint % steps.length) {
            // Reads in the middle of the write stream, and a cursor left open across later writes.
            checkReads(m, model, [model.maxSeq, Math.floor(model.maxSeq / 2)], probes);
            const cursor = m.visibleIterator(model.maxSeq);
            cursor.seekToFirst();
            const firstSeen = cursor.valid() ? [showVisible({ key: cursor.key(), value: cursor.value(), seq: cursor.seq() })] : [];
            opened = { cursor, snap: model.maxSeq, first: firstSeen };
          }
        });
        checkReads(m, model, [0, model.maxSeq, model.maxSeq + 1, Number.MAX_SAFE_INTEGER, ...sampled], probes);
        checkContents(m, model);
        (m as unknown as { state: { points: PointSkiplist } }).state.points.checkInvariants();
        if (opened !== undefined) {
          const { cursor, snap, first } = opened;
          const seen = [...first];
          if (cursor.valid()) cursor.next();
          while (cursor.valid()) {
            seen.push(showVisible({ key: cursor.key(), value: cursor.value(), seq: cursor.seq() }));
            cursor.next();
          }
          expect(seen, `cursor opened at ${snap} before later writes`).toEqual(model.visible(snap).map(showVisible));
        }
        // A frozen memtable answers exactly as the active one did.
        const frozen = m.freeze();
        checkReads(frozen, model, [model.maxSeq, ...sampled], probes);
        checkContents(frozen, model);
        // So does one rebuilt from its image after a structured clone (what postMessage does).
        const view = FrozenMemtable.fromImage(structuredClone(frozen.image()));
        checkReads(view, model, [model.maxSeq], probes);
        checkContents(view, model);
        expect(view.approximateBytes()).toBe(frozen.approximateBytes());
      }),
      { numRuns: 150 }
    );
  });

  it('keys sharing a long head, and a late key without it: reads, seeks and flush agree', () => {
    fc.assert(
      fc.property(headedProgramArb, fc.nat(), ({ head, steps }, midpoint) => {
        const m = new Memtable();
        const model = new Model();
        const probes = [...probeKeys(steps.flatMap((s) => s.ops)), ...probesAround(head)];
        const checkSeeks = (): void => {
          const points = model.sortedPoints();
          const it = m.iterator();
          for (const key of probes) {
            const ge = points.find((e) => compareKeys(e.key, key) >= 0);
            it.seek(key);
            expect(it.valid() ? showEntry(it.entry()) : undefined, `seek ${hex(key)}`).toBe(ge && showEntry(ge));
            const le = points.filter((e) => compareKeys(e.key, key) <= 0).pop();
            it.seekForPrev(key);
            expect(it.valid() ? showEntry(it.entry()) : undefined, `seekForPrev ${hex(key)}`).toBe(le && showEntry(le));
          }
        };
        steps.forEach((step, i) => {
          const first = m.maxLsn() + step.gap;
          write(m, step, first);
          model.apply(step.ops, first);
          if (i === midpoint % steps.length) {
            checkReads(m, model, [model.maxSeq], probes);
            checkSeeks();
          }
        });
        checkReads(m, model, [0, model.maxSeq, Math.floor(model.maxSeq / 2)], probes);
        checkSeeks();
        (m as unknown as { state: { points: PointSkiplist } }).state.points.checkInvariants();
        checkContents(m, model);
      }),
      { numRuns: 200 }
    );
  });

  it('appends past the last key interleaved with rewrites of it, inserts in the middle and keys before all: reads and flush agree', () => {
    // The skiplist links a key above every key at the tail without a search or an index probe;
    // mostly-sequential programs, where that path runs, and every way out of it: the last key
    // written again (a newer version, found through the index), a key between two others, a key
    // before every key (the shared head lowered), a delete of the last key, a range delete.
    type Pick = { readonly how: 'next' | 'last' | 'middle' | 'low' | 'delLast' | 'range'; readonly n: number };
    const pickArb: fc.Arbitrary<Pick> = fc.record({
      how: fc.constantFrom<Pick['how']>('next', 'next', 'next', 'next', 'next', 'last', 'last', 'middle', 'middle', 'low', 'delLast', 'range'),
      n: fc.nat(1000),
    });
    const programArb = fc.array(fc.record({ picks: fc.array(pickArb, { minLength: 1, maxLength: 8 }), gap: fc.integer({ min: 1, max: 3 }), single: fc.boolean() }), { minLength: 1, maxLength: 60 });
    const numbered = (i: number, suffix = ''): Uint8Array => enc(`k${String(i).padStart(6, '0')}${suffix}`);
    fc.assert(
      fc.property(programArb, fc.nat(), (program, midpoint) => {
        const m = new Memtable();
        const model = new Model();
        let next = 0;
        const steps: Step[] = program.map(({ picks, gap, single }) => ({
          gap,
          single,
          ops: picks.map(({ how, n }): BatchOp => {
            const last = numbered(Math.max(0, next - 1));
            switch (how) {
              case 'next':
                return { type: 'put', key: numbered(next++), value: Uint8Array.of(n & 0xff) };
              case 'last':
                return { type: 'put', key: last, value: Uint8Array.of(n & 0xff, 1) };
              case 'middle':
                return { type: 'put', key: numbered(n % (next + 1), n % 2 === 0 ? '' : 'm'), value: Uint8Array.of(2) };
              case 'low':
                return { type: 'put', key: n % 2 === 0 ? new Uint8Array(0) : enc('a'), value: Uint8Array.of(3) };
              case 'delLast':
                return { type: 'del', key: last };
              case 'range':
                return { type: 'deleteRange', start: numbered(n % (next + 1)), end: numbered(n % (next + 1) + 1 + (n % 3)) };
            }
          }),
        }));
        const probes = probeKeys(steps.flatMap((s) => s.ops));
        steps.forEach((step, i) => {
          const first = m.maxLsn() + step.gap;
          write(m, step, first);
          model.apply(step.ops, first);
          if (i === midpoint % steps.length) checkReads(m, model, [model.maxSeq, Math.floor(model.maxSeq / 2)], probes);
        });
        checkReads(m, model, [0, model.maxSeq, Math.floor(model.maxSeq / 2)], probes);
        (m as unknown as { state: { points: PointSkiplist } }).state.points.checkInvariants();
        checkContents(m, model);
        const frozen = m.freeze();
        checkContents(FrozenMemtable.fromImage(structuredClone(frozen.image())), model);
      }),
      { numRuns: 200 }
    );
  });

  it('bounded scans agree with the model', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 25 }),
        keyArb,
        keyArb,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.nat(100),
        (steps, a, b, lowerInclusive, upperInclusive, reverse, snapRaw) => {
          const m = new Memtable();
          const model = new Model();
          for (const step of steps) {
            const first = m.maxLsn() + step.gap;
            write(m, step, first);
            model.apply(step.ops, first);
          }
          const [lo, hi] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
          const snap = Math.min(snapRaw, model.maxSeq + 1);
          const options = { ...(lowerInclusive ? { gte: lo } : { gt: lo }), ...(upperInclusive ? { lte: hi } : { lt: hi }), reverse };
          const expected = model
            .visible(snap)
            .filter((e) => {
              const l = compareKeys(e.key, lo);
              const h = compareKeys(e.key, hi);
              return (lowerInclusive ? l >= 0 : l > 0) && (upperInclusive ? h <= 0 : h < 0);
            })
            .map(showVisible);
          if (reverse) expected.reverse();
          expect([...m.scan(snap, options)].map(showVisible)).toEqual(expected);
        }
      ),
      { numRuns: 200 }
    );
  });

  it('random cursor walks (seek, seekForPrev, next, prev) agree with the model, raw and visible', () => {
    const moveArb = fc.oneof(
      fc.constantFrom('next' as const, 'prev' as const, 'first' as const, 'last' as const),
      keyArb.map((k) => ({ seek: k })),
      keyArb.map((k) => ({ seekForPrev: k }))
    );
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.nat(100),
        fc.array(moveArb, { maxLength: 30 }),
        (steps, snapRaw, moves) => {
          const m = new Memtable();
          const model = new Model();
          for (const step of steps) {
            const first = m.maxLsn() + step.gap;
            write(m, step, first);
            model.apply(step.ops, first);
          }
          const snap = Math.min(snapRaw, model.maxSeq + 1);
          const visible = model.visible(snap);
          const points = model.sortedPoints();
          const cursor = m.visibleIterator(snap);
          const raw = m.iterator();
          let vi = -1; // model position in `visible`; -1 or length = not valid
          let ri = -1;
          for (const move of moves) {
            if (move === 'next' || move === 'prev') {
              const d = move === 'next' ? 1 : -1;
              if (vi >= 0 && vi < visible.length) vi += d;
              if (ri >= 0 && ri < points.length) ri += d;
              if (move === 'next') {
                cursor.next();
                raw.next();
              } else {
                cursor.prev();
                raw.prev();
              }
            } else if (move === 'first') {
              vi = 0;
              ri = 0;
              cursor.seekToFirst();
              raw.seekToFirst();
            } else if (move === 'last') {
              vi = visible.length - 1;
              ri = points.length - 1;
              cursor.seekToLast();
              raw.seekToLast();
            } else if ('seek' in move) {
              vi = visible.findIndex((e) => compareKeys(e.key, move.seek) >= 0);
              if (vi < 0) vi = visible.length;
              ri = points.findIndex((e) => compareKeys(e.key, move.seek) >= 0);
              if (ri < 0) ri = points.length;
              cursor.seek(move.seek);
              raw.seek(move.seek);
            } else {
              vi = visible.findLastIndex((e) => compareKeys(e.key, move.seekForPrev) <= 0);
              ri = points.findLastIndex((e) => compareKeys(e.key, move.seekForPrev) <= 0);
              cursor.seekForPrev(move.seekForPrev);
              raw.seekForPrev(move.seekForPrev);
            }
            const ve = visible[vi];
            expect(cursor.valid()).toBe(ve !== undefined);
            if (ve !== undefined)
              expect(showVisible({ key: cursor.key(), value: cursor.value(), seq: cursor.seq() })).toBe(showVisible(ve));
            const re = points[ri];
            expect(raw.valid()).toBe(re !== undefined);
            if (re !== undefined) expect(showEntry(raw.entry())).toBe(showEntry(re));
          }
        }
      ),
      { numRuns: 200 }
    );
  });
});
