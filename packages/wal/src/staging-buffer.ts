/**
 * Bytes framed but not yet written. An append frames its record here the moment it is called —
 * so the caller may reuse its key and value buffers at once, and nothing is allocated per
 * append — and the writer later hands contiguous runs of it to one write(2).
 *
 * Positions are logical: they only grow, so a queued append can remember where its record ends
 * while the buffer is compacted or replaced underneath. Invariant: the bytes in
 * [consumed, end) are exactly the framed records of the queued appends, in queue order.
 */
const INITIAL_CAPACITY = 64 * 1024;

export class StagingBuffer {
  #buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** Logical position of #buf[0]. */
  #base = 0;
  #end = 0;
  #consumed = 0;
  readonly #shrinkAbove: number;
  /** Set while a write off the JS thread reads the staged bytes: they must stay where they are. */
  #pinned = false;

  /** A buffer that grew past `shrinkAbove` bytes (one huge batch) is let go once drained. */
  constructor(shrinkAbove: number) {
    this.#shrinkAbove = Math.max(shrinkAbove, INITIAL_CAPACITY);
  }

  /** Bytes the buffer occupies (staged or not): 64 KiB, more only while one huge batch waits. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Logical end of the staged bytes. */
  get end(): number {
    return this.#end;
  }

  /** Logical position up to which bytes were written out. */
  get consumed(): number {
    return this.#consumed;
  }

  /** The buffer that `allocate`'s index refers to; valid until the next `allocate`. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Extends the staged bytes by `n`; returns the index in `buffer` where the caller fills them. */
  allocate(n: number): number {
    const pending = this.#end - this.#consumed;
    if (this.#end - this.#base + n > this.#buf.length) {
      const from = this.#consumed - this.#base;
      if (pending + n <= this.#buf.length && !this.#pinned) {
        this.#buf.copy(this.#buf, 0, from, from + pending);
      } else {
        // Pinned: the old buffer, untouched, stays with the write that reads it; the copy goes on.
        const grown = Buffer.allocUnsafe(Math.max(pending + n <= this.#buf.length ? this.#buf.length : 2 * this.#buf.length, pending + n));
        this.#buf.copy(grown, 0, from, from + pending);
        this.#buf = grown;
      }
      this.#base = this.#consumed;
    }
    const at = this.#end - this.#base;
    this.#end += n;
    return at;
  }

  /** The staged bytes between two logical positions (a view, valid until the next `allocate`, or `unpin`). */
  view(from: number, to: number): Uint8Array {
    // A plain view, not `Buffer#subarray` (JavaScript in Node: see little-endian.ts).
    const buf = this.#buf;
    return new Uint8Array(buf.buffer, buf.byteOffset + from - this.#base, to - from);
  }

  /**
   * Between `pin` and `unpin`, `allocate` never moves staged bytes within the buffer (it moves
   * them to a new one), so a view taken before stays valid for a write that runs off the JS
   * thread (the thread pool reads it while appends keep framing records).
   */
  pin(): void {
    this.#pinned = true;
  }

  unpin(): void {
    this.#pinned = false;
  }

  /** Marks everything before logical position `to` as written. */
  consume(to: number): void {
    this.#consumed = to;
    if (this.#consumed === this.#end) {
      this.#base = this.#end;
      if (this.#buf.length > this.#shrinkAbove) this.#buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    }
  }

  /** Forgets everything staged (the writer failed; nothing more will be written). */
  discard(): void {
    this.consume(this.#end);
  }
}
