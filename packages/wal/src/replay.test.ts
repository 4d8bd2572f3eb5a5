import { StrataError } from '@strata-db/errors';
import fc from 'fast-check';
import type { MemoryFileSystem } from '@strata-db/vfs/testing';
import { describe, expect, it } from 'vitest';
import { encodeBatch, type BatchOp } from './batch.js';
import { BLOCK_SIZE, frameRecord, framedLength, readSegmentRecords } from './log-format.js';
import { RecoveryMode, replay } from './replay.js';
import { segmentFileName } from './segment-directory.js';
import { SEGMENT_HEADER_SIZE, encodeSegmentHeader, uuidBytes } from './segment-header.js';
import { bytesOf, DIR, expectBatches, type LoggedBatch, memoryFs, replayAll, someOps, UUID, writeLog } from './test-support/fixtures.js';
import { WalWriter } from './writer.js';

const MODES = Object.values(RecoveryMode);
const path = (segment: number): string => `${DIR}/${segmentFileName(segment)}`;

async function replayError(fs: MemoryFileSystem, options: Parameters<typeof replayAll>[1] = {}): Promise<StrataError> {
  try {
    await replayAll(fs, options);
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error('replay was expected to fail');
}

/** Writes a segment by hand, for logs the writer refuses to produce. */
function craftSegment(fs: MemoryFileSystem, segment: number, firstLsn: number, records: readonly Uint8Array[]): void {
  const parts: Buffer[] = [encodeSegmentHeader({ uuid: uuidBytes(UUID), segment, firstLsn })];
  let offset = SEGMENT_HEADER_SIZE;
  for (const r of records) {
    const framed = Buffer.alloc(framedLength(r.length, offset));
    frameRecord(r, framed, 0, offset);
    parts.push(framed);
    offset += framed.length;
  }
  fs.writeFileDurably(path(segment), Buffer.concat(parts));
}

const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const opArb: fc.Arbitrary<BatchOp> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: bytes(16), value: bytes(64) }),
  fc.record({ type: fc.constant('del' as const), key: bytes(16) }),
  fc.record({ type: fc.constant('deleteRange' as const), start: bytes(16), end: bytes(16) }),
);

describe('replay: round trip', () => {
  it('gives back every batch of a log with random batches and rotations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 1e12 }), async (segments, firstLsn) => {
        const fs = memoryFs();
        const logged = await writeLog(fs, segments, { firstLsn, firstSegment: 3 });
        const { batches, result } = await replayAll(fs);
        expectBatches(batches, logged);
        expect(result.maxLsn).toBe(logged.length === 0 ? 0 : logged.at(-1)!.firstLsn + logged.at(-1)!.ops.length - 1);
        expect(result.segments).toEqual(segments.map((_, i) => 3 + i));
        expect(result.lastSegment).toBe(2 + segments.length);
        expect(result.nextSegment).toBe(3 + segments.length);
        expect(result.dropped).toEqual([]);
        expect(result.truncated).toBeNull();
      }),
      { numRuns: 60 },
    );
  });

  it('handles empty values, 0-byte and 64 KiB+ keys, and values larger than a block', async () => {
    const fs = memoryFs();
    const big = Buffer.alloc(70_000, 0xab);
    const logged = await writeLog(fs, [
      [
        [{ type: 'put', key: Buffer.alloc(0), value: Buffer.alloc(0) }],
        [{ type: 'put', key: big, value: Buffer.alloc(3 * BLOCK_SIZE + 5, 1) }, { type: 'del', key: Buffer.alloc(0) }],
        [{ type: 'deleteRange', start: Buffer.alloc(0), end: big }],
      ],
      [[{ type: 'put', key: Buffer.from('k'), value: Buffer.alloc(200_000, 2) }]],
    ]);
    const { batches, result } = await replayAll(fs);
    expectBatches(batches, logged);
    expect(result.maxLsn).toBe(5);
  });

  it('returns an empty result for an empty directory and NOT_FOUND for a missing one', async () => {
    const fs = memoryFs();
    const { batches, result } = await replayAll(fs);
    expect(batches).toEqual([]);
    expect(result).toMatchObject({ maxLsn: 0, segments: [], lastSegment: 0, nextSegment: 1 });
    await expect(replay('/nowhere', { uuid: UUID, fs }, () => undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(replayAll(fs, { recovery: 'lenient' as RecoveryMode })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('replay: torn tail of the newest segment', () => {
  /**
   * Logs two segments, then returns where the last record of the newest starts and ends. With
   * `straddle`, the last record starts 100 bytes before a block boundary and crosses it.
   */
  async function logWithLastRecord(fs: MemoryFileSystem, straddle: boolean): Promise<{ logged: LoggedBatch[]; start: number; end: number }> {
    const segment2: BatchOp[][] = [someOps(3), someOps(2)];
    if (straddle) {
      // Pad so that the last record starts 100 bytes before the end of block 0.
      let offset = SEGMENT_HEADER_SIZE;
      for (const ops of segment2) offset += framedLength(encodeBatch(ops, 1).length, offset);
      const fixedSize = encodeBatch([{ type: 'put', key: Buffer.from('pad'), value: Buffer.alloc(0) }], 1).length;
      let valueSize = BLOCK_SIZE - 100 - offset - 7 - fixedSize;
      while (framedLength(encodeBatch([{ type: 'put', key: Buffer.from('pad'), value: Buffer.alloc(valueSize) }], 1).length, offset) > BLOCK_SIZE - 100 - offset) valueSize--;
      segment2.push([{ type: 'put', key: Buffer.from('pad'), value: Buffer.alloc(valueSize, 9) }]);
    }
    segment2.push(someOps(4, straddle ? 60 : 10));
    const logged = await writeLog(fs, [[someOps(), someOps()], segment2]);
    const file = bytesOf(fs, path(2));
    const last = readSegmentRecords(file, SEGMENT_HEADER_SIZE).at(-1)!;
    expect(last.end).toBe(file.length);
    if (straddle) {
      expect(last.offset).toBe(BLOCK_SIZE - 100);
      expect(last.end).toBeGreaterThan(BLOCK_SIZE);
    }
    return { logged, start: last.offset, end: last.end };
  }

  for (const straddle of [false, true]) {
    it(`drops exactly the last record when cut at any byte of it${straddle ? ' (record crossing a block boundary)' : ''}; later appends all survive`, async () => {
      const original = memoryFs();
      const { logged, start, end } = await logWithLastRecord(original, straddle);
      const kept = logged.slice(0, -1);
      const full = bytesOf(original, path(2));
      for (let cut = start; cut < end; cut++) {
        const fs = original.clone();
        fs.writeFileDurably(path(2), full.subarray(0, cut));
        const { batches, result } = await replayAll(fs);
        expectBatches(batches, kept);
        expect(bytesOf(fs, path(2)).length).toBe(start);
        if (cut > start) {
          expect(result.truncated).toEqual({ segment: 2, file: path(2), from: cut, to: start });
          expect(result.dropped).toEqual([expect.objectContaining({ segment: 2, offset: start, length: cut - start })]);
        }

        const wal = await WalWriter.create(DIR, { uuid: UUID, segment: result.nextSegment, firstLsn: result.maxLsn + 1, fs });
        const more: LoggedBatch[] = [];
        let lsn = result.maxLsn + 1;
        const appends: Promise<void>[] = [];
        for (let i = 0; i < 100; i++) {
          const ops = someOps(1, 5);
          appends.push(wal.append(ops, lsn));
          more.push({ firstLsn: lsn, ops, segment: 3 });
          lsn++;
        }
        await Promise.all(appends);
        await wal.close();
        const again = await replayAll(fs);
        expectBatches(again.batches, [...kept, ...more]);
        expect(again.result.dropped).toEqual([]);
      }
    });
  }

  const tails = [1, 2, 6, 7, 8, 31, 100, 1000, 4095, 4096];
  for (const kind of ['zeroed', 'garbage'] as const) {
    it(`handles a ${kind} tail of 1 to 4096 bytes as the table says, in every mode (zeros: unused space)`, async () => {
      const original = memoryFs();
      const logged = await writeLog(original, [[someOps(), someOps()], [someOps(), someOps(), someOps()]]);
      const clean = bytesOf(original, path(2));
      expect(BLOCK_SIZE - (clean.length % BLOCK_SIZE)).toBeGreaterThan(7); // the tail is not mistaken for trailer padding
      let seed = 7;
      for (const size of tails) {
        const tail = Buffer.alloc(size);
        if (kind === 'garbage') for (let i = 0; i < size; i++) tail[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        for (const recovery of MODES) {
          const fs = original.clone();
          fs.writeFileDurably(path(2), Buffer.concat([clean, tail]));
          if (kind === 'zeroed') {
            // Unused (preallocated) space, not a torn write: no mode drops anything; it is cut off.
            const { batches, result } = await replayAll(fs, { recovery });
            expectBatches(batches, logged);
            expect(result.dropped).toEqual([]);
            expect(result.truncated).toEqual({ segment: 2, file: path(2), from: clean.length + size, to: clean.length });
            expect(bytesOf(fs, path(2)).equals(clean)).toBe(true);
            continue;
          }
          if (recovery === 'absolute-consistency') {
            const err = await replayError(fs, { recovery });
            expect(err).toMatchObject({ code: 'CORRUPTION', file: path(2), offset: clean.length });
            expect(bytesOf(fs, path(2)).length).toBe(clean.length + size); // nothing touched
            continue;
          }
          const { batches, result } = await replayAll(fs, { recovery });
          expectBatches(batches, logged);
          expect(result.dropped).toEqual([expect.objectContaining({ segment: 2, offset: clean.length, length: size })]);
          expect(result.truncated).toEqual({ segment: 2, file: path(2), from: clean.length + size, to: clean.length });
          expect(result.stoppedAt).toBeNull();
          expect(bytesOf(fs, path(2)).equals(clean)).toBe(true);
        }
      }
    });
  }

  it('deletes a newest segment whose header is torn (a crash while creating it), except in absolute-consistency', async () => {
    for (const length of [0, 1, 20, SEGMENT_HEADER_SIZE]) {
      const original = memoryFs();
      const logged = await writeLog(original, [[someOps()], []]);
      const header = bytesOf(original, path(2));
      original.writeFileDurably(path(2), length === SEGMENT_HEADER_SIZE ? Buffer.alloc(length) : header.subarray(0, length));
      for (const recovery of MODES) {
        const fs = original.clone();
        if (recovery === 'absolute-consistency') {
          await expect(replayAll(fs, { recovery })).rejects.toMatchObject({ code: 'CORRUPTION', file: path(2) });
          continue;
        }
        const { batches, result } = await replayAll(fs, { recovery });
        expectBatches(batches, logged);
        expect(result).toMatchObject({ segments: [1], lastSegment: 1, nextSegment: 2, deletedSegments: [2] });
        expect(fs.existsSync(path(2))).toBe(false);
      }
    }
  });

  it('hands out the number of a deleted torn segment again when it was the only one', async () => {
    const fs = memoryFs();
    fs.writeFileDurably(path(5), Buffer.alloc(0));
    const { result } = await replayAll(fs);
    expect(result).toMatchObject({ segments: [], lastSegment: 0, nextSegment: 5, deletedSegments: [5] });
  });

  it('treats a torn header of an older segment as corruption', async () => {
    const fs = memoryFs();
    await writeLog(fs, [[someOps()], [someOps()], [someOps()]]);
    fs.writeFileDurably(path(2), bytesOf(fs, path(2)).subarray(0, 30));
    for (const recovery of MODES) await expect(replayAll(fs.clone(), { recovery })).rejects.toMatchObject({ code: 'CORRUPTION', file: path(2) });
  });
});

describe('replay: damage before the tail', () => {
  it('does what each mode says for a flipped byte anywhere in an older segment, never replaying a damaged batch', async () => {
    const original = memoryFs();
    const logged = await writeLog(original, [
      Array.from({ length: 12 }, () => someOps()),
      Array.from({ length: 12 }, () => someOps()),
      Array.from({ length: 5 }, () => someOps()),
    ]);
    const key = (b: { firstLsn: number }): number => b.firstLsn;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2), fc.nat(), fc.integer({ min: 1, max: 255 }), async (segment, at, xor) => {
        const file = bytesOf(original, path(segment));
        const pos = at % file.length;
        const records = readSegmentRecords(file, SEGMENT_HEADER_SIZE);
        const hit = records.find((r) => r.offset <= pos && pos < r.end);
        const damaged = file.subarray();
        damaged[pos]! ^= xor;
        for (const recovery of MODES) {
          const fs = original.clone();
          fs.writeFileDurably(path(segment), damaged);
          if (pos < SEGMENT_HEADER_SIZE || recovery === 'absolute-consistency' || recovery === 'tolerate-corrupted-tail') {
            const err = await replayError(fs, { recovery });
            expect(err.code).toBe('CORRUPTION');
            expect(err.file).toBe(path(segment));
            continue;
          }
          const damagedLsn = logged.filter((b) => b.segment === segment)[records.indexOf(hit!)]!.firstLsn;
          const { batches, result } = await replayAll(fs, { recovery });
          expect(batches.some((b) => b.firstLsn === damagedLsn)).toBe(false);
          if (recovery === 'skip-any-corrupted') {
            // Records live in one block here, so the damage costs the hit record and at most the rest of its block.
            const want = logged.filter((b) => b.segment !== segment || b.firstLsn < damagedLsn);
            expectBatches(batches.filter((b) => b.segment !== segment || b.firstLsn < damagedLsn), want);
            expect(result.stoppedAt).toBeNull();
            expect(result.segments).toEqual([1, 2, 3]);
          } else {
            expectBatches(batches, logged.filter((b) => b.firstLsn < damagedLsn));
            expect(result.stoppedAt).toEqual({ segment, offset: hit!.offset });
            expect(result.deletedSegments).toEqual(segment === 1 ? [2, 3] : [3]);
            // The log was cut at the damage: the next open (any mode) replays the same prefix cleanly.
            const again = await replayAll(fs, { recovery: 'absolute-consistency' });
            expectBatches(again.batches, batches.map((b) => logged.find((l) => key(l) === key(b))!));
            expect(again.result.nextSegment).toBe(segment + 1);
          }
        }
      }),
      { numRuns: 120 },
    );
  });

  it('treats damage followed by intact records in the newest segment as damage, not a torn tail', async () => {
    const original = memoryFs();
    const logged = await writeLog(original, [[someOps(), someOps(), someOps()]]);
    const file = bytesOf(original, path(1));
    const [, second] = readSegmentRecords(file, SEGMENT_HEADER_SIZE);
    file[second!.offset + 10]! ^= 1;
    original.writeFileDurably(path(1), file);
    await expect(replayAll(original.clone())).rejects.toMatchObject({ code: 'CORRUPTION', file: path(1), offset: second!.offset });
    // The reader resumes at the next block (LevelDB's rule), so the intact third record, in the
    // same block, is lost with the damaged one — but it proves the damage is no torn tail.
    const skipped = await replayAll(original.clone(), { recovery: 'skip-any-corrupted' });
    expectBatches(skipped.batches, [logged[0]!]);
    expect(skipped.result.truncated).toBeNull();
    expect(skipped.result.dropped).toEqual([expect.objectContaining({ offset: second!.offset, length: file.length - second!.offset })]);
    const pit = await replayAll(original.clone(), { recovery: 'point-in-time' });
    expectBatches(pit.batches, [logged[0]!]);
    expect(pit.result.truncated).toEqual({ segment: 1, file: path(1), from: file.length, to: second!.offset });
  });

  it('skips a record whose checksum holds but whose contents do not parse, and calls it damage in the default mode', async () => {
    const fs = memoryFs();
    const good = encodeBatch([{ type: 'del', key: Buffer.from('a') }], 1);
    const malformed = Buffer.concat([encodeBatch([{ type: 'del', key: Buffer.from('b') }], 2), Buffer.from([0xff])]);
    craftSegment(fs, 1, 1, [good, malformed, encodeBatch([{ type: 'del', key: Buffer.from('c') }], 3)]);
    await expect(replayAll(fs.clone())).rejects.toMatchObject({ code: 'CORRUPTION', message: expect.stringContaining('malformed') });
    const { batches } = await replayAll(fs, { recovery: 'skip-any-corrupted' });
    expect(batches.map((b) => b.firstLsn)).toEqual([1, 3]);
  });
});

describe('replay: a log that is not one log of this database', () => {
  it('refuses a segment of another database with FOREIGN_FILE in every mode', async () => {
    const fs = memoryFs();
    await writeLog(fs, [[someOps()]]);
    await writeLog(fs, [[someOps()]], { firstSegment: 2, firstLsn: 100, uuid: '00000000-0000-4000-8000-000000000000' });
    for (const recovery of MODES) {
      const err = await replayError(fs, { recovery });
      expect(err).toMatchObject({ code: 'FOREIGN_FILE', file: path(2), offset: 12 });
      expect(err.message).toContain('00000000-0000-4000-8000-000000000000');
    }
  });

  it('refuses a missing segment between live ones in every mode', async () => {
    const fs = memoryFs();
    await writeLog(fs, [[someOps()], [someOps()], [someOps()]]);
    fs.unlinkSync(path(2));
    for (const recovery of MODES) {
      const err = await replayError(fs, { recovery });
      expect(err).toMatchObject({ code: 'CORRUPTION', file: path(2) });
      expect(err.message).toContain('segment 2 is missing');
    }
  });

  it('starts at fromSegment: older segments are ignored, a missing fromSegment with later ones is a gap', async () => {
    const fs = memoryFs();
    const logged = await writeLog(fs, [[someOps()], [someOps()], [someOps()]]);
    fs.writeFileDurably(path(1), Buffer.from('flushed long ago, and damaged since'));
    const { batches, result } = await replayAll(fs, { fromSegment: 2 });
    expectBatches(batches, logged.slice(1));
    expect(result.segments).toEqual([2, 3]);

    fs.unlinkSync(path(2));
    await expect(replayAll(fs, { fromSegment: 2 })).rejects.toMatchObject({ code: 'CORRUPTION', file: path(2) });
    const later = await replayAll(fs, { fromSegment: 5 });
    expect(later.result).toMatchObject({ segments: [], maxLsn: 0, lastSegment: 0, nextSegment: 5 });
  });

  it('refuses a segment whose header number is not its file name', async () => {
    const fs = memoryFs();
    await writeLog(fs, [[someOps()], [someOps()]]);
    const second = bytesOf(fs, path(2));
    fs.unlinkSync(path(2));
    craftSegment(fs, 3, 1, []);
    fs.writeFileDurably(path(3), second);
    fs.unlinkSync(path(1));
    await expect(replayAll(fs)).rejects.toMatchObject({ code: 'CORRUPTION', file: path(3), message: expect.stringContaining('renamed') });
  });

  it('refuses duplicated or decreasing LSNs, within a segment and across segments, in every mode', async () => {
    const rec = (lsn: number, n = 1): Buffer => encodeBatch(Array.from({ length: n }, () => ({ type: 'del' as const, key: Buffer.from('k') })), lsn);
    const cases: { name: string; build: (fs: MemoryFileSystem) => void; segment: number }[] = [
      { name: 'duplicate', build: (fs) => { craftSegment(fs, 1, 1, [rec(5), rec(5)]); }, segment: 1 },
      { name: 'overlapping batch', build: (fs) => { craftSegment(fs, 1, 1, [rec(5, 3), rec(7)]); }, segment: 1 },
      { name: 'decreasing', build: (fs) => { craftSegment(fs, 1, 1, [rec(9), rec(4)]); }, segment: 1 },
      { name: 'below its segment start', build: (fs) => { craftSegment(fs, 1, 10, [rec(4)]); }, segment: 1 },
      {
        name: 'next segment starts too low',
        build: (fs) => {
          craftSegment(fs, 1, 1, [rec(1), rec(2)]);
          craftSegment(fs, 2, 2, [rec(3)]);
        },
        segment: 2,
      },
    ];
    for (const c of cases) {
      const fs = memoryFs();
      c.build(fs);
      for (const recovery of MODES) {
        const err = await replayError(fs.clone(), { recovery });
        expect(err.code, c.name).toBe('CORRUPTION');
        expect(err.file, c.name).toBe(path(c.segment));
        expect(err.message, c.name).toContain('LSN');
      }
    }
  });

  it('accepts an empty segment whose successor starts at the same LSN', async () => {
    const fs = memoryFs();
    const logged = await writeLog(fs, [[someOps()], [], [someOps()]]);
    expectBatches((await replayAll(fs, { recovery: 'absolute-consistency' })).batches, logged);
  });
});
