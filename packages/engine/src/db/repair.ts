/**
 * `Database.repair(path)`: rebuilds a database whose manifest is lost or damaged from the tables
 * and WAL segments found in its directory, and reports what was kept and what was lost
 * (LevelDB's RepairDB is the model).
 *
 *   1. The directory must be provably Strata's (directory-owner.ts); the LOCK is taken, so an
 *      open database is LOCKED, not repaired under its owner.
 *   2. The database UUID: IDENTITY, else the one the WAL segment headers carry, else a new one.
 *   3. Tables: every N.sst is opened and each of its blocks checked (Table.verify); its key range,
 *      counts and sequence range come from its properties block. A table that fails is moved to
 *      lost/ (never deleted) and reported with the reason.
 *   4. WAL: every segment is read record by record (readSegmentFile); intact batches are kept
 *      with their ORIGINAL sequence numbers, damaged ranges reported. A segment of another
 *      database or without a readable header is moved to lost/. The kept batches — also those
 *      whose data a table already holds: a version is (key, seq), so a duplicate is the same
 *      version and reads and compaction see it once — are written, in sequence order, to one new
 *      segment after every old one; the manifest makes it the oldest live segment, so the old
 *      ones are never read again (the open below deletes them; damaged ones wait in lost/).
 *   5. A fresh manifest: every table in L0, logNumber = the new segment, lastSequence = the
 *      largest sequence number of any table or batch (a sequence number is never reused), next
 *      file number past every file seen. CURRENT points at it. Old manifests go to lost/.
 *   6. The database is opened (replaying the new segment into a table) and closed again: the
 *      report's figures are those of a database that opens. L0 reads take the first table (in
 *      maxSeq order) that holds a key, which is right when two tables with overlapping key ranges
 *      also have disjoint sequence ranges; tables that came from different levels may not (a
 *      compaction output spans old and new sequence numbers). Then the whole key space is
 *      compacted before the repair returns — compaction merges by (key, seq), whatever the
 *      placement — so no read of the repaired database can see an older version over a newer one.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { compareKeys } from '@strata-db/memtable';
import { Table } from '@strata-db/sstable-core';
import { type FileSystem } from '@strata-db/vfs';
import { listSegments, openWal, readSegmentFile, segmentFileName, type BatchOp } from '@strata-db/wal';
import { StrataError, toStrataError } from '../errors.js';
import { ManifestWriter, setCurrent } from '../manifest/manifest.js';
import { fileMetadataOf } from '../version/file-metadata.js';
import { VersionEdit } from '../version/version-edit.js';
import { inspectDirectory } from './directory-owner.js';
import { writeFileDurably } from './durable-file.js';
import { IDENTITY_FILE, LOST_DIRECTORY, parseFileName, tablePath } from './filenames.js';
import { readIdentity } from './identity.js';
import { DirectoryLock } from './lock.js';

export interface RepairedTable {
  readonly file: string;
  readonly fileNumber: number;
  readonly fileSize: number;
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
  /** Point entries (every version) and range tombstones. */
  readonly entryCount: number;
  /** Point entries that are Deletes. */
  readonly deleteCount: number;
  readonly tombstoneCount: number;
  /** The table's deletion trigger fired when it was written (compaction for deletions takes it). */
  readonly markedForCompaction: boolean;
  readonly minSeq: number;
  readonly maxSeq: number;
}

export interface LostFile {
  readonly file: string;
  readonly kind: 'table' | 'wal' | 'manifest';
  readonly reason: string;
  /** Where it was moved (under lost/), or undefined when only part of it was dropped. */
  readonly movedTo: string | undefined;
}

export interface RepairReport {
  readonly dir: string;
  /** Tables kept, all placed in L0 by the new manifest. */
  readonly tables: readonly RepairedTable[];
  /** Tables, WAL segments and manifests set aside as unusable (in lost/), with the reason. */
  readonly lost: readonly LostFile[];
  /** WAL segments read, and the intact write batches recovered from them. */
  readonly walSegments: readonly number[];
  readonly walRecords: number;
  /** Damaged WAL ranges that were not recovered. */
  readonly walDropped: readonly { readonly file: string; readonly offset: number; readonly length: number; readonly reason: string }[];
  /** The last sequence number of the repaired database. */
  readonly lastSequence: number;
  /** The manifest written. */
  readonly manifest: string;
  /** The database identity (`recovered` from a WAL segment or `created` when IDENTITY was missing). */
  readonly identity: { readonly uuid: string; readonly source: 'identity' | 'recovered' | 'created' };
  /** Whether tables with overlapping keys and sequence ranges made a full compaction necessary. */
  readonly compacted: boolean;
}

/** Opens the repaired database, compacting it when `compact`, and returns its last sequence number. */
export type ReopenRepaired = (compact: boolean) => Promise<number>;

export async function repairDatabase(fs: FileSystem, dir: string, reopen: ReopenRepaired): Promise<RepairReport> {
  const state = inspectDirectory(fs, dir); // NOT_A_DATABASE for anything not provably Strata's
  if (state.kind === 'missing' || state.kind === 'empty') {
    throw new StrataError('NOT_FOUND', `repair: no database at ${dir} (${state.kind === 'missing' ? 'the directory does not exist' : 'the directory is empty'})`, { file: dir });
  }
  const lock = DirectoryLock.acquire(fs, dir, true);
  let rebuilt: Omit<RepairReport, 'lastSequence' | 'compacted'> & { readonly unsafeL0: boolean };
  try {
    rebuilt = await rebuild(fs, dir);
  } finally {
    lock.release();
  }
  const { unsafeL0, ...report } = rebuilt;
  const lastSequence = await reopen(unsafeL0);
  return { ...report, lastSequence, compacted: unsafeL0 };
}

async function rebuild(fs: FileSystem, dir: string): Promise<Omit<RepairReport, 'lastSequence' | 'compacted'> & { readonly unsafeL0: boolean }> {
  const names = fs.readdirSync(dir).sort();
  const lost: LostFile[] = [];
  const setAside = (name: string, kind: LostFile['kind'], reason: string): void => {
    const lostDir = join(dir, LOST_DIRECTORY);
    fs.mkdirSync(lostDir, { recursive: true });
    const to = join(lostDir, name);
    fs.renameSync(join(dir, name), to);
    lost.push({ file: join(dir, name), kind, reason, movedTo: to });
  };
  let highestFileNumber = 1;

  // ---- identity ------------------------------------------------------------------------------
  const segmentNumbers = listSegments(dir, fs);
  const segments = segmentNumbers.map((n) => readSegmentFile(join(dir, segmentFileName(n)), fs));
  let uuid = readIdentity(fs, dir);
  let source: RepairReport['identity']['source'] = 'identity';
  if (uuid === undefined) {
    const fromWal = segments.map((s) => ('uuid' in s.header ? s.header.uuid : undefined)).find((u) => u !== undefined);
    uuid = fromWal ?? randomUUID();
    source = fromWal === undefined ? 'created' : 'recovered';
    await writeFileDurably(fs, dir, IDENTITY_FILE, Buffer.from(`${uuid}\n`, 'latin1'));
  }

  // ---- tables ----------------------------------------------------------------------------------
  const tables: RepairedTable[] = [];
  for (const name of names) {
    const p = parseFileName(name);
    if (p.kind === 'manifest') highestFileNumber = Math.max(highestFileNumber, p.number);
    if (p.kind !== 'table') continue;
    highestFileNumber = Math.max(highestFileNumber, p.number);
    const path = tablePath(dir, p.number);
    try {
      const table = Table.open(path, { fs });
      try {
        table.verify(); // every block's checksum, as LevelDB's repair scans each table
        const props = table.readProperties();
        if (props.entryCount + props.tombstoneCount === 0) throw new StrataError('CORRUPTION', `${path} holds no entries`, { file: path });
        tables.push({
          file: path,
          fileNumber: p.number,
          fileSize: table.fileSize,
          smallestKey: props.smallestKey,
          largestKey: props.largestKey,
          entryCount: props.entryCount,
          deleteCount: props.deleteCount,
          tombstoneCount: props.tombstoneCount,
          markedForCompaction: props.markedForCompaction,
          minSeq: props.minSeq,
          maxSeq: props.maxSeq,
        });
      } finally {
        table.close();
      }
    } catch (err) {
      setAside(name, 'table', toStrataError(err, `table ${path} is unreadable`, path).message);
    }
  }

  // ---- WAL -------------------------------------------------------------------------------------
  const batches: { firstLsn: number; ops: BatchOp[] }[] = [];
  const walDropped: { file: string; offset: number; length: number; reason: string }[] = [];
  const walSegments: number[] = [];
  segments.forEach((s, i) => {
    const n = segmentNumbers[i]!;
    const name = segmentFileName(n);
    if (!('uuid' in s.header)) {
      setAside(name, 'wal', `unreadable segment header: ${s.header.error}`);
      return;
    }
    if (s.header.uuid !== uuid) {
      setAside(name, 'wal', `segment of another database (${s.header.uuid}, this one is ${uuid})`);
      return;
    }
    walSegments.push(n);
    for (const item of s.items) {
      if (item.kind === 'batch') batches.push({ firstLsn: item.firstLsn, ops: item.ops });
      else walDropped.push({ file: s.file, offset: item.offset, length: item.end - item.offset, reason: item.reason });
    }
  });
  batches.sort((a, b) => a.firstLsn - b.firstLsn);
  const kept: typeof batches = [];
  for (const b of batches) {
    const prev = kept.at(-1);
    // Two intact records claiming one sequence number: the earlier-read copy wins (a duplicate
    // of the same batch, in practice: a segment recovery already copied).
    if (prev !== undefined && b.firstLsn <= prev.firstLsn + prev.ops.length - 1) continue;
    kept.push(b);
  }
  const maxTableSeq = tables.reduce((m, t) => Math.max(m, t.maxSeq), 0);
  const last = kept.at(-1);
  const lastSequence = Math.max(maxTableSeq, last === undefined ? 0 : last.firstLsn + last.ops.length - 1);

  const newSegment = (segmentNumbers.at(-1) ?? 0) + 1;
  const wal = await openWal(dir, { uuid, segment: newSegment, firstLsn: kept[0]?.firstLsn ?? lastSequence + 1, fs });
  try {
    for (const b of kept) await wal.append(b.ops, b.firstLsn);
  } finally {
    await wal.close(); // syncs the segment
  }

  // ---- manifest ------------------------------------------------------------------------------
  for (const name of names) {
    if (parseFileName(name).kind === 'manifest') setAside(name, 'manifest', 'replaced by the manifest repair rebuilt');
  }
  const manifestNumber = highestFileNumber + 1;
  const edit = new VersionEdit();
  edit.dbId = uuid;
  edit.logNumber = newSegment;
  edit.nextFileNumber = manifestNumber + 1;
  edit.lastSequence = lastSequence;
  for (const t of tables) edit.addFile(0, fileMetadataOf(t));
  const manifest = await ManifestWriter.create(fs, dir, manifestNumber, edit);
  manifest.close();
  await fs.fsyncDir(dir);
  await setCurrent(fs, dir, manifestNumber);
  if (lost.length > 0) await fs.fsyncDir(join(dir, LOST_DIRECTORY));

  return { dir, tables, lost, walSegments, walRecords: kept.length, walDropped, manifest: manifest.path, identity: { uuid, source }, unsafeL0: needsCompaction(tables) };
}

/**
 * Whether L0's first-hit rule could be wrong: two tables whose key ranges overlap and whose
 * sequence ranges intersect (the top of the file).
 */
export function needsCompaction(tables: readonly RepairedTable[]): boolean {
  const byStart = [...tables].sort((a, b) => compareKeys(a.smallestKey, b.smallestKey));
  for (let i = 0; i < byStart.length; i++) {
    const a = byStart[i]!;
    for (let j = i + 1; j < byStart.length && compareKeys(byStart[j]!.smallestKey, a.largestKey) <= 0; j++) {
      const b = byStart[j]!;
      if (a.minSeq <= b.maxSeq && b.minSeq <= a.maxSeq) return true;
    }
  }
  return false;
}
