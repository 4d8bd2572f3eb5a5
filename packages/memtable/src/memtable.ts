/**
 * The active memtable: takes writes at strictly increasing sequence numbers and answers reads
 * (see `MemtableReader`) until it is frozen and flushed.
 *
 * Every write is validated completely before anything is changed, so a write that throws
 * leaves the memtable exactly as it was. A batch is applied in one synchronous call, so no
 * reader (JavaScript being single-threaded) can observe part of it.
 */
import { StrataError } from '@strata-db/errors';
import { FrozenMemtable } from './frozen-memtable.js';
import { MemtableReader, MemtableState, invalid, type MemtableOptions } from './memtable-reader.js';
import { EntryKind, compareKeys, type BatchOp } from './types.js';

const EMPTY = new Uint8Array(0);

export class Memtable extends MemtableReader {
  private frozenView: FrozenMemtable | undefined;

  /**
   * `memory`: where this memtable's memory comes from and goes back to once released (see
   * `release`): the buffers of the last released memtable, if it holds any. `like`: otherwise
   * size the new memtable's arrays for about as many entries as that one held (its `size()`),
   * so that it reaches the same size without copying its arrays as they grow. `shared: false`:
   * plain memory, for a memtable no other thread will read.
   */
  constructor(options: MemtableOptions = {}) {
    super(new MemtableState(undefined, options));
  }

  /** Writes `key` = `value` at `seq`. Key and value bytes are copied. */
  put(key: Uint8Array, value: Uint8Array, seq: number): void {
    this.checkWritable();
    checkBytes(key, 'key');
    checkBytes(value, 'value');
    this.checkSeq(seq, 1);
    this.state.points.insert(key, seq, EntryKind.Put, value);
    this.state.maxLsn = seq;
  }

  /** Writes a point Delete of `key` at `seq`. */
  delete(key: Uint8Array, seq: number): void {
    this.checkWritable();
    checkBytes(key, 'key');
    this.checkSeq(seq, 1);
    this.state.points.insert(key, seq, EntryKind.Delete, EMPTY);
    this.state.maxLsn = seq;
  }

  /** Writes a range tombstone over [start, end) at `seq`; requires start < end. */
  deleteRange(start: Uint8Array, end: Uint8Array, seq: number): void {
    this.checkWritable();
    checkRange(start, end, 'deleteRange');
    this.checkSeq(seq, 1);
    this.state.tombstones.add(start, end, seq);
    this.state.maxLsn = seq;
  }

  /**
   * Applies a batch atomically: operation i gets seq `firstSeq + i`; either every operation
   * is applied or (on a validation error) none is. An empty batch changes nothing.
   */
  apply(ops: readonly BatchOp[], firstSeq: number): void {
    this.checkWritable();
    const list: unknown = ops;
    if (!Array.isArray(list)) invalid('apply: ops must be an array of BatchOp');
    const n = ops.length;
    this.checkSeq(firstSeq, n);
    for (let i = 0; i < n; i++) checkOp(ops[i], i);
    if (n === 0) return;
    const { points, tombstones } = this.state;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      const seq = firstSeq + i;
      if (op.type === 'put') points.insert(op.key, seq, EntryKind.Put, op.value);
      else if (op.type === 'del') points.insert(op.key, seq, EntryKind.Delete, EMPTY);
      else tombstones.add(op.start, op.end, seq);
    }
    this.state.maxLsn = firstSeq + n - 1;
  }

  /**
   * Raises `maxLsn()` to `lsn` (recovery calls this with the largest LSN it replayed, so that
   * the next write's seq, `maxLsn() + 1`, is never one already used). Never lowers it: a
   * smaller `lsn` is ignored — "at least this" is already true. Returns the resulting maxLsn.
   * Throws INVALID_ARGUMENT unless `lsn` is a safe integer ≥ 0, FROZEN after `freeze()`.
   */
  injectMaxLsn(lsn: number): number {
    this.checkWritable();
    if (!Number.isSafeInteger(lsn) || lsn < 0) invalid(`injectMaxLsn: lsn must be a safe integer ≥ 0, got ${String(lsn)}`);
    if (lsn > this.state.maxLsn) this.state.maxLsn = lsn;
    return this.state.maxLsn;
  }

  /**
   * Ends writing: returns the immutable view that flush reads (the same one on every call).
   * Copies nothing. From now on every write to this memtable throws FROZEN.
   */
  freeze(): FrozenMemtable {
    this.state.frozen = true;
    this.frozenView ??= new FrozenMemtable(this.state);
    return this.frozenView;
  }

  private checkWritable(): void {
    if (this.state.frozen) throw new StrataError('FROZEN', 'memtable is frozen: write to the new active memtable instead');
  }

  /**
   * Seqs must be safe integers ≥ 1 above `maxLsn()` — above every seq written AND every LSN
   * injected, so that no seq is ever used twice. `count` seqs starting at `seq` are checked.
   */
  private checkSeq(seq: number, count: number): void {
    if (!Number.isSafeInteger(seq) || seq < 1) invalid(`seq must be a safe integer ≥ 1, got ${String(seq)}`);
    if (seq <= this.state.maxLsn) {
      invalid(`seq ${seq} is not above maxLsn ${this.state.maxLsn}: seqs must strictly increase (take maxLsn() + 1)`);
    }
    if (!Number.isSafeInteger(seq + count - 1)) invalid(`seqs ${seq}..${seq + count - 1} exceed Number.MAX_SAFE_INTEGER`);
  }
}

function checkBytes(bytes: unknown, what: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) invalid(`${what} must be a Uint8Array, got ${describe(bytes)}`);
}

function checkRange(start: unknown, end: unknown, where: string): void {
  checkBytes(start, `${where}: start`);
  checkBytes(end, `${where}: end`);
  if (compareKeys(start, end) >= 0) invalid(`${where}: start must be < end (the range [start, end) would be empty)`);
}

/*
 * Validates op i of a batch. The messages are built only for a bad op: apply runs on every write's
 * path, and a template literal per field (two per put) was two strings built and dropped per put.
 */
function checkOp(op: unknown, i: number): void {
  if (typeof op !== 'object' || op === null) invalid(`apply: op ${i} is not a BatchOp`);
  const o = op as {
    type?: unknown;
    key?: unknown;
    value?: unknown;
    start?: unknown;
    end?: unknown;
  };
  switch (o.type) {
    case 'put':
      if (o.key instanceof Uint8Array && o.value instanceof Uint8Array) return;
      checkBytes(o.key, `apply: op ${i} (put) key`);
      checkBytes(o.value, `apply: op ${i} (put) value`);
      return;
    case 'del':
      if (o.key instanceof Uint8Array) return;
      checkBytes(o.key, `apply: op ${i} (del) key`);
      return;
    case 'deleteRange':
      checkRange(o.start, o.end, `apply: op ${i} (deleteRange)`);
      return;
    default:
      invalid(`apply: op ${i} has unknown type ${describe(o.type)} (expected 'put', 'del' or 'deleteRange')`);
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return x.constructor.name;
  return typeof x === 'string' ? JSON.stringify(x) : typeof x;
}
