// Idle warming of table metadata (warmTables: 'idle', the default): while the database is idle,
// the current version's tables are opened in the table cache and their filter and index
// partitions loaded, a small slice per turn of the event loop, so that the first gets after a
// bulk load or a restart neither open tables nor load partitions. Without it, the first 200k
// random gets on the scale bench's 10M-key database opened all ~635 tables (~0.5 ms each: open,
// fstat, footer, top-level index) and loaded all ~4,900 partitions (~0.14 ms each: a read, its
// checksum, unpacking): ~1 s of their ~5.75 s of CPU (docs/performance/session-20.md).
//
// Idle: no write took a sequence number for QUIET_MS, and no flush or compaction is running or
// waiting (DbCore.backgroundBusy) — the test readTick makes of writes having stopped (the
// sequence number, which every write advances anyway: nothing is added to the write path),
// taken over a period. A timer (unref'd: an idle database lets the process exit) checks it
// every QUIET_MS while there is something left to warm; it runs only from `wake` (open, and
// after each flush or compaction: DbCore.maybeScheduleCompaction; a follower's catch-up) until
// the current version is warm, so a warm idle database has no timer at all.
//
// Why warm only when idle, not when a flush or compaction installs a table (warmNewTables, the
// option this replaces, did that: session 20): a fill keeps writing, so its tables would be
// opened and their partitions made resident as they are written, most of them compacted away
// soon after — the 10M fill's peak RSS went from 207 to 263 MB — and on the JS thread at install,
// a compaction of many outputs held the event loop for tens of ms. Idle, nothing is written that
// the warming could be wasted on, and the tables warmed are those the reads will use.
//
// Slices: each turn reads up to SLICE_BYTES of partitions (as stored, a table's open counted as
// OPEN_BYTES; at most one partition past it) or runs for SLICE_MS, whichever comes first, then yields to
// a zero-delay timer (unref'd), so I/O callbacks and other timers run between slices. Not an
// unref'd setImmediate, which this used until session 31: Node keeps the event loop from
// blocking for immediates only while a ref'd one is queued (its libuv idle handle), so in an
// otherwise idle process — a server between requests — each slice waited for something else to
// wake the loop: beside a once-a-second timer, a 2M-key database had 373 of its 534 partitions
// loaded after a minute; with the timer, all in under a second (docs/performance/session-31.md).
// A timer bounds the poll's wait; the gap it adds between slices is ~1 ms. Each slice first
// checks that the database is still idle: the first write (or flush, or compaction) after a
// slice stops the warming, which waits for the next quiet period to go on where it was.
//
// Order: the order gets need. Every get probes the filters of L0's tables and of one table per
// deeper level, and reads an index partition only where a filter lets it through, mostly at the
// level that holds the key; so filters first, L0 and upper levels first, then the index
// partitions in the same order. A version change (a flush or compaction installed a new one)
// makes the next slice start over on the current version, skipping what is warm already (a
// check of a slot, no I/O).
//
// Bounded as lookups are, and filling only free room: TableCache.warm opens a table only with a
// descriptor free and room in the budget beside the partitions (nothing dropped or evicted), and
// Table.warmPartition loads a partition only if it fits without evicting one, so warming never
// pushes out a table or partition that lookups loaded; at the first that does not fit it is done
// until the next version. A failure (a table that does not open, a damaged partition) is
// survived: a warning, the table skipped; a read of it meets (and reports) the same failure.
import type { Table } from '@strata-db/sstable-core';
import type { EventSink } from '../events.js';
import type { TableCache } from './table-cache.js';
import type { Version } from './version.js';
import type { VersionSet } from './version-set.js';

/** `warmTables`: 'idle' warms while the database is idle (the default), 'off' never. */
export type WarmTables = 'idle' | 'off';

export const WARM_TABLES_MODES: readonly WarmTables[] = ['idle', 'off'];

/**
 * How long no write may arrive, and no background work run, before warming starts, ms. A writer
 * that keeps writing (a fill; even 4 writes a second) never lets it start: the gaps within a
 * write stream — a group's fdatasync, a GC pause — are ms to tens of ms. After a restart it
 * starts a quarter of a second after the open.
 */
export const QUIET_MS = 250;
/** Most bytes of partitions (as stored) one slice reads: ~6 partitions of the default size, ~1 ms. */
export const SLICE_BYTES = 32 * 1024;
/** What a table's open counts for against SLICE_BYTES: ~0.5 ms, as ~3 partitions. */
export const OPEN_BYTES = 16 * 1024;
/** A slice also ends once it has run this long, ms (slow storage, a loaded machine). */
const SLICE_MS = 1;

/** How the warmer sees the database (DbCore). */
export interface WarmingHost {
  /** The last sequence number assigned: every write advances it. */
  readonly lastSequence: number;
  /** A flush or a compaction is running, or a frozen memtable waits for its flush. */
  readonly backgroundBusy: boolean;
}

export interface WarmingStats {
  /**
   * 'off' (warmTables 'off', or the database closed), 'waiting' (for writes and background work
   * to stop for QUIET_MS), 'warming' (slices running), 'done' (every table of the current
   * version is open with its partitions loaded, or the table cache has no room left).
   */
  readonly state: 'off' | 'waiting' | 'warming' | 'done';
  /** Tables warming opened, and partitions it loaded, since open. */
  readonly tablesOpened: number;
  readonly partitionsLoaded: number;
  /** Turns of the event loop it took (slices). */
  readonly slices: number;
}

export class TableWarmer {
  private state: WarmingStats['state'];
  /** The quiet period's check while waiting, the next slice while warming. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** `host.lastSequence` when the quiet period being checked began. */
  private mark = 0;
  /** Where warming is: of `version`, pass 0 (filters) or 1 (index partitions), level, file, partition. */
  private version: Version | undefined;
  private pass = 0;
  private level = 0;
  private file = 0;
  private partition = 0;
  /** No room to open another table in this version: only the tables the cache holds are warmed. */
  private tablesFull = false;
  /** Tables that failed to open or to load a partition: skipped (a warning each, once). */
  private readonly failed = new Set<number>();
  private opened = 0;
  private loaded = 0;
  private slices = 0;
  /** Most bytes one slice read (OPEN_BYTES per open included): tests check the slices stay small. */
  largestSlice = 0;

  constructor(
    private readonly host: WarmingHost,
    private readonly versions: VersionSet,
    private readonly tables: TableCache,
    private readonly events: EventSink,
    mode: WarmTables,
  ) {
    this.state = mode === 'off' ? 'off' : 'done';
  }

  /**
   * There may be something to warm (the database opened, a new version installed): unless
   * warming is waiting or running already, wait for the database to be idle. Cheap: a check.
   */
  wake(): void {
    if (this.state === 'done') this.wait();
  }

  /** Stops for good (close): no timer, no slice left. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'off';
  }

  stats(): WarmingStats {
    return { state: this.state, tablesOpened: this.opened, partitionsLoaded: this.loaded, slices: this.slices };
  }

  private wait(): void {
    this.state = 'waiting';
    this.mark = this.host.lastSequence;
    this.timer = setTimeout(this.check, QUIET_MS);
    this.timer.unref();
  }

  private idle(): boolean {
    return this.host.lastSequence === this.mark && !this.host.backgroundBusy;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (!this.idle()) {
      this.wait();
      return;
    }
    this.state = 'warming';
    this.turn();
  };

  private readonly turn = (): void => {
    this.timer = undefined;
    if (this.state !== 'warming') return;
    if (!this.idle()) {
      this.wait();
      return;
    }
    this.slices++;
    if (!this.slice()) {
      this.state = 'done';
      return;
    }
    this.timer = setTimeout(this.turn, 0);
    this.timer.unref();
  };

  /** One slice of warming. False when nothing is left to warm in the current version, or no room. */
  private slice(): boolean {
    const v = this.versions.current;
    if (v !== this.version) {
      this.version = v;
      this.pass = this.level = this.file = this.partition = 0;
      this.tablesFull = false;
    }
    const started = performance.now();
    let bytes = 0;
    try {
      for (;;) {
        const files = v.files(this.level);
        if (this.file >= files.length) {
          this.file = this.partition = 0;
          if (++this.level < v.numLevels) continue;
          this.level = 0;
          if (++this.pass < 2) continue;
          return false;
        }
        const n = files[this.file]!.fileNumber;
        const opening = !this.tables.holds(n);
        if (!this.failed.has(n) && !(opening && this.tablesFull)) {
          // An open starts a slice of its own unless it fits in what is left of this one.
          if (opening && bytes > 0 && (bytes + OPEN_BYTES > SLICE_BYTES || performance.now() - started >= SLICE_MS)) return true;
          let table: Table | undefined;
          try {
            table = this.tables.warm(n);
            if (table === undefined) {
              // No room for another table (descriptors, or pinned bytes): the ones held may still
              // have partitions to load.
              this.tablesFull = true;
              this.file++;
              this.partition = 0;
              continue;
            }
            if (opening) {
              this.opened++;
              bytes += OPEN_BYTES;
            }
            for (; this.partition < table.partitionCount; this.partition++) {
              if (bytes >= SLICE_BYTES || performance.now() - started >= SLICE_MS) return true;
              const read = table.warmPartition(this.partition, this.pass === 0);
              if (read < 0) return false; // no room
              if (read > 0) {
                this.loaded++;
                bytes += read;
              }
            }
          } catch (err) {
            this.failed.add(n);
            this.events.warn(`warming the table ${n} failed`, err);
          }
        }
        this.file++;
        this.partition = 0;
        if (bytes >= SLICE_BYTES) return true;
      }
    } finally {
      if (bytes > this.largestSlice) this.largestSlice = bytes;
    }
  }
}
