/**
 * The one error class of this package. Callers branch on `code`, never on the message:
 *   INVALID_ARGUMENT  the caller broke a documented precondition (non-byte key, bad or
 *                     non-increasing sequence number, empty range); nothing was written.
 *   FROZEN            a write reached a memtable after `freeze()`; nothing was written.
 */
export type MemtableErrorCode = 'INVALID_ARGUMENT' | 'FROZEN';

export class MemtableError extends Error {
  override readonly name = 'MemtableError';
  readonly code: MemtableErrorCode;

  constructor(code: MemtableErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
