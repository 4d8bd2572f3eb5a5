/**
 * The fallback compactor, used until the leveled compaction module (src/compaction/**) is
 * plugged in through `DbCore.compactor`: it merges EVERY table into one table at L1, dropping
 * what no reader can see any more. Correct but O(database size) per run; it runs when L0
 * reaches l0CompactionTrigger files (so writes never stall forever) and for `db.compact()`.
 *
 * Collapsing, per key (versions newest first), with the live snapshots S1 < … < Sn:
 *   - a version's stripe is the smallest snapshot ≥ its seq (or "latest");
 *   - only the newest version of each stripe is visible to anyone: the others are dropped;
 *   - a version covered by a range tombstone of the same stripe is dropped (every reader that
 *     could see the version also sees the tombstone);
 *   - then, while the oldest kept version is a Delete, it is dropped (it hides nothing).
 * A range tombstone is dropped when no live snapshot is older than it (everything it covers is
 * then dropped too, by the rule above).
 */
import { EntryKind, compareKeys, compareTombstones, type InternalIterator, type PointEntry, type RangeTombstone } from '@strata-db/memtable';
import { TableBuilder } from '@strata-db/sstable-builder';
import { TableIterator } from '@strata-db/sstable-iterators';
import { toStrataError } from '../errors.js';
import { MergingIterator } from '../read/merging-iterator.js';
import { RangeDelAggregator } from '../read/range-del-aggregator.js';
import { Slicer } from '../util/yield.js';
import { VersionEdit } from '../version/version-edit.js';
import type { Compactor, DbCore } from './core.js';
import { tablePath } from './filenames.js';

function stripeOf(seq: number, snaps: readonly number[]): number {
  let lo = 0;
  let hi = snaps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (snaps[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo; // index of the smallest snapshot ≥ seq; snaps.length = "latest"
}

export class FullCompactionFallback implements Compactor {
  private running: Promise<void> | undefined;

  constructor(private readonly core: DbCore) {}

  maybeSchedule(): void {
    const core = this.core;
    if (this.running !== undefined) return;
    if (core.versions.current.files(0).length < core.opts.l0CompactionTrigger) return;
    void this.start();
  }

  async compactAll(): Promise<void> {
    while (this.running !== undefined) await this.running;
    await this.start();
  }

  private start(): Promise<void> {
    const p = this.core.runBackground('compaction', () => this.run());
    this.running = p;
    void p.finally(() => {
      if (this.running === p) this.running = undefined;
      this.core.notifyProgress();
      this.core.maybeScheduleCompaction();
    });
    return p;
  }

  private async run(): Promise<void> {
    const core = this.core;
    const { versions, tables, fs, dir, opts } = core;
    const version = versions.pinCurrent();
    let builder: TableBuilder | undefined;
    try {
      const inputs = [...version.allFiles()];
      if (inputs.length === 0) return;
      if (inputs.length === 1 && inputs[0]!.level > 0) return; // already one sorted run
      const snaps = core.snapshots.sequences();
      const oldestSnap = snaps[0] ?? Number.POSITIVE_INFINITY;
      const children: InternalIterator[] = [];
      const allTombstones: RangeTombstone[] = [];
      let bytesRead = 0;
      for (const { file } of inputs) {
        const t = tables.get(file.fileNumber);
        children.push(new TableIterator(t));
        for (const ts of t.rangeTombstones()) allTombstones.push(ts);
        bytesRead += file.fileSize;
      }
      const rangeDel = new RangeDelAggregator(allTombstones, Number.MAX_SAFE_INTEGER);
      // Tombstones that survive, and per-stripe coverage for dropping points.
      const keptTombstones = allTombstones.filter((t) => t.seq > oldestSnap).sort(compareTombstones);
      const byStripe = new Map<number, RangeDelAggregator>();
      const stripeAgg = (stripe: number): RangeDelAggregator => {
        let a = byStripe.get(stripe);
        if (a === undefined) {
          const lo = stripe === 0 ? 0 : snaps[stripe - 1]!;
          const hi = stripe < snaps.length ? snaps[stripe]! : Number.MAX_SAFE_INTEGER;
          a = new RangeDelAggregator(allTombstones.filter((t) => t.seq > lo && t.seq <= hi), hi);
          byStripe.set(stripe, a);
        }
        return a;
      };
      const fileNumber = versions.newFileNumber();
      const path = tablePath(dir, fileNumber);
      builder = new TableBuilder(path, { fs, blockSize: opts.blockSize, bloomBitsPerKey: opts.bloomBitsPerKey, fileNumber });
      const it = new MergingIterator(children);
      const slicer = new Slicer();
      const group: PointEntry[] = [];
      const emit = (): void => {
        const kept: PointEntry[] = [];
        let lastStripe = -1;
        for (const e of group) {
          const s = stripeOf(e.seq, snaps);
          if (s === lastStripe) continue; // shadowed by a newer version of the same stripe
          lastStripe = s;
          if (!rangeDel.empty && stripeAgg(s).covers(e.key, e.seq)) continue;
          kept.push(e);
        }
        while (kept.length > 0 && kept[kept.length - 1]!.kind === EntryKind.Delete) kept.pop();
        for (const e of kept) builder!.add(e);
        group.length = 0;
      };
      let n = 0;
      it.seekToFirst();
      while (it.valid()) {
        const e = it.entry();
        const prev = group[group.length - 1];
        if (prev !== undefined && compareKeys(prev.key, e.key) !== 0) emit();
        if (prev === undefined || compareKeys(prev.key, e.key) !== 0 || prev.seq !== e.seq) group.push(e);
        if ((++n & 127) === 0) {
          const y = slicer.maybeYield();
          if (y !== undefined) await y;
        }
        it.next();
      }
      emit();
      for (const t of keptTombstones) builder.addTombstone(t);
      const edit = new VersionEdit();
      for (const { level, file } of inputs) edit.deleteFile(level, file.fileNumber);
      if (builder.entryCount > 0 || builder.tombstoneCount > 0) {
        const m = await builder.finish();
        builder = undefined;
        await fs.fsyncDir(dir);
        edit.addFile(1, {
          fileNumber,
          fileSize: m.fileSize,
          smallestKey: m.smallestKey,
          largestKey: m.largestKey,
          minSeq: m.minSeq,
          maxSeq: m.maxSeq,
          entryCount: m.entryCount,
          tombstoneCount: m.tombstoneCount,
        });
        core.counters.compactionBytesWritten += m.fileSize;
      } else {
        builder.abandon();
        builder = undefined;
      }
      await versions.logAndApply(edit);
      core.counters.compactions++;
      core.counters.compactionBytesRead += bytesRead;
    } catch (err) {
      try {
        builder?.abandon();
      } catch {
        // keep the original error
      }
      throw toStrataError(err, 'compaction failed');
    } finally {
      version.unref();
    }
  }
}
