// Tables a flush or a compaction has just installed are opened and their index and filter
// partitions loaded at once, on the JS thread, right after the version that holds them is
// installed — as LevelDB and RocksDB open every table they write ("verify that the table is
// usable", which loads its index and filter) and RocksDB's prepopulate_block_cache fills the
// cache with what a flush wrote.
//
// Why: otherwise the first lookups after a bulk load pay for it. Measured on the scale bench's
// 10M-key database (635 tables, 4,910 partitions), the first 200k random gets after the fill
// settled opened every table (~0.5 ms each: open, fstat, footer and top-level index) and loaded
// every partition (~0.14 ms each: a read, its checksum, unpacking), ~1 s of the gets' 5.8 s on
// the JS thread. Here the bytes were just written, so they are still in the OS page cache.
//
// Bounded: the table cache keeps what its budget (tableCacheSize) allows and drops the rest as
// it would on reads, and Table.warmPartitions stops when the partition cache is full, so warming
// never evicts partitions that lookups loaded. A failure here is survived (a warning): the
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
