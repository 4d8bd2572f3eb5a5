import { describe, expect, it } from 'vitest';
import { BloomFilter, BloomFilterBuilder, bloomHash, bloomProbes, fmix } from './bloom.js';

function key(i: number, salt: string): Uint8Array {
  return new TextEncoder().encode(`${salt}-${i}-${(i * 2654435761) >>> 0}`);
}

describe('bloom filter', () => {
  for (const bitsPerKey of [6, 10, 12]) {
    it(`${bitsPerKey} bits/key: no false negatives; false-positive rate within 2× of the classic theory`, () => {
      const n = 50_000;
      const b = new BloomFilterBuilder(bitsPerKey);
      for (let i = 0; i < n; i++) b.addKey(key(i, 'in'));
      const f = new BloomFilter(b.finish(), 'f.sst', 0);
      let negatives = 0;
      for (let i = 0; i < n; i++) if (!f.mayContain(key(i, 'in'))) negatives++;
      expect(negatives).toBe(0);
      const probes = 200_000;
      let fp = 0;
      for (let i = 0; i < probes; i++) if (f.mayContain(key(i, 'out'))) fp++;
      const k = bloomProbes(bitsPerKey);
      const theory = (1 - Math.exp(-k / bitsPerKey)) ** k;
      const measured = fp / probes;
      expect(measured).toBeLessThan(2 * theory);
      expect(measured).toBeGreaterThan(theory / 2); // the filter is not trivially empty either
    });
  }

  it('the filter bits follow the format: block h1 mod B, three 9-bit probes per remix fmix(h + φ)', () => {
    // The layout as the file header states it, written the plain way: tables already on disk were built so.
    for (const [n, bitsPerKey] of [[1, 10], [1000, 10], [5003, 7], [2_000_000, 10]] as const) {
      const b = new BloomFilterBuilder(bitsPerKey);
      const keys = Array.from({ length: n }, (_, i) => Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, i >>> 16, 7));
      for (const key of keys) b.addKey(key);
      const k = bloomProbes(bitsPerKey);
      const blocks = Math.max(1, Math.ceil((n * bitsPerKey) / 512));
      const want = new Uint8Array(blocks * 64 + 1);
      for (const key of keys) {
        const h1 = bloomHash(key);
        const base = (h1 % blocks) * 64;
        let h = h1;
        for (let j = 0; j < k; j++) {
          if (j % 3 === 0) h = fmix(h + 0x9e3779b9);
          const pos = (h >>> (9 * (j % 3))) & 511;
          want[base + (pos >>> 3)]! |= 1 << (pos & 7);
        }
      }
      want[blocks * 64] = k;
      expect(Buffer.from(b.finish()).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('short keys (0–3 bytes) hash distinctly enough to be filtered', () => {
    const b = new BloomFilterBuilder(10);
    b.addKey(new Uint8Array(0));
    b.addKey(new Uint8Array([1, 2, 3]));
    const f = new BloomFilter(b.finish(), 'f.sst', 0);
    expect(f.mayContain(new Uint8Array(0))).toBe(true);
    expect(f.mayContain(new Uint8Array([1, 2, 3]))).toBe(true);
    let fp = 0;
    for (let i = 0; i < 256; i++) if (f.mayContain(new Uint8Array([i]))) fp++;
    expect(fp).toBeLessThan(20);
  });

  it('rejects a malformed filter block', () => {
    expect(() => new BloomFilter(new Uint8Array(65), 'f.sst', 99)).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: 99 }));
    const ok = new BloomFilterBuilder(10).finish();
    ok[ok.length - 1] = 0;
    expect(() => new BloomFilter(ok, 'f.sst', 99)).toThrow(expect.objectContaining({ code: 'CORRUPTION' }));
  });
});
