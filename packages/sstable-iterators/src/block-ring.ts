/**
 * Recycled block buffers for one table iterator that reads a block at a time (compaction's:
 * table-iterator.ts, `blockRing`), so that reading a table allocates nothing per block.
 *
 * Why: a compaction read every data block into a fresh buffer (`Table.dataBlock` without a
 * cache): ~50k dead 4 KiB ArrayBuffers per 200 MB merged, each one malloc'd, tracked by V8 as
 * external memory and freed only by a collection — in a worker, what drives its paced full
 * collections (engine's garbage-pace.ts) and a share of every scavenge.
 *
 * The price is a bounded life for what the iterator hands out: an entry's value is a view into
 * its block, and a slot is read into again once the iterator has moved on. The bound is given
 * in moves of the iterator (every next, prev or seek): a value handed out at move `x` keeps its
 * bytes while the iterator has made fewer than `x + validMoves` moves. A slot is reused only
 * when that holds for everything handed out from it; otherwise (a seek, an empty block) the
 * block goes into a fresh buffer, whose values live as long as anyone holds them. A block
 * larger than a slot also gets a fresh buffer.
 *
 * Who may use it: a consumer that copies (or drops) every value within `validMoves` moves —
 * the compaction's collapse (engine's compaction-iterator.ts), which hands each version to the
 * output (the table builder copies it) before its input moves on.
 */
import { allocUnsharedBytes } from '@strata-db/sstable-core';

export class BlockRing {
  private readonly slots: Uint8Array[] = [];
  /** Per slot: the last move at which a value from it may have been handed out (-∞: never filled). */
  private readonly lastUsed: number[] = [];
  /** The slot holding the block under the iterator; -1: a fresh buffer (or none). */
  private current = -1;

  /**
   * `size` slots of `slotBytes` each (allocated as first needed): a value stays valid for
   * `size - 1` moves (`validMoves`) when every move loads at most one block.
   */
  constructor(
    readonly size: number,
    readonly slotBytes: number,
  ) {
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`a block ring needs at least 2 slots, got ${size}`);
  }

  /** Moves an entry's value is valid for (see the header). */
  get validMoves(): number {
    return this.size - 1;
  }

  /**
   * A buffer to read a block of `bytes` into at move `move` (the block under the iterator is
   * left now), or undefined: read it into a fresh buffer.
   */
  take(move: number, bytes: number): Uint8Array | undefined {
    const left = this.current;
    // The block being left handed out its last value at the move before this one.
    if (left >= 0) this.lastUsed[left] = move - 1;
    this.current = -1;
    if (bytes > this.slotBytes) return undefined;
    const next = left < 0 ? this.oldest() : (left + 1) % this.size;
    if (next >= this.slots.length) {
      this.slots.push(allocUnsharedBytes(this.slotBytes));
      this.lastUsed.push(-Infinity);
    } else if (this.lastUsed[next]! + this.validMoves > move) {
      return undefined; // something handed out from it may still be in use
    }
    this.current = next;
    return this.slots[next]!;
  }

  /** The slot to fill after a fresh buffer: an unallocated one, else the least recently used. */
  private oldest(): number {
    if (this.slots.length < this.size) return this.slots.length;
    let best = 0;
    for (let i = 1; i < this.size; i++) if (this.lastUsed[i]! < this.lastUsed[best]!) best = i;
    return best;
  }
}
