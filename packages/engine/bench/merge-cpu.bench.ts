// CPU per byte merged: what one background core can compact, Strata against classic-level
// (LevelDB) in the same run. The fill's bend at scale (issues 12, 14) is set by it: at the end of
// a large fill the rate is what the compaction core merges per second over the write amplification.
//
//   npm run bench -- merge-cpu                                (root; N = 2,000,000)
//   MERGE_CPU_BENCH_N=5000000 MERGE_CPU_BENCH_ROUNDS=5 …  (say which N you ran)
//   MERGE_CPU_BENCH_THREADS=0 …     (Strata merges on the main thread: `node --cpu-prof` sees it)
//
// Each engine fills N random keys (16 B / 100 B incompressible values, the db_bench data, batches
// of 1000, default options) once and settles; that directory is the template. Then, rounds
// alternating engines, a fresh copy of the template is opened and compacted whole (Strata:
// `compact()`, one pass into the bottom level; classic-level: `compactRange` over every key,
// which LevelDB runs level by level) and the process's CPU time (every thread: LevelDB's
// compaction thread, Strata's worker) and disk bytes written (/proc/self/io) are measured. Reported:
// medians of CPU ms per MB written and MB written per CPU second, and Strata's ratio.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Database } from '../src/index.js';
import { compactionSettled } from './support/compaction-settled.js';
import { key, permutation, value } from './support/db-bench-data.js';
import { FILL_BATCH, fillRandom } from './support/fill-random.js';

const N = Number(process.env['MERGE_CPU_BENCH_N'] ?? 2_000_000);
const ROUNDS = Number(process.env['MERGE_CPU_BENCH_ROUNDS'] ?? 3);
const THREADS = process.env['MERGE_CPU_BENCH_THREADS'];
const ENGINES = (process.env['MERGE_CPU_BENCH_ENGINES'] ?? 'strata,classic-level').split(',');
const MiB = 2 ** 20;

function procWriteBytes(): number {
  const m = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Engine {
  fill(): Promise<void>;
  compactAll(): Promise<void>;
  close(): Promise<void>;
}

async function open(engine: string, dir: string): Promise<Engine> {
  if (engine === 'strata') {
    const db = await Database.open(dir, THREADS === undefined ? {} : { backgroundThreads: Number(THREADS) });
    return {
      async fill() {
        await fillRandom(db, N);
        await compactionSettled(db);
      },
      compactAll: () => db.compact(),
      close: () => db.close(),
    };
  }
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return {
    async fill() {
      const order = permutation(N, 42);
      for (let i = 0; i < N; i += FILL_BATCH) {
        const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
        for (let j = i; j < Math.min(N, i + FILL_BATCH); j++) ops.push({ type: 'put', key: key(order.at(j)), value: value(order.at(j)) });
        await db.batch(ops);
      }
    },
    compactAll: () => db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff)),
    close: () => db.close(),
  };
}

interface Round {
  cpuMs: number;
  writtenMB: number;
  wallMs: number;
}

const templates = new Map<string, string>();
const load0 = loadavg().map((x) => x.toFixed(1)).join(' ');
for (const engine of ENGINES) {
  const dir = mkdtempSync(join(tmpdir(), `merge-cpu-${engine}-`));
  const db = await open(engine, dir);
  await db.fill();
  await db.close();
  templates.set(engine, dir);
}
const rounds = new Map<string, Round[]>(ENGINES.map((e) => [e, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const engine of ENGINES) {
      const dir = mkdtempSync(join(tmpdir(), `merge-cpu-${engine}-run-`));
      try {
        cpSync(templates.get(engine)!, dir, { recursive: true });
        const db = await open(engine, dir);
        const w0 = procWriteBytes();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await db.compactAll();
        const wallMs = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const writtenMB = (procWriteBytes() - w0) / MiB;
        await db.close();
        rounds.get(engine)!.push({ cpuMs: (c.user + c.system) / 1000, writtenMB, wallMs });
        process.stderr.write(`${engine} round ${r + 1}: ${writtenMB.toFixed(0)} MB written, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  for (const dir of templates.values()) rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const perMB = (e: string): number => median(rounds.get(e)!.map((r) => r.cpuMs / r.writtenMB));
console.log(
  `whole compaction of a settled ${N.toLocaleString('en-US')}-key fillrandom database (16 B / 100 B), ${ROUNDS} round(s) alternating, medians; Strata backgroundThreads ${THREADS ?? 'default'}; load average at start ${load0}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`,
);
console.log('| engine | MB written | CPU ms per MB written | MB written per CPU second | wall s |');
console.log('|---|---:|---:|---:|---:|');
for (const e of ENGINES) {
  const rs = rounds.get(e)!;
  console.log(
    `| ${e} | ${median(rs.map((r) => r.writtenMB)).toFixed(0)} | ${perMB(e).toFixed(2)} | ${(1000 / perMB(e)).toFixed(0)} | ${(median(rs.map((r) => r.wallMs)) / 1000).toFixed(1)} |`,
  );
}
if (ENGINES.includes('strata') && ENGINES.includes('classic-level')) {
  console.log(`\nStrata / classic-level, MB written per CPU second: ${(perMB('classic-level') / perMB('strata')).toFixed(2)}×`);
}
