import { describe, expect, it } from 'vitest';
import { fileMeta } from '../compaction/test-support/file-metadata.js';
import { ReadAllowances } from './read-allowances.js';

describe('read allowances', () => {
  it('names a table once its allowance (size / bytesPerSeek, at least minSeeks) is used up, one candidate at a time', () => {
    let named = 0;
    const a = new ReadAllowances(1000, 3, () => named++);
    const small = fileMeta('a', 'b', 100); // 3 (the minimum)
    const big = fileMeta('c', 'd', 5000); // 5
    a.charge(0, small);
    a.charge(0, small);
    a.charge(1, big);
    expect(a.candidate).toBeUndefined();
    a.charge(0, small);
    expect(a.candidate).toEqual({ level: 0, file: small });
    expect(named).toBe(1);
    // A second table running out while one is named waits for the first to be cleared.
    for (let i = 0; i < 4; i++) a.charge(1, big);
    expect(a.candidate!.file).toBe(small);
    a.clear();
    expect(a.candidate).toBeUndefined();
    a.charge(1, big);
    expect(a.candidate).toEqual({ level: 1, file: big });
    expect(named).toBe(2);
    // A cleared table starts a fresh allowance.
    a.clear();
    a.charge(0, small);
    expect(a.candidate).toBeUndefined();
  });
});
