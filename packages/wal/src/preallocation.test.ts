/**
 * Preallocated WAL space (writer.ts, log-format.ts): zeros written ahead of durable appends,
 * cut off before a segment is rotated or closed, and taken by replay as the end of the newest
 * segment — never as records, never as damage; anywhere else zeros stay damage.
 */
import { FaultInjectingFileSystem, POWER_CUT_MODES, type MemoryFileSystem } from '@strata-db/vfs/testing';
import { describe, expect, it } from 'vitest';
import type { BatchOp } from './batch.js';
import { BLOCK_SIZE, readSegmentRecords } from './log-format.js';
import { listSegments, segmentFileName } from './segment-directory.js';
import { SEGMENT_HEADER_SIZE } from './segment-header.js';
import { DIR, UUID, bytesOf, expectBatches, memoryFs, replayAll, someOps, type LoggedBatch } from './test-support/fixtures.js';
import { WalWriter } from './writer.js';

const path = (n: number): string => `${DIR}/${segmentFileName(n)}`;
const sizeOf = (fs: MemoryFileSystem, n: number): number => fs.readFileSync(path(n)).length;

/** Where the records of a segment end (the end of its last record event). */
function recordsEnd(data: Uint8Array): number {
  let end = SEGMENT_HEADER_SIZE;
  for (const e of readSegmentRecords(data, SEGMENT_HEADER_SIZE)) if (e.kind === 'record') end = e.end;
  return end;
}

describe('WAL preallocation', () => {
  it('writes zeros ahead of a durable append, and only of a durable one; close and rotation cut them off durably', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append(someOps(1), 1);
    expect(sizeOf(fs, 1)).toBe(recordsEnd(bytesOf(fs, path(1)))); // no sync: no zeros
    await wal.append(someOps(1), 2, { sync: true });
    const size = sizeOf(fs, 1);
    const end = recordsEnd(bytesOf(fs, path(1)));
    expect(size - end).toBeGreaterThanOrEqual(128 * 1024);
    expect(size % 4096).toBe(0);
    expect(bytesOf(fs, path(1)).subarray(end).every((b) => b === 0)).toBe(true);
    // The zeros are durable with the append: the next durable appends do not change the size.
    expect(fs.durability().find((d) => d.path === path(1))?.durableSize).toBe(size);
    for (let lsn = 3; lsn < 50; lsn++) await wal.append(someOps(1), lsn, { sync: true });
    expect(sizeOf(fs, 1)).toBe(size);

    await wal.rotate();
    expect(sizeOf(fs, 1)).toBe(recordsEnd(bytesOf(fs, path(1))));
    expect(fs.powerCut().readFileSync(path(1)).length).toBe(sizeOf(fs, 1)); // the cut is durable
    await wal.append(someOps(1), 50, { sync: true });
    expect(sizeOf(fs, 2)).toBeGreaterThan(recordsEnd(bytesOf(fs, path(2))));
    await wal.close();
    expect(sizeOf(fs, 2)).toBe(recordsEnd(bytesOf(fs, path(2))));
    expect(fs.powerCut().readFileSync(path(2)).length).toBe(sizeOf(fs, 2));
    const { batches, result } = await replayAll(fs, { recovery: 'absolute-consistency' });
    expect(batches.length).toBe(50);
    expect(result.truncated).toBeNull();
  });

  it('extends again when the records reach the end of the zeros (a record across the edge included)', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    const logged: LoggedBatch[] = [];
    let lsn = 1;
    // ~400 KiB of 3 KB records: three extensions, records split over blocks.
    for (let i = 0; i < 130; i++) {
      const ops = someOps(1, 3000);
      await wal.append(ops, lsn, { sync: true });
      logged.push({ firstLsn: lsn, ops, segment: 1 });
      lsn += ops.length;
      const data = bytesOf(fs, path(1));
      expect(data.length).toBeGreaterThanOrEqual(recordsEnd(data));
    }
    // A crash with the zeros in place: every mode replays everything and cuts the zeros off.
    for (const recovery of ['absolute-consistency', 'tolerate-corrupted-tail', 'point-in-time', 'skip-any-corrupted'] as const) {
      const after = fs.powerCut();
      const { batches, result } = await replayAll(after, { recovery });
      expectBatches(batches, logged);
      expect(result.dropped).toEqual([]);
      expect(result.truncated?.to).toBe(recordsEnd(bytesOf(after, path(1))));
      expect(sizeOf(after, 1)).toBe(result.truncated?.to);
    }
    await wal.close();
  });

  it('preallocate: the new segment holds durable zeros before any append, so the first durable append changes no size; rotation preallocates only after durable appends', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs, preallocate: true });
    const size = sizeOf(fs, 1);
    expect(size - SEGMENT_HEADER_SIZE).toBeGreaterThanOrEqual(128 * 1024);
    expect(size % 4096).toBe(0);
    expect(bytesOf(fs, path(1)).subarray(SEGMENT_HEADER_SIZE).every((b) => b === 0)).toBe(true);
    expect(fs.durability().find((d) => d.path === path(1))?.durableSize).toBe(size);
    // A power cut now: an empty log, no damage in any mode; the zeros are cut off.
    const cut = await replayAll(fs.powerCut(), { recovery: 'absolute-consistency' });
    expect(cut.batches).toEqual([]);
    expect(cut.result.dropped).toEqual([]);
    expect(cut.result.truncated?.to).toBe(SEGMENT_HEADER_SIZE);
    await wal.append(someOps(1), 1, { sync: true });
    expect(sizeOf(fs, 1)).toBe(size); // the first durable append found its room

    // Rotation after durable appends: the next segment is preallocated before its first append.
    await wal.rotate();
    expect(sizeOf(fs, 1)).toBe(recordsEnd(bytesOf(fs, path(1))));
    expect(sizeOf(fs, 2)).toBe(size);
    expect(fs.durability().find((d) => d.path === path(2))?.durableSize).toBe(size);
    // Only appends without sync in segment 2: segment 3 is created bare, as without the option.
    await wal.append(someOps(1), 2);
    await wal.rotate();
    expect(sizeOf(fs, 3)).toBe(SEGMENT_HEADER_SIZE);
    await wal.append(someOps(1), 3, { sync: true });
    await wal.close();
    for (const n of [1, 2, 3]) expect(sizeOf(fs, n)).toBe(recordsEnd(bytesOf(fs, path(n))));
    const { batches, result } = await replayAll(fs, { recovery: 'absolute-consistency' });
    expect(batches.map((b) => b.firstLsn)).toEqual([1, 2, 3]);
    expect(result.truncated).toBeNull();
  });

  it('a failed preallocation of a new segment fails the create, or the rotation, like any failed write or sync', async () => {
    for (const op of ['write', 'fsync'] as const) { // the zeros' write; the fsync that makes them durable with the header
      const inner = memoryFs();
      const fs = new FaultInjectingFileSystem(inner);
      fs.addRule({ op, nth: op === 'write' ? 2 : 1, code: 'ENOSPC' }); // the header is the first write
      await expect(WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs, preallocate: true })).rejects.toMatchObject({ code: 'IO_ERROR' });
      expect(inner.openFiles()).toEqual([]);

      const inner2 = memoryFs();
      const fs2 = new FaultInjectingFileSystem(inner2);
      const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs: fs2 });
      await wal.append(someOps(1), 1, { sync: true });
      fs2.addRule({ op, nth: 1, code: 'ENOSPC', path: /000002\.wal$/ });
      await expect(wal.rotate()).rejects.toMatchObject({ code: 'IO_ERROR' });
      await expect(wal.append(someOps(1), 2, { sync: true })).rejects.toMatchObject({ code: 'READ_ONLY' });
      await wal.close().catch(() => undefined);
      expect(inner2.openFiles()).toEqual([]);
    }
  });

  it('a read-only replay leaves the zeros alone', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append(someOps(1), 1, { sync: true });
    const before = sizeOf(fs, 1);
    const { batches, result } = await replayAll(fs, { readOnly: true, recovery: 'absolute-consistency' });
    expect(batches.length).toBe(1);
    expect(result.truncated).toBeNull();
    expect(sizeOf(fs, 1)).toBe(before);
    await wal.close();
  });

  it('zeros in an OLDER segment are damage (the writer cuts them before rotating), zeros before records are damage', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append(someOps(1), 1, { sync: true });
    await wal.rotate();
    await wal.append(someOps(1), 2, { sync: true });
    await wal.close();
    const older = fs.clone();
    older.writeFileDurably(path(1), Buffer.concat([bytesOf(fs, path(1)), Buffer.alloc(5000)]));
    await expect(replayAll(older)).rejects.toMatchObject({ code: 'CORRUPTION', file: path(1) });

    // Zeros, then a record: the zeros are not the end of anything.
    const middle = fs.clone();
    const seg2 = bytesOf(fs, path(2));
    const firstRecord = readSegmentRecords(seg2, SEGMENT_HEADER_SIZE)[0]!;
    middle.writeFileDurably(path(2), Buffer.concat([seg2.subarray(0, SEGMENT_HEADER_SIZE), Buffer.alloc(100), seg2.subarray(firstRecord.offset)]));
    await expect(replayAll(middle)).rejects.toMatchObject({ code: 'CORRUPTION', file: path(2) });
  });

  it('a record torn by the zeros after it is a torn tail, not unused space', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append(someOps(1), 1, { sync: true });
    const big: BatchOp[] = someOps(1, 2 * BLOCK_SIZE); // FIRST, MIDDLE, LAST fragments
    await wal.append(big, 2, { sync: true });
    await wal.close();
    const data = bytesOf(fs, path(1));
    const [first, second] = readSegmentRecords(data, SEGMENT_HEADER_SIZE);
    for (const cut of [second!.offset + 3, second!.offset + 100, second!.offset + BLOCK_SIZE, second!.end - 1]) {
      const torn = fs.clone();
      // The record's start survived, zeros from `cut` to the preallocated end.
      torn.writeFileDurably(path(1), Buffer.concat([data.subarray(0, cut), Buffer.alloc(200 * 1024)]));
      await expect(replayAll(torn.clone(), { recovery: 'absolute-consistency' })).rejects.toMatchObject({ code: 'CORRUPTION' });
      const { batches, result } = await replayAll(torn);
      expect(batches.map((b) => b.firstLsn)).toEqual([1]);
      expect(result.dropped).toEqual([expect.objectContaining({ offset: first!.end })]);
      expect(sizeOf(torn, 1)).toBe(first!.end);
    }
  });

  it('power cuts at any point, in every power-cut mode, over several crash-and-reopen cycles: what was acknowledged durable is replayed, nothing else, never zeros as records', async () => {
    for (const mode of POWER_CUT_MODES) {
      for (let seed = 1; seed <= 6; seed++) {
        let fs = memoryFs();
        let rnd = seed * 7919;
        const rand = (n: number): number => ((rnd = (rnd * 1103515245 + 12345) >>> 0) >>> 8) % n;
        let segment = 1;
        let lsn = 1;
        /** Everything handed to the WAL and not refused, in LSN order; the durable prefix of it must come back. */
        let attempted: LoggedBatch[] = [];
        let durableCount = 0;
        for (let cycle = 0; cycle < 4; cycle++) {
          // Every other cycle with the new segment preallocated as it is created.
          const wal = await WalWriter.create(DIR, { uuid: UUID, segment, firstLsn: lsn, fs, preallocate: (cycle + seed) % 2 === 1 });
          const pending: Promise<void>[] = [];
          const steps = 20 + rand(60);
          const cutAt = rand(steps);
          let image: MemoryFileSystem | undefined;
          for (let step = 0; step < steps; step++) {
            if (step === 10 + rand(30)) pending.push(wal.rotate().then(() => undefined));
            const ops = someOps(1 + rand(3), rand(4) === 0 ? 5000 : 30);
            const sync = rand(3) !== 0;
            const batch = { firstLsn: lsn, ops, segment: -1 };
            attempted.push(batch);
            const index = attempted.length;
            lsn += ops.length;
            const p = wal.append(ops, batch.firstLsn, { sync });
            pending.push(p.then(() => {
              if (sync) durableCount = Math.max(durableCount, index);
            }));
            if (rand(4) === 0) await pending.at(-1);
            if (step === cutAt) {
              image = fs.powerCut({ mode, seed: seed * 100 + cycle });
              break;
            }
          }
          image ??= fs.powerCut({ mode, seed: seed * 100 + cycle });
          const durableAtCut = durableCount;
          await Promise.allSettled(pending);
          await wal.close().catch(() => undefined);
          // Reopen what the disk kept.
          const { batches, result } = await replayAll(image);
          expect(batches.length, `mode ${mode}, seed ${seed}, cycle ${cycle}`).toBeGreaterThanOrEqual(durableAtCut);
          const byLsn = new Map(attempted.map((b) => [b.firstLsn, b]));
          const want = batches.map((b) => ({ ...byLsn.get(b.firstLsn)!, segment: b.segment }));
          expect(batches.map((b) => b.firstLsn)).toEqual(attempted.slice(0, batches.length).map((b) => b.firstLsn));
          expectBatches(batches, want);
          if (mode === 'drop') expect(result.dropped).toEqual([]); // zeros are no damage
          // Continue from what came back, as the engine does.
          attempted = attempted.slice(0, batches.length);
          durableCount = attempted.length;
          // (lsn goes on increasing: a number is never given twice, as in the engine)
          segment = result.nextSegment;
          fs = image;
          // No segment but the newest may hold zeros after its records.
          const live = listSegments(DIR, fs);
          for (const n of live) {
            const data = bytesOf(fs, path(n));
            expect(data.length, `segment ${n}`).toBe(recordsEnd(data));
          }
        }
      }
    }
  }, 60_000);
});
