import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchRecord, MalformedBatch, decodeBatch, encodeBatch, type BatchOp } from './batch.js';

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

  it('a BatchRecord built op by op is the record encodeBatch makes, and applies and decodes to the same ops', () => {
    // Keys and values past 127 bytes (multi-byte varints), records past the first buffer's size,
    // a record cleared and built again.
    const big = fc.oneof(
      fc.record({ type: fc.constant('put' as const), key: bytes(300), value: bytes(20_000) }),
      fc.record({ type: fc.constant('del' as const), key: bytes(300) }),
      fc.record({ type: fc.constant('deleteRange' as const), start: bytes(300), end: bytes(300) }),
    );
    const add = (r: BatchRecord, o: BatchOp): void => {
      if (o.type === 'put') r.put(o.key, o.value);
      else if (o.type === 'del') r.del(o.key);
      else r.deleteRange(o.start, o.end);
    };
    fc.assert(
      fc.property(fc.array(fc.oneof(op, big), { maxLength: 30 }), fc.array(op, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 40 }), (dropped, ops, lsn) => {
        const r = new BatchRecord(16);
        for (const o of dropped) add(r, o);
        r.clear();
        for (const o of ops) add(r, o);
        expect(r.count).toBe(ops.length);
        expect(r.puts).toBe(ops.filter((o) => o.type === 'put').length);
        expect(r.ops()).toEqual(ops.map(plain));
        const applied: unknown[] = [];
        r.applyTo(
          {
            put: (key, value, seq) => applied.push(['put', Buffer.from(key), Buffer.from(value), seq]),
            delete: (key, seq) => applied.push(['del', Buffer.from(key), seq]),
            deleteRange: (start, end, seq) => applied.push(['range', Buffer.from(start), Buffer.from(end), seq]),
          },
          lsn,
        );
        expect(applied).toEqual(
          ops.map((o, i) => (o.type === 'put' ? ['put', Buffer.from(o.key), Buffer.from(o.value), lsn + i] : o.type === 'del' ? ['del', Buffer.from(o.key), lsn + i] : ['range', Buffer.from(o.start), Buffer.from(o.end), lsn + i])),
        );
        // Stamped as WalWriter.appendRecord stamps it: byte for byte the record of the same ops.
        const stamped = Buffer.from(r.buffer.subarray(0, r.length));
        stamped.writeUInt32LE(lsn % 2 ** 32, 0);
        stamped.writeUInt32LE(Math.floor(lsn / 2 ** 32), 4);
        stamped.writeUInt32LE(ops.length, 8);
        expect(stamped.equals(encodeBatch(ops, lsn))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a recycled BatchRecord gives its buffer to the next record that outgrows the pool, which keeps its own ops', () => {
    const value = Buffer.alloc(10_000, 5);
    const a = new BatchRecord();
    for (let i = 0; i < 20; i++) a.put(Buffer.from(`a${i}`), value);
    const buffer = a.buffer;
    a.recycle();
    expect(a.count).toBe(0);
    expect(a.ops()).toEqual([]);
    const small = new BatchRecord();
    small.put(Buffer.from('k'), Buffer.from('v')); // stays in the pool: does not take the spare
    expect(small.buffer).not.toBe(buffer);
    const b = new BatchRecord();
    b.put(Buffer.from('first'), Buffer.from('x'));
    for (let i = 0; i < 5; i++) b.put(Buffer.from(`b${i}`), value);
    expect(b.buffer).toBe(buffer);
    expect(b.ops()).toEqual([{ type: 'put', key: new Uint8Array(Buffer.from('first')), value: new Uint8Array(Buffer.from('x')) }, ...[0, 1, 2, 3, 4].map((i) => ({ type: 'put', key: new Uint8Array(Buffer.from(`b${i}`)), value: new Uint8Array(value) }))]);
    expect(small.ops()).toEqual([{ type: 'put', key: new Uint8Array(Buffer.from('k')), value: new Uint8Array(Buffer.from('v')) }]);
  });

  it('a BatchRecord copies what it is given: the caller may reuse its buffers', () => {
    const r = new BatchRecord();
    const key = Buffer.from('key');
    r.put(key, Buffer.from('value'));
    key.fill(0);
    expect(Buffer.from((r.ops()[0] as { key: Uint8Array }).key).toString()).toBe('key');
  });
});

/** An op with its byte fields as plain Uint8Arrays (BatchRecord's views are not Buffers). */
function plain(o: BatchOp): BatchOp {
  if (o.type === 'put') return { type: 'put', key: new Uint8Array(o.key), value: new Uint8Array(o.value) };
  if (o.type === 'del') return { type: 'del', key: new Uint8Array(o.key) };
  return { type: 'deleteRange', start: new Uint8Array(o.start), end: new Uint8Array(o.end) };
}
