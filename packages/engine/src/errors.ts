import { StrataError } from '@strata-db/errors';

// The engine's error class is the one every package shares (@strata-db/errors).
export { StrataError, type StrataErrorCode, type StrataErrorOptions } from '@strata-db/errors';

/**
 * What the engine rethrows from below. Every package under it throws StrataError, which passes
 * through unchanged — its code, file and offset already say what and where. Anything else (a
 * Node-style error from the file layer: EIO, ENOSPC, EMFILE, …, or something unexpected) becomes
 * IO_ERROR naming `what` and the file, with the original as `cause`, so that callers of the
 * engine see one class.
 */
export function toStrataError(err: unknown, what: string, file?: string): StrataError {
  if (err instanceof StrataError) return err;
  const inner = err instanceof Error ? err.message : String(err);
  return new StrataError('IO_ERROR', `${what}: ${inner}${file === undefined ? '' : ` (file ${file})`}`, { file, cause: err });
}
