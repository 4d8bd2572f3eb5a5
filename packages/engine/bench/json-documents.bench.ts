// JSON documents, as most `level` users store them: N documents of ~170 bytes under
// "doc:<id>" keys, written in batches of 1000 in a random order of ids, then one full
// compaction. Reported per engine: disk bytes after close (every file in the directory: tables,
// logs, manifest) and the time of fill + compaction. Default options everywhere — the point is
// what a new user gets: classic-level 3.0.0 (LevelDB, Snappy on by default), lmdb 3.5.6 (no
// compression, no compaction: its "compaction" is nothing), Strata (lz4 above, deflate at the
// bottom) and Strata with compression off (what it did before compression was on by default).
// Engines interleaved per round, rotating who goes first; medians of BENCH_ROUNDS rounds. Time is
// given as wall seconds and as this process's CPU seconds (user + system, every thread: LevelDB's
// compaction thread and lmdb's writer are in-process too) — on a shared machine the wall figure
// measures the neighbours as well, the CPU figure what each engine's work costs.
//
//   npm run bench -- json-documents
//   BENCH_JSON_N=200000 BENCH_ROUNDS=5 npm run bench -- json-documents
//   BENCH_STRATA_VARIANTS=default,none,lz4,deflate,snappy,none+lz4 …   (Strata's codec settings to compare)
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { open as lmdbOpen } from 'lmdb';
import { Database, type DatabaseOptions } from '../src/index.js';
import { shuffled } from './support/db-bench-data.js';

const env = (name: string, def: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};
const N = Math.max(1000, env('BENCH_JSON_N', 500_000));
const ROUNDS = Math.max(1, env('BENCH_ROUNDS', 3));
const BATCH = 1000;

// ---- data: deterministic documents -----------------------------------------------------------

const FIRST = ['Alan', 'Grace', 'Ada', 'Linus', 'Barbara', 'Ken', 'Dennis', 'Margaret', 'Edsger', 'Donald', 'Frances', 'John', 'Radia', 'Leslie', 'Niklaus', 'Tony'];
const LAST = ['Barbarason', 'Hopper', 'Lovelace', 'Torvalds', 'Liskov', 'Thompson', 'Ritchie', 'Hamilton', 'Dijkstra', 'Knuth', 'Allen', 'Backus', 'Perlman', 'Lamport', 'Wirth', 'Hoare'];
const CITIES = ['Berlin', 'Lisbon', 'Osaka', 'Toronto', 'Nairobi', 'Lima', 'Oslo', 'Austin'];
const TAGS = ['admin', 'beta', 'customer', 'staff'];

/** Document `id`: the same bytes for every engine and round; ~170 bytes of JSON. */
function doc(id: number): Buffer {
  let s = (id * 2654435761) >>> 0;
  const r = (n: number): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const first = FIRST[r(16)]!;
  const last = LAST[r(16)]!;
  return Buffer.from(
    JSON.stringify({
      id,
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${id}@example.com`,
      age: 18 + r(60),
      city: CITIES[r(8)],
      active: r(2) === 1,
      score: r(10000) / 100,
      tags: TAGS.slice(r(4)),
      created: new Date(1_600_000_000_000 + r(100_000) * 1_000_000).toISOString(),
    }),
  );
}
const key = (id: number): Buffer => Buffer.from(`doc:${String(id).padStart(8, '0')}`);

// ---- engines -------------------------------------------------------------------------------

interface Engine {
  readonly name: string;
  /** Fills the database in `dir` with the documents in `order`, compacts it fully, closes it. */
  run(dir: string, order: Uint32Array): Promise<void>;
}

async function strataRun(dir: string, order: Uint32Array, options: DatabaseOptions): Promise<void> {
  const db = await Database.open(dir, options);
  for (let i = 0; i < order.length; i += BATCH) {
    const b = db.batch();
    for (let j = i; j < Math.min(order.length, i + BATCH); j++) b.put(key(order[j]!), doc(order[j]!));
    await b.write();
  }
  await db.compact();
  await db.close();
}

const VARIANTS: Record<string, DatabaseOptions> = {
  default: {},
  none: { compression: 'none' },
  lz4: { compression: 'lz4' },
  deflate: { compression: 'deflate' },
  snappy: { compression: 'snappy' },
  'none+lz4': { compression: 'none', bottommostCompression: 'lz4' },
  'L0none': { compression: ['none', 'lz4'] },
  'L0none+deflate': { compression: ['none', 'lz4'], bottommostCompression: 'deflate' },
  'none+deflate': { compression: 'none', bottommostCompression: 'deflate' },
  'lz4+deflate': { compression: 'lz4', bottommostCompression: 'deflate' },
};
const variantNames = (process.env['BENCH_STRATA_VARIANTS'] ?? 'default,none').split(',').filter((v) => v !== '');
for (const v of variantNames) if (!(v in VARIANTS)) throw new Error(`unknown BENCH_STRATA_VARIANTS entry ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);

const engines: Engine[] = [
  ...variantNames.map((v) => ({ name: v === 'default' ? 'strata' : `strata (${v})`, run: (dir: string, order: Uint32Array) => strataRun(dir, order, VARIANTS[v]!) })),
  {
    name: 'classic-level',
    async run(dir, order) {
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      for (let i = 0; i < order.length; i += BATCH) {
        const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
        for (let j = i; j < Math.min(order.length, i + BATCH); j++) ops.push({ type: 'put', key: key(order[j]!), value: doc(order[j]!) });
        await db.batch(ops);
      }
      await db.compactRange(key(0), key(order.length));
      await db.close();
    },
  },
  {
    name: 'lmdb',
    async run(dir, order) {
      const db = lmdbOpen<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary' });
      for (let i = 0; i < order.length; i += BATCH) {
        await db.batch(() => {
          for (let j = i; j < Math.min(order.length, i + BATCH); j++) void db.put(key(order[j]!), doc(order[j]!));
        });
      }
      await db.close();
    },
  },
];
const only = process.env['BENCH_ENGINES']?.split(',');
const selected = only === undefined ? engines : engines.filter((e) => only.some((o) => e.name.startsWith(o)));

/** Bytes the directory's files take on disk (allocated blocks, so sparse files count as stored). */
function diskBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).blocks * 512;
  }
  return n;
}

// ---- run -------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const root = mkdtempSync(join(tmpdir(), 'strata-json-'));
const rawBytes = Array.from({ length: N }, (_, i) => key(i).length + doc(i).length).reduce((a, b) => a + b, 0);
console.error(`json-documents: ${N} documents (avg ${(rawBytes / N).toFixed(0)} B key + value), ${ROUNDS} rounds; engines ${selected.map((e) => e.name).join(', ')}; dir ${root}`);
const results = new Map<string, { seconds: number[]; cpu: number[]; bytes: number[] }>();
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = shuffled(N, 0x5eed + round);
    for (let i = 0; i < selected.length; i++) {
      const e = selected[(i + round) % selected.length]!;
      const dir = join(root, `${e.name.replace(/[^a-z0-9]+/g, '-')}-${round}`);
      gc();
      const t0 = performance.now();
      const c0 = cpuNow();
      await e.run(dir, order);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuNow() - c0;
      const bytes = diskBytes(dir);
      rmSync(dir, { recursive: true, force: true });
      const r = results.get(e.name) ?? { seconds: [], cpu: [], bytes: [] };
      r.seconds.push(seconds);
      r.cpu.push(cpu);
      r.bytes.push(bytes);
      results.set(e.name, r);
      console.error(`  round ${round + 1} ${e.name.padEnd(22)} ${seconds.toFixed(2)} s (CPU ${cpu.toFixed(2)} s)  ${(bytes / 1e6).toFixed(1)} MB`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const classic = results.get('classic-level');
console.log(
  `${N.toLocaleString('en-US')} JSON documents (${(rawBytes / 1e6).toFixed(1)} MB of keys + values), fill in batches of ${BATCH} in random order, then a full compaction; ` +
    `medians of ${ROUNDS} rounds, ${new Date().toISOString().slice(0, 10)}, node ${process.version}.\n`,
);
console.log('| engine | disk | disk / classic-level | fill + compact, wall | wall / classic-level | CPU | CPU / classic-level |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const vs = (x: number, of: (r: { seconds: number[]; cpu: number[]; bytes: number[] }) => number[]): string =>
  classic === undefined ? '—' : `${(x / median(of(classic))).toFixed(2)}×`;
for (const [name, r] of results) {
  const b = median(r.bytes);
  const s = median(r.seconds);
  const c = median(r.cpu);
  console.log(`| ${name} | ${(b / 1e6).toFixed(1)} MB | ${vs(b, (x) => x.bytes)} | ${s.toFixed(2)} s | ${vs(s, (x) => x.seconds)} | ${c.toFixed(2)} s | ${vs(c, (x) => x.cpu)} |`);
}
