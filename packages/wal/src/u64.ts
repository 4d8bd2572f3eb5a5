/**
 * u64 little-endian fields holding JavaScript safe integers (segment numbers, LSNs). Written as
 * two u32 halves rather than through BigInt because the record encoder is a hot path.
 */

export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

/** Returns -1 when the stored value is not a safe integer; callers treat that as damage. */
export function readU64(buf: Buffer, offset: number): number {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > 0x1f_ffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}
