// What range deletions cost readers: short scans (`iterator({ gte, limit: 20 })`, 20 entries
// read, then closed) and random point reads (`getSync`) on 200k keys, with 0, 1,000 and 10,000
// range tombstones — first while the tombstones sit in the active memtable, then after a flush
// has written them to an L0 table. The figure that matters is each rate's ratio to the
// tombstone-free rate measured in the same round (goal ≥ 0.8×).
//
// The tombstones are what 10,000 `clear({ gte, lt })` calls on small prefixes leave: each one is
// a small range [key + "a", key + "b") next to a live key, spread evenly over the key space. They
// delete nothing, so every configuration returns exactly the same entries: the cost measured is
// the tombstones' alone (a check per key visited, and building the read), not fewer results.
// Also reported: creating and closing an iterator bounded to a 20-key range (µs), which must not
// grow with the tombstones outside that range.
//
//   npm run bench -- rangedel                      (root; node --expose-gc --conditions=source --import tsx)
//   BENCH_ROUNDS=5 BENCH_N=200000 npm run bench -- rangedel
//
// Keys: 16-byte zero-padded decimals; values 100 bytes. memtableSize 64 MiB so that 10,000
// tombstones stay in the memtable until the explicit flush. Medians of BENCH_ROUNDS rounds
// (default 3); in each round the three databases are measured one after another, in rotating order.
// Rates are per CPU-second of this process (see cpuMs), the same measure for every configuration.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';

const env = (name: string, def: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};
const N = env('BENCH_N', 200_000);
const ROUNDS = Math.max(1, env('BENCH_ROUNDS', 3));
const SCANS = env('BENCH_SCANS', 20_000);
const GETS = env('BENCH_GETS', 200_000);
const CREATES = env('BENCH_CREATES', 20_000);
const TOMBSTONES = [0, 1000, 10_000];
const KEY_SIZE = 16;

/**
 * Process CPU time, ms. The reads measured are synchronous and nothing else runs meanwhile, so
 * this is their cost — and unlike the wall clock it does not count the other processes of a
 * shared, loaded machine.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function key(i: number, suffix = ''): Buffer {
  const b = Buffer.alloc(KEY_SIZE + suffix.length);
  for (let p = KEY_SIZE - 1, x = i; p >= 0; p--, x = Math.floor(x / 10)) b[p] = 48 + (x % 10);
  b.write(suffix, KEY_SIZE, 'latin1');
  return b;
}

/** xorshift32: the same probe sequence for every configuration. */
function randoms(count: number, n: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % n;
  }
  return out;
}

interface Setup {
  readonly tombstones: number;
  readonly dir: string;
  readonly db: Database;
}

async function setup(tombstones: number): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `strata-rangedel-${tombstones}-`));
  const db = await Database.open(dir, { memtableSize: 64 * 1024 * 1024 });
  const value = Buffer.alloc(100, 0x61);
  for (let i = 0; i < N; i += 1000) {
    const b = db.batch();
    for (let j = i; j < Math.min(N, i + 1000); j++) b.put(key(j), value);
    await b.write();
  }
  await db.compact(); // the points live in tables, as in a database that has been running a while
  const stride = tombstones === 0 ? 0 : Math.floor(N / tombstones);
  for (let t = 0; t < tombstones; t++) await db.deleteRange(key(t * stride, 'a'), key(t * stride, 'b'));
  return { tombstones, dir, db };
}

const scanStarts = randoms(SCANS, N - 20, 7);
const getKeys = randoms(GETS, N, 11);
const createStarts = randoms(CREATES, N - 20, 13);

function measureScans(db: Database): number {
  const keys = Array.from(scanStarts, (i) => key(i));
  let seen = 0;
  const t0 = cpuMs();
  for (const k of keys) {
    const it = db.iterator({ gte: k, limit: 20 });
    seen += it.nextv(20).length;
    it.close();
  }
  const ms = cpuMs() - t0;
  if (seen !== 20 * keys.length) throw new Error(`scans returned ${seen} entries, expected ${20 * keys.length}`);
  return (keys.length / ms) * 1000;
}

function measureGets(db: Database): number {
  const keys = Array.from(getKeys, (i) => key(i));
  let found = 0;
  const t0 = cpuMs();
  for (const k of keys) if (db.getSync(k) !== undefined) found++;
  const ms = cpuMs() - t0;
  if (found !== keys.length) throw new Error(`gets found ${found} of ${keys.length}`);
  return (keys.length / ms) * 1000;
}

/** µs per create + close of an iterator bounded to 20 keys (nothing read). */
function measureCreate(db: Database): number {
  const bounds = Array.from(createStarts, (i) => ({ gte: key(i), lt: key(i + 20) }));
  const t0 = cpuMs();
  for (const b of bounds) db.iterator(b).close();
  return ((cpuMs() - t0) * 1000) / bounds.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Phase = 'memtable' | 'flushed';
interface Sample {
  scans: number[];
  gets: number[];
  create: number[];
}

async function main(): Promise<void> {
  const setups: Setup[] = [];
  for (const t of TOMBSTONES) setups.push(await setup(t));
  const results = new Map<string, Sample>();
  const sample = (phase: Phase, t: number): Sample => {
    const id = `${phase}/${t}`;
    let s = results.get(id);
    if (s === undefined) results.set(id, (s = { scans: [], gets: [], create: [] }));
    return s;
  };
  for (const phase of ['memtable', 'flushed'] as Phase[]) {
    if (phase === 'flushed') for (const s of setups) await s.db.flush();
    for (const s of setups) {
      // Warm-up: block cache, JIT.
      measureScans(s.db);
      measureGets(s.db);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < setups.length; i++) {
        const s = setups[(i + r) % setups.length]!;
        globalThis.gc?.();
        const x = sample(phase, s.tombstones);
        x.scans.push(measureScans(s.db));
        x.gets.push(measureGets(s.db));
        x.create.push(measureCreate(s.db));
      }
    }
  }
  for (const s of setups) {
    const st = s.db.stats();
    if (st.memtables.activeEntries !== 0 || (s.tombstones > 0 && st.levels[0]!.files === 0)) {
      throw new Error(`${s.tombstones} tombstones: expected everything flushed, L0 holding the tombstones`);
    }
    await s.db.close();
    rmSync(s.dir, { recursive: true, force: true });
  }

  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  console.log(`${N.toLocaleString('en-US')} keys; rates per CPU-second, medians of ${ROUNDS} rounds; ${SCANS} scans of 20, ${GETS} gets, ${CREATES} bounded iterator creations per sample`);
  console.log('');
  console.log('| tombstones | where | scans/s (20 keys) | × no tombstones | gets/s | × no tombstones | iterator create+close, µs |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  for (const phase of ['memtable', 'flushed'] as Phase[]) {
    const base = sample(phase, 0);
    for (const t of TOMBSTONES) {
      const x = sample(phase, t);
      const scans = median(x.scans);
      const gets = median(x.gets);
      console.log(
        `| ${t.toLocaleString('en-US')} | ${phase} | ${fmt(scans)} | ${(scans / median(base.scans)).toFixed(2)} | ${fmt(gets)} | ${(gets / median(base.gets)).toFixed(2)} | ${median(x.create).toFixed(1)} |`,
      );
    }
  }
}

await main();
