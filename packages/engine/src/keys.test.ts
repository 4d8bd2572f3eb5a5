import { describe, expect, it } from 'vitest';
import { keyArg, lookupKeyArg, valueArg } from './keys.js';

describe('keyArg and valueArg copy the bytes they are given', () => {
  it('copies a Buffer (whose slice() is a view), a Uint8Array and a large value', () => {
    for (const make of [(n: number) => Buffer.alloc(n, 7), (n: number) => new Uint8Array(n).fill(7)]) {
      for (const n of [0, 1, 16, 100, 1024, 1025, 70_000]) {
        const src = make(n);
        const k = n <= 65_536 ? keyArg(src) : undefined;
        const v = valueArg(src);
        src.fill(9);
        for (const copy of [k, v]) {
          if (copy === undefined) continue;
          expect(copy.length).toBe(n);
          expect(copy.every((b) => b === 7)).toBe(true);
        }
      }
    }
  });

  it('gives distinct copies for a reused buffer', () => {
    const buf = Buffer.from('key-0');
    const copies: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      buf.writeUInt8(i & 0xff, 4);
      copies.push(keyArg(buf));
    }
    copies.forEach((c, i) => {
      expect(c[4]).toBe(i & 0xff);
    });
  });

  it('does not copy a key that is only looked up', () => {
    const buf = Buffer.from('abc');
    expect(lookupKeyArg(buf)).toBe(buf);
  });
});
