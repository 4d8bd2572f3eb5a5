/**
 * A memtable that no longer takes writes: what the engine keeps readable while it flushes.
 * It shares its data with the `Memtable` it came from (nothing is copied), and since that
 * memtable refuses writes after `freeze()`, its contents are stable and deterministic until
 * dropped. Every write method exists only to throw FROZEN, so a caller holding the wrong
 * object fails loudly instead of losing a write.
 */
import { StrataError } from '@strata-db/errors';
import { MemtableReader, MemtableState } from './memtable-reader.js';
import type { SharedMemtableImage } from './shared-image.js';
import type { BatchOp } from './types.js';

/**
 * Made by `Memtable.freeze()` (the state it is built over must already be marked frozen), or
 * by `FrozenMemtable.fromImage` in another thread.
 */
export class FrozenMemtable extends MemtableReader {
  /**
   * The memtable's memory and bookkeeping for a reader in another thread (see
   * shared-image.ts): post it, and build `FrozenMemtable.fromImage(image)` there. Copies no
   * point entry; the range tombstones are copied.
   */
  image(): SharedMemtableImage {
    return { points: this.state.points.image(), tombstones: this.state.tombstones.inArrivalOrder(), maxLsn: this.state.maxLsn };
  }

  /**
   * A read-only memtable over an image taken in another thread: same entries, same answers,
   * the same memory (nothing of the point entries is copied).
   */
  static fromImage(image: SharedMemtableImage): FrozenMemtable {
    const state = new MemtableState(image.points);
    for (const t of image.tombstones) state.tombstones.add(t.start, t.end, t.seq);
    state.maxLsn = image.maxLsn;
    state.frozen = true;
    return new FrozenMemtable(state);
  }

  put(_key: Uint8Array, _value: Uint8Array, _seq: number): never {
    throw frozen('put');
  }

  delete(_key: Uint8Array, _seq: number): never {
    throw frozen('delete');
  }

  deleteRange(_start: Uint8Array, _end: Uint8Array, _seq: number): never {
    throw frozen('deleteRange');
  }

  apply(_ops: readonly BatchOp[], _firstSeq: number): never {
    throw frozen('apply');
  }

  injectMaxLsn(_lsn: number): never {
    throw frozen('injectMaxLsn');
  }

  /** Already frozen: returns itself. */
  freeze(): this {
    return this;
  }
}

function frozen(op: string): StrataError {
  return new StrataError('FROZEN', `${op} on a frozen memtable: write to the new active memtable instead`);
}
