/**
 * Replay: reads the live segments in order, checks that they form one log of this database, and
 * hands every intact batch to the caller, applying the recovery mode to damage.
 *
 * What counts as what:
 * - The torn tail is damage in the NEWEST segment after which no intact record starts (no intact
 *   FULL or FIRST fragment, even inside the rest of the damaged block): the trace of a write
 *   that a crash interrupted. A newest segment shorter than its header (a crash
 *   while it was being created, before anything could be appended) is a torn tail as a whole.
 * - Unused space — zeros from the end of the last record to the end of the file, which the writer
 *   preallocates ahead of durable appends (log-format.ts) — in the NEWEST segment is no damage in
 *   any mode, absolute-consistency included: it holds nothing, and a crash leaves it behind. It is
 *   cut off (not in `dropped`; in `truncated`), so the segment never carries it once it is older.
 * - Everything else is damage before the tail. In particular a torn end of an OLDER segment is
 *   damage: the writer syncs a segment before it creates the next one; and so is unused space in
 *   an older segment: the writer cuts it off (durably) before it creates the next one.
 * - Never tolerated in any mode, because no torn write produces them: a segment of another
 *   database (FOREIGN_FILE), a missing segment between live ones, a header whose number is not the
 *   file's, and LSNs that fail to increase across records and segments (CORRUPTION). A record
 *   whose checksum holds but whose contents do not parse is damage before the tail.
 *
 *   mode                      torn tail            damage before the tail
 *   tolerate-corrupted-tail   dropped, truncated   CORRUPTION
 *   absolute-consistency      CORRUPTION           CORRUPTION
 *   point-in-time             dropped, truncated   replay stops there; the log is cut at it
 *   skip-any-corrupted        dropped, truncated   the damaged range is skipped, the rest replayed
 *
 * Why the log is cut on disk: new appends go to a new segment after the last one. If a torn tail
 * stayed, the next replay would find it in an older segment and call it damage; if records past a
 * point-in-time stop stayed, the next replay would stop at the same place and never reach the
 * writes acknowledged after this recovery. So the tail is truncated and, for point-in-time, later
 * segments are deleted (first, so that a crash in between leaves the damage in place to stop at
 * again), each change fsynced before replay returns.
 *
 * Batches are delivered as they are read, so `onBatch` may have seen batches of a replay that then
 * fails; the caller discards what it built. Keys and values are views into the segment's bytes.
 */
import { join } from 'node:path';
import { StrataError, ioError } from '@strata-db/errors';
import { MalformedBatch, decodeBatch, type BatchOp, type DecodedBatch } from './batch.js';
import { closeQuietly, nodeFileSystem } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';
import { readSegmentRecords, type DamageEvent } from './log-format.js';
import { listSegments, segmentFileName } from './segment-directory.js';
import { SEGMENT_HEADER_SIZE, decodeSegmentHeader, formatUuid, uuidBytes, type SegmentHeader } from './segment-header.js';

export const RecoveryMode = {
  TolerateCorruptedTail: 'tolerate-corrupted-tail',
  AbsoluteConsistency: 'absolute-consistency',
  PointInTime: 'point-in-time',
  SkipAnyCorrupted: 'skip-any-corrupted',
} as const;
export type RecoveryMode = (typeof RecoveryMode)[keyof typeof RecoveryMode];

export interface ReplayOptions {
  /** The database UUID; a segment carrying another is FOREIGN_FILE. */
  readonly uuid: string;
  readonly recovery?: RecoveryMode;
  readonly fs?: WalFileSystem;
  /**
   * The oldest live segment, as the manifest records it. Older segments are ignored (already
   * flushed to tables; they may be deleted). If it is missing while later segments exist, that is
   * a gap. Without it, the oldest segment present starts the log.
   */
  readonly fromSegment?: number;
  /**
   * Change nothing on disk (a read-only open, an inspection tool): damage the mode tolerates is
   * reported in `dropped` but the torn tail is not truncated and no segment is deleted, so a
   * writer that has the log open keeps its files as they are. Default false.
   */
  readonly readOnly?: boolean;
}

export interface ReplayedBatch {
  readonly firstLsn: number;
  readonly ops: BatchOp[];
  readonly segment: number;
}

/** Bytes that were not replayed. */
export interface DroppedRange {
  readonly segment: number;
  readonly file: string;
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
}

export interface ReplayResult {
  /** Largest LSN replayed (0 if none): what the engine hands to `memtable.injectMaxLsn`. */
  readonly maxLsn: number;
  /** Segments replayed, ascending. */
  readonly segments: number[];
  /** The last of `segments` (0 if none). */
  readonly lastSegment: number;
  /**
   * The number to give the next `WalWriter.create`: past every replayed segment, ≥ fromSegment,
   * and ≥ any segment recovery deleted (the manifest may already call it live).
   */
  readonly nextSegment: number;
  readonly batches: number;
  /** Every damaged range that was not replayed, the torn tail included, in log order. */
  readonly dropped: DroppedRange[];
  /** The segment cut back to its last intact record, if any (`from` = its size before). */
  readonly truncated: { readonly segment: number; readonly file: string; readonly from: number; readonly to: number } | null;
  /** Segments removed by recovery: a torn newest segment, or those past a point-in-time stop. */
  readonly deletedSegments: number[];
  /** Where point-in-time recovery stopped, if it did before the end of the log. */
  readonly stoppedAt: { readonly segment: number; readonly offset: number } | null;
}

const MODES: readonly string[] = Object.values(RecoveryMode);

/**
 * CORRUPTION in a segment. Not @strata-db/errors' corruption(): its advice (restore or drop the
 * file) is wrong for a log, where the recovery modes are the way out, so each message here says
 * which mode recovers.
 */
function corruption(message: string, file: string, offset: number): StrataError {
  return new StrataError('CORRUPTION', `${file}: ${message}`, { file, offset });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export async function replay(dir: string, options: ReplayOptions, onBatch: (batch: ReplayedBatch) => void): Promise<ReplayResult> {
  const mode = options.recovery ?? RecoveryMode.TolerateCorruptedTail;
  if (!MODES.includes(mode)) {
    throw new StrataError('INVALID_ARGUMENT', `unknown WAL recovery mode "${mode}" (expected one of ${MODES.join(', ')})`);
  }
  const { fromSegment } = options;
  if (fromSegment !== undefined && (!Number.isSafeInteger(fromSegment) || fromSegment < 1)) {
    throw new StrataError('INVALID_ARGUMENT', `fromSegment must be a safe integer ≥ 1, got ${fromSegment}`);
  }
  const uuid = uuidBytes(options.uuid);
  const fs = options.fs ?? nodeFileSystem;

  const live = listSegments(dir, fs).filter((n) => fromSegment === undefined || n >= fromSegment);
  const expectedFirst = fromSegment ?? live[0];
  live.forEach((segment, i) => {
    const expected = i === 0 ? expectedFirst! : live[i - 1]! + 1;
    if (segment !== expected) {
      throw corruption(
        `WAL segment ${expected} is missing but segment ${segment} exists; restore the missing file, or open with fromSegment past the gap only if its records are in tables`,
        join(dir, segmentFileName(expected)),
        0,
      );
    }
  });

  const segments: number[] = [];
  const dropped: DroppedRange[] = [];
  const deletedSegments: number[] = [];
  let truncated: ReplayResult['truncated'] = null;
  let stoppedAt: ReplayResult['stoppedAt'] = null;
  let batches = 0;
  let maxLsn = 0;
  // A segment's first LSN may equal the previous segment's if that one held no records.
  let previousFirstLsn = 0;

  const readOnly = options.readOnly === true;
  const deleteSegments = async (doomed: readonly number[]): Promise<void> => {
    if (doomed.length === 0 || readOnly) return;
    for (const n of [...doomed].reverse()) {
      const file = join(dir, segmentFileName(n));
      try {
        fs.unlinkSync(file);
      } catch (err) {
        throw ioError(file, undefined, 'removing a WAL segment during recovery', err);
      }
      deletedSegments.unshift(n);
    }
    try {
      await fs.fsyncDir(dir);
    } catch (err) {
      throw ioError(dir, undefined, 'syncing the WAL directory during recovery', err);
    }
  };
  const truncate = async (segment: number, file: string, from: number, to: number): Promise<void> => {
    if (readOnly) return;
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (err) {
      throw ioError(file, to, 'opening a WAL segment to cut its torn tail', err);
    }
    try {
      fs.ftruncateSync(fd, to);
      await fs.fsync(fd);
      fs.closeSync(fd);
    } catch (err) {
      closeQuietly(fs, fd);
      throw ioError(file, to, 'cutting the torn tail of a WAL segment', err);
    }
    truncated = { segment, file, from, to };
  };

  for (const [index, segment] of live.entries()) {
    const newest = index === live.length - 1;
    const file = join(dir, segmentFileName(segment));
    let data: Uint8Array;
    try {
      data = fs.readFileSync(file);
    } catch (err) {
      throw ioError(file, undefined, 'reading a WAL segment', err);
    }

    let header: SegmentHeader;
    try {
      header = decodeSegmentHeader(data, file);
    } catch (err) {
      // Only creation writes a header, and nothing is appended before it is fsynced: a newest
      // segment no longer than a header holds nothing that was ever acknowledged.
      if (newest && data.length <= SEGMENT_HEADER_SIZE && mode !== RecoveryMode.AbsoluteConsistency) {
        dropped.push({ segment, file, offset: 0, length: data.length, reason: (err as Error).message });
        await deleteSegments([segment]);
        break;
      }
      throw err;
    }
    if (!sameBytes(header.uuid, uuid)) {
      throw new StrataError(
        'FOREIGN_FILE',
        `${file}: segment belongs to database ${formatUuid(header.uuid)}, not ${options.uuid}; move it out of this database's directory`,
        { file, offset: 12 },
      );
    }
    if (header.segment !== segment) {
      throw corruption(`header says segment ${header.segment} but the file name says ${segment}; was the file renamed?`, file, 28);
    }
    if (header.firstLsn < previousFirstLsn || header.firstLsn <= maxLsn) {
      throw corruption(`segment starts at LSN ${header.firstLsn}, but LSN ${Math.max(maxLsn, previousFirstLsn)} came before it`, file, 36);
    }
    previousFirstLsn = header.firstLsn;
    segments.push(segment);

    const events = readSegmentRecords(data, SEGMENT_HEADER_SIZE);
    for (const [i, event] of events.entries()) {
      let damage: DamageEvent | undefined;
      let isTail = false;
      let batch: DecodedBatch | undefined;
      if (event.kind === 'unused') {
        if (newest) {
          await truncate(segment, file, data.length, event.offset);
          continue;
        }
        damage = { kind: 'damage', offset: event.offset, end: event.end, reason: 'zeroed space after the last record (preallocated space the writer cuts off before it starts a new segment)', hidesRecordStart: false };
      } else if (event.kind === 'record') {
        try {
          batch = decodeBatch(event.payload);
        } catch (err) {
          if (!(err instanceof MalformedBatch)) throw err;
          damage = { kind: 'damage', offset: event.offset, end: event.end, reason: `record passed its checksum but is malformed: ${err.message}`, hidesRecordStart: true };
        }
      } else {
        damage = event;
        isTail = newest && i === events.length - 1 && !event.hidesRecordStart;
      }

      if (batch !== undefined) {
        if (batch.firstLsn < header.firstLsn || batch.firstLsn <= maxLsn) {
          throw corruption(
            `record starts at LSN ${batch.firstLsn}, but ${batch.firstLsn <= maxLsn ? `LSN ${maxLsn} came before it` : `its segment starts at LSN ${header.firstLsn}`}`,
            file,
            event.offset,
          );
        }
        maxLsn = batch.firstLsn + batch.ops.length - 1;
        batches++;
        onBatch({ firstLsn: batch.firstLsn, ops: batch.ops, segment });
        continue;
      }
      if (damage === undefined) continue;

      const where = isTail ? 'torn tail' : 'damage';
      const fail = (): StrataError =>
        corruption(
          `${where} of ${damage.end - damage.offset} bytes in WAL segment ${segment}: ${damage.reason}. ` +
            (isTail ? 'Open with recovery "tolerate-corrupted-tail" to drop it' : 'Open with recovery "point-in-time" or "skip-any-corrupted" to recover around it, losing the damaged writes'),
          file,
          damage.offset,
        );
      if (mode === RecoveryMode.AbsoluteConsistency) throw fail();
      if (mode === RecoveryMode.TolerateCorruptedTail && !isTail) throw fail();
      if (mode === RecoveryMode.PointInTime) {
        dropped.push({ segment, file, offset: damage.offset, length: data.length - damage.offset, reason: damage.reason });
        stoppedAt = isTail ? null : { segment, offset: damage.offset };
        await deleteSegments(live.slice(index + 1));
        await truncate(segment, file, data.length, damage.offset);
        break;
      }
      dropped.push({ segment, file, offset: damage.offset, length: damage.end - damage.offset, reason: damage.reason });
      if (isTail) await truncate(segment, file, data.length, damage.offset);
    }
    if (stoppedAt !== null || deletedSegments.length > 0) break;
  }

  const lastSegment = segments.at(-1) ?? 0;
  return {
    maxLsn,
    segments,
    lastSegment,
    // Never below a segment recovery deleted: the manifest may already name it as live.
    nextSegment: Math.max(lastSegment + 1, fromSegment ?? 1, deletedSegments[0] ?? 0),
    batches,
    dropped,
    truncated,
    deletedSegments,
    stoppedAt,
  };
}
