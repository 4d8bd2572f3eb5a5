/**
 * Errors crossing the thread boundary. A worker's error is structured-cloned as plain data
 * (what `SerializedError` lists) and rebuilt on the main thread as a StrataError with the same
 * code, file and offset — CORRUPTION names the damaged file and offset, an OS failure keeps its
 * errno code (ENOSPC, EIO, …) on the cause — so a caller cannot tell where the job ran.
 */
import { StrataError, toStrataError } from '../errors.js';

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** StrataError / TableError / WalError code, or the OS errno code (ENOSPC, EIO, …). */
  readonly code: string | undefined;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly path: string | undefined;
  readonly cause: SerializedError | undefined;
  /** The job stopped because the database is closing (not a failure). */
  readonly aborted: boolean;
}

export function serializeError(err: unknown, aborted = false, depth = 0): SerializedError {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return {
    name: str(e.name) ?? 'Error',
    message: str(e.message) ?? String(err),
    stack: str(e.stack),
    code: str(e.code),
    file: str(e.file),
    offset: num(e.offset),
    errno: num(e.errno),
    syscall: str(e.syscall),
    path: str(e.path),
    cause: e.cause !== undefined && depth < 4 ? serializeError(e.cause, false, depth + 1) : undefined,
    aborted,
  };
}

/** The error as thrown in the worker: same class shape (code, file, offset, errno fields). */
function rebuild(s: SerializedError): Error {
  const cause = s.cause === undefined ? undefined : rebuild(s.cause);
  const err = new Error(s.message, cause === undefined ? undefined : { cause }) as Error & Record<string, unknown>;
  err.name = s.name;
  if (s.stack !== undefined) err.stack = s.stack;
  for (const k of ['code', 'file', 'offset', 'errno', 'syscall', 'path'] as const) if (s[k] !== undefined) err[k] = s[k];
  return err;
}

/** The StrataError the main thread reports for an error a worker sent. */
export function deserializeError(s: SerializedError, what: string): StrataError {
  const original = rebuild(s);
  if (s.name === 'StrataError' && s.code !== undefined) {
    // Already typed in the worker: the same error, as if thrown here.
    const e = new StrataError(s.code as StrataError['code'], s.message, { file: s.file, offset: s.offset, ...(original.cause === undefined ? {} : { cause: original.cause }) });
    if (s.stack !== undefined) e.stack = s.stack;
    return e;
  }
  return toStrataError(original, what, s.file ?? s.path);
}
