/**
 * The one error class of the WAL. `code` is stable (callers switch on it); the message is for
 * people and says what happened, where (file and byte offset) and what to do about it.
 */
export const WalErrorCode = {
  /** The caller broke a rule of the API (e.g. an LSN that does not increase). Nothing was written. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** Bytes on disk are not what the WAL wrote: checksum failure, torn record, gap or LSN reversal. */
  Corruption: 'CORRUPTION',
  /** The operating system refused a write, fsync, rename or unlink. The writer is now failed. */
  IoError: 'IO_ERROR',
  /** The writer failed earlier; it accepts nothing more. Reopen the database to recover. */
  ReadOnly: 'READ_ONLY',
  /** A segment carries the UUID of another database. */
  ForeignFile: 'FOREIGN_FILE',
  /** The WAL directory does not exist. */
  NotFound: 'NOT_FOUND',
  /** A segment file with the number asked for already exists. */
  Exists: 'EXISTS',
  /** The writer was closed. */
  NotOpen: 'NOT_OPEN',
} as const;
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode];

export interface WalErrorDetails {
  readonly file?: string;
  readonly offset?: number;
  readonly cause?: unknown;
}

export class WalError extends Error {
  override readonly name = 'WalError';
  readonly code: WalErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: WalErrorCode, message: string, details: WalErrorDetails = {}) {
    const where = details.file === undefined ? '' : ` [${details.file}${details.offset === undefined ? '' : ` @ byte ${details.offset}`}]`;
    super(`${code}: ${message}${where}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.offset = details.offset;
  }
}

/** Wraps an error thrown by the file layer (Node-style, `err.code` = EIO, ENOSPC, …) as IO_ERROR. */
export function ioError(what: string, file: string, cause: unknown, offset?: number, advice = 'retry once the disk is healthy'): WalError {
  const sys = (cause as { code?: unknown } | null)?.code;
  const detail = typeof sys === 'string' ? ` (${sys})` : '';
  return new WalError(WalErrorCode.IoError, `${what} failed${detail}; ${advice}`, {
    file,
    cause,
    ...(offset === undefined ? {} : { offset }),
  });
}
