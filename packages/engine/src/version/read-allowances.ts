/**
 * Read-triggered compaction's bookkeeping (LevelDB's allowed_seeks / file_to_compact_): how many
 * more wasted probes each table may cost point reads before compaction takes it.
 *
 * A `get` that probes more than one table charges the first table it probed (read/get.ts): that
 * table was looked in — key range, bloom filter, maybe a block — without deciding the read. Each
 * table starts with max(readCompactionMinSeeks, fileSize / readCompactionBytesPerSeek) charges
 * — the reasoning of LevelDB, whose 16 KiB per seek priced a probe as a disk seek: a table probed
 * in vain that often has cost its readers about as much as its compaction will. A probe of a
 * cached table costs far less than a compaction is worth (~0.2 µs against tens of MB written),
 * hence off by default (options.ts, readCompactionBytesPerSeek 0). When a table's
 * allowance runs out it becomes the candidate, and the picker (picker.ts, pickForReads) compacts
 * it into the next level once no level needs compacting for size: under a read-heavy workload
 * after a fill, the L0 tables every get passes through are merged away.
 *
 * Allowances are kept per FileMetadata object in a WeakMap, so a table that leaves every Version
 * takes its entry with it. Charged on the JS thread only; no allocation per charge (a Map update
 * of an existing entry) except when a candidate is named.
 */
import type { FileMetadata } from './file-metadata.js';
import type { Version } from './version.js';

export interface ReadCandidate {
  readonly level: number;
  readonly file: FileMetadata;
}

/**
 * `c` can no longer be compacted for reads in `version`: its table left its level (compacted or
 * moved since it was named), or it is at the last level, which has nowhere to go.
 */
export function readCandidateGone(version: Version, c: ReadCandidate): boolean {
  return c.level >= version.numLevels - 1 || !version.files(c.level).includes(c.file);
}

export class ReadAllowances {
  private readonly left = new WeakMap<FileMetadata, number>();
  /** The table whose allowance ran out, not compacted yet (at most one, as LevelDB's). */
  private named: ReadCandidate | undefined;

  /**
   * @param bytesPerSeek readCompactionBytesPerSeek (> 0)
   * @param minSeeks readCompactionMinSeeks
   * @param onExhausted called when a candidate is named (the core schedules compaction)
   */
  constructor(
    private readonly bytesPerSeek: number,
    private readonly minSeeks: number,
    private readonly onExhausted: () => void,
  ) {}

  get candidate(): ReadCandidate | undefined {
    return this.named;
  }

  /** A point read looked in `f` (at `level`) in vain before looking in another table. */
  charge(level: number, f: FileMetadata): void {
    let left = this.left.get(f);
    if (left === undefined) left = Math.max(this.minSeeks, Math.floor(f.fileSize / this.bytesPerSeek));
    this.left.set(f, --left);
    if (left <= 0 && this.named === undefined) {
      this.named = { level, file: f };
      this.onExhausted();
    }
  }

  /**
   * The candidate is gone: compacted (the picker took it) or no longer at its level. Its table
   * starts a fresh allowance if it lives on (a trivial move keeps the FileMetadata).
   */
  clear(): void {
    if (this.named !== undefined) this.left.delete(this.named.file);
    this.named = undefined;
  }
}
