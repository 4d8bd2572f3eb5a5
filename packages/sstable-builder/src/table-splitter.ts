/**
 * Cuts one sorted stream into tables of about `targetFileSize` bytes, as compaction needs: a
 * cut falls only between user keys, never between the versions of one key, so the tables of a
 * level have disjoint key ranges and a lookup visits one of them.
 *
 * Range tombstones are clipped at the cuts. With a cut before key b, a tombstone [s, e) with
 * s < b < e becomes [s, b) in the earlier table and [b, e) in the later one (same seq), so each
 * table's range [smallest, largest] stays within its own part of the key space — the earlier
 * table's largest is then b, exclusive. Tombstones must therefore be added no later than the
 * first entry at or after their start (the natural order of a merge of points and tombstones);
 * a tombstone that starts before an existing cut is INVALID_ARGUMENT.
 */
import { compareKeys, compareTombstones, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { StrataError } from '@strata-db/errors';
import { TableBuilder, type TableBuilderOptions, type TableMeta } from './table-builder.js';

export interface TableSplitterOptions {
  /** Cut after a table reaches this many bytes (at the next user key). */
  readonly targetFileSize: number;
  /** Allocates the next output table: its path and file number. */
  readonly nextFile: () => { readonly path: string; readonly fileNumber: number };
  /** Options for every builder (fileNumber comes from `nextFile`). */
  readonly builder?: Omit<TableBuilderOptions, 'fileNumber'>;
}

export class TableSplitter {
  private readonly options: TableSplitterOptions;
  private current: TableBuilder | undefined;
  /** Tombstones not yet handed to a builder, (start ASC, seq DESC). */
  private pending: RangeTombstone[] = [];
  /** The first key of the current table when it began at a cut: nothing may start before it. */
  private boundary: Uint8Array | undefined;
  private readonly finishing: Promise<TableMeta>[] = [];
  private readonly builders: TableBuilder[] = [];
  private done = false;
  /** The last input entry and tombstone, to check order across cuts (each builder sees only its part). */
  private lastEntry: PointEntry | undefined;
  private lastTombstone: RangeTombstone | undefined;

  constructor(options: TableSplitterOptions) {
    if (!Number.isSafeInteger(options.targetFileSize) || options.targetFileSize < 1) {
      throw new StrataError('INVALID_ARGUMENT', `targetFileSize must be a positive integer, got ${options.targetFileSize}`);
    }
    this.options = options;
  }

  /** Number of tables started so far. */
  get tableCount(): number {
    return this.builders.length;
  }

  add(entry: PointEntry): void {
    this.checkOpen();
    const last = this.lastEntry;
    if (last !== undefined && compareKeys(last.key, entry.key) > 0) {
      throw new StrataError('INVALID_ARGUMENT', 'entries must be in strictly increasing (key ASC, seq DESC) order');
    }
    const cur = this.current;
    if (cur?.shouldCutBefore(entry.key, this.options.targetFileSize) === true) this.cut(entry.key);
    this.builder().add(entry);
    this.lastEntry = entry;
  }

  addTombstone(t: RangeTombstone): void {
    this.checkOpen();
    if (this.boundary !== undefined && compareKeys(t.start, this.boundary) < 0) {
      throw new StrataError('INVALID_ARGUMENT', 'a range tombstone that starts before an earlier cut must be added before the entries after its start');
    }
    if (this.lastTombstone !== undefined && compareTombstones(this.lastTombstone, t) >= 0) {
      throw new StrataError('INVALID_ARGUMENT', 'tombstones must be in strictly increasing (start ASC, seq DESC) order');
    }
    this.lastTombstone = t;
    // Pieces carried over a cut start at the cut key, and a newer tombstone starting there sorts before them.
    const pending = this.pending;
    let i = pending.length;
    while (i > 0 && compareTombstones(pending[i - 1]!, t) > 0) i--;
    const same = pending[i - 1];
    if (same !== undefined && compareTombstones(same, t) === 0) {
      // A carried piece [b, e)#s meets a fragment [b, e')#s of the same deletion: keep the union.
      if (compareKeys(t.end, same.end) > 0) pending[i - 1] = t;
    } else {
      pending.splice(i, 0, t);
    }
  }

  /** Finishes the last table and waits for every table to be fsynced. Returns their metadata in key order. */
  async finish(): Promise<TableMeta[]> {
    this.checkOpen();
    this.done = true;
    if (this.current !== undefined || this.pending.length > 0) {
      const b = this.builder();
      for (const t of this.pending) b.addTombstone(t);
      this.pending = [];
      this.finishing.push(b.finish());
      this.current = undefined;
    }
    return Promise.all(this.finishing);
  }

  /** Deletes every table this splitter wrote or started (after waiting for in-flight finishes). */
  async abandon(): Promise<void> {
    this.done = true;
    await Promise.allSettled(this.finishing);
    for (const b of this.builders) b.abandon();
  }

  private builder(): TableBuilder {
    if (this.current === undefined) {
      const { path, fileNumber } = this.options.nextFile();
      this.current = new TableBuilder(path, { ...this.options.builder, fileNumber });
      this.builders.push(this.current);
    }
    return this.current;
  }

  /** Ends the current table before user key `b`, clipping tombstones at `b`. */
  private cut(b: Uint8Array): void {
    const cur = this.current!;
    const carried: RangeTombstone[] = [];
    const rest: RangeTombstone[] = [];
    for (const t of this.pending) {
      if (compareKeys(t.start, b) >= 0) {
        rest.push(t);
        continue;
      }
      if (compareKeys(t.end, b) > 0) {
        cur.addTombstone({ start: t.start, end: b, seq: t.seq });
        carried.push({ start: b, end: t.end, seq: t.seq });
      } else {
        cur.addTombstone(t);
      }
    }
    const finished = cur.finish();
    // Observed here so a failure is not an unhandled rejection before finish()/abandon() awaits it.
    finished.catch(() => undefined);
    this.finishing.push(finished);
    this.current = undefined;
    this.boundary = b;
    this.pending = mergeSameStart([...carried, ...rest].sort(compareTombstones));
  }

  private checkOpen(): void {
    if (this.done) throw new StrataError('NOT_OPEN', 'table splitter is finished or abandoned; start a new one');
  }
}

/**
 * Sorted tombstones with equal (start, seq) — pieces of one deletion meeting at a cut — become
 * one, with the larger end: both start at the same key, so that is exactly their union.
 */
function mergeSameStart(sorted: RangeTombstone[]): RangeTombstone[] {
  const out: RangeTombstone[] = [];
  for (const t of sorted) {
    const last = out.at(-1);
    if (last !== undefined && compareTombstones(last, t) === 0) {
      if (compareKeys(t.end, last.end) > 0) out[out.length - 1] = t;
    } else {
      out.push(t);
    }
  }
  return out;
}
