/**
 * A copy of one key, kept across calls in a buffer of its own and rewritten in place: what a
 * consumer of entries that are valid only until their source moves (compaction's inputs,
 * `reuseEntry`) keeps of the last key it saw — the collapse (the key being collapsed) and the
 * table builder (the order check's and the prefix compression's last key; compaction's output
 * writer reads a table's last key from the builder at the cut instead of keeping a third
 * copy). One buffer for the consumer's life instead of a copy per key: in a
 * compaction of random keys that is an allocation per version saved.
 */
const INITIAL_BYTES = 64;

export class KeyCopy {
  private buf = new Uint8Array(INITIAL_BYTES);
  /** The key held: a view of the buffer, valid until the next `set` (its bytes change then). */
  key: Uint8Array = this.buf.subarray(0, 0);
  private wordView: DataView | undefined;

  /**
   * A DataView of the buffer `key` views, from the key's first byte: for comparing the key held
   * with another four bytes at a time (the table builder's order check). Made on first use, and
   * again after `set` grows the buffer.
   */
  get words(): DataView {
    return (this.wordView ??= new DataView(this.buf.buffer, 0, this.buf.length));
  }

  /**
   * Holds a copy of `key` and returns it. `known`: how many leading bytes of `key` the key held
   * now already has (the caller compared them); they are not copied again.
   */
  set(key: Uint8Array, known = 0): Uint8Array {
    const n = key.length;
    let k = this.key;
    let from = known;
    if (n !== k.length) {
      if (n > this.buf.length) {
        this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
        this.wordView = undefined;
        from = 0;
      }
      // A view over the same buffer from 0: the first `known` bytes stay where they were.
      k = this.key = this.buf.subarray(0, n);
    }
    // Byte by byte: for keys of tens of bytes a loop is cheaper than TypedArray.prototype.set.
    for (let i = from; i < n; i++) k[i] = key[i]!;
    return k;
  }
}
