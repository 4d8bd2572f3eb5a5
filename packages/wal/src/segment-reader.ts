/**
 * Reading one segment file as it is, for inspection (`strata dump-wal`): its header and, in file
 * order, every record decoded into its batch, and every damaged range between them. Nothing is
 * checked against other segments and nothing is written or repaired: replay.ts decides what
 * damage means for recovery; this only shows it. The formats are those of segment-header.ts,
 * log-format.ts and batch.ts.
 */
import { MalformedBatch, decodeBatch, type BatchOp } from './batch.js';
import { ioError } from '@strata-db/errors';
import { nodeFileSystem, readAt, type FileSystem } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';
import { BLOCK_SIZE, readSegmentRecords } from './log-format.js';
import { SEGMENT_HEADER_SIZE, decodeSegmentHeader, formatUuid } from './segment-header.js';

export type SegmentItem =
  /** One intact record: an atomic batch, op i at LSN firstLsn + i; bytes [offset, end). */
  | { readonly kind: 'batch'; readonly offset: number; readonly end: number; readonly firstLsn: number; readonly ops: BatchOp[] }
  /** Bytes [offset, end) that hold no intact record. */
  | { readonly kind: 'damage'; readonly offset: number; readonly end: number; readonly reason: string };

export interface SegmentContents {
  readonly file: string;
  readonly size: number;
  /** The decoded header, or why it could not be decoded (then there are no items). */
  readonly header: { readonly uuid: string; readonly segment: number; readonly firstLsn: number } | { readonly error: string };
  readonly items: readonly SegmentItem[];
}

export function readSegmentFile(file: string, fs: WalFileSystem = nodeFileSystem): SegmentContents {
  let data: Uint8Array;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw ioError(file, undefined, 'reading a WAL segment', err);
  }
  let header: SegmentContents['header'];
  try {
    const h = decodeSegmentHeader(data, file);
    header = { uuid: formatUuid(h.uuid), segment: h.segment, firstLsn: h.firstLsn };
  } catch (err) {
    return { file, size: data.length, header: { error: (err as Error).message }, items: [] };
  }
  return { file, size: data.length, header, items: itemsOf(data, SEGMENT_HEADER_SIZE, 0) };
}


/**
 * The items of a segment from byte `from` on — the `end` of the last record read before — for a
 * reader that follows a segment another process keeps appending to (the engine's follower). Only
 * the header and the blocks from the one holding `from` are read. An append in progress shows as
 * damage at the end (with no intact record after it): the caller reads from its offset again later.
 */
export function readSegmentFrom(file: string, from: number, fs: Pick<FileSystem, 'openSync' | 'closeSync' | 'readSync' | 'fstatSync'> = nodeFileSystem): SegmentContents {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw ioError(file, undefined, 'opening a WAL segment', err);
  }
  try {
    const size = fs.fstatSync(fd).size;
    let header: SegmentContents['header'];
    try {
      const h = decodeSegmentHeader(readAt(fs, fd, 0, Math.min(size, SEGMENT_HEADER_SIZE)), file);
      header = { uuid: formatUuid(h.uuid), segment: h.segment, firstLsn: h.firstLsn };
    } catch (err) {
      return { file, size, header: { error: (err as Error).message }, items: [] };
    }
    const start = Math.max(from, SEGMENT_HEADER_SIZE);
    // Record framing restarts at each block boundary: parse from the start of `start`'s block.
    const base = start - (start % BLOCK_SIZE);
    const data = readAt(fs, fd, base, Math.max(0, size - base));
    return { file, size, header, items: itemsOf(data, start - base, base) };
  } catch (err) {
    throw ioError(file, undefined, 'reading a WAL segment', err);
  } finally {
    fs.closeSync(fd);
  }
}

/** The records and damaged ranges of `data` (a segment's bytes from file offset `base`) from `start` on. */
function itemsOf(data: Uint8Array, start: number, base: number): SegmentItem[] {
  const items: SegmentItem[] = [];
  for (const event of readSegmentRecords(data, start)) {
    if (event.kind === 'unused') continue; // preallocated zeros after the last record (log-format.ts)
    if (event.kind === 'damage') {
      items.push({ kind: 'damage', offset: base + event.offset, end: base + event.end, reason: event.reason });
      continue;
    }
    try {
      const batch = decodeBatch(event.payload);
      items.push({ kind: 'batch', offset: base + event.offset, end: base + event.end, firstLsn: batch.firstLsn, ops: batch.ops });
    } catch (err) {
      if (!(err instanceof MalformedBatch)) throw err;
      items.push({ kind: 'damage', offset: base + event.offset, end: base + event.end, reason: `record passed its checksum but is malformed: ${err.message}` });
    }
  }
  return items;
}
