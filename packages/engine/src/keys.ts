/**
 * Turning user input into bytes, with the limits the engine enforces.
 *
 * Keys and values are `Uint8Array` (a `Buffer` is one) or strings, encoded as UTF-8. The empty
 * key is allowed (it sorts first). Keys are at most MAX_KEY_SIZE bytes and values at most
 * MAX_VALUE_SIZE bytes; anything else is an INVALID_ARGUMENT and the database stays usable.
 * Bytes given by the caller are copied: the engine keeps them in memtables and must not see
 * them change under it.
 */
import { StrataError } from './errors.js';

export const MAX_KEY_SIZE = 64 * 1024;
export const MAX_VALUE_SIZE = 64 * 1024 * 1024;

const encoder = new TextEncoder();

function toBytes(what: string, v: unknown, max: number, copy: boolean): Uint8Array {
  let bytes: Uint8Array;
  if (typeof v === 'string') bytes = encoder.encode(v);
  else if (v instanceof Uint8Array) bytes = copy ? v.slice() : v;
  else throw new StrataError('INVALID_ARGUMENT', `${what} must be a Uint8Array or a string, got ${v === null ? 'null' : typeof v}`);
  if (bytes.length > max) {
    throw new StrataError('INVALID_ARGUMENT', `${what} is ${bytes.length} bytes; the limit is ${max} bytes`);
  }
  return bytes;
}

/** A key to store (copied). */
export function keyArg(v: unknown, what = 'key'): Uint8Array {
  return toBytes(what, v, MAX_KEY_SIZE, true);
}

/** A key only looked up (not copied: it is not retained). */
export function lookupKeyArg(v: unknown, what = 'key'): Uint8Array {
  return toBytes(what, v, MAX_KEY_SIZE, false);
}

/** A value to store (copied). */
export function valueArg(v: unknown): Uint8Array {
  return toBytes('value', v, MAX_VALUE_SIZE, true);
}

export function optionsObject<T extends object>(v: T | undefined, what: string): Partial<T> {
  if (v === undefined) return {};
  const x: unknown = v;
  if (typeof x !== 'object' || x === null) throw new StrataError('INVALID_ARGUMENT', `${what} must be an object`);
  return v;
}
