/**
 * Little-endian integer fields: u64s holding JavaScript safe integers (segment numbers, LSNs),
 * written as two u32 halves rather than through BigInt because the record encoder is a hot
 * path; and the u32 and u16 fields of records and fragments. The writers store bytes rather
 * than call `Buffer#writeUInt32LE`: Node implements those in JavaScript (range and bounds
 * checks, three functions deep), which a cold process's optimizing compiler then compiles on
 * every durable put's path (engine README, "durable puts in a fresh process"). Callers write
 * in bounds, and values in range (a u32 is taken modulo 2^32, a u16 modulo 2^16).
 */

export function writeU64(buf: Uint8Array, value: number, offset: number): void {
  writeU32(buf, value >>> 0, offset);
  writeU32(buf, Math.floor(value / 0x1_0000_0000), offset + 4);
}

export function writeU32(buf: Uint8Array, value: number, offset: number): void {
  buf[offset] = value;
  buf[offset + 1] = value >>> 8;
  buf[offset + 2] = value >>> 16;
  buf[offset + 3] = value >>> 24;
}

export function writeU16(buf: Uint8Array, value: number, offset: number): void {
  buf[offset] = value;
  buf[offset + 1] = value >>> 8;
}

/** Returns -1 when the stored value is not a safe integer; callers treat that as damage. */
export function readU64(buf: Buffer, offset: number): number {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > 0x1f_ffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}
