import type { StrataErrorCode } from './codes.js';

/** Where an error happened and what caused it; every field optional. */
export interface StrataErrorOptions {
  /** The file the error is about (a path as the file layer was given it). */
  readonly file?: string | undefined;
  /** The byte offset in `file` where the damage or failure is. */
  readonly offset?: number | undefined;
  /** The error from below (a Node fs error, a lower layer's error). */
  readonly cause?: unknown;
}

/**
 * Marks every StrataError, whichever copy of this module created it. A process can load this
 * package twice (its ESM and its CJS build, or two versions in one node_modules tree); a plain
 * `instanceof` would then say no to an error from the other copy. `Symbol.for` gives both copies
 * the same symbol, and `Symbol.hasInstance` below checks it instead of the prototype chain.
 */
const BRAND: unique symbol = Symbol.for('@strata-db/errors:StrataError') as never;

/**
 * The one error class of every Strata package: a stable `code` (see codes.ts), a message for
 * people that says what happened, where and what to do, the `cause` from below, and `file` /
 * `offset` where known.
 */
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

  /**
   * `err instanceof StrataError` is true for an error made by any copy of this package.
   * Subclasses keep the ordinary prototype check unless they define their own.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === StrataError) return isStrataError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

Object.defineProperty(StrataError.prototype, BRAND, { value: true, enumerable: false, writable: false });

/** Whether `value` is a StrataError from any copy of this package (same as `instanceof StrataError`). */
export function isStrataError(value: unknown): value is StrataError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** A checksum, bound or structure check failed: the bytes of `file` at `offset` are not what Strata wrote. */
export function corruption(file: string, offset: number, what: string): StrataError {
  return new StrataError(
    'CORRUPTION',
    `${file}: corrupted at offset ${offset}: ${what}; the file is damaged — restore it from a replica or backup, or drop it`,
    { file, offset },
  );
}

/**
 * Wraps an error the file layer threw (Node-style, `cause.code` = EIO, ENOSPC, …) as IO_ERROR,
 * keeping it as `cause`. The argument order is the same as `corruption`'s: where, then what.
 * `offset` is undefined when the operation has none (open, fsync, unlink).
 */
export function ioError(
  file: string,
  offset: number | undefined,
  op: string,
  cause: unknown,
  advice = 'check the disk and permissions, then retry',
): StrataError {
  const sys = (cause as { code?: unknown } | null)?.code;
  const at = offset === undefined ? '' : ` at offset ${offset}`;
  return new StrataError('IO_ERROR', `${file}: ${op} failed${at}${typeof sys === 'string' ? ` (${sys})` : ''}; ${advice}`, {
    file,
    offset,
    cause,
  });
}
