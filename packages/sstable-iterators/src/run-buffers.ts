/**
 * Buffers for the readahead runs of one scan, recycled among its table iterators.
 *
 * Why: a scan reads its tables in runs of up to READAHEAD_MAX bytes (table-iterator.ts), and
 * each run in a fresh buffer is garbage a moment later — a scan of 1 GB of tables makes 1 GB of
 * dead buffers. On the main thread, the user's, V8 collects them only once its external memory
 * has grown by ~64 MiB since the last collection, and glibc keeps what they were freed into:
 * RSS above the budget while a scan runs (issue "bounded at scale"). With these, a scan holds one
 * buffer per table iterator reading ahead (the merge's L0 tables and one table per level) and
 * allocates nothing per run.
 *
 * The price is a shorter life for what the iterators hand out: a value is a view into the run,
 * and a table iterator refills its buffer in place when it reads its next run — so a value is
 * valid only until its iterator moves. Only a consumer that copies what it keeps before it moves
 * the iterator may pass these (the database iterator, forward: read/db-iterator.ts copies a key's
 * value before it skips the key's older versions); the default is a fresh buffer per run.
 *
 * Who takes and gives: a TableIterator takes a buffer at its first run and gives it back when it
 * runs off its table's end (a level iterator then moves to the next table, which takes it).
 */
import { allocUnsharedBytes } from '@strata-db/sstable-core';

/** The longest run a table iterator reads ahead (it starts at 32 KiB and doubles up to this). */
export const READAHEAD_MAX = 256 * 1024;

export class RunBuffers {
  private readonly free: Uint8Array[] = [];
  /** Buffers allocated so far (tests: one per iterator reading ahead at once, not one per run). */
  allocated = 0;

  /** `bufferBytes`: each buffer's size (default: the longest run); a run that does not fit is read into a fresh buffer. */
  constructor(readonly bufferBytes = READAHEAD_MAX) {}

  /** A buffer the caller now owns (its bytes are whatever the last owner left). */
  take(): Uint8Array {
    const b = this.free.pop();
    if (b !== undefined) return b;
    this.allocated++;
    // Not zero-filled: every byte read from it was first written by a run read.
    return allocUnsharedBytes(this.bufferBytes);
  }

  /** A buffer no view of which will be read again. */
  give(b: Uint8Array): void {
    this.free.push(b);
  }
}
