/**
 * Events and logging: what the engine does in the background, told to the user (RocksDB's
 * EventListener, Pebble's EventListener).
 *
 * `onEvent` (an option) receives one plain object per event, synchronously, on the thread that
 * did the work; `logger` (an option, console-shaped) receives one line per event worth logging
 * and every failure the engine survives — a table it could not close, an obsolete file it could
 * not delete — which would otherwise be swallowed. A listener or logger that throws never breaks
 * the engine: its exception is given to the logger (or dropped when the logger itself threw).
 *
 * Invariant relied on by callers: `emit` and `warn` never throw.
 */
import type { StrataError } from './errors.js';

/** A table became part of the database, or was deleted. */
export type TableReason = 'flush' | 'compaction';

export type StrataEvent =
  | {
      readonly type: 'flush-begin';
      readonly jobId: number;
      /** Bytes and entries of the frozen memtables being written (summed). */
      readonly memtableBytes: number;
      readonly entries: number;
      readonly rangeTombstones: number;
      /** How many frozen memtables go into the one table (minMemtablesToMerge). */
      readonly memtables: number;
    }
  | {
      readonly type: 'flush-end';
      readonly jobId: number;
      /** The L0 table written (undefined: the memtable was empty, only the WAL moved on). */
      readonly fileNumber: number | undefined;
      readonly bytes: number;
      readonly durationMs: number;
      /** The failure, when the flush failed (the database is then read-only). */
      readonly error?: StrataError;
    }
  | {
      readonly type: 'compaction-begin';
      readonly jobId: number;
      readonly reason: string;
      /** The level the compaction was picked for, and the level it writes to. */
      readonly level: number;
      readonly outputLevel: number;
      readonly inputs: readonly { readonly level: number; readonly fileNumbers: readonly number[] }[];
      readonly inputBytes: number;
      readonly trivialMove: boolean;
      /** Universal compaction: the job whose edit this one's is installed after (its output goes just above that job's: universal-picker.ts). */
      readonly after?: number;
    }
  | {
      readonly type: 'compaction-end';
      readonly jobId: number;
      readonly reason: string;
      readonly level: number;
      readonly outputLevel: number;
      readonly inputs: readonly { readonly level: number; readonly fileNumbers: readonly number[] }[];
      readonly outputs: readonly number[];
      readonly bytesRead: number;
      readonly bytesWritten: number;
      readonly durationMs: number;
      readonly trivialMove: boolean;
      /** Set when the compaction failed or was aborted by close (inputs then stay as they were). */
      readonly error?: StrataError;
      readonly aborted?: boolean;
    }
  | { readonly type: 'table-created'; readonly fileNumber: number; readonly level: number; readonly bytes: number; readonly reason: TableReason }
  | { readonly type: 'table-deleted'; readonly fileNumber: number; readonly error?: StrataError }
  | { readonly type: 'wal-created'; readonly segment: number }
  | { readonly type: 'wal-deleted'; readonly segment: number }
  | {
      readonly type: 'write-stall-begin';
      /** 'slowdown': writes are delayed ~1 ms each; 'stop': writes wait for background work. */
      readonly state: 'slowdown' | 'stop';
      readonly cause: 'memtables' | 'l0-files' | 'pending-compaction-bytes';
    }
  | { readonly type: 'write-stall-end'; readonly durationMs: number; readonly writesDelayed: number }
  | {
      readonly type: 'background-error';
      /** What was being done ("flush failed", "writing the WAL failed", …). */
      readonly operation: string;
      /** The error that made the database read-only. */
      readonly error: StrataError;
    }
  | {
      /** A failure the engine survives (it is not a background error: nothing turned read-only). */
      readonly type: 'warning';
      readonly message: string;
      readonly error: unknown;
    };

export type StrataEventType = StrataEvent['type'];

/** Console-shaped: `console` itself, pino, winston and most loggers fit. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Where the engine's modules send events: the core owns one; tests may pass their own. */
export interface EventSink {
  emit(event: StrataEvent): void;
  /** A survived failure: a 'warning' event and a logger.warn line. */
  warn(message: string, error: unknown): void;
  /** Numbers for flush and compaction jobs, increasing from 1 per database. */
  nextJobId(): number;
}

/** Drops everything: for modules used without a database (tools, tests of one module). */
export const noEvents: EventSink = {
  emit: () => undefined,
  warn: () => undefined,
  nextJobId: () => 0,
};

export class EventBus implements EventSink {
  private jobs = 0;

  constructor(
    private readonly listener: ((e: StrataEvent) => void) | undefined,
    private readonly logger: Logger | undefined,
    private readonly name: string,
  ) {}

  nextJobId(): number {
    return ++this.jobs;
  }

  emit(event: StrataEvent): void {
    if (this.listener !== undefined) {
      try {
        this.listener(event);
      } catch (err) {
        this.log('warn', `onEvent listener threw on ${event.type}: ${messageOf(err)}`);
      }
    }
    if (this.logger === undefined) return;
    const line = describeEvent(event);
    if (line === undefined) return;
    this.log(severityOf(event), line);
  }

  warn(message: string, error: unknown): void {
    this.emit({ type: 'warning', message, error });
  }

  private log(severity: keyof Logger, line: string): void {
    try {
      this.logger?.[severity](`[strata ${this.name}] ${line}`);
    } catch {
      // The logger itself failed: there is nowhere left to report it, and the engine goes on.
    }
  }
}

/** The background error is the one 'error' line; the failed job that caused it is a warning. */
function severityOf(e: StrataEvent): keyof Logger {
  switch (e.type) {
    case 'background-error':
      return 'error';
    case 'warning':
      return 'warn';
    case 'flush-end':
    case 'table-deleted':
      return e.error === undefined ? 'info' : 'warn';
    case 'compaction-end':
      return e.error === undefined && e.aborted !== true ? 'info' : 'warn';
    default:
      return 'info';
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One log line per event (undefined: not worth a line on its own). */
export function describeEvent(e: StrataEvent): string | undefined {
  switch (e.type) {
    case 'flush-begin':
      return `flush #${e.jobId} started: ${e.memtables > 1 ? `${e.memtables} memtables, ` : ''}${e.entries} entries, ${e.rangeTombstones} range tombstones, ${e.memtableBytes} bytes`;
    case 'flush-end':
      return e.error !== undefined
        ? `flush #${e.jobId} failed after ${e.durationMs.toFixed(1)} ms: ${e.error.message}`
        : `flush #${e.jobId} done in ${e.durationMs.toFixed(1)} ms: ${e.fileNumber === undefined ? 'no table' : `table ${e.fileNumber}, ${e.bytes} bytes`}`;
    case 'compaction-begin':
      return `compaction #${e.jobId} started (${e.reason}): ${e.inputs.map((i) => `L${i.level}[${i.fileNumbers.join(',')}]`).join(' + ')} → L${e.outputLevel}, ${e.inputBytes} bytes${e.trivialMove ? ' (trivial move)' : ''}${e.after === undefined ? '' : `, installed after #${e.after}`}`;
    case 'compaction-end':
      if (e.aborted === true) return `compaction #${e.jobId} aborted by close after ${e.durationMs.toFixed(1)} ms`;
      return e.error !== undefined
        ? `compaction #${e.jobId} failed after ${e.durationMs.toFixed(1)} ms: ${e.error.message}`
        : `compaction #${e.jobId} done in ${e.durationMs.toFixed(1)} ms: read ${e.bytesRead} bytes, wrote ${e.bytesWritten} bytes in [${e.outputs.join(',')}] at L${e.outputLevel}`;
    case 'table-created':
    case 'wal-created':
    case 'wal-deleted':
      return undefined;
    case 'table-deleted':
      return e.error === undefined ? undefined : `could not delete obsolete table ${e.fileNumber} (removed at the next open): ${e.error.message}`;
    case 'write-stall-begin':
      return `write stall (${e.state}) began: ${e.cause}`;
    case 'write-stall-end':
      return `write stall ended after ${e.durationMs.toFixed(1)} ms (${e.writesDelayed} writes delayed)`;
    case 'background-error':
      return `background error, the database is read-only until reopened: ${e.operation}: ${e.error.message}`;
    case 'warning':
      return `${e.message}: ${messageOf(e.error)}`;
  }
}
