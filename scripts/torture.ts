/**
 * `npm run torture`: the long versions of the engine's reliability sweeps (CI runs bounded ones,
 * packages/engine/test/reliability). Round after round, each with a fresh seed, until the time
 * budget is spent:
 *
 *   power       power cut before EVERY mutating file operation of a 200-step workload, in all
 *               four cut modes (drop, keep-random-prefix, garbage, zeros); then a second cut
 *               before every operation of the recovery from every 4th first cut
 *   io          EIO/ENOSPC at EVERY file call of a workload, once and from then on; and at every
 *               call of the recovery from every 8th power-cut image
 *   corruption  byte flips across every region of every file, WAL truncation at every offset
 *   crash       kill -9 of a writing child process, many rounds on one directory
 *
 * Usage: npm run torture [-- power io corruption crash]    (default: all)
 * Env:   STRATA_TORTURE_MINUTES  time budget (default 10)
 *        STRATA_SEED             first seed (default random; printed) — replays a failure
 *        STRATA_CRASH_ROUNDS     kill rounds per crash unit (default 25)
 *        STRATA_CRASH_EVIDENCE=1 keep, beside each crash unit's directory, a copy as the last kill
 *                                left it and the child's operations (crash-loop.ts); =link hard-
 *                                links the files instead (a few ms, not a read of every file). A
 *                                failing unit's directory is kept either way, its path printed,
 *                                with <db>.failure.json: every wrong key, the child's operations
 *                                and engine events, what the checking open's recovery did
 *        STRATA_CRASH_SIDE_BY_SIDE=1  every crash round with up to three compactions side by side
 *                                (not only the odd ones)
 * Prints the counts as it goes and a summary at the end; exits 1 if anything failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { POWER_CUT_MODES, Random, randomSeed } from '../packages/vfs/src/testing/index.js';
import { buildImage, checkFlip, flipTargets } from '../packages/engine/test/reliability/support/corruption.js';
import { crashLoop } from '../packages/engine/test/reliability/support/crash-loop.js';
import { readState, TINY } from '../packages/engine/test/reliability/support/db-driver.js';
import { fileKind } from '../packages/engine/test/reliability/support/file-kinds.js';
import { ioFaultSweep, recoveryFaultSweep } from '../packages/engine/test/reliability/support/io-faults.js';
import { History } from '../packages/engine/test/reliability/support/model.js';
import { captureCuts, checkCrashDuringRecovery, DB_PATH, powerLossSweep } from '../packages/engine/test/reliability/support/power-loss.js';
import { makeWorkload } from '../packages/engine/test/reliability/support/workload.js';
import { Database } from '../packages/engine/src/index.js';

type Suite = 'power' | 'io' | 'corruption' | 'crash';
const ALL: readonly Suite[] = ['power', 'io', 'corruption', 'crash'];

const requested = process.argv.slice(2).filter((a): a is Suite => (ALL as readonly string[]).includes(a));
const suites: readonly Suite[] = requested.length > 0 ? requested : ALL;
const minutes = Number(process.env.STRATA_TORTURE_MINUTES ?? '10');
const firstSeed = process.env.STRATA_SEED !== undefined && process.env.STRATA_SEED !== '' ? Number(process.env.STRATA_SEED) : randomSeed();
const crashRounds = Number(process.env.STRATA_CRASH_ROUNDS ?? '25');
const deadline = Date.now() + minutes * 60_000;

const counts = {
  powerCutPoints: 0,
  powerImagesChecked: 0,
  recoveryCuts: 0,
  kills: 0,
  killOpsAcked: 0,
  flips: 0,
  truncations: 0,
  faultsTried: 0,
  recoveryFaults: 0,
  readOnlyChecks: 0,
  rounds: 0,
  failures: 0,
};
const failures: string[] = [];

function log(line: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function fail(suite: Suite, seed: number, message: string): void {
  counts.failures++;
  failures.push(`${suite} seed ${seed}: ${message}`);
  log(`FAILURE ${suite} seed ${seed}: ${message.split('\n')[0] ?? ''}  (replay: STRATA_SEED=${seed} npm run torture -- ${suite})`);
}

async function power(seed: number): Promise<void> {
  const steps = 200;
  for (const mode of POWER_CUT_MODES) {
    const r = await powerLossSweep({ seed, steps, mode, stride: 1, dbOptions: TINY, maxFailures: 20 }, (s) => makeWorkload(s, { steps }));
    counts.powerCutPoints += r.cutPoints;
    counts.powerImagesChecked += r.checked;
    for (const f of r.failures) fail('power', seed, f);
  }
  // A second cut before every operation of the recovery from every 4th first cut.
  const workload = makeWorkload(seed, { steps });
  const history = new History(workload);
  const capture = await captureCuts({ steps: workload, dbOptions: TINY, mode: 'drop', seed, stride: 1 });
  for (const [i, first] of capture.cuts.entries()) {
    if (i % 4 !== 0) continue;
    try {
      counts.recoveryCuts += await checkCrashDuringRecovery(first, capture.path, workload, history, TINY, 'drop');
    } catch (err) {
      fail('power', seed, (err as Error).message);
    }
  }
}

async function io(seed: number): Promise<void> {
  const steps = makeWorkload(seed, { steps: 60 });
  const history = new History(steps);
  for (const persistent of [false, true]) {
    const r = await ioFaultSweep({ seed, steps, history, dbOptions: TINY, stride: 1, persistent, maxFailures: 20 });
    counts.faultsTried += r.faultsTried;
    counts.readOnlyChecks += r.readOnlyChecks;
    for (const f of r.failures) fail('io', seed, f);
  }
  // Faults at every call of the recovery from every 8th power-cut image of the run.
  const capture = await captureCuts({ steps, dbOptions: TINY, mode: 'drop', seed, stride: 1 });
  for (const [i, cut] of capture.cuts.entries()) {
    if (i % 8 !== 3) continue;
    for (const persistent of [false, true]) {
      try {
        const r = await recoveryFaultSweep(cut.image, capture.path, { steps, history, dbOptions: TINY, atLeast: cut.syncAcked, atMost: cut.issued, persistent, seed });
        counts.faultsTried += r.faultsTried;
        counts.recoveryFaults += r.faultsTried;
      } catch (err) {
        fail('io', seed, (err as Error).message);
      }
    }
  }
}

async function corruption(seed: number): Promise<void> {
  const options = { ...TINY, bloomBitsPerKey: 10 };
  const steps = makeWorkload(seed, { steps: 150, syncRatio: 0.5 });
  const history = new History(steps);
  const base = await buildImage(steps, options, 12);
  // Every 7th byte of every file, plus random ones: thousands of flips per seed.
  for (const t of flipTargets(base, 20, new Random(seed), 7)) {
    counts.flips++;
    try {
      await checkFlip(base, t, steps, history, options);
    } catch (err) {
      fail('corruption', seed, (err as Error).message);
    }
  }
  // The newest WAL segment cut at every offset.
  const walOptions = { ...options, memtableSize: 64 * 1024 };
  const walSteps = makeWorkload(seed, { steps: 60, syncRatio: 0.5 });
  const walHistory = new History(walSteps);
  const walBase = await buildImage(walSteps, walOptions, 25);
  const wal = walBase
    .listFiles()
    .filter((p) => fileKind(posix.basename(p)) === 'wal')
    .sort()
    .at(-1);
  if (wal === undefined) return;
  const size = walBase.readFileSync(wal).length;
  for (let cut = 0; cut <= size; cut++) {
    counts.truncations++;
    const image = walBase.clone();
    image.editDurably(wal, (b) => b.subarray(0, cut));
    try {
      const db = await Database.open(DB_PATH, { ...walOptions, fs: image });
      const state = await readState(db);
      await db.close();
      if (walHistory.matchPrefix(state, 0, walSteps.length) < walSteps.length - 25) fail('corruption', seed, `WAL truncated at ${cut}/${size}: not a prefix state`);
    } catch (err) {
      fail('corruption', seed, `WAL truncated at ${cut}/${size}: ${(err as Error).message}`);
    }
  }
}

async function crash(seed: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-torture-'));
  let keep = false;
  try {
    const r = await crashLoop({ dir: join(dir, 'db'), seed, rounds: crashRounds, minDelayMs: 20, maxDelayMs: 1500 });
    counts.kills += r.kills;
    counts.killOpsAcked += r.opsAcked;
  } catch (err) {
    // The directory is the evidence: kept (as the checking open left it) for the dump tools.
    keep = true;
    fail('crash', seed, `${(err as Error).message}\n  directory kept: ${dir}`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

const units: Record<Suite, (seed: number) => Promise<void>> = { power, io, corruption, crash };

log(`torture: suites ${suites.join(', ')}; ${minutes} min; first seed ${firstSeed}`);
let seed = firstSeed;
while (Date.now() < deadline) {
  counts.rounds++;
  for (const s of suites) {
    if (Date.now() >= deadline) break;
    const t0 = Date.now();
    try {
      await units[s](seed);
    } catch (err) {
      fail(s, seed, err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    log(`${s} seed ${seed} done in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${JSON.stringify(counts)}`);
  }
  seed = (seed + 1) >>> 0;
}

log('summary');
const rows: [string, number][] = [
  ['power-cut points (every mutating op, 4 modes)', counts.powerCutPoints],
  ['power-cut images reopened and checked', counts.powerImagesChecked],
  ['second power cuts during recovery', counts.recoveryCuts],
  ['kill -9 rounds', counts.kills],
  ['  ops acknowledged by killed children', counts.killOpsAcked],
  ['byte flips', counts.flips],
  ['WAL truncations', counts.truncations],
  ['I/O faults injected (EIO/ENOSPC, once + persistent)', counts.faultsTried],
  ['  of which during recovery from a power cut', counts.recoveryFaults],
  ['  failed syncs checked for READ_ONLY', counts.readOnlyChecks],
  ['seeds (rounds)', counts.rounds],
  ['failures', counts.failures],
];
for (const [what, n] of rows) process.stdout.write(`  ${what.padEnd(54)} ${n}\n`);
if (failures.length > 0) {
  process.stdout.write(`\nfailures:\n${failures.map((f) => `- ${f}`).join('\n\n')}\n`);
  process.exit(1);
}
process.exit(0);
