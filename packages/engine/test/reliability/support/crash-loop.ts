/**
 * The process-crash loop: start a child that writes as fast as it can, SIGKILL it at a random
 * moment, open the database in this process and check it, again and again on the same directory.
 *
 * What a kill can and cannot prove: the page cache survives a process crash, so this loop passes
 * even with every fsync removed — that half is the power-loss sweep's job. What it does prove is
 * that an acknowledged write had reached the OS before its promise resolved, that recovery copes
 * with whatever a dying process leaves (half-written records, half-built tables, a stale LOCK),
 * that batches are atomic, and that sequence numbers never go back.
 */
import { spawn } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from '../../../src/index.js';
import { Random } from '../../../src/testing/index.js';
import { applyChildOp, type ChildOp, CRASH_DB_OPTIONS, touchedKeys } from './crash-protocol.js';
import { withTimeout } from './timeout.js';
import { readKillReport } from '../../support/kill-report.js';
import { typescriptChildArgs } from '../../support/typescript-child.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..', '..');

export interface CrashLoopOptions {
  readonly dir: string;
  readonly seed: number;
  readonly rounds: number;
  /** Range of the delay between "open" and the kill, in ms. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly log?: (line: string) => void;
  /**
   * The parent blocks its event loop this long right before each kill: a loaded machine's late
   * reader. What the loop learns of the child must not depend on the parent keeping up
   * (crash-protocol.ts); a test holds it to that.
   */
  readonly busyAtKillMs?: number;
}

/** Blocks the event loop (and so every read of the child's output) for `ms`. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a parent too busy to read
  }
}

export interface CrashLoopResult {
  kills: number;
  opsIssued: number;
  opsAcked: number;
  inFlightAtKill: number;
  lastSequence: number;
}

interface ChildRun {
  openSequence: number;
  issued: ChildOp[];
  acked: Map<string, number>;
  /** The child's engine events, in order (crash-protocol.ts): for a failure's report. */
  events: unknown[];
  stderr: string;
  exitedBeforeKill: boolean;
  /** How the child ended, for failure messages. */
  exit: string;
}

async function runChild(dir: string, seed: number, round: number, delayMs: number, busyAtKillMs: number): Promise<ChildRun> {
  // Beside the database, not in it (a file Strata did not write makes it refuse the directory).
  const protocolFile = `${dir}.protocol`;
  rmSync(protocolFile, { force: true });
  const child = spawn(process.execPath, typescriptChildArgs(join(here, 'crash-child.ts'), [dir, String(seed), String(round), protocolFile]), {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ChildRun = { openSequence: -1, issued: [], acked: new Map(), events: [], stderr: '', exitedBeforeKill: false, exit: '' };
  let killTimer: NodeJS.Timeout | undefined;
  let killed = false;
  let opened = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    // The one stdout line, "open": start the kill timer.
    if (!opened && chunk.includes('open')) {
      opened = true;
      killTimer = setTimeout(() => {
        busyFor(busyAtKillMs);
        killed = true;
        child.kill('SIGKILL');
      }, delayMs);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  await withTimeout(
    `crash child round ${round}`,
    new Promise<void>((resolve) => {
      child.on('close', (code, signal) => {
        run.exit = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        resolve();
      });
    }),
    60_000,
  );
  clearTimeout(killTimer);
  run.exitedBeforeKill = !killed;
  // Every line the child wrote (crash-protocol.ts).
  const lines = readKillReport(protocolFile);
  for (const line of lines) {
    if (line.startsWith('issue ')) run.issued.push(JSON.parse(line.slice(6)) as ChildOp);
    else if (line.startsWith('ack ')) {
      const [, id, seq] = line.split(' ');
      run.acked.set(id!, Number(seq));
    } else if (line.startsWith('event ')) run.events.push(JSON.parse(line.slice(6)));
    else if (line.startsWith('open ')) run.openSequence = Number(line.slice(5));
  }
  return run;
}

interface CheckedOpen {
  state: Map<string, string>;
  lastSequence: number;
  /** What the checking open's recovery found and did, and its engine events (a failure's report). */
  recovery: unknown;
  events: unknown[];
}

async function readAll(dir: string): Promise<CheckedOpen> {
  const events: unknown[] = [];
  const db = await withTimeout('open after kill', Database.open(dir, { ...CRASH_DB_OPTIONS, onEvent: (e) => events.push(e) }));
  try {
    const state = new Map<string, string>();
    const td = new TextDecoder();
    for await (const [k, v] of db.iterate()) state.set(td.decode(k), td.decode(v));
    return { state, lastSequence: db.stats().lastSequence, recovery: db.recovery, events };
  } finally {
    await withTimeout('close after check', db.close());
  }
}

function fail(seed: number, round: number, msg: string): never {
  throw new Error(`crash loop seed ${seed}, round ${round}: ${msg}\n  replay: STRATA_SEED=${seed} npm run torture -- crash`);
}

export async function crashLoop(options: CrashLoopOptions): Promise<CrashLoopResult> {
  const { dir, seed, rounds } = options;
  const rng = new Random(seed);
  const result: CrashLoopResult = { kills: 0, opsIssued: 0, opsAcked: 0, inFlightAtKill: 0, lastSequence: 0 };
  let expected = new Map<string, string>();
  let highestAckedSeq = 0;
  let lastSeenSequence = 0;
  for (let round = 1; round <= rounds; round++) {
    const delay = rng.int(options.minDelayMs ?? 30, options.maxDelayMs ?? 400);
    const run = await runChild(dir, seed, round, delay, options.busyAtKillMs ?? 0);
    if (run.exitedBeforeKill || run.openSequence < 0) {
      fail(seed, round, `the child ended on its own (${run.exit}) or never opened; ${run.issued.length} ops issued; stderr:\n${run.stderr}`);
    }
    result.kills++;
    if (run.openSequence < lastSeenSequence) fail(seed, round, `the child opened at sequence ${run.openSequence} < ${lastSeenSequence} seen before`);

    // Acknowledged operations, per writer in issue order; only each writer's last may be unacknowledged.
    const inFlight: ChildOp[] = [];
    const byWriter = new Map<number, ChildOp[]>();
    for (const op of run.issued) byWriter.set(op.w, [...(byWriter.get(op.w) ?? []), op]);
    for (const [w, ops] of byWriter) {
      ops.forEach((op, i) => {
        const acked = run.acked.has(op.id);
        if (!acked && i !== ops.length - 1) fail(seed, round, `writer ${w}: op ${op.id} unacknowledged but not the last`);
        if (acked) applyChildOp(expected, op);
        else inFlight.push(op);
      });
    }
    for (const seq of run.acked.values()) highestAckedSeq = Math.max(highestAckedSeq, seq);
    result.opsIssued += run.issued.length;
    result.opsAcked += run.acked.size;
    result.inFlightAtKill += inFlight.length;

    const evidence = process.env.STRATA_CRASH_EVIDENCE;
    if (evidence === '1' || evidence === 'link') {
      // Forensics (npm run torture): the directory as the kill left it and what the child said,
      // kept beside it until the next round, so a failure's evidence survives the checking open.
      // 'link' hard-links the files instead of copying them: a few ms instead of reading every
      // file between the kill and the checking open (recovery replaces files, never rewrites one).
      rmSync(`${dir}.killed`, { recursive: true, force: true });
      if (evidence === 'link') {
        mkdirSync(`${dir}.killed`);
        for (const name of readdirSync(dir)) linkSync(join(dir, name), join(`${dir}.killed`, name));
      } else cpSync(dir, `${dir}.killed`, { recursive: true });
      writeFileSync(`${dir}.killed.json`, JSON.stringify({ round, delay, openSequence: run.openSequence, issued: run.issued, acked: [...run.acked] }));
    }
    const checked = await readAll(dir);
    const { state, lastSequence } = checked;
    if (lastSequence < highestAckedSeq) fail(seed, round, `reopened at sequence ${lastSequence} < ${highestAckedSeq} acknowledged`);
    lastSeenSequence = lastSequence;

    const wrong: string[] = [];
    // Keys an in-flight op touches may show it applied or not — but all of them the same way.
    const ambiguous = new Set<string>();
    for (const op of inFlight) {
      const keys = touchedKeys(expected, op);
      const withOp = new Map(expected);
      applyChildOp(withOp, op);
      const matches = (m: Map<string, string>): boolean => keys.every((k) => state.get(k) === m.get(k));
      if (!matches(expected) && !matches(withOp)) {
        const got = keys.map((k) => `${k}=${state.get(k)?.slice(0, 16) ?? 'absent'}`).join(' ');
        wrong.push(`in-flight ${op.t} ${op.id} is half applied (not atomic): ${got}`);
      }
      for (const k of keys) ambiguous.add(k);
    }
    for (const k of new Set([...expected.keys(), ...state.keys()])) {
      if (ambiguous.has(k)) continue;
      if (state.get(k) !== expected.get(k)) {
        wrong.push(`key ${k}: want ${expected.get(k)?.slice(0, 24) ?? 'absent'}, got ${state.get(k)?.slice(0, 24) ?? 'absent'}`);
      }
    }
    if (wrong.length > 0) {
      // Everything a diagnosis needs, beside the directory (kept by the caller): every wrong key,
      // what the child did and what its engine was doing when killed, what recovery did.
      const report = { round, delay, openSequence: run.openSequence, wrong, issued: run.issued, acked: [...run.acked], childEvents: run.events, stderr: run.stderr, checkingOpen: { recovery: checked.recovery, events: checked.events, lastSequence } };
      writeFileSync(`${dir}.failure.json`, JSON.stringify(report, null, 1));
      fail(seed, round, `${wrong.length} keys wrong, first ${wrong[0]} (report: ${dir}.failure.json)`);
    }
    expected = state; // the ambiguity is resolved by what recovery chose
    result.lastSequence = lastSequence;
    options.log?.(`round ${round}: killed after ${delay} ms, ${run.acked.size}/${run.issued.length} acked, ${state.size} keys, seq ${lastSequence}`);
  }
  return result;
}
