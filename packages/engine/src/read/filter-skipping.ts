/**
 * Filters that pay for themselves: per level of the read path, whether point reads probe the
 * tables' bloom filters, decided from how often those filters reject (the `skipUnhelpfulFilters`
 * option; RocksDB's static `optimize_filters_for_hits` drops the last level's filters for good,
 * this decides at read time, for every level, and changes its mind).
 *
 * Why: a get of a key that exists asks, at the level where the key lives, a filter that always
 * says "maybe" — the probe is pure cost, and its filter partition takes table-cache room that the
 * index partitions need (at 100M keys ~110 MB of filter partitions, 90% of them at the bottom
 * level, share a 64 MiB tableCacheSize with ~180 MB of index partitions). Filters of the upper
 * levels, which most gets pass through on their way down, reject almost every probe and stay.
 *
 * Skipping is always correct: a filter only prunes. A table whose filter is not asked is searched
 * through its index and block, which give the same answer the filter's "maybe" would have led to
 * (Table.find, `useFilter`); only the cost differs.
 *
 * The cost model (per table probe; figures from sessions 21–23 on this guest):
 *   - a probe costs c: warm ~0.1–0.2 µs (partition-cache hit, k bit reads, CPU-cache misses at
 *     10M keys); with its filter partition loaded from the file, + ~15–27 µs (pread, checksum).
 *   - a reject saves s: the index partition's search (~0.3 µs warm, + a partition load cold) and
 *     the data block's read and seek (~1 µs on a block-cache hit, ~5.5 µs on a miss).
 *   - probing pays while rejectRate × s > c, i.e. above the break-even rate c / s: warm
 *     0.15 / 1.3 ≈ 0.12; cold the load terms dominate both sides (filter and index partitions
 *     compete for the same cache and miss alike: c ≈ 20, s ≈ 20 + 5.5) and it rises to ~0.8.
 *   So the lowest break-even is the warm one, ~1/8. Skipping starts below SKIP_BELOW = 1/16
 *   (half of it: a noisy estimate errs on the side of keeping a filter), and resumes once the
 *   sampled probes reject at RESUME_AT = 1/8 or more (hysteresis: a rate near the threshold
 *   does not flap). Not counted: what skipping frees in the table cache for index partitions,
 *   which only adds to what a skip saves.
 *
 * The estimate: per level, windows of WINDOW filter probes; at the end of each, the level skips
 * or probes according to the window's reject rate. While skipping, one table probe in SAMPLE
 * still asks the filter, so the estimate stays current (a sampled probe at 100M keys mostly
 * loads its filter partition: ~20 µs / 32 ≈ 0.6 µs a get); a skipping level whose samples reach
 * RESUME_AT × WINDOW rejects resumes at once, without waiting for its window to fill (a workload
 * of absent keys starting: ~1,000 table probes later).
 *
 * Hot path: `probeFilter` is one typed-array load while a level probes; `record` a few
 * increments. One object per database (DbCore.filters), used only on the JS thread.
 */

/** Window of filter probes over which a level's reject rate is judged. */
export const WINDOW = 256;
/** A level skips when fewer than this fraction of a window's probes were rejected. */
export const SKIP_BELOW = 1 / 16;
/** A skipping level resumes once its sampled probes rejected this fraction of a window. */
export const RESUME_AT = 1 / 8;
/** While skipping, one table probe in SAMPLE asks the filter. */
export const SAMPLE = 32;

/** How filters are used: 'adaptive' (the default), 'always' (skipUnhelpfulFilters false), 'never' (tests: every probe skips). */
export type FilterMode = 'adaptive' | 'always' | 'never';

/** Per level, for `db.stats().filters`. */
export interface LevelFilterStats {
  readonly level: number;
  /** Table probes that asked the level's filters (a sample of them while skipping). */
  readonly probes: number;
  /** Of those, the ones the filter rejected (the table was not searched). */
  readonly rejects: number;
  /** Table probes that skipped the filter (went to the index without asking it). */
  readonly skipped: number;
  /** The level skips its filters now. */
  readonly skipping: boolean;
}

export class FilterSkipping {
  private readonly probes: Float64Array;
  private readonly rejects: Float64Array;
  private readonly skips: Float64Array;
  /** 1 while a level skips its filters (never set in 'always' mode). */
  private readonly skipping: Uint8Array;
  private readonly windowProbes: Int32Array;
  private readonly windowRejects: Int32Array;
  /** While skipping: table probes left until the next sampled one. */
  private readonly countdown: Int32Array;
  private modeValue: FilterMode = 'adaptive';
  /** WINDOW and SAMPLE, but for tests (`tune`), which need decisions within a few dozen gets. */
  private window = WINDOW;
  private sample = SAMPLE;

  constructor(levels: number, mode: FilterMode = 'adaptive') {
    this.probes = new Float64Array(levels);
    this.rejects = new Float64Array(levels);
    this.skips = new Float64Array(levels);
    this.skipping = new Uint8Array(levels);
    this.windowProbes = new Int32Array(levels);
    this.windowRejects = new Int32Array(levels);
    this.countdown = new Int32Array(levels);
    this.mode = mode;
  }

  get mode(): FilterMode {
    return this.modeValue;
  }

  /** Switches mode (tests force 'never'); windows start afresh, totals are kept. */
  set mode(mode: FilterMode) {
    this.modeValue = mode;
    this.skipping.fill(mode === 'never' ? 1 : 0);
    this.windowProbes.fill(0);
    this.windowRejects.fill(0);
    this.countdown.fill(this.sample);
  }

  /** Tests: a shorter window and sampling period, so that a short history skips and resumes. */
  tune(window: number, sample: number): void {
    this.window = window;
    this.sample = sample;
    this.mode = this.modeValue;
  }

  /** Whether this table probe at `level` asks the table's filter (false: counted as skipped). */
  probeFilter(level: number): boolean {
    if (this.skipping[level] === 0) return true;
    if (this.modeValue === 'never') {
      this.skips[level] = this.skips[level]! + 1;
      return false;
    }
    if (--this.countdown[level]! > 0) {
      this.skips[level] = this.skips[level]! + 1;
      return false;
    }
    this.countdown[level] = this.sample;
    return true;
  }

  /** The outcome of a filter probe at `level` (`probeFilter` said yes, and the table has a filter). */
  record(level: number, rejected: boolean): void {
    this.probes[level] = this.probes[level]! + 1;
    if (rejected) this.rejects[level] = this.rejects[level]! + 1;
    if (this.modeValue !== 'adaptive') return;
    const n = ++this.windowProbes[level]!;
    const r = rejected ? ++this.windowRejects[level]! : this.windowRejects[level]!;
    if (this.skipping[level] === 1) {
      if (r >= RESUME_AT * this.window) this.decide(level, false);
      else if (n >= this.window) this.decide(level, true); // a whole window of samples below RESUME_AT
    } else if (n >= this.window) {
      this.decide(level, r < SKIP_BELOW * this.window);
    }
  }

  private decide(level: number, skip: boolean): void {
    this.skipping[level] = skip ? 1 : 0;
    this.windowProbes[level] = 0;
    this.windowRejects[level] = 0;
    this.countdown[level] = this.sample;
  }

  /** The level skips its filters now. */
  isSkipping(level: number): boolean {
    return this.skipping[level] === 1;
  }

  stats(): LevelFilterStats[] {
    const out: LevelFilterStats[] = [];
    for (let level = 0; level < this.probes.length; level++) {
      out.push({ level, probes: this.probes[level]!, rejects: this.rejects[level]!, skipped: this.skips[level]!, skipping: this.skipping[level] === 1 });
    }
    return out;
  }
}
