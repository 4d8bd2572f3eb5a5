/**
 * The table reader. `Table.open` reads the footer, then the meta-index, the top-level index,
 * the range-tombstone and the properties blocks — all small — and verifies each one's checksum;
 * it keeps the top-level index and the tombstones for the table's lifetime (`residentBytes`),
 * of the properties only the data block count, and of the meta-index nothing (`readProperties()`,
 * `layout` and `verify` read those again: tools and repair ask, lookups never do). A table
 * cache over a database much larger than its budget opens tables all the time (100M keys:
 * ~0.7 opens a get), and whatever a table keeps lives long enough to reach V8's old space and
 * is garbage there once the table is dropped: the decoded properties (an object of 24 fields
 * with four key copies) and the meta-index map were ~40% of a table's ~7 KB of heap. What it
 * keeps is in ONE ArrayBuffer with three views (the top-level index's, whose numbers array
 * begins with the table's own: `nums`): a large database keeps thousands of tables open (100M
 * keys: 6,456), and each ArrayBuffer is ~88 bytes of V8 heap and ~220 of native bookkeeping
 * beside its bytes, each view ~96 bytes of heap (TABLE_OVERHEAD). The index and filter
 * partitions (format.ts) are loaded when a lookup needs them, checksum-verified and unpacked
 * (index-partition.ts), and kept in a PartitionCache — shared by the tables of a database and
 * bounded in bytes, or the table's own, unbounded, when it is opened without one. Data blocks
 * are read on demand, one positioned read each, through the shared BlockCache. Everything is
 * synchronous: a point read is page-cache speed and the engine's `getSync` must not wait for the
 * event loop.
 *
 * Data blocks are numbered 0 … blockCount − 1 across the whole table (GLOBAL numbers, as the
 * iterators and the block cache use them); a partition holds a run of them.
 *
 * Values returned by `get` (and by the iterators) are views into cached, immutable blocks: no
 * copy on the hot path. Callers must never write into them.
 */
import { compareKeys, fragmentTombstones, type FragmentedRangeTombstones, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { Block, BlockCursor, compareBytesAt, EMPTY_BLOCK } from './block-format.js';
import { ByteWriter } from './coding.js';
import type { BlockCache } from './block-cache.js';
import { allocUnsharedBytes } from './buffer-pool.js';
import { BloomFilter, bloomHash } from './bloom.js';
import { StrataError, corruption, ioError } from '@strata-db/errors';
import {
  decodeBlockHandle,
  decodeFooter,
  decodePartitionEntry,
  FOOTER_SIZE,
  MAX_SEQ,
  META_FILTER,
  META_PROPERTIES,
  META_RANGE_DEL,
  type BlockHandle,
} from './format.js';
import { decodeIndexPartition, IndexPartition } from './index-partition.js';
import { PartitionCache, type PartitionSlots } from './partition-cache.js';
import { closeQuietly, nodeFileSystem } from '@strata-db/vfs';
import type { TableFileSystem } from './fs.js';
import { BLOCK_TRAILER_SIZE, unsealBlock, verifyBlock } from './physical-block.js';
import { CompressionType, decompressBlock } from './compression.js';
import { decodeDataBlockCount, decodeProperties, type TableProperties } from './properties.js';

/** What a table reader asks of the file layer: it opens, reads, stats and closes, nothing more. */
export type TableReadFileSystem = Pick<TableFileSystem, 'openSync' | 'closeSync' | 'readSync' | 'fstatSync'>;

export interface TableOpenOptions {
  /** File layer; defaults to node:fs. */
  readonly fs?: TableReadFileSystem;
  /** Shared block cache; without one every data-block access reads the file. */
  readonly cache?: BlockCache;
  /**
   * Shared cache of index and filter partitions; without one the table keeps every partition
   * it loaded for its lifetime.
   */
  readonly partitions?: PartitionCache;
  /** The table's file number: the caches' key. Required with either cache. */
  readonly fileNumber?: number;
}

/**
 * Where everything sits in a table file (for tools such as `strata dump-sst`): every block's
 * handle, in file order, with the index separators of the data blocks.
 */
export interface TableLayout {
  readonly footer: { readonly offset: number; readonly metaIndex: BlockHandle; readonly index: BlockHandle; readonly version: number };
  /** The meta blocks by name (range tombstones, properties; v1: the filter), in file order. */
  readonly metaBlocks: readonly { readonly name: string; readonly handle: BlockHandle }[];
  /**
   * The index and filter partitions, in order, each with its data blocks [firstBlock,
   * firstBlock + blockCount) and its last separator (the top-level index's key). A v1 table
   * has one, whose index is the footer's index block and whose filter is the meta-index's.
   */
  readonly partitions: readonly {
    readonly index: BlockHandle;
    readonly filter: BlockHandle | undefined;
    readonly firstBlock: number;
    readonly blockCount: number;
    readonly separatorKey: Uint8Array;
    readonly separatorSeq: number;
  }[];
  /** Data blocks in file order, each with its index entry's separator (key, seq). */
  readonly dataBlocks: readonly { readonly handle: BlockHandle; readonly separatorKey: Uint8Array; readonly separatorSeq: number }[];
  /** The bloom filter's shape, when the table has one: bytes of all its partitions, probes per key. */
  readonly filter: { readonly bytes: number; readonly probes: number } | undefined;
}

/** What `verify()` checked. */
export interface TableVerifyResult {
  readonly blocks: number;
  readonly bytes: number;
}

const textDecoder = new TextDecoder();
/**
 * Bytes of a Table beyond what it charges through its parts (its top-level index's charge, which
 * holds its numbers too, and `PartitionSlots.byteLength`): the Table object (~192 bytes of V8
 * heap), the table cache's entry for it and that entry's place in the cache's map (~80). Its
 * descriptor record and path are the engine's descriptor records' (stats tableRecords).
 * Measured (session 30: V8 heap snapshots before and after the engine's TableCache opened all
 * 3,963 tables of a 2.5M-key database of 64 KiB tables, self sizes by constructor; one
 * partition a table): 1,262 bytes of V8 heap a table, ~98 of ArrayBuffer contents and ONE
 * ArrayBuffer (~220 bytes of native bookkeeping); residentBytes says ~1,410 of it, the
 * descriptor records ~190. Before (session 25–29's layout: the top-level index in five views,
 * the numbers in an array of their own with two views, the slots' state a Float64Array) it was
 * 1,930 bytes of heap and three ArrayBuffers (~660 native), charged 1536 + the parts (2,154).
 * Session 31 put the partition-cache slots in one array, not three: −112 bytes of heap a table
 * (~1,150), residentBytes ~1,300.
 */
const TABLE_OVERHEAD = 320;

/** Numbers per partition in `Table.nums`, and where each sits (see there). */
const PART_INFO = 5;
const INDEX_OFFSET = 0;
const INDEX_SIZE = 1;
const FILTER_OFFSET = 2;
const FILTER_SIZE = 3;
const FIRST_BLOCK = 4;

/** The tombstones of a table without any: one array for all of them, not one each. */
const NO_TOMBSTONES: readonly RangeTombstone[] = Object.freeze([]);

/**
 * The cursor every table's `get` and `find` position in their block: one per thread, not one per
 * table (~470 bytes of V8 heap each — the cursor, its key buffer and their headers — times the
 * thousands of tables a large database keeps open, for an object used only within a synchronous
 * call). `find`'s found value (`foundValue`, `foundData`, …) is therefore that of the last
 * `find` of ANY table, which is no narrower than what it already was: a view into a block that
 * the next read of any table may recycle (see `find`), so its caller copies it first.
 */
const probeCursor = new BlockCursor(EMPTY_BLOCK);

/** `Table.find`'s answer when the bloom filter ruled the key out (-1: absent, the filter said "maybe" or was not asked). */
export const FILTER_REJECTED = -2;

/**
 * What an index partition is read into: its raw bytes are checksummed and unpacked into a
 * partition of its own (decodeIndexPartition copies them), so one buffer per thread, reused by
 * every load, serves instead of a fresh one per load (a malloc and external memory each; ~5 loads
 * a get at 100M keys). Grown to the largest partition read, up to MAX_INDEX_SCRATCH (a larger
 * one, e.g. a v1 table's whole index, gets a buffer of its own).
 */
const MAX_INDEX_SCRATCH = 64 * 1024;
let indexScratch: Uint8Array = new Uint8Array(0);
function indexReadScratch(length: number): Uint8Array {
  if (indexScratch.length < length) {
    let size = Math.max(8192, 2 * indexScratch.length);
    while (size < length) size *= 2;
    indexScratch = allocUnsharedBytes(Math.min(size, MAX_INDEX_SCRATCH));
  }
  return indexScratch;
}

export class Table {
  readonly path: string;
  readonly fileNumber: number;
  readonly fileSize: number;
  /** Format version of the file (format.ts). */
  readonly formatVersion: number;
  /** Number of data blocks. */
  readonly blockCount: number;
  /** Number of index partitions (a v1 table: 1, or 0 without data blocks). */
  readonly partitionCount: number;
  /**
   * Bytes this table keeps in memory for its lifetime, whatever the caches hold: the top-level
   * index, the range tombstones, the partition cache's slots of the file and the object itself
   * (nothing of the block cache, whose index is its own: block-cache.ts). What an open table costs, for the engine's memory accounting; its
   * partitions are charged to the partition cache.
   */
  readonly residentBytes: number;

  private readonly fs: TableReadFileSystem;
  private readonly cache: BlockCache | undefined;
  /** Where partitions live; the table's own (unbounded) when opened without one. */
  private readonly partitions: PartitionCache;
  /** This file's slots in `partitions`: 2p = index partition p, 2p + 1 = its filter. */
  private readonly parts: PartitionSlots;
  private fd: number;
  private closed = false;
  /** End of the region blocks may lie in (the footer's offset). */
  private readonly dataEnd: number;
  /**
   * The top-level index, unpacked. Its keys are separators too (partition p's last one), so it
   * is searched as an index partition is — `topIndex.findBlock` is `findPartition` — with no
   * block handles (v2 only; a v1 table's one partition needs no key).
   */
  private readonly topIndex: IndexPartition | undefined;
  /**
   * The table's numbers, PART_INFO (5) per partition p at 5p:
   *   [5p]      its index partition's offset   [5p + 1]  and size
   *   [5p + 2]  its filter partition's offset  [5p + 3]  and size (-1 both without a filter)
   *   [5p + 4]  its first data block (global); it holds [first(p), first(p + 1))
   * then five more at 5n (n = partitionCount): the footer's handles of the meta-index (offset,
   * size; `metaIndexHandle`) and of the index block (`indexHandle`), and the block count (so
   * that first(n) = blockCount). For a v2 table with data this is the front of the top-level
   * index's own `info` (IndexPartition's constructor puts it there): a table keeps ONE
   * ArrayBuffer and three views for its whole open life, not three ArrayBuffers and eight
   * views (see TABLE_OVERHEAD).
   */
  private readonly nums: Float64Array;
  /** The table has a bloom filter (bloomBitsPerKey > 0 when it was written). */
  readonly hasFilter: boolean;
  private readonly tombstones: readonly RangeTombstone[];
  /**
   * The tombstones fragmented (memtable's fragmenter: every covering seq per span, any snapshot
   * served): built on first use, then kept for the table's lifetime and shared by every reader.
   */
  private fragments: FragmentedRangeTombstones | undefined;
  /** The partition `partitionOfBlock` found last (-1: none yet); only that method touches it. */
  private lastBlockPartition = -1;

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
    const dataEnd = (this.dataEnd = size - FOOTER_SIZE);
    const footer = decodeFooter(this.readRaw(dataEnd, FOOTER_SIZE), path, dataEnd);
    this.formatVersion = footer.version;
    const meta = this.metaHandles(footer.metaIndex);
    const propsHandle = meta.get(META_PROPERTIES);
    if (propsHandle === undefined) throw corruption(path, footer.metaIndex.offset, 'meta-index lacks the properties block');
    const blockCount = (this.blockCount = decodeDataBlockCount(this.readBlock(propsHandle)));

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
    this.tombstones = tombstones.length === 0 ? NO_TOMBSTONES : tombstones;

    const keyBytes = new ByteWriter(64);
    const keyOffsets: number[] = [0];
    const seqs: number[] = [];
    const first: number[] = [];
    const handles: number[] = [];
    if (this.formatVersion === 1) {
      // One partition: the index block and the whole table's filter (if any). A v1 index names
      // no partition key, and the one partition needs none (findPartition).
      const filter = meta.get(META_FILTER);
      if (blockCount > 0) {
        first.push(0);
        handles.push(footer.index.offset, footer.index.size, filter?.offset ?? -1, filter?.size ?? -1);
      }
      this.hasFilter = filter !== undefined;
    } else {
      // The top-level index, checked whole here: partitions in strictly increasing order, their
      // block numbers contiguous from 0, every handle inside the data region.
      const top = this.readBlock(footer.index);
      const tc = new BlockCursor(top);
      const src = { data: top.data, pos: 0 };
      let withFilter = 0;
      tc.seekToFirst();
      while (tc.valid()) {
        const p = seqs.length;
        src.pos = tc.valueOffset;
        const e = decodePartitionEntry(src, tc.valueOffset + tc.valueLength, dataEnd);
        if (e === undefined) throw corruption(path, footer.index.offset, `top-level index entry ${p} is malformed or names a block outside the file`);
        const prevFirst = p === 0 ? -1 : first[p - 1]!;
        if ((p === 0 && e.firstBlock !== 0) || e.firstBlock <= prevFirst || e.firstBlock >= blockCount) {
          throw corruption(path, footer.index.offset, `top-level index entry ${p} starts at data block ${e.firstBlock}, after block ${prevFirst} (of ${blockCount}): blocks not contiguous`);
        }
        if (p > 0) {
          const prev = keyOffsets[p - 1]!;
          const order = compareBytesAt(keyBytes.bytes(), prev, keyOffsets[p]! - prev, tc.key()) || tc.seq - seqs[p - 1]!;
          if (order >= 0) throw corruption(path, footer.index.offset, `top-level index entry ${p} is out of order`);
        }
        keyBytes.putBytes(tc.keyBuf, 0, tc.keyLength);
        keyOffsets.push(keyBytes.length);
        seqs.push(tc.seq);
        first.push(e.firstBlock);
        handles.push(e.index.offset, e.index.size, e.filter?.offset ?? -1, e.filter?.size ?? -1);
        if (e.filter !== undefined) withFilter++;
        tc.next();
      }
      if (seqs.length === 0 ? blockCount !== 0 : withFilter !== 0 && withFilter !== seqs.length) {
        throw corruption(path, footer.index.offset, `top-level index of ${seqs.length} partitions does not fit ${blockCount} data blocks, or only some partitions have a filter`);
      }
      this.hasFilter = withFilter > 0;
    }
    const n = (this.partitionCount = first.length);
    const nums = new Float64Array(PART_INFO * (n + 1));
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < 4; k++) nums[PART_INFO * p + k] = handles[4 * p + k]!; // INDEX_OFFSET … FILTER_SIZE
      nums[PART_INFO * p + FIRST_BLOCK] = first[p]!;
    }
    nums.set([footer.metaIndex.offset, footer.metaIndex.size, footer.index.offset, footer.index.size, blockCount], PART_INFO * n);
    if (this.formatVersion >= 2 && n > 0) {
      this.topIndex = new IndexPartition(0, n, keyBytes.bytes(), Uint32Array.from(keyOffsets), Float64Array.from(seqs), nums);
      this.nums = this.topIndex.info; // begins with a copy of `nums`
    } else {
      this.topIndex = undefined;
      this.nums = nums;
    }

    const shared = options.partitions;
    this.partitions = shared ?? new PartitionCache(Number.MAX_SAFE_INTEGER);
    this.parts = this.partitions.slotsOf(this.fileNumber, 2 * n);
    let tombstoneBytes = 0;
    for (const t of tombstones) tombstoneBytes += t.start.byteLength + t.end.byteLength + 64; // + object overhead
    this.residentBytes =
      TABLE_OVERHEAD +
      (this.topIndex?.charge ?? this.nums.byteLength) +
      tombstoneBytes +
      this.parts.byteLength;
  }

  /** The footer's handle of the meta-index. */
  private get metaIndexHandle(): BlockHandle {
    const at = PART_INFO * this.partitionCount;
    return { offset: this.nums[at]!, size: this.nums[at + 1]! };
  }

  /** The footer's handle of the (top-level) index block. */
  private get indexHandle(): BlockHandle {
    const at = PART_INFO * this.partitionCount;
    return { offset: this.nums[at + 2]!, size: this.nums[at + 3]! };
  }

  /** Global number of partition p's first data block (0 ≤ p ≤ partitionCount; p = partitionCount: blockCount). */
  private firstBlockOf(p: number): number {
    return this.nums[PART_INFO * p + FIRST_BLOCK]!;
  }

  /** Opens and validates a table (footer, magic, meta blocks, top-level index). Damage → CORRUPTION. */
  static open(path: string, options: TableOpenOptions = {}): Table {
    if ((options.cache !== undefined || options.partitions !== undefined) && options.fileNumber === undefined) {
      throw new StrataError('INVALID_ARGUMENT', `${path}: a table read through a shared cache needs its fileNumber (the cache key)`);
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
   * The table's properties, read from the file, checksum-verified and decoded on every call
   * (not kept: see the top of the file) — file I/O, hence a method and not a getter. For tools,
   * repair and tests; throws NOT_OPEN once closed.
   */
  readProperties(): TableProperties {
    this.checkOpen();
    return this.decodePropertiesBlock(this.metaHandles());
  }

  /** The meta-index, read from the file and verified: meta block name → handle. */
  private metaHandles(metaIndex: BlockHandle = this.metaIndexHandle): Map<string, BlockHandle> {
    const meta = new Map<string, BlockHandle>();
    const metaBlock = this.readBlock(metaIndex);
    const c = new BlockCursor(metaBlock);
    c.seekToFirst();
    while (c.valid()) {
      const h = decodeBlockHandle({ data: metaBlock.data, pos: c.valueOffset }, c.valueOffset + c.valueLength, this.dataEnd);
      if (h === undefined) throw corruption(this.path, metaIndex.offset, `meta-index entry ${textDecoder.decode(c.key())} has a bad handle`);
      meta.set(textDecoder.decode(c.key()), h);
      c.next();
    }
    return meta;
  }

  private decodePropertiesBlock(meta: ReadonlyMap<string, BlockHandle>): TableProperties {
    const handle = meta.get(META_PROPERTIES);
    if (handle === undefined) throw corruption(this.path, this.metaIndexHandle.offset, 'meta-index lacks the properties block');
    return decodeProperties(this.readBlock(handle));
  }

  /**
   * The partition that holds the first data block whose separator is ≥ (key, seq): the first
   * whose last separator is ≥ it; `partitionCount` when none is (no block can hold the target).
   * A v1 table's one partition is always it (its own search then says whether a block is).
   */
  private findPartition(key: Uint8Array, seq: number): number {
    const top = this.topIndex;
    return top === undefined ? (this.partitionCount > 0 ? 0 : 1) : top.findBlock(key, seq);
  }

  /**
   * For a point probe: `findPartition`, or the last partition when (key, seq) is past its last
   * separator (`IndexPartition.findBlockOrLast`) — whose own search then finds no block.
   */
  private probePartition(key: Uint8Array, seq: number): number {
    const top = this.topIndex;
    return top === undefined ? (this.partitionCount > 0 ? 0 : 1) : top.findBlockOrLast(key, seq);
  }

  /**
   * Index partition of global data block `i` (0 ≤ i < blockCount), for the block-number lookups
   * (`dataBlock`, `blockHandle`, `runBlock`, `blockFileSize`): iterators and readahead ask for the
   * blocks of one partition in a row, so the partition found last is tried before a search.
   * Only its number is kept: the partition itself comes from the partition cache each time, so
   * the table never holds one the cache dropped (and no longer counts).
   */
  private partitionOfBlock(i: number): IndexPartition {
    const last = this.lastBlockPartition;
    if (last >= 0 && i >= this.firstBlockOf(last) && i < this.firstBlockOf(last + 1)) return this.indexPartition(last);
    const p = (this.lastBlockPartition = this.partitionOf(i));
    return this.indexPartition(p);
  }

  /** The partition holding global data block `b` (0 ≤ b < blockCount). */
  private partitionOf(b: number): number {
    let lo = 0;
    let hi = this.partitionCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firstBlockOf(mid) <= b) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Index partition p: from the partition cache, or read, verified, unpacked and cached. As with
   * filters (`filterPartition`): done with it before the next partition is loaded, kept nowhere.
   */
  private indexPartition(p: number): IndexPartition {
    const parts = this.parts;
    const cached = parts.index(p);
    if (cached !== undefined) {
      this.partitions.hit(parts, 2 * p);
      return cached;
    }
    this.checkOpen();
    const part = this.loadIndexPartition(p, -1);
    this.partitions.insertIndex(parts, p, part);
    return part;
  }

  /**
   * Filter partition p (the table has a filter): from the partition cache, or read, verified and
   * cached. Use it at once and keep it nowhere: once the cache evicts it (at any later partition
   * load) its buffer is recycled for the next partition loaded (PartitionCache.buffer).
   */
  private filterPartition(p: number): BloomFilter {
    const parts = this.parts;
    const cached = parts.filter(p);
    if (cached !== undefined) {
      this.partitions.hit(parts, 2 * p + 1);
      return cached;
    }
    this.checkOpen();
    const filter = this.loadFilterPartition(p);
    this.partitions.insertFilter(parts, p, filter);
    return filter;
  }

  /**
   * Loads index partition `p` (`filter`: its filter partition) if it is not cached yet and fits
   * beside what the partition cache holds without evicting anything (`PartitionCache.room`:
   * judged first by its size on disk, then by its charge once unpacked; one that does not fit
   * is dropped, its buffer given back), so that warming never pushes out what lookups loaded.
   * Returns the bytes read from the file, 0 when there was nothing to load (cached already, or
   * the table has no filter), or -1 when it did not fit (nothing kept). For the engine's idle
   * warming (version/table-warmer.ts), which calls it one partition at a time so that its work
   * comes in small slices; it loads and inserts as lookups do (`loadIndexPartition`,
   * `loadFilterPartition`; `insertIndex`, `insertFilter`).
   */
  warmPartition(p: number, filter: boolean): number {
    this.checkOpen();
    const cache = this.partitions;
    const parts = this.parts;
    if (filter ? !this.hasFilter || parts.filter(p) !== undefined : parts.index(p) !== undefined) return 0;
    const size = this.nums[PART_INFO * p + (filter ? FILTER_SIZE : INDEX_SIZE)]! + BLOCK_TRAILER_SIZE;
    if (size > cache.room) return -1; // its charge is at least its bytes
    if (filter) {
      const f = this.loadFilterPartition(p);
      if (f.charge > cache.room) {
        cache.discard(new Uint8Array(f.buffer));
        return -1;
      }
      cache.insertFilter(parts, p, f);
    } else {
      const part = this.loadIndexPartition(p, -1);
      if (part.charge > cache.room) {
        cache.discard(part.buffer);
        return -1;
      }
      cache.insertIndex(parts, p, part);
    }
    return size;
  }

  /**
   * Reads and unpacks index partition p, checking it against the top-level index: its block
   * count, its last separator, and its handles contiguous — from offset `firstOffset` when the
   * caller knows where the partition's data must start (-1: only partition 0's, at 0).
   */
  private loadIndexPartition(p: number, firstOffset: number): IndexPartition {
    const h = this.nums;
    const handle = { offset: h[PART_INFO * p + INDEX_OFFSET]!, size: h[PART_INFO * p + INDEX_SIZE]! };
    const firstBlock = this.firstBlockOf(p);
    const count = this.firstBlockOf(p + 1) - firstBlock;
    // Read into the thread's scratch (the partition copies what it keeps): no buffer a load.
    const length = handle.size + BLOCK_TRAILER_SIZE;
    const raw = this.readRaw(handle.offset, length, length <= MAX_INDEX_SCRATCH ? indexReadScratch(length) : undefined);
    const block = new Block(unsealBlock(raw, this.path, handle.offset), this.path, handle.offset);
    const part = decodeIndexPartition(block, this.path, handle.offset, firstBlock, count, p === 0 ? 0 : firstOffset, this.dataEnd, this.partitions.buffer);
    const top = this.topIndex;
    if (top !== undefined) {
      const last = count - 1;
      const start = part.keyOffsets[last]!;
      const sameKey = compareBytesAt(part.keyBytes, start, part.keyOffsets[last + 1]! - start, top.separatorKey(p)) === 0;
      if (!sameKey || part.seq(last) !== top.seq(p)) {
        throw corruption(this.path, handle.offset, `index partition ${p} ends at a separator other than the top-level index's (partitions out of order?)`);
      }
    }
    return part;
  }

  private loadFilterPartition(p: number): BloomFilter {
    const h = this.nums;
    const handle = { offset: h[PART_INFO * p + FILTER_OFFSET]!, size: h[PART_INFO * p + FILTER_SIZE]! };
    const length = handle.size + BLOCK_TRAILER_SIZE;
    const raw = this.readRaw(handle.offset, length, this.partitions.buffer(length));
    return new BloomFilter(unsealBlock(raw, this.path, handle.offset), this.path, handle.offset);
  }

  /**
   * The newest version of `key` with seq ≤ `snapshotSeq`, or undefined. Range tombstones are NOT
   * applied (see maxCoveringTombstoneSeq). The key is a copy; the value is a view into a cached
   * block and must not be mutated.
   */
  get(key: Uint8Array, snapshotSeq: number): PointEntry | undefined {
    this.checkOpen();
    const p = this.probePartition(key, snapshotSeq);
    if (p >= this.partitionCount) return undefined;
    // The filter of the partition findPartition names holds `key` if the table has a version of
    // it ≤ snapshotSeq (format.ts, "Filter partition").
    if (this.hasFilter && !this.filterPartition(p).mayContain(key)) return undefined;
    const part = this.indexPartition(p);
    const b = part.findBlock(key, snapshotSeq);
    if (b >= part.count) return undefined;
    const cursor = probeCursor;
    cursor.reset(this.cachedBlock(part.firstBlock + b, part.blockOffset(b), part.blockSize(b), false));
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
   *
   * `FILTER_REJECTED` (-2) instead of -1 when the bloom filter ruled the key out. `useFilter`
   * false skips the filter — no probe, and its partition is neither loaded nor touched in the
   * partition cache: always correct, since a filter only prunes (a "maybe" goes on to the index
   * and the block, which decide), so the answer is the same; only the cost differs. The engine
   * skips the filters of a level that rarely rejects (engine's read/filter-skipping.ts).
   */
  find(key: Uint8Array, snapshotSeq: number, hash?: number, useFilter = true): number {
    if (this.closed) this.checkOpen();
    const p = this.probePartition(key, snapshotSeq);
    if (p >= this.partitionCount) return -1;
    // As in `get`: this partition's filter holds `key` if the table has a visible version of it.
    if (useFilter && this.hasFilter && !this.filterPartition(p).mayContainHash(hash ?? bloomHash(key))) return FILTER_REJECTED;
    const part = this.indexPartition(p);
    const b = part.findBlock(key, snapshotSeq);
    if (b >= part.count) return -1;
    const cursor = probeCursor;
    // A cached block is taken before the partition's numbers of it are read: a hit needs no
    // offset or size, and the cache's index and the block are then loaded independently of them.
    const i = part.firstBlock + b;
    const cached = this.cache?.get(this.fileNumber, i);
    cursor.reset(cached ?? this.missedBlock(i, part.blockOffset(b), part.blockSize(b), true));
    // A block just read from the file is sought without filling its restart summary (see
    // IndexPartition.info): most such blocks are never hit again.
    part.seekInBlock(cursor, b, key, snapshotSeq, cached !== undefined);
    if (!cursor.valid() || cursor.compareKey(key) !== 0) return -1;
    this.foundSeq = cursor.seq;
    return cursor.kind;
  }

  /** Seq of the version the last successful `find` returned. */
  foundSeq = 0;

  /** Value of the version the last successful `find` returned (a view; empty for a Delete). */
  foundValue(): Uint8Array {
    return probeCursor.value();
  }

  /**
   * Where `foundValue()` lies, for a caller that copies it without making the view first:
   * `foundData[foundValueOffset, foundValueOffset + foundValueLength)`. Same validity as
   * `foundValue()`; never written through.
   */
  get foundData(): Uint8Array {
    return probeCursor.data;
  }

  get foundValueOffset(): number {
    return probeCursor.valueOffset;
  }

  get foundValueLength(): number {
    return probeCursor.valueLength;
  }

  /** False only if `key` is certainly absent (bloom filter; true when the table has no filter). */
  mayContain(key: Uint8Array): boolean {
    if (!this.hasFilter) return true;
    // The partition of the key's newest version, whose filter holds the key if the table does.
    const p = this.findPartition(key, MAX_SEQ);
    return p < this.partitionCount && this.filterPartition(p).mayContain(key);
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
    const p = this.findPartition(key, seq);
    if (p >= this.partitionCount) return this.blockCount;
    const part = this.indexPartition(p);
    return part.firstBlock + part.findBlock(key, seq);
  }

  /** The handle of data block `i` (0 ≤ i < blockCount). */
  blockHandle(i: number): BlockHandle {
    const part = this.partitionOfBlock(i);
    const b = i - part.firstBlock;
    return { offset: part.blockOffset(b), size: part.blockSize(b) };
  }

  /** Where every block of the file is (see TableLayout); reads every index partition. */
  layout(): TableLayout {
    const dataBlocks: TableLayout['dataBlocks'][number][] = [];
    const partitions: TableLayout['partitions'][number][] = [];
    let filterBytes = 0;
    let probes = 0;
    for (let p = 0; p < this.partitionCount; p++) {
      const part = this.indexPartition(p);
      for (let b = 0; b < part.count; b++) {
        dataBlocks.push({ handle: { offset: part.blockOffset(b), size: part.blockSize(b) }, separatorKey: part.separatorKey(b), separatorSeq: part.seq(b) });
      }
      const h = this.nums;
      const at = PART_INFO * p;
      const filter = this.hasFilter ? { offset: h[at + FILTER_OFFSET]!, size: h[at + FILTER_SIZE]! } : undefined;
      partitions.push({
        index: { offset: h[at + INDEX_OFFSET]!, size: h[at + INDEX_SIZE]! },
        filter,
        firstBlock: part.firstBlock,
        blockCount: part.count,
        separatorKey: part.separatorKey(part.count - 1),
        separatorSeq: part.seq(part.count - 1),
      });
      // Only now: loading the filter may evict `part`, whose buffer the next load may reuse.
      if (filter !== undefined) {
        const f = this.filterPartition(p);
        filterBytes += f.byteLength;
        probes = f.probes;
      }
    }
    const metaBlocks = [...this.metaHandles()].map(([name, handle]) => ({ name, handle })).sort((a, b) => a.handle.offset - b.handle.offset);
    return {
      footer: { offset: this.dataEnd, metaIndex: this.metaIndexHandle, index: this.indexHandle, version: this.formatVersion },
      metaBlocks,
      partitions,
      dataBlocks,
      filter: this.hasFilter ? { bytes: filterBytes, probes } : undefined,
    };
  }

  /**
   * Data block `i`, from the cache or the file (checksum verified on every file read). The
   * caller may keep views into it for as long as it likes: the block is never recycled.
   */
  dataBlock(i: number): Block {
    const part = this.partitionOfBlock(i);
    const b = i - part.firstBlock;
    return this.cachedBlock(i, part.blockOffset(b), part.blockSize(b), false);
  }

  /** Data block `i` if the block cache holds it (as `dataBlock`: never recycled), else undefined. */
  dataBlockIfCached(i: number): Block | undefined {
    this.checkOpen();
    return this.cache?.get(this.fileNumber, i, true);
  }

  /**
   * The raw bytes (payloads and trailers) of data blocks [first, end), read with ONE positioned
   * read, for an iterator reading ahead (data blocks are contiguous in the file, across
   * partitions); nothing is verified or cached yet — `runBlock` checks each block when the
   * reader reaches it, so a damaged block the reader never reaches raises nothing. Into a fresh
   * buffer, or into the front of `into` when it is large enough (the caller's to recycle: views
   * into the run it read before are overwritten).
   */
  readBlockRun(first: number, end: number, into?: Uint8Array): Uint8Array {
    this.checkOpen();
    const start = this.blockOffset(first);
    const stop = this.blockOffset(end - 1) + this.blockFileSize(end - 1);
    return this.readRaw(start, stop - start, into);
  }

  /** Data block `i` out of `run`, a `readBlockRun(first, …)`: checksum verified, decompressed. */
  runBlock(run: Uint8Array, first: number, i: number): Block {
    const part = this.partitionOfBlock(i);
    const b = i - part.firstBlock;
    const offset = part.blockOffset(b);
    const size = part.blockSize(b);
    // (Not `part` after this: `blockOffset(first)` may load another partition, evicting `part`.)
    const from = offset - this.blockOffset(first);
    const raw = run.subarray(from, from + size + BLOCK_TRAILER_SIZE);
    return new Block(unsealBlock(raw, this.path, offset), this.path, offset);
  }

  /** Bytes of data block `i` in the file, trailer included. */
  blockFileSize(i: number): number {
    const part = this.partitionOfBlock(i);
    return part.blockSize(i - part.firstBlock) + BLOCK_TRAILER_SIZE;
  }

  /** Offset of data block `i` in the file. */
  private blockOffset(i: number): number {
    const part = this.partitionOfBlock(i);
    return part.blockOffset(i - part.firstBlock);
  }

  /**
   * Data block `i` (at `offset`, `size` payload bytes) from the block cache or the file. `point`:
   * for `find`, whose caller copies what it needs before the next table read, so the block may
   * be recycled; else the caller may keep views into it.
   */
  private cachedBlock(i: number, offset: number, size: number, point: boolean): Block {
    this.checkOpen();
    return this.cache?.get(this.fileNumber, i, !point) ?? this.missedBlock(i, offset, size, point);
  }

  /** `cachedBlock` once the block cache (if any) has missed (and counted the miss). */
  private missedBlock(i: number, offset: number, size: number, point: boolean): Block {
    const cache = this.cache;
    if (cache === undefined) return this.readBlock({ offset, size });
    // Read into a spare block of the cache's (recycled when it has one: block-cache.ts) and
    // verified there; unless the block was compressed, it becomes that block, parsed in place —
    // with no view of the bytes made on the way (a miss used to make three).
    const length = size + BLOCK_TRAILER_SIZE;
    const spare = cache.spareBlock(length);
    let block: Block;
    try {
      this.readInto(spare.data, offset, length);
      const type = verifyBlock(spare.data, length, this.path, offset);
      if (type === CompressionType.None) {
        spare.reparse(size, this.path, offset);
        block = spare;
      } else {
        // Decompressed into a buffer of its own: the raw bytes' block goes back at once.
        block = new Block(decompressBlock(new Uint8Array(spare.data.buffer, spare.data.byteOffset, size), type, this.path, offset), this.path, offset);
      }
    } catch (err) {
      cache.recycle(spare);
      throw err;
    }
    if (block !== spare) {
      cache.recycle(spare);
      if (!point || cache.admitPoint(this.fileNumber, i, block.charge)) cache.insert(this.fileNumber, i, block);
      return block;
    }
    if (point && !cache.admitPoint(this.fileNumber, i, spare.charge)) {
      // Read once (BlockCache.admitPoint): not kept. Its buffer goes back to the free list now
      // and is read into again at the next read, which `find`'s caller does not make before it
      // has copied what it needs (see `find`).
      cache.recycle(spare);
      return spare;
    }
    // Recyclable only if nobody else may keep views into it (point reads; see BlockCache.expose).
    cache.insert(this.fileNumber, i, spare, point);
    return spare;
  }

  /**
   * Re-reads every block from the file (bypassing the caches) and checks its checksum and
   * structure, and every partition against the top-level index: block counts, last separators,
   * data blocks contiguous across partitions. Throws CORRUPTION at the first damage.
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
    const h = this.nums;
    let dataOffset = 0; // where the next partition's data must start
    for (let p = 0; p < this.partitionCount; p++) {
      const part = this.loadIndexPartition(p, dataOffset);
      blocks++;
      bytes += h[PART_INFO * p + INDEX_SIZE]! + BLOCK_TRAILER_SIZE;
      if (this.hasFilter) {
        this.loadFilterPartition(p);
        blocks++;
        bytes += h[PART_INFO * p + FILTER_SIZE]! + BLOCK_TRAILER_SIZE;
      }
      for (let b = 0; b < part.count; b++) check({ offset: part.blockOffset(b), size: part.blockSize(b) }, true);
      dataOffset = part.blockOffset(part.count - 1) + part.blockSize(part.count - 1) + BLOCK_TRAILER_SIZE;
    }
    // A v1 table's filter was checked as its partition's.
    for (const [name, mh] of this.metaHandles()) if (name !== META_FILTER) check(mh, true);
    check(this.metaIndexHandle, true);
    // A v1 table's index was checked as its partition's, unless it has no data blocks.
    if (this.formatVersion >= 2 || this.partitionCount === 0) check(this.indexHandle, true);
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
    // A fresh buffer is allocUnsharedBytes's (buffer-pool.ts): not zeroed, pinning nothing else.
    const buf = into !== undefined && into.length >= length ? new Uint8Array(into.buffer, into.byteOffset, length) : allocUnsharedBytes(length);
    this.readInto(buf, offset, length);
    return buf;
  }

  /** Reads exactly `length` bytes at `offset` into the front of `buf` (≥ `length` bytes); a short read means the file was truncated. */
  private readInto(buf: Uint8Array, offset: number, length: number): void {
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
  }
}
