import { isStrataError } from '@strata-db/errors';

// Engine errors (StrataError with a stable `code`) become the `abstract-level` error codes that
// users of classic-level already branch on. The engine error is kept as `cause`.

/** An error with an `abstract-level` code (`LEVEL_*`), like `module-error`'s ModuleError. */
export class StrataLevelError extends Error {
  readonly code: string;

  constructor(message: string, options: { code: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }

  override get name(): string {
    return 'StrataLevelError';
  }
}

/** Engine code → abstract-level code. Codes without a standard counterpart keep a `LEVEL_` form. */
const CODES: Readonly<Record<string, string>> = {
  LOCKED: 'LEVEL_LOCKED',
  NOT_OPEN: 'LEVEL_DATABASE_NOT_OPEN',
  CORRUPTION: 'LEVEL_CORRUPTION',
  FOREIGN_FILE: 'LEVEL_CORRUPTION',
  IO_ERROR: 'LEVEL_IO_ERROR',
  READ_ONLY: 'LEVEL_READ_ONLY',
  INVALID_ARGUMENT: 'LEVEL_INVALID_ARGUMENT',
  NOT_FOUND: 'LEVEL_DATABASE_NOT_FOUND',
  EXISTS: 'LEVEL_DATABASE_EXISTS',
  NOT_A_DATABASE: 'LEVEL_NOT_A_DATABASE',
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Wrap an engine error (a StrataError) in a StrataLevelError carrying the abstract-level code.
 * Anything else (already `LEVEL_*`, or plain TypeErrors) passes through unchanged, and so do
 * codes with no abstract-level counterpart (FROZEN, ASSERTION, …).
 */
export function mapEngineError(err: unknown, location?: string): unknown {
  if (!isStrataError(err)) return err;
  const code = err.code;
  const levelCode = CODES[code];
  if (levelCode === undefined) return err;
  const where = location === undefined ? '' : ` at ${location}`;
  let message: string;
  switch (code) {
    case 'LOCKED':
      message = `Database${where} is locked by another open instance (${messageOf(err)})`;
      break;
    case 'NOT_FOUND':
      // abstract-level's suite (and users' code) match on "does not exist" here.
      message = `Database${where} does not exist and createIfMissing is false (${messageOf(err)})`;
      break;
    case 'EXISTS':
      // abstract-level's suite (and users' code) match on "exists" here.
      message = `Database${where} already exists and errorIfExists is true (${messageOf(err)})`;
      break;
    default:
      message = messageOf(err);
  }
  return new StrataLevelError(message, { code: levelCode, cause: err });
}
