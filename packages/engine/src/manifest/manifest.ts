/**
 * Reading and appending MANIFEST files (format in ./format.ts), and pointing CURRENT at one.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StrataError } from '../errors.js';
import { readAt, writeAll, writeAllOffThread, type FileSystem } from '@strata-db/vfs';
import { CURRENT_FILE, manifestFileName } from '../db/filenames.js';
import { writeFileDurably } from '../db/durable-file.js';
import type { VersionEdit } from '../version/version-edit.js';
import {
  MANIFEST_HEADER_SIZE,
  MANIFEST_MAGIC,
  MANIFEST_VERSION,
  RECORD_HEADER_SIZE,
  RECORD_TYPE_EDIT,
  decodeEdit,
  encodeEdit,
  encodeManifestHeader,
  encodeRecord,
} from './format.js';

/** An open manifest being appended to. */
export class ManifestWriter {
  private constructor(
    private readonly fs: FileSystem,
    readonly path: string,
    readonly fileNumber: number,
    private fd: number,
    private size: number,
  ) {}

  /** Creates a new manifest holding `snapshot` as its first record, fsynced (dir not yet). */
  static async create(fs: FileSystem, dir: string, fileNumber: number, snapshot: VersionEdit): Promise<ManifestWriter> {
    const path = join(dir, manifestFileName(fileNumber));
    const fd = fs.openSync(path, 'w');
    const w = new ManifestWriter(fs, path, fileNumber, fd, 0);
    try {
      w.writeAll(encodeManifestHeader());
      await w.append(snapshot);
    } catch (err) {
      w.close();
      throw err;
    }
    return w;
  }

  /** Reopens an existing manifest for appending at `validSize` (a torn tail is cut off). */
  static reopen(fs: FileSystem, path: string, fileNumber: number, validSize: number): ManifestWriter {
    const fd = fs.openSync(path, 'r+');
    if (fs.fstatSync(fd).size !== validSize) fs.ftruncateSync(fd, validSize);
    return new ManifestWriter(fs, path, fileNumber, fd, validSize);
  }

  get fileSize(): number {
    return this.size;
  }

  private writeAll(bytes: Uint8Array): void {
    writeAll(this.fs, this.fd, bytes, this.size, this.path);
    this.size += bytes.length;
  }

  /**
   * Appends one edit and fsyncs: when this resolves, the edit survives power loss. The write goes
   * through the thread pool when the layer can (`FileSystem.write`): a small write(2) to the
   * manifest slept up to 180 ms on the JS thread while the background worker wrote and fsynced
   * tables (engine README, "event-loop gaps"). Nothing else writes this file meanwhile: appends
   * come one at a time (VersionSet.logAndApply's chain), so `size` is not raced.
   */
  async append(edit: VersionEdit): Promise<void> {
    const record = encodeRecord(encodeEdit(edit));
    await writeAllOffThread(this.fs, this.fd, record, this.size, this.path);
    this.size += record.length;
    await this.fs.fdatasync(this.fd);
  }

  /**
   * Every record was fdatasynced before it was acknowledged, so a failing close(2) loses
   * nothing; the descriptor is released either way. It is handed to `onError` (the event sink)
   * rather than thrown: throwing would skip the rest of Database.close (tables, LOCK).
   */
  close(onError?: (err: unknown) => void): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      this.fs.closeSync(fd);
    } catch (err) {
      onError?.(err);
    }
  }
}

export interface ManifestContents {
  readonly edits: VersionEdit[];
  /** Where each edit's record starts in the file (same order as `edits`). */
  readonly offsets: number[];
  /** Bytes up to the end of the last whole record: where appending resumes. */
  readonly validSize: number;
}

/** Whether a whole, checksummed record starts at `pos`. */
function validRecordAt(buf: Buffer, pos: number): boolean {
  if (pos + RECORD_HEADER_SIZE > buf.length) return false;
  const end = pos + RECORD_HEADER_SIZE + buf.readUInt32LE(pos + 4);
  return end <= buf.length && buf[pos + 8] === RECORD_TYPE_EDIT && crc32(buf.subarray(pos + 4, end)) === buf.readUInt32LE(pos);
}

/**
 * Reads every edit of a manifest. A bad record with no valid record anywhere after it is a torn
 * tail — the trace of an append that a crash or power cut interrupted, which was never
 * acknowledged (logAndApply resolves only after the fsync) — and is dropped, whatever the
 * bytes there look like (zeros, garbage, a prefix). A bad record followed by a valid one is
 * damage in the middle: CORRUPTION.
 */
export function readManifest(fs: FileSystem, path: string): ManifestContents {
  const buf = Buffer.from(fs.readFileSync(path));
  checkHeader(buf, path);
  return readRecords(buf.subarray(MANIFEST_HEADER_SIZE), MANIFEST_HEADER_SIZE, path);
}

/**
 * The edits of a manifest from byte `from` (the `validSize` of an earlier read) to its end: what
 * a follower (db/follower.ts) reads of a manifest the writer keeps appending to. Reads only the
 * header and the new bytes. An incomplete last record is what an append in progress looks like
 * too: it is left for the next read (`validSize` stops before it).
 */
export function readManifestFrom(fs: FileSystem, path: string, from: number): ManifestContents {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const header = Buffer.from(readAt(fs, fd, 0, Math.min(size, MANIFEST_HEADER_SIZE)));
    checkHeader(header, path);
    const start = Math.max(from, MANIFEST_HEADER_SIZE);
    const rest = readAt(fs, fd, start, Math.max(0, size - start));
    return readRecords(Buffer.from(rest.buffer, rest.byteOffset, rest.length), start, path);
  } finally {
    fs.closeSync(fd);
  }
}

function checkHeader(buf: Buffer, path: string): void {
  if (buf.length < MANIFEST_HEADER_SIZE || !buf.subarray(0, 8).equals(MANIFEST_MAGIC)) {
    throw new StrataError('CORRUPTION', `${path} is not a Strata manifest (bad magic); restore the database from a backup`, { file: path, offset: 0 });
  }
  const version = buf.readUInt32LE(8);
  if (version !== MANIFEST_VERSION) {
    throw new StrataError('CORRUPTION', `${path} has manifest format ${version}; this build reads format ${MANIFEST_VERSION}`, { file: path, offset: 8 });
  }
}

/** The records of `buf`, the manifest's bytes from file offset `base` on (see readManifest). */
function readRecords(buf: Buffer, base: number, path: string): ManifestContents {
  const edits: VersionEdit[] = [];
  const offsets: number[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const bad = (why: string): never => {
      throw new StrataError('CORRUPTION', `${path}: ${why} at offset ${base + pos}; the manifest is damaged, restore the database from a backup`, { file: path, offset: base + pos });
    };
    if (!validRecordAt(buf, pos)) {
      for (let q = pos + 1; q + RECORD_HEADER_SIZE <= buf.length; q++) {
        if (validRecordAt(buf, q)) bad('damaged record followed by intact ones');
      }
      break; // torn tail
    }
    const end = pos + RECORD_HEADER_SIZE + buf.readUInt32LE(pos + 4);
    try {
      edits.push(decodeEdit(buf.subarray(pos + RECORD_HEADER_SIZE, end)));
      offsets.push(base + pos);
    } catch (err) {
      bad(`malformed edit (${(err as Error).message})`);
    }
    pos = end;
  }
  return { edits, offsets, validSize: base + pos };
}

export function readCurrent(fs: FileSystem, dir: string): { name: string; number: number } {
  const path = join(dir, CURRENT_FILE);
  const text = Buffer.from(fs.readFileSync(path)).toString('latin1');
  const m = /^MANIFEST-(\d+)\n$/.exec(text);
  if (!m) {
    throw new StrataError('CORRUPTION', `${path} does not name a manifest (${JSON.stringify(text.slice(0, 40))}); restore the database from a backup`, { file: path, offset: 0 });
  }
  return { name: `MANIFEST-${m[1]}`, number: Number(m[1]) };
}

/** Points CURRENT at manifest `n`: temp, fsync, rename, fsync directory. */
export async function setCurrent(fs: FileSystem, dir: string, n: number): Promise<void> {
  await writeFileDurably(fs, dir, CURRENT_FILE, Buffer.from(`${manifestFileName(n)}\n`, 'latin1'));
}
