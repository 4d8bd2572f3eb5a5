/**
 * Turning user input into bytes, with the limits the engine enforces.
 *
 * Keys and values are `Uint8Array` (a `Buffer` is one) or strings, encoded as UTF-8. The empty
 * key is allowed (it sorts first). Keys are at most MAX_KEY_SIZE bytes, values at most
 * MAX_VALUE_SIZE bytes and one batch at most MAX_BATCH_SIZE bytes of keys and values; anything else is an INVALID_ARGUMENT and the database stays usable.
 * Bytes given by the caller are copied: the engine keeps them in memtables and must not see
 * them change under it.
 */
import { StrataError } from './errors.js';
import { rejectUnknownOptions } from './option-names.js';

export const MAX_KEY_SIZE = 64 * 1024;
export const MAX_VALUE_SIZE = 64 * 1024 * 1024;
/** Key and value bytes of one write (a batch is one WAL record, held in memory whole). */
export const MAX_BATCH_SIZE = 256 * 1024 * 1024;

const encoder = new TextEncoder();

/*
 * Copies of small keys and values are carved out of a shared slab, as Node's Buffer pool does:
 * a Uint8Array above 64 bytes gets its own ArrayBuffer (~0.9 µs each, most of a put's cost),
 * a view into the slab ~0.04 µs (made with the Uint8Array constructor: `subarray` costs ~0.1–0.16
 * µs in V8 12, as it looks up the species constructor). The copies are short-lived — the memtable copies into its arena
 * and the WAL frames the bytes when the write is committed — so a slab is soon garbage; a copy
 * kept longer (an unwritten batch, iterator bounds) keeps its slab alive.
 * (Not `v.slice()`: Buffer overrides slice() to return a view, so a Buffer was not copied.)
 */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_COPY = 1024;
/** Longest copy `copyRange` makes with a byte loop (see there). */
const COPY_LOOP_MAX = 32;
let slab = new Uint8Array(SLAB_SIZE);
/**
 * `slab.buffer`, kept: the `buffer` getter is a call into V8's C++ runtime (~0.1 µs: 2–3% of a
 * scan's CPU when each of an entry's two copies asked for it).
 */
let slabBuffer = slab.buffer;
let slabUsed = 0;

/** Room for `n` bytes in the slab (a fresh slab when the current one is full): their offset in `slab`. */
function slabRoom(n: number): number {
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabBuffer = slab.buffer;
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += n;
  return at;
}

/**
 * A copy of `data[from, from + length)` that the caller owns, carved like `copyOf` but without
 * the view of the source a `copyOf(data.subarray(…))` allocates: a point read copies its value
 * straight out of the cached block (one allocation per found value, not two).
 */
export function copyRange(data: Uint8Array, from: number, length: number): Uint8Array {
  if (length > SLAB_MAX_COPY) return new Uint8Array(data.subarray(from, from + length)); // a copy, even of a Buffer
  const at = slabRoom(length);
  const s = slab;
  // Up to 32 bytes a byte loop beats a view of the source plus TypedArray.prototype.set (~100 ns
  // whatever the length); past ~48 it loses: a 100-byte value took ~350 ns in the loop against
  // ~110–180 with set, and was 6–10% of a cached getSync's profile.
  if (length > COPY_LOOP_MAX) s.set(new Uint8Array(data.buffer, data.byteOffset + from, length), at);
  else for (let i = 0; i < length; i++) s[at + i] = data[from + i]!;
  return new Uint8Array(slabBuffer, at, length);
}

/** A copy of `v` that the caller owns (small ones carved out of the shared slab). */
export function copyOf(v: Uint8Array): Uint8Array {
  const n = v.length;
  if (n > SLAB_MAX_COPY) return new Uint8Array(v);
  const at = slabRoom(n);
  const out = new Uint8Array(slabBuffer, at, n);
  out.set(v);
  return out;
}

function toBytes(what: string, v: unknown, max: number, copy: boolean): Uint8Array {
  let bytes: Uint8Array;
  if (typeof v === 'string') bytes = encoder.encode(v);
  else if (v instanceof Uint8Array) bytes = copy ? copyOf(v) : v;
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

/** A value to store (copied unless `copy` is false: see WritePath.write). */
export function valueArg(v: unknown, copy = true): Uint8Array {
  return toBytes('value', v, MAX_VALUE_SIZE, copy);
}

/**
 * An options argument: undefined (→ {}) or an object holding only the names in `valid` (an
 * unknown name is INVALID_ARGUMENT naming the closest valid one: a typo must not go unnoticed).
 */
export function optionsObject<T extends object>(v: T | undefined, what: string, valid: readonly (keyof T & string)[]): Partial<T> {
  if (v === undefined) return {};
  const x: unknown = v;
  if (typeof x !== 'object' || x === null) throw new StrataError('INVALID_ARGUMENT', `${what} must be an object`);
  rejectUnknownOptions(v, valid, what);
  return v;
}
