/**
 * Counters: what the engine did since open, reported by `db.stats().counters`.
 *
 * One object per database (DbCore.counters), plain fields bumped in place: the hot paths pay a
 * property increment, nothing more. Each group has ONE writer, named at the group; everyone
 * else only reads (stats()).
 */
export interface Counters {
  // -- the write path (write/write-path.ts) --
  /** Key + value bytes accepted by put/delete/deleteRange/batch (range deletes: start + end). */
  userBytesWritten: number;
  /** Write operations (batch ops count one each). */
  writeOps: number;
  writeBatches: number;
  /** Bytes appended to WAL segments (headers included). */
  walBytesWritten: number;
  /** Writes that waited for a flush or compaction (hard stall). */
  stalls: number;
  /** Writes delayed ~1 ms because L0 was filling up (soft stall). */
  slowdowns: number;
  /** Total time writes spent stalled or slowed down, in ms. */
  stallMs: number;
  // -- flush (flush/flush.ts) --
  flushes: number;
  flushBytesWritten: number;
  /** Longest stretch, in ms, between two yields to the event loop while building a flush. */
  flushMaxSliceMs: number;
  // -- compaction (compaction/scheduler.ts) --
  compactions: number;
  compactionBytesRead: number;
  compactionBytesWritten: number;
  // -- reads (Database.getSync, read/get.ts, read/db-iterator-builder.ts) --
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
