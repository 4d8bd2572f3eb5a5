// Runs abstract-level's shared test suite (≈5,000 tape assertions, then the same suite again on
// a sublevel) against StrataLevel, each database in a fresh temporary directory.
//
// Output: failures in full, then the suite's own summary (`# tests`, `# pass N`, `# fail N`);
// TAP_VERBOSE=1 prints the whole TAP stream. Totals go to ../../.test-results/level.tape.json
// as { passed, failed } for scripts/test-summary.mjs (STRATA_RESULTS_NAME=level.bun.tape names
// the file otherwise: scripts/test-runtimes.mjs runs this suite under Bun and Deno too).
// Exits non-zero on any failure.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import suite from 'abstract-level/test/index.js';
import test from 'tape';
import { StrataLevel } from '../src/index.js';
import type { StrataLevelOptions } from '../src/index.js';

const resultsDir = join(import.meta.dirname, '..', '..', '..', '.test-results');
const resultsFile = join(resultsDir, `${process.env.STRATA_RESULTS_NAME ?? 'level.tape'}.json`);
const verbose = process.env.TAP_VERBOSE === '1';
const root = mkdtempSync(join(tmpdir(), 'strata-level-suite-'));

function writeResults(passed: number, failed: number): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify({ passed, failed })}\n`);
}

// Pessimistic until the suite finishes: a crash or a hang leaves a failure on record.
writeResults(0, 1);


let count = 0;
const factory = (options?: StrataLevelOptions): StrataLevel => {
  const location = join(root, `db-${++count}`);
  return new StrataLevel(location, options);
};

let passed = 0;
let failed = 0;
let summaryPass: number | undefined;
let summaryFail: number | undefined;
let lastComment = '';
let inFailure = false;
let pending = '';

function onLine(line: string): void {
  if (verbose) {
    console.log(line);
  }
  if (line.startsWith('ok ')) {
    passed++;
    inFailure = false;
    return;
  }
  if (line.startsWith('not ok ')) {
    failed++;
    inFailure = true;
    if (!verbose) console.log(`${lastComment}\n${line}`);
    return;
  }
  let m: RegExpExecArray | null;
  if ((m = /^# pass\s+(\d+)/.exec(line)) !== null) summaryPass = Number(m[1]);
  else if ((m = /^# fail\s+(\d+)/.exec(line)) !== null) summaryFail = Number(m[1]);
  if (line.startsWith('# ')) {
    inFailure = false;
    lastComment = line;
  }
  const isSummary = /^(1\.\.\d+|# (tests|pass|fail|ok|todo|skip)\b)/.test(line);
  if (!verbose && (inFailure || isSummary)) console.log(line);
}

const stream = test.createStream();
stream.on('data', (chunk) => {
  pending += String(chunk);
  let i: number;
  while ((i = pending.indexOf('\n')) >= 0) {
    onLine(pending.slice(0, i));
    pending = pending.slice(i + 1);
  }
});
stream.on('end', () => {
  if (pending !== '') onLine(pending);
  const p = summaryPass ?? passed;
  const f = Math.max(summaryFail ?? failed, failed);
  writeResults(p, f);
  console.log(`abstract-level suite on StrataLevel: ${p} assertions passed, ${f} failed (${count} databases)`);
  rmSync(root, { recursive: true, force: true });
  if (f > 0) process.exitCode = 1;
});

// A hung test would keep the process alive forever; fail it instead.
const watchdog = setTimeout(
  () => {
    console.log(`not ok - abstract-level suite did not finish within the time limit (last: ${lastComment})`);
    writeResults(passed, failed + 1);
    process.exit(1);
  },
  Number(process.env.SUITE_TIMEOUT_MS ?? 240_000),
);
watchdog.unref();

suite({ test, factory });
