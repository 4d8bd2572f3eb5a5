/**
 * The tables of one sorted level (L1+) read as one InternalIterator, opening each table only
 * when the cursor reaches it. A compaction of a whole level then merges one child per level
 * instead of one per table, and holds one table's block at a time.
 * Relies on the L1+ invariant: files sorted by key, ranges disjoint, so concatenation is order.
 */
import { compareKeys, type InternalIterator, type PointEntry } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';

export class LevelIterator implements InternalIterator {
  private index = -1;
  private current: InternalIterator | undefined;

  constructor(
    private readonly files: readonly FileMetadata[],
    private readonly open: (file: FileMetadata) => InternalIterator,
  ) {}

  valid(): boolean {
    return this.current !== undefined && this.current.valid();
  }

  entry(): PointEntry {
    return this.current!.entry();
  }

  seekToFirst(): void {
    this.openAt(0)?.seekToFirst();
    this.skipForward();
  }

  seekToLast(): void {
    this.openAt(this.files.length - 1)?.seekToLast();
    this.skipBackward();
  }

  seek(key: Uint8Array): void {
    let i = 0;
    while (i < this.files.length && compareKeys(this.files[i]!.largestKey, key) < 0) i++;
    this.openAt(i)?.seek(key);
    this.skipForward();
  }

  seekForPrev(key: Uint8Array): void {
    let i = this.files.length - 1;
    while (i >= 0 && compareKeys(this.files[i]!.smallestKey, key) > 0) i--;
    this.openAt(i)?.seekForPrev(key);
    this.skipBackward();
  }

  next(): void {
    this.current!.next();
    this.skipForward();
  }

  prev(): void {
    this.current!.prev();
    this.skipBackward();
  }

  /** Positions on file `i` (opening it unless already open); undefined past either end. */
  private openAt(i: number): InternalIterator | undefined {
    if (i < 0 || i >= this.files.length) {
      this.index = i;
      this.current = undefined;
      return undefined;
    }
    if (i !== this.index || this.current === undefined) this.current = this.open(this.files[i]!);
    this.index = i;
    return this.current;
  }

  private skipForward(): void {
    while (this.current !== undefined && !this.current.valid()) {
      this.openAt(this.index + 1)?.seekToFirst();
    }
  }

  private skipBackward(): void {
    while (this.current !== undefined && !this.current.valid()) {
      this.openAt(this.index - 1)?.seekToLast();
    }
  }
}
