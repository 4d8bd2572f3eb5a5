// The steady-state cost of a random `await get` on a database many times the block cache (issue
// 13): with the cache full and the JIT warm, where the scale bench's 200k gets are mostly a cold
// start (docs/performance/session-31.md, miss31). One database of N keys (the scale bench's
// fillrandom: 16 B / 100 B, batches of 1000, default options, settled), reopened in a plain node
// process of its own, then three key sets read one after another, each warmed first:
//   random   keys drawn from all N: ~0.9 block-cache misses a get at 10M
//   spread   SPREAD keys evenly over the key space: every block they need is cached (no misses),
//            but the lookups still walk every table's metadata (cold in the CPU's caches)
//   range    the first RANGE keys: hits on a few tables, warm in the CPU's caches — what the
//            lookup itself costs (a 1M database's steady get, ~3 µs, is of this kind)
// So random − spread is what the misses cost, spread − range what the metadata's coldness costs.
// (The hot sets enter the cache the random gets filled only since session 32's CLOCK fix,
// clock-ring.ts: before it they stayed at 0.22 and 0.90 misses a get.)
// Per get: the main thread's CPU (/proc/self/task/<pid>/stat: a count of its own, load does not
// inflate it as it does wall time), wall, block-cache misses, table probes. Medians of ROUNDS
// rounds of GETS gets (docs/performance/session-32.md).
//
//   npm run bench -- steady-get                   (root; N = 10,000,000: a ~2 min fill)
//   STEADY_GET_BENCH_DIR=/tmp/db10m …             (keep the database there and reuse it: a
//                                                  directory with a database is opened as it is)
//   STEADY_GET_BENCH_N, _GETS, _WARM, _ROUNDS, _SPREAD, _RANGE
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';
import { compactionSettled } from './support/compaction-settled.js';
import { key } from './support/db-bench-data.js';
import { fillRandom } from './support/fill-random.js';
import { mainThreadCpuS } from './support/proc-stat.js';
import { bundleBench, runEngineProcess } from './support/engine-process.js';

const N = Number(process.env.STEADY_GET_BENCH_N ?? 10_000_000);
const GETS = Number(process.env.STEADY_GET_BENCH_GETS ?? 200_000);
const WARM = Number(process.env.STEADY_GET_BENCH_WARM ?? 200_000);
const ROUNDS = Number(process.env.STEADY_GET_BENCH_ROUNDS ?? 3);
const SPREAD = Number(process.env.STEADY_GET_BENCH_SPREAD ?? 20_000);
const RANGE = Number(process.env.STEADY_GET_BENCH_RANGE ?? 200_000);

interface Round {
  readonly cpuUs: number;
  readonly wallUs: number;
  readonly misses: number;
  readonly probes: number;
  readonly load: string;
}
type Report = Record<string, Round[]>;

const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');

async function fill(dir: string): Promise<void> {
  const db = await Database.open(dir);
  await fillRandom(db, N);
  if (!(await compactionSettled(db))) process.stderr.write('steady-get: compaction did not settle in 600 s\n');
  await db.close();
}

async function measure(dir: string): Promise<Report> {
  const db = await Database.open(dir);
  const sets: Record<string, (x: number) => number> = {
    random: (x) => x % N,
    spread: (x) => (x % SPREAD) * Math.floor(N / SPREAD),
    range: (x) => x % RANGE,
  };
  const counts = (): { misses: number; probes: number } => {
    const s = db.stats();
    return { misses: s.blockCache.misses, probes: s.counters.tableProbes };
  };
  const report: Report = {};
  let s = 7;
  for (const [name, pick] of Object.entries(sets)) {
    const run = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        if ((await db.get(key(pick(s)))) === undefined) throw new Error(`steady-get: key ${pick(s)} missing`);
      }
    };
    await run(WARM);
    report[name] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = counts();
      const cpu0 = mainThreadCpuS();
      const t0 = performance.now();
      await run(GETS);
      const wall = performance.now() - t0;
      const cpu = mainThreadCpuS() - cpu0;
      const c1 = counts();
      report[name].push({ cpuUs: (cpu * 1e6) / GETS, wallUs: (wall * 1e3) / GETS, misses: (c1.misses - c0.misses) / GETS, probes: (c1.probes - c0.probes) / GETS, load: load() });
    }
  }
  await db.close();
  return report;
}

if (process.env.STEADY_GET_BENCH_CHILD !== undefined) {
  const dir = process.env.STEADY_GET_BENCH_CHILD;
  if (process.env.STEADY_GET_BENCH_FILL === '1') {
    await fill(dir);
    process.stdout.write('{}\n');
  } else process.stdout.write(`${JSON.stringify(await measure(dir))}\n`);
} else {
  const kept = process.env.STEADY_GET_BENCH_DIR;
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'strata-steady-get-'));
  try {
    const child = bundleBench(import.meta.url, false);
    const built = existsSync(dir) && readdirSync(dir).length > 0;
    const fillStart = performance.now();
    // In a process of its own too: the gets' process starts from the files, as a reopened database does.
    if (!built) runEngineProcess(child, { STEADY_GET_BENCH_CHILD: dir, STEADY_GET_BENCH_FILL: '1' });
    const filled = built ? `the database in ${dir} as it was` : `filled in ${((performance.now() - fillStart) / 1000).toFixed(0)} s`;
    const startLoad = load();
    const report = runEngineProcess<Report>(child, { STEADY_GET_BENCH_CHILD: dir });
    const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
    const m = (name: string, f: (r: Round) => number): number => median(report[name]!.map(f));
    console.log(
      `random \`await get\` on ${N.toLocaleString('en-US')} keys (16 B / 100 B, default options; ${filled}), ${WARM.toLocaleString('en-US')} warm-up gets then ${ROUNDS} rounds of ${GETS.toLocaleString('en-US')} per key set; medians; load average at start ${startLoad}, at end ${load()}\n`,
    );
    console.log('| keys | main-thread CPU, µs a get | wall, µs a get | block-cache misses a get | table probes a get | CPU / range |');
    console.log('|---|---:|---:|---:|---:|---:|');
    const base = m('range', (r) => r.cpuUs);
    const label: Record<string, string> = { random: 'random, all keys', spread: `${SPREAD.toLocaleString('en-US')} spread over all`, range: `the first ${RANGE.toLocaleString('en-US')}` };
    for (const name of Object.keys(report)) {
      const cpu = m(name, (r) => r.cpuUs);
      console.log(`| ${label[name]} | ${cpu.toFixed(2)} | ${m(name, (r) => r.wallUs).toFixed(2)} | ${m(name, (r) => r.misses).toFixed(3)} | ${m(name, (r) => r.probes).toFixed(2)} | ${(cpu / base).toFixed(2)}× |`);
    }
    // A database the block cache holds whole has no misses to divide by (a small N).
    const misses = m('random', (r) => r.misses);
    const missUs = misses > 0 ? `~${((m('random', (r) => r.cpuUs) - m('spread', (r) => r.cpuUs)) / misses).toFixed(1)} µs` : '– (no misses)';
    console.log(`\nA block-cache miss costs ${missUs} of main-thread CPU ((random − spread) / misses); rounds: ${JSON.stringify(report)}`);
  } finally {
    if (kept === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
