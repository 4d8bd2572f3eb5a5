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
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from '../../../src/index.js';
import { Random } from '../../../src/testing/index.js';
import { applyChildOp, type ChildOp, CRASH_DB_OPTIONS, touchedKeys } from './crash-protocol.js';
import { withTimeout } from './timeout.js';
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
  stderr: string;
  exitedBeforeKill: boolean;
  /** How the child ended, for failure messages. */
  exit: string;
}

async function runChild(dir: string, seed: number, round: number, delayMs: number): Promise<ChildRun> {
  const child = spawn(process.execPath, typescriptChildArgs(join(here, 'crash-child.ts'), [dir, String(seed), String(round)]), {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ChildRun = { openSequence: -1, issued: [], acked: new Map(), stderr: '', exitedBeforeKill: false, exit: '' };
  let buffer = '';
  let killTimer: NodeJS.Timeout | undefined;
  let killed = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('issue ')) run.issued.push(JSON.parse(line.slice(6)) as ChildOp);
      else if (line.startsWith('ack ')) {
        const [, id, seq] = line.split(' ');
        run.acked.set(id!, Number(seq));
      } else if (line.startsWith('open ')) {
        run.openSequence = Number(line.slice(5));
        killTimer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, delayMs);
      }
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
  return run;
}

async function readAll(dir: string): Promise<{ state: Map<string, string>; lastSequence: number }> {
  const db = await withTimeout('open after kill', Database.open(dir, CRASH_DB_OPTIONS));
  try {
    const state = new Map<string, string>();
    const td = new TextDecoder();
    for await (const [k, v] of db.iterate()) state.set(td.decode(k), td.decode(v));
    return { state, lastSequence: db.stats().lastSequence };
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
    const run = await runChild(dir, seed, round, delay);
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

    if (process.env.STRATA_CRASH_EVIDENCE === '1') {
      // Forensics (npm run torture): the directory as the kill left it and what the child said,
      // kept beside it until the next round, so a failure's evidence survives the checking open.
      rmSync(`${dir}.killed`, { recursive: true, force: true });
      cpSync(dir, `${dir}.killed`, { recursive: true });
      writeFileSync(`${dir}.killed.json`, JSON.stringify({ round, delay, openSequence: run.openSequence, issued: run.issued, acked: [...run.acked] }));
    }
    const { state, lastSequence } = await readAll(dir);
    if (lastSequence < highestAckedSeq) fail(seed, round, `reopened at sequence ${lastSequence} < ${highestAckedSeq} acknowledged`);
    lastSeenSequence = lastSequence;

    // Keys an in-flight op touches may show it applied or not — but all of them the same way.
    const ambiguous = new Set<string>();
    for (const op of inFlight) {
      const keys = touchedKeys(expected, op);
      const withOp = new Map(expected);
      applyChildOp(withOp, op);
      const matches = (m: Map<string, string>): boolean => keys.every((k) => state.get(k) === m.get(k));
      if (!matches(expected) && !matches(withOp)) {
        const got = keys.map((k) => `${k}=${state.get(k)?.slice(0, 16) ?? 'absent'}`).join(' ');
        fail(seed, round, `in-flight ${op.t} ${op.id} is half applied (not atomic): ${got}`);
      }
      for (const k of keys) ambiguous.add(k);
    }
    for (const k of new Set([...expected.keys(), ...state.keys()])) {
      if (ambiguous.has(k)) continue;
      if (state.get(k) !== expected.get(k)) {
        fail(seed, round, `key ${k}: want ${expected.get(k)?.slice(0, 24) ?? 'absent'}, got ${state.get(k)?.slice(0, 24) ?? 'absent'}`);
      }
    }
    expected = state; // the ambiguity is resolved by what recovery chose
    result.lastSequence = lastSequence;
    options.log?.(`round ${round}: killed after ${delay} ms, ${run.acked.size}/${run.issued.length} acked, ${state.size} keys, seq ${lastSequence}`);
  }
  return result;
}
