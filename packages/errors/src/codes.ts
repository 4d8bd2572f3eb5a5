/**
 * The one list of error codes of every Strata package. A code is stable API: callers branch on
 * `err.code`, never on the message, and a code keeps its meaning in every package that throws it
 * (the WAL, the tables, the memtable, the file layer and the engine). Each code is documented
 * here and only here.
 */
export const StrataErrorCode = {
  /** The caller broke a documented precondition (wrong type, bad sequence number, empty range, oversized key). Nothing was written. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The database, writer or table was closed (or not yet opened); open it (again) first. */
  NOT_OPEN: 'NOT_OPEN',
  /** Another process, or another open database in this process, holds the directory's lock. */
  LOCKED: 'LOCKED',
  /** Bytes on disk are not what Strata wrote: a checksum, bound or structure check failed. `file` and `offset` say where. */
  CORRUPTION: 'CORRUPTION',
  /** The operating system refused a read, write, fsync, rename or unlink; `cause` holds its error (EIO, ENOSPC, EMFILE, …). */
  IO_ERROR: 'IO_ERROR',
  /** An earlier failure (e.g. a failed fsync, which is never retried) made the component refuse writes; reopen to recover what is durable. */
  READ_ONLY: 'READ_ONLY',
  /** A file carries the identity of another database (e.g. a WAL segment with another database's UUID). */
  FOREIGN_FILE: 'FOREIGN_FILE',
  /** Something that must not exist does (a database opened with `errorIfExists`, a WAL segment number already taken). */
  EXISTS: 'EXISTS',
  /** Something that must exist does not (a database opened with `createIfMissing: false`, a WAL directory, a file). */
  NOT_FOUND: 'NOT_FOUND',
  /** A write reached a memtable after it was frozen. Nothing was written. */
  FROZEN: 'FROZEN',
  /** The directory holds files Strata did not write (another engine's database, a stray CURRENT, unrelated files); open changed nothing in it. Choose an empty directory, or migrate the data (engine README). */
  NOT_A_DATABASE: 'NOT_A_DATABASE',
  /** An invariant Strata relies on did not hold: a bug in Strata, not in the caller. Report it with the stack. */
  ASSERTION: 'ASSERTION',
} as const;

export type StrataErrorCode = (typeof StrataErrorCode)[keyof typeof StrataErrorCode];

const ALL: ReadonlySet<string> = new Set(Object.values(StrataErrorCode));

/** Whether `code` is one of ours (e.g. to pass a lower layer's code through unchanged). */
export function isStrataErrorCode(code: unknown): code is StrataErrorCode {
  return typeof code === 'string' && ALL.has(code);
}
