import { StrataError, type StrataErrorCode } from '@strata-db/errors';

// The engine's error class is the one every package shares (@strata-db/errors).
export { StrataError, type StrataErrorCode, type StrataErrorOptions } from '@strata-db/errors';

/** Codes that the lower packages (wal, tables) use with the same meaning as ours. */
const PASS_THROUGH: ReadonlySet<string> = new Set<StrataErrorCode>([
  'INVALID_ARGUMENT',
  'NOT_OPEN',
  'LOCKED',
  'CORRUPTION',
  'IO_ERROR',
  'READ_ONLY',
  'FOREIGN_FILE',
  'EXISTS',
  'NOT_FOUND',
]);

/**
 * Turns anything thrown below us (a WalError, a TableError, a raw Node fs error) into a
 * StrataError, keeping the original as `cause`, so that callers of the engine see one class.
 */
export function toStrataError(err: unknown, what: string, file?: string): StrataError {
  if (err instanceof StrataError) return err;
  const e = err as { code?: unknown; message?: unknown; file?: unknown; offset?: unknown } | null;
  const inner = typeof e?.message === 'string' ? e.message : String(err);
  const innerCode = typeof e?.code === 'string' ? e.code : undefined;
  const f = typeof e?.file === 'string' ? e.file : file;
  const offset = typeof e?.offset === 'number' ? e.offset : undefined;
  if (innerCode !== undefined && PASS_THROUGH.has(innerCode)) {
    return new StrataError(innerCode as StrataErrorCode, `${what}: ${inner}`, { file: f, offset, cause: err });
  }
  // Node-style errors (EIO, ENOSPC, ENOENT, …) and anything unexpected.
  return new StrataError('IO_ERROR', `${what}: ${inner}${f === undefined ? '' : ` (file ${f})`}`, { file: f, offset, cause: err });
}
