/**
 * Background jobs in `worker_threads` workers: flushes and compaction merges run on another
 * core, and nothing of them on the event loop. The main thread keeps what must be serialised
 * (picking, file numbers, the manifest edit, installing the Version, deleting files, stalls).
 *
 * - A flush sends the frozen memtable's image: its memory is shared (SharedArrayBuffers), not
 *   copied; the main thread keeps serving reads from the same memtable meanwhile.
 * - Workers start on first use — the first one a little before: when the active memtable is half
 *   full (`prepareForFlush`), so that the ~0.1–0.3 s a thread takes to start (an isolate, the
 *   engine's code) overlaps the writes, not the first flush, which writers may be waiting for —
 *   and are picked by fewest jobs in flight; one worker can run a
 *   flush while a compaction of its own is in progress (worker-entry.ts). A job says how many
 *   workers it may spread over (`compact(…, threads)`): the scheduler lets compactions use more
 *   than the first only while compaction is behind (scheduler.ts, `behind()`).
 * - The first worker runs at the process's priority and takes every flush (a flush is what
 *   writers wait for). A worker started beside it runs at a lower CPU priority (nice +10 on
 *   Linux, worker-entry.ts): on a machine with as many cores as threads it takes the cycles the
 *   user's thread leaves — while writers are stalled — and not the ones it needs.
 * - A worker is `unref`ed while idle and `ref`ed while it runs a job: an open database never
 *   keeps the process alive when it has nothing to do, and a job in flight is not cut short.
 * - A worker idle for `idleMs` (the `backgroundThreadIdleMs` option) ends, as at close (a `stop`
 *   message, exit code 0), and the next job starts a new one. An idle worker still holds its
 *   isolate: measured after a 1M fill, RSS fell 129 → 118 MB when it ended. (Its thread's malloc
 *   arena, where its jobs' buffers were, ~20 MB after compactions, is not given back: glibc
 *   keeps an exited thread's arena for the next thread, here the next worker — which is why a
 *   new worker's thread waits for an exiting one's, `start`.) The timer is
 *   `unref`ed: it keeps no process alive. A worker that ends this way has no job, so its exit is
 *   no background error; one that dies with a job still fails it.
 * - Abort: while a compaction runs, the caller's `checkAbort` is polled; when it throws (the
 *   database is closing) a shared flag tells the worker to stop between slices, and the job
 *   rejects with what `checkAbort` threw.
 * - A worker that dies (uncaught error, out of memory, terminated) fails every job it had with
 *   IO_ERROR saying so; the caller's background-error handling turns the database read-only.
 *   Its partial outputs are orphans, deleted at the next open.
 * - Close ends a worker the way a thread ends on its own: a `stop` message, after which its event
 *   loop empties and it exits. `terminate()` stops an isolate wherever it is, garbage collection
 *   included, and twice in full test runs a process aborted in Node's teardown of a terminated
 *   worker (`NodePlatform::ForIsolate`, a V8 task for an isolate already gone; the family of
 *   nodejs/node#51129). So it is kept for a thread that has not exited `STOP_GRACE_MS` after
 *   being asked, and for tests that simulate a crash.
 */
import type { FrozenMemtable } from '@strata-db/memtable';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { StrataError } from '../errors.js';
import { DEFAULT_BACKGROUND_THREAD_IDLE_MS } from '../options.js';
import type { BackgroundExecutor, FlushHooks, FlushJobResult, JobHooks } from './executor.js';
import { deserializeError } from './job-errors.js';
import type { CompactionJob, CompactionJobResult, FlushJob } from './jobs.js';
import type { FromWorker, ToWorker, WorkerMemory } from './protocol.js';
import { startWorker, workerSource, type WorkerSource } from './worker-loader.js';

const NO_MEMORY: WorkerMemory = { heapTotal: 0, peakHeapTotal: 0, arrayBuffers: 0, peakArrayBuffers: 0, collections: 0, windowPool: 0 };

/**
 * A worker's V8 heap bounds. The young generation is capped at 2 MiB (V8's default lets it grow
 * to 3 × 16 MiB): a worker's live heap is small (~6 MB: the job's entries, index blocks, file
 * metadata) and what it allocates dies young, so a larger nursery only holds garbage longer —
 * measured, the worker's heap committed 41 MB at 3M keys with the default, 13 MB with this cap,
 * and the fill's peak RSS fell by ~30 MB; the worker collects its nursery more often (on its own
 * core). 2 MiB since 2026-11-28 (was 4): 1M fillrandom peak RSS 129–133 → 126–131 MB with the
 * other worker changes of that day (readahead.ts), its heap committed 12.6 → ~10 MB. The old generation keeps V8's default limit: a compaction's range tombstones are held
 * in it, and a job must not fail for want of heap the machine has. A worker that reaches a limit
 * dies as any other (`ERR_WORKER_OUT_OF_MEMORY`): its jobs fail with IO_ERROR saying so, and the
 * database turns read-only (test/background.test.ts).
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 2 };

/** How often a running compaction's `checkAbort` is polled, ms. */
const ABORT_POLL_MS = 20;

/**
 * How long close waits for a stopped worker to exit before it terminates it, ms. An idle
 * worker exits in well under 100 ms; the margin covers a loaded machine and a worker still
 * finishing a job that close could not drain (a failed drain).
 */
export const STOP_GRACE_MS = 5000;

interface PendingJob {
  readonly what: string;
  readonly resolve: (m: FromWorker) => void;
  readonly reject: (e: StrataError) => void;
  readonly hooks: Partial<JobHooks> | undefined;
}

class WorkerSlot {
  readonly jobs = new Map<number, PendingJob>();
  /** Started beside a live worker: runs at a lower CPU priority and takes no flush while another can. */
  readonly lowPriority: boolean;
  dead = false;
  /** Ends this worker once it has been idle `idleMs` (the executor's); unset while a job runs. */
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() when its last job settled (meaningful while `idleTimer` is set). */
  idleSince = 0;
  /** The worker's own memory as it last reported it (before its last job's answer). */
  memory: WorkerMemory = NO_MEMORY;
  /** The thread; undefined while its start waits for ended workers' threads to exit (`after`). */
  private thread: Worker | undefined;
  /** Messages posted before the thread started, in order. */
  private readonly queued: ToWorker[] = [];
  /** Whether the thread is to keep the process alive (applied when it starts). */
  private referenced = false;
  /** Settles when the thread has exited, however it ended (or, never started, once it will not). */
  private readonly exited: Promise<void>;
  private hasExited = false;
  private markExited!: () => void;

  /**
   * `start` makes the thread: now, or once `after` settles (see WorkerExecutor.start) — unless
   * the slot died meanwhile (close, or a test's crash), when it never starts.
   */
  constructor(
    start: () => Worker,
    after: Promise<unknown> | undefined,
    lowPriority: boolean,
    private readonly onDeath: (slot: WorkerSlot) => void,
    private readonly onIdle: (slot: WorkerSlot) => void,
  ) {
    this.lowPriority = lowPriority;
    this.exited = new Promise((resolve) => {
      this.markExited = () => {
        this.hasExited = true;
        resolve();
      };
    });
    if (after === undefined) {
      this.attach(start());
      return;
    }
    void after.then(() => {
      if (this.dead) {
        this.markExited();
        return;
      }
      try {
        this.attach(start());
      } catch (err) {
        this.die(`could not be started (${(err as Error).message})`);
        this.markExited();
      }
    });
  }

  /** The thread, once started (tests reach it). */
  get worker(): Worker | undefined {
    return this.thread;
  }

  private attach(worker: Worker): void {
    this.thread = worker;
    worker.once('exit', () => {
      this.markExited();
    });
    if (this.referenced) worker.ref();
    else worker.unref();
    worker.on('message', (m: FromWorker) => {
      this.onMessage(m);
    });
    worker.on('error', (err: Error & { code?: string }) => {
      this.die(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of memory (${err.message})` : `failed with an uncaught error: ${err.message}`);
    });
    worker.on('exit', (code) => {
      this.die(`exited (code ${code})`);
    });
    for (const m of this.queued.splice(0)) worker.postMessage(m);
  }

  private send(m: ToWorker): void {
    if (this.thread === undefined) this.queued.push(m);
    else this.thread.postMessage(m);
  }

  private setReferenced(on: boolean): void {
    this.referenced = on;
    if (on) this.thread?.ref();
    else this.thread?.unref();
  }

  post(m: ToWorker, job: PendingJob & { id: number }): void {
    this.jobs.set(job.id, job);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.jobs.size === 1) this.setReferenced(true);
    this.send(m);
  }

  private settle(id: number): PendingJob | undefined {
    const job = this.jobs.get(id);
    this.jobs.delete(id);
    if (this.jobs.size === 0 && !this.dead) {
      this.setReferenced(false);
      this.onIdle(this);
    }
    return job;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        return;
      case 'memory':
        this.memory = m.memory;
        return;
      case 'needNumbers': {
        const job = this.jobs.get(m.id);
        let numbers: readonly number[] = [];
        try {
          numbers = job?.hooks?.moreFileNumbers?.(m.count) ?? [];
        } catch {
          // the worker then fails the job: it has no number for its next output
        }
        this.send({ type: 'numbers', id: m.id, numbers } satisfies ToWorker);
        return;
      }
      case 'warn': {
        const err = deserializeError(m.error, m.message);
        this.jobs.get(m.id)?.hooks?.warn?.(m.message, err);
        return;
      }
      case 'failed': {
        const job = this.settle(m.id);
        if (job === undefined) return;
        if (m.error.aborted && job.hooks?.checkAbort !== undefined) {
          try {
            job.hooks.checkAbort();
          } catch (err) {
            job.reject(err as StrataError);
            return;
          }
        }
        job.reject(deserializeError(m.error, `${job.what} failed in a background thread`));
        return;
      }
      default:
        this.settle(m.id)?.resolve(m);
    }
  }

  /**
   * Asks the thread to end and waits until it has (see the header): `terminate()` only if it
   * has not exited after `graceMs`. Referenced meanwhile (`keepAlive`, at close), so that a
   * process whose last act is `await db.close()` does not exit, or report an unsettled await,
   * before the thread is gone; not when an idle worker ends, which must keep no process alive.
   */
  async stop(graceMs: number, keepAlive = true): Promise<void> {
    if (this.hasExited) return;
    const worker = this.thread;
    if (worker === undefined) {
      // not started yet, and dead (close and idle ends kill a slot first): it never will be
      await this.exited;
      return;
    }
    if (keepAlive) worker.ref();
    worker.postMessage({ type: 'stop' } satisfies ToWorker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => {
        resolve('late');
      }, graceMs);
      if (!keepAlive) timer.unref();
    });
    try {
      if ((await Promise.race([this.exited, late])) === 'late') await worker.terminate();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Keeps the process alive until the thread has exited (its `stop` grace timer then fires too). */
  keepProcessAlive(): void {
    if (!this.hasExited) this.setReferenced(true);
  }

  /** Fails every job in flight; the slot is not used again. */
  die(how: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.onDeath(this);
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) {
      job.reject(new StrataError('IO_ERROR', `the background worker thread ${how} while running ${job.what}; what it wrote is not used (the database turns read-only: close and reopen it to recover)`));
    }
  }
}

export class WorkerExecutor implements BackgroundExecutor {
  private readonly slots: WorkerSlot[] = [];
  /** Workers that ended for being idle and have not exited yet, and their exits: close waits for them too. */
  private readonly ending = new Map<WorkerSlot, Promise<void>>();
  /** What workers that have ended reported (their collections, their peaks), for `memory`. */
  private ended: WorkerMemory = NO_MEMORY;
  /** Workers ended for being idle (stats and tests). */
  private idleEnds = 0;
  private nextId = 1;
  private closed = false;
  private allIdle: (() => void) | undefined;

  constructor(
    readonly threads: number,
    private readonly source: WorkerSource = workerSource(),
    /** Each worker's V8 heap bounds (tests lower them to see a worker reach one). */
    private resourceLimits: ResourceLimits = WORKER_RESOURCE_LIMITS,
    /** How long a worker may be idle before it ends (see the header), ms. */
    private readonly idleMs: number = DEFAULT_BACKGROUND_THREAD_IDLE_MS,
  ) {}

  onAllIdle(listener: () => void): void {
    this.allIdle = listener;
  }

  /** Workers that have ended after `idleMs` without a job, since the executor started. */
  get idleWorkersEnded(): number {
    return this.idleEnds;
  }

  /** Live worker threads (for stats and tests). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /** The live workers' own memory as each last reported it, summed. */
  get memory(): WorkerMemory {
    let heapTotal = 0;
    let peakHeapTotal = 0;
    let arrayBuffers = 0;
    let peakArrayBuffers = 0;
    let collections = 0;
    let windowPool = 0;
    for (const { memory: m } of this.slots) {
      collections += m.collections;
      windowPool += m.windowPool;
      heapTotal += m.heapTotal;
      peakHeapTotal += m.peakHeapTotal;
      arrayBuffers += m.arrayBuffers;
      peakArrayBuffers += m.peakArrayBuffers;
    }
    // The most seen includes what workers that have ended reported (summed with those live then).
    const e = this.ended;
    return {
      heapTotal,
      peakHeapTotal: Math.max(peakHeapTotal, e.peakHeapTotal),
      arrayBuffers,
      peakArrayBuffers: Math.max(peakArrayBuffers, e.peakArrayBuffers),
      collections: collections + e.collections,
      windowPool,
    };
  }

  /** Jobs handed to a worker and not settled yet. */
  get jobsInFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.jobs.size;
    return n;
  }

  /** Tests: the heap bounds of the workers started from now on. */
  limitWorkersForTesting(limits: ResourceLimits): void {
    this.resourceLimits = limits;
  }

  /**
   * Tests: kill every worker as a crash would (the jobs in flight fail as in a real death, from
   * the exit). The answers are cut off first: terminate() is asynchronous, and a job that
   * finished meanwhile would otherwise deliver its result before the exit — a crash after the
   * job, not in it, and a test of a death in the middle of one would pass or fail by timing.
   */
  async terminateWorkersForTesting(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        const worker = s.worker;
        if (worker === undefined) {
          s.die('was terminated before it started');
          return;
        }
        worker.removeAllListeners('message');
        await worker.terminate();
      }),
    );
  }

  async flush(mems: readonly FrozenMemtable[], job: FlushJob, hooks?: FlushHooks): Promise<FlushJobResult> {
    const m = await this.run(`the flush to table ${job.fileNumber}`, hooks, this.pickForFlush(), (id) => ({ type: 'flush', id, job, images: mems.map((mem) => mem.image()) }));
    if (m.type !== 'flushed') throw new StrataError('IO_ERROR', `internal error: unexpected answer ${m.type} to a flush`);
    return { meta: m.meta, maxSliceMs: 0 };
  }

  /** `threads`: the workers this job may be given to (the least busy of the first `threads`, started on demand). */
  async compact(job: CompactionJob, hooks: JobHooks, threads = this.threads): Promise<CompactionJobResult> {
    const abort = new Int32Array(new SharedArrayBuffer(4));
    const timer = setInterval(() => {
      try {
        hooks.checkAbort();
      } catch {
        Atomics.store(abort, 0, 1);
      }
    }, ABORT_POLL_MS);
    timer.unref();
    try {
      const m = await this.run(`a compaction into L${job.outputLevel}`, hooks, this.pick(Math.min(threads, this.threads)), (id) => ({ type: 'compact', id, job, abort }));
      if (m.type !== 'compacted') throw new StrataError('IO_ERROR', `internal error: unexpected answer ${m.type} to a compaction`);
      return m.result;
    } finally {
      clearInterval(timer);
    }
  }

  prepareForFlush(): void {
    if (this.closed || this.slots.some((s) => !s.lowPriority)) return;
    this.idle(this.start()); // a worker with no job: it ends after idleMs if no flush comes
  }

  /** Ends every worker (see the header); jobs still in flight (none, once the database drained) fail. */
  async close(graceMs = STOP_GRACE_MS): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    // A worker ended for being idle is still unreferenced (it had to keep no process alive):
    // referenced now, as the ones stopped here are, or a process whose last act is
    // `await db.close()` exits before it has (exit code 13, an unsettled await).
    for (const slot of this.ending.keys()) slot.keepProcessAlive();
    await Promise.all([
      ...slots.map(async (slot) => {
        slot.die('was stopped because the database closed');
        await slot.stop(graceMs);
      }),
      ...this.ending.values(),
    ]);
  }

  /** Called when `slot` has no job left: it ends if none comes within `idleMs`. */
  private idle(slot: WorkerSlot): void {
    if (this.closed) return;
    clearTimeout(slot.idleTimer);
    slot.idleSince = performance.now();
    slot.idleTimer = setTimeout(() => {
      this.end(slot);
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /**
   * Ends the workers idle for `idleMs` or longer whose timer has not run yet: the timer fires
   * only when the event loop reaches its timers, and a caller awaiting read after read (each
   * `await get` settles in a microtask) may keep it from there for as long as it reads. The
   * read path calls this every few thousand reads (Database.getSync).
   */
  endIdleWorkers(): void {
    if (this.slots.length === 0) return;
    const now = performance.now();
    for (const slot of [...this.slots]) if (slot.idleTimer !== undefined && now - slot.idleSince >= this.idleMs) this.end(slot);
  }

  /** Ends `slot`, idle since its last job (see the header). */
  private end(slot: WorkerSlot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    if (slot.dead || slot.jobs.size > 0 || this.closed) return;
    // Its peaks count, with the other workers live now, in what `memory` reports as the most seen.
    const m = this.memory;
    this.ended = { heapTotal: 0, arrayBuffers: 0, peakHeapTotal: m.peakHeapTotal, peakArrayBuffers: m.peakArrayBuffers, collections: this.ended.collections + slot.memory.collections, windowPool: 0 };
    this.idleEnds++;
    slot.die('ended after being idle'); // out of `slots`: the next job starts a new worker
    if (this.slots.length === 0) this.allIdle?.();
    const ending = slot.stop(STOP_GRACE_MS, false).finally(() => {
      this.ending.delete(slot);
    });
    this.ending.set(slot, ending);
  }

  private run(what: string, hooks: Partial<JobHooks> | undefined, slot: WorkerSlot | undefined, message: (id: number) => ToWorker): Promise<FromWorker> {
    if (slot === undefined) return Promise.reject(new StrataError('NOT_OPEN', `${what} was not started: the database is closed`));
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      slot.post(message(id), { id, what, resolve, reject, hooks });
    });
  }

  /** The live worker with the fewest jobs among the first `limit`; a new one while fewer than `limit` run. Undefined once closed. */
  private pick(limit: number): WorkerSlot | undefined {
    if (this.closed) return undefined;
    let best: WorkerSlot | undefined;
    for (const s of this.slots.slice(0, limit)) if (best === undefined || s.jobs.size < best.jobs.size) best = s;
    if (best !== undefined && (best.jobs.size === 0 || this.slots.length >= limit)) return best;
    return this.start();
  }

  /** A flush goes to a worker at the process's priority: the first such, or a new one while there is room. */
  private pickForFlush(): WorkerSlot | undefined {
    if (this.closed) return undefined;
    return this.slots.find((s) => !s.lowPriority) ?? (this.slots.length < this.threads ? this.start() : this.pick(this.threads));
  }

  /**
   * A new worker. While workers ended for being idle are still exiting, its thread starts only
   * once they have exited: glibc gives a new thread the malloc arena of a thread that has exited
   * (it keeps it for the next one, see the header), but one still running has its own, so a
   * worker started during another's exit got an arena of its own, and the process kept a third
   * (and more) worker-sized arena for good — 12–19 MB each after compactions, measured at 10M
   * (docs/performance/session-17.md). An idle worker exits in well under 100 ms; its jobs
   * wait that long, and the exiting workers keep the process alive meanwhile, as the job would.
   */
  private start(): WorkerSlot {
    const lowPriority = this.slots.some((s) => !s.lowPriority);
    let after: Promise<unknown> | undefined;
    if (this.ending.size > 0) {
      for (const slot of this.ending.keys()) slot.keepProcessAlive();
      after = Promise.allSettled(this.ending.values());
    }
    const limits = this.resourceLimits;
    const slot = new WorkerSlot(
      () => startWorker(this.source, limits, lowPriority),
      after,
      lowPriority,
      (dead) => {
        const i = this.slots.indexOf(dead);
        if (i >= 0) this.slots.splice(i, 1);
      },
      (idle) => {
        this.idle(idle);
      },
    );
    this.slots.push(slot);
    return slot;
  }
}
