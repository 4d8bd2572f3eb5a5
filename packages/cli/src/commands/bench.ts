/**
 * `strata bench`: db_bench's core workloads on Strata and, when they are installed (optional
 * peers), classic-level (LevelDB) and lmdb, in one process, engines interleaved, each workload
 * on a fresh directory; medians of --rounds. A side-by-side table, --json, and --svg <file>
 * (a bar chart). Kept small on purpose: the full comparison with durability modes and
 * event-loop figures is the engine's `npm run bench -- dbbench`; both write the same data
 * (`dbBench` from `@strata-db/engine/testing`: 16-byte decimal keys, 100-byte values, a seeded
 * permutation), in batches of 1000.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { Database } from '@strata-db/engine';
import { dbBench } from '@strata-db/engine/testing';
import { UsageError } from '../errors.js';
import { renderTable, type Terminal } from '../terminal.js';

const BATCH = 1000;
const { key, value, shuffled } = dbBench;

interface Handle {
  batch(keys: Buffer[], values: Buffer[]): Promise<void>;
  get(k: Buffer): Promise<unknown>;
  scan(): Promise<number>;
  close(): Promise<void>;
}
interface Engine {
  readonly name: string;
  open(dir: string): Promise<Handle>;
}

const strata: Engine = {
  name: 'strata',
  async open(dir) {
    const db = await Database.open(dir);
    return {
      async batch(keys, values) {
        const b = db.batch();
        for (let i = 0; i < keys.length; i++) b.put(keys[i]!, values[i]!);
        await b.write();
      },
      get: (k) => db.get(k),
      async scan() {
        let n = 0;
        for await (const _ of db.iterate()) n++;
        return n;
      },
      close: () => db.close(),
    };
  },
};

/** classic-level and lmdb are optional peers: absent, they are left out of the run. */
async function peers(): Promise<Engine[]> {
  const out: Engine[] = [];
  try {
    const { ClassicLevel } = await import('classic-level');
    out.push({
      name: 'classic-level',
      async open(dir) {
        const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
        await db.open();
        return {
          batch: (keys, values) => db.batch(keys.map((k, i) => ({ type: 'put' as const, key: k, value: values[i]! }))),
          get: (k) => db.get(k),
          async scan() {
            let n = 0;
            for await (const _ of db.iterator()) n++;
            return n;
          },
          close: () => db.close(),
        };
      },
    });
  } catch {
    // not installed
  }
  try {
    const { open } = await import('lmdb');
    out.push({
      name: 'lmdb',
      open(dir) {
        const db = open<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary' });
        return Promise.resolve({
          async batch(keys, values) {
            await db.batch(() => {
              for (let i = 0; i < keys.length; i++) void db.put(keys[i]!, values[i]!);
            });
          },
          get: (k) => db.getAsync(k),
          scan() {
            let n = 0;
            for (const _ of db.getRange()) n++;
            return Promise.resolve(n);
          },
          close: () => db.close(),
        });
      },
    });
  } catch {
    // not installed
  }
  return out;
}

export const WORKLOADS = ['fillseq', 'fillrandom', 'readrandom', 'readseq'] as const;

async function fill(h: Handle, n: number, order: Uint32Array | null): Promise<void> {
  for (let i = 0; i < n; i += BATCH) {
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const k = order === null ? j : order[j]!;
      keys.push(key(k));
      values.push(value(k));
    }
    await h.batch(keys, values);
  }
}

/** ops/s of one run of `workload` on a fresh directory. */
async function runOnce(engine: Engine, workload: (typeof WORKLOADS)[number], n: number, reads: number, root: string, round: number): Promise<number> {
  const dir = join(root, `${engine.name}-${workload}-${round}`);
  const order = shuffled(n, 42 + round);
  let h = await engine.open(dir);
  try {
    if (workload === 'fillseq' || workload === 'fillrandom') {
      const t0 = performance.now();
      await fill(h, n, workload === 'fillseq' ? null : order);
      return n / ((performance.now() - t0) / 1000);
    }
    await fill(h, n, order);
    await h.close();
    h = await engine.open(dir);
    const t0 = performance.now();
    if (workload === 'readseq') {
      const got = await h.scan();
      if (got !== n) throw new Error(`${engine.name} readseq saw ${got} entries, expected ${n}`);
      return n / ((performance.now() - t0) / 1000);
    }
    for (let i = 0; i < reads; i++) {
      if ((await h.get(key(order[i % n]!))) === undefined) throw new Error(`${engine.name} lost a key`);
    }
    return reads / ((performance.now() - t0) / 1000);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export interface BenchResult {
  readonly n: number;
  readonly reads: number;
  readonly rounds: number;
  readonly engines: readonly string[];
  /** workload → engine → median ops/s */
  readonly opsPerSecond: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export function benchSvg(r: BenchResult): string {
  const colors = ['#6c8ebf', '#d79b00', '#82b366', '#b85450'];
  const W = 640;
  const rowH = 18 * r.engines.length + 14;
  const H = 30 + rowH * Object.keys(r.opsPerSecond).length + 10;
  const left = 90;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  r.engines.forEach((e, i) => {
    parts.push(`<rect x="${left + i * 130}" y="8" width="10" height="10" fill="${colors[i % colors.length]!}"/><text x="${left + i * 130 + 14}" y="17">${e}</text>`);
  });
  Object.entries(r.opsPerSecond).forEach(([w, byEngine], row) => {
    const y0 = 30 + row * rowH;
    const max = Math.max(...Object.values(byEngine));
    parts.push(`<text x="4" y="${y0 + rowH / 2}">${w}</text>`);
    r.engines.forEach((e, i) => {
      const v = byEngine[e] ?? 0;
      const w2 = Math.max(1, ((W - left - 110) * v) / max);
      const y = y0 + i * 18;
      parts.push(`<rect x="${left}" y="${y}" width="${w2.toFixed(1)}" height="14" fill="${colors[i % colors.length]!}"/>`);
      parts.push(`<text x="${(left + w2 + 4).toFixed(1)}" y="${y + 11}">${Math.round(v).toLocaleString('en-US')} ops/s</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function registerBenchCommand(program: Command, term: Terminal): void {
  const int = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1 is expected.');
    return n;
  };
  program
    .command('bench')
    .description('db_bench workloads on Strata and, when installed, classic-level and lmdb (same process, interleaved)')
    .option('--n <entries>', 'entries per fill', int, 100_000)
    .option('--reads <n>', 'random reads', int, 100_000)
    .option('--rounds <n>', 'rounds (the median is reported)', int, 3)
    .option('--workloads <list>', `comma-separated subset of ${WORKLOADS.join(',')}`, WORKLOADS.join(','))
    .option('--engines <list>', 'comma-separated subset of strata,classic-level,lmdb (default: all installed)')
    .option('--json', 'print the result as JSON')
    .option('--svg <file>', 'also write a bar chart')
    .action(async (o: { n: number; reads: number; rounds: number; workloads: string; engines?: string; json?: boolean; svg?: string }) => {
      const workloads = o.workloads.split(',').map((w) => w.trim());
      for (const w of workloads) if (!(WORKLOADS as readonly string[]).includes(w)) throw new UsageError(`unknown workload ${JSON.stringify(w)}; choose from ${WORKLOADS.join(', ')}`);
      let engines = [strata, ...(await peers())];
      if (o.engines !== undefined) {
        const want = o.engines.split(',').map((e) => e.trim());
        for (const w of want) if (!engines.some((e) => e.name === w)) throw new UsageError(`engine ${JSON.stringify(w)} is not available (installed: ${engines.map((e) => e.name).join(', ')})`);
        engines = engines.filter((e) => want.includes(e.name));
      }
      const root = mkdtempSync(join(tmpdir(), 'strata-cli-bench-'));
      const opsPerSecond: Record<string, Record<string, number>> = {};
      try {
        for (const w of workloads) {
          const samples = new Map<string, number[]>(engines.map((e) => [e.name, []]));
          for (let round = 0; round < o.rounds; round++) {
            // Rotate who goes first: the page cache and the JIT favour no one.
            for (let i = 0; i < engines.length; i++) {
              const e = engines[(i + round) % engines.length]!;
              samples.get(e.name)!.push(await runOnce(e, w as (typeof WORKLOADS)[number], o.n, o.reads, root, round));
            }
            if (o.json !== true) term.err(`${w}: round ${round + 1}/${o.rounds} done`);
          }
          opsPerSecond[w] = Object.fromEntries([...samples].map(([name, xs]) => [name, median(xs)]));
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
      const result: BenchResult = { n: o.n, reads: o.reads, rounds: o.rounds, engines: engines.map((e) => e.name), opsPerSecond };
      if (o.svg !== undefined) writeFileSync(o.svg, benchSvg(result));
      if (o.json === true) {
        term.out(JSON.stringify(result));
        return;
      }
      const peersRun = result.engines.filter((e) => e !== 'strata');
      const head = ['workload', ...result.engines.map((e) => `${e} ops/s`), ...peersRun.map((p) => `strata / ${p}`)];
      const rows = Object.entries(opsPerSecond).map(([w, by]) => [
        w,
        ...result.engines.map((e) => Math.round(by[e]!).toLocaleString('en-US')),
        ...peersRun.map((p) => (by['strata'] === undefined ? '-' : `${(by['strata'] / by[p]!).toFixed(2)}x`)),
      ]);
      term.out(renderTable(head, rows, `l${'r'.repeat(head.length - 1)}`));
      term.out(`${o.n} entries (16-byte keys, 100-byte values), ${o.reads} reads, median of ${o.rounds} rounds; > 1x: Strata faster`);
    });
}
