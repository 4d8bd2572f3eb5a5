/**
 * Which data blocks of a table being built get a compression attempt, from what the attempts
 * before them in the same table gave (an early abort: btrfs marks a file NOCOMPRESS after
 * incompressible writes, ZFS aborts early, RocksDB's auto-skip compressor skips by a rejection
 * ratio; the rule here is this package's own).
 *
 * A block that does not shrink by 1/8 is stored raw (sstable-core's compression.ts), so on
 * incompressible data — random, already-compressed or encrypted values, the db_bench values —
 * every attempt is thrown away (for deflate at ~10× lz4's cost), and a table's data is usually
 * of one kind. The rule:
 *
 *   - every block is tried until REFUSALS_BEFORE_PROBING attempts in a row were refused (an odd
 *     block that does not shrink among ones that do costs no later block anything);
 *   - from then on only every PROBE_INTERVAL-th block of the table is tried (block index
 *     ≡ 0 mod 16), the others stored raw untried;
 *   - an attempt that shrinks resumes trying every block.
 *
 * What it costs and buys (4 KiB blocks; a 2 MiB table holds ~512 data blocks):
 *   - incompressible data: 8 + 31 attempts in 512 blocks (7.6%), tending to 1/16: counted in a
 *     compaction, ~0.25 ms of CPU per MB written (a refused lz4 attempt ~13 µs in place, its
 *     result copied out of WebAssembly memory and dropped), ~1.8% of a compaction's
 *     (docs/performance/session-18.md);
 *   - data that compresses: every block tried, as without the rule;
 *   - data that turns compressible: at most PROBE_INTERVAL − 1 blocks (60 KiB) stored raw before
 *     the next probe, which shrinks and resumes trying every block — the worst-case loss per turn.
 *
 * Measured and not taken (session 18): skips doubling 1, 2, 4 … 64 after 4 refusals — 3.1% of
 * random blocks tried instead of 7.6%, but up to 64 blocks lost per turn: a corpus of alternating
 * runs of JSON and random values (~90 and ~60 blocks) came out 8.8% larger, for a CPU saving of
 * ~0.15 ms per MB (~1% of a compaction). A longer skip saves little, and costs bytes whenever
 * data changes kind.
 *
 * Per table, not carried from one table to the next, and by block index rather than a clock or
 * randomness (RocksDB's auto-skip draws at random): a table's bytes depend on its own entries
 * only, so the in-thread and worker executors write identical tables (the engine tests that).
 */
const REFUSALS_BEFORE_PROBING = 8;
/** Blocks per probe in an incompressible run: the worst-case loss when data turns compressible is one less. */
export const PROBE_INTERVAL = 16;

export class CompressionSkip {
  /** Attempts refused in a row. */
  private refusedRun = 0;
  /** Blocks tried, and blocks not tried because of this rule: together, the blocks asked about. */
  attempts = 0;
  skipped = 0;

  /** Whether to try compressing the next block; a false answer counts it as skipped. */
  attempt(): boolean {
    // The probe schedule is by the block's index in the table: every block asked about so far.
    const index = this.attempts + this.skipped;
    if (this.refusedRun < REFUSALS_BEFORE_PROBING || index % PROBE_INTERVAL === 0) {
      this.attempts++;
      return true;
    }
    this.skipped++;
    return false;
  }

  /** The outcome of the attempt `attempt()` allowed. */
  record(shrank: boolean): void {
    this.refusedRun = shrank ? 0 : this.refusedRun + 1;
  }
}
