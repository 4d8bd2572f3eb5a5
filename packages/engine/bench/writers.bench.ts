// Many writers at once: N puts issued together (`Promise.all`), 16 B keys / 100 B values, default
// options, for N = 1k, 10k, 100k, 1M; then concurrent batches of 100 puts; then durable puts from
// 256 writers — Strata against classic-level in the same run, each engine on a fresh directory,
// engines alternating, medians of BENCH_ROUNDS rounds. Strata's own rate for awaited puts one at
// a time is the floor: more concurrency must not make it slower.
//
//   npm run bench -- writers
//   BENCH_SCALE=0.1 npm run bench -- writers     (every N ×0.1)
//
// Peak RSS is sampled during each run (process-wide, so the engines run in separate processes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Database } from '../src/index.js';
import { key, shuffled, value } from './support/db-bench-data.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = [1_000, 10_000, 100_000, 1_000_000].map((n) => Math.max(100, Math.round(n * SCALE)));
const BATCHES = Math.max(100, Math.round(5_000 * SCALE)); // concurrent batches of 100
const SEQUENTIAL = Math.max(1000, Math.round(100_000 * SCALE));
const DURABLE = Math.max(256, Math.round(10_000 * SCALE));

interface Subject {
  put(k: Buffer, v: Buffer, sync?: boolean): Promise<void>;
  batch(keys: Buffer[], values: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

async function open(engine: string, dir: string): Promise<Subject> {
  if (engine === 'strata') {
    const db = await Database.open(dir);
    return {
      put: (k, v, sync = false) => db.put(k, v, { sync }),
      async batch(keys, values) {
        const b = db.batch();
        for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
        await b.write();
      },
      close: () => db.close(),
    };
  }
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return {
    put: (k, v, sync = false) => db.put(k, v, { sync }),
    batch: (keys, values) => db.batch(keys.map((k, i) => ({ type: 'put' as const, key: k, value: values[i]! }))),
    close: () => db.close(),
  };
}

interface Result {
  readonly opsPerSec: number;
  readonly peakRssMB: number;
}

/** Runs `work` on a fresh database of `engine`; ops/s and the peak RSS seen meanwhile. */
async function measure(engine: string, ops: number, work: (db: Subject) => Promise<void>): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), `strata-writers-${engine}-`));
  const db = await open(engine, dir);
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const t0 = performance.now();
  await work(db);
  const s = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return { opsPerSec: ops / s, peakRssMB: peak / 2 ** 20 };
}

const WORKLOADS: Record<string, (engine: string) => Promise<Result>> = {
  sequential: (engine) =>
    measure(engine, SEQUENTIAL, async (db) => {
      for (let i = 0; i < SEQUENTIAL; i++) await db.put(key(i), value(i));
    }),
  ...Object.fromEntries(
    IN_FLIGHT.map((n) => [
      `inflight-${n}`,
      (engine: string) =>
        measure(engine, n, async (db) => {
          const order = shuffled(n, 7);
          const all: Promise<void>[] = new Array<Promise<void>>(n);
          for (let i = 0; i < n; i++) all[i] = db.put(key(order[i]!), value(i));
          await Promise.all(all);
        }),
    ]),
  ),
  batches: (engine) =>
    measure(engine, BATCHES * 100, async (db) => {
      const order = shuffled(BATCHES * 100, 9);
      const all: Promise<void>[] = [];
      for (let b = 0; b < BATCHES; b++) {
        const keys: Buffer[] = [];
        const values: Buffer[] = [];
        for (let j = 0; j < 100; j++) {
          const i = order[b * 100 + j]!;
          keys.push(key(i));
          values.push(value(i));
        }
        all.push(db.batch(keys, values));
      }
      await Promise.all(all);
    }),
  durable256: (engine) =>
    measure(engine, DURABLE, async (db) => {
      let next = 0;
      const writer = async (): Promise<void> => {
        for (let i = next++; i < DURABLE; i = next++) await db.put(key(i), value(i), true);
      };
      await Promise.all(Array.from({ length: 256 }, writer));
    }),
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (process.env.BENCH_WRITERS_ONE !== undefined) {
  const [engine, workload] = process.env.BENCH_WRITERS_ONE.split(':') as [string, string];
  process.stdout.write(`${JSON.stringify(await WORKLOADS[workload]!(engine))}\n`);
} else {
  const engines = ['strata', 'classic-level'];
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' ');
  const results = new Map<string, Result[]>();
  for (const workload of Object.keys(WORKLOADS)) {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) {
        const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
          env: { ...process.env, BENCH_WRITERS_ONE: `${engine}:${workload}` },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        if (r.status !== 0) throw new Error(`${engine} ${workload} failed (exit ${r.status ?? r.signal})`);
        const id = `${engine}:${workload}`;
        results.set(id, [...(results.get(id) ?? []), JSON.parse(r.stdout.trim().split('\n').pop()!) as Result]);
      }
    }
  }
  const get = (engine: string, w: string): { ops: number; rss: number } => {
    const rs = results.get(`${engine}:${w}`)!;
    return { ops: median(rs.map((r) => r.opsPerSec)), rss: median(rs.map((r) => r.peakRssMB)) };
  };
  const label: Record<string, string> = {
    sequential: `put, awaited one at a time (${SEQUENTIAL.toLocaleString('en-US')})`,
    batches: `${BATCHES.toLocaleString('en-US')} batches of 100 in flight`,
    durable256: `put sync: true, 256 writers (${DURABLE.toLocaleString('en-US')})`,
  };
  console.log(`medians of ${ROUNDS} rounds; load average ${loadStart} at start, ${loadavg().map((x) => x.toFixed(1)).join(' ')} at end\n`);
  console.log('| workload | Strata ops/s | classic-level ops/s | Strata / classic-level | Strata / own one-at-a-time | peak RSS MB (Strata / classic-level) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const own = get('strata', 'sequential').ops;
  for (const w of Object.keys(WORKLOADS)) {
    const s = get('strata', w);
    const c = get('classic-level', w);
    const name = label[w] ?? `${Number(w.split('-')[1]).toLocaleString('en-US')} puts in flight`;
    console.log(`| ${name} | ${Math.round(s.ops).toLocaleString('en-US')} | ${Math.round(c.ops).toLocaleString('en-US')} | ${(s.ops / c.ops).toFixed(2)}× | ${(s.ops / own).toFixed(2)}× | ${s.rss.toFixed(0)} / ${c.rss.toFixed(0)} |`);
  }
}
