// Growth: does Strata's cost bend as the tree deepens? A fillrandom of N keys (16 B / 100 B,
// batches of 1000, default options), sampled every tenth of N — the rate of that tenth, RSS,
// open descriptors, tables per level, write amplification, stall time, CPU (the process's and the
// main thread's; the rest is background work), and for Strata the MB flushed and compacted into
// each level, with the background CPU per MB — then random gets and a
// full scan on the filled database. classic-level does the same in the same run. Each engine runs
// in a process of its own, so RSS and descriptor counts are that engine's alone.
//
//   npm run bench -- scale                        (N = 10M; takes minutes)
//   BENCH_SCALE_N=2000000 npm run bench -- scale  (smaller N)
//   BENCH_SCALE_ENGINES=strata …                  (one engine)
//   BENCH_SCALE_SVG=packages/engine/docs/scale.svg …   (also draw the fill curves)
//   BENCH_SCALE_ROUNDS=3 …                        (rounds, engines alternating; medians reported)
//   BENCH_SCALE_BUILT=1 …                         (Strata from its built files, dist/, as a user
//                                                  runs it: `npm run build` first)
//   BENCH_SCALE_REF_N=0 …                         (no reference run; see below)
//   BENCH_SCALE_THREADS=2 …                       (Strata opened with backgroundThreads: 2; the
//                                                  budget is the same; default: the engine's)
//   BENCH_SCALE_MEMTABLE_SIZE=8388608 …           (Strata's memtableSize; the budget follows it)
//   BENCH_SCALE_MAX_MEMTABLE_SIZE=4194304 …       (Strata's maxMemtableSize; = memtableSize: no growth)
//   BENCH_SCALE_FILL_ONLY=1 …                     (stop after the fill: its table and peak RSS only)
//   BENCH_SCALE_COMPACTION_PRI=round-robin …      (Strata's compactionPriority; default min-overlapping-ratio)
//   BENCH_SCALE_COMPACTION_STYLE=universal …      (Strata's compactionStyle; default level)
//   BENCH_SCALE_UNIVERSAL='{"minMergeWidth":4}' … (Strata's compactionOptionsUniversal, as JSON)
//   BENCH_SCALE_L0_TRIGGER=4 …                    (Strata's l0CompactionTrigger: sorted runs with universal)
//   BENCH_SCALE_MERGE=2 …                         (Strata's minMemtablesToMerge)
//   BENCH_SCALE_L0_SLOWDOWN=40 BENCH_SCALE_L0_STOP=72 …  (Strata's L0 write triggers)
//   BENCH_SCALE_COMPACTIONS=3 …                   (Strata's maxBackgroundCompactions)
//   BENCH_SCALE_TARGET_FILE_SIZE=229376 BENCH_SCALE_MAX_OPEN_FILES=1000 BENCH_SCALE_TABLE_CACHE_SIZE=12582912 …
//                                                 (Strata's options, else its defaults: a stand-in
//                                                  for 100M keys at 10M — ~4,900 tables, most of
//                                                  them dropped by the table cache, as at 100M)
//
// Random gets are compared with the same bench at a reference size (BENCH_SCALE_REF_N, 1M by
// default; only when N is larger): each round also runs every engine at that size (the whole
// run, fill included, so the gets are measured the same way), and the table prints N's get rate
// over the reference's, per wall second and per CPU second of the engine's process (the machine
// is shared: CPU time is what other load disturbs least). Every read figure has the kernel's
// peak RSS of its own phase beside it (gets and scan reset the high-water mark separately).
//
// Each engine's process is plain `node` running this file bundled by esbuild (into
// node_modules/.cache/strata-scale-bench/; bench/support/engine-process.ts says why plain node);
// with BENCH_SCALE_BUILT=1 the engine is imported from dist/.
//
// Peak RSS is the kernel's high-water mark (VmHWM, /proc/self/status; reset between phases
// through /proc/self/clear_refs), not a sample. After the fill, a long-lived reader (an
// iterator on its first entry, and for Strata a snapshot too) is held while another tenth of N
// keys is overwritten and compacted, then released: disk and memory at each of those points.
//
// Goals (issue "bounded at scale"): the last tenth of the fill at ≥ 0.8× the rate of the first;
// peak RSS ≤ memtables + block cache + 64 MB; descriptors ≤ maxOpenFiles + a small constant.
// The budget is computed from the options the database resolved: memtables = maxMemtableSize ×
// (1 + maxFrozenMemtables) (memtables start at memtableSize and grow with L1 up to it), block cache = blockCacheSize; the stated bound of resident index and
// filter bytes (tableCacheSize) is printed beside it. Where the peak's RSS went is printed too:
// RSS at open (node, the code), the main thread's V8 heap and ArrayBuffers, what stats().memory
// accounts for by component, and the background workers' own heaps and buffers (the most each
// reported), at the sample where RSS was highest.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { join } from 'node:path';
import type * as Engine from '../src/index.js';
import { NON_TABLE_FILES, resolveOptions } from '../src/options.js';
import { compactionSettled } from './support/compaction-settled.js';
import { mainThreadCpuS, minorFaults } from './support/proc-stat.js';
import { key, KEY_SIZE, permutation, value, VALUE_SIZE } from './support/db-bench-data.js';
import { bundleBench, runEngineProcess } from './support/engine-process.js';

const N = Number(process.env.BENCH_SCALE_N ?? 10_000_000);
const REF_N = Number(process.env.BENCH_SCALE_REF_N ?? 1_000_000);
const ENGINES = (process.env.BENCH_SCALE_ENGINES ?? 'strata,classic-level').split(',');
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 1);
const BUILT = process.env.BENCH_SCALE_BUILT === '1';
// From the sources or from dist/ (bundled without the `source` condition, @strata-db/* external).
// (Two literal imports, not one of a computed name: the bundler resolves each.)
const { Database } = (BUILT ? await import('@strata-db/engine') : await import('../src/index.js')) as typeof Engine;
/**
 * Strata's options the env sets (BENCH_SCALE_THREADS: `backgroundThreads`,
 * BENCH_SCALE_TARGET_FILE_SIZE, …; BENCH_SCALE_CACHE_INDEX_AND_FILTER=1|0:
 * `cacheIndexAndFilterBlocks`; BENCH_SCALE_WARM_TABLES=idle|off: `warmTables`;
 * BENCH_SCALE_COMPACTION_PRI: `compactionPriority`; BENCH_SCALE_COMPACTION_STYLE: `compactionStyle`;
 * BENCH_SCALE_UNIVERSAL: `compactionOptionsUniversal`); the rest are defaults. Each engine's process gets this
 * environment, so the child reads it too.
 */
const STRATA_OPTIONS = {
  ...(process.env.BENCH_SCALE_CACHE_INDEX_AND_FILTER === undefined ? {} : { cacheIndexAndFilterBlocks: process.env.BENCH_SCALE_CACHE_INDEX_AND_FILTER === '1' }),
  ...(process.env.BENCH_SCALE_WARM_TABLES === undefined ? {} : { warmTables: process.env.BENCH_SCALE_WARM_TABLES as Engine.WarmTables }),
  ...(process.env.BENCH_SCALE_COMPACTION_PRI === undefined ? {} : { compactionPriority: process.env.BENCH_SCALE_COMPACTION_PRI as Engine.CompactionPriority }),
  ...(process.env.BENCH_SCALE_COMPACTION_STYLE === undefined ? {} : { compactionStyle: process.env.BENCH_SCALE_COMPACTION_STYLE as Engine.CompactionStyle }),
  ...(process.env.BENCH_SCALE_UNIVERSAL === undefined ? {} : { compactionOptionsUniversal: JSON.parse(process.env.BENCH_SCALE_UNIVERSAL) as Engine.UniversalCompactionOptions }),
  ...Object.fromEntries(
    (
      [
        ['backgroundThreads', 'BENCH_SCALE_THREADS'],
        ['targetFileSize', 'BENCH_SCALE_TARGET_FILE_SIZE'],
        ['maxOpenFiles', 'BENCH_SCALE_MAX_OPEN_FILES'],
        ['tableCacheSize', 'BENCH_SCALE_TABLE_CACHE_SIZE'],
        ['memtableSize', 'BENCH_SCALE_MEMTABLE_SIZE'],
        ['maxMemtableSize', 'BENCH_SCALE_MAX_MEMTABLE_SIZE'],
        ['minMemtablesToMerge', 'BENCH_SCALE_MERGE'],
        ['l0SlowdownWritesTrigger', 'BENCH_SCALE_L0_SLOWDOWN'],
        ['l0CompactionTrigger', 'BENCH_SCALE_L0_TRIGGER'],
        ['l0StopWritesTrigger', 'BENCH_SCALE_L0_STOP'],
        ['maxBackgroundCompactions', 'BENCH_SCALE_COMPACTIONS'],
      ] as const
    )
      .filter(([, env]) => process.env[env] !== undefined)
      .map(([name, env]) => [name, Number(process.env[env])]),
  ),
} as Engine.DatabaseOptions;
const BATCH = 1000;
const GETS = 200_000;
/**
 * The gets' first COLD_GETS are reported apart (stderr): they fill the block cache (~30k blocks at
 * 1M and at 10M keys, within them), each miss reading into memory never touched before (a page
 * fault a block), open tables and load partitions (10M), and V8 compiles the read path on its
 * helper threads (the "other threads' CPU"); the rest run with a full cache and a warm JIT
 * (docs/performance/session-31.md, miss31).
 */
const COLD_GETS = 40_000;
const SAMPLES = 10;
/** BENCH_SCALE_FILL_ONLY=1: stop after the fill (its table and peak RSS); no settle, reader, gets or scan. */
const FILL_ONLY = process.env.BENCH_SCALE_FILL_ONLY === '1';

interface Sample {
  readonly upTo: number;
  readonly rate: number;
  readonly rssMB: number;
  /** What the engine accounts for itself (stats().memory.total); undefined for classic-level. */
  readonly engineMB: number | undefined;
  /** Compaction backlog (RocksDB's estimated pending compaction bytes). */
  readonly pendingMB: number | undefined;
  readonly fds: number;
  readonly levels: string;
  readonly writeAmp: number | undefined;
  readonly stallS: number | undefined;
  /** Strata: the active memtable's freeze size (MiB) and L0's mean table size (MB) at the sample. */
  readonly l0Tables: string | undefined;
  /** CPU seconds of this tenth: the whole process's (every thread), and the main thread's alone. */
  readonly cpuS: number;
  readonly mainCpuS: number;
  /** Strata: MB flushed and MB compaction wrote into L1, L2, … during this tenth ("flush + L1/L2/…"). */
  readonly writtenMB: string | undefined;
  /** Strata: background CPU (process less main thread) per MB flushed and compacted in this tenth, ms. */
  readonly bgMsPerMB: number | undefined;
}
/** A long-lived reader's cost: what the disk and memory were before it, while held, and after release. */
interface HeldReader {
  readonly before: ReaderPoint;
  readonly held: ReaderPoint;
  readonly released: ReaderPoint;
}
interface ReaderPoint {
  readonly diskMB: number;
  readonly rssMB: number;
  readonly engineMB: number | undefined;
  /** Strata: memtables retired but read by the iterator / tables compacted away but pinned, MB. */
  readonly pinnedMemtableMB: number | undefined;
  readonly pinnedTableMB: number | undefined;
}
interface Report {
  readonly engine: string;
  /** The kernel's peak RSS (VmHWM) during the fill, and during gets + scan, MB (undefined off Linux). */
  readonly hwmFillMB: number | undefined;
  readonly hwmReadMB: number | undefined;
  /** The kernel's peak RSS (VmHWM) during the random gets alone, and during the scan alone, MB. */
  readonly hwmGetsMB: number | undefined;
  readonly hwmScanMB: number | undefined;
  readonly reader: HeldReader;
  readonly n: number;
  readonly fill: readonly Sample[];
  readonly fillRate: number;
  /** RSS of the process with the database open and empty: node and the engine's code. */
  readonly openRssMB: number;
  /** The main thread's V8 heap (total) with the database open and empty, MB. */
  readonly openHeapTotalMB: number;
  readonly peakFillRssMB: number;
  /** process.memoryUsage() at the sample of the peak, MB. */
  readonly peakFill: { readonly heapUsed: number; readonly heapTotal: number; readonly external: number; readonly arrayBuffers: number };
  /** Highest engine-accounted memory seen during the fill, MB. */
  readonly peakEngineMB: number | undefined;
  readonly getRate: number;
  /** Gets per CPU second of the process (user + system, every thread). */
  readonly getCpuRate: number;
  readonly getPeakRssMB: number;
  readonly scanRate: number;
  readonly scanPeakRssMB: number;
  readonly maxFds: number;
  readonly diskMB: number;
  readonly budgetMB: number | undefined;
  /** Strata: the configured sizes the budget is made of, MB. */
  readonly budgetParts: { readonly memtables: number; readonly blockCache: number; readonly indexAndFilter: number } | undefined;
  /** Strata: stats().memory at the sample where RSS was highest during the fill, MB. */
  readonly peakFillMemory: PeakMemory | undefined;
  /** Where the RSS was at the sample where it was highest during the gets, and during the scan. */
  readonly getsPeak: PhasePeak;
  readonly scanPeak: PhasePeak;
  /** Other threads' glibc malloc arenas and the main thread's malloc heap (`nativeHeapsMB`) at the end of the gets and of the scan, MB. */
  readonly nativeHeapsAtEnd: { readonly gets: ReturnType<typeof nativeHeapsMB>; readonly scan: ReturnType<typeof nativeHeapsMB> };
  readonly maxOpenFiles: number | undefined;
}
/**
 * The process's memory at one sample, MB: RSS, the main thread's V8 heap by space (committed),
 * ArrayBuffers (V8's count), and what the engine accounts for.
 */
interface PhasePeak {
  readonly rss: number;
  readonly heapUsed: number;
  readonly newSpace: number;
  /** Old, code and large-object spaces. */
  readonly oldSpaces: number;
  readonly arrayBuffers: number;
  readonly memory: PeakMemory | undefined;
}
/** stats().memory by component, MB. */
interface PeakMemory {
  readonly memtables: number;
  readonly memtableReserve: number;
  readonly blockCache: number;
  readonly tableIndexAndFilter: number;
  readonly other: number;
  readonly workerHeap: number;
  readonly workerArrayBuffers: number;
}

const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** CPU seconds of the whole process (every thread: Strata's workers, LevelDB's compaction thread, the thread pool). */
function processCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Read system calls and bytes read by the whole process so far (/proc/self/io syscr, rchar; zeros
 * off Linux): a scan's readahead runs, table opens and partition loads, counted the same at any load.
 */
function readsSoFar(): { calls: number; bytes: number } {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    return { calls: Number(/syscr: (\d+)/.exec(io)![1]), bytes: Number(/rchar: (\d+)/.exec(io)![1]) };
  } catch {
    return { calls: 0, bytes: 0 };
  }
}
/** VmHWM: the most RSS this process ever had (since the last `resetPeakRss`), MB. */
function peakRssMB(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}
/**
 * Resident MB of the malloc arenas of threads other than the main one (Linux, glibc; undefined
 * elsewhere): glibc gives each thread that allocates — the background workers, V8's and libuv's
 * threads — an arena of its own, a heap mapped at a 64 MiB-aligned address, and keeps what a
 * thread freed there after the thread ends. The main thread cannot reuse it, so it is part of the
 * "rest" of the split below (session 25: 31–51 MB after a 10M fill). And the main thread's own
 * malloc heap (`[heap]`, grown with brk): it holds the ArrayBuffers below glibc's mmap threshold
 * (the block cache's blocks, partitions, the copies handed to callers) and whatever free space
 * glibc cannot give back (it trims that heap only from its top), so its growth between the end
 * of the gets and the end of the scan, beside the ArrayBuffers', says whether the scan's rest is
 * free space in the main thread's heap (session 28). Read from /proc/self/smaps, at the end of a
 * phase only (the read makes garbage of its own).
 */
function nativeHeapsMB(): { readonly threadArenas: number; readonly mainHeap: number } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  const ARENA = 64 * MiB;
  let arenaKb = 0;
  let heapKb = 0;
  let kind: 'arena' | 'heap' | undefined;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m !== null) {
      const start = parseInt(m[1]!, 16);
      const size = parseInt(m[2]!, 16) - start;
      kind = m[4] === '[heap]' ? 'heap' : m[4] === '' && m[3] === 'rw-p' && start % ARENA === 0 && size <= ARENA ? 'arena' : undefined;
      continue;
    }
    if (kind !== undefined && line.startsWith('Rss:')) {
      const kb = Number(/(\d+)/.exec(line)![1]);
      if (kind === 'arena') arenaKb += kb;
      else heapKb += kb;
    }
  }
  return { threadArenas: arenaKb / 1024, mainHeap: heapKb / 1024 };
}
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not permitted: VmHWM then covers the whole run.
  }
}
const rssMB = (): number => process.memoryUsage.rss() / 2 ** 20;
const MiB = 2 ** 20;
function phasePeak(memory: PeakMemory | undefined): PhasePeak {
  const m = process.memoryUsage();
  let newSpace = 0;
  let oldSpaces = 0;
  for (const sp of getHeapSpaceStatistics()) {
    if (sp.space_name === 'new_space' || sp.space_name === 'new_large_object_space') newSpace += sp.space_size;
    else oldSpaces += sp.space_size;
  }
  return { rss: m.rss / MiB, heapUsed: m.heapUsed / MiB, newSpace: newSpace / MiB, oldSpaces: oldSpaces / MiB, arrayBuffers: m.arrayBuffers / MiB, memory };
}
/** Bytes of the files in `dir` now; a file that a running compaction deletes between the listing and its stat counts 0. */
function diskBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0;
  return n;
}

interface Subject {
  batch(keys: Buffer[], values: Buffer[]): Promise<void>;
  get(k: Buffer): Promise<unknown>;
  /** Scans everything; `sample` is called every 65,536 entries. */
  scan(sample: () => void): Promise<number>;
  describe(): { levels: string; l0Tables?: string; writeAmp?: number; stallS?: number; writtenByLevel?: readonly number[]; engineMB?: number; pendingMB?: number; pinnedMemtableMB?: number; pinnedTableMB?: number };
  /** Opens a long-lived reader (positioned on its first entry); the function returned releases it. */
  holdReader(): Promise<() => Promise<void>>;
  settle(): Promise<void>;
  close(): Promise<void>;
  /** Table opens, partition loads and block-cache misses so far (Strata), to say per get where a get's reads went. */
  readCounts?(): { tableOpens: number; partitionLoads: number; blockMisses: number };
  readonly budgetMB?: number;
  readonly budgetParts?: Report['budgetParts'];
  memory?(): PeakMemory;
  readonly maxOpenFiles?: number;
}

async function open(engine: string, dir: string): Promise<Subject> {
  if (engine === 'strata') {
    const db = await Database.open(dir, STRATA_OPTIONS);
    // Defaults, as a new user gets them (but for the env's: BENCH_SCALE_THREADS, …); the budget from the sizes they resolve to.
    const o = resolveOptions(STRATA_OPTIONS);
    // Table metadata charged to the block cache (cacheIndexAndFilterBlocks) is inside blockCacheSize: no bound of its own beside it.
    // Memtables grow with L1 up to maxMemtableSize (write/freeze-size.ts): the bound is at that size.
    const budgetParts = { memtables: (o.maxMemtableSize * (1 + o.maxFrozenMemtables)) / MiB, blockCache: o.blockCacheSize / MiB, indexAndFilter: o.cacheIndexAndFilterBlocks ? 0 : o.tableCacheSize / MiB };
    if (o.blockCacheSize !== db.stats().blockCache.capacity) throw new Error('the block cache is not the size the options say');
    return {
      budgetMB: budgetParts.memtables + budgetParts.blockCache + 64,
      budgetParts,
      memory() {
        const m = db.stats().memory;
        return {
          memtables: m.memtables / MiB,
          memtableReserve: m.memtableReserve / MiB,
          blockCache: m.blockCache / MiB,
          tableIndexAndFilter: m.tableIndexAndFilter / MiB,
          other: (m.total - m.memtables - m.memtableReserve - m.blockCache - m.tableIndexAndFilter) / MiB,
          workerHeap: m.workers.peakHeapTotal / MiB,
          workerArrayBuffers: m.workers.peakArrayBuffers / MiB,
        };
      },
      maxOpenFiles: db.stats().tableCache.maxOpenFiles + NON_TABLE_FILES,
      async batch(keys, values) {
        const b = db.batch();
        for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
        await b.write();
      },
      get: (k) => db.get(k),
      async scan(sample) {
        let n = 0;
        for await (const _ of db.iterate()) if ((++n & 0xffff) === 0) sample();
        return n;
      },
      readCounts() {
        const s = db.stats();
        return { tableOpens: s.tableCache.tableOpens, partitionLoads: s.tableCache.partitionLoads, blockMisses: s.blockCache.misses };
      },
      describe() {
        const s = db.stats();
        return {
          levels: s.levels.map((l) => l.files).join('/'),
          l0Tables: `${(s.memtables.freezeSize / MiB).toFixed(0)} / ${s.levels[0]!.files === 0 ? '–' : (s.levels[0]!.bytes / s.levels[0]!.files / MiB).toFixed(1)}`,
          writeAmp: s.writeAmplification,
          stallS: s.counters.stallMs / 1000,
          // [flushed, compacted into L0 (universal compaction only), L1, L2, …], bytes since open.
          writtenByLevel: [s.counters.flushBytesWritten, ...(s.compaction?.levels.map((l) => l.bytesWritten) ?? [])],
          engineMB: s.memory.total / MiB,
          pendingMB: (s.compaction?.pendingCompactionBytes ?? 0) / MiB,
          pinnedMemtableMB: s.memory.pinned.memtableBytes / MiB,
          pinnedTableMB: s.memory.pinned.obsoleteTableBytes / MiB,
        };
      },
      async holdReader() {
        const it = db.iterator();
        it.next();
        const snapshot = db.snapshot();
        return async () => {
          it.close();
          snapshot.release();
          await db.flush(); // the deletions of what the reader kept run after the next background step
        };
      },
      async settle() {
        if (!(await compactionSettled(db))) process.stderr.write('strata: compaction did not settle in 600 s\n');
      },
      close: () => db.close(),
    };
  }
  // Imported here, not at the top: loading classic-level's native addon costs ~9 MB of RSS, which
  // Strata's process (whose RSS at open is reported) would otherwise carry and a user's does not.
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  return {
    async batch(keys, values) {
      await db.batch(keys.map((k, i) => ({ type: 'put' as const, key: k, value: values[i]! })));
    },
    get: (k) => db.get(k),
    async scan(sample) {
      let n = 0;
      for await (const _ of db.keys()) if ((++n & 0xffff) === 0) sample();
      return n;
    },
    describe() {
      return { levels: '' };
    },
    async holdReader() {
      // A LevelDB iterator reads an implicit snapshot: it pins that version's tables and versions.
      const it = db.iterator();
      await it.next();
      return async () => {
        await it.close();
      };
    },
    async settle() {
      // LevelDB compacts on its own thread; nothing to wait for from here.
    },
    close: () => db.close(),
  };
}

async function runOne(engine: string): Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), `strata-scale-${engine}-`));
  try {
    const db = await open(engine, dir);
    // Not `shuffled`: its table (4 bytes a key) would sit in the RSS measured as the engine's.
    const order = permutation(N, 42);
    const fill: Sample[] = [];
    const openRssMB = rssMB();
    const openHeapTotalMB = process.memoryUsage().heapTotal / MiB;
    let peak = openRssMB;
    let peakFill = process.memoryUsage();
    let peakFillMemory = db.memory?.();
    let peakEngineMB: number | undefined;
    let maxFds = fdCount();
    const tenth = Math.ceil(N / SAMPLES);
    const t0 = performance.now();
    let tSample = t0;
    let cpuSample = processCpuS();
    let mainCpuSample = mainThreadCpuS();
    let writtenSample = db.describe().writtenByLevel;
    let sampleStart = 0;
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    /** Writes the keys order.at(i .. min(end, i + BATCH)) as one batch, each with value(n + shift). */
    const writeBatch = async (i: number, end: number, shift: number): Promise<void> => {
      keys.length = 0;
      values.length = 0;
      for (let j = i; j < Math.min(end, i + BATCH); j++) {
        const n = order.at(j);
        keys.push(key(n));
        values.push(value(n + shift));
      }
      await db.batch(keys, values);
    };
    for (let i = 0; i < N; i += BATCH) {
      await writeBatch(i, N, 0);
      const done = Math.min(N, i + BATCH);
      if (done % 16_000 === 0 || done === N) {
        const m = process.memoryUsage();
        if (m.rss / MiB > peak) {
          peak = m.rss / MiB;
          peakFill = m;
          peakFillMemory = db.memory?.();
        }
        const e = db.describe().engineMB;
        if (e !== undefined) peakEngineMB = Math.max(peakEngineMB ?? 0, e);
        maxFds = Math.max(maxFds, fdCount());
      }
      if (done - sampleStart >= tenth || done === N) {
        const now = performance.now();
        const d = db.describe();
        const cpu = processCpuS();
        const mainCpu = mainThreadCpuS();
        const written = d.writtenByLevel?.map((b, l) => (b - (writtenSample?.[l] ?? 0)) / MiB);
        let last = (written?.length ?? 0) - 1;
        while (last > 2 && written![last]! < 0.5) last--;
        const writtenTotal = written?.reduce((a, b) => a + b, 0);
        // Bytes written (flush + compaction) per byte flushed in this tenth.
        const perFlushed = written === undefined || written[0]! === 0 ? '' : ` (×${(writtenTotal! / written[0]!).toFixed(1)})`;
        const intoL0 = written === undefined || written[1]! < 0.5 ? '' : `L0 ${written[1]!.toFixed(0)}, `;
        fill.push({
          cpuS: cpu - cpuSample,
          mainCpuS: mainCpu - mainCpuSample,
          writtenMB: written === undefined ? undefined : `${written[0]!.toFixed(0)} + ${intoL0}${written.slice(2, last + 1).map((x) => x.toFixed(0)).join('/')}${perFlushed}`,
          bgMsPerMB: writtenTotal === undefined || writtenTotal === 0 ? undefined : ((cpu - cpuSample - (mainCpu - mainCpuSample)) * 1000) / writtenTotal,
          upTo: done,
          rate: (done - sampleStart) / ((now - tSample) / 1000),
          rssMB: rssMB(),
          engineMB: d.engineMB,
          pendingMB: d.pendingMB,
          fds: fdCount(),
          levels: d.levels,
          l0Tables: d.l0Tables,
          writeAmp: d.writeAmp,
          stallS: d.stallS,
        });
        // The tenth's figures as they come: a run stopped early still shows its shape.
        const f = fill.at(-1)!;
        process.stderr.write(`${engine}: ${done} keys, ${Math.round(f.rate)} keys/s, tables per level ${f.levels}, written MB ${f.writtenMB ?? '–'}, stall ${f.stallS?.toFixed(1) ?? '–'} s\n`);
        tSample = now;
        cpuSample = cpu;
        mainCpuSample = mainCpu;
        writtenSample = d.writtenByLevel;
        sampleStart = done;
      }
    }
    const fillRate = N / ((performance.now() - t0) / 1000);
    const peakFillRssMB = peak;
    const hwmFillMB = peakRssMB();
    // What the fill measured; the read phases add theirs (or zeros, with BENCH_SCALE_FILL_ONLY=1).
    const fillReport = {
      engine,
      hwmFillMB,
      n: N,
      fill,
      fillRate,
      openRssMB,
      openHeapTotalMB,
      peakFillRssMB,
      peakFill: { heapUsed: peakFill.heapUsed / MiB, heapTotal: peakFill.heapTotal / MiB, external: peakFill.external / MiB, arrayBuffers: peakFill.arrayBuffers / MiB },
      budgetMB: db.budgetMB,
      budgetParts: db.budgetParts,
      peakFillMemory,
      maxOpenFiles: db.maxOpenFiles,
    };
    if (FILL_ONLY) {
      // A probe of the fill alone: what follows is not measured (zeros).
      await db.close();
      const none: ReaderPoint = { diskMB: 0, rssMB: 0, engineMB: undefined, pinnedMemtableMB: undefined, pinnedTableMB: undefined };
      const noPeak: PhasePeak = { rss: 0, heapUsed: 0, newSpace: 0, oldSpaces: 0, arrayBuffers: 0, memory: undefined };
      return {
        ...fillReport,
        hwmReadMB: undefined,
        hwmGetsMB: undefined,
        hwmScanMB: undefined,
        reader: { before: none, held: none, released: none },
        peakEngineMB,
        getRate: 0,
        getCpuRate: 0,
        getPeakRssMB: 0,
        scanRate: 0,
        scanPeakRssMB: 0,
        maxFds,
        diskMB: 0,
        getsPeak: noPeak,
        scanPeak: noPeak,
        nativeHeapsAtEnd: { gets: undefined, scan: undefined },
      };
    }
    await db.settle();

    // A long-lived reader held while a tenth of N keys is overwritten.
    const point = (): ReaderPoint => {
      const d = db.describe();
      return { diskMB: diskBytes(dir) / MiB, rssMB: rssMB(), engineMB: d.engineMB, pinnedMemtableMB: d.pinnedMemtableMB, pinnedTableMB: d.pinnedTableMB };
    };
    const before = point();
    const release = await db.holdReader();
    for (let i = 0; i < tenth; i += BATCH) await writeBatch(i, tenth, 1);
    await db.settle();
    const held = point();
    await release();
    await db.settle();
    const released = point();
    resetPeakRss();

    let getPeak = rssMB();
    let getsPeak = phasePeak(db.memory?.());
    // The sampling every 4096 gets is the bench's, not the gets': its time and CPU are taken out
    // of the rates (listing /proc/self/fd costs with the descriptors open, ~650 at 10M keys
    // against ~60 at 1M: ~1.5% of the 10M gets' CPU, ~0.4% of the 1M's).
    let sampleMs = 0;
    let sampleCpuUs = 0;
    const reads0 = db.readCounts?.();
    const levelsAtGets = db.describe().levels;
    const at = (): { ms: number; sampleMs: number; mainCpuS: number; cpuS: number; faults: number; misses: number } => ({
      ms: performance.now(),
      sampleMs,
      mainCpuS: mainThreadCpuS(),
      cpuS: processCpuS(),
      faults: minorFaults(),
      misses: db.readCounts?.().blockMisses ?? 0,
    });
    const atStart = at();
    let atCold = atStart;
    const g0 = performance.now();
    const gCpu0 = process.cpuUsage();
    let s = 7;
    for (let i = 0; i < GETS; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      await db.get(key(s % N));
      if (i === COLD_GETS - 1) atCold = at();
      if (i % 4096 === 0) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const r = rssMB();
        if (r > getPeak) {
          getPeak = r;
          getsPeak = phasePeak(db.memory?.());
        }
        maxFds = Math.max(maxFds, fdCount());
        const c = process.cpuUsage(c0);
        sampleCpuUs += c.user + c.system;
        sampleMs += performance.now() - t0;
      }
    }
    const getRate = GETS / ((performance.now() - g0 - sampleMs) / 1000);
    const gCpu = process.cpuUsage(gCpu0);
    const getCpuRate = GETS / ((gCpu.user + gCpu.system - sampleCpuUs) / 1e6);
    const atEnd = at();
    {
      // Per get: wall (the sampling taken out), main-thread CPU, the other threads' CPU, page faults, misses.
      const part = (a: typeof atStart, b: typeof atStart, n: number): string =>
        `${((b.ms - a.ms - (b.sampleMs - a.sampleMs)) * 1000 / n).toFixed(1)} µs wall, ${((b.mainCpuS - a.mainCpuS) * 1e6 / n).toFixed(1)} main-thread CPU, ` +
        `${((b.cpuS - a.cpuS - (b.mainCpuS - a.mainCpuS)) * 1e6 / n).toFixed(1)} other threads' CPU, ${((b.faults - a.faults) / n).toFixed(2)} page faults, ${((b.misses - a.misses) / n).toFixed(3)} misses`;
      process.stderr.write(`${engine} ${k(N)} gets, per get: the first ${k(COLD_GETS)} ${part(atStart, atCold, COLD_GETS)}; the other ${k(GETS - COLD_GETS)} ${part(atCold, atEnd, GETS - COLD_GETS)}\n`);
    }
    const reads1 = db.readCounts?.();
    if (reads0 !== undefined && reads1 !== undefined) {
      const per = (what: keyof typeof reads0): string => ((reads1[what] - reads0[what]) / GETS).toFixed(3);
      process.stderr.write(`${engine} ${k(N)} gets: per get ${per('tableOpens')} table opens, ${per('partitionLoads')} partition loads, ${per('blockMisses')} block-cache misses; tables per level ${levelsAtGets}\n`);
    }
    const hwmGetsMB = peakRssMB();
    const heapsAtGetsEnd = nativeHeapsMB();
    resetPeakRss();

    // The scan's wall rate swings ~1.8x between rounds on a shared VM (session 32, scan32): its
    // main-thread CPU and its reads per entry, printed beside it, say more about a change.
    const scanCpu0 = mainThreadCpuS();
    const scanAll0 = processCpuS();
    const scanReads0 = readsSoFar();
    const s0 = performance.now();
    let scanPeak = phasePeak(db.memory?.());
    const scanned = await db.scan(() => {
      if (rssMB() > scanPeak.rss) scanPeak = phasePeak(db.memory?.());
    });
    const scanRate = scanned / ((performance.now() - s0) / 1000);
    {
      const main = mainThreadCpuS() - scanCpu0;
      const reads = readsSoFar();
      process.stderr.write(
        `${engine} ${k(N)} scan: per entry ${((main * 1e9) / scanned).toFixed(0)} ns main-thread CPU, ${(((processCpuS() - scanAll0 - main) * 1e9) / scanned).toFixed(0)} ns other threads' CPU; ` +
          `${reads.calls - scanReads0.calls} read calls, ${((reads.bytes - scanReads0.bytes) / MiB).toFixed(0)} MB read\n`,
      );
    }
    const scanPeakRssMB = rssMB();
    maxFds = Math.max(maxFds, fdCount());
    const diskMB = diskBytes(dir) / 2 ** 20;
    const hwmScanMB = peakRssMB();
    const heapsAtScanEnd = nativeHeapsMB();
    await db.close();
    const hwmClose = peakRssMB();
    const hwmReadMB = hwmGetsMB === undefined || hwmClose === undefined ? undefined : Math.max(hwmGetsMB, hwmClose);
    return {
      ...fillReport,
      hwmReadMB,
      hwmGetsMB,
      hwmScanMB,
      reader: { before, held, released },
      peakEngineMB,
      getRate,
      getCpuRate,
      getPeakRssMB: getPeak,
      scanRate,
      scanPeakRssMB: Math.max(scanPeakRssMB, getPeak),
      maxFds,
      diskMB,
      getsPeak,
      scanPeak,
      nativeHeapsAtEnd: { gets: heapsAtGetsEnd, scan: heapsAtScanEnd },
    };
  } catch (err) {
    // Said here: the directory removal below can fail too (an engine still writing into it)
    // and would replace this error.
    console.error(`${engine}: the run failed:`, err);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

/**
 * Per tenth, what it would take on this two-core machine if no thread ever waited for a CPU that
 * another process holds (the machine is shared: other load stretches the wall clock, not these):
 * the writer's own time, the main thread's CPU plus the write stall, or all of the process's CPU
 * (writer and background threads) spread over two busy cores, whichever is longer. Early in a
 * fill the first bounds it (background work is deferred); late, both are close (the workers
 * are busy while the writer is held). Undefined without stall figures (classic-level).
 */
function loadFreeSeconds(fill: readonly Sample[], cores: boolean): number[] | undefined {
  const out: number[] = [];
  let before = 0;
  for (const f of fill) {
    if (f.stallS === undefined) return undefined;
    const writer = f.mainCpuS + f.stallS - before;
    out.push(cores ? Math.max(writer, f.cpuS / 2) : writer);
    before = f.stallS;
  }
  return out;
}

/** The first tenth's loadFreeSeconds over the mean of the last three's: issue 12/14's bend (≥ 0.8), without the load. */
function loadFreeBend(fill: readonly Sample[], cores: boolean): string {
  const t = loadFreeSeconds(fill, cores);
  if (t === undefined || t.length < 4) return '–';
  return (t[0]! / ((t.at(-1)! + t.at(-2)! + t.at(-3)!) / 3)).toFixed(2);
}

/** The rate over the last three tenths (keys over time, not a mean of rates) over the first tenth's. */
function lastThreeBend(fill: readonly Sample[]): string {
  if (fill.length < 4) return '–';
  const last = fill.slice(-3);
  return (last.length / last.reduce((s, f) => s + 1 / f.rate, 0) / fill[0]!.rate).toFixed(2);
}

function svg(reports: readonly Report[]): string {
  const W = 560;
  const H = 220;
  const pad = 40;
  const maxRate = Math.max(...reports.flatMap((r) => r.fill.map((f) => f.rate)));
  const colours = ['#1f77b4', '#d62728', '#2ca02c'];
  const lines = reports.map((r, i) => {
    const pts = r.fill.map((f) => `${(pad + (f.upTo / N) * (W - 2 * pad)).toFixed(1)},${(H - pad - (f.rate / maxRate) * (H - 2 * pad)).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="2" points="${pts}"/><text x="${W - pad - 110}" y="${pad + 14 * i}" fill="${colours[i % colours.length]}" font-size="12">${r.engine}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>`,
    `<text x="${W / 2}" y="${H - 8}" font-size="12" text-anchor="middle">keys written (0 … ${N.toLocaleString('en-US')}), fillrandom</text>`,
    `<text x="12" y="${pad - 10}" font-size="12">keys/s per tenth (max ${Math.round(maxRate).toLocaleString('en-US')})</text>`,
    ...lines,
    '</svg>',
  ].join('\n');
}

const mb = (x: number): string => x.toFixed(0);
const k = (x: number): string => Math.round(x).toLocaleString('en-US');

if (process.env.BENCH_SCALE_ONE !== undefined) {
  process.stdout.write(`${JSON.stringify(await runOne(process.env.BENCH_SCALE_ONE))}\n`);
} else {
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  const child = bundleBench(import.meta.url, BUILT);
  const runChild = (engine: string, n: number): Report => runEngineProcess<Report>(child, { BENCH_SCALE_ONE: engine, BENCH_SCALE_N: String(n) });
  const withReference = REF_N > 0 && REF_N < N;
  const rounds: Report[][] = [];
  /** Per round, the same engines at the reference size, run right after that round's own. */
  const refRounds: Report[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push(ENGINES.map((engine) => runChild(engine, N)));
    if (withReference) refRounds.push(ENGINES.map((engine) => runChild(engine, REF_N)));
  }
  const reports = rounds.at(-1)!;
  console.log(
    `fillrandom of ${k(N)} keys (${KEY_SIZE} B / ${VALUE_SIZE} B, batches of ${BATCH}), ${Object.keys(STRATA_OPTIONS).length === 0 ? 'default options' : `Strata with ${JSON.stringify(STRATA_OPTIONS)}`}, each engine in its own plain node process, Strata from ${BUILT ? 'dist/ (built)' : 'its TypeScript sources (bundled by esbuild)'}, ${ROUNDS} round(s); load average at start: ${load}, at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`,
  );
  const median = (xs: readonly number[]): number => {
    const a = xs.slice().sort((x, y) => x - y);
    return a.length % 2 === 1 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
  };
  console.log('Per round (peak RSS: the kernel high-water mark during the fill / during gets and scan; sampled peak during the fill):\n');
  console.log('| round | engine | fill keys/s | peak RSS fill, MB | peak RSS gets + scan, MB | sampled peak fill, MB | RSS open, MB |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  rounds.forEach((rs, i) => {
    for (const r of rs) console.log(`| ${i + 1} | ${r.engine} | ${k(r.fillRate)} | ${r.hwmFillMB === undefined ? '–' : mb(r.hwmFillMB)} | ${r.hwmReadMB === undefined ? '–' : mb(r.hwmReadMB)} | ${mb(r.peakFillRssMB)} | ${mb(r.openRssMB)} |`);
  });
  for (const engine of ENGINES) {
    const of = rounds.map((rs) => rs.find((r) => r.engine === engine)!);
    console.log(`| median | ${engine} | ${k(median(of.map((r) => r.fillRate)))} | ${mb(median(of.map((r) => r.hwmFillMB ?? NaN)))} | ${mb(median(of.map((r) => r.hwmReadMB ?? NaN)))} | ${mb(median(of.map((r) => r.peakFillRssMB)))} | ${mb(median(of.map((r) => r.openRssMB)))} |`);
  }
  console.log('');
  console.log('A long-lived reader held while a tenth of N keys is overwritten (last round): disk MB / RSS MB / engine MB (pinned memtables MB, pinned tables MB)\n');
  console.log('| engine | before | held, after the overwrite settled | released, settled |');
  console.log('|---|---|---|---|');
  const pt = (p: ReaderPoint): string =>
    `${mb(p.diskMB)} / ${mb(p.rssMB)} / ${p.engineMB === undefined ? '–' : mb(p.engineMB)}` +
    (p.pinnedMemtableMB === undefined ? '' : ` (${p.pinnedMemtableMB.toFixed(1)}, ${mb(p.pinnedTableMB ?? 0)})`);
  if (!FILL_ONLY) for (const r of reports) console.log(`| ${r.engine} | ${pt(r.reader.before)} | ${pt(r.reader.held)} | ${pt(r.reader.released)} |`);
  console.log('');
  for (const r of reports) {
    console.log(`### ${r.engine}\n`);
    console.log(
      '| keys written | keys/s in this tenth | RSS MB | engine MB | descriptors | tables per level | freeze size MiB / L0 mean table MB | compaction backlog MB | write amp | stall s | CPU s: process / main thread | MB flushed + compacted into L1/L2/… | background CPU ms per MB |',
    );
    console.log('|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---:|');
    for (const f of r.fill) {
      console.log(
        `| ${k(f.upTo)} | ${k(f.rate)} | ${mb(f.rssMB)} | ${f.engineMB === undefined ? '–' : mb(f.engineMB)} | ${f.fds} | ${f.levels || '–'} | ${f.l0Tables ?? '–'} | ${f.pendingMB === undefined ? '–' : mb(f.pendingMB)} | ${f.writeAmp?.toFixed(2) ?? '–'} | ${f.stallS?.toFixed(1) ?? '–'} | ${f.cpuS.toFixed(1)} / ${f.mainCpuS.toFixed(1)} | ${f.writtenMB ?? '–'} | ${f.bgMsPerMB?.toFixed(1) ?? '–'} |`,
      );
    }
    console.log('');
  }
  console.log('| | ' + reports.map((r) => r.engine).join(' | ') + ' |');
  console.log('|---|' + reports.map(() => '---:').join('|') + '|');
  const row = (name: string, f: (r: Report) => string): void => {
    console.log(`| ${name} | ${reports.map(f).join(' | ')} |`);
  };
  row('fill keys/s (whole)', (r) => k(r.fillRate));
  row('last tenth / first tenth', (r) => (r.fill.at(-1)!.rate / r.fill[0]!.rate).toFixed(2));
  // One tenth against one tenth swings by ±0.12 between runs of the same code, with where the fill
  // ends in an L0→L1 cycle (docs/performance/session-18.md); the last three tenths' rate is steadier.
  row('… the last three tenths (their keys over their time) / first tenth', (r) => lastThreeBend(r.fill));
  row('write stall time / fill time, s', (r) => `${r.fill.at(-1)!.stallS?.toFixed(0) ?? '–'} / ${(r.n / r.fillRate).toFixed(0)}`);
  row('… load-free: main-thread CPU + stall, first tenth / mean of the last three', (r) => loadFreeBend(r.fill, false));
  row('… load-free on two cores: max(main-thread CPU + stall, process CPU / 2), first tenth / mean of the last three', (r) => loadFreeBend(r.fill, true));
  const hwm = (x: number | undefined): string => (x === undefined ? '–' : mb(x));
  row('RSS with the database open and empty, MB', (r) => mb(r.openRssMB));
  // The kernel's high-water mark first: the sample (every 16,000 keys) misses short peaks — classic-level's
  // 1M fill peaked at 135-160 MB by the kernel where its samples said 111-132 (docs/performance/session-15.md).
  // The per-round table above has both for every round and their medians, the figure to compare.
  row('peak RSS during fill, kernel high-water mark / sampled, MB', (r) => `${hwm(r.hwmFillMB)} / ${mb(r.peakFillRssMB)}`);
  row('… of it V8 heap used / heap total / ArrayBuffers, MB', (r) => `${mb(r.peakFill.heapUsed)} / ${mb(r.peakFill.heapTotal)} / ${mb(r.peakFill.arrayBuffers)}`);
  row('most engine-accounted memory during fill (stats().memory.total), MB', (r) => (r.peakEngineMB === undefined ? '–' : mb(r.peakEngineMB)));
  row(`random await get, ${k(GETS)}, ops/s (per CPU-second) · peak RSS (kernel) / sampled, MB`, (r) => `${k(r.getRate)} (${k(r.getCpuRate)}) · ${hwm(r.hwmGetsMB)} / ${mb(r.getPeakRssMB)}`);
  row('full scan, entries/s · peak RSS (kernel) / sampled, MB', (r) => `${k(r.scanRate)} · ${hwm(r.hwmScanMB)} / ${mb(r.scanPeakRssMB)}`);
  row('most descriptors open', (r) => String(r.maxFds) + (r.maxOpenFiles === undefined ? '' : ` (maxOpenFiles ${r.maxOpenFiles})`));
  row('disk after fill, MB (space amp)', (r) => `${mb(r.diskMB)} (${((r.diskMB * 2 ** 20) / (N * (KEY_SIZE + VALUE_SIZE))).toFixed(2)})`);
  row('RSS budget: memtables + block cache + 64 MB, MB (from the options)', (r) =>
    r.budgetMB === undefined || r.budgetParts === undefined ? '–' : `${mb(r.budgetMB)} (${mb(r.budgetParts.memtables)} + ${mb(r.budgetParts.blockCache)} + 64)`,
  );
  row('… plus the bound on resident index and filter bytes (tableCacheSize; 0 when cacheIndexAndFilterBlocks charges them to the block cache), MB', (r) =>
    r.budgetMB === undefined || r.budgetParts === undefined ? '–' : `${mb(r.budgetMB + r.budgetParts.indexAndFilter)} (+ ${mb(r.budgetParts.indexAndFilter)})`,
  );
  row('peak RSS during fill (kernel high-water mark) / budget', (r) => (r.budgetMB === undefined || r.hwmFillMB === undefined ? '–' : `${mb(r.hwmFillMB)} / ${mb(r.budgetMB)} = ${(r.hwmFillMB / r.budgetMB).toFixed(2)}×`));
  row('peak RSS during gets + scan / (budget + index and filter bound)', (r) =>
    r.budgetMB === undefined || r.budgetParts === undefined || r.hwmReadMB === undefined
      ? '–'
      : `${mb(r.hwmReadMB)} / ${mb(r.budgetMB + r.budgetParts.indexAndFilter)} = ${(r.hwmReadMB / (r.budgetMB + r.budgetParts.indexAndFilter)).toFixed(2)}×`,
  );
  row('… at the sampled peak: RSS at open + main V8 heap growth (total) + main ArrayBuffers, MB', (r) =>
    `${mb(r.openRssMB)} + ${mb(r.peakFill.heapTotal - r.openHeapTotalMB)} + ${mb(r.peakFill.arrayBuffers)}`,
  );
  row('… engine memory then (stats().memory): memtables + reserve + block cache + index/filter + other, MB', (r) => {
    const m = r.peakFillMemory;
    return m === undefined ? '–' : `${m.memtables.toFixed(1)} + ${m.memtableReserve.toFixed(1)} + ${m.blockCache.toFixed(1)} + ${m.tableIndexAndFilter.toFixed(1)} + ${m.other.toFixed(1)}`;
  });
  row('… background workers (stats().memory.workers, most reported): V8 heap / ArrayBuffers, MB', (r) => {
    const m = r.peakFillMemory;
    return m === undefined ? '–' : `${m.workerHeap.toFixed(1)} / ${m.workerArrayBuffers.toFixed(1)}`;
  });
  for (const [phase, of] of [
    ['gets', (r: Report) => r.getsPeak],
    ['scan', (r: Report) => r.scanPeak],
  ] as const) {
    row(`at the sampled peak of the ${phase}: RSS = RSS at open + main V8 new space + old spaces (committed; heap used) + ArrayBuffers + rest, MB`, (r) => {
      const p = of(r);
      // ArrayBuffers: the block cache's blocks, partitions, the memtables' memory. (Not V8's
      // `external` beside it: measured here it was smaller than `arrayBuffers`, not larger.)
      const rest = p.rss - r.openRssMB - p.newSpace - p.oldSpaces - p.arrayBuffers;
      return `${mb(p.rss)} = ${mb(r.openRssMB)} + ${mb(p.newSpace)} + ${mb(p.oldSpaces)} (${mb(p.heapUsed)}) + ${mb(p.arrayBuffers)} + ${mb(rest)}`;
    });
    row(`… engine memory then: memtables + reserve + block cache + index/filter + other; workers' heap / ArrayBuffers, MB`, (r) => {
      const m = of(r).memory;
      return m === undefined
        ? '–'
        : `${m.memtables.toFixed(1)} + ${m.memtableReserve.toFixed(1)} + ${m.blockCache.toFixed(1)} + ${m.tableIndexAndFilter.toFixed(1)} + ${m.other.toFixed(1)}; ${m.workerHeap.toFixed(1)} / ${m.workerArrayBuffers.toFixed(1)}`;
    });
    row(`… of the rest, other threads' glibc malloc arenas (the workers' freed memory; MALLOC_ARENA_MAX=1 gives it back) at the end of the ${phase}; the main thread's malloc heap then ([heap]: ArrayBuffers below the mmap threshold and free space glibc keeps), MB`, (r) => {
      const a = r.nativeHeapsAtEnd[phase];
      return a === undefined ? '–' : `${mb(a.threadArenas)}; ${mb(a.mainHeap)}`;
    });
  }
  if (withReference) {
    // Issue 13's target: random await get at N ≥ 0.6× its rate at the reference size (1M).
    console.log(`\nRandom await get at ${k(N)} keys against the same bench at ${k(REF_N)} (each round's reference ran right after it; medians of ${ROUNDS} round(s)):\n`);
    console.log(`| engine | gets/s at ${k(N)} (per CPU-s) · peak RSS, MB | gets/s at ${k(REF_N)} (per CPU-s) · peak RSS, MB | ${k(N)} / ${k(REF_N)}, wall | per CPU-s |`);
    console.log('|---|---:|---:|---:|---:|');
    ENGINES.forEach((engine, e) => {
      const big = rounds.map((rs) => rs[e]!);
      const ref = refRounds.map((rs) => rs[e]!);
      const fig = (rs: Report[]): string =>
        `${k(median(rs.map((r) => r.getRate)))} (${k(median(rs.map((r) => r.getCpuRate)))}) · ${mb(median(rs.map((r) => r.hwmGetsMB ?? r.getPeakRssMB)))}`;
      const wall = median(big.map((r, i) => r.getRate / ref[i]!.getRate));
      const cpu = median(big.map((r, i) => r.getCpuRate / ref[i]!.getCpuRate));
      console.log(`| ${engine} | ${fig(big)} | ${fig(ref)} | ${wall.toFixed(2)}× | ${cpu.toFixed(2)}× |`);
    });
  }
  const strata = reports.find((r) => r.engine === 'strata');
  const leveldb = reports.find((r) => r.engine === 'classic-level');
  if (strata !== undefined && leveldb !== undefined) {
    console.log(`\nStrata / classic-level: fill ${(strata.fillRate / leveldb.fillRate).toFixed(2)}×, gets ${(strata.getRate / leveldb.getRate).toFixed(2)}×, scan ${(strata.scanRate / leveldb.scanRate).toFixed(2)}×`);
  }
  if (process.env.BENCH_SCALE_SVG !== undefined) {
    writeFileSync(process.env.BENCH_SCALE_SVG, svg(reports));
    console.log(`\nchart: ${process.env.BENCH_SCALE_SVG}`);
  }
}
