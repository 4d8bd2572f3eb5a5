/**
 * Segment files in the database directory: their names, listing them, deleting obsolete ones. A segment is named by its number, zero-padded to six
 * digits so that names sort like numbers for the first million segments (`000007.wal`); beyond
 * that the name simply grows, and the WAL itself always sorts by the parsed number. Tables and
 * manifests share the directory (`000012.sst`, `MANIFEST-000003`); the `.wal` extension keeps the
 * WAL's own numbering apart from theirs.
 */
import { join } from 'node:path';
import { StrataError, ioError } from '@strata-db/errors';
import { nodeFileSystem } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';

const SEGMENT_NAME = /^(\d{6,})\.wal$/;

export function segmentFileName(segment: number): string {
  if (!Number.isSafeInteger(segment) || segment < 1) {
    throw new StrataError('INVALID_ARGUMENT', `segment number must be a safe integer ≥ 1, got ${segment}`);
  }
  return `${String(segment).padStart(6, '0')}.wal`;
}

/** The segment number a file name carries, or undefined when it is not a segment's name. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  const segment = Number(match[1]);
  return Number.isSafeInteger(segment) && segment >= 1 && segmentFileName(segment) === name ? segment : undefined;
}

/** The segment numbers present in `dir`, ascending. */
export function listSegments(dir: string, fs: WalFileSystem = nodeFileSystem): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new StrataError('NOT_FOUND', `${dir}: the WAL directory does not exist`, { file: dir, cause: err });
    }
    throw ioError(dir, undefined, 'listing the WAL directory', err);
  }
  const segments: number[] = [];
  for (const name of names) {
    const segment = parseSegmentFileName(name);
    if (segment !== undefined) segments.push(segment);
  }
  return segments.sort((a, b) => a - b);
}

/**
 * Deletes every segment numbered below `segment` and makes the deletions durable. The engine
 * passes the oldest segment the manifest still records as live, after the manifest edit that
 * retired the older ones is durable — so the active segment, which is never older than that, is
 * never removed. Returns the numbers deleted.
 */
export async function deleteSegmentsBefore(dir: string, segment: number, fs: WalFileSystem = nodeFileSystem): Promise<number[]> {
  if (!Number.isSafeInteger(segment) || segment < 1) {
    throw new StrataError('INVALID_ARGUMENT', `segment number must be a safe integer ≥ 1, got ${segment}`);
  }
  const doomed = listSegments(dir, fs).filter((n) => n < segment);
  for (const n of doomed) {
    const file = join(dir, segmentFileName(n));
    try {
      if (fs.unlink !== undefined) await fs.unlink(file);
      else fs.unlinkSync(file);
    } catch (err) {
      throw ioError(file, undefined, 'deleting an obsolete WAL segment', err);
    }
  }
  if (doomed.length > 0) {
    try {
      await fs.fsyncDir(dir);
    } catch (err) {
      throw ioError(dir, undefined, 'syncing the WAL directory after deleting segments', err);
    }
  }
  return doomed;
}
