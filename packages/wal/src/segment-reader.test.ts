import { describe, expect, it } from 'vitest';
import { RecoveryMode } from './replay.js';
import { readSegmentFile } from './segment-reader.js';
import { segmentFileName } from './segment-directory.js';
import { DIR, UUID, expectBatches, memoryFs, replayAll, someOps, writeLog } from './test-support/fixtures.js';

const path = (segment: number): string => `${DIR}/${segmentFileName(segment)}`;

describe('readSegmentFile', () => {
  it('lists every batch of a segment with its LSN and offsets, as replay delivers them', async () => {
    const fs = memoryFs();
    const logged = await writeLog(fs, [[someOps(3), someOps(1), someOps(2)], [someOps(1)]], { firstLsn: 10 });
    const first = readSegmentFile(path(1), fs);
    expect(first.header).toEqual({ uuid: UUID, segment: 1, firstLsn: 10 });
    const batches = first.items.filter((i) => i.kind === 'batch');
    expect(batches.map((b) => b.firstLsn)).toEqual([10, 13, 14]);
    expectBatches(
      batches.map((b) => ({ firstLsn: b.firstLsn, ops: b.ops, segment: 1 })),
      logged.filter((l) => l.segment === 1),
    );
    for (let i = 1; i < batches.length; i++) expect(batches[i]!.offset).toBe(batches[i - 1]!.end);
    expect(batches.at(-1)!.end).toBe(first.size);
  });

  it('shows a torn tail as a damaged range and a bad header as an error, changing nothing', async () => {
    const fs = memoryFs();
    await writeLog(fs, [[someOps(2), someOps(2)]]);
    const whole = Buffer.from(fs.readFileSync(path(1)));
    fs.writeFileDurably(path(1), whole.subarray(0, whole.length - 3));
    const torn = readSegmentFile(path(1), fs);
    expect(torn.items.map((i) => i.kind)).toEqual(['batch', 'damage']);
    expect(torn.items[1]).toMatchObject({ end: whole.length - 3 });
    fs.writeFileDurably(path(2), Buffer.from('not a segment at all, but long enough to hold a header....'));
    const bad = readSegmentFile(path(2), fs);
    expect(bad.header).toEqual({ error: expect.stringContaining('bad magic') });
    expect(bad.items).toEqual([]);
  });
});

describe('replay with readOnly', () => {
  it('drops a torn tail without cutting it off the file, and deletes no segment', async () => {
    const fs = memoryFs();
    const logged = await writeLog(fs, [[someOps(2)], [someOps(2), someOps(1)]]);
    const whole = Buffer.from(fs.readFileSync(path(2)));
    const torn = whole.subarray(0, whole.length - 4);
    fs.writeFileDurably(path(2), torn);
    for (const recovery of [RecoveryMode.TolerateCorruptedTail, RecoveryMode.PointInTime, RecoveryMode.SkipAnyCorrupted]) {
      const { batches, result } = await replayAll(fs, { recovery, readOnly: true });
      expectBatches(batches, logged.slice(0, 2));
      expect(result.dropped).toHaveLength(1);
      expect(result.truncated).toBeNull();
      expect(Buffer.from(fs.readFileSync(path(2))).equals(torn)).toBe(true);
    }
    // A header-only newest segment is not deleted either.
    fs.writeFileDurably(path(2), whole);
    fs.writeFileDurably(path(3), Buffer.alloc(10));
    const { result } = await replayAll(fs, { readOnly: true });
    expect(result.deletedSegments).toEqual([]);
    expect(Buffer.from(fs.readFileSync(path(3))).length).toBe(10);
    // Without readOnly the same replay cuts the tail (the default is unchanged).
    const cut = await replayAll(fs, {});
    expect(cut.result.deletedSegments).toEqual([3]);
  });
});
