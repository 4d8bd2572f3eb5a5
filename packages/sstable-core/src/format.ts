/**
 * The table file: layout, block handles and the footer.
 *
 *   data block 0 … data block N-1      entries (key ASC, seq DESC), block-format.ts
 *   filter block        (optional)     bloom filter over user keys, bloom.ts (never compressed)
 *   range-tombstone block              tombstones (start ASC, seq DESC): key = start, seq, value = end
 *   properties block                   named table properties, properties.ts
 *   meta-index block                   name → handle of the three blocks above
 *   index block                        one entry per data block: key/seq = separator, value = handle
 *   footer                             40 bytes, below
 *
 * Every block is followed by its 5-byte trailer (physical-block.ts: compression type + CRC-32).
 *
 * A block handle (in index and meta-index values) is `offset varint, size varint`; `size`
 * excludes the trailer. An index entry's (key, seq) is ≥ the last entry of its data block and
 * < the first entry of the next one, in (key ASC, seq DESC) order, so the first index entry
 * ≥ a target names the only block that can hold the target. Separators are shortened user keys
 * (with seq = MAX_SEQ, the smallest internal key of that user key) when a shorter key fits
 * between the blocks, else the last entry's own (key, seq).
 *
 * Footer, the last 40 bytes of the file (fixed-size so a reader finds it from the file size):
 *
 *   0   fixed64   meta-index block offset
 *   8   fixed32   meta-index block size
 *   12  fixed64   index block offset
 *   20  fixed32   index block size
 *   24  fixed32   format version (1)
 *   28  fixed32   CRC-32 of footer bytes [0, 28)
 *   32  8 bytes   magic "STRATAT1" (53 54 52 41 54 41 54 31)
 */
import { readFixed32, readFixed64, readVarint, ByteWriter, type ByteSource } from './coding.js';
import { checksum } from './checksum.js';
import { corruption } from '@strata-db/errors';
import { BLOCK_TRAILER_SIZE } from './physical-block.js';

export const FOOTER_SIZE = 40;
export const FORMAT_VERSION = 1;
export const TABLE_MAGIC = new Uint8Array([0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x54, 0x31]);

/** Largest sequence number; separators use it to be the first internal key of their user key. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Meta-index entry names. */
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
  readonly index: BlockHandle;
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
export function decodeFooter(bytes: Uint8Array, file: string, footerOffset: number): Footer {
  for (let i = 0; i < 8; i++) {
    if (bytes[32 + i] !== TABLE_MAGIC[i]) {
      throw corruption(file, footerOffset + 32, 'bad magic number: not a Strata table, or truncated');
    }
  }
  const crc = readFixed32(bytes, 28);
  if (crc !== checksum(bytes.subarray(0, 28))) throw corruption(file, footerOffset, 'footer checksum mismatch');
  const version = readFixed32(bytes, 24);
  if (version !== FORMAT_VERSION) {
    throw corruption(file, footerOffset + 24, `unsupported table format version ${version} (this reader knows ${FORMAT_VERSION})`);
  }
  const metaIndex = { offset: readFixed64(bytes, 0), size: readFixed32(bytes, 8) };
  const index = { offset: readFixed64(bytes, 12), size: readFixed32(bytes, 20) };
  for (const h of [metaIndex, index]) {
    if (h.offset + h.size + BLOCK_TRAILER_SIZE > footerOffset) {
      throw corruption(file, footerOffset, `footer names a block [${h.offset}, +${h.size}) past the end of the data`);
    }
  }
  return { metaIndex, index };
}
