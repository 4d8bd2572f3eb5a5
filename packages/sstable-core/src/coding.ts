/**
 * Integer encodings shared by every structure of the table format.
 *
 *   varint   LEB128: 7 bits per byte, least significant group first, high bit = "more follows".
 *            Values are safe integers (< 2^53), so at most 8 bytes.
 *   fixed32  4 bytes, little-endian, unsigned.
 *   fixed64  8 bytes, little-endian: low fixed32 then high fixed32 (values < 2^53).
 *
 * JavaScript bit operators are 32-bit, so values ≥ 2^31 are split with arithmetic instead.
 */

/** Read position shared by the decoders, so decoding allocates nothing. */
export interface ByteSource {
  readonly data: Uint8Array;
  pos: number;
}

/**
 * Decodes a varint at `src.pos`, advancing it. Returns -1 (and leaves `pos` anywhere) when the
 * varint runs past `limit` or has more than 8 bytes — the caller turns that into CORRUPTION.
 */
export function readVarint(src: ByteSource, limit: number): number {
  const data = src.data;
  let p = src.pos;
  if (p >= limit) return -1;
  let b = data[p++]!;
  if (b < 0x80) {
    src.pos = p;
    return b;
  }
  let result = b & 0x7f;
  let mul = 0x80;
  for (let i = 1; i < 8; i++) {
    if (p >= limit) return -1;
    b = data[p++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      src.pos = p;
      return result <= Number.MAX_SAFE_INTEGER ? result : -1;
    }
    mul *= 0x80;
  }
  return -1;
}

export function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/**
 * Writes v as a varint at buf[p] (the caller made room: at most 8 bytes); returns the offset
 * after it.
 */
export function writeVarintAt(buf: Uint8Array, p: number, v: number): number {
  // Two loops: the bytes of a value ≥ 2^31 by division (a double), the rest in int32. One loop
  // choosing per byte (`v < 2^31 ? v >>> 7 : Math.floor(v / 128)`) kept v a double throughout —
  // every seq of every block entry (2–4 bytes) went through float arithmetic and conversions.
  while (v >= 0x8000_0000) {
    buf[p++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 0x80);
  }
  let u = v | 0;
  while (u >= 0x80) {
    buf[p++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[p++] = u;
  return p;
}

export function readFixed32(data: Uint8Array, p: number): number {
  return (data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24)) >>> 0;
}

export function readFixed64(data: Uint8Array, p: number): number {
  return readFixed32(data, p) + readFixed32(data, p + 4) * 0x1_0000_0000;
}

/**
 * An append-only byte buffer that doubles when full. `bytes()` is a view, valid until the next
 * append or `reset()`.
 */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  private grow(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  reset(): void {
    this.length = 0;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  putByte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }

  /**
   * Makes room for `n` more bytes and returns the buffer to write them into at `length` (then
   * set `length` past them): for an encoder that writes several fields with one capacity check.
   * Valid until the next append or `reset()`.
   */
  reserve(n: number): Uint8Array {
    if (this.length + n > this.buf.length) this.grow(n);
    return this.buf;
  }

  putVarint(v: number): void {
    if (this.length + 8 > this.buf.length) this.grow(8);
    this.length = writeVarintAt(this.buf, this.length, v);
  }

  putFixed32(v: number): void {
    if (this.length + 4 > this.buf.length) this.grow(4);
    const buf = this.buf;
    const p = this.length;
    buf[p] = v & 0xff;
    buf[p + 1] = (v >>> 8) & 0xff;
    buf[p + 2] = (v >>> 16) & 0xff;
    buf[p + 3] = (v >>> 24) & 0xff;
    this.length = p + 4;
  }

  putFixed64(v: number): void {
    this.putFixed32(v >>> 0);
    this.putFixed32(Math.floor(v / 0x1_0000_0000));
  }

  putBytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (this.length + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let p = this.length;
    if (n < 32) {
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
    } else {
      buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), p);
      p += n;
    }
    this.length = p;
  }
}
