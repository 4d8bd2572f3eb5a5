/**
 * A background worker's paced garbage collection: a full collection of the worker's own heap
 * whenever its ArrayBuffers (V8's external memory) have grown by COLLECT_AFTER_EXTERNAL_BYTES
 * since the last one, checked every MiB its compactions read (readahead.ts), at every turn of a
 * compaction's slices and after every job (worker-entry.ts).
 *
 * Paced by the garbage itself, not by the bytes read (as first built): reads were one source of
 * dead buffers among several (output builders, decompressed blocks, a flush's builder), and with
 * the worker's young generation capped (worker-executor.ts, WORKER_RESOURCE_LIMITS) buffers that
 * outlive a few of its scavenges are promoted and wait for a full collection — a pace by reads
 * alone then let the worker's ArrayBuffers reach 74 MB and a 64 MiB glibc arena stay resident
 * (3M fill, peak RSS 201 MB); paced by external memory: worker ArrayBuffers ≤ ~23 MB, peak RSS
 * 150 MB (plain node, one run each, load ~8).
 *
 * Why: a compaction reads its inputs into buffers (the table reader's blocks, one allocation per
 * readahead run) that are dead a moment later — a 1M-key fill's compactions read ~200 MB. V8
 * frees a dead ArrayBuffer's memory only at a collection, and it schedules one for external
 * memory only once ~64 MiB more is held than after the last (Node 20); the worker's heap itself
 * is small and rarely asks for one. So the worker held up to ~70 MB of dead buffers, and glibc
 * kept the arena they were freed into fully resident afterwards (a 64 MiB thread arena in
 * /proc/self/smaps). Collecting every few MiB bounds the dead buffers by about that.
 * First measured (1M fillrandom, worker on, default options, one process per run, load 17–24): peak
 * RSS 251–269 MB (median 262, 5 runs) without, 213–223 MB (median 217, 7 runs) with a collection
 * every 8 MiB (the 64 MiB arena gone; every 16 MiB: 223–227); process CPU time 6.06–6.32 s →
 * 6.25–6.50 s (medians 6.17 → 6.31 s, +2%, within the noise of a loaded machine). Each is a full
 * collection of the worker's ~10–20 MB heap, on the worker's core, never on the event loop.
 * (Now every 1 MiB: see COLLECT_AFTER_EXTERNAL_BYTES.)
 *
 * How: V8 offers no other way to ask for a collection than the `gc` function of `--expose-gc`.
 * A worker cannot be given that flag (ERR_WORKER_INVALID_EXEC_ARGV), so the worker sets it just
 * long enough to create one context that has the function (the flag is read when a context is
 * created), then clears it: no other context of the process gets a `gc` it did not ask for.
 * Where that fails, nothing is collected early (the worker behaves as before).
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
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

/**
 * External memory (ArrayBuffers) grown since the last collection that triggers the next, bytes.
 *
 * 1 MiB since 2026-12-01 (was 4; 8 before 2026-11-28). What a worker's malloc arena keeps
 * after the worker has ended is about the most it ever held at once — its live buffers plus the
 * garbage this allows — because the small chunks still in use when the thread ends (some of
 * them other threads' objects, handed out from chunks those threads freed into their own
 * caches) sit all over the arena and glibc gives back only its free top
 * (docs/performance/session-27.md: after a 10M fill, two ended workers' arenas held
 * 17–18 MB, 0.1–0.5 MB of it in use). 3M fillrandom, one run each, load 6–19: the two ended
 * workers' arenas 15.2 MB (4 MiB) → 11.2 (2 MiB) → 10.4 (1 MiB), their ArrayBuffers' most
 * 12.3 → 7.9 → 7.0 MB, collections 18 → 37 → 64 over the fill, background CPU per MB written
 * within the noise of that load (15.9–17.1 → 16.7 ms). Each collection is a full one of the
 * worker's ~10 MB heap, on the worker's core. (2026-11-28, 1M fillrandom, medians of 3
 * alternating runs, load 4–8: peak RSS 143 → 129 MB going 8 → 4 MiB; 2 MiB then cost +0.5–1 s
 * of process CPU per fill, when compaction's readahead windows were still part of the garbage.)
 */
export const COLLECT_AFTER_EXTERNAL_BYTES = 1024 * 1024;

/**
 * Runs `collect` whenever the thread's external memory (its ArrayBuffers, as V8 counts them)
 * has grown by `afterBytes` since the last collection. `check` is cheap (~2 µs, no system call):
 * call it as often as garbage may have been made.
 */
export class GarbagePacer {
  /** External bytes right after the last collection (or the least seen since). */
  private baseline: number;
  /** Collections run (for stats and tests). */
  collections = 0;

  constructor(
    private readonly collect: () => void,
    private readonly afterBytes = COLLECT_AFTER_EXTERNAL_BYTES,
    private readonly externalBytes: () => number = () => getHeapStatistics().external_memory,
  ) {
    this.baseline = externalBytes();
  }

  check(): void {
    const now = this.externalBytes();
    if (now < this.baseline) {
      this.baseline = now; // freed without us (a scavenge, V8's own collection)
      return;
    }
    if (now - this.baseline < this.afterBytes) return;
    this.collect();
    this.collections++;
    this.baseline = this.externalBytes();
  }
}
