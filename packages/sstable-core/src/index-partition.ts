/**
 * One index partition unpacked for lookups: the separators and handles of a run of consecutive
 * data blocks (a v2 table's index partition, or a v1 table's whole index — format.ts), laid
 * out in flat arrays so that a lookup is a plain binary search that chases no pointers. Built
 * by `decodeIndexPartition` from a checksum-verified index block; immutable afterwards except
 * for the restart summaries in `info`, which lookups fill in (they depend only on the file's
 * immutable bytes, so two tables of one file may share a partition).
 *
 * Block numbers here are LOCAL (0 … count − 1); the table adds `firstBlock`.
 */
import { corruption } from '@strata-db/errors';
import { Block, BlockCursor, compareBytesAt, compareInternal, EMPTY_BLOCK } from './block-format.js';
import { ByteWriter, readVarint } from './coding.js';
import { BLOCK_TRAILER_SIZE } from './physical-block.js';
import { allocUnsharedBytes } from './buffer-pool.js';

/**
 * Bytes of an IndexPartition beyond its buffer (its charge is both): the object (~112 bytes of
 * V8 heap), its three views (~96 each), the ArrayBuffer object (~88) and the native side of its
 * backing store (~220: V8's BackingStore, its extension and malloc's headers — measured with
 * 200,000 ArrayBuffers of 8–1,024 bytes: RSS less V8's heap, less the bytes, per buffer).
 */
const PARTITION_OVERHEAD = 720;

/** Numbers per data block in `IndexPartition.info`, and where each sits (see there). */
export const BLOCK_INFO = 5;
export const OFFSET = 0;
export const SIZE = 1;
export const HEAD = 2;

/**
 * Bytes [from, end) of `data`, at most 6 of them, as one number that orders like the bytes
 * (shorter sorts first): Σ (byte + 1)·257^(5−j), 0 for a missing byte. 257^6 < 2^53, so exact.
 */
export function prefixNumber(data: Uint8Array, from: number, end: number): number {
  let x = 0;
  for (let j = 0; j < 6; j++) {
    const p = from + j;
    x = x * 257 + (p < end ? data[p]! + 1 : 0);
  }
  return x;
}

export class IndexPartition {
  /** Global number of this partition's first data block. */
  readonly firstBlock: number;
  /** Data blocks in this partition (≥ 1). */
  readonly count: number;
  /** Separator i is keyBytes[keyOffsets[i], keyOffsets[i + 1]), with seq `seq(i)`. */
  readonly keyBytes: Uint8Array;
  readonly keyOffsets: Uint32Array;
  /**
   * Per data block b (local), five numbers side by side at `BLOCK_INFO·b` (40 bytes): what a
   * point lookup reads of the block after choosing it, in one place. On random gets over a large
   * database these are cold, and as three arrays (offsets, sizes, the restart summary) they were
   * three CPU cache misses a lookup; together they are one or two.
   *   [5b]      OFFSET of the block in the file
   *   [5b + 1]  SIZE of its payload (the trailer follows)
   *   [5b + 2]  the restart summary's HEAD: 0 not summarized yet; -1 not summarizable (more
   *             than MAX_SUMMARIZED_RESTARTS restart points, a block of 64 KiB or more, the
   *             partition's first or last block, whose keys need not share the partition's
   *             common prefix); else n + 64·offset(s1) + 4194304·offset(s2), n = restart points
   *             (1–63), s1 and s2 the two summarized restart points (`summaryPoint`: 1 and 2
   *             when n ≤ 3 — every restart point — else ⌊n/3⌋ and ⌊2n/3⌋), offset 0 for one
   *             that does not exist
   *   [5b + 3]  restart s1's key as a number (`prefixNumber` of its bytes after the common
   *             prefix, which every key of the block shares), when n ≥ 2
   *   [5b + 4]  restart s2's key as a number, when n ≥ 3
   * The summary lets a point lookup pick the block's restart interval — or, in a block of more
   * than 3 restart points, a third of them — without touching the block's restart array or its
   * restart keys: on a random lookup the block is cold, and those were two or three of the cache
   * misses `find` waited on (the restart array at the block's end, then a restart key or two),
   * ~20% of a cached get. Inside a third of more than one restart point, the restart array and
   * the keys of that third are binary-searched. It is filled the first time a point lookup
   * finds the block in the block cache (blocks are immutable, so it stays right when the block
   * is evicted and read again) — not when a lookup has just read it from the file: that block
   * is in the CPU cache (the read and the checksum just went over it), where a plain seek costs
   * less than summarizing, and on random gets over a database many times the cache most blocks
   * are read once and never hit, so their summaries were never used (session 30).
   *
   * After the blocks' numbers, the same array holds what `findBlock` searches (so that a search
   * the numbers settle touches this object and this one array, not `keyBytes` or `keyOffsets`:
   * on random gets over many tables each was a cold CPU cache line a search, and a point probe
   * searches twice, the top-level index and a partition):
   *   [chunksAt + j]  bytes [6j, min(6j + 6, prefixLength)) of the common prefix (below) as a
   *                   `prefixNumber`, j < ⌈prefixLength / 6⌉
   *   [numbersAt + i] separator i's next up-to-6 bytes after the prefix as a `prefixNumber`,
   *                   i < count − 1
   *   [seqsAt + i]    separator i's seq, i < count (`seq(i)`)
   * (The seqs were an array of their own: a view is ~96 bytes of V8 heap, and a table keeps one
   * partition — its top-level index — for its whole open life beside those the cache holds.)
   */
  readonly info: Float64Array;
  /**
   * Bytes every separator but the last starts with (their longest common prefix), and for each
   * of them the next up-to-6 bytes as one order-preserving number (`prefixNumber`, in `info`).
   * `findBlock` compares these numbers and falls back to the byte comparison only when two are equal. (The
   * last separator is often a short successor key, e.g. "1" after "0000…657", which would make
   * the common prefix empty: it is left out, and compared in full when needed.)
   */
  readonly prefixLength: number;
  /** Where the common prefix's numbers, the separators' and their seqs start in `info` (see there). */
  private readonly chunksAt: number;
  private readonly numbersAt: number;
  private readonly seqsAt: number;
  /** Bytes this object holds (the partition cache's charge). */
  readonly charge: number;

  /**
   * The arrays given are copied into ONE buffer (`info` with the seqs at its end, then
   * `keyOffsets`, `keyBytes`; `buffer`), from `alloc` when given (the partition cache's recycled
   * buffers) — one ArrayBuffer a partition, not four: over a database far larger than the cache
   * partitions are loaded and evicted all the time, and each evicted ArrayBuffer lives until V8's
   * next full collection. Three views of it, no more (each ~96 bytes of V8 heap). `info` given
   * is copied to the front of `info` as it is: a partition's block numbers (BLOCK_INFO a block),
   * or for a table's top-level index the table's own numbers (table.ts), which then cost no
   * array of their own. `alloc` must return a whole ArrayBuffer (offset 0: `buffer`).
   */
  constructor(
    firstBlock: number,
    count: number,
    keyBytes: Uint8Array,
    keyOffsets: Uint32Array,
    seqs: Float64Array,
    info: Float64Array,
    alloc: (bytes: number) => Uint8Array = allocUnsharedBytes, // not zeroed: the constructor writes every byte it reads
  ) {
    this.firstBlock = firstBlock;
    this.count = count;
    const last = count - 1; // separators [0, last) share the prefix
    let lcp = 0;
    if (last > 0) {
      // Sorted keys: the common prefix of all is that of the first and the last.
      const a = keyOffsets[0]!;
      const b = keyOffsets[last - 1]!;
      const max = Math.min(keyOffsets[1]! - a, keyOffsets[last]! - b);
      while (lcp < max && keyBytes[a + lcp] === keyBytes[b + lcp]) lcp++;
    }
    this.prefixLength = lcp;
    const chunks = Math.ceil(lcp / 6);
    const seqsAt = info.length + chunks + Math.max(last, 0);
    const infoLength = seqsAt + seqs.length;
    const offsetsAt = 8 * infoLength;
    const keysAt = offsetsAt + 4 * keyOffsets.length;
    const buf = alloc(keysAt + keyBytes.length);
    // (A buffer from `alloc` is a whole ArrayBuffer: 8-aligned.)
    const all = new Float64Array(buf.buffer, 0, infoLength);
    this.keyOffsets = new Uint32Array(buf.buffer, offsetsAt, keyOffsets.length);
    this.keyOffsets.set(keyOffsets);
    this.keyBytes = new Uint8Array(buf.buffer, keysAt, keyBytes.length);
    this.keyBytes.set(keyBytes);
    all.set(info);
    const chunksAt = (this.chunksAt = info.length);
    const first = keyOffsets[0]!;
    for (let j = 0; j < chunks; j++) all[chunksAt + j] = prefixNumber(keyBytes, first + 6 * j, first + Math.min(6 * j + 6, lcp));
    const numbersAt = (this.numbersAt = chunksAt + chunks);
    for (let i = 0; i < last; i++) all[numbersAt + i] = prefixNumber(keyBytes, keyOffsets[i]! + lcp, keyOffsets[i + 1]!);
    this.seqsAt = seqsAt;
    all.set(seqs, seqsAt);
    this.info = all;
    this.charge = buf.byteLength + PARTITION_OVERHEAD;
  }

  /** The one buffer the arrays are views into, whole (the partition cache recycles it at eviction). */
  get buffer(): Uint8Array {
    return new Uint8Array(this.info.buffer);
  }

  /** Seq of separator i (0 ≤ i < count). */
  seq(i: number): number {
    return this.info[this.seqsAt + i]!;
  }

  /** Offset of local block b in the file. */
  blockOffset(b: number): number {
    return this.info[BLOCK_INFO * b + OFFSET]!;
  }

  /** Payload size of local block b (the trailer follows). */
  blockSize(b: number): number {
    return this.info[BLOCK_INFO * b + SIZE]!;
  }

  /** Separator of local block b: a copy of its key. */
  separatorKey(b: number): Uint8Array {
    return this.keyBytes.slice(this.keyOffsets[b], this.keyOffsets[b + 1]);
  }

  /**
   * Local number of the first block whose separator is ≥ (key, seq) in (key ASC, seq DESC)
   * order, i.e. the only block of this partition that can hold the first entry ≥ (key, seq);
   * `count` if none.
   */
  findBlock(key: Uint8Array, seq: number): number {
    const last = this.count - 1;
    const b = this.findBlockOrLast(key, seq);
    if (b < last) return b;
    const offsets = this.keyOffsets;
    const start = offsets[last]!;
    const c = compareBytesAt(this.keyBytes, start, offsets[last + 1]! - start, key) || seq - this.info[this.seqsAt + last]!;
    return c < 0 ? last + 1 : last;
  }

  /**
   * `findBlock` without its comparison with the last separator: `count − 1` when (key, seq) is
   * past every other separator, whether or not the last one is ≥ it. For a point probe of the
   * top-level index, whose partition's own search then says whether a block can hold the target
   * (the last separator was a cold comparison of whole keys on a sixth of the probes).
   */
  findBlockOrLast(key: Uint8Array, seq: number): number {
    const last = this.count - 1; // separators [0, last) share the prefix; the last is apart
    if (last <= 0) return 0;
    const s = this.info;
    const klen = key.length;
    // Against the common prefix of separators [0, last) first, 6 bytes a number: it may settle
    // the answer (a key shorter than the prefix numbers its missing bytes 0, below any byte).
    const lcp = this.prefixLength;
    for (let from = 0, at = this.chunksAt; from < lcp; from += 6, at++) {
      const to = from + 6 < lcp ? from + 6 : lcp;
      const k = prefixNumber(key, from, to < klen ? to : klen);
      const c = s[at]!;
      // Below every separator of the prefix, hence below all; or above [0, last).
      if (k !== c) return k < c ? 0 : last;
    }
    const target = prefixNumber(key, lcp, klen);
    const at = this.numbersAt;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const num = s[at + mid]!;
      let c: number;
      if (num !== target) c = num - target;
      else {
        const offsets = this.keyOffsets;
        const start = offsets[mid]!;
        c = compareBytesAt(this.keyBytes, start, offsets[mid + 1]! - start, key) || seq - s[this.seqsAt + mid]!;
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * `cursor.seek(key, seq)` on local block b, which `cursor` was reset to and `findBlock` chose
   * for (key, seq): with the restart points picked from the block's summary (see `info`) when
   * the block can be summarized — the numbers decide unless one equals the key's, and then that
   * restart entry is compared in full — else a plain seek. `summarize`: fill the block's summary
   * if it has none yet (a block found in the block cache); false for a block just read from the
   * file, which is sought plainly (see `info`).
   */
  seekInBlock(cursor: BlockCursor, b: number, key: Uint8Array, seq: number, summarize = true): void {
    const info = this.info;
    const at = BLOCK_INFO * b + HEAD;
    let head = -1;
    // Blocks strictly between the partition's first and last: their keys, and `key` (findBlock
    // put it between two separators of the common prefix), share the common prefix.
    if (b > 0 && b < this.count - 1) {
      head = info[at]!;
      if (head === 0 && summarize) head = this.summarize(cursor, at);
    }
    if (head <= 0) {
      cursor.seek(key, seq);
      return;
    }
    const n = head % 64;
    const off1 = Math.floor(head / 64) % 65536;
    const off2 = Math.floor(head / 4194304);
    const s1 = summaryPoint(1, n);
    const s2 = summaryPoint(2, n);
    // Which summarized point starts the search: the last whose entry is < (key, seq) (restart 0
    // when neither is). j = 0, 1, 2 for restart 0, s1, s2.
    let j = n >= 3 ? 2 : n - 1;
    if (j > 0) {
      const target = prefixNumber(key, this.prefixLength, key.length);
      for (; j > 0; j--) {
        const num = info[at + j]!;
        if (num < target) break;
        if (num === target) {
          cursor.seekToRestart(j === 1 ? s1 : s2);
          if (compareInternal(cursor.compareKey(key), cursor.seq, seq) < 0) break;
        }
      }
    }
    // Restart points [lo, hi) lie between that point and the next summarized one (or the end).
    const lo = j === 0 ? 0 : j === 1 ? s1 : s2;
    const hi = j === 0 ? (n >= 2 ? s1 : 1) : j === 1 ? (n >= 3 ? s2 : n) : n;
    const off = j === 0 ? 0 : j === 1 ? off1 : off2;
    const end = hi === n ? cursor.block.restartsOffset : hi === s1 ? off1 : off2;
    if (hi - lo === 1) {
      cursor.seekInInterval(lo, off, end, key, seq);
      return;
    }
    const r = cursor.lastRestartBelow(lo, hi - 1, key, seq);
    cursor.seekInInterval(r, r === lo ? off : cursor.block.restartPoint(r), r + 1 < hi ? cursor.block.restartPoint(r + 1) : end, key, seq);
  }

  /**
   * Fills the restart summary at `info[at]` (see `info`) from the block `cursor` is reset to
   * (the caller seeks afterwards). Returns the head: > 0, or -1 when the block cannot be
   * summarized.
   */
  private summarize(cursor: BlockCursor, at: number): number {
    const summary = this.info;
    const block: Block = cursor.block;
    const n = block.numRestarts;
    if (n > MAX_SUMMARIZED_RESTARTS || block.restartsOffset >= 65536) return (summary[at] = -1);
    const lcp = this.prefixLength;
    const prefixStart = this.keyOffsets[0]!;
    const bytes = this.keyBytes;
    let head = n;
    for (let j = 1; j <= 2 && j < n; j++) {
      const r = summaryPoint(j, n);
      cursor.seekToRestart(r);
      const kb = cursor.keyBuf;
      const len = cursor.keyLength;
      // Every key of the block shares the common prefix (the separators around it do);
      // checked once here rather than trusted, since the numbers would be wrong without it.
      if (len < lcp) return (summary[at] = -1);
      for (let i = 0; i < lcp; i++) if (kb[i] !== bytes[prefixStart + i]) return (summary[at] = -1);
      summary[at + j] = prefixNumber(kb, lcp, len);
      head += (j === 1 ? 64 : 4194304) * block.restartPoint(r);
    }
    return (summary[at] = head);
  }
}

/**
 * Most restart points a block's summary (`IndexPartition.info`) describes: n must fit HEAD's
 * 6 low bits. A block of more (tiny entries, or a restart interval of 1–2 in a large block) is
 * searched by a plain seek.
 */
const MAX_SUMMARIZED_RESTARTS = 63;

/**
 * The restart point a block's summary holds as its j-th (j = 1, 2) of a block of n restart
 * points: every one (j) when n ≤ 3, else the two that cut the points in thirds (⌊j·n/3⌋).
 * Written by `summarize`, read back by `seekInBlock`: the two must agree.
 */
function summaryPoint(j: number, n: number): number {
  return n <= 3 ? j : ((j * n) / 3) | 0;
}

/**
 * What `decodeIndexPartition` unpacks into before the partition copies it into its one buffer:
 * kept from one decode to the next (grown to the largest partition seen) rather than allocated
 * each time. Over a database far larger than the partition cache a get loads partitions
 * (100M keys: ~5 a get), and each load made four typed arrays here — four ArrayBuffers, each a
 * malloc, external memory that brings V8's next scavenge closer, and on this VM fresh pages
 * faulted in — for bytes read once and copied. Safe to share: a decode runs to completion
 * synchronously and the partition keeps copies, never views, of these (one module instance per
 * thread, so a worker has its own).
 */
const scratch = {
  keyBytes: new ByteWriter(4096),
  keyOffsets: new Uint32Array(257),
  seqs: new Float64Array(256),
  info: new Float64Array(BLOCK_INFO * 256),
  cursor: new BlockCursor(EMPTY_BLOCK),
  handleSource: { data: EMPTY_BLOCK.data, pos: 0 },
};

/**
 * Most blocks, and key bytes, the scratch grows to: a larger partition (a v1 table's whole
 * index; long keys) unpacks through arrays of its own, so that the scratch, which nothing
 * charges, stays small (~100 KiB at most; the raw read's scratch, table.ts, is another 64 KiB).
 */
const MAX_SCRATCH_BLOCKS = 2048;
const MAX_SCRATCH_KEY_BYTES = 64 * 1024;

/** The scratch, its arrays grown to hold a partition of `count` blocks (see MAX_SCRATCH_BLOCKS). */
function scratchFor(count: number): typeof scratch {
  if (count > MAX_SCRATCH_BLOCKS) {
    return { ...scratch, keyBytes: new ByteWriter(24 * count), keyOffsets: new Uint32Array(count + 1), seqs: new Float64Array(count), info: new Float64Array(BLOCK_INFO * count) };
  }
  if (scratch.seqs.length < count) {
    let n = scratch.seqs.length;
    while (n < count) n *= 2;
    scratch.keyOffsets = new Uint32Array(n + 1);
    scratch.seqs = new Float64Array(n);
    scratch.info = new Float64Array(BLOCK_INFO * n);
  }
  return scratch;
}

/**
 * Unpacks index block `block` (read from `file` at `blockOffset`) as the partition of `count`
 * data blocks from global block `firstBlock`, checking what the partition can check alone: the
 * entry count, that the handles are contiguous (the first at `firstOffset` when the caller knows
 * where it must start, -1 if not) and inside the data region [0, dataEnd). Damage → CORRUPTION.
 * The partition holds no view of `block`: its bytes may be overwritten once this returns.
 *
 * Straight into arrays sized by `count`: with JS arrays, an object per handle and copies into
 * typed arrays, unpacking a 2 MiB table's index took ~0.4 ms of CPU.
 */
export function decodeIndexPartition(
  block: Block,
  file: string,
  blockOffset: number,
  firstBlock: number,
  count: number,
  firstOffset: number,
  dataEnd: number,
  alloc?: (bytes: number) => Uint8Array,
): IndexPartition {
  const s = scratchFor(count);
  const keyBytes = s.keyBytes;
  keyBytes.reset();
  const keyOffsets = s.keyOffsets;
  const seqs = s.seqs;
  const info = s.info;
  const ic = s.cursor;
  ic.reset(block);
  const handleSource = s.handleSource;
  handleSource.data = block.data;
  let prevEnd = firstOffset;
  let n = 0;
  try {
    ic.seekToFirst();
    keyOffsets[0] = 0;
    while (ic.valid()) {
      handleSource.pos = ic.valueOffset;
      const limit = ic.valueOffset + ic.valueLength;
      const offset = readVarint(handleSource, limit);
      const size = readVarint(handleSource, limit);
      if ((prevEnd >= 0 && offset !== prevEnd) || offset < 0 || size < 0 || offset + size + BLOCK_TRAILER_SIZE > dataEnd) {
        throw corruption(file, blockOffset, `index entry ${n} (data block ${firstBlock + n}) has a bad block handle`);
      }
      if (n === count) throw corruption(file, blockOffset, `index partition has more than the ${count} blocks the table expects of it`);
      prevEnd = offset + size + BLOCK_TRAILER_SIZE;
      keyBytes.putBytes(ic.keyBuf, 0, ic.keyLength);
      keyOffsets[n + 1] = keyBytes.length;
      seqs[n] = ic.seq;
      info[BLOCK_INFO * n + OFFSET] = offset;
      info[BLOCK_INFO * n + SIZE] = size;
      // Not summarized yet (see IndexPartition.info); the scratch holds the last partition's.
      info[BLOCK_INFO * n + HEAD] = 0;
      info[BLOCK_INFO * n + HEAD + 1] = 0;
      info[BLOCK_INFO * n + HEAD + 2] = 0;
      n++;
      ic.next();
    }
    if (n !== count) throw corruption(file, blockOffset, `index partition has ${n} blocks, the table expects ${count} (blocks ${firstBlock}…${firstBlock + count - 1})`);
    // Views of exactly the partition's length (objects only; the constructor copies them).
    return new IndexPartition(
      firstBlock,
      count,
      keyBytes.bytes(),
      new Uint32Array(keyOffsets.buffer, 0, count + 1),
      new Float64Array(seqs.buffer, 0, count),
      new Float64Array(info.buffer, 0, BLOCK_INFO * count),
      alloc,
    );
  } finally {
    // Drop the block: the scratch must not keep a caller's buffer alive.
    ic.reset(EMPTY_BLOCK);
    handleSource.data = EMPTY_BLOCK.data;
    if (keyBytes.length > MAX_SCRATCH_KEY_BYTES && keyBytes === scratch.keyBytes) scratch.keyBytes = new ByteWriter(4096);
  }
}
