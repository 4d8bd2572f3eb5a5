export { EntryKind, compareEntries, compareKeys, compareTombstones } from './types.js';
export type { BatchOp, InternalIterator, PointEntry, RangeTombstone } from './types.js';
