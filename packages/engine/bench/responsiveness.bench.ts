// Event-loop responsiveness under fillrandom: how long the engine keeps the JS thread busy
// without a break, and what it was doing at the time.
//
//   npm run bench -- responsiveness                              (root; N = 1,000,000)
//   RESPONSIVENESS_BENCH_N=5000000 npm run bench -- responsiveness
//   RESPONSIVENESS_BENCH_MERGE=2 …                               (Strata's minMemtablesToMerge)
//
// N random 16-byte keys (uniform over [0, N), with repeats), 100-byte values, batches of 1000
// through db.batch()…write(), default options; then waits for background compaction to settle.
// Measured:
//   - perf_hooks.monitorEventLoopDelay (resolution 1 ms): p50 / p99 / max, for the fill and for
//     the settle phase;
//   - a long-task tracer: a setInterval(…, 1) that records every gap > 20 ms between two ticks,
//     with what the engine was doing across it — a flush running, a compaction running, a write
//     batch awaited, how many batches / flushes completed inside the gap — and the GC pauses
//     (PerformanceObserver 'gc') that fell inside it;
//   - write stall time (stats().counters.stallMs), fill throughput.
// Benchmarks are not tests: nothing here asserts a time.
import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Database, nodeFileSystem, type FileSystem } from '../src/index.js';
import { key, KEY_SIZE, value, VALUE_SIZE } from './support/db-bench-data.js';

const N = Number(process.env['RESPONSIVENESS_BENCH_N'] ?? 1_000_000);
const BATCH = 1000;
const GAP_MS = 20;
/**
 * RESPONSIVENESS_BENCH_TRACE_FS=1: time every synchronous file call through a wrapping file layer
 * (which cannot cross to a worker: forces backgroundThreads 0).
 * RESPONSIVENESS_BENCH_TRACE_FS=main: time every synchronous `node:fs` call of the MAIN thread only,
 * with the worker on (the worker has its own `node:fs` module instance, which stays unwrapped); the
 * slow ones (> 2 ms) are listed against the longest gaps, with the file they touched.
 */
const TRACE_FS = process.env['RESPONSIVENESS_BENCH_TRACE_FS'] === '1';
const TRACE_MAIN_FS = process.env['RESPONSIVENESS_BENCH_TRACE_FS'] === 'main';
const SLOW_FS_MS = 2;
/** `backgroundThreads` (default: the engine's — 1 with the real file system; the traced layer forces 0). */
const THREADS = process.env['RESPONSIVENESS_BENCH_THREADS'];
/** `minMemtablesToMerge` (default: the engine's), as the scale bench's BENCH_SCALE_MERGE. */
const MERGE = process.env['RESPONSIVENESS_BENCH_MERGE'];

// --- synchronous file calls (opt-in) ------------------------------------------------------
const fsCalls = new Map<string, { n: number; ms: number; max: number; over5: number }>();
function countCall(name: string, args: unknown[], ms: number): void {
  const k = name === 'writeSync' || name === 'readSync' ? `${name} ${(args[3] as number) >= 65536 ? '≥64K' : '<64K'}` : name;
  const c = fsCalls.get(k) ?? { n: 0, ms: 0, max: 0, over5: 0 };
  c.n++;
  c.ms += ms;
  c.max = Math.max(c.max, ms);
  if (ms > 5) c.over5++;
  fsCalls.set(k, c);
}
function tracedFs(): FileSystem {
  const out: Record<string | symbol, unknown> = { ...nodeFileSystem };
  for (const s of Object.getOwnPropertySymbols(nodeFileSystem)) out[s] = (nodeFileSystem as unknown as Record<symbol, unknown>)[s];
  for (const [name, fn] of Object.entries(nodeFileSystem)) {
    if (!name.endsWith('Sync') || typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]): unknown => {
      const t = performance.now();
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        const ms = performance.now() - t;
        countCall(name, args, ms);
      }
    };
  }
  return out as unknown as FileSystem;
}

// --- where the main thread's time went (Linux): on a CPU, runnable but waiting for one, or blocked ---
// /proc/<pid>/task/<pid>/schedstat: ns on a CPU, ns runnable in the run queue, timeslices. Wall time
// minus both is time the thread slept: blocked in a system call (I/O, a file-system lock) or on a
// futex — what separates "the disk made us wait" from "the shared machine did not run us".
const rawReadSync = nodeFs.readSync;
const schedFd = ((): number => {
  try {
    return nodeFs.openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
  } catch {
    return -1;
  }
})();
const schedBuf = Buffer.alloc(96);
/** Cumulative ms on a CPU and ms runnable-but-waiting, of the main thread (zeros where unknown). */
function sched(): { run: number; wait: number } {
  if (schedFd < 0) return { run: 0, wait: 0 };
  const n = rawReadSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  const [run = '0', wait = '0'] = schedBuf.toString('latin1', 0, n).split(' ');
  return { run: Number(run) / 1e6, wait: Number(wait) / 1e6 };
}

interface SlowCall {
  start: number;
  ms: number;
  /** Of `ms`: the main thread asleep in the call (not on a CPU, not runnable). */
  blocked: number;
  call: string;
  file: string;
}
const slowCalls: SlowCall[] = [];
/** Wraps the synchronous functions of this thread's `node:fs` (and its ESM namespace). */
function traceMainThreadFs(): void {
  const cjs = createRequire(import.meta.url)('node:fs') as Record<string, unknown>;
  const fdPath = new Map<number, string>();
  const base = (p: unknown): string => (typeof p === 'string' ? p.slice(p.lastIndexOf('/') + 1) : String(p));
  for (const name of Object.keys(cjs)) {
    const fn = cjs[name];
    if (!name.endsWith('Sync') || typeof fn !== 'function') continue;
    cjs[name] = function traced(this: unknown, ...args: unknown[]): unknown {
      const t = performance.now();
      const s0 = sched();
      let r: unknown;
      try {
        r = (fn as (...a: unknown[]) => unknown).apply(this, args);
        return r;
      } finally {
        const ms = performance.now() - t;
        if (name === 'openSync' && typeof r === 'number') fdPath.set(r, base(args[0]));
        const file = typeof args[0] === 'number' ? (fdPath.get(args[0]) ?? `fd ${args[0]}`) : base(args[0]);
        countCall(name, args, ms);
        if (ms > SLOW_FS_MS) {
          const s1 = sched();
          slowCalls.push({ start: t, ms, blocked: Math.max(0, ms - (s1.run - s0.run) - (s1.wait - s0.wait)), call: name, file });
        }
      }
    };
  }
  syncBuiltinESMExports();
  if ((nodeFs.writeSync as { name?: string }).name !== 'traced') throw new Error('node:fs ESM namespace was not updated');
}
if (TRACE_MAIN_FS) traceMainThreadFs();

// --- GC pauses ---------------------------------------------------------------------------
interface Pause {
  start: number;
  end: number;
  kind: number;
}
const gcPauses: Pause[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const detail = (e as unknown as { detail?: { kind?: number } }).detail;
    gcPauses.push({ start: e.startTime, end: e.startTime + e.duration, kind: detail?.kind ?? 0 });
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const GC_KIND: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

// --- engine state, read cheaply each tick ------------------------------------------------
interface EngineProbe {
  frozen(): number;
  flushing(): boolean;
  compacting(): boolean;
  batches(): number;
  flushes(): number;
  compactions(): number;
}
function probe(db: Database): EngineProbe {
  // Private fields, read by the bench only (stats() builds file lists: too heavy for every ms).
  const core = (db as unknown as { core: { flushing: boolean; frozenCount: number; counters: { writeBatches: number; flushes: number; compactions: number }; compactor: { runningCount: number } } }).core;
  return {
    frozen: () => core.frozenCount,
    flushing: () => core.flushing,
    compacting: () => core.compactor.runningCount > 0,
    batches: () => core.counters.writeBatches,
    flushes: () => core.counters.flushes,
    compactions: () => core.counters.compactions,
  };
}

interface Gap {
  at: number;
  ms: number;
  phase: string;
  flush: boolean;
  compaction: boolean;
  writing: boolean;
  batches: number;
  flushesDone: number;
  compactionsDone: number;
  gcMs: number;
  gcKinds: string;
  /** Process CPU time (all threads) across the gap / the gap: well below 1 = descheduled. */
  cpu: number;
  /** The main thread across the gap: ms on a CPU, ms runnable in the run queue, ms asleep (the rest). */
  run: number;
  runq: number;
  blocked: number;
}

let writing = false;
let phase = 'fill';

function tracer(p: EngineProbe): { stop(): Gap[] } {
  const gaps: Gap[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let lastSched = sched();
  let st = { flush: p.flushing(), compaction: p.compacting(), writing, batches: p.batches(), flushes: p.flushes(), compactions: p.compactions() };
  const timer = setInterval(() => {
    const now = performance.now();
    const ms = now - last;
    const cpuNow = process.cpuUsage();
    const schedNow = sched();
    const cur = { flush: p.flushing(), compaction: p.compacting(), writing, batches: p.batches(), flushes: p.flushes(), compactions: p.compactions() };
    if (ms > GAP_MS) {
      let gcMs = 0;
      const kinds = new Set<string>();
      for (const g of gcPauses) {
        const o = Math.min(g.end, now) - Math.max(g.start, last);
        if (o > 0) {
          gcMs += o;
          kinds.add(GC_KIND[g.kind] ?? String(g.kind));
        }
      }
      gaps.push({
        at: last,
        ms,
        phase,
        flush: st.flush || cur.flush || cur.flushes > st.flushes,
        compaction: st.compaction || cur.compaction || cur.compactions > st.compactions,
        writing: st.writing || cur.writing,
        batches: cur.batches - st.batches,
        flushesDone: cur.flushes - st.flushes,
        compactionsDone: cur.compactions - st.compactions,
        gcMs,
        gcKinds: [...kinds].join('+'),
        cpu: (cpuNow.user - lastCpu.user + cpuNow.system - lastCpu.system) / 1000 / ms,
        run: schedNow.run - lastSched.run,
        runq: schedNow.wait - lastSched.wait,
        blocked: Math.max(0, ms - (schedNow.run - lastSched.run) - (schedNow.wait - lastSched.wait)),
      });
    }
    last = now;
    lastCpu = cpuNow;
    lastSched = schedNow;
    st = cur;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return gaps;
    },
  };
}

function delays(h: IntervalHistogram): string {
  return `p50 ${(h.percentile(50) / 1e6).toFixed(1)} / p99 ${(h.percentile(99) / 1e6).toFixed(1)} / max ${(h.max / 1e6).toFixed(1)} ms`;
}

function attribution(gaps: Gap[]): string[] {
  const buckets = new Map<string, { n: number; ms: number; max: number }>();
  for (const g of gaps) {
    const what: string[] = [];
    if (schedFd >= 0) {
      // Mechanism, from the main thread's schedstat: the largest share of the gap.
      const m = Math.max(g.run, g.runq, g.blocked);
      what.push(m === g.runq ? 'run-queue wait' : m === g.blocked ? 'blocked (I/O, lock)' : 'on CPU');
    } else if (g.cpu < 0.5) what.push('descheduled');
    if (g.gcMs > g.ms / 2) what.push(`gc(${g.gcKinds})`);
    if (g.flush) what.push('flush');
    if (g.compaction) what.push('compaction');
    if (g.batches > 0) what.push('writes');
    else if (g.writing) what.push('write-awaited');
    const k = `${g.phase}: ${what.join(' + ') || 'idle?'}`;
    const b = buckets.get(k) ?? { n: 0, ms: 0, max: 0 };
    b.n++;
    b.ms += g.ms;
    b.max = Math.max(b.max, g.ms);
    buckets.set(k, b);
  }
  return [...buckets.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([k, b]) => `| ${k} | ${b.n} | ${b.ms.toFixed(0)} | ${b.max.toFixed(0)} |`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-responsiveness-bench-'));
  try {
    const db = await Database.open(dir, {
      ...(TRACE_FS ? { fs: tracedFs() } : THREADS === undefined ? {} : { backgroundThreads: Number(THREADS) }),
      ...(MERGE === undefined ? {} : { minMemtablesToMerge: Number(MERGE) }),
    });
    const p = probe(db);
    // Same key sequence as compaction.bench.ts.
    let s = 42;
    const tr = tracer(p);
    const hFill = monitorEventLoopDelay({ resolution: 1 });
    hFill.enable();
    const t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const b = db.batch();
      for (let j = i; j < Math.min(N, i + BATCH); j++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        b.put(key(Math.floor((s / 2 ** 32) * N)), value(j));
      }
      writing = true;
      await b.write();
      writing = false;
    }
    const fillMs = performance.now() - t0;
    hFill.disable();
    const stallMs = db.stats().counters.stallMs;
    phase = 'settle';
    const hSettle = monitorEventLoopDelay({ resolution: 1 });
    hSettle.enable();
    const t1 = performance.now();
    await db.flush();
    for (;;) {
      const c = db.stats().compaction!;
      if (!c.running && c.scores.every((x) => x.score < 1)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const settleMs = performance.now() - t1;
    hSettle.disable();
    const gaps = tr.stop();
    const st = db.stats();
    await db.close();

    const c = st.compaction!;
    console.log(`fillrandom N=${N}, batches of ${BATCH}, ${KEY_SIZE}-byte keys, ${VALUE_SIZE}-byte values, default options\n`);
    console.log('| | |');
    console.log('|---|---|');
    console.log(`| fill time | ${(fillMs / 1000).toFixed(1)} s (${Math.round(N / (fillMs / 1000)).toLocaleString('en-US')} entries/s) |`);
    console.log(`| write stall time during fill | ${(stallMs / 1000).toFixed(1)} s (stalls ${st.counters.stalls}, slowdowns ${st.counters.slowdowns}) |`);
    console.log(`| settle time | ${(settleMs / 1000).toFixed(1)} s |`);
    console.log(`| event-loop delay, fill | ${delays(hFill)} |`);
    console.log(`| event-loop delay, settle | ${delays(hSettle)} |`);
    console.log(`| flushes / longest flush slice | ${st.counters.flushes} / ${st.counters.flushMaxSliceMs.toFixed(0)} ms |`);
    console.log(`| compactions / longest compaction slice | ${c.compactions} (${c.trivialMoves} trivial) / ${c.maxSliceMs.toFixed(0)} ms |`);
    const gcTotal = gcPauses.reduce((n, g) => n + (g.end - g.start), 0);
    const gcMax = gcPauses.reduce((n, g) => Math.max(n, g.end - g.start), 0);
    console.log(`| GC pauses | ${gcPauses.length}, total ${(gcTotal / 1000).toFixed(1)} s, longest ${gcMax.toFixed(0)} ms |`);
    console.log(`| gaps > ${GAP_MS} ms (1 ms timer) | ${gaps.length}, total ${(gaps.reduce((n, g) => n + g.ms, 0) / 1000).toFixed(1)} s |`);
    console.log(`\nAttribution of the gaps > ${GAP_MS} ms (what was running across the gap; gc = GC pauses cover more than half of it; on CPU / run-queue wait / blocked = the largest share of the gap by the main thread's schedstat — blocked is asleep in the kernel: I/O, a lock, a futex):\n`);
    console.log('| phase: activity | gaps | total ms | longest ms |');
    console.log('|---|---|---|---|');
    for (const l of attribution(gaps)) console.log(l);
    if (TRACE_FS || TRACE_MAIN_FS) {
      console.log(`\nSynchronous file calls on the JS thread${TRACE_MAIN_FS ? ' (main thread, worker on)' : ''}:\n`);
      console.log('| call | n | total ms | longest ms | > 5 ms |');
      console.log('|---|---|---|---|---|');
      for (const [k, c] of [...fsCalls].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${k} | ${c.n} | ${c.ms.toFixed(0)} | ${c.max.toFixed(1)} | ${c.over5} |`);
    }
    console.log('\nLongest 10 gaps:\n');
    console.log('| at s | ms | cpu/wall | main: on CPU / run queue / blocked ms | phase | flush | compaction | batches in gap | flushes done | gc ms |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const g of [...gaps].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
      console.log(`| ${((g.at - t0) / 1000).toFixed(2)} | ${g.ms.toFixed(0)} | ${g.cpu.toFixed(2)} | ${g.run.toFixed(0)} / ${g.runq.toFixed(0)} / ${g.blocked.toFixed(0)} | ${g.phase} | ${g.flush ? 'y' : ''} | ${g.compaction ? 'y' : ''} | ${g.batches} | ${g.flushesDone} | ${g.gcMs.toFixed(0)}${g.gcKinds ? ` (${g.gcKinds})` : ''} |`);
    }
    if (TRACE_MAIN_FS) {
      console.log(`\nSynchronous file calls > ${SLOW_FS_MS} ms inside the longest 10 gaps (ms of the call, call, file):\n`);
      for (const g of [...gaps].sort((a, b) => b.ms - a.ms).slice(0, 10)) {
        const inside = slowCalls.filter((c) => c.start < g.at + g.ms && c.start + c.ms > g.at);
        const list = inside.map((c) => `${c.ms.toFixed(0)} (blocked ${c.blocked.toFixed(0)}) ${c.call} ${c.file}`).join('; ');
        console.log(`- ${((g.at - t0) / 1000).toFixed(2)} s, ${g.ms.toFixed(0)} ms: ${list || '(none)'}`);
      }
      const covered = gaps.filter((g) => slowCalls.some((c) => c.start < g.at + g.ms && c.start + c.ms > g.at && c.ms > g.ms / 2));
      console.log(`\nGaps > ${GAP_MS} ms more than half covered by one synchronous file call: ${covered.length} of ${gaps.length}`);
      const blockedMs = slowCalls.reduce((n, c) => n + c.blocked, 0);
      console.log(`Synchronous file calls > ${SLOW_FS_MS} ms: ${slowCalls.length}, ${slowCalls.reduce((n, c) => n + c.ms, 0).toFixed(0)} ms, of which blocked (asleep in the kernel) ${blockedMs.toFixed(0)} ms; longest blocked ${slowCalls.reduce((n, c) => Math.max(n, c.blocked), 0).toFixed(0)} ms`);
    }
  } finally {
    gcObserver.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
