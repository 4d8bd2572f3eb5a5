/**
 * The write path.
 *
 *   1. Sequence: a write of n operations takes LSNs last+1 … last+n at call time.
 *   2. Log: the record is queued in the WAL; the WAL groups every append of the same tick (and
 *      those arriving while an fdatasync runs) into one write(2) — group commit.
 *   3. Apply: the operations go into the active memtable right away, in LSN order (this is all
 *      synchronous, so call order = LSN order = memtable order). They are not visible yet: reads
 *      use `visibleSequence`, which advances only when the WAL write completed.
 *   4. Resolve: when the WAL append resolves — after write(2), or after fdatasync with `sync` —
 *      the visible sequence moves past the write and the caller's promise resolves.
 *   5. Rotate: if the memtable reached memtableSize it is frozen and a WAL rotation is queued
 *      behind the append, so its data is entirely in the segments before the new one.
 *
 * Write stalls. Before sequencing, the write checks the pressure from background work:
 *   - `stop` (maxFrozenMemtables frozen memtables waiting for flush, or l0StopWritesTrigger L0
 *     files): the write waits in a FIFO queue until flush/compaction makes progress;
 *   - `slowdown` (l0SlowdownWritesTrigger L0 files): the write is delayed ~1 ms, spreading the
 *     wait over many writes instead of one long stop (LevelDB's policy).
 * Writes never fail because of pressure. Once anything waits, later writes queue behind it, so
 * they are sequenced in call order. Counted in stats().counters (stalls, slowdowns, stallMs).
 *
 * A failed WAL write or fsync makes the database read-only (the core's background error): the
 * failing write rejects with IO_ERROR, later ones with READ_ONLY; reads continue.
 */
import type { BatchOp } from '@strata-db/memtable';
import type { DbCore } from '../db/core.js';
import { StrataError, toStrataError } from '../errors.js';
import { MAX_BATCH_SIZE } from '../keys.js';

interface PendingWrite {
  readonly ops: BatchOp[];
  readonly sync: boolean;
  readonly userBytes: number;
  readonly since: number;
  slowed: boolean;
  stalled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/** A private copy (`new Uint8Array(view)` copies; `Buffer#slice` would not). */
function copyOp(op: BatchOp): BatchOp {
  switch (op.type) {
    case 'put':
      return { type: 'put', key: new Uint8Array(op.key), value: new Uint8Array(op.value) };
    case 'del':
      return { type: 'del', key: new Uint8Array(op.key) };
    case 'deleteRange':
      return { type: 'deleteRange', start: new Uint8Array(op.start), end: new Uint8Array(op.end) };
  }
}

/*
 * Fairness to the event loop. The WAL completes an append without sync in a microtask, so a
 * caller awaiting write after write (a bulk load) would run as one unbroken chain of
 * microtasks: timers, I/O callbacks and the flush and compaction slices would wait for the next
 * write stall (measured: event-loop delay p99 ~100 ms, max ~250 ms while filling 1M keys). Once
 * the current turn of the event loop has run for more than TURN_MS, a completed write resolves
 * from setImmediate instead — about one deferral per TURN_MS of work. Process-wide, as the
 * event loop is.
 */
const TURN_MS = 4;
/** performance.now() when this turn's first write completed; -1 once the turn has ended. */
let turnStart = -1;
const endTurn = (): void => {
  turnStart = -1;
};

function turnTooLong(): boolean {
  const now = performance.now();
  if (turnStart < 0) {
    turnStart = now;
    setImmediate(endTurn); // runs when the loop reaches its check phase: the turn is over
    return false;
  }
  return now - turnStart > TURN_MS;
}

const nextTurn = (): Promise<void> =>
  new Promise<void>((resolve) => {
    setImmediate(resolve);
  });

export class WritePath {
  private readonly queue: PendingWrite[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly core: DbCore) {
    core.onProgress(() => {
      this.drain();
    });
  }

  /**
   * Writes `ops` atomically. Validation is the caller's job. `owned`: the bytes are the
   * engine's own copies; otherwise they are the caller's buffers, which the WAL (encoding the
   * record) and the memtable (its arena) copy synchronously in `commit` — so they are copied
   * here only if the write has to wait.
   */
  write(ops: BatchOp[], sync: boolean, userBytes: number, owned = true): Promise<void> {
    this.core.checkWritable();
    if (userBytes > MAX_BATCH_SIZE) {
      // Refused before it is sequenced: a record the WAL cannot take must not reach the memtable.
      throw new StrataError('INVALID_ARGUMENT', `the batch holds ${userBytes} bytes of keys and values; the limit is ${MAX_BATCH_SIZE} — split it`);
    }
    if (ops.length === 0) return Promise.resolve();
    if (this.queue.length === 0 && this.core.stallState() === 'none') return this.commit(ops, sync, userBytes);
    const held = owned ? ops : ops.map(copyOp);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: held, sync, userBytes, since: performance.now(), slowed: false, stalled: false, resolve, reject });
      this.drain();
    });
  }

  get waiting(): number {
    return this.queue.length;
  }

  private commit(ops: BatchOp[], sync: boolean, userBytes: number): Promise<void> {
    const core = this.core;
    const first = core.assignSequences(ops.length);
    const last = first + ops.length - 1;
    let logged: Promise<void>;
    try {
      logged = core.wal.append(ops, first, { sync });
      core.activeMemtable.apply(ops, first);
    } catch (err) {
      // The memtable and the log may now disagree: refuse further writes.
      return Promise.reject(core.setBackgroundError(err, 'applying a write failed'));
    }
    const c = core.counters;
    c.writeOps += ops.length;
    c.writeBatches++;
    c.userBytesWritten += userBytes;
    if (core.activeMemtable.approximateBytes() >= core.opts.memtableSize) core.freezeMemtable();
    return logged.then(
      () => {
        core.publishSequence(last);
        c.walBytesWritten = core.wal.bytesWritten;
        return turnTooLong() ? nextTurn() : undefined;
      },
      (err: unknown) => {
        const e = toStrataError(err, 'writing the WAL failed');
        core.setBackgroundError(e, 'writing the WAL failed');
        throw e;
      },
    );
  }

  /** Commits queued writes, in order, while the pressure allows. */
  drain(): void {
    const core = this.core;
    while (this.queue.length > 0) {
      const w = this.queue[0]!;
      if (core.backgroundError !== undefined || core.state === 'closed') {
        this.queue.shift();
        try {
          core.checkWritable();
        } catch (err) {
          w.reject(err);
        }
        continue;
      }
      const s = core.stallState();
      if (s === 'stop') {
        if (!w.stalled) {
          w.stalled = true;
          core.counters.stalls++;
        }
        core.scheduleFlush();
        core.maybeScheduleCompaction();
        return; // woken by notifyProgress
      }
      if (s === 'slowdown' && !w.slowed) {
        w.slowed = true;
        core.counters.slowdowns++;
        if (this.timer === undefined) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.drain();
          }, 1);
        }
        return;
      }
      this.queue.shift();
      core.counters.stallMs += performance.now() - w.since;
      this.commit(w.ops, w.sync, w.userBytes).then(
        () => {
          w.resolve();
        },
        (err: unknown) => {
          w.reject(err);
        },
      );
    }
  }

  /** Rejects every queued write (close). */
  abort(err: unknown): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) w.reject(err);
  }
}
