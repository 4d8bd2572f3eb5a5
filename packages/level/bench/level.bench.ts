// db_bench workloads through the abstract-level interface: StrataLevel against classic-level
// (LevelDB), measured in the same run, same process, same data. 16-byte keys, 100-byte values,
// buffer encodings (so the figures are about storage, not string encoding).
//
//   npm run bench -- level                 (root; node --expose-gc --conditions=source --import tsx)
//   BENCH_SCALE=0.2 npm run bench -- level (smaller, for a quick look; BENCH_ONLY=strata for one side)
//
// Prints a Markdown table: ops/s for each and the ratio Strata / classic-level (> 1: Strata faster),
// then the same per CPU-second of the process (every thread: Strata's background workers,
// classic-level's thread pool and LevelDB's compaction thread) — on a shared machine the wall
// figures are the load's, and the CPU ones move less with it.
// Every workload runs ROUNDS times per implementation, the implementations alternating (so a
// noisy neighbour hits both), on fresh databases each round; the table shows the median.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { dbBench } from '@strata-db/engine/testing';
import { StrataLevel } from '../src/index.js';

type Db = StrataLevel<Buffer, Buffer> | ClassicLevel<Buffer, Buffer>;
interface Impl {
  name: string;
  create(location: string): Db;
}

const scale = Number(process.env.BENCH_SCALE ?? 1);
const N = Math.round(300_000 * scale); // fillseq, fillrandom, reads
const PUTS = Math.round(30_000 * scale); // awaited single puts
const READS = Math.round(150_000 * scale);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1000;
const { KEY_SIZE, VALUE_SIZE, key, value, shuffled } = dbBench;

const impls: Impl[] = [
  { name: 'strata', create: (location) => new StrataLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) },
  { name: 'classic-level', create: (location) => new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) },
];

const root = mkdtempSync(join(tmpdir(), 'strata-level-bench-'));
let dirs = 0;
const freshLocation = (): string => join(root, `db-${++dirs}`);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function time(fn: () => Promise<number>): Promise<{ ops: number; seconds: number; cpuSeconds: number }> {
  gc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const ops = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { ops, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

async function fill(db: Db, order: Uint32Array | null): Promise<number> {
  for (let i = 0; i < N; i += BATCH) {
    const ops = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const k = order === null ? j : order[j]!;
      ops.push({ type: 'put' as const, key: key(k), value: value(k) });
    }
    await db.batch(ops);
  }
  return N;
}

async function putEach(db: Db, order: Uint32Array): Promise<number> {
  for (let i = 0; i < PUTS; i++) await db.put(key(order[i]!), value(i));
  return PUTS;
}

async function readAwait(db: Db, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if ((await db.get(key(order[i % N]!))) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom found ${found} of ${READS}`);
  return READS;
}

async function readSync(db: Db, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if (db.getSync(key(order[i % N]!)) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom (getSync) found ${found} of ${READS}`);
  return Promise.resolve(READS);
}

async function readSeq(db: Db): Promise<number> {
  const it = db.iterator();
  let n = 0;
  for (;;) {
    const entries = await it.nextv(1000);
    if (entries.length === 0) break;
    n += entries.length;
  }
  await it.close();
  if (n !== N) throw new Error(`readseq saw ${n} of ${N}`);
  return n;
}

const workloads = ['fillseq', 'fillrandom', 'put (awaited)', 'readrandom (await get)', 'readrandom (getSync)', 'readseq (nextv)'] as const;
type Workload = (typeof workloads)[number];
/** impl → workload → ops/s of each round. */
const results = new Map<string, Map<Workload, number[]>>();
/** impl → workload → ops per CPU-second of each round. */
const cpuResults = new Map<string, Map<Workload, number[]>>();

async function run(impl: Impl): Promise<void> {
  let r = results.get(impl.name);
  if (r === undefined) results.set(impl.name, (r = new Map()));
  let rc = cpuResults.get(impl.name);
  if (rc === undefined) cpuResults.set(impl.name, (rc = new Map()));
  const record = (w: Workload, m: { ops: number; seconds: number; cpuSeconds: number }): void => {
    const list = r.get(w) ?? [];
    list.push(m.ops / m.seconds);
    r.set(w, list);
    const cpuList = rc.get(w) ?? [];
    cpuList.push(m.ops / m.cpuSeconds);
    rc.set(w, cpuList);
    console.error(`  ${impl.name.padEnd(14)} ${w.padEnd(24)} ${m.ops} ops in ${m.seconds.toFixed(2)} s (${m.cpuSeconds.toFixed(2)} CPU-s)`);
  };
  const order = shuffled(N, 42);

  // fillseq into a fresh database, which the read workloads then use.
  const main = impl.create(freshLocation());
  await main.open();
  record('fillseq', await time(() => fill(main, null)));

  const random = impl.create(freshLocation());
  await random.open();
  record('fillrandom', await time(() => fill(random, order)));
  await random.close();

  const puts = impl.create(freshLocation());
  await puts.open();
  record('put (awaited)', await time(() => putEach(puts, order)));
  await puts.close();

  const readOrder = shuffled(N, 7);
  // One pass not measured: both read workloads then start from the same warm block cache (the
  // first pass pays the misses, and whatever compaction the fill left running), so that
  // await get / getSync compares the two calls, not a cold pass with a warm one.
  await readSync(main, readOrder);
  record('readrandom (await get)', await time(() => readAwait(main, readOrder)));
  record('readrandom (getSync)', await time(() => readSync(main, readOrder)));
  record('readseq (nextv)', await time(() => readSeq(main)));
  await main.close();
}

console.error(`level bench: N=${N} (batches of ${BATCH}), ${PUTS} awaited puts, ${READS} reads, ${KEY_SIZE} B keys, ${VALUE_SIZE} B values, ${ROUNDS} rounds`);
const started = Date.now();
try {
  const only = process.env.BENCH_ONLY; // e.g. BENCH_ONLY=strata
  const chosen = impls.filter((impl) => only === undefined || only === impl.name);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so that neither always runs on a warmer (or busier) machine.
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    for (const impl of order) await run(impl);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

function median(xs: number[] | undefined): number | undefined {
  if (xs === undefined || xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (x: number | undefined): string => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
console.log(`Median of ${ROUNDS} rounds; ${N.toLocaleString('en-US')} keys, ${KEY_SIZE} B keys, ${VALUE_SIZE} B values; ${((Date.now() - started) / 1000).toFixed(0)} s in all.\n`);
console.log(`| workload | StrataLevel ops/s | classic-level ops/s | Strata / classic | StrataLevel per CPU-s | classic-level per CPU-s | Strata / classic per CPU-s |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
const ratio = (s: number | undefined, c: number | undefined): string => (s !== undefined && c !== undefined ? `${(s / c).toFixed(2)}×` : '—');
for (const w of workloads) {
  const s = median(results.get('strata')?.get(w));
  const c = median(results.get('classic-level')?.get(w));
  const sc = median(cpuResults.get('strata')?.get(w));
  const cc = median(cpuResults.get('classic-level')?.get(w));
  console.log(`| ${w} | ${fmt(s)} | ${fmt(c)} | ${ratio(s, c)} | ${fmt(sc)} | ${fmt(cc)} | ${ratio(sc, cc)} |`);
}
