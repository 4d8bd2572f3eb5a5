/**
 * `db.verify()`: re-reads every live file from disk, bypassing every cache, and checks every
 * checksum in it — each block of each table (data, filter, range tombstones, properties,
 * meta-index, index, footer), each record of the live manifest, the CURRENT pointer, each record
 * of each live WAL segment. It reports what is damaged instead of stopping at the first damage,
 * so an operator learns the whole extent at once (which tables to restore, whether the log is
 * whole) while the database keeps serving.
 *
 * Nothing is written. The manifest is read strictly: recovery forgives a torn last record (an
 * append a crash interrupted, never acknowledged), but in a live manifest every record was
 * fsynced before it was used, so any bad byte is damage. The WAL is replayed with
 * 'absolute-consistency', which reports a torn tail instead of truncating it.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Table } from '@strata-db/sstable-core';
import { replay } from '@strata-db/wal';
import { readIdentity } from './db/identity.js';
import { CURRENT_FILE, manifestFileName, tablePath } from './db/filenames.js';
import { StrataError, toStrataError } from './errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { decodeEdit, MANIFEST_HEADER_SIZE, MANIFEST_MAGIC, MANIFEST_VERSION, RECORD_HEADER_SIZE, RECORD_TYPE_EDIT } from './manifest/format.js';
import type { Version } from './version/version.js';

export type VerifiedFileKind = 'table' | 'manifest' | 'current' | 'identity' | 'wal';

/** One damaged (or unreadable) file. */
export interface DamagedFile {
  readonly file: string;
  readonly kind: VerifiedFileKind;
  /** Where the first damage was found, when known. */
  readonly offset: number | undefined;
  /** CORRUPTION (a checksum or structure failed), IO_ERROR (the file could not be read), … */
  readonly code: string;
  readonly message: string;
}

export interface VerifyReport {
  /** True when nothing is damaged. */
  readonly ok: boolean;
  readonly tables: number;
  /** Table blocks whose checksum (and structure) was checked. */
  readonly tableBlocks: number;
  readonly tableBytes: number;
  readonly manifestRecords: number;
  readonly walSegments: number;
  readonly walBatches: number;
  readonly damaged: readonly DamagedFile[];
}

/** How far `verify` has got: table bytes checked of the live tables' total, after each table. */
export interface VerifyProgress {
  readonly tablesDone: number;
  readonly tables: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface VerifyOptions {
  /** Called after each table (and once before the first), e.g. to draw a progress bar. */
  readonly onProgress?: (progress: VerifyProgress) => void;
}

/** What verification needs from an open database. */
export interface VerifyTarget {
  readonly fs: FileSystem;
  readonly dir: string;
  /** The current Version, pinned by the caller for the duration (its files must not go away). */
  readonly version: Version;
  readonly manifestFileNumber: number;
  /**
   * Oldest live WAL segment (the manifest's logNumber), read when the WAL is checked: a flush
   * finishing meanwhile advances it and deletes the segments below.
   */
  readonly logNumber: () => number;
  readonly onProgress?: ((progress: VerifyProgress) => void) | undefined;
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function verifyFiles(t: VerifyTarget): Promise<VerifyReport> {
  const damaged: DamagedFile[] = [];
  const note = (kind: VerifiedFileKind, file: string, err: unknown): void => {
    const e = toStrataError(err, `verify ${file}`, file);
    damaged.push({ file: e.file ?? file, kind, offset: e.offset, code: e.code, message: e.message });
  };

  let tables = 0;
  let tableBlocks = 0;
  let tableBytes = 0;
  let bytesTotal = 0;
  let tableCount = 0;
  for (const { file } of t.version.allFiles()) {
    bytesTotal += file.fileSize;
    tableCount++;
  }
  let bytesDone = 0;
  t.onProgress?.({ tablesDone: 0, tables: tableCount, bytesDone, bytesTotal });
  for (let level = 0; level < t.version.numLevels; level++) {
    for (const f of t.version.files(level)) {
      const path = tablePath(t.dir, f.fileNumber);
      tables++;
      try {
        // A fresh reader: no table cache, no block cache — the bytes on disk are what is checked.
        const table = Table.open(path, { fs: t.fs });
        try {
          if (table.fileSize !== f.fileSize) {
            throw new StrataError('CORRUPTION', `${path} is ${table.fileSize} bytes; the manifest says ${f.fileSize}`, { file: path, offset: 0 });
          }
          const r = table.verify();
          tableBlocks += r.blocks;
          tableBytes += r.bytes;
        } finally {
          table.close();
        }
      } catch (err) {
        note('table', path, err);
      }
      bytesDone += f.fileSize;
      t.onProgress?.({ tablesDone: tables, tables: tableCount, bytesDone, bytesTotal });
      await yieldTurn(); // a large database must not freeze the event loop
    }
  }

  const manifestPath = join(t.dir, manifestFileName(t.manifestFileNumber));
  let manifestRecords = 0;
  try {
    manifestRecords = verifyManifest(t.fs, manifestPath);
  } catch (err) {
    note('manifest', manifestPath, err);
  }

  const currentPath = join(t.dir, CURRENT_FILE);
  try {
    const text = Buffer.from(t.fs.readFileSync(currentPath)).toString('latin1');
    const want = `${manifestFileName(t.manifestFileNumber)}\n`;
    if (text !== want) {
      throw new StrataError('CORRUPTION', `${currentPath} reads ${JSON.stringify(text)}; it should name the live manifest (${JSON.stringify(want)})`, {
        file: currentPath,
        offset: 0,
      });
    }
  } catch (err) {
    note('current', currentPath, err);
  }

  let uuid: string | undefined;
  const identityPath = join(t.dir, 'IDENTITY');
  try {
    uuid = readIdentity(t.fs, t.dir);
    if (uuid === undefined) throw new StrataError('CORRUPTION', `${identityPath} is missing`, { file: identityPath });
  } catch (err) {
    note('identity', identityPath, err);
  }

  let walSegments = 0;
  let walBatches = 0;
  if (uuid !== undefined) {
    // A background flush may advance logNumber and delete the segments below it while the WAL
    // is being read; an error seen across such a change is a race, not damage: read again.
    for (let attempt = 0; ; attempt++) {
      const from = t.logNumber();
      let batches = 0;
      try {
        const r = await replay(t.dir, { uuid, recovery: 'absolute-consistency', readOnly: true, fs: t.fs, ...(from > 0 ? { fromSegment: from } : {}) }, () => {
          batches++;
        });
        walSegments = r.segments.length;
        walBatches = batches;
        break;
      } catch (err) {
        if (t.logNumber() !== from && attempt < 5) continue;
        const e = toStrataError(err, 'verify the WAL');
        note('wal', e.file ?? t.dir, err);
        break;
      }
    }
  }

  return { ok: damaged.length === 0, tables, tableBlocks, tableBytes, manifestRecords, walSegments, walBatches, damaged };
}

/** Checks every record of a manifest (header, CRC, type, edit syntax); returns how many. */
function verifyManifest(fs: FileSystem, path: string): number {
  const buf = Buffer.from(fs.readFileSync(path));
  const bad = (offset: number, why: string): never => {
    throw new StrataError('CORRUPTION', `${path}: ${why} at offset ${offset}`, { file: path, offset });
  };
  if (buf.length < MANIFEST_HEADER_SIZE || !buf.subarray(0, 8).equals(MANIFEST_MAGIC)) bad(0, 'bad magic');
  if (buf.readUInt32LE(8) !== MANIFEST_VERSION) bad(8, `unknown format version ${buf.readUInt32LE(8)}`);
  let pos = MANIFEST_HEADER_SIZE;
  let records = 0;
  while (pos < buf.length) {
    if (pos + RECORD_HEADER_SIZE > buf.length) bad(pos, 'truncated record header');
    const end = pos + RECORD_HEADER_SIZE + buf.readUInt32LE(pos + 4);
    if (end > buf.length) bad(pos, 'record runs past the end of the file');
    if (crc32(buf.subarray(pos + 4, end)) !== buf.readUInt32LE(pos)) bad(pos, 'record checksum mismatch');
    if (buf[pos + 8] !== RECORD_TYPE_EDIT) bad(pos, `unknown record type ${buf[pos + 8]}`);
    try {
      decodeEdit(buf.subarray(pos + RECORD_HEADER_SIZE, end));
    } catch (err) {
      bad(pos, `malformed edit (${(err as Error).message})`);
    }
    records++;
    pos = end;
  }
  return records;
}
