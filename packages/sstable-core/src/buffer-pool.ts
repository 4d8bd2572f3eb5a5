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
 *
 * Why every load should find a free buffer (issue 14, session 29): on the main thread each miss
 * here is a malloc of a buffer that lives as long as its partition or block stays cached, made
 * among the short-lived 64 KiB slabs a scan's copies are carved from (engine's keys.ts). glibc
 * places it in a hole one of those slabs left, or at the top of its heap; the hole is then too
 * small for the next slab, the top cannot be given back, and the heap grows by free space it
 * keeps (a suspect for the 100M scan's +49 MB, session 28; a 30M trace found the scan's index
 * partitions, ~4k mallocs, at the heap's top among the slabs: docs/performance/session-29.md). So two
 * rules keep the free list serving what is loaded now:
 *   - `slackFraction`: a pool whose items vary in size (index and filter partitions: ~5–10
 *     KiB, spread over dozens of classes) may take a buffer up to 1/slackFraction larger than
 *     it needs, not just `MAX_SLACK_CLASSES` classes — a partition is charged its whole buffer.
 *   - A full free list makes room for what is given back now by dropping from its largest pile
 *     (the class least asked for: piles shrink as they are taken), instead of refusing it: when
 *     a scan loads index partitions and evicts the filters the gets loaded, a list full of
 *     filter-sized buffers used to refuse every index partition's, so each later load missed.
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
  /** Free buffers dropped to make room for ones given back later (stats and tests). */
  dropped = 0;

  /**
   * `slackFraction`: a request of class c may take a free buffer up to max(MAX_SLACK_CLASSES,
   * ⌊c / slackFraction⌋) classes larger (default: MAX_SLACK_CLASSES only).
   */
  constructor(
    private readonly bufferOf: (item: T) => Uint8Array,
    private readonly wrap: (buffer: Uint8Array) => T,
    private readonly slackFraction = Infinity,
  ) {}

  /** A pool of plain buffers. */
  static ofBytes(slackFraction = Infinity): BufferPool<Uint8Array> {
    return new BufferPool<Uint8Array>(
      (b) => b,
      (b) => b,
      slackFraction,
    );
  }

  /**
   * An item whose buffer (a whole ArrayBuffer, offset 0, not zeroed) holds at least `length`
   * bytes: a free one of a fitting size class, else a new one of a whole class.
   */
  take(length: number): T {
    const c = Math.ceil(length / BUFFER_CLASS);
    if (this.freeBytes > 0) {
      const slack = Math.max(MAX_SLACK_CLASSES, Math.floor(c / this.slackFraction));
      for (let k = c; k <= c + slack; k++) {
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
   * Takes back an item nobody will read again, if its buffer is one this pool allocated (whole);
   * anything else is left to the collector. A full free list makes room by dropping buffers
   * from its largest pile (see the top of the file). True if kept.
   */
  give(item: T): boolean {
    const buf = this.bufferOf(item);
    const size = buf.buffer.byteLength;
    if (!this.allocated.has(buf.buffer) || buf.byteOffset !== 0 || buf.byteLength !== size || size > MAX_FREE_BYTES) return false;
    if (this.freeBytes + size > MAX_FREE_BYTES) this.dropFromLargestPile(size);
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

  /**
   * Drops free buffers, oldest first from the pile holding the most bytes, until `incoming` more
   * fit. Only when the list is full: a scan over the classes (tens), not per take.
   */
  private dropFromLargestPile(incoming: number): void {
    while (this.freeBytes + incoming > MAX_FREE_BYTES) {
      let largest: T[] | undefined;
      let largestClass = 0;
      for (const [c, list] of this.free) {
        if (list.length > 0 && (largest === undefined || c * list.length > largestClass * largest.length)) {
          largest = list;
          largestClass = c;
        }
      }
      if (largest === undefined) return;
      largest.shift();
      this.freeBytes -= largestClass * BUFFER_CLASS;
      this.dropped++;
    }
  }

  /** Bytes on the free list (not charged to the owner's capacity; ≤ 1 MiB). */
  get freeBufferBytes(): number {
    return this.freeBytes;
  }
}
