import { describe, expect, it } from 'vitest';
import { COMPRESSION_NAMES, CompressionType, compressionType } from './compression.js';
import { BLOCK_TRAILER_SIZE, sealBlock, unsealBlock } from './physical-block.js';
import { StrataError } from '@strata-db/errors';

const joined = (s: { payload: Uint8Array; trailer: Uint8Array }): Uint8Array => {
  const out = new Uint8Array(s.payload.length + s.trailer.length);
  out.set(s.payload);
  out.set(s.trailer, s.payload.length);
  return out;
};

describe('block trailer', () => {
  const compressible = new TextEncoder().encode('abcdefgh'.repeat(200));
  const random = new Uint8Array(1600).map(() => Math.floor(Math.random() * 256));

  const codecs = COMPRESSION_NAMES.filter((n) => n !== 'none');

  it.each(codecs)('round-trips raw and %s blocks; a block that does not shrink is stored raw', (name) => {
    const type = compressionType(name);
    const s = sealBlock(compressible, type);
    expect(s.trailer[0]).toBe(type);
    expect(s.payload.length).toBeLessThan(compressible.length / 4);
    expect(unsealBlock(joined(s), 'b.sst', 0)).toEqual(compressible);
    const r = sealBlock(random, type);
    expect(r.trailer[0]).toBe(CompressionType.None);
    expect(unsealBlock(joined(r), 'b.sst', 0)).toEqual(random);
    expect(sealBlock(compressible, CompressionType.None).payload.length).toBe(compressible.length);
  });

  it.each(codecs)('every single-bit flip (payload, type or checksum) of a %s or raw block is CORRUPTION at the block offset', (name) => {
    for (const [contents, type] of [
      [compressible.subarray(0, 300), compressionType(name)],
      [random.subarray(0, 100), CompressionType.None],
    ] as const) {
      const good = joined(sealBlock(contents, type));
      for (let i = 0; i < good.length * 8; i++) {
        const bad = good.slice();
        bad[i >> 3]! ^= 1 << (i & 7);
        let caught: unknown;
        try {
          unsealBlock(bad, 'b.sst', 4242);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(StrataError);
        expect(caught).toMatchObject({ code: 'CORRUPTION', file: 'b.sst', offset: 4242 });
      }
    }
    expect(() => unsealBlock(new Uint8Array(BLOCK_TRAILER_SIZE - 1), 'b.sst', 1)).toThrow(expect.objectContaining({ code: 'CORRUPTION' }));
  });
});
