/**
 * Where every buffer of a memtable (arena chunks, skiplist arrays, key index) comes from:
 * `SharedArrayBuffer`s by default, so that a frozen memtable can be handed to another thread
 * without a copy (shared-image.ts); plain `ArrayBuffer`s for a memtable that never leaves its
 * thread (`new Memtable({ shared: false })`, e.g. a follower's).
 *
 * Why the choice matters for memory: V8 (Node 20) does not count SharedArrayBuffer memory as
 * external memory. A plain ArrayBuffer's bytes are counted, and once ~64 MiB more than at the
 * last full collection are held, V8 collects; for shared buffers nothing is counted, so garbage
 * ones are freed only when a collection happens for some other reason. Measured: dropping 1 MiB
 * SharedArrayBuffers in a loop let RSS reach ~850 MB (plain ArrayBuffers: ~75 MB); a 1M-key fill
 * that made a new shared memtable for every flush held ~200 MB of dead ones.
 *
 * So shared memory is mostly not made garbage: the engine builds each memtable on the memory of
 * the last released one (memtable-memory.ts). Mostly: a memtable that outgrows the arrays or
 * arena chunks it took allocates more and drops the smaller ones, and a release while a set is
 * already held drops that set. Measured on a 10M fillrandom with the worker (default options),
 * when the engine held one released set: ~34 MB of shared buffers allocated per 1M keys,
 * ArrayBuffers at 255 MB and RSS at 507 MB by the end — garbage V8 never counted. (The engine
 * now holds 1 + maxFrozenMemtables sets: a 1M fill allocates 16 MB, all in its first four
 * memtables.) For that rest V8 is told of what shared memory is
 * allocated: after every BALLAST_BYTES of shared buffers, one plain ArrayBuffer of that size is
 * allocated and dropped at once. V8 counts it (and forgets it at the next collection), so
 * collections come at the pace they would if shared memory were counted. It costs no resident
 * memory: larger than glibc's largest mmap threshold (32 MiB), it is a fresh zero mapping that
 * is never touched, unmapped when collected. With reuse it is rare.
 */

/** Above glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit): always mmapped, never touched. */
const BALLAST_BYTES = 33 * 1024 * 1024;

/** Shared bytes allocated since the process started (tests: reuse allocates none). */
let sharedBytes = 0;
/** Shared bytes allocated since the last ballast. */
let sinceBallast = 0;
/** The ballast, held only for the statement that drops it (an unused allocation could be optimised away). */
let _ballast: ArrayBuffer | undefined;

/** A zeroed buffer of `bytes` bytes: shared, or plain (see the file header). */
export function allocateBuffer(bytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  if (!shared) return new ArrayBuffer(bytes);
  sharedBytes += bytes;
  sinceBallast += bytes;
  if (sinceBallast >= BALLAST_BYTES) {
    sinceBallast = 0;
    // Allocated for V8's accounting alone and dropped at once.
    _ballast = new ArrayBuffer(BALLAST_BYTES);
    _ballast = undefined;
  }
  return new SharedArrayBuffer(bytes);
}

/** A zeroed Int32Array of `length` elements over `allocateBuffer`. */
export function int32Array(length: number, shared: boolean): Int32Array {
  return new Int32Array(allocateBuffer(length * 4, shared));
}

/** Shared bytes allocated so far by every memtable of this thread (for tests). */
export function sharedBytesAllocated(): number {
  return sharedBytes;
}
