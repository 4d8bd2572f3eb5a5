/**
 * Every SharedArrayBuffer the memtable allocates (arena chunks, skiplist arrays, key index)
 * comes from `allocateShared`, which makes up for a gap in V8's garbage-collection heuristics.
 *
 * V8 (Node.js 20) does not count SharedArrayBuffer memory as external memory. A plain
 * ArrayBuffer's bytes are counted, and once ~64 MiB more than at the last full collection are
 * held, V8 collects; for shared buffers nothing is counted, so garbage ones — the arena chunks
 * and grown-out arrays of every flushed memtable — are freed only when a collection happens for
 * some other reason. Measured: dropping 1 MiB SharedArrayBuffers in a loop let RSS reach
 * ~850 MB (plain ArrayBuffers: ~75 MB); a 1M-key fill with flushes on the worker thread
 * (where the main thread allocates little else) held ~200 MB of dead memtables, RSS climbing
 * by ~28 MB every 100k keys.
 *
 * The remedy is to let V8 see the allocations: after every BALLAST_BYTES of shared buffers,
 * one plain ArrayBuffer of that size is allocated and dropped at once. V8 counts it (and forgets
 * it at the next collection), so collections come at the pace they would if shared memory were
 * counted. It costs no resident memory: it is larger than glibc's largest mmap threshold
 * (32 MiB), so it is a fresh zero mapping that is never touched, unmapped when collected.
 */

/** Above glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit): always mmapped, never touched. */
const BALLAST_BYTES = 33 * 1024 * 1024;

/** Shared bytes allocated since the last ballast. */
let sinceBallast = 0;
/** Ballasts allocated (tests). */
let ballasts = 0;
/** The ballast, held only for the statement that drops it (an unused allocation could be optimised away). */
let _ballast: ArrayBuffer | undefined;

/** A zeroed SharedArrayBuffer of `bytes` bytes; see the file header. */
export function allocateShared(bytes: number): SharedArrayBuffer {
  const b = new SharedArrayBuffer(bytes);
  sinceBallast += bytes;
  if (sinceBallast >= BALLAST_BYTES) {
    sinceBallast = 0;
    ballasts++;
    // Allocated for V8's accounting alone and dropped at once.
    _ballast = new ArrayBuffer(BALLAST_BYTES);
    _ballast = undefined;
  }
  return b;
}

/** How many ballasts were allocated so far (for tests). */
export function sharedAllocationBallasts(): number {
  return ballasts;
}
