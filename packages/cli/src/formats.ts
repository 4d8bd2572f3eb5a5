/**
 * How keys and values are written on the command line and printed back: `utf8` (the default),
 * `hex`, `base64`, or `json` (the bytes are the UTF-8 of a JSON text; printed parsed, so
 * `--json` output embeds the value itself rather than a string holding it).
 */
import { UsageError } from './errors.js';

export const FORMATS = ['utf8', 'hex', 'base64', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(name: string, what: string): Format {
  if ((FORMATS as readonly string[]).includes(name)) return name as Format;
  throw new UsageError(`${what} must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(name)}`);
}

/** The bytes a command-line argument stands for. */
export function encodeArg(text: string, format: Format, what: string): Uint8Array {
  switch (format) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'hex':
      if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new UsageError(`${what} is not hex (an even number of 0-9a-f digits): ${JSON.stringify(text)}`);
      return Buffer.from(text, 'hex');
    case 'base64':
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new UsageError(`${what} is not base64: ${JSON.stringify(text)}`);
      return Buffer.from(text, 'base64');
    case 'json':
      try {
        return Buffer.from(JSON.stringify(JSON.parse(text)), 'utf8');
      } catch {
        throw new UsageError(`${what} is not JSON: ${JSON.stringify(text)}`);
      }
  }
}

/** Bytes as text in `format` (json: the parsed value; bytes that are not JSON stay a hex string). */
export function decodeBytes(bytes: Uint8Array, format: Format): unknown {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (format) {
    case 'utf8':
      return b.toString('utf8');
    case 'hex':
      return b.toString('hex');
    case 'base64':
      return b.toString('base64');
    case 'json':
      try {
        return JSON.parse(b.toString('utf8')) as unknown;
      } catch {
        return `0x${b.toString('hex')}`;
      }
  }
}

/** For a human reading a terminal: the text, or JSON text for json values. */
export function showBytes(bytes: Uint8Array, format: Format): string {
  const v = decodeBytes(bytes, format);
  return typeof v === 'string' && format !== 'json' ? v : JSON.stringify(v);
}

/**
 * A key for listings (dumps, stats, the lsm page) where no format was chosen: printable ASCII
 * as is, anything else as hex with a 0x prefix — LevelDB's tools print keys the same way.
 */
export function printableKey(bytes: Uint8Array): string {
  for (const c of bytes) if (c < 0x20 || c > 0x7e) return `0x${Buffer.from(bytes).toString('hex')}`;
  return Buffer.from(bytes).toString('latin1');
}
