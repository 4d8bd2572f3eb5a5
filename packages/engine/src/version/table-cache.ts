/**
 * Open Table objects by file number, shared by every reader, flush and compaction of one
 * database, over one BlockCache — at most `capacity` of them, and at most `capacity` table
 * file descriptors (LevelDB's `max_open_files`, see options.ts `maxOpenFiles`).
 *
 * A Table is opened on first use (synchronously: footer, index and filter are read once and
 * stay resident in the Table) and kept while it is used; when the cache is full the table used
 * least recently (second-chance order) is dropped from it. Dropping does not close anything a
 * reader may still hold: the Table reads its file through a virtual descriptor of
 * TableDescriptors, which reopens the file on demand, so an iterator that still holds a dropped
 * Table goes on reading it (and keeps its index and filter in memory until it lets go: the
 * `pinned` figure of stats().memory). Table files are immutable and never reused, so a reopened
 * file is the same file. A table is closed for good when the version set deletes its file
 * (`evict`) or the database closes.
 * Open failures are wrapped as StrataError naming the file.
 */
import { BlockCache, Table } from '@strata-db/sstable-core';
import { toStrataError } from '../errors.js';
import type { FileSystem } from '../file-system.js';
import { tablePath } from '../db/filenames.js';
import { TableDescriptors } from './table-descriptors.js';

interface Entry {
  readonly table: Table;
  /** Used since the clock hand last passed (second chance). */
  referenced: boolean;
}

export interface TableCacheStats {
  /** Tables held by the cache (≤ capacity). */
  readonly tables: number;
  readonly capacity: number;
  /** Table file descriptors open now (≤ capacity). */
  readonly openFiles: number;
  /** Real opens of table files so far, reopens after eviction included. */
  readonly fileOpens: number;
  /** Bytes of index, filter and other metadata of the cached tables, resident in memory. */
  readonly residentBytes: number;
}

export class TableCache {
  readonly blockCache: BlockCache;
  /** In clock order (first = next eviction candidate). */
  private readonly tables = new Map<number, Entry>();
  private readonly descriptors: TableDescriptors;

  constructor(
    fs: FileSystem,
    private readonly dir: string,
    blockCacheSize: number,
    /** Most tables (and table file descriptors) held at once. */
    readonly capacity: number,
  ) {
    this.blockCache = new BlockCache(blockCacheSize);
    this.descriptors = new TableDescriptors(fs, capacity);
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
        throw toStrataError(err, `cannot open table ${path}: the process has too many open files — lower maxOpenFiles (the table cache keeps ${this.capacity}) or raise the limit (ulimit -n)`, path);
      }
      throw toStrataError(err, `cannot open table ${path}`, path);
    }
    while (this.tables.size >= this.capacity) this.dropOne();
    this.tables.set(fileNumber, { table, referenced: false });
    return table;
  }

  /** Closes the table (its file is being deleted) and drops its cached blocks. */
  evict(fileNumber: number): void {
    this.tables.delete(fileNumber);
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
    let residentBytes = 0;
    for (const e of this.tables.values()) residentBytes += e.table.residentBytes;
    return {
      tables: this.tables.size,
      capacity: this.capacity,
      openFiles: this.descriptors.openCount,
      fileOpens: this.descriptors.openCalls,
      residentBytes,
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
      return;
    }
  }
}
