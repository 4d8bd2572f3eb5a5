export { StrataLevel, StrataSnapshot } from './strata-level.js';
export type { StrataBatchOptions, StrataDelOptions, StrataLevelOptions, StrataPutOptions, StrataStartEndOptions, StrataWriteOptions } from './strata-level.js';
export { StrataEntryIterator, StrataKeyIterator, StrataValueIterator } from './iterator.js';
export type { IteratorDatabase } from './iterator.js';
export { StrataLevelError } from './errors.js';
