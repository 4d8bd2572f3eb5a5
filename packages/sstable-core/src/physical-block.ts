/**
 * How a block sits in the file: its (possibly compressed) contents followed by a 5-byte trailer.
 *
 *   payload   size bytes   block contents (block-format.ts, or the filter), compressed or raw
 *   type      u8           compression type (compression.ts): 0 none, 1 snappy, 2 lz4, 3 deflate
 *   crc       fixed32      CRC-32 (checksum.ts) of payload followed by the type byte
 *
 * A block handle's `size` counts the payload only (as in LevelDB), so a reader fetches
 * size + 5 bytes. The checksum covers the type byte so that a flipped type cannot make a
 * raw block be "decompressed" (or the reverse) undetected. Every read from the file verifies it.
 */
import { readFixed32 } from './coding.js';
import { checksum } from './checksum.js';
import { compressBlock, decompressBlock, CompressionType } from './compression.js';
import { corruption } from '@strata-db/errors';

export const BLOCK_TRAILER_SIZE = 5;

/** One 1-byte array per type, for continuing the CRC over the type byte without a copy. */
const typeBytes = Array.from({ length: 256 }, (_, t) => new Uint8Array([t]));

/** The bytes to write for one block: payload and its trailer (two pieces, to avoid a copy). */
export interface SealedBlock {
  readonly payload: Uint8Array;
  readonly trailer: Uint8Array;
}

/** Compresses (if asked and worthwhile) and checksums `contents`. */
export function sealBlock(contents: Uint8Array, compression: CompressionType): SealedBlock {
  const compressed = compressBlock(contents, compression);
  const type = compressed === undefined ? CompressionType.None : compression;
  const payload = compressed ?? contents;
  const crc = checksum(typeBytes[type]!, checksum(payload));
  const trailer = new Uint8Array(BLOCK_TRAILER_SIZE);
  trailer[0] = type;
  trailer[1] = crc & 0xff;
  trailer[2] = (crc >>> 8) & 0xff;
  trailer[3] = (crc >>> 16) & 0xff;
  trailer[4] = (crc >>> 24) & 0xff;
  return { payload, trailer };
}

/**
 * Verifies the trailer of `raw` (payload + trailer, as read from `offset` in `file`) and returns
 * the block contents, decompressed if needed.
 */
export function unsealBlock(raw: Uint8Array, file: string, offset: number): Uint8Array {
  const type = verifyBlock(raw, raw.length, file, offset);
  // A view made with the constructor, not `subarray` (~35 against ~100–160 ns in V8 12: subarray
  // looks up the species constructor); this runs on every block read.
  return decompressBlock(new Uint8Array(raw.buffer, raw.byteOffset, raw.length - BLOCK_TRAILER_SIZE), type, file, offset);
}

/**
 * Verifies the checksum of the block in `buf[0, length)` (payload + trailer, as read from
 * `offset` in `file`) and returns its compression type; with CompressionType.None the contents
 * are `buf[0, length − BLOCK_TRAILER_SIZE)`. No view of the payload is made: the block cache's
 * miss path reads into a recycled buffer and parses it in place (Table.cachedBlock).
 */
export function verifyBlock(buf: Uint8Array, length: number, file: string, offset: number): number {
  const size = length - BLOCK_TRAILER_SIZE;
  if (size < 0) throw corruption(file, offset, 'block is shorter than its trailer');
  const type = buf[size]!;
  const stored = readFixed32(buf, size + 1);
  // Payload and type byte are contiguous: one CRC call over both (the same value as the writer's
  // CRC of the payload continued over the type byte) instead of two.
  const actual = checksum(new Uint8Array(buf.buffer, buf.byteOffset, size + 1));
  if (stored !== actual) {
    throw corruption(file, offset, `block checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}, ${size} bytes)`);
  }
  return type;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
