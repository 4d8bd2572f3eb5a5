/**
 * A Compaction: what the picker chose — input files at `level` and `level + 1`, the output
 * level, the grandparents that bound output table overlap — and the questions the job asks of
 * it. Plain data plus pure helpers; the job (job.ts) runs it.
 */
import { compareKeys } from '@strata-db/memtable';
import type { FileMetadata } from '../version/file-metadata.js';
import type { Version } from '../version/version.js';
import type { OlderDataBelow } from './compaction-iterator.js';
import { rangesOverlap, type KeyRange } from './key-range.js';
import { grandparentBoundaries, type GrandparentBoundaries } from './output-splitter.js';

/**
 * `deletions`: a table dense with deletes (picker.ts, pickForDeletions); `reads`: a table point
 * reads probed in vain too often (picker.ts, pickForReads).
 */
export type CompactionReason = 'l0-file-count' | 'level-size' | 'deletions' | 'reads' | 'manual' | UniversalReason;

/**
 * Universal compaction's reasons (universal-picker.ts, rules 1–3): `size-amplification` (a full
 * merge), `size-ratio` (runs of similar size), `sorted-runs` (too many runs).
 */
export type UniversalReason = 'size-amplification' | 'size-ratio' | 'sorted-runs';

/** Whether `reason` is one of universal compaction's (a merge of whole sorted runs). */
export function isUniversalReason(reason: CompactionReason): reason is UniversalReason {
  return reason === 'size-amplification' || reason === 'size-ratio' || reason === 'sorted-runs';
}

export interface CompactionInput {
  readonly level: number;
  readonly files: readonly FileMetadata[];
}

export interface Compaction {
  readonly reason: CompactionReason;
  /** The shallowest input level (the level whose score started an automatic compaction). */
  readonly level: number;
  /**
   * Where outputs go: level + 1 for an automatic leveled compaction; the bottom level for a
   * manual one; for a universal merge, the level above the next older run, the last level, or
   * L0 (then as one table: universal-picker.ts).
   */
  readonly outputLevel: number;
  /**
   * Input files by level, shallowest first, at most one entry per level. Automatic leveled: the
   * files of `level` and the files of `level + 1` they overlap. Manual: everything in the range,
   * at every level. Universal: whole sorted runs contiguous in age (L0 tables, whole levels).
   * Invariant relied on (closure): no file left out at any input level or between them overlaps
   * the union of the inputs' ranges with older data — so the outputs, placed at `outputLevel`,
   * never end up below a newer version of one of their keys.
   */
  readonly inputs: readonly CompactionInput[];
  /** Files of outputLevel + 1 overlapping the inputs: output tables are cut to limit overlap with them. */
  readonly grandparents: readonly FileMetadata[];
  /** The score that made the level eligible (0 for manual). */
  readonly score: number;
  /** A single file that can simply be re-parented to the output level without rewriting. */
  readonly trivialMove: boolean;
  /**
   * Universal only: the running merge whose edit must be installed before this one's. Its
   * newest input is the L0 table just older than this merge's inputs, so this merge's output
   * goes just above that merge's output level, where it may lie only once that merge's inputs
   * (older data, in L0 until then) are gone (universal-picker.ts, "a busy next older run").
   */
  readonly after?: Compaction;
}

export function inputFiles(c: Compaction): FileMetadata[] {
  return c.inputs.flatMap((i) => i.files);
}

export function totalBytes(files: readonly FileMetadata[]): number {
  let n = 0;
  for (const f of files) n += f.fileSize;
  return n;
}

/** The inclusive key range covered by `files` (undefined when empty). */
export function keyRangeOf(files: readonly FileMetadata[]): { smallest: Uint8Array; largest: Uint8Array } | undefined {
  let smallest: Uint8Array | undefined;
  let largest: Uint8Array | undefined;
  for (const f of files) {
    if (smallest === undefined || compareKeys(f.smallestKey, smallest) < 0) smallest = f.smallestKey;
    if (largest === undefined || compareKeys(f.largestKey, largest) > 0) largest = f.largestKey;
  }
  return smallest === undefined || largest === undefined ? undefined : { smallest, largest };
}

/**
 * Whether the outputs will be the bottommost data of their keys: no file below the output level
 * overlaps the inputs' key range (RocksDB's "bottommost level" compaction). Such tables are where
 * data comes to rest, so they get the bottommost codec (options.ts, compressionFor).
 */
export function isBottommost(c: Compaction, version: Version): boolean {
  const range = keyRangeOf(inputFiles(c));
  return range === undefined || olderRunsOverlapping(version, c, range.smallest, range.largest).length === 0;
}

/**
 * The data older than `c`'s inputs that may share a key in [smallest, largest] with its outputs,
 * as lists of sorted, disjoint files (what `coveredSpans` and `olderDataBelowLevels` take): the
 * files of every level below the output level that overlap the range, and — for an output into
 * L0 (universal compaction, universal-picker.ts) — each L0 file older than the inputs that
 * overlaps it, as a list of its own (L0 files overlap one another). An L0 output's inputs are
 * contiguous L0 files, so the older ones are those after the oldest input in L0's order.
 * A universal merge installed `after` another (its inputs are L0 files, its output level is the
 * other's output level − 1) has older data both in L0 and at every level from L1 down (the
 * other's inputs, until its edit): all of them are counted.
 */
export function olderRunsOverlapping(version: Version, c: Compaction, smallest: Uint8Array, largest: Uint8Array): (readonly FileMetadata[])[] {
  const lists: (readonly FileMetadata[])[] = [];
  const waits = c.after !== undefined;
  if (c.outputLevel === 0 || waits) {
    const l0 = version.files(0);
    const inputs = new Set(c.inputs.find((i) => i.level === 0)?.files.map((f) => f.fileNumber));
    let oldestInput = -1;
    for (let i = 0; i < l0.length; i++) if (inputs.has(l0[i]!.fileNumber)) oldestInput = i;
    for (let i = oldestInput + 1; i < l0.length; i++) if (rangesOverlap(l0[i]!, smallest, largest)) lists.push([l0[i]!]);
  }
  for (let l = waits ? 1 : c.outputLevel + 1; l < version.numLevels; l++) {
    const files = version.overlappingFiles(l, smallest, largest);
    if (files.length > 0) lists.push(files);
  }
  return lists;
}

/**
 * "May older data for these keys exist below the output level?" answered from the Version the
 * compaction was picked from. Every level deeper than the output level is sorted and
 * non-overlapping (L1+ invariant), so a key needs one binary search per level; keys arrive in
 * ascending order, so a per-level cursor makes the whole pass linear (as LevelDB's
 * IsBaseLevelForKey). Data can only be older there: newer versions of a key always sit at
 * shallower levels (flush writes L0; compaction moves data only downward).
 */
export function olderDataBelow(version: Version, outputLevel: number): OlderDataBelow {
  return olderDataBelowLevels(levelsBelow(version, outputLevel));
}

/** The non-empty levels deeper than `outputLevel`, shallowest first (each sorted, disjoint). */
export function levelsBelow(version: Version, outputLevel: number): (readonly FileMetadata[])[] {
  const levels: (readonly FileMetadata[])[] = [];
  for (let l = outputLevel + 1; l < version.numLevels; l++) if (version.files(l).length > 0) levels.push(version.files(l));
  return levels;
}

/**
 * What one background job needs of the levels below its output level and of its grandparents.
 * A job is sent to a worker as a structured-cloned message, and it carried the whole of every
 * deeper level — thousands of files at 100M keys, each an object and two key buffers in the
 * worker's heap, ~8 ms of the main thread's CPU to post — with every job, however few keys it
 * merged (an L1→L2 of 3 tables carried all of L3), and again with every range of a
 * subcompaction. Now:
 *
 *  - only files overlapping the keys the job can write, [smallest, largest] (inclusive; a
 *    subcompaction's exclusive `hi` taken as inclusive is conservative): `olderDataBelow` and
 *    the output splitter only look at files that overlap a key they are given, and a
 *    grandparent wholly before the first key is passed over uncounted (output-splitter.ts);
 *  - `below`: the union of the deeper levels' file ranges (`coveredSpans`; and of the older L0
 *    files' for an output into L0: `olderRunsOverlapping`), one sorted list. The
 *    question asked of it — may a file below hold this key, or a key of this range? — has the
 *    same answer for the union as for the files. Under random writes the levels' gaps between
 *    tables fall in different places, so the union of L2, L3, … is a few spans where the files
 *    were thousands: an L0→L1 spanning the key space carries a few spans instead of every file
 *    of L2 and below;
 *  - `grandparents`: what the output splitter reads of them, their largest keys and sizes in
 *    three typed arrays (output-splitter.ts, GrandparentBoundaries), not their metadata. They
 *    stay one entry per file — the splitter counts their bytes between the keys it is given,
 *    so a union or a sum of neighbours would move the cuts — but an entry is ~28 bytes in one
 *    buffer instead of an object and two key buffers: an L0→L1 under random writes takes every
 *    file of L2 as grandparents, ~2,000 at 100M keys.
 */
export function jobLevelsBelow(
  version: Version,
  c: Compaction,
  smallest: Uint8Array,
  largest: Uint8Array,
): { below: KeyRange[]; grandparents: GrandparentBoundaries } {
  return {
    below: coveredSpans(olderRunsOverlapping(version, c, smallest, largest)),
    grandparents: grandparentBoundaries(c.grandparents.filter((f) => rangesOverlap(f, smallest, largest))),
  };
}

/**
 * The keys covered by at least one file of `levels` (each sorted, disjoint): their union as
 * sorted, disjoint inclusive spans. Files that overlap or share an end key merge into one span;
 * a gap between two spans holds keys no file covers. Linear: a merge of the levels by smallest key.
 */
export function coveredSpans(levels: readonly (readonly KeyRange[])[]): KeyRange[] {
  const heads = levels.map(() => 0);
  const out: { smallestKey: Uint8Array; largestKey: Uint8Array }[] = [];
  for (;;) {
    let best = -1;
    let bestKey: Uint8Array | undefined;
    for (let i = 0; i < levels.length; i++) {
      const f = levels[i]![heads[i]!];
      if (f !== undefined && (bestKey === undefined || compareKeys(f.smallestKey, bestKey) < 0)) {
        best = i;
        bestKey = f.smallestKey;
      }
    }
    if (best < 0) return out;
    const f = levels[best]![heads[best]!]!;
    heads[best]!++;
    const last = out.at(-1);
    if (last !== undefined && compareKeys(f.smallestKey, last.largestKey) <= 0) {
      if (compareKeys(f.largestKey, last.largestKey) > 0) last.largestKey = f.largestKey;
    } else {
      out.push({ smallestKey: f.smallestKey, largestKey: f.largestKey });
    }
  }
}

/** `olderDataBelow` over the levels `levelsBelow` returned (what a background job is given). */
export function olderDataBelowLevels(levels: readonly (readonly KeyRange[])[]): OlderDataBelow {
  const cursors = levels.map(() => 0);
  return {
    key(key) {
      for (let i = 0; i < levels.length; i++) {
        const files = levels[i]!;
        let c = cursors[i]!;
        while (c < files.length && compareKeys(files[c]!.largestKey, key) < 0) c++;
        cursors[i] = c;
        if (c < files.length && compareKeys(files[c]!.smallestKey, key) <= 0) return true;
      }
      return false;
    },
    range(start, end) {
      for (const files of levels) {
        // First file whose largest ≥ start; it overlaps [start, end) iff its smallest < end.
        let lo = 0;
        let hi = files.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareKeys(files[mid]!.largestKey, start) < 0) lo = mid + 1;
          else hi = mid;
        }
        if (lo < files.length && compareKeys(files[lo]!.smallestKey, end) < 0) return true;
      }
      return false;
    },
  };
}
