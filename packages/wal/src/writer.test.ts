import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BatchRecord, type BatchOp } from './batch.js';
import { nodeFileSystem } from '@strata-db/vfs';
import { FaultInjectingFileSystem } from '@strata-db/vfs/testing';
import type { WalFileSystem } from './file-system.js';
import { replay, type ReplayedBatch } from './replay.js';
import { deleteSegmentsBefore, listSegments } from './segment-directory.js';
import { SEGMENT_HEADER_SIZE } from './segment-header.js';
import { DIR, UUID, memoryFs } from './test-support/fixtures.js';
import { tempDir } from './test-support/temp-dir.js';
import { WalWriter, openWal } from './writer.js';

const b = (s: string): Uint8Array => Buffer.from(s);
const put = (k: string, v: string): BatchOp => ({ type: 'put', key: b(k), value: b(v) });

async function replayAll(dir: string, uuid: string, fs: WalFileSystem = nodeFileSystem): Promise<ReplayedBatch[]> {
  const out: ReplayedBatch[] = [];
  await replay(dir, { uuid, fs }, (batch) => out.push(batch));
  return out;
}

describe('WalWriter', () => {
  it('appends batches that replay in order with their LSNs and segment', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    const wal = await WalWriter.create(dir, { uuid, segment: 1, firstLsn: 1 });
    await wal.append([put('a', '1'), { type: 'del', key: b('b') }], 1);
    await wal.append([{ type: 'deleteRange', start: b('c'), end: b('d') }], 3, { sync: true });
    await wal.close();

    const batches = await replayAll(dir, uuid);
    expect(batches.map((x) => [x.firstLsn, x.segment, x.ops.length])).toEqual([[1, 1, 2], [3, 1, 1]]);
    const [first] = batches;
    expect(first!.ops[0]).toEqual({ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') });
    expect(first!.ops[1]).toEqual({ type: 'del', key: Buffer.from('b') });
    expect(batches[1]!.ops[0]).toEqual({ type: 'deleteRange', start: Buffer.from('c'), end: Buffer.from('d') });
  });

  it('appendRecord logs a BatchRecord as append logs the same ops: small, spanning blocks, mixed with appends; refuses like append', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    const small = new BatchRecord();
    small.put(b('a'), b('1'));
    small.del(b('b'));
    small.deleteRange(b('c'), b('d'));
    await wal.appendRecord(small, 1);
    await wal.append([put('e', '2')], 4);
    // Larger than a 32 KiB block: framed in fragments.
    const big = new BatchRecord();
    const value = Buffer.alloc(50_000, 7);
    big.put(b('f'), value);
    big.put(b('g'), b('3'));
    await wal.appendRecord(big, 5, { sync: true });
    await expect(wal.appendRecord(small, 6)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }); // LSNs must increase
    await expect(wal.appendRecord(new BatchRecord(), 8)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }); // empty
    await wal.close();
    const batches = await replayAll(DIR, UUID, fs);
    expect(batches.map((x) => [x.firstLsn, x.ops.length])).toEqual([[1, 3], [4, 1], [5, 2]]);
    expect(batches[0]!.ops).toEqual([put('a', '1'), { type: 'del', key: b('b') }, { type: 'deleteRange', start: b('c'), end: b('d') }]);
    const [f, g] = batches[2]!.ops;
    expect(f?.type === 'put' && Buffer.from(f.value).equals(value)).toBe(true);
    expect(g).toEqual({ type: 'put', key: Buffer.from('g'), value: Buffer.from('3') });
  });

  it("serves a lone writer's rounds past the queue's kept slots, mixed with groups, a rotation and a sync, in LSN order", async () => {
    // A lone round leaves a placeholder in its slot and keeps the queue's store (KEEP_QUEUE_SLOTS,
    // 1024); past that the queue is emptied. Groups, a sync and a rotation in between go through the drain loop.
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    let lsn = 1;
    const resolved: number[] = [];
    for (let i = 0; i < 2_600; i++) {
      if (i % 700 === 350) {
        const base = lsn;
        lsn += 3;
        const group = [0, 1, 2].map((j) => wal.append([put(`g${i}.${j}`, 'v')], base + j).then(() => resolved.push(base + j)));
        await Promise.all(group);
      }
      if (i === 1_500) await wal.rotate();
      if (i === 1_900) await wal.sync();
      const at = lsn++;
      await wal.append([put(`k${i}`, 'v')], at, { sync: i % 2 === 0 });
      resolved.push(at);
    }
    await wal.close();
    expect(resolved).toEqual(Array.from({ length: lsn - 1 }, (_, i) => i + 1));
    const batches = await replayAll(DIR, UUID, fs);
    expect(batches.map((x) => x.firstLsn)).toEqual(resolved);
    expect(new Set(batches.map((x) => x.segment))).toEqual(new Set([1, 2]));
  });

  it('rejects LSNs that do not increase and empty batches, without writing anything', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    const wal = await WalWriter.create(dir, { uuid, segment: 1, firstLsn: 10 });
    await expect(wal.append([put('a', '1')], 9)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await wal.append([put('a', '1'), put('b', '2')], 10);
    await expect(wal.append([put('a', '1')], 11)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(wal.append([], 20)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await wal.append([put('c', '3')], 12);
    await wal.close();
    expect((await replayAll(dir, uuid)).map((x) => x.firstLsn)).toEqual([10, 12]);
  });

  it('rotates: the old segment is complete, later appends land in the new one in order', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    const wal = await WalWriter.create(dir, { uuid, segment: 4, firstLsn: 1 });
    const done = [wal.append([put('a', '1')], 1), wal.rotate(), wal.append([put('b', '2')], 2)];
    const [, next] = await Promise.all(done);
    expect(next).toBe(5);
    expect(wal.segment).toBe(5);
    await wal.close();
    expect(listSegments(dir)).toEqual([4, 5]);
    expect((await replayAll(dir, uuid)).map((x) => [x.firstLsn, x.segment])).toEqual([[1, 4], [2, 5]]);
  });
});

describe('WalWriter: group commit', () => {
  it('serves 1,000 concurrent durable appends with far fewer fdatasyncs, resolving and replaying in LSN order', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const wal = await WalWriter.create(dir, { uuid, segment: 1, firstLsn: 1, fs });
    const resolved: number[] = [];
    const appends: Promise<void>[] = [];
    for (let lsn = 1; lsn <= 1000; lsn++) {
      appends.push(wal.append([put(`k${lsn}`, `v${lsn}`)], lsn, { sync: true }).then(() => void resolved.push(lsn)));
      // Writers arrive over time, not all in one tick: groups form behind the fdatasync in flight.
      if (lsn % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appends);
    expect(resolved).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const syncs = fs.count('fdatasync');
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(100);
    // One write per round, the header's, and the zeros preallocated ahead (every 128 KiB of log).
    expect(fs.count('write')).toBeLessThanOrEqual(syncs + 2);
    await wal.close();
    const batches = await replayAll(dir, uuid);
    expect(batches.map((x) => x.firstLsn)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('writes large groups through the thread pool while appends keep arriving; everything replays intact and in order', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    let poolWrites = 0;
    let syncWrites = 0;
    const fs: WalFileSystem = {
      ...nodeFileSystem,
      writeSync: (...a) => (syncWrites++, nodeFileSystem.writeSync(...a)),
      write: (...a) => (poolWrites++, nodeFileSystem.write!(...a)),
    };
    // A small groupCommitBytes: groups of one large batch each, so the next ones stage (and the
    // staging buffer compacts or grows) while the thread pool reads the group before them.
    const wal = await WalWriter.create(dir, { uuid, segment: 1, firstLsn: 1, fs, groupCommitBytes: 96 * 1024 });
    const value = (lsn: number, n: number): string => String.fromCharCode(97 + (lsn % 26)).repeat(n);
    const sizes: number[] = [];
    const appends: Promise<void>[] = [];
    let lsn = 1;
    for (let round = 0; round < 60; round++) {
      const n = round % 3 === 0 ? 20 : 70_000 + round * 1000; // small ones between the large ones
      sizes.push(n);
      appends.push(wal.append([put(`k${lsn}`, value(lsn, n))], lsn, { sync: round % 7 === 0 }));
      lsn++;
      if (round % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appends);
    await wal.close();
    expect(poolWrites).toBeGreaterThan(30);
    expect(syncWrites).toBeGreaterThan(0); // the header, and groups below OFF_THREAD_BYTES
    const batches = await replayAll(dir, uuid);
    expect(batches.map((x) => x.firstLsn)).toEqual(sizes.map((_, i) => i + 1));
    for (const [i, x] of batches.entries()) {
      const op = x.ops[0] as Extract<BatchOp, { type: 'put' }>;
      expect([op.type, Buffer.from(op.key).toString()]).toEqual(['put', `k${i + 1}`]);
      // Buffer#equals, not toEqual: a deep comparison of 100 KB byte by byte takes seconds.
      expect(Buffer.from(op.value).equals(Buffer.from(value(i + 1, sizes[i]!)))).toBe(true);
    }
  });

  it('calls whileWriting once the thread pool has a group, before the write returned; never for a synchronous write', async () => {
    const dir = tempDir();
    const uuid = randomUUID();
    const events: string[] = [];
    let release: (() => void) | undefined;
    const fs: WalFileSystem = {
      ...nodeFileSystem,
      write: (...a) => {
        events.push('pool write submitted');
        // Held until the test lets it go: whileWriting must have run by then.
        return new Promise<number>((resolve, reject) => {
          release = () => {
            events.push('pool write returns');
            nodeFileSystem.write!(...a).then(resolve, reject);
          };
        });
      },
    };
    const wal = await WalWriter.create(dir, { uuid, segment: 1, firstLsn: 1, fs });
    const big = wal.append([put('big', 'x'.repeat(100_000))], 1, { whileWriting: () => events.push('whileWriting') });
    void big.then(() => events.push('append resolved'));
    while (release === undefined) await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['pool write submitted', 'whileWriting']);
    release();
    await big;
    expect(events).toEqual(['pool write submitted', 'whileWriting', 'pool write returns', 'append resolved']);
    // A small record is written with write(2) on this thread: nothing to overlap, no call.
    let called = 0;
    await wal.append([put('small', 'y')], 2, { whileWriting: () => called++ });
    await wal.close();
    expect(called).toBe(0);
    // A layer without `write` (the in-memory and fault-injecting ones): never, whatever the size.
    const mem = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs: memoryFs() });
    await mem.append([put('big', 'x'.repeat(100_000))], 1, { sync: true, whileWriting: () => called++ });
    await mem.close();
    expect(called).toBe(0);
  });

  it('caps a group at groupCommitBytes, and syncs only when some waiter asked to', async () => {
    const fs = new FaultInjectingFileSystem(memoryFs());
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs, groupCommitBytes: 10_000 });
    const writesBefore = fs.count('write');
    const value = 'x'.repeat(1000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => wal.append([put(`k${i}`, value)], i + 1)));
    // Records are ~1,020 bytes: 9 fit under the cap, so 100 appends take 12 writes.
    expect(fs.count('write') - writesBefore).toBe(12);
    expect(fs.count('fdatasync')).toBe(0);
    await wal.append([put('big', 'y'.repeat(50_000))], 101); // larger than the cap: goes alone
    expect(fs.count('fdatasync')).toBe(0);
    await wal.sync();
    expect(fs.count('fdatasync')).toBe(1);
    await wal.sync(); // nothing new to make durable
    expect(fs.count('fdatasync')).toBe(1);
    await wal.close();
    expect((await replayAll(DIR, UUID, fs)).length).toBe(101);
  });
});

describe('WalWriter: durability', () => {
  it('keeps every sync append, and everything before a rotation, through a power cut', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append([put('a', '1')], 1);
    await wal.rotate(); // syncs segment 1
    await wal.append([put('b', '2')], 2, { sync: true });
    await wal.append([put('c', '3')], 3); // handed to the OS only
    const batches = await replayAll(DIR, UUID, fs.powerCut());
    expect(batches.map((x) => x.firstLsn)).toEqual([1, 2]);
  });

  it('keeps a new segment through a power cut before anything is appended (file and directory fsynced)', async () => {
    const fs = memoryFs();
    await WalWriter.create(DIR, { uuid: UUID, segment: 7, firstLsn: 40, fs });
    const after = fs.powerCut();
    expect(listSegments(DIR, after)).toEqual([7]);
    expect((await replay(DIR, { uuid: UUID, fs: after }, () => undefined)).nextSegment).toBe(8);
  });
});

describe('WalWriter: lifecycle and arguments', () => {
  it('refuses work after close, closes once, and releases its descriptor', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    const pending = wal.append([put('a', '1')], 1);
    const closing = wal.close();
    await expect(wal.append([put('b', '2')], 2)).rejects.toMatchObject({ code: 'NOT_OPEN' });
    await expect(wal.rotate()).rejects.toMatchObject({ code: 'NOT_OPEN' });
    await expect(wal.sync()).rejects.toMatchObject({ code: 'NOT_OPEN' });
    await expect(wal.close()).rejects.toMatchObject({ code: 'NOT_OPEN' });
    await pending; // queued before close: still served
    await closing;
    expect(fs.openFiles()).toEqual([]);
    expect((await replayAll(DIR, UUID, fs)).length).toBe(1);
  });

  it('refuses to create a segment that exists, and bad arguments', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await expect(WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs })).rejects.toMatchObject({ code: 'EXISTS' });
    await expect(openWal(DIR, { uuid: 'not-a-uuid', segment: 2, firstLsn: 1, fs })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openWal(DIR, { uuid: UUID, segment: 0, firstLsn: 1, fs })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openWal(DIR, { uuid: UUID, segment: 2, firstLsn: 0, fs })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openWal(DIR, { uuid: UUID, segment: 2, firstLsn: 1, fs, groupCommitBytes: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(wal.append([{ type: 'put', key: 'k' as unknown as Uint8Array, value: b('v') }], 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await wal.append([put('a', '1')], 1); // a refused append consumed no LSN
    await wal.close();
  });

  it('deletes segments before the oldest live one, never the active one', async () => {
    const fs = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.rotate();
    await wal.rotate();
    expect(wal.segment).toBe(3);
    await expect(wal.deleteSegmentsBefore(4)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await wal.deleteSegmentsBefore(2)).toEqual([1]);
    expect(await deleteSegmentsBefore(DIR, 3, fs)).toEqual([2]);
    expect(listSegments(DIR, fs)).toEqual([3]);
    expect(listSegments(DIR, fs.powerCut())).toEqual([3]); // the deletions were made durable
    expect(wal.bytesWritten).toBe(3 * SEGMENT_HEADER_SIZE);
  });
});
