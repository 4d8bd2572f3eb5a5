// Memtable benchmark: 1M random 16-byte keys with 100-byte values, in one process, against
//  - memory-level's tree: functional-red-black-tree, called directly (no abstract-level promise
//    layer, so this favours it), storing the caller's key/value Buffers as memory-level does;
//  - a sorted-array baseline: entries appended, sorted once, then binary-searched. It does not
//    stay ordered while inserts arrive, so its insert figure is a lower bound, not a memtable.
//
//   npm run bench -- memtable                    (root; node --expose-gc --conditions=source --import tsx)
//   BENCH_SCALE=0.1 npm run bench -- memtable    (quick look)
//
// Memory: heapUsed + arrayBuffers after a full GC, minus the same before the structure was
// built. Key and value bytes come from one pre-allocated pool and are handed to every
// structure as fresh views (as a user's Buffers would be), so "overhead" is what each
// structure holds beyond the raw 116 bytes per entry: the memtable copies the bytes (and
// subtracts them), the others keep the view objects (which are their overhead).
import { createRequire } from 'node:module';
import { randomFillSync } from 'node:crypto';
import { Memtable, compareKeys } from '../src/index.js';

interface RbTree {
  insert(key: Uint8Array, value: Uint8Array): RbTree;
  get(key: Uint8Array): Uint8Array | undefined;
  forEach(visit: (key: Uint8Array, value: Uint8Array) => void): void;
}
const requireFromMemoryLevel = createRequire(createRequire(import.meta.url).resolve('memory-level'));
const createRbTree = requireFromMemoryLevel('functional-red-black-tree') as (compare: (a: Uint8Array, b: Uint8Array) => number) => RbTree;
const memoryLevelCompare = requireFromMemoryLevel('./lib/compare') as (a: Uint8Array, b: Uint8Array) => number;

const N = Math.round(1_000_000 * Number(process.env.BENCH_SCALE ?? 1));
const KEY = 16;
const VALUE = 100;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench -- memtable does)');

const keyPool = randomFillSync(Buffer.alloc(N * KEY));
const valuePool = randomFillSync(Buffer.alloc(N * VALUE));
const keyAt = (i: number): Buffer => keyPool.subarray(i * KEY, i * KEY + KEY);
const valueAt = (i: number): Buffer => valuePool.subarray(i * VALUE, i * VALUE + VALUE);
/** Seeded permutation, so every structure sees the same get order. */
function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
const getOrder = permutation(N, 42);

function memory(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Rates {
  insertsPerSec: number;
  getsPerSec: number;
  iteratePerSec: number;
}
interface Result {
  name: string;
  /** Per second of wall-clock time: what a user sees. */
  wall: Rates;
  /** Per second of this process's CPU time: much less sensitive to other processes on a busy machine. */
  cpu: Rates;
  overheadPerEntry: number;
}

/** Wall-clock and process CPU time, in ms. */
function clocks(): [number, number] {
  const u = process.cpuUsage();
  return [performance.now(), (u.user + u.system) / 1000];
}

interface Subject {
  name: string;
  /** Inserts the first n entries; returns the structure. */
  build(n: number): unknown;
  /** Point-gets every key inserted (in `getOrder` when n = N); returns a checksum so the work is not optimised away. */
  gets(s: unknown, n: number): number;
  /** Walks all entries in order; returns a checksum. */
  iterate(s: unknown): number;
  /** Raw bytes the structure's own memory includes (the memtable copies keys and values). */
  copiedBytes: number;
}

const subjects: Subject[] = [
  {
    name: '@strata-db/memtable (array skiplist)',
    copiedBytes: N * (KEY + VALUE),
    build(n) {
      const m = new Memtable();
      for (let i = 0; i < n; i++) m.put(keyAt(i), valueAt(i), i + 1);
      return m;
    },
    gets(s, n) {
      const m = s as Memtable;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const r = m.get(keyAt(n === N ? getOrder[i]! : i), Number.MAX_SAFE_INTEGER);
        if (r?.kind !== 'put') throw new Error('memtable lost a key');
        sum += r.value[0]!;
      }
      return sum;
    },
    iterate(s) {
      const it = (s as Memtable).iterator();
      let sum = 0;
      for (it.seekToFirst(); it.valid(); it.next()) sum += it.entry().value[0]!;
      return sum;
    },
  },
  {
    name: 'memory-level tree (functional-red-black-tree)',
    copiedBytes: 0,
    build(n) {
      let t = createRbTree(memoryLevelCompare);
      for (let i = 0; i < n; i++) t = t.insert(keyAt(i), valueAt(i));
      return t;
    },
    gets(s, n) {
      const t = s as RbTree;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = t.get(keyAt(n === N ? getOrder[i]! : i));
        if (v === undefined) throw new Error('tree lost a key');
        sum += v[0]!;
      }
      return sum;
    },
    iterate(s) {
      let sum = 0;
      (s as RbTree).forEach((_k, v) => {
        sum += v[0]!;
      });
      return sum;
    },
  },
  {
    name: 'sorted array (append, one sort, binary search)',
    copiedBytes: 0,
    build(n) {
      const entries: { key: Uint8Array; value: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) entries.push({ key: keyAt(i), value: valueAt(i) });
      entries.sort((a, b) => compareKeys(a.key, b.key));
      return entries;
    },
    gets(s, n) {
      const entries = s as { key: Uint8Array; value: Uint8Array }[];
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const key = keyAt(n === N ? getOrder[i]! : i);
        let lo = 0;
        let hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareKeys(entries[mid]!.key, key) < 0) lo = mid + 1;
          else hi = mid;
        }
        const e = entries[lo];
        if (e === undefined || compareKeys(e.key, key) !== 0) throw new Error('array lost a key');
        sum += e.value[0]!;
      }
      return sum;
    },
    iterate(s) {
      let sum = 0;
      for (const e of s as { key: Uint8Array; value: Uint8Array }[]) sum += e.value[0]!;
      return sum;
    },
  },
];

const only = process.env.BENCH_ONLY;
const results: Result[] = [];
let checksum = 0;
// Warm-up: every subject's code paths get compiled before any is measured, so the order of
// the subjects does not favour the later ones.
for (const subject of subjects) {
  const warm = subject.build(Math.min(N, 50_000));
  checksum += subject.gets(warm, Math.min(N, 50_000)) + subject.iterate(warm);
}
for (const subject of subjects) {
  if (only !== undefined && !subject.name.includes(only)) continue;
  const before = memory();
  const t0 = clocks();
  let s: unknown = subject.build(N);
  const t1 = clocks();
  const after = memory();
  const t2 = clocks();
  checksum += subject.gets(s, N);
  const t3 = clocks();
  checksum += subject.iterate(s);
  const t4 = clocks();
  const rates = (c: 0 | 1): Rates => ({
    insertsPerSec: (N / (t1[c] - t0[c])) * 1000,
    getsPerSec: (N / (t3[c] - t2[c])) * 1000,
    iteratePerSec: (N / (t4[c] - t3[c])) * 1000,
  });
  results.push({ name: subject.name, wall: rates(0), cpu: rates(1), overheadPerEntry: (after - before - subject.copiedBytes) / N });
  s = undefined;
  void s;
}

/**
 * Nanoseconds per dependent load over a random cycle in a `mb`-MB array: the cost of one
 * cache miss on this machine right now. Printed so figures from busy or slow machines can be
 * read for what they are.
 */
function loadLatency(mb: number): number {
  const slots = (mb * 1024 * 1024) / 4;
  const lines = slots / 16;
  const order = permutation(lines, 7);
  const a = new Int32Array(slots);
  for (let i = 0; i < lines; i++) a[order[i]! * 16] = order[(i + 1) % lines]! * 16;
  let x = 0;
  const steps = 1_000_000;
  const t = performance.now();
  for (let i = 0; i < steps; i++) x = a[x]!;
  checksum += x;
  return ((performance.now() - t) * 1e6) / steps;
}
const latency = `dependent-load latency: ${loadLatency(2).toFixed(0)} ns at 2 MB, ${loadLatency(64).toFixed(0)} ns at 64 MB`;

const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`);
const base = results[0]!;
console.log(`${N.toLocaleString('en-US')} random ${KEY}-byte keys, ${VALUE}-byte values; node ${process.version}; ${latency}; checksum ${checksum}\n`);
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
for (const [title, pick] of [
  ['per second of wall-clock time', (r: Result) => r.wall],
  ['per second of CPU time (this process; less sensitive to a busy machine)', (r: Result) => r.cpu],
] as const) {
  console.log(`${title}, load average ${load}:\n`);
  console.log('| structure | inserts/s | point gets/s | full iteration (entries/s) | heap B/entry beyond key+value |');
  console.log('|---|---:|---:|---:|---:|');
  const b = pick(base);
  for (const r of results) {
    const x = pick(r);
    const ratio = (v: number, w: number): string => (r === base ? '' : ` (${(v / w).toFixed(2)}×)`);
    console.log(
      `| ${r.name} | ${fmt(x.insertsPerSec)}${ratio(x.insertsPerSec, b.insertsPerSec)} | ${fmt(x.getsPerSec)}${ratio(x.getsPerSec, b.getsPerSec)} | ${fmt(x.iteratePerSec)}${ratio(x.iteratePerSec, b.iteratePerSec)} | ${r.overheadPerEntry.toFixed(0)} |`,
    );
  }
  console.log('');
}
console.log('Ratios are against the memtable (< 1×: slower than the memtable). Targets: ≥ 1M inserts/s, ≥ 1.5M gets/s, ≤ 80 B/entry.');

// The memtable alone on other key shapes, as the engine feeds it: batches of 1000 through
// `apply`, db_bench's keys (16-byte zero-padded decimals, which share their first 10 bytes), in
// random and in sequential order, into one memtable of N entries and into memtables of 22k
// entries (about what the engine's default 4 MiB memtable holds), CPU time.
if (only === undefined || '@strata-db/memtable'.includes(only)) {
  const decimal = (i: number): Buffer => {
    const b = Buffer.allocUnsafe(KEY);
    for (let p = KEY - 1; p >= 0; p--) {
      b[p] = 48 + (i % 10);
      i = Math.floor(i / 10);
    }
    return b;
  };
  const fill = (order: Uint32Array | null, perMemtable: number): number => {
    const keys = Array.from({ length: N }, (_, i) => decimal(order === null ? i : order[i]!));
    gc!();
    let m = new Memtable();
    const t0 = clocks();
    for (let b = 0; b < N; b += 1000) {
      if (m.entryCount >= perMemtable) m = new Memtable();
      const ops = [];
      for (let i = b; i < b + 1000 && i < N; i++) ops.push({ type: 'put' as const, key: keys[i]!, value: valueAt(i) });
      m.apply(ops, b + 1);
    }
    const t1 = clocks();
    checksum += m.entryCount;
    return (N / (t1[1] - t0[1])) * 1000;
  };
  const fillOrder = permutation(N, 42);
  fill(fillOrder, 22_000); // warm-up
  const rows: [string, number, number][] = [
    ['random order', fill(fillOrder, N), fill(fillOrder, 22_000)],
    ['sequential', fill(null, N), fill(null, 22_000)],
  ];
  console.log(`\n@strata-db/memtable, db_bench keys (16-byte zero-padded decimals), 100-byte values, batches of 1000, inserts per second of CPU time:\n`);
  console.log(`| order | one memtable of ${fmt(N)} entries | memtables of 22k entries |`);
  console.log('|---|---:|---:|');
  for (const [name, big, small] of rows) console.log(`| ${name} | ${fmt(big)} | ${fmt(small)} |`);
}
