/**
 * Buffers the readers allocate and keep: one allocation rule (`allocUnsharedBytes`), and one
 * size-class free list (`BufferPool`) that the block cache and the partition cache recycle
 * evicted buffers through.
 *
 * The pool's one ownership rule: it takes back only buffers it allocated itself. A buffer
 * handed to `give` that it did not allocate — a decompressed block's (the decoder's own, maybe a
 * slice of Buffer's shared 8 KiB pool), a compaction ring's, a caller's — is ignored, because
 * handing it out again would overwrite bytes that whoever owns it still reads. Ownership is a
 * WeakSet of the ArrayBuffers allocated, so the check costs one lookup per recycle and the set
 * never keeps a dropped buffer alive.
 *
 * Size classes: buffers are allocated in multiples of `BUFFER_CLASS` bytes, so that an evicted
 * one fits the next thing read; a request takes a free buffer up to `MAX_SLACK_CLASSES` classes
 * larger than it needs. Why 64-byte classes: data blocks are cut just past `blockSize`, so with
 * the default 4 KiB their raw reads cluster just above it (4,132–4,144 bytes for 99% of the
 * blocks of the 1M-key dbbench database). 512-byte classes gave each a 4,608-byte buffer, 11% of
 * the block cache spent on slack; 64-byte classes give 4,160, and the cache holds ~10% more
 * blocks. The slack allowance keeps recycling working when what was evicted and what is read
 * next differ in class. The free list holds at most `MAX_FREE_BYTES`, outside the owner's
 * capacity.
 */

/**
 * A new buffer of `bytes` bytes over an ArrayBuffer of its own, not zero-filled (every user
 * overwrites what it reads, or fails). Why not `Buffer.allocUnsafe`: below 4 KiB that returns a
 * slice of Node's shared 8 KiB pool, so a buffer kept (a cached block, a partition) or recycled
 * would pin the whole slab and every other slice's bytes with it; `allocUnsafeSlow` memory is
 * not a slice of that pool, so a kept or recycled buffer pins nothing else. Why not
 * `new Uint8Array(n)`: zero-filling 4 KiB per cache miss was ~10% of an uncached getSync.
 */
export function allocUnsharedBytes(bytes: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
}

/** Buffers are allocated in multiples of this many bytes (so that evicted ones fit new reads). */
export const BUFFER_CLASS = 64;
/** A request may take a free buffer this many classes larger than its own (≤ 512 bytes of slack). */
const MAX_SLACK_CLASSES = 8;
/** Most bytes kept on the free list. */
const MAX_FREE_BYTES = 1024 * 1024;

/**
 * A free list by size class of things over a buffer the pool allocated (`T`: the buffer itself,
 * or an object kept with it — the block cache keeps a Block over each, so that a recycled read
 * allocates no object either). `bufferOf` names an item's buffer, `wrap` makes an item over a
 * new one.
 */
export class BufferPool<T> {
  /** Free items by size class (class c: a buffer of c·BUFFER_CLASS bytes). */
  private readonly free = new Map<number, T[]>();
  private freeBytes = 0;
  /** The ArrayBuffers this pool allocated: the only ones `give` takes back. */
  private readonly allocated = new WeakSet<ArrayBufferLike>();
  /** Items handed out by `take` that came from the free list (stats and tests). */
  recycled = 0;

  constructor(
    private readonly bufferOf: (item: T) => Uint8Array,
    private readonly wrap: (buffer: Uint8Array) => T,
  ) {}

  /** A pool of plain buffers. */
  static ofBytes(): BufferPool<Uint8Array> {
    return new BufferPool<Uint8Array>(
      (b) => b,
      (b) => b,
    );
  }

  /**
   * An item whose buffer (a whole ArrayBuffer, offset 0, not zeroed) holds at least `length`
   * bytes: a free one of a fitting size class, else a new one of a whole class.
   */
  take(length: number): T {
    const c = Math.ceil(length / BUFFER_CLASS);
    if (this.freeBytes > 0) {
      for (let k = c; k <= c + MAX_SLACK_CLASSES; k++) {
        const item = this.free.get(k)?.pop();
        if (item !== undefined) {
          this.freeBytes -= k * BUFFER_CLASS;
          this.recycled++;
          return item;
        }
      }
    }
    const buf = allocUnsharedBytes(c * BUFFER_CLASS);
    this.allocated.add(buf.buffer);
    return this.wrap(buf);
  }

  /**
   * Takes back an item nobody will read again, if its buffer is one this pool allocated (whole)
   * and the free list has room; anything else is left to the collector. True if kept.
   */
  give(item: T): boolean {
    const buf = this.bufferOf(item);
    const size = buf.buffer.byteLength;
    if (!this.allocated.has(buf.buffer) || buf.byteOffset !== 0 || buf.byteLength !== size || this.freeBytes + size > MAX_FREE_BYTES) return false;
    const c = size / BUFFER_CLASS;
    let list = this.free.get(c);
    if (list === undefined) {
      list = [];
      this.free.set(c, list);
    }
    list.push(item);
    this.freeBytes += size;
    return true;
  }

  /** Bytes on the free list (not charged to the owner's capacity; ≤ 1 MiB). */
  get freeBufferBytes(): number {
    return this.freeBytes;
  }
}
