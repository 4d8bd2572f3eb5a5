export { EntryKind, compareEntries, compareKeys, compareTombstones } from './types.js';
export type { BatchOp, InternalIterator, PointEntry, RangeTombstone } from './types.js';
export { Memtable } from './memtable.js';
export { FrozenMemtable } from './frozen-memtable.js';
export type { SharedMemtableImage } from './shared-image.js';
export { MemtableReader, type MemtableGetResult, type ScanOptions, type VisibleEntry } from './memtable-reader.js';
export { VisibleIterator } from './visible-iterator.js';
export { FragmentCursor, FragmentedRangeTombstones, fragmentTombstones, visibleSeq, type TombstoneSpan } from './fragmenter.js';
