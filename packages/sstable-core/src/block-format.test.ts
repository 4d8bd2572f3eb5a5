import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareEntries, compareKeys, EntryKind, type PointEntry } from '@strata-db/memtable';
import { Block, BlockBuilder, BlockCursor } from './block-format.js';
import { StrataError } from '@strata-db/errors';

const entryArb = fc.record({
  key: fc.uint8Array({ maxLength: 10, max: 4 }),
  seq: fc.integer({ min: 0, max: 1_000_000 }),
  kind: fc.constantFrom(EntryKind.Put, EntryKind.Delete),
  value: fc.uint8Array({ maxLength: 20 }),
});

function sorted(entries: PointEntry[]): PointEntry[] {
  const out = entries
    .map((e) => (e.kind === EntryKind.Delete ? { ...e, value: new Uint8Array(0) } : e))
    .sort(compareEntries)
    .filter((e, i, a) => i === 0 || compareEntries(a[i - 1]!, e) !== 0);
  return out;
}

function build(entries: readonly PointEntry[], interval: number): Block {
  const b = new BlockBuilder(interval, 16);
  for (const e of entries) b.add(e.key, e.seq, e.kind, e.value);
  const size = b.currentSize;
  const contents = b.finish().slice();
  expect(contents.length).toBe(size);
  return new Block(contents, 'test.sst', 0);
}

const show = (e: PointEntry): string => `${Buffer.from(e.key).toString('hex')}#${e.seq}:${e.kind}=${Buffer.from(e.value).toString('hex')}`;

describe('block format', () => {
  it('a caller-computed shared prefix (sharedWithLast) gives the same bytes as the builder computing it', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 80 }), fc.integer({ min: 1, max: 20 }), (raw, interval) => {
        const entries = sorted(raw);
        const hinted = new BlockBuilder(interval, 16);
        let last: Uint8Array | undefined;
        for (const e of entries) {
          let shared = -1;
          if (last !== undefined) {
            shared = 0;
            while (shared < last.length && shared < e.key.length && last[shared] === e.key[shared]) shared++;
          }
          hinted.add(e.key, e.seq, e.kind, e.value, shared);
          last = e.key;
        }
        expect(Buffer.from(hinted.finish())).toEqual(Buffer.from(build(entries, interval).data));
      }),
    );
  });

  it('a block decodes to exactly its entries, forwards and backwards, for any restart interval', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 80 }), fc.integer({ min: 1, max: 20 }), (raw, interval) => {
        const entries = sorted(raw);
        const block = build(entries, interval);
        expect(block.numRestarts).toBe(Math.max(1, Math.ceil(entries.length / interval)));
        const c = new BlockCursor(block);
        const fwd: string[] = [];
        c.seekToFirst();
        while (c.valid()) {
          fwd.push(show(c.entry()));
          c.next();
        }
        expect(fwd).toEqual(entries.map(show));
        const back: string[] = [];
        c.seekToLast();
        while (c.valid()) {
          back.push(show(c.entry()));
          c.prev();
        }
        expect(back).toEqual(entries.map(show).reverse());
      }),
    );
  });

  it('seek(key, seq) lands on the first entry ≥ (key, seq) in (key ASC, seq DESC) order', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ key: fc.uint8Array({ maxLength: 10, max: 4 }), seq: fc.integer({ min: -1, max: 1_000_001 }) }), { maxLength: 20 }),
        (raw, interval, targets) => {
          const entries = sorted(raw);
          const c = new BlockCursor(build(entries, interval));
          for (const t of targets) {
            c.seek(t.key, t.seq);
            const want = entries.find((e) => (compareKeys(e.key, t.key) || t.seq - e.seq) >= 0);
            expect(c.valid()).toBe(want !== undefined);
            if (want !== undefined) expect(show(c.entry())).toBe(show(want));
          }
        },
      ),
    );
  });

  it('after a seek, next() and prev() continue from the entry it landed on', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.record({ key: fc.uint8Array({ maxLength: 10, max: 4 }), seq: fc.integer({ min: -1, max: 1_000_001 }) }),
        (raw, interval, t) => {
          const entries = sorted(raw);
          const c = new BlockCursor(build(entries, interval));
          const at = entries.findIndex((e) => (compareKeys(e.key, t.key) || t.seq - e.seq) >= 0);
          c.seek(t.key, t.seq);
          if (at < 0) {
            expect(c.valid()).toBe(false);
            return;
          }
          const fwd: string[] = [];
          while (c.valid()) {
            fwd.push(show(c.entry()));
            c.next();
          }
          expect(fwd).toEqual(entries.slice(at).map(show));
          c.seek(t.key, t.seq);
          c.prev();
          if (at === 0) expect(c.valid()).toBe(false);
          else expect(show(c.entry())).toBe(show(entries[at - 1]!));
        },
      ),
    );
  });

  it('an empty block is 8 bytes and has no entries', () => {
    const block = build([], 16);
    expect(block.data.length).toBe(8);
    const c = new BlockCursor(block);
    c.seekToFirst();
    expect(c.valid()).toBe(false);
    c.seekToLast();
    expect(c.valid()).toBe(false);
    c.seek(new Uint8Array([1]), 5);
    expect(c.valid()).toBe(false);
  });

  it('prefix compression: a run of similar keys costs little more than their suffixes', () => {
    const entries = Array.from({ length: 64 }, (_, i) => ({ key: new TextEncoder().encode(`user:000000${String(i).padStart(4, '0')}`), seq: 1, kind: EntryKind.Put, value: new Uint8Array(0) }));
    const block = build(entries, 16);
    // 64 keys of 15 bytes: whole they would be 960 bytes.
    expect(block.data.length).toBeLessThan(64 * 9 + 4 * 4 + 4);
  });

  it('garbage never crashes the decoder: it decodes or throws CORRUPTION', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 6 }), (bytes, key) => {
        try {
          const c = new BlockCursor(new Block(bytes, 'g.sst', 40));
          c.seekToFirst();
          for (let i = 0; i < 300 && c.valid(); i++) c.next();
          c.seek(key, 3);
          c.seekToLast();
          for (let i = 0; i < 300 && c.valid(); i++) c.prev();
        } catch (err) {
          expect(err).toBeInstanceOf(StrataError);
          expect((err as StrataError).code).toBe('CORRUPTION');
          expect((err as StrataError).offset).toBe(40);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
