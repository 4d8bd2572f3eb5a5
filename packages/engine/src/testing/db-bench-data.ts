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
