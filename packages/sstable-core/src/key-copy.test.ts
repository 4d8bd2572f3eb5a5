import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyCopy } from './key-copy.js';

describe('KeyCopy', () => {
  it('holds a copy of every key set, also when the caller says how many leading bytes it already holds', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 40 }), fc.boolean(), (keys, useKnown) => {
        const copy = new KeyCopy();
        let last = new Uint8Array(0);
        for (const key of keys) {
          let shared = 0;
          while (useKnown && shared < key.length && shared < last.length && key[shared] === last[shared]) shared++;
          const source = new Uint8Array(key);
          const held = copy.set(source, shared);
          source.fill(0xee); // the caller rewrites its buffer: the copy must not change
          expect(held).toEqual(key);
          expect(copy.key).toBe(held);
          // The word view reads the key held from its first byte, also after the buffer grew.
          const words = copy.words;
          for (let i = 0; i < key.length; i++) expect(words.getUint8(i)).toBe(key[i]);
          last = key;
        }
      }),
    );
  });
});
