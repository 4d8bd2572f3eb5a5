/**
 * An InternalIterator over the entries of one block. The decoding and the restart-point binary
 * search are sstable-core's BlockCursor (the same code Table.get runs); this adds the
 * iterator contract: seekForPrev, and entries that stay valid after the cursor moves.
 *
 * An entry's key is a fresh copy (the cursor's key buffer is reused), its value a view into
 * the block — blocks are immutable, so the view stays valid. Callers must not mutate values.
 */
import type { InternalIterator, PointEntry } from '@strata-db/memtable';
import { StrataError } from '@strata-db/errors';
import { BlockCursor, MAX_SEQ, type Block } from '@strata-db/sstable-core';

export class DataBlockIterator implements InternalIterator {
  private readonly cursor: BlockCursor;
  private current: PointEntry | undefined;

  constructor(block: Block) {
    this.cursor = new BlockCursor(block);
  }

  valid(): boolean {
    return this.cursor.valid();
  }

  entry(): PointEntry {
    if (!this.cursor.valid()) throw notPositioned();
    return (this.current ??= this.cursor.entry());
  }

  seekToFirst(): void {
    this.current = undefined;
    this.cursor.seekToFirst();
  }

  seekToLast(): void {
    this.current = undefined;
    this.cursor.seekToLast();
  }

  seek(key: Uint8Array): void {
    this.current = undefined;
    this.cursor.seek(key, MAX_SEQ);
  }

  seekForPrev(key: Uint8Array): void {
    this.current = undefined;
    // seq −1 sorts after every version of `key`: the entry before it is the last one ≤ key.
    this.cursor.seek(key, -1);
    if (this.cursor.valid()) this.cursor.prev();
    else this.cursor.seekToLast();
  }

  next(): void {
    this.current = undefined;
    this.cursor.next();
  }

  prev(): void {
    this.current = undefined;
    this.cursor.prev();
  }
}

export function notPositioned(): StrataError {
  return new StrataError('INVALID_ARGUMENT', 'iterator is not positioned on an entry: call entry() only while valid()');
}
