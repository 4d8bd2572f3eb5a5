// `npm run bench -- sstable`: table build, point lookup and scan throughput, size overhead, and
// the block checksum candidates, measured in one run (run with --expose-gc).
//
// Workload (db_bench's defaults): 1M entries, 16-byte keys, 100-byte values, one version each,
// no compression unless stated. Keys are either sequential ("%016d", as db_bench fillseq) or
// uniformly random 16-byte strings (sorted, then copied in sorted order, as a merging iterator
// hands them over). Values are random bytes, so compression has nothing to gain unless stated.
//
// Rates are given twice: per second of wall time and per second of this process's CPU time
// (user + system). On a shared machine the wall figure measures the neighbours too; the CPU
// figure is what the code costs. Lookup keys are materialised before timing, in lookup order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { randomFillSync } from 'node:crypto';
import { loadavg } from 'node:os';
import { compareKeys, EntryKind, type PointEntry } from '@strata-db/memtable';
import { readdirSync, readFileSync } from 'node:fs';
import { BlockBuilder, BlockCache, COMPRESSION_NAMES, compressionType, sealBlock, Table, unsealBlock } from '@strata-db/sstable-core';
import { TableBuilder, type TableBuilderOptions } from '@strata-db/sstable-builder';
import { TableIterator } from '@strata-db/sstable-iterators';

const N = Number(process.env.SST_BENCH_ENTRIES ?? 1_000_000);
const KEY = 16;
const VALUE = 100;
const dir = mkdtempSync(join(tmpdir(), 'strata-sst-bench-'));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function sequentialKeys(n: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) keys.push(Buffer.from(String(i).padStart(KEY, '0')));
  return keys;
}

function randomKeys(n: number): Uint8Array[] {
  const all = new Uint8Array(n * KEY);
  randomFillSync(all);
  const keys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) keys.push(all.subarray(i * KEY, (i + 1) * KEY));
  keys.sort(compareKeys);
  return keys.filter((k, i) => i === 0 || compareKeys(keys[i - 1]!, k) !== 0).map((k) => Uint8Array.from(k));
}

function entriesFor(keys: Uint8Array[], compressibleValues: boolean): PointEntry[] {
  const values = new Uint8Array(keys.length * VALUE);
  randomFillSync(values);
  if (compressibleValues) {
    // Half random, half repeated: db_bench's --compression_ratio=0.5.
    for (let i = 0; i < keys.length; i++) values.fill(values[i * VALUE]!, i * VALUE + VALUE / 2, (i + 1) * VALUE);
  }
  return keys.map((key, i) => ({ key, seq: i + 1, kind: EntryKind.Put, value: values.subarray(i * VALUE, (i + 1) * VALUE) }));
}

interface Row {
  name: string;
  value: string;
  target?: string;
  ok?: boolean;
}
const rows: Row[] = [];
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** Wall and CPU seconds of `fn`. */
function timed<T>(fn: () => T): { result: T; wall: number; cpu: number } {
  const w0 = performance.now();
  const c0 = cpuNow();
  const result = fn();
  return { result, wall: (performance.now() - w0) / 1000, cpu: cpuNow() - c0 };
}
async function timedAsync<T>(fn: () => Promise<T>): Promise<{ result: T; wall: number; cpu: number }> {
  const w0 = performance.now();
  const c0 = cpuNow();
  const result = await fn();
  return { result, wall: (performance.now() - w0) / 1000, cpu: cpuNow() - c0 };
}
const both = (amount: number, t: { wall: number; cpu: number }, scale: (x: number) => number, d: number): { text: string; cpuRate: number } => {
  const cpuRate = scale(amount / t.cpu);
  return { text: `${fmt(cpuRate, d)} (wall ${fmt(scale(amount / t.wall), d)})`, cpuRate };
};
const mb = (bytes: number, seconds: number): number => bytes / 1e6 / seconds;
const fmt = (x: number, d = 1): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function build(path: string, entries: PointEntry[], options: TableBuilderOptions = {}): Promise<{ wall: number; cpu: number; size: number }> {
  gc();
  const t = await timedAsync(async () => {
    const b = new TableBuilder(path, { fileNumber: 1, ...options });
    for (const e of entries) b.add(e);
    return b.finish();
  });
  return { wall: t.wall, cpu: t.cpu, size: t.result.fileSize };
}

/** Point lookups of `probes` (in order); returns wall and CPU seconds. */
function lookups(table: Table, probes: Uint8Array[]): { wall: number; cpu: number } {
  gc();
  const t = timed(() => {
    let found = 0;
    for (const k of probes) if (table.get(k, Number.MAX_SAFE_INTEGER) !== undefined) found++;
    return found;
  });
  return t;
}

function scan(table: Table): { wall: number; cpu: number; bytes: number } {
  gc();
  const t = timed(() => {
    const it = new TableIterator(table);
    let bytes = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const e = it.entry();
      bytes += e.key.length + e.value.length;
    }
    return bytes;
  });
  return { wall: t.wall, cpu: t.cpu, bytes: t.result };
}

const raw = N * (KEY + VALUE);
const startLoad = loadavg().map((x) => x.toFixed(1)).join(' ');

const MBs = (x: number): number => x / 1e6;
for (const label of ['sequential keys', 'random keys'] as const) {
  const keys = label === 'sequential keys' ? sequentialKeys(N) : randomKeys(N);
  let entries = entriesFor(keys, false);
  const rawBytes = entries.length * (KEY + VALUE);
  const path = join(dir, `${label.replace(' ', '-')}.sst`);
  await build(path, entries.slice(0, 100_000)); // warm the JIT
  const b = await build(path, entries);
  const bs = both(rawBytes, b, MBs, 1);
  rows.push({ name: `build, ${label} (MB/s of keys+values, incl. fsync)`, value: bs.text, target: '≥ 150', ok: bs.cpuRate >= 150 });
  rows.push({ name: `file size / raw bytes, ${label}`, value: fmt(b.size / rawBytes, 3), target: '≤ 1.05', ok: b.size / rawBytes <= 1.05 });
  entries = [];
  gc();

  const cache = new BlockCache(512 * 1024 * 1024);
  const table = Table.open(path, { cache, fileNumber: 1 });
  scan(table); // warm the cache
  const M = 1_000_000;
  const present = Array.from({ length: M }, (_, r) => Uint8Array.from(keys[(r * 7919) % keys.length]!));
  lookups(table, present.slice(0, 100_000));
  const p = both(M, lookups(table, present), (x) => x, 0);
  rows.push({ name: `warm point lookups, present keys, random order, ${label} (/s)`, value: p.text, target: '≥ 500,000', ok: p.cpuRate >= 500_000 });
  // A neighbour of a present key that is not in the table: the filter answers.
  const absent = present.map((k) => {
    const a = Uint8Array.from(k);
    a[KEY - 1] = a[KEY - 1]! ^ 0x80;
    return a;
  });
  lookups(table, absent.slice(0, 100_000));
  const a = both(M, lookups(table, absent), (x) => x, 0);
  rows.push({ name: `point lookups, absent keys (bloom filter), ${label} (/s)`, value: a.text });
  let fp = 0;
  for (const k of absent) if (table.mayContain(k)) fp++;
  rows.push({ name: `bloom false-positive rate, ${label}`, value: `${fmt((fp / absent.length) * 100, 2)}%`, target: '10 bits/key; classic theory 0.82%' });
  scan(table);
  const s = scan(table);
  const ss = both(s.bytes, s, MBs, 1);
  rows.push({ name: `full scan, warm cache, ${label} (MB/s)`, value: ss.text, target: '≥ 300', ok: ss.cpuRate >= 300 });
  table.close();
  const cold = Table.open(path, { fileNumber: 2 });
  const sc = scan(cold);
  rows.push({ name: `full scan, no block cache (from the page cache), ${label} (MB/s)`, value: both(sc.bytes, sc, MBs, 1).text });
  cold.close();
}

{
  const entries = entriesFor(sequentialKeys(N), true);
  for (const compression of COMPRESSION_NAMES) {
    const path = join(dir, `compressed-${compression}.sst`);
    const b = await build(path, entries, { compression });
    rows.push({ name: `build, half-compressible values, ${compression} (MB/s)`, value: both(raw, b, MBs, 1).text });
    rows.push({ name: `file size / raw bytes, half-compressible values, ${compression}`, value: fmt(b.size / raw, 3) });
    const table = Table.open(path, { fileNumber: 3 });
    const s = scan(table);
    rows.push({ name: `full scan, no block cache, half-compressible, ${compression} (MB/s)`, value: both(s.bytes, s, MBs, 1).text });
    table.close();
  }
}

// What a codec costs a table build when nothing compresses (random values): the attempt, cut to
// one block in 16 by the builder after a run of failures.
{
  const entries = entriesFor(sequentialKeys(N), false);
  for (const compression of COMPRESSION_NAMES) {
    const path = join(dir, `random-${compression}.sst`);
    await build(path, entries, { compression }); // warm-up
    const b = await build(path, entries, { compression });
    rows.push({ name: `build, random (incompressible) values, ${compression} (MB/s)`, value: both(raw, b, MBs, 1).text });
  }
}

// Codecs on 4 KiB data blocks (the default block size), built as the table builder builds them
// (16-byte keys, prefix-compressed, restart points), each compressed and decompressed on its own
// as the builder and the reader do (through sealBlock / unsealBlock, so the CRC is included).
// Three kinds of value: JSON documents (~170 B, what most `level` users store), English/Markdown
// text (this repository's READMEs, line by line) and random bytes (incompressible: what the
// attempt costs when it fails). Ratio = contents bytes / stored bytes.
{
  const utf8 = new TextEncoder();
  const first = ['Alan', 'Grace', 'Ada', 'Linus', 'Barbara', 'Ken', 'Dennis', 'Margaret'];
  const last = ['Barbarason', 'Hopper', 'Lovelace', 'Torvalds', 'Liskov', 'Thompson', 'Ritchie', 'Hamilton'];
  let seed = 7;
  const r = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const json = Array.from({ length: 60_000 }, (_, id) => {
    const f = first[r(8)]!;
    return utf8.encode(
      JSON.stringify({ id, name: `${f} ${last[r(8)]!}`, email: `${f.toLowerCase()}.${id}@example.com`, age: 18 + r(60), active: r(2) === 1, score: r(10000) / 100, created: new Date(1.6e12 + r(1e5) * 1e6).toISOString() }),
    );
  });
  const root = join(import.meta.dirname, '..', '..', '..');
  const readmes = [join(root, 'README.md'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'README.md'))];
  const lines = readmes.flatMap((f) => readFileSync(f, 'utf8').split('\n')).filter((l) => l.length > 0);
  const text = Array.from({ length: 60_000 }, (_, i) => utf8.encode(lines[i % lines.length]!));
  const random = Array.from({ length: 60_000 }, () => randomFillSync(new Uint8Array(VALUE)));
  const blocksOf = (values: Uint8Array[]): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const b = new BlockBuilder(16, 8192);
    values.forEach((v, i) => {
      b.add(Buffer.from(String(i).padStart(KEY, '0')), i + 1, EntryKind.Put, v);
      if (b.currentSize >= 4096) {
        out.push(b.finish().slice());
        b.reset();
      }
    });
    return out;
  };
  for (const [kind, values] of [['JSON', json], ['text', text], ['random', random]] as const) {
    const blocks = blocksOf(values);
    const bytes = blocks.reduce((n, b) => n + b.length, 0);
    for (const name of COMPRESSION_NAMES) {
      const type = compressionType(name);
      let sealed = blocks.map((b) => sealBlock(b, type)); // warm-up
      gc();
      const c = timed(() => {
        for (let round = 0; round < 3; round++) sealed = blocks.map((b) => sealBlock(b, type));
        return sealed;
      });
      const stored = sealed.map((s) => {
        const out = new Uint8Array(s.payload.length + s.trailer.length);
        out.set(s.payload);
        out.set(s.trailer, s.payload.length);
        return out;
      });
      const storedBytes = sealed.reduce((n, s) => n + s.payload.length, 0);
      for (const s of stored) unsealBlock(s, 'bench', 0); // warm-up
      gc();
      const d = timed(() => {
        for (let round = 0; round < 3; round++) for (const s of stored) unsealBlock(s, 'bench', 0);
      });
      rows.push({
        name: `codec ${name}, ${kind} blocks: ratio; compress, decompress (MB/s)`,
        value: `${fmt(bytes / storedBytes, 2)}; ${both(3 * bytes, c, MBs, 0).text}; ${both(3 * bytes, d, MBs, 0).text}`,
      });
    }
  }
}

// Checksum candidates over 4 KiB blocks.
{
  const CRC32C = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    CRC32C[i] = c;
  }
  const crc32cJs = (data: Uint8Array): number => {
    let c = -1;
    for (let i = 0; i < data.length; i++) c = CRC32C[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  // xxHash32, the other usual candidate, in JS.
  const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  const xxh32 = (d: Uint8Array): number => {
    const len = d.length;
    let i = 0;
    let h: number;
    const u32 = (p: number): number => d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24);
    if (len >= 16) {
      let v1 = (P1 + P2) | 0, v2 = P2, v3 = 0, v4 = -P1 | 0;
      for (; i + 16 <= len; i += 16) {
        v1 = Math.imul(rotl((v1 + Math.imul(u32(i), P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(u32(i + 4), P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(u32(i + 8), P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(u32(i + 12), P2)) | 0, 13), P1);
      }
      h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
    } else h = P5;
    h = (h + len) | 0;
    for (; i + 4 <= len; i += 4) h = Math.imul(rotl((h + Math.imul(u32(i), P3)) | 0, 17), P4);
    for (; i < len; i++) h = Math.imul(rotl((h + Math.imul(d[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15; h = Math.imul(h, P2); h ^= h >>> 13; h = Math.imul(h, P3); h ^= h >>> 16;
    return h >>> 0;
  };
  const block = new Uint8Array(4096);
  randomFillSync(block);
  const total = 256 * 1024 * 1024;
  const measure = (name: string, fn: (d: Uint8Array) => number): number => {
    let acc = 0;
    for (let i = 0; i < 2000; i++) acc ^= fn(block);
    const c0 = cpuNow();
    for (let done = 0; done < total; done += block.length) acc ^= fn(block);
    const gbs = total / 1e9 / (cpuNow() - c0);
    if (acc === 0.5) console.log(acc);
    rows.push({ name: `checksum ${name}, 4 KiB blocks (GB/s of CPU time)`, value: fmt(gbs, 2) });
    return gbs;
  };
  const native = measure('CRC-32, node:zlib crc32 (chosen)', (d) => crc32(d));
  const js = measure('CRC-32C, pure JS (table)', crc32cJs);
  const xx = measure('xxHash32, pure JS', xxh32);
  rows.push({ name: 'checksum: zlib.crc32 speed-up over the best JS candidate', value: `${fmt(native / Math.max(js, xx), 1)}×` });
}

rmSync(dir, { recursive: true, force: true });
console.log(
  `${N.toLocaleString('en-US')} entries, ${KEY}-byte keys, ${VALUE}-byte values, 4 KiB blocks, restart interval 16, 10 bloom bits/key; node ${process.version}; load average at start ${startLoad}\n`,
);
console.log('Rates are per CPU-second of this process (per wall-second in parentheses); targets are checked against the CPU figure.\n');
console.log('| measure | value | target |');
console.log('|---|---:|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.value} | ${r.target === undefined ? '' : `${r.target} ${r.ok === undefined ? '' : r.ok ? '✓' : '✗'}`} |`);
