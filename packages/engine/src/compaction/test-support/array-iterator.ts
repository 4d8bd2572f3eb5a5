import { compareEntries, compareKeys, type InternalIterator, type PointEntry } from '@strata-db/memtable';

/** Every version `it` yields, from its first. For tests. */
export function allEntries(it: InternalIterator): PointEntry[] {
  const out: PointEntry[] = [];
  it.seekToFirst();
  while (it.valid()) {
    out.push(it.entry());
    it.next();
  }
  return out;
}

/** An InternalIterator over an array of versions (sorted here). For tests. */
export class ArrayIterator implements InternalIterator {
  private readonly items: PointEntry[];
  private i = -1;
  constructor(items: Iterable<PointEntry>) {
    this.items = [...items].sort(compareEntries);
  }
  valid(): boolean {
    return this.i >= 0 && this.i < this.items.length;
  }
  entry(): PointEntry {
    return this.items[this.i]!;
  }
  seekToFirst(): void {
    this.i = 0;
  }
  seekToLast(): void {
    this.i = this.items.length - 1;
  }
  seek(key: Uint8Array): void {
    this.i = this.items.findIndex((e) => compareKeys(e.key, key) >= 0);
    if (this.i < 0) this.i = this.items.length;
  }
  seekForPrev(key: Uint8Array): void {
    let j = this.items.length - 1;
    while (j >= 0 && compareKeys(this.items[j]!.key, key) > 0) j--;
    this.i = j;
  }
  next(): void {
    this.i++;
  }
  prev(): void {
    this.i--;
  }
}
