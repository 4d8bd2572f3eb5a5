/**
 * Open Table objects by file number, shared by every reader, flush and compaction of one
 * database, over one BlockCache and one PartitionCache. Two bounds, because they bound
 * different things:
 *   - file descriptors: at most `maxOpenFiles − 10 − 4 × backgroundThreads` table files open at
 *     once (options.ts, tableDescriptors; TableDescriptors; LevelDB's max_open_files). A reopen
 *     costs an open(2), paid only on a block-cache miss.
 *   - memory: table metadata, at most `residentBudget` bytes (tableCacheSize) in all. A table
 *     kept here pins its top-level index, range tombstones, its partition-cache slots and small
 *     fixed fields (Table.residentBytes: ~1.9 KB for a 2 MiB table of four partitions, 2.6 KB
 *     before session 30 put what a table keeps in one ArrayBuffer; ~16 KB while the block cache
 *     kept 24 bytes per data block in slots the table held); those take at most half the
 *     budget, the least recently used table dropped first (second-chance order). Its cached
 *     blocks stay: the block cache's index is its own, keyed by (file, block) and sized by its
 *     capacity (block-cache.ts), so a dropped table's blocks serve the table's next reader or
 *     age out by CLOCK. The index and filter partitions that lookups load (~80 KB for a 2 MiB
 *     table, a few KB each) go to the partition cache, which gets the
 *     rest of the budget: budget − pinned, recomputed whenever a table comes or goes. Reopening
 *     a dropped table re-reads its footer, properties and top-level index (its partitions may
 *     still be cached: the partition cache keys them by file number); a partition that was
 *     dropped is re-read and re-verified when a lookup needs it — one partition, not the table's
 *     whole index and filter, so a database far larger than the budget costs speed, not memory.
 *
 * Idle warming (table-warmer.ts) opens tables through `warm`, which keeps one only where it takes
 * nothing from lookups: a free descriptor, room in the budget beside the cached partitions.
 *
 * Dropping does not close anything a reader may still hold: the Table reads its file through a
 * virtual descriptor of TableDescriptors, which reopens the file on demand, so an iterator that
 * still holds a dropped Table goes on reading it (and keeps its index and filter in memory until
 * it lets go). Table files are immutable and never reused, so a reopened file is the same file.
 * A table is closed for good when the version set deletes its file (`evict`) or the database
 * closes. Open failures are wrapped as StrataError naming the file.
 */
import { BlockCache, PartitionCache, Table } from '@strata-db/sstable-core';
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
  /**
   * Most table file descriptors open at once (options.ts, tableDescriptors: maxOpenFiles − 10 − 4 ×
   * backgroundThreads), or fewer once the process ran out of descriptors first (table-descriptors.ts).
   */
  readonly maxOpenFiles: number;
  /** Table file descriptors open now (≤ maxOpenFiles). */
  readonly openFiles: number;
  /** Real opens of table files so far, reopens after eviction included. */
  readonly fileOpens: number;
  /**
   * Bytes of table metadata in memory: what the cached tables pin (`pinnedBytes`) plus the
   * cached index and filter partitions (`partitionBytes`); ≤ residentBudget, unless one table
   * and the partition a lookup is using are larger than it alone.
   */
  readonly residentBytes: number;
  /** Top-level indexes, range tombstones and partition-cache slots of the cached tables. */
  readonly pinnedBytes: number;
  /** Cached index and filter partitions. */
  readonly partitionBytes: number;
  /** Index and filter partitions cached now, found cached, and read from files (cache misses). */
  readonly partitions: number;
  readonly partitionHits: number;
  readonly partitionLoads: number;
  /** Most resident bytes kept (tableCacheSize). */
  readonly residentBudget: number;
  /** Tables opened (index and filter read) so far, reopens after being dropped included. */
  readonly tableOpens: number;
  /**
   * Bytes of the file-descriptor records (TableDescriptors.bytes): one per table file opened and
   * not deleted, open or not — outside residentBudget, growing with the tables.
   */
  readonly descriptorBytes: number;
}

export class TableCache {
  readonly blockCache: BlockCache;
  /** Index and filter partitions of the tables, in the budget their tables leave. */
  readonly partitionCache: PartitionCache;
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
    /**
     * Charge the table metadata — the tables' pinned bytes and the cached partitions — to the
     * block cache too (cacheIndexAndFilterBlocks): blocks then get blockCacheSize minus it.
     */
    private readonly chargeBlockCache = false,
  ) {
    this.blockCache = new BlockCache(blockCacheSize);
    this.partitionCache = new PartitionCache(residentBudget, chargeBlockCache ? this.blockCache : undefined);
    this.descriptors = new TableDescriptors(
      fs,
      maxOpenFiles,
      (path, err) => {
        events.warn(`closing the table file ${path} failed`, err);
      },
      (capacity, err) => {
        events.warn(`the process ran out of file descriptors: table files now keep at most ${capacity} open (maxOpenFiles allowed ${maxOpenFiles} for tables; raise ulimit -n or lower maxOpenFiles)`, err);
      },
    );
  }

  get(fileNumber: number): Table {
    const hit = this.tables.get(fileNumber);
    if (hit !== undefined) {
      hit.referenced = true;
      return hit.table;
    }
    const table = this.open(fileNumber);
    // The newest table always stays, even alone over half the budget: it is about to be read.
    while (this.tables.size > 0 && this.resident + table.residentBytes > this.residentBudget / 2) this.dropOne();
    this.keep(fileNumber, table);
    return table;
  }

  /** The cache holds table `fileNumber` (open, its top-level index in memory). */
  holds(fileNumber: number): boolean {
    return this.tables.has(fileNumber);
  }

  /**
   * Table `fileNumber` for idle warming (table-warmer.ts): the cached one, else opened and kept
   * only if that takes nothing from lookups — a descriptor free (none of another table's is
   * closed for it), its pinned bytes within half the budget and beside the cached partitions
   * (their share does not shrink below what they hold), and with chargeBlockCache within the
   * block cache's free room. Undefined when there is no such room. Marks nothing used: a table
   * warming opened is among the first the cache drops. Whether it fits is guessed from the
   * cached tables' mean pinned bytes before the open, and checked on the table after it; one
   * that does not fit is not kept (its descriptor stays in the pool, the first to be closed).
   */
  warm(fileNumber: number): Table | undefined {
    const hit = this.tables.get(fileNumber);
    if (hit !== undefined) return hit.table;
    if (this.descriptors.openCount >= this.descriptors.capacity) return undefined;
    if (!this.fits(this.tables.size === 0 ? 0 : this.resident / this.tables.size)) return undefined;
    const table = this.open(fileNumber);
    if (!this.fits(table.residentBytes)) return undefined;
    this.keep(fileNumber, table);
    return table;
  }

  /** Closes the table (its file is being deleted) and drops its cached blocks. */
  evict(fileNumber: number): void {
    const e = this.tables.get(fileNumber);
    if (e !== undefined) {
      this.tables.delete(fileNumber);
      this.pin(-e.table.residentBytes);
      this.lendPartitions();
    }
    // Closes the descriptor whether or not the cache still held the Table: a reader that held
    // a dropped Table can no longer reach this file (the version set deletes it only then).
    this.descriptors.forget(tablePath(this.dir, fileNumber));
    this.blockCache.evictFile(fileNumber);
    this.partitionCache.evictFile(fileNumber);
  }

  /** Tables held by the cache. */
  get openCount(): number {
    return this.tables.size;
  }

  stats(): TableCacheStats {
    return {
      tables: this.tables.size,
      maxOpenFiles: this.descriptors.capacity,
      openFiles: this.descriptors.openCount,
      fileOpens: this.descriptors.openCalls,
      residentBytes: this.resident + this.partitionCache.usage,
      pinnedBytes: this.resident,
      partitionBytes: this.partitionCache.usage,
      partitions: this.partitionCache.size,
      partitionHits: this.partitionCache.hits,
      partitionLoads: this.partitionCache.loads,
      residentBudget: this.residentBudget,
      tableOpens: this.opens,
      descriptorBytes: this.descriptors.bytes,
    };
  }

  /**
   * Drops every table, block and partition and closes every descriptor. Not `evict` per table:
   * each is a pass over the whole block cache (its index is keyed by block), which with the
   * 5,214 tables of a 10M-key database of 224 KiB tables was ~1.5 s of CPU at close.
   */
  close(): void {
    for (const e of this.tables.values()) this.pin(-e.table.residentBytes);
    this.tables.clear();
    this.blockCache.clear();
    this.partitionCache.clear();
    this.descriptors.closeAll();
  }

  /** Bytes of table metadata in memory: the tables' pinned bytes and the cached partitions. */
  get residentBytes(): number {
    return this.resident + this.partitionCache.usage;
  }

  private open(fileNumber: number): Table {
    const path = tablePath(this.dir, fileNumber);
    let table: Table;
    try {
      table = Table.open(path, { fs: this.descriptors, cache: this.blockCache, partitions: this.partitionCache, fileNumber });
    } catch (err) {
      const sys = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
      if (sys === 'EMFILE' || sys === 'ENFILE') {
        throw toStrataError(err, `cannot open table ${path}: the process has too many open files — lower maxOpenFiles (tables may hold ${this.maxOpenFiles}) or raise the limit (ulimit -n)`, path);
      }
      throw toStrataError(err, `cannot open table ${path}`, path);
    }
    this.opens++;
    return table;
  }

  private keep(fileNumber: number, table: Table): void {
    this.tables.set(fileNumber, { table, referenced: false });
    this.pin(table.residentBytes);
    this.lendPartitions();
  }

  /** A table pinning `bytes` more fits beside what the cache holds without dropping or evicting anything. */
  private fits(bytes: number): boolean {
    const pinned = this.resident + bytes;
    if (pinned > this.residentBudget / 2 || pinned + this.partitionCache.usage > this.residentBudget) return false;
    const bc = this.blockCache;
    return !this.chargeBlockCache || bc.usage + bc.charged + bytes <= bc.capacity;
  }

  /** Books `bytes` more (or fewer) pinned by the cached tables, charged to the block cache too when so configured. */
  private pin(bytes: number): void {
    this.resident += bytes;
    if (this.chargeBlockCache) this.blockCache.charge(bytes);
  }

  /** The partition cache gets what the tables do not pin. */
  private lendPartitions(): void {
    this.partitionCache.capacity = Math.max(0, this.residentBudget - this.resident);
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
      // Its cached blocks stay (see the top of the file): they cost the table nothing.
      this.pin(-e.table.residentBytes);
      return;
    }
  }
}
