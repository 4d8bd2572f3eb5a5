/**
 * The table file: layout, block handles, the two-level index and the footer.
 *
 * Format version 2 (written since the index and filter were partitioned):
 *
 *   data block 0 … data block N-1      entries (key ASC, seq DESC), block-format.ts; contiguous
 *   filter partition 0  (optional)     bloom filter (bloom.ts, never compressed) over the user
 *   index partition 0                    keys of partition 0's data blocks; the partition's index
 *   …                                  (one pair per partition, in partition order)
 *   filter partition P-1, index partition P-1
 *   range-tombstone block              tombstones (start ASC, seq DESC): key = start, seq, value = end
 *   properties block                   named table properties, properties.ts
 *   meta-index block                   name → handle of the two blocks above
 *   top-level index block              one entry per partition, below
 *   footer                             40 bytes, below
 *
 * Every block is followed by its 5-byte trailer (physical-block.ts: compression type + CRC-32).
 *
 * A block handle (in index and meta-index values) is `offset varint, size varint`; `size`
 * excludes the trailer.
 *
 * Partitions. The data blocks are cut into runs of consecutive blocks, the partitions; the
 * builder closes one when its index block reaches the metadata block size (4 KiB by default,
 * RocksDB's metadata_block_size: ~170 data blocks, ~680 KiB of data). A reader keeps only the
 * top-level index in memory and loads a partition's index and filter when a lookup needs them
 * (index-partition.ts, partition-cache.ts), so a table's resident cost does not grow with its size.
 *
 * Index partition: a block (block-format.ts) with one entry per data block of the partition:
 * key/seq = separator, value = the block's handle. A separator is ≥ the last entry of its data
 * block and < the first entry of the next one, in (key ASC, seq DESC) order, so the first
 * separator ≥ a target (across the whole table) names the only block that can hold the target.
 * Separators are shortened user keys (with seq = MAX_SEQ, the smallest internal key of that user
 * key) when a shorter key fits between the blocks, else the last entry's own (key, seq).
 *
 * Filter partition: the blocked bloom filter of bloom.ts over every user key that has an entry
 * in the partition's data blocks — also a key whose versions began in the previous partition
 * (the builder adds the first key of every partition, new or not). Lookups rely on it: the
 * block that holds the newest version ≤ a snapshot of a key is the first block whose separator
 * is ≥ (key, snapshot); its partition's filter is the one probed, and it holds the key.
 *
 * Top-level index: a block (block-format.ts, restart interval 1), one entry per partition, in
 * partition order:
 *
 *   key, seq   the partition's last separator (strictly increasing, as the separators are)
 *   value      index partition handle    offset varint, size varint
 *              first data block number   varint (0 for the first partition; each next one is
 *                                        the previous one's plus its block count, and the last
 *                                        partition ends at the properties' data-block count)
 *              filter partition handle   offset varint, size varint; absent (the value ends)
 *                                        when the table has no filter
 *
 * The first partition whose key is ≥ a target (key, seq) holds the first block whose separator
 * is ≥ it; none does when the target is past the last separator.
 *
 * Format version 1 (read, no longer written): the same but one index block for all data blocks
 * (where the top-level index is in v2) and one filter for the whole table, named by the
 * meta-index entry `strata.filter.bloom`. A reader treats it as a table of ONE partition whose
 * index is that index block and whose filter is that filter.
 *
 * Footer, the last 40 bytes of the file (fixed-size so a reader finds it from the file size):
 *
 *   0   fixed64   meta-index block offset
 *   8   fixed32   meta-index block size
 *   12  fixed64   index block offset (v2: the top-level index; v1: the index)
 *   20  fixed32   index block size
 *   24  fixed32   format version (2; 1 for the old format)
 *   28  fixed32   CRC-32 of footer bytes [0, 28)
 *   32  8 bytes   magic "STRATAT1" (53 54 52 41 54 41 54 31)
 */
import { readFixed32, readFixed64, readVarint, ByteWriter, type ByteSource } from './coding.js';
import { checksum } from './checksum.js';
import { corruption } from '@strata-db/errors';
import { BLOCK_TRAILER_SIZE } from './physical-block.js';

export const FOOTER_SIZE = 40;
/** The version this code writes. */
export const FORMAT_VERSION = 2;
/** The oldest version this code reads. */
export const OLDEST_FORMAT_VERSION = 1;
export const TABLE_MAGIC = new Uint8Array([0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x54, 0x31]);

/** Largest sequence number; separators use it to be the first internal key of their user key. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Meta-index entry names. (The filter has one only in format version 1.) */
export const META_FILTER = 'strata.filter.bloom';
export const META_RANGE_DEL = 'strata.rangedel';
export const META_PROPERTIES = 'strata.properties';

export interface BlockHandle {
  readonly offset: number;
  /** Payload bytes, without the 5-byte trailer. */
  readonly size: number;
}

export function encodeBlockHandle(h: BlockHandle, out: ByteWriter): void {
  out.putVarint(h.offset);
  out.putVarint(h.size);
}

/**
 * Decodes a handle from a value and checks that the block it names lies inside `[0, dataEnd)`
 * (the region before the footer). Returns undefined for garbage; callers report CORRUPTION.
 */
export function decodeBlockHandle(src: ByteSource, limit: number, dataEnd: number): BlockHandle | undefined {
  const offset = readVarint(src, limit);
  const size = readVarint(src, limit);
  if (offset < 0 || size < 0 || offset + size + BLOCK_TRAILER_SIZE > dataEnd) return undefined;
  return { offset, size };
}

export interface Footer {
  readonly metaIndex: BlockHandle;
  /** v2: the top-level index; v1: the index. */
  readonly index: BlockHandle;
  /** Format version (1 or 2); `encodeFooter` writes FORMAT_VERSION whatever this says. */
  readonly version?: number;
}

/** One entry of a v2 table's top-level index (the value; key and seq are the partition's last separator). */
export interface PartitionEntry {
  readonly index: BlockHandle;
  readonly firstBlock: number;
  readonly filter: BlockHandle | undefined;
}

export function encodePartitionEntry(e: PartitionEntry, out: ByteWriter): void {
  encodeBlockHandle(e.index, out);
  out.putVarint(e.firstBlock);
  if (e.filter !== undefined) encodeBlockHandle(e.filter, out);
}

/**
 * Decodes a top-level index value from `src` up to `limit`; handles must lie inside
 * [0, dataEnd). Returns undefined for garbage; callers report CORRUPTION.
 */
export function decodePartitionEntry(src: ByteSource, limit: number, dataEnd: number): PartitionEntry | undefined {
  const index = decodeBlockHandle(src, limit, dataEnd);
  const firstBlock = readVarint(src, limit);
  if (index === undefined || firstBlock < 0) return undefined;
  if (src.pos === limit) return { index, firstBlock, filter: undefined };
  const filter = decodeBlockHandle(src, limit, dataEnd);
  if (filter === undefined || src.pos !== limit) return undefined;
  return { index, firstBlock, filter };
}

export function encodeFooter(f: Footer): Uint8Array {
  const w = new ByteWriter(FOOTER_SIZE);
  w.putFixed64(f.metaIndex.offset);
  w.putFixed32(f.metaIndex.size);
  w.putFixed64(f.index.offset);
  w.putFixed32(f.index.size);
  w.putFixed32(FORMAT_VERSION);
  w.putFixed32(checksum(w.bytes()));
  w.putBytes(TABLE_MAGIC);
  return w.bytes().slice();
}

/** Decodes and validates the footer found at `footerOffset` (= file size − 40). */
export function decodeFooter(bytes: Uint8Array, file: string, footerOffset: number): Footer & { readonly version: number } {
  for (let i = 0; i < 8; i++) {
    if (bytes[32 + i] !== TABLE_MAGIC[i]) {
      throw corruption(file, footerOffset + 32, 'bad magic number: not a Strata table, or truncated');
    }
  }
  const crc = readFixed32(bytes, 28);
  if (crc !== checksum(bytes.subarray(0, 28))) throw corruption(file, footerOffset, 'footer checksum mismatch');
  const version = readFixed32(bytes, 24);
  if (version < OLDEST_FORMAT_VERSION || version > FORMAT_VERSION) {
    throw corruption(file, footerOffset + 24, `unsupported table format version ${version} (this reader knows ${OLDEST_FORMAT_VERSION}–${FORMAT_VERSION})`);
  }
  const metaIndex = { offset: readFixed64(bytes, 0), size: readFixed32(bytes, 8) };
  const index = { offset: readFixed64(bytes, 12), size: readFixed32(bytes, 20) };
  for (const h of [metaIndex, index]) {
    if (h.offset + h.size + BLOCK_TRAILER_SIZE > footerOffset) {
      throw corruption(file, footerOffset, `footer names a block [${h.offset}, +${h.size}) past the end of the data`);
    }
  }
  return { metaIndex, index, version };
}
