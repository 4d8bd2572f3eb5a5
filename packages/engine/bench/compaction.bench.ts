// Leveled compaction under fillrandom (issue 7's benchmark), Strata against classic-level (LevelDB)
// in the same run: N random 16-byte keys (uniform over [0, N), with repeats, as db_bench's
// fillrandom), 100-byte incompressible values, batches of 1000, default options on both sides.
//
//   npm run bench -- compaction                              (root; N = 5,000,000)
//   COMPACTION_BENCH_N=1000000 npm run bench -- compaction   (smaller; say which N you ran)
//   COMPACTION_BENCH_ENGINES=strata …                        (one side only)
//
// Reported per engine:
//   - write amplification = bytes written to disk / bytes written by the user (N × 116), after
//     the fill and once background compaction has settled. Disk bytes are the process's
//     write_bytes from /proc/self/io (both engines are in-process: LevelDB's compaction thread
//     counts too); for Strata also its own counters (WAL + flush + compaction bytes).
//   - space amplification after a full compaction = table bytes on disk / (live keys × 116).
//   - event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) during the fill (writes
//     + background compaction), while background compaction settles, and during the full
//     compaction: p99 and max.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ClassicLevel } from 'classic-level';
import { compactionSettled } from './support/compaction-settled.js';
import { key, KEY_SIZE, value, VALUE_SIZE } from './support/db-bench-data.js';
import { Database } from '../src/index.js';

const N = Number(process.env['COMPACTION_BENCH_N'] ?? 5_000_000);
const ENGINES = (process.env['COMPACTION_BENCH_ENGINES'] ?? 'strata,classic-level').split(',');
const BATCH = 1000;
const USER_BYTES = N * (KEY_SIZE + VALUE_SIZE);

/** The same random key sequence for both engines. */
function keySequence(): Uint32Array {
  const a = new Uint32Array(N);
  let s = 42;
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = Math.floor((s / 2 ** 32) * N);
  }
  return a;
}
const keys = keySequence();
const liveKeys = (() => {
  const seen = new Uint8Array(N);
  let n = 0;
  for (const k of keys) if (seen[k] === 0) {
    seen[k] = 1;
    n++;
  }
  return n;
})();

function procWriteBytes(): number {
  const m = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function dirBytes(dir: string, filter: (name: string) => boolean): number {
  let n = 0;
  for (const f of readdirSync(dir)) if (filter(f)) n += statSync(join(dir, f)).size;
  return n;
}

interface Delay {
  p99: number;
  max: number;
}
function measure(): { stop(): Delay } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return {
    stop() {
      h.disable();
      return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
    },
  };
}

interface Result {
  engine: string;
  fillSeconds: number;
  settleSeconds: number;
  fullCompactionSeconds: number;
  writeAmpProc: number;
  writeAmpCounters: number | undefined;
  spaceAmp: number;
  tableBytes: number;
  fillDelay: Delay;
  settleDelay: Delay;
  fullDelay: Delay;
  extra: string;
}

async function fill(write: (ks: Buffer[], vs: Buffer[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < N; i += BATCH) {
    const ks: Buffer[] = [];
    const vs: Buffer[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      ks.push(key(keys[j]!));
      vs.push(value(j));
    }
    await write(ks, vs);
  }
}

async function runStrata(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-compaction-bench-'));
  try {
    const db = await Database.open(dir);
    const w0 = procWriteBytes();
    let t = performance.now();
    let m = measure();
    await fill(async (ks, vs) => {
      const b = db.batch();
      for (let i = 0; i < ks.length; i++) b.put(ks[i]!, vs[i]!);
      await b.write();
    });
    const fillDelay = m.stop();
    const fillSeconds = (performance.now() - t) / 1000;
    // Let background compaction finish what the fill left due.
    t = performance.now();
    m = measure();
    await db.flush();
    await compactionSettled(db);
    const settleDelay = m.stop();
    const settleSeconds = (performance.now() - t) / 1000;
    const st = db.stats();
    const writeAmpProc = (procWriteBytes() - w0) / USER_BYTES;
    const writeAmpCounters = st.writeAmplification;
    const levels = st.levels.map((l) => `L${l.level}:${l.files}`).join(' ');
    const c = st.compaction!;
    // Full compaction.
    t = performance.now();
    m = measure();
    await db.compact();
    const fullDelay = m.stop();
    const fullCompactionSeconds = (performance.now() - t) / 1000;
    const after = db.stats();
    const tableBytes = after.levels.reduce((n, l) => n + l.bytes, 0);
    const entries = after.levels.flatMap((l) => l.fileList).reduce((n, f) => n + f.entries, 0);
    await db.close();
    const onDisk = dirBytes(dir, (f) => f.endsWith('.sst'));
    return {
      engine: 'Strata',
      fillSeconds,
      settleSeconds,
      fullCompactionSeconds,
      writeAmpProc,
      writeAmpCounters,
      spaceAmp: onDisk / (liveKeys * (KEY_SIZE + VALUE_SIZE)),
      tableBytes,
      fillDelay,
      settleDelay,
      fullDelay,
      extra: `levels before full compaction: ${levels}; ${c.compactions} compactions (${c.trivialMoves} trivial moves), max ${c.maxDurationMs} ms, longest synchronous slice ${c.maxSliceMs} ms; entries after full compaction ${entries} (live keys ${liveKeys}); stalls ${st.counters.stalls}, slowdowns ${st.counters.slowdowns}, stalled ${Math.round(st.counters.stallMs)} ms`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runClassic(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'classic-compaction-bench-'));
  try {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const w0 = procWriteBytes();
    let t = performance.now();
    let m = measure();
    await fill((ks, vs) => db.batch(ks.map((k, i) => ({ type: 'put' as const, key: k, value: vs[i]! }))));
    const fillDelay = m.stop();
    const fillSeconds = (performance.now() - t) / 1000;
    // LevelDB compacts on its own thread; no API says it is done: wait until nothing is written for 2 s.
    t = performance.now();
    m = measure();
    for (let last = procWriteBytes(), quiet = 0; quiet < 20; ) {
      await new Promise((r) => setTimeout(r, 100));
      const now = procWriteBytes();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
    const settleDelay = m.stop();
    const settleSeconds = (performance.now() - t) / 1000 - 2;
    const writeAmpProc = (procWriteBytes() - w0) / USER_BYTES;
    t = performance.now();
    m = measure();
    await db.compactRange(Buffer.alloc(0), Buffer.alloc(KEY_SIZE, 0xff));
    const fullDelay = m.stop();
    const fullCompactionSeconds = (performance.now() - t) / 1000;
    await db.close();
    const onDisk = dirBytes(dir, (f) => f.endsWith('.ldb') || f.endsWith('.sst'));
    return {
      engine: 'classic-level',
      fillSeconds,
      settleSeconds,
      fullCompactionSeconds,
      writeAmpProc,
      writeAmpCounters: undefined,
      spaceAmp: onDisk / (liveKeys * (KEY_SIZE + VALUE_SIZE)),
      tableBytes: onDisk,
      fillDelay,
      settleDelay,
      fullDelay,
      extra: '',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const e of ENGINES) {
  globalThis.gc?.();
  if (e === 'strata') results.push(await runStrata());
  else if (e === 'classic-level') results.push(await runClassic());
}

const f2 = (x: number): string => x.toFixed(2);
const ms = (d: Delay): string => `${d.p99.toFixed(1)} / ${d.max.toFixed(1)}`;
console.log(`fillrandom N = ${N.toLocaleString('en-US')} (16 B keys, 100 B values, batches of ${BATCH}); ${liveKeys.toLocaleString('en-US')} distinct keys; user bytes ${(USER_BYTES / 2 ** 20).toFixed(0)} MiB\n`);
console.log('| engine | fill s | settle s | full compaction s | write amp (disk) | write amp (counters) | space amp after full compaction | event-loop p99 / max ms: fill | settle | full compaction |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.engine} | ${r.fillSeconds.toFixed(1)} | ${r.settleSeconds.toFixed(1)} | ${r.fullCompactionSeconds.toFixed(1)} | ${f2(r.writeAmpProc)} | ${r.writeAmpCounters === undefined ? '–' : f2(r.writeAmpCounters)} | ${f2(r.spaceAmp)} | ${ms(r.fillDelay)} | ${ms(r.settleDelay)} | ${ms(r.fullDelay)} |`,
  );
}
const s = results.find((r) => r.engine === 'Strata');
const c = results.find((r) => r.engine === 'classic-level');
if (s && c) {
  console.log(`\nStrata / classic-level: write amp ${f2(s.writeAmpProc / c.writeAmpProc)}×, space amp ${f2(s.spaceAmp / c.spaceAmp)}×, fill time ${f2(s.fillSeconds / c.fillSeconds)}×`);
}
if (s) console.log(`\nStrata: ${s.extra}`);
