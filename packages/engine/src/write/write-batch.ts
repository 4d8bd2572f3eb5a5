/**
 * `db.batch()`: an atomic group of puts, deletes and range deletes. Operations are validated
 * and their bytes copied as they are added (a bad argument throws INVALID_ARGUMENT right there
 * and leaves the batch as it was), so `write()` only has to sequence and log them. The whole
 * batch is one WAL record: after a crash it is there entirely or not at all. The operations are
 * kept as that record is laid out (`BatchRecord`, @strata-db/wal's batch.ts), one buffer for the
 * batch as LevelDB's WriteBatch: the WAL copies it as it is, and the memtable inserts from it.
 */
import { compareKeys } from '@strata-db/memtable';
import { BatchRecord } from '@strata-db/wal';
import { StrataError } from '../errors.js';
import { lookupKeyArg, optionsObject, valueArg } from '../keys.js';

export interface WriteOptions {
  /** fdatasync the WAL before resolving (default: the database's `sync` option). */
  readonly sync?: boolean;
}

/** The names WriteOptions has; any other is INVALID_ARGUMENT. */
export const WRITE_OPTION_NAMES = ['sync'] as const satisfies readonly (keyof WriteOptions)[];

export type KeyLike = Uint8Array | string;

export interface BatchCommitter {
  commitBatch(record: BatchRecord, userBytes: number, options: WriteOptions | undefined): Promise<void>;
}

export class WriteBatch {
  private record = new BatchRecord();
  private bytes = 0;
  private written = false;

  /** @internal */
  constructor(private readonly db: BatchCommitter) {}

  put(key: KeyLike, value: KeyLike): this {
    this.check();
    // Not copied here: the record copies them (lookupKeyArg and valueArg(…, false) only validate, or encode a string).
    const k = lookupKeyArg(key);
    const v = valueArg(value, false);
    this.record.put(k, v);
    this.bytes += k.length + v.length;
    return this;
  }

  delete(key: KeyLike): this {
    this.check();
    const k = lookupKeyArg(key);
    this.record.del(k);
    this.bytes += k.length;
    return this;
  }

  /** Alias of `delete` (abstract-level's name). */
  del(key: KeyLike): this {
    return this.delete(key);
  }

  /** Removes [start, end). start > end is INVALID_ARGUMENT; start = end is an empty range (no-op). */
  deleteRange(start: KeyLike, end: KeyLike): this {
    this.check();
    const s = lookupKeyArg(start, 'start');
    const e = lookupKeyArg(end, 'end');
    const c = compareKeys(s, e);
    if (c > 0) throw new StrataError('INVALID_ARGUMENT', 'deleteRange: start must not be greater than end');
    if (c === 0) return this;
    this.record.deleteRange(s, e);
    this.bytes += s.length + e.length;
    return this;
  }

  /** Number of operations. */
  get length(): number {
    return this.record.count;
  }

  clear(): this {
    this.check();
    this.record.clear();
    this.bytes = 0;
    return this;
  }

  /** Applies every operation atomically. A batch can be written once. */
  async write(options?: WriteOptions): Promise<void> {
    this.check();
    // Checked before the batch is consumed: a typo in the options must not lose the batch.
    optionsObject(options, 'write options', WRITE_OPTION_NAMES);
    this.written = true;
    await this.db.commitBatch(this.record, this.bytes, options);
  }

  private check(): void {
    if (this.written) throw new StrataError('INVALID_ARGUMENT', 'this batch was already written; create a new one with db.batch()');
  }
}
