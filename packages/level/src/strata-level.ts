import { AbstractLevel, AbstractSnapshot } from 'abstract-level';
import type { AbstractBatchOperation, AbstractChainedBatch, AbstractBatchOptions, AbstractDatabaseOptions, AbstractDelOptions, AbstractGetOptions, AbstractPutOptions } from 'abstract-level';
import { decode, compareBytes, successor, toBytes } from './codec.js';
import { ENGINE_OPTION_NAMES, openEngine, rejectMisspeltOptions } from './engine.js';
import type { EngineBatch, EngineCursor, EngineDatabase, EngineKey, EngineOpenOptions, EngineRange, EngineReadOptions, EngineSnapshot, EngineWriteOptions } from './engine.js';
import { mapEngineError, StrataLevelError } from './errors.js';
import { StrataChainedBatch } from './chained-batch.js';
import { StrataEntryIterator, StrataKeyIterator, StrataValueIterator } from './iterator.js';
import type { PrivateIteratorOptions } from './iterator.js';

/**
 * Options of `new StrataLevel(location, options)`: abstract-level's, plus any engine option.
 * `compression` also takes classic-level's boolean: true is the engine's default codecs, false none.
 */
export type StrataLevelOptions<K = string, V = string> = AbstractDatabaseOptions<K, V> &
  Omit<EngineOpenOptions, 'compression'> & { compression?: EngineOpenOptions['compression'] | boolean };

/** Write options StrataLevel adds (as classic-level does): `sync` fdatasyncs the WAL before resolving. */
export interface StrataWriteOptions {
  /** Default: the database's `sync` option (itself false by default). */
  sync?: boolean | undefined;
}

/** Options of `db.put()`. */
export type StrataPutOptions<K, V> = AbstractPutOptions<K, V> & StrataWriteOptions;
/** Options of `db.del()`. */
export type StrataDelOptions<K> = AbstractDelOptions<K> & StrataWriteOptions;
/** Options of `db.batch(operations, options)` (chained `batch().write()` takes `{ sync }` too). */
export type StrataBatchOptions<K, V> = AbstractBatchOptions<K, V> & StrataWriteOptions;

/** Options of `approximateSize` and `compactRange`, as classic-level's StartEndOptions. */
export interface StrataStartEndOptions<K> {
  /** Key encoding for `start` and `end`: a name, or an encoding object (level-transcoder's). */
  keyEncoding?: string | { encode(key: K): unknown; decode?(data: never): unknown; name?: string; format?: string } | undefined;
}

/** Options abstract-level hands to the private `_*` methods (already encoded, already formatted). */
interface PrivateReadOptions {
  keyEncoding?: string;
  valueEncoding?: string;
  snapshot?: AbstractSnapshot | null | undefined;
  fillCache?: boolean;
}

interface PrivateWriteOptions {
  sync?: unknown;
}

interface PrivateOperation {
  type: 'put' | 'del';
  key: string | Uint8Array;
  value?: string | Uint8Array;
}

/** An operation as the user gives it to batch() (read by its fast path, see there). */
interface PublicOperation {
  type?: unknown;
  key?: unknown;
  value?: unknown;
  keyEncoding?: unknown;
  valueEncoding?: unknown;
  sublevel?: unknown;
}

/** A database encoding, as batch's fast path uses it: to one of the manifest's formats. */
interface PlainEncoding {
  encode(data: unknown): EngineKey;
}

interface PrivateClearOptions extends PrivateIteratorOptions {
  limit: number;
}

/**
 * classic-level (LevelDB) options with an engine equivalent, so that options written for
 * ClassicLevel keep their effect. An engine option given by its own name wins.
 */
const CLASSIC_OPTIONS: Readonly<Record<string, keyof EngineOpenOptions>> = {
  writeBufferSize: 'memtableSize',
  cacheSize: 'blockCacheSize',
  maxFileSize: 'targetFileSize',
};

/** classic-level (LevelDB) options with no engine equivalent: accepted and ignored, as documented. */
const CLASSIC_IGNORED_OPTIONS: readonly string[] = ['multithreading', 'fillCache'];

/**
 * Every option name StrataLevel knows for the constructor and open(): abstract-level's, the
 * engine's, and classic-level's. abstract-level hands any other ("userland") option to hooks,
 * so an unknown name is rejected only when it is a near miss of one of these (a typo such as
 * `memtabelSize` or `valueEncodng`); see @strata-db/engine's rejectMisspeltOptions.
 */
const OPEN_OPTION_NAMES: readonly string[] = [
  'keyEncoding',
  'valueEncoding',
  'passive',
  ...ENGINE_OPTION_NAMES,
  ...Object.keys(CLASSIC_OPTIONS),
  ...CLASSIC_IGNORED_OPTIONS,
];

/** Write options StrataLevel adds to abstract-level's (see rejectMisspeltOptions). */
const WRITE_OPTION_NAMES: readonly string[] = ['sync', 'keyEncoding', 'valueEncoding', 'sublevel', 'signal'];

/** Throws LEVEL_INVALID_ARGUMENT when `options` holds a misspelt name of `valid`. */
function checkOptionNames(options: object | undefined, valid: readonly string[], where: string): void {
  try {
    rejectMisspeltOptions(options, valid, where);
  } catch (err) {
    throw mapEngineError(err);
  }
}

/** Open options as abstract-level passes them → the engine's (userland options stay behind). */
export function engineOpenOptions(options: Record<string, unknown>): EngineOpenOptions {
  checkOptionNames(options, OPEN_OPTION_NAMES, 'StrataLevel options');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (name === 'compression' && typeof value === 'boolean') {
      // classic-level's switch: on = the engine's default codecs, off = none.
      if (!value) out[name] = 'none';
      continue;
    }
    const engineName = CLASSIC_OPTIONS[name];
    if (ENGINE_OPTION_NAMES.includes(name)) out[name] = value;
    else if (engineName !== undefined && options[engineName] === undefined) out[engineName] = value;
  }
  // abstract-level fills in createIfMissing: true on every open; a read-only (follower) open
  // creates nothing, and the engine rightly refuses the pair, so the default must not reach it.
  if (out.readOnly === true && out.createIfMissing === true) delete out.createIfMissing;
  return out;
}

/** How many deletes one engine batch carries when clear() has to visit keys one by one. */
const CLEAR_CHUNK = 1000;

/**
 * An explicit snapshot backed by an engine snapshot, released when the abstract snapshot closes
 * (abstract-level refuses reads through a closed snapshot, iterators on it included).
 */
export class StrataSnapshot extends (AbstractSnapshot as unknown as new (options: object) => AbstractSnapshot) {
  readonly engineSnapshot: EngineSnapshot;
  #closed = false;

  constructor(engineSnapshot: EngineSnapshot, options: object) {
    super(options);
    this.engineSnapshot = engineSnapshot;
  }

  /** True once close() has begun: the engine snapshot may already be released. */
  get closed(): boolean {
    return this.#closed;
  }

  async _close(): Promise<void> {
    this.#closed = true;
    this.engineSnapshot.release();
    return Promise.resolve();
  }
}

function engineSnapshotOf(options: { snapshot?: AbstractSnapshot | null | undefined }): EngineSnapshot | undefined {
  const snapshot = options.snapshot;
  return snapshot instanceof StrataSnapshot ? snapshot.engineSnapshot : undefined;
}

function readOptions(options: PrivateReadOptions): EngineReadOptions | undefined {
  const snapshot = engineSnapshotOf(options);
  return snapshot === undefined ? undefined : { snapshot };
}

function writeOptions(options: PrivateWriteOptions, method: string): EngineWriteOptions | undefined {
  checkOptionNames(options, WRITE_OPTION_NAMES, `${method} options`);
  return typeof options.sync === 'boolean' ? { sync: options.sync } : undefined;
}

/**
 * Range options as abstract-level gives them (gte wins over gt, lte over lt) → the engine's,
 * or `null` when the range is empty by construction (lower bound above upper bound).
 */
export function engineRange(options: PrivateIteratorOptions): EngineRange | null {
  const range: EngineRange = {};
  let lower: EngineKey | undefined;
  let lowerInclusive = true;
  let upper: EngineKey | undefined;
  let upperInclusive = true;
  if (options.gte !== undefined) {
    lower = range.gte = options.gte;
  } else if (options.gt !== undefined) {
    lower = range.gt = options.gt;
    lowerInclusive = false;
  }
  if (options.lte !== undefined) {
    upper = range.lte = options.lte;
  } else if (options.lt !== undefined) {
    upper = range.lt = options.lt;
    upperInclusive = false;
  }
  if (lower !== undefined && upper !== undefined) {
    const c = compareBytes(toBytes(lower), toBytes(upper));
    if (c > 0 || (c === 0 && !(lowerInclusive && upperInclusive))) return null;
  }
  if (options.reverse === true) range.reverse = true;
  return range;
}

/**
 * What StrataLevel supports, as abstract-level's manifest. Every flag is backed by an
 * implementation and by the shared suite's tests for it.
 */
const MANIFEST = {
  encodings: { buffer: true, view: true, utf8: true },
  implicitSnapshots: true,
  explicitSnapshots: true,
  seek: true,
  permanence: true,
  createIfMissing: true,
  errorIfExists: true,
  has: true,
  getSync: true,
  deferredOpen: true,
  additionalMethods: { approximateSize: true, compactRange: true },
  // Reads are synchronous inside the engine, so there is nothing in flight to abort; an aborted
  // signal is still honoured before each read (abstract-level checks it).
  signals: { iterators: false },
};

// Type-only: the write methods accept `{ sync }` like ClassicLevel's (abstract-level passes the
// option through to _put/_del/_batch at runtime; its own typings do not name it).
export interface StrataLevel<KDefault = string, VDefault = string> {
  put(key: KDefault, value: VDefault): Promise<void>;
  put<K = KDefault, V = VDefault>(key: K, value: V, options: StrataPutOptions<K, V>): Promise<void>;
  del(key: KDefault): Promise<void>;
  del<K = KDefault>(key: K, options: StrataDelOptions<K>): Promise<void>;
  batch(operations: AbstractBatchOperation<this, KDefault, VDefault>[]): Promise<void>;
  batch<K = KDefault, V = VDefault>(operations: AbstractBatchOperation<this, K, V>[], options: StrataBatchOptions<K, V>): Promise<void>;
  batch(): AbstractChainedBatch<this, KDefault, VDefault>;
}

/**
 * A drop-in replacement for `classic-level` backed by the Strata LSM engine:
 * `new StrataLevel(location, options)` instead of `new ClassicLevel(location, options)`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface above only adds overloads
export class StrataLevel<KDefault = string, VDefault = string> extends AbstractLevel<string | Buffer | Uint8Array, KDefault, VDefault> {
  readonly #location: string;
  #db: EngineDatabase | null = null;

  constructor(location: string, options?: StrataLevelOptions<KDefault, VDefault>) {
    if (typeof location !== 'string' || location === '') {
      throw new TypeError("The first argument 'location' must be a non-empty string");
    }
    // Before super(): a misspelt option must not start an open (abstract-level's constructor does).
    checkOptionNames(options, OPEN_OPTION_NAMES, 'StrataLevel options');
    super(MANIFEST, options);
    this.#location = location;
  }

  get location(): string {
    return this.#location;
  }

  /** The open engine database; throws LEVEL_DATABASE_NOT_OPEN otherwise. */
  get engine(): EngineDatabase {
    const db = this.#db;
    if (db === null) throw new StrataLevelError('Database is not open', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    return db;
  }

  /**
   * Flushes, then compacts the tables overlapping [start, end] (both inclusive, encoded with the
   * database's key encoding or `options.keyEncoding`) down the tree, dropping overwritten and
   * deleted versions: engine `compact({ start, end })`, as classic-level's does with LevelDB's.
   */
  async compactRange(start: KDefault, end: KDefault): Promise<void>;
  async compactRange<K = KDefault>(start: K, end: K, options: StrataStartEndOptions<K>): Promise<void>;
  async compactRange(start: unknown, end: unknown, options?: StrataStartEndOptions<unknown>): Promise<void> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required");
    if (this.status === 'opening') return this.deferAsync(() => this.compactRange(start, end, options as StrataStartEndOptions<unknown>));
    if (this.status !== 'open') {
      throw new StrataLevelError('Database is not open: cannot call compactRange()', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    }
    const [s, e] = this.#encodeRange(start, end, options, 'compactRange');
    try {
      await this.engine.compact({ start: s, end: e });
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  /**
   * Bytes of table files holding keys in [start, end) (encoded as `compactRange`'s): LevelDB's
   * GetApproximateSizes, as classic-level's — memtables are not counted.
   */
  async approximateSize(start: KDefault, end: KDefault): Promise<number>;
  async approximateSize<K = KDefault>(start: K, end: K, options: StrataStartEndOptions<K>): Promise<number>;
  async approximateSize(start: unknown, end: unknown, options?: StrataStartEndOptions<unknown>): Promise<number> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required");
    if (this.status === 'opening') return this.deferAsync(() => this.approximateSize(start, end, options as StrataStartEndOptions<unknown>));
    if (this.status !== 'open') {
      throw new StrataLevelError('Database is not open: cannot call approximateSize()', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    }
    const [s, e] = this.#encodeRange(start, end, options, 'approximateSize');
    try {
      return this.engine.approximateSizeSync(s, e);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  /**
   * LevelDB's properties (`leveldb.stats`, `leveldb.sstables`, `leveldb.num-files-at-levelN`,
   * `leveldb.approximate-memory-usage`) and Strata's (`strata.*`); '' for an unknown name, as
   * classic-level. Synchronous, so not deferred: LEVEL_DATABASE_NOT_OPEN unless open.
   */
  getProperty(property: string): string {
    if (typeof property !== 'string') throw new TypeError("The first argument 'property' must be a string");
    if (this.status !== 'open') throw new StrataLevelError('Database is not open', { code: 'LEVEL_DATABASE_NOT_OPEN' });
    try {
      return this.engine.getProperty(property) ?? '';
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  #encodeRange(start: unknown, end: unknown, options: StrataStartEndOptions<unknown> | null | undefined, method: string): [string | Uint8Array, string | Uint8Array] {
    // classic-level ignores an options argument that is not an object (null included).
    const opts = typeof options === 'object' && options !== null ? options : undefined;
    checkOptionNames(opts, ['keyEncoding'], `${method}() options`);
    const name = opts?.keyEncoding;
    const encoding = (this.keyEncoding as (name?: unknown) => { encode(key: unknown): string | Uint8Array })(name);
    return [encoding.encode(start), encoding.encode(end)];
  }

  async _open(options: Record<string, unknown>): Promise<void> {
    try {
      this.#db = await openEngine(this.#location, engineOpenOptions(options));
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  async _close(): Promise<void> {
    const db = this.#db;
    if (db === null) return;
    try {
      await db.close();
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    this.#db = null;
  }

  // The engine reads synchronously underneath (its async get is getSync in a promise). A get
  // with default options on an open database is therefore getSync plus one promise (issue 13):
  // abstract-level's get would add its option handling and two awaits around _get. Every other
  // get (options, a database still opening, a closed one) takes abstract-level's path.
  override get(key: KDefault): Promise<VDefault | undefined>;
  override get<K = KDefault, V = VDefault>(key: K, options: AbstractGetOptions<K, V>): Promise<V | undefined>;
  override get(key: unknown, options?: AbstractGetOptions<unknown, unknown>): Promise<unknown> {
    if (options !== undefined || this.status !== 'open') return super.get(key as KDefault, options as AbstractGetOptions<KDefault, VDefault>);
    try {
      return Promise.resolve(this.getSync(key as KDefault));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  _get(key: string | Uint8Array, options: PrivateReadOptions): Promise<string | Uint8Array | undefined> {
    try {
      return Promise.resolve(this._getSync(key, options));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  _getSync(key: string | Uint8Array, options: PrivateReadOptions): string | Uint8Array | undefined {
    let value: Uint8Array | undefined;
    try {
      value = this.engine.getSync(key, readOptions(options));
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return value === undefined ? undefined : decode(value, options.valueEncoding);
  }

  async _getMany(keys: (string | Uint8Array)[], options: PrivateReadOptions): Promise<(string | Uint8Array | undefined)[]> {
    const db = this.engine;
    const read = readOptions(options);
    const format = options.valueEncoding;
    let values: (string | Uint8Array | undefined)[];
    try {
      // One engine call: the keys are read at one snapshot, sorted, each table walked once.
      values = db.getManySync(keys, read);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) values[i] = decode(value as Uint8Array, format);
    }
    return Promise.resolve(values);
  }

  async _has(key: string | Uint8Array, options: PrivateReadOptions): Promise<boolean> {
    let found: boolean;
    try {
      found = this.engine.getSync(key, readOptions(options)) !== undefined;
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return Promise.resolve(found);
  }

  async _hasMany(keys: (string | Uint8Array)[], options: PrivateReadOptions): Promise<boolean[]> {
    const db = this.engine;
    const read = readOptions(options);
    let found: boolean[];
    try {
      found = keys.map((key) => db.getSync(key, read) !== undefined);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return Promise.resolve(found);
  }

  async _put(key: string | Uint8Array, value: string | Uint8Array, options: PrivateWriteOptions): Promise<void> {
    try {
      await this.engine.put(key, value, writeOptions(options, 'put()'));
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  async _del(key: string | Uint8Array, options: PrivateWriteOptions): Promise<void> {
    try {
      await this.engine.delete(key, writeOptions(options, 'del()'));
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  // abstract-level's batch(operations) builds, for every operation, a clone of it (the options
  // spread in), looks both its encodings up by name and hands _batch a second array of private
  // operations, which _batch then turns into the engine's: ~15% of a 1,000-put batch's CPU on
  // the main thread, where the engine's memtable insert also runs (issue 12). Where none of that
  // can matter, the operations are encoded here with the database's own encodings straight into
  // one engine batch: no options argument, an open database, no prewrite hook, no 'write'
  // listener, and every operation a plain object of type 'put' or 'del' with a key (and value)
  // and no keyEncoding, valueEncoding or sublevel of its own. abstract-level would have applied
  // exactly those encodings, and prefixKey is the identity on a root database. Any other call
  // takes abstract-level's path from the start — and so does this one as soon as an operation
  // is not such, or anything throws (an encoding, the engine refusing a key): abstract-level
  // then raises the error its way. Nothing is written before the whole array was converted.
  override batch(operations: AbstractBatchOperation<this, KDefault, VDefault>[]): Promise<void>;
  override batch<K = KDefault, V = VDefault>(operations: AbstractBatchOperation<this, K, V>[], options: StrataBatchOptions<K, V>): Promise<void>;
  override batch(): AbstractChainedBatch<this, KDefault, VDefault>;
  override batch(operations?: unknown, options?: unknown): Promise<void> | AbstractChainedBatch<this, KDefault, VDefault> {
    if (arguments.length === 0) return super.batch();
    const slow = (): Promise<void> =>
      super.batch(operations as AbstractBatchOperation<this, KDefault, VDefault>[], options as StrataBatchOptions<KDefault, VDefault>);
    if (options !== undefined || this.status !== 'open' || !Array.isArray(operations) || operations.length === 0) return slow();
    // `noop`: abstract-level's own test of "no hook added" (untyped; true while none is).
    if (!(this.hooks.prewrite as unknown as { noop: boolean }).noop || this.listenerCount('write') > 0) return slow();
    const batch = this.#encodePlainOperations(operations as unknown[]);
    if (batch === undefined) return slow();
    return batch.write().catch((err: unknown) => {
      throw mapEngineError(err, this.#location);
    });
  }

  /** `operations` in one engine batch, or undefined if one of them needs abstract-level's handling (see batch). */
  #encodePlainOperations(operations: readonly unknown[]): EngineBatch | undefined {
    const keyEncoding = this.keyEncoding() as unknown as PlainEncoding;
    const valueEncoding = this.valueEncoding() as unknown as PlainEncoding;
    const batch = this.engine.batch();
    try {
      for (let i = 0; i < operations.length; i++) {
        const op = operations[i] as PublicOperation | null;
        if (typeof op !== 'object' || op === null || Object.getPrototypeOf(op) !== Object.prototype) return undefined;
        const key = op.key;
        if (key === undefined || key === null || op.keyEncoding !== undefined || op.sublevel !== undefined) return undefined;
        if (op.type === 'put') {
          const value = op.value;
          if (value === undefined || value === null || op.valueEncoding !== undefined) return undefined;
          batch.put(keyEncoding.encode(key), valueEncoding.encode(value));
        } else if (op.type === 'del') {
          batch.delete(keyEncoding.encode(key));
        } else return undefined;
      }
    } catch {
      return undefined; // abstract-level's path raises it, its way
    }
    return batch;
  }

  async _batch(operations: PrivateOperation[], options: PrivateWriteOptions): Promise<void> {
    let batch: EngineBatch;
    try {
      batch = this.engine.batch();
      for (const op of operations) {
        if (op.type === 'put') batch.put(op.key, op.value!);
        else batch.delete(op.key);
      }
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return this.#writeBatch(batch, options);
  }

  _chainedBatch(): StrataChainedBatch<this, KDefault, VDefault> {
    return new StrataChainedBatch(this, this.engine.batch(), this.#writeBatch);
  }

  /** Writes an engine batch with batch()'s write options (`sync`; a misspelt name is refused before anything is written). */
  readonly #writeBatch = async (batch: EngineBatch, options: PrivateWriteOptions): Promise<void> => {
    try {
      await batch.write(writeOptions(options, 'batch()'));
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  };

  async _clear(options: PrivateClearOptions): Promise<void> {
    try {
      if (options.limit === -1 && engineSnapshotOf(options) === undefined) {
        await this.#clearRange(options);
      } else {
        await this.#clearByVisiting(options);
      }
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  /** A clear without limit or snapshot: one range tombstone over [start, end). */
  async #clearRange(options: PrivateClearOptions): Promise<void> {
    const range = engineRange({ ...options, reverse: false });
    if (range === null) return;
    const db = this.engine;
    let start: Uint8Array;
    if (range.gte !== undefined) start = toBytes(range.gte);
    else if (range.gt !== undefined) start = successor(toBytes(range.gt));
    else start = new Uint8Array(0);
    let end: Uint8Array;
    if (range.lt !== undefined) end = toBytes(range.lt);
    else if (range.lte !== undefined) end = successor(toBytes(range.lte));
    else {
      // No upper bound: the range ends just after the last key there is now.
      const cursor = db.iterator({ ...range, reverse: true, limit: 1 });
      let last: Uint8Array | undefined;
      try {
        last = cursor.next()?.[0];
      } finally {
        cursor.close();
      }
      if (last === undefined) return;
      end = successor(last);
    }
    if (compareBytes(start, end) >= 0) return;
    await db.deleteRange(start, end);
  }

  /** A clear with a limit or an explicit snapshot deletes the keys it sees, in chunks. */
  async #clearByVisiting(options: PrivateClearOptions): Promise<void> {
    const range = engineRange(options);
    if (range === null) return;
    const db = this.engine;
    const snapshot = engineSnapshotOf(options);
    if (snapshot !== undefined) range.snapshot = snapshot;
    const cursor: EngineCursor = db.iterator(range);
    let remaining = options.limit < 0 ? Infinity : options.limit;
    try {
      while (remaining > 0) {
        const entries = cursor.nextv(Math.min(CLEAR_CHUNK, remaining));
        if (entries.length === 0) break;
        remaining -= entries.length;
        const batch = db.batch();
        for (const [key] of entries) batch.delete(key);
        await batch.write();
      }
    } finally {
      cursor.close();
    }
  }

  /** The engine cursor of an iterator; null when nothing can be read (empty range, closed snapshot). */
  #cursor(options: PrivateIteratorOptions): EngineCursor | null {
    const range = engineRange(options);
    const snapshot = options.snapshot instanceof StrataSnapshot ? options.snapshot : null;
    // A closed snapshot yields no cursor: the first read fails with LEVEL_SNAPSHOT_NOT_OPEN.
    if (range === null || snapshot?.closed === true) return null;
    if (snapshot !== null) range.snapshot = snapshot.engineSnapshot;
    try {
      return this.engine.iterator(range);
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
  }

  _iterator(options: PrivateIteratorOptions): StrataEntryIterator<this> {
    return new StrataEntryIterator(this, options, this.#cursor(options));
  }

  _keys(options: PrivateIteratorOptions): StrataKeyIterator<this> {
    return new StrataKeyIterator(this, options, this.#cursor(options));
  }

  _values(options: PrivateIteratorOptions): StrataValueIterator<this> {
    return new StrataValueIterator(this, options, this.#cursor(options));
  }

  _snapshot(options: object): StrataSnapshot {
    let engineSnapshot: EngineSnapshot;
    try {
      engineSnapshot = this.engine.snapshot();
    } catch (err) {
      throw mapEngineError(err, this.#location);
    }
    return new StrataSnapshot(engineSnapshot, options);
  }
}
