/**
 * The table reader. `Table.open` reads the footer, then the meta-index, index, filter,
 * range-tombstone and properties blocks — all small, kept in memory for the table's lifetime —
 * and verifies each one's checksum. Data blocks are read on demand, one positioned read each,
 * through the shared BlockCache. Everything is synchronous: a point read is page-cache speed and
 * the engine's `getSync` must not wait for the event loop.
 *
 * Values returned by `get` (and by the iterators) are views into cached, immutable blocks: no
 * copy on the hot path. Callers must never write into them.
 */
import { compareKeys, fragmentTombstones, type FragmentedRangeTombstones, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { Block, BlockCursor, compareBytesAt, compareInternal } from './block-format.js';
import { ByteWriter, readVarint } from './coding.js';
import { FileSlots, type BlockCache } from './block-cache.js';
import { BloomFilter, bloomHash } from './bloom.js';
import { StrataError, corruption, ioError } from '@strata-db/errors';
import {
  decodeBlockHandle,
  decodeFooter,
  FOOTER_SIZE,
  META_FILTER,
  META_PROPERTIES,
  META_RANGE_DEL,
  type BlockHandle,
} from './format.js';
import { closeQuietly, nodeFileSystem } from '@strata-db/vfs';
import type { TableFileSystem } from './fs.js';
import { BLOCK_TRAILER_SIZE, unsealBlock } from './physical-block.js';
import { decodeProperties, type TableProperties } from './properties.js';

/** What a table reader asks of the file layer: it opens, reads, stats and closes, nothing more. */
export type TableReadFileSystem = Pick<TableFileSystem, 'openSync' | 'closeSync' | 'readSync' | 'fstatSync'>;

export interface TableOpenOptions {
  /** File layer; defaults to node:fs. */
  readonly fs?: TableReadFileSystem;
  /** Shared block cache; without one every data-block access reads the file. */
  readonly cache?: BlockCache;
  /** The table's file number: the cache key. Required with a cache. */
  readonly fileNumber?: number;
}

/** What `verify()` checked. */
/**
 * Where everything sits in a table file (for tools such as `strata dump-sst`): every block's
 * handle, in file order, with the index separators of the data blocks.
 */
export interface TableLayout {
  readonly footer: { readonly offset: number; readonly metaIndex: BlockHandle; readonly index: BlockHandle };
  /** The meta blocks by name (filter, range tombstones, properties), in file order. */
  readonly metaBlocks: readonly { readonly name: string; readonly handle: BlockHandle }[];
  /** Data blocks in file order, each with its index entry's separator (key, seq). */
  readonly dataBlocks: readonly { readonly handle: BlockHandle; readonly separatorKey: Uint8Array; readonly separatorSeq: number }[];
  /** The bloom filter's shape, when the table has one. */
  readonly filter: { readonly bytes: number; readonly probes: number } | undefined;
}

export interface TableVerifyResult {
  readonly blocks: number;
  readonly bytes: number;
}

const textDecoder = new TextDecoder();

/** Numbers per data block in `Table.blockInfo`, and where each sits (see there). */
const BLOCK_INFO = 5;
const OFFSET = 0;
const SIZE = 1;
const HEAD = 2;

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

export class Table {
  readonly path: string;
  readonly fileNumber: number;
  readonly fileSize: number;
  readonly properties: TableProperties;
  /** Number of data blocks. */
  readonly blockCount: number;
  /**
   * Bytes this table keeps in memory for its lifetime, whatever the block cache holds: the
   * unpacked index, the bloom filter, the range tombstones and the index block behind the
   * reused cursor. What an open table costs, for the engine's memory accounting.
   */
  readonly residentBytes: number;

  private readonly fs: TableReadFileSystem;
  private readonly cache: BlockCache | undefined;
  private fd: number;
  private closed = false;
  /**
   * The index, unpacked into flat arrays so a lookup is a plain binary search that chases no
   * pointers: separator i is indexKeyBytes[indexKeyOffsets[i], indexKeyOffsets[i + 1]).
   */
  private readonly indexKeyBytes: Uint8Array;
  private readonly indexKeyOffsets: Uint32Array;
  private readonly indexSeqs: Float64Array;
  /**
   * Per data block b, five numbers side by side at `BLOCK_INFO·b` (40 bytes): what a point
   * lookup reads of the block after choosing it, in one place. On random gets over a large
   * database these are cold, and as three arrays (offsets, sizes, the restart summary) they were
   * three CPU cache misses a lookup; together they are one or two.
   *   [5b]      OFFSET of the block in the file
   *   [5b + 1]  SIZE of its payload (the trailer follows)
   *   [5b + 2]  the restart summary's HEAD: 0 not summarized yet; -1 not summarizable (more
   *             than 3 restart points, a block of 64 KiB or more, the first or last block, whose
   *             keys need not share the index's common prefix); else n + 4·offset(restart 1) + 262144·offset(restart 2), n = restart
   *             points (1–3)
   *   [5b + 3]  restart 1's key as a number (`prefixNumber` of its bytes after the index's
   *             common prefix, which every key of the block shares), when n ≥ 2
   *   [5b + 4]  restart 2's key as a number, when n = 3
   * The summary lets a point lookup pick the block's restart interval without touching the
   * block's restart array or its restart keys: on a random lookup the block is cold, and those
   * were two or three of the cache misses `find` waited on (the restart array at the block's end,
   * then a restart key or two), ~20% of a cached get. It is filled the first time a point lookup
   * reaches the block (blocks are immutable, so it stays right when the block is evicted and read
   * again).
   */
  private readonly blockInfo: Float64Array;
  /**
   * Bytes every separator starts with (their longest common prefix), and for each separator the
   * next up-to-6 bytes as one order-preserving number (Σ (byte + 1)·257^(5−j), 0 for a missing
   * byte; < 2^53). `findBlock` compares these numbers and falls back to the byte comparison only
   * when two are equal.
   */
  private readonly indexPrefixLength: number;
  private readonly indexPrefixNumbers: Float64Array;
  private readonly filter: BloomFilter | undefined;
  private readonly tombstones: readonly RangeTombstone[];
  /**
   * The tombstones fragmented (memtable's fragmenter: every covering seq per span, any snapshot
   * served): built on first use, then kept for the table's lifetime and shared by every reader.
   */
  private fragments: FragmentedRangeTombstones | undefined;
  /** The block cache's slots of this file (its cached blocks, by block number); undefined without a cache. */
  private readonly slots: FileSlots | undefined;
  /** Reused by `get` (synchronous, so never used by two lookups at once). */
  private readonly cursor: BlockCursor;
  private readonly metaHandles: ReadonlyMap<string, BlockHandle>;
  private readonly metaIndexHandle: BlockHandle;
  private readonly indexHandle: BlockHandle;

  private constructor(path: string, fd: number, fs: TableReadFileSystem, options: TableOpenOptions) {
    this.path = path;
    this.fd = fd;
    this.fs = fs;
    this.cache = options.cache;
    this.fileNumber = options.fileNumber ?? 0;

    let size: number;
    try {
      size = fs.fstatSync(fd).size;
    } catch (err) {
      throw ioError(path, undefined, 'fstat', err);
    }
    this.fileSize = size;
    if (size < FOOTER_SIZE) throw corruption(path, 0, `file of ${size} bytes is shorter than the ${FOOTER_SIZE}-byte footer (truncated?)`);
    const dataEnd = size - FOOTER_SIZE;
    const footer = decodeFooter(this.readRaw(dataEnd, FOOTER_SIZE), path, dataEnd);
    this.metaIndexHandle = footer.metaIndex;
    this.indexHandle = footer.index;

    // Meta-index: name → handle.
    const meta = new Map<string, BlockHandle>();
    const metaBlock = this.readBlock(footer.metaIndex);
    const c = new BlockCursor(metaBlock);
    c.seekToFirst();
    while (c.valid()) {
      const h = decodeBlockHandle({ data: metaBlock.data, pos: c.valueOffset }, c.valueOffset + c.valueLength, dataEnd);
      if (h === undefined) throw corruption(path, footer.metaIndex.offset, `meta-index entry ${textDecoder.decode(c.key())} has a bad handle`);
      meta.set(textDecoder.decode(c.key()), h);
      c.next();
    }
    this.metaHandles = meta;

    const propsHandle = meta.get(META_PROPERTIES);
    if (propsHandle === undefined) throw corruption(path, footer.metaIndex.offset, 'meta-index lacks the properties block');
    this.properties = decodeProperties(this.readBlock(propsHandle));

    const filterHandle = meta.get(META_FILTER);
    this.filter = filterHandle === undefined ? undefined : new BloomFilter(this.readContents(filterHandle), path, filterHandle.offset);

    const rangeDelHandle = meta.get(META_RANGE_DEL);
    const tombstones: RangeTombstone[] = [];
    if (rangeDelHandle !== undefined) {
      const block = this.readBlock(rangeDelHandle);
      const tc = new BlockCursor(block);
      tc.seekToFirst();
      while (tc.valid()) {
        const t = { start: tc.key(), end: tc.value().slice(), seq: tc.seq };
        if (compareKeys(t.start, t.end) >= 0) throw corruption(path, rangeDelHandle.offset, `range tombstone at ${tc.offset} has start ≥ end`);
        tombstones.push(t);
        tc.next();
      }
    }
    this.tombstones = tombstones;

    // Index, unpacked straight into arrays sized by the properties' block count (checked
    // against the entries found). Opening a table is paid on its first read after a database
    // opens or the table cache dropped it — ~540 tables on the first 200k random gets of a
    // 10M-key database; with JS arrays, an object per handle and the copies into typed arrays
    // it took ~0.4 ms of CPU per 2 MiB table.
    const indexBlock = this.readBlock(footer.index);
    const expected = this.properties.dataBlockCount;
    const keyBytes = new ByteWriter(Math.max(64, 24 * expected));
    const keyOffsets = new Uint32Array(expected + 1);
    const seqs = new Float64Array(expected);
    const info = new Float64Array(BLOCK_INFO * expected);
    const ic = new BlockCursor(indexBlock);
    const handleSource = { data: indexBlock.data, pos: 0 };
    let prevEnd = 0;
    let n = 0;
    ic.seekToFirst();
    while (ic.valid()) {
      handleSource.pos = ic.valueOffset;
      const limit = ic.valueOffset + ic.valueLength;
      const offset = readVarint(handleSource, limit);
      const size = readVarint(handleSource, limit);
      if (offset !== prevEnd || size < 0 || offset + size + BLOCK_TRAILER_SIZE > dataEnd) {
        throw corruption(path, footer.index.offset, `index entry ${n} has a bad block handle`);
      }
      if (n === expected) throw corruption(path, footer.index.offset, `index has more than the ${expected} blocks the properties say`);
      prevEnd = offset + size + BLOCK_TRAILER_SIZE;
      keyBytes.putBytes(ic.keyBuf, 0, ic.keyLength);
      keyOffsets[n + 1] = keyBytes.length;
      seqs[n] = ic.seq;
      info[BLOCK_INFO * n + OFFSET] = offset;
      info[BLOCK_INFO * n + SIZE] = size;
      n++;
      ic.next();
    }
    if (n !== expected) {
      throw corruption(path, footer.index.offset, `index has ${n} blocks, properties say ${expected}`);
    }
    this.indexKeyBytes = keyBytes.bytes().slice();
    this.indexKeyOffsets = keyOffsets;
    this.indexSeqs = seqs;
    this.blockInfo = info;
    this.blockCount = n;
    {
      // The last separator is often a short successor key (e.g. "1" after "0000…657"), which
      // would make the common prefix empty: it is left out, and compared in full when needed.
      const kb = this.indexKeyBytes;
      const ko = this.indexKeyOffsets;
      const last = n - 1; // separators [0, last) share the prefix
      let lcp = 0;
      if (last > 0) {
        // Sorted keys: the common prefix of all is that of the first and the last.
        const a = ko[0]!;
        const b = ko[last - 1]!;
        const max = Math.min(ko[1]! - a, ko[last]! - b);
        while (lcp < max && kb[a + lcp] === kb[b + lcp]) lcp++;
      }
      this.indexPrefixLength = lcp;
      const nums = new Float64Array(Math.max(last, 0));
      for (let i = 0; i < last; i++) nums[i] = prefixNumber(kb, ko[i]! + lcp, ko[i + 1]!);
      this.indexPrefixNumbers = nums;
    }
    this.cursor = new BlockCursor(indexBlock);
    this.slots = this.cache?.slotsOf(this.fileNumber, this.blockCount);
    let tombstoneBytes = 0;
    for (const t of tombstones) tombstoneBytes += t.start.byteLength + t.end.byteLength + 64; // + object overhead
    this.residentBytes =
      this.indexKeyBytes.byteLength +
      this.indexKeyOffsets.byteLength +
      this.indexSeqs.byteLength +
      this.blockInfo.byteLength +
      this.indexPrefixNumbers.byteLength +
      indexBlock.data.byteLength +
      (filterHandle?.size ?? 0) +
      tombstoneBytes +
      (this.slots === undefined ? 0 : FileSlots.BYTES_PER_BLOCK * this.blockCount); // the block cache's slots of the file
  }

  /** Opens and validates a table (footer, magic, meta blocks, index). Damage → CORRUPTION. */
  static open(path: string, options: TableOpenOptions = {}): Table {
    if (options.cache !== undefined && options.fileNumber === undefined) {
      throw new StrataError('INVALID_ARGUMENT', `${path}: a table read through a block cache needs its fileNumber (the cache key)`);
    }
    const fs = options.fs ?? nodeFileSystem;
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw ioError(path, undefined, 'open', err);
    }
    try {
      return new Table(path, fd, fs, options);
    } catch (err) {
      closeQuietly(fs, fd); // the open already failed; its error is the one to report
      throw err;
    }
  }

  /**
   * The newest version of `key` with seq ≤ `snapshotSeq`, or undefined. Range tombstones are NOT
   * applied (see maxCoveringTombstoneSeq). The key is a copy; the value is a view into a cached
   * block and must not be mutated.
   */
  get(key: Uint8Array, snapshotSeq: number): PointEntry | undefined {
    this.checkOpen();
    if (this.filter !== undefined && !this.filter.mayContain(key)) return undefined;
    const b = this.findBlock(key, snapshotSeq);
    if (b >= this.blockCount) return undefined;
    const cursor = this.cursor;
    cursor.reset(this.dataBlock(b));
    cursor.seek(key, snapshotSeq);
    // The block holding (key, snapshotSeq) is the only place a visible version can be: if the
    // seek ran off its end, the next block starts past the separator, hence past `key`.
    if (!cursor.valid() || cursor.compareKey(key) !== 0) return undefined;
    return cursor.entry();
  }

  /**
   * `get` without allocating an entry (the engine's point-read path): the kind (EntryKind) of
   * the newest version of `key` with seq ≤ `snapshotSeq`, or -1 when the table holds none. Its
   * seq is then `foundSeq` and, for a Put, its value `foundValue()` — a view into the cached
   * block, valid only until the next read of ANY table sharing this table's block cache (the
   * block's buffer may then be recycled, see BlockCache): copy it at once. `hash`, when
   * given, must be `bloomHash(key)` (computed once by a caller probing many tables).
   */
  find(key: Uint8Array, snapshotSeq: number, hash?: number): number {
    if (this.closed) this.checkOpen();
    const filter = this.filter;
    if (filter !== undefined && !filter.mayContainHash(hash ?? bloomHash(key))) return -1;
    const b = this.findBlock(key, snapshotSeq);
    if (b >= this.blockCount) return -1;
    const cursor = this.cursor;
    const block = this.pointBlock(b);
    cursor.reset(block);
    const info = this.blockInfo;
    let head = -1;
    // Blocks strictly between the first and the last: their keys, and `key` (findBlock put it
    // between two separators of the common prefix), share the index's common prefix.
    if (b > 0 && b < this.blockCount - 1) {
      head = info[BLOCK_INFO * b + HEAD]!;
      if (head === 0) head = this.summarize(b, block, info);
    }
    if (head > 0) this.seekSummarized(head, BLOCK_INFO * b + HEAD, info, key, snapshotSeq);
    else cursor.seek(key, snapshotSeq);
    if (!cursor.valid() || cursor.compareKey(key) !== 0) return -1;
    this.foundSeq = cursor.seq;
    return cursor.kind;
  }

  /**
   * `cursor.seek(key, seq)` on the block `find` reset it to, with the restart interval picked
   * from the block's summary (see `blockInfo`): the numbers decide unless one equals the
   * key's, and then that restart entry is compared in full.
   */
  private seekSummarized(head: number, at: number, summary: Float64Array, key: Uint8Array, seq: number): void {
    const cursor = this.cursor;
    const n = head % 4;
    const off1 = Math.floor(head / 4) % 65536;
    const off2 = Math.floor(head / 262144);
    let r = n - 1;
    if (r > 0) {
      const target = prefixNumber(key, this.indexPrefixLength, key.length);
      // The last restart point whose entry is < (key, seq); restart 0 when none above it is.
      for (; r > 0; r--) {
        const num = summary[at + r]!;
        if (num < target) break;
        if (num === target) {
          cursor.seekToRestart(r);
          if (compareInternal(cursor.compareKey(key), cursor.seq, seq) < 0) break;
        }
      }
    }
    const off = r === 0 ? 0 : r === 1 ? off1 : off2;
    const next = r + 1 < n ? (r === 0 ? off1 : off2) : cursor.block.restartsOffset;
    cursor.seekInInterval(r, off, next, key, seq);
  }

  /**
   * Fills block b's restart summary in `blockInfo` (see there) from the block, with `this.cursor`
   * (reset to it; the caller seeks afterwards). Returns the head: > 0, or -1 when the block
   * cannot be summarized.
   */
  private summarize(b: number, block: Block, summary: Float64Array): number {
    const at = BLOCK_INFO * b + HEAD;
    const n = block.numRestarts;
    if (n > 3 || block.restartsOffset >= 65536) return (summary[at] = -1);
    const lcp = this.indexPrefixLength;
    const prefixStart = this.indexKeyOffsets[0]!;
    const bytes = this.indexKeyBytes;
    const cursor = this.cursor;
    let head = n;
    for (let r = 1; r < n; r++) {
      cursor.seekToRestart(r);
      const kb = cursor.keyBuf;
      const len = cursor.keyLength;
      // Every key of the block shares the index's common prefix (the separators around it do);
      // checked once here rather than trusted, since the numbers would be wrong without it.
      if (len < lcp) return (summary[at] = -1);
      for (let i = 0; i < lcp; i++) if (kb[i] !== bytes[prefixStart + i]) return (summary[at] = -1);
      summary[at + r] = prefixNumber(kb, lcp, len);
      head += (r === 1 ? 4 : 262144) * block.restartPoint(r);
    }
    return (summary[at] = head);
  }

  /** Seq of the version the last successful `find` returned. */
  foundSeq = 0;

  /** Value of the version the last successful `find` returned (a view; empty for a Delete). */
  foundValue(): Uint8Array {
    return this.cursor.value();
  }

  /**
   * Where `foundValue()` lies, for a caller that copies it without making the view first:
   * `foundData[foundValueOffset, foundValueOffset + foundValueLength)`. Same validity as
   * `foundValue()`; never written through.
   */
  get foundData(): Uint8Array {
    return this.cursor.data;
  }

  get foundValueOffset(): number {
    return this.cursor.valueOffset;
  }

  get foundValueLength(): number {
    return this.cursor.valueLength;
  }

  /** False only if `key` is certainly absent (bloom filter; true when the table has no filter). */
  mayContain(key: Uint8Array): boolean {
    return this.filter === undefined || this.filter.mayContain(key);
  }

  /**
   * The largest seq ≤ `snapshotSeq` among this table's tombstones covering `key`; 0 when none.
   * A binary search over the fragmented tombstones, at any snapshot.
   */
  maxCoveringTombstoneSeq(key: Uint8Array, snapshotSeq: number): number {
    if (this.tombstones.length === 0) return 0;
    return this.fragmentedTombstones().maxCoveringSeq(key, snapshotSeq);
  }

  /** This table's tombstones fragmented: built once (on first use), the same object afterwards. */
  fragmentedTombstones(): FragmentedRangeTombstones {
    return (this.fragments ??= fragmentTombstones(this.tombstones));
  }

  /** Every range tombstone of the table, (start ASC, seq DESC). */
  rangeTombstones(): readonly RangeTombstone[] {
    return this.tombstones;
  }

  /**
   * Index of the first data block whose separator is ≥ (key, seq) in (key ASC, seq DESC) order,
   * i.e. the only block that can hold the first entry ≥ (key, seq); `blockCount` if none.
   */
  findBlock(key: Uint8Array, seq: number): number {
    const bytes = this.indexKeyBytes;
    const offsets = this.indexKeyOffsets;
    const seqs = this.indexSeqs;
    const last = seqs.length - 1; // separators [0, last) share the prefix; the last is apart
    if (last < 0) return 0;
    let lo = 0;
    let hi = last;
    if (last > 0) {
      // Against the common prefix of separators [0, last) first: it may settle the answer.
      const lcp = this.indexPrefixLength;
      const first = offsets[0]!;
      const klen = key.length;
      let d = 0;
      for (let i = 0; i < lcp && d === 0; i++) d = i < klen ? key[i]! - bytes[first + i]! : -1;
      if (d < 0) return 0; // below every separator of the prefix, hence below all
      if (d > 0) lo = last; // above [0, last): only the last separator is left to compare
      else {
        const target = prefixNumber(key, lcp, klen);
        const nums = this.indexPrefixNumbers;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const num = nums[mid]!;
          let c: number;
          if (num !== target) c = num - target;
          else {
            const start = offsets[mid]!;
            c = compareBytesAt(bytes, start, offsets[mid + 1]! - start, key) || seq - seqs[mid]!;
          }
          if (c < 0) lo = mid + 1;
          else hi = mid;
        }
      }
    }
    if (lo < last) return lo;
    const start = offsets[last]!;
    const c = compareBytesAt(bytes, start, offsets[last + 1]! - start, key) || seq - seqs[last]!;
    return c < 0 ? last + 1 : last;
  }

  /** The handle of data block `i` (0 ≤ i < blockCount). */
  blockHandle(i: number): BlockHandle {
    return { offset: this.blockInfo[BLOCK_INFO * i + OFFSET]!, size: this.blockInfo[BLOCK_INFO * i + SIZE]! };
  }

  /** Where every block of the file is (see TableLayout); reads nothing. */
  layout(): TableLayout {
    const dataBlocks: TableLayout['dataBlocks'][number][] = [];
    for (let i = 0; i < this.blockCount; i++) {
      const key = this.indexKeyBytes.slice(this.indexKeyOffsets[i], this.indexKeyOffsets[i + 1]);
      dataBlocks.push({ handle: this.blockHandle(i), separatorKey: key, separatorSeq: this.indexSeqs[i]! });
    }
    const metaBlocks = [...this.metaHandles].map(([name, handle]) => ({ name, handle })).sort((a, b) => a.handle.offset - b.handle.offset);
    return {
      footer: { offset: this.fileSize - FOOTER_SIZE, metaIndex: this.metaIndexHandle, index: this.indexHandle },
      metaBlocks,
      dataBlocks,
      filter: this.filter === undefined ? undefined : { bytes: this.filter.byteLength, probes: this.filter.probes },
    };
  }

  /**
   * Data block `i`, from the cache or the file (checksum verified on every file read). The
   * caller may keep views into it for as long as it likes: the block is never recycled.
   */
  dataBlock(i: number): Block {
    return this.cachedBlock(i, false);
  }

  /** Data block `i` if the block cache holds it (as `dataBlock`: never recycled), else undefined. */
  dataBlockIfCached(i: number): Block | undefined {
    this.checkOpen();
    const slots = this.slots;
    if (slots?.blocks[i] === undefined) {
      this.cache?.miss();
      return undefined;
    }
    return this.cache!.expose(slots, i);
  }

  /**
   * The raw bytes (payloads and trailers) of data blocks [first, end), read with ONE positioned
   * read, for an iterator reading ahead; nothing is verified or cached yet — `runBlock` checks
   * each block when the reader reaches it, so a damaged block the reader never reaches raises
   * nothing. Into a fresh buffer, or into the front of `into` when it is large enough (the
   * caller's to recycle: views into the run it read before are overwritten).
   */
  readBlockRun(first: number, end: number, into?: Uint8Array): Uint8Array {
    this.checkOpen();
    const info = this.blockInfo;
    const start = info[BLOCK_INFO * first + OFFSET]!;
    const stop = info[BLOCK_INFO * (end - 1) + OFFSET]! + info[BLOCK_INFO * (end - 1) + SIZE]! + BLOCK_TRAILER_SIZE;
    return this.readRaw(start, stop - start, into);
  }

  /** Data block `i` out of `run`, a `readBlockRun(first, …)`: checksum verified, decompressed. */
  runBlock(run: Uint8Array, first: number, i: number): Block {
    const info = this.blockInfo;
    const offset = info[BLOCK_INFO * i + OFFSET]!;
    const from = offset - info[BLOCK_INFO * first + OFFSET]!;
    const raw = run.subarray(from, from + info[BLOCK_INFO * i + SIZE]! + BLOCK_TRAILER_SIZE);
    return new Block(unsealBlock(raw, this.path, offset), this.path, offset);
  }

  /** Bytes of data block `i` in the file, trailer included. */
  blockFileSize(i: number): number {
    return this.blockInfo[BLOCK_INFO * i + SIZE]! + BLOCK_TRAILER_SIZE;
  }

  /** Data block `i` for `find`, whose caller copies what it needs before the next table read. */
  private pointBlock(i: number): Block {
    return this.cachedBlock(i, true);
  }

  private cachedBlock(i: number, point: boolean): Block {
    this.checkOpen();
    const offset = this.blockInfo[BLOCK_INFO * i + OFFSET]!;
    const size = this.blockInfo[BLOCK_INFO * i + SIZE]!;
    const cache = this.cache;
    if (cache === undefined) return this.readBlock({ offset, size });
    const slots = this.slots!;
    if (slots.blocks[i] !== undefined) return point ? cache.hit(slots, i) : cache.expose(slots, i);
    cache.miss();
    // Read into a spare block of the cache's (recycled when it has one: block-cache.ts); unless
    // the block was compressed, it becomes that block, parsed in place.
    const spare = cache.spareBlock(size + BLOCK_TRAILER_SIZE);
    let contents: Uint8Array;
    try {
      contents = unsealBlock(this.readRaw(offset, size + BLOCK_TRAILER_SIZE, spare.data), this.path, offset);
      if (contents.buffer === spare.data.buffer) spare.reparse(contents.length, this.path, offset);
    } catch (err) {
      cache.recycle(spare);
      throw err;
    }
    if (contents.buffer !== spare.data.buffer) {
      // Decompressed into a buffer of its own: the raw bytes' block goes back at once.
      cache.recycle(spare);
      const block = new Block(contents, this.path, offset);
      cache.insert(slots, i, block);
      return block;
    }
    // Recyclable only if nobody else may keep views into it (point reads; see BlockCache.expose).
    cache.insert(slots, i, spare, point);
    return spare;
  }

  /**
   * Re-reads every block from the file (bypassing the cache) and checks its checksum and
   * structure. Throws CORRUPTION at the first damage.
   */
  verify(): TableVerifyResult {
    this.checkOpen();
    let blocks = 0;
    let bytes = 0;
    const check = (h: BlockHandle, parse: boolean): void => {
      const contents = this.readContents(h);
      if (parse) {
        const c = new BlockCursor(new Block(contents, this.path, h.offset));
        c.seekToFirst();
        while (c.valid()) {
          // Decoding every entry checks its bounds.
          c.next();
        }
      }
      blocks++;
      bytes += h.size + BLOCK_TRAILER_SIZE;
    };
    for (let i = 0; i < this.blockCount; i++) check(this.blockHandle(i), true);
    for (const [name, h] of this.metaHandles) check(h, name !== META_FILTER);
    check(this.metaIndexHandle, true);
    check(this.indexHandle, true);
    return { blocks, bytes };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the file. Later reads throw NOT_OPEN. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.fs.closeSync(this.fd);
    } catch (err) {
      throw ioError(this.path, undefined, 'close', err);
    } finally {
      this.fd = -1;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StrataError('NOT_OPEN', `${this.path}: table is closed; reopen it with Table.open`, { file: this.path });
  }

  private readBlock(h: BlockHandle): Block {
    return new Block(this.readContents(h), this.path, h.offset);
  }

  private readContents(h: BlockHandle): Uint8Array {
    return unsealBlock(this.readRaw(h.offset, h.size + BLOCK_TRAILER_SIZE), this.path, h.offset);
  }

  /**
   * Exactly `length` bytes at `offset`; a short read means the file was truncated. `into`: in the
   * front of that buffer when it holds `length` bytes (a spare block of the cache's, a run
   * buffer being recycled).
   */
  private readRaw(offset: number, length: number, into?: Uint8Array): Uint8Array {
    // Not zero-filled (every byte is overwritten by the read, or the read fails) and not from
    // Buffer's shared pool (a cached block must not pin a pool slab): a plain Uint8Array over
    // uninitialised memory. Zero-filling 4 KiB per cache miss was ~10% of an uncached getSync.
    const buf = into !== undefined && into.length >= length ? new Uint8Array(into.buffer, into.byteOffset, length) : new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = this.fs.readSync(this.fd, buf, done, length - done, offset + done);
      } catch (err) {
        throw ioError(this.path, offset + done, 'read', err);
      }
      if (n <= 0) throw corruption(this.path, offset, `wanted ${length} bytes but the file ends after ${done} (truncated?)`);
      done += n;
    }
    return buf;
  }
}
