/**
 * The universal (tiered) compaction picker: RocksDB's kCompactionStyleUniversal
 * (UniversalCompactionBuilder), chosen by `compactionStyle: 'universal'` (options.ts). Leveled
 * compaction (picker.ts) rewrites a byte once per level it passes, and as the tree deepens each
 * byte flushed costs more (2.6 bytes written per byte flushed at the start of a 100M fill, 11 at
 * its end: docs/performance/session-24.md). Universal compaction merges whole sorted runs of
 * similar size instead, so each byte is rewritten about log_{merge width}(data / flush) times.
 *
 * Sorted runs, as RocksDB places them:
 *   - each L0 file is a run; each non-empty Ln (n ≥ 1) is one run (its files sorted and
 *     disjoint: the L1+ invariant, kept — a merge's outputs fill one level, nothing else does);
 *   - runs are ordered by age: the L0 files newest first (the Version's L0 order), then L1, L2, …
 *     "Older" means: for every key, each version in a run is newer than every version of that
 *     key in an older run (INVARIANT A). It holds for a leveled tree too, so a database may
 *     switch styles at any open.
 *
 * A merge takes runs CONTIGUOUS in age — r[i..j], none of them an input of a running compaction
 * — and writes one run at the output level:
 *   - j is the oldest run → the last level (numLevels − 1);
 *   - r[j+1] is an idle L0 file → L0, as ONE file (the job does not cut an L0 output: job.ts):
 *     the output holds sequence numbers from r[j]'s smallest to r[i]'s largest;
 *   - r[j+1] is an L0 file that a running merge M holds (it is M's newest input: M's runs are
 *     contiguous too) and M writes to a level m ≥ 2 → L(m−1), installed only AFTER M's edit
 *     (Compaction.after; the scheduler holds the edit back: scheduler.ts). Once M's edit is in,
 *     M's output at Lm is the next older run, every level between is empty (a level above m held
 *     only M's inputs — or the inputs of the merge M itself waits for, installed before M — and
 *     the runs r[i..j] are L0 files), and the output lands exactly where the rule above puts it.
 *     Before M's edit it is invisible, so reads never see it below M's inputs. RocksDB writes
 *     such a merge into L0 as one file (and so did this picker: session 25 found up to 69 runs,
 *     most of the data in a few big L0 files, and an L0 output is one table on one thread);
 *     with M ≤ L1 it still does;
 *   - r[j+1] is Ln → L(n−1). Every level between r[j]'s and Ln is empty (a non-empty one would
 *     be a run between r[j] and r[j+1]), so L(n−1) is either r[j]'s own level or empty.
 * So an output never lies above any of its inputs (data only moves down), every newer run stays
 * above it and every older run below it — for a merge installed after M, once M's edit is in,
 * the only time its output is visible: INVARIANT A is kept, per key. The olderDataBelow
 * question (may a version older than the output's exist below it? compaction.ts) is asked of
 * every run older than the inputs: the levels below the output level and, for an L0 output,
 * the L0 files older than its inputs; for a merge after M, the L0 files older than its inputs
 * and every level from L1 (M's inputs included: M's output holds only their keys) —
 * compaction.ts, olderRunsOverlapping.
 *
 * INVARIANT B (relied on by L0's order and the read path): L0 files' sequence ranges are
 * disjoint and their order by maxSeq is their order by age. Flushes are sequential; a merge into
 * L0 takes contiguous L0 files, so its output's range is the union of theirs and takes their
 * place. A tree built otherwise (repair.ts puts every table it finds in L0, whatever its
 * sequence range) is not given an L0 output: when a merge's sequence range would overlap another
 * L0 file's, the picker merges everything into the last level instead (always correct).
 *
 * Picking, as RocksDB's, only when the runs number at least `l0CompactionTrigger`
 * (level0_file_num_compaction_trigger):
 *   1. size amplification: when the runs newer than the oldest together hold at least
 *      maxSizeAmplificationPercent % of the oldest's bytes, merge them all into the oldest
 *      (a full merge, into the last level) — the space a key's old versions hold is bounded;
 *   2. size ratio: from each run in turn, newest first, take the following runs while the next
 *      one's bytes are at most (100 + sizeRatio) % of the bytes taken so far, up to
 *      maxMergeWidth; the first start that gathers at least minMergeWidth runs is merged;
 *   3. run count: when still more than l0CompactionTrigger runs are not being compacted, merge
 *      the newest ones, as many as it takes to get back to the trigger (within maxMergeWidth).
 *
 * Compactions side by side (scheduler.ts; picker.ts's rules 1–3 for leveled compaction):
 *   1. no input of a running compaction is taken (a run is busy if any of its files is);
 *   2. RELAXED: several compactions may take L0 files at once. Each takes contiguous runs, so
 *      two running merges hold disjoint stretches of the age order; the newer one's output goes
 *      strictly above the older one's inputs (or into L0 with a newer sequence range), the older
 *      one's at or below its own inputs: installed in either order, INVARIANTS A and B hold —
 *      but for a merge placed just above the older one's output, which installs after it (4);
 *   3. no two running compactions write overlapping key ranges into the same level L ≥ 1 (the
 *      argument above makes their output levels differ; the check stays as picker.ts's does);
 *   4. a merge after M (above) installs after M's edit; M fails or is aborted → it is abandoned
 *      (its outputs removed, its inputs kept). While it waits it holds no worker and no slot of
 *      maxBackgroundCompactions (scheduler.ts); a chain of them (each after the next older) has
 *      one output level each, so at most numLevels − 2 wait at once.
 * olderDataBelow stays true while others install: a running merge below only rewrites keys it
 * already holds (it never adds a key to a level below another merge's output), one above only
 * adds runs above.
 *
 * Not done in universal (RocksDB does some of them): compaction for deletions and for reads
 * (a table is never compacted alone; full merges remove deletes), trivial moves, periodic
 * compaction, the compression_size_percent and stop_style options (the total-size stop style,
 * RocksDB's default, is the one implemented). Manual compaction is picker.ts's pickManual with
 * the last level as output, as RocksDB's CompactRange in universal.
 */
import type { FileMetadata } from '../version/file-metadata.js';
import type { Version } from '../version/version.js';
import { outputSpanTaken, runningOf } from './picker.js';
import { isUniversalReason, totalBytes, type Compaction, type CompactionInput, type CompactionReason } from './compaction.js';

/** RocksDB's compaction_options_universal, the options Strata implements (options.ts). */
export interface UniversalOptions {
  /** Percent: a run joins a merge while its bytes ≤ (100 + sizeRatio) % of those taken (default 1). */
  readonly sizeRatio: number;
  /** Fewest runs a size-ratio merge takes (default 2). */
  readonly minMergeWidth: number;
  /** Most runs a size-ratio or run-count merge takes (default unbounded). */
  readonly maxMergeWidth: number;
  /** Newer runs' bytes over the oldest's, percent, at which everything is merged (default 200). */
  readonly maxSizeAmplificationPercent: number;
}

export const DEFAULT_UNIVERSAL_OPTIONS: UniversalOptions = { sizeRatio: 1, minMergeWidth: 2, maxMergeWidth: 2 ** 31 - 1, maxSizeAmplificationPercent: 200 };

export interface UniversalPickerOptions {
  readonly l0CompactionTrigger: number;
  readonly universal: UniversalOptions;
}

/** One sorted run: an L0 file, or every file of a level n ≥ 1. */
export interface SortedRun {
  readonly level: number;
  readonly files: readonly FileMetadata[];
  readonly bytes: number;
}

/** `version`'s sorted runs, newest first (see the top of the file). */
export function sortedRuns(version: Version): SortedRun[] {
  const runs: SortedRun[] = version.files(0).map((f) => ({ level: 0, files: [f], bytes: f.fileSize }));
  for (let level = 1; level < version.numLevels; level++) {
    const files = version.files(level);
    if (files.length > 0) runs.push({ level, files, bytes: totalBytes(files) });
  }
  return runs;
}

/** The number of sorted runs: what the write-stall triggers count in universal (RocksDB's l0_delay_trigger_count). */
export function sortedRunCount(version: Version): number {
  let n = version.files(0).length;
  for (let level = 1; level < version.numLevels; level++) if (version.files(level).length > 0) n++;
  return n;
}

export class UniversalPicker {
  constructor(private readonly options: UniversalPickerOptions) {}

  /** The compaction rules 1–3 (the top of the file) pick from `version` beside `running`, if any. */
  pick(version: Version, running: readonly Compaction[] = []): Compaction | undefined {
    const runs = sortedRuns(version);
    const trigger = this.options.l0CompactionTrigger;
    if (runs.length < trigger) return undefined;
    const held = runningOf(running);
    const busy = runs.map((r) => r.files.some((f) => held.busy.has(f.fileNumber)));
    const score = runs.length / trigger;
    const u = this.options.universal;

    const candidates: { start: number; end: number; reason: CompactionReason }[] = [];
    const amp = this.sizeAmplification(runs, busy);
    if (amp !== undefined) candidates.push({ ...amp, reason: 'size-amplification' });
    const ratio = this.reduceRuns(runs, busy, u.sizeRatio, Infinity);
    if (ratio !== undefined) candidates.push({ ...ratio, reason: 'size-ratio' });
    const idle = busy.filter((b) => !b).length;
    if (idle > trigger) {
      const count = this.reduceRuns(runs, busy, Infinity, idle - trigger + 1);
      if (count !== undefined) candidates.push({ ...count, reason: 'sorted-runs' });
    }
    for (const { start, end, reason } of candidates) {
      const c = this.merge(version, runs, busy, running, start, end, reason, score);
      // Rule 3; an L0 output is a table of its own, beside any other L0 table.
      if (c !== undefined && (c.outputLevel === 0 || !outputSpanTaken(c, held))) return c;
    }
    return undefined;
  }

  /** Rule 1: every run from the newest idle one to the oldest, when they outweigh the oldest enough. */
  private sizeAmplification(runs: readonly SortedRun[], busy: readonly boolean[]): { start: number; end: number } | undefined {
    const last = runs.length - 1;
    if (last < 1 || busy[last]) return undefined;
    let start = 0;
    while (start < last && busy[start]) start++;
    if (start === last) return undefined;
    let newer = 0;
    for (let i = start; i < last; i++) {
      if (busy[i]) return undefined;
      newer += runs[i]!.bytes;
    }
    if (newer * 100 < this.options.universal.maxSizeAmplificationPercent * runs[last]!.bytes) return undefined;
    return { start, end: last };
  }

  /**
   * Rules 2 and 3 (RocksDB's PickCompactionToReduceSortedRuns): from each idle run, newest
   * first, the idle runs after it while the next one's bytes ≤ (100 + ratio) % of the bytes
   * taken so far, at most min(maxMergeWidth, maxRuns); the first start gathering at least
   * minMergeWidth (≥ 2) runs. `end` is inclusive.
   */
  private reduceRuns(runs: readonly SortedRun[], busy: readonly boolean[], ratio: number, maxRuns: number): { start: number; end: number } | undefined {
    const u = this.options.universal;
    const most = Math.min(u.maxMergeWidth, maxRuns);
    const least = Math.max(2, u.minMergeWidth);
    for (let start = 0; start < runs.length; start++) {
      if (busy[start]) continue;
      let bytes = runs[start]!.bytes;
      let count = 1;
      for (let i = start + 1; count < most && i < runs.length; i++) {
        if (busy[i]) break;
        if ((bytes * (100 + ratio)) / 100 < runs[i]!.bytes) break;
        bytes += runs[i]!.bytes;
        count++;
      }
      if (count >= least) return { start, end: start + count - 1 };
    }
    return undefined;
  }

  /** The merge of runs[start..end] (inclusive), placed as the top of the file says; undefined when it cannot run now. */
  private merge(
    version: Version,
    runs: readonly SortedRun[],
    busy: readonly boolean[],
    running: readonly Compaction[],
    start: number,
    endIn: number,
    reason: CompactionReason,
    score: number,
  ): Compaction | undefined {
    let end = endIn;
    let outputLevel: number;
    let after: Compaction | undefined;
    if (end === runs.length - 1) outputLevel = version.numLevels - 1;
    else if (runs[end + 1]!.level === 0) outputLevel = 0;
    else outputLevel = runs[end + 1]!.level - 1;
    if (outputLevel === 0 && !seqDisjointFromOtherL0(runs, start, end)) {
      // INVARIANT B does not hold for this stretch of L0 (a repaired tree): merge to the last level.
      end = runs.length - 1;
      outputLevel = version.numLevels - 1;
      if (busy.slice(start).some((b) => b)) return undefined;
    } else if (outputLevel === 0 && busy[end + 1]!) {
      // A busy next older run: go just above the output of the merge that holds it, installed after it (rule 4).
      const next = runs[end + 1]!.files[0]!.fileNumber;
      const holder = running.find((c) => isUniversalReason(c.reason) && c.inputs.some((i) => i.level === 0 && i.files.some((f) => f.fileNumber === next)));
      if (holder !== undefined && holder.outputLevel >= 2) {
        outputLevel = holder.outputLevel - 1;
        after = holder;
      }
    }
    const inputs: CompactionInput[] = [];
    const l0: FileMetadata[] = [];
    for (let i = start; i <= end; i++) {
      const r = runs[i]!;
      if (r.level === 0) l0.push(r.files[0]!);
      else inputs.push({ level: r.level, files: r.files });
    }
    if (l0.length > 0) inputs.unshift({ level: 0, files: l0 });
    const c: Compaction = { reason, level: inputs[0]!.level, outputLevel, inputs, grandparents: [], score, trivialMove: false };
    return after === undefined ? c : { ...c, after };
  }
}

/** Whether the L0 runs[start..end]'s sequence range overlaps no other L0 file's (INVARIANT B). */
function seqDisjointFromOtherL0(runs: readonly SortedRun[], start: number, end: number): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i <= end; i++) {
    for (const f of runs[i]!.files) {
      min = Math.min(min, f.minSeq);
      max = Math.max(max, f.maxSeq);
    }
  }
  for (let i = 0; i < runs.length; i++) {
    if ((i >= start && i <= end) || runs[i]!.level !== 0) continue;
    const f = runs[i]!.files[0]!;
    if (f.minSeq <= max && min <= f.maxSeq) return false;
  }
  return true;
}
