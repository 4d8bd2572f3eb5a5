/**
 * The writer and replay on a failing disk: write, fsync, open, close, truncate and unlink fail
 * with EIO or ENOSPC at the k-th call, once or for good. Whatever happens, an append whose
 * promise resolved is replayed afterwards, the failure surfaces as IO_ERROR, everything after it
 * as READ_ONLY, and a failed fsync is never retried.
 */
import { StrataError } from '@strata-db/errors';
import { FaultInjectingFileSystem, type FaultRule, type OpKind } from '@strata-db/vfs/testing';
import { describe, expect, it } from 'vitest';
import type { BatchOp } from './batch.js';
import { segmentFileName } from './segment-directory.js';
import { DIR, UUID, bytesOf, expectBatches, memoryFs, replayAll, someOps, type LoggedBatch } from './test-support/fixtures.js';
import { WalWriter } from './writer.js';

interface Outcome {
  readonly acknowledged: LoggedBatch[];
  readonly attempted: LoggedBatch[];
  /** Every rejection, in the order the workload saw them, the close's included. */
  readonly errors: StrataError[];
  readonly closeError: StrataError | undefined;
}

/**
 * 16 appends, one at a time, every third with sync, a rotation after the eighth. Records what was
 * acknowledged and how everything else failed.
 */
async function workload(wal: WalWriter): Promise<Outcome> {
  const acknowledged: LoggedBatch[] = [];
  const attempted: LoggedBatch[] = [];
  const errors: StrataError[] = [];
  let lsn = 1;
  for (let i = 0; i < 16; i++) {
    if (i === 8) {
      try {
        await wal.rotate();
      } catch (err) {
        errors.push(err as StrataError);
      }
    }
    const ops: BatchOp[] = someOps(2, 3000);
    const batch = { firstLsn: lsn, ops, segment: wal.segment };
    attempted.push(batch);
    try {
      await wal.append(ops, lsn, { sync: i % 3 === 2 });
      acknowledged.push(batch);
    } catch (err) {
      errors.push(err as StrataError);
    }
    lsn += ops.length;
  }
  let closeError: StrataError | undefined;
  try {
    await wal.close();
  } catch (err) {
    closeError = err as StrataError;
    errors.push(closeError);
  }
  return { acknowledged, attempted, errors, closeError };
}

const kinds: OpKind[] = ['write', 'fdatasync', 'fsync', 'fsyncDir', 'open', 'close'];

/** A write(2) that stored whole records before failing, and a failed fdatasync. */
const CUT_RULES = [
  { op: 'write', nth: 1, code: 'ENOSPC', tornBytes: 1 << 30 },
  { op: 'fdatasync', nth: 1, code: 'EIO' },
] satisfies FaultRule[];

/**
 * A writer logs one batch durably (growing the file: preallocation, so the next round writes
 * within it), then `rule` is armed and `fail` issues the appends it fails. The writer then
 * closes READ_ONLY, and a restart and a power cut replay the first batch only.
 */
async function expectOnlyFirstReplayed(rule: FaultRule, fail: (wal: WalWriter) => Promise<void>): Promise<void> {
  const inner = memoryFs();
  const fs = new FaultInjectingFileSystem(inner);
  const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
  const a = someOps();
  await wal.append(a, 1, { sync: true });
  fs.addRule(rule);
  await fail(wal);
  await expect(wal.close()).rejects.toMatchObject({ code: 'READ_ONLY' });
  fs.clearRules();
  // A restart, and a power cut keeping whatever the disk had of the unsynced bytes.
  for (const image of [inner, inner.powerCut({ mode: 'keep-random-prefix', seed: 3 })]) {
    const { batches } = await replayAll(image.clone());
    expectBatches(batches, [{ firstLsn: 1, ops: a, segment: 1 }]);
  }
}

describe('faults while writing', () => {
  for (const kind of kinds) {
    for (const code of ['EIO', 'ENOSPC'] as const) {
      it(`${kind} failing with ${code} at every k: acknowledged appends survive, the rest is refused`, async () => {
        let faultsSeen = 0;
        for (let at = 1; at <= 8; at++) {
          for (const persistent of [false, true]) {
            const inner = memoryFs();
            const fs = new FaultInjectingFileSystem(inner);
            const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
            const fault: FaultRule = { op: kind, nth: at, code, persistent, tornBytes: 1000 };
            fs.addRule(fault);
            const { acknowledged, attempted, errors, closeError } = await workload(wal);
            fs.clearRules();
            expect(inner.openFiles(), 'descriptor released').toEqual([]);

            if (fs.injected.length === 0) {
              expect(errors).toEqual([]);
              expect(acknowledged.length).toBe(16);
            } else {
              faultsSeen++;
              const [first, ...later] = errors;
              expect(first?.code).toBe('IO_ERROR');
              expect(first?.message).toContain(code);
              expect(first?.file).toMatch(/\/db(\/\d{6}\.wal)?$/);
              for (const err of later) expect(['READ_ONLY', 'IO_ERROR']).toContain(err.code);
              expect(closeError?.code, 'close reports the failure').toMatch(/READ_ONLY|IO_ERROR/);
              // Once failed, nothing is acknowledged again.
              const refused = attempted.findIndex((b) => !acknowledged.includes(b));
              expect(acknowledged).toEqual(refused < 0 ? attempted : attempted.slice(0, refused));
            }

            // Reopen on a healthy disk: everything acknowledged is there, in order, intact.
            const { batches } = await replayAll(inner);
            const replayed = batches.map((b) => attempted.find((a) => a.firstLsn === b.firstLsn)!);
            expect(replayed.slice(0, acknowledged.length)).toEqual(acknowledged);
            // …and nothing else: a refused append's record was cut off the segment.
            expect(batches.length, 'no refused append is replayed').toBe(acknowledged.length);
            expectBatches(batches, replayed);
          }
        }
        expect(faultsSeen).toBeGreaterThan(0);
      });
    }
  }

  it('never retries a failed fdatasync: the writer fails and later syncs are refused without calling it', async () => {
    const inner = memoryFs();
    const fs = new FaultInjectingFileSystem(inner);
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    await wal.append(someOps(), 1, { sync: true });
    fs.addRule({ op: 'fdatasync', nth: 1, code: 'EIO' }); // once: the next call would succeed
    await expect(wal.append(someOps(), 10, { sync: true })).rejects.toMatchObject({ code: 'IO_ERROR' });
    const calls = fs.count('fdatasync');
    await expect(wal.sync()).rejects.toMatchObject({ code: 'READ_ONLY' });
    await expect(wal.append(someOps(), 20, { sync: true })).rejects.toMatchObject({ code: 'READ_ONLY', cause: expect.objectContaining({ code: 'IO_ERROR' }) });
    await expect(wal.rotate()).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(fs.count('fdatasync')).toBe(calls);
    expect(wal.error?.code).toBe('IO_ERROR');
    await expect(wal.close()).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(inner.openFiles()).toEqual([]);
  });

  it('fails a whole group with IO_ERROR and everything queued behind it with READ_ONLY', async () => {
    const fs = new FaultInjectingFileSystem(memoryFs());
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs, groupCommitBytes: 4096 });
    fs.addRule({ op: 'write', nth: 1, code: 'ENOSPC' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => wal.append(someOps(1, 500), i + 1)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as StrataError).code : 'ok'));
    const failedGroup = codes.filter((c) => c === 'IO_ERROR').length;
    expect(failedGroup).toBeGreaterThan(1); // the first group held several appends
    expect(codes).toEqual([...Array<string>(failedGroup).fill('IO_ERROR'), ...Array<string>(50 - failedGroup).fill('READ_ONLY')]);
    expect(fs.count('write')).toBe(2); // the header, then the failed group: nothing after
  });

  it('cuts a failed group off the segment: a write(2) that stored whole records before failing, a failed fdatasync', async () => {
    for (const rule of CUT_RULES) {
      await expectOnlyFirstReplayed(rule, async (wal) => {
        // Issued in one tick: one group, one write(2), one fdatasync.
        const group = [wal.append(someOps(), 10, { sync: true }), wal.append(someOps(), 20), wal.append(someOps(), 30, { sync: true })];
        for (const r of await Promise.allSettled(group)) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'IO_ERROR' } });
        await expect(wal.append(someOps(), 40, { sync: true })).rejects.toMatchObject({ code: 'READ_ONLY' });
      });
    }
  });

  it("cuts a failed append alone off the segment (a lone writer's round, served outside the drain loop)", async () => {
    for (const rule of CUT_RULES) {
      await expectOnlyFirstReplayed(rule, async (wal) => {
        const doomed = wal.append(someOps(), 10, { sync: true });
        await Promise.resolve(); // the round has started: what arrives now waits behind it
        const [d, b] = await Promise.allSettled([doomed, wal.append(someOps(), 20, { sync: true })]);
        expect(d).toMatchObject({ status: 'rejected', reason: { code: 'IO_ERROR' } });
        expect(b).toMatchObject({ status: 'rejected', reason: { code: 'READ_ONLY' } });
      });
    }
  });

  it('keeps acknowledged durable appends through a power cut after a failed fdatasync', async () => {
    const inner = memoryFs();
    const fs = new FaultInjectingFileSystem(inner);
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    const a = someOps();
    await wal.append(a, 1, { sync: true });
    fs.addRule({ op: 'fdatasync', nth: 1, persistent: true });
    await expect(wal.append(someOps(), 10, { sync: true })).rejects.toMatchObject({ code: 'IO_ERROR' });
    const { batches } = await replayAll(inner.powerCut());
    expectBatches(batches, [{ firstLsn: 1, ops: a, segment: 1 }]);
  });
});

describe('faults while recovering', () => {
  it('reports IO_ERROR when the torn tail cannot be cut, and succeeds once the disk recovers', async () => {
    const inner = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs: inner });
    await wal.append(someOps(), 1);
    await wal.close();
    const file = `${DIR}/${segmentFileName(1)}`;
    inner.writeFileDurably(file, Buffer.concat([bytesOf(inner, file), Buffer.alloc(100, 0xee)]));
    for (const kind of ['truncate', 'fsync', 'open', 'readFile'] as const) {
      const fs = new FaultInjectingFileSystem(inner.clone());
      fs.addRule({ op: kind, nth: 1, code: 'EIO' });
      await expect(replayAll(fs)).rejects.toMatchObject({ code: 'IO_ERROR', file });
    }
    const { result } = await replayAll(inner);
    expect(result.truncated).toMatchObject({ segment: 1 });
  });

  it('reports IO_ERROR when a torn newest segment cannot be removed', async () => {
    const inner = memoryFs();
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs: inner });
    await wal.rotate();
    await wal.close();
    inner.writeFileDurably(`${DIR}/${segmentFileName(2)}`, Buffer.alloc(10));
    for (const kind of ['unlink', 'fsyncDir'] as const) {
      const fs = new FaultInjectingFileSystem(inner.clone());
      fs.addRule({ op: kind, nth: 1, code: 'EIO' });
      await expect(replayAll(fs)).rejects.toMatchObject({ code: 'IO_ERROR' });
    }
  });
});

describe('power cut at every file operation', () => {
  /** Three waves of 10 concurrent appends (every third durable), rotating between waves. */
  async function crashWorkload(fs: FaultInjectingFileSystem, durable: LoggedBatch[], attempted: LoggedBatch[]): Promise<void> {
    const wal = await WalWriter.create(DIR, { uuid: UUID, segment: 1, firstLsn: 1, fs });
    let lsn = 1;
    for (let wave = 0; wave < 3; wave++) {
      if (wave > 0) await wal.rotate();
      const appends = Array.from({ length: 10 }, (_, i) => {
        const ops = someOps(1 + (i % 3), 700);
        const batch = { firstLsn: lsn, ops, segment: wal.segment };
        attempted.push(batch);
        lsn += ops.length;
        const sync = i % 3 === 2;
        return wal.append(ops, batch.firstLsn, { sync }).then(() => {
          if (sync) durable.push(batch);
        });
      });
      await Promise.all(appends);
    }
    await wal.close();
  }

  it('recovers in the default mode, keeping every durable append, whatever operation the crash hit', async () => {
    const clean = new FaultInjectingFileSystem(memoryFs());
    await crashWorkload(clean, [], []);
    // Every call but `exists` can fail (node:fs answers false instead); the crash hits each in turn.
    const total = clean.operationCount - clean.count('exists');
    expect(total).toBeGreaterThan(15);
    for (let k = 0; k < total; k++) {
      const inner = memoryFs();
      const fs = new FaultInjectingFileSystem(inner);
      fs.addRule({ op: 'any', nth: k + 1, persistent: true }); // the process dies after k calls
      const durable: LoggedBatch[] = [];
      const attempted: LoggedBatch[] = [];
      await crashWorkload(fs, durable, attempted).catch((err: unknown) => {
        expect((err as StrataError).code).toMatch(/IO_ERROR|READ_ONLY/);
      });
      const { batches, result } = await replayAll(inner.powerCut());
      // What survives is a prefix of what was attempted, and holds everything acknowledged as durable.
      expectBatches(batches, attempted.slice(0, batches.length));
      expect(batches.length, `crash after ${k} operations`).toBeGreaterThanOrEqual(durable.length === 0 ? 0 : attempted.indexOf(durable.at(-1)!) + 1);
      expect(result.stoppedAt).toBeNull();
    }
  });
});
