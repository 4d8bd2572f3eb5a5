import { describe, expect, it, vi } from 'vitest';
import {
  StrataAssertionError,
  StrataError,
  StrataErrorCode,
  corruption,
  invariant,
  ioError,
  isStrataError,
  isStrataErrorCode,
} from './index.js';

describe('StrataErrorCode', () => {
  it('is one list holding every code the packages throw, each value equal to its name', () => {
    const codes = Object.entries(StrataErrorCode);
    for (const [name, value] of codes) expect(value).toBe(name);
    expect(Object.values(StrataErrorCode).sort()).toEqual(
      [
        'ASSERTION',
        'CORRUPTION',
        'EXISTS',
        'FOREIGN_FILE',
        'FROZEN',
        'INVALID_ARGUMENT',
        'IO_ERROR',
        'LOCKED',
        'NOT_A_DATABASE',
        'NOT_FOUND',
        'NOT_OPEN',
        'READ_ONLY',
      ].sort(),
    );
    expect(isStrataErrorCode('CORRUPTION')).toBe(true);
    expect(isStrataErrorCode('ENOENT')).toBe(false);
    expect(isStrataErrorCode(undefined)).toBe(false);
  });
});

describe('StrataError', () => {
  it('carries code, message, file, offset and cause', () => {
    const cause = new Error('inner');
    const err = new StrataError('CORRUPTION', 'bad block', { file: 'f.sst', offset: 12, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(StrataError);
    expect(err.name).toBe('StrataError');
    expect(err.code).toBe('CORRUPTION');
    expect(err.message).toBe('bad block');
    expect(err.file).toBe('f.sst');
    expect(err.offset).toBe(12);
    expect(err.cause).toBe(cause);
    expect(String(err)).toBe('StrataError: bad block');
  });

  it('leaves cause, file and offset undefined when not given', () => {
    const err = new StrataError('NOT_OPEN', 'closed');
    expect('cause' in err).toBe(false);
    expect(err.file).toBeUndefined();
    expect(err.offset).toBeUndefined();
  });

  it('is not claimed by instanceof for other errors and values', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'CORRUPTION' });
    for (const v of [lookalike, null, undefined, 'CORRUPTION', { code: 'IO_ERROR' }]) {
      expect(v instanceof StrataError).toBe(false);
      expect(isStrataError(v)).toBe(false);
    }
  });

  it('is recognised by instanceof across two copies of the module (ESM + CJS, two versions)', async () => {
    vi.resetModules();
    const other = await import('./index.js');
    expect(other.StrataError).not.toBe(StrataError); // really a second copy
    const theirs = new other.StrataError('IO_ERROR', 'from the other copy');
    expect(theirs instanceof StrataError).toBe(true);
    expect(isStrataError(theirs)).toBe(true);
    expect(new StrataError('IO_ERROR', 'ours') instanceof other.StrataError).toBe(true);
    const theirAssertion = new other.StrataAssertionError('x');
    expect(theirAssertion instanceof StrataAssertionError).toBe(true);
    expect(theirAssertion instanceof StrataError).toBe(true);
    expect(theirs instanceof StrataAssertionError).toBe(false);
  });

  it('keeps the prototype check for subclasses defined elsewhere', () => {
    class SubError extends StrataError {}
    expect(new SubError('EXISTS', 'x') instanceof SubError).toBe(true);
    expect(new SubError('EXISTS', 'x') instanceof StrataError).toBe(true);
    expect(new StrataError('EXISTS', 'x') instanceof SubError).toBe(false);
  });
});

describe('corruption', () => {
  it('names the file and offset and says what to do', () => {
    const err = corruption('000012.sst', 4096, 'block checksum mismatch');
    expect(err).toBeInstanceOf(StrataError);
    expect(err.code).toBe('CORRUPTION');
    expect(err.file).toBe('000012.sst');
    expect(err.offset).toBe(4096);
    expect(err.message).toContain('000012.sst');
    expect(err.message).toContain('offset 4096');
    expect(err.message).toContain('block checksum mismatch');
    expect(err.message).toMatch(/restore|drop/);
  });
});

describe('ioError', () => {
  it('wraps a Node-style error as IO_ERROR with the system code in the message and the error as cause', () => {
    const cause = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    const err = ioError('wal/000003.log', 128, 'write', cause);
    expect(err.code).toBe('IO_ERROR');
    expect(err.cause).toBe(cause);
    expect(err.file).toBe('wal/000003.log');
    expect(err.offset).toBe(128);
    expect(err.message).toBe('wal/000003.log: write failed at offset 128 (ENOSPC); check the disk and permissions, then retry');
  });

  it('leaves the offset out when there is none and takes advice', () => {
    const err = ioError('db/CURRENT', undefined, 'fsync', new Error('odd'), 'reopen the database');
    expect(err.offset).toBeUndefined();
    expect(err.message).toBe('db/CURRENT: fsync failed; reopen the database');
  });
});

describe('invariant / StrataAssertionError', () => {
  it('does nothing when the condition holds and does not build a lazy message', () => {
    const message = vi.fn(() => 'never');
    invariant(true, message);
    invariant(1, 'truthy');
    expect(message).not.toHaveBeenCalled();
  });

  it('throws a StrataAssertionError with code ASSERTION when it does not', () => {
    let caught: unknown;
    try {
      invariant(false, () => 'sequence numbers increase');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StrataAssertionError);
    expect(caught).toBeInstanceOf(StrataError);
    const err = caught as StrataAssertionError;
    expect(err.code).toBe('ASSERTION');
    expect(err.name).toBe('StrataAssertionError');
    expect(err.message).toContain('sequence numbers increase');
  });

  it('narrows the type it asserts', () => {
    const v: string | undefined = ['a'][0];
    invariant(v !== undefined, 'present');
    expect(v.length).toBe(1);
  });
});
