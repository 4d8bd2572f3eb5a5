/**
 * Open Table objects by file number, shared by every reader, flush and compaction of one
 * database, over one BlockCache. Two bounds, because they bound different things:
 *   - file descriptors: at most `maxOpenFiles − 10` table files open at once (TableDescriptors;
 *     LevelDB's max_open_files). A reopen costs an open(2), paid only on a block-cache miss.
 *   - memory: the tables kept here hold their index, filter and range tombstones in memory
 *     (Table.residentBytes, ~40 KB for a 2 MiB table); at most `residentBudget` bytes of them
 *     (tableCacheSize), the least recently used dropped first (second-chance order). Reopening
 *     a dropped table re-reads and re-verifies its index and filter, so the budget is sized to
 *     hold every table of a large database (64 MiB by default: ~1,600 tables, ~3 GiB of data).
 *
 * Dropping does not close anything a reader may still hold: the Table reads its file through a
 * virtual descriptor of TableDescriptors, which reopens the file on demand, so an iterator that
 * still holds a dropped Table goes on reading it (and keeps its index and filter in memory until
 * it lets go). Table files are immutable and never reused, so a reopened file is the same file.
 * A table is closed for good when the version set deletes its file (`evict`) or the database
 * closes. Open failures are wrapped as StrataError naming the file.
 */
import { BlockCache, Table } from '@strata-db/sstable-core';
import { toStrataError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import type { FileSystem } from '@strata-db/vfs';
import { tablePath } from '../db/filenames.js';
import { TableDescriptors } from './table-descriptors.js';

interface Entry {
  readonly table: Table;
  /** Used since the clock hand last passed (second chance). */
  referenced: boolean;
}

export interface TableCacheStats {
  /** Tables held by the cache. */
  readonly tables: number;
  /** Most table file descriptors open at once (maxOpenFiles − 10). */
  readonly maxOpenFiles: number;
  /** Table file descriptors open now (≤ maxOpenFiles). */
  readonly openFiles: number;
  /** Real opens of table files so far, reopens after eviction included. */
  readonly fileOpens: number;
  /** Bytes of index, filter and range tombstones of the cached tables, resident in memory. */
  readonly residentBytes: number;
  /** Most resident bytes kept (tableCacheSize). */
  readonly residentBudget: number;
  /** Tables opened (index and filter read) so far, reopens after being dropped included. */
  readonly tableOpens: number;
}

export class TableCache {
  readonly blockCache: BlockCache;
  /** In clock order (first = next eviction candidate). */
  private readonly tables = new Map<number, Entry>();
  private readonly descriptors: TableDescriptors;
  private resident = 0;
  private opens = 0;

  constructor(
    fs: FileSystem,
    private readonly dir: string,
    blockCacheSize: number,
    /** Most table file descriptors open at once. */
    readonly maxOpenFiles: number,
    /** Most bytes of resident index/filter/tombstones kept by cached tables. */
    readonly residentBudget: number,
    events: EventSink = noEvents,
  ) {
    this.blockCache = new BlockCache(blockCacheSize);
    this.descriptors = new TableDescriptors(fs, maxOpenFiles, (path, err) => {
      events.warn(`closing the table file ${path} failed`, err);
    });
  }

  get(fileNumber: number): Table {
    const hit = this.tables.get(fileNumber);
    if (hit !== undefined) {
      hit.referenced = true;
      return hit.table;
    }
    const path = tablePath(this.dir, fileNumber);
    let table: Table;
    try {
      table = Table.open(path, { fs: this.descriptors, cache: this.blockCache, fileNumber });
    } catch (err) {
      const sys = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
      if (sys === 'EMFILE' || sys === 'ENFILE') {
        throw toStrataError(err, `cannot open table ${path}: the process has too many open files — lower maxOpenFiles (tables may hold ${this.maxOpenFiles}) or raise the limit (ulimit -n)`, path);
      }
      throw toStrataError(err, `cannot open table ${path}`, path);
    }
    this.opens++;
    // The newest table always stays, even alone over the budget: it is about to be read.
    while (this.tables.size > 0 && this.resident + table.residentBytes > this.residentBudget) this.dropOne();
    this.tables.set(fileNumber, { table, referenced: false });
    this.resident += table.residentBytes;
    return table;
  }

  /** Closes the table (its file is being deleted) and drops its cached blocks. */
  evict(fileNumber: number): void {
    const e = this.tables.get(fileNumber);
    if (e !== undefined) {
      this.tables.delete(fileNumber);
      this.resident -= e.table.residentBytes;
    }
    // Closes the descriptor whether or not the cache still held the Table: a reader that held
    // a dropped Table can no longer reach this file (the version set deletes it only then).
    this.descriptors.forget(tablePath(this.dir, fileNumber));
    this.blockCache.evictFile(fileNumber);
  }

  /** Tables held by the cache. */
  get openCount(): number {
    return this.tables.size;
  }

  stats(): TableCacheStats {
    return {
      tables: this.tables.size,
      maxOpenFiles: this.maxOpenFiles,
      openFiles: this.descriptors.openCount,
      fileOpens: this.descriptors.openCalls,
      residentBytes: this.resident,
      residentBudget: this.residentBudget,
      tableOpens: this.opens,
    };
  }

  close(): void {
    for (const n of [...this.tables.keys()]) this.evict(n);
    this.descriptors.closeAll();
  }

  /** Second chance: a table used since the hand last passed moves to the back once. */
  private dropOne(): void {
    for (;;) {
      const [n, e] = this.tables.entries().next().value!;
      this.tables.delete(n);
      if (e.referenced) {
        e.referenced = false;
        this.tables.set(n, e);
        continue;
      }
      this.resident -= e.table.residentBytes;
      return;
    }
  }
}
