/**
 * The compaction picker: which level most needs compacting, and which files to compact.
 * Shaped after LevelDB's VersionSet::PickCompaction / RocksDB's leveled picker.
 *
 * Scores (≥ 1 means "needs compaction"):
 *   L0      file count / l0CompactionTrigger — L0 files overlap, so every extra file costs each
 *           read one more table; counting files, not bytes, bounds that.
 *   Ln      bytes / target(n), target(1) = maxBytesForLevelBase, target(n+1) = target(n) ×
 *           levelSizeMultiplier. The last level has no target: there is nowhere to push to.
 * The most urgent level (highest score) goes first.
 *
 * Deletions (RocksDB's files marked for compaction): when no level needs compacting for size, a
 * table dense with deletes is taken — one the builder marked (a window of entries holding many
 * Deletes; options.ts, deletionCompactionTrigger) or one whose entries are at least half deletes
 * (point deletes and range tombstones), at least as many as the trigger. Such a table costs
 * every reader a step per deleted key and holds space it could give back. The densest goes
 * first; among equals the one with the oldest data (its deletes have waited longest). It is compacted into the next level, where its
 * deletes meet the versions they hide (and go, when nothing older lies below). A table at the
 * last level has nowhere to go and is left alone. Not done (yet): rewriting in place a table
 * that nothing below overlaps — the process-crash loop lost acknowledged writes with it, cause
 * not found; see the issue-23 report.
 *
 * Inputs at Ln (n ≥ 1) rotate through the key space with a per-level compact pointer (the
 * largest key of the previous compaction at that level), so every part of a level is compacted
 * in turn and a hot range does not starve the rest. At L0 the oldest file is taken together with
 * every L0 file that overlaps it, transitively — a newer L0 file must never end up below an older
 * one holding the same key. L1+ files never share a user key (compaction cuts between user keys
 * and the version set refuses touching ranges), so a file is already a clean boundary.
 */
import { compareKeys } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import type { Version } from '../version/version.js';
import { keyRangeOf, totalBytes, type Compaction, type CompactionInput } from './compaction.js';

export interface PickerOptions {
  readonly l0CompactionTrigger: number;
  readonly levelSizeMultiplier: number;
  readonly maxBytesForLevelBase: number;
  readonly targetFileSize: number;
  /** Undefined: no compaction for deletions (options.ts, deletionCompactionTrigger 0). */
  readonly deletionTrigger?: { readonly deletions: number } | undefined;
}

/** Share of a table's entries that are deletes: point deletes and range tombstones over all entries. */
export function deletionDensity(f: FileMetadata): number {
  const deletions = f.deleteCount + f.tombstoneCount;
  return deletions === 0 ? 0 : deletions / (f.entryCount + f.tombstoneCount);
}

/**
 * Whether compaction should take `f` for its deletes: marked by the builder, or at least half
 * deletes and at least `minDeletions` of them (a small flush holding one delete is left to
 * the ordinary L0 trigger).
 */
export function deletionHeavy(f: FileMetadata, minDeletions: number): boolean {
  return f.markedForCompaction || (f.deleteCount + f.tombstoneCount >= minDeletions && deletionDensity(f) >= 0.5);
}

/** Target size in bytes of level `level` (≥ 1). */
export function maxBytesForLevel(options: PickerOptions, level: number): number {
  let bytes = options.maxBytesForLevelBase;
  for (let l = 1; l < level; l++) bytes *= options.levelSizeMultiplier;
  return bytes;
}

/** LevelDB's limits: an output table overlapping more than this of its grandparents is cut. */
export function maxGrandparentOverlapBytes(options: Pick<PickerOptions, 'targetFileSize'>): number {
  return 10 * options.targetFileSize;
}

/** Growing the level-n inputs for free (no new level-n+1 files) stops at this many bytes. */
function expandedCompactionByteLimit(options: PickerOptions): number {
  return 25 * options.targetFileSize;
}

export interface LevelScore {
  readonly level: number;
  readonly score: number;
}

/** One score per level except the last (which cannot be compacted further down). */
export function computeScores(version: Version, options: PickerOptions): LevelScore[] {
  const out: LevelScore[] = [];
  for (let level = 0; level < version.numLevels - 1; level++) {
    const score =
      level === 0 ? version.files(0).length / options.l0CompactionTrigger : version.levelBytes(level) / maxBytesForLevel(options, level);
    out.push({ level, score });
  }
  return out;
}

/**
 * An estimate of the bytes compaction must still rewrite to bring every level under its target
 * (RocksDB's "estimated pending compaction bytes"): the write-stall signal that sees a backlog
 * at L1+ that the L0 file count does not.
 */
export function pendingCompactionBytes(version: Version, options: PickerOptions): number {
  let pending = 0;
  if (version.files(0).length >= options.l0CompactionTrigger) pending += version.levelBytes(0) + version.levelBytes(1);
  for (let level = 1; level < version.numLevels - 1; level++) {
    const bytes = version.levelBytes(level);
    const excess = bytes - maxBytesForLevel(options, level);
    if (excess <= 0 || bytes === 0) continue;
    // Pushing `excess` down rewrites it plus the overlapping part of the next level.
    pending += excess * (1 + version.levelBytes(level + 1) / bytes);
  }
  return Math.round(pending);
}

export class CompactionPicker {
  /** Per level: the largest key of the last compaction started there (the rotation point). */
  private readonly compactPointer: (Uint8Array | undefined)[] = [];

  constructor(private readonly options: PickerOptions) {}

  /**
   * The most urgent automatic compaction: a level whose score is ≥ 1, else a table dense with
   * deletes; undefined when there is neither.
   */
  pick(version: Version): Compaction | undefined {
    const scores = computeScores(version, this.options).sort((a, b) => b.score - a.score);
    const best = scores[0];
    if (best === undefined || best.score < 1) return this.pickForDeletions(version);
    const level = best.level;
    let inputs0: FileMetadata[];
    if (level === 0) {
      const files = version.files(0);
      // L0 is ordered newest first: start from the oldest file.
      inputs0 = expandL0(version, [files[files.length - 1]!]);
    } else {
      const files = version.files(level);
      const ptr = this.compactPointer[level];
      const start = ptr === undefined ? undefined : files.find((f) => compareLargest(f, ptr) > 0);
      inputs0 = [start ?? files[0]!];
    }
    return this.setup(version, level, inputs0, level === 0 ? 'l0-file-count' : 'level-size', best.score);
  }

  /**
   * A manual compaction of everything in [lo, hi] (inclusive, absent = unbounded), at every
   * level, in ONE pass into the bottom level: the output is bottommost, so every version no
   * snapshot needs and every tombstone goes, and each byte is rewritten once instead of once
   * per level (LevelDB's CompactRange rewrites level by level). The input set is closed under
   * overlap: any file overlapping the growing range at any level joins, until the range stops
   * growing. The output level is the deepest level holding data, or deeper when the data would
   * overflow that level's target (so automatic compaction does not immediately push it down).
   * Undefined when no file overlaps the range.
   */
  pickManual(version: Version, lo: Uint8Array | undefined, hi: Uint8Array | undefined): Compaction | undefined {
    let smallest = lo;
    let largest = hi;
    let inputs: CompactionInput[];
    for (let count = -1; ; ) {
      inputs = [];
      for (let level = 0; level < version.numLevels; level++) {
        const files = version.overlappingFiles(level, smallest, largest);
        if (files.length > 0) inputs.push({ level, files: level === 0 ? expandL0(version, files) : files });
      }
      const all = inputs.flatMap((i) => i.files);
      if (all.length === count || all.length === 0) break;
      count = all.length;
      const r = keyRangeOf(all)!;
      if (smallest !== undefined && compareKeys(r.smallest, smallest) < 0) smallest = r.smallest;
      if (largest !== undefined && compareKeys(r.largest, largest) > 0) largest = r.largest;
    }
    if (inputs.length === 0) return undefined;
    let deepest = 1;
    for (let level = 1; level < version.numLevels; level++) if (version.files(level).length > 0) deepest = level;
    const bytes = totalBytes(inputs.flatMap((i) => i.files));
    let outputLevel = deepest;
    while (outputLevel < version.numLevels - 1 && maxBytesForLevel(this.options, outputLevel) < bytes) outputLevel++;
    return { reason: 'manual', level: inputs[0]!.level, outputLevel, inputs, grandparents: [], score: 0, trivialMove: false };
  }

  /** The densest deletion-heavy table's compaction into the next level (see the top of the file), if any. */
  private pickForDeletions(version: Version): Compaction | undefined {
    const trigger = this.options.deletionTrigger;
    if (trigger === undefined) return undefined;
    let chosen: { level: number; file: FileMetadata; density: number } | undefined;
    for (let level = 0; level < version.numLevels - 1; level++) {
      for (const f of version.files(level)) {
        if (!deletionHeavy(f, trigger.deletions)) continue;
        const d = deletionDensity(f);
        if (chosen !== undefined && (d < chosen.density || (d === chosen.density && f.maxSeq >= chosen.file.maxSeq))) continue;
        chosen = { level, file: f, density: d };
      }
    }
    if (chosen === undefined) return undefined;
    const { level, file, density } = chosen;
    return this.setup(version, level, level === 0 ? expandL0(version, [file]) : [file], 'deletions', density);
  }

  private setup(version: Version, level: number, inputs0In: FileMetadata[], reason: 'l0-file-count' | 'level-size' | 'deletions', score: number): Compaction {
    let inputs0 = inputs0In;
    const outputLevel = level + 1;
    let range = keyRangeOf(inputs0)!;
    let inputs1 = version.overlappingFiles(outputLevel, range.smallest, range.largest);

    // LevelDB's free expansion: take more level-n files if that pulls in no more level-n+1 files.
    if (inputs1.length > 0 && level > 0) {
      const all = keyRangeOf([...inputs0, ...inputs1])!;
      const expanded0 = version.overlappingFiles(level, all.smallest, all.largest);
      if (expanded0.length > inputs0.length && totalBytes(expanded0) + totalBytes(inputs1) < expandedCompactionByteLimit(this.options)) {
        const r = keyRangeOf(expanded0)!;
        const expanded1 = version.overlappingFiles(outputLevel, r.smallest, r.largest);
        if (expanded1.length === inputs1.length) {
          inputs0 = expanded0;
          inputs1 = expanded1;
          range = r;
        }
      }
    }
    const all = keyRangeOf([...inputs0, ...inputs1])!;
    const grandparents = outputLevel + 1 < version.numLevels ? version.overlappingFiles(outputLevel + 1, all.smallest, all.largest) : [];
    // Rotate: the next compaction at this level starts after what this one takes.
    this.compactPointer[level] = range.largest;
    const trivialMove =
      inputs0.length === 1 &&
      inputs1.length === 0 &&
      totalBytes(grandparents) <= maxGrandparentOverlapBytes(this.options);
    const inputs: CompactionInput[] = [{ level, files: inputs0 }];
    if (inputs1.length > 0) inputs.push({ level: outputLevel, files: inputs1 });
    return { reason, level, outputLevel, inputs, grandparents, score, trivialMove };
  }
}

function compareLargest(f: FileMetadata, key: Uint8Array): number {
  return compareKeys(f.largestKey, key);
}

/** `seed` plus every L0 file overlapping the growing range, until it stops growing. */
function expandL0(version: Version, seed: readonly FileMetadata[]): FileMetadata[] {
  let chosen = new Set(seed);
  for (;;) {
    const r = keyRangeOf([...chosen])!;
    const next = new Set(version.overlappingFiles(0, r.smallest, r.largest));
    for (const f of chosen) next.add(f);
    if (next.size === chosen.size) break;
    chosen = next;
  }
  // Keep the version's order (newest first).
  return version.files(0).filter((f) => chosen.has(f));
}
