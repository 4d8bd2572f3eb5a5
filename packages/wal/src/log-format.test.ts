import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, FRAGMENT_HEADER_SIZE, frameRecord, framedLength, readSegmentRecords, type SegmentEvent } from './log-format.js';

const START = 48;

/** Frames `records` one after another from file offset START; returns the file (a zeroed prefix stands in for the header). */
function frameAll(records: readonly Uint8Array[]): { file: Buffer; offsets: number[] } {
  let size = START;
  const offsets: number[] = [];
  for (const r of records) {
    offsets.push(size);
    size += framedLength(r.length, size);
  }
  const file = Buffer.alloc(size);
  for (const [i, r] of records.entries()) frameRecord(r, file, offsets[i]!, offsets[i]!);
  return { file, offsets };
}

function payloads(events: readonly SegmentEvent[]): Buffer[] {
  return events.flatMap((e) => (e.kind === 'record' ? [Buffer.from(e.payload)] : []));
}

/** Buffer equality without vitest's element-by-element diffing of 100 KB arrays. */
function expectSameBuffers(got: readonly Buffer[], want: readonly Buffer[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.equals(want[i]!), `record ${i}`).toBe(true);
  });
}

/** Every byte from START to the end belongs to exactly one event, in order, but intact trailer padding. */
function expectTiling(events: readonly SegmentEvent[], size: number): void {
  let pos = START;
  for (const e of events) {
    if (e.offset !== pos) {
      expect(e.offset % BLOCK_SIZE, 'only a block trailer may lie between events').toBe(0);
      expect(e.offset - pos).toBeLessThan(FRAGMENT_HEADER_SIZE);
    }
    pos = e.end;
  }
  expect(pos).toBe(size);
}

const record = fc.oneof(
  fc.integer({ min: 1, max: 200 }),
  fc.integer({ min: BLOCK_SIZE - 100, max: BLOCK_SIZE + 100 }),
  fc.integer({ min: 1, max: 3 * BLOCK_SIZE }),
);
// Sizes, not buffers, so that a failing case prints small.
const build = (sizes: readonly number[]): Buffer[] => sizes.map((n) => Buffer.alloc(n, n % 251));

describe('log format', () => {
  it('round-trips records of any size at any offset; framedLength matches what frameRecord writes', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (sizes) => {
        const records = build(sizes);
        const { file } = frameAll(records);
        const events = readSegmentRecords(file, START);
        expect(events.every((e) => e.kind === 'record')).toBe(true);
        expectSameBuffers(payloads(events), records);
        expectTiling(events, file.length);
      }),
      { numRuns: 300 },
    );
  });

  it('pads a block tail shorter than a fragment header with zeros and starts the next block', () => {
    // The first record leaves exactly 3 bytes in block 0.
    const first = Buffer.alloc(BLOCK_SIZE - START - FRAGMENT_HEADER_SIZE - 3, 1);
    const { file, offsets } = frameAll([first, Buffer.from('next')]);
    expect(offsets[1]).toBe(BLOCK_SIZE - 3);
    expect(file.subarray(BLOCK_SIZE - 3, BLOCK_SIZE)).toEqual(Buffer.alloc(3));
    expect(file[BLOCK_SIZE + 6]).toBe(1); // FULL, at the start of block 1
    expectSameBuffers(payloads(readSegmentRecords(file, START)), [first, Buffer.from('next')]);
  });

  it('writes an empty FIRST fragment when exactly a header fits, and reads it back', () => {
    const first = Buffer.alloc(BLOCK_SIZE - START - 2 * FRAGMENT_HEADER_SIZE, 1);
    const { file, offsets } = frameAll([first, Buffer.from('spans')]);
    expect(offsets[1]).toBe(BLOCK_SIZE - FRAGMENT_HEADER_SIZE);
    expect(file.readUInt16LE(BLOCK_SIZE - 3)).toBe(0);
    expect(file[BLOCK_SIZE - 1]).toBe(2); // FIRST, empty
    expect(file[BLOCK_SIZE + 6]).toBe(4); // LAST, holding every byte
    expectSameBuffers(payloads(readSegmentRecords(file, START)), [first, Buffer.from('spans')]);
  });

  it('reports damage that covers exactly the bytes not replayed, and never yields a damaged record', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (sizes, at, xor) => {
        const records = build(sizes);
        const { file, offsets } = frameAll(records);
        const pos = START + (at % (file.length - START));
        file[pos]! ^= xor;
        const events = readSegmentRecords(file, START);
        expectTiling(events, file.length);
        // offsets[i] is where record i's bytes start, trailer padding before its first fragment included.
        const recordAt = (offset: number): number => offsets.findLastIndex((o) => o <= offset);
        const got = events.filter((e) => e.kind === 'record');
        for (const e of got) expect(Buffer.from(e.payload).equals(records[recordAt(e.offset)]!)).toBe(true);
        // The record holding the flipped byte is lost unless the byte was block-trailer padding.
        const inTrailer = events.some((e) => e.kind === 'damage' && e.reason === 'non-zero block trailer');
        if (!inTrailer) expect(got.some((e) => recordAt(e.offset) === recordAt(pos))).toBe(false);
        expect(events.some((e) => e.kind === 'damage')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('treats a file cut at any point as a torn last record, keeping all earlier ones', () => {
    const records = [Buffer.alloc(100, 1), Buffer.alloc(BLOCK_SIZE, 2)];
    const { file, offsets } = frameAll(records);
    for (let cut = offsets[1]! + 1; cut < file.length; cut += 331) {
      const events = readSegmentRecords(file.subarray(0, cut), START);
      expectSameBuffers(payloads(events), [records[0]!]);
      expect(events.at(-1)).toMatchObject({ kind: 'damage', offset: offsets[1], end: cut });
    }
  });
});
