/**
 * @strata-db/sstable-builder — writes Strata tables straight from the memtable's types.
 */
export { TableBuilder, type DeletionTrigger, type TableBuilderOptions, type TableMeta } from './table-builder.js';
