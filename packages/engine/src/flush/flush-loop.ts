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
 * segment after its memtable, so logNumber only moves forward, and the segments it lets go
 * hold no data of a memtable still waiting (a newer memtable flushed first would release the
 * segments of an older one that is in no table yet).
 */
import type { DbCore, Flusher } from '../db/core.js';
import { flushMemtable } from './flush.js';

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
    if (this.active || core.frozenCount === 0) {
      if (core.frozenCount === 0) this.resolveWaiters();
      return;
    }
    this.active = true;
    void core.runBackground('flush', async () => {
      try {
        for (;;) {
          const entry = core.oldestFrozen();
          if (entry === undefined || core.backgroundError !== undefined || core.state === 'closed') break;
          await flushMemtable(core, entry);
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
        else if (core.frozenCount > 0) this.schedule();
        else this.resolveWaiters();
      }
    });
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
