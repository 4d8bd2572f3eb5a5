/**
 * The flush loop: frozen memtables become L0 tables one at a time, oldest first (flush.ts does
 * one), in the background (tracked by `core.runBackground`, so close() waits for it).
 *
 * It is started by `core.freezeMemtable()` and by stalled writers, runs while frozen memtables
 * wait, and stops at the first failure (the core's background error) or at close. After each
 * flush it wakes stalled writers and lets the compactor look at the new Version. `db.flush()`
 * waits for it through `waitForFlushes()`.
 *
 * One at a time and oldest first is relied on: each flush records logNumber = the first WAL
 * segment after its (newest) memtable, so logNumber only moves forward, and the segments it lets
 * go hold no data of a memtable still waiting (a newer memtable flushed first would release the
 * segments of an older one that is in no table yet).
 *
 * With minMemtablesToMerge = m > 1 (RocksDB's min_write_buffer_number_to_merge) a flush takes the
 * m oldest frozen memtables into one table, and does not start while fewer wait — unless
 * something waits for it: `db.flush()` or close (writes stop only at maxFrozenMemtables, which
 * is at least m). Then it takes what there is. A memtable waiting for its partner is
 * readable and in the WAL like any frozen one.
 */
import type { DbCore, Flusher } from '../db/core.js';
import { flushMemtables } from './flush.js';

export class FlushLoop implements Flusher {
  /** A flush is running: set and cleared by `schedule` only. */
  private active = false;
  /** Resolvers of `waitForFlushes()` callers, fired when no frozen memtable is left. */
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly core: DbCore) {}

  get running(): boolean {
    return this.active;
  }

  schedule(): void {
    const core = this.core;
    if (this.active || !this.due()) {
      if (core.frozenCount === 0) this.resolveWaiters();
      return;
    }
    this.active = true;
    void core.runBackground('flush', async () => {
      try {
        for (;;) {
          if (!this.due() || core.backgroundError !== undefined || core.state === 'closed') break;
          await flushMemtables(core, core.oldestFrozen(core.opts.minMemtablesToMerge));
          core.notifyProgress();
          core.maybeScheduleCompaction();
        }
      } catch (err) {
        // Set here, not by runBackground after `finally`: the finally below must see it, or it
        // would start the same flush again.
        core.setBackgroundError(err, 'flush failed');
      } finally {
        this.active = false;
        const err = core.backgroundError;
        if (err !== undefined) this.rejectWaiters(err);
        else if (this.due()) this.schedule();
        else if (core.frozenCount === 0) this.resolveWaiters();
      }
    });
  }

  /**
   * A flush should start: enough frozen memtables wait to merge, or fewer (at least one) and
   * something waits for them (see the top of the file).
   */
  private due(): boolean {
    const core = this.core;
    const n = core.frozenCount;
    if (n === 0) return false;
    if (n >= core.opts.minMemtablesToMerge) return true;
    // Writes stop at maxFrozenMemtables ≥ minMemtablesToMerge (options.ts): never for these.
    return this.waiters.length > 0 || core.state !== 'open';
  }

  waitForFlushes(): Promise<void> {
    const core = this.core;
    if (core.frozenCount === 0) return Promise.resolve();
    const err = core.backgroundError;
    if (err !== undefined) return Promise.reject(err);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private resolveWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve();
  }

  private rejectWaiters(err: unknown): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(err);
  }
}
