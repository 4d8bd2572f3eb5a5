// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- snappyjs ships no types, and packages that compile this file from source (via the "source" condition) must see the declaration too
/// <reference path="./snappyjs.d.ts" />
/**
 * Per-block compression. The codec is recorded in each block's trailer (physical-block.ts), so
 * a table may mix codecs and a reader never needs to be told which one a writer chose: a
 * database written before a change of the `compression` option reads as before, block by block.
 *
 * The codecs and their payloads, byte by byte (the payload is what sits before the trailer):
 *
 *   0  none      the block contents
 *   1  snappy    Google's Snappy raw format: varint uncompressed length, then Snappy elements
 *                (snappyjs, pure JS)
 *   2  lz4       fixed32 uncompressed length, then one LZ4 *block* (the LZ4 block format, not
 *                the frame format: no magic, no frame checksum — the trailer's CRC covers it)
 *                (lz4-wasm-nodejs: lz4_flex compiled to WebAssembly, loaded synchronously)
 *   3  deflate   raw DEFLATE (RFC 1951: no zlib or gzip header, no Adler-32), node:zlib
 *
 * Every codec is pure JavaScript, WebAssembly or part of Node: nothing needs a native build. Why
 * these and not others is measured in the sstable-iterators benchmark (README, "Compression"):
 * lz4 is the fast one (several times snappyjs both ways at the same ratio, and a fast failure on
 * incompressible data), deflate the strong one (~1.35× lz4's ratio on JSON at a quarter of its
 * speed, and slow to fail). snappy stays readable, and writable, for the tables that used it.
 * zstd is not offered yet: the one WebAssembly build that measured well here (@bokuweb/zstd-wasm,
 * level 1: deflate's speed, ~12% smaller on JSON) compiles its module asynchronously, and table
 * reads are synchronous (getSync); Node 20's zlib has no zstd. Type 4 is where it would go.
 *
 * A block that does not shrink by at least 1/8 is stored raw (type 0): decompressing costs a
 * copy on every cache miss, which is not worth a few saved bytes, and incompressible data then
 * costs only the attempt.
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type * as Lz4 from 'lz4-wasm-nodejs';
import type * as Snappy from 'snappyjs';
import { corruption } from '@strata-db/errors';
import { readFixed32 } from './coding.js';

/**
 * The lz4 and snappy codecs are loaded the first time a block of theirs is compressed or
 * decompressed, not with this module: a process that never meets one does not pay for it.
 * Loading lz4-wasm-nodejs compiles and instantiates its WebAssembly module — 4.0 MB of RSS in a
 * bare node (three runs: 40.9 → 44.8 MB), before any block — and snappyjs is ~2 MB more; a
 * database's main thread reads only what its tables hold (incompressible values are stored raw,
 * and the default `['none', 'lz4']` compresses on the background worker, which loads its own).
 * Both are CommonJS and load synchronously, as `getSync` needs, through a `require` made for
 * this module's file (`__filename` in the CJS build, `import.meta.url` in the ESM build and the
 * sources), or the one in scope in the background worker's bundle of the sources, which has
 * neither (worker-loader.ts hands it one that resolves from the engine's sources). Not
 * `typeof require` first: the ESM build's bundler defines a `require` stand-in that throws.
 *
 * Not one mechanism with the engine's worker-loader.ts: that one finds the engine's own code (a
 * worker file beside it, or a bundle of the sources) and starts a thread from it; this one
 * requires a third-party CommonJS package, synchronously, from any build. What they share is the
 * `__filename` / `import.meta.url` test, and that cannot move into a helper either package
 * imports: `import.meta.url` names the module it is written in, so each must ask in its own file.
 */
function load(id: string): unknown {
  if (typeof __filename === 'string' && isAbsolute(__filename)) return createRequire(__filename)(id);
  const url = (import.meta as { url?: string }).url;
  if (typeof url === 'string') return createRequire(url)(id);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the worker bundle's own `require` (above)
  return require(id);
}
let lz4Codec: typeof Lz4 | undefined;
let snappyCodec: typeof Snappy | undefined;
function lz4(): typeof Lz4 {
  return (lz4Codec ??= load('lz4-wasm-nodejs') as typeof Lz4);
}
function snappy(): typeof Snappy {
  return (snappyCodec ??= load('snappyjs') as typeof Snappy);
}

export const CompressionType = { None: 0, Snappy: 1, LZ4: 2, Deflate: 3 } as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];
export type CompressionName = 'none' | 'snappy' | 'lz4' | 'deflate';

/** Every codec name a writer accepts, in type order (index = CompressionType). */
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'snappy', 'lz4', 'deflate'];

/** Whether `v` names a codec (for validating options that come from untyped callers). */
export function isCompressionName(v: unknown): v is CompressionName {
  return typeof v === 'string' && (COMPRESSION_NAMES as readonly string[]).includes(v);
}

export function compressionType(name: CompressionName): CompressionType {
  const i = COMPRESSION_NAMES.indexOf(name);
  return (i < 0 ? 0 : i) as CompressionType;
}

/** Largest block contents a reader will inflate; bounds the allocation a damaged length could ask for. */
export const MAX_BLOCK_CONTENTS = 256 * 1024 * 1024;

/**
 * zlib level 1: on 4 KiB JSON blocks it keeps ~93% of level 6's ratio at ~1.4× its speed
 * (CPU time, measured while choosing); compaction time is what the bottom level pays for its ratio.
 */
const DEFLATE_OPTIONS = { level: 1 } as const;
const INFLATE_OPTIONS = { maxOutputLength: MAX_BLOCK_CONTENTS } as const;

/**
 * Compresses with `type`; returns undefined when the codec is `none` or the result would not
 * save at least 1/8 of the bytes (the caller then stores the block raw).
 */
export function compressBlock(contents: Uint8Array, type: CompressionType): Uint8Array | undefined {
  let out: Uint8Array;
  switch (type) {
    case CompressionType.None:
      return undefined;
    case CompressionType.Snappy:
      out = snappy().compress(contents);
      break;
    case CompressionType.LZ4:
      out = lz4().compress(contents);
      break;
    case CompressionType.Deflate:
      out = plain(deflateRawSync(contents, DEFLATE_OPTIONS));
      break;
  }
  return out.length < contents.length - (contents.length >>> 3) ? out : undefined;
}

/** Inverse of compressBlock; a payload that does not decode is CORRUPTION at `offset`. */
export function decompressBlock(payload: Uint8Array, type: number, file: string, offset: number): Uint8Array {
  switch (type) {
    case CompressionType.None:
      return payload;
    case CompressionType.Snappy:
      try {
        return plain(snappy().uncompress(payload, MAX_BLOCK_CONTENTS));
      } catch (err) {
        throw corruption(file, offset, `snappy block does not decompress (${(err as Error).message})`);
      }
    case CompressionType.LZ4: {
      // Checked before the call: a damaged length must not make the decoder allocate gigabytes.
      const size = payload.length >= 4 ? readFixed32(payload, 0) : -1;
      if (size < 0 || size > MAX_BLOCK_CONTENTS) throw corruption(file, offset, `lz4 block has a bad uncompressed length ${size}`);
      let out: Uint8Array;
      try {
        out = lz4().decompress(payload);
      } catch (err) {
        throw corruption(file, offset, `lz4 block does not decompress (${describe(err)})`);
      }
      if (out.length !== size) throw corruption(file, offset, `lz4 block decompressed to ${out.length} bytes, expected ${size}`);
      return out;
    }
    case CompressionType.Deflate:
      try {
        return plain(inflateRawSync(payload, INFLATE_OPTIONS));
      } catch (err) {
        throw corruption(file, offset, `deflate block does not decompress (${describe(err)})`);
      }
    default:
      throw corruption(file, offset, `unknown compression type ${type}`);
  }
}

/** Blocks are plain Uint8Arrays, never Buffers: one shape in the hot paths. */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
