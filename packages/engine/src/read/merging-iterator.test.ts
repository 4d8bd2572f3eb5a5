import { compareEntries, EntryKind, type InternalIterator, type PointEntry } from '@strata-db/memtable';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MergingIterator } from './merging-iterator.js';

/** An InternalIterator over a sorted array. */
class ArrayIterator implements InternalIterator {
  private i = -1;
  constructor(private readonly a: readonly PointEntry[]) {}
  valid(): boolean {
    return this.i >= 0 && this.i < this.a.length;
  }
  entry(): PointEntry {
    return this.a[this.i]!;
  }
  seekToFirst(): void {
    this.i = 0;
  }
  seekToLast(): void {
    this.i = this.a.length - 1;
  }
  seek(key: Uint8Array): void {
    this.i = this.a.findIndex((e) => Buffer.compare(e.key, key) >= 0);
    if (this.i < 0) this.i = this.a.length;
  }
  seekForPrev(key: Uint8Array): void {
    let j = this.a.length - 1;
    while (j >= 0 && Buffer.compare(this.a[j]!.key, key) > 0) j--;
    this.i = j;
  }
  next(): void {
    this.i++;
  }
  prev(): void {
    this.i--;
  }
}

const entryArb = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 1000 })).map(
  ([key, seq]): PointEntry => ({ key: Uint8Array.of(key), seq, kind: EntryKind.Put, value: new Uint8Array(0) }),
);

describe('MergingIterator', () => {
  it('walks the union in order, both ways, with direction changes and seeks anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(entryArb, { selector: (e) => `${e.key[0]}#${e.seq}`, maxLength: 15 }), { maxLength: 5 }),
        fc.array(fc.oneof(fc.constant('next'), fc.constant('prev'), fc.integer({ min: 0, max: 21 }).map((n) => ({ seek: n })), fc.integer({ min: 0, max: 21 }).map((n) => ({ seekForPrev: n }))), { maxLength: 40 }),
        (runs, moves) => {
          // Each child holds distinct key#seq (children may share them: duplicates are kept).
          const sorted = runs.map((r) => [...r].sort(compareEntries));
          const all = sorted.flat().sort(compareEntries);
          const m = new MergingIterator(sorted.map((r) => new ArrayIterator(r)));
          m.seekToFirst();
          const fwd: PointEntry[] = [];
          while (m.valid()) {
            fwd.push(m.entry());
            m.next();
          }
          expect(fwd.map((e) => `${e.key[0]}#${e.seq}`)).toEqual(all.map((e) => `${e.key[0]}#${e.seq}`));
          m.seekToLast();
          const back: PointEntry[] = [];
          while (m.valid()) {
            back.push(m.entry());
            m.prev();
          }
          expect(back.length).toBe(all.length);
          // Random moves against a cursor into `all` (entries are unique per (key, seq) pair
          // across children only when not duplicated; compare by position of (key, seq)).
          const uniq = all.filter((e, i) => i === 0 || compareEntries(all[i - 1]!, e) !== 0);
          if (uniq.length !== all.length) return; // duplicates make positions ambiguous
          m.seekToFirst();
          let pos = all.length > 0 ? 0 : -1;
          for (const mv of moves) {
            if (mv === 'next') {
              if (!m.valid()) continue;
              m.next();
              pos++;
            } else if (mv === 'prev') {
              if (!m.valid()) continue;
              m.prev();
              pos--;
            } else if ('seek' in mv) {
              m.seek(Uint8Array.of(mv.seek));
              pos = all.findIndex((e) => e.key[0]! >= mv.seek);
              if (pos < 0) pos = all.length;
            } else {
              m.seekForPrev(Uint8Array.of(mv.seekForPrev));
              pos = -1;
              for (let j = 0; j < all.length; j++) if (all[j]!.key[0]! <= mv.seekForPrev) pos = j;
            }
            const want = pos >= 0 && pos < all.length ? all[pos] : undefined;
            expect(m.valid()).toBe(want !== undefined);
            if (want) expect(compareEntries(m.entry(), want)).toBe(0);
            if (!m.valid()) pos = -1;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one child winning long runs (the runner-up shortcut) still yields the union, both ways', () => {
    fc.assert(
      fc.property(
        // Keys 0..n-1 dealt to 1-4 children in runs: each run's length and owner are random.
        fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.nat(3)), { minLength: 1, maxLength: 20 }),
        fc.array(fc.constantFrom('next', 'prev'), { maxLength: 60 }),
        (runs, moves) => {
          const children: PointEntry[][] = [[], [], [], []];
          let k = 0;
          for (const [len, owner] of runs) {
            for (let j = 0; j < len; j++, k++) {
              children[owner]!.push({ key: Uint8Array.of(k >> 8, k & 255), seq: 1, kind: EntryKind.Put, value: new Uint8Array(0) });
            }
          }
          const m = new MergingIterator(children.map((c) => new ArrayIterator(c)));
          const id = (e: PointEntry): number => (e.key[0]! << 8) | e.key[1]!;
          m.seekToFirst();
          const fwd: number[] = [];
          while (m.valid()) {
            fwd.push(id(m.entry()));
            m.next();
          }
          expect(fwd).toEqual(Array.from({ length: k }, (_, i) => i));
          m.seekToLast();
          let pos = k - 1;
          for (const mv of moves) {
            if (!m.valid()) break;
            if (mv === 'next') {
              m.next();
              pos++;
            } else {
              m.prev();
              pos--;
            }
            expect(m.valid()).toBe(pos >= 0 && pos < k);
            if (m.valid()) expect(id(m.entry())).toBe(pos);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  it('with a shared prefix, compares only what follows it: the same order as compareEntries, both ways', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        // Tails of 0-40 bytes over a small alphabet: equal tails, prefixes of one another, and
        // keys longer than prefix + 16 bytes (the long-key fallback) all occur; so do tails
        // shorter than the nine bytes of the key words and zero bytes where a shorter key ends
        // (the words' padding).
        fc.array(fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }).map((t) => t.map((b) => b & 3)), fc.integer({ min: 1, max: 1000 })), { maxLength: 12 }), { maxLength: 5 }),
        (p, runs) => {
          const prefix = Uint8Array.from({ length: p }, (_, i) => (i * 7) & 255);
          const entry = ([tail, seq]: [Uint8Array, number]): PointEntry => {
            const key = new Uint8Array(p + tail.length);
            key.set(prefix);
            key.set(tail, p);
            return { key, seq, kind: EntryKind.Put, value: new Uint8Array(0) };
          };
          const sorted = runs.map((r) => r.map(entry).sort(compareEntries));
          const all = sorted.flat().sort(compareEntries);
          const m = new MergingIterator(sorted.map((r) => new ArrayIterator(r)), { sharedPrefix: p });
          const seen: PointEntry[] = [];
          m.seekToFirst();
          while (m.valid()) {
            seen.push(m.entry());
            m.next();
          }
          expect(seen.length).toBe(all.length);
          for (let i = 0; i < seen.length; i++) expect(compareEntries(seen[i]!, all[i]!)).toBe(0);
          const back: PointEntry[] = [];
          m.seekToLast();
          while (m.valid()) {
            back.push(m.entry());
            m.prev();
          }
          back.reverse();
          expect(back.length).toBe(all.length);
          for (let i = 0; i < back.length; i++) expect(compareEntries(back[i]!, all[i]!)).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
