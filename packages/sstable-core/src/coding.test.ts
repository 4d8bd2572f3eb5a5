import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteWriter, readFixed32, readFixed64, readVarint, varintLength } from './coding.js';

describe('coding', () => {
  it('varints round-trip every safe integer, with the predicted length', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()), { maxLength: 50 }), (values) => {
        const w = new ByteWriter(16);
        for (const v of values) w.putVarint(v);
        const src = { data: w.bytes(), pos: 0 };
        for (const v of values) {
          const start = src.pos;
          expect(readVarint(src, w.length)).toBe(v);
          expect(src.pos - start).toBe(varintLength(v));
        }
        expect(src.pos).toBe(w.length);
      }),
    );
  });

  it('varints around the int32 boundary are the base-128 digits, low first', () => {
    // writeVarintAt takes the bytes of a value ≥ 2^31 by division, the rest in int32.
    const digits = (v: number): number[] => {
      const out: number[] = [];
      while (v >= 128) {
        out.push((v % 128) | 0x80);
        v = Math.floor(v / 128);
      }
      out.push(v);
      return out;
    };
    for (const v of [0, 0x7f, 0x80, 0x3fff, 0x4000, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 0x7f, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 3, 2 ** 53 - 1]) {
      const w = new ByteWriter(16);
      w.putVarint(v);
      expect([...w.bytes()]).toEqual(digits(v));
    }
  });

  it('a varint cut short, too long or over 2^53 reads as -1', () => {
    expect(readVarint({ data: new Uint8Array([0x80, 0x80]), pos: 0 }, 2)).toBe(-1);
    expect(readVarint({ data: new Uint8Array([0x81]), pos: 0 }, 1)).toBe(-1);
    expect(readVarint({ data: new Uint8Array(9).fill(0x80), pos: 0 }, 9)).toBe(-1);
    expect(readVarint({ data: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), pos: 0 }, 8)).toBe(-1);
    expect(readVarint({ data: new Uint8Array([5]), pos: 1 }, 1)).toBe(-1);
  });

  it('fixed32 and fixed64 round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.maxSafeNat(), (a, b) => {
        const w = new ByteWriter(4);
        w.putFixed32(a);
        w.putFixed64(b);
        expect(readFixed32(w.bytes(), 0)).toBe(a);
        expect(readFixed64(w.bytes(), 4)).toBe(b);
      }),
    );
  });

  it('ByteWriter grows and keeps earlier bytes', () => {
    const w = new ByteWriter(16);
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    w.putByte(9);
    w.putBytes(big);
    w.putBytes(big, 10, 20);
    expect(w.length).toBe(1011);
    expect(w.bytes()[0]).toBe(9);
    expect([...w.bytes().subarray(1, 1001)]).toEqual([...big]);
    expect([...w.bytes().subarray(1001)]).toEqual([...big.subarray(10, 20)]);
  });
});
