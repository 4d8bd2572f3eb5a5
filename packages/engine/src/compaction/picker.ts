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
 * that nothing below overlaps. It was dropped when the process-crash loop reported acknowledged
 * writes lost with it (the issue-23 report); failures of that shape were later found to be the
 * loop missing its child's last stdout lines (test/reliability/support/crash-protocol.ts), so
 * the reason to drop it is probably gone, but it has not been tried again.
 *
 * Reads (LevelDB's seek compaction): when no level needs compacting for size and no table is
 * due for its deletes, the table whose read allowance ran out (version/read-allowances.ts: point
 * reads probed it in vain too often) is compacted into the next level, so the tables every get
 * passes through — L0 after a fill, above all — do not stay in the way of a read-heavy workload.
 *
 * Inputs at Ln (n ≥ 1), by `compactionPriority` (RocksDB's compaction_pri):
 *   'min-overlapping-ratio' (RocksDB's kMinOverlappingRatio) — the file whose overlap in Ln+1
 *           (bytes of the Ln+1 files its range touches) over its own compensated size is least:
 *           it moves the most bytes down for the fewest rewritten. Compensated size is RocksDB's:
 *           a file whose deletes (point deletes and range tombstones) are at least half its
 *           entries counts (2 × deletes − entries) × 2 more average entries (the Version's bytes
 *           per non-delete entry; RocksDB uses the average raw value), so a file dense with
 *           deletes goes sooner. Ties go to the smaller keys. The order is computed once per
 *           Version and level (both levels sorted: one pass, two pointers) and cached.
 *   'round-robin' (LevelDB's way, kRoundRobin) — rotate through the key space with a per-level
 *           compact pointer (the largest key of the previous compaction at that level), so every
 *           part of a level is compacted in turn and a hot range does not starve the rest.
 * Either way a file that is busy, or whose compaction could not run beside the running ones,
 * is passed over for the next in order. At L0 the oldest file is taken together with
 * every L0 file that overlaps it, transitively — a newer L0 file must never end up below an older
 * one holding the same key. L1+ files never share a user key (compaction cuts between user keys
 * and the version set refuses touching ranges), so a file is already a clean boundary.
 *
 * Compactions side by side (RocksDB's max_background_compactions; scheduler.ts runs up to
 * `maxBackgroundCompactions`): `pick` is given the compactions still running and picks only one
 * that cannot disturb them. The rules, each relied on for correctness:
 *   1. No input file is an input of a running compaction (a running job's inputs are deleted by
 *      its edit; taken twice, their data would be written twice and deleted twice).
 *   2. At most one compaction out of L0 at a time: L0 files overlap, and a newer L0 file must
 *      never end below an older one holding the same key — two L0 compactions could each take
 *      one of two such files and install them in either order.
 *   3. No two running compactions write overlapping key ranges into the same level: a
 *      compaction's outputs lie within the union of its inputs' ranges (its "span"), and L1+
 *      files never share a user key. For two compactions out of the same level this already
 *      follows from rule 1 (each takes every next-level file its inputs overlap); the check
 *      covers any other pair (a compaction into the bottom level, a trivial move) and any later
 *      change to the picker.
 * Why disjoint inputs suffice for the rest: a compaction from Ln takes EVERY Ln+1 file
 * overlapping its Ln inputs, and sorted levels are disjoint, so every other Ln+1 file lies wholly
 * outside its span. Other compactions can therefore only move keys outside that span into the
 * levels below its output level, and "may older data for this key lie below the output level?"
 * (compaction.ts, olderDataBelow, answered from the Version the job was picked from) stays true
 * for every key the job asks about while the others install their edits; newer data still only
 * ever sits above older. The edits are applied one at a time to the then-current Version
 * (VersionSet.logAndApply), which refuses any that would make L1+ files overlap.
 * Scores used for picking leave out files being compacted (as RocksDB's do), so a level whose
 * excess is already being worked on does not look more urgent than it is. A level whose pick is
 * blocked by a running compaction reserves its input levels: nothing else takes their files
 * meanwhile, so it goes as soon as the running job ends (an L0→L1 compaction, which under random
 * keys needs all of L1, is not starved by a stream of L1→L2 ones).
 */
import { compareKeys } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import type { Version } from '../version/version.js';
import { readCandidateGone, type ReadCandidate } from '../version/read-allowances.js';
import { keyRangeOf, totalBytes, type Compaction, type CompactionInput, type CompactionReason } from './compaction.js';

export interface PickerOptions {
  readonly l0CompactionTrigger: number;
  readonly levelSizeMultiplier: number;
  readonly maxBytesForLevelBase: number;
  readonly targetFileSize: number;
  /** Undefined: no compaction for deletions (options.ts, deletionCompactionTrigger 0). */
  readonly deletionTrigger?: { readonly deletions: number } | undefined;
  /** Which Ln file (n ≥ 1) to compact first (see the top of the file); default 'min-overlapping-ratio'. */
  readonly compactionPriority?: CompactionPriority | undefined;
}

/** RocksDB's compaction_pri, the two it is known for: see the top of the file. */
export type CompactionPriority = 'min-overlapping-ratio' | 'round-robin';
export const COMPACTION_PRIORITIES: readonly CompactionPriority[] = ['min-overlapping-ratio', 'round-robin'];
/** The default (options.ts resolves to it; a picker given no priority uses it too). */
export const DEFAULT_COMPACTION_PRIORITY: CompactionPriority = 'min-overlapping-ratio';

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

/**
 * One score per level except the last (which cannot be compacted further down). Files in
 * `busy` (inputs of running compactions) are left out: their level's excess is being worked on.
 */
export function computeScores(version: Version, options: PickerOptions, busy: ReadonlySet<number> = NONE): LevelScore[] {
  const out: LevelScore[] = [];
  for (let level = 0; level < version.numLevels - 1; level++) {
    let score: number;
    if (level === 0) {
      let files = 0;
      for (const f of version.files(0)) if (!busy.has(f.fileNumber)) files++;
      score = files / options.l0CompactionTrigger;
    } else {
      let bytes = version.levelBytes(level);
      if (busy.size > 0) for (const f of version.files(level)) if (busy.has(f.fileNumber)) bytes -= f.fileSize;
      score = bytes / maxBytesForLevel(options, level);
    }
    out.push({ level, score });
  }
  return out;
}

const NONE: ReadonlySet<number> = new Set();

/** What the running compactions hold: the picker's constraints (rules 1–3 at the top of the file; universal-picker.ts keeps 1 and 3). */
export interface Running {
  /** Input file numbers of running compactions. */
  readonly busy: ReadonlySet<number>;
  /** A running compaction takes L0 files. */
  readonly l0: boolean;
  /** Per running compaction: its output level and the key span its outputs may cover. */
  readonly spans: readonly { readonly level: number; readonly smallest: Uint8Array; readonly largest: Uint8Array }[];
}

export function runningOf(compactions: readonly Compaction[]): Running {
  const busy = new Set<number>();
  let l0 = false;
  const spans: { level: number; smallest: Uint8Array; largest: Uint8Array }[] = [];
  for (const c of compactions) {
    for (const input of c.inputs) {
      if (input.level === 0) l0 = true;
      for (const f of input.files) busy.add(f.fileNumber);
    }
    const r = keyRangeOf(c.inputs.flatMap((i) => i.files));
    if (r !== undefined) spans.push({ level: c.outputLevel, ...r });
  }
  return { busy, l0, spans };
}

/** Whether `c` may run beside the running compactions (rules 1–3). */
function compatible(c: Compaction, running: Running): boolean {
  if (running.spans.length === 0) return true;
  for (const input of c.inputs) {
    if (input.level === 0 && running.l0) return false;
    for (const f of input.files) if (running.busy.has(f.fileNumber)) return false;
  }
  return !outputSpanTaken(c, running);
}

/** Rule 3: a running compaction writes a key range overlapping `c`'s span into `c`'s output level. */
export function outputSpanTaken(c: Compaction, running: Running): boolean {
  const r = keyRangeOf(c.inputs.flatMap((i) => i.files))!;
  for (const s of running.spans) {
    if (s.level === c.outputLevel && compareKeys(s.smallest, r.largest) <= 0 && compareKeys(r.smallest, s.largest) <= 0) return true;
  }
  return false;
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

/**
 * A file's size for picking (RocksDB's compensated_file_size): its bytes, plus, when deletes are
 * at least half its entries, (2 × deletes − entries) × 2 × `entryBytes` (the average bytes of a
 * non-delete entry) — each delete stands for a value it will remove below.
 */
export function compensatedSize(f: FileMetadata, entryBytes: number): number {
  return f.fileSize + excessDeletes(f) * 2 * entryBytes;
}

/** 2 × deletes − entries when deletes are at least half the entries, else 0 (compensatedSize). */
function excessDeletes(f: FileMetadata): number {
  return Math.max(0, 2 * (f.deleteCount + f.tombstoneCount) - (f.entryCount + f.tombstoneCount));
}

/** The Version's bytes per non-delete entry (compensatedSize's average entry); 0 when it holds none. */
export function averageEntryBytes(version: Version): number {
  let bytes = 0;
  let entries = 0;
  for (let level = 0; level < version.numLevels; level++) {
    for (const f of version.files(level)) {
      bytes += f.fileSize;
      entries += f.entryCount - f.deleteCount;
    }
  }
  return entries > 0 ? bytes / entries : 0;
}

/**
 * Per file of `files` (a sorted level), the bytes of the `next` level's files its range
 * overlaps. Both levels are sorted and their files disjoint, so the first and the past-last
 * overlapping `next` files only move forward: one pass with two pointers over prefix sums.
 */
export function overlappingBytes(files: readonly FileMetadata[], next: readonly FileMetadata[]): Float64Array {
  const prefix = new Float64Array(next.length + 1);
  for (let i = 0; i < next.length; i++) prefix[i + 1] = prefix[i]! + next[i]!.fileSize;
  const out = new Float64Array(files.length);
  let first = 0;
  let end = 0;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    while (first < next.length && compareKeys(next[first]!.largestKey, f.smallestKey) < 0) first++;
    if (end < first) end = first;
    while (end < next.length && compareKeys(next[end]!.smallestKey, f.largestKey) <= 0) end++;
    out[i] = prefix[end]! - prefix[first]!;
  }
  return out;
}

/**
 * The indexes of `version`'s files at `level` (≥ 1, not the last), least overlapping ratio
 * first (see the top of the file); ties in key order.
 */
export function minOverlappingRatioOrder(version: Version, level: number): Uint32Array {
  const files = version.files(level);
  const overlap = overlappingBytes(files, version.files(level + 1));
  const ratio = new Float64Array(files.length);
  // The Version's average entry is needed only for a file at least half deletes (rare: not at
  // all in a fill), so it is computed at the first such file.
  let average: number | undefined;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const entryBytes = excessDeletes(f) > 0 ? (average ??= averageEntryBytes(version)) : 0;
    ratio[i] = overlap[i]! / Math.max(1, compensatedSize(f, entryBytes));
  }
  const order = new Uint32Array(files.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => ratio[a]! - ratio[b]! || a - b);
}

export class CompactionPicker {
  /** Per level: the largest key of the last compaction started there (the rotation point). */
  private readonly compactPointer: (Uint8Array | undefined)[] = [];
  /** Per Version (immutable) and level: minOverlappingRatioOrder, computed at its first pick. */
  private readonly orders = new WeakMap<Version, (Uint32Array | undefined)[]>();

  constructor(private readonly options: PickerOptions) {}

  /**
   * The most urgent automatic compaction that can run beside `running` (the compactions not
   * finished yet, picked from this or an older Version; see the top of the file): a level whose
   * score is ≥ 1, else a table dense with deletes, else `readCandidate` (a table whose read
   * allowance ran out: version/read-allowances.ts); undefined when there is none of these.
   */
  pick(version: Version, runningCompactions: readonly Compaction[] = [], readCandidate?: ReadCandidate): Compaction | undefined {
    const running = runningOf(runningCompactions);
    const scores = computeScores(version, this.options, running.busy).sort((a, b) => b.score - a.score);
    /** Levels a blocked, more urgent compaction needs: nothing else takes their files meanwhile. */
    const reserved = new Set<number>();
    for (const { level, score } of scores) {
      if (score < 1) break;
      if (reserved.has(level) || reserved.has(level + 1)) continue;
      const c = level === 0 ? this.pickL0(version, score, running) : this.pickLevel(version, level, score, running);
      if (c !== undefined) return c;
      reserved.add(level);
      reserved.add(level + 1);
    }
    if (reserved.size > 0) return undefined;
    return this.pickForDeletions(version, running) ?? (readCandidate === undefined ? undefined : this.pickForReads(version, readCandidate, running));
  }

  /**
   * The compaction of a table whose read allowance ran out (version/read-allowances.ts) into the
   * next level — at L0 with every L0 table overlapping it, as any L0 compaction — when it is still
   * at its level, not at the last level, and can run beside the running ones.
   */
  private pickForReads(version: Version, candidate: ReadCandidate, running: Running): Compaction | undefined {
    const { level, file } = candidate;
    if (readCandidateGone(version, candidate) || running.busy.has(file.fileNumber) || (level === 0 && running.l0)) return undefined;
    const c = this.setup(version, level, level === 0 ? expandL0(version, [file]) : [file], 'reads', 0, running);
    return compatible(c, running) ? this.rotate(c) : undefined;
  }

  /** L0 → L1: the oldest L0 file and every L0 file overlapping it, transitively. */
  private pickL0(version: Version, score: number, running: Running): Compaction | undefined {
    if (running.l0) return undefined;
    const files = version.files(0);
    // L0 is ordered newest first: start from the oldest file.
    const c = this.setup(version, 0, expandL0(version, [files[files.length - 1]!]), 'l0-file-count', score, running);
    return compatible(c, running) ? this.rotate(c) : undefined;
  }

  /**
   * Ln → Ln+1 (n ≥ 1): the first file in the order of `compactionPriority` (the least
   * overlapping ratio, or after the level's compact pointer in rotation) whose compaction can
   * run beside the running ones.
   */
  private pickLevel(version: Version, level: number, score: number, running: Running): Compaction | undefined {
    const files = version.files(level);
    for (const i of this.inputOrder(version, level)) {
      const f = files[i]!;
      if (running.busy.has(f.fileNumber)) continue;
      const c = this.setup(version, level, [f], 'level-size', score, running);
      if (compatible(c, running)) return this.rotate(c);
    }
    return undefined;
  }

  /** The indexes of the files at `level` (≥ 1) in the order `compactionPriority` tries them. */
  private inputOrder(version: Version, level: number): Iterable<number> {
    if ((this.options.compactionPriority ?? DEFAULT_COMPACTION_PRIORITY) === 'min-overlapping-ratio') {
      let perLevel = this.orders.get(version);
      if (perLevel === undefined) this.orders.set(version, (perLevel = []));
      return (perLevel[level] ??= minOverlappingRatioOrder(version, level));
    }
    // Round-robin: from the first file past the level's compact pointer, wrapping around.
    const files = version.files(level);
    const ptr = this.compactPointer[level];
    const start = Math.max(0, ptr === undefined ? 0 : files.findIndex((f) => compareLargest(f, ptr) > 0));
    return Array.from({ length: files.length }, (_, i) => (start + i) % files.length);
  }

  /**
   * A manual compaction of everything in [lo, hi] (inclusive, absent = unbounded), at every
   * level, in ONE pass into the bottom level: the output is bottommost, so every version no
   * snapshot needs and every tombstone goes, and each byte is rewritten once instead of once
   * per level (LevelDB's CompactRange rewrites level by level). The input set is closed under
   * overlap: any file overlapping the growing range at any level joins, until the range stops
   * growing. The output level is the deepest level holding data, or deeper when the data would
   * overflow that level's target (so automatic compaction does not immediately push it down).
   * Undefined when no file overlaps the range. `bottom`: into the last level whatever the data
   * (universal compaction, as RocksDB's CompactRange there: universal-picker.ts).
   */
  pickManual(version: Version, lo: Uint8Array | undefined, hi: Uint8Array | undefined, bottom = false): Compaction | undefined {
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
    let outputLevel = bottom ? version.numLevels - 1 : deepest;
    while (outputLevel < version.numLevels - 1 && maxBytesForLevel(this.options, outputLevel) < bytes) outputLevel++;
    return { reason: 'manual', level: inputs[0]!.level, outputLevel, inputs, grandparents: [], score: 0, trivialMove: false };
  }

  /**
   * The densest deletion-heavy table's compaction into the next level (see the top of the file)
   * that can run beside the running ones, if any.
   */
  private pickForDeletions(version: Version, running: Running): Compaction | undefined {
    const trigger = this.options.deletionTrigger;
    if (trigger === undefined) return undefined;
    const candidates: { level: number; file: FileMetadata; density: number }[] = [];
    for (let level = 0; level < version.numLevels - 1; level++) {
      for (const f of version.files(level)) {
        if (!deletionHeavy(f, trigger.deletions) || running.busy.has(f.fileNumber)) continue;
        candidates.push({ level, file: f, density: deletionDensity(f) });
      }
    }
    // Densest first; among equals the oldest data (smallest maxSeq).
    candidates.sort((a, b) => b.density - a.density || a.file.maxSeq - b.file.maxSeq);
    for (const { level, file, density } of candidates) {
      const c = this.setup(version, level, level === 0 ? expandL0(version, [file]) : [file], 'deletions', density, running);
      if (compatible(c, running)) return this.rotate(c);
    }
    return undefined;
  }

  /** Rotates `c`'s level: its next compaction starts after what `c` takes. */
  private rotate(c: Compaction): Compaction {
    this.compactPointer[c.level] = keyRangeOf(c.inputs[0]!.files)!.largest;
    return c;
  }

  private setup(version: Version, level: number, inputs0In: FileMetadata[], reason: Exclude<CompactionReason, 'manual'>, score: number, running: Running): Compaction {
    let inputs0 = inputs0In;
    const outputLevel = level + 1;
    const range = keyRangeOf(inputs0)!;
    let inputs1 = version.overlappingFiles(outputLevel, range.smallest, range.largest);

    // LevelDB's free expansion: take more level-n files if that pulls in no more level-n+1 files.
    if (inputs1.length > 0 && level > 0) {
      const all = keyRangeOf([...inputs0, ...inputs1])!;
      const expanded0 = version.overlappingFiles(level, all.smallest, all.largest);
      if (
        expanded0.length > inputs0.length &&
        totalBytes(expanded0) + totalBytes(inputs1) < expandedCompactionByteLimit(this.options) &&
        !expanded0.some((f) => running.busy.has(f.fileNumber))
      ) {
        const r = keyRangeOf(expanded0)!;
        const expanded1 = version.overlappingFiles(outputLevel, r.smallest, r.largest);
        if (expanded1.length === inputs1.length) {
          inputs0 = expanded0;
          inputs1 = expanded1;
        }
      }
    }
    const all = keyRangeOf([...inputs0, ...inputs1])!;
    const grandparents = outputLevel + 1 < version.numLevels ? version.overlappingFiles(outputLevel + 1, all.smallest, all.largest) : [];
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
