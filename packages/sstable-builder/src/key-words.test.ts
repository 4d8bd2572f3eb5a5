import fc from 'fast-check';
import { KeyCopy } from '@strata-db/sstable-core';
import { describe, expect, it } from 'vitest';
import { KeyWords } from './key-words.js';

/** The byte loop the word compare replaces. */
function reference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

describe('KeyWords.commonPrefix', () => {
  it('equals the byte loop for keys given as fresh arrays or as reused objects rewritten in place, at any offset of their buffer', () => {
    // Keys near each other (a shared stem, then a few varied bytes) so that long equal runs and
    // differences in every byte of a word both occur.
    const key = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 12 }), fc.constantFrom(0, 1, 0x7f, 0x80, 0xff))
      .map(([stem, tail, fill]) => {
        const k = new Uint8Array(stem + tail.length);
        k.fill(fill, 0, stem);
        k.set(tail, stem);
        return k;
      });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.integer({ min: 0, max: 10 })), { minLength: 2, maxLength: 60 }),
        fc.integer({ min: 0, max: 7 }),
        (keys, offset) => {
          const words = new KeyWords();
          const last = new KeyCopy();
          // Reused objects: views at odd offsets of one arena, one per (slot, length), as a compaction's inputs.
          const arena = new Uint8Array(64 * 1024);
          const objects = new Map<string, Uint8Array>();
          let at = offset;
          let prev: Uint8Array | undefined;
          for (const [k, slot] of keys) {
            let input: Uint8Array;
            if (slot >= 9) {
              input = new Uint8Array(k); // a fresh array, never seen again
            } else {
              const id = `${slot}/${k.length}`;
              let o = objects.get(id);
              if (o === undefined) {
                o = arena.subarray(at, at + k.length);
                at += k.length + 3;
                objects.set(id, o);
              }
              o.set(k);
              input = o;
            }
            if (prev !== undefined) expect(words.commonPrefix(last.key, last.words, input)).toBe(reference(prev, k));
            last.set(input);
            prev = k;
          }
        },
      ),
    );
  });

  it('forgets the objects it saw: after forget() a rewritten object is compared as a new one', () => {
    const words = new KeyWords();
    const last = new KeyCopy();
    const o = new Uint8Array(16).fill(1);
    last.set(new Uint8Array(16).fill(1));
    expect(words.commonPrefix(last.key, last.words, o)).toBe(16);
    expect(words.commonPrefix(last.key, last.words, o)).toBe(16); // seen twice: the word path
    words.forget();
    o[13] = 9;
    expect(words.commonPrefix(last.key, last.words, o)).toBe(13);
    o[13] = 1;
    o[5] = 0;
    expect(words.commonPrefix(last.key, last.words, o)).toBe(5);
  });
});
