/**
 * The write path. LevelDB's order: a batch is logged first and applied after — or, when the
 * WAL writes through the thread pool, RocksDB's pipelined write (`enable_pipelined_write`):
 * applied while it is being logged, and published only once logged.
 *
 *   1. Sequence: a group of writes totalling n operations takes LSNs last+1 … last+n.
 *   2. Log: the group is queued in the WAL as one record; the WAL writes it with write(2) (and
 *      fdatasyncs it if any member asked for `sync`).
 *   3. Apply: the operations go into the active memtable, in LSN order —
 *        - a small write alone (nothing queued or in flight: a lone writer's put; below
 *          ALONE_INSERT_BYTES): as it is issued, right after it was sequenced and encoded into
 *          the WAL's buffer, still in the caller's call — so from the caller's own buffers, with
 *          no copy, and the WAL's completion has only step 4 left to do;
 *        - synchronous write (a queued group below the WAL's thread-pool size, or a file layer
 *          without a thread-pool `write`: the in-memory and fault-injecting ones): once the WAL
 *          write (and fdatasync) succeeded, in the same synchronous step as 4;
 *        - pipelined (the WAL hands a group of OFF_THREAD_BYTES or more to the thread pool,
 *          wal/writer.ts): as soon as the WAL submitted the write (AppendOptions.whileWriting),
 *          so that the insert runs on this thread while the pool writes. A fill awaiting one
 *          batch of 1000 at a time paid the pool round trip and then the insert, serially.
 *   4. Publish: once the WAL write (and fdatasync) succeeded, the visible sequence moves past
 *      the group and the members' promises resolve.
 *   5. Rotate: if the memtable reached its freeze size (memtableSize, more with a big L1:
 *      freeze-size.ts) it is frozen then (a WAL rotation is queued; nothing else is in the WAL
 *      queue, see below), so its data is entirely in the segments before the new one. Half
 *      full, it has the executor start the thread its flush will need (`prepareForFlush`), if
 *      none is alive: once a memtable.
 *
 * Between 3 and 4 the active memtable holds versions above the visible sequence. Every read
 * (get, getSync, getMany, iterators, snapshots) reads at the visible sequence or an older
 * snapshot (Database.snapshotSeqOf), never at the memtable's newest, so the group is invisible
 * until the log holds it: the same rule that already hides a snapshot's later writes. The group
 * is `inFlight` throughout, and a memtable is frozen (so flushed) only when nothing is in flight
 * (`freeze`, and the rotation at 5), so a frozen memtable, hence every table, holds published
 * versions only (VersionSet.logAndApply refuses a table holding more).
 *
 * One group is in the WAL at a time (`inFlight`): writes that arrive meanwhile queue here and
 * form the next group — while an fdatasync runs, everyone arriving joins the next one (group
 * commit). Applying groups one at a time, in order, is what keeps call order = LSN order =
 * memtable order, and what lets `freeze` and the memtable-full rotation fall between groups, so
 * a memtable never holds a record of a segment after its rotation.
 *
 * A failed WAL write or fdatasync leaves nothing visible or durable behind. The WAL cuts its
 * record off the segment (wal/writer.ts) so a restart does not replay it. The database turns
 * read-only (the core's background error): the failing group's writes reject with IO_ERROR,
 * later ones with READ_ONLY; reads continue. A synchronous group was not applied, so no
 * memtable holds it. A small write alone and a pipelined group are in the active memtable
 * already, above the visible sequence, and stay there unpublished — memtables cannot take
 * versions back out. The rule that keeps them from ever being read or written to a table: AFTER
 * A WAL FAILURE THE ACTIVE MEMTABLE IS NEVER PUBLISHED PAST, FROZEN OR FLUSHED. Relied on, and why it holds:
 *   - publishSequence is called only by applyGroup, for a group whose log write succeeded, and
 *     no group is sequenced after the failure (drain rejects the queue);
 *   - freezeMemtable is called only here: by applyGroup (a logged group), by the freezers run
 *     after the failure (they checkWritable first) and by `freeze` (it checks too) — so the
 *     memtable never reaches the flush loop;
 *   - close() does not flush memtables (db/core.ts: it syncs and closes the WAL), a checkpoint
 *     copies tables and WAL segments only, and compaction reads tables only;
 *   - a reopen replays the WAL, which no longer holds the record.
 * (pipelined-write.test.ts holds the pool's write open and fails it, with and without `sync`;
 * failed-wal-write.test.ts fails a lone put's write and its fdatasync.)
 * The group's sequence numbers are spent on nothing: no later write is sequenced in this
 * session, and the next session starts past every number a table or the WAL holds (open.ts),
 * so no number is ever given to two different versions.
 *
 * The caller's buffers: the WAL encodes the record synchronously, but the memtable copies the
 * bytes only at step 3, which for a queued or large write comes after the call returned (a small
 * write alone is inserted within the call and needs no copy). A `put`, `delete` or `deleteRange`
 * that waits therefore takes a private copy of each key, value or bound that is still the caller's buffer (so the
 * caller may reuse its buffers as soon as the call returns; a string was encoded into a buffer
 * of the engine's own and is not copied again: ownership is per field, CallerOwns), while the
 * copies of all pending writes stay within writeQueueSize. Past
 * it, a write holds the caller's own buffers, uncopied, until it is applied, the way LevelDB's
 * writers wait: the engine adds nothing but ~100 bytes of bookkeeping per write, however many
 * callers pile up without awaiting. Such a caller must not change those buffers before the
 * promise settles. A `WriteBatch` owns copies made at `put` time and is never copied again.
 * What is pending (waiting or being logged), and the copies, are in stats().memory.writeQueue /
 * writeQueueCopies.
 *
 * Write stalls. Before sequencing, a group checks the pressure from background work:
 *   - `stop` (maxFrozenMemtables frozen memtables waiting for flush, or l0StopWritesTrigger L0
 *     files): the writes wait in the FIFO queue until flush/compaction makes progress;
 *   - `slowdown` (l0SlowdownWritesTrigger L0 files): the group is delayed ~1 ms, spreading the
 *     wait over many writes instead of one long stop (LevelDB's policy).
 * Writes never fail because of pressure. Once anything waits, later writes queue behind it, so
 * they are sequenced in call order.
 *
 * Groups (LevelDB's write grouping): the writes at the head of the queue, up to GROUP_BYTES of
 * keys and values (a larger write goes alone), take consecutive sequence numbers in queue order
 * and become ONE WAL record — so each batch in it stays atomic, the group is atomic as a whole —
 * with one fdatasync if any member asked for `sync`, one memtable apply, and one completion
 * that settles every member. A slowdown delays a group, not each writer in turn, and a stall
 * wakes the whole queue at once: 200k writers that arrive during a stall cost ~25 group
 * commits, not 200k commits and 200k delays. Counted in stats().counters: stalls (stop
 * episodes), slowdowns (delayed groups) and stallMs (wall time during which writes were held
 * back by a stall, not the sum over writers).
 */
import type { BatchOp, Memtable } from '@strata-db/memtable';
import type { BatchRecord } from '@strata-db/wal';
import type { DbCore } from '../db/core.js';
import { StrataError, toStrataError } from '../errors.js';
import { copyOf, MAX_BATCH_SIZE } from '../keys.js';
import { crossesThreads } from '@strata-db/vfs';

interface PendingWrite {
  readonly ops: BatchOp[];
  readonly sync: boolean;
  readonly userBytes: number;
  /** Bytes of `ops` copied for this wait and counted in WritePath.copiedBytes (0: not a copy). */
  readonly copiedBytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * A write alone in the write path with fewer bytes of keys and values than this goes into the
 * memtable as it is issued (unpublished; see the top of the file), from the caller's buffers,
 * which the memtable copies into its arena: no copy of its own, and nothing left to do once the
 * WAL returns but publish. A larger one is written by the WAL through the thread pool (from 64
 * KiB of record, wal/writer.ts) and inserted while the pool writes — the pipelined write.
 */
const ALONE_INSERT_BYTES = 48 * 1024;

/** The ops of a group whose operations are in its record. */
const NO_OPS: BatchOp[] = [];

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
    // Nothing waiting (close() of a database written one write at a time): the fields are not
    // stored to. V8 treats a field never stored to after construction as constant, and the
    // optimized write path that read it would be thrown away at the first close.
    if (this.head === this.items.length) return [];
    const all = this.items.slice(this.head) as PendingWrite[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

/**
 * Which byte fields of a write's ops are still the caller's (and so copied while they wait, see
 * the top of the file): a bit set per field; the others are the engine's own already (a string
 * the engine encoded, a WriteBatch's copies).
 */
export const CallerOwns = {
  /** Nothing: every field is the engine's. */
  none: 0,
  /** The key of a put or del, the start of a deleteRange. */
  first: 1,
  /** The value of a put, the end of a deleteRange. */
  second: 2,
  all: 3,
} as const;

/** The op with its caller-owned fields (`owns`, CallerOwns bits) replaced by private copies (small ones carved out of a shared slab: they live only until applied). */
function copyOp(op: BatchOp, owns: number): BatchOp {
  const first = (owns & CallerOwns.first) !== 0;
  const second = (owns & CallerOwns.second) !== 0;
  switch (op.type) {
    case 'put':
      return { type: 'put', key: first ? copyOf(op.key) : op.key, value: second ? copyOf(op.value) : op.value };
    case 'del':
      return first ? { type: 'del', key: copyOf(op.key) } : op;
    case 'deleteRange':
      return { type: 'deleteRange', start: first ? copyOf(op.start) : op.start, end: second ? copyOf(op.end) : op.end };
  }
}

/** Bytes of the fields of `ops` that `owns` says are the caller's. */
function callerBytes(ops: readonly BatchOp[], owns: number): number {
  let n = 0;
  for (const op of ops) {
    if (op.type === 'deleteRange') n += ((owns & CallerOwns.first) !== 0 ? op.start.length : 0) + ((owns & CallerOwns.second) !== 0 ? op.end.length : 0);
    else n += ((owns & CallerOwns.first) !== 0 ? op.key.length : 0) + (op.type === 'put' && (owns & CallerOwns.second) !== 0 ? op.value.length : 0);
  }
  return n;
}

/*
 * Fairness to the event loop. The WAL completes an append without sync in a microtask, so a
 * caller awaiting write after write (a bulk load) would run as one unbroken chain of
 * microtasks: timers, I/O callbacks and the flush and compaction slices would wait for the next
 * write stall (measured: event-loop delay p99 ~100 ms, max ~250 ms while filling 1M keys). Once
 * the current turn of the event loop has run for more than TURN_MS, a completed write resolves
 * from setImmediate instead — about one deferral per TURN_MS of work. Process-wide, as the
 * event loop is.
 *
 * A turn starts with the first write completed in it, or with a deferred write's resolution,
 * and ends in the next check phase (setImmediate). The deferred resolution runs in a check
 * phase itself, and an immediate queued from there runs only in the loop's next iteration:
 * so the work that follows it counts towards a turn of its own, and the loop reaches its timers
 * after at most one write beyond TURN_MS. (Counting from "no turn" instead let a second
 * TURN_MS of writes run before the timers: event-loop delay p99 10.8 ms at 5M keys.)
 */
const TURN_MS = 4;
/** performance.now() when this turn started; -1 once it has ended. */
let turnStart = -1;
const endTurn = (): void => {
  turnStart = -1;
};

function startTurn(now: number): void {
  turnStart = now;
  setImmediate(endTurn); // runs when the loop reaches its (next) check phase: the turn is over
}

function turnTooLong(): boolean {
  const now = performance.now();
  if (turnStart < 0) {
    startTurn(now);
    return false;
  }
  return now - turnStart > TURN_MS;
}

/*
 * A durable write on the real disk completes in its fdatasync's I/O callback, and the next one
 * in a later iteration of the loop (libuv hands each completion to the poll phase of the
 * iteration after it), so a chain of them cannot hold the loop: their completions start no turn
 * — no setImmediate per durable write — though they count towards one already under way. On
 * another file system an fdatasync may resolve in a microtask (the in-memory one does): there
 * they start turns like any write.
 */
function turnUnderWayTooLong(): boolean {
  return turnStart >= 0 && performance.now() - turnStart > TURN_MS;
}

/** Runs `resolve` in the loop's check phase, as the start of a turn of its own. */
function resolveNextTurn(resolve: () => void): void {
  setImmediate(() => {
    startTurn(performance.now());
    resolve();
  });
}

const nextTurn = (): Promise<void> =>
  new Promise<void>((resolve) => {
    resolveNextTurn(resolve);
  });

/** A group being logged: its writes, concatenated, from sequence `first` on. */
interface Group {
  /** Its operations: as objects, or (a WriteBatch written alone, `writeRecord`) in `record`. */
  readonly ops: BatchOp[];
  /** The batch's own record, logged and applied as it is; `ops` is then empty. */
  readonly record: BatchRecord | undefined;
  /** Operations in it. */
  readonly count: number;
  /** Its first sequence number: set by `log`. */
  first: number;
  /** Writes in it (counters). */
  readonly writes: number;
  /** Their keys and values, and of those the write path's copies (pendingBytes / copiedBytes). */
  readonly bytes: number;
  readonly copied: number;
  /** In the memtable already (pipelined: `insertWhileLogging`), not yet published. */
  inserted: boolean;
  /** What the memtable threw at `insertWhileLogging` (reported once the WAL write settles). */
  insertError: unknown;
}

/** A group of `ops` (or of `record`'s ops), not yet sequenced: one shape for every group (see Group). */
function newGroup(ops: BatchOp[], record: BatchRecord | undefined, writes: number, bytes: number, copied: number): Group {
  return { ops, record, count: record === undefined ? ops.length : record.count, first: 0, writes, bytes, copied, inserted: false, insertError: undefined };
}

export class WritePath {
  private readonly queue = new WriteQueue();
  /** Keys and values of every pending write (waiting, or in the group being logged). */
  private pendingBytes = 0;
  /** Of those, the bytes the write path copied (≤ writeQueueSize). */
  private copiedBytes = 0;
  /** The group in the WAL, not yet published: set by `log`, cleared by `applyGroup` / `failGroup`. */
  private inFlight: Group | undefined;
  /** `freeze` calls waiting for the group in flight: run between it and the next group. */
  private freezers: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The head group has been delayed once by a slowdown: it goes next, whatever the pressure short of `stop`. */
  private headSlowed = false;
  /** The current stop episode has been counted. */
  private stopCounted = false;
  /** performance.now() since when the head of the queue has been held back (-1: it is not). */
  private heldSince = -1;
  /** The write stall in progress (a write-stall-begin was emitted): set and cleared by drain() and abort(). */
  private stall: { readonly since: number; delayed: number } | undefined;
  /**
   * The active memtable for which the executor was last asked to start its flush's thread
   * (applyGroup): asked once a memtable, so that a worker which then ends for being idle is not
   * started again by every later write of a slowly filling memtable.
   */
  private flushThreadAskedFor: Memtable | undefined;

  /**
   * The WAL handed the group in flight to the thread pool (AppendOptions.whileWriting): into the
   * memtable now, while the pool writes, published only by applyGroup once it is logged (see
   * the top of the file). A failure is kept for applyGroup: the WAL write is under way, and the
   * group settles when it does.
   */
  private readonly insertWhileLogging = (): void => {
    const g = this.inFlight;
    if (g === undefined || g.inserted) return;
    g.inserted = true;
    try {
      this.insert(g);
    } catch (err) {
      g.insertError = err ?? new Error('the memtable refused a write');
    }
  };

  /** What `log` asks of the WAL (one object each, not one per append). */
  private readonly appendSync = { sync: true, whileWriting: this.insertWhileLogging };
  private readonly appendNoSync = { sync: false, whileWriting: this.insertWhileLogging };

  /** The WAL wrote (and synced) a group that was alone (see `write`): it is `inFlight` until applied here. */
  private readonly aloneLogged = (): Promise<void> | undefined => {
    this.applyGroup(this.inFlight!);
    return turnTooLong() ? nextTurn() : undefined;
  };

  /** `aloneLogged` for a durable write on the real disk (see turnUnderWayTooLong). */
  private readonly aloneSynced = (): Promise<void> | undefined => {
    this.applyGroup(this.inFlight!);
    return turnUnderWayTooLong() ? nextTurn() : undefined;
  };

  private readonly aloneFailed = (err: unknown): never => {
    throw this.failGroup(this.inFlight!, err);
  };

  /** Durable writes complete in an fdatasync's I/O callback (the real disk): see turnUnderWayTooLong. */
  private readonly syncIsIo: boolean;

  constructor(private readonly core: DbCore) {
    this.syncIsIo = crossesThreads(core.opts.fs);
    core.onProgress(() => {
      this.drain();
    });
  }

  /**
   * Writes `ops` atomically. Validation is the caller's job. `callerOwns` (CallerOwns bits, for
   * every op): the fields that are still the caller's buffers, copied here while the copies fit
   * in writeQueueSize (see the top of the file); the others are the engine's own and never copied.
   */
  write(ops: BatchOp[], sync: boolean, userBytes: number, callerOwns: number = CallerOwns.none): Promise<void> {
    this.admit(userBytes);
    if (ops.length === 0) return Promise.resolve();
    const alone = this.alone();
    if (alone && userBytes < ALONE_INSERT_BYTES) {
      // Alone and small: into the memtable now, unpublished, from the caller's own buffers — no
      // copy (see the top of the file).
      return this.logAlone(newGroup(ops, undefined, 1, userBytes, 0), sync, true);
    }
    let held = ops;
    let copiedBytes = 0;
    if (callerOwns !== CallerOwns.none) {
      const bytes = callerOwns === CallerOwns.all ? userBytes : callerBytes(ops, callerOwns);
      if (this.copiedBytes + bytes <= this.core.opts.writeQueueSize) {
        held = ops.length === 1 ? [copyOp(ops[0]!, callerOwns)] : ops.map((op) => copyOp(op, callerOwns));
        copiedBytes = bytes;
      }
    }
    this.copiedBytes += copiedBytes;
    // Alone and large: applied once logged, or pipelined (the WAL hands it to the thread pool).
    if (alone) return this.logAlone(newGroup(held, undefined, 1, userBytes, copiedBytes), sync, false);
    this.pendingBytes += userBytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: held, sync, userBytes, copiedBytes, resolve, reject });
      this.drain();
    });
  }

  /**
   * Writes a WriteBatch's record atomically (validated as it was built; the record is the
   * engine's own, never the caller's buffers). Alone (nothing queued or in flight, no stall: a
   * bulk load awaiting each batch), the record is the group: the WAL copies it as it is and the
   * memtable inserts from it — no op object or views held per operation. Otherwise its ops join
   * the queue as objects (views into the record) and are grouped like any write.
   */
  writeRecord(record: BatchRecord, sync: boolean, userBytes: number): Promise<void> {
    this.admit(userBytes);
    if (record.count === 0) return Promise.resolve();
    if (!this.alone()) return this.write(record.ops(), sync, userBytes, CallerOwns.none);
    // Small: into the memtable now, as `write` does a small write alone; large: pipelined or
    // applied once logged.
    return this.logAlone(newGroup(NO_OPS, record, 1, userBytes, 0), sync, userBytes < ALONE_INSERT_BYTES);
  }

  /** Refuses a write before it is sequenced: a closed or failed database, or a record the WAL cannot take. */
  private admit(userBytes: number): void {
    this.core.checkWritable();
    if (userBytes > MAX_BATCH_SIZE) {
      throw new StrataError('INVALID_ARGUMENT', `the batch holds ${userBytes} bytes of keys and values; the limit is ${MAX_BATCH_SIZE} — split it`);
    }
  }

  /** Nothing queued or in flight and no stall: a write is a group of its own, logged now. */
  private alone(): boolean {
    return this.queue.size === 0 && this.inFlight === undefined && this.core.stallState() === 'none';
  }

  /**
   * Logs a write that is alone as its own group. No queue entry, no promise of its own: the caller
   * awaits the log-and-publish chain, whose handlers find the group in `inFlight` (no closures).
   * `insertNow`: into the memtable while the WAL writes; else pipelined (the WAL hands a large
   * record to the thread pool and calls `insertWhileLogging`) or applied once logged.
   */
  private logAlone(g: Group, sync: boolean, insertNow: boolean): Promise<void> {
    this.pendingBytes += g.bytes;
    const logged = this.log(g, sync).then(sync && this.syncIsIo ? this.aloneSynced : this.aloneLogged, this.aloneFailed);
    if (insertNow) this.insertWhileLogging();
    return logged;
  }


  /**
   * Freezes the active memtable (db.flush()) between two groups: at once if none is being
   * logged, else right after the one in flight is published — its record is in the segment the
   * rotation closes, so it must be in the memtable frozen with it. Rejects like a write if the
   * database turned read-only or closed meanwhile.
   */
  freeze(): Promise<void> {
    if (this.inFlight === undefined) {
      // Never after a failure: the active memtable may hold a pipelined group that was not logged.
      this.core.checkWritable();
      this.core.freezeMemtable();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.freezers.push(() => {
        try {
          this.core.checkWritable();
          this.core.freezeMemtable();
          resolve();
        } catch (err) {
          reject(toStrataError(err, 'freezing the memtable failed'));
        }
      });
    });
  }

  get waiting(): number {
    return this.queue.size;
  }

  /** Keys and values of the pending writes, and how many of those bytes are the write path's copies. */
  get memory(): { readonly queued: number; readonly copies: number } {
    return { queued: this.pendingBytes, copies: this.copiedBytes };
  }

  /** Sequences the group and hands it to the WAL as one record; it is in flight until applied or failed. */
  private log(g: Group, sync: boolean): Promise<void> {
    g.first = this.core.assignSequences(g.count);
    this.inFlight = g;
    try {
      const options = sync ? this.appendSync : this.appendNoSync;
      return g.record !== undefined ? this.core.wal.appendRecord(g.record, g.first, options) : this.core.wal.append(g.ops, g.first, options);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Into the active memtable, unpublished. */
  private insert(g: Group): void {
    const { record } = g;
    if (record === undefined) {
      this.core.emptyRanges?.noteWrite(g.ops, g.first);
      this.core.activeMemtable.apply(g.ops, g.first);
      return;
    }
    this.core.emptyRanges?.noteRecord(record, g.first);
    // Op by op: a refusal midway leaves part of the group in the active memtable, unpublished,
    // which is what a failed group leaves anyway (never published past, frozen or flushed: see
    // the top of the file; applyGroup fails the group).
    record.applyTo(this.core.activeMemtable, g.first);
  }

  /**
   * The group's WAL write succeeded: into the memtable (unless it is there already: pipelined),
   * visible, then the next group. Throws (after failGroup) if the memtable refused it.
   */
  private applyGroup(g: Group): void {
    const core = this.core;
    const { count, first } = g;
    this.inFlight = undefined;
    let refused: unknown;
    if (!g.inserted) {
      try {
        this.insert(g);
      } catch (err) {
        refused = err ?? new Error('the memtable refused a write');
      }
    } else refused = g.insertError;
    // Logged but not applied: the memtable and the log disagree; refuse further writes.
    if (refused !== undefined) throw this.failGroup(g, refused, 'applying a write failed');
    core.publishSequence(first + count - 1);
    // Logged (the WAL copied it) and applied (the memtable and EmptyRanges copy what they keep):
    // its buffer can go to the next batch.
    g.record?.recycle();
    const c = core.counters;
    c.writeOps += count;
    c.writeBatches += g.writes;
    c.userBytesWritten += g.bytes;
    c.walBytesWritten = core.wal.bytesWritten;
    this.release(g);
    // Between groups (none is in the WAL now): the rotation closes a segment holding exactly this memtable's records.
    if (core.state === 'open') {
      const bytes = core.activeMemtable.approximateBytes();
      // core.freezeSize: memtableSize, or more once L1 is big (write/freeze-size.ts).
      const at = core.freezeSize;
      if (bytes >= at) core.freezeMemtable();
      else if (bytes >= at / 2 && this.flushThreadAskedFor !== core.activeMemtable) {
        this.flushThreadAskedFor = core.activeMemtable;
        core.executor.prepareForFlush();
      }
    }
    this.runFreezers();
    this.drain();
  }

  /**
   * The group's WAL write (or fdatasync) failed, or the memtable refused it (`what` says which):
   * nothing of it is published (a pipelined group stays in the active memtable, invisible and
   * never flushed: see the top of the file); the database is read-only.
   */
  private failGroup(g: Group, err: unknown, what = 'writing the WAL failed'): StrataError {
    this.inFlight = undefined;
    this.release(g);
    // The one background error of this failure; rejects the queue (READ_ONLY) through notifyProgress → drain.
    const e = this.core.setBackgroundError(err, what);
    this.runFreezers();
    this.drain();
    return e;
  }

  private release(g: { readonly bytes: number; readonly copied: number }): void {
    this.pendingBytes -= g.bytes;
    this.copiedBytes -= g.copied;
  }

  private runFreezers(): void {
    if (this.freezers.length === 0) return;
    const fns = this.freezers;
    this.freezers = [];
    for (const fn of fns) fn();
  }

  /** Commits the next queued group, unless one is in the WAL or the pressure holds it back. */
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
      if (this.inFlight !== undefined) return; // applyGroup / failGroup call again
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

  /**
   * Takes the writes at the head (up to GROUP_BYTES; at least one) and logs them as one record;
   * once logged and applied, settles them all.
   */
  private commitGroup(): void {
    const head = this.queue.shift();
    const members: PendingWrite[] = [head];
    let bytes = head.userBytes;
    let copied = head.copiedBytes;
    let sync = head.sync;
    for (let next = this.queue.peek(); next !== undefined && bytes + next.userBytes <= GROUP_BYTES; next = this.queue.peek()) {
      members.push(this.queue.shift());
      bytes += next.userBytes;
      copied += next.copiedBytes;
      sync ||= next.sync;
    }
    let ops: BatchOp[];
    if (members.length === 1) ops = head.ops;
    else {
      ops = [];
      for (const m of members) for (const op of m.ops) ops.push(op);
    }
    if (this.stall !== undefined) this.stall.delayed += members.length;
    const g = newGroup(ops, undefined, members.length, bytes, copied);
    this.log(g, sync).then(
      () => {
        try {
          this.applyGroup(g);
        } catch (err) {
          for (const m of members) m.reject(err);
          return;
        }
        if (sync && this.syncIsIo ? turnUnderWayTooLong() : turnTooLong()) {
          resolveNextTurn(() => {
            for (const m of members) m.resolve();
          });
        } else for (const m of members) m.resolve();
      },
      (err: unknown) => {
        const e = this.failGroup(g, err);
        for (const m of members) m.reject(e);
      },
    );
  }

  /** Removes every waiting write (not the group in flight). */
  private takeAll(): PendingWrite[] {
    const all = this.queue.takeAll();
    for (const w of all) this.release({ bytes: w.userBytes, copied: w.copiedBytes });
    return all;
  }

  /**
   * Rejects every queued write (close). The group in flight, if any, completes: its record is
   * in the WAL, which close() waits for.
   */
  abort(err: unknown): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
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
