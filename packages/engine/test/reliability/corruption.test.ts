/**
 * Flipped bytes in every kind of file — WAL segments, table data blocks, filter, range-tombstone
 * and properties blocks, meta-index, index, footer, manifest, CURRENT, IDENTITY. Opening or
 * reading must report CORRUPTION naming the file, or (for a WAL or manifest record that reads as
 * a torn tail) give an earlier prefix state — never wrong data. A compaction over a damaged table
 * fails and keeps its inputs.
 */
import { posix } from 'node:path';
import { readSegmentFile } from '@strata-db/wal';
import { describe, expect, it } from 'vitest';
import { Database, StrataError } from '../../src/index.js';
import { type MemoryFileSystem, Random } from '../../src/testing/index.js';
import { checkFlip, buildImage, flipTargets, type FlipOutcome } from './support/corruption.js';
import { readState, TINY } from './support/db-driver.js';
import { fileKind, tableRegions } from './support/file-kinds.js';
import { liveTableNames } from './support/live-files.js';
import { History, Model } from './support/model.js';
import { DB_PATH } from './support/power-loss.js';
import { seeds } from './support/seeds.js';
import { makeWorkload } from './support/workload.js';

// Bloom filters on (they are off for nothing), and a WAL tail left unflushed.
const OPTIONS = { ...TINY, bloomBitsPerKey: 10 };
const STEPS = 150;

// A fixed seed's image must hold every kind of file and table region (checked below). Seed 1's
// stopped holding a live range-tombstone block when compression became the default (smaller
// tables reach the bottom level sooner, where tombstones are dropped); seed 2's holds one.
const FIXED_SEEDS = [2];

describe('corruption', () => {
  for (const seed of seeds('corruption', FIXED_SEEDS)) {
    it(`seed ${seed}: a flipped byte anywhere is reported as CORRUPTION naming the file, never wrong data`, async () => {
      const steps = makeWorkload(seed, { steps: STEPS, syncRatio: 0.5 });
      const history = new History(steps);
      const base = await buildImage(steps, OPTIONS, 12);
      const targets = flipTargets(base, 3, new Random(seed));
      // Tables the manifest names; others (a flush or compaction output caught mid-way by the
      // image) are orphans that recovery deletes or overwrites, so flips there change nothing.
      const live = liveTableNames(base, DB_PATH);
      const outcomes = new Map<string, Map<FlipOutcome, number>>();
      const failures: string[] = [];
      for (const t of targets) {
        try {
          const o = await checkFlip(base, t, steps, history, OPTIONS);
          const key = t.kind !== 'table' ? t.kind : live.has(posix.basename(t.file)) ? `table ${t.region}` : 'orphan table';
          const m = outcomes.get(key) ?? new Map<FlipOutcome, number>();
          m.set(o, (m.get(o) ?? 0) + 1);
          outcomes.set(key, m);
        } catch (err) {
          failures.push(`${(err as Error).message}\n  replay: STRATA_SEED=${seed}`);
          if (failures.length >= 5) break;
        }
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      const seen = [...outcomes.keys()].sort();
      // The fixed seeds' workloads leave every kind of file and table region on disk. A random
      // seed's may not leave a range-tombstone block in any live table — compaction drops every
      // tombstone that reaches the bottom level with nothing below it — so only there is that
      // region optional.
      const optional = FIXED_SEEDS.includes(seed) ? [] : ['table range-del'];
      for (const kind of ['wal', 'manifest', 'current', 'identity', 'table data', 'table filter-partition', 'table index-partition', 'table range-del', 'table properties', 'table meta-index', 'table top-level-index', 'table footer']) {
        if (!optional.includes(kind)) expect(seen, `no flip landed in ${kind}`).toContain(kind);
      }
      // Every byte of a table is covered by a checksum: flips there are always detected.
      for (const [kind, m] of outcomes) {
        if (kind.startsWith('table')) expect([...m.keys()], kind).toEqual(['detected']);
      }
    });

    it(`seed ${seed}: the newest WAL segment truncated at any offset opens with a prefix state`, async () => {
      const steps = makeWorkload(seed, { steps: 60, syncRatio: 0.5 });
      const history = new History(steps);
      // A memtable big enough that the unflushed tail stays in one segment.
      const options = { ...OPTIONS, memtableSize: 64 * 1024 };
      const base = await buildImage(steps, options, 25);
      const wal = base.listFiles().filter((p) => fileKind(posix.basename(p)) === 'wal').sort().at(-1)!;
      const size = base.readFileSync(wal).length;
      // Past the last record: zeros preallocated for durable writes (wal/writer.ts). Cut at every
      // 5th byte of the records, and at a few points inside the zeros (which lose nothing).
      const end = readSegmentFile(wal, base).items.at(-1)?.end ?? size;
      expect(end).toBeGreaterThan(100);
      expect(size - end, 'the newest segment has preallocated space').toBeGreaterThan(0);
      const cuts = Array.from({ length: Math.floor(end / 5) + 1 }, (_, i) => i * 5);
      cuts.push(end, end + 1, end + 4096, Math.floor((end + size) / 2), size);
      let shorter = 0;
      for (const cut of cuts) {
        const image = base.clone();
        image.editDurably(wal, (b) => b.subarray(0, cut));
        const db = await Database.open(DB_PATH, { ...options, fs: image });
        const state = await readState(db);
        await db.close();
        const p = history.matchPrefix(state, 0, steps.length);
        expect(p, `truncated at ${cut}/${size}: not a prefix state`).toBeGreaterThanOrEqual(steps.length - 25);
        if (cut >= end) expect(p, `truncated at ${cut}, in the zeros after the records: nothing lost`).toBe(steps.length);
        if (p < steps.length) shorter++;
      }
      expect(shorter, 'truncations lost the records after the cut').toBeGreaterThan(0);
    });
  }

  it('a compaction over a damaged table fails with CORRUPTION and keeps its inputs', async () => {
    const steps = makeWorkload(7, { steps: 80 });
    const model = new Model();
    for (const s of steps) model.applyStep(s);
    // No automatic compaction: build several overlapping L0 tables, then damage one.
    const options = { ...OPTIONS, l0CompactionTrigger: 1000 };
    const image = await buildImage(steps, options, 0);
    const tables = image.listFiles().filter((p) => p.endsWith('.sst'));
    expect(tables.length).toBeGreaterThan(2);
    const victim = tables[0]!;
    const original = image.readFileSync(victim);
    const data = tableRegions(original, victim).find((r) => r.name === 'data')!;
    const flipAt = data.start + Math.floor((data.end - data.start) / 2);
    damage(image, victim, flipAt);

    const db = await Database.open(DB_PATH, { ...options, fs: image });
    const err: unknown = await db.compact().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('CORRUPTION');
    expect((err as StrataError).message).toContain(posix.basename(victim));
    await db.close().catch(() => undefined);
    for (const t of tables) expect(image.existsSync(t), `input ${t} kept`).toBe(true);

    // Repair the byte: every input is still there and whole, so the data is exactly as written.
    damage(image, victim, flipAt);
    const again = await Database.open(DB_PATH, { ...options, fs: image });
    expect(await readState(again)).toEqual(model.entries());
    await again.compact();
    expect(await readState(again)).toEqual(model.entries());
    await again.close();
  });
});

function damage(image: MemoryFileSystem, path: string, offset: number): void {
  image.editDurably(path, (b) => {
    b[offset] = b[offset]! ^ 0x5a;
    return b;
  });
}
