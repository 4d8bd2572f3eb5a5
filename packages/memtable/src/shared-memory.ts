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
 * So shared memory is not made garbage in the steady state: the engine builds each memtable on
 * the memory of the last released one (memtable-memory.ts). (An earlier remedy allocated and
 * dropped an untouched plain 33 MiB ArrayBuffer per 33 MiB of shared ones, so that V8 would
 * collect at the pace of shared allocations; reuse made it unnecessary, and it is gone.)
 */

/** Shared bytes allocated since the process started (tests: reuse allocates none). */
let sharedBytes = 0;

/** A zeroed buffer of `bytes` bytes: shared, or plain (see the file header). */
export function allocateBuffer(bytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  if (!shared) return new ArrayBuffer(bytes);
  sharedBytes += bytes;
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
