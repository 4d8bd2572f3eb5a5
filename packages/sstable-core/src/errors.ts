/**
 * The one error class of the table packages. `code` is stable (see docs/contracts.md); `file`
 * and `offset` say where, so an operator can find the damaged block with a hex dump.
 */
export type TableErrorCode = 'INVALID_ARGUMENT' | 'NOT_OPEN' | 'CORRUPTION' | 'IO_ERROR';

export class TableError extends Error {
  override readonly name = 'TableError';
  readonly code: TableErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: TableErrorCode, message: string, where: { file?: string; offset?: number; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.code = code;
    this.file = where.file;
    this.offset = where.offset;
  }
}

/** A checksum, bound or structure check failed: the bytes on disk are not what the builder wrote. */
export function corruption(file: string, offset: number, what: string): TableError {
  return new TableError(
    'CORRUPTION',
    `${file}: corrupted table at offset ${offset}: ${what}; the file is damaged — restore it from a replica or backup, or drop it`,
    { file, offset },
  );
}

/** Wraps a Node-style error from the file layer, keeping it as `cause`. */
export function ioError(file: string, offset: number | undefined, op: string, cause: unknown): TableError {
  const code = (cause as { code?: unknown } | null)?.code;
  const at = offset === undefined ? '' : ` at offset ${offset}`;
  return new TableError(
    'IO_ERROR',
    `${file}: ${op} failed${at}${typeof code === 'string' ? ` (${code})` : ''}; check the disk and permissions, then retry`,
    offset === undefined ? { file, cause } : { file, offset, cause },
  );
}
