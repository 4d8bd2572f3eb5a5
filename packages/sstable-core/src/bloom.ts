/**
 * The table's bloom filter over user keys (one filter per table, as RocksDB's "full" filter),
 * so a point lookup of an absent key costs one cache line of probes and no block read.
 *
 * Filter block contents (stored raw — random bits do not compress — with the usual trailer):
 *
 *   bits   m bytes    m = 64·B: B blocks of 512 bits; bit i of a block is bit (i & 7) of its
 *                     byte (i >> 3)
 *   k      u8         probes per key, 1…30
 *
 * It is a blocked ("cache-local") bloom filter (Putze, Sanders & Singler 2007; RocksDB's
 * FastLocalBloom): with h1 = Murmur3-32 of the key, the key lives in block h1 mod B, and its
 * k probes are 9-bit positions inside that block, three from each remix h ← fmix32(h + φ)
 * (starting from h = h1; probe j uses bits [9·(j mod 3), +9) of the current h). One key
 * touches one 64-byte block — one cache miss instead of k — which made lookups of absent keys
 * several times faster than a classic filter over the same bits, for a somewhat higher
 * false-positive rate. Measured against the classic theory (1 − e^(−k/b))^k with
 * k = round(b·ln 2): 6 bits/key 5.7% (theory 5.6%), 10 bits/key 0.98% (0.82%),
 * 12 bits/key 0.41% (0.31%), 16 bits/key 0.084% (0.046%); past ~16 bits/key a blocked filter
 * falls further behind (20 bits/key: 0.025% vs 0.007%). B = ⌈n·b / 512⌉ for n distinct user
 * keys (each key is added once, not once per version).
 */
import { corruption } from '@strata-db/errors';

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

/** Murmur3's finaliser: the remix of the probe sequence (exported for the format's test). */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * `h1 % blocks` for a 32-bit unsigned hash, in small-integer arithmetic when `blocks` allows:
 * h1 above 2^31 is a double to the JIT, and a double's `%` is a call to fmod — per key.
 */
function blockOf(h1: number, blocks: number): number {
  if (blocks >= 0x8000) return h1 % blocks;
  return ((((h1 >>> 16) % blocks) << 16) | (h1 & 0xffff)) % blocks;
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

  /** Forgets every key added, keeping the grown hash array for the next table's keys. */
  reset(): void {
    this.count = 0;
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
    const blocks = Math.max(1, Math.ceil((this.count * this.bitsPerKey) / 512));
    const bytes = blocks * 64;
    const out = new Uint8Array(bytes + 1);
    const hashes = this.hashes;
    const count = this.count;
    for (let i = 0; i < count; i++) {
      const h1 = hashes[i]!;
      const base = blockOf(h1, blocks) << 6;
      // Three fresh 9-bit probe positions from each remix of the hash (the loop unrolled by three).
      let h = h1;
      for (let j = 0; ; ) {
        h = fmix(h + 0x9e3779b9);
        let pos = h & 511;
        out[base + (pos >>> 3)]! |= 1 << (pos & 7);
        if (++j === k) break;
        pos = (h >>> 9) & 511;
        out[base + (pos >>> 3)]! |= 1 << (pos & 7);
        if (++j === k) break;
        pos = (h >>> 18) & 511;
        out[base + (pos >>> 3)]! |= 1 << (pos & 7);
        if (++j === k) break;
      }
    }
    out[bytes] = k;
    return out;
  }
}

/** A loaded filter. `mayContain` is false only for keys that were certainly never added. */
export class BloomFilter {
  private readonly bits: Uint8Array;
  private readonly blocks: number;
  private readonly k: number;

  constructor(contents: Uint8Array, file: string, offset: number) {
    const bytes = contents.length - 1;
    const k = contents[bytes];
    if (bytes < 64 || bytes % 64 !== 0 || k === undefined || k < 1 || k > 30) {
      throw corruption(file, offset, `bloom filter block of ${contents.length} bytes with ${k ?? 'no'} probes is malformed`);
    }
    this.bits = contents.subarray(0, bytes);
    this.blocks = bytes / 64;
    this.k = k;
  }

  /** Probes per key (hash functions). */
  get probes(): number {
    return this.k;
  }

  /** Bytes of filter bits. */
  get byteLength(): number {
    return this.bits.length;
  }

  mayContain(key: Uint8Array): boolean {
    return this.mayContainHash(bloomHash(key));
  }

  /** `mayContain` for a key whose `bloomHash` the caller computed (once for many tables). */
  mayContainHash(h1: number): boolean {
    const bits = this.bits;
    // `blockOf`, not `h1 % blocks`: h1 above 2^31 is a double, and its `%` a call to fmod on
    // every probe of every table; the probes unrolled by three as in the builder.
    const base = blockOf(h1, this.blocks) << 6;
    const k = this.k;
    let h = h1;
    for (let j = 0; ; ) {
      h = fmix(h + 0x9e3779b9);
      let pos = h & 511;
      if ((bits[base + (pos >>> 3)]! & (1 << (pos & 7))) === 0) return false;
      if (++j === k) return true;
      pos = (h >>> 9) & 511;
      if ((bits[base + (pos >>> 3)]! & (1 << (pos & 7))) === 0) return false;
      if (++j === k) return true;
      pos = (h >>> 18) & 511;
      if ((bits[base + (pos >>> 3)]! & (1 << (pos & 7))) === 0) return false;
      if (++j === k) return true;
    }
  }

  /** Bytes of filter bits (for sizing and tests). */
  get sizeBytes(): number {
    return this.bits.length;
  }

  /** The whole buffer the filter's block was read into (the partition cache recycles it at eviction). */
  get buffer(): ArrayBuffer {
    return this.bits.buffer as ArrayBuffer;
  }

  /** Bytes this filter holds in memory (a partition cache's charge): its block's bits and the object. */
  get charge(): number {
    return this.bits.buffer.byteLength + 100;
  }
}
