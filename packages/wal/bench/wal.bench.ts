// WAL benchmark: `npm run bench -- wal`. Prints Markdown tables; every figure is a ratio to a
// peer measured in this same run on this same disk (raw write(2), raw fdatasync), because
// absolute numbers on shared CI machines mean little.
//
// 1. Append throughput without sync, 100 B and 4 KiB batches, against fs.writeSync of the same
//    framed bytes, one call per batch: once awaiting every append (one writer, as `await db.put`
//    does) and once with 64 appends in flight (many writers; group commit merges their writes).
// 2. Durable throughput (sync: true) with 1, 16 and 256 concurrent writers, next to the latency
//    of fdatasync(2) and the rate of a raw write + fdatasync loop measured on the same disk.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalWriter, nodeFileSystem, type BatchOp } from '@strata-db/wal';

const root = fs.mkdtempSync(join(tmpdir(), 'strata-wal-bench-'));
const uuid = randomUUID();
let nextSegment = 1;
let lsn = 1;

const FRAGMENT_HEADER = 7;
const KEY = Buffer.from('bench-key-000000');

/** One put whose encoded record is `recordBytes` long (12 batch header + kind + 2 varints + key). */
function batchOfRecordSize(recordBytes: number): BatchOp[] {
  const valueLength = recordBytes - 12 - 1 - 1 - KEY.length - (recordBytes > 140 ? 2 : 1);
  return [{ type: 'put', key: KEY, value: Buffer.alloc(valueLength, 0x5a) }];
}

async function newWriter(): Promise<WalWriter> {
  return WalWriter.create(root, { uuid, segment: nextSegment++, firstLsn: lsn });
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function rawWriteMBps(recordBytes: number, count: number): number {
  const file = join(root, `raw-${recordBytes}.bin`);
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(recordBytes + FRAGMENT_HEADER, 0x5a);
  const start = process.hrtime.bigint();
  let position = 0;
  for (let i = 0; i < count; i++) {
    fs.writeSync(fd, buf, 0, buf.length, position);
    position += buf.length;
  }
  const s = seconds(start);
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return (count * buf.length) / s / 1e6;
}

async function walMBps(recordBytes: number, count: number, inFlight: number): Promise<number> {
  const wal = await newWriter();
  const ops = batchOfRecordSize(recordBytes);
  const start = process.hrtime.bigint();
  if (inFlight === 1) {
    for (let i = 0; i < count; i++) await wal.append(ops, lsn++);
  } else {
    const window: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      window.push(wal.append(ops, lsn++));
      if (window.length === inFlight) {
        await Promise.all(window);
        window.length = 0;
      }
    }
    await Promise.all(window);
  }
  const s = seconds(start);
  const bytes = wal.bytesWritten;
  await wal.close();
  return bytes / s / 1e6;
}

/**
 * The disk's own durable-append rate, for comparison: a loop of write(2) of one 107-byte record
 * at the end of a file and fdatasync, for `durationMs`. Returns the rate and the median latency.
 */
async function rawDurableLoop(durationMs: number): Promise<{ rate: number; latencyMs: number }> {
  const file = join(root, 'fdatasync.bin');
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(107, 1);
  const times: number[] = [];
  const deadline = Date.now() + durationMs;
  const start = process.hrtime.bigint();
  for (let position = 0; Date.now() < deadline; position += buf.length) {
    const t = process.hrtime.bigint();
    fs.writeSync(fd, buf, 0, buf.length, position);
    await nodeFileSystem.fdatasync(fd);
    times.push(seconds(t) * 1000);
  }
  const rate = times.length / seconds(start);
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return { rate, latencyMs: median(times) };
}

/** Appends per second with `writers` concurrent loops of `await append(…, { sync: true })`. */
async function durableRate(writers: number, durationMs: number): Promise<{ rate: number; perSync: number }> {
  const counting = { ...nodeFileSystem, syncs: 0 };
  const wal = await WalWriter.create(root, {
    uuid,
    segment: nextSegment++,
    firstLsn: lsn,
    fs: {
      ...nodeFileSystem,
      fdatasync: (fd) => {
        counting.syncs++;
        return nodeFileSystem.fdatasync(fd);
      },
    },
  });
  const ops = batchOfRecordSize(100);
  const deadline = Date.now() + durationMs;
  let done = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (Date.now() < deadline) {
        await wal.append(ops, lsn++, { sync: true });
        done++;
      }
    }),
  );
  const s = seconds(start);
  await wal.close();
  return { rate: done / s, perSync: done / Math.max(1, counting.syncs) };
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

try {
  // Warm up the JIT and the file system before measuring.
  rawWriteMBps(100, 20_000);
  await walMBps(100, 20_000, 1);

  console.log('### Append throughput, no sync (MB/s of framed records; ratio = WAL / raw writeSync)\n');
  console.log('| batch | raw writeSync | WAL, 1 in flight | ratio | WAL, 64 in flight | ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const [recordBytes, count] of [[100, 200_000], [4096, 20_000]] as const) {
    // Interleaved rounds, medians: the page cache and the CPU clock drift during a run.
    const raws: number[] = [];
    const ones: number[] = [];
    const manys: number[] = [];
    for (let round = 0; round < 5; round++) {
      raws.push(rawWriteMBps(recordBytes, count));
      ones.push(await walMBps(recordBytes, count, 1));
      manys.push(await walMBps(recordBytes, count, 64));
    }
    const [raw, one, many] = [median(raws), median(ones), median(manys)];
    const label = recordBytes === 100 ? '100 B' : '4 KiB';
    console.log(`| ${label} | ${fmt(raw)} | ${fmt(one)} | ${fmt(one / raw, 2)} | ${fmt(many)} | ${fmt(many / raw, 2)} |`);
  }

  // Interleaved rounds again, so that a burst of disk contention hits every configuration alike.
  const raw: { rate: number; latencyMs: number }[] = [];
  const rates = new Map<number, number[]>();
  const perSyncs = new Map<number, number[]>();
  const configs = [1, 16, 256];
  for (let round = 0; round < 3; round++) {
    raw.push(await rawDurableLoop(1000));
    for (const writers of configs) {
      const { rate, perSync } = await durableRate(writers, 1000);
      rates.set(writers, [...(rates.get(writers) ?? []), rate]);
      perSyncs.set(writers, [...(perSyncs.get(writers) ?? []), perSync]);
    }
  }
  const rawRate = median(raw.map((r) => r.rate));
  console.log(`\n### Durable appends (sync: true, 100 B batches)\n`);
  console.log(
    `fdatasync latency after a 107-byte append, median: ${fmt(median(raw.map((r) => r.latencyMs)), 2)} ms; ` +
      `a raw write + fdatasync loop reaches ${fmt(rawRate, 0)} appends/s\n`,
  );
  console.log('| writers | appends/s | × 1 writer | × raw loop | appends per fdatasync |');
  console.log('|---|---|---|---|---|');
  const single = median(rates.get(1)!);
  for (const writers of configs) {
    const rate = median(rates.get(writers)!);
    console.log(`| ${writers} | ${fmt(rate, 0)} | ${fmt(rate / single, 1)} | ${fmt(rate / rawRate, 2)} | ${fmt(median(perSyncs.get(writers)!), 1)} |`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
