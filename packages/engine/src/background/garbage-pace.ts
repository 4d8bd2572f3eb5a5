/**
 * A background worker's paced garbage collection: a full collection of the worker's own heap
 * after every few MiB its compactions read (readahead.ts, COLLECT_EVERY_BYTES).
 *
 * Why: a compaction reads its inputs into buffers (the table reader's blocks, one allocation per
 * readahead run) that are dead a moment later — a 1M-key fill's compactions read ~200 MB. V8
 * frees a dead ArrayBuffer's memory only at a collection, and it schedules one for external
 * memory only once ~64 MiB more is held than after the last (Node 20); the worker's heap itself
 * is small and rarely asks for one. So the worker held up to ~70 MB of dead buffers, and glibc
 * kept the arena they were freed into fully resident afterwards (a 64 MiB thread arena in
 * /proc/self/smaps). Collecting every few MiB bounds the dead buffers by about that.
 * Measured (1M fillrandom, worker on, default options, one process per run, load 17–24): peak
 * RSS 251–269 MB (median 262, 5 runs) without, 213–223 MB (median 217, 7 runs) with a collection
 * every 8 MiB (the 64 MiB arena gone; every 16 MiB: 223–227); process CPU time 6.06–6.32 s →
 * 6.25–6.50 s (medians 6.17 → 6.31 s, +2%, within the noise of a loaded machine). Each is a full
 * collection of the worker's ~10–20 MB heap, on the worker's core, never on the event loop.
 *
 * How: V8 offers no other way to ask for a collection than the `gc` function of `--expose-gc`.
 * A worker cannot be given that flag (ERR_WORKER_INVALID_EXEC_ARGV), so the worker sets it just
 * long enough to create one context that has the function (the flag is read when a context is
 * created), then clears it: no other context of the process gets a `gc` it did not ask for.
 * Where that fails, nothing is collected early (the worker behaves as before).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The current thread's full garbage collection, or undefined where V8 does not offer one. */
export function garbageCollector(): (() => void) | undefined {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return () => void (existing as () => unknown)();
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void (gc as () => unknown)() : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
