import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NIL, PointSkiplist, keyPrefix, keyWord } from './skiplist.js';
import { EntryKind, compareKeys } from './types.js';

describe('keyPrefix', () => {
  it('orders like the bytes it summarises: prefix(a) < prefix(b) implies a < b', () => {
    const keyArb = fc.uint8Array({ maxLength: 6 });
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const pa = keyPrefix(a);
        const pb = keyPrefix(b);
        if (pa < pb) expect(compareKeys(a, b)).toBeLessThan(0);
        if (pa > pb) expect(compareKeys(a, b)).toBeGreaterThan(0);
      }),
      { numRuns: 2000 }
    );
    expect(keyPrefix(Uint8Array.of(0x80, 0, 0, 0))).toBeGreaterThan(keyPrefix(Uint8Array.of(0x7f, 0xff, 0xff, 0xff)));
  });

  it('at any offset, orders keys that are equal before it (padding past a key\'s end reads as zero)', () => {
    const keyArb = fc.uint8Array({ maxLength: 10 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), keyArb, keyArb, fc.nat(6), (head, x, y, at) => {
        const a = Uint8Array.of(...head, ...x);
        const b = Uint8Array.of(...head, ...y);
        const shared = Math.min(at, head.length);
        const wa = keyWord(a, 0, a.length, shared);
        const wb = keyWord(b, 0, b.length, shared);
        if (wa < wb) expect(compareKeys(a, b)).toBeLessThan(0);
        if (wa > wb) expect(compareKeys(a, b)).toBeGreaterThan(0);
        // Reading the same key inside a larger buffer gives the same word.
        const big = Uint8Array.of(9, 9, ...a, 7, 7, 7, 7);
        expect(keyWord(big, 2, a.length, shared)).toBe(wa);
      }),
      { numRuns: 2000 }
    );
  });
});

describe('PointSkiplist', () => {
  it('keeps (key ASC, seq DESC) order through node-array and arena growth, with big and empty values', () => {
    const list = new PointSkiplist();
    const expected: [string, number, number][] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const big = new Uint8Array(600_000).fill(7); // larger than a quarter chunk: a chunk of its own
    for (let seq = 1; seq <= 30_000; seq++) {
      const key = Uint8Array.of(rand() & 3, rand() & 0xff, rand() & 0xff, 9, rand() & 1);
      const value = seq % 10_000 === 0 ? big : seq % 3 === 0 ? new Uint8Array(0) : Uint8Array.of(seq & 0xff);
      list.insert(key, seq, EntryKind.Put, value);
      expected.push([Buffer.from(key).toString('hex'), seq, value.length]);
    }
    expected.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : b[1] - a[1]));
    const seen: [string, number, number][] = [];
    for (let n = list.first(); n !== NIL; n = list.next(n))
      seen.push([Buffer.from(list.keyOf(n)).toString('hex'), list.seqOf(n), list.valueOf(n).length]);
    expect(seen).toEqual(expected);
    const backward: number[] = [];
    for (let n = list.last(); n !== NIL; n = list.prev(n)) backward.push(list.seqOf(n));
    expect(backward).toEqual(expected.map((e) => e[1]).reverse());
    expect(list.count).toBe(30_000);
    expect(list.valueOf(list.findVisible(Uint8Array.from(Buffer.from(expected.find((e) => e[2] === 600_000)![0], 'hex')), 10_000))).toEqual(
      big
    );
  });

  it('keeps every level in order under sequential, reverse, random and rewritten keys, and a late key outside the shared head', () => {
    const list = new PointSkiplist();
    const key = (i: number) => Buffer.from(String(i).padStart(16, '0'));
    let seq = 1;
    for (let i = 0; i < 20_000; i++) list.insert(key(i), seq++, EntryKind.Put, Uint8Array.of(i & 0xff)); // after all: tail path
    list.checkInvariants();
    for (let i = 40_000; i > 30_000; i--) list.insert(key(i), seq++, EntryKind.Put, Uint8Array.of(1)); // before the tail
    for (let i = 0; i < 20_000; i += 7) list.insert(key(i), seq++, EntryKind.Delete, new Uint8Array(0)); // newer versions
    for (let i = 0; i < 5_000; i++) list.insert(key((i * 7919) % 100_000), seq++, EntryKind.Put, Uint8Array.of(2));
    list.checkInvariants();
    list.insert(Buffer.from('1'), seq++, EntryKind.Put, Uint8Array.of(3)); // shares nothing: every cached prefix recomputed
    for (let i = 100_000; i < 110_000; i++) list.insert(key(i), seq++, EntryKind.Put, Uint8Array.of(4));
    list.checkInvariants();
    const keys: string[] = [];
    for (let n = list.first(); n !== NIL; n = list.next(n)) keys.push(Buffer.from(list.keyOf(n)).toString());
    expect(keys.every((k, i) => i === 0 || keys[i - 1]! <= k)).toBe(true);
    expect(keys.at(-1)).toBe('1');
    expect(keys.length).toBe(list.count);
  });

  it('stores seqs up to 2^53 - 1 exactly', () => {
    const list = new PointSkiplist();
    const seqs = [1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER];
    for (const seq of seqs) list.insert(Uint8Array.of(1), seq, EntryKind.Delete, new Uint8Array(0));
    const seen: number[] = [];
    for (let n = list.first(); n !== NIL; n = list.next(n)) seen.push(list.seqOf(n));
    expect(seen).toEqual([...seqs].reverse());
    for (let n = list.first(); n !== NIL; n = list.next(n)) expect(list.kindOf(n)).toBe(EntryKind.Delete);
    const puts = new PointSkiplist();
    for (const seq of seqs) puts.insert(Uint8Array.of(2), seq, EntryKind.Put, Uint8Array.of(1));
    for (let n = puts.first(); n !== NIL; n = puts.next(n)) expect([puts.kindOf(n), puts.seqOf(n) > 0]).toEqual([EntryKind.Put, true]);
    expect(puts.seqOf(puts.first())).toBe(Number.MAX_SAFE_INTEGER);
    expect(list.seqOf(list.findVisible(Uint8Array.of(1), 2 ** 32))).toBe(2 ** 32);
  });

  it('hands out views whose bytes never change', () => {
    const list = new PointSkiplist();
    list.insert(Uint8Array.of(5), 1, EntryKind.Put, Uint8Array.of(1, 2, 3));
    const entry = list.entryOf(list.first());
    for (let i = 0; i < 5000; i++) list.insert(Uint8Array.of(i & 0xff, i >> 8), i + 2, EntryKind.Put, new Uint8Array(100).fill(9));
    expect(entry).toEqual({ key: Uint8Array.of(5), seq: 1, kind: EntryKind.Put, value: Uint8Array.of(1, 2, 3) });
  });
});
