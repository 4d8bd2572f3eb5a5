/**
 * The segment header: the first 48 bytes of every segment file. It names the database the
 * segment belongs to and where the segment sits in the log, so that replay can refuse a file of
 * another database, a renamed file, a gap or a reversal without trusting file names alone.
 *
 *   offset  size  field
 *        0     8  magic "STRATAWL"
 *        8     4  format version, u32 LE (1)
 *       12    16  database UUID (the 16 bytes of its canonical string form)
 *       28     8  segment number, u64 LE (≥ 1; equals the number in the file name)
 *       36     8  first LSN the segment may hold, u64 LE (≥ 1; every record's LSNs are ≥ it)
 *       44     4  masked CRC-32 of bytes 0‥43
 *
 * Integers are little-endian. u64 fields hold JavaScript safe integers (< 2^53); a larger value
 * is corruption. Records start right after the header, at byte 48 of the first 32 KiB block.
 */
import { StrataError } from '@strata-db/errors';
import { crc32, mask } from './checksum.js';
import { readU64, writeU64 } from './little-endian.js';

export const SEGMENT_HEADER_SIZE = 48;
export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('STRATAWL', 'latin1');
const CRC_OFFSET = 44;

export interface SegmentHeader {
  readonly uuid: Uint8Array;
  readonly segment: number;
  readonly firstLsn: number;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID string such as `crypto.randomUUID()` returns. */
export function uuidBytes(uuid: string): Uint8Array {
  if (!UUID_PATTERN.test(uuid)) {
    throw new StrataError('INVALID_ARGUMENT', `"${uuid}" is not a UUID (expected the form crypto.randomUUID() returns)`);
  }
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_SIZE);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.set(header.uuid, 12);
  writeU64(buf, header.segment, 28);
  writeU64(buf, header.firstLsn, 36);
  buf.writeUInt32LE(mask(crc32(buf.subarray(0, CRC_OFFSET))), CRC_OFFSET);
  return buf;
}

/**
 * Parses and checks a header: magic, version, checksum, and that the fields are sane. It does not
 * compare the UUID or the number — the caller knows what to expect and what a mismatch means.
 * Throws CORRUPTION naming `file` when the bytes are not a header this version wrote.
 */
export function decodeSegmentHeader(data: Uint8Array, file: string): SegmentHeader {
  if (data.length < SEGMENT_HEADER_SIZE) {
    throw new StrataError('CORRUPTION', `${file}: segment header is torn: the file holds ${data.length} of its ${SEGMENT_HEADER_SIZE} bytes`, { file, offset: data.length });
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, SEGMENT_HEADER_SIZE);
  if (!buf.subarray(0, 8).equals(MAGIC)) {
    throw new StrataError('CORRUPTION', `${file}: not a Strata WAL segment (bad magic); move the file out of the database directory if it does not belong there`, { file, offset: 0 });
  }
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    throw new StrataError('CORRUPTION', `${file}: segment format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`, { file, offset: 8 });
  }
  if (buf.readUInt32LE(CRC_OFFSET) !== mask(crc32(buf.subarray(0, CRC_OFFSET)))) {
    throw new StrataError('CORRUPTION', `${file}: segment header checksum mismatch`, { file, offset: 0 });
  }
  const segment = readU64(buf, 28);
  const firstLsn = readU64(buf, 36);
  if (segment < 1 || firstLsn < 1) {
    throw new StrataError('CORRUPTION', `${file}: segment header holds an impossible segment number ${segment} or first LSN ${firstLsn}`, { file, offset: 28 });
  }
  return { uuid: buf.subarray(12, 28), segment, firstLsn };
}
