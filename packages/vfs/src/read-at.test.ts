import { describe, expect, it } from 'vitest';
import type { FileSystem } from './file-system.js';
import { readAt } from './read-at.js';

/** A layer over `data` whose reads return at most `chunk` bytes: short reads before the end. */
function shortReads(data: Uint8Array, chunk: number): Pick<FileSystem, 'readSync'> {
  return {
    readSync: (_fd, buf, off, len, position) => {
      const n = Math.max(0, Math.min(len, chunk, data.length - position));
      buf.set(data.subarray(position, position + n), off);
      return n;
    },
  };
}

describe('readAt', () => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i);

  it('loops over short reads until the range is read', () => {
    expect(readAt(shortReads(data, 7), 3, 10, 50)).toEqual(data.subarray(10, 60));
  });

  it('reads into a given buffer without allocating, and refuses one too small', () => {
    const into = new Uint8Array(64).fill(0xff);
    const got = readAt(shortReads(data, 7), 3, 10, 50, into);
    expect(got.buffer).toBe(into.buffer);
    expect(got).toEqual(data.subarray(10, 60));
    expect(into[50]).toBe(0xff); // nothing past the range is touched
    expect(readAt(shortReads(data, 7), 3, 90, 50, into)).toEqual(data.subarray(90));
    expect(() => readAt(shortReads(data, 7), 3, 0, 65, into)).toThrow(RangeError);
  });

  it('returns fewer bytes when the file ends first, and none past its end', () => {
    expect(readAt(shortReads(data, 7), 3, 90, 50)).toEqual(data.subarray(90));
    expect(readAt(shortReads(data, 7), 3, 120, 10)).toEqual(new Uint8Array(0));
  });
});
