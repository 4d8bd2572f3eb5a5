/**
 * One file's bytes as the program sees them (the page cache) and as the disk holds them (what
 * the last completed fsync made durable). Several names may point at one inode — a rename that
 * is not yet durable leaves the old name pointing at it on "disk" and the new one in the cache.
 *
 * Durable content is kept cheaply: while the file has only grown since its last sync, the
 * durable bytes are just a prefix of the live buffer (`shadow === null`); the first write that
 * lands inside that prefix, or a truncation below it, copies the prefix aside first. A WAL that
 * is appended and fdatasynced thousands of times therefore costs no copying at all.
 */

/** An fsync in flight: what it will make durable when (if) it completes. */
export interface PendingSync {
  readonly size: number;
  /** Materialized only if the file was modified below `size` while the sync was in flight. */
  content: Uint8Array | null;
}

let nextInodeId = 1;

export class Inode {
  readonly id = nextInodeId++;
  private data: Uint8Array;
  private length = 0;
  private durableLength = 0;
  private shadow: Uint8Array | null = null;
  private readonly pending = new Set<PendingSync>();

  constructor(initial?: Uint8Array, durable = false) {
    this.data = new Uint8Array(Math.max(64, initial?.length ?? 0));
    if (initial !== undefined) {
      this.data.set(initial);
      this.length = initial.length;
      if (durable) this.durableLength = initial.length;
    }
  }

  get size(): number {
    return this.length;
  }

  /** A copy of the live bytes. */
  content(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  /** A copy of the bytes the last completed sync made durable. */
  durableContent(): Uint8Array {
    return this.shadow !== null ? this.shadow.slice() : this.data.slice(0, this.durableLength);
  }

  /** How many durable bytes there are; the cut-back point of a power loss. */
  get durableSize(): number {
    return this.shadow !== null ? this.shadow.length : this.durableLength;
  }

  /** Live bytes from `from` on, the part a power cut may keep partly or turn into garbage. */
  unsyncedTail(from: number): Uint8Array {
    return from >= this.length ? new Uint8Array(0) : this.data.slice(from, this.length);
  }

  read(buf: Uint8Array, off: number, len: number, position: number): number {
    if (position >= this.length) return 0;
    const n = Math.min(len, this.length - position);
    buf.set(this.data.subarray(position, position + n), off);
    return n;
  }

  write(src: Uint8Array, position: number): void {
    const end = position + src.length;
    this.beforeModify(Math.min(position, this.length));
    this.ensureCapacity(end);
    // A write past the end leaves a hole that reads as zeros, as on a real file system.
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(src, position);
    if (end > this.length) this.length = end;
  }

  truncate(len: number): void {
    if (len < this.length) {
      this.beforeModify(len);
      this.length = len;
    } else if (len > this.length) {
      this.ensureCapacity(len);
      this.data.fill(0, this.length, len);
      this.length = len;
    }
  }

  /** Replaces live and durable content at once: a disk edited behind the program's back. */
  replaceDurably(content: Uint8Array): void {
    this.data = new Uint8Array(Math.max(64, content.length));
    this.data.set(content);
    this.length = content.length;
    this.durableLength = content.length;
    this.shadow = null;
    for (const p of this.pending) p.content ??= content.slice(0, p.size);
  }

  beginSync(): PendingSync {
    const p: PendingSync = { size: this.length, content: null };
    this.pending.add(p);
    return p;
  }

  completeSync(p: PendingSync): void {
    if (!this.pending.delete(p)) return;
    if (p.content !== null) {
      this.shadow = p.content;
    } else {
      this.shadow = null;
      this.durableLength = p.size;
    }
  }

  /** Drops a sync that failed or was cut off by a power loss: it made nothing durable. */
  abandonSync(p: PendingSync): void {
    this.pending.delete(p);
  }

  /** Copies aside whatever durable or in-flight prefix the coming modification at `from` would touch. */
  private beforeModify(from: number): void {
    if (this.shadow === null && from < this.durableLength) {
      this.shadow = this.data.slice(0, this.durableLength);
    }
    for (const p of this.pending) {
      if (p.content === null && from < p.size) p.content = this.data.slice(0, p.size);
    }
  }

  private ensureCapacity(n: number): void {
    if (n <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  /** A deep copy (live, durable and nothing in flight), for cloning a whole file system. */
  copy(): Inode {
    const c = new Inode(this.content());
    c.durableLength = Math.min(this.durableLength, c.length);
    if (this.shadow !== null) c.shadow = this.shadow.slice();
    return c;
  }
}
