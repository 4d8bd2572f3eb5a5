// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- snappyjs ships no types, and packages that compile this file from source (via the "source" condition) must see the declaration too
/// <reference path="./snappyjs.d.ts" />
/**
 * Per-block compression. The codec is recorded in each block's trailer (physical-block.ts), so
 * a table may mix codecs and a reader never needs to be told which one a writer chose.
 *
 *   0  none
 *   1  Snappy (snappyjs, pure JS; the format is Google's Snappy raw format with its varint
 *      length prefix)
 *
 * A block that does not shrink by at least 1/8 is stored raw: decompressing costs a copy on
 * every cache miss, which is not worth a few saved bytes.
 */
import * as snappy from 'snappyjs';
import { corruption } from './errors.js';

export const CompressionType = { None: 0, Snappy: 1 } as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];
export type CompressionName = 'none' | 'snappy';

export function compressionType(name: CompressionName): CompressionType {
  return name === 'snappy' ? CompressionType.Snappy : CompressionType.None;
}

/** Largest block contents a reader will inflate; bounds the allocation a damaged length could ask for. */
export const MAX_BLOCK_CONTENTS = 256 * 1024 * 1024;

/**
 * Compresses with `type`; returns undefined when the codec is `none` or the result would not
 * save at least 1/8 of the bytes (the caller then stores the block raw).
 */
export function compressBlock(contents: Uint8Array, type: CompressionType): Uint8Array | undefined {
  if (type === CompressionType.None) return undefined;
  const out = snappy.compress(contents);
  return out.length < contents.length - (contents.length >>> 3) ? out : undefined;
}

/** Inverse of compressBlock; a payload that does not decode is CORRUPTION at `offset`. */
export function decompressBlock(payload: Uint8Array, type: number, file: string, offset: number): Uint8Array {
  if (type === CompressionType.None) return payload;
  if (type === CompressionType.Snappy) {
    try {
      const out = snappy.uncompress(payload, MAX_BLOCK_CONTENTS);
      // snappyjs returns a Buffer for Buffer input; keep blocks plain Uint8Arrays (one shape in hot paths).
      return out.constructor === Uint8Array ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw corruption(file, offset, `snappy block does not decompress (${(err as Error).message})`);
    }
  }
  throw corruption(file, offset, `unknown compression type ${type}`);
}
