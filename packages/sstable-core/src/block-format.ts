/**
 * The block format: how a sorted run of (key, seq, kind, value) records is laid out inside one
 * block. Data blocks, the index block, the range-tombstone block, the properties block and the
 * meta-index all use it (they differ only in what key and value mean), so one decoder serves
 * Table.get, the iterators and the loaders.
 *
 * A block's contents (before compression and the trailer, see physical-block.ts):
 *
 *   entry*  restart[0] … restart[n-1]  n
 *
 *   entry        := shared    varint   bytes of the key shared with the previous entry's key
 *                   unshared  varint   bytes of the key that follow
 *                   valueTag  varint   0 = Delete (no value), L + 1 = Put with an L-byte value
 *                   seq       varint   sequence number
 *                   key[shared … shared+unshared)   the unshared key bytes
 *                   value     L bytes
 *   restart[i]   := fixed32   offset of the i-th restart entry (shared = 0: its key is whole)
 *   n            := fixed32   number of restart points, ≥ 1 (an empty block is the 8 bytes
 *                             restart[0] = 0, n = 1)
 *
 * Entries are strictly increasing in (key ASC, seq DESC); every `restartInterval`-th entry is a
 * restart point. A seek binary-searches the restart points (whose keys are whole, so they are
 * compared in place, without copying), then scans forward at most one interval.
 *
 * Folding the kind into the value length keeps the per-entry overhead to 4 bytes for short keys
 * and values under 127 bytes with sequence numbers under 2^21 (plus the shared prefix saved).
 */
import { EntryKind, type PointEntry } from '@strata-db/memtable';
import { readFixed32, readVarint, writeVarintAt, ByteWriter, type ByteSource } from './coding.js';
import { corruption } from '@strata-db/errors';

/** Bytewise order of `data[off, off+len)` against `key` — compares in place, no view allocated. */
export function compareBytesAt(data: Uint8Array, off: number, len: number, key: Uint8Array): number {
  const klen = key.length;
  const n = len < klen ? len : klen;
  for (let i = 0; i < n; i++) {
    const d = data[off + i]! - key[i]!;
    if (d !== 0) return d;
  }
  return len - klen;
}

/** Order of internal keys: key ASC, then seq DESC. */
export function compareInternal(keyOrder: number, seqA: number, seqB: number): number {
  return keyOrder !== 0 ? keyOrder : seqB - seqA;
}

const NO_KEY = new Uint8Array(0);

/** Encodes one block. Callers add entries in strictly increasing internal order. */
export class BlockBuilder {
  private readonly out: ByteWriter;
  private readonly restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = NO_KEY;
  private count = 0;

  constructor(
    private readonly restartInterval: number,
    initialCapacity = 8192,
  ) {
    this.out = new ByteWriter(initialCapacity);
  }

  get entryCount(): number {
    return this.count;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Size of the finished block if it were finished now. */
  get currentSize(): number {
    return this.out.length + 4 * this.restarts.length + 4;
  }

  /**
   * `sharedWithLast`: the length of the prefix `key` shares with the key of the previous `add`,
   * when the caller computed it already (the table builder does, checking the order); -1 = not
   * known, computed here from the previous key — which must then still hold its bytes (a caller
   * that rewrites its key buffer between adds passes `sharedWithLast`).
   */
  add(key: Uint8Array, seq: number, kind: EntryKind, value: Uint8Array, sharedWithLast = -1): void {
    const out = this.out;
    let shared = 0;
    if (this.counter < this.restartInterval) {
      if (sharedWithLast >= 0 && this.count > 0) {
        shared = sharedWithLast;
      } else {
        const last = this.lastKey;
        const max = last.length < key.length ? last.length : key.length;
        while (shared < max && last[shared] === key[shared]) shared++;
      }
    } else {
      this.restarts.push(out.length);
      this.counter = 0;
    }
    // One capacity check for the whole entry (four varints of at most 8 bytes, the key's
    // unshared bytes, the value), the header's one-byte varints written inline: four
    // `putVarint`s and two `putBytes` each checked the capacity and stored the length.
    const keyLength = key.length;
    const unshared = keyLength - shared;
    const valueLength = kind === EntryKind.Delete ? 0 : value.length;
    const valueTag = kind === EntryKind.Delete ? 0 : valueLength + 1;
    const buf = out.reserve(32 + unshared + valueLength);
    let p = out.length;
    if (shared < 0x80) buf[p++] = shared;
    else p = writeVarintAt(buf, p, shared);
    if (unshared < 0x80) buf[p++] = unshared;
    else p = writeVarintAt(buf, p, unshared);
    if (valueTag < 0x80) buf[p++] = valueTag;
    else p = writeVarintAt(buf, p, valueTag);
    p = writeVarintAt(buf, p, seq);
    if (unshared < 32) {
      for (let i = shared; i < keyLength; i++) buf[p++] = key[i]!;
    } else {
      buf.set(key.subarray(shared, keyLength), p);
      p += unshared;
    }
    if (valueLength > 0) {
      if (valueLength < 32) {
        for (let i = 0; i < valueLength; i++) buf[p++] = value[i]!;
      } else {
        buf.set(value, p);
        p += valueLength;
      }
    }
    out.length = p;
    this.lastKey = key;
    this.counter++;
    this.count++;
  }

  /** The block's contents; a view valid until `reset()`. */
  finish(): Uint8Array {
    for (const r of this.restarts) this.out.putFixed32(r);
    this.out.putFixed32(this.restarts.length);
    return this.out.bytes();
  }

  reset(): void {
    this.out.reset();
    this.restarts.length = 1;
    this.counter = 0;
    this.count = 0;
    this.lastKey = NO_KEY;
  }
}

/**
 * A parsed, checksum-verified block. Immutable while anyone can read it: cursors and the values
 * they hand out are views into `data`, so its bytes must never be written after construction —
 * with one exception, the block cache's recycling (block-cache.ts): a block only the cache could
 * reach, once evicted, is read into again and re-parsed in place (`reparse`), so that a cache
 * miss allocates no object that outlives it.
 *
 * `data` may be longer than the block (a recycled buffer: its whole size class); the block is
 * `data[0, length)`, of which the entries are `[0, restartsOffset)`, and nothing reads past
 * the restart array.
 */
export class Block {
  // Written only by the constructor and by the BlockCache's `reparse` of a block it recycles.
  data: Uint8Array;
  /** Offset where the restart array begins = end of the entries. */
  restartsOffset = 0;
  numRestarts = 0;
  /** Where it came from, for error messages. */
  file: string;
  fileOffset: number;

  /** The block of `length` bytes (default: all of `data`) at the front of `data`. */
  constructor(data: Uint8Array, file: string, fileOffset: number, length = data.length) {
    this.data = data;
    this.file = file;
    this.fileOffset = fileOffset;
    if (length >= 0) this.parse(length);
  }

  /**
   * A block with no contents yet over `data` (a buffer the block cache hands out to read a block
   * into, then `reparse`s): not readable until then.
   */
  static spare(data: Uint8Array): Block {
    return new Block(data, '', 0, -1);
  }

  /** Makes this block the `length` bytes now at the front of `data`, read from `file` at `fileOffset`. */
  reparse(length: number, file: string, fileOffset: number): void {
    this.file = file;
    this.fileOffset = fileOffset;
    this.parse(length);
  }

  private parse(len: number): void {
    const data = this.data;
    const file = this.file;
    const fileOffset = this.fileOffset;
    if (len < 4) throw corruption(file, fileOffset, `block of ${len} bytes is too short for its restart count`);
    const n = readFixed32(data, len - 4);
    const restartsOffset = len - 4 - 4 * n;
    if (n < 1 || restartsOffset < 0) throw corruption(file, fileOffset, `block restart count ${n} does not fit its ${len} bytes`);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const r = readFixed32(data, restartsOffset + 4 * i);
      if (r <= prev || (r >= restartsOffset && !(r === 0 && restartsOffset === 0 && n === 1))) {
        throw corruption(file, fileOffset, `block restart point ${i} (${r}) is out of order or out of bounds`);
      }
      prev = r;
    }
    this.restartsOffset = restartsOffset;
    this.numRestarts = n;
  }

  /**
   * Offset of restart entry i. Read from the block's own bytes rather than a decoded copy: a
   * separate array would be one more cache miss on a cold block, and cold blocks dominate
   * random point lookups.
   */
  restartPoint(i: number): number {
    return readFixed32(this.data, this.restartsOffset + 4 * i);
  }

  /** Bytes this block pins in memory (for the cache's accounting): its buffer and BLOCK_OVERHEAD. */
  get charge(): number {
    return this.data.byteLength + BLOCK_OVERHEAD;
  }
}

/**
 * Bytes a cached block holds beyond its buffer's: the Block (64 bytes of V8 heap), its
 * Uint8Array (96) and ArrayBuffer (88) objects — a heap snapshot of the scale bench's process
 * after its 10M gets, 30.8k cached blocks — and the ArrayBuffer's native bookkeeping outside the
 * V8 heap (its BackingStore, its extension, malloc's chunk headers: ~95 bytes, from the RSS of
 * 200k such blocks less their heap and bytes): ~345. It was 160, so the default 128 MiB cache
 * full of 4 KiB blocks held ~5.7 MB more than it charged (~31.1k blocks where this admits
 * ~29.7k).
 */
export const BLOCK_OVERHEAD = 352;

/**
 * A block of no entries (one restart, at 0): what a reused cursor points at when it reads
 * nothing, so that it keeps no caller's block alive (the table's lookup cursor, the index
 * partition decoder's scratch).
 */
export const EMPTY_BLOCK = new Block(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0]), '', 0);

/**
 * Walks the entries of one block. The current key lives in a reusable scratch buffer (prefix
 * compression means it must be rebuilt from the previous key anyway); values are never copied.
 * One cursor is reused for many blocks (`reset`), so a point lookup allocates only its result.
 */
export class BlockCursor implements ByteSource {
  block: Block;
  data: Uint8Array;
  /**
   * `data.buffer` and `data.byteOffset`, taken once a block: `value()` makes its view with the
   * Uint8Array constructor from them — `subarray` looks up the species constructor and the
   * `buffer` getter calls into V8's C++ runtime, together ~4% of a scan's CPU as one per entry.
   */
  private dataBuffer: ArrayBufferLike;
  private dataByteOffset: number;
  pos = 0;
  /** Offset of the current entry; `restartsOffset` when past the end. */
  offset = 0;
  /** Offset of the entry after the current one. */
  nextOffset = 0;
  /** Index of the restart interval that holds the current entry. */
  restartIndex = 0;
  /** Current key: `keyBuf[0, keyLength)`. Overwritten on every move. */
  keyBuf: Uint8Array = new Uint8Array(64);
  keyLength = 0;
  /** Bytes the current key shares with the previous entry's (0 at a restart point). */
  shared = 0;
  seq = 0;
  kind: EntryKind = EntryKind.Put;
  valueOffset = 0;
  valueLength = 0;

  constructor(block: Block) {
    this.block = block;
    this.data = block.data;
    this.dataBuffer = block.data.buffer;
    this.dataByteOffset = block.data.byteOffset;
    this.offset = block.restartsOffset;
    this.nextOffset = block.restartsOffset;
  }

  reset(block: Block): void {
    this.block = block;
    const data = (this.data = block.data);
    this.dataBuffer = data.buffer;
    this.dataByteOffset = data.byteOffset;
    this.offset = block.restartsOffset;
    this.nextOffset = block.restartsOffset;
    this.restartIndex = 0;
    this.keyLength = 0;
  }

  valid(): boolean {
    return this.offset < this.block.restartsOffset;
  }

  invalidate(): void {
    this.offset = this.nextOffset = this.block.restartsOffset;
  }

  /** Positions at the first entry of restart interval `i`. */
  seekToRestart(i: number): void {
    this.restartIndex = i;
    this.keyLength = 0;
    this.decodeAt(this.block.restartPoint(i));
  }

  seekToFirst(): void {
    this.seekToRestart(0);
  }

  /** Positions at the last entry of the block (invalid if the block is empty). */
  seekToLast(): void {
    const block = this.block;
    this.seekToRestart(block.numRestarts - 1);
    while (this.valid() && this.nextOffset < block.restartsOffset) this.next();
  }

  next(): void {
    const block = this.block;
    const off = this.nextOffset;
    if (off >= block.restartsOffset) {
      this.offset = block.restartsOffset;
      return;
    }
    const ri = this.restartIndex + 1;
    if (ri < block.numRestarts && block.restartPoint(ri) <= off) this.restartIndex = ri;
    this.decodeAt(off);
  }

  /**
   * Moves to the entry before the current one (or invalid at the first): restarts the current
   * interval, or the one before it, and scans forward — the format has no back links.
   */
  prev(): void {
    const target = this.offset;
    let ri = this.restartIndex;
    while (ri >= 0 && this.block.restartPoint(ri) >= target) ri--;
    if (ri < 0) {
      this.invalidate();
      return;
    }
    this.seekToRestart(ri);
    while (this.nextOffset < target) this.next();
  }

  /**
   * Positions at the first entry ≥ (key, seq) in (key ASC, seq DESC) order, or invalid if every
   * entry is smaller. Binary search over restart keys in place, then a linear scan.
   */
  seek(key: Uint8Array, seq: number): void {
    const data = this.data;
    const limit = this.block.restartsOffset;
    const numRestarts = this.block.numRestarts;
    const lo = this.lastRestartBelow(0, numRestarts - 1, key, seq);
    this.seekInInterval(lo, readFixed32(data, limit + 4 * lo), lo + 1 < numRestarts ? readFixed32(data, limit + 4 * (lo + 1)) : limit, key, seq);
  }

  /**
   * The last restart point in [lo, hi] whose entry is < (key, seq), or `lo` when none above it
   * is: a binary search over the restart array, each restart key compared in place. The caller
   * knows restart `lo` is < (key, seq), or that nothing before it can be ≥ it.
   */
  lastRestartBelow(lo: number, hi: number, key: Uint8Array, seq: number): number {
    const block = this.block;
    const data = this.data;
    const limit = block.restartsOffset;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      this.pos = readFixed32(data, limit + 4 * mid);
      const shared = this.varint(limit);
      const unshared = this.varint(limit);
      const valueTag = this.varint(limit);
      const s = this.varint(limit);
      if (shared !== 0 || unshared < 0 || valueTag < 0 || s < 0 || this.pos + unshared > limit) {
        throw corruption(block.file, block.fileOffset, `block restart entry ${mid} is malformed`);
      }
      const c = compareInternal(compareBytesAt(data, this.pos, unshared, key), s, seq);
      if (c < 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * `seek` when the caller already knows the restart interval: `ri` is the last restart point
   * whose entry is < (key, seq) (0 when none is), `off` its offset and `nextRestart` the offset
   * of restart ri + 1 (`restartsOffset` for the last). Reads the restart array only if the scan
   * runs into the next interval. (Table.find passes what its per-block restart summary says, so a
   * cached point lookup in a block of up to 3 restart points does not touch the restart array or
   * the restart keys; in a larger block it searches only the third the summary picks.)
   */
  seekInInterval(ri: number, off: number, nextRestart: number, key: Uint8Array, seq: number): void {
    const block = this.block;
    const data = this.data;
    const limit = block.restartsOffset;
    // Linear scan over at most one restart interval. `matched` = bytes of the current key known
    // equal to the target. The next key shares `shared` bytes with the current one: if
    // shared > matched it differs from the target exactly where the current key did, so it is
    // still smaller — no comparison needed; else its first `shared` bytes equal the target's and
    // the comparison resumes at byte `shared`, against the entry's unshared bytes in place.
    // Skipped entries are only parsed, never copied into `keyBuf`: the key of the entry the seek
    // stops at is rebuilt once, from the target's prefix and its own bytes.
    const numRestarts = block.numRestarts;
    const klen = key.length;
    let prevLength = 0;
    let matched = 0;
    while (off < limit) {
      if (off >= nextRestart) {
        ri++;
        nextRestart = ri + 1 < numRestarts ? readFixed32(data, limit + 4 * (ri + 1)) : limit;
        prevLength = 0; // a restart entry has shared = 0
      }
      // The four header varints, their one-byte case inline (V8 stops inlining calls in a
      // function this size, and a call per field was a fifth of a cached lookup).
      let p = off;
      let b: number;
      let shared: number;
      let unshared: number;
      let valueTag: number;
      let s: number;
      if (p < limit && (b = data[p]!) < 0x80) {
        shared = b;
        p++;
      } else {
        this.pos = p;
        shared = readVarint(this, limit);
        p = this.pos;
      }
      if (p < limit && (b = data[p]!) < 0x80) {
        unshared = b;
        p++;
      } else {
        this.pos = p;
        unshared = readVarint(this, limit);
        p = this.pos;
      }
      if (p < limit && (b = data[p]!) < 0x80) {
        valueTag = b;
        p++;
      } else {
        this.pos = p;
        valueTag = readVarint(this, limit);
        p = this.pos;
      }
      // The seq is usually 2–4 bytes: decoded inline (same rules as readVarint: ≤ 8 bytes, ≤ 2^53).
      s = -1;
      for (let r = 0, mul = 1, i = 0; i < 8 && p < limit; i++, mul *= 0x80) {
        b = data[p++]!;
        r += (b & 0x7f) * mul;
        if (b < 0x80) {
          s = r <= Number.MAX_SAFE_INTEGER ? r : -1;
          break;
        }
      }
      const keyStart = p;
      const valueLength = valueTag > 0 ? valueTag - 1 : 0;
      if (shared < 0 || unshared < 0 || valueTag < 0 || s < 0 || shared > prevLength || keyStart + unshared + valueLength > limit) {
        throw corruption(block.file, block.fileOffset, `block entry at ${off} is malformed`);
      }
      const len = shared + unshared;
      if (shared <= matched) {
        const n = len < klen ? len : klen;
        const base = keyStart - shared; // key byte i is data[base + i] for i ≥ shared
        let i = shared;
        while (i < n && data[base + i] === key[i]) i++;
        matched = i;
        const c = i < n ? data[base + i]! - key[i]! : len - klen;
        if (c > 0 || (c === 0 && s <= seq)) {
          if (len > this.keyBuf.length) this.keyBuf = new Uint8Array(Math.max(len, this.keyBuf.length * 2));
          const kb = this.keyBuf;
          for (let j = 0; j < shared; j++) kb[j] = key[j]!;
          for (let j = shared; j < len; j++) kb[j] = data[base + j]!;
          this.restartIndex = ri;
          this.keyLength = len;
          this.shared = shared;
          this.seq = s;
          this.kind = valueTag === 0 ? EntryKind.Delete : EntryKind.Put;
          this.valueOffset = keyStart + unshared;
          this.valueLength = valueLength;
          this.offset = off;
          this.nextOffset = this.valueOffset + valueLength;
          return;
        }
      }
      prevLength = len;
      off = keyStart + unshared + valueLength;
    }
    this.restartIndex = ri;
    this.offset = this.nextOffset = limit;
  }

  /** Bytewise order of the current key against `key`. */
  compareKey(key: Uint8Array): number {
    return compareBytesAt(this.keyBuf, 0, this.keyLength, key);
  }

  /** A fresh copy of the current key (the scratch buffer is overwritten on every move). */
  key(): Uint8Array {
    return this.keyBuf.slice(0, this.keyLength);
  }

  /** The current value: a view into the block, never copied. Callers must not mutate it. */
  value(): Uint8Array {
    return new Uint8Array(this.dataBuffer, this.dataByteOffset + this.valueOffset, this.valueLength);
  }

  /** The current entry as the memtable's type: a copied key and a view of the value. */
  entry(): PointEntry {
    return { key: this.key(), seq: this.seq, kind: this.kind, value: this.value() };
  }

  /** A varint at `pos`; the one-byte case (nearly every field) inline, monomorphic. */
  private varint(limit: number): number {
    const p = this.pos;
    if (p < limit) {
      const b = this.data[p]!;
      if (b < 0x80) {
        this.pos = p + 1;
        return b;
      }
    }
    return readVarint(this, limit);
  }

  private decodeAt(off: number): void {
    const block = this.block;
    const limit = block.restartsOffset;
    if (off >= limit) {
      this.offset = this.nextOffset = limit;
      return;
    }
    // The four header varints, their one-byte case and the seq's loop inline (as in
    // `seekInInterval`): a call per field, through `pos`, was a third of a decode; a compaction
    // decodes every entry of its inputs.
    const data = this.data;
    let p = off;
    let b: number;
    let shared: number;
    let unshared: number;
    let valueTag: number;
    if ((b = data[p]!) < 0x80) {
      shared = b;
      p++;
    } else {
      this.pos = p;
      shared = readVarint(this, limit);
      p = this.pos;
    }
    if (p < limit && (b = data[p]!) < 0x80) {
      unshared = b;
      p++;
    } else {
      this.pos = p;
      unshared = readVarint(this, limit);
      p = this.pos;
    }
    if (p < limit && (b = data[p]!) < 0x80) {
      valueTag = b;
      p++;
    } else {
      this.pos = p;
      valueTag = readVarint(this, limit);
      p = this.pos;
    }
    // Same rules as readVarint: ≤ 8 bytes, ≤ 2^53, -1 when it runs past the limit.
    let seq = -1;
    for (let r = 0, mul = 1, i = 0; i < 8 && p < limit; i++, mul *= 0x80) {
      b = data[p++]!;
      r += (b & 0x7f) * mul;
      if (b < 0x80) {
        seq = r <= Number.MAX_SAFE_INTEGER ? r : -1;
        break;
      }
    }
    this.pos = p;
    const keyStart = p;
    const valueLength = valueTag > 0 ? valueTag - 1 : 0;
    if (shared < 0 || unshared < 0 || valueTag < 0 || seq < 0 || shared > this.keyLength || keyStart + unshared + valueLength > limit) {
      throw corruption(block.file, block.fileOffset, `block entry at ${off} is malformed`);
    }
    const keyLength = shared + unshared;
    if (keyLength > this.keyBuf.length) {
      const bigger = new Uint8Array(Math.max(keyLength, this.keyBuf.length * 2));
      bigger.set(this.keyBuf.subarray(0, shared));
      this.keyBuf = bigger;
    }
    const kb = this.keyBuf;
    if (unshared < 32) {
      for (let i = 0; i < unshared; i++) kb[shared + i] = data[keyStart + i]!;
    } else {
      kb.set(data.subarray(keyStart, keyStart + unshared), shared);
    }
    this.keyLength = keyLength;
    this.shared = shared;
    this.seq = seq;
    this.kind = valueTag === 0 ? EntryKind.Delete : EntryKind.Put;
    this.valueOffset = keyStart + unshared;
    this.valueLength = valueLength;
    this.offset = off;
    this.nextOffset = this.valueOffset + valueLength;
  }
}
