import { describe, expect, it } from 'vitest';
import { permutation, shuffled } from './db-bench-data.js';

describe('permutation', () => {
  it.each([1, 2, 3, 5, 1000, 4096, 4097, 65_537])('visits each of 0..%i-1 exactly once', (n) => {
    const p = permutation(n, 42);
    const seen = new Uint8Array(n);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const v = p.at(i);
      if (Number.isInteger(v) && v >= 0 && v < n) seen[v]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it('is the same for the same seed and differs between seeds', () => {
    const a = permutation(10_000, 42);
    const b = permutation(10_000, 42);
    const c = permutation(10_000, 7);
    const at = (p: { at: (i: number) => number }): number[] => Array.from({ length: 100 }, (_, i) => p.at(i));
    expect(at(a)).toEqual(at(b));
    expect(at(a)).not.toEqual(at(c));
  });

  it('is shuffled: neighbours in the order are far apart in value, as with `shuffled`', () => {
    // A fill that walks mostly ascending runs would measure a different workload than fillrandom.
    const n = 100_000;
    const p = permutation(n, 42);
    const s = shuffled(n, 42);
    const ascendingShare = (f: (i: number) => number): number => {
      let up = 0;
      for (let i = 1; i < n; i++) if (f(i) > f(i - 1)) up++;
      return up / (n - 1);
    };
    expect(Math.abs(ascendingShare((i) => p.at(i)) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(ascendingShare((i) => s[i]!) - 0.5)).toBeLessThan(0.01);
  });

  it('rejects n outside [1, 2^32]', () => {
    expect(() => permutation(0, 1)).toThrow(RangeError);
    expect(() => permutation(2 ** 32 + 1, 1)).toThrow(RangeError);
  });
});
