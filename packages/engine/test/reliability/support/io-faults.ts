/**
 * The I/O error sweep: run a workload with one fault rule (the k-th call of a kind fails with
 * EIO or ENOSPC, once or from then on) and check how the engine takes it:
 *   - every failure reaches the caller as a typed StrataError (IO_ERROR / READ_ONLY), no call hangs,
 *     nothing escapes as an unhandled rejection;
 *   - after a failed sync the database refuses writes with READ_ONLY (a failed fsync is never retried);
 *   - close releases every descriptor, even on the failure paths;
 *   - reopening — on the same files (a process restart) and after a power cut — gives the state
 *     after a prefix of the steps that includes every acknowledged one (every sync one, after power loss).
 */
import { Database, type DatabaseOptions } from '../../../src/index.js';
import { describeOp, FaultInjectingFileSystem, type FaultRule, type InjectedFault, MemoryFileSystem } from '../../../src/testing/index.js';
import { applyStep, describeError, IO_CODES, isTyped, readState } from './db-driver.js';
import { describeDifference, type History, type Step } from './model.js';
import { freshDbPath, SweepFailure } from './power-loss.js';
import { withTimeout } from './timeout.js';
import { collectUnhandled, settle } from './unhandled.js';

export interface FaultRunOptions {
  readonly steps: readonly Step[];
  readonly history: History;
  readonly dbOptions: DatabaseOptions;
  readonly rule: FaultRule;
  readonly seed: number;
}

export interface FaultRunResult {
  readonly injected: readonly InjectedFault[];
  /** Codes of the errors the workload saw (open, steps, probe, close). */
  readonly codes: readonly string[];
  readonly acked: number;
  readonly totalOps: number;
  readonly readOnlyChecked: boolean;
}

const PROBE_KEY = 'probe';
const SYNCS = new Set(['fsync', 'fdatasync', 'fsyncDir']);

export async function runWithFault(o: FaultRunOptions): Promise<FaultRunResult> {
  const mem = new MemoryFileSystem();
  const path = freshDbPath();
  const fs = new FaultInjectingFileSystem(mem, { rules: [o.rule], traceLimit: 40, seed: o.seed });
  const where = `fault ${o.rule.code ?? 'EIO'} at ${o.rule.op} #${o.rule.nth}${o.rule.persistent === true ? ' (persistent)' : ' (once)'}, seed ${o.seed}`;
  const failure = (msg: string): SweepFailure => {
    const hit = fs.injected.map((f) => describeOp(f.op)).join(', ') || 'none';
    return new SweepFailure(`${where}: ${msg}\n  injected at: ${hit}\n  last calls:\n${fs.traceText().replace(/^/gm, '    ')}`);
  };
  const unhandled = collectUnhandled();
  const codes: string[] = [];
  const expectTyped = (what: string, err: unknown, allowed: ReadonlySet<string> = IO_CODES): void => {
    if (fs.injected.length === 0) throw failure(`${what} failed with no fault injected yet: ${describeError(err)}`);
    if (!isTyped(err, allowed)) throw failure(`${what} failed with an unexpected error: ${describeError(err)}`);
    codes.push(err.code);
  };
  let db: Database | undefined;
  let acked = 0;
  let syncAcked = 0;
  let issued = 0;
  let probeAcked = false;
  let readOnlyChecked = false;
  try {
    try {
      db = await withTimeout('open', Database.open(path, { ...o.dbOptions, fs }));
    } catch (err) {
      expectTyped('open', err, new Set([...IO_CODES, 'CORRUPTION']));
    }
    if (db !== undefined) {
      for (const step of o.steps) {
        issued++;
        try {
          await withTimeout(`step ${issued}`, applyStep(db, step));
        } catch (err) {
          expectTyped(`step ${issued}`, err);
          break;
        }
        acked++;
        if (step.sync) syncAcked = acked;
      }
      // Background work (flush, compaction) may be what failed, and its failure is recorded when
      // the job unwinds; flush and compact wait for the jobs, so the probe below comes after.
      try {
        await withTimeout('flush', db.flush());
        await withTimeout('compact', db.compact());
      } catch (err) {
        expectTyped('flush/compact', err);
      }
      const syncFailed = fs.injected.some((f) => SYNCS.has(f.op.kind));
      try {
        await withTimeout('probe write', db.put(PROBE_KEY, 'x', { sync: true }));
        probeAcked = true;
      } catch (err) {
        expectTyped('probe write', err);
      }
      if (syncFailed) {
        readOnlyChecked = true;
        if (probeAcked) throw failure('a sync failed, yet the database still accepted a write (it must refuse with READ_ONLY)');
        if (codes.at(-1) !== 'READ_ONLY') throw failure(`a sync failed; the next write must fail with READ_ONLY, got ${codes.at(-1) ?? '?'}`);
      }
      try {
        await withTimeout('close', db.close());
      } catch (err) {
        expectTyped('close', err);
      }
    }
    const leaked = fs.openFiles();
    if (leaked.length > 0) throw failure(`descriptors left open: ${leaked.map((f) => `${f.path} (${f.flags})`).join(', ')}`);
    await settle();
    if (unhandled.errors.length > 0) throw failure(`unhandled rejection: ${describeError(unhandled.errors[0])}`);
  } finally {
    unhandled.stop();
  }

  // A process restart: the same files, no faults. Everything acknowledged is there.
  await checkReopen(mem, path, `${where}, reopen`, o, acked, issued, probeAcked ? 'present' : 'either', failure);
  // A power cut after the fault: everything acknowledged with sync is there. (Without its LOCK,
  // which a cut leaves empty and which would cost a 200 ms wait for nothing: power-loss covers it.)
  const image = mem.powerCut({ seed: o.seed });
  if (image.existsSync(`${path}/LOCK`)) image.unlinkSync(`${path}/LOCK`);
  await checkReopen(image, path, `${where}, reopen after power cut`, o, syncAcked, issued, probeAcked ? 'present' : 'either', failure);
  return { injected: [...fs.injected], codes, acked, totalOps: fs.operationCount, readOnlyChecked };
}

async function checkReopen(
  image: MemoryFileSystem,
  path: string,
  what: string,
  o: FaultRunOptions,
  atLeast: number,
  atMost: number,
  probe: 'present' | 'either',
  failure: (msg: string) => Error,
): Promise<void> {
  let db: Database;
  try {
    db = await withTimeout(what, Database.open(path, { ...o.dbOptions, fs: image }));
  } catch (err) {
    throw failure(`${what} failed: ${describeError(err)}`);
  }
  try {
    const all = await withTimeout(`${what}: scan`, readState(db));
    const state = all.filter(([k]) => k !== PROBE_KEY);
    const probeValue = all.find(([k]) => k === PROBE_KEY)?.[1];
    if (probe === 'present' && probeValue !== 'x') throw failure(`${what}: the acknowledged probe write is missing`);
    const p = o.history.matchPrefix(state, atLeast, atMost);
    if (p < 0) {
      throw failure(`${what}: state is not a prefix in [${atLeast}, ${atMost}]:\n${describeDifference(state, o.steps, atLeast)}`);
    }
  } finally {
    await withTimeout(`${what}: close`, db.close());
  }
}

export interface FaultSweepConfig {
  readonly seed: number;
  readonly steps: readonly Step[];
  readonly history: History;
  readonly dbOptions: DatabaseOptions;
  /** Fault every stride-th call (1: every call), starting at a seeded offset. */
  readonly stride: number;
  readonly persistent: boolean;
  readonly maxFailures?: number;
  readonly log?: (line: string) => void;
}

export interface FaultSweepResult {
  readonly totalOps: number;
  readonly faultsTried: number;
  readonly faultsInjected: number;
  readonly readOnlyChecks: number;
  readonly codes: ReadonlyMap<string, number>;
  readonly failures: readonly string[];
}

/** Counts the calls of a fault-free run, then fails the k-th call of each run for k = offset, offset + stride, … */
export async function ioFaultSweep(cfg: FaultSweepConfig): Promise<FaultSweepResult> {
  const clean = await runWithFault({ ...cfg, rule: { op: 'any', nth: Number.MAX_SAFE_INTEGER } });
  const totalOps = clean.totalOps;
  const codes = new Map<string, number>();
  const failures: string[] = [];
  const maxFailures = cfg.maxFailures ?? 1;
  let tried = 0;
  let injected = 0;
  let readOnlyChecks = 0;
  for (let k = 1 + (cfg.seed % cfg.stride); k <= totalOps && failures.length < maxFailures; k += cfg.stride) {
    const code = k % 3 === 0 ? 'ENOSPC' : 'EIO';
    tried++;
    try {
      const r = await runWithFault({ ...cfg, seed: cfg.seed * 7 + k, rule: { op: 'any', nth: k, code, persistent: cfg.persistent, torn: k % 2 === 0 } });
      if (r.injected.length > 0) injected++;
      if (r.readOnlyChecked) readOnlyChecks++;
      for (const c of r.codes) codes.set(c, (codes.get(c) ?? 0) + 1);
    } catch (err) {
      const msg = `${err instanceof Error ? err.message : String(err)}\n  replay: STRATA_SEED=${cfg.seed} (fault at call k=${k}, ${cfg.persistent ? 'persistent' : 'once'})`;
      if (!(err instanceof SweepFailure) || maxFailures <= 1) throw err instanceof Error ? Object.assign(err, { message: msg }) : err;
      failures.push(msg);
    }
  }
  cfg.log?.(`io-faults seed ${cfg.seed} ${cfg.persistent ? 'persistent' : 'once'}: ${totalOps} calls, ${tried} faults tried, ${failures.length} failures`);
  return { totalOps, faultsTried: tried, faultsInjected: injected, readOnlyChecks, codes, failures };
}

export interface RecoveryFaultResult {
  readonly recoveryOps: number;
  readonly faultsTried: number;
  readonly openFailures: number;
}

/**
 * Faults while recovering: `image` is a crashed database (a power-cut image with WAL records
 * to replay) whose state must be a prefix in [atLeast, atMost] of `steps`. For every call k of
 * the recovery, fail it (once, or from then on): the open either succeeds or fails typed, leaks
 * no descriptor and leaves no unhandled rejection; a clean open afterwards — and after a power
 * cut on top — still gives a prefix state holding everything acknowledged.
 */
export async function recoveryFaultSweep(
  image: MemoryFileSystem,
  path: string,
  o: { steps: readonly Step[]; history: History; dbOptions: DatabaseOptions; atLeast: number; atMost: number; persistent: boolean; seed: number },
): Promise<RecoveryFaultResult> {
  // Without the cut-back (empty) LOCK, which would cost every open a 400 ms wait for nothing.
  image = image.clone();
  if (image.existsSync(`${path}/LOCK`)) image.unlinkSync(`${path}/LOCK`);
  const count = new FaultInjectingFileSystem(image.clone());
  const probe = await withTimeout('recovery (counting)', Database.open(path, { ...o.dbOptions, fs: count }));
  await withTimeout('close', probe.close());
  const recoveryOps = count.operationCount;
  let openFailures = 0;
  let tried = 0;
  for (let k = 1; k <= recoveryOps; k++) {
    const mem = image.clone();
    const fs = new FaultInjectingFileSystem(mem, { rules: [{ op: 'any', nth: k, code: k % 2 === 0 ? 'EIO' : 'ENOSPC', persistent: o.persistent, torn: true }], traceLimit: 20, seed: o.seed + k });
    const where = `recovery fault at call ${k} of ${recoveryOps} (${o.persistent ? 'persistent' : 'once'}), seed ${o.seed}`;
    const failure = (msg: string): SweepFailure => new SweepFailure(`${where}: ${msg}\n  last calls:\n${fs.traceText().replace(/^/gm, '    ')}`);
    const unhandled = collectUnhandled();
    tried++;
    try {
      let db: Database | undefined;
      try {
        db = await withTimeout(where, Database.open(path, { ...o.dbOptions, fs }));
      } catch (err) {
        openFailures++;
        if (!isTyped(err, new Set([...IO_CODES, 'CORRUPTION']))) throw failure(`open failed untyped: ${describeError(err)}`);
      }
      if (db !== undefined) {
        try {
          await withTimeout('close', db.close());
        } catch (err) {
          if (!isTyped(err)) throw failure(`close failed untyped: ${describeError(err)}`);
        }
      }
      const leaked = fs.openFiles();
      if (leaked.length > 0) throw failure(`descriptors left open: ${leaked.map((f) => f.path).join(', ')}`);
      await settle();
      if (unhandled.errors.length > 0) throw failure(`unhandled rejection: ${describeError(unhandled.errors[0])}`);
    } finally {
      unhandled.stop();
    }
    const cut = mem.powerCut({ seed: o.seed + k });
    for (const [what, img] of [['reopen', mem], ['reopen after a power cut', cut]] as const) {
      if (img.existsSync(`${path}/LOCK`)) img.unlinkSync(`${path}/LOCK`);
      let db: Database;
      try {
        db = await withTimeout(what, Database.open(path, { ...o.dbOptions, fs: img }));
      } catch (err) {
        throw failure(`${what} after the failed recovery: ${describeError(err)}`);
      }
      try {
        const state = await readState(db);
        if (o.history.matchPrefix(state, o.atLeast, o.atMost) < 0) {
          throw failure(`${what}: not a prefix state in [${o.atLeast}, ${o.atMost}]:\n${describeDifference(state, o.steps, o.atLeast)}`);
        }
      } finally {
        await withTimeout('close', db.close());
      }
    }
  }
  return { recoveryOps, faultsTried: tried, openFailures };
}
