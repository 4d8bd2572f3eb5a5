/**
 * The two-level table iterator: the table's in-memory index picks a data block, a BlockCursor
 * walks it; crossing a block boundary fetches the next (or previous) block through the cache.
 * Yields every version in (key ASC, seq DESC) order within [lower, upper) — lower inclusive,
 * upper exclusive, on user keys.
 *
 * Entries stay valid after the iterator moves: the key is copied, the value is a view into an
 * immutable cached block (never mutate it).
 *
 * Readahead: once the iterator has loaded READAHEAD_AFTER neighbouring blocks in a row in one
 * direction (a scan, not seeks), a block that is not in the block cache is read together with
 * the blocks that follow it in that direction, ONE positioned read for the run: READAHEAD_MIN
 * bytes at first, doubling per run up to READAHEAD_MAX (RocksDB's auto-readahead). Each block of
 * the run is checksum-verified when the iterator reaches it. Run blocks are not inserted into the
 * block cache (a long scan would push out what point reads keep hot — LevelDB's fill_cache
 * false for scans); blocks the cache already holds are taken from it. A seek ends the streak.
 * Each run is read into a fresh buffer, or into a recycled one (`runBuffers`, run-buffers.ts:
 * values then live only until the iterator moves); with `readahead: false` blocks are read one
 * at a time (a file layer underneath that reads ahead itself: compaction's), each into a fresh
 * buffer or, with `blockRing`, into a few recycled ones (block-ring.ts: values then live for a
 * bounded number of moves).
 */
import { EntryKind, type InternalIterator, type PointEntry } from '@strata-db/memtable';
import { BlockCursor, compareBytesAt, MAX_SEQ, type Block, type Table } from '@strata-db/sstable-core';
import { BlockRing } from './block-ring.js';
import { notPositioned } from './data-block-iterator.js';
import { READAHEAD_MAX, type RunBuffers } from './run-buffers.js';

const EMPTY = new Uint8Array(0);

/** Neighbouring block loads in a row before reading ahead. */
const READAHEAD_AFTER = 3;
const READAHEAD_MIN = 32 * 1024;

export interface TableIteratorOptions {
  /** Inclusive lower bound on user keys. */
  readonly lower?: Uint8Array;
  /** Exclusive upper bound on user keys. */
  readonly upper?: Uint8Array;
  /**
   * Read scans in runs (default true). False: one block per read, for a file layer that reads
   * ahead itself (compaction's readahead.ts: a run would copy its window into a second buffer).
   */
  readonly readahead?: boolean;
  /**
   * Read runs into these recycled buffers (run-buffers.ts): an entry's value is then valid only
   * until this iterator moves. Default: a fresh buffer per run, values valid forever.
   */
  readonly runBuffers?: RunBuffers;
  /**
   * With `readahead: false`: read blocks into this many recycled buffers (block-ring.ts) instead
   * of a fresh one each. An entry's value is then valid only for `blockRing - 1` more moves of
   * this iterator (`valueLifetime`). Default: a fresh buffer per block, values valid forever.
   */
  readonly blockRing?: number;
  /**
   * `entry()` returns one object per iterator, rewritten in place on every move: the entry, its
   * key and its value are valid only until this iterator moves (an exception to PointEntry's
   * "never mutated"). For a consumer that copies what it keeps before moving on (a forward user
   * scan): a step then allocates only the value's view, not an entry object and a key copy (an
   * on-heap array and its buffer, ~200 of the ~670 bytes a scan step allocated).
   */
  readonly reuseEntry?: boolean;
}

/** Bytes of each slot of a block ring: a 4 KiB block with its last entry and trailer fits; a larger block gets a fresh buffer. */
const RING_SLOT_BYTES = 8 * 1024;

export class TableIterator implements InternalIterator {
  private readonly table: Table;
  private readonly lower: Uint8Array | undefined;
  private readonly upper: Uint8Array | undefined;
  private cursor: BlockCursor | undefined;
  /** Index of the block under the cursor. */
  private blockIndex = -1;
  private positioned = false;
  private current: PointEntry | undefined;
  /** Neighbouring loads in a row: > 0 forward, < 0 backward. */
  private streak = 0;
  /** The readahead run: raw bytes of blocks [runFirst, runEnd). */
  private run: Uint8Array | undefined;
  private runFirst = 0;
  private runEnd = 0;
  private runBytes = READAHEAD_MIN;
  private readonly readahead: boolean;
  private readonly runBuffers: RunBuffers | undefined;
  /** The buffer taken from `runBuffers` that `run` is the front of. */
  private runBuffer: Uint8Array | undefined;
  private readonly ring: BlockRing | undefined;
  /** Moves so far (every seek, next and prev): the clock of the ring's value lifetime. */
  private moves = 0;
  /** With `reuseEntry`: the entry `entry()` rewrites and returns. */
  private readonly reused: ReusedEntry | undefined;
  /** The cursor key buffer `reused.key` is a view of (the cursor replaces it to grow). */
  private reusedKeyOf: Uint8Array | undefined;

  constructor(table: Table, options: TableIteratorOptions = {}) {
    this.table = table;
    this.lower = options.lower;
    this.upper = options.upper;
    this.readahead = options.readahead ?? true;
    this.runBuffers = options.runBuffers;
    this.ring = options.blockRing === undefined || this.readahead ? undefined : new BlockRing(options.blockRing, RING_SLOT_BYTES);
    this.reused = options.reuseEntry === true ? new ReusedEntry() : undefined;
  }

  /** Moves of this iterator an entry's value stays valid for (Infinity unless `blockRing`). */
  get valueLifetime(): number {
    return this.ring === undefined ? Infinity : this.ring.validMoves;
  }

  valid(): boolean {
    return this.positioned;
  }

  entry(): PointEntry {
    if (!this.positioned) throw notPositioned();
    return (this.current ??= this.reused === undefined ? this.cursor!.entry() : this.rewrite(this.reused));
  }

  /** `e` rewritten to the cursor's entry; its key a view of the cursor's key buffer, kept while the length holds. */
  private rewrite(e: ReusedEntry): PointEntry {
    const cursor = this.cursor!;
    const kb = cursor.keyBuf;
    const n = cursor.keyLength;
    if (e.key.length !== n || this.reusedKeyOf !== kb) {
      e.key = kb.subarray(0, n);
      this.reusedKeyOf = kb;
    }
    e.seq = cursor.seq;
    e.kind = cursor.kind;
    e.value = cursor.value();
    return e;
  }

  seekToFirst(): void {
    this.moves++;
    if (this.lower !== undefined) {
      this.seekAtLeast(this.lower, MAX_SEQ);
    } else {
      this.loadForward(0);
    }
    this.clampUpper();
  }

  seekToLast(): void {
    this.moves++;
    if (this.upper !== undefined) {
      this.seekBefore(this.upper, MAX_SEQ);
    } else {
      this.loadBackward(this.table.blockCount - 1);
    }
    this.clampLower();
  }

  seek(key: Uint8Array): void {
    this.moves++;
    const lower = this.lower;
    this.seekAtLeast(lower !== undefined && compareBytesAt(key, 0, key.length, lower) < 0 ? lower : key, MAX_SEQ);
    this.clampUpper();
  }

  seekForPrev(key: Uint8Array): void {
    this.moves++;
    const upper = this.upper;
    if (upper !== undefined && compareBytesAt(key, 0, key.length, upper) >= 0) {
      this.seekBefore(upper, MAX_SEQ);
    } else {
      // seq −1 sorts after every version of `key`.
      this.seekBefore(key, -1);
    }
    this.clampLower();
  }

  next(): void {
    if (!this.positioned) throw notPositioned();
    this.moves++;
    this.current = undefined;
    // Unpositioned until the move succeeds: a damaged block must not leave a stale position.
    this.positioned = false;
    const cursor = this.cursor!;
    cursor.next();
    if (cursor.valid()) this.positioned = true;
    else this.loadForward(this.blockIndex + 1);
    this.clampUpper();
  }

  prev(): void {
    if (!this.positioned) throw notPositioned();
    this.moves++;
    this.current = undefined;
    this.positioned = false;
    const cursor = this.cursor!;
    cursor.prev();
    if (cursor.valid()) this.positioned = true;
    else this.loadBackward(this.blockIndex - 1);
    this.clampLower();
  }

  /** First entry ≥ (key, seq), ignoring bounds. */
  private seekAtLeast(key: Uint8Array, seq: number): void {
    const b = this.table.findBlock(key, seq);
    if (b >= this.table.blockCount) {
      this.invalidate();
      return;
    }
    const cursor = this.load(b);
    cursor.seek(key, seq);
    // Off the end of the block: the next block's first entry is the answer.
    if (!cursor.valid()) this.loadForward(b + 1);
    else this.positioned = true;
  }

  /** Last entry < (key, seq), ignoring bounds. */
  private seekBefore(key: Uint8Array, seq: number): void {
    this.seekAtLeast(key, seq);
    if (this.positioned) this.prev();
    else this.loadBackward(this.table.blockCount - 1);
  }

  /** Positions at the first entry of block `b` or of the first non-empty block after it. */
  private loadForward(b: number): void {
    for (; b < this.table.blockCount; b++) {
      const cursor = this.load(b);
      cursor.seekToFirst();
      if (cursor.valid()) {
        this.positioned = true;
        return;
      }
    }
    this.invalidate();
    this.giveRunBack();
  }

  /** Positions at the last entry of block `b` or of the first non-empty block before it. */
  private loadBackward(b: number): void {
    for (; b >= 0; b--) {
      const cursor = this.load(b);
      cursor.seekToLast();
      if (cursor.valid()) {
        this.positioned = true;
        return;
      }
    }
    this.invalidate();
  }

  private load(b: number): BlockCursor {
    // Unpositioned until the block is read: a read error must not leave a stale position.
    this.positioned = false;
    this.current = undefined;
    const block: Block = this.block(b);
    this.blockIndex = b;
    if (this.cursor === undefined) this.cursor = new BlockCursor(block);
    else this.cursor.reset(block);
    return this.cursor;
  }

  /**
   * Off the table's end: the recycled run buffer goes back for the next table's iterator (a level
   * iterator moves on now). Forgotten here too, as it is someone else's from now on.
   */
  private giveRunBack(): void {
    if (this.runBuffer === undefined) return;
    this.runBuffers!.give(this.runBuffer);
    this.runBuffer = undefined;
    this.run = undefined;
    this.runFirst = this.runEnd = 0;
  }

  /** Block `b`: from the run, the cache, a new run (while scanning) or the table. */
  private block(b: number): Block {
    const table = this.table;
    const run = this.run;
    const last = this.blockIndex;
    if (b === last + 1) this.streak = this.streak > 0 ? this.streak + 1 : 1;
    else if (b === last - 1) this.streak = this.streak < 0 ? this.streak - 1 : -1;
    else this.streak = 0;
    if (run !== undefined && b >= this.runFirst && b < this.runEnd) return table.runBlock(run, this.runFirst, b);
    const ring = this.ring;
    if (ring !== undefined) {
      const into = ring.take(this.moves, table.blockFileSize(b));
      return into === undefined ? table.dataBlock(b) : table.runBlock(table.readBlockRun(b, b + 1, into), b, b);
    }
    if (!this.readahead || (this.streak < READAHEAD_AFTER && this.streak > -READAHEAD_AFTER)) return table.dataBlock(b);
    const cached = table.dataBlockIfCached(b);
    if (cached !== undefined) return cached;
    // A run from b onwards (forward) or ending at b (backward), at least one block.
    let first = b;
    let end = b + 1;
    let bytes = table.blockFileSize(b);
    const limit = this.runBytes;
    if (this.streak > 0) {
      while (end < table.blockCount && bytes + table.blockFileSize(end) <= limit) bytes += table.blockFileSize(end++);
    } else {
      while (first > 0 && bytes + table.blockFileSize(first - 1) <= limit) bytes += table.blockFileSize(--first);
    }
    this.run = undefined; // unset until the read succeeds
    // Into the recycled buffer when the run fits: what this iterator handed out from its last run is overwritten.
    const pool = this.runBuffers;
    const into = pool !== undefined && bytes <= pool.bufferBytes ? (this.runBuffer ??= pool.take()) : undefined;
    const raw = table.readBlockRun(first, end, into);
    this.run = raw;
    this.runFirst = first;
    this.runEnd = end;
    if (this.runBytes < READAHEAD_MAX) this.runBytes *= 2;
    return table.runBlock(raw, first, b);
  }

  private invalidate(): void {
    this.positioned = false;
    this.current = undefined;
  }

  private clampUpper(): void {
    if (this.positioned && this.upper !== undefined && this.cursor!.compareKey(this.upper) >= 0) this.invalidate();
  }

  private clampLower(): void {
    if (this.positioned && this.lower !== undefined && this.cursor!.compareKey(this.lower) < 0) this.invalidate();
  }
}

/**
 * The entry a `reuseEntry` iterator rewrites: made by a constructor (no allocation site V8 could
 * pretenure, as the engine's scan entries), mutable where PointEntry is read-only.
 */
class ReusedEntry implements PointEntry {
  key: Uint8Array = EMPTY;
  seq = 0;
  kind: EntryKind = EntryKind.Put;
  value: Uint8Array = EMPTY;
}
