/**
 * The compaction machinery end to end below the Database: real tables (TableBuilder,
 * TableIterator), the real VersionSet and TableCache on the in-memory file layer, the picker and
 * the job — with snapshots held across compactions, checked against a brute-force reader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryKind, compareEntries, compareKeys, compareTombstones, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import type { CompressionName } from '@strata-db/sstable-core';
import { TableBuilder } from '@strata-db/sstable-builder';
import { TableIterator } from '@strata-db/sstable-iterators';
import { tableFileName, tablePath } from '../db/filenames.js';
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { fileMetadataOf, type FileMetadata } from '../version/file-metadata.js';
import { TableCache } from '../version/table-cache.js';
import { VersionEdit } from '../version/version-edit.js';
import { VersionSet } from '../version/version-set.js';
import { Version } from '../version/version.js';
import type { CompactionJob } from '../background/jobs.js';
import { coveredSpans, olderDataBelow, olderDataBelowLevels, type Compaction } from './compaction.js';
import { grandparentBoundaries } from './output-splitter.js';
import type { OlderDataBelow } from './compaction-iterator.js';
import { CompactionPicker } from './picker.js';
import { runCompaction, type CompactionJobEnv } from './job.js';
import { allEntries } from './test-support/array-iterator.js';
import { InThreadExecutor } from '../background/in-thread-executor.js';
import { compressionFor } from '../options.js';
import { modelRead } from './test-support/model.js';
import { fileMeta } from './test-support/file-metadata.js';

const DIR = '/db';
const stats = { compactions: 0, trivialMoves: 0, deepest: 0, split: 0 };

interface Codecs {
  readonly compression: readonly CompressionName[];
  readonly bottommostCompression: CompressionName | undefined;
}
const NO_COMPRESSION: Codecs = { compression: ['none'], bottommostCompression: undefined };

async function harness(opts: { targetFileSize: number; maxBytesForLevelBase: number; l0CompactionTrigger?: number }, codecs: Codecs = NO_COMPRESSION) {
  const fs = new MemoryFileSystem({ syncDelay: () => Promise.resolve() });
  fs.mkdirSync(DIR, { recursive: true });
  const cache = new TableCache(fs, DIR, 1 << 20, 100, 1 << 30);
  const versions = new VersionSet({ fs, dir: DIR, numLevels: 5, maxManifestFileSize: 1 << 20, onFileDeleted: (n) => { cache.evict(n); } });
  await versions.create('test-db');
  const snapshots = new Set<number>();
  const env: CompactionJobEnv = {
    dir: DIR,
    versions,
    snapshots: () => snapshots,
    targetFileSize: opts.targetFileSize,
    tableSettings: (level, bottommost) => ({ blockSize: 256, bloomBitsPerKey: 10, metadataBlockSize: 64, compression: compressionFor(codecs, level, bottommost) }),
    executor: new InThreadExecutor(fs, 5),
    fs,
    maxSubcompactions: 3,
  };
  const picker = new CompactionPicker({ l0CompactionTrigger: opts.l0CompactionTrigger ?? 2, levelSizeMultiplier: 3, ...opts });

  async function flush(points: PointEntry[], tombstones: RangeTombstone[]): Promise<void> {
    if (points.length === 0 && tombstones.length === 0) return;
    const n = versions.newFileNumber();
    const b = new TableBuilder(tablePath(DIR, n), { fs, fileNumber: n, blockSize: 256, compression: codecs.compression[0]! });
    for (const p of [...points].sort(compareEntries)) b.add(p);
    for (const t of [...tombstones].sort(compareTombstones)) b.addTombstone(t);
    const m = await b.finish();
    await fs.fsyncDir(DIR);
    const meta = fileMetadataOf(m);
    // Stands in for the write path, which publishes a batch's numbers before a flush can take them.
    versions.lastSequence = Math.max(versions.lastSequence, meta.maxSeq);
    versions.visibleSequence = Math.max(versions.visibleSequence, meta.maxSeq);
    await versions.logAndApply(new VersionEdit().addFile(0, meta));
  }

  async function compactAll(): Promise<number> {
    let runs = 0;
    for (let c = picker.pick(versions.current); c !== undefined; c = picker.pick(versions.current)) {
      const v = versions.pinCurrent();
      try {
        if ((await runCompaction(c, v, env)).subcompactions > 1) stats.split++;
      } finally {
        v.unref();
      }
      runs++;
      stats.compactions++;
      if (c.trivialMove) stats.trivialMoves++;
      stats.deepest = Math.max(stats.deepest, c.outputLevel);
      if (runs > 500) throw new Error('compaction does not converge');
    }
    return runs;
  }

  async function compactManual(lo?: Uint8Array, hi?: Uint8Array): Promise<void> {
    const c = picker.pickManual(versions.current, lo, hi);
    if (c === undefined) return;
    const v = versions.pinCurrent();
    try {
      await runCompaction(c, v, env);
    } finally {
      v.unref();
    }
  }

  /** Every version and tombstone in the current Version's tables. */
  function contents(v: Version = versions.current): { points: PointEntry[]; tombstones: RangeTombstone[] } {
    const points: PointEntry[] = [];
    const tombstones: RangeTombstone[] = [];
    for (const { file } of v.allFiles()) {
      const t = cache.get(file.fileNumber);
      points.push(...allEntries(new TableIterator(t)));
      tombstones.push(...t.rangeTombstones());
    }
    return { points, tombstones };
  }

  return { fs, versions, cache, snapshots, env, picker, flush, compactAll, compactManual, contents };
}

// Plain Uint8Arrays: an early TableBuilder wrote into `key.slice(...)`, a view for Buffers, and so
// rewrote the caller's key (since fixed in sstable-builder with copyPrefix).
const KEYS = Array.from({ length: 120 }, (_, i) => Uint8Array.from(Buffer.from(`k${String(i).padStart(3, '0')}`)));
const str = (k: Uint8Array): string => Buffer.from(k).toString();

describe('compaction through real tables and the version set', () => {
  it('hundreds of compactions with snapshots held across them never change what any snapshot reads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ops: fc.array(
              fc.record({ t: fc.constantFrom('put', 'put', 'put', 'del', 'range'), a: fc.nat(119), b: fc.nat(119), v: fc.nat(1000) }),
              { minLength: 1, maxLength: 40 },
            ),
            snapshot: fc.boolean(),
            release: fc.nat(3),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        // Mixed codecs in one tree: every level a different one, bottommost outputs another.
        fc.constantFrom<Codecs>(
          NO_COMPRESSION,
          { compression: ['lz4', 'deflate', 'none', 'snappy'], bottommostCompression: 'deflate' },
          { compression: ['none', 'lz4'], bottommostCompression: undefined },
          { compression: ['deflate'], bottommostCompression: 'lz4' },
        ),
        // Without range deletes, large compactions are cut into key ranges (subcompactions.ts).
        fc.boolean(),
        async (batches, codecs, rangeDeletes) => {
          const h = await harness({ targetFileSize: 400, maxBytesForLevelBase: 1000 }, codecs);
          let seq = 0;
          const allPoints: PointEntry[] = [];
          const allTombstones: RangeTombstone[] = [];
          const held: number[] = [];
          for (const batch of batches) {
            const pts: PointEntry[] = [];
            const tss: RangeTombstone[] = [];
            for (const op of batch.ops) {
              seq++;
              if (op.t === 'range' && rangeDeletes) {
                const [lo, hi] = op.a <= op.b ? [op.a, op.b] : [op.b, op.a];
                if (lo < hi) tss.push({ start: KEYS[lo]!, end: KEYS[hi]!, seq });
              } else {
                const kind = op.t !== 'del' ? EntryKind.Put : EntryKind.Delete;
                pts.push({ key: KEYS[op.a]!, seq, kind, value: kind === EntryKind.Put ? Buffer.from(`v${op.v}`.padEnd(40, '.')) : new Uint8Array(0) });
              }
            }
            allPoints.push(...pts);
            allTombstones.push(...tss);
            await h.flush(pts, tss);
            if (batch.snapshot) {
              held.push(seq);
              h.snapshots.add(seq);
            }
            if (batch.release === 0 && held.length > 0) h.snapshots.delete(held.shift()!);
            await h.compactAll();
            const { points, tombstones } = h.contents();
            for (const r of [...h.snapshots, Number.MAX_SAFE_INTEGER]) {
              for (const k of KEYS) {
                expect(modelRead(points, tombstones, k, r), `key ${str(k)} at snapshot ${r}`).toBe(modelRead(allPoints, allTombstones, k, r));
              }
            }
            // L1+ stays sorted and disjoint (the version set would refuse otherwise; check anyway).
            for (let l = 1; l < h.versions.current.numLevels; l++) {
              const files = h.versions.current.files(l);
              for (let i = 1; i < files.length; i++) expect(compareKeys(files[i - 1]!.largestKey, files[i]!.smallestKey)).toBeLessThan(0);
            }
          }
          // Full compaction without snapshots: one version per live key, no deletes, no tombstones.
          h.snapshots.clear();
          await h.compactManual();
          const { points, tombstones } = h.contents();
          expect(tombstones).toEqual([]);
          // Everything now rests at the bottom: written with the bottommost codec.
          const bottom = codecs.bottommostCompression ?? codecs.compression.at(-1);
          for (const { file } of h.versions.current.allFiles()) expect(h.cache.get(file.fileNumber).readProperties().compression).toBe(bottom);
          const live = KEYS.filter((k) => modelRead(allPoints, allTombstones, k, Number.MAX_SAFE_INTEGER) !== undefined);
          expect(points.map((p) => str(p.key))).toEqual(live.map(str));
          for (const k of live) expect(modelRead(points, [], k, Number.MAX_SAFE_INTEGER)).toBe(modelRead(allPoints, allTombstones, k, Number.MAX_SAFE_INTEGER));
          // Only live tables remain on disk.
          const onDisk = h.fs.readdirSync(DIR).filter((n) => n.endsWith('.sst')).length;
          expect(onDisk).toBe([...h.versions.current.allFiles()].length);
        },
      ),
      { numRuns: 150 },
    );
    // The point of tiny tables: many compactions, reaching deep levels, trivial moves included.
    expect(stats.compactions).toBeGreaterThan(500);
    expect(stats.trivialMoves).toBeGreaterThan(0);
    // and compactions cut into key ranges (subcompactions.ts) where no range tombstone is involved.
    expect(stats.split).toBeGreaterThan(0);
    expect(stats.deepest).toBeGreaterThanOrEqual(3);
  });

  it('a compaction over a corrupt table fails, keeps its inputs and leaves no output behind', async () => {
    const h = await harness({ targetFileSize: 600, maxBytesForLevelBase: 2000 });
    let seq = 0;
    for (let f = 0; f < 2; f++) {
      const pts: PointEntry[] = KEYS.map((key) => ({ key, seq: ++seq, kind: EntryKind.Put, value: Buffer.alloc(20, f) }));
      await h.flush(pts, []);
    }
    const before = [...h.versions.current.allFiles()].map((x) => x.file.fileNumber);
    const victim = before[0]!;
    // Flip a byte in the middle of a data block.
    h.fs.editDurably(tablePath(DIR, victim), (bytes) => {
      const copy = Uint8Array.from(bytes);
      copy[100] = copy[100]! ^ 0xff;
      return copy;
    });
    h.cache.evict(victim);
    await expect(h.compactAll()).rejects.toMatchObject({ code: 'CORRUPTION' });
    expect([...h.versions.current.allFiles()].map((x) => x.file.fileNumber)).toEqual(before);
    expect(h.fs.readdirSync(DIR).filter((n) => n.endsWith('.sst')).sort()).toEqual(before.map((n) => tableFileName(n)).sort());
  });

  // A universal merge installed after another (universal-picker.ts, rule 4): its outputs are
  // written, then held back until the other's edit; if that never comes, they are removed.
  it('beforeInstall holds the edit back until it resolves, and a rejection abandons the outputs and keeps the inputs', async () => {
    for (const outcome of ['resolve', 'reject'] as const) {
      const h = await harness({ targetFileSize: 600, maxBytesForLevelBase: 2000 });
      let seq = 0;
      for (let f = 0; f < 2; f++) await h.flush(KEYS.map((key) => ({ key, seq: ++seq, kind: EntryKind.Put, value: Buffer.alloc(20, f) })), []);
      const before = [...h.versions.current.allFiles()].map((x) => x.file.fileNumber);
      let release: { resolve(): void; reject(e: unknown): void } = { resolve: () => undefined, reject: () => undefined };
      let asked = false;
      const gate = new Promise<void>((resolve, reject) => {
        release = { resolve, reject };
      });
      const c = h.picker.pick(h.versions.current)!;
      const v = h.versions.pinCurrent();
      const job = runCompaction(c, v, {
        ...h.env,
        beforeInstall: () => {
          asked = true;
          return gate;
        },
      });
      const settled = job.then(
        () => 'installed',
        (err: unknown) => err,
      );
      while (!asked) await new Promise((r) => setTimeout(r, 1));
      // Merged and written, not installed: the Version still lists the inputs, the outputs exist.
      expect([...h.versions.current.allFiles()].map((x) => x.file.fileNumber)).toEqual(before);
      const written = h.fs.readdirSync(DIR).filter((n) => n.endsWith('.sst') && !before.map((b) => tableFileName(b)).includes(n));
      expect(written.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 5));
      expect([...h.versions.current.allFiles()].map((x) => x.file.fileNumber)).toEqual(before);
      if (outcome === 'resolve') {
        release.resolve();
        expect(await settled).toBe('installed');
        expect(h.versions.current.files(0)).toEqual([]);
        expect(h.versions.current.files(c.outputLevel).map((f) => tableFileName(f.fileNumber)).sort()).toEqual(written.sort());
      } else {
        const why = new Error('the other merge failed');
        release.reject(why);
        expect(await settled).toBe(why);
        expect([...h.versions.current.allFiles()].map((x) => x.file.fileNumber)).toEqual(before);
        expect(h.fs.readdirSync(DIR).filter((n) => n.endsWith('.sst')).sort()).toEqual(before.map((n) => tableFileName(n)).sort());
      }
      v.unref();
    }
  });
});

describe('what a compaction job carries to its executor', () => {
  // Fixed-width keys, so that key order is number order.
  const name = (i: number): string => `k${String(i).padStart(7, '0')}`;
  const key = (i: number): Uint8Array => Buffer.from(name(i));
  const meta = (n: number, lo: number, hi: number): FileMetadata => fileMeta(name(lo), name(hi), 1000, { fileNumber: n, maxSeq: 1 });
  /**
   * `deep` disjoint tables at each of L2, L3 and L4 over keys [0, 1e6), the gaps between
   * neighbours a third of a table apart from one level to the next (under random writes the
   * levels' boundaries fall in different places); 20 L1 tables.
   */
  function deepVersion(deep: number): { version: Version; l1: FileMetadata[] } {
    let n = 1;
    const level = (count: number, third: number): FileMetadata[] => {
      const width = Math.floor(1_000_000 / count);
      const shift = Math.floor((width * third) / 3);
      return Array.from({ length: count }, (_, i) => meta(n++, i * width + shift, i * width + width - 2 + shift));
    };
    const l1 = level(20, 0);
    return { version: new Version([[], l1, level(deep, 0), level(deep, 1), level(deep, 2)]), l1 };
  }
  /** Runs `c` with an executor that records the jobs it is given and writes nothing. */
  async function jobsOf(c: Compaction, version: Version, maxSubcompactions = 1): Promise<CompactionJob[]> {
    const jobs: CompactionJob[] = [];
    const executor = new InThreadExecutor(new MemoryFileSystem(), 5);
    executor.compact = (job) => {
      jobs.push(job);
      return Promise.resolve({ outputs: [], counters: { entriesIn: 0, entriesOut: 0, droppedShadowed: 0, droppedByRangeTombstone: 0, droppedDeletes: 0, tombstoneSeqsIn: 0, tombstoneSeqsKept: 0 }, maxSliceMs: 0, reads: 0 });
    };
    let next = 10_000_000;
    const env: CompactionJobEnv = {
      dir: DIR,
      versions: { logAndApply: () => Promise.resolve(), newFileNumber: () => next++ },
      snapshots: () => [],
      targetFileSize: 1000,
      tableSettings: () => ({ blockSize: 256, bloomBitsPerKey: 10, metadataBlockSize: 64, compression: 'none' }),
      executor,
      fs: new MemoryFileSystem(),
      maxSubcompactions,
    };
    await runCompaction(c, version, env);
    return jobs;
  }
  /** The answers of "older data below?" for every key in [lo, hi], ascending, and for ranges of 3 keys. */
  function answers(below: OlderDataBelow, lo: number, hi: number, step: number): boolean[] {
    const out: boolean[] = [];
    for (let i = lo; i <= hi; i += step) out.push(below.key(key(i)), below.range(key(i), key(i + 3)));
    return out;
  }

  it('an L1→L2 compaction of one table carries what lies under its keys, not the deeper levels: the same however many tables they hold', async () => {
    for (const deep of [100, 1000, 4000]) {
      const { version, l1 } = deepVersion(deep);
      const input = l1[7]!;
      const c: Compaction = {
        reason: 'level-size',
        level: 1,
        outputLevel: 2,
        inputs: [{ level: 1, files: [input] }, { level: 2, files: version.overlappingFiles(2, input.smallestKey, input.largestKey) }],
        grandparents: version.overlappingFiles(3, input.smallestKey, input.largestKey),
        score: 1,
        trivialMove: false,
      };
      const [job] = await jobsOf(c, version);
      // L3 and L4 as the union of their files under the job: one span (their gaps never coincide).
      expect(job!.below.length).toBe(1);
      expect(job!.grandparents).toEqual(grandparentBoundaries(c.grandparents));
      // The same answers as the whole version's, for every key the job can hold (and a few beyond).
      const lo = 7 * 50_000 - 5;
      const hi = 8 * 50_000 + 5;
      expect(answers(olderDataBelowLevels([job!.below]), lo, hi, 7)).toEqual(answers(olderDataBelow(version, 2), lo, hi, 7));
    }
  });

  it('each range of a cut L0→L1 compaction carries the grandparents of its range and the union of what lies below it', async () => {
    const { version, l1 } = deepVersion(2000);
    const l0 = [meta(9_000_001, 0, 999_990), meta(9_000_002, 5, 999_995)].map((f, i) => ({ ...f, maxSeq: 10 + i }));
    const c: Compaction = {
      reason: 'l0-file-count',
      level: 0,
      outputLevel: 1,
      inputs: [{ level: 0, files: l0 }, { level: 1, files: l1 }],
      grandparents: version.files(2),
      score: 1,
      trivialMove: false,
    };
    const jobs = await jobsOf(c, version, 4);
    expect(jobs.length).toBe(4);
    let grandparents = 0;
    for (const job of jobs) {
      for (const f of job.below) {
        if (job.lo !== undefined) expect(compareKeys(f.largestKey, job.lo)).toBeGreaterThanOrEqual(0);
        if (job.hi !== undefined) expect(compareKeys(f.smallestKey, job.hi)).toBeLessThanOrEqual(0);
      }
      // The grandparents as the splitter reads them: largest keys (ascending, none before the range) and sizes.
      const { keys, keyEnds, sizes } = job.grandparents;
      expect(keyEnds.length).toBe(sizes.length);
      const first = keys.subarray(0, keyEnds[0]);
      if (job.lo !== undefined) expect(compareKeys(first, job.lo)).toBeGreaterThanOrEqual(0);
      const mine = version.files(2).filter((f) => (job.lo === undefined || compareKeys(f.largestKey, job.lo) >= 0) && (job.hi === undefined || compareKeys(f.smallestKey, job.hi) <= 0));
      expect(job.grandparents).toEqual(grandparentBoundaries(mine));
      // 2 × 2000 files of L3 and L4 under it: one span.
      expect(job.below.length).toBe(1);
      grandparents += sizes.length;
    }
    // Each grandparent once, but those across a cut (in both ranges); before, each range carried all.
    expect(grandparents).toBeLessThanOrEqual(2000 + 3);
  });

  it('the union of the deeper levels answers "older data below?" as the levels do', () => {
    // Levels of disjoint files at random places in [0, 400); probes ascending.
    const levelArb = fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 24 }).map((points) => {
      const sorted = [...points].sort((a, b) => a - b);
      const files: FileMetadata[] = [];
      for (let i = 0; i + 1 < sorted.length; i += 2) files.push(meta(i, sorted[i]!, sorted[i + 1]!));
      return files;
    });
    fc.assert(
      fc.property(fc.array(levelArb, { maxLength: 4 }), fc.integer({ min: 1, max: 5 }), (levels, step) => {
        const nonEmpty = levels.filter((l) => l.length > 0);
        const spans = coveredSpans(nonEmpty);
        for (let i = 1; i < spans.length; i++) expect(compareKeys(spans[i - 1]!.largestKey, spans[i]!.smallestKey)).toBeLessThan(0);
        expect(answers(olderDataBelowLevels([spans]), 0, 405, step)).toEqual(answers(olderDataBelowLevels(nonEmpty), 0, 405, step));
      }),
      { numRuns: 300 },
    );
  });
});
