/**
 * LeveledCompactor: the compaction module as the database core sees it (`DbCore.compactor`).
 *
 * Scheduling: up to `maxBackgroundCompactions` compactions at a time, in the background (each
 * tracked by `core.runBackground`, so close() waits for it and a failure turns the database
 * read-only with the cause — a compaction over a corrupt table fails, keeps its inputs, and is
 * not retried in a loop). `maybeSchedule()` is called by the core after every flush, after
 * every compaction and at open; it picks the most urgent compactions from the current Version
 * that can run beside the running ones (picker.ts states the rules), until the slots are full.
 *
 * The Version a compaction is picked from is pinned in the same synchronous step as the pick,
 * and stays pinned until the job ends: its input files cannot be deleted under the job, and
 * after the job's edit they are deleted only once no reader's Version lists them either. A
 * compaction's inputs are in the Version current when it is picked and stay in every later one
 * until its own edit: the picker never gives a running compaction's inputs to another.
 *
 * Manual compaction (`db.compact()`, `compactRange`) waits for every running job, holds off new
 * automatic ones, and runs one overlap-closed compaction of the range into the bottom level
 * (picker.ts). Close aborts running jobs between slices: their outputs are abandoned and the
 * inputs stay, exactly as if they had never started.
 */
import type { Compactor, DbCore } from '../db/core.js';
import { StrataError, toStrataError } from '../errors.js';
import type { Version } from '../version/version.js';
import { readCandidateGone } from '../version/read-allowances.js';
import { tableSettingsOf } from '../background/jobs.js';
import { inputFiles, totalBytes, type Compaction } from './compaction.js';
import { CompactionStatsRecorder, type CompactionStats } from './compaction-stats.js';
import { runCompaction, type CompactionJobEnv } from './job.js';
import { CompactionPicker, computeScores, pendingCompactionBytes, type LevelScore } from './picker.js';
import { sortedRunCount, UniversalPicker } from './universal-picker.js';

/** Thrown between slices when the database closes under a running compaction. */
class CompactionAborted extends Error {
  constructor(why = 'the database is closing') {
    super(`compaction aborted: ${why}`);
  }
}

export class LeveledCompactor implements Compactor {
  private readonly picker: CompactionPicker;
  /** Set with compactionStyle 'universal': it picks the automatic compactions (manual ones stay `picker`'s). */
  private readonly universal: UniversalPicker | undefined;
  private readonly recorder: CompactionStatsRecorder;
  private readonly env: CompactionJobEnv;
  /**
   * Compactions holding a slot (their tasks' promises): at most opts.maxBackgroundCompactions.
   * A slot is given back once the compaction's edit is installed.
   */
  private readonly running = new Map<Promise<void>, Compaction>();
  /** Compaction tasks not finished: slots held, and those still deleting their inputs (stats().compaction.running). */
  private readonly tasks = new Set<Promise<void>>();
  /**
   * Per started compaction, settled when its edit is installed (resolved) or never will be
   * (rejected): what a universal merge `after` it waits for before installing its own.
   */
  private readonly installed = new WeakMap<Compaction, Promise<void>>();
  /** Per started compaction, its job id (events): what `compaction-begin` names as `after`. */
  private readonly jobIds = new WeakMap<Compaction, number>();
  /**
   * Compactions whose merge is done and that wait for another's edit (`after`): they hold no
   * worker, so they do not count against maxBackgroundCompactions (at most one per level ≥ 1:
   * universal-picker.ts, rule 4).
   */
  private waiting = 0;
  /** Manual compactions waiting or running: automatic ones do not start meanwhile. */
  private manual = 0;
  private closed = false;
  /**
   * pendingCompactionBytes of the last Version asked about (asked on every write): two fields,
   * set in the constructor and always a Version and a number. As one `{ version, bytes }`
   * object made by the first write, its field type was the first database's Version map, and
   * the optimized write path (stallState inlined) was thrown away at the next database's first
   * write; as `undefined` until then, at the one after ("not a JavaScript object": V8 allocates
   * a function's type feedback only after its first calls, so it never saw the undefined) —
   * recompiles on the durable-put path of every database opened after the first (engine README).
   * `maybeSchedule` refreshes them whenever a Version is installed.
   */
  private pendingVersion: Version;
  private pendingBytes: number;

  constructor(private readonly core: DbCore) {
    const o = core.opts;
    this.pendingVersion = core.versions.current;
    this.universal = o.compactionStyle === 'universal' ? new UniversalPicker(o) : undefined;
    this.pendingBytes = this.pendingOf(this.pendingVersion);
    this.picker = new CompactionPicker(o);
    this.recorder = new CompactionStatsRecorder(o.numLevels);
    this.env = {
      dir: core.dir,
      fs: o.fs,
      versions: core.versions,
      snapshots: () => core.snapshots.sequences(),
      targetFileSize: o.targetFileSize,
      tableSettings: (level, bottommost) => tableSettingsOf(o, level, bottommost),
      executor: core.executor,
      maxSubcompactions: o.maxSubcompactions,
      checkAbort: () => {
        if (this.stopping()) throw new CompactionAborted();
      },
      warn: (message, err) => {
        core.events.warn(message, err);
      },
    };
  }

  /** Compactions running now. */
  get runningCount(): number {
    return this.running.size;
  }

  maybeSchedule(): void {
    const core = this.core;
    // Called at open and after every installed Version: the stall check finds its cache current
    // (see pendingVersion) and never takes, in the optimized write path, a branch it has no
    // type feedback for (a database's first write after open, otherwise).
    this.pendingCompactionBytes();
    while (this.running.size - this.waiting < core.opts.maxBackgroundCompactions && this.manual === 0 && !this.closed) {
      if (core.state !== 'open' || core.backgroundError !== undefined) return;
      const version = core.versions.pinCurrent();
      const reads = core.readAllowances;
      const candidate = reads?.candidate;
      // A read candidate that can no longer be compacted is dropped: kept, it would block every later one.
      if (candidate !== undefined && readCandidateGone(version, candidate)) reads!.clear();
      const running = [...this.running.values()];
      const c = this.universal !== undefined ? this.universal.pick(version, running) : this.picker.pick(version, running, reads?.candidate);
      if (c === undefined) {
        version.unref();
        return;
      }
      if (c.reason === 'reads') reads!.clear();
      const behind = this.behind();
      if (behind) this.recorder.behindCompactions++;
      // Universal compaction has no backlog estimate (pendingCompactionBytes is 0, as RocksDB's):
      // a merge is cut into ranges for every worker when it alone is past parallelCompactionBytes.
      const big = this.universal !== undefined && totalBytes(inputFiles(c)) >= core.opts.parallelCompactionBytes;
      void this.start(c, version, behind || big);
    }
  }

  /** Compacts every table overlapping [lo, hi] (inclusive; absent = unbounded) into the bottom level. */
  async compactRange(lo: Uint8Array | undefined, hi: Uint8Array | undefined): Promise<void> {
    this.manual++;
    try {
      while (this.running.size > 0) await Promise.all(this.running.keys());
      const core = this.core;
      if (this.stopping() || core.backgroundError !== undefined) return;
      const version = core.versions.pinCurrent();
      const c = this.picker.pickManual(version, lo, hi, this.universal !== undefined);
      if (c === undefined) {
        version.unref();
        return;
      }
      await this.start(c, version, true);
      if (this.stopping()) {
        throw new StrataError('NOT_OPEN', 'the database was closed while compact() ran; the compaction was abandoned and the data is as it was before it');
      }
    } finally {
      this.manual--;
      this.core.maybeScheduleCompaction();
    }
  }

  /** Estimated bytes still to compact (write stalls use it); cached per Version. */
  pendingCompactionBytes(): number {
    const v = this.core.versions.current;
    if (this.pendingVersion !== v) {
      this.pendingBytes = this.pendingOf(v);
      this.pendingVersion = v;
    }
    return this.pendingBytes;
  }

  /** RocksDB's estimate for leveled compaction; 0 for universal (RocksDB estimates none there). */
  private pendingOf(v: Version): number {
    return this.universal !== undefined ? 0 : pendingCompactionBytes(v, this.core.opts);
  }

  /**
   * Compaction is behind (RocksDB's NeedSpeedupCompaction, which GetBGJobLimits asks before it
   * lets more than one compaction run): writes are delayed or stopped for want of compaction
   * (`core.compactionStall()`: L0 at l0SlowdownWritesTrigger, or pending compaction bytes past
   * softPendingCompactionBytesLimit), or the backlog is past parallelCompactionBytes. Then a
   * compaction may be cut into ranges and use every worker thread; otherwise it is one job for
   * the first worker. On a machine with two
   * cores the main thread is mostly idle while its writes are held back, so a second worker then
   * takes a core that would idle; while writes flow, one worker leaves the other core to the
   * event loop. A stall for frozen memtables alone is not counted: a flush goes to the first
   * worker anyway, and a small database that fills faster than one worker flushes (a 1M-key
   * fill) would otherwise start a second worker, and its memory, for nothing.
   */
  behind(): boolean {
    return this.core.compactionStall() !== 'none' || this.pendingCompactionBytes() >= this.core.opts.parallelCompactionBytes;
  }

  stats(): CompactionStats {
    const v = this.core.versions.current;
    const scores: LevelScore[] = this.universal !== undefined ? [{ level: 0, score: this.universalScore(v) }] : computeScores(v, this.core.opts);
    return this.recorder.snapshot(this.tasks.size > 0, this.running.size, scores, this.pendingCompactionBytes());
  }

  /**
   * Universal compaction's one score, for the whole tree at L0 (as RocksDB's): sorted runs /
   * l0CompactionTrigger when a merge is due (the picker would take one with nothing running),
   * else below 1 — at the trigger, runs whose sizes match no rule wait for the next flush.
   */
  private universalScore(v: Version): number {
    const score = sortedRunCount(v) / this.core.opts.l0CompactionTrigger;
    return this.universal!.pick(v) !== undefined ? score : Math.min(score, 0.99);
  }

  close(): void {
    this.closed = true;
  }

  /** The database is closing (or closed): no new compaction starts, a running one aborts. */
  private stopping(): boolean {
    return this.closed || this.core.state !== 'open';
  }

  /**
   * Runs `c` in the background; `version` (pinned by the caller) is released when it ends.
   * `parallel`: the compaction may be cut into ranges (subcompactions) and use every worker
   * thread; otherwise it is one job for the first worker. Automatic compactions are parallel
   * while compaction is behind (`behind()`), manual ones always.
   */
  private start(c: Compaction, version: Version, parallel: boolean): Promise<void> {
    const core = this.core;
    let env: CompactionJobEnv = parallel ? this.env : { ...this.env, maxSubcompactions: 1, threads: 1 };
    let settle: { resolve(): void; reject(err: unknown): void } = { resolve: () => undefined, reject: () => undefined };
    const installed = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    installed.catch(() => undefined);
    this.installed.set(c, installed);
    const first = c.after === undefined ? undefined : this.installed.get(c.after);
    if (first !== undefined) {
      env = {
        ...env,
        beforeInstall: async () => {
          this.waiting++;
          // Its worker is free: another compaction may start meanwhile.
          core.maybeScheduleCompaction();
          try {
            await first.catch(() => {
              throw new CompactionAborted('the compaction it was to be installed after did not install');
            });
          } finally {
            this.waiting--;
          }
        },
      };
    }
    const events = core.events;
    const jobId = events.nextJobId();
    this.jobIds.set(c, jobId);
    const after = c.after === undefined ? undefined : this.jobIds.get(c.after);
    const inputs = c.inputs.map((i) => ({ level: i.level, fileNumbers: i.files.map((f) => f.fileNumber) }));
    const about = { jobId, reason: c.reason, level: c.level, outputLevel: c.outputLevel, inputs, trivialMove: c.trivialMove };
    const inputBytes = totalBytes(inputFiles(c));
    let release = (): void => undefined;
    const p = core.runBackground('compaction', async () => {
      const started = performance.now();
      events.emit({ type: 'compaction-begin', ...about, inputBytes, ...(after === undefined ? {} : { after }) });
      try {
        const result = await runCompaction(c, version, env);
        settle.resolve();
        this.recorder.record(result);
        const counters = core.counters;
        counters.compactions++;
        let bytesRead = 0;
        if (!result.trivialMove) {
          for (const bytes of result.bytesReadByLevel.values()) bytesRead += bytes;
          counters.compactionBytesRead += bytesRead;
          counters.compactionBytesWritten += result.bytesWritten;
          for (const f of result.outputs) events.emit({ type: 'table-created', fileNumber: f.fileNumber, level: c.outputLevel, bytes: f.fileSize, reason: 'compaction' });
        }
        events.emit({
          type: 'compaction-end',
          ...about,
          outputs: result.outputs.map((f) => f.fileNumber),
          bytesRead,
          bytesWritten: result.bytesWritten,
          durationMs: result.durationMs,
        });
      } catch (err) {
        settle.reject(err);
        const aborted = err instanceof CompactionAborted;
        const durationMs = performance.now() - started;
        const failure = { ...about, outputs: [], bytesRead: 0, bytesWritten: 0, durationMs };
        if (aborted) {
          events.emit({ type: 'compaction-end', ...failure, aborted: true });
          return;
        }
        this.recorder.failedCompactions++;
        const error = toStrataError(err, 'compaction failed');
        events.emit({ type: 'compaction-end', ...failure, error });
        throw error;
      } finally {
        version.unref();
      }
      // The edit is installed: its inputs are in no current Version any more, so the slot is
      // free for the next pick while they are deleted off the JS thread (FileSystem.unlink).
      // The task (close() waits for it) ends once they are gone, unless a reader holds them.
      release();
      await core.versions.settleDeletions();
    });
    let released = false;
    release = () => {
      if (released) return;
      released = true;
      this.running.delete(p);
      core.notifyProgress();
      core.maybeScheduleCompaction();
    };
    this.running.set(p, c);
    this.tasks.add(p);
    void p.finally(() => {
      this.tasks.delete(p);
      release();
    });
    return p;
  }
}
