// warmNewTables (off by default): tables a flush or a compaction has just installed are opened
// and their index and filter partitions loaded at once, on the JS thread, right after the version
// that holds them is installed — as LevelDB and RocksDB open every table they write ("verify that
// the table is usable", which loads its index and filter), and as RocksDB's
// prepopulate_block_cache fills the cache with what a flush wrote.
//
// What it buys: the first lookups after a bulk load neither open tables nor load partitions. On
// the scale bench's 10M-key database the first 200k random gets after the fill settled opened all
// 635 tables (~0.5 ms each: open, fstat, footer and top-level index) and loaded all ~4,900
// partitions (~0.14 ms each: a read, its checksum, unpacking); warmed, they used ~11% less CPU.
// The bytes were just written, so they are still in the OS page cache.
// What it costs, and why it is off by default: the fill keeps the current tables open and their
// partitions resident (~46 MB at 10M keys), and opens and loads those of every table it writes,
// most of them compacted away soon after: the 10M fill's peak RSS went from 207 to 263 MB, past
// its bound of memtables + blockCacheSize + 64 MB (docs/performance/session-20.md).
//
// Bounded: the table cache keeps what its budget (tableCacheSize) allows and drops the rest as
// it would on reads, and Table.warmPartitions stops when the partition cache is full, so warming
// does not push out partitions that lookups loaded. A failure here is survived (a warning): the
// table is installed and a read of it meets (and reports) the same failure.
import type { TableCache } from './table-cache.js';
import type { EventSink } from '../events.js';
import type { FileMetadata } from './file-metadata.js';

export function warmNewTables(tables: TableCache, files: readonly FileMetadata[], events: EventSink): void {
  for (const f of files) {
    try {
      tables.get(f.fileNumber).warmPartitions();
    } catch (err) {
      events.warn(`warming the new table ${f.fileNumber} failed`, err);
    }
  }
}
