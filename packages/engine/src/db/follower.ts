/**
 * The follower: a read-only database that catches up with the process writing the same
 * directory (RocksDB's secondary instance, TryCatchUpWithPrimary). Every read-only open is one:
 * the open is its first catch-up, `db.catchUp()` each later one, and `followInterval` runs them
 * on a timer.
 *
 * What a catch-up reads, incrementally:
 *   - the manifest: CURRENT, then the records appended since the last read (from the byte where
 *     it stopped), or the whole manifest CURRENT names now if the writer started a new one;
 *   - the WAL: every segment from the manifest's logNumber on, each from the end of the last
 *     record read from it. One memtable per segment, as the writer had: when the logNumber moves
 *     past a segment, its memtable is dropped in the same step as the Version holding its table
 *     is installed.
 *
 * Consistency: what a catch-up installs is a prefix of the writer's sequence. The writer makes
 * a segment's data durable in a table before an edit moves logNumber past it, and appends WAL
 * records in sequence order, finishing a segment before it creates the next one. So the tables
 * of a Version hold everything older than the first record of segment logNumber, and reading
 * the segments from there on, in order — the segment list taken BEFORE the reads, so that every
 * segment but the newest listed is complete when read — gives every record up to the newest
 * one read, with no hole. The sequence number made visible is the largest of those records and
 * the tables' (never the manifest's lastSequence: the writer records numbers handed out to
 * writes whose WAL record may not be written yet). An incomplete record at the end of the newest
 * segment is an append in progress: it is read next time.
 *
 * Races with the writer: between two of our reads the writer may install an edit and delete the
 * WAL segments or tables that edit made obsolete, or start a new manifest and delete the old.
 * Each such step leaves a trace we check: a table or segment we need is gone only if the
 * manifest moved on since we read it. Then the manifest is read again (from where we stopped)
 * and the step repeated — progress, not a blind retry; without that trace a missing file is
 * CORRUPTION. Nothing read is thrown away: records already applied stay (a memtable holds
 * nothing above the visible sequence that readers could see), and the new state becomes visible
 * in one synchronous step at the end (VersionSet.installFollowed + DbCore.installFollowed).
 *
 * Tables the writer deletes while this database still reads them: every table of a Version is
 * opened before the Version is installed, and the open descriptor keeps the file's bytes
 * readable after the writer unlinks it. Only when more tables are live than maxOpenFiles allows
 * descriptors can one be closed and its file be gone when it is read again: that read — a get,
 * a getMany or an iterator's step — fails with NOT_FOUND saying so (`explainMissingTable`, given
 * to DbCore.readFailure, which every read path asks), never returns other data; catchUp() and
 * read again, or raise maxOpenFiles. A follower's explicit snapshots end at a catch-up that installs a
 * compaction: the writer's compaction keeps only the versions ITS snapshots need, so a read at an
 * older follower snapshot could miss a version; such a read is refused (INVALID_ARGUMENT), never
 * answered wrongly. Iterators keep the Version and memtables they started with.
 */
import { join } from 'node:path';
import { Memtable, type FrozenMemtable } from '@strata-db/memtable';
import { listSegments, readSegmentFrom, segmentFileName } from '@strata-db/wal';
import { StrataError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { readCurrent, readManifestFrom } from '../manifest/manifest.js';
import type { TableCache } from '../version/table-cache.js';
import { applyManifestEdits, emptyManifestState, type ManifestState, type VersionSet } from '../version/version-set.js';
import type { DbCore } from './core.js';
import { CURRENT_FILE, manifestFileName, tablePath } from './filenames.js';

/** What one catch-up did. */
export interface CatchUpResult {
  /** Every write up to this sequence number is visible now (and nothing after it). */
  readonly sequence: number;
  /** Manifest edits and WAL batches read by this catch-up. */
  readonly manifestEdits: number;
  readonly walBatches: number;
  /** Whether the writer's flushes or compactions changed the tables (a new Version installed). */
  readonly tablesChanged: boolean;
}

/** One WAL segment being followed. Fields are the follower's alone. */
interface SegmentTail {
  readonly segment: number;
  /** Where the next read starts: the end of the last record applied. */
  offset: number;
  readonly mem: Memtable;
  /** Largest LSN applied (0: none yet). */
  maxLsn: number;
  /** Read after a newer segment existed: the writer finished it, it will not grow. */
  complete: boolean;
  /** An incomplete record at the end (an append in progress, or a torn tail): reported by the open. */
  tail: { readonly offset: number; readonly length: number; readonly reason: string } | undefined;
}

/** The manifest as far as it was read. */
interface ManifestPosition {
  readonly fileNumber: number;
  /** Bytes read: the end of the last whole record. */
  readonly size: number;
}

/** A manifest or WAL step found a file gone; worth repeating only if the manifest moved on. */
class WriterMovedOn extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

/** Rounds of "the writer moved on, read again" one catch-up accepts before it gives up. */
const MAX_ROUNDS = 1000;

const yieldTurn = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

export interface OpenRecoveryFigures {
  readonly walBatches: number;
  readonly walSegments: readonly number[];
  readonly walDropped: readonly { readonly file: string; readonly offset: number; readonly length: number; readonly reason: string }[];
}

export class Follower {
  /** The manifest state of the installed Version, and how far the manifest was read for it. */
  private installed: ManifestState;
  private position: ManifestPosition | undefined;
  /** Segments ≥ the installed logNumber, and newer ones read since. Ascending by number. */
  private readonly tails = new Map<number, SegmentTail>();
  /** Set once the DbCore exists (open.ts builds it around the first catch-up's result). */
  private core: DbCore | undefined;
  private running: Promise<CatchUpResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /**
   * Counts installs that dropped tables (a compaction): an explicit snapshot taken before the
   * latest such install can no longer be served (see the top of the file). Read by Database.
   */
  compactionEpoch = 0;

  constructor(
    private readonly dir: string,
    private readonly opts: ResolvedOptions,
    private readonly uuid: string,
    private readonly versions: VersionSet,
    private readonly tables: TableCache,
  ) {
    this.installed = emptyManifestState(opts.numLevels);
  }

  /** open-read-only.ts, once: the core this follower installs into. */
  attach(core: DbCore): void {
    this.core = core;
  }

  /** What the first catch-up replayed, for Database.recovery. */
  openFigures(result: CatchUpResult): OpenRecoveryFigures {
    const live = [...this.tails.values()];
    return {
      walBatches: result.walBatches,
      walSegments: live.map((t) => t.segment),
      walDropped: live.flatMap((t) => (t.tail === undefined ? [] : [{ file: join(this.dir, segmentFileName(t.segment)), ...t.tail }])),
    };
  }

  /**
   * A read that failed because a table file is gone — the writer deleted it after its compaction
   * and this database had closed the file's descriptor (more live tables than maxOpenFiles) — as
   * NOT_FOUND with the way out; undefined for any other failure.
   */
  explainMissingTable(err: unknown): StrataError | undefined {
    const e = err as { code?: unknown; file?: unknown; cause?: { code?: unknown } } | null;
    if (e?.code !== 'IO_ERROR' || e.cause?.code !== 'ENOENT' || typeof e.file !== 'string' || !e.file.endsWith('.sst')) return undefined;
    return new StrataError(
      'NOT_FOUND',
      `${e.file} was deleted by the writer's compaction after this read-only database let its descriptor go (maxOpenFiles ${this.opts.maxOpenFiles} holds fewer descriptors than there are live tables); call db.catchUp() and read again, or open with a larger maxOpenFiles`,
      { file: e.file, cause: err },
    );
  }

  /** Reads what the writer did since the last catch-up and makes it visible (concurrent calls share one run). */
  catchUp(): Promise<CatchUpResult> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Catches up every `ms` milliseconds (after the previous one ended) until `stop`. The timer does not keep the process alive. */
  follow(ms: number): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.stopped) return;
        this.catchUp().then(
          () => {
            if (!this.stopped) tick();
          },
          (err: unknown) => {
            // The next tick tries again; the failure is told, never swallowed.
            this.core?.events.warn(`catching up with the writer of ${this.dir} failed (tried again in ${ms} ms)`, err);
            if (!this.stopped) tick();
          },
        );
      }, ms);
      this.timer.unref();
    };
    tick();
  }

  /** Database.close: no more catch-ups; waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<CatchUpResult> {
    if (this.stopped) throw new StrataError('NOT_OPEN', 'the database is closed; open it again to catch up');
    let state = this.installed;
    let position = this.position;
    let manifestEdits = 0;
    let walBatches = 0;
    for (let round = 1; ; round++) {
      try {
        // 1. The manifest: CURRENT, then what was appended since `position`.
        const m = this.readManifest(state, position);
        state = m.state;
        position = m.position;
        manifestEdits += m.edits;
        // 2. Every table of the new state opened (the descriptor keeps a deleted file readable).
        this.openTables(state);
        // 3. The WAL from the new logNumber on.
        walBatches += await this.readWal(state.logNumber);
        break;
      } catch (err) {
        if (!(err instanceof WriterMovedOn)) throw err;
        if (!this.manifestMoved(position)) {
          throw new StrataError('CORRUPTION', `${err.what}, although the manifest does not say so; restore the database from a backup (or Database.repair it)`, {
            file: this.dir,
          });
        }
        if (round >= MAX_ROUNDS) {
          throw new StrataError('IO_ERROR', `the writer of ${this.dir} moved on ${MAX_ROUNDS} times during one catch-up; call catchUp() again`, { file: this.dir });
        }
      }
    }
    return this.install(state, position, manifestEdits, walBatches);
  }

  /** Applies the manifest records not read yet; a new manifest is read whole. */
  private readManifest(state: ManifestState, position: ManifestPosition | undefined): { state: ManifestState; position: ManifestPosition; edits: number } {
    const { fs, numLevels } = this.opts;
    const cur = readCurrent(fs, this.dir);
    const path = join(this.dir, cur.name);
    const fresh = position === undefined || cur.number !== position.fileNumber;
    let contents;
    try {
      contents = readManifestFrom(fs, path, fresh ? 0 : position.size);
    } catch (err) {
      // CURRENT named it a moment ago: the writer has started a newer one since and deleted it.
      if (!fs.existsSync(path)) throw new WriterMovedOn(`${join(this.dir, CURRENT_FILE)} names ${cur.name}, which does not exist`);
      throw err;
    }
    if (!fresh && contents.edits.length === 0) return { state, position, edits: 0 };
    if (fresh && contents.edits.length === 0) {
      // The writer syncs a manifest's first record before CURRENT names it.
      throw new StrataError('CORRUPTION', `${path} holds no version record; restore the database from a backup`, { file: path, offset: 0 });
    }
    const next = applyManifestEdits(fresh ? emptyManifestState(numLevels) : state, contents.edits, numLevels, path);
    if (next.dbId !== undefined && next.dbId !== this.uuid) {
      throw new StrataError('FOREIGN_FILE', `${path} belongs to database ${next.dbId}, but IDENTITY says ${this.uuid}; the directory mixes two databases`, { file: path });
    }
    return { state: next, position: { fileNumber: cur.number, size: contents.validSize }, edits: contents.edits.length };
  }

  /** Whether the writer changed the manifest since `position`: a new one, or records appended. */
  private manifestMoved(position: ManifestPosition | undefined): boolean {
    const fs = this.opts.fs;
    try {
      const cur = readCurrent(fs, this.dir);
      if (position === undefined || cur.number !== position.fileNumber) return true;
      const fd = fs.openSync(join(this.dir, manifestFileName(cur.number)), 'r');
      try {
        return fs.fstatSync(fd).size > position.size;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return true; // CURRENT or the manifest replaced under us: it moved
    }
  }

  /** Opens the tables `state` adds to the installed Version (those were opened when it was installed). */
  private openTables(state: ManifestState): void {
    const installed = new Set<number>();
    for (const level of this.installed.levels) for (const f of level) installed.add(f.fileNumber);
    for (const level of state.levels) {
      for (const f of level) {
        if (installed.has(f.fileNumber)) continue;
        try {
          this.tables.get(f.fileNumber);
        } catch (err) {
          const path = tablePath(this.dir, f.fileNumber);
          if (!this.opts.fs.existsSync(path)) throw new WriterMovedOn(`table ${path} is listed by the manifest but gone`);
          throw err;
        }
      }
    }
  }

  /** Reads every segment ≥ logNumber from where it stopped; returns the batches applied. */
  private async readWal(logNumber: number): Promise<number> {
    const fs = this.opts.fs;
    const listed = listSegments(this.dir, fs).filter((n) => n >= logNumber);
    // The writer creates segment logNumber before an edit names it (flush.ts, writeAndInstall),
    // and deletes it only after an edit moved past it.
    if (logNumber > 0 && listed[0] !== logNumber) throw new WriterMovedOn(`WAL segment ${logNumber} is gone`);
    let batches = 0;
    let previousLsn = 0;
    for (const [i, segment] of listed.entries()) {
      if (i > 0 && segment !== listed[i - 1]! + 1) throw new WriterMovedOn(`WAL segment ${listed[i - 1]! + 1} is missing before segment ${segment}`);
      const newer = i < listed.length - 1;
      const known = this.tails.get(segment);
      if (known?.complete === true) {
        previousLsn = Math.max(previousLsn, known.maxLsn);
        continue;
      }
      const file = join(this.dir, segmentFileName(segment));
      let read;
      try {
        read = readSegmentFrom(file, known?.offset ?? 0, fs);
      } catch (err) {
        if (!fs.existsSync(file)) throw new WriterMovedOn(`WAL segment ${segment} is gone`);
        throw err;
      }
      if ('error' in read.header) {
        // The newest segment: the writer is creating it (its header is written and synced
        // before anything else): read it next time. Damage shows once a newer one exists.
        if (!newer) break;
        throw new StrataError('CORRUPTION', `${file}: ${read.header.error}`, { file, offset: 0 });
      }
      if (read.header.uuid !== this.uuid) {
        throw new StrataError('FOREIGN_FILE', `${file}: segment belongs to database ${read.header.uuid}, not ${this.uuid}; move it out of this database's directory`, { file });
      }
      if (read.header.segment !== segment) throw new StrataError('CORRUPTION', `${file}: header says segment ${read.header.segment}`, { file, offset: 28 });
      // Plain memory: a follower's memtables are never flushed, so never read by a worker, and
      // V8 counts plain buffers, so the ones catch-ups drop are collected at their pace.
      const tail: SegmentTail = known ?? { segment, offset: 0, mem: new Memtable({ shared: false }), maxLsn: 0, complete: false, tail: undefined };
      if (known === undefined) this.tails.set(segment, tail);
      tail.tail = undefined;
      const skipDamage = this.opts.walRecovery === 'skip-any-corrupted';
      for (const [j, item] of read.items.entries()) {
        if (item.kind === 'damage') {
          const last = j === read.items.length - 1;
          if (last && !newer) {
            // An append in progress (or the torn tail of a writer that crashed): read again later.
            tail.tail = { offset: item.offset, length: item.end - item.offset, reason: item.reason };
            break;
          }
          if (skipDamage) {
            this.core?.events.warn(`${file}: ${item.end - item.offset} damaged bytes at offset ${item.offset} skipped (${item.reason})`, undefined);
            tail.offset = item.end;
            continue;
          }
          throw new StrataError('CORRUPTION', `${file}: damage of ${item.end - item.offset} bytes at offset ${item.offset} in the WAL (${item.reason}); the follower cannot read past it — open with walRecovery "skip-any-corrupted" to skip it`, {
            file,
            offset: item.offset,
          });
        }
        const floor = Math.max(previousLsn, tail.maxLsn);
        if (item.firstLsn <= floor) throw new StrataError('CORRUPTION', `${file}: record at offset ${item.offset} starts at LSN ${item.firstLsn}, but LSN ${floor} came before it`, { file, offset: item.offset });
        tail.mem.apply(item.ops, item.firstLsn);
        tail.maxLsn = item.firstLsn + item.ops.length - 1;
        tail.offset = item.end;
        batches++;
      }
      if (newer && tail.tail === undefined) tail.complete = true;
      previousLsn = Math.max(previousLsn, tail.maxLsn);
      // A long WAL (the first catch-up of a busy database) must not hold the event loop.
      await yieldTurn();
    }
    return batches;
  }

  /** One synchronous step: the Version, the memtables and the visible sequence number. */
  private install(state: ManifestState, position: ManifestPosition, manifestEdits: number, walBatches: number): CatchUpResult {
    const core = this.core;
    if (core === undefined) throw new StrataError('ASSERTION', 'follower catch-up before its database exists');
    for (const n of [...this.tails.keys()]) if (n < state.logNumber) this.tails.delete(n);
    const live = [...this.tails.values()].sort((a, b) => a.segment - b.segment);
    let sequence = core.visibleSequence;
    for (const level of state.levels) for (const f of level) sequence = Math.max(sequence, f.maxSeq);
    for (const t of live) sequence = Math.max(sequence, t.maxLsn);

    const tablesChanged = state !== this.installed;
    if (tablesChanged) {
      const now = new Set<number>();
      for (const level of state.levels) for (const f of level) now.add(f.fileNumber);
      const dropped = this.installed.levels.some((level) => level.some((f) => !now.has(f.fileNumber)));
      if (dropped) this.compactionEpoch++;
      this.versions.installFollowed(state, position);
    }
    const newest = live.at(-1);
    const frozen: FrozenMemtable[] = live
      .slice(0, -1)
      .reverse()
      .map((t) => t.mem.freeze());
    core.installFollowed(newest?.mem ?? new Memtable({ shared: false }), frozen, sequence, newest?.segment ?? state.logNumber);
    this.installed = state;
    this.position = position;
    return { sequence, manifestEdits, walBatches, tablesChanged };
  }
}
