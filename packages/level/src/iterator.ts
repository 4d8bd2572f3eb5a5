import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level';
import type { AbstractIteratorOptions, AbstractKeyIteratorOptions, AbstractSnapshot, AbstractValueIteratorOptions } from 'abstract-level';
import { compareBytes, decoderFor, toBytes } from './codec.js';
import type { EngineCursor, EngineEntry } from './engine.js';
import { mapEngineError } from './errors.js';

type Encoded = string | Uint8Array;
type Decoder = (bytes: Uint8Array) => Encoded;

/**
 * What an iterator needs of its database: its location, to name it in errors. `StrataLevel` is
 * one; the iterators are generic over it (as classic-level's are) rather than importing it, so
 * that strata-level.ts → iterator.ts stays the only edge between the two files.
 */
export interface IteratorDatabase {
  readonly location: string;
}

/** Iterator options as abstract-level hands them to `_iterator()`: encoded range, formats, snapshot. */
export interface PrivateIteratorOptions {
  gt?: Encoded;
  gte?: Encoded;
  lt?: Encoded;
  lte?: Encoded;
  reverse?: boolean;
  limit?: number;
  keys?: boolean;
  values?: boolean;
  keyEncoding?: string;
  valueEncoding?: string;
  snapshot?: AbstractSnapshot | null;
}

/** Entries per engine call when `all()` drains an iterator. */
const ALL_CHUNK = 1000;

/**
 * Whether a seek target lies outside the iterator's range. abstract-level's contract: seeking
 * outside the range makes the iterator reach its natural end (classic-level and memory-level do
 * so); the engine's cursor instead clamps the target into its bounds.
 */
function outOfRange(target: Encoded, options: PrivateIteratorOptions): boolean {
  const t = toBytes(target);
  if (options.gte !== undefined) {
    if (compareBytes(t, toBytes(options.gte)) < 0) return true;
  } else if (options.gt !== undefined) {
    if (compareBytes(t, toBytes(options.gt)) <= 0) return true;
  }
  if (options.lte !== undefined) {
    if (compareBytes(t, toBytes(options.lte)) > 0) return true;
  } else if (options.lt !== undefined) {
    if (compareBytes(t, toBytes(options.lt)) >= 0) return true;
  }
  return false;
}

/**
 * The engine cursor as an iterator of one kind reads it: `T` is that kind's item, made from each
 * engine entry by `convert` (null cursor: nothing can be read).
 */
class LevelCursor<T> {
  readonly #cursor: EngineCursor | null;
  readonly #convert: (entry: EngineEntry) => T;
  readonly #location: string;
  readonly #options: PrivateIteratorOptions;
  #closed = false;
  /** Set by a seek outside the range, until the next seek. */
  #ended = false;

  constructor(db: IteratorDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null, convert: (entry: EngineEntry) => T) {
    this.#cursor = cursor;
    this.#convert = convert;
    this.#options = options;
    this.#location = db.location;
  }

  next(): T | undefined {
    if (this.#cursor === null || this.#ended) return undefined;
    let entry: EngineEntry | undefined;
    try {
      entry = this.#cursor.next();
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return entry === undefined ? undefined : this.#convert(entry);
  }

  nextv(size: number): T[] {
    return this.#entries(size).map(this.#convert);
  }

  /** Up to `limit - count` items (abstract-level's limit and count so far), for all(). */
  all(limit: number, count: number): T[] {
    let remaining = limit === Infinity ? Infinity : limit - count;
    const out: T[] = [];
    while (remaining > 0) {
      const entries = this.#entries(Math.min(ALL_CHUNK, remaining));
      if (entries.length === 0) break;
      remaining -= entries.length;
      for (const entry of entries) out.push(this.#convert(entry));
    }
    return out;
  }

  seek(target: Encoded): void {
    if (this.#cursor === null) return;
    this.#ended = outOfRange(target, this.#options);
    if (this.#ended) return;
    try {
      this.#cursor.seek(target);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cursor?.close();
  }

  #entries(size: number): EngineEntry[] {
    if (this.#cursor === null || this.#ended) return [];
    try {
      return this.#cursor.nextv(size);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }
}

/**
 * Where each iterator keeps its LevelCursor. A symbol, not a private field: the hooks are
 * written once in overCursor, and a mixin's class cannot be exported with private or protected
 * members; index.ts does not export it, so users do not reach the cursor.
 */
export const kLevelCursor = Symbol('levelCursor');

/** What overCursor needs of abstract-level's base classes: the limit and the count so far. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base constructor must take any[]
type IteratorBase = abstract new (...args: any[]) => { readonly limit: number; readonly count: number };

/**
 * abstract-level's five hooks, written once for its three separate base classes
 * (AbstractIterator, AbstractKeyIterator, AbstractValueIterator): each reads the kind's
 * LevelCursor. They return `unknown`: each kind's item type is the one its cursor field
 * declares (its conversion is checked against that), not tied to the base class's K and V.
 */
function overCursor<TBase extends IteratorBase>(Base: TBase) {
  abstract class OverCursor extends Base {
    abstract readonly [kLevelCursor]: LevelCursor<unknown>;

    async _next(): Promise<unknown> {
      return Promise.resolve(this[kLevelCursor].next());
    }

    async _nextv(size: number): Promise<unknown[]> {
      return Promise.resolve(this[kLevelCursor].nextv(size));
    }

    async _all(): Promise<unknown[]> {
      return Promise.resolve(this[kLevelCursor].all(this.limit, this.count));
    }

    _seek(target: Encoded): void {
      this[kLevelCursor].seek(target);
    }

    async _close(): Promise<void> {
      this[kLevelCursor].close();
      return Promise.resolve();
    }
  }
  return OverCursor;
}

type Entry = [Encoded | undefined, Encoded | undefined];

export class StrataEntryIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends overCursor(AbstractIterator)<TDatabase, Encoded, Encoded> {
  readonly [kLevelCursor]: LevelCursor<Entry>;

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractIteratorOptions<Encoded, Encoded>);
    const key: Decoder | null = options.keys === false ? null : decoderFor(options.keyEncoding);
    const value: Decoder | null = options.values === false ? null : decoderFor(options.valueEncoding);
    this[kLevelCursor] = new LevelCursor(db, options, cursor, (entry) => {
      // The Array constructor, not a literal: V8 pretenures a literal's allocation site once a GC
      // finds most of what it made alive, as a `nextv` batch is (the engine's entryOf says how
      // that made a scan keep every entry until the next mark-compact).
      const e = new Array(2) as Entry;
      e[0] = key === null ? undefined : key(entry[0]);
      e[1] = value === null ? undefined : value(entry[1]);
      return e;
    });
  }
}

export class StrataKeyIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends overCursor(AbstractKeyIterator)<TDatabase, Encoded> {
  readonly [kLevelCursor]: LevelCursor<Encoded>;

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractKeyIteratorOptions<Encoded>);
    const key = decoderFor(options.keyEncoding);
    this[kLevelCursor] = new LevelCursor(db, options, cursor, (entry) => key(entry[0]));
  }
}

export class StrataValueIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends overCursor(AbstractValueIterator)<TDatabase, Encoded, Encoded> {
  readonly [kLevelCursor]: LevelCursor<Encoded>;

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractValueIteratorOptions<Encoded, Encoded>);
    const value = decoderFor(options.valueEncoding);
    this[kLevelCursor] = new LevelCursor(db, options, cursor, (entry) => value(entry[1]));
  }
}
