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

/** What the three iterator kinds share: the engine cursor (null when nothing can be read). */
class CursorHolder {
  readonly cursor: EngineCursor | null;
  readonly #location: string;
  readonly #options: PrivateIteratorOptions;
  #closed = false;
  /** Set by a seek outside the range, until the next seek. */
  #ended = false;

  constructor(db: IteratorDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    this.cursor = cursor;
    this.#options = options;
    this.#location = db.location;
  }

  nextv(size: number): EngineEntry[] {
    if (this.cursor === null || this.#ended) return [];
    try {
      return this.cursor.nextv(size);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  next(): EngineEntry | undefined {
    if (this.cursor === null || this.#ended) return undefined;
    try {
      return this.cursor.next();
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  /** Entries left under the iterator's limit, for all(). */
  static remaining(limit: number, count: number): number {
    return limit === Infinity ? Infinity : limit - count;
  }

  drain(remaining: number, convert: (entry: EngineEntry) => unknown): unknown[] {
    const out: unknown[] = [];
    while (remaining > 0) {
      const entries = this.nextv(Math.min(ALL_CHUNK, remaining));
      if (entries.length === 0) break;
      remaining -= entries.length;
      for (const entry of entries) out.push(convert(entry));
    }
    return out;
  }

  seek(target: Encoded): void {
    if (this.cursor === null) return;
    this.#ended = outOfRange(target, this.#options);
    if (this.#ended) return;
    try {
      this.cursor.seek(target);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.cursor?.close();
  }
}

export class StrataEntryIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends AbstractIterator<TDatabase, Encoded, Encoded> {
  readonly #holder: CursorHolder;
  readonly #convert: (entry: EngineEntry) => [Encoded | undefined, Encoded | undefined];

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractIteratorOptions<Encoded, Encoded>);
    this.#holder = new CursorHolder(db, options, cursor);
    const key: Decoder | null = options.keys === false ? null : decoderFor(options.keyEncoding);
    const value: Decoder | null = options.values === false ? null : decoderFor(options.valueEncoding);
    this.#convert = (entry) => {
      // The Array constructor, not a literal: V8 pretenures a literal's allocation site once a GC
      // finds most of what it made alive, as a `nextv` batch is (the engine's entryOf says how
      // that made a scan keep every entry until the next mark-compact).
      const e = new Array(2) as [Encoded | undefined, Encoded | undefined];
      e[0] = key === null ? undefined : key(entry[0]);
      e[1] = value === null ? undefined : value(entry[1]);
      return e;
    };
  }

  async _next(): Promise<[Encoded | undefined, Encoded | undefined] | undefined> {
    const entry = this.#holder.next();
    return Promise.resolve(entry === undefined ? undefined : this.#convert(entry));
  }

  async _nextv(size: number): Promise<[Encoded | undefined, Encoded | undefined][]> {
    return Promise.resolve(this.#holder.nextv(size).map(this.#convert));
  }

  async _all(): Promise<unknown[]> {
    return Promise.resolve(this.#holder.drain(CursorHolder.remaining(this.limit, this.count), this.#convert));
  }

  _seek(target: Encoded): void {
    this.#holder.seek(target);
  }

  async _close(): Promise<void> {
    this.#holder.close();
    return Promise.resolve();
  }
}

export class StrataKeyIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends AbstractKeyIterator<TDatabase, Encoded> {
  readonly #holder: CursorHolder;
  readonly #convert: (entry: EngineEntry) => Encoded;

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractKeyIteratorOptions<Encoded>);
    this.#holder = new CursorHolder(db, options, cursor);
    const key = decoderFor(options.keyEncoding);
    this.#convert = (entry) => key(entry[0]);
  }

  async _next(): Promise<Encoded | undefined> {
    const entry = this.#holder.next();
    return Promise.resolve(entry === undefined ? undefined : this.#convert(entry));
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return Promise.resolve(this.#holder.nextv(size).map(this.#convert));
  }

  async _all(): Promise<unknown[]> {
    return Promise.resolve(this.#holder.drain(CursorHolder.remaining(this.limit, this.count), this.#convert));
  }

  _seek(target: Encoded): void {
    this.#holder.seek(target);
  }

  async _close(): Promise<void> {
    this.#holder.close();
    return Promise.resolve();
  }
}

export class StrataValueIterator<TDatabase extends IteratorDatabase = IteratorDatabase> extends AbstractValueIterator<TDatabase, Encoded, Encoded> {
  readonly #holder: CursorHolder;
  readonly #convert: (entry: EngineEntry) => Encoded;

  constructor(db: TDatabase, options: PrivateIteratorOptions, cursor: EngineCursor | null) {
    super(db, options as AbstractValueIteratorOptions<Encoded, Encoded>);
    this.#holder = new CursorHolder(db, options, cursor);
    const value = decoderFor(options.valueEncoding);
    this.#convert = (entry) => value(entry[1]);
  }

  async _next(): Promise<Encoded | undefined> {
    const entry = this.#holder.next();
    return Promise.resolve(entry === undefined ? undefined : this.#convert(entry));
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return Promise.resolve(this.#holder.nextv(size).map(this.#convert));
  }

  async _all(): Promise<unknown[]> {
    return Promise.resolve(this.#holder.drain(CursorHolder.remaining(this.limit, this.count), this.#convert));
  }

  _seek(target: Encoded): void {
    this.#holder.seek(target);
  }

  async _close(): Promise<void> {
    this.#holder.close();
    return Promise.resolve();
  }
}
