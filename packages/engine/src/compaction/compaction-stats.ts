/**
 * Compaction figures for `db.stats().compaction`: what ran, what it read and wrote per level,
 * and how urgent each level is now. Bytes are table bytes (compressed, as on disk).
 */
import type { CompactionResult } from './job.js';
import type { LevelScore } from './picker.js';

export interface LevelCompactionStats {
  readonly level: number;
  /** Bytes of this level's tables read as compaction inputs. */
  bytesRead: number;
  /** Bytes of tables compaction wrote into this level. */
  bytesWritten: number;
  /** Bytes moved into this level without rewriting (trivial moves). */
  bytesMoved: number;
  /** Compactions whose output went to this level. */
  compactions: number;
  /** Time spent in the compactions whose output went to this level, ms. */
  durationMs: number;
}

export interface CompactionStats {
  /** Compactions finished (trivial moves included). */
  readonly compactions: number;
  readonly trivialMoves: number;
  /** Compactions cut into key ranges merged side by side (subcompactions.ts), and those ranges. */
  readonly splitCompactions: number;
  readonly subcompactions: number;
  /**
   * Automatic compactions started while compaction was behind (scheduler.ts, `behind()`): these
   * may be cut into ranges and use every worker thread; the others run on the first worker.
   */
  readonly behindCompactions: number;
  readonly manualCompactions: number;
  /** Compactions finished of tables whose read allowance ran out (picker.ts, pickForReads). */
  readonly readTriggeredCompactions: number;
  readonly failedCompactions: number;
  /** A compaction is running, or still deleting its inputs: false once background compaction settled. */
  readonly running: boolean;
  /** Compactions merging or installing side by side now (at most maxBackgroundCompactions). */
  readonly runningCompactions: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Current score per level (≥ 1: needs compaction), last level excluded. */
  readonly scores: readonly LevelScore[];
  /** Estimated bytes compaction must still rewrite to get every level under its target. */
  readonly pendingCompactionBytes: number;
  readonly levels: readonly Readonly<LevelCompactionStats>[];
  /** Point versions dropped (shadowed, hidden by a range tombstone, deletes at the bottom). */
  readonly entriesDropped: number;
  /** Range tombstone (fragment, seq) pieces dropped. */
  readonly tombstonesDropped: number;
  /** Longest compaction, ms. */
  readonly maxDurationMs: number;
  /** Longest synchronous stretch of any compaction between two yields to the event loop, ms. */
  readonly maxSliceMs: number;
}

export class CompactionStatsRecorder {
  compactions = 0;
  trivialMoves = 0;
  splitCompactions = 0;
  subcompactions = 0;
  behindCompactions = 0;
  manualCompactions = 0;
  readTriggeredCompactions = 0;
  failedCompactions = 0;
  entriesDropped = 0;
  tombstonesDropped = 0;
  maxDurationMs = 0;
  maxSliceMs = 0;
  readonly levels: LevelCompactionStats[];

  constructor(numLevels: number) {
    this.levels = Array.from({ length: numLevels }, (_, level) => ({ level, bytesRead: 0, bytesWritten: 0, bytesMoved: 0, compactions: 0, durationMs: 0 }));
  }

  record(r: CompactionResult): void {
    this.compactions++;
    if (r.compaction.reason === 'manual') this.manualCompactions++;
    else if (r.compaction.reason === 'reads') this.readTriggeredCompactions++;
    if (r.durationMs > this.maxDurationMs) this.maxDurationMs = r.durationMs;
    if (r.maxSliceMs > this.maxSliceMs) this.maxSliceMs = r.maxSliceMs;
    const out = this.levels[r.compaction.outputLevel]!;
    out.compactions++;
    out.durationMs += r.durationMs;
    if (r.trivialMove) {
      this.trivialMoves++;
      for (const f of r.outputs) out.bytesMoved += f.fileSize;
      return;
    }
    if (r.subcompactions > 1) {
      this.splitCompactions++;
      this.subcompactions += r.subcompactions;
    }
    for (const [level, bytes] of r.bytesReadByLevel) this.levels[level]!.bytesRead += bytes;
    out.bytesWritten += r.bytesWritten;
    const c = r.counters;
    if (c !== undefined) {
      this.entriesDropped += c.entriesIn - c.entriesOut;
      this.tombstonesDropped += c.tombstoneSeqsIn - c.tombstoneSeqsKept;
    }
  }

  snapshot(running: boolean, runningCompactions: number, scores: readonly LevelScore[], pendingCompactionBytes: number): CompactionStats {
    let bytesRead = 0;
    let bytesWritten = 0;
    for (const l of this.levels) {
      bytesRead += l.bytesRead;
      bytesWritten += l.bytesWritten;
    }
    return {
      compactions: this.compactions,
      trivialMoves: this.trivialMoves,
      splitCompactions: this.splitCompactions,
      subcompactions: this.subcompactions,
      behindCompactions: this.behindCompactions,
      manualCompactions: this.manualCompactions,
      readTriggeredCompactions: this.readTriggeredCompactions,
      failedCompactions: this.failedCompactions,
      running,
      runningCompactions,
      bytesRead,
      bytesWritten,
      scores,
      pendingCompactionBytes,
      levels: this.levels.map((l) => ({ ...l })),
      entriesDropped: this.entriesDropped,
      tombstonesDropped: this.tombstonesDropped,
      maxDurationMs: Math.round(this.maxDurationMs),
      maxSliceMs: Math.round(this.maxSliceMs * 10) / 10,
    };
  }
}
