// db_bench-style workloads on the engine's own API, against the real peers in the same run:
// Strata (@strata-db/engine), classic-level 3.0.0 (LevelDB) and lmdb 3.5.6 (LMDB).
// 16-byte keys, 100-byte values; every workload on every engine starts from a fresh temp dir
// under os.tmpdir() (reads use the database of the last fillrandom, closed and reopened, like
// db_bench's use_existing_db, after Strata's background compaction has settled —
// support/compaction-settled.ts; LevelDB's runs on its own thread), and one unmeasured pass of
// random reads on each.
//
// Each engine's round runs in a fresh node process of its own (its fills and puts;
// support/engine-process.ts), the engines' processes taking turns and rotating who goes first: in
// one process an engine's figures depended on the engines that ran before it (docs/performance/session-09.md,
// "a fair dbbench"). The reads run after the last round, in a reader process
// per engine that reopens the databases that engine's last round filled; the parent asks the
// readers for one sample each in turn (readsInTurns), so that a round's samples of the engines
// are seconds apart, and the reads' ratios are the median of the rounds' ratios. BENCH_IN_PROCESS=1 runs every
// engine in this one process instead, one after the other, interleaved per workload, the 1-writer
// durable puts on every engine at once in turns of 50 puts (durablePutsInterleaved) — what a user
// running several engines in one process sees, and what dbbench measured before.
//
//   npm run bench -- dbbench                       (root; node --expose-gc --conditions=source --import tsx)
//   BENCH_SCALE=0.1 npm run bench -- dbbench       (everything ×0.1, for a quick look)
//   BENCH_ENGINES=strata BENCH_WORKLOADS=fillrandom,readrandom npm run bench -- dbbench   (subset, e.g. to profile)
//   BENCH_IN_PROCESS=1 …                           (every engine in this one process, as above)
//   BENCH_NODE_FLAGS='--single-threaded-gc' …      (node flags for each engine's process)
//   BENCH_READ_DBS=fillseq …                       (read only that database; default both)
//   BENCH_N=1000000 BENCH_ROUNDS=5 …               (fill size, rounds; BENCH_READ_ROUNDS: the reads' rounds, default 5;
//                                                   also BENCH_PUTS, BENCH_READS, BENCH_SYNC_PUTS;
//                                                   BENCH_MAX_SECONDS caps each put sample, default 4 s)
//   BENCH_BLOCK_CACHE=8388608 …                    equal block caches: Strata's blockCacheSize and classic-level's
//                                                   cacheSize, in bytes (default: each engine's own default)
//   BENCH_STRATA_MERGE=2 BENCH_STRATA_MAX_FROZEN=4 …  Strata's minMemtablesToMerge / maxFrozenMemtables (every Strata
//                                                   engine; default: its own)
//   BENCH_STRATA_THREADS=2 …                       adds Strata with backgroundThreads 2 (strata-bg2), interleaved with the others
//   BENCH_SYNCPUT_TRACE=1 …                        the 1-writer durable puts' slowest 1% per round, each taken apart: Strata's WAL
//                                                   write(2) and fdatasync inside it (through a timing file layer), and the
//                                                   main thread's GC pauses inside it (every engine); off by default
//   BENCH_STRATA_UNCOMPRESSED=1 …                  adds Strata with compression: 'none' (as before compression was
//                                                   on by default), interleaved with the others: the cost of compression
//                                                   in the same run
//
// Durability, made comparable:
//   - non-durable writes (fills, single puts): each engine's default — the write has reached the
//     OS (write(2) for Strata's and LevelDB's logs; the committed LMDB transaction for lmdb) when
//     the promise resolves: it survives a process crash, not a power cut. Strata: sync false;
//     classic-level: sync false; lmdb: default options (overlappingSync; put resolves on commit).
//   - durable writes: it survives a power cut when the promise resolves. Strata and classic-level:
//     { sync: true } (fdatasync / fsync of the log); lmdb: its sync defaults, `await put` then
//     `await db.flushed` (the commit's fsync).
// Reported: medians of BENCH_ROUNDS rounds (default 3), ops/s, and Strata's ratio to each peer
// (> 1: Strata faster); plus the event-loop delay (p99, max) seen during the fills, and the 1-writer
// durable puts' latency percentiles and CPU per put (the process's, every thread).
// Reads run twice: on the database of the last fillseq and on that of the last fillrandom (each
// closed and reopened). Beside each read figure: the RSS of the engine's reader process after the
// sample (in-process: of the one process, the sum of every engine's), the reads per CPU-second of the
// process (every thread; what a shared machine's other load disturbs least) and the load average
// (os.loadavg, as `uptime` prints it) at the start of the read rounds. Peak RSS per engine: the
// scale bench (`BENCH_SCALE_N=1000000 BENCH_SCALE_ROUNDS=3 npm run bench -- scale`: VmHWM of each
// engine's own process during the fill, then during gets and a scan).
// `readrandom (getSync + await)` is each engine's getSync with its result awaited: what issue 13's
// "`await get` no dearer than `getSync` plus one promise" compares Strata's `await get` with.
// lmdb's `await db.get` awaits its synchronous get (the issue's yardstick: lmdb answers from its
// memory map); lmdb's `getAsync` (a thread-pool round trip) is a separate row, run only when
// named (BENCH_WORKLOADS=readrandom,readasync,readseq).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { nodeFileSystem, type FileSystem } from '@strata-db/vfs';
import { ClassicLevel } from 'classic-level';
import { open as lmdbOpen, type Database as LmdbDatabase } from 'lmdb';
import { Database, type DatabaseOptions } from '../src/index.js';
import { compactionSettled } from './support/compaction-settled.js';
import { KEY_SIZE, key, shuffled, value, VALUE_SIZE } from './support/db-bench-data.js';
import { bundleBench, runEngineProcess, serveEngineRequests, startEngineProcess, type EngineProcess } from './support/engine-process.js';

const env = (name: string, def: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};
const scale = env('BENCH_SCALE', 1);
const N = Math.max(1000, Math.round(env('BENCH_N', 1_000_000) * scale)); // fillseq, fillrandom, the read database
const PUTS = Math.max(100, Math.round(env('BENCH_PUTS', 100_000) * scale)); // single awaited puts
const READS = Math.max(100, Math.round(env('BENCH_READS', 200_000) * scale)); // random reads
const SYNC_PUTS = Math.max(20, Math.round(env('BENCH_SYNC_PUTS', 1000) * scale)); // durable puts, concurrency 1
const SYNC_PUTS_64 = SYNC_PUTS * 4; // durable puts, 64 concurrent writers
const ROUNDS = Math.max(1, env('BENCH_ROUNDS', 3));
/** Rounds of the read workloads (each a sample per engine, taken in turns): cheap, so more than the fills' by default. */
const READ_ROUNDS = Math.max(1, env('BENCH_READ_ROUNDS', 5));
/** BENCH_NODE_FLAGS='--single-threaded-gc …': node flags for each engine's process. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
/** The put workloads stop early after this many seconds (a slow engine would take minutes). */
const MAX_SECONDS = env('BENCH_MAX_SECONDS', 4);
/** Block-cache bytes for Strata and classic-level (lmdb has none); 0 = each engine's default. */
const BLOCK_CACHE = env('BENCH_BLOCK_CACHE', 0);
/** Strata's minMemtablesToMerge and maxFrozenMemtables for every Strata engine (0 = its default), as the scale bench's BENCH_SCALE_MERGE. */
const MERGE = env('BENCH_STRATA_MERGE', 0);
const MAX_FROZEN = env('BENCH_STRATA_MAX_FROZEN', 0);
const BATCH = 1000;

// ---- data: bench/support/db-bench-data.ts ------------------------------------------------

// ---- the engines, behind one small interface ----------------------------------------------

interface Handle {
  /** One atomic batch of puts. */
  batch(keys: Buffer[], values: Buffer[]): Promise<void>;
  put(k: Buffer, v: Buffer): Promise<void>;
  putDurable(k: Buffer, v: Buffer): Promise<void>;
  get(k: Buffer): Promise<Uint8Array | undefined>;
  getSync(k: Buffer): Uint8Array | undefined;
  /** lmdb only: getAsync (its reads on the thread pool). */
  getAsync?(k: Buffer): Promise<Uint8Array | undefined>;
  /** Reads every entry in key order; returns how many. */
  scan(): Promise<number>;
  /** Waits for background compaction to finish (engines that compact on the JS thread). */
  settle?(): Promise<void>;
  close(): Promise<void>;
}
interface Engine {
  readonly name: string;
  readonly getName: string;
  readonly getSyncName: string;
  readonly scanName: string;
  open(dir: string): Promise<Handle>;
}

/** BENCH_SYNCPUT_TRACE=1: the slowest durable puts taken apart (the header; `slowPuts`). */
const TRACE = process.env.BENCH_SYNCPUT_TRACE === '1';
/** Strata's file calls while `tracing`: what, performance.now() at its start and end, ms. */
const fileCalls: [string, number, number][] = [];
let tracing = false;
/** node:fs as Strata's file layer, timing its writes and syncs while `tracing` (the brand is kept: the real disk). */
function tracedFs(): FileSystem {
  const traced: Record<string | symbol, unknown> = { ...nodeFileSystem };
  for (const name of ['writeSync', 'write', 'fdatasync', 'fsync'] as const) {
    const f = nodeFileSystem[name] as (...a: unknown[]) => unknown;
    traced[name] = (...a: unknown[]): unknown => {
      if (!tracing) return f(...a);
      const start = performance.now();
      const r = f(...a);
      if (!(r instanceof Promise)) {
        fileCalls.push([name, start, performance.now()]);
        return r;
      }
      return r.then((v: unknown) => {
        fileCalls.push([name, start, performance.now()]);
        return v;
      });
    };
  }
  return traced as unknown as FileSystem;
}

/** Strata with default options (flush and compaction in a worker thread) plus `options`. */
const strataEngine = (name: string, options: DatabaseOptions): Engine => ({
  name,
  getName: 'await db.get',
  getSyncName: 'db.getSync',
  scanName: 'for await db.iterate()',
  async open(dir) {
    const db = await Database.open(dir, { sync: false, ...options, ...(TRACE ? { fs: tracedFs() } : {}), ...(BLOCK_CACHE > 0 ? { blockCacheSize: BLOCK_CACHE } : {}), ...(MERGE > 0 ? { minMemtablesToMerge: MERGE } : {}), ...(MAX_FROZEN > 0 ? { maxFrozenMemtables: MAX_FROZEN } : {}) });
    return {
      async batch(keys, values) {
        const b = db.batch();
        for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
        await b.write();
      },
      put: (k, v) => db.put(k, v),
      putDurable: (k, v) => db.put(k, v, { sync: true }),
      get: (k) => db.get(k),
      getSync: (k) => db.getSync(k),
      async scan() {
        let n = 0;
        for await (const _ of db.iterate()) n++;
        return n;
      },
      // A tight read loop never yields to the event loop: the reads start once compaction settled.
      async settle() {
        if (!(await compactionSettled(db, 60_000))) console.error(`  ${name}: compaction did not settle in 60 s`);
        // The tree the reads see (files per level): a get probes each L0 table holding its key.
        console.error(`  ${name}: tables per level at read time ${db.stats().levels.map((l) => l.files).join('/')}`);
      },
      close: () => db.close(),
    };
  },
});
const strata = strataEngine('strata', {});
/** The in-thread executor (backgroundThreads: 0): what Strata did before the worker, in the same run. */
const strataInThread = strataEngine('strata-bg0', { backgroundThreads: 0 });
const strataUncompressed = strataEngine('strata-uncompressed', { compression: 'none' });
/** BENCH_STRATA_THREADS=n: adds Strata with backgroundThreads n (and its default maxSubcompactions), interleaved with the others. */
const extraThreads = env('BENCH_STRATA_THREADS', 0);
const strataThreads = extraThreads > 0 ? strataEngine(`strata-bg${extraThreads}`, { backgroundThreads: extraThreads }) : undefined;

const classic: Engine = {
  name: 'classic-level',
  getName: 'await db.get',
  getSyncName: 'db.getSync',
  scanName: 'for await db.iterator()',
  async open(dir) {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', ...(BLOCK_CACHE > 0 ? { cacheSize: BLOCK_CACHE } : {}) });
    await db.open();
    return {
      async batch(keys, values) {
        const ops = new Array<{ type: 'put'; key: Buffer; value: Buffer }>(keys.length);
        for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! };
        await db.batch(ops);
      },
      put: (k, v) => db.put(k, v),
      putDurable: (k, v) => db.put(k, v, { sync: true }),
      get: (k) => db.get(k),
      getSync: (k) => db.getSync(k),
      async scan() {
        let n = 0;
        for await (const _ of db.iterator()) n++;
        return n;
      },
      close: () => db.close(),
    };
  },
};

const lmdb: Engine = {
  name: 'lmdb',
  getName: 'await db.get',
  getSyncName: 'db.get',
  scanName: 'db.getRange()',
  // eslint-disable-next-line @typescript-eslint/require-await
  async open(dir) {
    const db: LmdbDatabase<Buffer, Buffer> = lmdbOpen<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary' });
    return {
      async batch(keys, values) {
        await db.batch(() => {
          for (let i = 0; i < keys.length; i++) void db.put(keys[i]!, values[i]!);
        });
      },
      async put(k, v) {
        await db.put(k, v);
      },
      async putDurable(k, v) {
        await db.put(k, v);
        await db.flushed;
      },
      // eslint-disable-next-line @typescript-eslint/require-await
      async get(k) {
        return db.get(k);
      },
      async getAsync(k) {
        return (await db.getAsync(k)) as unknown as Buffer | undefined;
      },
      getSync: (k) => db.get(k),
      // eslint-disable-next-line @typescript-eslint/require-await
      async scan() {
        let n = 0;
        for (const _ of db.getRange()) n++;
        return n;
      },
      close: () => db.close(),
    };
  },
};

const allEngines = [
  strata,
  strataInThread,
  classic,
  lmdb,
  ...(process.env.BENCH_STRATA_UNCOMPRESSED === '1' ? [strataUncompressed] : []),
  ...(strataThreads === undefined ? [] : [strataThreads]),
];

// ---- measuring -----------------------------------------------------------------------------

/** The run's temp dir (made by the process that runs engines, not by the parent of per-engine processes). */
let rootDir: string | undefined;
let dirs = 0;
const freshDir = (engine: Engine): string => join((rootDir ??= mkdtempSync(join(tmpdir(), 'strata-dbbench-'))), `${engine.name}-${++dirs}`);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

interface Sample {
  ops: number;
  seconds: number;
  /** RSS of the process after the sample, bytes (reads). */
  rss?: number;
  /** CPU seconds of the process during the sample, every thread (process.cpuUsage). */
  cpu?: number;
  /** Event-loop delay during the run, ms. */
  p99?: number;
  max?: number;
  /** Per-operation latency percentiles, µs (durable puts, 1 writer). */
  latency?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
}

async function measure(fn: () => Promise<number>, loopDelay = false): Promise<Sample> {
  gc();
  const h = loopDelay ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  h?.enable();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const ops = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  h?.disable();
  return h === undefined ? { ops, seconds, cpu } : { ops, seconds, cpu, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

async function fill(h: Handle, order: Uint32Array | null): Promise<number> {
  for (let i = 0; i < N; i += BATCH) {
    const end = Math.min(N, i + BATCH);
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    for (let j = i; j < end; j++) {
      const k = order === null ? j : order[j]!;
      keys.push(key(k));
      values.push(value(k));
    }
    await h.batch(keys, values);
  }
  return N;
}

/** True once MAX_SECONDS have passed since `t0` (checked every 64 operations). */
const overtime = (i: number, t0: number): boolean => (i & 63) === 0 && performance.now() - t0 > MAX_SECONDS * 1000;

async function putEach(h: Handle, order: Uint32Array, n: number): Promise<number> {
  const t0 = performance.now();
  let i = 0;
  for (; i < n && !overtime(i, t0); i++) await h.put(key(order[i % order.length]!), value(i));
  return i;
}

/**
 * Before a durable-put sample: the dirty pages the earlier workloads left (a 1M fill is ~100 MB
 * of WAL and tables, written back by the kernel over the next seconds) are written out first
 * (`sync`). Otherwise each fdatasync queues behind that writeback on the same disk, and the
 * engine that happens to run right after the fills pays for it: measured, the first engine of a
 * round ran at 285–290/s where the second ran at 1,900–2,700/s. (Not all of it: see
 * durablePutsInterleaved.)
 */
function writeBackDirtyPages(): void {
  if (process.platform !== 'win32') execFileSync('sync');
}

async function putDurable(h: Handle, order: Uint32Array, n: number, concurrency: number, latencies?: number[]): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (next < n && !stop) {
      const i = next++;
      if (overtime(i, t0)) stop = true;
      const start = performance.now();
      await h.putDurable(key(order[i % order.length]!), value(i));
      latencies?.push((performance.now() - start) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/** Durable puts of one engine's turn in `durablePutsInterleaved`. */
const DURABLE_CHUNK = 50;

/**
 * Durable puts, 1 writer, every engine on its own fresh database at once, in turns of
 * DURABLE_CHUNK puts (rotating who goes first): each put's latency depends on what the disk and
 * the other tenants of the machine do at that moment, and engines measured one after the other
 * met different moments — the first after the fills was slowed down (2-5x its own later rounds,
 * whichever engine it was) even after sync(1). In turns, every engine meets the same ones.
 * (BENCH_IN_PROCESS=1 only: in an engine's own process the engine runs alone, after its own
 * fills and sync(1), as every other engine does in its process.)
 */
async function durablePutsInterleaved(round: number): Promise<void> {
  const order = rotated(round);
  const open = new Map<Engine, { h: Handle; dir: string; latencies: number[]; seconds: number; cpu: number; done: number; starts: number[] }>();
  const gcs: [number, number][] = [];
  const gcObserver = TRACE
    ? new PerformanceObserver((list) => {
        for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
      })
    : undefined;
  try {
    for (const e of order) {
      const dir = freshDir(e);
      open.set(e, { h: await e.open(dir), dir, latencies: [], seconds: 0, cpu: 0, done: 0, starts: [] });
    }
    writeBackDirtyPages();
    gcObserver?.observe({ entryTypes: ['gc'] });
    tracing = TRACE;
    const t0 = performance.now();
    for (let turn = 0; open.size > 0 && [...open.values()].some((o) => o.done < SYNC_PUTS); turn++) {
      if (performance.now() - t0 > MAX_SECONDS * 1000 * order.length) break;
      for (let k = 0; k < order.length; k++) {
        const o = open.get(order[(k + turn) % order.length]!)!;
        const start = performance.now();
        const c0 = process.cpuUsage();
        for (let j = 0; j < DURABLE_CHUNK && o.done < SYNC_PUTS; j++, o.done++) {
          const t = performance.now();
          await o.h.putDurable(key(fillOrder[o.done % fillOrder.length]!), value(o.done));
          o.latencies.push((performance.now() - t) * 1000);
          if (TRACE) o.starts.push(t);
        }
        o.seconds += (performance.now() - start) / 1000;
        const c = process.cpuUsage(c0);
        o.cpu += (c.user + c.system) / 1e6;
      }
    }
    tracing = false;
    if (gcObserver !== undefined) {
      await new Promise((resolve) => setImmediate(resolve)); // the observer's entries are delivered asynchronously
      gcObserver.disconnect();
      for (const e of order) slowPuts(e, open.get(e)!, gcs);
    }
    for (const e of order) {
      const o = open.get(e)!;
      const l = o.latencies.sort((a, b) => a - b);
      const at = (q: number): number => l[Math.min(l.length - 1, Math.floor(l.length * q))] ?? 0;
      record(e, 'put sync:true (1 writer)', { ops: o.done, seconds: o.seconds, cpu: o.cpu, latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: l.at(-1) ?? 0 } });
    }
  } finally {
    for (const o of open.values()) {
      await o.h.close();
      rmSync(o.dir, { recursive: true, force: true });
    }
  }
}

/**
 * BENCH_SYNCPUT_TRACE=1: the slowest 1% of `o`'s durable puts, each with Strata's WAL calls and
 * the main thread's GC pauses that fell inside it (offsets from the put's start, durations, µs).
 * What is left of a put is JavaScript and waiting for the event loop to come back to it.
 */
function slowPuts(e: Engine, o: { readonly latencies: readonly number[]; readonly starts: readonly number[] }, gcs: readonly [number, number][]): void {
  const us = (ms: number): string => (ms * 1000).toFixed(0);
  const slowest = o.starts.map((_, i) => i).sort((a, b) => o.latencies[b]! - o.latencies[a]!);
  for (const i of slowest.slice(0, Math.ceil(o.starts.length / 100))) {
    const start = o.starts[i]!;
    const end = start + o.latencies[i]! / 1000;
    const inside = [
      ...fileCalls.filter(([, a, b]) => a >= start && b <= end).map(([what, a, b]) => `${what} at +${us(a - start)} for ${us(b - a)}`),
      ...gcs.filter(([a, b]) => b >= start && a <= end).map(([a, b]) => `GC at +${us(a - start)} for ${us(b - a)}`),
    ];
    console.error(`    ${e.name} slow put #${i} (${(start - o.starts[0]!).toFixed(0)} ms in): ${o.latencies[i]!.toFixed(0)} µs; ${inside.length > 0 ? inside.join(', ') : 'no WAL call or GC inside'}`);
  }
}

async function readAwaitPool(h: Handle, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if ((await h.getAsync!(key(order[i % order.length]!))) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom (getAsync) found ${found} of ${READS}`);
  return READS;
}

async function readAwait(h: Handle, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if ((await h.get(key(order[i % order.length]!))) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom found ${found} of ${READS}`);
  return READS;
}

// eslint-disable-next-line @typescript-eslint/require-await
async function readSync(h: Handle, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if (h.getSync(key(order[i % order.length]!)) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom (sync) found ${found} of ${READS}`);
  return READS;
}

/**
 * The yardstick of issue 13's "`await get` must never cost more than `getSync` plus one promise":
 * the same loop as readSync with each result awaited (`await` of a value that is not a promise
 * takes one microtask turn, as awaiting a resolved promise does). `await get` at this rate costs
 * nothing beyond the promise; what it costs over `getSync` is this row's own gap.
 */
async function readSyncAwaited(h: Handle, order: Uint32Array): Promise<number> {
  let found = 0;
  for (let i = 0; i < READS; i++) if ((await Promise.resolve(h.getSync(key(order[i % order.length]!)))) !== undefined) found++;
  if (found !== READS) throw new Error(`readrandom (getSync + await) found ${found} of ${READS}`);
  return READS;
}

async function readSeq(h: Handle): Promise<number> {
  const n = await h.scan();
  if (n !== N) throw new Error(`readseq saw ${n} of ${N}`);
  return n;
}

const WORKLOADS = [
  'fillseq',
  'fillrandom',
  'put (awaited)',
  'put sync:true (1 writer)',
  'put sync:true (64 writers)',
  'readrandom (await get)',
  'readrandom (sync get)',
  'readrandom (getSync + await)',
  'readrandom (lmdb getAsync)',
  'readseq',
] as const;
/** The database the reads run on. */
type ReadDb = 'fillseq' | 'fillrandom';
const READ_DBS: readonly ReadDb[] = ['fillseq', 'fillrandom'];
type Workload = (typeof WORKLOADS)[number];
const short: Record<Workload, string> = {
  fillseq: 'fillseq',
  fillrandom: 'fillrandom',
  'put (awaited)': 'put',
  'put sync:true (1 writer)': 'syncput',
  'put sync:true (64 writers)': 'syncput64',
  'readrandom (await get)': 'readrandom',
  'readrandom (sync get)': 'readsync',
  'readrandom (getSync + await)': 'readsyncawait',
  'readrandom (lmdb getAsync)': 'readasync',
  readseq: 'readseq',
};

const wantEngines = process.env.BENCH_ENGINES?.split(',').map((s) => s.trim());
const engines = allEngines.filter((e) => wantEngines === undefined || wantEngines.includes(e.name));
/** Set in an engine's own process (the parent's child): the engine it runs, for one round. */
const ONE = process.env.BENCH_DBBENCH_ONE;
/** Set in an engine's reader process (the parent's child): the engine whose databases it reads, a sample at a time, as the parent asks. */
const READER = process.env.BENCH_DBBENCH_READER;
/** BENCH_IN_PROCESS=1: every engine in this one process, one after the other (what dbbench did before). */
const IN_PROCESS = process.env.BENCH_IN_PROCESS === '1';
/** The engines this process runs itself: one in an engine's process, all in-process, none in the parent. */
const ownEngines = ONE !== undefined ? allEngines.filter((e) => e.name === ONE) : IN_PROCESS ? engines : [];
/** Rounds this process runs itself (an engine's process runs one; the parent runs ROUNDS of them). */
const ownRounds = ONE !== undefined ? 1 : ROUNDS;
/** Whether `round` of this process is the run's last (whose fills are kept for the reads). */
const lastRound = (round: number): boolean => (ONE !== undefined ? process.env.BENCH_DBBENCH_LAST_ROUND === '1' : round === ownRounds - 1);
const wantWorkloads = process.env.BENCH_WORKLOADS?.split(',').map((s) => s.trim());
// lmdb's getAsync (a thread-pool round trip per read, ~100 s per round on a loaded machine) runs
// only when named: BENCH_WORKLOADS=…,readasync.
const wanted = (w: Workload): boolean =>
  w === 'readrandom (lmdb getAsync)'
    ? wantWorkloads?.some((x) => x === short[w] || x === w) === true
    : wantWorkloads === undefined || wantWorkloads.some((x) => x === short[w] || x === w || (x === 'readrandom' && (w === 'readrandom (sync get)' || w === 'readrandom (getSync + await)')));
/** BENCH_READ_DBS=fillrandom: read only that database (default both). */
const readDbs = READ_DBS.filter((d) => process.env.BENCH_READ_DBS === undefined || process.env.BENCH_READ_DBS.split(',').includes(d));

const samples = new Map<string, Sample[]>(); // `${engine}\t${workload}` (reads: `…\t${db}`) → samples
function record(engine: Engine, w: Workload, s: Sample, db?: ReadDb): void {
  const id = `${engine.name}\t${w}${db === undefined ? '' : `\t${db}`}`;
  const list = samples.get(id) ?? [];
  list.push(s);
  samples.set(id, list);
  const delay = s.p99 === undefined ? '' : `  event loop p99 ${s.p99.toFixed(1)} ms, max ${s.max!.toFixed(1)} ms`;
  const rss = s.rss === undefined ? '' : `  rss ${(s.rss / 1048576).toFixed(0)} MiB`;
  const perCpu = s.cpu === undefined ? '' : db === undefined ? (s.latency === undefined ? '' : `  ${((s.cpu / s.ops) * 1e6).toFixed(0)} µs CPU per put`) : `  ${Math.round(s.ops / s.cpu).toLocaleString('en-US')} per CPU-s`;
  // This round's latency percentiles (the table has the medians over rounds): one round's tail is ~10 puts.
  const l = s.latency;
  const latency = l === undefined ? '' : `  p50 / p99 / p99.9 / max ${[l.p50, l.p99, l.p999, l.max].map((x) => x.toFixed(0)).join(' / ')} µs; load ${loadavg()[0]!.toFixed(2)}`;
  console.error(
    `  ${engine.name.padEnd(14)} ${(db === undefined ? w : `${w} after ${db}`).padEnd(40)} ${String(s.ops).padStart(8)} ops in ${s.seconds.toFixed(3)} s = ${Math.round(s.ops / s.seconds).toLocaleString('en-US')}/s${perCpu}${latency}${delay}${rss}`,
  );
}

/** Opens a fresh database, runs `fn` on it, closes it and (unless `keep`) deletes it. */
async function onFresh<T>(engine: Engine, fn: (h: Handle, dir: string) => Promise<T>, keep = false): Promise<T> {
  const dir = freshDir(engine);
  const h = await engine.open(dir);
  try {
    return await fn(h, dir);
  } finally {
    await h.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

const fillOrder = shuffled(N, 42);
const readOrder = shuffled(N, 7);

const needReads = wanted('readrandom (await get)') || wanted('readrandom (sync get)') || wanted('readrandom (getSync + await)') || wanted('readrandom (lmdb getAsync)') || wanted('readseq');
/** Per database and engine: the database of the last round's fill, kept for the read workloads. */
const readDirs = new Map<ReadDb, Map<Engine, string>>(READ_DBS.map((d) => [d, new Map()]));

/** One write workload on one engine, on a fresh database. */
async function runWrite(engine: Engine, w: Workload, round: number): Promise<void> {
  switch (w) {
    case 'fillseq':
    case 'fillrandom': {
      const keep = needReads && readDbs.includes(w) && lastRound(round);
      const s = await onFresh(
        engine,
        (h, dir) => {
          if (keep) readDirs.get(w)!.set(engine, dir);
          return measure(() => fill(h, w === 'fillseq' ? null : fillOrder), true);
        },
        keep,
      );
      if (wanted(w)) record(engine, w, s);
      return;
    }
    case 'put (awaited)':
      record(engine, w, await onFresh(engine, (h) => measure(() => putEach(h, fillOrder, PUTS))));
      return;
    case 'put sync:true (1 writer)':
      throw new Error('the 1-writer durable puts run interleaved: durablePutsInterleaved');
    case 'put sync:true (64 writers)':
      record(
        engine,
        w,
        await onFresh(engine, (h) => {
          writeBackDirtyPages();
          return measure(() => putDurable(h, fillOrder, SYNC_PUTS_64, 64));
        }),
      );
      return;
    default:
      throw new Error(`not a write workload: ${w}`);
  }
}

/** One sample of read workload `w` on `h`, with the process's RSS after it (undefined: `h` has no such read). */
async function sampleRead(h: Handle, w: Workload): Promise<Sample | undefined> {
  let s: Sample;
  if (w === 'readrandom (await get)') s = await measure(() => readAwait(h, readOrder));
  else if (w === 'readrandom (sync get)') s = await measure(() => readSync(h, readOrder));
  else if (w === 'readrandom (getSync + await)') s = await measure(() => readSyncAwaited(h, readOrder));
  else if (w === 'readrandom (lmdb getAsync)') {
    if (h.getAsync === undefined) return undefined;
    s = await measure(() => readAwaitPool(h, readOrder));
  } else s = await measure(() => readSeq(h));
  s.rss = process.memoryUsage().rss;
  return s;
}

async function runRead(engine: Engine, h: Handle, w: Workload, db: ReadDb): Promise<void> {
  const s = await sampleRead(h, w);
  if (s !== undefined) record(engine, w, s, db);
}

/** Load averages (1, 5, 15 min) at the start of each read round, per database. */
const loads = new Map<ReadDb, number[][]>(READ_DBS.map((d) => [d, []]));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const started = performance.now();
// Engines are interleaved per workload (A B C, then B C A, …), so that a change in the machine's
// load hits every engine's samples of a workload alike instead of one engine's whole round; with
// a process per engine, the engines' processes take turns the same way.
const rotated = (round: number, list = ownEngines): Engine[] => list.map((_, i) => list[(i + round) % list.length]!);
const writeWorkloads = WORKLOADS.filter((w) => !w.startsWith('read'));
const readWorkloads = WORKLOADS.filter((w) => w.startsWith('read') && wanted(w));

/** Runs ownEngines' workloads for ownRounds rounds in this process, recording into `samples` and `loads`. */
async function runHere(): Promise<void> {
  try {
    for (let round = 0; round < ownRounds; round++) {
      if (ONE === undefined) console.error(`round ${round + 1}/${ownRounds}`);
      for (const w of writeWorkloads) {
        if (!wanted(w) && !((w === 'fillrandom' || w === 'fillseq') && readDbs.includes(w) && needReads && lastRound(round))) continue;
        if (w === 'put sync:true (1 writer)') await durablePutsInterleaved(round);
        else for (const e of rotated(round)) await runWrite(e, w, round);
      }
    }
    // In an engine's own process the reads are not run here: the parent reads the databases this
    // process filled and kept, in turns with the other engines' (readsInTurns).
    for (const db of readWorkloads.length > 0 && ONE === undefined ? readDbs : []) {
      // The databases filled by the last fillseq / fillrandom, reopened (db_bench's use_existing_db).
      const handles = new Map<Engine, Handle>();
      try {
        for (const e of ownEngines) {
          const h = await e.open(readDirs.get(db)!.get(e)!);
          handles.set(e, h);
          const t0 = performance.now();
          await h.settle?.();
          console.error(`  ${e.name.padEnd(14)} reopened the ${db} database for reads; settled background compaction in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
        // One unmeasured pass of the random reads per engine first: the measured rounds are of a
        // warm process. Without it the first engine of round 1 (Strata, by the rotation) paid its
        // block cache's fill — every block of the reopened 1M database read and verified once —
        // and JIT warm-up inside one of its 3 `await get` samples (~2× slower than the other two),
        // which made that row's median the worse of two samples and `await get / getSync` ~0.75–0.85.
        // The pass's rate is logged: it is the first reads after an open, a measure of its own.
        for (const e of ownEngines) await warmUp(e, handles.get(e)!, db);
        for (let round = 0; round < READ_ROUNDS; round++) {
          const load = loadavg();
          loads.get(db)!.push(load);
          console.error(`reads after ${db}, round ${round + 1}/${READ_ROUNDS}; load average ${load.map((x) => x.toFixed(2)).join(', ')}`);
          for (const w of readWorkloads) for (const e of rotated(round)) await runRead(e, handles.get(e)!, w, db);
        }
      } finally {
        for (const h of handles.values()) await h.close();
      }
    }
  } finally {
    // An engine's process that kept databases for the reads leaves them to the parent.
    if (rootDir !== undefined && !(ONE !== undefined && keptForReads().length > 0)) rmSync(rootDir, { recursive: true, force: true });
  }
}

/** The databases this process filled and kept for the read workloads, by name. */
const keptForReads = (): [ReadDb, string][] => readDbs.flatMap((db) => [...readDirs.get(db)!.values()].map((dir): [ReadDb, string] => [db, dir]));

/** The warm-up pass after opening a database for reads (not measured; its rate is logged). */
async function warmUp(e: Engine, h: Handle, db: ReadDb): Promise<void> {
  const s = await measure(() => readSync(h, readOrder));
  console.error(`  ${e.name.padEnd(14)} warm-up pass after reopening the ${db} database (not measured): ${s.ops} ${e.getSyncName} at ${Math.round(s.ops / s.seconds).toLocaleString('en-US')}/s`);
}

/** What the parent asks an engine's reader process (`readsInTurns`, `serveReads`). */
type ReadRequest = { op: 'open'; db: ReadDb; dir: string } | { op: 'read'; w: Workload; db: ReadDb } | { op: 'close' };

/**
 * The reads, every engine's in turns: a reader process per engine (the engine alone in it, as
 * for the fills) opens the database its fill process kept, settles and warms up, then takes one
 * sample whenever the parent asks; the parent asks the engines in turn, per workload and round
 * (A B C, then B C A, …). Why: the machine's speed changes in windows of seconds to tens of
 * seconds (other tenants; a whole phase of one process's reads ran at ~0.6× of the next phase's,
 * lmdb and classic-level alike), and random gets, waiting on memory for ~40% of their time, feel
 * it most. When each engine read in its own process run, a round's samples of two engines were a
 * minute apart and met different windows: Strata's `getSync` after fillseq was 394k, 285k, 284k/s
 * by round while the peers' moved by other amounts (docs/performance/session-15.md). In
 * turns, a round's samples are a second apart and its ratios compare like with like.
 */
async function readsInTurns(child: string, dirs: Map<Engine, [ReadDb, string][]>): Promise<void> {
  const readers = new Map<Engine, EngineProcess>();
  try {
    for (const e of engines) readers.set(e, startEngineProcess(child, { BENCH_DBBENCH_READER: e.name }, ['--expose-gc', ...NODE_FLAGS]));
    for (const db of readDbs) {
      for (const e of engines) {
        const dir = dirs.get(e)?.find(([d]) => d === db)?.[1];
        if (dir === undefined) throw new Error(`no ${db} database of ${e.name} to read`);
        await readers.get(e)!.ask<null>({ op: 'open', db, dir } satisfies ReadRequest);
      }
      for (let round = 0; round < READ_ROUNDS; round++) {
        const load = loadavg();
        loads.get(db)!.push(load);
        console.error(`reads after ${db}, round ${round + 1}/${READ_ROUNDS}; load average ${load.map((x) => x.toFixed(2)).join(', ')}`);
        for (const w of readWorkloads) {
          for (const e of rotated(round, engines)) {
            const s = await readers.get(e)!.ask<Sample | null>({ op: 'read', w, db } satisfies ReadRequest);
            if (s !== null) record(e, w, s, db);
          }
        }
      }
      for (const e of engines) await readers.get(e)!.ask<null>({ op: 'close' } satisfies ReadRequest);
    }
  } finally {
    for (const r of readers.values()) await r.end();
  }
}

/** An engine's reader process: opens, samples and closes as the parent asks (readsInTurns). */
async function serveReads(engine: Engine): Promise<void> {
  let open: { h: Handle; db: ReadDb } | undefined;
  await serveEngineRequests(async (request) => {
    const r = request as ReadRequest;
    if (r.op === 'open') {
      const h = await engine.open(r.dir);
      open = { h, db: r.db };
      const t0 = performance.now();
      await h.settle?.();
      console.error(`  ${engine.name.padEnd(14)} reopened the ${r.db} database for reads; settled background compaction in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await warmUp(engine, h, r.db);
      return null;
    }
    if (open === undefined) throw new Error(`${r.op} with no database open`);
    if (r.op === 'close') {
      await open.h.close();
      open = undefined;
      return null;
    }
    return (await sampleRead(open.h, r.w)) ?? null;
  });
  if (open !== undefined) await open.h.close();
}

/** What an engine's process hands back to the parent. */
interface EngineRun {
  samples: [string, Sample[]][];
  /** The databases it filled and kept for the reads, and the directory holding them (the parent deletes it). */
  kept: [ReadDb, string][];
  rootDir?: string;
}
if (ONE !== undefined) {
  // An engine's own process: one round of its workloads, the samples to the parent as JSON.
  await runHere();
  const kept = keptForReads();
  process.stdout.write(`${JSON.stringify({ samples: [...samples], kept, ...(kept.length > 0 && rootDir !== undefined ? { rootDir } : {}) } satisfies EngineRun)}\n`);
  process.exit(0);
}
if (READER !== undefined) {
  await serveReads(allEngines.find((e) => e.name === READER)!);
  process.exit(0);
}

console.error(
  `dbbench: N=${N} (fills, batches of ${BATCH}), ${PUTS} awaited puts, ${SYNC_PUTS} + ${SYNC_PUTS_64} durable puts, ${READS} random reads; ` +
    `${KEY_SIZE} B keys, ${VALUE_SIZE} B values; ${ROUNDS} rounds; engines: ${engines.map((e) => e.name).join(', ')}; ` +
    `block cache: ${BLOCK_CACHE > 0 ? `${BLOCK_CACHE} B for Strata and classic-level` : 'engine defaults'}; ` +
    `${IN_PROCESS ? 'every engine in this process (BENCH_IN_PROCESS=1)' : `each engine's round in a fresh node process of its own${NODE_FLAGS.length > 0 ? ` (node ${NODE_FLAGS.join(' ')})` : ''}`}`,
);
if (IN_PROCESS) await runHere();
else {
  // A fresh process per engine and round (bench/support/engine-process.ts): the engine's fills,
  // puts and the reads that follow, in the order an in-process round runs them.
  const child = bundleBench(import.meta.url, false);
  /** The databases each engine's last-round process filled and kept for the reads; the directories to delete after them. */
  const kept = new Map<Engine, [ReadDb, string][]>();
  const rootDirs: string[] = [];
  // One try for the rounds and the reads: a kept database is deleted also when a later engine's
  // process or a reader fails (each is a 1M-key database under the temp dir).
  try {
    for (let round = 0; round < ROUNDS; round++) {
      console.error(`round ${round + 1}/${ROUNDS}`);
      for (const e of rotated(round, engines)) {
        const last = round === ROUNDS - 1;
        const r = runEngineProcess<EngineRun>(child, { BENCH_DBBENCH_ONE: e.name, ...(last ? { BENCH_DBBENCH_LAST_ROUND: '1' } : {}) }, ['--expose-gc', ...NODE_FLAGS]);
        for (const [id, list] of r.samples) samples.set(id, [...(samples.get(id) ?? []), ...list]);
        if (r.kept.length > 0) kept.set(e, r.kept);
        if (r.rootDir !== undefined) rootDirs.push(r.rootDir);
      }
    }
    if (readWorkloads.length > 0) await readsInTurns(child, kept);
  } finally {
    for (const dir of rootDirs) rmSync(dir, { recursive: true, force: true });
  }
}

const opsPerSec = (e: Engine, w: Workload, db?: ReadDb): number | undefined => {
  const list = samples.get(`${e.name}\t${w}${db === undefined ? '' : `\t${db}`}`);
  return list === undefined ? undefined : median(list.map((s) => s.ops / s.seconds));
};
const opsPerCpu = (e: Engine, w: Workload, db: ReadDb): number | undefined => {
  const list = samples.get(`${e.name}\t${w}\t${db}`);
  return list === undefined ? undefined : median(list.map((s) => s.ops / (s.cpu ?? NaN)));
};
const rssOf = (e: Engine, w: Workload, db: ReadDb): string => {
  const list = samples.get(`${e.name}\t${w}\t${db}`);
  return list === undefined ? '—' : `${(Math.max(...list.map((s) => s.rss ?? 0)) / 1048576).toFixed(0)}`;
};
/**
 * The median over rounds of round i's rate of `a` over round i's rate of `b` (reads: a round's
 * samples are taken in turns, seconds apart, so each ratio compares two engines under the same
 * machine; the median of those is what a noisy machine disturbs least). `rate` per sample.
 */
const pairedRatio = (a: Engine, wa: Workload, b: Engine, wb: Workload, db: ReadDb, rate: (s: Sample) => number): number | undefined => {
  const x = samples.get(`${a.name}\t${wa}\t${db}`);
  const y = samples.get(`${b.name}\t${wb}\t${db}`);
  if (x === undefined || y === undefined || x.length !== y.length) return undefined;
  return median(x.map((s, i) => rate(s) / rate(y[i]!)));
};
const wallRate = (s: Sample): number => s.ops / s.seconds;
const cpuRate = (s: Sample): number => s.ops / (s.cpu ?? NaN);
const fmtRatio = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(2)}×`);
const fmt = (x: number | undefined): string => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);

const sizes: Record<Workload, string> = {
  fillseq: `${N} in batches of ${BATCH}`,
  fillrandom: `${N} in batches of ${BATCH}`,
  'put (awaited)': `${PUTS}*`,
  'put sync:true (1 writer)': `${SYNC_PUTS}*`,
  'put sync:true (64 writers)': `${SYNC_PUTS_64}*`,
  'readrandom (await get)': `${READS} of ${N}`,
  'readrandom (sync get)': `${READS} of ${N}`,
  'readrandom (getSync + await)': `${READS} of ${N}`,
  'readrandom (lmdb getAsync)': `${READS} of ${N}`,
  readseq: `${N}`,
};
console.log(`Medians of ${ROUNDS} rounds, ops/s (higher is better); ratio > 1: Strata faster. ${new Date().toISOString().slice(0, 10)}, node ${process.version}.\n`);
const withUncompressed = engines.includes(strataUncompressed);
console.log(`| workload | ops | Strata | Strata, backgroundThreads 0 | classic-level | lmdb | Strata / classic-level | Strata / lmdb | backgroundThreads 0 / classic-level |${withUncompressed ? ' Strata uncompressed | Strata / Strata uncompressed |' : ''}`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|${withUncompressed ? '---:|---:|' : ''}`);
for (const w of writeWorkloads) {
  if (!wanted(w)) continue;
  const s = opsPerSec(strata, w);
  const s0 = opsPerSec(strataInThread, w);
  const c = opsPerSec(classic, w);
  const l = opsPerSec(lmdb, w);
  const u = opsPerSec(strataUncompressed, w);
  console.log(`| ${w} | ${sizes[w]} | ${fmt(s)} | ${fmt(s0)} | ${fmt(c)} | ${fmt(l)} | ${ratio(s, c)} | ${ratio(s, l)} | ${ratio(s0, c)} |${withUncompressed ? ` ${fmt(u)} | ${ratio(s, u)} |` : ''}`);
}
if (strataThreads !== undefined && engines.includes(strataThreads)) {
  console.log(`\n| workload | ${strataThreads.name} | ${strataThreads.name} / classic-level | ${strataThreads.name} / Strata |\n|---|---:|---:|---:|`);
  for (const w of writeWorkloads) {
    if (!wanted(w)) continue;
    const t = opsPerSec(strataThreads, w);
    console.log(`| ${w} | ${fmt(t)} | ${ratio(t, opsPerSec(classic, w))} | ${ratio(t, opsPerSec(strata, w))} |`);
  }
}
console.log(`\n\\* at most; a sample stops after ${MAX_SECONDS} s.`);
if (readWorkloads.length > 0) {
  console.log(
    `\nReads (${READ_ROUNDS} rounds, a sample per engine each, taken in turns; rates: medians, ops/s; ratios: the median of the rounds' ratios; RSS: the largest RSS, MiB, after this workload's samples — ${IN_PROCESS ? 'of the one process every engine is open in' : "of the engine's own reader process"}):\n`,
  );
  console.log('| database | workload | Strata | classic-level | lmdb | Strata / classic-level | Strata / lmdb | RSS (Strata / classic-level / lmdb samples) | load avg (1 min), lowest–highest at a read round\'s start |');
  console.log('|---|---|---:|---:|---:|---:|---:|---|---|');
  for (const db of readDbs) {
    const l1 = loads.get(db)!.map((l) => l[0]!);
    const load = `${Math.min(...l1).toFixed(1)}–${Math.max(...l1).toFixed(1)}`;
    for (const w of readWorkloads) {
      const s = opsPerSec(strata, w, db);
      const c = opsPerSec(classic, w, db);
      const l = opsPerSec(lmdb, w, db);
      // lmdb's getAsync row: Strata's await get is the comparison.
      const sv = w === 'readrandom (lmdb getAsync)' ? opsPerSec(strata, 'readrandom (await get)', db) : s;
      const wv = w === 'readrandom (lmdb getAsync)' ? 'readrandom (await get)' : w;
      const rss = `${rssOf(strata, w, db)} / ${rssOf(classic, w, db)} / ${rssOf(lmdb, w, db)}`;
      const toClassic = w === 'readrandom (lmdb getAsync)' ? '—' : fmtRatio(pairedRatio(strata, w, classic, w, db, wallRate));
      console.log(`| ${db} | ${w} | ${fmt(sv)} | ${w === 'readrandom (lmdb getAsync)' ? '—' : fmt(c)} | ${fmt(l)} | ${toClassic} | ${fmtRatio(pairedRatio(strata, wv, lmdb, w, db, wallRate))} | ${rss} | ${load} |`);
    }
    const getOverSync = pairedRatio(strata, 'readrandom (await get)', strata, 'readrandom (sync get)', db, wallRate);
    if (getOverSync !== undefined) console.log(`| ${db} | Strata await get / Strata getSync | ${fmtRatio(getOverSync)} | | | | | | |`);
    const getOverSyncAwait = pairedRatio(strata, 'readrandom (await get)', strata, 'readrandom (getSync + await)', db, wallRate);
    if (getOverSyncAwait !== undefined) console.log(`| ${db} | Strata await get / Strata getSync + one await | ${fmtRatio(getOverSyncAwait)} | | | | | | |`);
    // Per CPU-second of the process (every thread: classic-level's gets run on the thread pool): on a
    // shared machine, what other load disturbs least.
    for (const w of ['readrandom (await get)', 'readrandom (sync get)'] as const) {
      if (!readWorkloads.includes(w)) continue;
      const [sc, cc, lc] = [strata, classic, lmdb].map((e) => opsPerCpu(e, w, db));
      console.log(`| ${db} | ${w} per CPU-second | ${fmt(sc)} | ${fmt(cc)} | ${fmt(lc)} | ${fmtRatio(pairedRatio(strata, w, classic, w, db, cpuRate))} | ${fmtRatio(pairedRatio(strata, w, lmdb, w, db, cpuRate))} | | |`);
    }
    const getOverSyncC = pairedRatio(strata, 'readrandom (await get)', strata, 'readrandom (sync get)', db, cpuRate);
    if (getOverSyncC !== undefined) console.log(`| ${db} | Strata await get / Strata getSync, per CPU-second | ${fmtRatio(getOverSyncC)} | | | | | | |`);
  }
}
console.log(`Read APIs: ${engines.map((e) => `${e.name}: ${e.getName} / ${e.getSyncName} / ${e.scanName}`).join('; ')}.`);

const fills: Workload[] = ['fillseq', 'fillrandom'];
if (fills.some(wanted)) {
  console.log('\nEvent-loop delay during the fills (monitorEventLoopDelay, 1 ms resolution; median over rounds of each round\'s p99 and max), ms:\n');
  console.log('| engine | fillseq p99 | fillseq max | fillrandom p99 | fillrandom max |');
  console.log('|---|---:|---:|---:|---:|');
  for (const e of engines) {
    const cell = (w: Workload, f: (s: Sample) => number | undefined): string => {
      const list = samples.get(`${e.name}\t${w}`);
      if (list === undefined) return '—';
      return median(list.map((s) => f(s) ?? 0)).toFixed(1);
    };
    console.log(`| ${e.name} | ${cell('fillseq', (s) => s.p99)} | ${cell('fillseq', (s) => s.max)} | ${cell('fillrandom', (s) => s.p99)} | ${cell('fillrandom', (s) => s.max)} |`);
  }
}
if (wanted('put sync:true (1 writer)')) {
  console.log("\nDurable put, 1 writer: latency per put (median over rounds of each round's percentile), µs; CPU per put: the process's, every thread (in a fresh process: the JIT's compiles too), µs:\n");
  console.log('| engine | p50 | p90 | p99 | p99.9 | max | CPU per put |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const e of engines) {
    const list = samples.get(`${e.name}\tput sync:true (1 writer)`);
    if (list === undefined) continue;
    const cell = (f: (l: NonNullable<Sample['latency']>) => number): string => median(list.map((x) => (x.latency === undefined ? 0 : f(x.latency)))).toFixed(0);
    const cpu = median(list.map((x) => ((x.cpu ?? NaN) / x.ops) * 1e6)).toFixed(0);
    console.log(`| ${e.name} | ${cell((l) => l.p50)} | ${cell((l) => l.p90)} | ${cell((l) => l.p99)} | ${cell((l) => l.p999)} | ${cell((l) => l.max)} | ${cpu} |`);
  }
}
console.error(`dbbench: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
