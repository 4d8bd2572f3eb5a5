/**
 * Creating a new segment file durably. A new file must be fsynced, and its directory fsynced,
 * before anything refers to it (docs/design-rules.md#r11): otherwise a power loss could
 * keep the records the engine was told about while losing the directory entry that holds them.
 */
import { join } from 'node:path';
import { StrataError, ioError } from '@strata-db/errors';
import { closeQuietly, writeAll, writeAllOffThread } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';
import { encodeSegmentHeader } from './segment-header.js';
import { segmentFileName } from './segment-directory.js';

/**
 * Creates segment `segment` in `dir` with its header — and `zeros` after it, when given: space
 * preallocated for the first records (writer.ts), made durable by the same fsync as the header,
 * so it costs no sync of its own — fsyncs it and the directory, and returns the open descriptor
 * (positioned nowhere: the writer always writes at explicit offsets).
 * Refuses to overwrite an existing segment (EXISTS). On failure the descriptor is closed; a
 * partly written file may remain, which replay recognises as a torn newest segment.
 */
export async function createSegmentFile(fs: WalFileSystem, dir: string, uuid: Uint8Array, segment: number, firstLsn: number, zeros?: Uint8Array): Promise<number> {
  const file = join(dir, segmentFileName(segment));
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') {
      throw new StrataError('EXISTS', `${file}: segment ${segment} already exists; a new segment must take a number no segment has used`, { file, cause: err });
    }
    throw ioError(file, undefined, 'creating a WAL segment', err);
  }
  const header = encodeSegmentHeader({ uuid, segment, firstLsn });
  try {
    writeAll(fs, fd, header, 0, file);
  } catch (err) {
    closeQuietly(fs, fd);
    throw ioError(file, 0, 'writing a segment header', err);
  }
  if (zeros !== undefined) {
    try {
      // ≥ 128 KiB: off the JS thread when the layer can (as the writer's own preallocation).
      await writeAllOffThread(fs, fd, zeros, header.length, file);
    } catch (err) {
      closeQuietly(fs, fd);
      throw ioError(file, header.length, 'preallocating a new WAL segment', err);
    }
  }
  try {
    await fs.fsync(fd);
  } catch (err) {
    closeQuietly(fs, fd);
    throw ioError(file, undefined, 'fsyncing a new segment', err);
  }
  try {
    await fs.fsyncDir(dir);
  } catch (err) {
    closeQuietly(fs, fd);
    throw ioError(dir, undefined, 'fsyncing the WAL directory after creating a segment', err);
  }
  return fd;
}
