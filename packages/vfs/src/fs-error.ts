/**
 * Node-style file-system errors. The packages wrap whatever the layer throws by looking at
 * `err.code` (EIO, ENOSPC, ENOENT, …), exactly as they would for `node:fs`, so the simulated
 * layers — and `writeAll`, when a write makes no progress — throw errors that look like the real
 * ones: same fields, same message shape.
 */

/** The errno names the simulated layers produce, with the numbers Linux uses. */
export const ERRNO = {
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EEXIST: -17,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  ENFILE: -23,
  EMFILE: -24,
  ENOSPC: -28,
  EROFS: -30,
  ENOTEMPTY: -39,
} as const;

export type ErrnoCode = keyof typeof ERRNO;

/** An error as `node:fs` throws it: `code`, `errno`, `syscall` and (when there is one) `path`. */
export interface FileSystemError extends Error {
  readonly code: ErrnoCode;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

const DESCRIPTIONS: Record<ErrnoCode, string> = {
  ENOENT: 'no such file or directory',
  EIO: 'i/o error',
  EBADF: 'bad file descriptor',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'file table overflow',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ENOTEMPTY: 'directory not empty',
};

export function fsError(code: ErrnoCode, syscall: string, path?: string, detail?: string): FileSystemError {
  const where = path === undefined ? '' : ` '${path}'`;
  const why = detail === undefined ? '' : ` (${detail})`;
  const err = new Error(`${code}: ${DESCRIPTIONS[code]}, ${syscall}${where}${why}`) as Error & Record<string, unknown>;
  err.code = code;
  err.errno = ERRNO[code];
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err as unknown as FileSystemError;
}

/** True when `err` is a file-system error with the given code (or any code, when omitted). */
export function isFsError(err: unknown, code?: ErrnoCode): err is FileSystemError {
  if (!(err instanceof Error)) return false;
  const c = (err as Partial<FileSystemError>).code;
  return typeof c === 'string' && (code === undefined || c === code);
}
