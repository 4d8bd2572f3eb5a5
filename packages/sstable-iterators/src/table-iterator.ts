/**
 * The two-level table iterator: the table's in-memory index picks a data block, a BlockCursor
 * walks it; crossing a block boundary fetches the next (or previous) block through the cache.
 * Yields every version in (key ASC, seq DESC) order within [lower, upper) — lower inclusive,
 * upper exclusive, on user keys.
 *
 * Entries stay valid after the iterator moves: the key is copied, the value is a view into an
 * immutable cached block (never mutate it).
 */
import type { InternalIterator, PointEntry } from '@strata-db/memtable';
import { BlockCursor, compareBytesAt, MAX_SEQ, type Block, type Table } from '@strata-db/sstable-core';
import { notPositioned } from './data-block-iterator.js';

export interface TableIteratorOptions {
  /** Inclusive lower bound on user keys. */
  readonly lower?: Uint8Array;
  /** Exclusive upper bound on user keys. */
  readonly upper?: Uint8Array;
}

export class TableIterator implements InternalIterator {
  private readonly table: Table;
  private readonly lower: Uint8Array | undefined;
  private readonly upper: Uint8Array | undefined;
  private cursor: BlockCursor | undefined;
  /** Index of the block under the cursor. */
  private blockIndex = -1;
  private positioned = false;
  private current: PointEntry | undefined;

  constructor(table: Table, options: TableIteratorOptions = {}) {
    this.table = table;
    this.lower = options.lower;
    this.upper = options.upper;
  }

  valid(): boolean {
    return this.positioned;
  }

  entry(): PointEntry {
    if (!this.positioned) throw notPositioned();
    return (this.current ??= this.cursor!.entry());
  }

  seekToFirst(): void {
    if (this.lower !== undefined) {
      this.seekAtLeast(this.lower, MAX_SEQ);
    } else {
      this.loadForward(0);
    }
    this.clampUpper();
  }

  seekToLast(): void {
    if (this.upper !== undefined) {
      this.seekBefore(this.upper, MAX_SEQ);
    } else {
      this.loadBackward(this.table.blockCount - 1);
    }
    this.clampLower();
  }

  seek(key: Uint8Array): void {
    const lower = this.lower;
    this.seekAtLeast(lower !== undefined && compareBytesAt(key, 0, key.length, lower) < 0 ? lower : key, MAX_SEQ);
    this.clampUpper();
  }

  seekForPrev(key: Uint8Array): void {
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
    const block: Block = this.table.dataBlock(b);
    this.blockIndex = b;
    if (this.cursor === undefined) this.cursor = new BlockCursor(block);
    else this.cursor.reset(block);
    return this.cursor;
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
