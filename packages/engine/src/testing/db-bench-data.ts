// The keys and values of the db_bench-style workloads, shared by the engine's and the level
// adapter's benchmarks and by `strata bench`, so that every engine and every benchmark writes the
// same bytes: 16-byte decimal keys (byte order = numeric order) and 100-byte values sliced from
// one pool of seeded random bytes (incompressible, as db_bench's; compression is measured elsewhere).
export const KEY_SIZE = 16;
export const VALUE_SIZE = 100;

/** A fresh 16-byte key: i in decimal, zero-padded. */
export function key(i: number): Buffer {
  const b = Buffer.allocUnsafe(KEY_SIZE);
  for (let p = KEY_SIZE - 1; p >= 0; p--) {
    b[p] = 48 + (i % 10);
    i = Math.floor(i / 10);
  }
  return b;
}

const valuePool = Buffer.alloc(VALUE_SIZE * 1024);
{
  let s = 12345;
  for (let i = 0; i < valuePool.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    valuePool[i] = s >>> 24;
  }
}

/** The value of key i: a view into the shared pool (copy it if you keep it). */
export function value(i: number): Buffer {
  const offset = (i * 7919) % (valuePool.length - VALUE_SIZE);
  return valuePool.subarray(offset, offset + VALUE_SIZE);
}

/** A seeded permutation of 0..n-1 (the same for every engine). */
export function shuffled(n: number, seed: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/**
 * A seeded permutation of 0..n-1 that holds no table: `at(i)` is the i-th element. A keyed
 * Feistel network on the smallest even number of bits that covers n, with cycle walking (values
 * ≥ n are encrypted again until they fall below n; the domain is < 4n, so that takes < 4 steps
 * on average). `shuffled` costs 4 bytes per key — 400 MB at 100M keys, which a benchmark that
 * measures the engine's RSS must not carry.
 */
export function permutation(n: number, seed: number): { readonly at: (i: number) => number } {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`permutation: n must be an integer in [1, 2^32], got ${n}`);
  let bits = 2;
  while (2 ** bits < n) bits++;
  const half = Math.ceil(bits / 2);
  const mask = 2 ** half - 1;
  const roundKeys: number[] = [];
  let s = seed >>> 0;
  for (let r = 0; r < 6; r++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    roundKeys.push(s);
  }
  const encrypt = (x: number): number => {
    let left = Math.floor(x / 2 ** half);
    let right = x % 2 ** half;
    for (const k of roundKeys) {
      // A murmur3-style finalizer of (right, round key): every input bit reaches every output bit.
      let h = (right ^ k) >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h = (h ^ (h >>> 16)) >>> 0;
      const next = (left ^ h) & mask;
      left = right;
      right = next >>> 0;
    }
    return left * 2 ** half + right;
  };
  return {
    at(i: number): number {
      let v = encrypt(i);
      while (v >= n) v = encrypt(v);
      return v;
    },
  };
}
