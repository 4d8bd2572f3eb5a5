import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryKind, compareEntries, compareKeys, compareKeysFrom, compareTombstones, keysEqual } from './types.js';

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

describe('ordering helpers', () => {
  it('compareKeys is Buffer.compare, for short keys and keys sharing long prefixes', () => {
    const shared = fc.uint8Array({ minLength: 0, maxLength: 40 });
    const tail = fc.uint8Array({ maxLength: 4 });
    fc.assert(
      fc.property(shared, tail, tail, (p, a, b) => {
        const x = Uint8Array.of(...p, ...a);
        const y = Uint8Array.of(...p, ...b);
        expect(compareKeys(x, y)).toBe(Buffer.compare(x, y));
        expect(compareKeys(y, x)).toBe(Buffer.compare(y, x));
      }),
      { numRuns: 2000 }
    );
  });

  it('compareKeysFrom has the sign of Buffer.compare for keys sharing their first `from` bytes', () => {
    const shared = fc.uint8Array({ minLength: 0, maxLength: 40 });
    const tail = fc.uint8Array({ maxLength: 24 });
    fc.assert(
      fc.property(shared, tail, tail, fc.nat(), (p, a, b, at) => {
        const x = Uint8Array.of(...p, ...a);
        const y = Uint8Array.of(...p, ...b);
        const from = p.length === 0 ? 0 : at % (p.length + 1);
        expect(sign(compareKeysFrom(x, y, from))).toBe(Buffer.compare(x, y));
        expect(sign(compareKeysFrom(y, x, from))).toBe(Buffer.compare(y, x));
      }),
      { numRuns: 2000 }
    );
  });

  it('keysEqual agrees with compareKeys === 0, for keys sharing long prefixes or suffixes', () => {
    const part = fc.uint8Array({ maxLength: 20 });
    const tail = fc.uint8Array({ maxLength: 3 });
    fc.assert(
      fc.property(part, tail, tail, part, (p, a, b, s) => {
        const x = Uint8Array.of(...p, ...a, ...s);
        const y = Uint8Array.of(...p, ...b, ...s);
        expect(keysEqual(x, y)).toBe(compareKeys(x, y) === 0);
        expect(keysEqual(x, x.slice())).toBe(true);
      }),
      { numRuns: 2000 }
    );
    expect(keysEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(keysEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
  });

  it('compareEntries is (key ASC, seq DESC); compareTombstones is (start ASC, seq DESC)', () => {
    const k = (s: string) => new TextEncoder().encode(s);
    const e = (key: string, seq: number) => ({ key: k(key), seq, kind: EntryKind.Put, value: new Uint8Array(0) });
    expect(sign(compareEntries(e('a', 1), e('b', 9)))).toBe(-1);
    expect(sign(compareEntries(e('a', 9), e('a', 1)))).toBe(-1);
    expect(sign(compareEntries(e('a', 1), e('a', 9)))).toBe(1);
    expect(compareEntries(e('a', 3), e('a', 3))).toBe(0);
    const t = (start: string, seq: number) => ({ start: k(start), end: k('zz'), seq });
    expect(sign(compareTombstones(t('a', 1), t('b', 9)))).toBe(-1);
    expect(sign(compareTombstones(t('a', 9), t('a', 1)))).toBe(-1);
  });
});
