/**
 * The one error class of the engine. Callers branch on `code`, never on the message: the codes
 * are stable API (see the package README). Messages say what happened, where (file, offset) and
 * what to do about it.
 */
export type StrataErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_OPEN'
  | 'LOCKED'
  | 'CORRUPTION'
  | 'IO_ERROR'
  | 'READ_ONLY'
  | 'FOREIGN_FILE'
  | 'EXISTS'
  | 'NOT_FOUND';

export interface StrataErrorOptions {
  readonly file?: string | undefined;
  readonly offset?: number | undefined;
  readonly cause?: unknown;
}

export class StrataError extends Error {
  readonly code: StrataErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: StrataErrorCode, message: string, opts: StrataErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StrataError';
    this.code = code;
    this.file = opts.file;
    this.offset = opts.offset;
  }
}

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
