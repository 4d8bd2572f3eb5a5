import { describe, expect, it } from 'vitest';
import { RecoveryMode } from './replay.js';
import { readSegmentFile, readSegmentFrom, type SegmentItem } from './segment-reader.js';
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

describe('readSegmentFrom', () => {
  it('read piece by piece while the segment grows (records across 32 KiB blocks), it yields exactly what readSegmentFile does', async () => {
    const fs = memoryFs();
    const ops = Array.from({ length: 40 }, (_, i) => someOps(1 + (i % 3), 1 + ((i * 997) % 5000)));
    await writeLog(fs, [ops]);
    const whole = Buffer.from(fs.readFileSync(path(1)));
    const all = readSegmentFile(path(1), fs).items;
    expect(whole.length).toBeGreaterThan(3 * 32 * 1024);
    // Cut the file at growing lengths, as a reader racing the writer sees it.
    const got: SegmentItem[] = [];
    let from = 0;
    for (let cut = 100; ; cut = Math.min(whole.length, cut + 7919)) {
      fs.writeFileDurably(path(1), whole.subarray(0, cut));
      const r = readSegmentFrom(path(1), from, fs);
      expect(r.header).toEqual({ uuid: UUID, segment: 1, firstLsn: 1 });
      for (const item of r.items) {
        if (item.kind === 'damage') {
          // Only an append in progress: the rest of the file, no intact record behind it.
          expect(item.end).toBe(cut);
          break;
        }
        got.push(item);
        from = item.end;
      }
      if (cut === whole.length) break;
    }
    expect(got).toEqual(all);
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
