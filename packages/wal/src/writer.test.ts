import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BatchOp } from './batch.js';
import { replay, type ReplayedBatch } from './replay.js';
import { listSegments } from './segment-files.js';
import { tempDir } from './test-support/temp-dir.js';
import { WalWriter } from './writer.js';

const b = (s: string): Uint8Array => Buffer.from(s);
const put = (k: string, v: string): BatchOp => ({ type: 'put', key: b(k), value: b(v) });

async function replayAll(dir: string, uuid: string): Promise<ReplayedBatch[]> {
  const out: ReplayedBatch[] = [];
  await replay(dir, { uuid }, (batch) => out.push(batch));
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
