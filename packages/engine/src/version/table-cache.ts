/**
 * Open Table objects by file number, shared by every reader, flush and compaction of one
 * database, over one BlockCache.
 *
 * A Table is opened on first use (synchronously: footer, index and filter are read once) and
 * stays open until the version set deletes its file (`evict`) or the database closes. Table
 * files are immutable and never reused, so an open Table can never see stale bytes.
 * Open failures are wrapped as StrataError naming the file.
 */
import { BlockCache, Table } from '@strata-db/sstable-core';
import { toStrataError } from '../errors.js';
import type { FileSystem } from '../file-system.js';
import { tablePath } from '../db/filenames.js';

export class TableCache {
  readonly blockCache: BlockCache;
  private readonly tables = new Map<number, Table>();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    blockCacheSize: number,
  ) {
    this.blockCache = new BlockCache(blockCacheSize);
  }

  get(fileNumber: number): Table {
    let t = this.tables.get(fileNumber);
    if (t === undefined) {
      const path = tablePath(this.dir, fileNumber);
      try {
        t = Table.open(path, { fs: this.fs, cache: this.blockCache, fileNumber });
      } catch (err) {
        throw toStrataError(err, `cannot open table ${path}`, path);
      }
      this.tables.set(fileNumber, t);
    }
    return t;
  }

  /** Closes the table (its file is being deleted) and drops its cached blocks. */
  evict(fileNumber: number): void {
    const t = this.tables.get(fileNumber);
    if (t !== undefined) {
      this.tables.delete(fileNumber);
      try {
        t.close();
      } catch {
        // closing a table being deleted cannot fail in a way that matters
      }
    }
    this.blockCache.evictFile(fileNumber);
  }

  get openCount(): number {
    return this.tables.size;
  }

  close(): void {
    for (const n of [...this.tables.keys()]) this.evict(n);
  }
}
