/**
 * `db.batch()`: an atomic group of puts, deletes and range deletes. Operations are validated
 * and their bytes copied as they are added (a bad argument throws INVALID_ARGUMENT right there
 * and leaves the batch as it was), so `write()` only has to sequence and log them. The whole
 * batch is one WAL record: after a crash it is there entirely or not at all.
 */
import { compareKeys, type BatchOp } from '@strata-db/memtable';
import { StrataError } from '../errors.js';
import { keyArg, optionsObject, valueArg } from '../keys.js';

export interface WriteOptions {
  /** fdatasync the WAL before resolving (default: the database's `sync` option). */
  readonly sync?: boolean;
}

/** The names WriteOptions has; any other is INVALID_ARGUMENT. */
export const WRITE_OPTION_NAMES = ['sync'] as const satisfies readonly (keyof WriteOptions)[];

export type KeyLike = Uint8Array | string;

export interface BatchCommitter {
  commitBatch(ops: BatchOp[], userBytes: number, options: WriteOptions | undefined): Promise<void>;
}

export class WriteBatch {
  private ops: BatchOp[] = [];
  private bytes = 0;
  private written = false;

  /** @internal */
  constructor(private readonly db: BatchCommitter) {}

  put(key: KeyLike, value: KeyLike): this {
    this.check();
    const k = keyArg(key);
    const v = valueArg(value);
    this.ops.push({ type: 'put', key: k, value: v });
    this.bytes += k.length + v.length;
    return this;
  }

  delete(key: KeyLike): this {
    this.check();
    const k = keyArg(key);
    this.ops.push({ type: 'del', key: k });
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
    const s = keyArg(start, 'start');
    const e = keyArg(end, 'end');
    const c = compareKeys(s, e);
    if (c > 0) throw new StrataError('INVALID_ARGUMENT', 'deleteRange: start must not be greater than end');
    if (c === 0) return this;
    this.ops.push({ type: 'deleteRange', start: s, end: e });
    this.bytes += s.length + e.length;
    return this;
  }

  /** Number of operations. */
  get length(): number {
    return this.ops.length;
  }

  clear(): this {
    this.check();
    this.ops = [];
    this.bytes = 0;
    return this;
  }

  /** Applies every operation atomically. A batch can be written once. */
  async write(options?: WriteOptions): Promise<void> {
    this.check();
    // Checked before the batch is consumed: a typo in the options must not lose the batch.
    optionsObject(options, 'write options', WRITE_OPTION_NAMES);
    this.written = true;
    const ops = this.ops;
    this.ops = [];
    await this.db.commitBatch(ops, this.bytes, options);
  }

  private check(): void {
    if (this.written) throw new StrataError('INVALID_ARGUMENT', 'this batch was already written; create a new one with db.batch()');
  }
}
