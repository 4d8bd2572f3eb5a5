/**
 * `db.stats()`: what an operator (or a benchmark computing write amplification) wants to know.
 *
 * Write amplification = (walBytesWritten + flushBytesWritten + compactionBytesWritten) /
 * userBytesWritten, all counted since open.
 */
import type { CompactionStats } from './compaction/compaction-stats.js';
export interface Counters {
  /** Key + value bytes accepted by put/delete/deleteRange/batch (range deletes: start + end). */
  userBytesWritten: number;
  /** Write operations (batch ops count one each). */
  writeOps: number;
  writeBatches: number;
  /** Bytes appended to WAL segments (headers included). */
  walBytesWritten: number;
  flushes: number;
  flushBytesWritten: number;
  /** Longest stretch, in ms, between two yields to the event loop while building a flush. */
  flushMaxSliceMs: number;
  compactions: number;
  compactionBytesRead: number;
  compactionBytesWritten: number;
  /** Writes that waited for a flush or compaction (hard stall). */
  stalls: number;
  /** Writes delayed ~1 ms because L0 was filling up (soft stall). */
  slowdowns: number;
  /** Total time writes spent stalled or slowed down, in ms. */
  stallMs: number;
  gets: number;
  tableProbes: number;
  iterators: number;
}

export function newCounters(): Counters {
  return {
    userBytesWritten: 0,
    writeOps: 0,
    writeBatches: 0,
    walBytesWritten: 0,
    flushes: 0,
    flushBytesWritten: 0,
    flushMaxSliceMs: 0,
    compactions: 0,
    compactionBytesRead: 0,
    compactionBytesWritten: 0,
    stalls: 0,
    slowdowns: 0,
    stallMs: 0,
    gets: 0,
    tableProbes: 0,
    iterators: 0,
  };
}

export interface LevelFileStats {
  readonly fileNumber: number;
  readonly size: number;
  readonly smallestKey: Uint8Array;
  readonly largestKey: Uint8Array;
  readonly minSeq: number;
  readonly maxSeq: number;
  readonly entries: number;
  readonly tombstones: number;
}

export interface LevelStats {
  readonly level: number;
  readonly files: number;
  readonly bytes: number;
  /** Smallest and largest key of the level (undefined when empty). */
  readonly smallestKey: Uint8Array | undefined;
  readonly largestKey: Uint8Array | undefined;
  readonly fileList: readonly LevelFileStats[];
}

export interface DatabaseStats {
  /** Highest sequence number assigned (the next write gets lastSequence + 1). */
  readonly lastSequence: number;
  /** Highest sequence number visible to new reads. */
  readonly visibleSequence: number;
  readonly levels: readonly LevelStats[];
  readonly memtables: {
    readonly activeBytes: number;
    readonly activeEntries: number;
    readonly frozen: number;
    readonly frozenBytes: number;
  };
  readonly snapshots: number;
  readonly openIterators: number;
  readonly liveVersions: number;
  readonly walSegment: number;
  readonly manifest: { readonly fileNumber: number; readonly bytes: number };
  readonly blockCache: { readonly capacity: number; readonly usage: number; readonly hits: number; readonly misses: number };
  /** Write stall state right now. */
  readonly writeStall: 'none' | 'slowdown' | 'stop';
  /** The error that made the database read-only, if any. */
  readonly backgroundError: string | undefined;
  readonly counters: Readonly<Counters>;
  /** (wal + flush + compaction bytes) / user bytes; 0 before any write. */
  readonly writeAmplification: number;
  /** Leveled compaction: runs, bytes read/written per level, level scores, backlog. */
  readonly compaction: CompactionStats | undefined;
}
