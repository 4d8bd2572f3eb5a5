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
 * they are sequenced in call order.
 *
 * Groups (LevelDB's write grouping). Queued writes are committed as groups: the writes at the
 * head of the queue, up to GROUP_BYTES of keys and values (a larger write goes alone), take
 * consecutive sequence numbers in queue order and become ONE WAL record — so each batch in it
 * stays atomic, the group is atomic as a whole — with one fdatasync if any member asked for
 * `sync`, one memtable apply, and one completion that settles every member. A slowdown delays a
 * group, not each writer in turn, and a stall wakes the whole queue at once: 200k writers that
 * arrive during a stall cost ~25 group commits, not 200k commits and 200k delays.
 * Counted in stats().counters: stalls (stop episodes), slowdowns (delayed groups) and stallMs
 * (wall time during which writes were held back, not the sum over writers).
 *
 * Memory of waiting writers, bounded (writeQueueSize, default 16 MiB). A `put`, `delete` or
 * `deleteRange` that has to wait takes a private copy of its keys and values (so the caller may
 * reuse its buffers as soon as the call returns) — while the copies of all waiting writes stay
 * within writeQueueSize. Past it, a write waits the way LevelDB's writers wait: holding the
 * caller's own buffers, uncopied, until it commits; the engine adds nothing but ~100 bytes of
 * bookkeeping per write, however many callers pile up without awaiting. Such a caller must not
 * change those buffers before the promise settles. A `WriteBatch` owns copies made at `put`
 * time and is never copied again. What is waiting, and the copies, are in
 * stats().memory.writeQueue / writeQueueCopies.
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
  /** Bytes of `ops` copied for this wait and counted in WritePath.copiedBytes (0: not a copy). */
  readonly copiedBytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** Keys and values of one group at most (LevelDB: 1 MiB); the first write of a group always fits. */
const GROUP_BYTES = 1024 * 1024;

/**
 * A FIFO of waiting writes: an array read from `head`, compacted once the consumed prefix is
 * both large and most of it (amortised O(1) per write; `Array#shift` is O(n) per call).
 */
class WriteQueue {
  private items: (PendingWrite | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(w: PendingWrite): void {
    this.items.push(w);
  }

  peek(): PendingWrite | undefined {
    return this.items[this.head];
  }

  shift(): PendingWrite {
    const w = this.items[this.head]!;
    this.items[this.head] = undefined; // let it be collected
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return w;
  }

  /** Removes and returns every waiting write. */
  takeAll(): PendingWrite[] {
    const all = this.items.slice(this.head) as PendingWrite[];
    this.items = [];
    this.head = 0;
    return all;
  }
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
  private readonly queue = new WriteQueue();
  /** Keys and values of every waiting write (what the queue keeps alive). */
  private queuedBytes = 0;
  /** Of those, the bytes the write path copied (≤ writeQueueSize). */
  private copiedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The head group has been delayed once by a slowdown: it goes next, whatever the pressure short of `stop`. */
  private headSlowed = false;
  /** The current stop episode has been counted. */
  private stopCounted = false;
  /** performance.now() since when the head of the queue has been held back (-1: it is not). */
  private heldSince = -1;
  /** The write stall in progress (a write-stall-begin was emitted): set and cleared by drain() and abort(). */
  private stall: { readonly since: number; delayed: number } | undefined;

  constructor(private readonly core: DbCore) {
    core.onProgress(() => {
      this.drain();
    });
  }

  /**
   * Writes `ops` atomically. Validation is the caller's job. `owned`: the bytes are the
   * engine's own copies; otherwise they are the caller's buffers, which the WAL (encoding the
   * record) and the memtable (its arena) copy synchronously in `commit` — so they are copied
   * here only if the write has to wait, and only while the copies fit in writeQueueSize.
   */
  write(ops: BatchOp[], sync: boolean, userBytes: number, owned = true): Promise<void> {
    this.core.checkWritable();
    if (userBytes > MAX_BATCH_SIZE) {
      // Refused before it is sequenced: a record the WAL cannot take must not reach the memtable.
      throw new StrataError('INVALID_ARGUMENT', `the batch holds ${userBytes} bytes of keys and values; the limit is ${MAX_BATCH_SIZE} — split it`);
    }
    if (ops.length === 0) return Promise.resolve();
    if (this.queue.size === 0 && this.core.stallState() === 'none') return this.commit(ops, sync, userBytes, 1);
    const copy = !owned && this.copiedBytes + userBytes <= this.core.opts.writeQueueSize;
    const held = copy ? ops.map(copyOp) : ops;
    const copiedBytes = copy ? userBytes : 0;
    this.queuedBytes += userBytes;
    this.copiedBytes += copiedBytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: held, sync, userBytes, copiedBytes, resolve, reject });
      this.drain();
    });
  }

  get waiting(): number {
    return this.queue.size;
  }

  /** Keys and values of the waiting writes, and how many of those bytes are the write path's copies. */
  get memory(): { readonly queued: number; readonly copies: number } {
    return { queued: this.queuedBytes, copies: this.copiedBytes };
  }

  private take(): PendingWrite {
    const w = this.queue.shift();
    this.queuedBytes -= w.userBytes;
    this.copiedBytes -= w.copiedBytes;
    return w;
  }

  private takeAll(): PendingWrite[] {
    this.queuedBytes = 0;
    this.copiedBytes = 0;
    return this.queue.takeAll();
  }

  /** Sequences, logs and applies `ops`: one write, or the batches of a group concatenated. */
  private commit(ops: BatchOp[], sync: boolean, userBytes: number, batches: number): Promise<void> {
    const core = this.core;
    const first = core.assignSequences(ops.length);
    const last = first + ops.length - 1;
    let logged: Promise<void>;
    try {
      logged = core.wal.append(ops, first, { sync });
      core.emptyRanges?.noteWrite(ops, first);
      core.activeMemtable.apply(ops, first);
    } catch (err) {
      // The memtable and the log may now disagree: refuse further writes.
      return Promise.reject(core.setBackgroundError(err, 'applying a write failed'));
    }
    const c = core.counters;
    c.writeOps += ops.length;
    c.writeBatches += batches;
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

  /** Commits the queued writes, group by group, in order, while the pressure allows. */
  drain(): void {
    const core = this.core;
    while (this.queue.size > 0) {
      if (core.backgroundError !== undefined || core.state === 'closed') {
        for (const w of this.takeAll()) {
          try {
            core.checkWritable();
          } catch (err) {
            w.reject(err);
          }
        }
        break;
      }
      const s = core.stallState();
      if (s !== 'none' && this.stall === undefined) {
        this.stall = { since: performance.now(), delayed: 0 };
        core.events.emit({ type: 'write-stall-begin', state: s, cause: core.stallCause() });
      }
      if (s === 'stop') {
        this.hold();
        if (!this.stopCounted) {
          this.stopCounted = true;
          core.counters.stalls++;
        }
        core.scheduleFlush();
        core.maybeScheduleCompaction();
        return; // woken by notifyProgress
      }
      this.stopCounted = false;
      if (s === 'slowdown' && !this.headSlowed) {
        this.hold();
        this.headSlowed = true;
        core.counters.slowdowns++;
        if (this.timer === undefined) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.drain();
          }, 1);
        }
        return;
      }
      this.headSlowed = false;
      this.commitGroup();
    }
    if (this.heldSince >= 0) {
      core.counters.stallMs += performance.now() - this.heldSince;
      this.heldSince = -1;
    }
    this.endStall();
  }

  private hold(): void {
    if (this.heldSince < 0) this.heldSince = performance.now();
  }

  /** Takes the writes at the head (up to GROUP_BYTES; at least one) and commits them as one. */
  private commitGroup(): void {
    const members: PendingWrite[] = [this.take()];
    let bytes = members[0]!.userBytes;
    let sync = members[0]!.sync;
    for (let next = this.queue.peek(); next !== undefined && bytes + next.userBytes <= GROUP_BYTES; next = this.queue.peek()) {
      members.push(this.take());
      bytes += next.userBytes;
      sync ||= next.sync;
    }
    let ops: BatchOp[];
    if (members.length === 1) ops = members[0]!.ops;
    else {
      ops = [];
      for (const m of members) for (const op of m.ops) ops.push(op);
    }
    if (this.stall !== undefined) this.stall.delayed += members.length;
    this.commit(ops, sync, bytes, members.length).then(
      () => {
        for (const m of members) m.resolve();
      },
      (err: unknown) => {
        for (const m of members) m.reject(err);
      },
    );
  }

  /** Rejects every queued write (close). */
  abort(err: unknown): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.takeAll()) w.reject(err);
    this.endStall();
  }

  /** The queue emptied: the stall (if one began) is over. */
  private endStall(): void {
    const st = this.stall;
    if (st === undefined) return;
    this.stall = undefined;
    this.core.events.emit({ type: 'write-stall-end', durationMs: performance.now() - st.since, writesDelayed: st.delayed });
  }
}
