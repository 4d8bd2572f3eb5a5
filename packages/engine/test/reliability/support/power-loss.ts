/**
 * The power-loss sweep. Run a workload on the in-memory file layer and, just before each of its
 * mutating file operations (creates, writes, truncates, syncs, renames, unlinks — between two of
 * them nothing changes, so these are all the distinct cut points), take the image a power cut
 * there would leave. Then open the database on every image and check it: it opens, and its
 * state is the state after some prefix of the issued steps that includes every step up to the
 * last one acknowledged with sync: true before the cut. Never a hole.
 *
 * One run yields every image: a power cut is a pure function of the file system at that instant
 * (`MemoryFileSystem.powerCut` leaves the running system alone), and what the image must hold is
 * fixed by the acknowledgements seen before the cut. What the engine does after the cut cannot
 * change either, so the run goes on. (The I/O error sweep covers a file layer that dies.)
 *
 * In 'drop' mode the image only changes when a sync completes, so cut points are checked once per
 * (syncs completed, acknowledged prefix, issued steps); the other modes keep unsynced bytes, so
 * every cut point is its own image.
 */
import { Database, type DatabaseOptions } from '../../../src/index.js';
import { FaultInjectingFileSystem, type FaultRule, matches, MemoryFileSystem, type OpRecord, type PowerCutMode } from '../../../src/testing/index.js';
import { applyStep, describeError, readState } from './db-driver.js';
import { describeDifference, History, type Step } from './model.js';
import { withTimeout } from './timeout.js';
import { describeStep } from './workload.js';

export const DB_PATH = '/strata/db';

export class SweepFailure extends Error {
  override name = 'SweepFailure';
}

let runCounter = 0;
/**
 * A directory of its own for each run: the engine's in-process lock registry is keyed by path, so
 * a run whose database failed to release its lock must not make every later run fail LOCKED —
 * that run reports the leak itself, when it reopens at its own path.
 */
export function freshDbPath(): string {
  return `/strata/run${++runCounter}/db`;
}

/** An image a power cut would leave, and what it must hold. */
export interface Cut {
  /** Before the k-th mutating operation (Infinity: after the database was closed). */
  readonly k: number;
  readonly image: MemoryFileSystem;
  /** Steps up to the last sync step that resolved before the cut: all must survive. */
  readonly syncAcked: number;
  /** Steps called before the cut: no later step can be in the image. */
  readonly issued: number;
}

export interface CaptureOptions {
  readonly steps: readonly Step[];
  readonly dbOptions: DatabaseOptions;
  readonly mode: PowerCutMode;
  readonly seed: number;
  /** Capture every stride-th cut point (1: all), from a seeded offset. */
  readonly stride: number;
  /** Faults for the run (the sweep's own test makes the disk lie about syncs). */
  readonly rules?: readonly FaultRule[];
}

export interface Capture {
  readonly path: string;
  readonly cuts: Cut[];
  /** Cut points of the run (mutating operations), captured or not. */
  readonly cutPoints: number;
  /** File names the run created and unlinked, to check the workload covers what it should. */
  readonly created: ReadonlySet<string>;
  readonly unlinked: ReadonlySet<string>;
}

export async function captureCuts(o: CaptureOptions): Promise<Capture> {
  const mem = new MemoryFileSystem();
  const path = freshDbPath();
  const cuts: Cut[] = [];
  const seen = new Set<string>();
  const created = new Set<string>();
  const unlinked = new Set<string>();
  const offset = o.seed % o.stride;
  let mutating = 0;
  let syncAcked = 0;
  let issued = 0;
  const onOperation = (op: OpRecord): void => {
    if (!matches('mutating', op)) return;
    const k = ++mutating;
    const name = op.path?.slice(op.path.lastIndexOf('/') + 1);
    if (name !== undefined && op.kind === 'open') created.add(name);
    if (name !== undefined && op.kind === 'unlink') unlinked.add(name);
    if (k % o.stride !== offset) return;
    const key = o.mode === 'drop' ? `${fs.syncsCompleted}|${syncAcked}|${issued}` : `${k}`;
    if (seen.has(key)) return;
    seen.add(key);
    cuts.push({ k, image: mem.powerCut({ mode: o.mode, seed: o.seed * 100_003 + k }), syncAcked, issued });
  };
  const fs = new FaultInjectingFileSystem(mem, { onOperation, rules: o.rules ?? [] });
  const db = await withTimeout('open', Database.open(path, { ...o.dbOptions, fs }));
  try {
    for (const step of o.steps) {
      issued++;
      await withTimeout(`step ${issued}`, applyStep(db, step));
      if (step.sync) syncAcked = issued;
    }
  } finally {
    await withTimeout('close', db.close());
  }
  // Close syncs the WAL: after it, even the non-sync writes must survive a power cut.
  cuts.push({ k: Infinity, image: mem.powerCut({ mode: o.mode, seed: o.seed }), syncAcked: issued, issued });
  const leaked = fs.openFiles();
  if (leaked.length > 0) throw new SweepFailure(`descriptors left open after close: ${leaked.map((f) => f.path).join(', ')}`);
  return { path, cuts, cutPoints: mutating, created, unlinked };
}

/** Opens one image and checks its state; returns the prefix it matched. */
export async function checkCut(cut: Cut, path: string, steps: readonly Step[], history: History, dbOptions: DatabaseOptions, keepLock: boolean): Promise<number> {
  const where = `cut before mutating op ${cut.k} (sync-acked prefix ${cut.syncAcked}, issued ${cut.issued})`;
  const image = cut.image;
  // A LOCK cut back to nothing makes open wait ~200 ms for a creator that might still be writing
  // it (lock.ts). That path is kept at some cut points; elsewhere LOCK goes, to afford more points.
  if (!keepLock && image.existsSync(`${path}/LOCK`)) image.unlinkSync(`${path}/LOCK`);
  const files = image.listFiles().map((p) => p.slice(p.lastIndexOf('/') + 1));
  let db: Database;
  try {
    db = await withTimeout('reopen', Database.open(path, { ...dbOptions, fs: image }));
  } catch (err) {
    throw new SweepFailure(`${where}: reopen failed: ${describeError(err)}\n  files: ${files.join(' ')}`);
  }
  try {
    let state: [string, string][];
    try {
      state = await withTimeout('scan', readState(db));
    } catch (err) {
      throw new SweepFailure(`${where}: reading the reopened database failed: ${describeError(err)}\n  files: ${files.join(' ')}`);
    }
    const p = history.matchPrefix(state, cut.syncAcked, cut.issued);
    if (p < 0) {
      const any = history.allMatches(state);
      const lastSync = steps[cut.syncAcked - 1];
      throw new SweepFailure(
        `${where}: the state is not the state after any prefix in [${cut.syncAcked}, ${cut.issued}]` +
          (any.length > 0 ? ` (it equals prefix ${any.join(', ')}: acknowledged sync writes were lost)` : ' (a hole: no prefix matches)') +
          (lastSync === undefined ? '' : `\n  last sync-acked step ${cut.syncAcked}: ${describeStep(lastSync)}`) +
          `\n  difference from prefix ${cut.syncAcked}:\n${describeDifference(state, steps, cut.syncAcked)}\n  files: ${files.join(' ')}`,
      );
    }
    return p;
  } finally {
    await withTimeout('close after check', db.close());
  }
}

export interface SweepConfig {
  readonly seed: number;
  readonly steps: number;
  readonly mode: PowerCutMode;
  readonly stride: number;
  readonly dbOptions: DatabaseOptions;
  readonly rules?: readonly FaultRule[];
  /** Keep going after a failing image, up to this many failures (default 1). */
  readonly maxFailures?: number;
  readonly log?: (line: string) => void;
}

export interface SweepResult {
  readonly cutPoints: number;
  /** Images opened and checked. */
  readonly checked: number;
  readonly created: ReadonlySet<string>;
  readonly unlinked: ReadonlySet<string>;
  readonly failures: readonly string[];
}

export async function powerLossSweep(cfg: SweepConfig, makeSteps: (seed: number) => Step[]): Promise<SweepResult> {
  const steps = makeSteps(cfg.seed);
  const history = new History(steps);
  const capture = await captureCuts({ steps, dbOptions: cfg.dbOptions, mode: cfg.mode, seed: cfg.seed, stride: cfg.stride, rules: cfg.rules ?? [] });
  const failures: string[] = [];
  const maxFailures = cfg.maxFailures ?? 1;
  let checked = 0;
  for (const [i, cut] of capture.cuts.entries()) {
    try {
      await checkCut(cut, capture.path, steps, history, cfg.dbOptions, i % 50 === 0);
      checked++;
    } catch (err) {
      const replay = `\n  replay: STRATA_SEED=${cfg.seed}, mode ${cfg.mode}, stride ${cfg.stride}, cut point ${cut.k}`;
      if (!(err instanceof SweepFailure) || maxFailures <= 1) {
        if (err instanceof Error) err.message += replay;
        throw err;
      }
      failures.push(`mode ${cfg.mode}, seed ${cfg.seed}, ${err.message}${replay}`);
      if (failures.length >= maxFailures) break;
    }
  }
  cfg.log?.(`power-loss seed ${cfg.seed} ${cfg.mode}: ${capture.cutPoints} cut points, ${checked} images checked, ${failures.length} failures`);
  return { cutPoints: capture.cutPoints, checked, created: capture.created, unlinked: capture.unlinked, failures };
}

/**
 * A second power cut while recovering from the first. Recovery writes too — it flushes what it
 * replayed, writes a fresh manifest, switches CURRENT, deletes old segments and orphans — so a
 * cut before each of its mutating operations must again leave a database that opens with the
 * first cut's guarantees.
 */
export async function checkCrashDuringRecovery(
  cut: Cut,
  path: string,
  steps: readonly Step[],
  history: History,
  dbOptions: DatabaseOptions,
  mode: PowerCutMode,
): Promise<number> {
  const mem = cut.image.clone();
  if (mem.existsSync(`${path}/LOCK`)) mem.unlinkSync(`${path}/LOCK`);
  const second: Cut[] = [];
  let k = 0;
  const onOperation = (op: OpRecord): void => {
    if (!matches('mutating', op)) return;
    k++;
    second.push({ k: cut.k * 1000 + k, image: mem.powerCut({ mode, seed: cut.k * 7919 + k }), syncAcked: cut.syncAcked, issued: cut.issued });
  };
  const fs = new FaultInjectingFileSystem(mem, { onOperation });
  try {
    const db = await withTimeout('recovery', Database.open(path, { ...dbOptions, fs }));
    await withTimeout('close after recovery', db.close());
  } catch (err) {
    throw new SweepFailure(`recovery from cut ${cut.k} failed: ${describeError(err)}`);
  }
  for (const c of second) {
    try {
      await checkCut(c, path, steps, history, dbOptions, false);
    } catch (err) {
      if (err instanceof SweepFailure) err.message = `second cut during recovery from cut ${cut.k}, before recovery op ${c.k % 1000}: ${err.message}`;
      throw err;
    }
  }
  return second.length;
}
