/**
 * Subcompactions (RocksDB's max_subcompactions): one compaction cut by user key into ranges
 * that are merged side by side — in different worker threads when there are several — and
 * recorded together in the compaction's one manifest edit.
 *
 * Why: under random writes every L0→L1 compaction overlaps all of L1 and rewrites it, so it is
 * the largest job there is, and while it runs L0 fills up and writes slow down. Cut in two, it
 * takes half as long on a second core (this machine's main thread is half idle during a fill).
 *
 * Where to cut: at the first key of an output-level input table, chosen so that the output-level
 * bytes on each side are as even as possible. Such a key is a clean boundary: sorted levels never
 * share a user key between two tables (picker.ts), so every version of a key falls into one
 * range, and versions are collapsed per key — the ranges make exactly the decisions the whole
 * compaction would. The inputs that straddle a boundary (L0 tables, or level-n tables of an
 * Ln→Ln+1 compaction) are read by both ranges, each from its own first key.
 *
 * Not cut: a compaction with range tombstones in its inputs (a tombstone spanning a boundary
 * would have to be split between the ranges' outputs; not done), one with fewer than two
 * output-level tables, or one smaller than MIN_RANGE_TARGETS target files per range.
 *
 * The cut depends only on the compaction and the options, never on the executor: the in-thread
 * executor runs the same ranges one after the other and writes byte-identical tables.
 */
import type { FileMetadata } from '../version/file-metadata.js';
import { inputFiles, isUniversalReason, totalBytes, type Compaction, type CompactionInput } from './compaction.js';
import { compareKeys } from '@strata-db/memtable';

/** A range is worth its own job only with at least this many target-size files of input. */
const MIN_RANGE_TARGETS = 2;

/** One range of a compaction: keys in [lo, hi) (absent = unbounded), and the inputs that hold any. */
export interface Subcompaction {
  readonly lo: Uint8Array | undefined;
  readonly hi: Uint8Array | undefined;
  readonly inputs: readonly CompactionInput[];
  readonly inputBytes: number;
}

/** Cuts `c` into at most `max` ranges (one range, the whole compaction, when it is not cut). */
export function subcompactionsOf(c: Compaction, max: number, targetFileSize: number): Subcompaction[] {
  const all = inputFiles(c);
  const bytes = totalBytes(all);
  const whole = [{ lo: undefined, hi: undefined, inputs: c.inputs, inputBytes: bytes }];
  const ranges = Math.min(max, Math.floor(bytes / (MIN_RANGE_TARGETS * targetFileSize)));
  if (ranges < 2 || all.some((f) => f.tombstoneCount > 0)) return whole;
  const out = boundaryFiles(c);
  if (out.length < 2) return whole;
  const bounds = boundaries(out, ranges);
  if (bounds.length === 0) return whole;
  const subs: Subcompaction[] = [];
  for (let i = 0; i <= bounds.length; i++) {
    const lo = i === 0 ? undefined : bounds[i - 1];
    const hi = i === bounds.length ? undefined : bounds[i];
    const inputs: CompactionInput[] = [];
    for (const input of c.inputs) {
      const files = input.files.filter((f) => inRange(f, lo, hi));
      if (files.length > 0) inputs.push({ level: input.level, files });
    }
    subs.push({ lo, hi, inputs, inputBytes: totalBytes(inputs.flatMap((x) => x.files)) });
  }
  return subs;
}

/**
 * The tables whose first keys may cut `c`: its output-level inputs. A universal merge into an
 * empty level has none; it is cut at the tables of its largest sorted input level instead (any
 * user key is a clean boundary for the merge: see the top of the file).
 */
function boundaryFiles(c: Compaction): readonly FileMetadata[] {
  const out = c.inputs.find((i) => i.level === c.outputLevel)?.files;
  if (out !== undefined || !isUniversalReason(c.reason)) return out ?? [];
  let best: readonly FileMetadata[] = [];
  for (const input of c.inputs) if (input.level > 0 && totalBytes(input.files) > totalBytes(best)) best = input.files;
  return best;
}

/** First keys of output-level tables that split their bytes into `ranges` parts as evenly as the tables allow. */
function boundaries(out: readonly FileMetadata[], ranges: number): Uint8Array[] {
  const total = totalBytes(out);
  const bounds: Uint8Array[] = [];
  let before = 0;
  let next = 1;
  for (let i = 0; i < out.length && next < ranges; i++) {
    const f = out[i]!;
    // Cut before f when that is at least as close to the ideal point as cutting after it.
    const ideal = (total * next) / ranges;
    if (i > 0 && before + f.fileSize / 2 >= ideal) {
      bounds.push(f.smallestKey);
      next++;
    }
    before += f.fileSize;
  }
  return bounds;
}

/** Does `f` hold any key in [lo, hi)? */
function inRange(f: FileMetadata, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean {
  return (lo === undefined || compareKeys(f.largestKey, lo) >= 0) && (hi === undefined || compareKeys(f.smallestKey, hi) < 0);
}
