import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedBatch, decodeBatch, encodeBatch, type BatchOp } from './batch.js';

const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const op: fc.Arbitrary<BatchOp> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: bytes(40), value: bytes(300) }),
  fc.record({ type: fc.constant('del' as const), key: bytes(40) }),
  fc.record({ type: fc.constant('deleteRange' as const), start: bytes(40), end: bytes(40) }),
);

describe('batch encoding', () => {
  it('round-trips any batch, LSN up to the largest safe integer', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 20 }), (ops, lsn) => {
        const decoded = decodeBatch(encodeBatch(ops, lsn));
        expect(decoded.firstLsn).toBe(lsn);
        expect(decoded.ops).toEqual(ops);
      }),
      { numRuns: 200 },
    );
  });

  it('encodes lengths that need multi-byte varints (64 KiB+ keys, 1 MiB values)', () => {
    const key = Buffer.alloc(70_000, 7);
    const value = Buffer.alloc(1 << 20, 9);
    const [first, second] = decodeBatch(encodeBatch([{ type: 'put', key, value }, { type: 'del', key: Buffer.alloc(0) }], 3)).ops;
    // Buffer.equals, not toEqual: vitest compares a 1 MiB buffer element by element.
    expect(first?.type === 'put' && Buffer.from(first.key).equals(key) && Buffer.from(first.value).equals(value)).toBe(true);
    expect(second).toEqual({ type: 'del', key: Buffer.alloc(0) });
  });

  it('rejects every strict prefix and any trailing byte as malformed', () => {
    const record = encodeBatch([{ type: 'put', key: Buffer.from('key'), value: Buffer.from('value') }, { type: 'deleteRange', start: Buffer.from('a'), end: Buffer.from('b') }], 1);
    for (let n = 0; n < record.length; n++) expect(() => decodeBatch(record.subarray(0, n))).toThrow(MalformedBatch);
    expect(() => decodeBatch(Buffer.concat([record, Buffer.from([0])]))).toThrow(MalformedBatch);
  });

  it('refuses bad input with INVALID_ARGUMENT', () => {
    expect(() => encodeBatch([], 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeBatch([{ type: 'del', key: Buffer.from('a') }], 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeBatch([{ type: 'del', key: Buffer.from('a') }], Number.MAX_SAFE_INTEGER + 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeBatch([{ type: 'del', key: 'a' as unknown as Uint8Array }], 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeBatch([{ type: 'merge' } as unknown as BatchOp], 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
