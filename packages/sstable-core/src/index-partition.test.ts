// IndexPartition's searches against a plain scan of its separators, for separators sharing
// common prefixes of every length around the 6-byte steps the search compares them in.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Block, BlockBuilder, compareInternal } from './block-format.js';
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
            expect(part.seqs[i]).toBe(s.seq);
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
