/**
 * @strata-db/sstable-core — the Strata table format and its reader.
 * The format is described byte by byte in README.md and at the top of each encoding file.
 */
export { prefixNumber } from './index-partition.js';
export { FILTER_REJECTED, Table, type TableLayout, type TableOpenOptions, type TableReadFileSystem, type TableVerifyResult } from './table.js';
export { BlockCache } from './block-cache.js';
export { allocUnsharedBytes, BufferPool } from './buffer-pool.js';
export { PartitionCache, PartitionSlots } from './partition-cache.js';
export { Block, BlockBuilder, BlockCursor, compareBytesAt } from './block-format.js';
export { KeyCopy } from './key-copy.js';
export { BloomFilter, BloomFilterBuilder, bloomHash, bloomProbes } from './bloom.js';
export { checksum } from './checksum.js';
export { ByteWriter, readVarint, type ByteSource } from './coding.js';
export { COMPRESSION_NAMES, CompressionType, compressionType, isCompressionName, type CompressionName } from './compression.js';
export {
  decodeBlockHandle,
  decodePartitionEntry,
  encodeBlockHandle,
  encodeFooter,
  encodePartitionEntry,
  FOOTER_SIZE,
  FORMAT_VERSION,
  MAX_SEQ,
  OLDEST_FORMAT_VERSION,
  META_FILTER,
  META_PROPERTIES,
  META_RANGE_DEL,
  TABLE_MAGIC,
  type BlockHandle,
  type Footer,
  type PartitionEntry,
} from './format.js';
export type { TableFileSystem } from './fs.js';
export { nodeFileSystem } from '@strata-db/vfs';
export { BLOCK_TRAILER_SIZE, sealBlock, unsealBlock, type SealedBlock } from './physical-block.js';
export { encodeProperties, decodeProperties, type TableProperties } from './properties.js';
