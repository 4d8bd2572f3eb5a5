/** Helpers shared by the WAL's tests: write a known log, replay it, compare what came back. */
import { expect } from 'vitest';
import type { BatchOp } from '../batch.js';
import { replay, type ReplayOptions, type ReplayResult, type ReplayedBatch } from '../replay.js';
import { WalWriter } from '../writer.js';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import type { WalFileSystem } from '../file-system.js';

export const DIR = '/db';
export const UUID = '6f1c2a4e-8b3d-4e5f-9a7b-0c1d2e3f4a5b';

/** An in-memory file system (the one of @strata-db/vfs, which knows what a power cut keeps) holding DIR. */
export function memoryFs(): MemoryFileSystem {
  const fs = new MemoryFileSystem();
  fs.mkdirSync(DIR, { recursive: true });
  return fs;
}

/** A file's current bytes, as a Buffer (tests slice, concatenate and compare them). */
export function bytesOf(fs: MemoryFileSystem, path: string): Buffer {
  return Buffer.from(fs.readFileSync(path));
}

export interface LoggedBatch {
  readonly firstLsn: number;
  readonly ops: BatchOp[];
  readonly segment: number;
}

let counter = 0;
/** A small batch with distinct, recognisable contents. */
export function someOps(n = 1 + (counter % 3), valueSize = 20): BatchOp[] {
  const id = counter++;
  return Array.from({ length: n }, (_, i): BatchOp => {
    const key = Buffer.from(`key-${id}-${i}`);
    if (i % 3 === 1) return { type: 'del', key };
    if (i % 3 === 2) return { type: 'deleteRange', start: key, end: Buffer.from(`key-${id}-${i}~`) };
    return { type: 'put', key, value: Buffer.alloc(valueSize, id % 256) };
  });
}

/**
 * Writes `segments[i]` batches into segment `firstSegment + i` (rotating in between), LSNs
 * consecutive from `firstLsn`. Returns what was logged.
 */
export async function writeLog(
  fs: WalFileSystem,
  segments: readonly (readonly BatchOp[][])[],
  options: { firstSegment?: number; firstLsn?: number; uuid?: string } = {},
): Promise<LoggedBatch[]> {
  const wal = await WalWriter.create(DIR, { uuid: options.uuid ?? UUID, segment: options.firstSegment ?? 1, firstLsn: options.firstLsn ?? 1, fs });
  const logged: LoggedBatch[] = [];
  let lsn = options.firstLsn ?? 1;
  for (const [i, batches] of segments.entries()) {
    if (i > 0) await wal.rotate();
    for (const ops of batches) {
      await wal.append(ops, lsn);
      logged.push({ firstLsn: lsn, ops, segment: wal.segment });
      lsn += ops.length;
    }
  }
  await wal.close();
  return logged;
}

export async function replayAll(fs: WalFileSystem, options: Partial<ReplayOptions> = {}): Promise<{ batches: ReplayedBatch[]; result: ReplayResult }> {
  const batches: ReplayedBatch[] = [];
  const result = await replay(DIR, { uuid: UUID, fs, ...options }, (b) => batches.push(b));
  return { batches, result };
}

/**
 * Compares replayed batches to logged ones by content, byte for byte. Ops are compared as hex
 * strings: vitest's deep equality walks a 200 KB buffer element by element.
 */
export function expectBatches(got: readonly ReplayedBatch[], want: readonly LoggedBatch[]): void {
  expect(got.map((b) => [b.firstLsn, b.segment])).toEqual(want.map((b) => [b.firstLsn, b.segment]));
  got.forEach((b, i) => {
    expect(b.ops.map(fingerprint), `batch at LSN ${b.firstLsn}`).toEqual(want[i]!.ops.map(fingerprint));
  });
}

function fingerprint(op: BatchOp): string {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  if (op.type === 'put') return `put ${hex(op.key)} ${hex(op.value)}`;
  if (op.type === 'del') return `del ${hex(op.key)}`;
  return `deleteRange ${hex(op.start)} ${hex(op.end)}`;
}
