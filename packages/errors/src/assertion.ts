import { StrataError, isStrataError, type StrataErrorOptions } from './strata-error.js';

/**
 * A broken invariant: something Strata relies on did not hold. Always a bug in Strata (or memory
 * damage), never the caller's fault; code `ASSERTION`. It is a StrataError, so a caller that
 * handles StrataError sees it too, and `instanceof StrataAssertionError` works across module copies.
 */
export class StrataAssertionError extends StrataError {
  constructor(message: string, opts: StrataErrorOptions = {}) {
    super('ASSERTION', `invariant broken: ${message} (a bug in Strata; please report it with this stack)`, opts);
    this.name = 'StrataAssertionError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isStrataError(value) && value.code === 'ASSERTION';
  }
}

/**
 * Throws a StrataAssertionError unless `condition` holds. State the invariant where it is relied
 * on: `invariant(seq > last, 'sequence numbers increase')`. `message` may be a function so a hot
 * path does not build the string when the invariant holds.
 */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new StrataAssertionError(typeof message === 'string' ? message : message());
}
