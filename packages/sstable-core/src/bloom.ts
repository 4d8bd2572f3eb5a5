/**
 * The table's bloom filter over user keys (one filter per table, as RocksDB's "full" filter),
 * so a point lookup of an absent key costs k bit probes and no block read.
 *
 * Filter block contents (stored raw — random bits do not compress — with the usual trailer):
 *
 *   bits   m bytes    bit i of the filter is bit (i & 7) of byte (i >> 3); m ≥ 8
 *   k      u8         number of probes, 1…30
 *
 * Probe positions use double hashing (Kirsch & Mitzenmacher): h1 = Murmur3-32 of the key,
 * h2 = a second mix of h1; probe j tests bit (h1 + j·h2) mod 8m. With b bits per key,
 * k = round(b·ln 2) minimises the false-positive rate (1 − e^(−k/b))^k: 10 bits/key, k = 7
 * → 0.82%. The builder adds each user key once (not once per version).
 */
import { corruption } from './errors.js';

/** Murmur3 x86 32-bit of `key` (little-endian 4-byte blocks). */
export function bloomHash(key: Uint8Array): number {
  const len = key.length;
  let h = 0xbc9f1d34;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest !== 0) {
    let k = key[blocks]!;
    if (rest > 1) k |= key[blocks + 1]! << 8;
    if (rest > 2) k |= key[blocks + 2]! << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The double-hashing stride: a second, independent-looking hash of h1, odd so it is never 0 mod 8m. */
function probeStep(h1: number, nbits: number): number {
  return ((fmix(h1 ^ 0x9e3779b9) | 1) >>> 0) % nbits;
}

/** Probes for `bitsPerKey` bits per key. */
export function bloomProbes(bitsPerKey: number): number {
  return Math.min(30, Math.max(1, Math.round(bitsPerKey * Math.LN2)));
}

/** Collects key hashes (4 bytes per distinct key) and lays out the filter at the end. */
export class BloomFilterBuilder {
  private hashes = new Uint32Array(1024);
  private count = 0;

  constructor(private readonly bitsPerKey: number) {}

  get keyCount(): number {
    return this.count;
  }

  addKey(key: Uint8Array): void {
    if (this.count === this.hashes.length) {
      const bigger = new Uint32Array(this.hashes.length * 2);
      bigger.set(this.hashes);
      this.hashes = bigger;
    }
    this.hashes[this.count++] = bloomHash(key);
  }

  finish(): Uint8Array {
    const k = bloomProbes(this.bitsPerKey);
    const bytes = Math.max(8, Math.ceil((this.count * this.bitsPerKey) / 8));
    const nbits = bytes * 8;
    const out = new Uint8Array(bytes + 1);
    for (let i = 0; i < this.count; i++) {
      const h1 = this.hashes[i]!;
      let pos = h1 % nbits;
      const step = probeStep(h1, nbits);
      for (let j = 0; j < k; j++) {
        out[pos >>> 3]! |= 1 << (pos & 7);
        pos += step;
        if (pos >= nbits) pos -= nbits;
      }
    }
    out[bytes] = k;
    return out;
  }
}

/** A loaded filter. `mayContain` is false only for keys that were certainly never added. */
export class BloomFilter {
  private readonly bits: Uint8Array;
  private readonly nbits: number;
  private readonly k: number;

  constructor(contents: Uint8Array, file: string, offset: number) {
    const bytes = contents.length - 1;
    const k = contents[bytes];
    if (bytes < 8 || k === undefined || k < 1 || k > 30) {
      throw corruption(file, offset, `bloom filter block of ${contents.length} bytes with ${k ?? 'no'} probes is malformed`);
    }
    this.bits = contents.subarray(0, bytes);
    this.nbits = bytes * 8;
    this.k = k;
  }

  mayContain(key: Uint8Array): boolean {
    const nbits = this.nbits;
    const bits = this.bits;
    const h1 = bloomHash(key);
    let pos = h1 % nbits;
    const step = probeStep(h1, nbits);
    for (let j = 0; j < this.k; j++) {
      if ((bits[pos >>> 3]! & (1 << (pos & 7))) === 0) return false;
      pos += step;
      if (pos >= nbits) pos -= nbits;
    }
    return true;
  }

  /** Bytes of filter bits (for sizing and tests). */
  get sizeBytes(): number {
    return this.bits.length;
  }
}
