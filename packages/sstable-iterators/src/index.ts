/**
 * @strata-db/sstable-iterators — InternalIterators over one data block and over a whole table,
 * and the table's range tombstones.
 */
export { DataBlockIterator } from './data-block-iterator.js';
export { TableIterator, type TableIteratorOptions } from './table-iterator.js';
export { RunBuffers } from './run-buffers.js';
export { TombstoneIterator, tableTombstones } from './tombstone-iterator.js';
