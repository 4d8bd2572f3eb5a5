/**
 * Reading one segment file as it is, for inspection (`strata dump-wal`): its header and, in file
 * order, every record decoded into its batch, and every damaged range between them. Nothing is
 * checked against other segments and nothing is written or repaired: replay.ts decides what
 * damage means for recovery; this only shows it. The formats are those of segment-header.ts,
 * log-format.ts and batch.ts.
 */
import { MalformedBatch, decodeBatch, type BatchOp } from './batch.js';
import { ioError } from '@strata-db/errors';
import { nodeFileSystem } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';
import { readSegmentRecords } from './log-format.js';
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
  const items: SegmentItem[] = [];
  for (const event of readSegmentRecords(data, SEGMENT_HEADER_SIZE)) {
    if (event.kind === 'damage') {
      items.push({ kind: 'damage', offset: event.offset, end: event.end, reason: event.reason });
      continue;
    }
    try {
      const batch = decodeBatch(event.payload);
      items.push({ kind: 'batch', offset: event.offset, end: event.end, firstLsn: batch.firstLsn, ops: batch.ops });
    } catch (err) {
      if (!(err instanceof MalformedBatch)) throw err;
      items.push({ kind: 'damage', offset: event.offset, end: event.end, reason: `record passed its checksum but is malformed: ${err.message}` });
    }
  }
  return { file, size: data.length, header, items };
}
