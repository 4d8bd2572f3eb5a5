/**
 * The VersionSet: the current Version, the file-number counter, the last sequence number and
 * the manifest that makes them durable.
 *
 * Everything that changes which tables exist (flush, compaction) goes through
 * `logAndApply(edit)`, which
 *   1. builds the next Version from the current one plus the edit (validating level invariants
 *      BEFORE anything is written, so a buggy edit is refused instead of recorded),
 *   2. appends the edit to the MANIFEST and fsyncs it (or, when the manifest has grown past
 *      maxManifestFileSize, writes a fresh manifest holding a full snapshot and re-points
 *      CURRENT at it: temp, fsync, rename, fsync directory),
 *   3. installs the new Version as current.
 * Calls are serialized (a promise chain), so edits are applied in call order.
 *
 * File lifetime: every live Version (current, or pinned by a reader via ref()) counts as a
 * holder of each file it lists. When a Version is unreferenced, the files only it held are
 * deleted — that can only be files that a durable edit has dropped, because the current
 * Version always holds its own files. Files being written (flush/compaction outputs) are not
 * in any Version and are never touched by this collection; orphans left by a crash are removed
 * at open (`deleteOrphans`).
 *
 * If a manifest write fails, the set is poisoned: no later edit is attempted (the manifest's
 * state after a failed fsync is unknown), and the engine turns read-only. Reopening recovers.
 */
import { join } from 'node:path';
import { StrataAssertionError } from '@strata-db/errors';
import { compareKeys } from '@strata-db/memtable';
import { StrataError, toStrataError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import type { FileSystem } from '@strata-db/vfs';
import { CURRENT_FILE, manifestFileName, parseFileName, tablePath } from '../db/filenames.js';
import { ManifestWriter, readCurrent, readManifest, setCurrent } from '../manifest/manifest.js';
import { TableRecord, recordBytes, type FileMetadata } from './file-metadata.js';
import { Version, compareBySmallest, compareL0 } from './version.js';
import { VersionEdit } from './version-edit.js';

export interface VersionSetOptions {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly numLevels: number;
  readonly maxManifestFileSize: number;
  /** Called after a table file is deleted (the table cache closes it). */
  readonly onFileDeleted?: (fileNumber: number) => void;
  /** table-deleted events and survived failures (default: dropped). */
  readonly events?: EventSink;
  /**
   * Whether a table no live Version lists any more is deleted (default true). False for a
   * read-only database (db/follower.ts): the writer owns the files; such a table is only
   * closed (`onFileDeleted`).
   */
  readonly deletesObsoleteFiles?: boolean;
}

/** What a manifest's edits describe: what `load` rebuilds and a follower (db/follower.ts) keeps up to date. */
export interface ManifestState {
  readonly levels: readonly (readonly FileMetadata[])[];
  readonly logNumber: number;
  readonly nextFileNumber: number;
  readonly lastSequence: number;
  /** The database UUID of the manifest's first record, if it had one. */
  readonly dbId: string | undefined;
}

export function emptyManifestState(numLevels: number): ManifestState {
  return { levels: emptyLevels(numLevels), logNumber: 0, nextFileNumber: 2, lastSequence: 0, dbId: undefined };
}

/**
 * `state` with `edits` (read from the manifest at `path`) applied; `state` is not changed.
 * CORRUPTION for an edit that does not apply (a file deleted that the level does not hold,
 * overlap in L1+).
 */
export function applyManifestEdits(state: ManifestState, edits: readonly VersionEdit[], numLevels: number, path: string): ManifestState {
  let levels = state.levels.map((l) => [...l]);
  let { logNumber, nextFileNumber, lastSequence, dbId } = state;
  for (const e of edits) {
    if (e.dbId !== undefined) dbId = e.dbId;
    if (e.logNumber !== undefined) logNumber = e.logNumber;
    if (e.nextFileNumber !== undefined) nextFileNumber = e.nextFileNumber;
    if (e.lastSequence !== undefined) lastSequence = e.lastSequence;
    levels = applyEdit(levels, e, numLevels, (why) => {
      throw new StrataError('CORRUPTION', `${path}: an edit ${why}; restore the database from a backup`, { file: path });
    });
  }
  return { levels, logNumber, nextFileNumber, lastSequence, dbId };
}

export class VersionSet {
  private currentVersion: Version;
  private manifest: ManifestWriter | undefined;
  /** The manifest `load` read, when none is open for appending (a read-only open). */
  private loadedManifest: { readonly fileNumber: number; readonly size: number } | undefined;
  private nextFile = 2;
  /** Oldest WAL segment still needed (0: none yet). Set by recovery and by applied edits only. */
  logNumber = 0;
  /**
   * Highest sequence number assigned so far. Written by recovery (here and in open.ts, before
   * the database accepts writes) and then only by the write path, through
   * `DbCore.assignSequences`. Never recorded: a number handed to a batch whose WAL write had not
   * completed when the process died belongs to nothing durable.
   */
  lastSequence = 0;
  /**
   * Highest sequence number whose batch (and every earlier one) is in the WAL and applied to
   * the memtable: what new reads see. Set by recovery and then only by `DbCore.publishSequence`
   * and a follower's catch-up; never goes back, never passes `lastSequence`.
   *
   * What an edit records. Invariant (checked by `logAndApply`): a table an edit adds holds no
   * number past this one — the write path freezes a memtable only when no group is in flight,
   * and never after a WAL failure (write/write-path.ts), so a frozen memtable, and the table its
   * flush writes, holds only published numbers. An edit that
   * breaks it is refused: recording this would let a reopen hand the table's numbers out again,
   * recording the table's would vouch for a batch whose WAL write never completed.
   * Manifests written before that write order did record less than their tables hold (a batch
   * whose WAL write failed stayed in the memtable and went into its table: io-errors.test.ts,
   * STRATA_SEED=3431955137), so `load` takes the newest sequence of every listed table into
   * account. Not recording numbers merely handed out makes the reopened sequence exactly the
   * last one written after a crash (compaction-crash.test.ts).
   */
  visibleSequence = 0;
  dbId = '';
  private chain: Promise<unknown> = Promise.resolve();
  private poisoned: StrataError | undefined;
  /** fileNumber → number of live Versions listing it. */
  private readonly fileRefs = new Map<number, number>();
  /** Bytes of the records (recordBytes) of the files in `fileRefs`, each counted once. */
  private recordBytes = 0;
  private readonly live = new Set<Version>();
  /** Table deletions in flight (FileSystem.unlink), awaited by settleDeletions(). */
  private readonly deleting = new Set<Promise<void>>();

  private readonly events: EventSink;

  constructor(private readonly opts: VersionSetOptions) {
    this.events = opts.events ?? noEvents;
    this.currentVersion = this.adopt(new Version(emptyLevels(opts.numLevels)));
  }

  get current(): Version {
    return this.currentVersion;
  }

  /** The current Version with a reference taken: the caller must `unref()` it when done. */
  pinCurrent(): Version {
    this.currentVersion.ref();
    return this.currentVersion;
  }

  get nextFileNumber(): number {
    return this.nextFile;
  }

  /** A fresh number for a table (or manifest). Never reused, even if the file is abandoned. */
  newFileNumber(): number {
    return this.nextFile++;
  }

  get manifestFileNumber(): number {
    return this.manifest?.fileNumber ?? this.loadedManifest?.fileNumber ?? 0;
  }

  get manifestSize(): number {
    return this.manifest?.fileSize ?? this.loadedManifest?.size ?? 0;
  }

  /** Whether a manifest write has failed (the engine is then read-only). */
  get failed(): StrataError | undefined {
    return this.poisoned;
  }

  /** Creates a brand-new database's first manifest and CURRENT. */
  async create(dbId: string): Promise<void> {
    this.dbId = dbId;
    await this.writeNewManifest(this.currentVersion);
  }

  /**
   * Loads CURRENT → manifest → Version. Then starts a fresh manifest holding a snapshot (which
   * also drops a torn tail and keeps manifests compact across restarts).
   */
  async recover(expectedDbId: string): Promise<void> {
    this.load(expectedDbId);
    await this.writeNewManifest(this.currentVersion);
  }

  /**
   * Loads CURRENT → manifest → Version and writes nothing: what a read-only open uses (it
   * never calls logAndApply). Checks what `recover` checks.
   */
  load(expectedDbId: string): void {
    const { fs, dir } = this.opts;
    const cur = readCurrent(fs, dir);
    const path = join(dir, cur.name);
    if (!fs.existsSync(path)) {
      throw new StrataError('CORRUPTION', `${join(dir, CURRENT_FILE)} names ${cur.name}, which does not exist; restore the database from a backup`, { file: path });
    }
    const { edits, validSize } = readManifest(fs, path);
    const droppedTail = validSize < fs.readFileSync(path).length;
    if (edits.length === 0) {
      throw new StrataError('CORRUPTION', `${path} holds no version record; restore the database from a backup`, { file: path, offset: 0 });
    }
    const state = applyManifestEdits(emptyManifestState(this.opts.numLevels), edits, this.opts.numLevels, path);
    this.logNumber = state.logNumber;
    this.nextFile = state.nextFileNumber;
    const levels = state.levels;
    this.lastSequence = Math.max(state.lastSequence, newestSequenceIn(levels.flat()));
    this.visibleSequence = this.lastSequence;
    const sawDbId = state.dbId;
    if (sawDbId !== undefined && sawDbId !== expectedDbId) {
      throw new StrataError('FOREIGN_FILE', `${path} belongs to database ${sawDbId}, but IDENTITY says ${expectedDbId}; the directory mixes two databases`, { file: path });
    }
    // Every table the Version lists must exist: tables are made durable before an edit names
    // them, so a missing one means the manifest is wrong — typically a damaged last record that
    // was taken for a torn append and dropped, undoing a compaction whose inputs are gone.
    for (const l of levels) {
      for (const f of l) {
        const t = tablePath(dir, f.fileNumber);
        if (!fs.existsSync(t)) {
          throw new StrataError(
            'CORRUPTION',
            `${path} lists table ${t}, which does not exist${droppedTail ? ' (an unreadable last record of the manifest was dropped as a torn write: it was probably damaged instead)' : ''}; restore the database from a backup`,
            { file: path },
          );
        }
      }
    }
    this.dbId = expectedDbId;
    // The manifest's own number must never be handed out again.
    this.nextFile = Math.max(this.nextFile, cur.number + 1);
    for (const l of levels) for (const f of l) this.nextFile = Math.max(this.nextFile, f.fileNumber + 1);
    // Nor any number a file in the directory carries (LevelDB marks every number it finds the
    // same way). A table that a job of a process that died was writing is an orphan, numbered
    // past what the manifest recorded; deleteOrphans removes it, but only after recovery's own
    // flush has made a table. Given that number, the flush would open the orphan's path with
    // O_TRUNC — the same inode, shared with whatever of the dead process's I/O is still landing
    // — rather than a file of its own.
    for (const name of fs.readdirSync(dir)) {
      const p = parseFileName(name);
      if (p.kind === 'table' || p.kind === 'manifest') this.nextFile = Math.max(this.nextFile, p.number + 1);
    }
    this.install(new Version(levels));
    this.loadedManifest = { fileNumber: cur.number, size: validSize };
  }

  /**
   * A follower's catch-up (db/follower.ts): installs the Version of `state`, read from manifest
   * `manifest` up to its byte `size`, as current. Nothing is written; the tables it no longer
   * lists are closed once no reader holds them, never deleted (deletesObsoleteFiles is false).
   */
  installFollowed(state: ManifestState, manifest: { readonly fileNumber: number; readonly size: number }): Version {
    this.logNumber = state.logNumber;
    this.nextFile = Math.max(this.nextFile, state.nextFileNumber);
    this.lastSequence = Math.max(this.lastSequence, state.lastSequence);
    if (state.dbId !== undefined) this.dbId = state.dbId;
    this.loadedManifest = manifest;
    this.install(new Version(state.levels));
    return this.currentVersion;
  }

  /**
   * Records `edit` durably and installs the resulting Version. Resolves once the edit is in the
   * manifest and fsynced; rejects (and poisons the set) if that fails. `onInstalled` runs
   * synchronously right after the new Version becomes current.
   */
  logAndApply(edit: VersionEdit, onInstalled?: (v: Version) => void): Promise<Version> {
    const run = async (): Promise<Version> => {
      if (this.poisoned) throw this.poisoned;
      if (edit.logNumber !== undefined && edit.logNumber < this.logNumber) {
        throw new StrataAssertionError(`VersionEdit.logNumber ${edit.logNumber} goes back from ${this.logNumber}`);
      }
      edit.nextFileNumber = this.nextFile;
      const newestAdded = newestSequenceIn(edit.added.map((a) => a.file));
      if (newestAdded > this.visibleSequence) {
        throw new StrataAssertionError(`flush or compaction made an edit adding a table that holds sequence ${newestAdded}, past the last one published (${this.visibleSequence}); see visibleSequence in version-set.ts`);
      }
      edit.lastSequence = Math.max(edit.lastSequence ?? 0, this.visibleSequence);
      // Validate first: a broken edit (overlap in L1+, unknown file) must not reach the manifest.
      const levels = applyEdit(this.currentVersion.levels.map((l) => [...l]), edit, this.opts.numLevels, (why) => {
        throw new StrataAssertionError(`flush or compaction made an edit that ${why}`);
      });
      const next = new Version(levels);
      try {
        if (this.manifest !== undefined && this.manifest.fileSize < this.opts.maxManifestFileSize) {
          await this.manifest.append(edit);
        } else {
          if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
          await this.writeNewManifest(next);
        }
      } catch (err) {
        this.poisoned = toStrataError(err, 'writing the manifest failed; the database is read-only until reopened', this.manifest?.path);
        throw this.poisoned;
      }
      if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
      this.lastSequence = Math.max(this.lastSequence, edit.lastSequence);
      this.install(next);
      // Same synchronous step as the install: callers retire what the edit replaced (the
      // flushed memtable) without a moment where a reader could miss data.
      onInstalled?.(next);
      return next;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Waits for every queued edit. */
  async drain(): Promise<void> {
    await this.chain;
  }

  /** A snapshot edit describing `v` completely: the first record of a new manifest (here, or a checkpoint's). */
  snapshotEdit(v: Version): VersionEdit {
    const e = new VersionEdit();
    e.dbId = this.dbId;
    e.logNumber = this.logNumber;
    e.nextFileNumber = this.nextFile;
    e.lastSequence = Math.max(this.visibleSequence, newestSequenceIn([...v.allFiles()].map((a) => a.file)));
    for (const { level, file } of v.allFiles()) e.addFile(level, file);
    return e;
  }

  private async writeNewManifest(v: Version): Promise<void> {
    const { fs, dir } = this.opts;
    const n = this.newFileNumber();
    const snap = this.snapshotEdit(v);
    const writer = await ManifestWriter.create(fs, dir, n, snap);
    try {
      // The new manifest (fsynced by create) gets a durable directory entry before CURRENT
      // names it: the rule for every new file, not left to how a file system orders its journal.
      await fs.fsyncDir(dir);
      await setCurrent(fs, dir, n);
    } catch (err) {
      writer.close(this.closeFailed(writer.path));
      throw err;
    }
    const old = this.manifest;
    this.manifest = writer;
    if (old !== undefined) {
      old.close(this.closeFailed(old.path));
      // CURRENT no longer names it (durably, after setCurrent's directory fsync).
      try {
        fs.unlinkSync(old.path);
      } catch (err) {
        this.events.warn(`deleting the old manifest ${old.path} failed (it is removed at the next open)`, err);
      }
    }
  }

  private adopt(v: Version): Version {
    v.ref();
    this.live.add(v);
    for (const { file } of v.allFiles()) {
      const n = this.fileRefs.get(file.fileNumber) ?? 0;
      this.fileRefs.set(file.fileNumber, n + 1);
      if (n === 0) this.recordBytes += recordBytes(file);
    }
    v.onUnreferenced = (dead) => {
      this.release(dead);
    };
    return v;
  }

  private install(v: Version): void {
    const old = this.currentVersion;
    this.currentVersion = this.adopt(v);
    old.unref();
  }

  private release(v: Version): void {
    if (!this.live.delete(v)) return;
    for (const { file } of v.allFiles()) {
      const n = (this.fileRefs.get(file.fileNumber) ?? 1) - 1;
      if (n > 0) {
        this.fileRefs.set(file.fileNumber, n);
        continue;
      }
      this.fileRefs.delete(file.fileNumber);
      this.recordBytes -= recordBytes(file);
      this.opts.onFileDeleted?.(file.fileNumber);
      if (this.opts.deletesObsoleteFiles !== false) this.deleteTable(file.fileNumber);
    }
  }

  /**
   * Deletes an obsolete table. Off the JS thread when the file layer can (a compaction releases
   * all its inputs in one step: measured 10–48 ms per unlinkSync of a 2–4 MiB table on a busy
   * disk); a failure leaves an orphan, removed at the next open.
   */
  private deleteTable(fileNumber: number): void {
    const fs = this.opts.fs;
    const path = tablePath(this.opts.dir, fileNumber);
    const done = (err?: unknown): void => {
      // A table not deleted now is an orphan, removed at the next open: reported, not fatal.
      this.events.emit(err === undefined ? { type: 'table-deleted', fileNumber } : { type: 'table-deleted', fileNumber, error: toStrataError(err, `deleting obsolete table ${path} failed`, path) });
    };
    if (fs.unlink !== undefined) {
      const p = fs.unlink(path).then(
        () => {
          done();
        },
        (err: unknown) => {
          done(err);
        },
      );
      this.deleting.add(p);
      void p.finally(() => this.deleting.delete(p));
      return;
    }
    try {
      fs.unlinkSync(path);
    } catch (err) {
      done(err);
      return;
    }
    done();
  }

  /** Resolves when every table deletion started so far has completed (close waits for it). */
  async settleDeletions(): Promise<void> {
    while (this.deleting.size > 0) await Promise.all([...this.deleting]);
  }

  /** Whether any live Version lists the table. */
  isLive(fileNumber: number): boolean {
    return this.fileRefs.has(fileNumber);
  }

  /**
   * Bytes of memory the live Versions take: their files' records (recordBytes, once per
   * file however many Versions list it; FILE_REF_BYTES for its entry in `fileRefs`), and per
   * Version its level arrays and point-read search arrays (Version.bytes). It grows with the
   * number of tables, outside every cache's bound: ~0.8 KB a table (in stats().memory.tableRecords).
   */
  get memoryBytes(): number {
    let n = this.recordBytes + FILE_REF_BYTES * this.fileRefs.size;
    for (const v of this.live) n += v.bytes;
    return n;
  }

  /** Number of Versions alive (current + pinned by readers). */
  get liveVersionCount(): number {
    return this.live.size;
  }

  /**
   * Tables that the current Version no longer lists but an older Version, pinned by an iterator
   * or a snapshot's reader, still does: the disk a long-lived reader holds. They are deleted
   * when the last such Version is released.
   */
  pinnedObsoleteTables(): { files: number; bytes: number } {
    const current = this.currentVersion;
    const inCurrent = new Set<number>();
    for (const { file } of current.allFiles()) inCurrent.add(file.fileNumber);
    const seen = new Set<number>();
    let bytes = 0;
    for (const v of this.live) {
      if (v === current) continue;
      for (const { file } of v.allFiles()) {
        if (inCurrent.has(file.fileNumber) || seen.has(file.fileNumber)) continue;
        seen.add(file.fileNumber);
        bytes += file.fileSize;
      }
    }
    return { files: seen.size, bytes };
  }

  /**
   * At open, before any flush or compaction runs: removes tables no Version lists, manifests
   * other than the current one, and leftover temporaries. WAL segments are the WAL's business.
   */
  deleteOrphans(): string[] {
    const { fs, dir } = this.opts;
    const removed: string[] = [];
    for (const name of fs.readdirSync(dir)) {
      const p = parseFileName(name);
      const orphan =
        (p.kind === 'table' && !this.fileRefs.has(p.number)) ||
        (p.kind === 'manifest' && name !== manifestFileName(this.manifestFileNumber)) ||
        p.kind === 'temp';
      if (!orphan) continue;
      try {
        fs.unlinkSync(join(dir, name));
        removed.push(name);
      } catch (err) {
        this.events.warn(`removing the leftover file ${join(dir, name)} failed (tried again at the next open)`, err);
      }
    }
    return removed;
  }

  close(): void {
    this.manifest?.close(this.closeFailed(this.manifest.path));
    this.manifest = undefined;
  }

  private closeFailed(path: string): (err: unknown) => void {
    return (err) => {
      this.events.warn(`closing the manifest ${path} failed (every record was already synced)`, err);
    };
  }
}

/** A `fileRefs` entry (a Map's entry: key, value, chain link, bucket), bytes. */
const FILE_REF_BYTES = 32;

function emptyLevels(n: number): FileMetadata[][] {
  return Array.from({ length: n }, () => []);
}

/**
 * Applies an edit to (copied) levels, checking the level invariants; calls `broken` (which
 * throws) with what an edit breaks. Read from the manifest, such an edit is corruption; made by
 * flush or compaction, it is a bug — the caller says which.
 */
function applyEdit(levels: FileMetadata[][], edit: VersionEdit, numLevels: number, broken: (why: string) => never): FileMetadata[][] {
  for (const d of edit.deleted) {
    const files = levels[d.level];
    const i = files?.findIndex((f) => f.fileNumber === d.fileNumber) ?? -1;
    if (files === undefined || i < 0) broken(`deletes file ${d.fileNumber} from L${d.level}, which does not hold it`);
    files.splice(i, 1);
  }
  const touched = new Set<number>();
  for (const { level, file } of edit.added) {
    if (level < 0 || level >= numLevels) broken(`adds file ${file.fileNumber} to L${level}; levels are 0..${numLevels - 1}`);
    if (compareKeys(file.smallestKey, file.largestKey) > 0) broken(`adds file ${file.fileNumber} with smallestKey > largestKey`);
    // The version set's own compact record (file-metadata.ts): not the edit's object, whose keys
    // have an ArrayBuffer each (a worker's structured clone) or view a whole manifest (load).
    levels[level]!.push(TableRecord.of(file));
    touched.add(level);
  }
  for (const level of touched) {
    const files = levels[level]!;
    if (level === 0) {
      files.sort(compareL0);
      continue;
    }
    files.sort(compareBySmallest);
    for (let i = 1; i < files.length; i++) {
      if (compareKeys(files[i - 1]!.largestKey, files[i]!.smallestKey) >= 0) {
        broken(`makes files ${files[i - 1]!.fileNumber} and ${files[i]!.fileNumber} overlap in L${level}`);
      }
    }
  }
  return levels;
}

/** The newest sequence number in any of `files` (0 for none). */
function newestSequenceIn(files: readonly FileMetadata[]): number {
  let newest = 0;
  for (const f of files) if (f.maxSeq > newest) newest = f.maxSeq;
  return newest;
}
