export { StrataErrorCode, isStrataErrorCode } from './codes.js';
export { StrataError, isStrataError, corruption, ioError, type StrataErrorOptions } from './strata-error.js';
export { StrataAssertionError, invariant } from './assertion.js';
