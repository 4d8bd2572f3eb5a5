import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checksum } from './checksum.js';
import { COMPRESSION_NAMES, compressBlock, compressionType, CompressionType, decompressBlock, isCompressionName, MAX_BLOCK_CONTENTS } from './compression.js';
import { StrataError } from '@strata-db/errors';
import { unsealBlock } from './physical-block.js';

const utf8 = new TextEncoder();
const json = utf8.encode(
  Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: i, name: `user ${i}`, email: `user.${i}@example.com`, active: i % 3 === 0 })).join(''),
);
const random = new Uint8Array(4096).map(() => Math.floor(Math.random() * 256));
const codecs = COMPRESSION_NAMES.filter((n) => n !== 'none');

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('codecs', () => {
  it('names and types agree; unknown names are not codecs', () => {
    expect(COMPRESSION_NAMES.map(compressionType)).toEqual([0, 1, 2, 3]);
    for (const n of COMPRESSION_NAMES) expect(isCompressionName(n)).toBe(true);
    for (const v of ['zstd', 'LZ4', '', 2, undefined, null]) expect(isCompressionName(v)).toBe(false);
  });

  it.each(codecs)('%s round-trips blocks of every size; incompressible input is refused (stored raw)', (name) => {
    const type = compressionType(name);
    for (const n of [400, 1000, json.length]) {
      const contents = json.subarray(0, n);
      const c = compressBlock(contents, type);
      expect(c, `${n} bytes`).toBeDefined();
      expect(c!.length).toBeLessThan(n - (n >>> 3));
      const back = decompressBlock(c!, type, 'x.sst', 0);
      expect(back.constructor).toBe(Uint8Array);
      expect(back).toEqual(contents);
    }
    expect(compressBlock(random, type)).toBeUndefined();
    expect(compressBlock(new Uint8Array(0), type)).toBeUndefined();
  });

  it.each(codecs)('a %s payload that does not decode is CORRUPTION, never an exception of the codec or wrong-length data', (name) => {
    const type = compressionType(name);
    const good = compressBlock(json, type)!;
    const bad: Uint8Array[] = [good.subarray(0, good.length >> 1), good.subarray(0, 3), new Uint8Array(0), random.subarray(0, 200)];
    for (const payload of bad) {
      const err = caught(() => decompressBlock(payload, type, 'x.sst', 77));
      // A payload that happens to decode is returned; one that does not is never anything but CORRUPTION.
      if (err !== undefined) expect(err).toMatchObject({ code: 'CORRUPTION', file: 'x.sst', offset: 77 });
      expect(err === undefined || err instanceof StrataError).toBe(true);
    }
    // Truncation always fails for every codec (the length is known or the stream ends early).
    expect(caught(() => decompressBlock(good.subarray(0, good.length >> 1), type, 'x.sst', 77))).toMatchObject({ code: 'CORRUPTION' });
  });

  it('an lz4 block whose length field asks for more than a block may hold is CORRUPTION before any allocation', () => {
    const good = compressBlock(json, CompressionType.LZ4)!;
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, MAX_BLOCK_CONTENTS + 1, true);
    expect(caught(() => decompressBlock(bad, CompressionType.LZ4, 'x.sst', 5))).toMatchObject({ code: 'CORRUPTION', offset: 5 });
    // Off by one in the length: the decoder's own check.
    new DataView(bad.buffer).setUint32(0, json.length + 1, true);
    expect(caught(() => decompressBlock(bad, CompressionType.LZ4, 'x.sst', 5))).toMatchObject({ code: 'CORRUPTION' });
  });

  it('an unknown type byte whose checksum is right (a future codec) is CORRUPTION naming the type', () => {
    const raw = new Uint8Array(json.length + 5);
    raw.set(json);
    raw[json.length] = 9;
    new DataView(raw.buffer).setUint32(json.length + 1, checksum(raw.subarray(0, json.length + 1)), true);
    expect(caught(() => unsealBlock(raw, 'x.sst', 0))).toMatchObject({ code: 'CORRUPTION', message: expect.stringContaining('unknown compression type 9') });
  });

  it('lz4 and snappy are loaded when a block of theirs is first met, not with the module', () => {
    // In a fresh process: this test process may have loaded either codec already.
    const module = JSON.stringify(new URL('./compression.ts', import.meta.url).href);
    const script = `
      import { createRequire } from 'node:module';
      const { compressBlock, decompressBlock, CompressionType: T } = await import(${module});
      const loaded = () => [...new Set(Object.keys(createRequire(process.cwd() + '/').cache).map((f) => /lz4-wasm-nodejs|snappyjs/.exec(f)?.[0]).filter(Boolean)).values()].sort().join(',');
      const block = new TextEncoder().encode('strata '.repeat(100));
      const seen = [loaded()];
      decompressBlock(compressBlock(block, T.Deflate), T.Deflate, 'x.sst', 0);
      compressBlock(block, T.None);
      seen.push(loaded());
      decompressBlock(compressBlock(block, T.LZ4), T.LZ4, 'x.sst', 0);
      seen.push(loaded());
      compressBlock(block, T.Snappy);
      seen.push(loaded());
      console.log(JSON.stringify(seen));`;
    const out = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['', '', 'lz4-wasm-nodejs', 'lz4-wasm-nodejs,snappyjs']);
  });
});
