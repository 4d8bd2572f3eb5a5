import { Buffer } from 'node:buffer';

// abstract-level hands the adapter keys and values already encoded to one of the formats in
// the manifest ('utf8' → string, 'buffer' → Buffer, 'view' → Uint8Array) and wants results
// back in the format it asks for. The engine stores bytes and accepts strings as UTF-8.
//
// The engine hands out copies the caller owns (never views into its memtable or block cache),
// so bytes go out as they are: wrapped as a Buffer for 'buffer', as is for 'view', decoded for 'utf8'.

export type Format = 'utf8' | 'buffer' | 'view';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Engine bytes (owned by the caller) → the format abstract-level asked for. */
export function decode(bytes: Uint8Array, format: string | undefined): string | Uint8Array {
  return decoderFor(format)(bytes);
}

/** The chosen converter for one format, to hoist the branch out of hot loops. */
export function decoderFor(format: string | undefined): (bytes: Uint8Array) => string | Uint8Array {
  if (format === 'utf8') return utf8;
  if (format === 'buffer') return asBuffer;
  return asView;
}

function utf8(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

function asView(bytes: Uint8Array): Uint8Array {
  return bytes;
}

/** Any encoded key → bytes (used where the adapter must compute with keys, e.g. range ends). */
export function toBytes(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** Bytewise comparison, the engine's key order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The smallest key greater than `key` (`key` followed by a 0x00 byte). */
export function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.byteLength + 1);
  out.set(key, 0);
  return out;
}
