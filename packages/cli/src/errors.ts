/**
 * What the command line reports, and how: one line on stderr with the error code and what to do,
 * a non-zero exit code (2 for bad arguments, 1 for everything else), the stack only with
 * --verbose. Engine errors carry their own code (StrataError.code) and message.
 */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that ran and found a problem (verify found damage, a key is missing with --strict…). */
export class CommandFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}

const ADVICE: Readonly<Record<string, string>> = {
  LOCKED: 'the database is open for writing elsewhere; inspect it with a read-only command, or close the other process',
  NOT_FOUND: 'check the path (--db) or create the database with a write command',
  CORRUPTION: 'run `strata verify` to see every damaged file',
  READ_ONLY: 'this command was refused because the database was opened read-only or failed earlier; reopen it',
  IO_ERROR: 'check the disk and permissions, then retry',
};

export function describeError(err: unknown): { code: string; line: string; exitCode: number } {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const advice = ADVICE[code];
  const line = `strata: ${code}: ${message}${advice !== undefined && !message.includes(advice) ? ` (${advice})` : ''}`;
  return { code, line, exitCode: code === 'USAGE' ? 2 : 1 };
}
