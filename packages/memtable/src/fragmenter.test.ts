import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FragmentCursor, FragmentedRangeTombstones, fragmentTombstones, type TombstoneSpan } from './fragmenter.js';
import { RangeTombstoneSet } from './range-tombstones.js';
import { checkSpans, uniqueKeys } from './test-support/model.js';
import { compareKeys, type RangeTombstone } from './types.js';

const keyArb = fc.array(fc.constantFrom(0, 1, 2, 0xff), { maxLength: 3 }).map((a) => Uint8Array.from(a));
const rangeArb = fc
  .tuple(keyArb, keyArb)
  .filter(([a, b]) => compareKeys(a, b) !== 0)
  .map(([a, b]) => (compareKeys(a, b) < 0 ? { start: a, end: b } : { start: b, end: a }));

/** Tombstones with unique seqs 1..n in a shuffled order. */
const tombstonesArb = fc.array(rangeArb, { maxLength: 30 }).chain((ranges) =>
  fc.shuffledSubarray(
    ranges.map((r, i) => ({ ...r, seq: i + 1 })),
    { minLength: ranges.length, maxLength: ranges.length }
  )
);

function bruteCovering(ts: readonly RangeTombstone[], key: Uint8Array, snapshot: number): number {
  let best = 0;
  for (const t of ts) if (t.seq <= snapshot && t.seq > best && compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0) best = t.seq;
  return best;
}

/** Every seq covering `key`, newest first, without duplicates. */
function bruteSeqs(ts: readonly RangeTombstone[], key: Uint8Array): number[] {
  const seqs = ts.filter((t) => compareKeys(t.start, key) <= 0 && compareKeys(key, t.end) < 0).map((t) => t.seq);
  return [...new Set(seqs)].sort((a, b) => b - a);
}

function probes(ts: readonly RangeTombstone[]): Uint8Array[] {
  const keys = ts.flatMap((t) => [t.start, t.end]);
  return uniqueKeys([new Uint8Array(0), ...keys, ...keys.map((k) => Uint8Array.of(...k, 0))]);
}

const show = (spans: readonly TombstoneSpan[]): string[] =>
  spans.map((s) => `[${Buffer.from(s.start).toString('hex')},${Buffer.from(s.end).toString('hex')}){${s.seqs.join(',')}}`);

describe('fragmentTombstones', () => {
  it('example from the file header', () => {
    const k = (c: string): Uint8Array => new TextEncoder().encode(c);
    const f = fragmentTombstones([
      { start: k('a'), end: k('k'), seq: 5 },
      { start: k('c'), end: k('e'), seq: 9 },
      { start: k('d'), end: k('m'), seq: 3 },
    ]);
    expect(f.spans.map((s) => `[${String.fromCharCode(s.start[0]!)},${String.fromCharCode(s.end[0]!)}){${s.seqs.join(',')}}`)).toEqual([
      '[a,c){5}',
      '[c,d){9,5}',
      '[d,e){9,5,3}',
      '[e,k){5,3}',
      '[k,m){3}',
    ]);
  });

  it('every span carries exactly the seqs covering it, and answers like a brute-force scan at every snapshot', () => {
    fc.assert(
      fc.property(tombstonesArb, fc.boolean(), (ts, duplicate) => {
        // A tombstone met twice (two inputs holding the same piece) counts once.
        const input = duplicate ? [...ts, ...ts.slice(0, 3)] : ts;
        const view = fragmentTombstones(input);
        checkSpans(view.spans);
        for (const s of view.spans) expect(s.seqs).toEqual(bruteSeqs(ts, s.start));
        for (const key of probes(ts)) {
          const span = view.covering(key);
          expect(span?.seqs ?? []).toEqual(bruteSeqs(ts, key));
          for (let snap = 0; snap <= ts.length + 1; snap++) expect(view.maxCoveringSeq(key, snap)).toBe(bruteCovering(ts, key, snap));
        }
      }),
      { numRuns: 300 }
    );
  });

  it('a cursor answers like the list, for keys in any order and while the list grows', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 30 }), fc.array(keyArb, { maxLength: 40 }), fc.nat(31), (ranges, keys, snap) => {
        const list = FragmentedRangeTombstones.growable();
        const cursor = new FragmentCursor(list, snap);
        const latest = new FragmentCursor(list);
        const added: RangeTombstone[] = [];
        ranges.forEach((r, i) => {
          const t = { ...r, seq: i + 1 };
          list.addNewest(t);
          added.push(t);
          const key = keys[i % Math.max(1, keys.length)];
          if (key !== undefined) {
            expect(cursor.maxCoveringSeq(key)).toBe(bruteCovering(added, key, snap));
            expect(latest.maxCoveringSeq(key)).toBe(bruteCovering(added, key, Number.MAX_SAFE_INTEGER));
          }
        });
        for (const key of [...keys, ...uniqueKeys(keys), ...probes(added)]) {
          expect(cursor.maxCoveringSeq(key)).toBe(bruteCovering(added, key, snap));
          expect(cursor.covering(key)?.seqs ?? []).toEqual(bruteSeqs(added, key));
        }
      }),
      { numRuns: 300 }
    );
  });

  it('the incrementally grown list equals a full fragmentation after every add', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 30 }), (ranges) => {
        const set = new RangeTombstoneSet();
        const added: RangeTombstone[] = [];
        ranges.forEach((r, i) => {
          set.add(r.start, r.end, i + 1);
          added.push({ ...r, seq: i + 1 });
          expect(show(set.fragments.spans)).toEqual(show(fragmentTombstones(added).spans));
        });
        for (let snap = 0; snap <= ranges.length; snap++) {
          for (const key of probes(added)) expect(set.maxCoveringSeq(key, snap)).toBe(bruteCovering(added, key, snap));
        }
      }),
      { numRuns: 200 }
    );
  });

  it('clip: the tombstones of an output table cut to [lo, hi) cover exactly what the spans cover there, rejoined', () => {
    fc.assert(
      fc.property(tombstonesArb, fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined }), (ts, lo, hi) => {
        const view = fragmentTombstones(ts);
        const out = view.clip(lo, hi);
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1]!;
          const b = out[i]!;
          expect(compareKeys(a.start, b.start) || b.seq - a.seq).toBeLessThan(0);
        }
        for (const t of out) {
          expect(compareKeys(t.start, t.end)).toBeLessThan(0);
          // Pieces of one seq never touch: they would have been joined.
          for (const u of out) if (u !== t && u.seq === t.seq) expect(compareKeys(t.end, u.start) !== 0 && compareKeys(u.end, t.start) !== 0).toBe(true);
        }
        const inside = (k: Uint8Array): boolean => (lo === undefined || compareKeys(k, lo) >= 0) && (hi === undefined || compareKeys(k, hi) < 0);
        for (const key of [...probes(ts), ...(lo ? [lo] : []), ...(hi ? [hi] : [])]) {
          expect(bruteSeqs(out, key)).toEqual(inside(key) ? bruteSeqs(ts, key) : []);
        }
      }),
      { numRuns: 300 }
    );
  });

  it('lookups through the span index (built after enough of them) answer like the spans, keys outside the shared head included', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { minLength: 1, maxLength: 20 }), fc.constantFrom(0, 1, 2), fc.array(keyArb, { minLength: 1, maxLength: 30 }), (ranges, head, keys) => {
        // Every key of the list starts with `head`: the index keeps those bytes apart.
        const withHead = (k: Uint8Array): Uint8Array => Uint8Array.of(head, head, ...k);
        const ts = ranges.map((r, i) => ({ start: withHead(r.start), end: withHead(r.end), seq: i + 1 }));
        const view = fragmentTombstones(ts);
        const probesAll = [...keys, ...keys.map(withHead), Uint8Array.of(head), Uint8Array.of(head, head + 1), new Uint8Array(0)];
        // Twice: the first pass may run before the index exists, the second runs through it.
        for (let pass = 0; pass < 2; pass++) {
          for (let r = 0; r < 60; r++) {
            for (const key of probesAll) {
              expect(view.maxCoveringSeq(key)).toBe(bruteCovering(ts, key, Number.MAX_SAFE_INTEGER));
              expect(view.maxCoveringSeq(key, ts.length >> 1)).toBe(bruteCovering(ts, key, ts.length >> 1));
            }
          }
        }
      }),
      { numRuns: 100 }
    );
  });

  it('what readers hold never changes when more tombstones arrive', () => {
    const set = new RangeTombstoneSet();
    const k = (s: string) => new TextEncoder().encode(s);
    set.add(k('a'), k('m'), 1);
    const spansBefore = set.fragments.spans.slice();
    const cursor = new FragmentCursor(set.fragments, 1);
    expect(cursor.maxCoveringSeq(k('d'))).toBe(1);
    const all = set.all();
    set.add(k('c'), k('e'), 2);
    expect(show(spansBefore)).toEqual(['[61,6d){1}']);
    expect(all).toHaveLength(1);
    expect(cursor.maxCoveringSeq(k('d'))).toBe(1);
    expect(show(set.fragments.spans)).toEqual(['[61,63){1}', '[63,65){2,1}', '[65,6d){1}']);
  });

  it('stays fast under thousands of overlapping tombstones', () => {
    const set = new RangeTombstoneSet();
    const key = (i: number) => Uint8Array.of(i >>> 8, i & 0xff);
    const n = 4000;
    // Nested ranges: [i, 2n - i) — every key in the middle lies under all of them.
    for (let i = 0; i < n; i++) set.add(key(i), key(2 * n - i), i + 1);
    const probe = key(n);
    // CPU time, not wall time: on a shared machine the wall clock measures the other processes.
    const cpuMs = (): number => process.cpuUsage().user / 1000;
    const t0 = cpuMs();
    for (let i = 0; i < 100_000; i++) if (set.maxCoveringSeq(probe, Number.MAX_SAFE_INTEGER) !== n) throw new Error('wrong seq');
    const latest = cpuMs() - t0;
    const t1 = cpuMs();
    for (let i = 0; i < 100_000; i++) if (set.maxCoveringSeq(probe, n / 2) !== n / 2) throw new Error('wrong seq');
    const older = cpuMs() - t1;
    // A scan of the 4000 tombstones would take tens of µs a lookup. The bound (5 µs) leaves
    // room for slow CI.
    expect(latest).toBeLessThan(500);
    expect(older).toBeLessThan(500);
  });
});
