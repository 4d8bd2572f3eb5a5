// Deletes that must not linger (issue 23), through the abstract-level interface: StrataLevel
// against classic-level (LevelDB), measured in the same run, same process, same data.
//
//   queue        QUEUE_JOBS jobs waiting; then QUEUE_POPS pops, each one `iterator({ limit: 1 })`
//                (a fresh iterator: the head), `del(head)`, `put(tail)` — the queue stays
//                QUEUE_JOBS long and every pop leaves one more deleted key in front of the head.
//                Rate (pops/s, wall clock) over every QUEUE_STEP pops. Targets: Strata ≥ 1.0×
//                classic-level at every point; Strata's last rate ≥ 0.5× its first.
//   mass-delete  MASS_KEYS keys written (batches of 1000), every one deleted with a point delete
//                (batches of 1000), MASS_NEW new keys written, then idle: the database's bytes on
//                disk (every file in its directory) against the live data (keys + values), sampled
//                every 100 ms — no manual compact(). Target: disk ≤ 1.5× live data; reported: the
//                disk after IDLE_MS of idle, and the time after the last write at which the target
//                was first met (sampling goes on up to MAX_IDLE_MS for it).
//
//   npm run bench -- deletes                         (root; node --expose-gc --conditions=source --import tsx)
//   BENCH_ROUNDS=3 BENCH_ONLY=strata npm run bench -- deletes
//   BENCH_PART=queue npm run bench -- deletes     (or BENCH_PART=mass-delete: one half only)
//
// db_bench's 16-byte keys and 100-byte incompressible values (engine/testing dbBench), buffer
// encodings. Medians of BENCH_ROUNDS rounds (default 3) on fresh databases; the
// implementations alternate who goes first.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbBench } from '@strata-db/engine/testing';
import { ClassicLevel } from 'classic-level';
import { StrataLevel } from '../src/index.js';

type Db = StrataLevel<Buffer, Buffer> | ClassicLevel<Buffer, Buffer>;
interface Impl {
  readonly name: string;
  create(location: string): Db;
}

const env = (name: string, def: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};
const ROUNDS = Math.max(1, env('BENCH_ROUNDS', 3));
const QUEUE_JOBS = env('QUEUE_JOBS', 10_000);
const QUEUE_POPS = env('QUEUE_POPS', 20_000);
const QUEUE_STEP = env('QUEUE_STEP', 2_000);
const MASS_KEYS = env('MASS_KEYS', 500_000);
const MASS_NEW = env('MASS_NEW', 50_000);
const IDLE_MS = env('IDLE_MS', 5_000);
const MAX_IDLE_MS = Math.max(IDLE_MS, env('MAX_IDLE_MS', 30_000));
const { KEY_SIZE, VALUE_SIZE, key, value } = dbBench;

const impls: Impl[] = [
  { name: 'strata', create: (location) => new StrataLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) },
  { name: 'classic-level', create: (location) => new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) },
];

const root = mkdtempSync(join(tmpdir(), 'strata-deletes-bench-'));
let dirs = 0;
const freshLocation = (): string => join(root, `db-${++dirs}`);

function diskBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // deleted between readdir and stat
    }
  }
  return n;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The queue's head, read as a consumer does: a fresh iterator, one entry. */
function head1(db: Db): Promise<[Buffer, Buffer][]> {
  // (Narrowed: iterator()'s overloads do not resolve on the union.)
  return db instanceof ClassicLevel ? db.iterator({ limit: 1 }).all() : db.iterator({ limit: 1 }).all();
}

/** pops/s over each QUEUE_STEP pops. */
async function queue(db: Db): Promise<number[]> {
  for (let i = 0; i < QUEUE_JOBS; i += 1000) {
    const ops = [];
    for (let j = i; j < Math.min(QUEUE_JOBS, i + 1000); j++) ops.push({ type: 'put' as const, key: key(j), value: value(j) });
    await db.batch(ops);
  }
  gc();
  const rates: number[] = [];
  let tail = QUEUE_JOBS;
  let expected = 0;
  let t0 = performance.now();
  for (let pop = 1; pop <= QUEUE_POPS; pop++) {
    const entries = await head1(db);
    const head = entries[0];
    if (head === undefined || !head[0].equals(key(expected))) throw new Error(`pop ${pop}: expected job ${expected}, got ${head?.[0].toString() ?? 'nothing'}`);
    expected++;
    await db.del(head[0]);
    await db.put(key(tail), value(tail));
    tail++;
    if (pop % QUEUE_STEP === 0) {
      const t1 = performance.now();
      rates.push((QUEUE_STEP / (t1 - t0)) * 1000);
      t0 = t1;
    }
  }
  return rates;
}

interface MassDelete {
  readonly liveBytes: number;
  /** Disk bytes right after the last write, and after IDLE_MS of idle. */
  readonly diskAfterWrites: number;
  readonly diskAfterIdle: number;
  /** ms after the last write at which disk ≤ 1.5× live was first seen; undefined: not within MAX_IDLE_MS. */
  readonly reachedAtMs: number | undefined;
  readonly writeSeconds: number;
}

async function massDelete(db: Db, dir: string): Promise<MassDelete> {
  const started = performance.now();
  for (const kind of ['put', 'del'] as const) {
    for (let i = 0; i < MASS_KEYS; i += 1000) {
      const ops = [];
      for (let j = i; j < Math.min(MASS_KEYS, i + 1000); j++) ops.push(kind === 'put' ? { type: 'put' as const, key: key(j), value: value(j) } : { type: 'del' as const, key: key(j) });
      await db.batch(ops);
    }
  }
  for (let i = 0; i < MASS_NEW; i += 1000) {
    const ops = [];
    for (let j = i; j < Math.min(MASS_NEW, i + 1000); j++) ops.push({ type: 'put' as const, key: key(MASS_KEYS + j), value: value(j) });
    await db.batch(ops);
  }
  const writeSeconds = (performance.now() - started) / 1000;
  const liveBytes = MASS_NEW * (KEY_SIZE + VALUE_SIZE);
  const diskAfterWrites = diskBytes(dir);
  const idleStart = performance.now();
  let reachedAtMs: number | undefined;
  let diskAfterIdle: number | undefined;
  for (;;) {
    const now = performance.now() - idleStart;
    const disk = diskBytes(dir);
    if (reachedAtMs === undefined && disk <= 1.5 * liveBytes) reachedAtMs = now;
    if (diskAfterIdle === undefined && now >= IDLE_MS) diskAfterIdle = disk;
    if ((diskAfterIdle !== undefined && reachedAtMs !== undefined) || now >= MAX_IDLE_MS) break;
    await sleep(100);
  }
  diskAfterIdle ??= diskBytes(dir);
  // Nothing was lost: exactly the new keys are live.
  let n = 0;
  for await (const k of db.keys()) {
    if (!k.equals(key(MASS_KEYS + n))) throw new Error(`mass-delete: unexpected key ${k.toString()}`);
    n++;
  }
  if (n !== MASS_NEW) throw new Error(`mass-delete: ${n} live keys, expected ${MASS_NEW}`);
  return { liveBytes, diskAfterWrites, diskAfterIdle, reachedAtMs, writeSeconds };
}

const queueRates = new Map<string, number[][]>();
const massResults = new Map<string, MassDelete[]>();

const part = process.env.BENCH_PART;
const runQueue = part === undefined || part === '' || part === 'queue';
const runMass = part === undefined || part === '' || part === 'mass-delete';

async function run(impl: Impl): Promise<void> {
  if (runQueue) await runQueueOnce(impl);
  if (runMass) await runMassOnce(impl);
}

async function runQueueOnce(impl: Impl): Promise<void> {
  const q = impl.create(freshLocation());
  await q.open();
  const rates = await queue(q);
  await q.close();
  queueRates.set(impl.name, [...(queueRates.get(impl.name) ?? []), rates]);
  console.error(`  ${impl.name.padEnd(14)} queue pops/s: ${rates.map((r) => Math.round(r)).join(' ')}`);
}

async function runMassOnce(impl: Impl): Promise<void> {
  const location = freshLocation();
  const m = impl.create(location);
  await m.open();
  const r = await massDelete(m, location);
  await m.close();
  massResults.set(impl.name, [...(massResults.get(impl.name) ?? []), r]);
  console.error(
    `  ${impl.name.padEnd(14)} mass-delete (after ${IDLE_MS} ms): live ${(r.liveBytes / 1e6).toFixed(1)} MB, disk ${(r.diskAfterWrites / 1e6).toFixed(1)} → ${(r.diskAfterIdle / 1e6).toFixed(1)} MB, ≤1.5× at ${r.reachedAtMs === undefined ? 'never' : `${Math.round(r.reachedAtMs)} ms`}`,
  );
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

console.error(`deletes bench: queue ${QUEUE_JOBS} jobs / ${QUEUE_POPS} pops; mass-delete ${MASS_KEYS} keys, ${MASS_NEW} new, ${IDLE_MS} ms idle; ${ROUNDS} rounds`);
const loadBefore = loadavg();
const started = Date.now();
const only = process.env.BENCH_ONLY;
const chosen = impls.filter((impl) => only === undefined || only === impl.name);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    for (const impl of order) await run(impl);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const loadAfter = loadavg();

const fmt = (x: number | undefined): string => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
console.log(`Medians of ${ROUNDS} rounds; ${((Date.now() - started) / 1000).toFixed(0)} s in all; load average ${load(loadBefore)} before, ${load(loadAfter)} after.\n`);
if (runQueue) printQueue();
if (runMass) printMassDelete();

function printQueue(): void {
  console.log(`Queue: ${QUEUE_JOBS.toLocaleString('en-US')} jobs waiting, pops/s (iterator({ limit: 1 }) + del + put) over each ${QUEUE_STEP.toLocaleString('en-US')} pops\n`);
  console.log('| pops | StrataLevel pops/s | classic-level pops/s | Strata / classic | Strata / its first |');
  console.log('|---:|---:|---:|---:|---:|');
  const pointMedian = (name: string, i: number): number | undefined => {
    const runs = queueRates.get(name);
    return runs === undefined ? undefined : median(runs.map((r) => r[i]!));
  };
  const steps = Math.floor(QUEUE_POPS / QUEUE_STEP);
  const firstStrata = pointMedian('strata', 0);
  let worst = Number.POSITIVE_INFINITY;
  let last: number | undefined;
  for (let i = 0; i < steps; i++) {
    const s = pointMedian('strata', i);
    const c = pointMedian('classic-level', i);
    if (s !== undefined && c !== undefined) worst = Math.min(worst, s / c);
    last = s;
    const ratio = s !== undefined && c !== undefined ? `${(s / c).toFixed(2)}×` : '—';
    const own = s !== undefined && firstStrata !== undefined ? `${(s / firstStrata).toFixed(2)}×` : '—';
    console.log(`| ${((i + 1) * QUEUE_STEP).toLocaleString('en-US')} | ${fmt(s)} | ${fmt(c)} | ${ratio} | ${own} |`);
}
if (Number.isFinite(worst)) console.log(`\nLowest Strata / classic-level over the points: ${worst.toFixed(2)}× (target ≥ 1.0×).`);
if (last !== undefined && firstStrata !== undefined) console.log(`Strata's rate at ${QUEUE_POPS.toLocaleString('en-US')} pops / its first: ${(last / firstStrata).toFixed(2)}× (target ≥ 0.5×).`);
}

function printMassDelete(): void {
  console.log(`\nMass delete: ${MASS_KEYS.toLocaleString('en-US')} keys written and point-deleted, ${MASS_NEW.toLocaleString('en-US')} new keys, then idle (no compact())\n`);
  console.log(`| | live MB | disk MB after writes | disk MB after ${IDLE_MS} ms idle | disk / live | ≤ 1.5× live after (ms; up to ${MAX_IDLE_MS}) | write phase s |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const impl of chosen) {
    const rs = massResults.get(impl.name) ?? [];
    if (rs.length === 0) continue;
    const live = rs[0]!.liveBytes;
    const after = median(rs.map((r) => r.diskAfterIdle));
    const reached = rs.map((r) => r.reachedAtMs).filter((x): x is number => x !== undefined);
    const reachedText = reached.length === rs.length ? fmt(median(reached)) : `${reached.length}/${rs.length} rounds reached it${reached.length > 0 ? ` (median ${fmt(median(reached))})` : ''}`;
    console.log(
      `| ${impl.name} | ${(live / 1e6).toFixed(1)} | ${(median(rs.map((r) => r.diskAfterWrites)) / 1e6).toFixed(1)} | ${(after / 1e6).toFixed(1)} | ${(after / live).toFixed(2)} | ${reachedText} | ${median(rs.map((r) => r.writeSeconds)).toFixed(1)} |`,
    );
}
}
