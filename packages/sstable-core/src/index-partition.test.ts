// IndexPartition's searches against a plain scan of its separators, for separators sharing
// common prefixes of every length around the 6-byte steps the search compares them in.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Block, BlockBuilder, BlockCursor, compareInternal, EMPTY_BLOCK } from './block-format.js';
import { ByteWriter } from './coding.js';
import { encodeBlockHandle } from './format.js';
import { EntryKind } from '@strata-db/memtable';
import { BLOCK_INFO, decodeIndexPartition, IndexPartition } from './index-partition.js';

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Separators (key ASC, seq DESC), strictly increasing, as a partition of blocks. */
function partitionOf(seps: readonly { key: Uint8Array; seq: number }[]): IndexPartition {
  const w = new ByteWriter(64);
  const offsets = new Uint32Array(seps.length + 1);
  seps.forEach((s, i) => {
    w.putBytes(s.key, 0, s.key.length);
    offsets[i + 1] = w.length;
  });
  return new IndexPartition(0, seps.length, w.bytes().slice(), offsets, Float64Array.from(seps.map((s) => s.seq)), new Float64Array(BLOCK_INFO * seps.length));
}

/** The first separator ≥ (key, seq), by a scan. */
function scan(seps: readonly { key: Uint8Array; seq: number }[], key: Uint8Array, seq: number): number {
  const i = seps.findIndex((s) => compareInternal(compareBytes(s.key, key), s.seq, seq) >= 0);
  return i < 0 ? seps.length : i;
}

const byte = fc.integer({ min: 0, max: 3 }); // few values: ties and shared prefixes are common
const tail = fc.uint8Array({ minLength: 0, maxLength: 9 }).map((a) => a.map((b) => b & 3));

const separators = fc
  .tuple(fc.uint8Array({ minLength: 0, maxLength: 20 }), fc.array(fc.tuple(tail, fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 40 }))
  .map(([prefix, rest]) => {
    const seps = rest.map(([t, seq]) => ({ key: Uint8Array.from([...prefix, ...t]), seq }));
    seps.sort((a, b) => compareInternal(compareBytes(a.key, b.key), a.seq, b.seq));
    return seps.filter((s, i) => i === 0 || compareBytes(s.key, seps[i - 1]!.key) !== 0 || s.seq !== seps[i - 1]!.seq);
  });

describe('IndexPartition search', () => {
  it('findBlock is the first separator ≥ (key, seq); findBlockOrLast the same, capped at the last', () => {
    fc.assert(
      fc.property(separators, fc.array(fc.tuple(fc.nat(40), fc.nat(12), fc.array(byte, { maxLength: 4 }), fc.integer({ min: 0, max: 6 }))), (seps, probes) => {
        const part = partitionOf(seps);
        for (const [from, cut, extra, seq] of probes) {
          // Keys near the separators: a separator's prefix (maybe shorter than the common
          // prefix), with a few bytes added.
          const base = seps[from % seps.length]!.key;
          const key = Uint8Array.from([...base.subarray(0, Math.min(cut, base.length)), ...extra]);
          const want = scan(seps, key, seq);
          expect(part.findBlock(key, seq)).toBe(want);
          expect(part.findBlockOrLast(key, seq)).toBe(Math.min(want, seps.length - 1));
        }
      }),
      { numRuns: 400 },
    );
  });
});

/** The index block of `seps` (restart interval 1, as the builder writes index blocks), data blocks of 100 bytes from 0. */
function indexBlockOf(seps: readonly { key: Uint8Array; seq: number }[]): Block {
  const b = new BlockBuilder(1);
  seps.forEach((s, i) => {
    const h = new ByteWriter(16);
    encodeBlockHandle({ offset: 105 * i, size: 100 }, h);
    b.add(s.key, s.seq, EntryKind.Put, h.bytes().slice());
  });
  return new Block(b.finish(), 'x.sst', 0);
}

describe('decodeIndexPartition', () => {
  // It unpacks through scratch arrays shared by every decode: a partition must hold copies only,
  // and nothing of the partition decoded before (longer, with other keys) may leak into the next.
  it('partitions decoded one after another are each what their block says, and stay so', () => {
    fc.assert(
      fc.property(fc.array(separators, { minLength: 2, maxLength: 5 }), (lists) => {
        const parts = lists.map((seps) => decodeIndexPartition(indexBlockOf(seps), 'x.sst', 0, 0, seps.length, 0, 1e9));
        lists.forEach((seps, j) => {
          const part = parts[j]!;
          expect(part.count).toBe(seps.length);
          seps.forEach((s, i) => {
            expect([...part.separatorKey(i)]).toEqual([...s.key]);
            expect(part.seq(i)).toBe(s.seq);
            expect(part.blockOffset(i)).toBe(105 * i);
            expect(part.blockSize(i)).toBe(100);
            // Not summarized yet, whatever the scratch held before.
            for (let k = 2; k < BLOCK_INFO; k++) expect(part.info[BLOCK_INFO * i + k]).toBe(0);
            expect(part.findBlock(s.key, s.seq)).toBe(scan(seps, s.key, s.seq));
          });
        });
      }),
      { numRuns: 200 },
    );
  });

  it('a partition larger than the scratch, and one with long keys, unpack right and leave the next one right', () => {
    const key = (i: number, len: number): Uint8Array => {
      const k = new Uint8Array(len).fill(7);
      k[len - 3] = i >> 16;
      k[len - 2] = (i >> 8) & 255;
      k[len - 1] = i & 255;
      return k;
    };
    const big = Array.from({ length: 3000 }, (_, i) => ({ key: key(i, 16), seq: 5 }));
    const long = Array.from({ length: 40 }, (_, i) => ({ key: key(i, 3000), seq: 9 }));
    const small = Array.from({ length: 7 }, (_, i) => ({ key: key(2 * i, 12), seq: 1 }));
    for (const seps of [big, long, small, big, small]) {
      const part = decodeIndexPartition(indexBlockOf(seps), 'x.sst', 0, 0, seps.length, 0, 1e9);
      expect(part.count).toBe(seps.length);
      for (const i of [0, 1, seps.length >> 1, seps.length - 1]) {
        expect([...part.separatorKey(i)]).toEqual([...seps[i]!.key]);
        expect(part.blockOffset(i)).toBe(105 * i);
        expect(part.findBlock(seps[i]!.key, 0)).toBe(i + 1 < seps.length ? i + 1 : seps.length);
      }
    }
  });
});

describe('IndexPartition.seekInBlock (the per-block restart summary)', () => {
  // Keys: a common prefix, then 1–8 bytes from a tiny alphabet, so that many restart keys agree
  // in the 6 bytes a summary number holds and the full comparison decides; several versions a key.
  const suffix = fc.uint8Array({ minLength: 1, maxLength: 8, max: 2 });
  it('lands where a plain seek does, in blocks of 1 to more than 63 restart points (any restart interval), with or without summarizing, and summarizes every block of ≤ 63 only when asked', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 9 }),
        fc.uniqueArray(fc.tuple(suffix, fc.integer({ min: 1, max: 3 })), { minLength: 3, maxLength: 300, selector: ([s]) => Buffer.from(s).toString('hex') }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 3, max: 6 }),
        fc.array(fc.tuple(suffix, fc.integer({ min: 0, max: 2000 })), { maxLength: 60 }),
        (prefix, keys, interval, blocks, probes) => {
          const at = (s: Uint8Array): Uint8Array => Uint8Array.from([...prefix, ...s]);
          const entries: { key: Uint8Array; seq: number }[] = [];
          let seq = 1;
          for (const [s, versions] of keys) for (let v = 0; v < versions; v++) entries.push({ key: at(s), seq: (seq += 7) });
          entries.sort((a, b) => compareInternal(compareBytes(a.key, b.key), a.seq, b.seq));
          // Cut into `blocks` blocks (the last holds the rest); the separator of a block is its last entry.
          const per = Math.max(1, Math.floor(entries.length / blocks));
          const cuts: { key: Uint8Array; seq: number }[][] = [];
          for (let i = 0; i < entries.length; i += per) cuts.push(entries.slice(i, cuts.length === blocks - 1 ? entries.length : i + per));
          while (cuts.length > blocks) cuts[cuts.length - 2]!.push(...cuts.pop()!);
          const built = cuts.map((es) => {
            const bb = new BlockBuilder(interval, 16);
            for (const e of es) bb.add(e.key, e.seq, EntryKind.Put, new Uint8Array(e.seq % 5));
            return new Block(bb.finish().slice(), 'x.sst', 0);
          });
          const part = partitionOf(cuts.map((es) => es[es.length - 1]!));
          const cursor = new BlockCursor(EMPTY_BLOCK);
          const plain = new BlockCursor(EMPTY_BLOCK);
          const asked = [...probes.map(([s, q]) => ({ key: at(s), seq: q })), ...entries.flatMap((e) => [e, { key: e.key, seq: e.seq - 1 }, { key: e.key, seq: 1e6 }])];
          // Three times: without summarizing (a block just read from the file: Table.find), then
          // the first lookup of a block fills its summary, the third uses it.
          for (let round = 0; round < 3; round++) {
            if (round === 1) for (let b = 0; b < part.count; b++) expect(part.info[BLOCK_INFO * b + 2]).toBe(0);
            for (const { key, seq: q } of asked) {
              const b = part.findBlock(key, q);
              if (b >= part.count) continue;
              cursor.reset(built[b]!);
              part.seekInBlock(cursor, b, key, q, round > 0);
              plain.reset(built[b]!);
              plain.seek(key, q);
              expect(cursor.valid()).toBe(plain.valid());
              expect([cursor.offset, cursor.restartIndex]).toEqual([plain.offset, plain.restartIndex]);
              if (plain.valid()) expect([...cursor.key(), cursor.seq]).toEqual([...plain.key(), plain.seq]);
            }
          }
          // Every middle block reached was summarized (the partition's first and last never are).
          for (let b = 1; b < part.count - 1; b++) {
            const head = part.info[BLOCK_INFO * b + 2]!;
            if (head !== 0) expect(head > 0).toBe(built[b]!.numRestarts <= 63);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
