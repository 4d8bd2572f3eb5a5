/**
 * Streams sorted point entries and range tombstones into one table file (layout in
 * @strata-db/sstable-core's format.ts and README: format version 2, partitioned index and
 * filter). Memory stays bounded: data blocks are written as they fill (through a 256 KiB write
 * buffer); the finished index and filter partitions (as large as a whole-table index and filter
 * were), the key hashes of the partition being filled (4 bytes per user key) and the range
 * tombstones are held until `finish()`, which writes them after the data blocks — so that the
 * data blocks stay contiguous and an iterator reads a run of them with one read.
 *
 * Input is checked, never trusted: an entry out of (key ASC, seq DESC) order, a tombstone out
 * of (start ASC, seq DESC) order, a bad seq or kind is INVALID_ARGUMENT, before anything is
 * written for it — a wrong file is never produced silently.
 */
import { ioError, StrataError } from '@strata-db/errors';
import { compareKeys, compareTombstones, EntryKind, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import {
  BlockBuilder,
  BloomFilterBuilder,
  ByteWriter,
  COMPRESSION_NAMES,
  compressionType,
  CompressionType,
  encodeBlockHandle,
  encodeFooter,
  encodePartitionEntry,
  encodeProperties,
  isCompressionName,
  KeyCopy,
  MAX_SEQ,
  META_PROPERTIES,
  META_RANGE_DEL,
  nodeFileSystem,
  sealBlock,
  type BlockHandle,
  type CompressionName,
  type TableFileSystem,
  type TableProperties,
} from '@strata-db/sstable-core';
import { closeQuietly, writeAll } from '@strata-db/vfs';
import { giveBuilderBuffers, takeBuilderBuffers, type BuilderBuffers } from './builder-buffers.js';
import { CompressionSkip } from './compression-skip.js';
import { KeyWords } from './key-words.js';

export interface TableBuilderOptions {
  /** File layer; defaults to node:fs. */
  readonly fs?: TableFileSystem;
  /** Target uncompressed size of a data block, bytes (default 4096). */
  readonly blockSize?: number;
  /** Entries between restart points in data blocks (default 16). */
  readonly restartInterval?: number;
  /** Bloom filter bits per user key; 0 writes no filter (default 10, ≈0.8% false positives). */
  readonly bloomBitsPerKey?: number;
  /**
   * Size at which an index partition closes, bytes (default 4096, RocksDB's metadata_block_size):
   * a partition covers the data blocks whose index entries fit, ~170 blocks of 16-byte keys. A
   * reader loads one partition's index and filter per lookup that misses its cache, so smaller
   * partitions make such a miss cheaper and the top-level index (resident) larger. 1: one
   * data block per partition (tests).
   */
  readonly metadataBlockSize?: number;
  /**
   * Per-block codec (default 'none'; sstable-core's compression.ts lists them): data, range-tombstone
   * and properties blocks are compressed one at a time as they are written, and a block that does
   * not shrink by 1/8 is stored raw. A plain string, so a builder's options can cross a thread.
   */
  readonly compression?: CompressionName;
  /** Recorded in the properties. */
  readonly fileNumber?: number;
  /**
   * Creation time recorded in the properties, ms since the epoch (default: now). Given by a
   * caller that needs the same input to give the same bytes wherever the table is built.
   */
  readonly createdAt?: number;
  /**
   * RocksDB's CompactOnDeletionCollector: the table is marked for compaction (TableMeta and the
   * properties' `markedForCompaction`) when some `windowSize` consecutive point entries hold at
   * least `deletions` Deletes — a stretch that readers must step over key by key and that
   * holds space until a compaction drops it. Absent: never marked. A plain object, so a
   * builder's options can cross a thread.
   */
  readonly deletionTrigger?: DeletionTrigger;
}

export interface DeletionTrigger {
  readonly windowSize: number;
  readonly deletions: number;
}

/** What the manifest needs to know about a finished table. */
export interface TableMeta {
  readonly path: string;
  readonly fileNumber: number;
  readonly fileSize: number;
  /** Smallest point key or tombstone start. */
  readonly smallestKey: Uint8Array;
  /** Largest point key or tombstone end. */
  readonly largestKey: Uint8Array;
  /** True when `largestKey` is a tombstone's exclusive end: no entry of the table has that key. */
  readonly largestExclusive: boolean;
  readonly minSeq: number;
  readonly maxSeq: number;
  readonly entryCount: number;
  readonly deleteCount: number;
  readonly tombstoneCount: number;
  /** Some window of `deletionTrigger.windowSize` entries held `deletionTrigger.deletions` Deletes. */
  readonly markedForCompaction: boolean;
  readonly rawKeyBytes: number;
  readonly rawValueBytes: number;
  readonly properties: TableProperties;
}

const WRITE_BUFFER = 256 * 1024;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

type State = 'open' | 'finishing' | 'finished' | 'failed' | 'abandoned';

export class TableBuilder {
  readonly path: string;
  readonly fileNumber: number;
  private readonly fs: TableFileSystem;
  private readonly blockSize: number;
  private readonly restartInterval: number;
  private readonly bloomBitsPerKey: number;
  private readonly metadataBlockSize: number;
  private readonly compression: CompressionType;
  private readonly compressionName: CompressionName;
  private readonly createdAt: number;
  private fd: number;
  private state: State = 'open';

  /**
   * The write buffer, the blocks and the filter: one set, taken from the thread's recycled ones
   * (builder-buffers.ts) and given back once the table's last byte is written; the fields are
   * then tiny empty ones (`dropBuffers`).
   */
  private buffers: BuilderBuffers | undefined;
  private out: ByteWriter;
  /** File offset of `out[0]`. */
  private flushed = 0;
  private dataBlock: BlockBuilder;
  private indexBlock: BlockBuilder;
  private readonly handleBuf = new ByteWriter(32);
  private filter: BloomFilterBuilder | undefined;
  /** The last data block written, whose index entry waits for the next key (to shorten it). */
  private pendingHandle: BlockHandle | undefined;
  /**
   * The finished partitions: index and filter contents (written by `finish`, after the data
   * blocks), the last separator and the first data block of each.
   */
  private readonly partitions: { key: Uint8Array; seq: number; index: Uint8Array; filter: Uint8Array | undefined; firstBlock: number }[] = [];
  /** Global number of the first data block of the partition being filled. */
  private partitionFirstBlock = 0;
  /** The separator last added to `indexBlock` (the partition's last, when it closes). */
  private lastSeparator: { key: Uint8Array; seq: number } | undefined;
  /** The next entry is the first of a partition: its user key goes into the partition's filter even if an older partition has versions of it. */
  private partitionStarts = true;
  private readonly tombstones: RangeTombstone[] = [];

  /**
   * The last entry's key (undefined before the first): a copy held in `lastKeyCopy`, as the
   * caller may rewrite its key once `add` returns (compaction hands out one reused entry).
   */
  private lastKey: Uint8Array | undefined;
  private readonly lastKeyCopy = new KeyCopy();
  /** The common prefix of the last key and the next, by words (key-words.ts). */
  private readonly keyWords = new KeyWords();
  private lastSeq = 0;
  private firstKey: Uint8Array | undefined;
  private entries = 0;
  private deletes = 0;
  private dataBlocks = 0;
  /** Codec of the last block written (its trailer's type byte). */
  private lastBlockType = 0;
  /** Which data blocks are tried with the codec (compression-skip.ts: incompressible runs are not). */
  private readonly skip = new CompressionSkip();
  private dataBytes = 0;
  private rawKeyBytes = 0;
  private rawValueBytes = 0;
  private minSeq = Number.MAX_SAFE_INTEGER;
  private maxSeq = 0;
  /** The deletion window: 1 per Delete among the last `windowSize` entries (a ring), and their sum. */
  private readonly window: Uint8Array | undefined;
  private readonly windowTrigger: number;
  /** The ring's slot for the next entry (a wrapping counter: `entries % windowSize` was 7% of add's time in a worker's profile). */
  private windowAt = 0;
  private windowDeletes = 0;
  private marked = false;

  constructor(path: string, options: TableBuilderOptions = {}) {
    this.path = path;
    this.fs = options.fs ?? nodeFileSystem;
    this.blockSize = checkInt('blockSize', options.blockSize ?? 4096, 64, 64 * 1024 * 1024);
    this.restartInterval = checkInt('restartInterval', options.restartInterval ?? 16, 1, 1 << 16);
    this.bloomBitsPerKey = checkInt('bloomBitsPerKey', options.bloomBitsPerKey ?? 10, 0, 64);
    this.metadataBlockSize = checkInt('metadataBlockSize', options.metadataBlockSize ?? 4096, 1, 64 * 1024 * 1024);
    // Checked at run time too: JavaScript callers and configuration files are not type-checked.
    const compression: unknown = options.compression ?? 'none';
    if (!isCompressionName(compression)) {
      throw new StrataError('INVALID_ARGUMENT', `compression must be one of ${COMPRESSION_NAMES.map((n) => `'${n}'`).join(', ')}, got ${String(compression)}`);
    }
    this.compressionName = compression;
    this.createdAt = options.createdAt ?? Date.now();
    this.compression = compressionType(compression);
    this.fileNumber = checkInt('fileNumber', options.fileNumber ?? 0, 0, Number.MAX_SAFE_INTEGER);
    const trigger = options.deletionTrigger;
    if (trigger !== undefined) {
      const windowSize = checkInt('deletionTrigger.windowSize', trigger.windowSize, 1, 1 << 20);
      this.windowTrigger = checkInt('deletionTrigger.deletions', trigger.deletions, 1, windowSize);
      this.window = new Uint8Array(windowSize);
    } else {
      this.windowTrigger = 0;
      this.window = undefined;
    }
    try {
      this.fd = this.fs.openSync(path, 'w');
    } catch (err) {
      throw ioError(path, undefined, 'create', err);
    }
    const buffers = (this.buffers = takeBuilderBuffers(this.restartInterval, this.bloomBitsPerKey, WRITE_BUFFER + 64 * 1024, this.blockSize));
    this.out = buffers.out;
    this.dataBlock = buffers.dataBlock;
    this.indexBlock = buffers.indexBlock;
    this.filter = buffers.filter;
  }

  /** Point entries added so far. */
  get entryCount(): number {
    return this.entries;
  }

  get tombstoneCount(): number {
    return this.tombstones.length;
  }

  /** Bytes of the file so far, including the data block being filled (excludes the index and meta blocks still to come). */
  get estimatedSize(): number {
    return this.flushed + this.out.length + (this.dataBlock.empty ? 0 : this.dataBlock.currentSize);
  }

  /** Data blocks tried with the codec so far, and those stored raw untried (compression-skip.ts). */
  get compressionAttempts(): number {
    return this.skip.attempts;
  }

  get compressionSkipped(): number {
    return this.skip.skipped;
  }

  /** The key of the last entry added (undefined before the first): a copy. */
  get lastUserKey(): Uint8Array | undefined {
    return this.lastKey === undefined ? undefined : new Uint8Array(this.lastKey);
  }

  /** Adds one version. Entries must come in strictly increasing (key ASC, seq DESC) order. */
  add(entry: PointEntry): void {
    this.checkOpen();
    const { key, seq, kind, value } = entry;
    if (!(key instanceof Uint8Array) || !(value instanceof Uint8Array)) {
      throw invalid(this.path, 'entry key and value must be Uint8Arrays');
    }
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalid(this.path, `entry seq must be a safe integer ≥ 0, got ${seq}`);
    const kindNumber: number = kind;
    if (kindNumber !== EntryKind.Put && kindNumber !== EntryKind.Delete) throw invalid(this.path, `entry kind must be Put or Delete, got ${String(kind)}`);
    if (kind === EntryKind.Delete && value.length !== 0) throw invalid(this.path, 'a Delete entry must have an empty value');
    const last = this.lastKey;
    let newUserKey = true;
    // The order check's common prefix is also the block's prefix compression: computed once.
    let shared = -1;
    if (last !== undefined) {
      const n = last.length < key.length ? last.length : key.length;
      shared = this.keyWords.commonPrefix(last, this.lastKeyCopy.words, key);
      const c = shared < n ? last[shared]! - key[shared]! : last.length - key.length;
      if (c > 0 || (c === 0 && seq >= this.lastSeq)) {
        throw invalid(
          this.path,
          `entries must be in strictly increasing (key ASC, seq DESC) order: got seq ${seq} after seq ${this.lastSeq}${c === 0 ? ' of the same key' : ' of a larger key'}`,
        );
      }
      newUserKey = c !== 0;
    }
    if (this.pendingHandle !== undefined) this.addIndexEntry(separator(last!, this.lastSeq, key));
    // Every partition's filter holds every user key with an entry in the partition's blocks
    // (format.ts, "Filter partition"): the first key of a partition too, new or not.
    if (newUserKey || this.partitionStarts) this.filter?.addKey(key);
    this.partitionStarts = false;
    this.dataBlock.add(key, seq, kind, value, shared);
    // A copy: the caller's key may be a view into a large buffer (a memtable arena chunk, a
    // read block) that the table's metadata would otherwise keep alive for the table's life.
    this.firstKey ??= new Uint8Array(key);
    this.lastKey = this.lastKeyCopy.set(key, shared < 0 ? 0 : shared);
    this.lastSeq = seq;
    const window = this.window;
    if (window !== undefined) {
      const slot = this.windowAt;
      this.windowAt = slot + 1 === window.length ? 0 : slot + 1;
      const d = kind === EntryKind.Delete ? 1 : 0;
      this.windowDeletes += d - window[slot]!;
      window[slot] = d;
      if (this.windowDeletes >= this.windowTrigger) this.marked = true;
    }
    this.entries++;
    if (kind === EntryKind.Delete) this.deletes++;
    this.rawKeyBytes += key.length;
    this.rawValueBytes += value.length;
    if (seq < this.minSeq) this.minSeq = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (this.dataBlock.currentSize >= this.blockSize) this.flushDataBlock();
  }

  /** Adds a range tombstone. Tombstones must come in strictly increasing (start ASC, seq DESC) order. */
  addTombstone(t: RangeTombstone): void {
    this.checkOpen();
    if (!(t.start instanceof Uint8Array) || !(t.end instanceof Uint8Array)) throw invalid(this.path, 'tombstone bounds must be Uint8Arrays');
    if (!Number.isSafeInteger(t.seq) || t.seq < 0) throw invalid(this.path, `tombstone seq must be a safe integer ≥ 0, got ${t.seq}`);
    if (compareKeys(t.start, t.end) >= 0) throw invalid(this.path, 'a range tombstone needs start < end');
    const prev = this.tombstones.at(-1);
    if (prev !== undefined && compareTombstones(prev, t) >= 0) {
      throw invalid(this.path, `tombstones must be in strictly increasing (start ASC, seq DESC) order: got seq ${t.seq} after seq ${prev.seq}`);
    }
    this.tombstones.push({ start: t.start, end: t.end, seq: t.seq });
    if (t.seq < this.minSeq) this.minSeq = t.seq;
    if (t.seq > this.maxSeq) this.maxSeq = t.seq;
  }

  /**
   * Writes the remaining blocks and the footer, fsyncs and closes the file. The caller fsyncs
   * the directory before anything refers to the table. On failure the file is left for
   * `abandon()` to remove.
   */
  async finish(): Promise<TableMeta> {
    this.checkOpen();
    if (this.entries === 0 && this.tombstones.length === 0) {
      throw invalid(this.path, 'cannot finish a table with no entries and no tombstones; abandon() it instead');
    }
    this.state = 'finishing';
    try {
      if (!this.dataBlock.empty) this.flushDataBlock();
      if (this.pendingHandle !== undefined) this.addIndexEntry(successor(this.lastKey!, this.lastSeq));
      if (!this.indexBlock.empty) this.closePartition();

      // The partitions, each filter before its index, then the top-level index's entries.
      const top = new BlockBuilder(1, 256);
      let filterBytes = 0;
      let indexBytes = 0;
      for (const part of this.partitions) {
        const filter = part.filter === undefined ? undefined : this.writeBlock(part.filter, CompressionType.None);
        const index = this.writeBlock(part.index, CompressionType.None);
        filterBytes += filter?.size ?? 0;
        indexBytes += index.size;
        this.handleBuf.reset();
        encodePartitionEntry({ index, firstBlock: part.firstBlock, filter }, this.handleBuf);
        top.add(part.key, part.seq, EntryKind.Put, this.handleBuf.bytes()); // add copies the value
      }
      this.partitions.length = 0;
      const topContents = top.finish();

      const meta: [string, BlockHandle][] = [];
      const props = this.buildProperties(filterBytes, indexBytes + topContents.length);
      // Raw, whatever the codec: every table open reads this block (a few hundred bytes, which
      // compression hardly shrinks), and a compressed one made each open decompress it, which
      // loaded the codec (lz4's WebAssembly: ~4 MB of RSS) into a reader that met no other
      // compressed block — e.g. any database of incompressible values (compression.ts).
      meta.push([META_PROPERTIES, this.writeBlock(encodeProperties(props), CompressionType.None)]);
      if (this.tombstones.length > 0) {
        const rd = new BlockBuilder(this.restartInterval, 1024);
        for (const t of this.tombstones) rd.add(t.start, t.seq, EntryKind.Put, t.end);
        meta.push([META_RANGE_DEL, this.writeBlock(rd.finish(), this.compression)]);
      }
      meta.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const metaIndex = new BlockBuilder(1, 256);
      for (const [name, h] of meta) {
        this.handleBuf.reset();
        encodeBlockHandle(h, this.handleBuf);
        metaIndex.add(utf8.encode(name), 0, EntryKind.Put, this.handleBuf.bytes());
      }
      const metaIndexHandle = this.writeBlock(metaIndex.finish(), CompressionType.None);
      const indexHandle = this.writeBlock(topContents, CompressionType.None);
      this.out.putBytes(encodeFooter({ metaIndex: metaIndexHandle, index: indexHandle }));
      this.flushOutput();
      const fileSize = this.flushed;
      // Every byte is written: the buffers can serve the next table while this one is synced.
      this.dropBuffers(true);
      try {
        await this.fs.fsync(this.fd);
      } catch (err) {
        throw ioError(this.path, undefined, 'fsync', err);
      }
      this.closeFd();
      this.state = 'finished';
      this.dropBuffers();
      return {
        path: this.path,
        fileNumber: this.fileNumber,
        fileSize,
        smallestKey: props.smallestKey,
        largestKey: props.largestKey,
        largestExclusive: props.largestExclusive,
        minSeq: props.minSeq,
        maxSeq: props.maxSeq,
        entryCount: props.entryCount,
        deleteCount: props.deleteCount,
        tombstoneCount: props.tombstoneCount,
        markedForCompaction: props.markedForCompaction,
        rawKeyBytes: props.rawKeyBytes,
        rawValueBytes: props.rawValueBytes,
        properties: props,
      };
    } catch (err) {
      this.state = 'failed';
      this.closeFd();
      this.dropBuffers();
      throw err;
    }
  }

  /**
   * Lets the write buffer (~320 KiB), the blocks and the filter's key hashes go: a builder is
   * often kept after its table is done — a compaction keeps every output's builder until the
   * job ends, to abandon them all if it fails — and a long compaction writes hundreds of
   * tables (a 10M-key fill's compaction worker held ~78 MB of such buffers). `recycle`: to the
   * next builder (builder-buffers.ts), once every byte written through them is in the file;
   * after a failure they are simply dropped. Idempotent.
   */
  private dropBuffers(recycle = false): void {
    const buffers = this.buffers;
    if (buffers === undefined) return;
    this.buffers = undefined;
    this.out = new ByteWriter(0);
    this.dataBlock = new BlockBuilder(1, 0);
    this.indexBlock = new BlockBuilder(1, 0);
    this.filter = undefined;
    this.keyWords.forget();
    if (recycle) giveBuilderBuffers(buffers);
  }

  /** Closes and deletes the file (after a failure, or when the output is not wanted). Idempotent. */
  abandon(): void {
    if (this.state === 'abandoned') return;
    this.state = 'abandoned';
    this.closeFd();
    this.dropBuffers();
    try {
      this.fs.unlinkSync(this.path);
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'ENOENT') throw ioError(this.path, undefined, 'unlink', err);
    }
  }

  private buildProperties(filterBytes: number, indexBytes: number): TableProperties {
    const ts = this.tombstones;
    const firstPoint = this.firstKey;
    // Copies, for the reason given in `add`: the bounds outlive the build in the version set.
    const lastPoint = this.lastKey === undefined ? undefined : new Uint8Array(this.lastKey);
    let smallest: Uint8Array | undefined = firstPoint;
    let largest: Uint8Array | undefined = lastPoint;
    let largestExclusive = false;
    const firstTombstone = ts[0];
    if (firstTombstone !== undefined && (smallest === undefined || compareKeys(firstTombstone.start, smallest) < 0)) {
      smallest = new Uint8Array(firstTombstone.start);
    }
    for (const t of ts) {
      if (largest === undefined || compareKeys(t.end, largest) > 0) {
        largest = t.end;
        largestExclusive = true;
      }
    }
    if (largestExclusive) largest = new Uint8Array(largest!);
    return {
      entryCount: this.entries,
      deleteCount: this.deletes,
      tombstoneCount: ts.length,
      markedForCompaction: this.marked,
      dataBlockCount: this.dataBlocks,
      smallestKey: smallest ?? EMPTY,
      largestKey: largest ?? EMPTY,
      largestExclusive,
      smallestPointKey: firstPoint ?? EMPTY,
      largestPointKey: lastPoint ?? EMPTY,
      minSeq: this.minSeq,
      maxSeq: this.maxSeq,
      rawKeyBytes: this.rawKeyBytes,
      rawValueBytes: this.rawValueBytes,
      dataBytes: this.dataBytes,
      indexBytes,
      filterBytes,
      blockSize: this.blockSize,
      restartInterval: this.restartInterval,
      bloomBitsPerKey: this.bloomBitsPerKey,
      compression: this.compressionName,
      createdAt: this.createdAt,
      creator: '@strata-db/sstable-builder',
      fileNumber: this.fileNumber,
    };
  }

  private flushDataBlock(): void {
    const attempt = this.compression !== CompressionType.None && this.skip.attempt();
    const h = this.writeBlock(this.dataBlock.finish(), attempt ? this.compression : CompressionType.None);
    if (attempt) this.skip.record(this.lastBlockType !== CompressionType.None);
    this.dataBlock.reset();
    this.dataBlocks++;
    this.dataBytes += h.size + 5;
    this.pendingHandle = h;
  }

  private addIndexEntry(sep: { key: Uint8Array; seq: number }): void {
    this.handleBuf.reset();
    encodeBlockHandle(this.pendingHandle!, this.handleBuf);
    this.indexBlock.add(sep.key, sep.seq, EntryKind.Put, this.handleBuf.bytes());
    this.pendingHandle = undefined;
    this.lastSeparator = sep;
    if (this.indexBlock.currentSize >= this.metadataBlockSize) this.closePartition();
  }

  /**
   * Ends the partition being filled after its last data block's index entry (the entry that
   * starts the next data block, if any, has not reached the filter yet): keeps its index and
   * filter contents for `finish`, starts the next partition.
   */
  private closePartition(): void {
    const sep = this.lastSeparator!;
    const filter = this.filter;
    this.partitions.push({
      key: copyPrefix(sep.key, sep.key.length), // the separator may be a caller's key, a view into a large buffer
      seq: sep.seq,
      index: this.indexBlock.finish().slice(),
      filter: filter?.finish(),
      firstBlock: this.partitionFirstBlock,
    });
    this.indexBlock.reset();
    filter?.reset();
    this.partitionFirstBlock = this.dataBlocks;
    this.partitionStarts = true;
  }

  /** Appends one block and its trailer to the write buffer; returns its handle. */
  private writeBlock(contents: Uint8Array, compression: CompressionType): BlockHandle {
    const sealed = sealBlock(contents, compression);
    this.lastBlockType = sealed.trailer[0]!;
    const handle = { offset: this.flushed + this.out.length, size: sealed.payload.length };
    this.out.putBytes(sealed.payload);
    this.out.putBytes(sealed.trailer);
    if (this.out.length >= WRITE_BUFFER) this.flushOutput();
    return handle;
  }

  private flushOutput(): void {
    const bytes = this.out.bytes();
    try {
      writeAll(this.fs, this.fd, bytes, this.flushed, this.path); // a write making no progress is EIO
    } catch (err) {
      this.state = 'failed';
      throw ioError(this.path, this.flushed, 'write', err);
    }
    this.flushed += bytes.length;
    this.out.reset();
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeQuietly(this.fs, fd); // after a failure (or before unlinking): must not hide the error that matters
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new StrataError(this.state === 'failed' ? 'IO_ERROR' : 'NOT_OPEN', `${this.path}: table builder is ${this.state}; start a new one`, {
        file: this.path,
      });
    }
  }
}

/**
 * An index key between the last entry of a block, (a, aSeq), and the first entry of the next,
 * (b, ·): a short user key s with a < s < b (taking seq MAX_SEQ, the first internal key of s),
 * or (a, aSeq) itself when none is shorter — always when a = b, a key whose versions span two
 * blocks.
 */
function separator(a: Uint8Array, aSeq: number, b: Uint8Array): { key: Uint8Array; seq: number } {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  if (i < n) {
    const ai = a[i]!;
    if (ai + 1 < b[i]!) {
      // a[0..i] + (a[i] + 1): above a, below b.
      const s = copyPrefix(a, i + 1);
      s[i] = ai + 1;
      return { key: s, seq: MAX_SEQ };
    }
    // a[i] + 1 = b[i] (e.g. "…3xyz" | "…4"): keep a[i] and bump the first later byte of a that
    // can be bumped — still below b (it differs at i), above a (it is bigger at j).
    for (let j = i + 1; j < a.length - 1; j++) {
      if (a[j]! < 0xff) {
        const s = copyPrefix(a, j + 1);
        s[j] = a[j]! + 1;
        return { key: s, seq: MAX_SEQ };
      }
    }
  }
  // A copy: `a` is the builder's last key, rewritten by the next add; the index keeps this one.
  return { key: copyPrefix(a, a.length), seq: aSeq };
}

/** An index key after the table's last entry (a, aSeq): a short user key s > a, else (a, aSeq). */
function successor(a: Uint8Array, aSeq: number): { key: Uint8Array; seq: number } {
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    if (ai !== 0xff) {
      if (i + 1 === a.length) break; // no shorter key exists
      const s = copyPrefix(a, i + 1);
      s[i] = ai + 1;
      return { key: s, seq: MAX_SEQ };
    }
  }
  return { key: copyPrefix(a, a.length), seq: aSeq };
}

/**
 * A copy of a's first n bytes. Not `a.slice()`: for a Buffer that is a view, and writing into
 * it would change the caller's key.
 */
function copyPrefix(a: Uint8Array, n: number): Uint8Array {
  const s = new Uint8Array(n);
  s.set(a.subarray(0, n));
  return s;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new StrataError('INVALID_ARGUMENT', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

function invalid(file: string, message: string): StrataError {
  return new StrataError('INVALID_ARGUMENT', `${file}: ${message}`, { file });
}
