/**
 * Checksums of segment headers and record fragments: CRC-32 (IEEE) from `node:zlib`, masked as
 * LevelDB masks its CRC-32C.
 *
 * Why CRC-32 rather than LevelDB's CRC-32C: `zlib.crc32` is native and ships with Node (about
 * 5 GB/s on the CI machine), so the package needs no dependency. Both detect every burst error of
 * up to 32 bits and miss random damage with probability 2^-32.
 *
 * Why masked: the CRC of a byte string that embeds its own CRCs (a WAL copied into another log,
 * a record checksummed again by a lower layer) degenerates; rotating and adding a constant breaks
 * that relation. The constant is LevelDB's (`crc32c::Mask`).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

const MASK_DELTA = 0xa282ead8;

/** Unmasked CRC-32 of `data`, continuing from `previous` (0 to start). */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous);
}

/** The form stored on disk. */
export function mask(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}
