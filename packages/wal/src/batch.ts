/**
 * A logical record: one atomic write batch, exactly the bytes a record's fragments carry
 * (see log-format.ts for how they are framed and checksummed).
 *
 *   offset  size  field
 *        0     8  first LSN, u64 LE (a safe integer ≥ 1); op i has LSN first + i
 *        8     4  op count n, u32 LE (≥ 1)
 *       12        n ops, each:
 *                   1 byte kind: 1 put, 2 del, 3 deleteRange
 *                   put:          varint32 key length, key, varint32 value length, value
 *                   del:          varint32 key length, key
 *                   deleteRange:  varint32 start length, start, varint32 end length, end
 *
 * varint32 is LEB128 (7 bits a byte, low bits first, at most 5 bytes), as in LevelDB. Decoding
 * checks every length against the bytes left and that the ops end exactly at the record's end,
 * so a record that passed its checksum but is malformed is still caught.
 *
 * Two ways to the same bytes: `writeBatch` encodes op objects at append time; `BatchRecord`
 * (LevelDB's WriteBatch rep) lays the ops out as they are added, bytes 0-11 left blank until
 * it is sequenced (`stamp`: the first LSN and the count). Either way the log holds the
 * layout above, so a WAL replays the same whichever wrote it.
 */
import { StrataError } from '@strata-db/errors';
import { readU64, writeU32, writeU64 } from './little-endian.js';

/** One operation of an atomic batch: the same shape as `@strata-db/memtable`'s `BatchOp`. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array }
  | { readonly type: 'deleteRange'; readonly start: Uint8Array; readonly end: Uint8Array };

const KIND_PUT = 1;
const KIND_DEL = 2;
const KIND_DELETE_RANGE = 3;
const FIXED_SIZE = 12;
const MAX_U32 = 0xffff_ffff;

export interface DecodedBatch {
  readonly firstLsn: number;
  readonly ops: BatchOp[];
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function bytesSize(b: Uint8Array): number {
  return varintSize(b.length) + b.length;
}

function checkBytes(b: unknown, what: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new StrataError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
}

/** The header's fields are loggable: LSNs firstLsn … firstLsn + count - 1, count ≥ 1. Throws INVALID_ARGUMENT. */
function checkHeader(count: number, firstLsn: number): void {
  if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
    throw new StrataError('INVALID_ARGUMENT', `first LSN must be a safe integer ≥ 1, got ${firstLsn}`);
  }
  if (count === 0) throw new StrataError('INVALID_ARGUMENT', 'an empty batch has nothing to log; do not append it');
  if (count > MAX_U32 || !Number.isSafeInteger(firstLsn + count - 1)) {
    throw new StrataError('INVALID_ARGUMENT', `a batch of ${count} ops starting at LSN ${firstLsn} overflows the LSN space`);
  }
}

/** Writes the header (bytes 0-11 above) at `pos`. */
function writeHeader(out: Buffer, pos: number, firstLsn: number, count: number): void {
  writeU64(out, firstLsn, pos);
  writeU32(out, count, pos + 8);
}

/** The encoded length of a batch. Validates `ops` and `firstLsn`: throws INVALID_ARGUMENT. */
export function batchLength(ops: readonly BatchOp[], firstLsn: number): number {
  checkHeader(ops.length, firstLsn);
  let size = FIXED_SIZE;
  // Indexed, not for-of: until V8 optimizes this (a fresh process's first ~1,000 durable puts),
  // for-of allocates an iterator per call, and every byte a lone put allocates brings the next
  // young-generation GC — a slow put — closer (docs/performance/session-15.md).
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.type) {
      case 'put':
        checkBytes(op.key, 'put key');
        checkBytes(op.value, 'put value');
        size += 1 + bytesSize(op.key) + bytesSize(op.value);
        break;
      case 'del':
        checkBytes(op.key, 'del key');
        size += 1 + bytesSize(op.key);
        break;
      case 'deleteRange':
        checkBytes(op.start, 'deleteRange start');
        checkBytes(op.end, 'deleteRange end');
        size += 1 + bytesSize(op.start) + bytesSize(op.end);
        break;
      default:
        throw new StrataError('INVALID_ARGUMENT', `unknown op type ${String((op as { type: unknown }).type)}`);
    }
  }
  return size;
}

/**
 * Writes the record of a batch that `batchLength` accepted into `out` at `pos`; returns the end.
 * The writer encodes into a reused buffer, so appending allocates nothing.
 */
export function writeBatch(ops: readonly BatchOp[], firstLsn: number, out: Buffer, pos: number): number {
  writeHeader(out, pos, firstLsn, ops.length);
  pos += FIXED_SIZE;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!; // indexed: see batchLength
    if (op.type === 'put') {
      out[pos++] = KIND_PUT;
      pos = putBytes(out, pos, op.key);
      pos = putBytes(out, pos, op.value);
    } else if (op.type === 'del') {
      out[pos++] = KIND_DEL;
      pos = putBytes(out, pos, op.key);
    } else {
      out[pos++] = KIND_DELETE_RANGE;
      pos = putBytes(out, pos, op.start);
      pos = putBytes(out, pos, op.end);
    }
  }
  return pos;
}

/** A varint32 length, then the bytes; returns the position after them. */
function putBytes(out: Buffer, pos: number, bytes: Uint8Array): number {
  let n = bytes.length;
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** The record of a batch in a buffer of its own. Throws INVALID_ARGUMENT; never writes anything. */
export function encodeBatch(ops: readonly BatchOp[], firstLsn: number): Buffer {
  const buf = Buffer.allocUnsafe(batchLength(ops, firstLsn));
  writeBatch(ops, firstLsn, buf, 0);
  return buf;
}

/** What a record's ops are applied to, in order (`BatchRecord.applyTo`): a memtable has exactly these methods. */
export interface BatchSink {
  put(key: Uint8Array, value: Uint8Array, seq: number): void;
  delete(key: Uint8Array, seq: number): void;
  deleteRange(start: Uint8Array, end: Uint8Array, seq: number): void;
}

/** Records up to this size grow inside Node's shared Buffer pool (allocUnsafe below half its 8 KiB): cheap, never recycled. */
const POOLED_BYTES = 4096;
/** A record's buffer given back (`recycle`), for the next record that outgrows the pool: see `recycle`. */
let spare: Buffer | undefined;
const EMPTY_RECORD = Buffer.alloc(FIXED_SIZE);

/**
 * A batch built in its record's layout as its ops are added (LevelDB's `WriteBatch::rep_`): one
 * growing buffer, bytes [0, 12) left for the header, which `stamp` fills with the first LSN and
 * the count once the batch is sequenced; `WalWriter.appendRecord` then copies it as is — no op object,
 * no per-op encoding at append. The ops are applied from the same bytes (`applyTo`: views into
 * the buffer, made at apply time). The caller validates what it adds (types, sizes); the record
 * copies the bytes, so the caller may reuse its buffers at once.
 */
export class BatchRecord {
  /** The record so far: [0, FIXED_SIZE) header (stamped at append), then the ops. */
  buffer: Buffer;
  /** Bytes of `buffer` in use, header included. */
  length = FIXED_SIZE;
  /** Ops added. */
  count = 0;
  /** Puts among them. */
  puts = 0;

  constructor(capacity = 256) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, FIXED_SIZE));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.addPair(KIND_PUT, key, value);
    this.puts++;
  }

  del(key: Uint8Array): void {
    let pos = this.room(6 + key.length);
    const out = this.buffer;
    out[pos++] = KIND_DEL;
    this.length = putBytes(out, pos, key);
    this.count++;
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.addPair(KIND_DELETE_RANGE, start, end);
  }

  /** An op of `kind` with two byte fields (put: key, value; deleteRange: start, end). */
  private addPair(kind: number, first: Uint8Array, second: Uint8Array): void {
    let pos = this.room(11 + first.length + second.length);
    const out = this.buffer;
    out[pos++] = kind;
    pos = putBytes(out, pos, first);
    this.length = putBytes(out, pos, second);
    this.count++;
  }

  /**
   * The record, sequenced: its header stamped with `firstLsn` and the count (validated as
   * `batchLength` validates a batch: INVALID_ARGUMENT), as a view of the bytes in use — what
   * the log holds, the same bytes `writeBatch` encodes for the same ops.
   */
  stamp(firstLsn: number): Uint8Array {
    checkHeader(this.count, firstLsn);
    writeHeader(this.buffer, 0, firstLsn, this.count);
    return this.buffer.subarray(0, this.length);
  }

  /**
   * Gives the buffer to the next record that grows past the pool (the record is empty and
   * unusable afterwards). Only once nothing holds a view into it: the caller vouches that the
   * WAL copied the record and that whatever `applyTo` fed copied what it kept (a memtable
   * copies keys and values). A bulk load's records (~116 KiB per 1000 puts) were otherwise
   * a fresh allocation each — outside V8's heap, freed only by the GC that collects their
   * small wrappers: 5-10 MB more peak RSS in a 1M fill than the op objects they replace.
   */
  recycle(): void {
    const buf = this.buffer;
    this.buffer = EMPTY_RECORD;
    this.clear();
    if (buf.length > POOLED_BYTES && (spare === undefined || spare.length < buf.length)) spare = buf;
  }

  /** Forgets every op (the buffer is kept). */
  clear(): void {
    this.length = FIXED_SIZE;
    this.count = 0;
    this.puts = 0;
  }

  /**
   * Applies op i at seq `firstSeq + i` to `sink`, keys and values as views into the buffer (the
   * caller must not add to the record meanwhile). Only for a record this class built.
   */
  applyTo(sink: BatchSink, firstSeq: number): void {
    const buf = this.buffer;
    const ab = buf.buffer;
    const base = buf.byteOffset;
    let pos = FIXED_SIZE;
    for (let i = 0, n = this.count; i < n; i++) {
      const kind = buf[pos++];
      let len = buf[pos++]!;
      if (len >= 0x80) [len, pos] = readLongVarint(buf, pos - 1);
      const first = new Uint8Array(ab, base + pos, len);
      pos += len;
      if (kind === KIND_DEL) {
        sink.delete(first, firstSeq + i);
        continue;
      }
      len = buf[pos++]!;
      if (len >= 0x80) [len, pos] = readLongVarint(buf, pos - 1);
      const second = new Uint8Array(ab, base + pos, len);
      pos += len;
      if (kind === KIND_PUT) sink.put(first, second, firstSeq + i);
      else sink.deleteRange(first, second, firstSeq + i);
    }
  }

  /** The ops as objects (views into the buffer): for a record that joins a group of BatchOp writes. */
  ops(): BatchOp[] {
    const ops: BatchOp[] = new Array<BatchOp>(this.count);
    let i = 0;
    this.applyTo(
      {
        put: (key, value) => void (ops[i++] = { type: 'put', key, value }),
        delete: (key) => void (ops[i++] = { type: 'del', key }),
        deleteRange: (start, end) => void (ops[i++] = { type: 'deleteRange', start, end }),
      },
      0,
    );
    return ops;
  }

  /** Makes room for `n` more bytes; returns where they start. */
  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buffer.length) {
      const s = spare;
      let bigger: Buffer;
      if (s !== undefined && at + n > POOLED_BYTES && s.length >= at + n) {
        spare = undefined;
        bigger = s;
      } else bigger = Buffer.allocUnsafe(Math.max(at + n, 2 * this.buffer.length));
      this.buffer.copy(bigger, 0, 0, at);
      this.buffer = bigger;
    }
    return at;
  }
}

/** A varint32 of 2-5 bytes at `pos` in a record `BatchRecord` built: [value, position after it]. */
function readLongVarint(buf: Buffer, pos: number): [number, number] {
  let n = 0;
  let scale = 1;
  for (;;) {
    const byte = buf[pos++]!;
    n += (byte & 0x7f) * scale;
    if (byte < 0x80) return [n, pos];
    scale *= 128;
  }
}

/** Thrown inside decoding only; the caller turns it into a damage report with file and offset. */
export class MalformedBatch extends Error {}

/**
 * Decodes a record. Keys and values are views into `data` (no copy): they stay valid as long as
 * the caller does not write into `data`, which the WAL never does.
 */
export function decodeBatch(data: Uint8Array): DecodedBatch {
  if (data.length < FIXED_SIZE) throw new MalformedBatch(`record of ${data.length} bytes is shorter than a batch header`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const firstLsn = readU64(buf, 0);
  const count = buf.readUInt32LE(8);
  if (firstLsn < 1 || count < 1 || !Number.isSafeInteger(firstLsn + count - 1)) {
    throw new MalformedBatch(`impossible first LSN ${firstLsn} or op count ${count}`);
  }
  let pos = FIXED_SIZE;
  const getBytes = (): Uint8Array => {
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= buf.length || i === 5) throw new MalformedBatch(`bad length varint at record byte ${pos}`);
      const byte = buf[pos++]!;
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    if (n > buf.length - pos) throw new MalformedBatch(`length ${n} at record byte ${pos} runs past the record end`);
    const bytes = buf.subarray(pos, pos + n);
    pos += n;
    return bytes;
  };
  // A count larger than the bytes could hold is damage, not a reason to allocate.
  if (count > buf.length - FIXED_SIZE) throw new MalformedBatch(`op count ${count} exceeds what ${buf.length} bytes can hold`);
  const ops: BatchOp[] = new Array<BatchOp>(count);
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) throw new MalformedBatch(`record ends after ${i} of ${count} ops`);
    const kind = buf[pos++];
    if (kind === KIND_PUT) {
      const key = getBytes();
      ops[i] = { type: 'put', key, value: getBytes() };
    } else if (kind === KIND_DEL) {
      ops[i] = { type: 'del', key: getBytes() };
    } else if (kind === KIND_DELETE_RANGE) {
      const start = getBytes();
      ops[i] = { type: 'deleteRange', start, end: getBytes() };
    } else {
      throw new MalformedBatch(`unknown op kind ${kind} at record byte ${pos - 1}`);
    }
  }
  if (pos !== buf.length) throw new MalformedBatch(`${buf.length - pos} stray bytes after the last op`);
  return { firstLsn, ops };
}
